"""Reason codes and convergence measures shared by every iterative kernel (docs/model.rst, section
Solvers).

Reason codes: :mod:`sgphys.kernels.reasons` (re-exported here for the kernels).

Convergence of a state ``x = (m, v)`` against its raw update ``u``:

- strict (docs/model.rst, section Solvers): ``max(max|u_m - m| / max(1, max|m|), max|u_v - v| / max
v)``
  (:func:`strict_residual` from the four maxima);
- the authors' rule: ``sum (u_m - m)^2 / count + sum (u_v - v)^2 / count``
  (:func:`paper_change_from_sums`), with ``count`` the number of nodes (AMP) or of
  directed edges (r-BP, full BP).

:func:`change_stats` computes the maxima and sums from arrays; r-BP accumulates them inside
its fused sweep and combines them with the same two functions.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import _cache  # noqa: F401  (first: numba's cache locator for the kernels)

FASTMATH = {"reassoc", "contract"}
from .reasons import BLOWUP, CONVERGED, MAX_ITER, NONPOSITIVE, REASONS  # noqa: F401

#: a mean beyond this magnitude is a blow-up
BLOWUP_LIMIT = 1e100


@njit(cache=True)
def strict_residual(dm, dv, mmax, vmax):
    """The residual (docs/model.rst, section Solvers) from ``max|u_m - m|``, ``max|u_v - v|``,
    ``max(1, max|m|)`` and
    ``max v`` (a zero ``vmax`` counts the variance term as 0)."""
    r1 = dm / mmax
    r2 = dv / vmax if vmax > 0.0 else 0.0
    return r1 if r1 > r2 else r2


@njit(cache=True)
def paper_change_from_sums(sm, sv, count):
    """The authors' rule from the sums of squared changes of means and variances."""
    return sm / count + sv / count


@njit(cache=True, fastmath=FASTMATH)
def change_parts(um, uv, m, v):
    """``(max|um - m| / max(1, max|m|), max|uv - v| / max v, sum (um - m)^2,
    sum (uv - v)^2)`` of an update ``(um, uv)`` against the state ``(m, v)``: the mean and
    variance parts of the residual (docs/model.rst, section Solvers), and the authors' sums; arrays
    of any equal shape
    (flattened)."""
    dm = 0.0
    dv = 0.0
    mmax = 1.0
    vmax = 0.0
    sm = 0.0
    sv = 0.0
    a = um.ravel()
    b = uv.ravel()
    c = m.ravel()
    d = v.ravel()
    for i in range(c.shape[0]):
        x = a[i] - c[i]
        y = b[i] - d[i]
        if abs(x) > dm:
            dm = abs(x)
        if abs(y) > dv:
            dv = abs(y)
        if abs(c[i]) > mmax:
            mmax = abs(c[i])
        if d[i] > vmax:
            vmax = d[i]
        sm += x * x
        sv += y * y
    return dm / mmax, (dv / vmax if vmax > 0.0 else 0.0), sm, sv


@njit(cache=True, fastmath=FASTMATH)
def change_stats(um, uv, m, v):
    """(strict residual, sum (um - m)^2, sum (uv - v)^2) of an update ``(um, uv)`` against
    the state ``(m, v)`` (:func:`change_parts` combined by :func:`strict_residual`'s rule)."""
    rm, rv, sm, sv = change_parts(um, uv, m, v)
    return (rm if rm > rv else rv), sm, sv


@njit(cache=True)
def finite_bounded(x):
    """True when every entry is finite and below :data:`BLOWUP_LIMIT` in magnitude."""
    for i in range(x.shape[0]):
        if not (abs(x[i]) < BLOWUP_LIMIT):  # also catches NaN
            return False
    return True


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _residual_row(Q, lam, h, m, i, out_r, out_a):
    """Row i of ``A m - h``: ``out_a[i] = |(A m)_i|``, ``out_r[i] = |(A m)_i - h_i|``."""
    s = 0.0
    row = Q[i]
    for k in range(m.shape[0]):
        s += row[k] * m[k]
    s += lam * m[i]
    out_a[i] = abs(s)
    out_r[i] = abs(s - h[i])


@njit(cache=True, fastmath=FASTMATH, parallel=True)
def _residual_rows(Q, lam, h, m, out_r, out_a):
    for i in prange(m.shape[0]):
        _residual_row(Q, lam, h, m, i, out_r, out_a)


@njit(cache=True, fastmath=FASTMATH)
def _residual_rows_serial(Q, lam, h, m, out_r, out_a):
    """:func:`_residual_rows` on one thread (the same sums, the same bits)."""
    for i in range(m.shape[0]):
        _residual_row(Q, lam, h, m, i, out_r, out_a)


@njit(cache=True)
def linear_residual(Q, lam, h, m, parallel=True):
    """Scale-invariant residual of ``A m = h``, ``A = Q + lam I``:
    ``max|A m - h| / max(max|A m|, max|h|)`` (0 when both sides vanish, inf when not
    finite). Invariant to the units of the features and the labels (``Q``, ``h`` and ``m``
    rescaled together); each row summed serially, so the value does not depend on threads
    (``parallel`` only spreads the rows). No BLAS call: the certificate does not wake BLAS
    threads inside a solver."""
    n = m.shape[0]
    r = np.empty(n)
    a = np.empty(n)
    if parallel:
        _residual_rows(Q, lam, h, m, r, a)
    else:
        _residual_rows_serial(Q, lam, h, m, r, a)
    num = 0.0
    den = 0.0
    for i in range(n):
        if not (r[i] < np.inf):  # NaN or inf
            return np.inf
        if r[i] > num:
            num = r[i]
        if a[i] > den:
            den = a[i]
        if abs(h[i]) > den:
            den = abs(h[i])
    if den == 0.0:
        return 0.0 if num == 0.0 else np.inf
    return num / den
