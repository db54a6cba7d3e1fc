"""Fig. 4a: contrast ratio of the inferred weights over prompt length N and diversity P."""

import numpy as np

from ..spin import SpinModel
from ..tasks import sample_tasks
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

    method = params.get("sampler", "tokens")
    tasks = sample_tasks(params["D"], values["N"], values["P"], seed=streams["train"],
                                method=method)
    test = sample_tasks(params["D"], values["N"], params["P_test"], seed=streams["test"],
                               method=method)
    model = SpinModel.from_tasks(tasks, params["lam"])
    return run_solvers(model, params, test=test)


def variables(params):
    return solver_vars(test=True)


EXPERIMENT = Experiment(
    name="phase_diagram", title="Contrast ratio over prompt length and task diversity (Fig. 4a)",
    figure="Fig. 4a", presets={"quick": QUICK, "paper": PAPER}, sweep=("N", "P"), point=point,
    variables=variables, coords=solver_coord)
