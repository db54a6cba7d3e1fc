"""Fig. T1: exact test error against 1/D at fixed (alpha, tau, lambda), its least-squares
line (dashed) and quadratic (dotted, with the 1/D^2 term) to 1/D = 0 and the asymptotic
theory (Lu et al. PNAS 2025) marked there; one column per ridge lambda, one colour per
(alpha, tau). The lower row shows the same means relative to the theory (in %), where the
approach at the largest D reads directly. The fits run over D >= ``fit_min_D`` when the
run set it (drawn from 1/D = 0 to the smallest D fitted)."""

import json

import numpy as np

from . import _style as st


def _fit_min_D(ds):
    try:
        value = json.loads(ds.attrs.get("parameters", "{}")).get("fit_min_D")
    except (TypeError, ValueError):
        value = None
    return None if value is None else float(value)


def _tick_labels(Ds, x):
    """``1/D`` labels, dropped where they would overlap the next larger D's (small 1/D)."""
    labels, last = ["0"], 0.0
    span = x.max()
    for D, xi in sorted(zip(Ds, x), key=lambda p: p[1]):
        if xi - last >= 0.14 * span:
            labels.append((xi, f"1/{int(D)}"))
            last = xi
        else:
            labels.append((xi, ""))
    ticks = [0.0] + [t for t, _ in labels[1:]]
    return ticks, ["0"] + [s for _, s in labels[1:]]


def _seed_text(ds):
    n = ds.exact_error_n.max(dim=[d for d in ds.exact_error_n.dims if d != "D"]).values
    Ds = ds.D.values
    most = int(n.max()) if n.size else 0
    fewer = [f"{int(k)} at D = {int(D)}" for D, k in zip(Ds, n) if int(k) != most]
    return f"exact, mean of {most} seeds" + (f" ({', '.join(fewer)})" if fewer else "")


