"""Fig. 3: energy landscape (t-SNE embedding of random weights, RBF-interpolated energy)."""

import numpy as np

from ..observables import energy_landscape
from ..solvers import solve_exact
from ..spin import SpinModel
from ..tasks import sample_tasks
from ._base import Experiment, Var

QUICK = {"D": 4, "N": 50, "P": [10, 1000], "lam": 0.01, "n_samples": 200, "grid": 40,
         "seeds": 1, "seed": 0}
PAPER = {**QUICK, "D": 10, "n_samples": 1000, "grid": 100}


def point(params, values, streams):

    model = SpinModel.from_tasks(
        sample_tasks(params["D"], params["N"], values["P"], seed=streams["train"]),
        params["lam"])
    land = energy_landscape(model, params["n_samples"], seed=streams["init"],
                                   grid=params["grid"])
    exact = solve_exact(model, 1.0)
    return {"energy": land.energy, "embedding": land.embedding, "grid_x": land.grid_x,
            "grid_y": land.grid_y, "surface": land.surface,
            "ground_energy": model.energy(exact.mean)}


def variables(params):
    return {
        "energy": Var(("sample",), "energy E(s) of the sampled weights (Eq. 5)"),
        "embedding": Var(("sample", "xy"), "t-SNE embedding of the sampled weights"),
        "grid_x": Var(("gx",), "interpolation grid, first t-SNE coordinate"),
        "grid_y": Var(("gy",), "interpolation grid, second t-SNE coordinate"),
        "surface": Var(("gy", "gx"), "energy interpolated by linear radial basis functions"),
        "ground_energy": Var((), "minimum energy (at the ridge solution)"),
    }


def coords(params):
    g = np.arange(params["grid"])
    return {"sample": (np.arange(params["n_samples"]), "sample index", "1"),
            "xy": (["x", "y"], "embedding coordinate", "1"),
            "gx": (g, "grid index (x)", "1"), "gy": (g, "grid index (y)", "1")}


EXPERIMENT = Experiment(
    name="landscape", title="Energy landscape of the spin glass (Fig. 3)", figure="Fig. 3",
    presets={"quick": QUICK, "paper": PAPER}, sweep=("P",), point=point, variables=variables,
    coords=coords)
