"""AMP / TAP kernels (docs/model.rst, section AMP): node quantities only, one fused pass over J per
iteration.

Arrays in, arrays out; no validation here (see :func:`sgphys.solvers.solve_amp`).

    V_i = beta^2 sum_k J_ik^2 v_k
    a_i = beta lam_i - V_i
    b_i = beta h_i + beta sum_k J_ik m_k - [tap] V_i m_i
    m_i = b_i / a_i,  v_i = 1 / a_i

Reason codes and convergence measures: :mod:`sgphys.kernels.convergence`.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from . import _cache  # noqa: F401  (first: numba's cache locator for the kernels)

# Start numba's threading layer before any cached kernel is loaded: machine code cached by
# another process that links the parallel row kernel (amp_solve, variance_fixed_point, ...)
# segfaults when loaded into a process whose threading layer is not yet up (reproduced:
# a cache written by the test suite, then `sgphys warmup` in a fresh process).
# get_num_threads() is numba's public call that launches it.
numba.get_num_threads()

from .convergence import (BLOWUP, BLOWUP_LIMIT, CONVERGED, FASTMATH, MAX_ITER,  # noqa: F401
                          NONPOSITIVE, change_parts, finite_bounded, paper_change_from_sums)
from .priors import denoise

#: prior code of the built-in Gaussian division (docs/model.rst, section AMP exactly, bit for bit);
#: codes >= 0
#: are those of :mod:`sgphys.kernels.priors`
RIDGE = -1


#: rows of J summed together by the row kernel (:func:`_row_sums`): one load of ``m_k`` and
#: ``v_k`` serves them all (measured against one row at a time: benchmarks/solvers.py,
#: table 8, and docs/benchmarks.md)
ROW_BLOCK = 4


@njit(fastmath=FASTMATH, error_model="numpy", inline="always")
def _span4(r0, r1, r2, r3, m, v, k0, k1, a0, a1, a2, a3, b0, b1, b2, b3):
    """The running sums ``a = sum r_k m_k``, ``b = sum r_k^2 v_k`` of four rows, carried
    over ``k0 <= k < k1`` (one load of ``m_k`` and ``v_k`` for the four)."""
    for k in range(k0, k1):
        mk = m[k]
        vk = v[k]
        x = r0[k]
        a0 += x * mk
        b0 += x * x * vk
        x = r1[k]
        a1 += x * mk
        b1 += x * x * vk
        x = r2[k]
        a2 += x * mk
        b2 += x * x * vk
        x = r3[k]
        a3 += x * mk
        b3 += x * x * vk
    return a0, a1, a2, a3, b0, b1, b2, b3


@njit(fastmath=FASTMATH, error_model="numpy", inline="always")
def _span1(r, m, v, k0, k1, a, b):
    """:func:`_span4` for one row."""
    for k in range(k0, k1):
        x = r[k]
        a += x * m[k]
        b += x * x * v[k]
    return a, b


@njit(fastmath=FASTMATH, error_model="numpy", inline="always")
def _row_block(M, m, v, Jm, JJv, i, sgn):
    """Rows ``i .. i+3`` of ``Jm = J @ m``, ``JJv = (J*J) @ v`` with ``J = sgn M`` off the
    diagonal and ``J_kk = 0``: the sums run left of the block's 4 x 4 diagonal block, right
    of it, then over that block without its diagonal, so J's own (zero) diagonal is never
    read and ``M = J, sgn = 1`` gives the bits of ``M = Q, sgn = -1`` (negation is exact)."""
    n = M.shape[0]
    r0 = M[i]
    r1 = M[i + 1]
    r2 = M[i + 2]
    r3 = M[i + 3]
    a0, a1, a2, a3, b0, b1, b2, b3 = _span4(r0, r1, r2, r3, m, v, 0, i,
                                            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    a0, a1, a2, a3, b0, b1, b2, b3 = _span4(r0, r1, r2, r3, m, v, i + 4, n,
                                            a0, a1, a2, a3, b0, b1, b2, b3)
    for k in range(i, i + 4):
        mk = m[k]
        vk = v[k]
        if k != i:
            x = r0[k]
            a0 += x * mk
            b0 += x * x * vk
        if k != i + 1:
            x = r1[k]
            a1 += x * mk
            b1 += x * x * vk
        if k != i + 2:
            x = r2[k]
            a2 += x * mk
            b2 += x * x * vk
        if k != i + 3:
            x = r3[k]
            a3 += x * mk
            b3 += x * x * vk
    Jm[i] = sgn * a0
    Jm[i + 1] = sgn * a1
    Jm[i + 2] = sgn * a2
    Jm[i + 3] = sgn * a3
    JJv[i] = b0
    JJv[i + 1] = b1
    JJv[i + 2] = b2
    JJv[i + 3] = b3


@njit(fastmath=FASTMATH, error_model="numpy", inline="always")
def _row_one(M, m, v, Jm, JJv, i, sgn):
    """Row ``i`` alone (the rows after the last whole block), its diagonal left out."""
    r = M[i]
    a, b = _span1(r, m, v, 0, i, 0.0, 0.0)
    a, b = _span1(r, m, v, i + 1, M.shape[0], a, b)
    Jm[i] = sgn * a
    JJv[i] = b


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _row_sums(J, m, v, Jm, JJv, neg):
    """Jm = J @ m and JJv = (J*J) @ v in one pass over the rows of J, :data:`ROW_BLOCK`
    rows at a time. ``neg``: the matrix is ``Q`` and ``J = -Q`` off the diagonal (the same
    bits as from J)."""
    n = J.shape[0]
    sgn = -1.0 if neg else 1.0
    blocks = n // ROW_BLOCK
    for b in range(blocks):
        _row_block(J, m, v, Jm, JJv, ROW_BLOCK * b, sgn)
    for i in range(ROW_BLOCK * blocks, n):
        _row_one(J, m, v, Jm, JJv, i, sgn)


@njit(cache=True, fastmath=FASTMATH, parallel=True, error_model="numpy")
def _row_sums_parallel(J, m, v, Jm, JJv, neg):
    """Same as :func:`_row_sums`, blocks of rows split across threads (each row summed
    serially, so the result does not depend on the number of threads). A separate function
    on purpose: numba's on-disk cache is keyed by function, not by the parallel flag, so
    one body compiled twice could load the other build's machine code."""
    n = J.shape[0]
    sgn = -1.0 if neg else 1.0
    blocks = n // ROW_BLOCK
    for b in prange(blocks):
        _row_block(J, m, v, Jm, JJv, ROW_BLOCK * b, sgn)
    for i in range(ROW_BLOCK * blocks, n):
        _row_one(J, m, v, Jm, JJv, i, sgn)


