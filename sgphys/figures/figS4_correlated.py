"""Fig. S4: (a) test error against token correlation c for the spin solvers and the trained
transformer, the variance of the query labels (the error of predicting 0) for scale; (b) the
distributions of the coupling and field blocks (as Fig. 1c), each standardised by its own
mean and standard deviation, pooled over seeds, one line per c, beside a standard Gaussian."""

import json

import numpy as np

from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    hist = "block_histogram" in ds
    fig = st.plt.figure(figsize=(st.DOUBLE, 4.6 if hist else 2.5))
    if hist:
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.25, 1])
        ax = top.subplots(1, 1)
        top.subplots_adjust(left=0.25, right=0.75, bottom=0.2, top=0.88)
    else:
        ax = fig.subplots(1, 1)
    c = ds.corr.values
    for solver in ds.solver.values:
        ax.plot(c, st.solver_error_mean(ds, solver)[0], marker="o", ms=3,
                color=st.COLORS.get(str(solver)), label=st.LABELS.get(str(solver), solver))
    m, sd, _ = st.mean_sd_count(ds.test_error_trained)
    ax.errorbar(c, m, yerr=sd, color=st.COLORS["trained"], marker="s", ms=3, ls="none",
                label=st.LABELS["trained"])
    ax.plot(c, st.mean_sd_count(ds.query_label_variance)[0], "k:", lw=1,
            label="Var(y_q): predict 0")
    ax.set_xlabel("token correlation c")
    ax.set_ylabel("test error")
    mode = json.loads(ds.attrs["parameters"])["corr_mode"]
    ax.set_title(f"(a) test error, correlated tokens ({mode} construction, "
                 f"{ds.sizes['seed']} seeds)")
    ax.legend(frameon=False, fontsize=6, loc="center left", bbox_to_anchor=(1.02, 0.5))
    if hist:
        _distributions(bottom, ds)
    else:
        fig.tight_layout()
    return st.save(fig, out, pdf)


def _distributions(sfig, ds):
    """(b): standardised block histograms pooled over seeds, one line per c."""
    axes = sfig.subplots(1, ds.sizes["block"], sharey=True)
    z = ds.zbin.values
    width = float(z[1] - z[0])
    colors = st.plt.cm.viridis(np.linspace(0.0, 0.85, ds.sizes["corr"]))
    for ax, block in zip(axes, ds.block.values):
        for color, cval in zip(colors, ds.corr.values):
            counts = ds.block_histogram.sel(block=block, corr=cval).sum("seed").values
            ax.plot(z, counts / (counts.sum() * width), color=color, lw=0.9, label=f"c = {cval:g}",
                    drawstyle="steps-mid")
        ax.plot(z, np.exp(-z ** 2 / 2) / np.sqrt(2 * np.pi), "r--", lw=0.8,
                label="standard Gaussian")
        ax.set_yscale("log")
        ax.set_ylim(1e-4, 2.0)
        ax.set_xlim(-8, 8)
        n = int(ds.block_histogram.sel(block=block).isel(corr=0).sum())
        ax.set_title(f"{block} ({n} entries per c)", fontsize=7)
        ax.set_xlabel("(x - mean) / std")
    axes[0].set_ylabel("probability density")
    sfig.legend(*axes[0].get_legend_handles_labels(), frameon=False, fontsize=6,
                ncol=ds.sizes["corr"] + 1, loc="lower center")
    sfig.suptitle("(b) distributions of couplings J and fields h per block (non-zero entries, "
                  "standardised)", fontsize=8)
    sfig.subplots_adjust(left=0.08, right=0.98, bottom=0.3, top=0.8, wspace=0.15)
