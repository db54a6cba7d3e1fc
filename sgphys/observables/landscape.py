"""The energy landscape (paper Fig. 3): sampled energies, a t-SNE embedding and an RBF-interpolated
surface."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._summary import SummaryRepr
from .._validate import as_generator, check_memory, check_positive, check_positive_int
from ..spin import check_model

__all__ = ["Landscape", "energy_landscape"]



@dataclass(repr=False)
class Landscape(SummaryRepr):
    """Sampled energies, their 2-D t-SNE embedding and an interpolated surface (Fig. 3)."""

    energy: np.ndarray      # (n_samples,)
    embedding: np.ndarray   # (n_samples, 2)
    grid_x: np.ndarray      # (grid,)
    grid_y: np.ndarray      # (grid,)
    surface: np.ndarray     # (grid, grid), surface[iy, ix]


def energy_landscape(model, n_samples=1000, seed=0, grid=80, perplexity=30.0) -> Landscape:
    """Energy landscape of paper Fig. 3.

    Samples ``n_samples`` spin vectors with entries ``N(0, 1)``, computes E (Eq. 5), embeds
    the samples in 2-D by t-SNE (scikit-learn, optional extra ``landscape``) and
    interpolates E on a ``grid`` x ``grid`` mesh by radial basis functions with the linear
    kernel (scipy ``RBFInterpolator``).
    """
    from scipy.interpolate import RBFInterpolator

    try:
        from sklearn.manifold import TSNE
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("energy_landscape needs scikit-learn: pip install 'sgphys[landscape]'") from exc
    model = check_model(model)
    n_samples = check_positive_int("n_samples", n_samples)
    if n_samples < 5:
        raise ValueError(f"n_samples must be at least 5, got {n_samples}")
    grid = check_positive_int("grid", grid)
    perplexity = check_positive("perplexity", perplexity)
    # samples, the RBF system (n_samples^2) and the surface with its evaluation points
    check_memory("n_samples", n_samples, 8 * (n_samples * (model.n_spins + 4)
                                              + 2 * n_samples ** 2),
                 "the samples and the RBF interpolation system")
    check_memory("grid", grid, 8 * 6 * grid * grid, "the interpolated surface")
    rng = as_generator(seed)
    S = rng.standard_normal((n_samples, model.n_spins))
    E = model.energy(S)
    state = int(rng.integers(0, 2**31 - 1))
    tsne = TSNE(n_components=2, perplexity=min(perplexity, (n_samples - 1) / 3.0),
                init="pca", random_state=state)
    Y = tsne.fit_transform(S)
    gx = np.linspace(Y[:, 0].min(), Y[:, 0].max(), grid)
    gy = np.linspace(Y[:, 1].min(), Y[:, 1].max(), grid)
    XX, YY = np.meshgrid(gx, gy)
    surf = RBFInterpolator(Y, E, kernel="linear")(np.column_stack([XX.ravel(), YY.ravel()]))
    return Landscape(E, Y, gx, gy, surf.reshape(grid, grid))