#: from this many spins the row sums read only J's upper triangle (:func:`_sym_sums`):
#: half the memory traffic, but two scattered updates per pair. Measured against the row
#: kernel (benchmarks/solvers.py, table 7): the row kernel is faster at 1640 and 3660 spins
#: serial and parallel; at 6480 and 10,100 the upper triangle is faster on two threads
#: (1.14-1.22x) and the row kernel on one (1.06-1.18x)
SYM_MIN_SPINS = 5000
#: row chunks of the symmetric kernel (fixed, so serial and parallel sum alike)
SYM_CHUNKS = 8


@njit(cache=True)
def chunk_bounds(n, chunks):
    """Row boundaries splitting the pair rows ``0..n-2`` into ``chunks`` runs of about
    equal pair counts (row i has n - 1 - i pairs)."""
    total = n * (n - 1) // 2
    bounds = np.zeros(chunks + 1, dtype=np.int64)
    done = 0
    c = 1
    for i in range(n - 1):
        done += n - 1 - i
        while c < chunks and done * chunks >= c * total:
            bounds[c] = i + 1
            c += 1
    bounds[c:] = max(n - 1, 0)
    return bounds


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _sym_rows(J, m, v, r0, r1, am, av, neg):
    """Rows ``r0 <= i < r1`` of the upper triangle into the accumulators ``am``, ``av``:
    ``J_ik`` (k > i) adds ``J_ik m_k`` to row i and ``J_ik m_i`` to row k (likewise for
    ``J_ik^2 v``); row i of J is read right of the diagonal only. ``neg``: the matrix is
    ``Q`` and ``J_ik = -Q_ik`` (an exact negation: the same bits as from J)."""
    n = J.shape[0]
    for i in range(r0, r1):
        mi = m[i]
        vi = v[i]
        t1 = 0.0
        t2 = 0.0
        Jr = J[i, i + 1:]
        mr = m[i + 1:]
        vr = v[i + 1:]
        amr = am[i + 1:]
        avr = av[i + 1:]
        if neg:
            for k in range(n - 1 - i):
                jik = -Jr[k]
                jj = jik * jik
                t1 += jik * mr[k]
                t2 += jj * vr[k]
                amr[k] += jik * mi
                avr[k] += jj * vi
        else:
            for k in range(n - 1 - i):
                jik = Jr[k]
                jj = jik * jik
                t1 += jik * mr[k]
                t2 += jj * vr[k]
                amr[k] += jik * mi
                avr[k] += jj * vi
        am[i] += t1
        av[i] += t2


