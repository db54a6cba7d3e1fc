"""Plain NumPy versions of one update of each kernel, for testing the numba kernels.

Written from the equations of docs/model.rst (section Solvers), independently of the kernels' loop
structure.
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from .bp import grid_logw


def amp_step(J, h, lam_k, beta, m, v, tap=True):
    """One undamped AMP/TAP update: returns (m_new, v_new, a)."""
    V = beta ** 2 * (J ** 2) @ v
    a = beta * lam_k - V
    b = beta * h + beta * J @ m
    if tap:
        b = b - V * m
    return b / a, 1.0 / a, a


def rbp_step(J, h, lam_k, beta, M, Vm):
    """One undamped r-BP sweep with sender-major messages M[k, i] = m_{k->i}.

    Returns (M_new, V_new, mean, var), messages sender-major, diagonal zero.
    """
    n = J.shape[0]
    M_new = np.zeros((n, n))
    V_new = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            ks = [k for k in range(n) if k != i and k != j]
            a = beta * lam_k[i] - beta ** 2 * sum(J[i, k] ** 2 * Vm[k, i] for k in ks)
            b = beta * h[i] + beta * sum(J[i, k] * M[k, i] for k in ks)
            M_new[i, j], V_new[i, j] = b / a, 1.0 / a
    off = ~np.eye(n, dtype=bool)
    a_full = beta * lam_k - beta ** 2 * ((J ** 2) * Vm.T * off).sum(axis=1)
    b_full = beta * h + beta * (J * M.T * off).sum(axis=1)
    return M_new, V_new, b_full / a_full, 1.0 / a_full


def bp_step(J, h, lam_k, beta, x, logmu):
    """One undamped full-BP sweep on grids x (n, K) with normalised log-messages
    logmu[i, j, :] on x[i]. Returns (new normalised logmu, marginal log-densities)."""
    n, K = x.shape
    logw = grid_logw(x)  # the quadrature rule itself is not what this reference checks
    lphi = np.zeros((n, n, K))
    for k in range(n):
        for i in range(n):
            if i != k:
                expo = beta * J[i, k] * np.outer(x[i], x[k]) + logmu[k, i] + logw[k]
                lphi[k, i] = logsumexp(expo, axis=1)
    local = -0.5 * beta * lam_k[:, None] * x ** 2 + beta * h[:, None] * x
    total = local + lphi.sum(axis=0)  # lphi[i, i] = 0
    new = np.zeros_like(logmu)
    for i in range(n):
        for j in range(n):
            if i != j:
                t = total[i] - lphi[j, i]
                new[i, j] = t - logsumexp(t + logw[i])
    marg = total - logsumexp(total + logw, axis=1)[:, None]
    return new, marg
