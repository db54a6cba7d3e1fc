"""Asymptotic theory of in-context learning by linear attention (pure NumPy).

Closed-form learning curves of Lu, Letey, Zavatone-Veth, Maiti & Pehlevan, "Asymptotic
theory of in-context learning by linear attention", PNAS 122 (28), e2502599122 (2025),
arXiv:2405.11751 (called "the PNAS paper" below), expressed in sgphys's variables, plus two
exact finite-D results (the zero-mode fraction of the Hessian and the large-P test error).

The PNAS paper's predictor is the same function class as sgphys's merged weights (docs/model.rst,
section Transformer):
``yhat = <Gamma, H_Z>`` with ``d(d+1)`` parameters, trained by ridge regression on ``n``
prompts; sgphys's exact Gibbs mean (docs/model.rst, section Spin mapping) is the same estimator. Its
limit is
``d -> inf`` with ``l = alpha d``, ``n = tau d^2``, ``k = kappa d``.

Glossary (theory -> sgphys)
---------------------------
d
    token dimension: ``D``.
alpha = l / d
    context length per dimension: ``N / D``.
tau = n / d^2
    pretraining prompts per squared dimension: ``P / D^2`` (interpolation peak at tau = 1).
kappa = k / d
    distinct pretraining tasks per dimension: ``inf`` when every prompt has its own task
    vector (sgphys's sampler, docs/model.rst, section Data); ``n_tasks / D`` for a finite task pool.
rho
    label-noise variance, signal variance 1: ``noise**2``.
lambda
    the PNAS paper's ridge: ``Gamma = (sum_mu H H^T + (n/d) lambda I)^-1 sum_mu H y``;
    ``lambda = D * lam`` with sgphys's ``lam`` (derived in :func:`theory_params`).
x* = (1 + rho) / alpha
    effective in-context noise-to-signal ratio.
e_ICL, e_IDG
    test error ``E (y_q - yhat)^2`` (noise included, no 1/2) on fresh tasks (ICL) or on
    tasks drawn from the pretraining pool (IDG, "in-distribution generalisation"). This
    is sgphys's test error (docs/model.rst, section Transformer): the labels have the same
    distribution in both
    normalisations, so no rescaling of the error is needed.

The Wishart transform used throughout is

    M_kappa(x) = 2 / ((x + 1 - 1/kappa) + sqrt((x + 1 - 1/kappa)^2 + 4 x / kappa)),

``M_kappa(x) = E[1 / (s + x)]`` for s Marchenko-Pastur distributed with ratio ``1/kappa``
(the spectrum of the empirical task covariance ``(1/k) sum_i w_i w_i^T``); at
``kappa = inf`` it is ``1 / (1 + x)``.

Check values (the PNAS paper's formulas, kappa = inf, rho = 0, lambda = 0):
``(alpha, tau) = (2, 2) -> 2/3``, ``(5, 0.5) -> 3/4``, ``(5, 3) -> 1/4``,
``(1, 25) -> 0.5208333``; ``tau -> inf`` gives ``1 / (1 + alpha)``, the large-D form of
that of docs/model.rst (section Transformer), ``(D+1)/(N+D+1)``. Task-diversity gap at ``alpha = 10,
tau = 1e4, rho = 0.01``:
about 0.50, 0.145, 0.023 at ``kappa = 0.5, 1, 2``.

Finite-D agreement (measured with sgphys's exact solution, see tests/test_theory.py and
:func:`theory_params`): the exact test error approaches these formulas as ``1/D``.
"""

from __future__ import annotations

import numpy as np

from ._validate import _short, check_memory, check_nonnegative, check_positive_int

__all__ = [
    "icl_error",
    "idg_error",
    "task_diversity_gap",
    "theory_params",
    "m_kappa",
    "m_kappa_prime",
    "zero_mode_fraction",
    "theory_test_error",
]


# -- input handling -----------------------------------------------------------------------

