"""Exact enumeration of a discrete-prior spin model (numba).

Visits all K^n states of ``s_k in {v_0..v_{K-1}}`` in reflected K-ary Gray-code order, so
consecutive states differ in one spin by one level and the energy

    E0(s) = (1/2) s^T Q s - h^T s

is updated in O(n) per state through ``u = Q s``. Log weight of a state:
``-beta E0(s) + sum_k logw[idx_k]``. Accumulation is numerically stable:

- weights ``exp(lw - M)`` with a running shift M, raised (and everything rescaled) only when
  a state exceeds it by more than ``RESCALE`` nats, so rescaling happens O(range/RESCALE)
  times and each rescale costs one rounding;
- per-spin, per-value marginal weights ``W[i, k]`` (so a minority value keeps its relative
  precision and the variance comes out of the pairwise formula without cancellation);
- two-level (blocked) summation: partial sums over ``block`` states, then added to totals;
- ``u``, E0 and the log prior weight recomputed from scratch at every block boundary (no drift).

No validation here (see :func:`sgphys.discrete.solve_enumerate`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import _cache  # noqa: F401  (first: numba's cache locator for the kernels)

#: nats by which a state may exceed the running shift before everything is rescaled
RESCALE = 50.0


@njit(cache=True, error_model="numpy")
def _recompute(Q, h, values, logw, idx, s, u):
    n = Q.shape[0]
    for k in range(n):
        s[k] = values[idx[k]]
    E = 0.0
    LW = 0.0
    for i in range(n):
        acc = 0.0
        for k in range(n):
            acc += Q[i, k] * s[k]
        u[i] = acc
        E += 0.5 * s[i] * acc - h[i] * s[i]
        LW += logw[idx[i]]
    return E, LW


@njit(cache=True, error_model="numpy")
def enumerate_states(Q, h, beta, values, logw, block):
    """Enumerate every state; returns ``(W, log_shift, e_mean, ground_idx, ground_e, count)``.

    ``W[i, k] / sum_k W[i, k]`` is the marginal P(s_i = values[k]); ``log Z =
    log_shift + log(sum_k W[0, k])``; ``e_mean`` is <E0>; ``ground_idx`` the value indices of
    the lowest-E0 state (first met in Gray order), ``ground_e`` its energy.
    """
    n = Q.shape[0]
    K = values.shape[0]
    idx = np.zeros(n, dtype=np.int64)
    direc = np.ones(n, dtype=np.int64)
    s = np.empty(n)
    u = np.empty(n)
    E, LW = _recompute(Q, h, values, logw, idx, s, u)
    M = -beta * E + LW
    Wb = np.zeros((n, K))
    Wt = np.zeros((n, K))
    eb = 0.0  # blocked sum of weight * E0
    et = 0.0
    ground = idx.copy()
    ground_e = E
    count = 0
    while True:
        # -- accumulate the current state ------------------------------------------
        lw = -beta * E + LW
        if lw > M + RESCALE:
            scale = math.exp(M - lw)
            for i in range(n):
                for k in range(K):
                    Wb[i, k] *= scale
                    Wt[i, k] *= scale
            eb *= scale
            et *= scale
            M = lw
        w = math.exp(lw - M)
        for i in range(n):
            Wb[i, idx[i]] += w
        eb += w * E
        if E < ground_e:
            ground_e = E
            for i in range(n):
                ground[i] = idx[i]
        count += 1
        if count % block == 0:
            for i in range(n):
                for k in range(K):
                    Wt[i, k] += Wb[i, k]
                    Wb[i, k] = 0.0
            et += eb
            eb = 0.0
        # -- next state in reflected Gray order --------------------------------------
        i = 0
        while i < n:
            nd = idx[i] + direc[i]
            if nd >= 0 and nd < K:
                break
            direc[i] = -direc[i]
            i += 1
        if i == n:
            break
        delta = values[nd] - values[idx[i]]
        E += delta * (u[i] - h[i]) + 0.5 * Q[i, i] * delta * delta
        LW += logw[nd] - logw[idx[i]]
        idx[i] = nd
        s[i] = values[nd]
        for k in range(n):
            u[k] += delta * Q[i, k]
        if count % block == 0:
            E, LW = _recompute(Q, h, values, logw, idx, s, u)
    for i in range(n):
        for k in range(K):
            Wt[i, k] += Wb[i, k]
    et += eb
    Z = 0.0
    for k in range(K):
        Z += Wt[0, k]
    return Wt, M, et / Z, ground, ground_e, count
