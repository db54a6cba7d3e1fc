"""Fig. S2: KL divergence of each block's distribution between N and the next N."""


from . import _style as st


def plot(ds, out, reference=False, pdf=False):
    fig, ax = st.plt.subplots(figsize=(st.SINGLE, 2.4))
    has_next = ds.N_next.isel(seed=0).values > 0
    N = ds.N.values[has_next]
    for i, b in enumerate(ds.block.values):
        m, sd, n = st.mean_sd_count(ds.kl_divergence.sel(block=b))
        ax.errorbar(N, m[has_next], yerr=sd[has_next], marker="o", ms=3, color=f"C{i}", label=b)
    ax.set_yscale("log")
    ax.set_xlabel("prompt length N")
    ax.set_ylabel("KL(N || N + dN) [nats]")
    ax.set_title(f"block distributions under N -> next N ({ds.sizes['seed']} seeds)")
    ax.legend(frameon=False, ncol=2)
    fig.tight_layout()
    return st.save(fig, out, pdf)

