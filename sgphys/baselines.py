"""Bayes-optimal baselines for in-context regression (ridge and dMMSE).

Two reference predictors of the query label ``y_q`` from one prompt's context, against
which a trained transformer or the spin model's weights can be compared (Raventos, Paul,
Chen & Ganguli, NeurIPS 2023, "Pretraining task diversity and the emergence of
non-Bayesian in-context learning for regression"):

* :func:`ridge_predict`: the posterior mean under the Gaussian task prior
  ``w ~ N(0, sigma_w^2 I_D)`` of docs/model.rst (section Data) (a fresh task per prompt). It is the
  Bayes-optimal predictor (least mean squared error of all functions of the prompt) for
  test tasks drawn from that prior.
* :func:`dmmse_predict`: the posterior mean under a uniform prior over a finite pool of K
  task vectors (the "discrete MMSE" estimator). It is Bayes-optimal for test prompts whose
  task is drawn uniformly from that pool (in-distribution), but not for fresh tasks from the
  Gaussian prior: there it can only answer with a mixture of the pool tasks, and ridge beats
  it. Conversely, on pool tasks with a small pool dMMSE beats ridge (it identifies the task
  among K candidates instead of estimating D numbers).

Neither is a linear-attention predictor: sgphys's spin-model weights (``solve_exact``) are
the best *linear attention* for the training set, ``yhat = (1/N) (sum_n y_n z_n)^T W x_q``;
ridge's ``x_q^T (X^T X + D r I)^{-1} X^T y`` is nonlinear in the context. The two agree
only as ``N -> inf`` (``X^T X / N -> sigma_x^2 I``), with a gap of order ``1/N``.

Glossary
--------
D : token dimension.   N : prompt length (labelled examples).   P : number of prompts.
K : number of pool task vectors.
Z : input matrices, shape (P, D+1, N+1); column n < N is [x_n; y_n], the last [x_q; 0].
X : the context tokens of one prompt as rows, shape (N, D) (``X = Z[:D, :N].T``).
y : the context labels of one prompt, shape (N,) (``Z[D, :N]``).
noise : standard deviation of the Gaussian label noise the posterior assumes.
r : ``noise^2 / sigma_w^2``, the ridge the Gaussian prior implies.

Every check raises ``ValueError`` naming the parameter and the value (docs/api.rst, section API).
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import _as_real, check_bool, check_positive
from .tasks import Tasks

__all__ = ["CHUNK_ENTRIES", "SVD_RTOL", "TIE_RTOL", "dmmse_predict", "mean_squared_error",
           "ridge_predict"]

#: working-memory budget per chunk of prompts, in float64 entries (about 32 MB)
CHUNK_ENTRIES = 4_000_000
#: dMMSE at ``noise = 0``: pool tasks whose squared context residual lies within
#: ``TIE_RTOL * (sum_n y_n^2 + min_k residual_k)`` of the smallest share the weight equally
TIE_RTOL = 1e-12
#: ridge at ``noise = 0``: singular values of X below ``SVD_RTOL * max(N, D) * s_max`` count
#: as zero (the pseudo-inverse's cut-off, NumPy's ``pinv``/``matrix_rank`` default rule)
SVD_RTOL = np.finfo(np.float64).eps


# -- validation ---------------------------------------------------------------------------


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _real_array(name: str, value) -> np.ndarray:
    """``value`` as a float64 array; ValueError for non-real dtypes (complex, bool, str,
    object) or NaN/inf, naming ``name``."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError, OverflowError):  # ragged nesting and the like
        raise ValueError(f"{name} must be a real (integer or floating) array, "
                         f"got {_short(value)}") from None
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a real (integer or floating) array, "
                         f"got dtype {arr.dtype} ({_short(value)})")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].flat[0]
        raise ValueError(f"{name} contains NaN or inf (e.g. {bad!r})")
    return arr


def _check_noise(value) -> float:
    value = _as_real("noise", value)
    if value < 0:
        raise ValueError(f"noise must be >= 0, got {value!r}")
    return value


