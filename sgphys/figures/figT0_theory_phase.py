"""Fig. T0: the asymptotic test error e_ICL of Lu et al. (PNAS 2025) over context length
alpha = N/D and pretraining prompts tau = P/D^2 (log grid), with the interpolation peak
tau = 1 marked; theory only, no data file (:func:`plot_theory`)."""

import numbers

import numpy as np

from ..theory import icl_error
from . import _style as st


def _range(name, value):
    ok = (isinstance(value, (tuple, list)) and len(value) == 2
          and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in value))
    if not ok or not (0 < value[0] < value[1] < np.inf):
        raise ValueError(f"{name} must be a pair (low, high) with 0 < low < high < inf, "
                         f"got {value!r}")
    return float(value[0]), float(value[1])


def theory_grid(kappa=np.inf, rho=0.0, lam=0.0, alpha_range=(0.1, 100.0),
                tau_range=(0.05, 100.0), n=241):
    """``(alpha, tau, e)``: log-spaced axes (n each) and ``e[i, j] = icl_error(alpha[i],
    tau[j], kappa, rho, lam)`` from one vectorised call (``inf`` on ``tau == 1`` at
    ``lam = 0``).

    Raises
    ------
    ValueError
        Naming ``alpha_range``, ``tau_range`` or ``n`` (and, from :func:`icl_error`,
        ``kappa``, ``rho`` or ``lam``) for a bad value.
    """
    alpha_range = _range("alpha_range", alpha_range)
    tau_range = _range("tau_range", tau_range)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    alpha = np.logspace(*np.log10(alpha_range), int(n))
    tau = np.logspace(*np.log10(tau_range), int(n))
    return alpha, tau, icl_error(alpha[:, None], tau[None, :], kappa, rho, lam)


def _label_positions(alpha, tau, e, levels):
    """One contour-label position per level, away from the crowded tau = 1 peak: where the
    level crosses the alpha axis at the first tau column (tried from the right edge, then
    the left) that it crosses."""
    cols = [j for j in (int(0.85 * tau.size), int(0.15 * tau.size), int(0.95 * tau.size),
                        int(0.05 * tau.size)) if 0 <= j < tau.size]
    out = []
    for lv in levels:
        for j in cols:
            col = e[:, j]
            cross = np.flatnonzero(np.diff(np.sign(col - lv)) != 0)
            if cross.size:
                out.append((tau[j], alpha[cross[0]]))
                break
    return out


def plot_theory(out, kappa=np.inf, rho=0.0, lam=0.0, alpha_range=(0.1, 100.0),
                tau_range=(0.05, 100.0), n=241, pdf=False):
    """Draw the theory's phase diagram: ``log10 e_ICL`` over ``(tau, alpha)``.

    Parameters
    ----------
    out : path
        PNG to write.
    kappa : float > 0 (inf allowed), default inf
        Task diversity per dimension (inf: a fresh task for every prompt, sgphys's sampler).
    rho : float >= 0, default 0
        Label-noise variance.
    lam : float >= 0, default 0
        The theory's ridge lambda (``D lam`` in sgphys units); 0 shows the divergence at
        ``tau = 1``.
    alpha_range, tau_range : (float, float)
        Axis limits (log-spaced grids).
    n : int >= 2
        Grid points per axis.
    pdf : bool
        Also write a PDF beside the PNG.

    Returns
    -------
    pathlib.Path
        The PNG written.
    """
    alpha, tau, e = theory_grid(kappa, rho, lam, alpha_range, tau_range, n)
    fig, ax = st.plt.subplots(figsize=(st.SINGLE * 1.25, 2.8))
    vmax = 3.0 * (1.0 + rho)  # the trivial predictor yhat = 0 errs 1 + rho
    shown = np.log10(np.clip(e, None, vmax))
    im = ax.pcolormesh(tau, alpha, shown, shading="nearest", vmax=np.log10(vmax))
    cb = st.plt.colorbar(im, ax=ax)
    cb.set_label(f"log10 e_ICL (clipped at {vmax:g})")
    levels = [lv for lv in (0.05, 0.1, 0.2, 0.5, 0.9) if np.nanmin(e) < lv < vmax]
    if levels:
        cs = ax.contour(tau, alpha, shown, np.log10(levels), colors="w", linewidths=0.6,
                        linestyles="solid")
        ax.clabel(cs, fmt={np.log10(lv): f"{lv:g}" for lv in levels}, fontsize=6,
                  manual=_label_positions(alpha, tau, e, levels))
    ax.axvline(1.0, color="r", ls="--", lw=0.8)
    ax.annotate("tau = 1" + (" (e = inf)" if lam == 0 else ""), (1.0, alpha[-1]),
                xytext=(3, -3), textcoords="offset points", ha="left", va="top", fontsize=6,
                color="r")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("tau = P / D^2 (pretraining prompts)")
    ax.set_ylabel("alpha = N / D (context length)")
    kap = "inf" if np.isinf(kappa) else f"{kappa:g}"
    ax.set_title(f"asymptotic ICL error, kappa = {kap}, rho = {rho:g}, lambda = {lam:g}")
    fig.tight_layout()
    return st.save(fig, out, pdf)
