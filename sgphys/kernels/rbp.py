"""Relaxed belief propagation kernels (docs/model.rst, section Relaxed BP, paper appendix Eqs.
S25-S27).

Messages are stored by unordered pair: for ``i < j`` the pair index is
``p = off[i] + j`` (see :func:`pair_offsets`), and four packed arrays of length
``n (n - 1) / 2`` hold

    mu[p] = m_{i->j},  vu[p] = v_{i->j}      ("up": from the lower index to the higher)
    md[p] = m_{j->i},  vd[p] = v_{j->i}      ("down")

so both messages of a pair sit at the same place and a row ``i`` of pairs is contiguous in
``j``: a sweep streams J's upper triangle and the messages once, with no transposed access.
The node sums of the current messages,

    S_i = sum_{k != i} J_ik^2 v_{k->i},   T_i = sum_{k != i} J_ik m_{k->i},

are carried between sweeps (each sweep accumulates them for the messages it writes), and

    a_{i->j} = beta lam_i - beta^2 (S_i - J_ij^2 v_{j->i})
    b_{i->j} = beta h_i   + beta   (T_i - J_ij   m_{j->i})
    m_{i->j} = b_{i->j} / a_{i->j},   v_{i->j} = 1 / a_{i->j}.

Every message variance stays positive while the node precisions ``a_i = beta lam_i -
beta^2 S_i`` are (a damped mix of positive values), and ``a_{i->j} = a_i + beta^2 J_ij^2
v_{j->i} >= a_i``: checking the nodes checks every edge. One sweep is O(n^2) time; memory is
two n x n arrays' worth of messages. Reason codes: :mod:`sgphys.kernels.convergence`.
"""

from __future__ import annotations

import llvmlite.ir as ir
import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from . import _cache  # noqa: F401  (first: numba's cache locator for the kernels)

from .amp import (AUTO_STATE, RIDGE, ROWS_FROM_Q, ROWS_PARALLEL, SYM_CHUNKS,  # noqa: F401
                  V_FLOOR, _auto_update, auto_damping_step, chunk_bounds, prior_growth)
from .priors import denoise
from .convergence import (BLOWUP, BLOWUP_LIMIT, CONVERGED, FASTMATH, MAX_ITER, NONPOSITIVE,
                          paper_change_from_sums, strict_residual)


#: slots of a sweep's statistics array (``stats[AMIN]`` etc.), over directed edges
AMIN, DM, DV, MMAX, VMAX, SM, SV = range(7)
N_STATS = 7
#   AMIN  smallest node precision of the current messages (<= 0: none updated)
#   DM    max |u_m - m|           DV  max |u_v - v|
#   MMAX  max(1, max |m|)         VMAX  max v             (old values)
#   SM    sum (u_m - m)^2         SV  sum (u_v - v)^2


@intrinsic
def _bits(typingctx, x):
    """The IEEE-754 bit pattern of a float64 as an int64. For x >= 0 (and NaN with a clear
    sign bit) the integers order as the floats, NaN above inf: an integer max of
    ``_bits(abs(x))`` is a NaN-propagating max of |x| that LLVM vectorises (a float max
    reduction does not vectorise without the ``nnan`` fast-math flag)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx, x):
    """Inverse of :func:`_bits`."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


if numba.config.DISABLE_JIT:  # intrinsics need the compiler: the same bit casts in Python
    def _bits(x):  # noqa: F811
        return int(np.float64(x).view(np.int64))

    def _float(x):  # noqa: F811
        return float(np.int64(x).view(np.float64))


@njit(cache=True)
def pair_offsets(n):
    """``off[i]`` such that pair (i, j), i < j, has index ``off[i] + j``."""
    off = np.empty(n, dtype=np.int64)
    start = 0
    for i in range(n):
        off[i] = start - (i + 1)
        start += n - 1 - i
    return off


@njit(inline="always")
def _pair_row(J, off, mu, vu, md, vd, i):
    """Row ``i`` of the pairs ``(i, j)``, ``j = i + 1 + k``, as contiguous views indexed
    from 0 (so the loops over them vectorise): J right of the diagonal and the four
    message arrays' runs."""
    cnt = J.shape[0] - 1 - i
    p0 = off[i] + i + 1
    return (J[i, i + 1:], mu[p0:p0 + cnt], vu[p0:p0 + cnt], md[p0:p0 + cnt],
            vd[p0:p0 + cnt])


