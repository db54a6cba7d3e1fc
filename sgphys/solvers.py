"""Solvers of the ICL spin glass: exact Gaussian marginals and message passing (docs/model.rst,
section Solvers).

Every solver takes a :class:`~sgphys.spin.SpinModel` and ``beta`` and returns
:class:`Marginals`. The Gibbs measure ``p(s) ~ exp(-beta E(s))`` is Gaussian with precision
``beta A``, ``A = Q + lam I``; :func:`solve_exact` gives its marginals and is the reference
for every iterative solver.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.linalg.blas import dgemv, dsyrk

from ._blas import PARALLEL_MIN_SPINS, quiet_blas, use_parallel
from ._summary import describe, summary
from ._validate import (check_array, check_bool, check_choice, check_damping, check_memory,
                        check_positive, check_positive_int)
from .kernels.reasons import (BLOWUP, CONVERGED, GRID_TRUNCATED, GRID_UNRESOLVED,
                              MAX_ITER, REASONS)
from .spin import check_model, spins_to_weights

__all__ = ["Marginals", "gaussian_log_z", "solve_exact", "solve_amp", "solve_rbp", "solve_bp", "warmup",
           "REASONS", "auto_damping", "rbp_auto_damping"]


@dataclass(repr=False)
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
        Final convergence residual (docs/model.rst, section Solvers); for the exact solver the
        scale-invariant residual ``max|A m - h| / max(max|A m|, max|h|)`` of the linear
        system (docs/convergence.md).
    reason : str
        One of ``"converged"``, ``"max_iter"``, ``"nonpositive_precision"``, ``"blowup"``,
        and for full BP ``"grid_truncated"``, ``"grid_unresolved"`` (docs/convergence.md).
    history : ndarray or None
        Per-iteration residuals, if asked for.
    kurtosis : ndarray or None
        Excess kurtosis of each marginal (full cavity BP only).
    solver : str
        ``"exact"``, ``"tap"``, ``"paper"``, ``"rbp"`` or ``"bp"``.
    D : int or None
        Token dimension, for the matrix views.
    info : dict
        Solver-specific extras (damping used, method, ...); ``info["thermo_reason"]`` says
        why the thermodynamic fields are NaN where they are.
    beta : float or None
        Inverse temperature of the measure.
    log_z : float
        ``log Z``, the log of the integral (for discrete priors the sum) of
        ``exp(-beta E(s))`` over the prior's base measure (docs/thermodynamics.md); the
        method's own estimate (exact, Bethe or TAP), NaN where the method has none or did
        not converge.
    energy : float
        Internal energy ``<E> = -d log_z / d beta`` of the same estimate.
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
    beta: float | None = None
    log_z: float = np.nan
    energy: float = np.nan

    @property
    def entropy(self) -> float:
        """Entropy ``log_z + beta * energy`` (relative to the base measure)."""
        if self.beta is None:
            return np.nan
        return float(self.log_z + self.beta * self.energy)

    @property
    def free_energy(self) -> float:
        """Free energy ``-log_z / beta``."""
        if self.beta is None:
            return np.nan
        return float(-self.log_z / self.beta)

    def _matrix(self, x: np.ndarray) -> np.ndarray:
        if self.D is None:
            raise ValueError("these marginals carry no D; reshape mean yourself")
        return spins_to_weights(x, self.D)

    def __repr__(self) -> str:
        title = (f"Marginals({self.solver}, n_spins={self.mean.size}, converged={self.converged}, "
                 f"reason={self.reason!r}, n_iter={self.n_iter}, residual={self.residual:.3g})")
        fields = ["mean", "var"] + [f for f in ("kurtosis", "history") if getattr(self, f) is not None]
        text = summary(self, fields, title)
        if self.info:
            text += "\n  info : " + ", ".join(f"{k}={describe(v)}" for k, v in self.info.items())
        return text

    @property
    def W(self) -> np.ndarray:
        """Mean weight matrix (D+1, D+1), last column zero."""
        return self._matrix(self.mean)

    @property
    def var_matrix(self) -> np.ndarray:
        """Variance matrix (D+1, D+1), last column zero."""
        return self._matrix(self.var)


def _factored(model):
    """A matrix-free :class:`~sgphys.factored.FactoredModel` (recognised by its marker, so
    this module does not import the one that builds on it)."""
    return getattr(type(model), "matrix_free", False) is True


#: ``solve_exact(method="auto")`` takes the dual below this many tasks per spin (measured
#: at 420 spins, one thread: the two cost the same at P = 0.62 n_spins; docs/benchmarks.md)
DUAL_MAX_FRACTION = 0.6
#: ... and at any P < n_spins when lam is below this fraction of the largest ``lam_k``
DUAL_SMALL_LAM = 1e-4


def solve_exact(model, beta: float = 100.0, method: str = "auto",
                variances: bool | None = None, **factored_kw) -> Marginals:
    """Exact marginals of the Gaussian Gibbs measure (docs/model.rst, sections Spin mapping and
    Exact).

    ``mean = A^{-1} h`` (the ridge-regression weights) and ``var_k = [A^{-1}]_kk / beta``.

    Parameters
    ----------
    model : SpinModel
    beta : float > 0
        Inverse temperature (only the variances depend on it).
    method : {"auto", "cholesky", "dual"}
        ``"cholesky"`` factorises A (n_spins^3). ``"dual"`` works with the P x P matrix
        ``H H^T + P lam I`` (Woodbury), cheaper when P < n_spins; needs H and lam > 0.
        ``"auto"`` picks the dual when P < n_spins, lam > 0 and H is available, and
        either P < :data:`DUAL_MAX_FRACTION` n_spins (above it its P^2 n_spins kernel
        costs more than the n_spins^3 / 3 Cholesky) or lam is below
        :data:`DUAL_SMALL_LAM` times the largest ``lam_k`` (the n_spins x n_spins
        precision, of rank P plus lam, is then ill-conditioned; the dual's is not).
    variances : bool, optional
        False computes the means alone (one Cholesky factorisation and solve, no inverse):
        ``var`` is then NaN and ``info["variances"]`` False. Sweeps that store only what the
        means give (contrast ratio, test error) ask for this. Default: True for a
        :class:`SpinModel`, False for a :class:`~sgphys.factored.FactoredModel`.
    **factored_kw
        For a :class:`~sgphys.factored.FactoredModel` (matrix-free: preconditioned
        conjugate gradients, :func:`sgphys.factored.solve_exact_factored`): ``tol``,
        ``max_iter``, ``n_probes``, ``seed``; ``method`` must be ``"auto"``.

    Raises
    ------
    ValueError
        If the measure is improper (lam = 0 with a singular Q, e.g. P < n_spins).
    """
    if _factored(model):
        if method != "auto":
            raise ValueError(f"method must be 'auto' for a FactoredModel (matrix-free "
                             f"conjugate gradients), got {method!r}")
        return model._solve_exact(beta, variances=bool(variances) if variances is not None
                                  else False, **factored_kw)
    if factored_kw:
        raise ValueError(f"{sorted(factored_kw)}: unexpected argument(s) for a SpinModel "
                         "(tol, max_iter, n_probes and seed are for a FactoredModel)")
    model = check_model(model, gaussian=True)
    beta = check_positive("beta", beta)
    method = check_choice("method", method, ("auto", "cholesky", "dual"))
    variances = check_bool("variances", True if variances is None else variances)
    n = model.n_spins
    if n >= PARALLEL_MIN_SPINS:  # multi-threaded LAPACK: no spinning pool competes with it
        quiet_blas()
    if method == "auto":
        P, lam = model.P, model.lam
        method = ("dual" if (model.H is not None and P < n and lam > 0 and (
            P < DUAL_MAX_FRACTION * n or lam < DUAL_SMALL_LAM * float(np.max(model.lam_k))))
            else "cholesky")
    if method == "dual":
        if model.H is None:
            raise ValueError("method='dual' needs the features H; this model has none")
        if model.lam <= 0:
            raise ValueError(f"lam must be > 0 for method='dual', got {model.lam!r}")
        check_memory("model.P", model.P, 8 * (2 * model.P ** 2 + 2 * model.P * n),
                     "the dual solve (P x P kernel and P x n_spins solves)")
        mean, diag_inv, logdet = _exact_dual(model, variances)
    else:
        check_memory("model.n_spins", n, 8 * 4 * n * n,
                     "the Cholesky solve (precision, factor, inverse factor, identity)")
        mean, diag_inv, logdet = _exact_cholesky(model, variances)
    # serial: right after the Cholesky, BLAS's threads may still hold the cores
    residual = model.linear_residual(mean, parallel=False)
    log_z, energy = gaussian_log_z(logdet, model.h, mean, n, beta)
    info = {"method": method, "variances": bool(variances), "logdet_A": logdet}
    if not variances:
        if not np.isfinite(residual):
            raise ValueError(f"lam={model.lam!r}: the exact means are not finite")
        return Marginals(mean=mean, var=np.full(n, np.nan), converged=True, n_iter=0,
                         residual=residual, reason="converged", solver="exact", D=model.D,
                         info=info, beta=beta, log_z=log_z, energy=energy)
    with np.errstate(over="ignore"):
        var = diag_inv / beta
    if not (np.all(np.isfinite(var)) and np.all(var > 0) and np.isfinite(residual)):
        raise ValueError(f"beta={beta!r}: the variances [A^-1]_kk / beta are not finite and "
                         f"positive (lam={model.lam!r}); use a larger beta or lam")
    return Marginals(mean=mean, var=var, converged=True, n_iter=0,
                     residual=residual, reason="converged", solver="exact", D=model.D,
                     info=info, beta=beta, log_z=log_z, energy=energy)


def gaussian_log_z(logdet_A, h, mean, n, beta):
    """``(log_z, energy)`` of the Gaussian measure ``exp(-beta E)``, ``E = s^T A s / 2 -
    h^T s`` on Lebesgue measure, from ``log det A`` and the means ``A^{-1} h``:
    ``log_z = (n/2) log(2 pi / beta) - (1/2) log det A + (beta/2) h^T A^{-1} h`` and
    ``energy = n / (2 beta) - (1/2) h^T A^{-1} h`` (docs/thermodynamics.md)."""
    hAh = float(h @ mean)
    log_z = 0.5 * n * np.log(2.0 * np.pi / beta) - 0.5 * logdet_A + 0.5 * beta * hAh
    energy = 0.5 * n / beta - 0.5 * hAh
    return float(log_z), float(energy)


def _cholesky_in_place(A):
    """Lower Cholesky factor of the symmetric C-contiguous ``A``, in place, by LAPACK
    ``potrf`` on ``A.T`` (the same matrix, F-contiguous: no copy; scipy's ``cho_factor``
    would first copy a C-ordered array to Fortran order). The factor is in the lower
    triangle of the returned F-ordered array (its strict upper part is not cleaned).
    Raises LinAlgError if ``A`` is not positive definite."""
    c, info = scipy.linalg.lapack.dpotrf(A.T, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"potrf: info = {info}")
    return c


def _cholesky_solve(c, b):
    """``A^{-1} b`` from the lower factor ``c`` of :func:`_cholesky_in_place` (LAPACK
    ``potrs``)."""
    x, info = scipy.linalg.lapack.dpotrs(c, b, lower=1)
    if info != 0:
        raise ValueError(f"potrs: illegal value in argument {-info}")
    return x


def _exact_cholesky(model, variances=True):
    improper = ValueError(
        f"lam={model.lam!r}: the precision Q + lam I is not positive definite "
        f"(P={model.P}, n_spins={model.n_spins}); the Gibbs measure is improper, use lam > 0")
    if model.lam == 0 and model.H is not None and model.P < model.n_spins:
        raise improper  # rank(Q) <= P < n_spins; rounding can still let Cholesky through
    try:
        c = _cholesky_in_place(model.precision())
    except np.linalg.LinAlgError:
        raise improper from None
    pivots = np.diag(c) ** 2
    if pivots.min() <= pivots.max() * model.n_spins * np.finfo(float).eps:
        raise improper  # numerically singular: a pivot at round-off level
    mean = _cholesky_solve(c, model.h)
    logdet = float(np.sum(np.log(pivots)))
    if not variances:
        return mean, None, logdet
    # diag(A^{-1}) from the Cholesky factor: A^{-1} = L^{-T} L^{-1}, L^{-1} in place by
    # LAPACK's triangular inverse (n^3/3 flops; the strict upper part of c is ignored)
    Linv, info = scipy.linalg.lapack.dtrtri(c, lower=1, overwrite_c=1)
    if info != 0:
        raise improper
    diag_inv = np.einsum("ij,ij->j", np.tril(Linv), np.tril(Linv))
    if not (np.all(np.isfinite(mean)) and np.all(diag_inv > 0)):
        raise ValueError(f"lam={model.lam!r}: the precision is numerically singular")
    return mean, diag_inv, logdet


def _exact_dual(model, variances=True):
    """The dual solve. Its products go through scipy's BLAS, the library of its LAPACK
    calls: numpy may bring a second OpenBLAS, and two libraries' thread pools, each
    spinning after its call, take the cores from each other (measured 10x slower at
    P = 160, n_spins = 420, benchmarks/import_order.py)."""
    H, P, lam = model.H, model.P, model.lam
    # H H^T: syrk on H^T (F-contiguous view of the C-ordered H), upper triangle of the
    # F-ordered result, which potrf reads as the lower triangle of its transpose
    K = dsyrk(1.0, H.T, trans=1, lower=0)
    K[np.diag_indices(P)] += P * lam
    c, info = scipy.linalg.lapack.dpotrf(K, lower=0, overwrite_a=1, clean=0)
    if info != 0:
        raise ValueError(f"lam={lam!r}: the dual kernel H H^T + P lam I is numerically "
                         f"singular (P={P}); use a larger lam or method='cholesky'")
    alpha, info = scipy.linalg.lapack.dpotrs(c, model.y, lower=0)
    mean = dgemv(1.0, H.T, alpha)
    # det(Q + lam I) = lam^(n - P) det(H H^T / P + lam I_P) (Sylvester)
    logdet = float((model.n_spins - P) * np.log(lam) + 2.0 * np.sum(np.log(np.diag(c)))
                   - P * np.log(P))
    if not variances:
        return mean, None, logdet
    KinvH, info = scipy.linalg.lapack.dpotrs(c, H, lower=0)
    diag_inv = (1.0 - np.einsum("mk,mk->k", H, KinvH)) / lam
    return mean, diag_inv, logdet


# -- message passing ----------------------------------------------------------------------


def _check_v0(v0, n, name="v0"):
    """Initial variances: a new float64 array of shape (n,), finite and positive."""
    v0 = check_array(name, v0, shape=(n,)).copy()
    if not np.all(v0 > 0):
        raise ValueError(f"{name} (initial variances) must be positive, got min "
                         f"{float(np.min(v0))!r}")
    return v0


def _history_buffer(history, max_iter):
    """The per-iteration residual buffer (empty unless ``history``), memory-checked."""
    if not history:
        return np.empty(0)
    check_memory("max_iter", max_iter, 8 * max_iter, "history=True (one residual per iteration)")
    return np.full(max_iter, np.nan)


def _iter_args(model, beta, damping, tol, max_iter, criterion, init, history=False,
               priors=False):
    """Validated common arguments of the iterative solvers. With ``priors`` a model with a
    non-Gaussian prior is accepted: its ``lam_k`` is diag Q (lam = 0) and the default
    initial state is the prior's mean and variance."""
    model = check_model(model, gaussian=not priors)
    beta = check_positive("beta", beta)
    damping = check_damping(damping)
    tol = check_positive("tol", tol)
    max_iter = check_positive_int("max_iter", max_iter)
    criterion = check_choice("criterion", criterion, ("strict", "paper"))
    check_bool("history", history)
    n = model.n_spins
    if _has_prior(model):
        lam_k = model.lam_k
        pm, pv = _prior_moments(model.prior, beta)
        m0, v0 = np.full(n, pm), np.full(n, pv)
        if not model.prior.discrete:
            # Laplace: a wide prior variance would make the first cavity precisions
            # beta Q_ii - V_i negative; start no wider than the data's own 1/(beta Q_ii)
            with np.errstate(divide="ignore"):
                v0 = np.minimum(v0, 1.0 / (beta * lam_k))
    else:
        lam_k = _positive_lam_k(model)
        m0, v0 = np.zeros(n), 1.0 / (beta * lam_k)
    if init is not None:
        try:
            m0, v0 = init
        except (TypeError, ValueError):
            raise ValueError("init must be a pair (m0, v0) of arrays of shape (n_spins,)") from None
        m0 = check_array("init[0]", m0, shape=(n,)).copy()
        v0 = _check_v0(v0, n, "init[1]")
    return model, beta, damping, tol, max_iter, criterion, lam_k, m0, v0


def _has_prior(model):
    """True if the model's prior is not the Gaussian ridge (docs/model.rst, section Spin
    mapping)."""
    return model.prior.name != "gaussian"


def _prior_moments(prior, beta):
    """Mean and variance of the prior ``pi_beta`` alone (the message passing's start)."""
    if prior.discrete:
        v, w = prior.support(), prior.weights()
        mean = float(w @ v)
        return mean, float(w @ (v - mean) ** 2)
    # Laplace: pi_beta ∝ exp(-beta lam1 |s|), variance 2 / (beta lam1)^2
    with np.errstate(over="ignore"):
        return 0.0, float(2.0 / np.square(np.float64(beta) * prior.lam1))


def _prior_kernel_args(model):
    """``(code, params)`` of the model's prior for the kernels; the built-in ridge path
    (``RIDGE``) for the Gaussian prior, so its results are those of docs/model.rst (section Solvers)
    bit for bit."""
    from .kernels.amp import RIDGE

    if not _has_prior(model):
        return RIDGE, np.empty(0)
    return model.prior.kernel_args()


def _positive_lam_k(model):
    lam_k = model.lam_k
    if not np.all(lam_k > 0):
        raise ValueError(f"lam={model.lam!r}: some lam_k = lam + Q_kk are not positive, "
                         "so the prior variance 1/(beta lam_k) is undefined; use lam > 0")
    return lam_k


def _check_rbp_memory(n):
    """r-BP's packed pair messages: four arrays of n(n-1)/2 plus their index arrays."""
    check_memory("model.n_spins", n, 8 * 7 * (n * (n - 1) // 2),
                 "r-BP's edge messages (about 3.5 n_spins^2 doubles)")


def _use_parallel(parallel, n):
    """Whether a solver runs its row-parallel kernels (:func:`sgphys._blas.use_parallel`)."""
    return use_parallel(parallel, n)


def auto_damping(model, beta, variant="tap", v0=None, tol=1e-6, max_iter=10000,
                 parallel=None):
    """The damping of the threshold rule (docs/model.rst, section AMP), from the variance fixed
    point.

    Converges the variance recursion ``v = 1/(beta lam_k - beta^2 (J*J) v)`` (it does not
    involve the means) to ``tol`` (the damping needs v* only roughly; the solver then
    converges v fully), estimates ``mu_max`` of ``U^(1/2) A U^(1/2)``, ``U = diag(beta v*)``
    (``A - diag(V)/beta`` for the paper variant) by power iteration, and returns
    ``min(0.95, max(0, 1 - 2/mu_max) + 0.05)``: the mean iteration at fixed variances
    converges iff ``damping > 1 - 2/mu_max``.

    Returns
    -------
    damping : float or None
        None when the variance recursion has no positive fixed point.
    v_star : ndarray, shape (n_spins,)
        The variance fixed point (last valid iterate if none).
    info : dict
        ``mu_max``, ``threshold`` (1 - 2/mu_max), iterations, reason.
    """
    from .kernels import amp as K

    model = check_model(model, gaussian=True)
    beta = check_positive("beta", beta)
    variant = check_choice("variant", variant, ("tap", "paper"))
    tol = check_positive("tol", tol)
    max_iter = check_positive_int("max_iter", max_iter)
    lam_k = _positive_lam_k(model)
    J = model.J
    v = (1.0 / (beta * lam_k)) if v0 is None else _check_v0(v0, model.n_spins)
    par = _use_parallel(parallel, model.n_spins)
    par = K.ROWS_PARALLEL if par else 0
    it, res, code = K.variance_fixed_point(J, lam_k, beta, v, tol, max_iter, par)
    info = {"variance_iterations": int(it), "variance_residual": float(res),
            "variance_reason": REASONS[code]}
    if code != CONVERGED:
        return None, v, info
    if variant == "paper":
        n = model.n_spins
        Jm, JJv = np.empty(n), np.empty(n)
        K.row_sums(J, np.zeros(n), v, Jm, JJv, 0)
        shift = beta * JJv  # V / beta
    else:
        shift = np.zeros(model.n_spins)
    damping = _damping_rule(J, lam_k, beta, v, shift, par, info)
    return damping, v, info


def _damping_rule(J, lam_k, beta, v, shift, par, info):
    """``min(0.95, max(0, 1 - 2/mu_max) + 0.05)`` at the variance fixed point ``v``
    (docs/model.rst, section AMP); records ``mu_max`` and ``threshold`` in ``info``."""
    from .kernels import amp as K

    mu = K.mu_max(J, lam_k, beta, v, shift, 500, par)
    threshold = 1.0 - 2.0 / mu if mu > 0 else -np.inf
    info.update(mu_max=float(mu), threshold=float(threshold))
    return float(min(0.95, max(0.0, threshold) + 0.05))


def rbp_auto_damping(model, beta, v0=None, tol=1e-6, max_iter=10000, parallel=None):
    """:func:`auto_damping` for r-BP (and full BP): the rule at r-BP's own variance fixed
    point, that of the edge variances (:func:`sgphys.kernels.rbp.variance_fixed_point`).

    Cavity variances are smaller than AMP's node variances, so r-BP can have a positive
    variance fixed point where AMP has none. Returns ``(damping or None, vu, vd, info)``:
    the packed edge variances at the fixed point (initial messages for the solver).
    """
    from .kernels import rbp as K

    model = check_model(model, gaussian=True)
    beta = check_positive("beta", beta)
    tol = check_positive("tol", tol)
    max_iter = check_positive_int("max_iter", max_iter)
    par = _use_parallel(parallel, model.n_spins)
    n = model.n_spins
    _check_rbp_memory(n)
    lam_k = _positive_lam_k(model)
    v = (1.0 / (beta * lam_k)) if v0 is None else _check_v0(v0, n)
    iu, ju = np.triu_indices(n, 1)
    vu, vd = v[iu].copy(), v[ju].copy()
    del iu, ju
    J, sgn = _rbp_couplings(model)  # the recursion reads J_ij^2 only
    vnode = np.empty(n)
    it, res, code = K.variance_fixed_point(J, lam_k, beta, K.pair_offsets(n), vu, vd, vnode,
                                           tol, max_iter)
    info = {"variance_iterations": int(it), "variance_residual": float(res),
            "variance_reason": REASONS[code]}
    if code != CONVERGED:
        return None, vu, vd, info
    rows = (K.ROWS_PARALLEL if par else 0) | (K.ROWS_FROM_Q if sgn < 0 else 0)
    damping = _damping_rule(J, lam_k, beta, vnode, np.zeros(n), rows, info)
    return damping, vu, vd, info


def _finish(solver, model, m, v, n_iter, res, code, hist, info, kurt=None, beta=None,
            thermo=None):
    """The solver's :class:`Marginals`. ``thermo`` (called only for a converged result)
    returns ``(log_z, energy)`` of the method's own free energy at the fixed point; NaN
    with ``info["thermo_reason"]`` otherwise (a free energy of an uncertified state is
    never reported)."""
    ok = bool(np.all(np.isfinite(m)) and np.all(np.isfinite(v)))
    if not ok:  # kernels keep the last valid state; this is a guard, never expected
        code = BLOWUP
    log_z = energy = np.nan
    if code != CONVERGED:
        info["thermo_reason"] = "not converged: no free energy of an uncertified state"
    elif thermo is None:
        info.setdefault("thermo_reason", "this method has no free energy")
    else:
        with np.errstate(all="ignore"):  # extreme beta: an overflow is reported as NaN
            log_z, energy = thermo()
        if not (np.isfinite(log_z) and np.isfinite(energy)):
            info.setdefault("thermo_reason", "the free energy is not finite at this state")
            log_z = energy = np.nan
    return Marginals(mean=m, var=v, converged=(code == CONVERGED), n_iter=int(n_iter),
                     residual=float(res), reason=REASONS[code], history=hist,
                     kurtosis=kurt, solver=solver, D=model.D, info=info, beta=beta,
                     log_z=float(log_z), energy=float(energy))


def _certified(run, own_equation, m, tol, max_iter, criterion, info,
               key="mean_equation_residual"):
    """Run a kernel (``run(start, budget, tol) -> (n_iter, residual, code)``, in place) and,
    under the strict criterion, accept convergence only once the means also satisfy the
    solver's own fixed-point equation for them (``own_equation(m) <= tol``, e.g. ``A m = h``).

    A small change per iteration is not a fixed point when the iteration is slow (heavy
    damping near the stability threshold, or an ill-conditioned precision): the kernel is
    then resumed from its state, with its own threshold lowered in proportion to how far
    the equation is from ``tol``, until the equation holds or ``max_iter`` is spent
    (reason ``max_iter``). ``info[key]`` (default ``"mean_equation_residual"``) records
    the last check.
    """
    n_iter, res, code = run(0, max_iter)
    kernel_tol = tol
    while code == CONVERGED and criterion == "strict":
        eq = own_equation(m)
        info[key] = eq
        if eq <= tol:
            break
        if n_iter >= max_iter:
            code = MAX_ITER
            break
        # the kernel's own residual has a rounding floor (about 1e-16): a threshold below
        # it would run out the budget without another check of the equation
        kernel_tol = max(kernel_tol * min(0.5, tol / eq), min(tol, KERNEL_TOL_FLOOR))
        more, res, code = run(n_iter, max_iter - n_iter, kernel_tol)
        n_iter += more
    return n_iter, res, code


#: smallest threshold a certified solver gives its kernel's residual when it resumes the
#: kernel (rounding keeps that residual near 1e-16 at a fixed point)
KERNEL_TOL_FLOOR = 1e-15


def _no_damping(solver, model, m, v, dinfo, info, history, kurt=None):
    """The result of a solver whose ``damping="auto"`` found no usable variance fixed
    point: not converged, with the variance recursion's reason (``nonpositive_precision``
    when it has no positive fixed point) and the initial means."""
    info["damping"] = None
    return _finish(solver, model, m, v, dinfo["variance_iterations"],
                   dinfo["variance_residual"], REASONS.index(dinfo["variance_reason"]),
                   np.full(0, np.nan) if history else None, info, kurt=kurt)


def solve_amp(model, beta=100.0, variant="tap", damping="auto", tol=1e-10, max_iter=10000,
              criterion="strict", init=None, history=False, parallel=None):
    """Approximate message passing / TAP equations (docs/model.rst, section AMP, paper Eqs. 8a-8b).

    Parameters
    ----------
    model : SpinModel or FactoredModel
        A :class:`~sgphys.factored.FactoredModel` is solved matrix-free by GAMP on the
        factor graph of the P samples (:func:`sgphys.factored.solve_amp_factored`; O(P D^2)
        per iteration), whose fixed point is TAP's; ``parallel`` is then unused.
    beta : float > 0
    variant : {"tap", "paper"}
        ``"tap"`` keeps the Onsager reaction term ``-V_i m_i`` (its fixed point has the exact
        means); ``"paper"`` omits it as the published code does (biased means).
    damping : "auto" or float in [0, 1)
        Weight on the old value. ``"auto"`` (adaptive): variances undamped, means undamped
        until their residual grows or stalls, then the damping with which the mean map at
        fixed variances (a Richardson iteration) contracts fastest, from 10 Lanczos
        estimates of the extreme eigenvalues of ``U^(1/2) A U^(1/2)``, ``U = diag(beta v)``
        (docs/methods.rst, section Adaptive damping). ``info`` records ``damping_final``,
        ``damping_estimated``, ``mu_max`` and ``mu_min``.
    tol : float > 0
        Convergence threshold: on the certificate (``criterion="strict"``,
        docs/convergence.md) or, with ``criterion="paper"`` (the authors' rule), on
        ``mean((u_m - m)^2) + mean((u_v - v)^2)`` between the raw update and the current
        state, the reading that reproduces their figures (docs/model.rst, Departures).
    max_iter : int
    init : (m0, v0), optional
        Initial means and (positive) variances; default 0 and ``1/(beta lam_k)``.
    history : bool
        Keep the residual of every iteration in ``Marginals.history``.
    parallel : bool, optional
        Use the row-parallel kernel (deterministic); default by size.

    Returns
    -------
    Marginals
        ``solver`` is the variant; ``info`` holds the damping used and, at a converged
        fixed point, ``negative_cavity`` (spins whose cavity precision ``beta lam_k - V_k``
        is negative; possible with a non-Gaussian prior, where such fixed points carry most
        of the error: docs/accuracy.md). Variances are approximate (loopy Gaussian BP);
        their error against the exact ones is in docs/accuracy.md.
    """
    from .kernels import amp as K

    variant = check_choice("variant", variant, ("tap", "paper"))
    if _factored(model):
        if variant != "tap" or criterion != "strict":
            raise ValueError(f"variant={variant!r}, criterion={criterion!r}: a FactoredModel "
                             "is solved by GAMP, whose fixed point is TAP's (variant='tap', "
                             "criterion='strict')")
        return model._solve_amp(beta, damping=damping, tol=tol, max_iter=max_iter, init=init,
                                history=history)
    model, beta, damping, tol, max_iter, criterion, lam_k, m, v = _iter_args(
        model, beta, damping, tol, max_iter, criterion, init, history, priors=True)
    h = model.h
    J, par = K.couplings_for_rows(model, _use_parallel(parallel, model.n_spins))
    info = {"variant": variant, "criterion": criterion}
    hist = _history_buffer(history, max_iter)
    state = _auto_state() if damping == "auto" else None
    code, params = _prior_kernel_args(model)
    if _has_prior(model):
        info["prior"] = model.prior.to_attrs()

    def run(start, budget, tol=tol):
        out = hist[start:] if history else hist
        if state is not None and start > 0:
            _resume_window(state)
        if code != K.RIDGE:
            return K.amp_solve_prior(J, h, lam_k, beta, m, v, variant == "tap",
                                     0.0 if state is not None else float(damping), tol, budget,
                                     criterion == "paper", out, par,
                                     state if state is not None else np.empty(0), code, params)
        if state is not None:
            return K.amp_solve_auto(J, h, lam_k, beta, m, v, variant == "tap", tol, budget,
                                    criterion == "paper", out, par, state)
        return K.amp_solve(J, h, lam_k, beta, m, v, variant == "tap", float(damping), tol,
                           budget, criterion == "paper", out, par)

    def own_equation(m):  # TAP: A m = h; the paper variant: (A - diag(V)/beta) m = h
        if code != K.RIDGE:  # with a prior: the change of one undamped step
            return _prior_step_residual(J, h, lam_k, beta, m, v, variant == "tap", par,
                                        code, params)
        if variant == "tap":
            return model.linear_residual(m)
        Jm, JJv = np.empty(model.n_spins), np.empty(model.n_spins)
        K.row_sums(J, m, v, Jm, JJv, par)
        shift = beta * JJv
        lhs = model.Q @ m + (model.lam - shift) * m
        return _relative(np.max(np.abs(lhs - h)), max(np.max(np.abs(lhs)), np.max(np.abs(h))))

    n_iter, res, code = _certified(run, own_equation, m, tol, max_iter, criterion, info)
    _damping_info(info, damping, state)
    sums = None
    if code == CONVERGED:
        n = model.n_spins
        sums = Jm, JJv = np.empty(n), np.empty(n)
        K.row_sums(J, m, v, Jm, JJv, par)
        info["negative_cavity"] = int(np.sum(beta * lam_k - beta * beta * JJv < 0))
    return _finish(variant, model, m, v, n_iter, res, code,
                   hist[:n_iter].copy() if history else None, info, beta=beta,
                   thermo=_amp_thermo(model, beta, m, v, variant, criterion, info, sums))


def _uncertified(criterion, info):
    """True (and the reason recorded) when convergence was judged by the authors' rule,
    which certifies no fixed point: no free energy is reported then."""
    if criterion != "strict":
        info["thermo_reason"] = "criterion='paper' certifies no fixed point"
        return True
    return False


def _amp_thermo(model, beta, m, v, variant, criterion, info, sums=None):
    """The TAP free energy at AMP's fixed point (docs/thermodynamics.md); None (NaN) for
    the authors' variant, whose fixed point extremises no free energy. ``sums``: the row
    sums ``(J m, (J∘J) v)`` of the fixed point, if computed."""
    if _uncertified(criterion, info):
        return None
    if variant != "tap":
        info["thermo_reason"] = ("variant='paper' omits the Onsager term: its fixed point "
                                 "extremises no free energy")
        return None
    if info.get("negative_cavity", 0) > 0:
        # measured: these fixed points carry TAP free energies off by up to 10 per spin
        # against enumeration (docs/thermodynamics.md)
        info["thermo_reason"] = (f"{info['negative_cavity']} spins with a negative cavity "
                                 "precision: the TAP free energy is not reliable there")
        return None
    from .thermo import _tap_thermo

    def thermo():  # the solver's own state: no re-validation, its row sums reused
        return _pair(_tap_thermo(model, beta, m, v, model.prior, sums), info)
    return thermo


def _rbp_thermo(model, beta, off, mu, vu, md, vd, criterion, info):
    """The Bethe free energy of r-BP's Gaussian messages (Gaussian prior only)."""
    if _uncertified(criterion, info):
        return None
    if _has_prior(model):
        info["thermo_reason"] = ("r-BP with a non-Gaussian prior projects its messages on "
                                 "Gaussians: no Bethe free energy")
        return None
    from .kernels.rbp import bethe_gaussian
    from .thermo import nan_thermo, thermo_dict

    def thermo():  # one pass over the packed messages (no dense n x n copies)
        J, sgn = _rbp_couplings(model)
        log_z, energy, ok = bethe_gaussian(J, model.h, model.lam_k, float(beta), mu, vu,
                                           md, vd, _use_parallel(None, model.n_spins), sgn)
        return _pair(thermo_dict(log_z, energy, beta) if ok
                     else nan_thermo("nonpositive_precision"), info)
    return thermo


def _bp_thermo(model, beta, x, logw, logmu, lam_k, criterion, info):
    """The Bethe free energy of full BP's gridded messages."""
    if _uncertified(criterion, info):
        return None
    from .thermo import bethe_grid_thermo

    lam1 = model.prior.lam1 if model.prior.name == "laplace" else 0.0

    def thermo():
        return _pair(bethe_grid_thermo(model.J, model.h, lam_k, beta, x, logw, logmu,
                                       lam1=lam1), info)
    return thermo


def _pair(out, info):
    """``(log_z, energy)`` of a :mod:`sgphys.thermo` result; its NaN reason into ``info``."""
    if out.get("reason"):
        info["thermo_reason"] = out["reason"]
    return out["log_z"], out["energy"]


def _prior_step_residual(J, h, qd, beta, m, v, tap, par, code, params):
    """The residual (docs/model.rst, section Solvers) of one undamped AMP step with a prior from
    ``(m, v)``: the fixed
    point's own equation (inf if the step is invalid)."""
    from .kernels import amp as K

    n = m.shape[0]
    um, uv, a, Jm, JJv = (np.empty(n) for _ in range(5))
    if not K.amp_step_prior(J, h, qd, beta, m, v, tap, um, uv, a, Jm, JJv, par, code,
                            params) > 0:
        return np.inf
    return _scaled_change(um, uv, m, v)


def _scaled_change(um, uv, m, v):
    """Scale-invariant change of an update ``(um, uv)`` against the state ``(m, v)``:
    ``max(max|um - m| / s, max|uv - v| / max(v, uv))`` with the spin scale
    ``s = max(max|m|, max|um|, sqrt(max(v, uv)))``, so the same for any units of the
    spins (a prior's support scaled by c scales m by c and v by c^2). 0 for no change, inf
    when not finite."""
    dm, dv = np.max(np.abs(um - m)), np.max(np.abs(uv - v))
    vmax = max(float(np.max(v)), float(np.max(uv)))
    scale = max(float(np.max(np.abs(m))), float(np.max(np.abs(um))), np.sqrt(max(vmax, 0.0)))
    return max(_relative(dm, scale), _relative(dv, max(vmax, 0.0)))


def _relative(num, den):
    """``num / den`` for a scale-invariant certificate: 0 when both vanish, inf when not
    finite or when only the denominator vanishes."""
    num, den = float(num), float(den)
    if not (np.isfinite(num) and np.isfinite(den)):
        return np.inf
    if den == 0.0:
        return 0.0 if num == 0.0 else np.inf
    return num / den


def _auto_state():
    """Adaptive damping state of the kernels (:data:`sgphys.kernels.amp.AUTO_STATE`):
    damping, estimate pending, estimated, mu_max, last mean residual, mu_min, and the mean
    residual and iteration at the start of the rate window (none yet: -1), the smallest
    mean residual since the estimate and the iterations since it."""
    return np.array([0.0, 0.0, 0.0, 0.0, np.inf, 0.0, 0.0, -1.0, np.inf, 0.0])


def _resume_window(state):
    """A resumed kernel counts iterations from 0 again: restart the adaptive damping's rate
    window (the rest of the state carries over)."""
    state[6] = 0.0
    state[7] = -1.0


def _damping_info(info, damping, state):
    if state is None:
        info["damping"] = float(damping)
    else:
        info.update(damping="auto", damping_final=float(state[0]),
                    damping_estimated=bool(state[2]), mu_max=float(state[3]) if state[2]
                    else None, mu_min=float(state[5]) if state[2] else None)


def _rbp_couplings(model):
    """``(matrix, sgn)`` for the r-BP kernels, whose couplings are ``sgn * matrix`` above
    the diagonal: ``(model.J, 1.0)`` when J exists, else ``(model.Q, -1.0)`` (an exact
    negation, the same bits), so r-BP builds no J (an n x n array: about 1 s and 0.8 GB at
    D = 100)."""
    if getattr(model, "_J", None) is None:
        return model.Q, -1.0
    return model.J, 1.0


def rbp_chunks(n):
    """Number of row chunks of an r-BP sweep: fixed by the size alone, so serial and
    parallel sweeps sum in the same order."""
    return int(min(16, max(1, n // 64)))


def solve_rbp(model, beta=100.0, damping="auto", tol=1e-10, max_iter=10000,
              criterion="strict", init=None, history=False, parallel=None):
    """Relaxed belief propagation: Gaussian messages on every directed edge (docs/model.rst, section
    Relaxed BP).

    O(n_spins^2) time and memory per sweep. Converged means equal the exact means;
    variances are approximate (loopy Gaussian BP). ``damping="auto"`` is adaptive as in
    :func:`solve_amp`: message variances undamped (their recursion has a positive fixed
    point or meets a non-positive precision: ``"nonpositive_precision"``), message means
    undamped until their residual grows or shrinks slowly, then :func:`solve_amp`'s
    damping from the extreme eigenvalues at the messages' node variances
    (:func:`rbp_auto_damping` gives the threshold rule (docs/model.rst, section AMP) at the
    edge-variance fixed point by
    power iteration, for analysis). Other parameters as
    :func:`solve_amp`. ``init=(m0, v0)`` initialises every message ``k->i`` to
    ``(m0[k], v0[k])``. ``parallel`` splits each sweep's pair rows across threads (the
    same chunks either way, so the result does not depend on it); default by size.
    """
    from .kernels import rbp as K

    model, beta, damping, tol, max_iter, criterion, lam_k, m0, v0 = _iter_args(
        model, beta, damping, tol, max_iter, criterion, init, history, priors=True)
    info = {"criterion": criterion}
    code, params = _prior_kernel_args(model)
    if _has_prior(model):
        info["prior"] = model.prior.to_attrs()
    n = model.n_spins
    par = _use_parallel(parallel, n)
    _check_rbp_memory(n)
    hist = _history_buffer(history, max_iter)
    # packed pair messages (kernels/rbp.py): mu[p] = m_{i->j}, md[p] = m_{j->i} for i < j
    off, chunks = K.pair_offsets(n), rbp_chunks(n)
    pairs = n * (n - 1) // 2
    mu, vu, md, vd = (np.empty(pairs) for _ in range(4))
    J, sgn = _rbp_couplings(model)
    T, S = np.empty(n), np.empty(n)  # node sums of the messages, carried by the kernel
    K.init_messages(J, off, m0, v0, mu, vu, md, vd, K.chunk_bounds(n, chunks), T, S, par,
                    sgn)
    state = _auto_state() if damping == "auto" else np.empty(0)
    mean, var = m0.copy(), v0.copy()
    fixed = 0.0 if damping == "auto" else float(damping)

    def run(start, budget, tol=tol):
        if damping == "auto" and start > 0:
            _resume_window(state)
        return K.rbp_solve(J, model.h, lam_k, beta, off, mu, vu, md, vd, T, S, fixed, tol,
                           budget, criterion == "paper", hist[start:] if history else hist,
                           mean, var, chunks, par, state, code, params, sgn)

    def own_equation(m):
        if code != K.RIDGE:  # with a prior: one undamped sweep of the current messages
            return _rbp_step_residual(J, model.h, lam_k, beta, off, mu, vu, md, vd, T, S,
                                      chunks, code, params, sgn)
        return model.linear_residual(m)

    n_iter, res, reason = _certified(run, own_equation, mean, tol, max_iter, criterion, info)
    _damping_info(info, damping, state if damping == "auto" else None)
    if reason == CONVERGED:
        info["negative_cavity"] = int(np.sum(beta * lam_k - beta * beta * S < 0))
    return _finish("rbp", model, mean, var, n_iter, res, reason,
                   hist[:n_iter].copy() if history else None, info, beta=beta,
                   thermo=_rbp_thermo(model, beta, off, mu, vu, md, vd, criterion, info))


def _rbp_step_residual(J, h, qd, beta, off, mu, vu, md, vd, T, S, chunks, code, params,
                       sgn=1.0):
    """The residual (docs/model.rst, section Solvers) of one undamped r-BP sweep with a prior from
    the given messages and their node sums ``T, S``
    (on copies): the message fixed point's own equation (inf if the sweep is invalid).
    Couplings ``sgn * J`` (:func:`_rbp_couplings`)."""
    from .kernels import rbp as K

    n = J.shape[0]
    T, S = T.copy(), S.copy()
    Tn, Sn, A, B, um, uv = (np.empty(n) for _ in range(6))
    stats = np.zeros(K.N_STATS)
    nu, nvu, nd, nvd = mu.copy(), vu.copy(), md.copy(), vd.copy()
    K.rbp_sweep(J, h, qd, beta, off, nu, nvu, nd, nvd, T, S, Tn, Sn,
                A, B, 0.0, 0.0, um, uv, stats, K.chunk_bounds(n, chunks),
                np.empty((chunks, n)), np.empty((chunks, n)), np.zeros((chunks, K.N_STATS)),
                False, code, params, sgn)
    if not (stats[K.AMIN] > 0 and np.all(np.isfinite(stats))):
        return np.inf
    # the undamped sweep replaced the copies by the update: compare message by message
    return _scaled_change(np.concatenate((nu, nd)), np.concatenate((nvu, nvd)),
                          np.concatenate((mu, md)), np.concatenate((vu, vd)))


#: ``damping="auto"`` in full BP: the TAP rule, but at least this (damping acts on whole
#: densities there; 0.3 converged a D=4 case that diverged undamped)
BP_MIN_DAMPING = 0.3
#: ``damping="auto"`` in full BP with a non-Gaussian prior (the threshold rule (docs/model.rst,
#: section AMP) needs Gaussian
#: messages): a fixed moderate damping of the densities
BP_PRIOR_DAMPING = 0.5
#: largest grid spacing of full BP, in standard deviations of the initial messages (wider
#: grids put a message on one point: its variance is 0 and the sweep degenerates)
BP_MAX_SPACING = 4.0


def solve_bp(model, beta=100.0, grid=101, width=10.0, damping=0.3, tol=1e-10, max_iter=1000,
             criterion="strict", init=None, history=False):
    """Full cavity belief propagation with messages tabulated on grids (docs/model.rst, section Full
    BP).

    Messages are densities on K = ``grid`` points per spin, spanning the exact marginal's
    mean +- ``width`` standard deviations; cavity integrals by quadrature in log space;
    densities damped. Meant for small systems (D up to about 5: a sweep is
    O(n_spins^2 K^2)). For this quadratic model the messages are exactly Gaussian, so the
    result must agree with r-BP to grid accuracy; ``Marginals.kurtosis`` (excess kurtosis
    of each marginal) measures how Gaussian they are.

    ``damping="auto"`` is the rule of :func:`rbp_auto_damping`, at least
    :data:`BP_MIN_DAMPING`; with no positive variance fixed point the result is
    ``converged=False``, reason ``"nonpositive_precision"``.

    ``init=(m0, v0)`` sets the initial messages ``N(m0[k], v0[k])`` (default the prior
    ``N(0, 1/(beta lam_k))``), restricted to the grid. The grid must resolve them: a
    spacing ``2 width sd_k / (grid - 1)`` wider than :data:`BP_MAX_SPACING` initial
    standard deviations raises ValueError (this happens when the exact marginal is far
    wider than the prior, i.e. an ill-conditioned precision such as a tiny lam with
    P < n_spins; raise ``grid`` or ``lam``, or use :func:`solve_rbp`). Should a message
    still collapse onto one grid point during the iteration, the result is
    ``converged=False``, reason ``"nonpositive_precision"``.

    Convergence (``criterion="strict"``) is certified on the density fixed point: after the
    kernel's residual falls below ``tol``, one more undamped sweep of the final messages
    must change no message mean or variance by more than ``tol`` (the residual (docs/model.rst,
    section Solvers) of
    that sweep, ``info["fixed_point_residual"]``); otherwise the iteration resumes, up to
    ``max_iter``. The means are those of the grid densities, exact only to grid accuracy,
    so ``info["mean_equation_residual"]`` (``model.linear_residual(mean)``, the exact-mean
    equation ``A m = h``) is reported but not required to reach ``tol``.

    With a non-Gaussian prior (``model.prior``): for a discrete prior (Binary, Ternary) the
    grid is its support (``grid`` and ``width`` are unused) and the weights are its
    probabilities, so the messages are exact discrete distributions and BP runs at D = 10;
    a marginal may then be frozen (variance 0, kurtosis NaN). For Laplace the grids span
    converged TAP-AMP's mean +- ``width`` sd (ValueError if AMP does not converge) and the
    prior density enters the quadrature weights. Messages start at the prior;
    ``damping="auto"`` is :data:`BP_PRIOR_DAMPING`.
    """
    from .kernels import bp as K

    grid = check_positive_int("grid", grid)
    if grid < 5:
        raise ValueError(f"grid must be at least 5 points, got {grid}")
    width = check_positive("width", width)
    model, beta, damping, tol, max_iter, criterion, lam_k, m0, v0 = _iter_args(
        model, beta, damping, tol, max_iter, criterion, init, history, priors=True)
    n = model.n_spins
    prior = model.prior if _has_prior(model) else None
    discrete = prior is not None and prior.discrete
    K_pts = prior.support().size if discrete else grid
    # messages, their update, the log cavity fields, the certification sweep's two arrays
    # and the broadcast initial messages: about 6 n^2 K doubles
    check_memory("grid", K_pts, 8 * 6 * n * n * K_pts,
                 f"full BP's messages for n_spins={n} (about 6 n_spins^2 grid doubles; "
                 "use a smaller grid or solve_rbp)")
    hist = _history_buffer(history, max_iter)
    info = {"grid": K_pts, "width": None if discrete else width, "criterion": criterion}
    if prior is not None:
        info["prior"] = prior.to_attrs()
        if damping == "auto":
            damping = BP_PRIOR_DAMPING
    if damping == "auto":
        d, _, _, dinfo = rbp_auto_damping(model, beta, v0=v0)
        info.update(dinfo)
        if d is None:
            return _no_damping("bp", model, m0, v0, dinfo, info, history, np.zeros(n))
        damping = max(d, BP_MIN_DAMPING)
    if discrete:
        x, logw = _discrete_grid(prior, n)
    else:
        x, logw = _bp_grid(model, beta, grid, width, m0, v0, init, prior)
    # initial messages mu_{i->j} = N(m0_i, v0_i) on i's grid (with a prior and no init: the
    # prior itself), normalised by the kernel
    logp = (np.zeros((n, x.shape[1])) if prior is not None and init is None
            else -0.5 * (x - m0[:, None]) ** 2 / v0[:, None])
    logmu = np.ascontiguousarray(np.broadcast_to(logp[:, None, :], (n, n, x.shape[1])))
    del logp
    for i in range(n):
        for j in range(n):
            K._normalise(logmu[i, j], logw[i])
    mean, var, kurt = np.zeros(n), np.zeros(n), np.zeros(n)
    J, h = model.J, model.h
    paper = criterion == "paper"

    def run(start, budget, tol=tol):
        return K.bp_solve(J, h, lam_k, beta, x, logw, logmu, float(damping), tol, budget,
                          paper, hist[start:] if history else hist, mean, var, kurt, discrete)

    def own_equation(_):
        """How far the messages are from a fixed point: the largest change of a cavity
        field ``log phi_{k->i}`` over one undamped sweep (:func:`sgphys.kernels.bp.
        cavity_field_change`, up to normalisation); also refreshes the marginals from the
        messages (as the kernel does)."""
        lphi, new = np.empty_like(logmu), np.empty_like(logmu)
        K.bp_step(J, h, lam_k, beta, x, logw, logmu, lphi, new, mean, var, kurt)
        positive = (((var >= 0) & np.isfinite(var)).all() if discrete
                    else (var > 0).all())
        if not (positive and np.all(np.isfinite(mean))):
            return np.inf
        lphi_new = np.empty_like(lphi)
        K.log_phi(J, beta, x, logw, new, lphi_new)
        eq = float(K.cavity_field_change(lphi, lphi_new))
        return eq if np.isfinite(eq) else np.inf

    n_iter, res, code = _certified(run, own_equation, mean, tol, max_iter, criterion, info,
                                   key="fixed_point_residual")
    if n_iter == 0:
        mean, var, kurt = m0, v0, np.zeros(n)
    elif not discrete and code == CONVERGED:
        code = _grid_check(model, beta, x, logw, logmu, lam_k, var, info)
    if prior is None:
        info["mean_equation_residual"] = (model.linear_residual(mean)
                                          if np.all(np.isfinite(mean)) else np.inf)
    info["damping"] = float(damping)
    return _finish("bp", model, mean, var, n_iter, res, code,
                   hist[:n_iter].copy() if history else None, info, kurt=kurt, beta=beta,
                   thermo=_bp_thermo(model, beta, x, logw, logmu, lam_k, criterion, info))


#: full BP on a continuous grid: the largest probability a marginal may have in the two
#: end cells of its grid (a Gaussian cut at 6 sd, 100 points, has about 7e-10 there)
BP_EDGE_MASS = 1e-9


def _grid_check(model, beta, x, logw, logmu, lam_k, var, info):
    """Whether full BP's grids hold and resolve the converged marginals: the marginal
    probability in each grid's two end cells (``info["grid_edge_mass"]``, the largest)
    must stay below :data:`BP_EDGE_MASS` (else ``grid_truncated``: the grid cuts the
    marginal off) and the standard deviation of every marginal and every message must
    reach one grid spacing (``info["grid_resolution"]``, the smallest ratio; else
    ``grid_unresolved``: a density sits on a few points and the quadrature cannot resolve
    it, e.g. a collapsed marginal, or messages much narrower than the marginals)."""
    from .kernels import bp as K

    n, Kp = x.shape
    lphi = np.zeros_like(logmu)  # the diagonal k = i stays 0
    K.log_phi(model.J, beta, x, logw, logmu, lphi)
    total = -0.5 * beta * lam_k[:, None] * x * x + beta * model.h[:, None] * x
    total += lphi.sum(axis=0)
    for i in range(n):
        K._normalise(total[i], logw[i])
    p = np.exp(total + logw)
    edge = float(np.max(p[:, 0] + p[:, -1]))
    dx = x[:, 1] - x[:, 0]
    mm, mv = np.zeros((n, n)), np.zeros((n, n))
    K.message_moments(logmu, x, logw, mm, mv)
    mv[np.diag_indices(n)] = np.inf  # no message i -> i
    sd = np.sqrt(np.maximum(np.minimum(var, mv.min(axis=1)), 0.0))
    resolution = float(np.min(sd / dx))
    info.update(grid_edge_mass=edge, grid_resolution=resolution)
    if not edge <= BP_EDGE_MASS:
        return GRID_TRUNCATED
    if not resolution >= 1.0:
        return GRID_UNRESOLVED
    return CONVERGED


def _discrete_grid(prior, n):
    """Full BP's grids for a discrete prior: its support on every spin, and its log
    probabilities as the weights (messages are then exact discrete distributions)."""
    v, w = prior.support(), prior.weights()
    x = np.ascontiguousarray(np.broadcast_to(v, (n, v.size)), dtype=np.float64)
    logw = np.ascontiguousarray(np.broadcast_to(np.log(w), (n, v.size)), dtype=np.float64)
    return x, logw


def _bp_grid(model, beta, grid, width, m0, v0, init, prior):
    """Uniform grids mean +- width sd of a reference marginal (the exact one for the
    Gaussian prior, converged TAP-AMP for Laplace) and their log trapezoid weights (plus
    the Laplace log density ``-beta lam1 |x|``)."""
    from .kernels import bp as K

    if prior is None:
        ref = solve_exact(model, beta)
        what = "the exact marginal"
    else:
        ref = solve_amp(model, beta)
        what = "the TAP-AMP marginal"
        if not ref.converged:
            raise ValueError(f"beta={beta!r}: full BP with prior {prior!r} centres its grids "
                             f"on TAP-AMP's marginals, and AMP did not converge "
                             f"({ref.reason}); use solve_enumerate or sample_gibbs")
    sd = np.sqrt(ref.var)
    t = np.linspace(-1.0, 1.0, grid)
    with np.errstate(over="ignore", invalid="ignore"):
        x = ref.mean[:, None] + width * sd[:, None] * t[None, :]
        dx = x[:, 1] - x[:, 0]
    if not (np.all(np.isfinite(x)) and np.all(dx > 0)):
        raise ValueError(f"width={width!r}: the grids mean +- width sd of {what}s "
                         "overflow or have zero spacing")
    logw = K.grid_logw(x)
    if prior is not None:
        logw += -beta * prior.lam1 * np.abs(x)
        if init is None:
            return x, logw
    spacing = dx / np.sqrt(v0)
    worst = int(np.argmax(spacing))
    if spacing[worst] > BP_MAX_SPACING:
        need = int(np.ceil(2 * width * sd[worst] / (BP_MAX_SPACING * np.sqrt(v0[worst])))) + 1
        raise ValueError(
            f"grid={grid}, width={width!r}: spin {worst}'s grid spacing {dx[worst]:.3g} "
            f"(2 width sd / (grid - 1), sd = {sd[worst]:.3g} of {what}) is "
            f"{spacing[worst]:.3g} initial-message standard deviations "
            f"(sqrt(v0) = {np.sqrt(v0[worst]):.3g}); at most {BP_MAX_SPACING} resolve the "
            "messages. The exact marginal is much wider than the prior (ill-conditioned "
            f"precision, lam={model.lam!r}): raise grid to at least {need}, raise lam, "
            "or use solve_rbp")
    return x, logw


def warmup(verbose=False):
    """Compile (and cache on disk) every numba kernel on a tiny model.

    Returns the seconds spent. Run once after installing: later processes load the
    cached machine code instead of compiling.
    """
    import time

    from .spin import SpinModel
    from .tasks import sample_tasks

    verbose = check_bool("verbose", verbose)
    t0 = time.perf_counter()
    model = SpinModel.from_tasks(sample_tasks(2, 5, 40, seed=0), lam=0.5)
    for parallel in (False, True):
        for variant in ("tap", "paper"):
            solve_amp(model, 10.0, variant=variant, max_iter=5, parallel=parallel)
            solve_amp(model, 10.0, variant=variant, damping=0.5, max_iter=5,
                      criterion="paper", history=True, parallel=parallel)
    for parallel in (False, True):
        solve_rbp(model, 10.0, max_iter=5, history=True, parallel=parallel)
    solve_bp(model, 10.0, grid=9, max_iter=2)
    # the prior kernels (denoisers inside AMP, r-BP; discrete full BP)
    from .priors import Laplace, Ternary

    tasks = sample_tasks(2, 5, 40, seed=0)
    for prior in (Ternary(1.0, 0.5), Laplace(0.1)):
        pm = SpinModel.from_tasks(tasks, 0.0, prior=prior)
        for parallel in (False, True):
            solve_amp(pm, 10.0, max_iter=5, parallel=parallel)
            solve_amp(pm, 10.0, damping=0.5, max_iter=5, parallel=parallel)
            solve_rbp(pm, 10.0, max_iter=5, parallel=parallel)
    solve_bp(SpinModel.from_tasks(tasks, 0.0, prior=Ternary(1.0, 0.5)), 10.0, max_iter=2)
    # the sweeps' model series and stacked test errors
    from .observables import test_error
    from .spin import prefix_models

    stats = sample_tasks(2, 5, 40, seed=0, method="statistics").keep()
    for _ in prefix_models(2, 0.5, *stats.feature_arrays(), [10, 40]):
        pass
    test_error(np.zeros((2, 3, 3)), stats)
    seconds = time.perf_counter() - t0
    if verbose:
        print(f"sgphys kernels compiled and cached in {seconds:.1f} s")
    return seconds
