"""Fig. T1: exact test error against 1/D at fixed (alpha, tau, lambda), its least-squares
line (dashed) and quadratic (dotted, with the 1/D^2 term) to 1/D = 0 and the asymptotic
theory (Lu et al. PNAS 2025) marked there; one panel per ridge lambda, one colour per
(alpha, tau)."""

import numpy as np

from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    lams = ds.lam_theory.values
    fig, axes = st.plt.subplots(1, len(lams), figsize=(st.SINGLE * 1.1 * len(lams), 2.7),
                                squeeze=False)
    Ds = ds.D.values.astype(float)
    x = 1.0 / Ds
    xline = np.linspace(0.0, x.max() * 1.05, 50)
    tap = "tap" in ds.solver.values
    quad = "extrapolated_error_quadratic" in ds  # files written before it have none
    for ax, lam in zip(axes[0], lams):
        for i, p in enumerate(ds.point.values):
            c = f"C{i % 10}"
            sub = ds.sel(point=p, lam_theory=lam)
            ax.errorbar(x, sub.exact_error_mean, yerr=sub.exact_error_sem, color=c, marker="o",
                        ms=3, lw=0, elinewidth=0.8,
                        label=f"alpha={float(sub.alpha):g}, tau={float(sub.tau):g}")
            a, b = float(sub.extrapolated_error), float(sub.extrapolation_slope)
            if np.isfinite(a):
                ax.plot(xline, a + b * xline, color=c, lw=0.8, ls="--")
                ax.errorbar([0.0], [a], yerr=[float(sub.extrapolated_error_se)], color=c,
                            marker="o", mfc="white", ms=4, lw=0, elinewidth=0.8, zorder=3)
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
            ax.plot([0.0], [float(sub.theory_error)], "*", color=c, ms=8, mec="k", mew=0.4,
                    zorder=4)
            if tap:
                t = sub.sel(solver="tap")
                m = np.where(t.converged.values == 1, t.test_error.values, np.nan)
                with np.errstate(invalid="ignore"):
                    n = np.isfinite(m).sum(axis=-1)
                    tm = np.nansum(m, axis=-1) / np.where(n > 0, n, np.nan)
                ax.plot(x, tm, "x", color=c, ms=4, mew=0.8)
        ax.set_xlim(-0.06 * x.max(), x.max() * 1.08)
        ax.set_xticks(np.concatenate([[0.0], x]))
        ax.set_xticklabels(["0"] + [f"1/{int(D)}" for D in Ds], fontsize=6)
        ax.set_xlabel("1 / D")
        ax.set_ylabel("test error")
        ax.set_title(f"lambda = D lam = {lam:g}" + (" (ridgeless limit)" if lam < 1e-3 else ""))
    # legend for the markers (one set of handles, outside the panels)
    from matplotlib.lines import Line2D

    h, labels = axes[0][0].get_legend_handles_labels()
    k = "0.3"
    h += [Line2D([], [], color=k, marker="o", lw=0, ms=3),
          Line2D([], [], color=k, ls="--", lw=0.8),
          Line2D([], [], color=k, marker="o", mfc="white", lw=0, ms=4)]
    labels += [f"exact, mean of {ds.sizes['seed']} seeds", "least squares in 1/D",
               "extrapolated (1/D = 0)"]
    if quad:
        h += [Line2D([], [], color=k, ls=":", lw=0.8),
              Line2D([], [], color=k, marker="s", mfc="white", lw=0, ms=3.5)]
        labels += ["least squares with a 1/D^2 term", "extrapolated, quadratic"]
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
