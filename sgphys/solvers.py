"""Solvers of the ICL spin glass: exact Gaussian marginals and message passing (SPEC 4).

Every solver takes a :class:`~sgphys.spin.SpinModel` and ``beta`` and returns
:class:`Marginals`. The Gibbs measure ``p(s) ~ exp(-beta E(s))`` is Gaussian with precision
``beta A``, ``A = Q + lam I``; :func:`solve_exact` gives its marginals and is the reference
for every iterative solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from ._validate import check_choice, check_positive

__all__ = ["Marginals", "solve_exact", "REASONS"]

REASONS = ("converged", "max_iter", "nonpositive_precision", "blowup")


@dataclass
class Marginals:
    """Gaussian-parametrised single-spin marginals and how they were obtained.

    Attributes
    ----------
    mean : ndarray, shape (n_spins,)
    var : ndarray, shape (n_spins,)
    converged : bool
    n_iter : int
        Iterations performed (0 for the exact solver).
    residual : float
        Final convergence residual (SPEC 4); for the exact solver the relative residual
        ``max|A m - h| / max(1, max|h|)`` of the linear system.
    reason : str
        One of ``"converged"``, ``"max_iter"``, ``"nonpositive_precision"``, ``"blowup"``.
    history : ndarray or None
        Per-iteration residuals, if asked for.
    kurtosis : ndarray or None
        Excess kurtosis of each marginal (full cavity BP only).
    solver : str
        ``"exact"``, ``"tap"``, ``"paper"``, ``"rbp"`` or ``"bp"``.
    D : int or None
        Token dimension, for the matrix views.
    info : dict
        Solver-specific extras (damping used, method, ...).
    """

    mean: np.ndarray
    var: np.ndarray
    converged: bool
    n_iter: int
    residual: float
    reason: str
    history: np.ndarray | None = None
    kurtosis: np.ndarray | None = None
    solver: str = "exact"
    D: int | None = None
    info: dict | None = None

    def _matrix(self, x: np.ndarray) -> np.ndarray:
        if self.D is None:
            raise ValueError("these marginals carry no D; reshape mean yourself")
        W = np.zeros((self.D + 1, self.D + 1))
        W[:, :self.D] = x.reshape(self.D + 1, self.D)
        return W

    @property
    def W(self) -> np.ndarray:
        """Mean weight matrix (D+1, D+1), last column zero."""
        return self._matrix(self.mean)

    @property
    def var_matrix(self) -> np.ndarray:
        """Variance matrix (D+1, D+1), last column zero."""
        return self._matrix(self.var)


def _check_model(model):
    from .spin import SpinModel

    if not isinstance(model, SpinModel):
        raise ValueError(f"model must be a SpinModel, got {type(model).__name__}")
    return model


def solve_exact(model, beta: float = 100.0, method: str = "auto") -> Marginals:
    """Exact marginals of the Gaussian Gibbs measure (SPEC 3, 4.4).

    ``mean = A^{-1} h`` (the ridge-regression weights) and ``var_k = [A^{-1}]_kk / beta``.

    Parameters
    ----------
    model : SpinModel
    beta : float > 0
        Inverse temperature (only the variances depend on it).
    method : {"auto", "cholesky", "dual"}
        ``"cholesky"`` factorises A (n_spins^3). ``"dual"`` works with the P x P matrix
        ``H H^T + P lam I`` (Woodbury), cheaper when P < n_spins; needs H and lam > 0.
        ``"auto"`` picks the dual when P < n_spins and H is available.

    Raises
    ------
    ValueError
        If the measure is improper (lam = 0 with a singular Q, e.g. P < n_spins).
    """
    model = _check_model(model)
    beta = check_positive("beta", beta)
    method = check_choice("method", method, ("auto", "cholesky", "dual"))
    n = model.n_spins
    if method == "auto":
        method = "dual" if (model.H is not None and model.P < n and model.lam > 0) else "cholesky"
    if method == "dual":
        if model.H is None:
            raise ValueError("method='dual' needs the features H; this model has none")
        if model.lam <= 0:
            raise ValueError(f"lam must be > 0 for method='dual', got {model.lam!r}")
        mean, diag_inv = _exact_dual(model)
    else:
        mean, diag_inv = _exact_cholesky(model)
    if model.H is not None:
        Am = model.H.T @ (model.H @ mean) / model.P + model.lam * mean
    else:
        Am = model.Q @ mean + model.lam * mean
    residual = float(np.max(np.abs(Am - model.h)) / max(1.0, float(np.max(np.abs(model.h)))))
    return Marginals(mean=mean, var=diag_inv / beta, converged=True, n_iter=0,
                     residual=residual, reason="converged", solver="exact", D=model.D,
                     info={"method": method})


def _exact_cholesky(model):
    A = model.precision()
    try:
        c, low = scipy.linalg.cho_factor(A, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"lam={model.lam!r}: the precision Q + lam I is not positive definite "
            f"(P={model.P}, n_spins={model.n_spins}); the Gibbs measure is improper, "
            "use lam > 0") from None
    mean = scipy.linalg.cho_solve((c, low), model.h, check_finite=False)
    # diag(A^{-1}) from the Cholesky factor: A^{-1} = L^{-T} L^{-1}
    Linv = scipy.linalg.solve_triangular(np.tril(c), np.eye(model.n_spins), lower=True,
                                         check_finite=False)
    diag_inv = np.einsum("ij,ij->j", Linv, Linv)
    if not (np.all(np.isfinite(mean)) and np.all(diag_inv > 0)):
        raise ValueError(f"lam={model.lam!r}: the precision is numerically singular")
    return mean, diag_inv


def _exact_dual(model):
    H, P, lam = model.H, model.P, model.lam
    K = H @ H.T
    K[np.diag_indices(P)] += P * lam
    c, low = scipy.linalg.cho_factor(K, lower=True, check_finite=False)
    alpha = scipy.linalg.cho_solve((c, low), model.y, check_finite=False)
    mean = H.T @ alpha
    KinvH = scipy.linalg.cho_solve((c, low), H, check_finite=False)
    diag_inv = (1.0 - np.einsum("mk,mk->k", H, KinvH)) / lam
    return mean, diag_inv
