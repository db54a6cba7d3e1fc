"""Fig. 4b: test error against prompt length N for the spin solvers, the trained
transformer and the large-P theory (D+1)/(N+D+1)."""

import numpy as np

from ..observables import test_error, theory_test_error
from ..spin import SpinModel
from ..tasks import sample_tasks
from ..training import train
from ._base import Experiment, Var
from ._common import run_solvers, solver_coord, solver_vars, with_paper_solver

QUICK = {"D": 5, "N": [10, 20, 40, 80], "P": 2000, "P_test": 1000, "seeds": 2, "lam": 0.01,
         "lam_train": 0.005, "lr": 1e-2, "epochs": 300, "beta": 100.0, "damping": "auto",
         "solvers": ["exact", "tap"], "seed": 0}
PAPER = with_paper_solver({**QUICK, "D": 20, "N": np.linspace(10, 200, 20, dtype=int).tolist(),
                           "P": 10000, "seeds": 50, "lr": 1e-3, "epochs": 5000})


def point(params, values, streams):

    D, N = params["D"], values["N"]
    tasks = sample_tasks(D, N, params["P"], seed=streams["train"])
    test = sample_tasks(D, N, params["P_test"], seed=streams["test"])
    out = run_solvers(SpinModel.from_tasks(tasks, params["lam"]), params, test=test)
    trained = train(tasks, arch="sla", optimizer="adam", lam=params["lam_train"],
                           lr=params["lr"], epochs=params["epochs"], seed=streams["init"])
    out["test_error_trained"] = test_error(trained.W, test)
    return out


def variables(params):
    v = solver_vars(test=True)
    v["test_error_trained"] = Var((), "test error of the trained merged linear attention (full-batch Adam)")
    return v


def finalize(ds, params):

    ds["theory_test_error"] = ("N", theory_test_error(np.asarray(ds.N.values), params["D"]),
                               {"long_name": "large-P, lam -> 0 test error (D+1)/(N+D+1)",
                                "units": "1"})
    return ds


EXPERIMENT = Experiment(
    name="prompt_length", title="Test error against prompt length (Fig. 4b)", figure="Fig. 4b",
    presets={"quick": QUICK, "paper": PAPER}, sweep=("N",), point=point, variables=variables,
    coords=solver_coord, finalize=finalize)
