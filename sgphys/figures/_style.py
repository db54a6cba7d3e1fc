"""Shared figure style and helpers for the analysis scripts (no physics here)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

SINGLE = 3.4   # inches: one column of Phys. Rev.
DOUBLE = 7.0   # inches: two columns

plt.rcParams.update({
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "figure.dpi": 150, "savefig.dpi": 200,
    "axes.spines.top": False, "axes.spines.right": False, "image.cmap": "viridis",
    "savefig.bbox": "tight",
})
COLORS = {"exact": "k", "tap": "C0", "paper": "C1", "rbp": "C2", "bp": "C4", "trained": "C3"}
LABELS = {"exact": "exact (ridge)", "tap": "AMP (TAP)", "paper": "AMP (paper variant)",
          "rbp": "r-BP", "bp": "full BP", "trained": "trained transformer"}


def reference_dir():
    """The paper's published numbers: ``$SGPHYS_REFERENCE`` if set, else the copy installed
    with sgphys (:mod:`sgphys.reference`)."""
    from .. import reference

    env = os.environ.get("SGPHYS_REFERENCE")
    path = Path(env) if env else reference.directory()
    return path if path.is_dir() else None


def load_reference(name):
    """One published array, e.g. ``load_reference("fig4/contrast.npy")``, or None (with a
    message) when an overriding ``$SGPHYS_REFERENCE`` folder lacks it."""
    d = reference_dir()
    if d is None or not (d / name).exists():
        print(f"reference data {name} not found in {d}; plotting without it")
        return None
    return np.load(d / name)


def save(fig, out, pdf=False):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    if pdf:
        fig.savefig(out.with_suffix(".pdf"))
    plt.close(fig)
    return out


def mean_sd_count(da, dim="seed"):
    """Mean and standard deviation over seeds ignoring NaN, and how many were finite."""
    vals = np.asarray(da.values if hasattr(da, "values") else da, dtype=float)
    axis = da.dims.index(dim)
    n = np.sum(np.isfinite(vals), axis=axis)
    with np.errstate(invalid="ignore"):
        mean = np.nansum(vals, axis=axis) / np.where(n > 0, n, np.nan)
        sd = np.sqrt(np.nansum((vals - np.expand_dims(mean, axis)) ** 2, axis=axis)
                     / np.where(n > 1, n - 1, np.nan))
    return mean, sd, n


def solver_error_mean(ds, solver, var="test_error"):
    """Mean over seeds of a solver's variable, counting converged runs only, and how many
    of the seeds converged at each point."""
    sub = ds.sel(solver=solver)
    vals = np.where(sub.converged.values == 1, sub[var].values, np.nan)
    n = np.isfinite(vals).sum(axis=-1)
    with np.errstate(invalid="ignore"):
        mean = np.nansum(vals, axis=-1) / np.where(n > 0, n, np.nan)
        sd = np.sqrt(np.nansum((vals - mean[..., None]) ** 2, axis=-1) / np.where(n > 1, n - 1, np.nan))
    return mean, sd, n


def script_main(module, root=None, argv=None):
    """Command line of one figure script: ``python analysis/figX.py [data.nc] [--out ...]``.

    ``module`` is a figure module of :mod:`sgphys.figures`; the default data file is
    ``<root>/data/<experiment>.nc`` and the default figure ``<root>/figures/<name>.png``,
    with ``root`` the working directory unless given.
    """
    import sgphys.io

    from . import experiment_of

    root = Path.cwd() if root is None else Path(root)
    name = module.__name__.rsplit(".", 1)[-1]
    p = argparse.ArgumentParser(description=(module.__doc__ or name).strip(),
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("data", nargs="?", default=str(root / "data" / f"{experiment_of(name)}.nc"),
                   help="netCDF file")
    p.add_argument("--out", default=str(root / "figures" / f"{name}.png"), help="PNG path")
    p.add_argument("--reference", action="store_true", help="overlay the paper's numbers")
    p.add_argument("--pdf", action="store_true", help="also write a PDF")
    a = p.parse_args(argv)
    path = module.plot(sgphys.io.load(a.data), a.out, reference=a.reference, pdf=a.pdf)
    print(path)
    return path
