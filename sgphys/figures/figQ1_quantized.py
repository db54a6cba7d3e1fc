"""Fig. Q1: the ICL phase diagram of quantised weights. One row per prior (Gaussian, ternary,
binary): the W11 contrast ratio and the test error of the marginal means against P, AMP (TAP)
and Gibbs sampling side by side at the moderate beta (dashed) and the large beta (solid, the
ground state), the exact ridge solution for the Gaussian prior; the mean weight matrix at the
largest P and beta; and, with several N, the ICL onset P against N. At matrix-free D
(``matrix_free``) the AMP is GAMP and is labelled so."""

import numpy as np
from matplotlib.ticker import FuncFormatter

from . import _style as st

#: line colour per solver (the exact solution is black, as in every figure)
COLORS = {"exact": st.COLORS["exact"], "tap": st.COLORS["tap"], "gibbs": "C3"}
LABELS = {**st.LABELS, "gibbs": "Gibbs (replica exchange)"}


def _series(sub, var, solver, beta):
    """P ascending; the seed mean and sd of ``var`` over converged runs; how many of the
    seeds converged; and the mean over all seeds (for points where none converged)."""
    x = sub.sel(solver=solver, beta=beta)[[var, "converged"]].transpose("P", "seed")
    ok = x.converged.values == 1
    raw = x[var].values
    vals = np.where(ok, raw, np.nan)
    n = ok.sum(axis=1)
    with np.errstate(invalid="ignore"):
        mean = np.nansum(vals, axis=1) / np.where(n > 0, n, np.nan)
        sd = np.sqrt(np.nansum((vals - mean[:, None]) ** 2, axis=1)
                     / np.where(n > 1, n - 1, np.nan))
        k = np.isfinite(raw).sum(axis=1)
        raw_mean = np.nansum(raw, axis=1) / np.where(k > 0, k, np.nan)
    order = np.argsort(x.P.values)
    if "negative_cavity" in sub:  # converged fixed points with a negative cavity precision
        neg = sub.negative_cavity.sel(solver=solver, beta=beta).transpose("P", "seed").values
        neg = ((neg > 0) & ok).sum(axis=1)
    else:
        neg = np.zeros(ok.shape[0], dtype=int)
    return (x.P.values[order], mean[order], sd[order], n[order], ok.shape[1],
            raw_mean[order], neg[order])


def _draw(ax, sub, var, solvers, betas, handles, names=LABELS):
    for solver in solvers:
        for beta in betas:
            if solver == "exact" and beta != betas[-1]:
                continue  # the ridge solution does not depend on beta
            P, m, s, n, n_seeds, raw, neg = _series(sub, var, solver, beta)
            if not np.isfinite(raw).any():
                continue
            color = COLORS.get(solver, "C5")
            ls = "-" if beta == betas[-1] else "--"
            name = names.get(solver, solver)
            label = name if solver == "exact" else f"{name}, beta = {beta:g}"
            line = ax.errorbar(P, m, s, color=color, ls=ls, lw=1, capsize=1.5, label=label)
            full, some = n == n_seeds, (n > 0) & (n < n_seeds)
            ax.plot(P[full], m[full], "o", ms=3, color=color)
            ax.plot(P[some], m[some], "o", ms=3, mfc="white", color=color)
            none = (n == 0) & np.isfinite(raw)
            ax.plot(P[none], raw[none], "x", ms=4, color=color)
            flagged = neg > 0
            ax.plot(P[flagged], m[flagged], "s", ms=6, mfc="none", mew=0.8, color="k")
            handles.setdefault(label, line)


def _log_error_axis(ax):
    """Log y axis labelled in plain numbers at 1, 2 and 5 times powers of ten."""
    def label(value, _pos):
        if value <= 0:
            return ""
        lead = value / 10 ** np.floor(np.log10(value) + 1e-9)
        return f"{value:g}" if round(lead) in (1, 2, 5) and abs(lead - round(lead)) < 1e-6 else ""

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(label))
    ax.yaxis.set_minor_formatter(FuncFormatter(label))


def _log_p_axis(ax, Ps):
    ax.set_xscale("log")
    ax.set_xticks(Ps)
    ax.set_xticks([], minor=True)
    ax.set_xticklabels([str(int(p)) for p in Ps], fontsize=5.5, rotation=45)
    ax.set_xlabel("task diversity P")


