"""Free energies of the spin glass: closed form, TAP, Bethe (docs/thermodynamics.md).

Convention: ``log_z = log ∫ exp(-beta E(s)) dmu(s)``, with ``E`` the Hamiltonian of
:mod:`sgphys.spin` plus the prior's penalty (``lam1 |s|`` for Laplace; the Gaussian ridge is
already in ``lam_k``; nothing for a discrete prior) and ``mu`` the prior's base measure
(Lebesgue for continuous spins, the prior's weights on its support for discrete ones).
Then ``energy = <E> = -d log_z / d beta``, ``entropy = log_z + beta energy`` and
``free_energy = -log_z / beta``.

Every function returns a dict with the float entries ``log_z``, ``energy``, ``entropy``,
``free_energy`` and ``reason``: None when the values are defined, otherwise a short string
saying why they are NaN.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special

from ._validate import (check_array, check_choice, check_nonnegative, check_positive,
                        check_positive_int)
from .priors import Gaussian, Laplace, _mills

__all__ = ["gaussian_thermo", "tap_thermo", "bethe_gaussian_thermo", "bethe_grid_thermo",
           "unpack_rbp", "thermo_dict", "nan_thermo", "integrate_energy",
           "prior_energy_moments", "laplace_small_beta_log_z"]

_LOG_2PI = math.log(2.0 * math.pi)


def thermo_dict(log_z, energy, beta):
    """``{log_z, energy, entropy, free_energy, reason}`` from ``log_z`` and ``energy``.

    Non-finite input gives the NaN dict with reason ``"non-finite"``.
    """
    log_z, energy = float(log_z), float(energy)
    if not (math.isfinite(log_z) and math.isfinite(energy)):
        return nan_thermo("non-finite")
    return {"log_z": log_z, "energy": energy, "entropy": log_z + beta * energy,
            "free_energy": -log_z / beta, "reason": None}


def nan_thermo(reason):
    """The NaN dict with ``reason`` (a short string)."""
    nan = float("nan")
    return {"log_z": nan, "energy": nan, "entropy": nan, "free_energy": nan,
            "reason": str(reason)}


# -- the Gaussian measure -----------------------------------------------------------------------

def gaussian_thermo(logdet_A, h, mean, n, beta):
    """Exact thermodynamics of the Gaussian measure ``exp(-beta (s^T A s/2 - h^T s))``.

    Parameters
    ----------
    logdet_A : float
        ``log det A`` (e.g. twice the sum of the log Cholesky pivots), ``A = Q + lam I``.
    h : array_like (n,)
        Fields.
    mean : array_like (n,)
        Exact means ``A^-1 h``.
    n : int
        Number of spins.
    beta : float > 0

    Returns
    -------
    dict
        ``log_z = (n/2) log(2 pi/beta) - (1/2) log det A + (beta/2) h^T A^-1 h``,
        ``energy = n/(2 beta) - (1/2) h^T A^-1 h``, entropy, free_energy, reason None.
    """
    n = check_positive_int("n", n)
    beta = check_positive("beta", beta)
    h = check_array("h", h, shape=(n,))
    mean = check_array("mean", mean, shape=(n,))
    logdet = float(check_array("logdet_A", logdet_A, ndim=0))
    hm = float(h @ mean)
    log_z = 0.5 * n * (_LOG_2PI - math.log(beta)) - 0.5 * logdet + 0.5 * beta * hm
    energy = 0.5 * n / beta - 0.5 * hm
    return thermo_dict(log_z, energy, beta)


# -- single-site normalisations -------------------------------------------------------------

def _log_half_gauss(a, t):
    """log ∫_0^inf exp(-a s^2/2 + t sqrt(a) s) ds = (1/2)log(2 pi/a) + t^2/2 + log Phi(t)."""
    return 0.5 * (_LOG_2PI - np.log(a)) + 0.5 * t * t + scipy.special.log_ndtr(t)


def _site_log_z(prior, beta, a, b):
    """``log Z_i`` of ``base(s) exp(b s - a s^2/2)`` (times ``exp(-beta lam1 |s|)`` for
    Laplace) and the site average of ``|s|`` (Laplace only, else None); NaN where the
    integral diverges (``a <= 0`` for a continuous prior)."""
    if prior.discrete:
        v, lw = prior.support(), np.log(prior.weights())
        L = lw - 0.5 * a[:, None] * v * v + b[:, None] * v
        return scipy.special.logsumexp(L, axis=1), None
    ok = a > 0
    asafe = np.where(ok, a, 1.0)
    if isinstance(prior, Gaussian):  # the ridge is in a (lam_k = lam + Q_kk)
        lz = 0.5 * (_LOG_2PI - np.log(asafe)) + 0.5 * b * b / asafe
        return np.where(ok, lz, np.nan), None
    c = beta * prior.lam1
    sa = np.sqrt(asafe)
    lz = np.logaddexp(_log_half_gauss(asafe, (b - c) / sa), _log_half_gauss(asafe, -(b + c) / sa))
    lp, dp, _ = _mills((c - b) / sa)
    lm, dm, _ = _mills((c + b) / sa)
    abs_s = (lm * dp + lp * dm) / (lp + lm) / sa  # <|s|> = sigma (p+ d+ + p- d-)
    return np.where(ok, lz, np.nan), np.where(ok, abs_s, np.nan)


# -- TAP ------------------------------------------------------------------------------------

def tap_thermo(model, beta, m, v, variant="tap", prior=None):
    """TAP (second-order Plefka) free energy at an AMP state ``(m, v)``.

    With ``V_i = beta^2 sum_k J_ik^2 v_k``, ``a_i = beta lam_i - V_i``, ``b_i = beta h_i +
    beta sum_k J_ik m_k - V_i m_i`` (AMP's TAP step, docs/model.rst) and ``Z_i(a, b)`` the
    normalisation of ``base(s) exp(b s - a s^2/2)`` (times ``exp(-beta lam1 |s|)`` for
    Laplace)::

        log_z = sum_i [log Z_i - b_i m_i + a_i (v_i + m_i^2)/2]
                + beta [m^T J m/2 + h.m - sum_i lam_i (v_i + m_i^2)/2]
                + (beta^2/4) sum_{i != j} J_ij^2 v_i v_j

    stationary in ``(m, v)`` exactly at AMP's TAP fixed points; there, by the envelope
    theorem, ``energy = -d log_z/d beta = E(m) + sum_i lam_i v_i/2 - beta sum_{i<j}
    J_ij^2 v_i v_j`` (+ ``lam1 sum_i <|s_i|>`` for Laplace, the average under the site
    measure). Meaningful only at a converged TAP fixed point (Plefka 1982; Opper and Winther
    2001 for the moment-matched form).

    Parameters
    ----------
    model : SpinModel
    beta : float > 0
    m, v : array_like (n_spins,)
        AMP means and variances (v >= 0).
    variant : {"tap", "paper"}
        ``"paper"`` (no Onsager term) has no free energy: NaN dict.
    prior : prior, optional
        Default ``model.prior``.

    Returns
    -------
    dict
        ``log_z``, ``energy``, ``entropy``, ``free_energy``, ``reason`` (None, or why NaN:
        ``"paper variant"``, ``"nonpositive_precision"``).
    """
    from .priors import get_prior
    from .spin import check_model

    model = check_model(model)
    beta = check_positive("beta", beta)
    variant = check_choice("variant", variant, ("tap", "paper"))
    n = model.n_spins
    m = check_array("m", m, shape=(n,))
    v = check_array("v", v, shape=(n,))
    if np.any(v < 0):
        raise ValueError(f"v must be >= 0 everywhere, got a negative entry (float64 array of "
                         f"shape {v.shape})")
    prior = get_prior(prior, default=model.prior)
    if variant == "paper":
        return nan_thermo("paper variant (no Onsager term): no free energy")
    return _tap_thermo(model, beta, m, v, prior)


def _tap_thermo(model, beta, m, v, prior, sums=None):
    """:func:`tap_thermo` of checked arguments; ``sums = (Jm, JJv)``, the row sums
    ``J m`` and ``(J∘J) v`` of this state (:func:`sgphys.kernels.amp.row_sums`) if the
    caller holds them, else one pass over J computes them."""
    from .kernels.amp import couplings_for_rows, row_sums

    n = model.n_spins
    h, lam_k = model.h, model.lam_k
    if sums is None:
        J, rows = couplings_for_rows(model, n >= 400)
        Jm, JJv = np.empty(n), np.empty(n)
        row_sums(J, m, v, Jm, JJv, rows)  # one pass over J (or Q), no BLAS, no n^2 temporaries
    else:
        Jm, JJv = sums
    V = beta * beta * JJv
    a = beta * lam_k - V
    b = beta * h + beta * Jm - V * m
    lz_i, abs_s = _site_log_z(prior, beta, a, b)
    if not np.all(np.isfinite(lz_i)):
        return nan_thermo("nonpositive_precision")
    mu2 = v + m * m
    pair = 0.5 * float(v @ JJv)  # sum_{i<j} J_ij^2 v_i v_j (J has zero diagonal)
    log_z = (float(np.sum(lz_i - b * m + 0.5 * a * mu2))
             + beta * (0.5 * float(m @ Jm) + float(h @ m) - 0.5 * float(lam_k @ mu2))
             + 0.5 * beta * beta * pair)
    e_m = -0.5 * float(m @ Jm) - float(h @ m) + 0.5 * float(lam_k @ (m * m))
    energy = e_m + 0.5 * float(lam_k @ v) - beta * pair
    if isinstance(prior, Laplace):
        energy += prior.lam1 * float(np.sum(abs_s))
    return thermo_dict(log_z, energy, beta)


# -- Bethe, Gaussian messages ----------------------------------------------------------------

def unpack_rbp(n, mu, vu, md, vd):
    """r-BP's packed pair messages (:mod:`sgphys.kernels.rbp`) as dense ``(mm, vm)`` with
    ``mm[k, i] = m_{k->i}``, ``vm[k, i] = v_{k->i}`` (zero diagonal)."""
    n = check_positive_int("n", n)
    npairs = n * (n - 1) // 2
    arrs = [check_array(name, x, shape=(npairs,))
            for name, x in (("mu", mu), ("vu", vu), ("md", md), ("vd", vd))]
    iu, ju = np.triu_indices(n, 1)
    mm = np.zeros((n, n))
    vm = np.zeros((n, n))
    mm[iu, ju], vm[iu, ju], mm[ju, iu], vm[ju, iu] = arrs
    return mm, vm


def _check_dense(J, h, lam_k, beta):
    J = check_array("J", J, ndim=2)
    n = J.shape[0]
    if J.shape != (n, n):
        raise ValueError(f"J must be square, got shape {J.shape}")
    h = check_array("h", h, shape=(n,))
    lam_k = check_array("lam_k", lam_k, shape=(n,))
    beta = check_positive("beta", beta)
    J = J.copy()
    np.fill_diagonal(J, 0.0)
    return J, h, lam_k, beta, n


def bethe_gaussian_thermo(J, h, lam_k, beta, mm, vm):
    """Bethe free energy of Gaussian (r-BP) messages; exact on a tree.

    With cavity messages ``N(m_{k->i}, v_{k->i})`` (``mm[k, i]``, ``vm[k, i]``)::

        log_z = sum_i log Z_i - sum_{i<j} log Z_ij
        Z_i   = ∫ exp(-a_i s^2/2 + b_i s) ds,    a_i = beta lam_i - beta^2 sum_k J_ik^2 v_{k->i},
                                                 b_i = beta h_i + beta sum_k J_ik m_{k->i}
        Z_ij  = ∫∫ N(s_i; m_{i->j}, v_{i->j}) exp(beta J_ij s_i s_j) N(s_j; m_{j->i}, v_{j->i})

    (Mezard and Montanari 2009, Eq. 14.27 for pairwise factors), stationary at r-BP fixed
    points; ``energy = -∂ log_z/∂ beta`` at fixed messages (envelope theorem: the Bethe
    average energy of the node and pair beliefs).

    Parameters
    ----------
    J : array_like (n, n)
        Symmetric couplings (the diagonal is ignored).
    h, lam_k : array_like (n,)
    beta : float > 0
    mm, vm : array_like (n, n)
        Message means and variances, ``[k, i]`` = from k to i (diagonals ignored).

    Returns
    -------
    dict
        As :func:`thermo_dict`; reason ``"nonpositive_precision"`` if a node precision
        ``a_i`` or a pair's ``1 - beta^2 J_ij^2 v_{i->j} v_{j->i}`` is not positive.
    """
    J, h, lam_k, beta, n = _check_dense(J, h, lam_k, beta)
    mm = check_array("mm", mm, shape=(n, n)).copy()
    vm = check_array("vm", vm, shape=(n, n)).copy()
    np.fill_diagonal(mm, 0.0)
    np.fill_diagonal(vm, 0.0)
    off = ~np.eye(n, dtype=bool)
    if np.any(vm[off] <= 0):
        return nan_thermo("nonpositive_precision")
    S = np.sum(J * J * vm.T, axis=1)  # S_i = sum_k J_ik^2 v_{k->i}
    T = np.sum(J * mm.T, axis=1)  # T_i = sum_k J_ik m_{k->i}
    a = beta * lam_k - beta * beta * S
    b = beta * h + beta * T
    if not np.all(a > 0):
        return nan_thermo("nonpositive_precision")
    M = b / a
    log_zi = 0.5 * (_LOG_2PI - np.log(a)) + 0.5 * b * M
    da = lam_k - 2.0 * beta * S
    db = h + T
    dlog_zi = -0.5 * da * (1.0 / a + M * M) + db * M
    iu, ju = np.triu_indices(n, 1)
    Jp = J[iu, ju]
    m1, v1, m2, v2 = mm[iu, ju], vm[iu, ju], mm[ju, iu], vm[ju, iu]
    x = beta * Jp
    g = x * x * v1 * v2
    one_g = 1.0 - g
    if not np.all(one_g > 0):
        return nan_thermo("nonpositive_precision")
    c = m2 * m2 * v1 + m1 * m1 * v2
    num = x * m1 * m2 + 0.5 * x * x * c
    log_zij = -0.5 * np.log1p(-g) + num / one_g
    # d/dx of log Z_ij, times dx/dbeta = J
    dnum = m1 * m2 + x * c
    dg = 2.0 * x * v1 * v2
    dlog_zij = Jp * (0.5 * dg / one_g + dnum / one_g + num * dg / (one_g * one_g))
    log_z = float(np.sum(log_zi)) - float(np.sum(log_zij))
    energy = -(float(np.sum(dlog_zi)) - float(np.sum(dlog_zij)))
    return thermo_dict(log_z, energy, beta)


# -- Bethe, gridded messages -----------------------------------------------------------------

def bethe_grid_thermo(J, h, lam_k, beta, x, logw, logmu, lam1=0.0):
    """Bethe free energy of full BP's gridded messages (:mod:`sgphys.kernels.bp`).

    Message ``i -> j`` is the mass ``exp(logw[i] + logmu[i, j])`` on spin i's grid
    ``x[i]`` (normalised to 1 here); node factor ``exp(logw[i] - beta lam_i x^2/2 + beta h_i
    x)``; ``log_z = sum_i log Z_i - sum_{i<j} log Z_ij`` as in
    :func:`bethe_gaussian_thermo` with sums over the grids; ``energy = -∂ log_z/∂ beta`` at
    fixed message masses. For a discrete prior, ``x`` is its support and ``logw`` its log
    weights (exact on a tree); for Laplace, ``logw`` includes ``-beta lam1 |x|`` as in
    :func:`sgphys.solvers.solve_bp` and ``lam1`` must be given (its energy term).

    Parameters
    ----------
    J : array_like (n, n);  h, lam_k : array_like (n,);  beta : float > 0
    x, logw : array_like (n, K)
        Grids and log quadrature weights.
    logmu : array_like (n, n, K)
        Log message densities ``[i, j, :]`` from i to j (diagonal ignored).
    lam1 : float >= 0
        Laplace strength (0 otherwise).

    Returns
    -------
    dict
        As :func:`thermo_dict`.
    """
    from scipy.special import logsumexp

    J, h, lam_k, beta, n = _check_dense(J, h, lam_k, beta)
    x = check_array("x", x, ndim=2)
    K = x.shape[1]
    if x.shape[0] != n:
        raise ValueError(f"x must have shape (n, K) with n = {n}, got {x.shape}")
    logw = check_array("logw", logw, shape=(n, K))
    logmu = np.asarray(logmu)
    if logmu.dtype.kind not in "iuf" or logmu.shape != (n, n, K):
        raise ValueError(f"logmu must be a real array of shape (n, n, K) = {(n, n, K)}, got "
                         f"dtype {logmu.dtype}, shape {logmu.shape}")
    logmu = logmu.astype(np.float64)
    if np.any(np.isnan(logmu)) or np.any(logmu == np.inf):
        raise ValueError(f"logmu must not contain NaN or +inf (float64 array of shape "
                         f"{logmu.shape})")
    lam1 = check_nonnegative("lam1", lam1)
    # normalised log message masses
    lnu = logmu + logw[:, None, :]
    lnu = lnu - logsumexp(lnu, axis=2, keepdims=True)
    # log phi_{k->i}(x_i[a]) and its beta-derivative, for all k != i
    L = np.zeros((n, n, K))
    dL = np.zeros((n, n, K))
    for k in range(n):
        for i in range(n):
            if i == k or J[i, k] == 0.0:
                continue
            prod = np.outer(x[i], x[k])  # [a, b]
            t = lnu[k, i][None, :] + beta * J[i, k] * prod
            lse = logsumexp(t, axis=1)
            L[k, i] = lse
            dL[k, i] = J[i, k] * np.sum(np.exp(t - lse[:, None]) * prod, axis=1)
    log_z = 0.0
    dlog_z = 0.0
    for i in range(n):
        node_e = -0.5 * lam_k[i] * x[i] ** 2 + h[i] * x[i] - lam1 * np.abs(x[i])
        t = logw[i] + beta * (-0.5 * lam_k[i] * x[i] ** 2 + h[i] * x[i]) + L[:, i].sum(axis=0)
        lz = logsumexp(t)
        p = np.exp(t - lz)
        log_z += lz
        dlog_z += float(p @ (node_e + dL[:, i].sum(axis=0)))
    for i in range(n):
        for j in range(i + 1, n):
            if J[i, j] == 0.0:
                continue
            prod = np.outer(x[i], x[j])
            t = lnu[i, j][:, None] + lnu[j, i][None, :] + beta * J[i, j] * prod
            lz = logsumexp(t)
            log_z -= lz
            dlog_z -= J[i, j] * float(np.sum(np.exp(t - lz) * prod))
    if not (math.isfinite(log_z) and math.isfinite(dlog_z)):
        return nan_thermo("non-finite")
    return thermo_dict(log_z, -dlog_z, beta)


# -- thermodynamic integration -----------------------------------------------------------------

def integrate_energy(betas, mean, var, log_beta=False, corrected=True):
    """``∫ <E>_b db`` over ascending nodes ``betas`` from the mean energies and their
    variances (``d<E>/d beta = -Var(E)``): the trapezoid rule with the Euler-Maclaurin end
    correction (cubic Hermite quadrature, error O(h^5) per interval).

    In ``beta`` (default): ``(h/2)(f_a + f_b) + (h^2/12)(var_b - var_a)`` per interval,
    ``f = <E>``. With ``log_beta`` (all nodes > 0) the same rule in ``u = log beta`` on
    ``g = beta <E>``, ``dg/du = beta (<E> - beta Var(E))``: exact for the ``n/(2 beta)``
    part of a Gaussian energy, so geometric ladders need fewer rungs.

    Parameters
    ----------
    betas : array_like (T,), ascending
    mean, var : array_like (T,) or (T, B)
        ``<E>`` and ``Var(E)`` at each node (B columns: B independent estimates).
    log_beta : bool
    corrected : bool
        False: the plain trapezoid rule (``var`` unused), to gauge the quadrature error.

    Returns
    -------
    float or ndarray (B,)
    """
    betas = check_array("betas", betas, ndim=1)
    if betas.size < 1 or np.any(np.diff(betas) <= 0):
        raise ValueError(f"betas must be a non-empty ascending array, got shape {betas.shape}")
    mean = check_array("mean", mean)
    var = check_array("var", var)
    if mean.shape[:1] != betas.shape or var.shape != mean.shape or mean.ndim > 2:
        raise ValueError(f"mean and var must have shape (T,) or (T, B) with T = {betas.size}, "
                         f"got {mean.shape} and {var.shape}")
    col = (-1,) + (1,) * (mean.ndim - 1)
    if log_beta:
        if not betas[0] > 0:
            raise ValueError(f"betas must be > 0 with log_beta (float64 array of shape "
                             f"{betas.shape})")
        b = betas.reshape(col)
        f = b * mean
        df = -b * (b * var - mean)
        x = np.log(betas)
    else:
        f, df, x = mean, -var, betas
    hs = np.diff(x).reshape(col)
    seg = 0.5 * hs * (f[:-1] + f[1:])
    if corrected:
        seg = seg + hs * hs / 12.0 * (df[:-1] - df[1:])
    out = seg.sum(axis=0)
    return float(out) if mean.ndim == 1 else out


def prior_energy_moments(Q, h, prior):
    """Mean and variance of ``E0(s) = s^T Q s/2 - h.s`` under independent spins drawn from
    a discrete prior (the ``beta = 0`` end of thermodynamic integration).

    With ``mu`` the prior mean, ``c2, c3, c4`` its central moments and ``g = Q mu 1 - h``:
    ``<E0> = E0(mu 1) + c2 tr(Q)/2``, ``Var E0 = c2 |g|^2 + c3 sum_k g_k Q_kk + c2^2
    sum_{k<l} Q_kl^2 + (c4 - c2^2) sum_k Q_kk^2 / 4``.
    """
    Q = check_array("Q", Q, ndim=2)
    n = Q.shape[0]
    h = check_array("h", h, shape=(n,))
    v, w = prior.support(), prior.weights()
    mu = float(w @ v)
    d = v - mu
    c2, c3, c4 = (float(w @ d ** k) for k in (2, 3, 4))
    s = np.full(n, mu)
    g = Q @ s - h
    qd = np.diag(Q)
    e_mu = 0.5 * float(s @ Q @ s) - float(h @ s)
    mean = e_mu + 0.5 * c2 * float(qd.sum())
    off = 0.5 * (float(np.sum(Q * Q)) - float(qd @ qd))
    var = (c2 * float(g @ g) + c3 * float(g @ qd) + c2 * c2 * off
           + 0.25 * (c4 - c2 * c2) * float(qd @ qd))
    return mean, var


def laplace_small_beta_log_z(Q, h, lam1, beta):
    """``log_z`` of the Laplace-prior measure at small ``beta``, to O(beta^(3/2)).

    With ``s = t / sqrt(beta)``, ``log Z = (n/2) log(2 pi/beta) - (1/2) log det Q +
    log <exp(-sqrt(beta) X)>``, ``X = lam1 sum_k |t_k| - h.t``, ``t ~ N(0, Q^-1)``; the
    cumulant expansion to second order uses ``<|t_k|> = sqrt(2 S_kk/pi)``,
    ``<|t_k| |t_l|> = (2/pi) sigma_k sigma_l (sqrt(1 - rho^2) + rho arcsin rho)`` and
    ``Var(h.t) = h^T S h`` (``S = Q^-1``; ``|t|`` and ``h.t`` are uncorrelated).

    Parameters
    ----------
    Q : array_like (n, n), positive definite;  h : array_like (n,)
    lam1 : float > 0;  beta : float > 0

    Returns
    -------
    log_z : float
    sd_x : float
        ``sqrt(beta Var X)``, the expansion's small parameter (the neglected term is of
        order ``sd_x^3``).
    """
    Q = check_array("Q", Q, ndim=2)
    n = Q.shape[0]
    h = check_array("h", h, shape=(n,))
    lam1 = check_positive("lam1", lam1)
    beta = check_positive("beta", beta)
    try:
        L = np.linalg.cholesky(Q)
    except np.linalg.LinAlgError:
        raise ValueError("Q must be positive definite for the small-beta expansion") from None
    S = np.linalg.inv(Q)
    S = 0.5 * (S + S.T)
    sd = np.sqrt(np.diag(S))
    rho = np.clip(S / np.outer(sd, sd), -1.0, 1.0)
    e_abs = sd * math.sqrt(2.0 / math.pi)
    e_pair = (2.0 / math.pi) * np.outer(sd, sd) * (np.sqrt(1.0 - rho * rho)
                                                   + rho * np.arcsin(rho))
    var_x = lam1 * lam1 * float(np.sum(e_pair - np.outer(e_abs, e_abs))) + float(h @ S @ h)
    mean_x = lam1 * float(np.sum(e_abs))
    log_z = (0.5 * n * (_LOG_2PI - math.log(beta)) - float(np.sum(np.log(np.diag(L))))
             - math.sqrt(beta) * mean_x + 0.5 * beta * var_x)
    return log_z, math.sqrt(beta * var_x)
