"""Fig. 1: the field and coupling matrices and the per-block distributions (log scale)
with Gaussian and Gaussian-mixture fits."""

import numpy as np

from ..spin import spins_to_weights
from . import _style as st

BLOCKS = ["J1", "J2", "J3", "h1", "h2"]


def _mixture_pdf(x, w, m, s):
    ok = np.isfinite(w)
    w, m, s = w[ok], m[ok], s[ok]
    return (w * np.exp(-0.5 * ((x[:, None] - m) / s) ** 2) / (np.sqrt(2 * np.pi) * s)).sum(axis=1)


def plot(ds, out, reference=False, pdf=False):
    sub = ds.isel(D=0, N=0, P=0)
    D = int(sub.D)
    n = D * (D + 1)
    fig = st.plt.figure(figsize=(st.DOUBLE, 4.6))
    gs = fig.add_gridspec(2, 5, height_ratios=[1.1, 1])
    ax = fig.add_subplot(gs[0, 0:2])
    h = sub.h_example.isel(seed=0).values[:n]
    H = spins_to_weights(h, D)
    im = ax.imshow(H, cmap="RdBu_r", vmin=-np.abs(H).max(), vmax=np.abs(H).max())
    ax.set_title("(a) fields h as a (D+1)x(D+1) matrix\nh1 = top D rows, h2 = row D")
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    fig.colorbar(im, ax=ax, shrink=0.8, label="field h_ij")
    ax = fig.add_subplot(gs[0, 2:5])
    J = sub.J_example.isel(seed=0).values[:n, :n]
    lim = np.abs(J).max()
    im = ax.imshow(J, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.axhline(D * D - 0.5, color="k", lw=0.5)
    ax.axvline(D * D - 0.5, color="k", lw=0.5)
    ax.set_title("(b) couplings J, blocks J1 (W11-W11),\nJ2 (W11-W21), J3 (W21-W21)")
    ax.set_xlabel("spin l")
    ax.set_ylabel("spin k")
    fig.colorbar(im, ax=ax, shrink=0.8, label="coupling J_kl")
    ok = sub.status.values == 1
    for i, b in enumerate(BLOCKS):
        ax = fig.add_subplot(gs[1, i])
        edges = sub.bin_edges.sel(block=b).isel(seed=int(np.argmax(ok))).values
        counts = sub.histogram.sel(block=b).values[ok].sum(axis=0)
        dens = counts / (counts.sum() * np.diff(edges))
        x = 0.5 * (edges[1:] + edges[:-1])
        ax.bar(x, dens, width=np.diff(edges), color="0.7", label="data")
        mu, sd = sub.gauss_fit.sel(block=b).values
        ax.plot(x, np.exp(-0.5 * ((x - mu) / sd) ** 2) / (np.sqrt(2 * np.pi) * sd), "r-", lw=1,
                label="Gaussian fit")
        ax.plot(x, _mixture_pdf(x, sub.mixture_weight.sel(block=b).values,
                                sub.mixture_mean.sel(block=b).values,
                                sub.mixture_std.sel(block=b).values), "b--", lw=0.8,
                label="mixture fit")
        ax.set_yscale("log")
        ax.yaxis.set_minor_formatter(st.plt.NullFormatter())  # decades only: no crowding
        pos = dens[dens > 0]
        ax.set_ylim(pos.min() * 0.5, pos.max() * 3)
        used = x[counts > 0]
        pad = 0.1 * (used.max() - used.min())
        ax.set_xlim(used.min() - pad, used.max() + pad)
        kurt = float(sub.pooled_excess_kurtosis.sel(block=b))
        ax.set_title(f"{b}\nexcess kurtosis {kurt:.2f}", fontsize=7)
        ax.set_xlabel("coupling J" if b.startswith("J") else "field h")
        ax.xaxis.set_major_locator(st.plt.MaxNLocator(3))
        if i == 0:
            ax.set_ylabel("probability density")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, frameon=False, loc="lower right", ncol=3, fontsize=6)
    fig.tight_layout(h_pad=3.0)  # room between the rows for panel (c)'s heading
    # panel (c)'s heading sits in the gap between the rows, left of the block titles
    top = max(a.get_position().y1 for a in fig.axes[-5:])
    fig.text(0.01, top + 0.085, f"(c) block statistics, D={D}, N={int(sub.N)}, "
             f"P={int(sub.P)}, pooled over {int(ok.sum())} instances", fontsize=8)
    return st.save(fig, out, pdf)

