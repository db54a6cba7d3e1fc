"""Fig. S3: AMP on couplings and fields resampled from fitted block distributions,
compared with AMP on the data-built model."""

import numpy as np

from . import Experiment, Var
from ._common import matrix_coords, run_solvers, solver_coord, solver_vars

QUICK = {"D": 5, "N": 100, "P": 500, "lam": 1.0, "beta": 100.0, "fit": "gaussian",
         "damping": "auto", "seeds": 2, "solvers": ["exact", "tap"], "seed": 0}
PAPER = {**QUICK, "D": 10, "P": 1000, "seeds": 5, "solvers": ["exact", "tap", "paper"]}


def point(params, values, streams):
    import sgphys

    D = params["D"]
    data = sgphys.SpinModel.from_tasks(
        sgphys.sample_tasks(D, params["N"], params["P"], seed=streams["train"]), params["lam"])
    fit = sgphys.fit_blocks(sgphys.block_statistics(data), kind=params["fit"])
    model = sgphys.resample_model(data, fit, seed=streams["resample"])
    out = run_solvers(model, params, weights=True)
    ref = run_solvers(data, params, weights=True)
    out["mean_data"] = ref["mean"]
    out["J_resampled"] = model.J
    out["h_resampled"] = model.h
    return out


def variables(params):
    v = solver_vars(weights=True)
    v["mean_data"] = Var(("solver", "row", "col"), "mean weight matrix of the data-built model")
    v["J_resampled"] = Var(("spin_i", "spin_j"), "resampled couplings J")
    v["h_resampled"] = Var(("spin_i",), "resampled fields h")
    return v


def coords(params):
    n = params["D"] * (params["D"] + 1)
    return {**solver_coord(params), **matrix_coords(params["D"]),
            "spin_i": (np.arange(n), "spin index k = i*D + j", "1"),
            "spin_j": (np.arange(n), "spin index l", "1")}


EXPERIMENT = Experiment(
    name="resampled", title="AMP on couplings resampled from fitted distributions (Fig. S3)",
    figure="Fig. S3", presets={"quick": QUICK, "paper": PAPER}, sweep=(), point=point,
    variables=variables, coords=coords)