@njit(cache=True, fastmath=FASTMATH)
def _sym_reduce(AM, AV, Jm, JJv):
    """Sum the chunks' accumulators in chunk order (deterministic)."""
    for i in range(Jm.shape[0]):
        s1 = 0.0
        s2 = 0.0
        for c in range(AM.shape[0]):
            s1 += AM[c, i]
            s2 += AV[c, i]
        Jm[i] = s1
        JJv[i] = s2


@njit(cache=True)
def _sym_work(n):
    """Chunk bounds and zeroed per-chunk accumulators of :func:`_sym_sums`."""
    return (chunk_bounds(n, SYM_CHUNKS), np.zeros((SYM_CHUNKS, n)),
            np.zeros((SYM_CHUNKS, n)))


@njit(cache=True, fastmath=FASTMATH)
def _sym_sums(J, m, v, Jm, JJv, neg):
    """``Jm = J @ m``, ``JJv = (J*J) @ v`` for symmetric J with zero diagonal from its
    upper triangle, in :data:`SYM_CHUNKS` row chunks of equal pair counts (``neg``: from
    ``Q``, ``J = -Q`` off the diagonal)."""
    bounds, AM, AV = _sym_work(J.shape[0])
    for c in range(SYM_CHUNKS):
        _sym_rows(J, m, v, bounds[c], bounds[c + 1], AM[c], AV[c], neg)
    _sym_reduce(AM, AV, Jm, JJv)


@njit(cache=True, parallel=True)
def _sym_sums_parallel(J, m, v, Jm, JJv, neg):
    """:func:`_sym_sums` with the chunks across threads: the same chunks and reduction
    order, so the same bits whatever the number of threads (a separate function on
    purpose, see :func:`_row_sums_parallel`)."""
    bounds, AM, AV = _sym_work(J.shape[0])
    for c in prange(SYM_CHUNKS):
        _sym_rows(J, m, v, bounds[c], bounds[c + 1], AM[c], AV[c], neg)
    _sym_reduce(AM, AV, Jm, JJv)


#: ``parallel`` flag of :func:`row_sums` and the kernels that pass it on: rows across threads
ROWS_PARALLEL = 1
#: ``parallel`` flag: the matrix passed as ``J`` is ``Q`` (``J = -Q`` off the diagonal, its
#: diagonal never read: the same bits as from J), so a model needs no second n x n array
ROWS_FROM_Q = 2


def couplings_for_rows(model, parallel):
    """``(matrix, flags)`` for the AMP kernels' row sums (:func:`row_sums`; a SpinModel):
    ``model.J`` when it exists, else ``model.Q`` with ``ROWS_FROM_Q`` (``J = -Q`` off the
    diagonal, the same bits), so a solve does not build J (an n x n array: about 1 s and
    0.8 GB at D = 100, and a model series need not write it); ``flags`` also carries
    ``ROWS_PARALLEL`` when ``parallel``."""
    flags = ROWS_PARALLEL if parallel else 0
    if getattr(model, "_J", None) is None:
        return model.Q, flags | ROWS_FROM_Q
    return model.J, flags


@njit(cache=True)
def row_sums(J, m, v, Jm, JJv, parallel):
    """``Jm = J @ m`` and ``JJv = (J*J) @ v`` (J symmetric, zero diagonal): the row kernel
    below :data:`SYM_MIN_SPINS` spins, the upper-triangle kernel from there on; serial and
    parallel give the same bits. ``parallel``: a bool, or the flags :data:`ROWS_PARALLEL`
    and :data:`ROWS_FROM_Q` (then ``J`` is ``Q``, read as ``J = -Q`` off the diagonal:
    the same bits as from J, at every size)."""
    par = parallel == 1 or parallel == 3
    neg = parallel >= 2
    if J.shape[0] >= SYM_MIN_SPINS:
        if par:
            _sym_sums_parallel(J, m, v, Jm, JJv, neg)
        else:
            _sym_sums(J, m, v, Jm, JJv, neg)
    elif par:
        _row_sums_parallel(J, m, v, Jm, JJv, neg)
    else:
        _row_sums(J, m, v, Jm, JJv, neg)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")  # a zero precision: inf, flagged
