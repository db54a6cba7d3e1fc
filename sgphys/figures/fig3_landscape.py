"""Fig. 3: energy landscape over a t-SNE embedding of random weights, drawn as a surface
(blue = low energy) with its contours and the sampled weights on the floor; the title gives
the ground-state energy (the exact minimum of E) for comparison."""

import numpy as np

from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    Ps = ds.P.values
    fig = st.plt.figure(figsize=(st.SINGLE * len(Ps) * 0.85, 3.0))
    for k, (P, tag) in enumerate(zip(Ps, "abcdef")):
        sub = ds.sel(P=P).isel(seed=0)
        gx, gy = np.meshgrid(sub.grid_x.values, sub.grid_y.values)
        E = sub.surface.values
        ax = fig.add_subplot(1, len(Ps), k + 1, projection="3d")
        ax.plot_surface(gx, gy, E, cmap="viridis", rstride=1, cstride=1, lw=0,
                               antialiased=False)
        floor = np.nanmin(E) - 0.15 * (np.nanmax(E) - np.nanmin(E))
        ax.contourf(gx, gy, E, levels=20, cmap="viridis", offset=floor, alpha=0.6)
        xy = sub.embedding.values
        ax.scatter(xy[:, 0], xy[:, 1], np.full(len(xy), floor), s=1, c="k", lw=0, alpha=0.5)
        ax.set_zlim(floor, np.nanmax(E))
        title = f"({tag}) P = {P}"
        if "ground_energy" in sub:
            title += f",  min E = {float(sub.ground_energy):.3g}"
        ax.set_title(title, pad=0)
        ax.set_xlabel("t-SNE 1", labelpad=-6)
        ax.set_ylabel("t-SNE 2", labelpad=-6)
        ax.set_zlabel("energy E", labelpad=-2)
        ax.tick_params(pad=-3)
        ax.view_init(elev=32, azim=-60)
    return st.save(fig, out, pdf)