def _mean_panel(ax, fig, sub, prior, betas, names=LABELS):
    """Mean W at the largest P and beta of the first seed: Gibbs for a discrete prior where
    run, else TAP; the exact solution for the Gaussian prior."""
    Pmax = int(np.max(sub.P.values))
    order = ["exact", "gibbs", "tap"] if prior == "gaussian" else ["gibbs", "tap"]
    for solver in order:
        if solver not in sub.solver.values:
            continue
        x = sub.sel(P=Pmax, beta=betas[-1], solver=solver).isel(seed=0)
        W = x["mean"].values
        if np.isfinite(W).any():
            W = W[np.isfinite(W).any(axis=1)][:, np.isfinite(W).any(axis=0)]
            vmax = float(np.nanmax(np.abs(W))) or 1.0
            im = ax.imshow(W, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="mean W_ij")
            ax.set_title(f"mean W, {names.get(solver, solver)}\nP = {Pmax}, beta = {betas[-1]:g}",
                         fontsize=7)
            ax.set_xlabel("column")
            ax.set_ylabel("row")
            ticks = np.arange(0, W.shape[0], max(1, W.shape[0] // 5))
            ax.set_xticks(ticks)
            ax.set_yticks(ticks)
            return
    ax.set_axis_off()


def plot(ds, out, reference=False, pdf=False):
    Ds = [int(d) for d in ds.D.values]
    Ns = [int(n) for n in ds.N.values]
    N = Ns[len(Ns) // 2]
    priors = [str(p) for p in ds.prior.values]
    solvers = [str(s) for s in ds.solver.values]
    betas = sorted(float(b) for b in ds.beta.values)
    thr = float(ds.icl_onset_P.attrs["threshold"])
    ncols = 2 * len(Ds) + 1 + (len(Ns) > 1)
    fig, axes = st.plt.subplots(len(priors), ncols, figsize=(2.3 * ncols, 2.2 * len(priors)),
                                squeeze=False)
    handles = {}
    for r, prior in enumerate(priors):
        what = {"gaussian": "Gaussian (ridge)", "ternary": "ternary {-a, 0, a}",
                "binary": "binary {-a, a}"}.get(prior, prior)
        for d, D in enumerate(Ds):
            a = float(ds.prior_a.sel(D=D, N=N))  # the support scale of this (D, N)
            sub = ds.sel(D=D, N=N, prior=prior)
            n_spins = D * (D + 1)
            # matrix-free points (D > dense_max_D): the AMP column is GAMP
            free = "matrix_free" in ds and int(ds.matrix_free.sel(D=D)) == 1
            names = {**LABELS, "tap": "AMP (GAMP, matrix-free)"} if free else LABELS
            # columns: D0 contrast, error, mean W; then contrast and error of every other D
            ax_cr = axes[r, 0] if d == 0 else axes[r, 2 * d + 1]
            ax_err = axes[r, 1] if d == 0 else axes[r, 2 * d + 2]
            _draw(ax_cr, sub, "contrast_ratio_w11", solvers, betas, handles, names)
            _draw(ax_err, sub, "test_error", solvers, betas, handles, names)
            ax_cr.axhline(thr, color="C8", lw=0.8, ls=":", label=f"ICL threshold {thr:g}")
            h, lab = ax_cr.get_legend_handles_labels()
            handles.setdefault(f"ICL threshold {thr:g}", h[lab.index(f"ICL threshold {thr:g}")])
            if prior == "binary":
                ax_cr.axhline(1 / np.sqrt(D), color="C2", lw=0.8, ls="-.",
                              label="one binary state: at most 1/sqrt(D)")
                h, lab = ax_cr.get_legend_handles_labels()
                handles.setdefault("one binary state: at most 1/sqrt(D)",
                                   h[lab.index("one binary state: at most 1/sqrt(D)")])
            ax_err.axhline((D + 1) / (N + D + 1), color="0.5", lw=0.8, ls=":",
                           label="population optimum (D+1)/(N+D+1)")
            h, lab = ax_err.get_legend_handles_labels()
            handles.setdefault("population optimum (D+1)/(N+D+1)",
                               h[lab.index("population optimum (D+1)/(N+D+1)")])
            for ax in (ax_cr, ax_err):
                ax.axvline(n_spins, color="0.85", lw=0.8, zorder=0)
                _log_p_axis(ax, np.sort(ds.P.values))
            _log_error_axis(ax_err)
            ax_cr.set_ylabel(f"{prior}: W11 contrast ratio" if d == 0 else "W11 contrast ratio")
            ax_err.set_ylabel("test error")
            ax_cr.set_ylim(0, 1.05)
            scale = f", a = {a:.3f}" if prior != "gaussian" else ""
            tag = f"({'abcdefgh'[r]}) " if d == 0 else ""
            ax_cr.set_title(f"{tag}{what}{scale}\nD = {D}, N = {N}", fontsize=7)
            ax_err.set_title(f"{what}: test error\nD = {D}, N = {N}", fontsize=7)
            if d == 0:
                _mean_panel(axes[r, 2], fig, sub, prior, betas, names)
        if len(Ns) > 1:
            ax = axes[r, -1]
            for d, D in enumerate(Ds):
                for solver in solvers:
                    for beta in betas:
                        if solver == "exact" and beta != betas[-1]:
                            continue
                        y = ds.icl_onset_P.sel(D=D, prior=prior, solver=solver, beta=beta)
                        if not np.isfinite(y.values).any():
                            continue
                        ax.plot(Ns, y.values, marker="os"[d % 2], ms=3, lw=1,
                                color=COLORS.get(solver, "C5"),
                                ls="-" if beta == betas[-1] else "--")
            ax.set_xlabel("prompt length N")
            ax.set_ylabel(f"onset P (W11 contrast >= {thr:g})")
            _log_error_axis(ax)
            ax.set_title(f"{what}: ICL onset\n(o: D = {Ds[0]}"
                         + (f", s: D = {Ds[1]}" if len(Ds) > 1 else "") + ")", fontsize=7)
    fig.legend(list(handles.values()), list(handles.keys()), loc="lower center",
               ncol=min(4, len(handles)), frameon=False, fontsize=6,
               bbox_to_anchor=(0.5, -0.01))
    fig.suptitle("Fig. Q1: ICL with quantised weights. Solid: large beta (ground state), "
                 "dashed: moderate beta.\nMean of converged seeds (hollow: not all converged; "
                 "x: none, mean of all; black square: a converged fixed point with a negative cavity "
                 "precision); grey line: P = n_spins", fontsize=7)
    fig.tight_layout(rect=(0, 0.07, 1, 0.97))
    return st.save(fig, out, pdf)
