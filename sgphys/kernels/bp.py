"""Full cavity belief propagation on grids (docs/model.rst, section Full BP, paper Eq. 6 / appendix
Eq. S12).

Each directed message ``mu_{i->j}(s_i)`` is a density tabulated on spin i's grid
``x[i, :]`` (K points, uniform spacing ``dx[i]``), stored as a normalised log-density
``logmu[i, j, :]`` (``sum_a dx_i exp(logmu[i, j, a]) = 1``, trapezoid weights). The cavity
integral

    log phi_{k->i}(x_a) = log sum_b w_b exp(beta J_ik x_a y_b + log mu_{k->i}(y_b))

is done by quadrature in log space; receiver i sums ``log phi`` over all k once and
subtracts the target's term, so a sweep costs O(n^2 K^2).

Compiled with ``error_model="numpy"``: a division by zero gives inf or NaN (caught by
:func:`bp_solve`'s checks), never a ZeroDivisionError.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import _cache  # noqa: F401  (first: numba's cache locator for the kernels)

from .convergence import (BLOWUP, BLOWUP_LIMIT, CONVERGED, FASTMATH, MAX_ITER, NONPOSITIVE,
                          change_stats, paper_change_from_sums)


@njit(cache=True, error_model="numpy")
def trapezoid_logw(K, dx):
    """log of the trapezoid weights on a uniform grid of K points and spacing dx."""
    lw = np.full(K, np.log(dx))
    lw[0] = np.log(0.5 * dx)
    lw[K - 1] = np.log(0.5 * dx)
    return lw


@njit(cache=True, error_model="numpy")
def grid_logw(x):
    """Trapezoid log weights (n, K) of the uniform grids ``x`` (n, K), one row per spin."""
    n, K = x.shape
    logw = np.empty((n, K))
    for i in range(n):
        logw[i] = trapezoid_logw(K, x[i, 1] - x[i, 0])
    return logw


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def log_phi(J, beta, x, logw, logmu, out):
    """out[k, i, a] = log phi_{k->i}(x[i, a]) for all k != i."""
    n, K = x.shape
    e = np.empty(K)
    for k in range(n):
        for i in range(n):
            if i == k:
                continue
            c = beta * J[i, k]
            for a in range(K):
                ca = c * x[i, a]
                emax = -np.inf
                for b in range(K):
                    val = ca * x[k, b] + logmu[k, i, b] + logw[k, b]
                    e[b] = val
                    if val > emax:
                        emax = val
                s = 0.0
                for b in range(K):
                    s += np.exp(e[b] - emax)
                out[k, i, a] = emax + np.log(s)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _normalise(logp, logw):
    """Normalise a log-density in place against log weights; return its log-norm."""
    K = logp.shape[0]
    pmax = -np.inf
    for a in range(K):
        v = logp[a] + logw[a]
        if v > pmax:
            pmax = v
    s = 0.0
    for a in range(K):
        s += np.exp(logp[a] + logw[a] - pmax)
    lz = pmax + np.log(s)
    for a in range(K):
        logp[a] -= lz
    return lz


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def moments(logp, xg, logw):
    """Mean, variance and excess kurtosis of a normalised log-density on a grid.

    A density on a single grid point has variance 0 and kurtosis NaN (never a division
    error); :func:`bp_solve` stops with ``NONPOSITIVE`` then."""
    K = logp.shape[0]
    m = 0.0
    for a in range(K):
        m += np.exp(logp[a] + logw[a]) * xg[a]
    m2 = 0.0
    m4 = 0.0
    for a in range(K):
        p = np.exp(logp[a] + logw[a])
        d = xg[a] - m
        m2 += p * d * d
        m4 += p * d * d * d * d
    if not (m2 * m2 > 0.0):  # m2 = 0, or so small that m2^2 underflows
        return m, m2, np.nan
    return m, m2, m4 / (m2 * m2) - 3.0


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def bp_step(J, h, lam_k, beta, x, logw, logmu, lphi, new_logmu, mean, var, kurt):
    """One undamped sweep: new normalised messages and the full marginals."""
    n, K = x.shape
    log_phi(J, beta, x, logw, logmu, lphi)
    total = np.empty(K)
    tmp = np.empty(K)
    for i in range(n):
        for a in range(K):
            xa = x[i, a]
            t = -0.5 * beta * lam_k[i] * xa * xa + beta * h[i] * xa
            for k in range(n):
                if k != i:
                    t += lphi[k, i, a]
            total[a] = t
        for a in range(K):
            tmp[a] = total[a]
        _normalise(tmp, logw[i])
        mean[i], var[i], kurt[i] = moments(tmp, x[i], logw[i])
        for j in range(n):
            if j == i:
                continue
            for a in range(K):
                new_logmu[i, j, a] = total[a] - lphi[j, i, a]
            _normalise(new_logmu[i, j], logw[i])


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def message_moments(logmu, x, logw, mm, mv):
    n, _, K = logmu.shape
    for i in range(n):
        for j in range(n):
            if i != j:
                mm[i, j], mv[i, j], _ = moments(logmu[i, j], x[i], logw[i])


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def bp_solve(J, h, lam_k, beta, x, logw, logmu, damping, tol, max_iter, paper_criterion,
             history, mean, var, kurt, discrete):
    """Iterate full BP in place on ``logmu``; damping acts on the densities.

    Damping mixes the log-densities (``log mu <- damping log mu + (1 - damping) log
    mu_new``, renormalised), i.e. the messages' natural parameters for Gaussian messages.
    ``logw`` (n, K) are the log quadrature weights of the grids ``x`` (:func:`grid_logw`),
    plus the log prior density where the model has a non-Gaussian prior; for a discrete
    prior (``discrete``) ``x`` holds its support and ``logw`` its log probabilities, so
    messages are exact discrete distributions. Convergence is judged on the messages'
    means and variances with the residual (docs/model.rst, section Solvers). Returns (n_iter,
    residual, reason):
    ``NONPOSITIVE`` when a marginal or message has collapsed onto one grid point (variance
    not positive: the grid cannot resolve it; a discrete marginal may legitimately be
    frozen, so this check is off with ``discrete``), ``BLOWUP`` on a non-finite or huge
    mean.
    """
    n, K = x.shape
    lphi = np.zeros((n, n, K))
    new_logmu = np.zeros((n, n, K))
    old_m = np.zeros((n, n))
    old_v = np.zeros((n, n))
    new_m = np.zeros((n, n))
    new_v = np.zeros((n, n))
    message_moments(logmu, x, logw, old_m, old_v)
    keep_history = history.shape[0] > 0
    res = np.inf
    for it in range(max_iter):
        bp_step(J, h, lam_k, beta, x, logw, logmu, lphi, new_logmu, mean, var, kurt)
        message_moments(new_logmu, x, logw, new_m, new_v)
        for i in range(n):
            if not (abs(mean[i]) < BLOWUP_LIMIT):
                return it, res, BLOWUP
        for i in range(n):
            if not (var[i] > 0.0 or (discrete and var[i] == 0.0)):
                return it, res, NONPOSITIVE
            for j in range(n):
                if i != j and not (new_v[i, j] > 0.0 or (discrete and new_v[i, j] == 0.0)):
                    return it, res, NONPOSITIVE
        # the diagonal (no message i->i) is zero in both and adds nothing
        res, sm, sv = change_stats(new_m, new_v, old_m, old_v)
        if not (res == res):
            return it, np.inf, BLOWUP
        if keep_history:
            history[it] = res
        # damping of the log-densities (geometric mixing): an initial message's remnant
        # decays as damping^t in log space everywhere on the grid; mixing the densities
        # themselves would leave a remnant of weight damping^t in the tails that the
        # kernel exp(beta J s s') amplifies by up to e^100 (wrong marginals that pass a
        # moment check)
        w = 1.0 - damping
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                if damping == 0.0:
                    for a in range(K):
                        logmu[i, j, a] = new_logmu[i, j, a]
                else:
                    for a in range(K):
                        u = logmu[i, j, a]
                        t = new_logmu[i, j, a]
                        if u == -np.inf or t == -np.inf:
                            logmu[i, j, a] = -np.inf
                        else:
                            logmu[i, j, a] = damping * u + w * t
                    _normalise(logmu[i, j], logw[i])
        message_moments(logmu, x, logw, old_m, old_v)
        crit = paper_change_from_sums(sm, sv, max(1, n * (n - 1))) if paper_criterion else res
        if crit < tol:
            bp_step(J, h, lam_k, beta, x, logw, logmu, lphi, new_logmu, mean, var, kurt)
            return it + 1, res, CONVERGED
    return max_iter, res, MAX_ITER


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def cavity_field_change(lphi_old, lphi_new):
    """Largest change of a cavity field between two sweeps: the maximum over ``k != i`` of
    half the oscillation over the grid of ``log phi_new[k, i] - log phi_old[k, i]`` (a
    log-ratio, so dimensionless; the additive normalisation drops out). Zero exactly when
    every message received is unchanged up to normalisation. Grid points where both are
    ``-inf`` are skipped; inf when one is and the other is not."""
    n, _, K = lphi_old.shape
    worst = 0.0
    for k in range(n):
        for i in range(n):
            if i == k:
                continue
            lo = np.inf
            hi = -np.inf
            for a in range(K):
                u = lphi_old[k, i, a]
                t = lphi_new[k, i, a]
                if u == -np.inf and t == -np.inf:
                    continue
                d = t - u
                if not (abs(d) < np.inf):
                    return np.inf
                if d < lo:
                    lo = d
                if d > hi:
                    hi = d
            if hi >= lo and 0.5 * (hi - lo) > worst:
                worst = 0.5 * (hi - lo)
    return worst