@njit(cache=True, fastmath=FASTMATH)
def _init_rows(J, off, m0, v0, mu, vu, md, vd, r0, r1, T, S, sgn):
    """Rows ``r0 <= i < r1`` of :func:`init_messages`; adds the node sums of these pairs'
    messages into ``T, S`` (which must start at zero), as :func:`_rows` does. The
    couplings are ``sgn * J`` (``sgn = -1``: ``J`` is ``Q``; the product is exact)."""
    n = m0.shape[0]
    for i in range(r0, r1):
        cnt = n - 1 - i
        mi = m0[i]
        vi = v0[i]
        Jr, mur, vur, mdr, vdr = _pair_row(J, off, mu, vu, md, vd, i)
        mj = m0[i + 1:]
        vj = v0[i + 1:]
        Tr = T[i + 1:]
        Sr = S[i + 1:]
        t = 0.0
        s = 0.0
        for k in range(cnt):
            jij = sgn * Jr[k]
            jj = jij * jij
            mur[k] = mi
            vur[k] = vi
            mdr[k] = mj[k]
            vdr[k] = vj[k]
            Tr[k] += jij * mi   # m_{i->j} into j
            Sr[k] += jj * vi
            t += jij * mj[k]    # m_{j->i} into i
            s += jj * vj[k]
        T[i] += t
        S[i] += s


@njit(cache=True)
def _init_chunk(J, off, m0, v0, mu, vu, md, vd, r0, r1, T, S, sgn):
    T[:] = 0.0
    S[:] = 0.0
    _init_rows(J, off, m0, v0, mu, vu, md, vd, r0, r1, T, S, sgn)


@njit(cache=True)
def _init_chunks(J, off, m0, v0, mu, vu, md, vd, bounds, TC, SC, sgn):
    for c in range(bounds.shape[0] - 1):
        _init_chunk(J, off, m0, v0, mu, vu, md, vd, bounds[c], bounds[c + 1], TC[c], SC[c],
                    sgn)


@njit(cache=True, parallel=True)
def _init_chunks_parallel(J, off, m0, v0, mu, vu, md, vd, bounds, TC, SC, sgn):
    """:func:`_init_chunks` with the chunks across threads (summed in order afterwards:
    the serial result bit for bit)."""
    for c in prange(bounds.shape[0] - 1):
        _init_chunk(J, off, m0, v0, mu, vu, md, vd, bounds[c], bounds[c + 1], TC[c], SC[c],
                    sgn)


@njit(cache=True)
def init_messages(J, off, m0, v0, mu, vu, md, vd, bounds, T, S, parallel=False, sgn=1.0):
    """Every message ``k -> i`` set to ``(m0[k], v0[k])`` in the packed arrays (row by
    row: ``mu, vu`` constant along a row, ``md, vd`` a copy of the row's tail), and ``T, S``
    set to their node sums (:func:`node_sums`) in the same pass over J, chunked at
    ``bounds`` and summed in chunk order as :func:`rbp_sweep` sums a sweep's; ``parallel``
    runs the chunks across threads with the same result. ``sgn = -1``: the matrix passed
    as ``J`` is ``Q`` (couplings ``-Q`` above the diagonal, the same bits as from J)."""
    chunks = bounds.shape[0] - 1
    n = m0.shape[0]
    TC = np.empty((chunks, n))
    SC = np.empty((chunks, n))
    if parallel:
        _init_chunks_parallel(J, off, m0, v0, mu, vu, md, vd, bounds, TC, SC, sgn)
    else:
        _init_chunks(J, off, m0, v0, mu, vu, md, vd, bounds, TC, SC, sgn)
    T[:] = 0.0
    S[:] = 0.0
    for c in range(chunks):
        for i in range(n):
            T[i] += TC[c, i]
            S[i] += SC[c, i]