def _prompts_array(prompts) -> np.ndarray:
    """The input matrices of ``prompts`` (a Tasks, or an array (P, D+1, N+1))."""
    if isinstance(prompts, Tasks):
        Z = prompts.Z  # a statistics-sampled task set raises ValueError here (it has no Z)
    else:
        Z = prompts
    Z = _real_array("prompts", Z)
    if Z.ndim != 3:
        raise ValueError(f"prompts must have shape (P, D+1, N+1), got shape {Z.shape}")
    P, Dp1, Np1 = Z.shape
    if P < 1 or Dp1 < 2 or Np1 < 2:
        raise ValueError(f"prompts must have shape (P, D+1, N+1) with P, D, N >= 1, "
                         f"got {Z.shape}")
    return Z


def _from_tasks(prompts, key: str, value):
    """``value``, or when it is None the generation parameter ``key`` of a Tasks."""
    if value is None and isinstance(prompts, Tasks):
        return prompts.params.get(key)
    return value


def _chunks(P: int, per_prompt: int):
    """Slices over P prompts, each using at most about ``CHUNK_ENTRIES`` entries."""
    step = max(1, CHUNK_ENTRIES // max(1, per_prompt))
    for start in range(0, P, step):
        yield slice(start, min(P, start + step))


# -- ridge (Gaussian task prior) ------------------------------------------------------------


def ridge_predict(prompts, noise=None, sigma_w=None, sigma_x=None, return_var: bool = False):
    """Bayes-optimal prediction of ``y_q`` under the Gaussian task prior (posterior mean).

    Model of one prompt (docs/model.rst, section Data): ``w ~ N(0, sigma_w^2 I_D)``, context labels
    ``y = X w / sqrt(D) + eps`` with ``eps ~ N(0, noise^2 I_N)``, query label
    ``y_q = x_q . w / sqrt(D) + eps_q``. Given the context, ``w`` is Gaussian with

        Cov[w | ctx] = (X^T X / (D noise^2) + I / sigma_w^2)^{-1}
                     = noise^2 (X^T X / D + r I)^{-1},            r = noise^2 / sigma_w^2
        E[w | ctx]   = Cov X^T y / (sqrt(D) noise^2)
                     = (X^T X / D + r I)^{-1} X^T y / sqrt(D)

    so ``yhat = x_q . E[w|ctx] / sqrt(D) = x_q^T (X^T X + D r I)^{-1} X^T y`` (the
    ``sqrt(D)`` factors cancel). Computed through whichever of the D x D ("primal") and the
    N x N ("dual", ``x_q^T X^T (X X^T + D r I)^{-1} y``) systems is smaller, by one batched
    ``np.linalg.solve`` per chunk of prompts (no loop over prompts).

    ``noise = 0`` (``r = 0``) is the limit of the above: ``E[w|ctx] = sqrt(D) X^+ y`` with
    ``X^+`` the Moore-Penrose pseudo-inverse, i.e. least squares when ``N >= D`` (exact
    interpolation) and the minimum-norm interpolant when ``N < D`` (the prior's isotropy
    picks it). It is computed from a batched SVD of X with singular values below
    ``SVD_RTOL * max(N, D) * s_max`` dropped, so rank-deficient contexts are handled too; no
    jitter is added.

    The posterior conditions on the observed tokens, so the prediction depends neither on
    ``sigma_x`` nor on the token correlation ``corr``: ridge stays Bayes-optimal for
    correlated tokens, since ``x_q`` carries no information about ``w`` given ``X``.

    Parameters
    ----------
    prompts : Tasks or array_like, shape (P, D+1, N+1)
        Input matrices (a :class:`~sgphys.tasks.Tasks` is read through its ``Z``). The
        query label ``Z[:, D, N]`` is ignored.
    noise : float >= 0, optional
        Label-noise standard deviation the posterior assumes. Default: the Tasks'
        generation ``noise`` when ``prompts`` is a sampled Tasks, else 0.
    sigma_w : float > 0, optional
        Task-prior standard deviation. Default: the Tasks' ``sigma_w``, else 1.
    sigma_x : float > 0, optional
        Token standard deviation. Validated only: the Bayes prediction does not depend on it
        (see above). Default: the Tasks' ``sigma_x``, else 1.
    return_var : bool
        Also return the posterior predictive variance of ``y_q``.

    Returns
    -------
    yhat : ndarray, shape (P,), float64
        ``E[y_q | context, x_q]``.
    var : ndarray, shape (P,), float64
        Only with ``return_var``: ``Var[y_q | context, x_q] = noise^2 +
        x_q^T Cov[w|ctx] x_q / D``, the conditional Bayes risk of each prompt; its mean over
        prompts from the prior is the Bayes risk (the least achievable test error). At
        ``noise = 0`` it is ``sigma_w^2 |x_q - X^+ X x_q|^2 / D`` (zero when ``N >= D``).

    Raises
    ------
    ValueError
        Naming the parameter: prompts of the wrong shape, non-real dtype or with NaN/inf;
        negative or non-finite noise; non-positive sigma_w or sigma_x.
    """
    Z = _prompts_array(prompts)
    noise = _from_tasks(prompts, "noise", noise)
    sigma_w = _from_tasks(prompts, "sigma_w", sigma_w)
    sigma_x = _from_tasks(prompts, "sigma_x", sigma_x)
    noise = _check_noise(0.0 if noise is None else noise)
    sigma_w = check_positive("sigma_w", 1.0 if sigma_w is None else sigma_w)
    check_positive("sigma_x", 1.0 if sigma_x is None else sigma_x)
    return_var = check_bool("return_var", return_var)

    P, Dp1, Np1 = Z.shape
    D, N = Dp1 - 1, Np1 - 1
    with np.errstate(over="ignore"):
        r = float(np.float64(noise / sigma_w) ** 2)
        squares = (D * r, float(np.float64(noise) ** 2), float(np.float64(sigma_w) ** 2))
    if not all(math.isfinite(q) for q in squares):
        raise ValueError(f"noise={noise!r}, sigma_w={sigma_w!r}: the ridge D (noise/sigma_w)^2 "
                         "or a variance (noise^2, sigma_w^2) overflows")
    yhat = np.empty(P)
    var = np.empty(P) if return_var else None
    m = min(N, D)
    per_prompt = D * N + m * m + 2 * (D + N) + (m * (D + N) if r == 0.0 else 0)
    for sl in _chunks(P, per_prompt):
        A = Z[sl, :D, :N]  # X^T, shape (c, D, N)
        y = Z[sl, D, :N]  # (c, N)
        xq = Z[sl, :D, N]  # (c, D)
        if r == 0.0:
            out = _ridgeless(A, y, xq, return_var)
        elif N >= D:
            out = _ridge_primal(A, y, xq, D * r, return_var)
        else:
            out = _ridge_dual(A, y, xq, D * r, return_var)
        yhat[sl] = out[0]
        if return_var:
            # predictive variance: noise^2 + sigma_w^2 * (leftover of x_q) / D
            var[sl] = noise ** 2 + out[1] * (sigma_w ** 2 / D)
    if not (np.all(np.isfinite(yhat)) and (var is None or np.all(np.isfinite(var)))):
        raise ValueError("prompts: the ridge prediction overflows (non-finite); the prompts "
                         "are too large (or noise / sigma_w too extreme)")
    return (yhat, var) if return_var else yhat


def _ridge_primal(A, y, xq, c, return_var):
    """N >= D: ``yhat = x_q^T (X^T X + c I)^{-1} X^T y``; the variance term
    ``c x_q^T (X^T X + c I)^{-1} x_q`` (= D r x_q^T (...)^{-1} x_q)."""
    D = A.shape[1]
    G = np.matmul(A, A.transpose(0, 2, 1))  # X^T X, (c, D, D)
    G[:, np.arange(D), np.arange(D)] += c
    b = np.matmul(A, y[:, :, None])  # X^T y, (c, D, 1)
    if return_var:
        rhs = np.concatenate([b, xq[:, :, None]], axis=2)
        sol = np.linalg.solve(G, rhs)
        yhat = np.einsum("cd,cd->c", xq, sol[:, :, 0])
        left = c * np.einsum("cd,cd->c", xq, sol[:, :, 1])
        return yhat, left
    sol = np.linalg.solve(G, b)[:, :, 0]
    return np.einsum("cd,cd->c", xq, sol), None


def _ridge_dual(A, y, xq, c, return_var):
    """N < D: ``yhat = a^T (X X^T + c I)^{-1} y`` with ``a = X x_q``; the variance term
    ``|x_q|^2 - a^T (X X^T + c I)^{-1} a`` (Woodbury form of the primal one)."""
    N = A.shape[2]
    G = np.matmul(A.transpose(0, 2, 1), A)  # X X^T, (c, N, N)
    G[:, np.arange(N), np.arange(N)] += c
    a = np.matmul(A.transpose(0, 2, 1), xq[:, :, None])  # X x_q, (c, N, 1)
    sol = np.linalg.solve(G, a)[:, :, 0]  # symmetric G: a^T G^{-1} y = (G^{-1} a)^T y
    yhat = np.einsum("cn,cn->c", sol, y)
    if return_var:
        left = np.einsum("cd,cd->c", xq, xq) - np.einsum("cn,cn->c", sol, a[:, :, 0])
        return yhat, np.maximum(left, 0.0)
    return yhat, None


def _ridgeless(A, y, xq, return_var):
    """r = 0: ``yhat = x_q^T X^+ y`` from the SVD ``X^T = U S V^T`` (``X^+ = U S^-1 V^T``);
    the variance term ``|x_q|^2 - |U^T x_q|^2`` (the part of x_q outside X's row space)."""
    D, N = A.shape[1], A.shape[2]
    U, s, Vt = np.linalg.svd(A, full_matrices=False)  # (c, D, m), (c, m), (c, m, N)
    cut = SVD_RTOL * max(N, D) * s[:, :1]
    keep = s > cut
    inv_s = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
    uq = np.einsum("cdm,cd->cm", U, xq) * keep  # U^T x_q on the kept directions
    vy = np.einsum("cmn,cn->cm", Vt, y)  # V^T y
    yhat = np.einsum("cm,cm,cm->c", uq, inv_s, vy)
    if return_var:
        left = np.einsum("cd,cd->c", xq, xq) - np.einsum("cm,cm->c", uq, uq)
        return yhat, np.maximum(left, 0.0)
    return yhat, None


# -- dMMSE (uniform prior over a task pool) ------------------------------------------------


def dmmse_predict(prompts, pool, noise=None, return_weights: bool = False):
    """Bayes-optimal prediction of ``y_q`` when the task is uniform over a finite pool.

    With the prior ``w ~ Uniform{pool_0, ..., pool_{K-1}}`` and Gaussian label noise of
    standard deviation ``noise``, the posterior over the pool given a prompt's context is

        log p(k | ctx) = -sum_n (y_n - x_n . pool_k / sqrt(D))^2 / (2 noise^2) + const,

    and ``yhat = sum_k p(k | ctx) x_q . pool_k / sqrt(D)``. The weights are a softmax
    computed stably (log-sum-exp): the smallest squared residual is subtracted before
    exponentiating, so the best task has weight ``exp(0) = 1`` before normalisation and
    residuals of any size (``noise`` tiny, far-off pool tasks) never give 0/0.

    ``noise = 0`` is the hard-max limit: all the weight goes to the pool task(s) with the
    smallest squared residual, shared equally by tasks within ``TIE_RTOL * (sum_n y_n^2 +
    min residual)`` of it: a numerical tie rule (duplicates in the pool, equal up to
    rounding, share the weight), where the exact limit would follow rounding noise.

    Optimality: for prompts whose task is drawn uniformly from ``pool`` (with that noise)
    this is the least-mean-squared-error predictor; for fresh tasks from the Gaussian prior
    it is not (:func:`ridge_predict` is) and its error stays of order the label variance
    when K is small.

    Vectorised over prompts and pool tasks, chunked over prompts so that a chunk holds at
    most about ``CHUNK_ENTRIES`` residual entries (chunk size x K x N).

    Parameters
    ----------
    prompts : Tasks or array_like, shape (P, D+1, N+1)
        Input matrices; the query label ``Z[:, D, N]`` is ignored.
    pool : array_like, shape (K, D)
        The K task vectors of the prior (same scaling as ``Tasks.w``: labels are
        ``x . w / sqrt(D)``).
    noise : float >= 0, optional
        Label-noise standard deviation the posterior assumes. Default: the generation
        ``noise`` of a sampled Tasks; required for arrays.
    return_weights : bool
        Also return the posterior weights over the pool.

    Returns
    -------
    yhat : ndarray, shape (P,), float64
    weights : ndarray, shape (P, K), float64
        Only with ``return_weights``: ``p(k | ctx)``, rows summing to 1.

    Raises
    ------
    ValueError
        Naming the parameter: prompts or pool of the wrong shape (pool's D must match the
        prompts'), non-real dtype or with NaN/inf; noise missing, negative or non-finite.
    """
    Z = _prompts_array(prompts)
    P, Dp1, Np1 = Z.shape
    D, N = Dp1 - 1, Np1 - 1
    pool = _real_array("pool", pool)
    if pool.ndim != 2 or pool.shape[0] < 1:
        raise ValueError(f"pool must have shape (K, D) with K >= 1, got shape {pool.shape}")
    if pool.shape[1] != D:
        raise ValueError(f"pool must have shape (K, D) = (K, {D}) to match prompts of shape "
                         f"{Z.shape}, got shape {pool.shape}")
    noise = _from_tasks(prompts, "noise", noise)
    if noise is None:
        raise ValueError("noise is required (the label-noise level the posterior assumes), "
                         "got None")
    noise = _check_noise(noise)
    return_weights = check_bool("return_weights", return_weights)

    K = pool.shape[0]
    scale = 1.0 / math.sqrt(D)
    yhat = np.empty(P)
    weights = np.empty((P, K)) if return_weights else None
    for sl in _chunks(P, K * (N + 2) + N + D):
        A = Z[sl, :D, :N]  # X^T, (c, D, N)
        y = Z[sl, D, :N]  # (c, N)
        xq = Z[sl, :D, N]  # (c, D)
        res = np.matmul(pool, A)  # (c, K, N): pool_k . x_n
        res *= -scale
        res += y[:, None, :]  # y_n - pool_k . x_n / sqrt(D)
        sq = np.einsum("ckn,ckn->ck", res, res)  # (c, K)
        del res
        if not np.all(np.isfinite(sq)):
            raise ValueError("prompts, pool: the squared context residuals overflow "
                             "(non-finite); the prompts or the pool are too large")
        best = sq.min(axis=1, keepdims=True)
        if noise > 0.0:
            # exponent -(sq - best) / (2 noise^2) <= 0, exactly 0 at the best task; divided
            # in two steps so a tiny noise gives -inf (weight 0), never 0/0
            w = np.exp(-((sq - best) / noise) / (2.0 * noise))
        else:
            tol = TIE_RTOL * (np.einsum("cn,cn->c", y, y)[:, None] + best)
            w = (sq <= best + tol).astype(np.float64)
        w /= w.sum(axis=1, keepdims=True)
        mq = np.matmul(xq, pool.T) * scale  # (c, K): x_q . pool_k / sqrt(D)
        yhat[sl] = np.einsum("ck,ck->c", w, mq)
        if return_weights:
            weights[sl] = w
    return (yhat, weights) if return_weights else yhat


# -- errors ----------------------------------------------------------------------------------


def mean_squared_error(predictions, targets) -> float:
    """Mean squared error ``mean_mu (y_q^mu - yhat^mu)^2`` (no 1/2, as ``test_error``).

    With :func:`ridge_predict` on prompts from the Gaussian task prior this estimates the
    Bayes risk, the least error any predictor of ``y_q`` from the prompt can reach (fresh
    tasks); with :func:`dmmse_predict` on prompts whose tasks come from its pool, the Bayes
    risk of the pool prior. dMMSE on fresh tasks is not optimal (its error exceeds ridge's);
    on pool tasks ridge is not (for a small pool its error exceeds dMMSE's).

    Parameters
    ----------
    predictions : array_like, shape (P,)
    targets : Tasks or array_like, shape (P,)
        The query labels (a Tasks is read through its ``y``).

    Returns
    -------
    float
    """
    yhat = _real_array("predictions", predictions)
    if yhat.ndim != 1 or yhat.shape[0] < 1:
        raise ValueError(f"predictions must have shape (P,) with P >= 1, got {yhat.shape}")
    y = targets.y if isinstance(targets, Tasks) else targets
    y = _real_array("targets", y)
    if y.shape != yhat.shape:
        raise ValueError(f"targets must have shape {yhat.shape} like predictions, "
                         f"got {y.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        d = y - yhat
        value = float(d @ d) / d.shape[0]
    if not np.isfinite(value):
        raise ValueError("predictions, targets: the mean squared error overflows "
                         "(non-finite); the values are too large")
    return value
