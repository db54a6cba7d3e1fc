"""Fig. 2: test-loss curves of the trained transformer at several task diversities, the
trained weight matrices, and the AMP mean and variance matrices."""

import numpy as np

from . import _style as st


def _matrix(ax, W, title, label, cmap="RdBu_r", sym=True):
    lim = np.nanmax(np.abs(W))
    im = ax.imshow(W, cmap=cmap, vmin=-lim if sym else None, vmax=lim if sym else None)
    ax.set_title(title)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    st.plt.colorbar(im, ax=ax, shrink=0.75, label=label)


def plot(ds, out, reference=False, pdf=False):
    fig, axes = st.plt.subplots(1, 5, figsize=(st.DOUBLE * 1.3, 2.4))
    ax = axes[0]
    for i, P in enumerate(ds.P.values):
        m, _, _ = st.mean_sd_count(ds.test_loss.sel(P=P))
        ax.plot(ds.epoch, m, color=f"C{i}", label=f"P = {P}")
    D = ds.sizes["row"] - 1
    if reference and D != 10:
        print(f"reference Fig. 2 curves are for D=10; this data has D={D}: not overlaid")
    elif reference:
        for k, P in ((1, 10), (2, 1000)):
            ref = st.load_reference(f"fig2/loss-{k}.npy")
            if ref is not None:
                ax.plot(np.arange(1, ref.size + 1), ref, ":", color="0.4", lw=1,
                        label=f"paper P = {P}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("test error")
    ax.set_title("(a) learning curves")
    ax.legend(frameon=False, fontsize=5, loc="lower left")
    P_small, P_large = ds.P.values[0], ds.P.values[-1]
    W = ds.W_trained.isel(seed=0)
    _matrix(axes[1], W.sel(P=P_small).values, f"(b) trained W\nP = {P_small}", "W_ij")
    _matrix(axes[2], W.sel(P=P_large).values, f"(c) trained W\nP = {P_large}", "W_ij")
    solver = "paper" if "paper" in ds.solver.values else "tap"
    amp = ds.sel(solver=solver, P=P_large).isel(seed=0)
    flag = "" if int(amp.converged) == 1 else " (not converged)"
    _matrix(axes[3], amp["mean"].values, f"(d) AMP mean\nP = {P_large}{flag}", "mean W_ij")
    _matrix(axes[4], amp["var"].values, f"(e) AMP variance\nP = {P_large}", "variance of W_ij",
            cmap="viridis", sym=False)
    fig.suptitle(f"D={ds.sizes['row'] - 1}, AMP solver: {solver}", y=1.02, fontsize=8)
    fig.tight_layout(w_pad=1.5)
    return st.save(fig, out, pdf)

