"""The loss Hessian ``Q + lam I`` (paper appendix E, Fig. S5): spectrum, spectral density and
zero modes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._summary import SummaryRepr
from .._validate import (_as_real, _short, check_array, check_choice, check_memory,
                         check_positive, check_positive_int)
from ..spin import check_model

__all__ = ["hessian_spectrum", "SpectralDensity", "spectral_density", "zero_mode_fraction"]


def hessian_spectrum(model) -> np.ndarray:
    """Eigenvalues (ascending, n_spins of them) of the loss Hessian ``Q + lam I``.

    The Hessian of L is constant in W (appendix E). Computed by ``eigvalsh`` on Q directly.
    """
    model = check_model(model)
    return np.linalg.eigvalsh(model.Q) + model.lam


@dataclass(repr=False)
class SpectralDensity(SummaryRepr):
    """Histogram estimate of an eigenvalue density: ``density`` integrates to 1."""

    centres: np.ndarray
    density: np.ndarray
    edges: np.ndarray


def spectral_density(eigenvalues, bins=50, range=None) -> SpectralDensity:
    """Eigenvalue spectral density as a normalised histogram.

    Parameters
    ----------
    eigenvalues : array_like, shape (n,) or (n_samples, n)
        Pooled over all rows.
    bins : int or array_like of edges
    range : (float, float), optional
    """
    eig = check_array("eigenvalues", eigenvalues)
    if eig.ndim not in (1, 2):
        raise ValueError(f"eigenvalues must have shape (n,) or (n_samples, n), got {eig.shape}")
    eig = eig.ravel()
    if eig.size == 0:
        raise ValueError("eigenvalues must not be empty")
    if np.ndim(bins) == 0:
        bins = check_positive_int("bins", bins)
        check_memory("bins", bins, 8 * 4 * bins, "the histogram")
    else:
        bins = check_array("bins", bins, ndim=1)
        if bins.size < 2 or np.any(np.diff(bins) <= 0):
            raise ValueError(f"bins must be increasing edges (at least 2), got {_short(bins)}")
    if range is not None:
        try:
            lo, hi = range
        except (TypeError, ValueError):
            raise ValueError(f"range must be a pair (lo, hi), got {_short(range)}") from None
        lo, hi = _as_real("range[0]", lo), _as_real("range[1]", hi)
        if not lo < hi:
            raise ValueError(f"range must have lo < hi, got {_short(range)}")
        range = (lo, hi)
    # huge values: bin them divided by their largest magnitude, so that the bin widths
    # and the density do not overflow (the edges are scaled back)
    lo, hi = range if range is not None else (float(eig.min()), float(eig.max()))
    scale = max(abs(lo), abs(hi))
    scale = scale if scale > 1e100 else 1.0
    sbins = bins if np.ndim(bins) == 0 else bins / scale
    density, edges = np.histogram(eig / scale, bins=sbins, range=(lo / scale, hi / scale),
                                  density=True)
    with np.errstate(over="ignore", invalid="ignore"):
        density = density / scale
        edges = edges * scale
    if not (np.all(np.isfinite(density)) and np.all(np.isfinite(edges))):
        raise ValueError("eigenvalues: the density or the bin edges overflow or underflow "
                         f"(range {lo!r} to {hi!r}); rescale the eigenvalues")
    return SpectralDensity(0.5 * edges[1:] + 0.5 * edges[:-1], density, edges)


def zero_mode_fraction(model, rtol=1e-10, count="active", atol=None) -> float:
    """Fraction of zero modes of the Hessian (eigenvalues of Q; lam ignored).

    An eigenvalue is zero when ``|e| < atol`` if ``atol`` is given (the paper's inset used
    1e-5), else ``|e| < rtol * max(e)``. ``count="active"`` divides by n_spins;
    ``count="all"`` adds the D+1 inert weights of the last column (zero modes too) and
    divides by (D+1)^2, as the paper's Fig. S5 inset does (floor 1/(D+1)). For generic data
    the number of zero modes of Q is ``max(0, n_spins - P)``.
    """
    model = check_model(model)
    rtol = check_positive("rtol", rtol)
    count = check_choice("count", count, ("active", "all"))
    eig = np.linalg.eigvalsh(model.Q)
    tol = check_positive("atol", atol) if atol is not None else rtol * max(float(eig[-1]), 0.0)
    zeros = int(np.sum(np.abs(eig) <= tol))
    if count == "active":
        return zeros / model.n_spins
    return (zeros + model.D + 1) / (model.D + 1) ** 2