@njit(cache=True, fastmath=FASTMATH)
def node_sums(J, off, mu, vu, md, vd, T, S, sgn=1.0):
    """Node sums ``T_i = sum_k J_ik m_{k->i}`` and ``S_i = sum_k J_ik^2 v_{k->i}`` (couplings
    ``sgn * J``: ``sgn = -1`` reads them from Q)."""
    n = J.shape[0]
    T[:] = 0.0
    S[:] = 0.0
    for i in range(n):
        t = 0.0
        s = 0.0
        o = off[i]
        for j in range(i + 1, n):
            p = o + j
            jij = sgn * J[i, j]
            jj = jij * jij
            t += jij * md[p]            # m_{j->i} into i
            s += jj * vd[p]
            T[j] += jij * mu[p]         # m_{i->j} into j
            S[j] += jj * vu[p]
        T[i] += t
        S[i] += s


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def variance_fixed_point(J, lam_k, beta, off, vu, vd, v, tol, max_iter):
    """Iterate the edge variances alone, undamped and in place on the packed ``vu, vd``:

        v_{i->j} = 1 / (beta lam_i - beta^2 sum_{k != i,j} J_ik^2 v_{k->i})

    (they do not involve the means). From the prior variances the map is monotone
    increasing, so the iterates rise to the smallest positive fixed point when there is one;
    a non-positive node precision on the way means there is none. ``v`` receives the node
    variances ``1 / (beta lam_i - beta^2 S_i)``. Returns (n_iter, residual, reason), the
    residual being ``max |change| / max v`` over directed edges.
    """
    n = J.shape[0]
    b2 = beta * beta
    S = np.empty(n)
    res = np.inf
    for it in range(max_iter):
        S[:] = 0.0
        for i in range(n):
            s = 0.0
            o = off[i]
            for j in range(i + 1, n):
                jj = J[i, j] * J[i, j]
                s += jj * vd[o + j]
                S[j] += jj * vu[o + j]
            S[i] += s
        for i in range(n):
            a = beta * lam_k[i] - b2 * S[i]
            if not (a > 0.0):
                return it, res, NONPOSITIVE
            v[i] = 1.0 / a
        dv = 0.0
        vmax = 0.0
        for i in range(n):
            o = off[i]
            ai = beta * lam_k[i] - b2 * S[i]
            for j in range(i + 1, n):
                jj = J[i, j] * J[i, j]
                up = 1.0 / (ai + b2 * jj * vd[o + j])
                dn = 1.0 / (beta * lam_k[j] - b2 * S[j] + b2 * jj * vu[o + j])
                dv = max(dv, max(abs(up - vu[o + j]), abs(dn - vd[o + j])))
                vmax = max(vmax, max(up, dn))
                vu[o + j] = up
                vd[o + j] = dn
        res = dv / vmax if vmax > 0.0 else 0.0
        if not (vmax < BLOWUP_LIMIT):
            return it + 1, res, BLOWUP
        if res < tol:
            return it + 1, res, CONVERGED
    return max_iter, res, MAX_ITER


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _rows(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, r0, r1, Tn, Sn, stats,
          sgn):
    """Update the pairs of rows ``r0 <= i < r1`` in place; add the new messages' node sums
    into ``Tn, Sn`` (which must start at zero) and write ``stats[DM:]`` for these pairs
    (see :func:`rbp_sweep`). Couplings ``sgn * J`` (exact: ``sgn = -1`` reads Q)."""
    n = J.shape[0]
    b2 = beta * beta
    w = 1.0 - damping
    wv = 1.0 - damping_v
    # maxima as bit patterns of non-negative floats (see _bits); sums of squares as floats
    dm = 0
    dv = 0
    mmax = 0
    vmax = 0
    sm = 0.0
    sv = 0.0
    for i in range(r0, r1):
        ai = A[i]
        bi = B[i]
        # row i of the pairs as contiguous views (error_model="numpy": no zero-division
        # branch in the loop below)
        cnt = n - 1 - i
        Jr, mur, vur, mdr, vdr = _pair_row(J, off, mu, vu, md, vd, i)
        Ar = A[i + 1:]
        Br = B[i + 1:]
        Tr = Tn[i + 1:]
        Sr = Sn[i + 1:]
        t = 0.0
        s = 0.0
        for k in range(cnt):
            jij = sgn * Jr[k]
            jj = jij * jij
            m_up = mur[k]
            v_up = vur[k]
            m_dn = mdr[k]
            v_dn = vdr[k]
            # i -> j: remove j's message into i
            q1 = 1.0 / (ai + b2 * jj * v_dn)
            u1 = (bi - beta * jij * m_dn) * q1
            # j -> i: remove i's message into j
            q2 = 1.0 / (Ar[k] + b2 * jj * v_up)
            u2 = (Br[k] - beta * jij * m_up) * q2
            x1 = u1 - m_up
            x2 = u2 - m_dn
            y1 = q1 - v_up
            y2 = q2 - v_dn
            dm = max(dm, max(_bits(abs(x1)), _bits(abs(x2))))
            dv = max(dv, max(_bits(abs(y1)), _bits(abs(y2))))
            mmax = max(mmax, max(_bits(abs(m_up)), _bits(abs(m_dn))))
            vmax = max(vmax, max(_bits(abs(v_up)), _bits(abs(v_dn))))
            sm += x1 * x1 + x2 * x2
            sv += y1 * y1 + y2 * y2
            n1 = damping * m_up + w * u1
            n2 = damping * m_dn + w * u2
            nv1 = damping_v * v_up + wv * q1
            nv2 = damping_v * v_dn + wv * q2
            mur[k] = n1
            vur[k] = nv1
            mdr[k] = n2
            vdr[k] = nv2
            Tr[k] += jij * n1   # m_{i->j} into j
            Sr[k] += jj * nv1
            t += jij * n2       # m_{j->i} into i
            s += jj * nv2
        Tn[i] += t
        Sn[i] += s
    stats[DM] = _float(dm)
    stats[DV] = _float(dv)
    stats[MMAX] = _float(mmax)
    stats[VMAX] = _float(vmax)
    stats[SM] = sm
    stats[SV] = sv


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _rows_prior(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, r0, r1, Tn, Sn,
                stats, code, params, sgn):
    """:func:`_rows` with a prior: each message is the denoiser of its cavity field,
    ``(m, v)_{i->j} = denoise(A_i + beta^2 J_ij^2 v_{j->i}, B_i - beta J_ij m_{j->i})``
    (``A, B`` the node precisions and fields without the prior). One denoiser call per
    directed edge, so not vectorised; maxima as plain floats (NaN caught by the caller's
    finiteness check of the statistics)."""
    n = J.shape[0]
    b2 = beta * beta
    w = 1.0 - damping
    wv = 1.0 - damping_v
    dm = 0.0
    dv = 0.0
    mmax = 0.0
    vmax = 0.0
    sm = 0.0
    sv = 0.0
    bad = False
    for i in range(r0, r1):
        ai = A[i]
        bi = B[i]
        o = off[i]
        t = 0.0
        s = 0.0
        for j in range(i + 1, n):
            p = o + j
            jij = sgn * J[i, j]
            jj = jij * jij
            m_up = mu[p]
            v_up = vu[p]
            m_dn = md[p]
            v_dn = vd[p]
            u1, q1 = denoise(code, params, beta, ai + b2 * jj * v_dn, bi - beta * jij * m_dn)
            u2, q2 = denoise(code, params, beta, A[j] + b2 * jj * v_up, B[j] - beta * jij * m_up)
            if not (np.isfinite(u1) and np.isfinite(u2) and q1 >= 0.0 and q2 >= 0.0):
                bad = True
            x1 = u1 - m_up
            x2 = u2 - m_dn
            y1 = q1 - v_up
            y2 = q2 - v_dn
            dm = max(dm, max(abs(x1), abs(x2)))
            dv = max(dv, max(abs(y1), abs(y2)))
            mmax = max(mmax, max(abs(m_up), abs(m_dn)))
            vmax = max(vmax, max(v_up, v_dn))
            sm += x1 * x1 + x2 * x2
            sv += y1 * y1 + y2 * y2
            n1 = damping * m_up + w * u1
            n2 = damping * m_dn + w * u2
            nv1 = damping_v * v_up + wv * q1
            nv2 = damping_v * v_dn + wv * q2
            mu[p] = n1
            vu[p] = nv1
            md[p] = n2
            vd[p] = nv2
            Tn[j] += jij * n1
            Sn[j] += jj * nv1
            t += jij * n2
            s += jj * nv2
        Tn[i] += t
        Sn[i] += s
    stats[DM] = np.nan if bad else dm
    stats[DV] = dv
    stats[MMAX] = mmax
    stats[VMAX] = vmax
    stats[SM] = sm
    stats[SV] = sv