def plot(ds, out, reference=False, pdf=False):
    lams = ds.lam_theory.values
    fig, axes = st.plt.subplots(2, len(lams), figsize=(st.SINGLE * 1.1 * len(lams), 4.6),
                                squeeze=False,
                                gridspec_kw={"height_ratios": [1.4, 1.0]})
    Ds = ds.D.values.astype(float)
    x = 1.0 / Ds
    fit_min = _fit_min_D(ds)
    x_fit = x.max() if fit_min is None else 1.0 / fit_min
    xline = np.linspace(0.0, x_fit * 1.05, 50)
    tap = "tap" in ds.solver.values
    quad = "extrapolated_error_quadratic" in ds  # files written before it have none
    # the lower row zooms on the fitted sizes when the fit leaves the small D out
    zoom = x <= x_fit * (1 + 1e-12)
    for col, lam in enumerate(lams):
        ax, rel = axes[0][col], axes[1][col]
        shown = []
        for i, p in enumerate(ds.point.values):
            c = f"C{i % 10}"
            sub = ds.sel(point=p, lam_theory=lam)
            theory = float(sub.theory_error)
            mean, sem = sub.exact_error_mean.values, sub.exact_error_sem.values
            ax.errorbar(x, mean, yerr=sem, color=c, marker="o",
                        ms=3, lw=0, elinewidth=0.8,
                        label=f"alpha={float(sub.alpha):g}, tau={float(sub.tau):g}")
            rel.errorbar(x, 100.0 * (mean / theory - 1.0), yerr=100.0 * sem / theory,
                         color=c, marker="o", ms=3, lw=0.6, elinewidth=0.8)
            shown += list(100.0 * ((mean + np.nan_to_num(sem)) / theory - 1.0)[zoom])
            shown += list(100.0 * ((mean - np.nan_to_num(sem)) / theory - 1.0)[zoom])
            a, b = float(sub.extrapolated_error), float(sub.extrapolation_slope)
            if np.isfinite(a):
                ax.plot(xline, a + b * xline, color=c, lw=0.8, ls="--")
                ax.errorbar([0.0], [a], yerr=[float(sub.extrapolated_error_se)], color=c,
                            marker="o", mfc="white", ms=4, lw=0, elinewidth=0.8, zorder=3)
                rel.plot(xline, 100.0 * ((a + b * xline) / theory - 1.0), color=c, lw=0.8,
                         ls="--")
                a_se = float(sub.extrapolated_error_se)
                shown += [100.0 * ((a + s * np.nan_to_num(a_se)) / theory - 1.0)
                          for s in (-1, 1)]
                rel.errorbar([0.0], [100.0 * (a / theory - 1.0)],
                             yerr=[100.0 * a_se / theory],
                             color=c, marker="o", mfc="white", ms=4, lw=0, elinewidth=0.8,
                             zorder=3)
            if quad:
                q = [float(sub[v]) for v in ("extrapolated_error_quadratic",
                                             "extrapolation_quadratic_slope",
                                             "extrapolation_quadratic_curvature")]
                if np.isfinite(q[0]):
                    ax.plot(xline, q[0] + q[1] * xline + q[2] * xline**2, color=c, lw=0.8,
                            ls=":")
                    ax.errorbar([0.0], [q[0]], yerr=[float(sub.extrapolated_error_quadratic_se)],
                                color=c, marker="s", mfc="white", ms=3.5, lw=0,
                                elinewidth=0.8, zorder=3)
            ax.plot([0.0], [theory], "*", color=c, ms=8, mec="k", mew=0.4, zorder=4)
            if tap:
                t = sub.sel(solver="tap")
                m = np.where(t.converged.values == 1, t.test_error.values, np.nan)
                with np.errstate(invalid="ignore"):
                    n = np.isfinite(m).sum(axis=-1)
                    tm = np.nansum(m, axis=-1) / np.where(n > 0, n, np.nan)
                ax.plot(x, tm, "x", color=c, ms=4, mew=0.8)
        rel.axhline(0.0, color="k", lw=0.6, zorder=0)
        ticks, labels = _tick_labels(Ds, x)
        for a_ in (ax, rel):
            a_.set_xlim(-0.06 * x.max(), x.max() * 1.08)
            a_.set_xticks(ticks)
            a_.set_xticklabels(labels, fontsize=6)
            a_.set_xlabel("1 / D")
        if not zoom.all():
            rel.set_xlim(-0.08 * x_fit, 1.12 * x_fit)
            t, lab = _tick_labels(Ds[zoom], x[zoom])
            rel.set_xticks(t)
            rel.set_xticklabels(lab, fontsize=6)
            vals = np.asarray(shown + [0.0], float)
            vals = vals[np.isfinite(vals)]
            pad = 0.08 * (vals.max() - vals.min() or 1.0)
            rel.set_ylim(vals.min() - pad, vals.max() + pad)
            rel.set_title(f"D >= {fit_min:g} (the fitted sizes)", fontsize=7)
        rel.set_ylabel("exact / theory - 1 (%)")
        ax.set_ylabel("test error")
        ax.set_title(f"lambda = D lam = {lam:g}" + (" (ridgeless limit)" if lam < 1e-3 else ""))
    # legend for the markers (one set of handles, outside the panels)
    from matplotlib.lines import Line2D

    h, labels = axes[0][0].get_legend_handles_labels()
    k = "0.3"
    fitted = "" if fit_min is None else f" (D >= {fit_min:g})"
    h += [Line2D([], [], color=k, marker="o", lw=0, ms=3),
          Line2D([], [], color=k, ls="--", lw=0.8),
          Line2D([], [], color=k, marker="o", mfc="white", lw=0, ms=4)]
    labels += [_seed_text(ds), "least squares in 1/D" + fitted, "extrapolated (1/D = 0)"]
    if quad:
        h += [Line2D([], [], color=k, ls=":", lw=0.8),
              Line2D([], [], color=k, marker="s", mfc="white", lw=0, ms=3.5)]
        labels += ["least squares with a 1/D^2 term" + fitted, "extrapolated, quadratic"]
    h.append(Line2D([], [], color=k, marker="*", mec="k", mew=0.4, lw=0, ms=8))
    labels.append("theory (PNAS 2025)")
    if tap:
        h.append(Line2D([], [], color=k, marker="x", lw=0, ms=4, mew=0.8))
        labels.append("AMP (TAP), mean of converged seeds")
    axes[0][-1].legend(h, labels, frameon=False, fontsize=6, loc="upper left",
                       bbox_to_anchor=(1.0, 1.0))  # outside: hides no data
    fig.suptitle("Fig. T1: finite-size approach to the asymptotic theory", y=1.0)
    fig.tight_layout()
    return st.save(fig, out, pdf)