def amp_step(J, h, lam_k, beta, m, v, tap, um, uv, a, Jm, JJv, parallel):
    """One undamped AMP update from (m, v) into (um, uv); ``a`` receives the precisions.

    Returns the smallest precision (<= 0 means the update is invalid).
    """
    row_sums(J, m, v, Jm, JJv, parallel)
    amin = np.inf
    b2 = beta * beta
    for i in range(J.shape[0]):
        V = b2 * JJv[i]
        ai = beta * lam_k[i] - V
        bi = beta * h[i] + beta * Jm[i]
        if tap:
            bi -= V * m[i]
        a[i] = ai
        if ai < amin:
            amin = ai
        um[i] = bi / ai
        uv[i] = 1.0 / ai
    return amin


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def amp_step_prior(J, h, qd, beta, m, v, tap, um, uv, a, Jm, JJv, parallel, code, params):
    """One undamped AMP update with a prior's denoiser in place of the Gaussian division.

    The cavity field of spin i has precision ``A_i = beta Q_ii - V_i`` and linear term
    ``B_i = beta h_i + beta sum_k J_ik m_k - [tap] V_i m_i`` (``qd`` = diag Q, ``a``
    receives A); ``(um_i, uv_i)`` are the mean and variance of ``pi_beta(s) exp(-A_i s^2/2
    + B_i s)`` (:func:`sgphys.kernels.priors.denoise`). Returns 1.0, or -1.0 if a denoiser
    result is not finite (a Laplace prior with ``A_i <= 0``, say): the update is invalid.
    """
    row_sums(J, m, v, Jm, JJv, parallel)
    ok = 1.0
    b2 = beta * beta
    for i in range(J.shape[0]):
        V = b2 * JJv[i]
        ai = beta * qd[i] - V
        bi = beta * h[i] + beta * Jm[i]
        if tap:
            bi -= V * m[i]
        a[i] = ai
        mi, vi = denoise(code, params, beta, ai, bi)
        if not (np.isfinite(mi) and np.isfinite(vi) and vi >= 0.0):
            ok = -1.0
        um[i] = mi
        uv[i] = vi
    return ok


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def amp_solve_prior(J, h, qd, beta, m, v, tap, damping, tol, max_iter, paper_criterion,
                    history, parallel, state, code, params):
    """:func:`amp_solve` (empty ``state``: fixed ``damping``) or :func:`amp_solve_auto`
    (``state`` of length :data:`AUTO_STATE`) with the denoiser of prior ``(code, params)``
    (:func:`amp_step_prior`). With a non-Gaussian prior the variances depend on the means,
    so adaptive damping mixes both with the same weight; its mu_max is that of the
    linearised mean map ``dm = diag(v) (beta J - [tap] diag(V)) dm`` (the denoiser's
    derivative in B is its variance), i.e. :func:`lanczos_max` with ``lam_k`` replaced by
    ``(1/v + V)/beta``. Returns (n_iter, residual, reason)."""
    return _amp_iterate(J, h, qd, beta, m, v, tap, damping, tol, max_iter, paper_criterion,
                        history, parallel, state, code, params)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def amp_solve(J, h, lam_k, beta, m, v, tap, damping, tol, max_iter, paper_criterion,
              history, parallel):
    """Iterate AMP in place on (m, v) with a fixed damping of means and variances. Returns
    (n_iter, residual, reason).

    ``history`` (length max_iter, or 0 to skip) receives the residual of each iteration.
    On a non-positive precision or a blow-up, (m, v) keep the last valid state.
    """
    return _amp_iterate(J, h, lam_k, beta, m, v, tap, damping, tol, max_iter,
                        paper_criterion, history, parallel, np.empty(0), RIDGE, np.empty(0))


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def variance_fixed_point(J, lam_k, beta, v, tol, max_iter, parallel):
    """Iterate v_i = 1 / (beta lam_i - beta^2 sum_k J_ik^2 v_k) in place (undamped).

    From v = 1/(beta lam_k) the map is monotone increasing, so the iterates rise to the
    smallest positive fixed point when one exists; a non-positive precision on the way
    means there is none. Returns (n_iter, residual, reason).
    """
    n = J.shape[0]
    zero = np.zeros(n)
    Jm = np.empty(n)
    JJv = np.empty(n)
    res = np.inf
    b2 = beta * beta
    for it in range(max_iter):
        row_sums(J, zero, v, Jm, JJv, parallel)
        dv = 0.0
        vmax = 0.0
        for i in range(n):
            ai = beta * lam_k[i] - b2 * JJv[i]
            if not (ai > 0.0):
                return it, res, NONPOSITIVE
            new = 1.0 / ai
            d = abs(new - v[i])
            if d > dv:
                dv = d
            v[i] = new
            if new > vmax:
                vmax = new
        res = dv / vmax
        if not (vmax < BLOWUP_LIMIT):
            return it + 1, res, BLOWUP
        if res < tol:
            return it + 1, res, CONVERGED
    return max_iter, res, MAX_ITER


