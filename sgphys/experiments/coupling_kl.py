"""Fig. S2: KL divergence between each block's distribution at prompt length N and at the
next prompt length of the list."""

import numpy as np

from ..observables import BlockStatistics, block_values, kl_divergence
from ..spin import SpinModel
from ..tasks import sample_tasks
from ._base import Experiment, Var
from .couplings import BLOCK_NAMES

QUICK = {"D": 5, "P": 200, "N": [20, 21, 40, 60, 80], "seeds": 4, "bins": 60, "seed": 0}
PAPER = {**QUICK, "D": 20, "P": 1000, "N": [20, 21] + list(range(40, 201, 20)), "seeds": 1000}


def _next_N(params, N):
    Ns = sorted(params["N"])
    i = Ns.index(N)
    if i + 1 == len(Ns):
        return None
    return Ns[i + 1]


def point(params, values, streams):

    N = values["N"]
    N2 = _next_N(params, N)
    kl = np.full(len(BLOCK_NAMES), np.nan)
    if N2 is None:  # the last prompt length has no successor
        return {"kl_divergence": kl, "N_next": -1}
    ss_a, ss_b = streams["train"].spawn(2)
    a = SpinModel.from_tasks(sample_tasks(params["D"], N, params["P"], seed=ss_a), 0.0)
    b = SpinModel.from_tasks(sample_tasks(params["D"], N2, params["P"], seed=ss_b), 0.0)
    va, vb = block_values(a), block_values(b)
    edges = {}
    for name in BLOCK_NAMES:
        lo = min(va[name].min(), vb[name].min())
        hi = max(va[name].max(), vb[name].max())
        edges[name] = np.linspace(lo, hi, params["bins"] + 1)
    sa, sb = BlockStatistics(dict(edges)), BlockStatistics(dict(edges))
    for name in BLOCK_NAMES:
        sa.add_values(name, va[name])
        sb.add_values(name, vb[name])
    d = kl_divergence(sa, sb)
    return {"kl_divergence": np.array([d[n] for n in BLOCK_NAMES]), "N_next": N2}


def variables(params):
    return {"kl_divergence": Var(("block",), "KL divergence of the block distribution at N "
                                 "from that at the next N (nats; add-half smoothing)", "nat"),
            "N_next": Var((), "the next prompt length N + dN (-1: none)", "1", "i")}


def coords(params):
    return {"block": (list(BLOCK_NAMES), "coupling or field block (paper Fig. 1)", "1")}


EXPERIMENT = Experiment(
    name="coupling_kl", title="KL divergence of block distributions under N -> N + dN (Fig. S2)",
    figure="Fig. S2", presets={"quick": QUICK, "paper": PAPER}, sweep=("N",), point=point,
    variables=variables, coords=coords)
