"""The paper's figures, drawn from the netCDF files of the experiments.

One module per figure, each with ``plot(ds, out, reference=False, pdf=False) -> Path``: it
takes the experiment's Dataset (:func:`sgphys.io.load`), draws headless with matplotlib's Agg
backend, writes a PNG (and a PDF if asked) and returns the path. ``reference=True`` overlays
the paper's published numbers (:mod:`sgphys.reference`) where the data's parameters match.
The figure code computes no physics: everything it draws is in the file, apart from the
closed-form theory curves of :mod:`sgphys.theory` at the file's parameters (and
:mod:`~sgphys.figures.figT0_theory_phase`, the theory alone).

The scripts in the repository's ``analysis/`` folder are short command lines around these
modules, to copy and adapt; ``sgphys plot EXPERIMENT FILE`` calls the same code.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["FIGURES", "figure_module", "experiment_of", "plot"]

#: experiment -> figure module drawing it
FIGURES = {
    "couplings": "fig1_couplings", "weights": "fig2_weights", "landscape": "fig3_landscape",
    "phase_diagram": "fig4_phase_diagram", "prompt_length": "fig4b_prompt_length",
    "separated": "figS1_separated", "coupling_kl": "figS2_coupling_kl",
    "resampled": "figS3_resampled", "correlated": "figS4_correlated",
    "hessian": "figS5_hessian", "architectures": "figS6_architectures",
    "finite_size": "figT1_finite_size", "task_pool": "figT2_task_pool",
    "quantized": "figQ1_quantized", "thermodynamics": "figTh_thermodynamics",
}


def figure_module(experiment: str) -> ModuleType:
    """The module drawing ``experiment``'s figure (ValueError for an unknown name)."""
    if experiment not in FIGURES:
        raise ValueError(f"experiment={experiment!r} has no figure; known: {', '.join(FIGURES)}")
    return importlib.import_module(f".{FIGURES[experiment]}", __name__)


def experiment_of(figure: str) -> str:
    """The experiment whose file a figure module draws (``"fig2_weights"`` -> ``"weights"``)."""
    for experiment, name in FIGURES.items():
        if name == figure:
            return experiment
    raise ValueError(f"figure={figure!r} is not one of {', '.join(FIGURES.values())}")


def plot(experiment: str, ds, out, reference: bool = False, pdf: bool = False):
    """Draw ``experiment``'s figure from its Dataset ``ds`` into ``out``; returns the path."""
    return figure_module(experiment).plot(ds, out, reference=reference, pdf=pdf)