@njit(cache=True, fastmath=FASTMATH)
def _scaled_operator(J, u, lam_k, shift, x, y, Jy, dummy, zero, parallel):
    """``U^(1/2) (diag(lam_k - shift) - J) U^(1/2) x`` into ``y`` (``u = sqrt(beta v)``), one
    pass over J; ``Jy``, ``dummy`` are work arrays, ``zero`` zeros."""
    n = J.shape[0]
    for i in range(n):
        y[i] = u[i] * x[i]
    row_sums(J, y, zero, Jy, dummy, parallel)
    for i in range(n):
        y[i] = u[i] * ((lam_k[i] - shift[i]) * y[i] - Jy[i])


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def mu_max(J, lam_k, beta, v, shift, n_power, parallel):
    """Largest |eigenvalue| of U^(1/2) (diag(lam_k - shift) - J) U^(1/2), U = diag(beta v),
    by power iteration (``shift`` = V/beta for the paper variant, 0 for TAP)."""
    n = J.shape[0]
    u = np.sqrt(beta * v)
    x = np.ones(n) / np.sqrt(n)
    y = np.empty(n)
    Jx = np.empty(n)
    dummy = np.empty(n)
    zero = np.zeros(n)
    mu = 0.0
    for _ in range(n_power):
        _scaled_operator(J, u, lam_k, shift, x, y, Jx, dummy, zero, parallel)
        norm = 0.0
        for i in range(n):
            norm += y[i] * y[i]
        norm = np.sqrt(norm)
        if norm == 0.0:
            return 0.0
        change = abs(norm - mu)
        mu = norm
        for i in range(n):
            x[i] = y[i] / norm
        if change < 1e-9 * mu:
            break
    return mu


# -- adaptive damping (damping="auto") ------------------------------------------------------
#: iterations before a growing mean residual counts (the first steps move far from 0)
AUTO_START_ITER = 2
#: variance residual below which the variance fixed point counts as reached for the estimate
AUTO_VARIANCE_TOL = 1e-3
#: Lanczos steps of the mu_max estimate
LANCZOS_STEPS = 10
#: with a prior: iterations without a new smallest mean residual that count as growth (a
#: cycle of constant amplitude never grows), and the rise over the smallest that does
AUTO_STALL_ITER = 25
AUTO_PRIOR_GROWTH = 10.0
#: smallest variance the damping estimate uses with a prior (1/v stays finite)
V_FLOOR = 1e-280
#: damping while the estimate waits for the variances, and the factor on (1 - damping) when
#: the residual still grows after it
AUTO_HOLD, AUTO_BACKOFF = 0.9, 0.7
#: Gaussian prior: a residual that shrinks but, at its rate over the last AUTO_WINDOW
#: iterations, would need more than AUTO_SLOW_ITER more to reach tol also asks for the
#: estimate (an undamped iteration just inside mu_max < 2 converges, slowly)
AUTO_WINDOW, AUTO_SLOW_ITER = 8, 40
#: margin on the Lanczos mu_max (a lower estimate) in the optimal Richardson damping
AUTO_MU_MARGIN = 1.05
#: length of the adaptive damping state: damping, estimate pending, estimated, mu_max, last
#: mean residual, mu_min, mean residual and iteration at the start of the rate window, and
#: the smallest mean residual since the estimate with the iterations since it
AUTO_STATE = 10


