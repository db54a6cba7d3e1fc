"""Fig. S4: test error against token correlation c for the spin solvers and the trained
transformer; the variance of the query labels (the error of predicting 0) for scale."""

import json


from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    fig, ax = st.plt.subplots(figsize=(st.SINGLE, 2.5))
    c = ds.corr.values
    for solver in ds.solver.values:
        ax.plot(c, st.solver_error_mean(ds, solver)[0], marker="o", ms=3,
                color=st.COLORS.get(str(solver)), label=st.LABELS.get(str(solver), solver))
    m, sd, _ = st.mean_sd_count(ds.test_error_trained)
    ax.errorbar(c, m, yerr=sd, color=st.COLORS["trained"], marker="s", ms=3, ls="none",
                label=st.LABELS["trained"])
    ax.plot(c, st.mean_sd_count(ds.query_label_variance)[0], "k:", lw=1, label="Var(y_q): predict 0")
    ax.set_xlabel("token correlation c")
    ax.set_ylabel("test error")
    ax.set_title(f"correlated tokens ({json.loads(ds.attrs['parameters'])['corr_mode']} construction)")
    ax.legend(frameon=False, fontsize=6)
    fig.tight_layout()
    return st.save(fig, out, pdf)

