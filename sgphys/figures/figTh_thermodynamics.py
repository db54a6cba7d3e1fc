"""Fig. Th: thermodynamics of the ICL state. One row per prior (Gaussian, ternary, binary):
free energy, energy and entropy per spin against P / n_spins (TAP branches: ICL solid, other
dashed; Gibbs: circles with error bars; the Gaussian's exact closed form), one colour per
beta, the spinodals marked on the P axis, hollow TAP markers where the state has negative
cavity precisions; and, for a discrete prior, the phase diagram in
(P / n_spins, beta): Gibbs points coloured by their W11 contrast ratio, the spinodals, the
thermodynamic transition, the ICL onsets of the equilibrium TAP state and of Gibbs, and the
ridge onset of the exact Gaussian solution (for the Gaussian prior: its W11 contrast ratio)."""

import numpy as np
from matplotlib.transforms import blended_transform_factory

from . import _style as st

#: Gibbs points with a larger split R-hat (any seed) are drawn as crosses
RHAT_OK = 1.1
BRANCH_LS = {"icl": "-", "other": "--"}
TITLES = {"gaussian": "Gaussian (ridge)", "ternary": "ternary {-a, 0, a}",
          "binary": "binary {-a, a}"}
QUANTITIES = (("free_energy_per_spin", "free energy per spin f"),
              ("energy_per_spin", "energy per spin e"),
              ("entropy_per_spin", "entropy per spin s"))


def _p_axis(ax, xs):
    ax.set_xscale("log")
    ax.set_xticks(xs)
    ax.set_xticks([], minor=True)
    ax.set_xticklabels([f"{v:g}" for v in xs], fontsize=6)
    ax.set_xlabel("P / n_spins")


def _mean_sd(da):
    return st.mean_sd_count(da, "seed")[:2]


def _beta_colors(betas):
    cmap = st.plt.get_cmap("plasma")
    k = max(len(betas) - 1, 1)
    return {b: cmap(0.85 * i / k) for i, b in enumerate(betas)}


def _thermo_panel(ax, sub, prior, var, betas, colors, handles):
    x = np.asarray(sub.P_over_n.values, dtype=float)
    order = np.argsort(x)
    x = x[order]
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for b in betas:
        c = colors[b]
        s = sub.sel(beta=b)
        if prior == "gaussian":
            m, sd = _mean_sd(s["exact_" + var])
            line, = ax.plot(x, m[order], "-", color=c, lw=1.2)
            handles.setdefault(f"beta = {b:g}", line)
        else:
            for branch, ls in BRANCH_LS.items():
                m, sd = _mean_sd(s[var].sel(branch=branch))
                mk = "o" if branch == "icl" else "s"
                ax.plot(x, m[order], ls, color=c, lw=1.1, marker=mk, ms=2.5)
                # a negative cavity precision at the state (any seed): TAP unreliable there
                neg = (s.negative_cavity.sel(branch=branch).max("seed").values > 0)[order]
                ax.plot(x[neg], m[order][neg], mk, color=c, mfc="white", ms=4, mew=0.8)
            m, sd = _mean_sd(s["gibbs_" + var])
            m, sd = m[order], sd[order]
            good = s.gibbs_rhat_max.max("seed").values[order] <= RHAT_OK
            if np.isfinite(m).any():
                ax.errorbar(x[good], m[good], sd[good], fmt="o", mfc="none", color=c, ms=4,
                            lw=0.7, capsize=1.5)
                ax.plot(x[~good], m[~good], "x", color=c, ms=4)
            handles.setdefault(f"beta = {b:g}", ax.plot([], [], "-", color=c)[0])
            for name, mk in (("spinodal_icl", "^"), ("spinodal_other", "v")):
                v = float(s[name + "_mean"])
                if np.isfinite(v):
                    ax.plot([v], [0.02], mk, color=c, ms=4, transform=trans, clip_on=False)
    _p_axis(ax, x)


