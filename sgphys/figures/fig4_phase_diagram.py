"""Fig. 4a: contrast ratio of the AMP weights over task diversity P and prompt length N,
non-converged cells marked and the converged fraction shown; optionally the published grid.
Second row: the exact solution's test error at the file's D beside the asymptotic theory of
Lu et al. (PNAS 2025) on the same (N, P) grid, ``icl_error(N/D, P/D^2, lam=D lam)``
(:mod:`sgphys.theory`), and their ratio; and the Gibbs entropy per spin of the exact
(Gaussian) solution against P, one line per N (a selection of at most six): its drop as P
grows shows the Boltzmann distribution concentrating on a unique solution (left out where
it is not stored, e.g. matrix-free files). A file of the large preset's parameters (it has
``matrix_free``) is drawn on logarithmic axes where its N or P are spread geometrically, and
the titles name the AMP column's prior and method (``amp_prior``, ``matrix_free``: ternary
GAMP). A grey line marks P = n_spins."""

import json

import numpy as np
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter

from ..theory import icl_error
from . import _style as st


def plot(ds, out, reference=False, pdf=False, solver=None):
    solver = solver or ("paper" if "paper" in ds.solver.values else "tap")
    sub = ds.sel(solver=solver)
    conv = sub.converged.values == 1                                  # (N, P, seed)
    cr = np.where(conv, sub.contrast_ratio.values, np.nan)
    n_conv = conv.sum(axis=-1)
    with np.errstate(invalid="ignore"):
        mean = np.nansum(cr, axis=-1) / np.where(n_conv > 0, n_conv, np.nan)
    frac = n_conv / conv.shape[-1]
    exact = st.mean_sd_count(ds.contrast_ratio.sel(solver="exact"))[0]
    ref = st.load_reference("fig4/contrast.npy") if reference else None
    has_entropy = ("entropy_per_spin" in ds.data_vars
                   and bool(np.isfinite(ds.entropy_per_spin.sel(solver="exact").values).any()))
    ncol = 3 + (ref is not None or has_entropy)
    fig, grid = st.plt.subplots(2, ncol, figsize=(st.DOUBLE * ncol / 3, 5.0), squeeze=False)
    axes, lower = grid[0], grid[1]
    P, N = ds.P.values, ds.N.values
    ext = dict(shading="nearest")
    large = "matrix_free" in ds.data_vars  # written with the large preset's parameters
    free = large and int(ds["matrix_free"]) == 1
    logP, logN = large and _geometric(P), large and _geometric(N)
    if logP or logN:  # cell edges at the geometric midpoints of a log axis
        P, N = _edges(P, logP), _edges(N, logN)
        ext = dict(shading="flat")
    prior = ds.attrs.get("amp_prior", "gaussian")
    label = solver if solver == "exact" or (prior == "gaussian" and not free) else (
        f"{solver} = {prior} {'GAMP' if free else 'AMP'}")
    im = axes[0].pcolormesh(P, N, mean, vmin=0, vmax=1, **ext)
    bad = np.ma.masked_where(n_conv > 0, np.ones_like(mean))
    axes[0].pcolormesh(P, N, bad, cmap="Greys", vmin=0, vmax=2, hatch="xx", **ext)
    tags = iter("abcdefgh")
    small = {} if label == solver else {"fontsize": "small"}  # long labels
    axes[0].set_title(f"({next(tags)}) contrast ratio, {label}\n(grey: no seed converged)",
                      **small)
    st.plt.colorbar(im, ax=axes[0], label="contrast ratio")
    im = axes[1].pcolormesh(P, N, frac, vmin=0, vmax=1, cmap="magma", **ext)
    axes[1].set_title(f"({next(tags)}) {label}: converged fraction\nof {conv.shape[-1]} seeds",
                      **small)
    st.plt.colorbar(im, ax=axes[1], label="converged fraction")
    im = axes[2].pcolormesh(P, N, exact, vmin=0, vmax=1, **ext)
    axes[2].set_title(f"({next(tags)}) contrast ratio, exact ridge solution"
                      + (" (CG)" if free else ""))
    st.plt.colorbar(im, ax=axes[2], label="contrast ratio")
    if ref is not None:
        rP = np.linspace(20, 1000, 50, dtype=int)
        rN = np.linspace(2, 100, 50, dtype=int)
        im = axes[3].pcolormesh(rP, rN, ref, vmin=0, vmax=1, **ext)
        axes[3].set_title(f"({next(tags)}) published Fig. 4a (see README)")
        st.plt.colorbar(im, ax=axes[3], label="contrast ratio")
    params = json.loads(ds.attrs["parameters"])
    D, lam = params["D"], params["lam"]
    err = st.mean_sd_count(ds.test_error.sel(solver="exact"))[0]
    Nv, Pv = ds.N.values, ds.P.values
    theory = icl_error(Nv[:, None] / D, Pv[None, :] / D**2, rho=params.get("noise", 0.0) ** 2,
                       lam=D * lam)
    both = np.concatenate([err[np.isfinite(err)], theory[np.isfinite(theory)]])
    norm = Normalize(vmin=both.min(), vmax=both.max())  # one scale for (d) and (e)
    im = lower[0].pcolormesh(P, N, err, norm=norm, cmap="cividis", **ext)
    lower[0].set_title(f"({next(tags)}) test error, exact (D = {D})")
    st.plt.colorbar(im, ax=lower[0], label="test error")
    im = lower[1].pcolormesh(P, N, theory, norm=norm, cmap="cividis", **ext)
    lower[1].set_title(f"({next(tags)}) theory (PNAS 2025), lambda = D lam = {D * lam:g}")
    st.plt.colorbar(im, ax=lower[1], label="test error")
    ratio = err / theory
    span = float(np.nanmax(np.abs(ratio - 1.0)))
    im = lower[2].pcolormesh(P, N, ratio, cmap="RdBu_r", **ext,
                             norm=TwoSlopeNorm(1.0, 1.0 - span - 1e-12, 1.0 + span + 1e-12))
    lower[2].set_title(f"({next(tags)}) exact / theory")
    st.plt.colorbar(im, ax=lower[2], label="test error ratio")
    if has_entropy:
        _entropy_panel(lower[3], ds, next(tags))
    for ax in list(axes[3 + (ref is not None):]) + list(lower[3 + has_entropy:]):
        ax.set_axis_off()
    for ax in list(axes[:3]) + list(lower[:3]):
        ax.axvline(D * (D + 1), color="0.6", lw=0.8, ls="--")
        if logP:
            _log_axis(ax.xaxis, ax.set_xscale, ds.P.values)
        if logN:
            _log_axis(ax.yaxis, ax.set_yscale, ds.N.values)
    for ax in list(axes[:3 + (ref is not None)]) + list(lower[:3]):
        ax.set_xlabel("task diversity P")
        ax.set_ylabel("prompt length N")
    fig.suptitle(f"D={D}" + (" (matrix-free)" if free else ""), y=1.02)
    fig.tight_layout()
    return st.save(fig, out, pdf)


