"""Fig. 4b: test error against prompt length N: AMP, exact ridge, trained transformer, the
large-P theory (D+1)/(N+D+1) and the asymptotic theory of Lu et al. (PNAS 2025) at the
file's D, P and lam (``icl_error(N/D, P/D^2, lam=D lam)``, :mod:`sgphys.theory`);
optionally the published points."""

import json

import numpy as np

from ..theory import icl_error
from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    fig, ax = st.plt.subplots(figsize=(st.SINGLE * 1.55, 2.6))
    N = ds.N.values
    for solver in ds.solver.values:
        m, sd, n_ok = st.solver_error_mean(ds, solver)
        ax.errorbar(N, m, yerr=sd, color=st.COLORS.get(str(solver)), marker="o", ms=3, lw=1,
                    label=f"{st.LABELS.get(str(solver), solver)} ({n_ok.min()}-{n_ok.max()} "
                          f"of {ds.sizes['seed']} conv.)")
    m, sd, _ = st.mean_sd_count(ds.test_error_trained)
    ax.errorbar(N, m, yerr=sd, color=st.COLORS["trained"], marker="s", ms=3, ls="none",
                label=st.LABELS["trained"])
    ax.plot(N, ds.theory_test_error, "k:", lw=1, label="(D+1)/(N+D+1)")
    params = json.loads(ds.attrs["parameters"])
    D, P, lam = params["D"], params["P"], params["lam"]
    Nf = np.geomspace(N.min(), N.max(), 200)
    ax.plot(Nf, icl_error(Nf / D, P / D**2, lam=D * lam), color="0.45", ls="-.", lw=1,
            label=f"asymptotic theory (PNAS 2025),\ntau = P/D^2 = {P / D**2:g}, "
                  f"lambda = D lam = {D * lam:g}")
    if reference and (params["D"], params["P"]) != (20, 10000):
        print(f"reference Fig. 4b is for D=20, P=10000; this data has D={params['D']}, "
              f"P={params['P']}: not overlaid")
    elif reference:
        rN = st.load_reference("fig4/N_list.npy")
        if rN is not None:
            for k, c in (("amp", "C1"), ("sgd", "C3")):
                ax.errorbar(rN, st.load_reference(f"fig4/{k}_loss_mean.npy"),
                            yerr=st.load_reference(f"fig4/{k}_loss_std.npy"), color=c, ls="--",
                            marker="x", ms=3, lw=0.8, label=f"paper {k.upper()}")
    ax.set_xlabel("prompt length N")
    ax.set_ylabel("test error")
    ax.set_yscale("log")
    ax.set_title("(b) test error vs prompt length")
    ax.legend(frameon=False, fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside: hides no curve
    fig.tight_layout()
    return st.save(fig, out, pdf)

