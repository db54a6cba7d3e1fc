"""Fig. 3: energy landscape over a t-SNE embedding of random weights (blue = low energy)."""

import numpy as np

try:
    from . import _style as st
except ImportError:
    import _style as st


def plot(ds, out, reference=False, pdf=False):
    Ps = ds.P.values
    fig, axes = st.plt.subplots(1, len(Ps), figsize=(st.SINGLE * len(Ps) * 0.8, 2.6))
    axes = np.atleast_1d(axes)
    for ax, P, tag in zip(axes, Ps, "abcdef"):
        sub = ds.sel(P=P).isel(seed=0)
        gx, gy = sub.grid_x.values, sub.grid_y.values
        cs = ax.contourf(gx, gy, sub.surface.values, levels=30, cmap="viridis")
        ax.scatter(sub.embedding.values[:, 0], sub.embedding.values[:, 1], s=2, c="w", lw=0,
                   alpha=0.5)
        ax.set_title(f"({tag}) P = {P}")
        ax.set_xlabel("t-SNE 1")
        ax.set_ylabel("t-SNE 2")
        st.plt.colorbar(cs, ax=ax, label="energy E")
    fig.tight_layout()
    return st.save(fig, out, pdf)


if __name__ == "__main__":
    st.main(plot, "landscape", __doc__)