def _geometric(v):
    """Whether the increasing values ``v`` are spread geometrically rather than evenly (at
    least three, positive, spanning a factor of 8 or more, with uneven steps)."""
    v = np.asarray(v, dtype=float)
    d = np.diff(v)
    if v.size < 3 or v[0] <= 0 or v[-1] / v[0] < 8 or np.any(d <= 0):
        return False
    return bool(d.max() > 1.5 * d.min())


def _log_axis(axis, set_scale, values):
    """A logarithmic axis ticked at (at most five, or three for values of four or more
    digits) of the grid's values, in plain numbers."""
    set_scale("log")
    k = 3 if np.max(values) >= 1000 else 5
    pick = np.unique(np.linspace(0, len(values) - 1, min(k, len(values))).round().astype(int))
    axis.set_major_locator(FixedLocator(np.asarray(values, dtype=float)[pick]))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def _edges(v, log):
    """Cell edges of the increasing centres ``v``: midpoints (geometric ones if ``log``),
    the ends half a step out."""
    v = np.asarray(v, dtype=float)
    x = np.log(v) if log else v
    mid = 0.5 * (x[1:] + x[:-1])
    step = (x[1] - x[0], x[-1] - x[-2]) if x.size > 1 else (0.5 * abs(x[0]) or 1.0,) * 2
    e = np.concatenate([[x[0] - 0.5 * step[0]], mid, [x[-1] + 0.5 * step[1]]])
    return np.exp(e) if log else e


def _entropy_panel(ax, ds, tag):
    """Entropy per spin of the exact solution against P, seed mean and sd, one line per N
    (at most six, evenly spread over the file's N)."""
    Ns = ds.N.values
    pick = np.unique(np.linspace(0, len(Ns) - 1, min(6, len(Ns))).round().astype(int))
    cmap = st.plt.get_cmap("viridis")
    P = ds.P.values
    order = np.argsort(P)
    s = ds.entropy_per_spin.sel(solver="exact").transpose("N", "P", "seed")
    for k, i in enumerate(pick):
        m, sd, _ = st.mean_sd_count(s.isel(N=i))
        color = cmap(0.9 * k / max(len(pick) - 1, 1))
        ax.errorbar(P[order], m[order], sd[order], fmt="o-", ms=2.5, lw=1, capsize=1.5,
                    color=color, label=f"N = {int(Ns[i])}")
    n_spins = int(json.loads(ds.attrs["parameters"])["D"])
    n_spins = n_spins * (n_spins + 1)
    ax.axvline(n_spins, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("task diversity P")
    ax.set_ylabel("entropy per spin (exact)")
    ax.legend(fontsize=6, frameon=False)
    ax.set_title(f"({tag}) Gibbs entropy per spin, exact\n(grey: P = n_spins = {n_spins})")
