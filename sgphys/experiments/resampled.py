"""Fig. S3: AMP on couplings and fields resampled from fitted block distributions,
compared with AMP on the data-built model.

Two resamplings share the couplings: one distribution per block (docs/model.rst, section
Observables; h1 then loses
where its large values sit), and h1 split into its W11-diagonal and other fields, each with
its own fit (``*_split`` variables): the structure the paper reports AMP recovering."""

import numpy as np

from ..observables import H1_SPLIT, block_statistics, fit_blocks, resample_model
from ..spin import BLOCKS, SpinModel
from ..tasks import sample_tasks
from ._base import Experiment, Var
from ._common import matrix_coords, run_solvers, solver_coord, solver_vars

QUICK = {"D": 5, "N": 100, "P": 500, "lam": 1.0, "beta": 100.0, "fit": "gaussian",
         "damping": "auto", "seeds": 2, "solvers": ["exact", "tap"], "seed": 0}
PAPER = {**QUICK, "D": 10, "P": 1000, "seeds": 5, "solvers": ["exact", "tap", "paper"]}


def point(params, values, streams):

    D = params["D"]
    data = SpinModel.from_tasks(
        sample_tasks(D, params["N"], params["P"], seed=streams["train"]), params["lam"])
    stats = block_statistics(data, blocks=BLOCKS + H1_SPLIT)
    fit = fit_blocks(stats, kind=params["fit"])
    # the same stream for both: couplings are drawn first, so they are identical
    model = resample_model(data, fit, seed=streams["resample"])
    split = resample_model(data, fit, seed=streams["resample"], split_h1=True)
    out = run_solvers(model, params, weights=True)
    ref = run_solvers(data, params, weights=True)
    out["mean_data"] = ref["mean"]
    out["J_resampled"] = model.J
    out["h_resampled"] = model.h
    res = run_solvers(split, params, weights=True)
    for k in ("mean", "var", "converged", "contrast_ratio_w11"):
        out[f"{k}_split"] = res[k]
    out["h_resampled_split"] = split.h
    return out


def variables(params):
    v = solver_vars(weights=True)
    v["mean_data"] = Var(("solver", "row", "col"), "mean weight matrix of the data-built model")
    v["J_resampled"] = Var(("spin_i", "spin_j"), "resampled couplings J")
    v["h_resampled"] = Var(("spin_i",), "resampled fields h")
    v["h_resampled_split"] = Var(("spin_i",), "resampled fields h, W11-diagonal fields drawn "
                                 "from their own fit")
    v["mean_split"] = Var(("solver", "row", "col"), "marginal mean weight matrix, h1 split "
                          "resampling")
    v["var_split"] = Var(("solver", "row", "col"), "marginal variance matrix, h1 split "
                         "resampling")
    v["converged_split"] = Var(("solver",), "solver converged (1) or not (0), h1 split "
                               "resampling", "1", "i")
    v["contrast_ratio_w11_split"] = Var(("solver",), "contrast ratio of the mean W11 with I_D, "
                                        "h1 split resampling")
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
