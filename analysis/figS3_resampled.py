"""Fig. S3: couplings and fields resampled from fitted distributions, and AMP's mean and
variance matrices on the resampled model. Top: one fit per block (the diagonal structure of
h1 is lost, and with it that of W). Bottom: the same couplings, with the W11-diagonal
fields of h1 fitted apart, which the paper's 'AMP still captures the diagonal structure'
needs; left, the data-built model's AMP mean for comparison. rho11: W11 contrast ratio."""

import numpy as np

try:
    from . import _style as st
except ImportError:
    import _style as st


def _show(fig, ax, M, title, sym=True):
    lim = np.nanmax(np.abs(M))
    im = ax.imshow(M, cmap="RdBu_r" if sym else "viridis", vmin=-lim if sym else None,
                   vmax=lim if sym else None)
    ax.set_title(title, fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(im, ax=ax, shrink=0.75)


def _field_matrix(h, D):
    M = np.zeros((D + 1, D + 1))
    M[:, :D] = h.reshape(D + 1, D)
    return M


def plot(ds, out, reference=False, pdf=False):
    solver = "paper" if "paper" in ds.solver.values else "tap"
    sub = ds.isel(seed=0)
    s = sub.sel(solver=solver)
    D = ds.sizes["row"] - 1
    split = "mean_split" in ds
    fig, axes = st.plt.subplots(2 if split else 1, 4, figsize=(st.DOUBLE, 3.6 if split else 1.9),
                                squeeze=False)

    def flag(key):
        return "" if int(s[key]) == 1 else " (not converged)"

    def rho(key):
        return f", rho11 = {float(s[key]):.2f}" if np.isfinite(float(s[key])) else ""

    _show(fig, axes[0, 0], sub.J_resampled.values, "(a) resampled J")
    _show(fig, axes[0, 1], _field_matrix(sub.h_resampled.values, D),
          "(b) h, one fit per block")
    _show(fig, axes[0, 2], s["mean"].values,
          f"(c) AMP mean{flag('converged')}{rho('contrast_ratio_w11')}")
    _show(fig, axes[0, 3], s["var"].values, "(d) AMP variance", sym=False)
    if split:
        _show(fig, axes[1, 0], s.mean_data.values, "data-built: AMP mean")
        _show(fig, axes[1, 1], _field_matrix(sub.h_resampled_split.values, D),
              "(e) h, W11 diagonal apart")
        _show(fig, axes[1, 2], s["mean_split"].values,
              f"(f) AMP mean{flag('converged_split')}{rho('contrast_ratio_w11_split')}")
        _show(fig, axes[1, 3], s["var_split"].values, "(g) AMP variance", sym=False)
    fig.suptitle(f"D={D}, solver {solver}", fontsize=8)
    fig.tight_layout()
    return st.save(fig, out, pdf)


if __name__ == "__main__":
    st.main(plot, "resampled", __doc__)
