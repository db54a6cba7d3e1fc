"""Fig. S6: test error of different attention architectures against prompt length, with
the spin solvers' prediction."""

import numpy as np

from ..spin import SpinModel
from ..tasks import sample_tasks
from ..training import train
from ._base import Experiment, Var
from ._common import run_solvers, solver_coord, solver_vars

ARCHS = ["sla", "fla", "sa", "tf", "mhla"]
QUICK = {"D": 3, "N": [10, 20, 40], "P": 500, "P_test": 500, "archs": ARCHS, "heads": 2,
         "lr": 1e-2, "epochs": 150, "batch_size": 100, "lam_train": 0.0, "lam": 0.01,
         "beta": 100.0, "damping": "auto", "seeds": 1, "solvers": ["exact", "tap"], "seed": 0}
PAPER = {**QUICK, "D": 20, "N": [10, 25, 50, 100, 150, 200], "P": 10000, "P_test": 1000,
         "heads": 4, "lr": 1e-3, "epochs": 500, "batch_size": 1000, "seeds": 5,
         "solvers": ["exact", "tap", "paper"]}


def point(params, values, streams):

    D, N = params["D"], values["N"]
    tasks = sample_tasks(D, N, params["P"], seed=streams["train"])
    test = sample_tasks(D, N, params["P_test"], seed=streams["test"])
    out = run_solvers(SpinModel.from_tasks(tasks, params["lam"]), params, test=test)
    errs = []
    for i, arch in enumerate(params["archs"]):
        r = train(tasks, arch=arch, lam=params["lam_train"], lr=params["lr"],
                         epochs=params["epochs"], batch_size=params["batch_size"],
                         seed=streams["init"].spawn(len(params["archs"]))[i], test=test,
                         heads=params["heads"])
        errs.append(r.history.test_loss.values[-1])
    out["test_error_trained"] = np.array(errs)
    return out


def variables(params):
    v = solver_vars(test=True)
    v["test_error_trained"] = Var(("arch",), "test error of the trained architecture")
    return v


def coords(params):
    return {**solver_coord(params),
            "arch": (list(params["archs"]), "architecture (sla, fla, sa, tf, mhla)", "1")}


EXPERIMENT = Experiment(
    name="architectures", title="Generalisation of different attention architectures (Fig. S6)",
    figure="Fig. S6", presets={"quick": QUICK, "paper": PAPER}, sweep=("N",), point=point,
    variables=variables, coords=coords)
