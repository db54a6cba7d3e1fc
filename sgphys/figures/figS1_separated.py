"""Fig. S1: merged vs separated training: learning curves at the smallest and largest data
density and the test error against alpha = P/D^2 (double descent)."""

import numpy as np

from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    fig, axes = st.plt.subplots(1, 3, figsize=(st.DOUBLE, 2.3))
    for ax, alpha, tag in ((axes[0], ds.alpha.values[0], "a"), (axes[2], ds.alpha.values[-1], "c")):
        curves = {}
        for j, scheme in enumerate(ds.scheme.values):
            sub = ds.sel(alpha=alpha, scheme=scheme)
            curves[scheme] = (st.mean_sd_count(sub.train_loss)[0],
                              st.mean_sd_count(sub.test_loss)[0])
        # the losses come from sufficient statistics: below ~1e-14 of their start they are
        # round-off, drawn flat at that floor rather than as noise
        floor = 1e-14 * max(float(np.nanmax(c[0])) for c in curves.values())
        for j, (scheme, (train, test)) in enumerate(curves.items()):
            ax.plot(ds.epoch, np.maximum(train, floor), color=f"C{j}", ls="-",
                    label=f"{scheme} train")
            ax.plot(ds.epoch, np.maximum(test, floor), color=f"C{j}", ls="--",
                    label=f"{scheme} test")
        if min(float(np.nanmin(c[0])) for c in curves.values()) < floor:
            ax.axhline(floor, color="0.6", lw=0.6, ls=":")
            ax.annotate("round-off", (ds.epoch.values[-1], floor), xytext=(0, 2),
                        textcoords="offset points", ha="right", va="bottom", fontsize=6,
                        color="0.4")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.set_title(f"({tag}) alpha = P/D^2 = {alpha:g}")
    axes[0].legend(frameon=False, fontsize=6)
    ax = axes[1]
    for j, scheme in enumerate(ds.scheme.values):
        m, sd, n = st.mean_sd_count(ds.test_error_trained.sel(scheme=scheme))
        ax.errorbar(ds.alpha, m, yerr=sd, color=f"C{j}", marker="o", ms=3, label=scheme)
    D = ds.sizes["row"] - 1
    ax.axvline((D + 1) / D, color="0.5", ls=":", lw=0.8, label="P = D(D+1)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    labelled = []  # label the alphas at least 0.12 decades apart, tick them all
    for a in sorted(ds.alpha.values):
        if not labelled or st.np.log10(a / labelled[-1]) >= 0.12:
            labelled.append(a)
    ax.set_xticks(labelled)
    ax.set_xticks(ds.alpha.values, minor=True)
    ax.xaxis.set_major_formatter(st.plt.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(st.plt.NullFormatter())
    ax.tick_params(axis="x", labelrotation=60)
    ax.set_xlabel("alpha = P / D^2")
    ax.set_ylabel("test error")
    ax.set_title(f"(b) double descent ({ds.sizes['seed']} seeds)")
    ax.legend(frameon=False, fontsize=6)
    fig.tight_layout()
    return st.save(fig, out, pdf)

