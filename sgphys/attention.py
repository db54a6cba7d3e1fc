"""Forward passes of the attention architectures (SPEC section 2 and 6).

The merged simplified linear attention (``sla``) of the main text::

    F(Z) = (1/N) Z Z^T W Z,        yhat = F(Z)[D, N]

Only ``W[:, :D]`` matters (the last column of Z is ``[x_q; 0]``).
"""

from __future__ import annotations

import numpy as np

from ._validate import check_array

__all__ = ["predict_merged"]


def predict_merged(W, Z) -> np.ndarray:
    """Merged linear-attention predictions for a batch of input matrices.

    Parameters
    ----------
    W : array_like, shape (D+1, D+1)
    Z : array_like, shape (P, D+1, N+1)

    Returns
    -------
    yhat : ndarray, shape (P,)
        ``[(1/N) Z Z^T W Z][D, N]`` per input matrix, computed as
        ``(1/N) (sum_n y_n Z[:, n])^T W x_q`` (no (D+1)^2 N work per sequence).
    """
    Z = check_array("Z", Z, ndim=3)
    P, Dp1, Np1 = Z.shape
    W = check_array("W", W, shape=(Dp1, Dp1))
    N = Np1 - 1
    # row D of Z Z^T: r_i = sum_n Z[D, n] Z[i, n]  (Z[D, N] = 0 masks the query)
    r = np.matmul(Z[:, :, :N], Z[:, Dp1 - 1, :N, None])[:, :, 0]
    return np.einsum("pi,pi->p", r @ W, Z[:, :, N]) / N