@njit(cache=True)
def _chunk_rows(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, r0, r1, Tn, Sn,
                stats, code, params, sgn):
    """One chunk of pair rows: the Gaussian division (:func:`_rows`) or a prior's denoiser
    (:func:`_rows_prior`)."""
    Tn[:] = 0.0
    Sn[:] = 0.0
    if code == RIDGE:
        _rows(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, r0, r1, Tn, Sn, stats,
              sgn)
    else:
        _rows_prior(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, r0, r1, Tn, Sn,
                    stats, code, params, sgn)


@njit(cache=True)
def _chunks(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, bounds, TnC, SnC, statsC,
            code, params, sgn):
    for c in range(bounds.shape[0] - 1):
        _chunk_rows(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, bounds[c],
                    bounds[c + 1], TnC[c], SnC[c], statsC[c], code, params, sgn)


@njit(cache=True, parallel=True)
def _chunks_parallel(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, bounds, TnC, SnC,
                     statsC, code, params, sgn):
    """:func:`_chunks` with the chunks across threads. The chunks are fixed by the size
    alone and summed in order afterwards, so the result is the serial one bit for bit,
    whatever the number of threads. A separate function on purpose (see
    :func:`sgphys.kernels.amp._row_sums_parallel`)."""
    for c in prange(bounds.shape[0] - 1):
        _chunk_rows(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, bounds[c],
                    bounds[c + 1], TnC[c], SnC[c], statsC[c], code, params, sgn)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _nodes(h, lam_k, beta, T, S, A, B, um, uv):
    """Node precisions ``A = beta lam - beta^2 S``, fields ``B = beta h + beta T`` and full
    marginals ``um = B / A``, ``uv = 1 / A``. Returns the smallest precision, or a value
    <= 0 if any precision is not positive (NaN included)."""
    b2 = beta * beta
    amin = np.inf
    nonpositive = False
    for i in range(h.shape[0]):
        a = beta * lam_k[i] - b2 * S[i]
        b = beta * h[i] + beta * T[i]
        A[i] = a
        B[i] = b
        um[i] = b / a
        uv[i] = 1.0 / a
        if not (a > 0.0):
            nonpositive = True
        if a < amin:
            amin = a
    return min(amin, 0.0) if nonpositive else amin


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _nodes_prior(h, qd, beta, T, S, A, B, um, uv, code, params):
    """:func:`_nodes` with a prior: ``A = beta Q_ii - beta^2 S``, ``B = beta h + beta T``
    (the prior-free cavity field) and the full marginals from the denoiser. Returns 1.0, or
    -1.0 if a marginal is not finite (e.g. a Laplace prior with A <= 0)."""
    b2 = beta * beta
    ok = 1.0
    for i in range(h.shape[0]):
        a = beta * qd[i] - b2 * S[i]
        b = beta * h[i] + beta * T[i]
        A[i] = a
        B[i] = b
        m, v = denoise(code, params, beta, a, b)
        if not (np.isfinite(m) and np.isfinite(v) and v >= 0.0):
            ok = -1.0
        um[i] = m
        uv[i] = v
    return ok


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _node_marginals(h, lam_k, beta, T, S, A, B, um, uv, code, params):
    if code == RIDGE:
        return _nodes(h, lam_k, beta, T, S, A, B, um, uv)
    return _nodes_prior(h, lam_k, beta, T, S, A, B, um, uv, code, params)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def rbp_sweep(J, h, lam_k, beta, off, mu, vu, md, vd, T, S, Tn, Sn, A, B, damping, damping_v,
              um, uv, stats, bounds, TnC, SnC, statsC, parallel, code=RIDGE,
              params=np.empty(0), sgn=1.0):
    """One damped r-BP sweep in place on the packed messages (couplings ``sgn * J``:
    ``sgn = -1`` reads them from Q, the same bits).

    On entry ``T, S`` are the node sums of the current messages; ``A, B`` receive the node
    precisions and fields ``beta lam_i - beta^2 S_i``, ``beta h_i + beta T_i``, and
    ``um, uv`` the full marginals ``B / A``, ``1 / A`` of the current messages. The raw
    update ``u`` of every message is mixed as ``damping * old + (1 - damping) * u`` (with
    ``damping_v`` for the variances); ``Tn, Sn`` receive the node sums of the new messages. ``stats`` (length
    :data:`N_STATS`) receives the sweep's statistics in the named slots :data:`AMIN`,
    :data:`DM`, :data:`DV`, :data:`MMAX`, :data:`VMAX`, :data:`SM`, :data:`SV` (see their
    definition). If a node precision is not positive the messages are left untouched.

    The pair rows are split into chunks at ``bounds`` (:func:`chunk_bounds`) with work
    arrays ``TnC, SnC`` (chunks, n) and ``statsC`` (chunks, N_STATS); ``parallel`` runs the
    chunks across threads with the same result.

    With a prior (``code`` of :mod:`sgphys.kernels.priors`, ``lam_k`` = diag Q) the
    messages and marginals come from its denoiser (:func:`_rows_prior`,
    :func:`_nodes_prior`); ``stats[AMIN]`` is then 1, or -1 for a non-finite marginal.
    """
    n = J.shape[0]
    stats[AMIN] = _node_marginals(h, lam_k, beta, T, S, A, B, um, uv, code, params)
    if not (stats[AMIN] > 0.0):
        return
    if parallel:
        _chunks_parallel(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, bounds, TnC,
                         SnC, statsC, code, params, sgn)
    else:
        _chunks(J, off, mu, vu, md, vd, A, B, beta, damping, damping_v, bounds, TnC, SnC,
                statsC, code, params, sgn)
    # reduce the chunks in order (deterministic); NaN propagates through the bit maxima
    Tn[:] = 0.0
    Sn[:] = 0.0
    mx = np.zeros(4, dtype=np.int64)  # the maxima DM, DV, MMAX, VMAX in slot order
    mx[MMAX - DM] = _bits(1.0)
    sm = 0.0
    sv = 0.0
    for c in range(statsC.shape[0]):
        for i in range(n):
            Tn[i] += TnC[c, i]
            Sn[i] += SnC[c, i]
        for q in range(4):
            mx[q] = max(mx[q], _bits(statsC[c, DM + q]))
        sm += statsC[c, SM]
        sv += statsC[c, SV]
    for q in range(4):
        stats[DM + q] = _float(mx[q])
    stats[SM] = sm
    stats[SV] = sv