@njit(cache=True, fastmath=FASTMATH)
def lanczos_max(J, lam_k, beta, v, shift, k, parallel):
    """Largest eigenvalue of ``U^(1/2) (diag(lam_k - shift) - J) U^(1/2)``, ``U = diag(beta
    v)``, from ``k`` Lanczos steps started at the uniform vector (no reorthogonalisation:
    the largest Ritz value, a lower estimate that converges fast for the extreme
    eigenvalue). Costs ``k`` passes over J."""
    return lanczos_extremes(J, lam_k, beta, v, shift, k, parallel)[1]


@njit(cache=True, fastmath=FASTMATH)
def lanczos_extremes(J, lam_k, beta, v, shift, k, parallel):
    """Smallest and largest Ritz values ``(lo, hi)`` of :func:`lanczos_max`'s ``k`` Lanczos
    steps: ``hi`` a lower estimate of the largest eigenvalue, ``lo`` an upper estimate of
    the smallest (both inside the spectrum). A non-finite step gives ``(nan, inf)`` at
    the first step, else the Ritz values of the steps before it."""
    n = J.shape[0]
    u = np.sqrt(beta * v)
    q = np.full(n, 1.0 / np.sqrt(n))
    qprev = np.zeros(n)
    y = np.empty(n)
    Jy = np.empty(n)
    dummy = np.empty(n)
    zero = np.zeros(n)
    w = np.empty(n)
    alphas = np.zeros(k)
    betas = np.zeros(k)
    b = 0.0
    steps = 0
    for j in range(k):
        _scaled_operator(J, u, lam_k, shift, q, y, Jy, dummy, zero, parallel)
        a = 0.0
        for i in range(n):
            w[i] = y[i] - b * qprev[i]
            a += q[i] * w[i]
        norm = 0.0
        for i in range(n):
            w[i] -= a * q[i]
            norm += w[i] * w[i]
        if not (np.isfinite(a) and np.isfinite(norm)):  # never hand eigvalsh a NaN
            if steps == 0:
                return np.nan, np.inf
            ev = np.linalg.eigvalsh(_tridiag(alphas, betas, steps))
            return ev[0], ev[steps - 1]
        alphas[j] = a
        steps = j + 1
        b = np.sqrt(norm)
        if not (b > 1e-12 * abs(a)):
            break
        betas[j] = b
        for i in range(n):
            qprev[i] = q[i]
            q[i] = w[i] / b
    ev = np.linalg.eigvalsh(_tridiag(alphas, betas, steps))
    return ev[0], ev[steps - 1]


@njit(cache=True)
def _tridiag(alphas, betas, steps):
    """The Lanczos tridiagonal matrix of the first ``steps`` coefficients."""
    T = np.zeros((steps, steps))
    for j in range(steps):
        T[j, j] = alphas[j]
        if j + 1 < steps:
            T[j, j + 1] = betas[j]
            T[j + 1, j] = betas[j]
    return T


@njit(cache=True)
def auto_damping_step(state, it, rm, rv, J, lam_k, beta, v, shift, parallel, tol=0.0):
    """Update the adaptive damping ``state`` (length :data:`AUTO_STATE`: damping, pending,
    estimated, mu_max, last mean residual, mu_min, window start residual and iteration)
    after an iteration with mean residual ``rm`` (``state[4]`` the previous one) and
    variance residual ``rv``; returns the damping for this iteration's mix. Gaussian prior.

    Undamped until the mean residual grows, or (with ``tol > 0``) shrinks so slowly that
    at its rate over the last :data:`AUTO_WINDOW` iterations it would need more than
    :data:`AUTO_SLOW_ITER` more to reach ``tol``; then the damping is held at AUTO_HOLD
    (growth only) until the variances have reached their fixed point
    (``rv < AUTO_VARIANCE_TOL``), where the damping is set from the extreme eigenvalues
    of the mean map (:func:`lanczos_extremes`, :func:`richardson_damping`); a residual that
    then grows in a sustained way (:func:`prior_growth`'s signal) backs off by
    AUTO_BACKOFF.
    """
    grew = it >= AUTO_START_ITER and rm > state[4]
    state[4] = rm
    if state[2] == 1.0:
        # estimated: back off on sustained growth only (a mix of modes contracting at the
        # same rate, some of them alternating, lets the residual tick up while it converges)
        grew = prior_growth(state[8:10], it, rm)
    slow = False
    if (tol > 0.0 and state[1] == 0.0 and state[2] == 0.0 and it >= AUTO_START_ITER
            and rv < AUTO_VARIANCE_TOL and rm > 0.0):
        if state[7] < 0.0 or not (state[6] > 0.0):
            state[6] = rm
            state[7] = it
        elif it - state[7] >= AUTO_WINDOW:
            rate = (rm / state[6]) ** (1.0 / (it - state[7]))
            if rate < 1.0 and rm > tol:
                slow = np.log(tol / rm) / np.log(rate) > AUTO_SLOW_ITER
            state[6] = rm
            state[7] = it
    return _auto_update(state, grew or slow, rv, J, lam_k, beta, v, shift, parallel, True)


