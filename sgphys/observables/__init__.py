"""Observables (docs/model.rst, section Observables), one module per topic.

- :mod:`~sgphys.observables.weights`: contrast ratio and test error of a weight matrix;
- :mod:`~sgphys.observables.hessian`: Hessian spectrum, spectral density, zero modes;
- :mod:`~sgphys.observables.couplings`: coupling and field statistics per block
  (streaming histograms and moments), Gaussian and mixture fits, fitted-distribution
  resampling and KL divergences;
- :mod:`~sgphys.observables.landscape`: the energy landscape (t-SNE embedding and
  RBF-interpolated surface).

Every public name is importable from here as before the split
(``from sgphys.observables import BlockStatistics``); the large-P theory curve
``theory_test_error`` lives in :mod:`sgphys.theory` and is re-exported.
"""

from __future__ import annotations

from ..theory import theory_test_error
from .couplings import (H1_SPLIT, BlockFit, BlockStatistics, block_statistics, block_values,
                        fit_blocks, kl_divergence, resample_model, symmetric_edges)
from .hessian import SpectralDensity, hessian_spectrum, spectral_density, zero_mode_fraction
from .landscape import Landscape, energy_landscape
from .weights import contrast_ratio, test_error, theory_w11_scale

__all__ = ["contrast_ratio", "test_error", "theory_test_error", "theory_w11_scale",
           "hessian_spectrum", "spectral_density", "zero_mode_fraction", "SpectralDensity",
           "BlockStatistics", "block_statistics", "BlockFit", "fit_blocks", "resample_model",
           "kl_divergence", "Landscape", "energy_landscape", "block_values", "H1_SPLIT",
           "symmetric_edges"]
