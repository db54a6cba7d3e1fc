"""Fig. S1: merged vs separated training: learning curves at the smallest and largest data
density and the test error against alpha = P/D^2 (double descent), with the ridgeless
asymptotic theory of Lu et al. (PNAS 2025; its tau is this alpha, its alpha is N/D,
``icl_error(N/D, tau, lam=D lam_train)``, :mod:`sgphys.theory`), diverging at tau = 1;
second row: the trained weight matrices of both schemes (first seed) at the end of (a) and (c)."""

import json

import numpy as np

from ..theory import icl_error
from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    fig = st.plt.figure(figsize=(st.DOUBLE, 5.4))
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.15, 1])
    axes = top.subplots(1, 3)
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
    params = json.loads(ds.attrs["parameters"])
    N, lam = params["N"], D * params.get("lam_train", 0.0)
    lo, hi = float(ds.alpha.min()), float(ds.alpha.max())
    ylim = ax.get_ylim()
    for k, (a, b) in enumerate(((lo, min(hi, 0.995)), (max(lo, 1.005), hi))):
        if a < b:  # the two branches either side of the divergence at tau = 1
            tau = np.geomspace(a, b, 150)
            ax.plot(tau, icl_error(N / D, tau, lam=lam), color="0.3", ls="-.", lw=0.9,
                    label=(f"theory (PNAS 2025), N/D = {N / D:g}, lambda = {lam:g}"
                           if k == 0 or lo >= 1.0 else None))
    ax.set_ylim(ylim)  # the data's range: the theory diverges at tau = 1
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
    # panel (b)'s legend below the row: the data and the theory fill the panel
    top.legend(*ax.get_legend_handles_labels(), frameon=False, fontsize=6, ncol=4,
               loc="lower center", bbox_to_anchor=(0.5, 0.0))
    top.subplots_adjust(left=0.08, right=0.98, top=0.9, bottom=0.33, wspace=0.4)
    _weights(bottom, ds)
    return st.save(fig, out, pdf)


def _weights(sfig, ds):
    """(d), (e): trained W of both schemes, seed 0, at the smallest and largest alpha."""
    axes = sfig.subplots(1, 2 * ds.sizes["scheme"])
    k = 0
    for alpha, tag in ((ds.alpha.values[0], "d"), (ds.alpha.values[-1], "e")):
        Ws = ds.W_trained.sel(alpha=alpha).isel(seed=0)
        lim = float(np.nanmax(np.abs(Ws.values)))
        for scheme in ds.scheme.values:
            ax = axes[k]
            im = ax.imshow(Ws.sel(scheme=scheme).values, cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set_title(f"({tag}) {scheme}\nalpha = {alpha:g}")
            ax.set_xlabel("column")
            ax.set_ylabel("row")
            k += 1
        sfig.colorbar(im, ax=axes[k - 2:k], shrink=0.8, label="trained W entry")
    sfig.suptitle("trained weight matrices (first seed; separated: W = W_K^T W_Q)", fontsize=7)