def _phase_panel(ax, fig, sub, ds, D, prior, betas, handles):
    x = np.asarray(sub.P_over_n.values, dtype=float)
    order = np.argsort(x)
    xs = x[order]
    g, _ = _mean_sd(sub.gibbs_contrast_ratio_w11.transpose("seed", "P_over_n", "beta"))
    rh = sub.gibbs_rhat_max.max("seed").transpose("P_over_n", "beta").values
    X, B = np.meshgrid(x, np.asarray(sub.beta.values, float), indexing="ij")
    ok = np.isfinite(g)
    sc = ax.scatter(X[ok], B[ok], c=g[ok], vmin=0, vmax=1, cmap="viridis", s=40, marker="s",
                    edgecolors=np.where(rh[ok] > RHAT_OK, "r", "none"), linewidths=0.9, zorder=2)
    fig.colorbar(sc, ax=ax, fraction=0.05, pad=0.03, label="Gibbs W11 contrast ratio")
    ex = sub.branch_exists.max("seed")
    none = (ex.sum("branch") == 0).transpose("P_over_n", "beta").values
    h = ax.plot(X[none], B[none], "x", color="0.3", ms=4, zorder=3)[0]
    handles.setdefault("no certified TAP state (any seed)", h)
    bs = np.asarray(sub.beta.values, dtype=float)
    styles = (("spinodal_icl", "^-", "C0", "ICL spinodal (TAP)"),
              ("spinodal_other", "v-", "C1", "non-ICL spinodal (TAP)"),
              ("transition", "D-", "k", "transition f_icl = f_other (TAP)"),
              ("tap_icl_onset", "o:", "C2", "ICL onset, equilibrium TAP state"),
              ("gibbs_icl_onset", "s:", "C3", "ICL onset, Gibbs"))
    for name, fmt, c, label in styles:
        m, sd = sub[name + "_mean"].values, sub[name + "_sd"].values
        if not np.isfinite(m).any():
            continue
        e = ax.errorbar(m, bs, xerr=np.where(np.isfinite(sd), sd, 0), fmt=fmt, color=c, ms=4,
                        lw=1, capsize=2, mfc="white" if "onset" in name else c, zorder=4)
        handles.setdefault(label, e)
    r = float(ds.ridge_onset_mean.sel(D=D))
    if np.isfinite(r):
        h = ax.axvline(r, color="0.4", lw=1, ls="-.", zorder=1)
        handles.setdefault("ridge onset (exact Gaussian, W11 contrast = threshold)", h)
    _p_axis(ax, xs)
    ax.set_yscale("log")
    ax.set_xlim(xs[0] / 1.3, xs[-1] * 1.3)
    ax.set_ylim(bs.min() / 1.6, bs.max() * 1.6)
    ax.set_ylabel("inverse temperature beta")


def _gaussian_contrast(ax, sub, ds, D, thr, handles):
    x = np.asarray(sub.P_over_n.values, dtype=float)
    order = np.argsort(x)
    m, sd = _mean_sd(sub.exact_contrast_ratio_w11)
    ax.errorbar(x[order], m[order], sd[order], fmt="o-", color="k", ms=3, lw=1, capsize=1.5)
    ax.axhline(thr, color="C8", ls=":", lw=0.8)
    r = float(ds.ridge_onset_mean.sel(D=D))
    if np.isfinite(r):
        ax.axvline(r, color="0.4", lw=1, ls="-.")
    _p_axis(ax, x[order])
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("W11 contrast ratio (exact)")


def plot(ds, out, reference=False, pdf=False):
    D = int(ds.D.values[0])
    priors = [str(p) for p in ds.prior.values]
    betas = sorted(float(b) for b in ds.beta.values)
    colors = _beta_colors(betas)
    thr = float(ds.attrs.get("icl_threshold", 0.9))
    fig, axes = st.plt.subplots(len(priors), 4, figsize=(2.6 * 4, 2.3 * len(priors)),
                                squeeze=False)
    tags = iter("abcdefghijklmnop")
    handles, phase_handles = {}, {}
    for r, prior in enumerate(priors):
        sub = ds.sel(D=D, prior=prior)
        for c, (var, label) in enumerate(QUANTITIES):
            ax = axes[r, c]
            _thermo_panel(ax, sub, prior, var, betas, colors, handles)
            ax.set_ylabel(label)
            what = "exact" if prior == "gaussian" else "TAP and Gibbs"
            ax.set_title(f"({next(tags)}) {TITLES.get(prior, prior)}: {label.split(' per')[0]}"
                         f"\n{what}, D = {D}", fontsize=7)
        ax = axes[r, 3]
        if prior == "gaussian":
            _gaussian_contrast(ax, ds.sel(D=D), ds, D, thr, phase_handles)
            ax.set_title(f"({next(tags)}) Gaussian: exact W11 contrast\n(dash-dot: ridge onset "
                         f"at {thr:g})", fontsize=7)
        else:
            _phase_panel(ax, fig, sub, ds, D, prior, betas, phase_handles)
            ax.set_title(f"({next(tags)}) {TITLES.get(prior, prior)}: phase diagram\n"
                         f"(red edge: Gibbs R-hat > {RHAT_OK:g})", fontsize=7)
    style = {"TAP ICL branch": axes[0, 0].plot([], [], "k-o", ms=2.5)[0],
             "TAP other branch": axes[0, 0].plot([], [], "k--s", ms=2.5)[0],
             "TAP state with negative cavity precisions (unreliable)":
                 axes[0, 0].plot([], [], "ks", mfc="white", ms=4)[0],
             "Gibbs (replica exchange, seed mean +- sd)":
                 axes[0, 0].plot([], [], "ko", mfc="none", ms=4)[0],
             f"Gibbs with R-hat > {RHAT_OK:g}": axes[0, 0].plot([], [], "kx", ms=4)[0],
             "spinodals: ICL (^), other (v)": axes[0, 0].plot([], [], "k^", ms=4)[0]}
    allh = {**handles, **style, **phase_handles}
    fig.legend(list(allh.values()), list(allh.keys()), loc="lower center", ncol=4,
               frameon=False, fontsize=6, bbox_to_anchor=(0.5, -0.01))
    n_seeds = ds.sizes["seed"]
    fig.suptitle(f"Fig. Th: free energy, energy and entropy per spin of the TAP branches and "
                 f"Gibbs (D = {D}, {n_seeds} seeds; Gaussian: exact closed form)", fontsize=8)
    fig.tight_layout(rect=(0, 0.1, 1, 0.97))
    return st.save(fig, out, pdf)