@njit(cache=True)
def richardson_damping(lo, hi):
    """The damping of a mean map ``m <- m + (1 - d) U (h - A m)`` with the eigenvalues of
    ``U^(1/2) A U^(1/2)`` in ``[lo, hi]`` that contracts fastest: ``1 - d = 2 / (lo +
    hi')`` with ``hi' = AUTO_MU_MARGIN hi`` (Lanczos' ``hi`` is a lower estimate), at
    least 0 and always below 1 and above the threshold (docs/model.rst, section AMP) ``1 - 2/hi'``
    (no cap: a
    cap would let the top mode grow when ``hi`` is large). Without a usable ``0 < lo <=
    hi < inf`` it is the threshold rule (docs/model.rst, section AMP) ``min(0.95, max(0, 1 - 2/hi) +
    0.05)`` (0.05 for
    ``hi <= 0`` or NaN, 0.95 for ``hi = inf``)."""
    if not (lo > 0.0 and lo <= hi and np.isfinite(hi)):
        thr = 1.0 - 2.0 / hi if hi > 0.0 else 0.0
        return min(0.95, max(0.0, thr) + 0.05)
    return max(0.0, 1.0 - 2.0 / (lo + AUTO_MU_MARGIN * hi))


@njit(cache=True)
def prior_growth(track, it, rm):
    """The growth signal of adaptive damping with a prior, whose residual zig-zags while it
    converges (one rise is no reason to damp more), and of the Gaussian prior once the
    damping is estimated: True when the mean residual ``rm``
    exceeds AUTO_PRIOR_GROWTH times the smallest seen, or has set no new smallest for
    AUTO_STALL_ITER iterations (a cycle of constant amplitude). ``track = [smallest,
    iterations since]`` (start ``[inf, 0]``) is updated in place."""
    if rm < track[0]:
        track[0] = rm
        track[1] = 0.0
    else:
        track[1] += 1.0
    if it < AUTO_START_ITER:
        return False
    if rm > AUTO_PRIOR_GROWTH * track[0] or track[1] >= AUTO_STALL_ITER:
        track[1] = 0.0
        return True
    return False


