"""Weight-space observables: the contrast ratio (paper Fig. 4a) and the test error (docs/model.rst,
sections Transformer and Observables)."""

from __future__ import annotations

import numpy as np

from .._validate import check_array, check_choice, check_positive_int
from ..spin import weights_to_spins
from ..tasks import Tasks

__all__ = ["contrast_ratio", "test_error", "theory_w11_scale"]


def contrast_ratio(W, block: str = "full") -> float:
    """Cosine similarity between a weight matrix and the identity (paper Fig. 4a).

    Parameters
    ----------
    W : array_like, shape (D+1, D+1)
    block : {"full", "w11"}
        ``"full"``: ``tr(W) / (||W||_F sqrt(D+1))`` over the whole matrix against
        ``I_{D+1}`` (the paper's; at most ``sqrt(D/(D+1))`` since ``W[D, D] = 0``).
        ``"w11"``: ``tr(W11) / (||W11||_F sqrt(D))`` over the top-left D x D block.

    Raises
    ------
    ValueError
        For a zero matrix (the cosine is undefined).
    """
    W = check_array("W", W, ndim=2)
    if W.shape[0] != W.shape[1] or W.shape[0] < 2:
        raise ValueError(f"W must be square (D+1, D+1) with D >= 1, got {W.shape}")
    block = check_choice("block", block, ("full", "w11"))
    from ..kernels.moments import contrast  # one compiled pass (run_solvers calls it too)

    k = W.shape[0] - 1 if block == "w11" else W.shape[0]
    c = contrast(W, k)
    if np.isnan(c):  # W is finite (checked): the block is zero
        raise ValueError("W is zero: its contrast ratio is undefined")
    return c


#: stacks of at least this many weight matrices take the test error by a BLAS product per
#: block (fewer: :func:`sgphys.kernels.moments.squared_residuals`, faster for small stacks)
STACK_BLAS = 16


def test_error(W, tasks):
    """Generalisation error ``mean_mu (y_q - yhat)^2`` of merged weights on ``tasks``.

    Parameters
    ----------
    W : array_like, shape (D+1, D+1) or (k, D+1, D+1)
        One weight matrix, or a stack of ``k``: their errors in one pass over the test
        features (:func:`sgphys.kernels.moments.squared_residuals`, or a matrix product
        per block from :data:`STACK_BLAS` matrices), equal to the one-by-one errors to
        rounding.
    tasks : Tasks
        A test set (use ``tasks.test_set(P)`` or fresh ``sample_tasks``), read block by
        block.

    Returns
    -------
    float, or ndarray of shape (k,) for a stack
    """
    if not isinstance(tasks, Tasks):
        raise ValueError(f"tasks must be a Tasks, got {type(tasks).__name__}")
    D = tasks.D
    W = check_array("W", W)
    if W.shape[-2:] != (D + 1, D + 1) or W.ndim not in (2, 3):
        raise ValueError(f"W must have shape ({D + 1}, {D + 1}) or (k, {D + 1}, {D + 1}) "
                         f"for these tasks (D={D}), got {W.shape}")
    s = weights_to_spins(W, D)  # (n,) or (k, n)
    if W.ndim == 3 and W.shape[0] >= STACK_BLAS:
        # many weights: a matrix product per block (BLAS at full rate for k this large)
        total = np.zeros(W.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            for Hb, yb in tasks.iter_feature_blocks():
                R = yb[:, None] - Hb @ s.T
                total += np.einsum("pk,pk->k", R, R)
    elif W.ndim == 3:
        from ..kernels.moments import squared_residuals

        total = np.zeros(W.shape[0])
        for Hb, yb in tasks.iter_feature_blocks():
            squared_residuals(np.ascontiguousarray(Hb), np.ascontiguousarray(yb), s, total)
    else:
        total = 0.0
        with np.errstate(over="ignore", invalid="ignore"):
            for Hb, yb in tasks.iter_feature_blocks():
                r = yb - Hb @ s
                total += float(r @ r)
    if not np.all(np.isfinite(total)):
        raise ValueError("W: the test error overflows (non-finite); W is too large for "
                         "these tasks")
    return total / tasks.P


test_error.__test__ = False  # not a pytest test despite its name


def theory_w11_scale(N, D) -> float:
    """Population-optimal ``W11 = N/(N+D+1) I`` scale (docs/model.rst, section Transformer)."""
    N = check_positive_int("N", N)
    D = check_positive_int("D", D)
    return N / (N + D + 1.0)
