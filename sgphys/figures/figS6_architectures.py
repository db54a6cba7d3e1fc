"""Fig. S6: test error against prompt length for several attention architectures, with the
spin solvers' prediction."""


from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    fig, ax = st.plt.subplots(figsize=(st.SINGLE * 1.45, 2.6))
    N = ds.N.values
    markers = "os^vD"
    for i, arch in enumerate(ds.arch.values):
        m, sd, _ = st.mean_sd_count(ds.test_error_trained.sel(arch=arch))
        ax.errorbar(N, m, yerr=sd, marker=markers[i % 5], ms=3, ls="none", color=f"C{i}",
                    label=str(arch).upper())
    for solver in ds.solver.values:
        ax.plot(N, st.solver_error_mean(ds, solver)[0], color=st.COLORS.get(str(solver)), lw=1,
                label=st.LABELS.get(str(solver), solver))
    ax.set_yscale("log")
    ax.set_xlabel("prompt length N")
    ax.set_ylabel("test error")
    ax.set_title("architectures (symbols) vs spin solvers (lines)")
    ax.legend(frameon=False, fontsize=6, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside: hides no point
    fig.tight_layout()
    return st.save(fig, out, pdf)

