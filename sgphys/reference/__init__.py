"""Numbers from the paper's own figures, installed with sgphys (see README.md here).

Arrays published by the authors with the paper (Li, Bai & Huang, *Spin glass model of
in-context learning*, Phys. Rev. E 2025, arXiv:2408.02288) in their public repository
``PMI-SYSU/spin-glass-model-of-in-context-learning`` (MIT licence). They are what the tests
and the ``--reference`` overlays of the figures compare against.

    >>> from sgphys import reference
    >>> reference.load("fig4/contrast.npy").shape
    (50, 50)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["directory", "load", "names"]


def directory() -> Path:
    """The folder holding the arrays (inside the installed package)."""
    return Path(__file__).resolve().parent


def names() -> list[str]:
    """Every array, as ``"fig4/contrast.npy"``-style names relative to :func:`directory`."""
    root = directory()
    return sorted(str(p.relative_to(root)) for p in root.glob("*/*.npy"))


def load(name: str) -> np.ndarray:
    """One array by name, e.g. ``load("fig2/m.npy")``; ValueError for an unknown name."""
    if name not in names():
        raise ValueError(f"name={name!r} is not a reference array; known: {', '.join(names())}")
    return np.load(directory() / name)
