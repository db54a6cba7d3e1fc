"""Model-building kernels: the couplings of a spin model from accumulated moments
(:func:`sgphys.spin.prefix_models`), and the test errors of several weight vectors in one
pass (:func:`sgphys.test_error` of a stack).

:func:`mirror_scaled` has no fastmath: it gives the bits of its NumPy expression.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _cache  # noqa: F401  (first: numba's cache locator for the kernels)

#: tile edge of the blocked transpose (two 64 x 64 tiles of doubles fit in L1)
TILE = 64


@njit(cache=True)
def mirror_scaled(L, P, Q):
    """``Q = L / P`` from the lower triangle of ``L`` (``i >= j``; the strict upper part is
    not read), mirrored, by tiles (C order). Exactly symmetric by construction. Returns
    False if an entry of ``Q`` is not finite."""
    n = L.shape[0]
    finite = True
    for i0 in range(0, n, TILE):
        i1 = min(n, i0 + TILE)
        for j0 in range(0, i0 + 1, TILE):
            j1 = min(n, j0 + TILE)
            for i in range(i0, i1):
                for j in range(j0, min(j1, i + 1)):
                    q = L[i, j] / P
                    if not np.isfinite(q):
                        finite = False
                    Q[i, j] = q
                    Q[j, i] = q
    return finite


@njit(cache=True, fastmath={"reassoc", "contract"}, error_model="numpy")
def squared_residuals(H, y, S, out):
    """``out[c] += sum_p (y_p - H_p . S_c)^2`` for the rows ``S_c`` of ``S`` (k, n): the
    test errors of ``k`` spin vectors in one pass over ``H`` (P, n), which a BLAS product
    of a P x n by an n x k matrix with small k does 3x slower than k matrix-vector
    products. Sums reassociated (vectorised): equal to the BLAS ones to rounding."""
    k = S.shape[0]
    n = H.shape[1]
    for p in range(H.shape[0]):
        for c in range(k):
            t = 0.0
            for j in range(n):
                t += H[p, j] * S[c, j]
            r = y[p] - t
            out[c] += r * r


@njit(cache=True)
def contrast(W, k):
    """Cosine of the top-left ``k x k`` block of ``W`` with ``I_k`` (:func:`sgphys.
    contrast_ratio`): scaled by the block's largest ``|W_ij|`` first (the cosine is
    scale-free; this keeps the norm from overflowing), in one pass; NaN for a zero block."""
    scale = 0.0
    for i in range(k):
        for j in range(k):
            a = abs(W[i, j])
            if not (a <= scale):  # NaN propagates
                scale = a
    if scale == 0.0 or not np.isfinite(scale):
        return np.nan
    ss = 0.0
    tr = 0.0
    for i in range(k):
        for j in range(k):
            x = W[i, j] / scale
            ss += x * x
        tr += W[i, i] / scale
    return tr / (np.sqrt(ss) * np.sqrt(k))