@njit(cache=True)
def _auto_update(state, grew, rv, J, lam_k, beta, v, shift, parallel, richardson=False):
    """The state machine of :func:`auto_damping_step` given the growth signal ``grew``.

    The estimate sets ``richardson_damping(mu_min, mu_max)`` (``richardson``: the Gaussian
    prior, whose mean map at fixed variances is exactly that Richardson iteration) or the
    threshold rule (docs/model.rst, section AMP) ``max(0, 1 - 2/mu_max) + 0.05`` (capped at
    0.95)."""
    if state[1] == 0.0 and state[2] == 0.0 and grew:
        state[1] = 1.0  # estimate pending
        if rv >= AUTO_VARIANCE_TOL:
            state[0] = max(state[0], AUTO_HOLD)
    elif state[2] == 1.0 and grew:  # (never below an estimate already above 0.99)
        state[0] = max(state[0], min(0.99, 1.0 - (1.0 - state[0]) * AUTO_BACKOFF))
    if state[1] == 1.0 and rv < AUTO_VARIANCE_TOL:
        lo, hi = lanczos_extremes(J, lam_k, beta, v, shift, LANCZOS_STEPS, parallel)
        state[3] = hi
        state[5] = lo
        if richardson:
            d = richardson_damping(lo, hi)
        else:
            thr = 1.0 - 2.0 / hi if hi > 0.0 else 0.0
            d = min(0.95, max(0.0, thr) + 0.05)
        state[0] = d
        state[1] = 0.0
        state[2] = 1.0
        if state.shape[0] >= AUTO_STATE:  # growth tracked afresh from the estimate on
            state[8] = np.inf
            state[9] = 0.0
    return state[0]


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def amp_solve_auto(J, h, lam_k, beta, m, v, tap, tol, max_iter, paper_criterion, history,
                   parallel, state):
    """:func:`amp_solve` with adaptive damping of the means (``damping="auto"``).

    The variances are updated undamped (their recursion does not involve the means and,
    from ``v0 <= v*``, rises monotonically to its smallest positive fixed point, or meets a
    non-positive precision when there is none); the means start undamped and are damped by
    :func:`auto_damping_step` once their residual grows or shrinks too slowly. ``state``
    (length :data:`AUTO_STATE`, in/out, as :func:`sgphys.solvers._auto_state` makes it:
    damping, estimate pending, estimated, mu_max, last mean residual, mu_min, rate window,
    growth tracker) carries the damping across calls, so a resumed solve goes on with it
    (reset the rate window, ``state[6:8] = (0, -1)``, since iterations count from 0 again).
    Returns (n_iter, residual, reason).
    """
    return _amp_iterate(J, h, lam_k, beta, m, v, tap, 0.0, tol, max_iter, paper_criterion,
                        history, parallel, state, RIDGE, np.empty(0))


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _amp_iterate(J, h, lam_k, beta, m, v, tap, damping, tol, max_iter, paper_criterion,
                 history, parallel, state, code, params):
    """The AMP iteration of :func:`amp_solve` (fixed ``damping`` on m and v, ``state``
    empty) and :func:`amp_solve_auto` (adaptive damping of m from ``state``, v undamped);
    with a prior (``code >= 0``, ``lam_k`` = diag Q) that of :func:`amp_solve_prior`."""
    n = J.shape[0]
    auto = state.shape[0] > 0
    if auto and state.shape[0] != AUTO_STATE:
        raise ValueError("state must be empty or of length AUTO_STATE")
    ridge = code == RIDGE
    um = np.empty(n)
    uv = np.empty(n)
    a = np.empty(n)
    Jm = np.empty(n)
    JJv = np.empty(n)
    shift = np.zeros(n)
    lam_eff = np.empty(n)  # with a prior: the linearised map's diagonal, set before use
    v_est = np.empty(n)
    keep_history = history.shape[0] > 0
    res = np.inf
    track = np.array([np.inf, 0.0])
    d = damping
    # the Gaussian variances do not involve the means: undamped under "auto"
    d_v = 0.0 if (auto and ridge) else damping
    for it in range(max_iter):
        if ridge:
            amin = amp_step(J, h, lam_k, beta, m, v, tap, um, uv, a, Jm, JJv, parallel)
        else:
            amin = amp_step_prior(J, h, lam_k, beta, m, v, tap, um, uv, a, Jm, JJv, parallel,
                                  code, params)
        if not (amin > 0.0):
            return it, res, NONPOSITIVE
        if not finite_bounded(um):
            return it, res, BLOWUP
        rm, rv, sm, sv = change_parts(um, uv, m, v)
        res = rm if rm > rv else rv
        # the authors' rule measures the raw update against the current state (before
        # damping; see sgphys.solve_amp)
        crit = paper_change_from_sums(sm, sv, n) if paper_criterion else res
        if keep_history:
            history[it] = res
        if auto:
            if not tap:  # the paper variant's operator: A - diag(V)/beta, V = beta^2 JJv
                for i in range(n):
                    shift[i] = beta * JJv[i]
            if not ridge:
                # the linearised map's diagonal (1/v + V)/beta at variances floored to
                # V_FLOOR (a frozen discrete spin has v = 0: the operator's diagonal
                # u^2 lam_eff = 1 + v V stays finite); estimated at once (rv = 0: the
                # variances move with the means)
                for i in range(n):
                    v_est[i] = max(uv[i], V_FLOOR)
                    lam_eff[i] = (1.0 / v_est[i] + beta * beta * JJv[i]) / beta
                d = _auto_update(state, prior_growth(track, it, rm), 0.0, J, lam_eff, beta,
                                 v_est, shift, parallel)
            else:
                d = auto_damping_step(state, it, rm, rv, J, lam_k, beta, uv, shift, parallel,
                                      np.sqrt(tol) if paper_criterion else tol)
            if not ridge:
                d_v = d
        for i in range(n):
            m[i] = d * m[i] + (1.0 - d) * um[i]
            v[i] = d_v * v[i] + (1.0 - d_v) * uv[i]
        if crit < tol:
            return it + 1, res, CONVERGED
    return max_iter, res, MAX_ITER
