"""The types every experiment module builds on: :class:`Experiment` and :class:`Var`.

Kept apart from the package's ``__init__`` so that experiment modules import them without
importing the registry back (no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["Experiment", "Var", "DIM_LABELS"]

#: labels of the swept dimensions
DIM_LABELS = {
    "D": ("token dimension D", "1"),
    "N": ("prompt length N", "1"),
    "P": ("task diversity P (number of training sequences)", "1"),
    "corr": ("token correlation c", "1"),
    "alpha": ("data density alpha = P / D^2", "1"),
    "seed": ("seed index", "1"),
    "n_tasks": ("number of distinct pretraining tasks K (task pool size)", "1"),
}


@dataclass(frozen=True)
class Var:
    """A stored variable: extra dims after (swept dims, seed), labels and kind
    (``"f"`` float64, ``"i"`` int64, ``"s"`` string)."""

    dims: tuple
    long_name: str
    units: str = "1"
    kind: str = "f"


@dataclass
class Experiment:
    """A registered experiment: presets, swept dims, the pure point function
    ``point(params, values, streams) -> dict`` and the stored variables."""

    name: str
    title: str
    figure: str
    presets: dict
    sweep: tuple
    point: Callable
    variables: Callable
    coords: Callable = field(default=lambda params: {})
    finalize: Callable | None = None
    #: list parameters that one point computes whole (an extra dim of its variables, e.g.
    #: the P values of a phase-diagram series sharing one task stream), checked like swept
    #: ones; their coordinates come from ``coords``
    inner: tuple = ()
    #: whether each point builds a spin model of its D (n_spins = D(D+1) spins, ~3 n_spins^2
    #: doubles of couplings): :func:`sgphys.experiments.resolve_params` refuses a D whose
    #: model does not fit the memory limit before anything is allocated
    spin_model: bool = True
    #: bytes one point holds at most (``params -> int``), for experiments whose points are
    #: not one dense spin model (``spin_model=False``): a process pool of ``workers`` runs
    #: that many points at once, and :func:`sgphys.run_experiment` refuses a pool whose
    #: points do not fit the memory limit together. None: no such check
    point_bytes: Callable | None = None
    #: presets that ``sgphys reproduce --preset KEY`` runs besides KEY, each into
    #: ``NAME_PRESET.nc`` with its figure ``FIGURE_PRESET.png`` (e.g. ``{"paper":
    #: ("large",)}``: the paper-level reproduction includes the matrix-free sizes, while
    #: ``sgphys run NAME --preset paper`` stays the paper's grid)
    reproduce_with: dict = field(default_factory=dict)
