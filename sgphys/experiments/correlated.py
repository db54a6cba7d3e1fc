"""Fig. S4: test error of the spin solvers and the trained transformer against the token
correlation c (authors' construction by default, ``corr_mode="paper"``)."""

import numpy as np

from ..observables import block_values, test_error
from ..spin import SpinModel
from ..tasks import sample_tasks
from ..training import train
from ._base import Experiment, Var
from ._common import run_solvers, solver_coord, solver_vars, with_paper_solver

BLOCK_NAMES = ("J1", "J2", "J3", "h1", "h2")
#: edges of the standardised block histograms, in standard deviations of the block
Z_EDGES = np.linspace(-8.0, 8.0, 65)

QUICK = {"D": 5, "N": 40, "P": 2000, "P_test": 1000, "corr": [0.05, 0.3, 0.6, 0.95],
         "corr_mode": "paper", "seeds": 2, "lam": 0.01, "lam_train": 0.005, "lr": 1e-2,
         "epochs": 300, "beta": 100.0, "damping": "auto", "solvers": ["exact", "tap"], "seed": 0}
PAPER = with_paper_solver({**QUICK, "D": 20, "N": 200, "P": 10000,
                           "corr": np.round(np.linspace(0.05, 0.95, 19), 2).tolist(),
                           "seeds": 20, "lr": 1e-3, "epochs": 5000})


def point(params, values, streams):

    kw = dict(corr=values["corr"], corr_mode=params["corr_mode"])
    tasks = sample_tasks(params["D"], params["N"], params["P"], seed=streams["train"], **kw)
    test = sample_tasks(params["D"], params["N"], params["P_test"], seed=streams["test"], **kw)
    model = SpinModel.from_tasks(tasks, params["lam"])
    out = run_solvers(model, params, test=test)
    vals = block_values(model)
    out["block_histogram"] = np.array([
        np.histogram(np.clip((vals[b] - vals[b].mean()) / vals[b].std(), -8.0, 8.0),
                     bins=Z_EDGES)[0] for b in BLOCK_NAMES])
    trained = train(tasks, lam=params["lam_train"], lr=params["lr"],
                           epochs=params["epochs"], seed=streams["init"])
    out["test_error_trained"] = test_error(trained.W, test)
    out["query_label_variance"] = float(np.var(test.y))
    return out


def variables(params):
    v = solver_vars(test=True)
    v["test_error_trained"] = Var((), "test error of the trained merged linear attention (full-batch Adam)")
    v["query_label_variance"] = Var((), "variance of the test query labels (error of predicting 0)")
    v["block_histogram"] = Var(("block", "zbin"), "counts of the non-zero block entries of J and "
                               "h, standardised by the block's mean and std (clipped to +-8)",
                               "1", "i")
    return v


def coords(params):
    return {**solver_coord(params),
            "block": (list(BLOCK_NAMES), "coupling or field block (paper Fig. 1)", "1"),
            "zbin": (0.5 * (Z_EDGES[1:] + Z_EDGES[:-1]),
                     "standardised entry (x - block mean) / block std, bin centre", "1")}


EXPERIMENT = Experiment(
    name="correlated", title="Training with correlated tokens (Fig. S4)", figure="Fig. S4",
    presets={"quick": QUICK, "paper": PAPER}, sweep=("corr",), point=point, variables=variables,
    coords=coords)
