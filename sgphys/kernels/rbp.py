"""Relaxed belief propagation kernels (SPEC 4.2, paper appendix Eqs. S25-S27).

Messages are stored by receiver: ``Min[i, k] = m_{k->i}``, ``Vin[i, k] = v_{k->i}`` (the
diagonal is unused). For receiver-major storage every sum is a row sweep::

    a_{i->j} = beta lam_i - beta^2 (S_i - J_ij^2 v_{j->i}),  S_i = sum_k J_ik^2 v_{k->i}
    b_{i->j} = beta h_i   + beta   (T_i - J_ij   m_{j->i}),  T_i = sum_k J_ik   m_{k->i}

so a sweep is O(n^2) time and memory. Outgoing messages of i are written to row i of
``Mout``/``Vout`` (sender-major) and transposed into the receiver-major state.

Reason codes as in :mod:`sgphys.kernels.amp`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .amp import BLOWUP, BLOWUP_LIMIT, CONVERGED, FASTMATH, MAX_ITER, NONPOSITIVE


@njit(cache=True, fastmath=FASTMATH)
def rbp_step(J, h, lam_k, beta, Min, Vin, Mout, Vout, mean, var):
    """One undamped r-BP sweep: outgoing messages (sender-major) and full marginals.

    Returns the smallest precision over all edges and nodes.
    """
    n = J.shape[0]
    b2 = beta * beta
    amin = np.inf
    for i in range(n):
        S = 0.0
        T = 0.0
        for k in range(n):
            if k != i:
                jik = J[i, k]
                S += jik * jik * Vin[i, k]
                T += jik * Min[i, k]
        a_full = beta * lam_k[i] - b2 * S
        b_full = beta * h[i] + beta * T
        if a_full < amin:
            amin = a_full
        mean[i] = b_full / a_full
        var[i] = 1.0 / a_full
        for j in range(n):
            if j == i:
                Mout[i, j] = 0.0
                Vout[i, j] = 0.0
                continue
            jij = J[i, j]
            a = a_full + b2 * jij * jij * Vin[i, j]
            b = b_full - beta * jij * Min[i, j]
            if a < amin:
                amin = a
            Mout[i, j] = b / a
            Vout[i, j] = 1.0 / a
    return amin


@njit(cache=True, fastmath=FASTMATH)
def rbp_solve(J, h, lam_k, beta, Min, Vin, damping, tol, max_iter, paper_criterion,
              history, mean, var):
    """Iterate r-BP in place on the receiver-major messages. Returns (n_iter, residual,
    reason); ``mean``/``var`` receive the full marginals of the last valid state."""
    n = J.shape[0]
    Mout = np.empty((n, n))
    Vout = np.empty((n, n))
    um = np.empty(n)
    uv = np.empty(n)
    keep_history = history.shape[0] > 0
    res = np.inf
    # marginals of the initial messages
    for it in range(max_iter):
        amin = rbp_step(J, h, lam_k, beta, Min, Vin, Mout, Vout, um, uv)
        if not (amin > 0.0):
            return it, res, NONPOSITIVE
        dm = 0.0
        dv = 0.0
        mmax = 1.0
        vmax = 0.0
        sm = 0.0
        sv = 0.0
        ok = True
        for i in range(n):
            if not (abs(um[i]) < BLOWUP_LIMIT):
                ok = False
            for j in range(n):
                if i == j:
                    continue
                old_m = Min[j, i]
                old_v = Vin[j, i]
                new_m = Mout[i, j]
                new_v = Vout[i, j]
                if not (abs(new_m) < BLOWUP_LIMIT):
                    ok = False
                x = abs(new_m - old_m)
                y = abs(new_v - old_v)
                if x > dm:
                    dm = x
                if y > dv:
                    dv = y
                if abs(old_m) > mmax:
                    mmax = abs(old_m)
                if old_v > vmax:
                    vmax = old_v
                sm += x * x
                sv += y * y
        if not ok:
            return it, res, BLOWUP
        r1 = dm / mmax
        r2 = dv / vmax
        res = r1 if r1 > r2 else r2
        if keep_history:
            history[it] = res
        w = 1.0 - damping
        n_edges = n * (n - 1) if n > 1 else 1
        crit = ((sm + sv) / n_edges) if paper_criterion else res
        for i in range(n):
            for j in range(n):
                if i != j:
                    Min[j, i] = damping * Min[j, i] + w * Mout[i, j]
                    Vin[j, i] = damping * Vin[j, i] + w * Vout[i, j]
            mean[i] = um[i]
            var[i] = uv[i]
        if crit < tol:
            # marginals of the final (damped) messages
            rbp_step(J, h, lam_k, beta, Min, Vin, Mout, Vout, mean, var)
            return it + 1, res, CONVERGED
    return max_iter, res, MAX_ITER
