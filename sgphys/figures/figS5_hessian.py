"""Fig. S5: spectral density of the Hessian (log10 eigenvalues) for a few P (a), and the
fraction of zero modes over (D, P) (b; the paper's inset, drawn as a panel so it hides no
data; stars: the cases of panel a; dashed: the closed form
((D+1) + max(0, D(D+1) - P)) / (D+1)^2 of :func:`sgphys.theory.zero_mode_fraction`). Both
panels count zero modes over all (D+1)^2 weights, the inert last column included, as the
paper's inset; the density of (a) is over the D(D+1) active spins' eigenvalues."""

import json

import numpy as np

from ..theory import zero_mode_fraction
from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    D_main = 20 if 20 in ds.D.values else int(ds.D.values[-1])
    Ps = [100, 500, 1500]
    if not all(p in ds.P.values for p in Ps):
        Ps = [int(p) for p in ds.P.values[[0, len(ds.P) // 2, -1]]]
    fig, (ax, ins) = st.plt.subplots(1, 2, figsize=(st.DOUBLE, 2.6),
                                     gridspec_kw={"width_ratios": [1.4, 1]})
    for i, P in enumerate(Ps):
        m = st.mean_sd_count(ds.spectral_density.sel(D=D_main, P=P))[0]
        zero = float(st.mean_sd_count(ds.zero_mode_fraction.sel(D=D_main, P=P))[0])
        ax.plot(ds.bin, m, color=f"C{i}", label=f"P = {P}: {zero:.0%}")
    n, n_all = D_main * (D_main + 1), (D_main + 1) ** 2
    ax.set_xlabel("log10 Hessian eigenvalue")
    ax.set_ylabel(f"density (fraction of the D(D+1) = {n}\neigenvalues per unit log10)")
    N = json.loads(ds.attrs["parameters"])["N"]
    ax.set_title(f"(a) Hessian spectrum, D = {D_main}, N = {N}")
    atol = json.loads(ds.attrs["parameters"])["zero_atol"]
    ax.set_ylim(top=1.6 * ax.get_ylim()[1])  # room for the legend above the curves
    ax.legend(frameon=False, fontsize=6, loc="upper right", title_fontsize=6,
              title=f"zero modes / all (D+1)^2 = {n_all}\nweights (|eigenvalue| < {atol:g})")
    ref = st.load_reference("figS5/zero-ratio.npy") if reference else None
    for j, D in enumerate(ds.D.values):
        z = st.mean_sd_count(ds.zero_mode_fraction.sel(D=D))[0]
        ins.plot(ds.P, z, color=f"C{j % 10}", lw=0, marker="o", ms=2, label=f"D={D}")
        Pf = np.arange(int(ds.P.min()), int(ds.P.max()) + 1)
        ins.plot(Pf, zero_mode_fraction(int(D), Pf), color=f"C{j % 10}", lw=0.8, ls="--")
        if D == D_main:
            for i, P in enumerate(Ps):
                ins.plot([P], [z[list(ds.P.values).index(P)]], "*", color=f"C{i}", ms=7,
                         mec="k", mew=0.4, zorder=3)
    if ref is not None:
        rD = np.linspace(10, 40, 7, dtype=int)
        rP = np.linspace(25, 2000, 80, dtype=int)
        for j, D in enumerate(rD):
            ins.plot(rP, ref[j], ":", color="0.3", lw=0.6,
                     label="paper, D = 10..40" if j == 0 else None)
    ins.plot([], [], color="0.3", lw=0.8, ls="--", label="closed form")  # legend entry
    ins.set_xlim(0, 1.05 * float(ds.P.max()))  # the data's range (the paper's runs to 2000)
    ins.set_xlabel("task diversity P")
    ins.set_ylabel("zero modes / all (D+1)^2 weights")
    ins.set_title("(b) zero modes (paper: Fig. S5 inset)")
    ins.legend(frameon=False, fontsize=6, ncol=2)
    fig.tight_layout()
    return st.save(fig, out, pdf)

