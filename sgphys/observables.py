"""Observables of trained or inferred weights (SPEC section 5).

Contrast ratio, test error and the large-P theory curve. (Hessian spectra, coupling
statistics, fits, resampling, KL divergences and the energy landscape are added beside.)
"""

from __future__ import annotations

import numpy as np

from ._validate import check_array, check_choice, check_positive_int

__all__ = ["contrast_ratio", "test_error", "theory_test_error", "theory_w11_scale"]


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
    if block == "w11":
        W = W[:-1, :-1]
    norm = float(np.linalg.norm(W))
    if norm == 0.0:
        raise ValueError("W is zero: its contrast ratio is undefined")
    return float(np.trace(W)) / (norm * np.sqrt(W.shape[0]))


def test_error(W, tasks) -> float:
    """Generalisation error ``mean_mu (y_q - yhat)^2`` of merged weights on ``tasks``.

    Parameters
    ----------
    W : array_like, shape (D+1, D+1)
    tasks : Tasks
        A test set (use ``tasks.test_set(P)`` or fresh ``sample_tasks``), read block by
        block.
    """
    from .tasks import Tasks, _features

    if not isinstance(tasks, Tasks):
        raise ValueError(f"tasks must be a Tasks, got {type(tasks).__name__}")
    D = tasks.D
    W = check_array("W", W, shape=(D + 1, D + 1))
    s = W[:, :D].reshape(-1)
    total = 0.0
    for Zb, yb in tasks.iter_blocks():
        r = yb - _features(Zb) @ s
        total += float(r @ r)
    return total / tasks.P


test_error.__test__ = False  # not a pytest test despite its name


def theory_test_error(N, D) -> np.ndarray | float:
    """Large-P, lam -> 0 test error ``(D+1)/(N+D+1)`` (SPEC 2; sigma_x = sigma_w = 1)."""
    D = check_positive_int("D", D)
    N_arr = np.asarray(N)
    if np.any(N_arr < 1):
        raise ValueError(f"N must be positive, got {N!r}")
    out = (D + 1) / (N_arr + D + 1.0)
    return float(out) if out.ndim == 0 else out


def theory_w11_scale(N, D) -> float:
    """Population-optimal ``W11 = N/(N+D+1) I`` scale (SPEC 2)."""
    N = check_positive_int("N", N)
    D = check_positive_int("D", D)
    return N / (N + D + 1.0)
