"""Fig. S5: Hessian spectral density and the fraction of zero modes over (D, P)."""

import numpy as np

from ..observables import hessian_spectrum, zero_mode_fraction
from ..spin import SpinModel
from ..tasks import sample_tasks
from ._base import Experiment, Var

QUICK = {"D": [5, 8], "N": 100, "P": [10, 30, 60, 100], "seeds": 2, "lam": 0.0,
         "zero_atol": 1e-5, "log10_min": -6.0, "log10_max": 3.0, "bins": 45, "seed": 0}
PAPER = {**QUICK, "D": np.linspace(10, 40, 7, dtype=int).tolist(),
         "P": sorted(set(np.linspace(25, 2000, 80, dtype=int).tolist()) | {100, 500, 1500}),
         "seeds": 10}


def point(params, values, streams):

    D, P = values["D"], values["P"]
    model = SpinModel.from_tasks(
        sample_tasks(D, params["N"], P, seed=streams["train"]), params["lam"])
    eig = hessian_spectrum(model)
    n_max = max(params["D"]) * (max(params["D"]) + 1)
    padded = np.full(n_max, np.nan)
    padded[:eig.size] = eig
    edges = np.linspace(params["log10_min"], params["log10_max"], params["bins"] + 1)
    positive = eig[eig > 10 ** params["log10_min"]]
    counts = np.histogram(np.log10(positive), bins=edges)[0]
    return {
        "eigenvalues": padded,
        "spectral_density": counts / (eig.size * np.diff(edges)),
        "zero_mode_fraction": zero_mode_fraction(model, count="all", atol=params["zero_atol"]),
        "zero_mode_fraction_active": zero_mode_fraction(model, count="active"),
    }


def variables(params):
    return {
        "eigenvalues": Var(("eigen",), "Hessian eigenvalues (ascending; NaN beyond n_spins)"),
        "spectral_density": Var(("bin",), "density of log10 Hessian eigenvalues per unit log10 "
                                "(fraction of all n_spins eigenvalues; zero modes excluded)"),
        "zero_mode_fraction": Var((), "fraction of zero modes over all (D+1)^2 weights "
                                  "(|eigenvalue| < zero_atol, as the paper's inset)"),
        "zero_mode_fraction_active": Var((), "fraction of zero modes over the n_spins active "
                                         "weights (relative tolerance 1e-10)"),
    }


def coords(params):
    edges = np.linspace(params["log10_min"], params["log10_max"], params["bins"] + 1)
    n_max = max(params["D"]) * (max(params["D"]) + 1)
    return {"eigen": (np.arange(n_max), "eigenvalue index", "1"),
            "bin": (0.5 * (edges[1:] + edges[:-1]), "log10 of the Hessian eigenvalue (bin centre)", "1")}


EXPERIMENT = Experiment(
    name="hessian", title="Hessian spectral density and zero modes (Fig. S5)", figure="Fig. S5",
    presets={"quick": QUICK, "paper": PAPER}, sweep=("D", "P"), point=point,
    variables=variables, coords=coords)
