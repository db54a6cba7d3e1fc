"""Fig. S1: merged vs separated (W = W_K^T W_Q) training over the data density
alpha = P / D^2 (double descent in the ridgeless limit)."""

import numpy as np

from ..tasks import sample_tasks
from ..training import train
from ._base import Experiment, Var
from ._common import matrix_coords

SCHEMES = ("merged", "separated")
QUICK = {"D": 4, "N": 20, "alpha": [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 4.0, 8.0],
         "P_test": 500, "seeds": 4, "lr": 1e-2, "epochs": 1000, "lam_train": 0.0, "seed": 0}
PAPER = {**QUICK, "D": 20, "N": 100,
         "alpha": [0.1, 0.25, 0.5, 0.75, 1.0, 1.05, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0],
         "P_test": 1000, "seeds": 50, "epochs": 3000}


def point(params, values, streams):

    D = params["D"]
    P = max(1, int(round(values["alpha"] * D * D)))
    tasks = sample_tasks(D, params["N"], P, seed=streams["train"])
    test = sample_tasks(D, params["N"], params["P_test"], seed=streams["test"])
    curves_tr, curves_te, Ws, errs = [], [], [], []
    for scheme in SCHEMES:
        r = train(tasks, scheme=scheme, lam=params["lam_train"], lr=params["lr"],
                         epochs=params["epochs"], seed=streams["init"], test=test)
        curves_tr.append(r.history.train_loss.values)
        curves_te.append(r.history.test_loss.values)
        Ws.append(r.W)
        errs.append(r.history.test_loss.values[-1])
    return {"train_loss": np.array(curves_tr), "test_loss": np.array(curves_te),
            "test_error_trained": np.array(errs), "W_trained": np.array(Ws), "P_used": P}


def variables(params):
    return {"train_loss": Var(("scheme", "epoch"), "training loss L"),
            "test_loss": Var(("scheme", "epoch"), "test error during training"),
            "test_error_trained": Var(("scheme",), "final test error of the trained transformer"),
            "W_trained": Var(("scheme", "row", "col"), "trained (merged or W_K^T W_Q) weights"),
            "P_used": Var((), "number of training sequences round(alpha D^2)", "1", "i")}


def coords(params):
    return {"scheme": (list(SCHEMES), "training scheme (merged W, or W_K^T W_Q)", "1"),
            "epoch": (np.arange(1, params["epochs"] + 1), "training epoch", "1"),
            **matrix_coords(params["D"])}


EXPERIMENT = Experiment(
    name="separated", title="Merged vs separated key-query training (Fig. S1)", figure="Fig. S1",
    presets={"quick": QUICK, "paper": PAPER}, sweep=("alpha",), point=point,
    variables=variables, coords=coords)
