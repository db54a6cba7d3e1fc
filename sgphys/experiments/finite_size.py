"""Fig. T1: finite-size approach of the exact test error to the asymptotic theory.

The exact (ridge) solution's test error at ``N = round(alpha D)``, ``P = round(tau D^2)``
and sgphys weight decay ``lam = lambda / D`` is computed for growing ``D`` at fixed
``(alpha, tau, lambda)`` and extrapolated to ``D = inf``, where it should meet the
asymptotic learning curve ``icl_error(alpha, tau, lam=lambda)`` of Lu, Letey,
Zavatone-Veth, Maiti & Pehlevan (PNAS 2025; :mod:`sgphys.theory`, whose
:func:`~sgphys.theory.theory_params` derives ``lambda = D lam``). Two extrapolations are
stored, both least squares over the seed means with the standard error of the seed scatter:
the line in ``1/D`` (:func:`extrapolate`, ``extrapolated_error``) and, labelled
``_quadratic``, the quadratic ``a + b/D + c/D^2`` (:func:`extrapolate_poly`), since the
error curves in ``1/D`` near the interpolation peak ``tau = 1`` (measurements:
docs/results.md, section "Finite-size scaling").

- Swept: ``point`` (index into the parameter ``alpha_tau``, a list of ``[alpha, tau]``
  pairs), ``D``, ``seed``. Extra dims: ``lam_theory`` (the theory's ridge lambda, the same
  at every D; sgphys's ``lam = lam_theory / D``) and ``solver``. Every ``lam_theory`` of a
  point is solved on the same training set (one coupling matrix Q per point, built once).
- Training sets come from the statistics sampler (``method="statistics"``); Q and h are
  accumulated block by block (:func:`sgphys.spin.block_moments`), so the feature matrix is
  never held. The exact solver computes the means only.
- The test error is the expectation over fresh tasks and prompts in closed form,
  :func:`population_test_error`.
- ``iterative_max_D``: solvers other than ``exact`` run only up to this D; above it their
  fields are stored with reason ``"skipped: D > iterative_max_D"``.
- ``dense_max_D``: above this D the point is matrix-free (docs/scale.md): the rank-one
  factors of the features (:func:`sgphys.factored.task_factors`, the same training set) make
  a :class:`~sgphys.FactoredModel` per ``lam_theory``, solved by preconditioned conjugate
  gradients (``solve_exact``, solver ``exact_cg``, certified residual); Q, H and J are never
  formed. Only ``exact`` runs there; other solvers are stored with reason
  ``"skipped: D > dense_max_D"``.
- ``seeds_per_D``: a list of ``[D, n]`` pairs; at a listed D only the first ``n`` seeds run
  (the others are stored with reason ``"skipped: seed beyond seeds_per_D"``, converged 0,
  and enter no mean). The test error self-averages, so the largest D need few seeds.
- ``fit_min_D``: the smallest D entering the extrapolations (None: every D).

Stored over (point, D, seed, lam_theory, solver): the solver fields of
:func:`~sgphys.experiments._common.run_solvers` and ``test_error``. Added by
:func:`finalize`: coordinates ``alpha``, ``tau`` (point), ``N``, ``P`` (point, D), ``lam``
(D, lam_theory); ``theory_error`` (point, lam_theory) at the nominal variables;
``theory_error_D`` (point, D, lam_theory) at the mapped variables of each D;
``exact_error_mean``, ``exact_error_sem``, ``exact_error_n`` (point, D, lam_theory); the
extrapolation ``extrapolated_error``, ``extrapolated_error_se``, ``extrapolation_slope``,
``extrapolation_weighted``, ``relative_deviation`` (point, lam_theory); and the quadratic one
``extrapolated_error_quadratic``, ``extrapolated_error_quadratic_se``,
``extrapolation_quadratic_slope``, ``extrapolation_quadratic_curvature``,
``extrapolation_quadratic_weighted``, ``relative_deviation_quadratic`` (point, lam_theory;
NaN for fewer than three D).

Presets: quick D = 5, 10, 20 with 32 seeds (for the figure; D = 5 is far from the limit);
paper D = 10, 20, 40, 80 with 4 seeds, TAP up to D = 40; large D = 20, 40, 80, 160, 320,
matrix-free above D = 40, 16 seeds up to D = 80, 8 at D = 160 and 2 at D = 320, both
extrapolations through D >= 80 only, exact solver only (measurements: docs/results.md).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._validate import (_short, check_array, check_memory, check_nonnegative,
                         check_positive_int)
from ..factored import FactoredModel, task_factors
from ..spin import SpinModel, block_moments
from ..tasks import sample_tasks
from ..theory import icl_error, theory_params
from ._base import Experiment, Var
from ._common import (check_factor_memory, factor_bytes, run_solvers, seed_index,
                      solver_coord, solver_vars)

__all__ = ["EXPERIMENT", "MIN_SEEDS_WEIGHTED", "extrapolate", "extrapolate_poly",
           "population_test_error", "problem_size"]

#: reason stored for solvers skipped above ``iterative_max_D``
SKIPPED = "skipped: D > iterative_max_D"
#: reason stored for solvers other than exact on a matrix-free point (D > dense_max_D)
SKIPPED_DENSE = "skipped: D > dense_max_D"
#: reason stored for every solver of a seed that ``seeds_per_D`` leaves out
SKIPPED_SEED = "skipped: seed beyond seeds_per_D"
#: fewest seeds per mean for the extrapolation to weight the means by 1/sem^2 (a sem from
#: 2-3 seeds can be near zero by chance and would take the whole fit)
MIN_SEEDS_WEIGHTED = 4

QUICK = {"alpha_tau": [[2.0, 2.0], [5.0, 3.0], [1.0, 4.0], [2.0, 0.5]], "point": [0, 1, 2, 3],
         "D": [5, 10, 20], "lam_theory": [1e-6, 1.0], "noise": 0.0, "seeds": 32,
         "beta": 100.0, "damping": "auto", "solvers": ["exact", "tap"],
         "iterative_max_D": 10, "dense_max_D": 80, "seeds_per_D": [], "fit_min_D": None,
         "seed": 0}
PAPER = {**QUICK, "D": [10, 20, 40, 80], "seeds": 4, "iterative_max_D": 40}
LARGE = {**QUICK, "D": [20, 40, 80, 160, 320], "seeds": 16, "solvers": ["exact"],
         "iterative_max_D": None, "dense_max_D": 40, "seeds_per_D": [[160, 8], [320, 2]],
         "fit_min_D": 80}


# -- closed forms -------------------------------------------------------------------------

def population_test_error(W, N, noise=0.0) -> float:
    """Expected test error ``E (y_q - yhat)^2`` of merged weights over fresh sequences.

    For the data (docs/model.rst, section Data) with ``sigma_x = sigma_w = 1`` (tokens ``x ~ N(0,
    I_D)``, tasks
    ``w ~ N(0, I_D)``, labels ``y = w.x/sqrt(D) + noise eps``) the prediction is
    ``yhat = u^T W11 x_q + v W21 x_q`` with ``u = (1/N) sum_n y_n x_n`` and
    ``v = (1/N) sum_n y_n^2``. Averaging over ``x_q`` first, then using
    ``E[u | w] = w/sqrt(D)``, rotation invariance (``E[u u^T] = c_u I``) and the sign
    symmetry ``(w, eps) -> -(w, eps)`` (which flips u and keeps v, so ``E[u v] = 0`` and
    ``E[v w] = 0``)::

        E = 1 + rho - 2 tr(W11)/D + c_u |W11|_F^2 + c_v |W21|^2
        c_u = (1 + rho + 2/D)/N + (N - 1)/(N D)
        c_v = (1 + 2/N) ((1 + rho)^2 + 2/D)

    with ``rho = noise**2``. It is the mean of :func:`sgphys.test_error` over infinitely
    many test sequences, and gives ``(D+1)/(N+D+1)`` at the population optimum
    ``W11 = N/(N+D+1) I``, ``W21 = 0``.

    Parameters
    ----------
    W : array_like, shape (D+1, D+1)
        Merged weights (the last column is not a parameter and is ignored).
    N : int >= 1
        Prompt length.
    noise : float >= 0, default 0
        Label-noise standard deviation.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Naming ``W``, ``N`` or ``noise`` for a bad value.
    """
    W = check_array("W", W, ndim=2)
    if W.shape[0] != W.shape[1] or W.shape[0] < 2:
        raise ValueError(f"W must be square (D+1, D+1) with D >= 1, got shape {W.shape}")
    N = check_positive_int("N", N)
    rho = check_nonnegative("noise", noise) ** 2
    D = W.shape[0] - 1
    W11, W21 = W[:D, :D], W[D, :D]
    c_u = (1.0 + rho + 2.0 / D) / N + (N - 1.0) / (N * D)
    c_v = (1.0 + 2.0 / N) * ((1.0 + rho) ** 2 + 2.0 / D)
    return float(1.0 + rho - 2.0 * np.trace(W11) / D + c_u * np.sum(W11 * W11)
                 + c_v * np.sum(W21 * W21))


def problem_size(alpha, tau, D):
    """``(N, P) = (round(alpha D), round(tau D^2))``, halves rounded up.

    Raises
    ------
    ValueError
        Naming ``alpha_tau`` if N or P would be below 1.
    """
    N = int(math.floor(alpha * D + 0.5))
    P = int(math.floor(tau * D * D + 0.5))
    if N < 1 or P < 1:
        raise ValueError(f"alpha_tau: (alpha, tau) = ({alpha!r}, {tau!r}) at D={D} gives "
                         f"N={N}, P={P}; both must be >= 1")
    return N, P


def extrapolate_poly(inv_D, means, sems, counts=None, degree=2):
    """Weighted least-squares polynomial ``mean = a + b / D + c / D^2 + ...`` and the
    standard error of ``a``.

    Weights ``1/sem^2`` (each mean's seed scatter): ``a = sum_D c_D mean_D`` with ``c`` the
    intercept row of ``(X^T S^-2 X)^-1 X^T S^-2``, ``X = [1, 1/D, ..., 1/D^degree]``,
    ``S = diag(sem)``, and ``se(a) = sqrt(sum_D c_D^2 sem_D^2)``, the seed scatter propagated
    through the fit (it does not include the systematic error of a truncated polynomial).
    With exactly ``degree + 1`` sizes the polynomial interpolates the means (the weights
    drop out). Weights need reliable sems: when a used mean has fewer than
    :data:`MIN_SEEDS_WEIGHTED` seeds (``counts``) or a NaN or zero sem, the fit is
    unweighted (``c`` the intercept row of the pseudo-inverse of X) and se is still
    ``sqrt(sum_D c_D^2 sem_D^2)`` (NaN if a sem is NaN).

    Parameters
    ----------
    inv_D : array_like, shape (k,)
        ``1/D`` of the fitted sizes (NaN means are dropped with their D).
    means, sems : array_like, shape (k,)
        Seed means and their standard errors.
    counts : array_like of int, shape (k,), optional
        Seeds behind each mean (default: enough for weighting).
    degree : int >= 1
        Polynomial degree in ``1/D``.

    Returns
    -------
    (coef, se, weighted) : tuple
        ``coef`` (degree + 1,): the coefficients of ``1, 1/D, ..., 1/D^degree`` (``coef[0]``
        the extrapolation to ``1/D = 0``), all NaN if fewer than ``degree + 1`` distinct D
        have a finite mean; ``se`` of ``coef[0]`` (float); whether the fit was weighted.
    """
    degree = check_positive_int("degree", degree)
    x = np.asarray(inv_D, dtype=float)
    y = np.asarray(means, dtype=float)
    s = np.asarray(sems, dtype=float)
    n = (np.full(x.shape, MIN_SEEDS_WEIGHTED) if counts is None
         else np.asarray(counts, dtype=float))
    ok = np.isfinite(y)
    x, y, s, n = x[ok], y[ok], s[ok], n[ok]
    if np.unique(x).size < degree + 1:
        return np.full(degree + 1, math.nan), math.nan, False
    weighted = bool(np.all(n >= MIN_SEEDS_WEIGHTED) and np.all(np.isfinite(s))
                    and np.all(s > 0))
    w = 1.0 / s if weighted else np.ones_like(x)
    X = np.vander(x, degree + 1, increasing=True)
    coef = np.linalg.pinv(X * w[:, None]) * w[None, :]  # row j: weights of coefficient j
    se = math.sqrt(float(np.sum(coef[0] ** 2 * s ** 2)))
    return coef @ y, se, weighted


def extrapolate(inv_D, means, sems, counts=None):
    """Weighted least-squares line ``mean = a + b / D`` and the standard error of ``a``.

    :func:`extrapolate_poly` with ``degree=1``: weights ``1/sem^2`` (unweighted when a
    mean has fewer than :data:`MIN_SEEDS_WEIGHTED` seeds or a NaN or zero sem), ``a`` the
    value at ``1/D = 0`` and ``se(a) = sqrt(sum_D c_D^2 sem_D^2)`` with ``c`` the fit's
    intercept weights (seed scatter only: the curvature in 1/D is not in it, see
    :func:`extrapolate_poly` with ``degree=2`` and the module notes).

    Parameters
    ----------
    inv_D, means, sems, counts
        As in :func:`extrapolate_poly`.

    Returns
    -------
    (intercept, se, slope, weighted) : tuple
        Floats (NaN if fewer than two distinct D have a finite mean) and whether the fit
        was weighted.
    """
    coef, se, weighted = extrapolate_poly(inv_D, means, sems, counts, degree=1)
    return float(coef[0]), se, float(coef[1]), weighted


# -- parameters ---------------------------------------------------------------------------

def _real(name, value, positive):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must hold finite real numbers, got {_short(value)}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must hold {'positive' if positive else 'non-negative'} "
                         f"numbers, got {_short(value)}")
    return float(value)


def _alpha_tau(params):
    pairs = params["alpha_tau"]
    if not isinstance(pairs, (list, tuple)) or not pairs:
        raise ValueError(f"alpha_tau must be a non-empty list of [alpha, tau] pairs, "
                         f"got {_short(pairs)}")
    out = []
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"alpha_tau must be a list of [alpha, tau] pairs, got "
                             f"{_short(pair)} in {_short(pairs)}")
        out.append((_real("alpha_tau", pair[0], True), _real("alpha_tau", pair[1], True)))
    expected = list(range(len(out)))
    if list(params["point"]) != expected:
        raise ValueError(f"point must index alpha_tau: expected {expected} for "
                         f"{len(out)} pairs, got {_short(params['point'])}")
    return out


def _lams(params):
    value = params["lam_theory"]
    lams = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if not lams:
        raise ValueError("lam_theory must list at least one value")
    lams = [_real("lam_theory", v, False) for v in lams]
    if len(set(lams)) != len(lams):
        raise ValueError(f"lam_theory has repeated values: {_short(value)}")
    return lams


def _optional_int(params, name):
    value = params[name]
    return None if value is None else check_positive_int(name, value)


def _seeds_per_D(params):
    """``{D: n}`` from the ``seeds_per_D`` pairs (each n in 1..seeds, each D once)."""
    pairs = params["seeds_per_D"]
    if not isinstance(pairs, (list, tuple)):
        raise ValueError(f"seeds_per_D must be a list of [D, seeds] pairs, got {_short(pairs)}")
    out = {}
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise ValueError(f"seeds_per_D must be a list of [D, seeds] pairs, got "
                             f"{_short(pair)} in {_short(pairs)}")
        D = check_positive_int("seeds_per_D", pair[0])
        n = check_positive_int("seeds_per_D", pair[1])
        if D in out:
            raise ValueError(f"seeds_per_D lists D={D} twice: {_short(pairs)}")
        if n > params["seeds"]:
            raise ValueError(f"seeds_per_D: {n} seeds at D={D} exceed seeds={params['seeds']}")
        out[D] = n
    return out


def _check(params):
    """Validated (alpha_tau pairs, lam_theory list, noise, iterative_max_D, dense_max_D);
    refuses (ValueError naming D) a size whose point would not fit the memory limit."""
    pairs = _alpha_tau(params)
    lams = _lams(params)
    noise = check_nonnegative("noise", params["noise"])
    max_D = _optional_int(params, "iterative_max_D")
    dense_D = _optional_int(params, "dense_max_D")
    _seeds_per_D(params)
    _optional_int(params, "fit_min_D")
    for D, P, dense in _point_sizes(pairs, params["D"], dense_D):
        if dense:
            n = D * (D + 1)
            check_memory("D", D, _point_bytes(D, P, dense), f"one point's couplings (3 "
                         f"n_spins^2 doubles, n_spins = {n}; a larger D runs matrix-free "
                         "above dense_max_D)")
        else:
            check_factor_memory(D, P, vectors=4)
    return pairs, lams, noise, max_D, dense_D


def _point_sizes(pairs, Ds, dense_D):
    """``(D, P, dense)`` of every point: dense below ``dense_max_D``, else matrix-free."""
    for alpha, tau in pairs:
        for D in Ds:
            yield D, problem_size(alpha, tau, D)[1], dense_D is None or D <= dense_D


def _point_bytes(D, P, dense):
    """Bytes of one point: the dense couplings, or the factors (:func:`factor_bytes`)."""
    n = D * (D + 1)
    return 8 * 3 * n * n if dense else factor_bytes(D, P, vectors=4)


def point_bytes(params):
    """Bytes of the largest point (:attr:`Experiment.point_bytes`)."""
    pairs, _, _, _, dense_D = _check(params)
    return max(_point_bytes(*size) for size in _point_sizes(pairs, params["D"], dense_D))


# -- the sweep ----------------------------------------------------------------------------

#: per-solver fields of a point: (value for a skipped solver, dtype)
_FILL = {"converged": (0, np.int64), "n_iter": (0, np.int64), "residual": (np.nan, float),
         "negative_cavity": (-1, np.int64), "entropy_per_spin": (np.nan, float),
         "reason": (SKIPPED, object), "contrast_ratio": (np.nan, float),
         "contrast_ratio_w11": (np.nan, float), "test_error": (np.nan, float)}


def point(params, values, streams):
    """One (alpha, tau) point at one D and seed: every lam_theory on one training set."""
    pairs, lams, noise, max_D, dense_D = _check(params)
    D = int(values["D"])
    alpha, tau = pairs[int(values["point"])]
    N, P = problem_size(alpha, tau, D)
    solvers = list(params["solvers"])
    out = {key: np.full((len(lams), len(solvers)), fill, dtype=dtype)
           for key, (fill, dtype) in _FILL.items()}
    n_seeds = _seeds_per_D(params).get(D)
    if n_seeds is not None and seed_index(streams) >= n_seeds:
        out["reason"][:] = SKIPPED_SEED
        out["reason"] = out["reason"].astype(str)
        return out
    tasks = sample_tasks(D, N, P, seed=streams["train"], noise=noise, method="statistics")
    factored = dense_D is not None and D > dense_D
    if factored:
        # the rank-one factors of the features: O(P D) memory, no Q, H or J
        a, b, y = task_factors(tasks)
        active = ["exact"]
        out["reason"][:, [s != "exact" for s in solvers]] = SKIPPED_DENSE
    else:
        # Q = H^T H / P, h, <y^2> block by block (upper triangle of H^T H, then mirrored)
        Q, h, y2, _ = block_moments(tasks.iter_feature_blocks(), tasks.n_spins)
        active = [s for s in solvers if s == "exact" or max_D is None or D <= max_D]
    run_params = {**params, "solvers": active}
    for k, lam_theory in enumerate(lams):
        if factored:
            model = FactoredModel.from_factors(a, b, y, lam_theory / D)
        else:
            model = SpinModel(D, lam_theory / D, h, Q, y_sq_mean=y2)
        # only the means are stored: no marginal variances from the exact solver
        r = run_solvers(model, run_params, weights=True, variances=False)
        for j, name in enumerate(active):
            col = solvers.index(name)
            for key in ("converged", "n_iter", "residual", "reason", "negative_cavity",
                        "entropy_per_spin", "contrast_ratio", "contrast_ratio_w11"):
                out[key][k, col] = r[key][j]
            W = r["mean"][j]
            if np.all(np.isfinite(W)):
                with np.errstate(over="ignore", invalid="ignore"):
                    out["test_error"][k, col] = population_test_error(W, N, noise)
        del model
    out["reason"] = out["reason"].astype(str)
    return out


def variables(params):
    v = {name: Var(("lam_theory",) + var.dims, var.long_name, var.units, var.kind)
         for name, var in solver_vars().items()}
    v["test_error"] = Var(("lam_theory", "solver"),
                          "expected test error E (y_q - yhat)^2 over fresh tasks and prompts "
                          "of the solver's mean weights (closed form, population_test_error)")
    return v


def coords(params):
    _check(params)
    return {**solver_coord(params),
            "lam_theory": (_lams(params),
                           "ridge lambda of the asymptotic theory (sgphys lam = lambda / D)",
                           "1")}


def _attrs(long_name, units="1"):
    return {"long_name": long_name, "units": units}


def finalize(ds, params):
    pairs, lams, noise, _, _ = _check(params)
    fit_min_D = params["fit_min_D"]
    Ds = [int(d) for d in ds.D.values]
    alpha = np.array([p[0] for p in pairs])
    tau = np.array([p[1] for p in pairs])
    lam_t = np.asarray(lams)
    sizes = np.array([[problem_size(a, t, D) for D in Ds] for a, t in pairs])  # (pt, D, 2)
    ds = ds.assign_coords(
        alpha=("point", alpha, _attrs("context length per dimension alpha = N / D")),
        tau=("point", tau, _attrs("prompts per squared dimension tau = P / D^2")),
        N=(("point", "D"), sizes[..., 0], _attrs("prompt length N = round(alpha D)")),
        P=(("point", "D"), sizes[..., 1], _attrs("training sequences P = round(tau D^2)")),
        lam=(("D", "lam_theory"), lam_t[None, :] / np.asarray(Ds, float)[:, None],
             _attrs("sgphys weight decay lam = lam_theory / D")))
    ds["point"].attrs.update(_attrs("index of the (alpha, tau) pair in alpha_tau"))
    rho = noise ** 2
    ds["theory_error"] = (("point", "lam_theory"),
                          icl_error(alpha[:, None], tau[:, None], rho=rho, lam=lam_t[None, :]),
                          _attrs("asymptotic test error icl_error(alpha, tau, kappa=inf, "
                                 "rho=noise^2, lam=lam_theory) (Lu et al. PNAS 2025)"))
    mapped = np.empty((len(pairs), len(Ds), len(lams), 4))  # alpha, tau, rho, lambda at D
    for i in range(len(pairs)):
        for d, D in enumerate(Ds):
            for a, lt in enumerate(lams):
                al, ta, _, r, lth = theory_params(D, int(sizes[i, d, 0]), int(sizes[i, d, 1]),
                                                  lam=lt / D, noise=noise)
                mapped[i, d, a] = (al, ta, r, lth)
    ds["theory_error_D"] = (("point", "D", "lam_theory"),
                            icl_error(mapped[..., 0], mapped[..., 1], rho=mapped[..., 2],
                                      lam=mapped[..., 3]),
                            _attrs("asymptotic test error at this D's mapped variables "
                                   "theory_params(D, N, P, lam, noise)"))
    dims = ("point", "D", "lam_theory")
    exact = ds.sel(solver="exact").transpose(*dims, "seed")
    vals = np.where(exact.converged.values == 1, exact.test_error.values, np.nan)
    n = np.sum(np.isfinite(vals), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(vals, axis=-1) / np.where(n > 0, n, np.nan)
        sd = np.sqrt(np.nansum((vals - mean[..., None]) ** 2, axis=-1)
                     / np.where(n > 1, n - 1, np.nan))
        sem = sd / np.sqrt(n)
    ds["exact_error_mean"] = (dims, mean, _attrs("seed mean of the exact solver's test_error"))
    ds["exact_error_sem"] = (dims, sem, _attrs("standard error of exact_error_mean "
                                               "(seed standard deviation / sqrt(n))"))
    ds["exact_error_n"] = (dims, n.astype(np.int64),
                           _attrs("number of seeds in exact_error_mean"))
    inv_D = 1.0 / np.asarray(Ds, float)
    used = np.array([fit_min_D is None or D >= fit_min_D for D in Ds])
    fit = np.full((len(pairs), len(lams), 4), np.nan)
    quad = np.full((len(pairs), len(lams), 5), np.nan)  # a, b, c, se, weighted
    for i in range(len(pairs)):
        for a in range(len(lams)):
            m, s, k = mean[i, used, a], sem[i, used, a], n[i, used, a]
            fit[i, a] = extrapolate(inv_D[used], m, s, k)
            coef, se, w = extrapolate_poly(inv_D[used], m, s, k, degree=2)
            quad[i, a] = (*coef, se, w)
    fdims = ("point", "lam_theory")
    ds["extrapolated_error"] = (fdims, fit[..., 0], _attrs(
        "least-squares line in 1/D through exact_error_mean over D >= fit_min_D (all D "
        "if None; weights "
        "1/exact_error_sem^2 if extrapolation_weighted), at 1/D = 0"))
    ds["extrapolation_weighted"] = (fdims, fit[..., 3].astype(np.int64), _attrs(
        f"1 if the fit weighted the means by 1/sem^2 (every mean from >= "
        f"{MIN_SEEDS_WEIGHTED} seeds), 0 if unweighted"))
    ds["extrapolated_error_se"] = (fdims, fit[..., 1], _attrs(
        "standard error of extrapolated_error from the seed scatter of the means "
        "(excludes curvature in 1/D)"))
    ds["extrapolation_slope"] = (fdims, fit[..., 2], _attrs(
        "slope of that least-squares line: d exact_error_mean / d(1/D)"))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = fit[..., 0] / ds["theory_error"].values - 1.0
        rel_q = quad[..., 0] / ds["theory_error"].values - 1.0
    ds["relative_deviation"] = (fdims, rel, _attrs(
        "extrapolated_error / theory_error - 1"))
    ds["extrapolated_error_quadratic"] = (fdims, quad[..., 0], _attrs(
        "second extrapolation, with curvature: least-squares quadratic a + b/D + c/D^2 "
        "through exact_error_mean over D >= fit_min_D (interpolating for three D; weights "
        "1/exact_error_sem^2 if extrapolation_quadratic_weighted), at 1/D = 0; NaN for "
        "fewer than three D"))
    ds["extrapolated_error_quadratic_se"] = (fdims, quad[..., 3], _attrs(
        "standard error of extrapolated_error_quadratic from the seed scatter of the means"))
    ds["extrapolation_quadratic_slope"] = (fdims, quad[..., 1], _attrs(
        "coefficient b of 1/D in the quadratic extrapolation"))
    ds["extrapolation_quadratic_curvature"] = (fdims, quad[..., 2], _attrs(
        "coefficient c of 1/D^2 in the quadratic extrapolation"))
    ds["extrapolation_quadratic_weighted"] = (fdims, quad[..., 4].astype(np.int64), _attrs(
        "1 if the quadratic fit weighted the means by 1/sem^2, 0 if unweighted"))
    ds["relative_deviation_quadratic"] = (fdims, rel_q, _attrs(
        "extrapolated_error_quadratic / theory_error - 1"))
    return ds


EXPERIMENT = Experiment(
    name="finite_size", title="Finite-size approach of the exact test error to the "
    "asymptotic theory (Fig. T1)", figure="Fig. T1",
    presets={"quick": QUICK, "paper": PAPER, "large": LARGE}, sweep=("point", "D"),
    reproduce_with={"paper": ("large",)},
    point=point, variables=variables, coords=coords, finalize=finalize,
    # no dense model above dense_max_D: the memory of each point is checked by _check, that
    # of a pool's points together through point_bytes
    spin_model=False, point_bytes=point_bytes)
