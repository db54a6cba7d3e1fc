"""Fig. S3: couplings and fields resampled from fitted distributions, and AMP's mean and
variance matrices on the resampled model (with the data-built mean for comparison)."""

import numpy as np

try:
    from . import _style as st
except ImportError:
    import _style as st


def _show(fig, ax, M, title, sym=True, cmap="RdBu_r"):
    lim = np.nanmax(np.abs(M))
    im = ax.imshow(M, cmap=cmap if sym else "viridis", vmin=-lim if sym else None,
                   vmax=lim if sym else None)
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.75)


def plot(ds, out, reference=False, pdf=False):
    solver = "paper" if "paper" in ds.solver.values else "tap"
    sub = ds.isel(seed=0)
    D = ds.sizes["row"] - 1
    fig, axes = st.plt.subplots(1, 5, figsize=(st.DOUBLE * 1.3, 2.3))
    _show(fig, axes[0], sub.J_resampled.values, "(a) resampled J")
    h = np.zeros((D + 1, D + 1))
    h[:, :D] = sub.h_resampled.values.reshape(D + 1, D)
    _show(fig, axes[1], h, "(b) resampled h")
    s = sub.sel(solver=solver)
    flag = "" if int(s.converged) == 1 else " (not converged)"
    _show(fig, axes[2], s["mean"].values, f"(c) AMP mean{flag}")
    _show(fig, axes[3], s["var"].values, "(d) AMP variance", sym=False)
    _show(fig, axes[4], s.mean_data.values, "data-built model: AMP mean")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"D={D}, solver {solver}", y=1.03)
    fig.tight_layout()
    return st.save(fig, out, pdf)


if __name__ == "__main__":
    st.main(plot, "resampled", __doc__)
