"""Single-spin prior kernels: denoisers and exact conditional samplers (numba).

The tilted density of one spin under a prior pi_beta is

    f(s) ∝ pi_beta(s) exp(-A s^2 / 2 + B s)

``A`` and ``B`` are the natural parameters of the rest of the Gibbs measure *already
multiplied by beta* (for a Gibbs conditional ``A = beta Q_ii``, ``B = beta (h_i + sum_k J_ik
s_k)``); the prior applies its own beta:

    code 0  GAUSSIAN  params [lam]       pi_beta(s) ∝ exp(-beta lam s^2 / 2)
    code 1  LAPLACE   params [lam1]      pi_beta(s) ∝ exp(-beta lam1 |s|)
    code 2  DISCRETE  params [K, v_0..v_{K-1}, logw_0..logw_{K-1}(, sym)]
                                         pi(s = v_k) = exp(logw_k), independent of beta;
                                         the optional ``sym`` is 1.0 if the support and
                                         weights are mirror-symmetric about 0 (else 0.0)

Validity: Gaussian needs ``A + beta lam > 0``, Laplace ``A > 0``; any A is fine for a
discrete prior. An invalid or non-finite result is NaN here and counted by the array
wrappers; the public callers raise (never a silent NaN).

The Laplace tilted density is a mixture of two truncated Gaussians, N((B - c)/A, 1/A) on
s > 0 and N((B + c)/A, 1/A) on s < 0, c = beta lam1, with standardised truncation points
``x+ = (c - B)/sqrt(A)`` and ``x- = (c + B)/sqrt(A)``. Everything is written through the
inverse Mills ratio ``lam(x) = phi(x) / Phi_c(x)`` of N(0, 1) truncated to z > x:
``E[z - x] = d(x) = lam(x) - x`` and ``Var[z] = w(x) = 1 - lam(x) d(x)``; each side's mass is
proportional to ``1 / lam(x)``. For x <= X_CF, ``lam = sqrt(2/pi) exp(-x^2/2) / erfc(x/sqrt 2)``
(no overflow for any x < 0: erfc lies in [1, 2] there); above it Laplace's continued fraction
``d = 1/(x + 2/(x + 3/(x + ...)))`` gives d and ``w = d (u2 - d)`` without the cancellation of
``1 - lam d`` in the far tail (measured: full double precision with the term counts below).

No validation here (see :mod:`sgphys.priors`). Compiled with ``cache=True`` and no fastmath.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from . import _cache  # noqa: F401  (first: numba's cache locator for the kernels)

GAUSSIAN, LAPLACE, DISCRETE = 0, 1, 2

SQRT2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
LOG_2PI = math.log(2.0 * math.pi)
#: from here on the continued fraction (above it the direct formula loses ~x^2 eps in w)
X_CF = 4.0
NAN = np.nan


@njit(cache=True, error_model="numpy")
def _cf_terms(x):
    """Continued-fraction depth giving full double precision at x >= X_CF (measured)."""
    if x < 5.0:
        return 64
    if x < 6.0:
        return 44
    if x < 8.0:
        return 32
    if x < 20.0:
        return 22
    return 12


@njit(cache=True, error_model="numpy", inline="always")
def mills(x):
    """``(lam, d, w)`` of N(0, 1) truncated to z > x.

    lam = phi(x)/Phi_c(x) (inverse Mills ratio), d = lam - x = E[z - x], w = Var[z].
    """
    if x <= X_CF:
        z = x / SQRT2
        lam = SQRT_2_OVER_PI * math.exp(-z * z) / math.erfc(z)
        d = lam - x
        w = 1.0 - lam * d
        return lam, d, w
    t = 0.0
    for k in range(_cf_terms(x), 1, -1):
        t = k / (x + t)
    d = 1.0 / (x + t)
    w = d * (t - d)
    return x + d, d, w


@njit(cache=True, error_model="numpy")
def log_phic(x):
    """``log Phi_c(x) = log P(z > x)`` for z ~ N(0, 1), no underflow for large x."""
    if x <= X_CF:
        return math.log(0.5 * math.erfc(x / SQRT2))
    lam = mills(x)[0]
    return -0.5 * x * x - LOG_SQRT_2PI - math.log(lam)


# -- denoisers ------------------------------------------------------------------------------

@njit(cache=True, error_model="numpy", inline="always")
def _gaussian(lam, beta, A, B):
    a = A + beta * lam
    if not a > 0.0:
        return NAN, NAN
    return B / a, 1.0 / a


@njit(cache=True, error_model="numpy", inline="always")
def _laplace(lam1, beta, A, B):
    if not A > 0.0:
        return NAN, NAN
    c = beta * lam1
    sa = math.sqrt(A)
    sigma = 1.0 / sa
    xp = (c - B) / sa
    xm = (c + B) / sa
    lp, dp, wp = mills(xp)
    lm, dm, wm = mills(xm)
    # side masses ∝ 1/lam: p+ = lam- / (lam+ + lam-); one of x+- is >= c/sqrt(A) > 0,
    # so the denominator is >= lam(0) > 0
    tot = lp + lm
    pp = lm / tot
    pm = lp / tot
    mean = sigma * (pp * dp - pm * dm)
    dd = dp + dm
    var = sigma * sigma * (pp * wp + pm * wm + pp * pm * dd * dd)
    return mean, var


@njit(cache=True, error_model="numpy")
def _symmetric(params):
    """Support symmetric about 0 with mirror-equal weights (values ascending)."""
    K = int(params[0])
    for k in range(K // 2):
        if params[1 + k] != -params[K - k] or params[1 + K + k] != params[2 * K - k]:
            return False
    if K % 2 == 1 and params[1 + K // 2] != 0.0:
        return False
    return True


#: below this |B a| the mirror pair's weight ratio exp(-2|B a|) is taken through expm1
_SMALL_BA = 0.35


@njit(cache=True, error_model="numpy", inline="always")
def _mirror(params, A, B):
    """:func:`_discrete` for the symmetric supports {-a, a} and {-a, 0, a} (Binary, Ternary)
    with two transcendental calls at most (one for Binary) instead of up to eleven.

    With ``x = B a`` the pair's log weights are ``c +- x`` (``c = log w_a - A a^2/2``), so
    their probabilities are ``p_big`` and ``p_small = p_big exp(-2|x|)``;
    ``p_big - p_small = p_big (1 - exp(-2|x|))`` keeps its relative precision (expm1 for
    small |x|), the mean is exactly 0 at B = 0, and the variance is the pairwise formula
    ``(p0 (p_big + p_small) a^2 + 4 a^2 p_big p_small) / tot^2``, free of cancellation."""
    K = int(params[0])
    a = params[K]
    c = params[2 * K] - 0.5 * A * a * a
    x = B * a
    ax = abs(x)
    l_big = c + ax
    if not (l_big > -np.inf and l_big < np.inf):
        return NAN, NAN
    if ax > _SMALL_BA:
        e1 = math.exp(-2.0 * ax)
        gap = 1.0 - e1
    else:
        em1 = math.expm1(-2.0 * ax)
        e1 = 1.0 + em1
        gap = -em1
    p_big = 1.0
    p0 = 0.0
    if K == 3:
        l0 = params[K + 2]
        if l_big >= l0:
            p0 = math.exp(l0 - l_big)
        else:
            p_big = math.exp(l_big - l0)
            p0 = 1.0
    p_small = p_big * e1
    tot = p_big + p_small + p0
    diff = p_big * gap
    mean = (a * diff if x >= 0.0 else -a * diff) / tot
    var = a * a * (p0 * (p_big + p_small) + 4.0 * p_big * p_small) / (tot * tot)
    return mean, var


@njit(cache=True, error_model="numpy", inline="always")
def _discrete(params, A, B):
    K = int(params[0])
    # the mirror-symmetry flag after the weights (sgphys.priors), else checked here
    sym = params[1 + 2 * K] == 1.0 if params.shape[0] > 1 + 2 * K else _symmetric(params)
    if sym and (K == 2 or K == 3):
        return _mirror(params, A, B)
    lmax = -np.inf
    for k in range(K):
        v = params[1 + k]
        lk = params[1 + K + k] - 0.5 * A * v * v + B * v
        if lk > lmax:
            lmax = lk
    if not (lmax > -np.inf and lmax < np.inf):
        return NAN, NAN
    tot = 0.0
    mean = 0.0
    for k in range(K):
        v = params[1 + k]
        pk = math.exp(params[1 + K + k] - 0.5 * A * v * v + B * v - lmax)
        tot += pk
        mean += pk * v
    if sym:
        # pairs (-v, v) of equal weight: v (p(v) - p(-v)) through expm1, so a small mean
        # (small B) keeps its relative precision and B = 0 gives exactly 0
        mean = 0.0
        for k in range(K // 2):
            v = params[K - k]
            bv = B * v
            ab = abs(bv)
            diff = -math.expm1(-2.0 * ab) * math.exp(params[2 * K - k] - 0.5 * A * v * v
                                                     + ab - lmax)
            mean += v * diff if bv >= 0.0 else -v * diff
    mean /= tot
    # pairwise variance: sum_{k<l} p_k p_l (v_k - v_l)^2, no cancellation when one value
    # dominates (E[s^2] - m^2 would lose the minority weight)
    var = 0.0
    for k in range(K):
        vk = params[1 + k]
        pk = math.exp(params[1 + K + k] - 0.5 * A * vk * vk + B * vk - lmax)
        for j in range(k + 1, K):
            vl = params[1 + j]
            pl = math.exp(params[1 + K + j] - 0.5 * A * vl * vl + B * vl - lmax)
            dv = vk - vl
            var += pk * pl * dv * dv
    var /= tot * tot
    return mean, var


@njit(cache=True, error_model="numpy", inline="always")
def denoise(code, params, beta, A, B):
    """Mean and variance of ``pi_beta(s) exp(-A s^2/2 + B s)``; NaN pair if invalid."""
    if code == GAUSSIAN:
        return _gaussian(params[0], beta, A, B)
    if code == LAPLACE:
        return _laplace(params[0], beta, A, B)
    if code == DISCRETE:
        return _discrete(params, A, B)
    return NAN, NAN


@njit(cache=True, error_model="numpy")
def denoise_array(code, params, beta, A, B, mean, var):
    """Elementwise :func:`denoise` over 1-D arrays A, B into ``mean``, ``var``.

    Returns the number of entries whose result is not finite (those are NaN).
    """
    bad = 0
    for i in range(A.shape[0]):
        m, v = denoise(code, params, beta, A[i], B[i])
        if not (math.isfinite(m) and math.isfinite(v) and v >= 0.0):
            m = NAN
            v = NAN
            bad += 1
        mean[i] = m
        var[i] = v
    return bad


# -- penalties (the beta-linear part of -log pi_beta) -----------------------------------------

@njit(cache=True, error_model="numpy")
def penalty(code, params, s):
    """``-log pi_beta(s) / beta`` up to a constant for the continuous priors, 0 for discrete.

    The replica-exchange swap needs only this part: a discrete prior's log weights do not
    depend on beta and cancel in the swap ratio, as do the normalisations.
    """
    if code == GAUSSIAN:
        return 0.5 * params[0] * s * s
    if code == LAPLACE:
        return params[0] * abs(s)
    return 0.0


# -- exact samplers -------------------------------------------------------------------------

@njit(cache=True, error_model="numpy")
def tail_inv(logq):
    """``z >= 0`` with ``log Phi_c(z) = logq`` for ``logq <= log(1/2)``.

    Newton on the concave, decreasing ``log Phi_c(z) - logq`` (derivative ``-lam(z)``):
    after the first step every iterate lies right of the root and decreases to it.
    """
    t = -2.0 * logq
    z = 0.0
    if t > 2.0:
        arg = t - math.log(t) - LOG_2PI
        if arg > 0.0:
            z = math.sqrt(arg)
    for _ in range(200):
        lam = mills(z)[0]
        step = (log_phic(z) - logq) / lam
        znew = z + step
        if znew < 0.0:
            znew = 0.0
        if abs(znew - z) <= 4e-16 * (1.0 + znew):
            return znew
        z = znew
    return z


@njit(cache=True, error_model="numpy")
def trunc_excess(x, u):
    """``y >= 0`` such that ``z = x + y`` is N(0, 1) truncated to z > x, from ``u`` in [0, 1).

    Inverse CDF: ``Phi_c(x + y) = (1 - u) Phi_c(x)`` (so y = 0 at u = 0). For x >= 0 Newton
    on ``g(y) = log Phi_c(x + y) - log Phi_c(x) - log(1 - u)``, written through the Mills
    ratio so that the small excess of a far tail keeps its relative precision; for x < 0
    the two-sided inverse of the (at least half) mass above x.
    """
    v = 1.0 - u  # in (0, 1]: u is a multiple of 2^-53
    logv = math.log(v)
    if x >= 0.0:
        loglam0 = math.log(mills(x)[0])
        y = 0.0
        for _ in range(200):
            lam = mills(x + y)[0]
            g = -(x * y + 0.5 * y * y) - (math.log(lam) - loglam0) - logv
            ynew = y + g / lam
            if ynew < 0.0:
                ynew = 0.0
            if abs(ynew - y) <= 4e-16 * ynew or ynew == y:
                return ynew
            y = ynew
        return y
    # x < 0: upper-tail mass q = v Phi_c(x) >= v/2
    lq = logv + log_phic(x)
    if lq <= -math.log(2.0):
        z = tail_inv(lq)
    else:
        # lower tail p = 1 - q = Phi(x) + u Phi_c(x) < 1/2, both terms positive
        p = 0.5 * math.erfc(-x / SQRT2) + u * math.exp(log_phic(x))
        if not p > 0.0:
            return 0.0
        z = -tail_inv(math.log(p))
    y = z - x
    if y < 0.0:
        y = 0.0
    return y


@njit(cache=True, error_model="numpy")
def sample(code, params, beta, A, B, r0, r1):
    """One exact draw from ``pi_beta(s) exp(-A s^2/2 + B s)``; NaN if invalid.

    Gaussian: ``r0`` is a standard normal (``r1`` unused). Laplace: ``r0`` picks the side,
    ``r1`` the position by inverse CDF (both uniform in [0, 1)). Discrete: ``r0`` uniform
    in [0, 1) is inverted through the cumulative weights.
    """
    if code == GAUSSIAN:
        a = A + beta * params[0]
        if not a > 0.0:
            return NAN
        return B / a + r0 / math.sqrt(a)
    if code == LAPLACE:
        if not A > 0.0:
            return NAN
        c = beta * params[0]
        sa = math.sqrt(A)
        xp = (c - B) / sa
        xm = (c + B) / sa
        lp = mills(xp)[0]
        lm = mills(xm)[0]
        if r0 * (lp + lm) < lm:  # positive side with probability lam- / (lam+ + lam-)
            return trunc_excess(xp, r1) / sa
        return -trunc_excess(xm, r1) / sa
    if code == DISCRETE:
        K = int(params[0])
        lmax = -np.inf
        for k in range(K):
            v = params[1 + k]
            lk = params[1 + K + k] - 0.5 * A * v * v + B * v
            if lk > lmax:
                lmax = lk
        if not (lmax > -np.inf and lmax < np.inf):
            return NAN
        tot = 0.0
        for k in range(K):
            v = params[1 + k]
            tot += math.exp(params[1 + K + k] - 0.5 * A * v * v + B * v - lmax)
        target = r0 * tot
        cum = 0.0
        last = 0
        for k in range(K):
            v = params[1 + k]
            pk = math.exp(params[1 + K + k] - 0.5 * A * v * v + B * v - lmax)
            if pk > 0.0:
                last = k
                cum += pk
                if target < cum:
                    return v
        return params[1 + last]
    return NAN


@njit(cache=True, error_model="numpy")
def sample_array(code, params, beta, A, B, r0, r1, out):
    """Elementwise :func:`sample`; returns the number of non-finite draws (NaN there)."""
    bad = 0
    for i in range(A.shape[0]):
        s = sample(code, params, beta, A[i], B[i], r0[i], r1[i])
        if not math.isfinite(s):
            s = NAN
            bad += 1
        out[i] = s
    return bad
