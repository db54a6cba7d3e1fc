"""Fig. 2: learning curves and trained weights of the transformer at small and large task
diversity, with the AMP mean and variance matrices."""

import numpy as np

from ..spin import SpinModel
from ..tasks import sample_tasks
from ..training import train
from ._base import Experiment, Var
from ._common import matrix_coords, run_solvers, solver_coord, solver_vars

QUICK = {"D": 5, "N": 50, "P": [10, 300, 1500], "P_test": 200, "seeds": 1, "lr": 1e-2,
         "epochs": 300, "lam_train": 0.0, "lam": 0.01, "beta": 100.0, "damping": "auto",
         "solvers": ["exact", "tap"], "seed": 0}
PAPER = {**QUICK, "D": 10, "N": 100, "P": [10, 1000, 5000], "seeds": 3,
         "solvers": ["exact", "tap", "paper"]}


def point(params, values, streams):

    D = params["D"]
    tasks = sample_tasks(D, params["N"], values["P"], seed=streams["train"])
    test = sample_tasks(D, params["N"], params["P_test"], seed=streams["test"])
    r = train(tasks, lam=params["lam_train"], lr=params["lr"], epochs=params["epochs"],
                     seed=streams["init"], test=test)
    out = run_solvers(SpinModel.from_tasks(tasks, params["lam"]), params, test=test,
                      weights=True)
    out["train_loss"] = r.history.train_loss.values
    out["test_loss"] = r.history.test_loss.values
    out["W_trained"] = r.W
    return out


def variables(params):
    v = solver_vars(test=True, weights=True)
    v["train_loss"] = Var(("epoch",), "training loss L of the trained transformer")
    v["test_loss"] = Var(("epoch",), "test error of the trained transformer")
    v["W_trained"] = Var(("row", "col"), "trained merged weight matrix W")
    return v


def coords(params):
    return {**solver_coord(params), **matrix_coords(params["D"]),
            "epoch": (np.arange(1, params["epochs"] + 1), "training epoch", "1")}


EXPERIMENT = Experiment(
    name="weights", title="Learning curves, trained and inferred weights (Fig. 2)", figure="Fig. 2",
    presets={"quick": QUICK, "paper": PAPER}, sweep=("P",), point=point, variables=variables,
    coords=coords)
