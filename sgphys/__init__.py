"""sgphys: statistical physics of the spin-glass model of in-context learning.

Reproduces and extends Li, Bai & Huang, "Spin glass model of in-context learning",
Phys. Rev. E (2025), arXiv:2408.02288: a one-layer linear-attention transformer trained on
in-context linear regression is mapped onto a spin glass with real-valued spins whose
couplings and fields come from the data, and solved with the cavity method.

Public names are imported lazily on first use, so ``import sgphys`` loads nothing heavy and
compiles nothing, and it sets nothing in the environment: the solvers' speed does not
depend on whether numpy or sgphys is imported first (OpenBLAS's spinning threads are stopped
before the parallel kernels, :mod:`sgphys._blas`).

Glossary: D token dimension, N prompt length, P task diversity (number of sequences),
lam weight decay, beta inverse temperature, s spins = W[:, :D] flattened row-major.
"""

from __future__ import annotations

import importlib

from ._version import __version__

# public name -> submodule that defines it (docs/api.rst, section API)
_EXPORTS = {
    "Tasks": "tasks",
    "sample_tasks": "tasks",
    "features": "tasks",
    "SpinModel": "spin",
    "FactoredModel": "factored",
    "prefix_models": "spin",
    "predict_merged": "attention",
    "Marginals": "solvers",
    "solve_exact": "solvers",
    "solve_amp": "solvers",
    "solve_rbp": "solvers",
    "solve_bp": "solvers",
    "warmup": "solvers",
    "train": "training",
    "predict": "training",
    "contrast_ratio": "observables",
    "test_error": "observables",
    "theory_test_error": "theory",
    "hessian_spectrum": "observables",
    "spectral_density": "observables",
    "zero_mode_fraction": "observables",
    "block_statistics": "observables",
    "fit_blocks": "observables",
    "resample_model": "observables",
    "kl_divergence": "observables",
    "energy_landscape": "observables",
    "Gaussian": "priors",
    "Laplace": "priors",
    "Binary": "priors",
    "Ternary": "priors",
    "solve_enumerate": "discrete",
    "sample_gibbs": "discrete",
    "find_states": "states",
    "run_experiment": "experiments",
    "list_experiments": "experiments",
}
_SUBMODULES = {"tasks", "spin", "attention", "solvers", "kernels", "training", "observables",
               "experiments", "sweep", "io", "cli", "figures", "reference", "theory", "registry", "priors", "baselines",
               "discrete", "states", "thermo"}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'sgphys' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES)