def _param(name, value, *, lower=0.0, strict=True, allow_inf=False) -> np.ndarray:
    """``value`` as a float64 array after checking type, NaN, inf and the lower bound.

    Rejects (ValueError naming ``name``) booleans, strings, None and any non-real dtype,
    NaN, inf unless ``allow_inf`` (then only +inf), and values ``<= lower`` (``strict``)
    or ``< lower``.
    """
    if isinstance(value, (bool, np.bool_, str, bytes)) or value is None:
        raise ValueError(f"{name} must be a real number or array of real numbers, "
                         f"got {_short(value)}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged sequences and the like
        raise ValueError(f"{name} must be a real number or array of real numbers, "
                         f"got {_short(value)}") from exc
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a real number or array of real numbers, "
                         f"got {_short(value)} (dtype {arr.dtype})")
    arr = arr.astype(np.float64)
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} must not be NaN, got {_short(value)}")
    if np.any(np.isinf(arr)):
        if not allow_inf:
            raise ValueError(f"{name} must be finite, got {_short(value)}")
        if np.any(arr == -np.inf):
            raise ValueError(f"{name} must be > {lower:g} (inf allowed), got {_short(value)}")
    bad = arr <= lower if strict else arr < lower
    if np.any(bad):
        rel = ">" if strict else ">="
        raise ValueError(f"{name} must be {rel} {lower:g}, got {_short(value)}")
    return arr


def _output(out: np.ndarray, scalar: bool):
    return float(out.reshape(())) if scalar else out


def _inputs(**params):
    """Validate and broadcast; returns (dict of flat arrays, shape, all-scalar flag)."""
    spec = {
        "alpha": dict(lower=0.0, strict=True),
        "tau": dict(lower=0.0, strict=True),
        "kappa": dict(lower=0.0, strict=True, allow_inf=True),
        "rho": dict(lower=0.0, strict=False),
        "lam": dict(lower=0.0, strict=False),
    }
    arrs = {k: _param(k, v, **spec[k]) for k, v in params.items()}
    scalar = all(a.ndim == 0 for a in arrs.values())
    try:
        b = np.broadcast_arrays(*arrs.values())
    except ValueError as exc:
        shapes = ", ".join(f"{k}{a.shape}" for k, a in arrs.items())
        raise ValueError(f"parameter shapes do not broadcast: {shapes}") from exc
    size = int(np.prod(b[0].shape, dtype=object))
    shapes = ", ".join(f"{k}{a.shape}" for k, a in arrs.items())
    # the flat copies and about twenty work arrays of the broadcast size
    check_memory(shapes, b[0].shape, 8 * 30 * size, "the broadcast parameter arrays")
    shape = b[0].shape
    return {k: np.ascontiguousarray(a).ravel() for k, a in zip(arrs, b)}, shape, scalar


# -- the Wishart transform ----------------------------------------------------------------

