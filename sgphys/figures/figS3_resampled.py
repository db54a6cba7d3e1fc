"""Fig. S3: couplings and fields resampled from fitted distributions, and AMP's mean and
variance matrices on the resampled model. Top: one fit per block (the diagonal structure of
h1 is lost, and with it that of W). Bottom: the same couplings, with the W11-diagonal
fields of h1 fitted apart, which the paper's 'AMP still captures the diagonal structure'
needs; left, the data-built model's AMP mean for comparison. rho11: W11 contrast ratio."""

import numpy as np

from ..spin import spins_to_weights
from . import _style as st


def _show(fig, ax, M, title, label, axes_names, sym=True):
    lim = np.nanmax(np.abs(M))
    im = ax.imshow(M, cmap="RdBu_r" if sym else "viridis", vmin=-lim if sym else None,
                   vmax=lim if sym else None)
    ax.set_title(title, fontsize=7)
    ax.set_xlabel(axes_names[0], labelpad=1)
    ax.set_ylabel(axes_names[1], labelpad=1)
    ax.tick_params(labelsize=6)
    fig.colorbar(im, ax=ax, shrink=0.75).set_label(label, fontsize=6)


SPINS = ("spin l", "spin k")
CELLS = ("column j", "row i")


def _field_matrix(h, D):
    return spins_to_weights(h, D)


def plot(ds, out, reference=False, pdf=False):
    solver = "paper" if "paper" in ds.solver.values else "tap"
    sub = ds.isel(seed=0)
    s = sub.sel(solver=solver)
    D = ds.sizes["row"] - 1
    split = "mean_split" in ds
    fig = st.plt.figure(figsize=(st.DOUBLE * 1.1, 4.2 if split else 2.1))
    sfigs = fig.subfigures(2 if split else 1, 1, squeeze=False)[:, 0]

    def flag(key):
        return "" if int(s[key]) == 1 else " (not converged)"

    def rho(key):
        return f", rho11 = {float(s[key]):.2f}" if np.isfinite(float(s[key])) else ""

    # one row per resampling: (first panel, its title, its label, its axes, field name,
    # field title, panel tags, suffix, note on the row)
    rows = [(sub.J_resampled.values, "(a) resampled J", "coupling J_kl", SPINS, "h_resampled",
             "(b) resampled h, one fit per block", "cd", "",
             "one Gaussian fit per block, as in the paper's text: h1's diagonal (the signal "
             "W11 = I)\nis averaged away, so AMP's mean is not diagonal here, unlike the "
             "paper's caption")]
    if split:
        rows.append((s.mean_data.values, "data-built model: AMP mean", "mean W_ij", CELLS,
                     "h_resampled_split", "(e) resampled h, W11 diagonal apart", "fg", "_split",
                     "the same J, the fields of W11's diagonal fitted apart: AMP's mean is "
                     "diagonal again (left: the data-built model's, for comparison)"))
    for sfig, (first, first_title, first_label, first_axes, hname, htitle, tags, sfx,
               note) in zip(sfigs, rows):
        ax = sfig.subplots(1, 4)
        _show(sfig, ax[0], first, first_title, first_label, first_axes)
        _show(sfig, ax[1], _field_matrix(sub[hname].values, D), htitle, "field h_ij", CELLS)
        _show(sfig, ax[2], s[f"mean{sfx}"].values, f"({tags[0]}) AMP mean"
              f"{flag(f'converged{sfx}')}{rho(f'contrast_ratio_w11{sfx}')}", "mean W_ij", CELLS)
        _show(sfig, ax[3], s[f"var{sfx}"].values, f"({tags[1]}) AMP variance",
              "variance of W_ij", CELLS, sym=False)
        sfig.suptitle(note, fontsize=6.5, color="0.25")
        sfig.subplots_adjust(left=0.05, right=0.97, bottom=0.13, top=0.76, wspace=0.95)
    fig.suptitle(f"D={D}, solver {solver}; rho11: contrast ratio of the W11 block",
                 fontsize=8, y=1.03)
    return st.save(fig, out, pdf)