@njit(cache=True, fastmath=FASTMATH)
def rbp_solve(J, h, lam_k, beta, off, mu, vu, md, vd, T_io, S_io, damping, tol, max_iter,
              paper_criterion, history, mean, var, chunks, parallel, auto_state, code=RIDGE,
              params=np.empty(0), sgn=1.0):
    """Iterate r-BP in place on the packed messages. Returns (n_iter, residual, reason);
    ``mean``/``var`` receive the full marginals of the last valid state. ``T_io, S_io``
    hold the node sums of the messages (:func:`node_sums`) on entry and on return: the
    sweeps carry them, so no pass over the pairs recomputes them.

    With a non-empty ``auto_state`` (length ``amp.AUTO_STATE``, as for
    :func:`sgphys.kernels.amp.amp_solve_auto`) the damping is adaptive (``damping="auto"``):
    message variances undamped, message means undamped until their residual grows or
    shrinks too slowly, then the damping from the extreme eigenvalues at the node variances
    of the messages (:func:`sgphys.kernels.amp.auto_damping_step`); ``damping`` is then
    ignored.

    With a prior (``code``, ``params``; ``lam_k`` = diag Q) see :func:`rbp_sweep`; under
    ``auto`` the variances are damped with the means and the rule's operator uses the
    linearised map's diagonal ``(1/v + beta^2 S)/beta``, as in
    :func:`sgphys.kernels.amp.amp_solve_prior`.
    """
    n = J.shape[0]
    auto = auto_state.shape[0] > 0
    if auto and auto_state.shape[0] != AUTO_STATE:
        raise ValueError("auto_state must be empty or of length AUTO_STATE")
    ridge = code == RIDGE
    # the AMP kernels' flags for the damping rule's passes over the couplings
    rows = (ROWS_PARALLEL if parallel else 0) + (ROWS_FROM_Q if sgn < 0.0 else 0)
    lam_eff = np.empty(n)  # with a prior: the linearised map's diagonal, set before use
    v_est = np.empty(n)
    track = np.array([np.inf, 0.0])
    zero = np.zeros(n)
    T = np.empty(n)
    S = np.empty(n)
    Tn = np.empty(n)
    Sn = np.empty(n)
    A = np.empty(n)
    B = np.empty(n)
    um = np.empty(n)
    uv = np.empty(n)
    stats = np.zeros(N_STATS)
    bounds = chunk_bounds(n, chunks)
    TnC = np.empty((chunks, n))
    SnC = np.empty((chunks, n))
    statsC = np.zeros((chunks, N_STATS))
    T[:] = T_io
    S[:] = S_io
    keep_history = history.shape[0] > 0
    n_edges = n * (n - 1) if n > 1 else 1
    res = np.inf
    for it in range(max_iter):
        d_m = auto_state[0] if auto else damping
        d_v = (0.0 if ridge else d_m) if auto else damping
        rbp_sweep(J, h, lam_k, beta, off, mu, vu, md, vd, T, S, Tn, Sn, A, B, d_m, d_v, um, uv,
                  stats, bounds, TnC, SnC, statsC, parallel, code, params, sgn)
        if not (stats[AMIN] > 0.0):
            return it, res, NONPOSITIVE
        ok = True
        for x in stats[DM:]:
            if not np.isfinite(x):
                ok = False
        for i in range(n):
            if not (abs(um[i]) < BLOWUP_LIMIT):
                ok = False
            mean[i] = um[i]
            var[i] = uv[i]
        if not ok:
            T_io[:] = Tn  # the sums of the messages this sweep wrote
            S_io[:] = Sn
            return it, res, BLOWUP
        res = strict_residual(stats[DM], stats[DV], stats[MMAX], stats[VMAX])
        if keep_history:
            history[it] = res
        if auto:  # the damping of the next sweep, from this one's residuals
            rm = stats[DM] / stats[MMAX]
            if ridge:
                auto_damping_step(auto_state, it, rm,
                                  stats[DV] / stats[VMAX] if stats[VMAX] > 0.0 else 0.0,
                                  J, lam_k, beta, uv, zero, rows,
                                  np.sqrt(tol) if paper_criterion else tol)
            else:  # as in amp._amp_iterate: estimated at once, at variances >= V_FLOOR
                for i in range(n):
                    v_est[i] = max(uv[i], V_FLOOR)
                    lam_eff[i] = (1.0 / v_est[i] + beta * beta * S[i]) / beta
                _auto_update(auto_state, prior_growth(track, it, rm), 0.0, J, lam_eff, beta,
                             v_est, zero, rows)
        crit = paper_change_from_sums(stats[SM], stats[SV], n_edges) if paper_criterion else res
        T, Tn = Tn, T
        S, Sn = Sn, S
        T_io[:] = T
        S_io[:] = S
        if crit < tol:
            # marginals of the final (damped) messages
            ok = _node_marginals(h, lam_k, beta, T, S, A, B, um, uv, code, params)
            for i in range(n):
                if (A[i] > 0.0) if ridge else ok > 0.0:
                    mean[i] = um[i]
                    var[i] = uv[i]
            return it + 1, res, CONVERGED
    return max_iter, res, MAX_ITER


