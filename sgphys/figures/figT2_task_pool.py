"""Fig. T2: test error against the number of distinct pretraining tasks K, on fresh tasks
(ICL) and on pool tasks (IDG), for the spin model's exact solution, the trained attention and
the Bayes baselines (dMMSE for the pool, ridge for the Gaussian prior) beside the asymptotic
theory at kappa = K/D; and the W11 contrast ratio and coupling kurtosis against K."""

from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    Ds = ds.D.values
    K = ds.n_tasks.values
    fig, axes = st.plt.subplots(len(Ds), 3, figsize=(st.DOUBLE * 1.25, 2.5 * len(Ds)),
                                squeeze=False)
    for r, D in enumerate(Ds):
        sub = ds.sel(D=D)
        for c, (kind, title) in enumerate((("icl", "fresh tasks (ICL)"),
                                           ("idg", "pool tasks (IDG)"))):
            ax = axes[r, c]
            m, s, _ = st.mean_sd_count(sub[f"{kind}_error"].sel(solver="exact"))
            ax.errorbar(K, m, s, color=st.COLORS["exact"], marker="o", ms=3, lw=1,
                        label="spin model, exact")
            for a in ds.arch.values:
                m, s, _ = st.mean_sd_count(sub[f"{kind}_error_trained"].sel(arch=a))
                ax.errorbar(K, m, s, color=st.COLORS["trained"] if a == "sla" else "C5",
                            marker="s", ms=3, lw=1, label=f"trained {a}")
            for name, color in (("dmmse", "C2"), ("ridge", "C0")):
                m, _, _ = st.mean_sd_count(sub[f"{kind}_error_{name}"])
                ax.plot(K, m, "--", color=color, lw=1, label=f"{name} (Bayes)")
            ax.plot(K, sub[f"theory_{kind}_error"].values, "-", color="0.5", lw=1.5,
                    alpha=0.7, label="theory (PNAS 2025)")
            ax.axvline(D, color="0.8", lw=0.8, zorder=0)
            ax.set_xscale("log", base=2)
            ax.set_xlabel("distinct tasks K")
            ax.set_ylabel("test error")
            ax.set_title(f"({'ab'[c]}) {title}, D = {D}")
        ax = axes[r, 2]
        m, s, _ = st.mean_sd_count(sub.contrast_ratio_w11.sel(solver="exact"))
        ax.errorbar(K, m, s, color="k", marker="o", ms=3, lw=1, label="W11 contrast ratio")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("distinct tasks K")
        ax.set_ylabel("contrast ratio")
        ax.set_title(f"(c) weights and couplings, D = {D}")
        ax2 = ax.twinx()
        for i, b in enumerate(("J1", "J2", "h1")):
            m, _, _ = st.mean_sd_count(sub.excess_kurtosis.sel(block=b))
            ax2.plot(K, m, ":", color=f"C{i + 1}", marker=".", lw=1, label=f"kurtosis {b}")
        ax2.set_ylabel("excess kurtosis")
        ax2.spines["right"].set_visible(True)
        lines = ax.get_legend_handles_labels()
        lines2 = ax2.get_legend_handles_labels()
        ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], frameon=False, fontsize=5,
                  loc="center right")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), frameon=False,
               fontsize=6, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle("Fig. T2: task pools, memorisation (dMMSE) to in-context learning (ridge); "
                 "grey line: K = D", fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return st.save(fig, out, pdf)
