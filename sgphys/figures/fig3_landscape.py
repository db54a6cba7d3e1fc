"""Fig. 3: energy landscape over a t-SNE embedding of random weights, drawn as a surface (blue
= low energy) with its contours and the sampled weights on the floor; the title gives the
ground-state energy (the exact minimum of E) for comparison. All panels share one colour
scale and one height range (the range of the interpolated surfaces), shown by one colorbar;
a note says that E itself is convex (the ruggedness is the projection's)."""

import numpy as np
from matplotlib.colors import Normalize

from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    Ps = ds.P.values
    surfaces = ds.surface.isel(seed=0).values
    lo, hi = float(np.nanmin(surfaces)), float(np.nanmax(surfaces))
    norm = Normalize(vmin=lo, vmax=hi)  # one scale for every panel
    floor = lo - 0.15 * (hi - lo)
    levels = np.linspace(lo, hi, 21)
    fig = st.plt.figure(figsize=(st.SINGLE * len(Ps) * 0.85 + 1.2, 3.0))
    axes = []
    for k, (P, tag) in enumerate(zip(Ps, "abcdef")):
        sub = ds.sel(P=P).isel(seed=0)
        gx, gy = np.meshgrid(sub.grid_x.values, sub.grid_y.values)
        E = sub.surface.values
        ax = fig.add_subplot(1, len(Ps), k + 1, projection="3d")
        axes.append(ax)
        ax.plot_surface(gx, gy, E, cmap="viridis", norm=norm, rstride=1, cstride=1, lw=0,
                        antialiased=False)
        ax.contourf(gx, gy, E, levels=levels, cmap="viridis", norm=norm, offset=floor, alpha=0.6)
        xy = sub.embedding.values
        ax.scatter(xy[:, 0], xy[:, 1], np.full(len(xy), floor), s=1, c="k", lw=0, alpha=0.5)
        ax.set_zlim(floor, hi)
        title = f"({tag}) P = {P}"
        if "ground_energy" in sub:
            title += f",  min E = {float(sub.ground_energy):.3g}"
        ax.set_title(title, pad=0)
        ax.set_xlabel("t-SNE 1", labelpad=-6)
        ax.set_ylabel("t-SNE 2", labelpad=-6)
        ax.set_zlabel("energy E", labelpad=-2)
        ax.tick_params(pad=-3)
        ax.view_init(elev=32, azim=-60)
    sm = st.plt.cm.ScalarMappable(norm=norm, cmap="viridis")
    fig.colorbar(sm, ax=axes, shrink=0.6, pad=0.1, aspect=25,
                 label="energy E (one scale, all panels)")
    fig.text(0.02, 0.0, "E is a convex quadratic in the weights at every P: the ruggedness is "
             "that of the 2-D t-SNE embedding of the sampled weights and its interpolation.",
             fontsize=6, color="0.3")
    return st.save(fig, out, pdf)