def pack(M, Vm):
    """Sender-major full matrices (``M[k, i] = m_{k->i}``) to packed pair arrays
    ``(off, mu, vu, md, vd)``. For tests and initialisation from full messages."""
    n = M.shape[0]
    iu, ju = np.triu_indices(n, 1)
    return (pair_offsets(n), M[iu, ju].copy(), Vm[iu, ju].copy(), M[ju, iu].copy(),
            Vm[ju, iu].copy())


def unpack(mu, vu, md, vd, n):
    """Packed pair arrays to sender-major full matrices ``(M, Vm)`` (diagonal zero)."""
    iu, ju = np.triu_indices(n, 1)
    M = np.zeros((n, n))
    Vm = np.zeros((n, n))
    M[iu, ju], Vm[iu, ju], M[ju, iu], Vm[ju, iu] = mu, vu, md, vd
    return M, Vm


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _log1m(g):
    """``log(1 - g)``: for ``|g| < 1e-3`` its series to ``g^5`` (relative error below
    ``g^5/6 < 2e-16``, no libm call: pair couplings are small), else ``log1p(-g)``."""
    if abs(g) < 1e-3:
        return -g * (1.0 + g * (0.5 + g * (1.0 / 3.0 + g * (0.25 + g * 0.2))))
    return np.log1p(-g)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _bethe_rows(J, beta, mu, vu, md, vd, r0, r1, S, T, out, sgn):
    """Pairs of rows ``r0 <= i < r1`` of :func:`bethe_gaussian` into the chunk's
    accumulators ``S``, ``T`` (n,) and ``out`` = (sum log Z_ij, sum d log Z_ij, bad)."""
    n = J.shape[0]
    lz = 0.0
    dlz = 0.0
    bad = 0.0
    p = r0 * n - r0 * (r0 + 1) // 2  # index of pair (r0, r0 + 1)
    for i in range(r0, r1):
        si = 0.0
        ti = 0.0
        for j in range(i + 1, n):
            q = p + j - i - 1
            Jp = sgn * J[i, j]
            m1 = mu[q]
            v1 = vu[q]
            m2 = md[q]
            v2 = vd[q]
            JJ = Jp * Jp
            si += JJ * v2
            S[j] += JJ * v1
            ti += Jp * m2
            T[j] += Jp * m1
            x = beta * Jp
            g = x * x * v1 * v2
            one_g = 1.0 - g
            inv = 1.0 / one_g
            c = m2 * m2 * v1 + m1 * m1 * v2
            num = x * m1 * m2 + 0.5 * x * x * c
            lz += -0.5 * _log1m(g) + num * inv
            dg = 2.0 * x * v1 * v2
            dlz += Jp * inv * (0.5 * dg + m1 * m2 + x * c + num * dg * inv)
            # a non-positive message variance or pair precision (NaN included)
            bad += 0.0 if (v1 > 0.0 and v2 > 0.0 and one_g > 0.0) else 1.0
        S[i] += si
        T[i] += ti
        p += n - 1 - i
    out[0] = lz
    out[1] = dlz
    out[2] = bad


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _bethe_nodes(h, lam_k, beta, SC, TC, OC):
    """The node terms and the chunks' reduction (in chunk order) of :func:`bethe_gaussian`."""
    n = h.shape[0]
    lz = 0.0
    dlz = 0.0
    bad = 0.0
    for c in range(OC.shape[0]):
        lz += OC[c, 0]
        dlz += OC[c, 1]
        bad += OC[c, 2]
    if bad > 0.0:
        return np.nan, np.nan, 0
    log_2pi = np.log(2.0 * np.pi)
    zi = 0.0
    dzi = 0.0
    for i in range(n):
        Si = 0.0
        Ti = 0.0
        for c in range(SC.shape[0]):
            Si += SC[c, i]
            Ti += TC[c, i]
        a = beta * lam_k[i] - beta * beta * Si
        if not (a > 0.0):
            return np.nan, np.nan, 0
        b = beta * h[i] + beta * Ti
        M = b / a
        zi += 0.5 * (log_2pi - np.log(a)) + 0.5 * b * M
        dzi += -0.5 * (lam_k[i] - 2.0 * beta * Si) * (1.0 / a + M * M) + (h[i] + Ti) * M
    return zi - lz, -(dzi - dlz), 1


