"""Gibbs sampler with optional replica exchange, and MCMC diagnostics (numba).

The conditional of spin i given the others under ``exp(-beta E0(s)) prod pi_beta(s_k)`` is
the prior's tilted density (:mod:`sgphys.kernels.priors`) with

    A = beta Q_ii,   B = beta (h_i - u_i + Q_ii s_i),   u = Q s

(``h_i - u_i + Q_ii s_i = h_i + sum_k J_ik s_k``, the local field). ``u`` is kept up to date
in O(n) per changed spin and recomputed from scratch at the start of every block.

Random numbers come in pre-drawn (from NumPy Generators, see :func:`sgphys.discrete
.sample_gibbs`), so a run is bit-identical for the same seed: ``rand[c, j, r, i, :]`` drives
the update of spin i of replica r in sweep j of chain c (a standard normal for the Gaussian
prior, uniforms in [0, 1) otherwise, two of them for Laplace), ``swap_u[c, j, t]`` the swap
of temperatures t and t+1 after sweep j.

Replica exchange: ``S[c, t]`` is the state at inverse temperature ``ladder[t]``; after each
sweep, pairs (t, t+1) with t of the sweep's parity are swapped with probability
``min(1, exp((beta_t - beta_{t+1}) (E_t - E_{t+1})))``, ``E = E0 + sum_k penalty(s_k)``
(a discrete prior's log weights do not depend on beta and cancel).

No validation here.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import _cache  # noqa: F401  (first: numba's cache locator for the kernels)

from .priors import penalty, sample

OK, BAD_DRAW = 0, 1


@njit(cache=True, error_model="numpy")
def _energy_total(Q, h, code, params, s, u):
    """``E0(s) + sum_k penalty(s_k)`` and ``E0(s)`` from ``u = Q s``."""
    e0 = 0.0
    pen = 0.0
    for i in range(s.shape[0]):
        e0 += 0.5 * s[i] * u[i] - h[i] * s[i]
        pen += penalty(code, params, s[i])
    return e0 + pen, e0


@njit(cache=True, error_model="numpy")
def gibbs_block(Q, h, code, params, ladder, S, U, rand, swap_u, g0, burn, thin, target,
                wcount, wmean, wm2, emean, em2, trace, etrace, tpos, swap_acc, swap_try,
                n_kept, bcount, bmean, bm2):
    """Run ``rand.shape[1]`` sweeps of every chain (global sweep index from ``g0``).

    After burn-in (sweep index >= burn) the state at ``ladder[target]`` updates the Welford
    accumulators (``wcount`` (C,), ``wmean``/``wm2`` (C, n), ``emean``/``em2`` (C,) for E0)
    and, every ``thin``-th kept sweep, is written to ``trace[c, tpos...]`` (E0 to ``etrace``).
    Every temperature's ``E0 + sum_k penalty(s_k)`` updates the batch Welford accumulators
    ``bcount``/``bmean``/``bm2`` (C, R, NB): kept sweep ``t`` (of ``n_kept``) goes to batch
    ``t * NB // n_kept``.

    Returns ``(status, new_tpos)``; status BAD_DRAW if a draw was not finite (the caller
    raises; states are then partly updated).
    """
    C, R, n = S.shape
    nb = rand.shape[1]
    ncol = rand.shape[4]
    tp_end = tpos
    for c in range(C):
        for r in range(R):
            for i in range(n):
                acc = 0.0
                for k in range(n):
                    acc += Q[i, k] * S[c, r, k]
                U[c, r, i] = acc
        tp = tpos
        for j in range(nb):
            g = g0 + j
            for r in range(R):
                beta = ladder[r]
                for i in range(n):
                    si = S[c, r, i]
                    qii = Q[i, i]
                    f = h[i] - U[c, r, i] + qii * si
                    snew = sample(code, params, beta, beta * qii, beta * f,
                                  rand[c, j, r, i, 0], rand[c, j, r, i, ncol - 1])
                    if not math.isfinite(snew):
                        return BAD_DRAW, tpos
                    delta = snew - si
                    if delta != 0.0:
                        S[c, r, i] = snew
                        for k in range(n):
                            U[c, r, k] += delta * Q[i, k]
            if R > 1:
                t = g % 2
                while t < R - 1:
                    et, _ = _energy_total(Q, h, code, params, S[c, t], U[c, t])
                    et1, _ = _energy_total(Q, h, code, params, S[c, t + 1], U[c, t + 1])
                    logr = (ladder[t] - ladder[t + 1]) * (et - et1)
                    swap_try[t] += 1
                    if logr >= 0.0 or swap_u[c, j, t] < math.exp(logr):
                        swap_acc[t] += 1
                        for k in range(n):
                            tmp = S[c, t, k]
                            S[c, t, k] = S[c, t + 1, k]
                            S[c, t + 1, k] = tmp
                            tmp = U[c, t, k]
                            U[c, t, k] = U[c, t + 1, k]
                            U[c, t + 1, k] = tmp
                    t += 2
            if g >= burn:
                wcount[c] += 1
                kk = float(wcount[c])
                for i in range(n):
                    x = S[c, target, i]
                    dl = x - wmean[c, i]
                    wmean[c, i] += dl / kk
                    wm2[c, i] += dl * (x - wmean[c, i])
                _, e0 = _energy_total(Q, h, code, params, S[c, target], U[c, target])
                dl = e0 - emean[c]
                emean[c] += dl / kk
                em2[c] += dl * (e0 - emean[c])
                nbat = bcount.shape[2]
                bb = (g - burn) * nbat // n_kept
                for r in range(R):
                    et, _ = _energy_total(Q, h, code, params, S[c, r], U[c, r])
                    bcount[c, r, bb] += 1
                    kb = float(bcount[c, r, bb])
                    dl = et - bmean[c, r, bb]
                    bmean[c, r, bb] += dl / kb
                    bm2[c, r, bb] += dl * (et - bmean[c, r, bb])
                if (g - burn) % thin == 0:
                    for i in range(n):
                        trace[c, tp, i] = S[c, target, i]
                    etrace[c, tp] = e0
                    tp += 1
        tp_end = tp
    return OK, tp_end


@njit(cache=True, error_model="numpy")
def geyer_tau(acov_mean, mean_var, var_plus):
    """Integrated autocorrelation time from chain-averaged autocovariances (one quantity).

    Stan's estimator (Geyer's initial positive sequence, made monotone), as in Vehtari et
    al. 2021: ``rho_t = 1 - (mean_var - acov_mean[t]) / var_plus``; returns ``tau`` with
    ``ess = n_draws / tau``, ``tau >= 1/log10(n_draws)`` is applied by the caller.
    """
    N = acov_mean.shape[0]
    rho = np.zeros(N)
    rho[0] = 1.0
    if N < 2:
        return 1.0
    rho_even = 1.0
    rho_odd = 1.0 - (mean_var - acov_mean[1]) / var_plus
    rho[1] = rho_odd
    t = 0
    while t < N - 5 and rho_even + rho_odd > 0.0:
        t += 2
        rho_even = 1.0 - (mean_var - acov_mean[t]) / var_plus
        rho_odd = 1.0 - (mean_var - acov_mean[t + 1]) / var_plus
        if rho_even + rho_odd >= 0.0:
            rho[t] = rho_even
            rho[t + 1] = rho_odd
    max_t = t
    if rho_even > 0.0 and max_t < N:
        rho[max_t] = rho_even
    # initial monotone sequence
    t = 0
    while t <= max_t - 4:
        t += 2
        if rho[t] + rho[t + 1] > rho[t - 2] + rho[t - 1]:
            rho[t] = 0.5 * (rho[t - 2] + rho[t - 1])
            rho[t + 1] = rho[t]
    s = 0.0
    for k in range(max_t):
        s += rho[k]
    return -1.0 + 2.0 * s + rho[max_t]