def _m(x, ik):
    """M_kappa(x) with ``ik = 1/kappa`` (0 for kappa = inf), cancellation-free."""
    a = x + 1.0 - ik
    b = 4.0 * x * ik
    r = np.sqrt(a * a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        # a + r = b / (r - a) when a < 0 (avoids cancellation for small kappa)
        alt = 2.0 * (r - a) / b
    return np.where(a >= 0.0, 2.0 / (a + r), alt)


def _m_prime(x, ik):
    """d M_kappa / dx with ``ik = 1/kappa``."""
    m = _m(x, ik)
    a = x + 1.0 - ik
    r = np.sqrt(a * a + 4.0 * x * ik)
    return -0.5 * m * m * (1.0 + (x + 1.0 + ik) / r)


def _of_x_kappa(f, x, kappa):
    """``f(x, 1/kappa)`` on validated, broadcast arguments (float for scalars)."""
    xa = _param("x", x)
    ka = _param("kappa", kappa, allow_inf=True)
    scalar = xa.ndim == 0 and ka.ndim == 0
    xa, ka = np.broadcast_arrays(xa, ka)
    return _output(f(xa, 1.0 / ka), scalar)


def m_kappa(x, kappa=np.inf):
    """The Wishart transform ``M_kappa(x)`` of the PNAS paper.

    ``M_kappa(x) = 2 / ((x + 1 - 1/kappa) + sqrt((x + 1 - 1/kappa)^2 + 4 x / kappa))``,
    equal to ``E[1/(s + x)]`` for s Marchenko-Pastur with ratio ``1/kappa`` (unit mean,
    with an atom of mass ``1 - kappa`` at 0 when ``kappa < 1``); ``1/(1 + x)`` at
    ``kappa = inf``.

    Parameters
    ----------
    x : float or array_like, > 0
    kappa : float or array_like, > 0 (inf allowed)
        Broadcast against ``x``.

    Returns
    -------
    float or ndarray
        Float for scalar inputs, else an array of the broadcast shape.
    """
    return _of_x_kappa(_m, x, kappa)


def m_kappa_prime(x, kappa=np.inf):
    """Derivative ``dM_kappa/dx = -(1/2) M^2 (1 + (x + 1 + 1/kappa) / sqrt(...))``.

    Parameters
    ----------
    x : float or array_like, > 0
    kappa : float or array_like, > 0 (inf allowed)

    Returns
    -------
    float or ndarray
        Float for scalar inputs, else an array of the broadcast shape.
    """
    return _of_x_kappa(_m_prime, x, kappa)


# -- learning curves ----------------------------------------------------------------------

def _icl_ridgeless(a, t, ik, r):
    """Ridgeless e_ICL on flat arrays (tau != 1)."""
    x = (1.0 + r) / a
    out = np.empty_like(x)
    lo = t < 1.0
    if np.any(lo):
        xs, ts, rs = x[lo], t[lo], r[lo]
        mu = xs * _m(xs, ts * ik[lo])  # M_{kappa/tau}: 1/(kappa/tau) = tau/kappa
        out[lo] = (ts * (1.0 + xs) / (1.0 - ts)
                   * (1.0 - ts * (1.0 - mu) ** 2 - (xs - rs) * mu / xs)
                   - 2.0 * ts * (1.0 - mu) + 1.0 + rs)
    hi = t > 1.0
    if np.any(hi):
        xs, ts, rs, iks = x[hi], t[hi], r[hi], ik[hi]
        m = _m(xs, iks)
        # k* = 1 / (1 - kappa (m/(kappa+m))^2), written with 1/kappa (k* = 1 at kappa = inf)
        kstar = 1.0 / (1.0 - iks * m * m / (1.0 + iks * m) ** 2)
        inv = 1.0 / (ts - 1.0)
        out[hi] = ((kstar - inv) * (1.0 + xs) * (xs * m) ** 2
                   + (3.0 - 2.0 * ts) * inv * m * xs ** 2
                   + ((1.0 + rs) * inv * m + 1.0) * xs + rs * m * inv + rs)
    out[t == 1.0] = np.inf
    return out


def _ridge_f(eps, t, lam, x, ik):
    return 1.0 - t + t * lam / eps - eps * _m(eps + x, ik)


def _ridge_eps(a, t, ik, r, lam):
    """Positive root eps of ``1 - tau + tau lam/eps - eps M_kappa(eps + x*) = 0``.

    The left side f is strictly decreasing in eps (``eps M(eps + x) = E[eps/(s+x+eps)]``
    increases) and brackets its root: with ``0 <= eps M(eps + x) < 1`` and
    ``1 - eps M(eps + x) <= (1 + x)/eps`` (MP mean 1),
    ``f(tau lam/(tau+1)) > 1`` and ``f(2 (tau lam + 1 + x)/tau) <= -tau/2``.
    Solved by bisection in log(eps) to machine precision, vectorised.
    """
    x = (1.0 + r) / a
    with np.errstate(all="ignore"):
        lo = t * lam / (t + 1.0)
        hi = 2.0 * (t * lam + 1.0 + x) / t
        f_lo = _ridge_f(lo, t, lam, x, ik)
        f_hi = _ridge_f(hi, t, lam, x, ik)
        ok = (f_lo > 0.0) & (f_hi < 0.0) & (lo > 0.0) & np.isfinite(hi)
    if not np.all(ok):
        i = int(np.flatnonzero(~ok)[0])
        kappa = np.inf if ik[i] == 0.0 else 1.0 / ik[i]
        raise ValueError(
            "no positive root eps of 1 - tau + tau lam/eps - eps M_kappa(eps + x*) = 0 "
            f"could be bracketed at alpha={float(a[i])!r}, tau={float(t[i])!r}, "
            f"kappa={float(kappa)!r}, rho={float(r[i])!r}, lam={float(lam[i])!r}")
    llo, lhi = np.log(lo), np.log(hi)
    for _ in range(200):
        mid = 0.5 * (llo + lhi)
        pos = _ridge_f(np.exp(mid), t, lam, x, ik) > 0.0
        llo = np.where(pos, mid, llo)
        lhi = np.where(pos, lhi, mid)
        if np.all(lhi - llo <= 4.0 * np.finfo(float).eps * np.maximum(1.0, np.abs(lhi))):
            break
    return np.exp(0.5 * (llo + lhi))


def _icl_ridge(a, t, ik, r, lam):
    """Ridge e_ICL (lam > 0) on flat arrays."""
    x = (1.0 + r) / a
    eps = _ridge_eps(a, t, ik, r, lam)
    nu = x + eps
    S = _m(nu, ik)
    Sp = _m_prime(nu, ik)
    c = ((r + nu - nu * nu * S - eps * (1.0 - 2.0 * nu * S - nu * nu * Sp))
         / (1.0 - 2.0 * eps * S - eps * eps * Sp - t))
    return ((x + 1.0) * (1.0 - 2.0 * nu * S - nu * nu * Sp - c * (S + eps * Sp))
            - 2.0 * (1.0 - nu * S) + 1.0 + r)


def icl_error(alpha, tau, kappa=np.inf, rho=0.0, lam=0.0):
    """Asymptotic in-context-learning test error e_ICL (fresh tasks at test time).

    The PNAS paper's formulas, with ``x* = (1 + rho)/alpha``, ``m* = M_kappa(x*)``,
    ``mu* = x* M_{kappa/tau}(x*)``. Ridgeless (``lam = 0``)::

        tau < 1: e = tau (1 + x*)/(1 - tau) [1 - tau (1 - mu*)^2 - (x* - rho) mu*/x*]
                     - 2 tau (1 - mu*) + 1 + rho
        tau > 1: k* = 1 / (1 - kappa (m*/(kappa + m*))^2)
                 e = (k* - 1/(tau - 1)) (1 + x*) (x* m*)^2 + (3 - 2 tau)/(tau - 1) m* x*^2
                     + ((1 + rho)/(tau - 1) m* + 1) x* + rho m*/(tau - 1) + rho

    and ``e = inf`` at ``tau == 1`` (interpolation peak). Ridge (``lam > 0``): eps is the
    unique positive root of ``1 - tau + tau lam/eps - eps M_kappa(eps + x*) = 0``, then
    with ``nu = x* + eps``, ``S = M_kappa(nu)``, ``S' = M'_kappa(nu)``::

        c = [rho + nu - nu^2 S - eps (1 - 2 nu S - nu^2 S')] / [1 - 2 eps S - eps^2 S' - tau]
        e = (x* + 1)(1 - 2 nu S - nu^2 S' - c (S + eps S')) - 2 (1 - nu S) + 1 + rho

    It tends to the ridgeless value as ``lam -> 0`` on both sides of ``tau = 1``.

    Parameters
    ----------
    alpha : float or array_like, > 0
        Context length per dimension, ``N / D``.
    tau : float or array_like, > 0
        Pretraining prompts per squared dimension, ``P / D^2``.
    kappa : float or array_like, > 0, default inf
        Distinct pretraining tasks per dimension (inf: a fresh task for every prompt).
    rho : float or array_like, >= 0, default 0
        Label-noise variance.
    lam : float or array_like, >= 0, default 0
        The PNAS paper's ridge lambda (``D * lam`` in sgphys units, :func:`theory_params`).

    Returns
    -------
    float or ndarray
        Float when every input is a scalar, else an array of the broadcast shape of the
        inputs.

    Raises
    ------
    ValueError
        Naming the parameter, for non-real, NaN or out-of-range values (alpha, tau,
        kappa <= 0; rho, lam < 0; inf except in kappa); and naming all of them if the
        ridge equation has no bracketable positive root.
    """
    p, shape, scalar = _inputs(alpha=alpha, tau=tau, kappa=kappa, rho=rho, lam=lam)
    a, t, ik, r, lam_ = p["alpha"], p["tau"], 1.0 / p["kappa"], p["rho"], p["lam"]
    out = np.empty_like(a)
    zero = lam_ == 0.0
    if np.any(zero):
        out[zero] = _icl_ridgeless(a[zero], t[zero], ik[zero], r[zero])
    ridge = ~zero
    if np.any(ridge):
        out[ridge] = _icl_ridge(a[ridge], t[ridge], ik[ridge], r[ridge], lam_[ridge])
    return _output(out.reshape(shape), scalar)


def idg_error(alpha, tau, kappa=np.inf, rho=0.0):
    """Asymptotic ridgeless in-distribution test error e_IDG (tasks from the pool).

    With ``X = (1 + rho)/alpha``, ``m = M_kappa(X)``, ``mu = X M_{kappa/tau}(X)``::

        tau < 1: eps = (1 - tau) X / (tau mu);  c = 1/(1 - kappa/(1 + kappa eps/(1 - tau))^2)
                 e = tau [(X + eps)^2/eps
                          + (rho + X - 2 X (1 - tau)(X/eps + 1)) / (1 - tau - c (1 - tau)^2)]
        tau > 1: e = tau (rho + X (1 - X m)) / (tau - 1)

    and ``inf`` at ``tau == 1``. Equals :func:`icl_error` at ``kappa = inf`` (then the
    pool is the task distribution itself).

    Parameters
    ----------
    alpha : float or array_like, > 0
    tau : float or array_like, > 0
    kappa : float or array_like, > 0, default inf
    rho : float or array_like, >= 0, default 0
        As in :func:`icl_error`.

    Returns
    -------
    float or ndarray
        Float when every input is a scalar, else an array of the broadcast shape.

    Raises
    ------
    ValueError
        Naming the parameter, for non-real, NaN or out-of-range values.
    """
    p, shape, scalar = _inputs(alpha=alpha, tau=tau, kappa=kappa, rho=rho)
    a, t, ik, r = p["alpha"], p["tau"], 1.0 / p["kappa"], p["rho"]
    X = (1.0 + r) / a
    out = np.full_like(a, np.inf)
    lo = t < 1.0
    if np.any(lo):
        Xs, ts, rs, iks = X[lo], t[lo], r[lo], ik[lo]
        mu = Xs * _m(Xs, ts * iks)
        eps = (1.0 - ts) * Xs / (ts * mu)
        q = eps / (1.0 - ts)
        c = 1.0 / (1.0 - iks / (iks + q) ** 2)  # kappa/(1 + kappa q)^2 with 1/kappa
        out[lo] = ts * ((Xs + eps) ** 2 / eps
                        + (rs + Xs - 2.0 * Xs * (1.0 - ts) * (Xs / eps + 1.0))
                        / (1.0 - ts - c * (1.0 - ts) ** 2))
    hi = t > 1.0
    if np.any(hi):
        Xs, ts, rs = X[hi], t[hi], r[hi]
        m = _m(Xs, ik[hi])
        out[hi] = ts * (rs + Xs * (1.0 - Xs * m)) / (ts - 1.0)
    return _output(out.reshape(shape), scalar)


def task_diversity_gap(alpha, tau, kappa, rho=0.0):
    """Ridgeless task-diversity gap ``e_ICL - e_IDG``.

    Large for ``kappa << 1`` (the model memorises the task pool) and vanishing as kappa
    grows (in-context learning); e.g. about 0.50, 0.145, 0.023 at ``kappa = 0.5, 1, 2``
    for ``alpha = 10, tau = 1e4, rho = 0.01`` (the PNAS paper's formulas).

    Parameters
    ----------
    alpha, tau : float or array_like, > 0
    kappa : float or array_like, > 0 (inf gives 0)
    rho : float or array_like, >= 0, default 0

    Returns
    -------
    float or ndarray
        Float when every input is a scalar, else an array of the broadcast shape.
        NaN where ``tau == 1`` (inf - inf).
    """
    with np.errstate(invalid="ignore"):
        return icl_error(alpha, tau, kappa, rho) - idg_error(alpha, tau, kappa, rho)


# -- mapping from sgphys ------------------------------------------------------------------

def theory_params(D, N, P, lam=0.0, noise=0.0, n_tasks=None):
    """The PNAS paper's variables for an sgphys problem.

    Parameters
    ----------
    D, N, P : int >= 1
        Token dimension, prompt length, number of training sequences.
    lam : float >= 0, default 0
        sgphys's weight decay (docs/model.rst, sections Transformer and Spin mapping).
    noise : float >= 0, default 0
        Label-noise standard deviation (docs/model.rst, section Data).
    n_tasks : int >= 1, optional
        Size of a finite task pool; None (sgphys's sampler) means a fresh task per
        sequence.

    Returns
    -------
    tuple of float
        ``(alpha, tau, kappa, rho, lam_theory)`` with ``alpha = N/D``, ``tau = P/D^2``,
        ``kappa = inf`` (or ``n_tasks/D``), ``rho = noise**2`` and ``lam_theory = D*lam``.

    Notes
    -----
    Derivation of ``lam_theory = D * lam``. Write sgphys's tokens ``x = sqrt(D) x'`` with
    ``x' ~ N(0, I/D)`` the PNAS paper's tokens. Labels are the same random variables:
    ``y = w.x/sqrt(D) = w.x'`` with ``w ~ N(0, I_D)`` in both (so the test errors need no
    rescaling). The PNAS paper's features are ``H' = x'_q [(d/l) sum_n y_n x'_n^T,
    (1/l) sum_n y_n^2]`` (d x (d+1)); sgphys's (docs/model.rst, section Transformer, stored
    transposed, same
    flattening up to a fixed permutation) are ``H[i, j] = (1/N) sum_n y_n Z[i, n] x_q[j]``.
    Hence

    - W11 block: ``(1/N) sum_n y_n x_n[i] x_q[j] = (D/N) sum_n y_n x'_n[i] x'_q[j]``,
      identical to the PNAS block (scale a = 1);
    - W21 block: ``(1/N) sum_n y_n^2 x_q[j] = sqrt(D) (1/l) sum_n y_n^2 x'_q[j]``
      (scale b = sqrt(D)).

    So ``H = S H'`` with ``S = diag(1 on the D^2 W11 entries, sqrt(D) on the D W21
    entries)``. sgphys's minimiser of ``L = (1/(2P)) sum (y - <H, s>)^2 + (lam/2)|s|^2``
    solves ``(sum H H^T + P lam I) s = sum H y``. Substituting ``H = S H'`` and
    ``Gamma = S s`` (which leaves every prediction ``<H, s> = <H', Gamma>`` unchanged)
    gives ``(sum H' H'^T + P lam S^-2) Gamma = sum H' y``. Comparing with the PNAS
    ``(sum H' H'^T + (n/d) lambda I) Gamma = sum H' y`` at ``n = P``, ``d = D``:

    - W11 block: ``P lam = (P/D) lambda``, i.e. ``lambda = D * lam`` (exact);
    - W21 block: ``P lam / D = (P/D) lambda``, i.e. an effective ``lambda = lam``,
      D times weaker than on W11.

    The mapping is exact on the D^2 W11 weights, which carry the leading order of the
    error; the D W21 weights multiply ``(1/N) sum y^2 ~ 1 + rho`` times ``x_q``, which is
    uncorrelated with ``y_q``, so their optimum is zero and their fitted noise costs
    ``O(D/P) = O(1/(tau D))`` whatever their ridge. ``lambda = D * lam`` is therefore the
    mapping in the limit, with an O(1/D) difference in the W21 ridge at finite D. At
    ``lam -> 0`` no mapping is needed.

    Verified numerically: sgphys's exact (``solve_exact``) population test error at
    ``lam = lambda/D``, averaged over 16/8/3 seeds at D = 10/20/40 and extrapolated
    linearly in 1/D, against ``icl_error(alpha, tau, lam=lambda)``:

    ======  =====  ======  ======  =======  =======  =============
    alpha   tau    lambda  D=10    D=20     D=40     D=inf / theory
    ======  =====  ======  ======  =======  =======  =============
    2       2      0.1     0.713   0.616    0.601    0.563 / 0.567
    2       2      1       0.636   0.597    0.573    0.551 / 0.561
    2       0.5    0.1     1.157   1.071    0.996    0.957 / 0.933
    2       0.5    1       0.969   0.901    0.862    0.828 / 0.810
    5       3      0.3     0.319   0.290    0.277    0.262 / 0.269
    1       4      1       0.694   0.655    0.637    0.619 / 0.632
    ======  =====  ======  ======  =======  =======  =============

    (within 2.5%; with D = 30 and 60 added the (2, 2, 1), (5, 3, 0.3), (2, 0.5, 1) fits
    give 0.560, 0.267, 0.821). A factor 2 in lambda would move the theory at
    (2, 2, 1) to 0.524 or 0.637.
    """
    D = check_positive_int("D", D)
    N = check_positive_int("N", N)
    P = check_positive_int("P", P)
    lam = check_nonnegative("lam", lam)
    noise = check_nonnegative("noise", noise)
    kappa = np.inf if n_tasks is None else check_positive_int("n_tasks", n_tasks) / D
    return N / D, P / D**2, float(kappa), noise**2, D * lam


# -- exact finite-D results ---------------------------------------------------------------

def zero_mode_fraction(D, P):
    """Fraction of zero modes of the Hessian over all ``(D+1)^2`` weights, closed form.

    The Hessian ``Q = H^T H / P`` has rank ``min(P, D(D+1))`` for generic data, and the
    ``D+1`` weights of the inert last column are zero modes too, so the fraction is
    ``((D+1) + max(0, D(D+1) - P)) / (D+1)^2`` (the ``count="all"`` convention of
    :func:`sgphys.observables.zero_mode_fraction`; floor ``1/(D+1)`` for ``P >= D(D+1)``).

    Parameters
    ----------
    D : int >= 1
        Token dimension.
    P : int or array_like of int, >= 1
        Number of training sequences.

    Returns
    -------
    float or ndarray
        Float for scalar P, else an array of P's shape.
    """
    D = check_positive_int("D", D)
    if isinstance(P, (bool, np.bool_)):
        raise ValueError(f"P must be a positive integer, got {P!r}")
    P_arr = np.asarray(P)
    if P_arr.dtype.kind not in "iu":
        if P_arr.dtype.kind != "f" or not np.all(np.isfinite(P_arr)) or np.any(
                P_arr != np.round(P_arr)):
            raise ValueError(f"P must be a positive integer or array of them, got {_short(P)}")
    if np.any(P_arr < 1):
        raise ValueError(f"P must be positive, got {_short(P)}")
    n = D * (D + 1)
    out = ((D + 1) + np.maximum(0, n - P_arr.astype(np.float64))) / (D + 1.0) ** 2
    return float(out) if out.ndim == 0 else out


def theory_test_error(N, D) -> np.ndarray | float:
    """Large-P, lam -> 0 test error ``(D+1)/(N+D+1)`` (docs/model.rst, section Transformer; sigma_x
    = sigma_w = 1).

    ``N`` is a real number >= 1 or an array of them (ValueError naming N for strings,
    booleans, NaN and the like); float for scalar N, else an array of N's shape.
    """
    D = check_positive_int("D", D)
    N_arr = _param("N", N, lower=0.0, strict=True)
    if np.any(N_arr < 1):
        raise ValueError(f"N must be >= 1, got {_short(N)}")
    out = (D + 1) / (N_arr + D + 1.0)
    return float(out) if out.ndim == 0 else out