@njit(cache=True)
def _bethe_work(n):
    """Chunk bounds and zeroed per-chunk accumulators (S, T, pair sums) of the Bethe pass."""
    return (chunk_bounds(n, SYM_CHUNKS), np.zeros((SYM_CHUNKS, n)), np.zeros((SYM_CHUNKS, n)),
            np.zeros((SYM_CHUNKS, 3)))


@njit(cache=True)
def _bethe_serial(J, h, lam_k, beta, mu, vu, md, vd, sgn):
    bounds, SC, TC, OC = _bethe_work(J.shape[0])
    for c in range(SYM_CHUNKS):
        _bethe_rows(J, beta, mu, vu, md, vd, bounds[c], bounds[c + 1], SC[c], TC[c], OC[c],
                    sgn)
    return _bethe_nodes(h, lam_k, beta, SC, TC, OC)


@njit(cache=True, parallel=True)
def _bethe_parallel(J, h, lam_k, beta, mu, vu, md, vd, sgn):
    """:func:`_bethe_serial` with the chunks across threads (the same bits)."""
    bounds, SC, TC, OC = _bethe_work(J.shape[0])
    for c in prange(SYM_CHUNKS):
        _bethe_rows(J, beta, mu, vu, md, vd, bounds[c], bounds[c + 1], SC[c], TC[c], OC[c],
                    sgn)
    return _bethe_nodes(h, lam_k, beta, SC, TC, OC)


@njit(cache=True)
def bethe_gaussian(J, h, lam_k, beta, mu, vu, md, vd, parallel=False, sgn=1.0):
    """Bethe free energy of r-BP's packed Gaussian messages in one pass over the pairs
    (``sgphys.thermo.bethe_gaussian_thermo`` on the dense messages, without forming them):
    pair ``p`` of ``i < j`` (row-major upper triangle) carries ``m_{i->j} = mu[p]``,
    ``v_{i->j} = vu[p]``, ``m_{j->i} = md[p]``, ``v_{j->i} = vd[p]``; J's diagonal is not
    read. Fixed row chunks summed in order: the same bits serially and across threads.
    Returns ``(log_z, energy, ok)`` with ``ok`` 0 when a message variance, a node precision
    or a pair's ``1 - beta^2 J_ij^2 v_{i->j} v_{j->i}`` is not positive. Couplings
    ``sgn * J`` (``sgn = -1``: from Q, the same bits)."""
    if parallel:
        return _bethe_parallel(J, h, lam_k, beta, mu, vu, md, vd, sgn)
    return _bethe_serial(J, h, lam_k, beta, mu, vu, md, vd, sgn)
