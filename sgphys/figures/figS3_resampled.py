"""Fig. S3: couplings and fields resampled from fitted distributions, and AMP's mean and
variance matrices on the resampled model. Top: one fit per block (the diagonal structure of
h1 is lost, and with it that of W). Bottom: the same couplings, with the W11-diagonal
fields of h1 fitted apart, which the paper's 'AMP still captures the diagonal structure'
needs; left, the data-built model's AMP mean for comparison. rho11: W11 contrast ratio."""

import numpy as np

from ..spin import spins_to_weights
from . import _style as st


def _show(fig, ax, M, title, sym=True):
    lim = np.nanmax(np.abs(M))
    im = ax.imshow(M, cmap="RdBu_r" if sym else "viridis", vmin=-lim if sym else None,
                   vmax=lim if sym else None)
    ax.set_title(title, fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(im, ax=ax, shrink=0.75)


def _field_matrix(h, D):
    return spins_to_weights(h, D)


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

    # one row per resampling: (first panel, field name, field title, panel tags, suffix)
    rows = [(sub.J_resampled.values, "(a) resampled J", "h_resampled",
             "(b) h, one fit per block", "cd", "")]
    if split:
        rows.append((s.mean_data.values, "data-built: AMP mean", "h_resampled_split",
                     "(e) h, W11 diagonal apart", "fg", "_split"))
    for ax, (first, first_title, hname, htitle, tags, sfx) in zip(axes, rows):
        _show(fig, ax[0], first, first_title)
        _show(fig, ax[1], _field_matrix(sub[hname].values, D), htitle)
        _show(fig, ax[2], s[f"mean{sfx}"].values, f"({tags[0]}) AMP mean"
              f"{flag(f'converged{sfx}')}{rho(f'contrast_ratio_w11{sfx}')}")
        _show(fig, ax[3], s[f"var{sfx}"].values, f"({tags[1]}) AMP variance", sym=False)
    fig.suptitle(f"D={D}, solver {solver}", fontsize=8)
    fig.tight_layout()
    return st.save(fig, out, pdf)

