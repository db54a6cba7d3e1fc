"""Fig. 4a: contrast ratio of the inferred weights over prompt length N and diversity P.

The P values of one (N, seed) form a series that shares one task stream: the training set
at P is the first P sequences of the series' set at max(P) (and all P share one test set),
so neighbouring P differ only by the tasks added, as in an experiment that gathers more
tasks, and ``Q = H^T H / P`` grows by the new tasks' rows instead of being rebuilt for every
P. A point of the sweep is one (N, seed) series; the stored variables keep the layout
``(N, P, seed, solver)``.
"""

import numpy as np

from ..spin import prefix_models
from ..tasks import sample_tasks
from ..timing import section
from ._base import Experiment
from ._common import run_solvers, solver_coord, solver_vars, with_paper_solver

QUICK = {"D": 5, "N": [5, 10, 20, 40], "P": [20, 40, 80, 160, 320], "seeds": 2, "lam": 1.0,
         "beta": 100.0, "damping": "auto", "P_test": 500, "solvers": ["exact", "tap"], "seed": 0,
         # prompt statistics drawn directly (same distribution as drawing every token,
         # sgphys.tasks); "tokens" draws the input matrices
         "sampler": "statistics"}
PAPER = with_paper_solver({
    **QUICK, "D": 20, "N": np.linspace(2, 100, 50, dtype=int).tolist(),
    "P": np.linspace(20, 1000, 50, dtype=int).tolist(), "seeds": 10, "P_test": 1000})


def point(params, values, streams):
    D, N, lam = params["D"], values["N"], params["lam"]
    method = params.get("sampler", "tokens")
    Ps = params["P"]
    with section("model build"):
        H, y = sample_tasks(D, N, max(Ps), seed=streams["train"],
                            method=method).feature_arrays()
        test = sample_tasks(D, N, params["P_test"], seed=streams["test"], method=method).keep()
        models = prefix_models(D, lam, H, y, sorted(set(Ps)))
    series = {}
    while True:
        with section("model build"):  # each model is built as the series reaches it
            item = next(models, None)
        if item is None:
            break
        series[item[0]] = run_solvers(item[1], params, test=test)
    return {k: np.stack([series[P][k] for P in Ps]) for k in series[Ps[0]]}


def variables(params):
    return {name: type(var)(("P",) + var.dims, var.long_name, var.units, var.kind)
            for name, var in solver_vars(test=True).items()}


def coords(params):
    return {**solver_coord(params),
            "P": (list(params["P"]), "task diversity P (number of training sequences)", "1")}


def finalize(ds, params):
    return ds.transpose("N", "P", "seed", ...)


EXPERIMENT = Experiment(
    name="phase_diagram", title="Contrast ratio over prompt length and task diversity (Fig. 4a)",
    figure="Fig. 4a", presets={"quick": QUICK, "paper": PAPER}, sweep=("N",), point=point,
    variables=variables, coords=coords, finalize=finalize, inner=("P",))
