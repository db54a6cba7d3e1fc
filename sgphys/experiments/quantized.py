"""Fig. Q1: the ICL phase diagram of quantised weights (ternary and binary against Gaussian).

The spin model's Gibbs measure ``p(s) ∝ exp(-beta E0(s)) prod_i pi(s_i)`` with a discrete
prior on every weight (:mod:`sgphys.priors`): ``Ternary(a, p0)`` (``s in {-a, 0, +a}``) and
``Binary(a)`` (``s in {-a, +a}``), which replace the ridge (``lam = 0``), next to the
Gaussian model (docs/model.rst, section Spin mapping) (``Gaussian(lam)``, the ridge). For each
training set, prior and inverse
temperature: the W11 contrast ratio and the test error on fresh tasks of the marginal means
mapped to weights (:func:`~sgphys.spin.spins_to_weights`), from

- ``exact``: the Gaussian marginals (:func:`~sgphys.solvers.solve_exact`; Gaussian prior only);
- ``tap``: TAP-AMP (:func:`~sgphys.solvers.solve_amp`) with the model's prior, its
  convergence fields as in every experiment;
- ``gibbs``: Gibbs sampling with replica exchange (:func:`~sgphys.discrete.sample_gibbs`),
  discrete priors only (the Gaussian marginals are exact), up to ``gibbs_max_D``; its
  convergence is max split R-hat < ``rhat_tol`` (``residual`` = max R-hat - 1, ``n_iter`` =
  sweeps), with min ESS, max Monte Carlo standard error, mean and lowest energy and the
  smallest swap acceptance stored beside.

The two ``beta`` values are a moderate temperature (thermal means of the discrete weights)
and a large one that stands for the ground state: Gibbs anneals to it through a geometric
replica ladder from ``ladder_min`` with ratio at most ``ladder_ratio`` (24 rungs from 0.1 to
1000), AMP runs at that beta directly.

Scale of the discrete support. A diagonal ``W11 = c I`` (and zero elsewhere) is reachable
only if ``a`` is near the Gaussian optimum's diagonal ``c``. With ``a = "population"`` (the
default) ``a = N / (N + D + 1)``, the population-optimal scale ``W11 = N/(N+D+1) I`` of
noiseless tasks at finite N (docs/model.rst, section Transformer,
:func:`~sgphys.observables.theory_w11_scale`), which is
the large-P limit of the exact Gaussian solution's diagonal; a number fixes ``a`` for every
(D, N). Stored as ``prior_a`` (D, N) and in the attribute ``priors`` (JSON, each prior's
:meth:`~sgphys.priors.Ternary.to_attrs` per (D, N)).

Swept: ``D``, ``N`` and ``seed``. One point is a whole series over ``P`` sharing one task
stream (as in Fig. 4a: the training set at P is the first P sequences of the set at max P,
one test set for all P) and over ``beta``; extra dims ``P``, ``prior``, ``beta``,
``solver`` (and ``row``, ``col`` of the mean weight matrices, NaN-padded to the largest D).
Gibbs streams are keyed by the values (P, prior, beta), never by grid position.
:func:`finalize` adds ``prior_a`` and ``icl_onset_P``: the smallest P from which the seed
mean (converged runs) of the W11 contrast ratio stays at or above ``icl_threshold``.

Matrix-free points. Above ``dense_max_D`` (None: never) a point holds the rank-one factors
of its features (:class:`~sgphys.FactoredModel`, docs/scale.md; O(P D) memory, no H, Q or
J): ``exact`` is then preconditioned conjugate gradients (solver ``exact_cg``, certified
residual) and ``tap`` is GAMP on the factor graph of the sequences (solver ``gamp``, the
same marginals as TAP by another mean-field approximation; docs/scale.md measures the
difference), Gibbs is skipped (reason ``"skipped: D > dense_max_D"``) and ``negative_cavity``
is -1. :func:`finalize` stores ``matrix_free`` (D): 1 where this applies.

Presets. Quick: D = 10, N = 20, P = 25..800, beta in {10, 1000}, 2 seeds, 1000 sweeps of 4
chains. Paper: D in {10, 20} (Gibbs at D = 10 only), N in {10, 20, 40}, P = 25..6400, 5
seeds, 4000 sweeps. Large: D in {40, 80} matrix-free, N in {40, 80, 160}, Gaussian and
ternary priors, beta = 1000, P = 1000..64000 (ratio sqrt 2), 4 seeds.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .._validate import (_short, check_choice, check_fraction, check_memory,
                         check_nonnegative, check_positive, check_positive_int)
from ..discrete import energy0, sample_gibbs
from ..factored import FactoredModel
from ..observables import contrast_ratio, test_error, theory_w11_scale
from ..priors import Binary, Gaussian, Ternary
from ..registry import get_solver, solve
from ..spin import SpinModel, feature_moments, spins_to_weights
from ..sweep import values_hash
from ..tasks import sample_tasks
from ._base import Experiment, Var
from ._common import (SOLVER_VARS, check_factor_memory, factor_bytes, matrix_coords,
                      negative_cavity, training_set)

__all__ = ["EXPERIMENT", "PRIOR_NAMES", "ladder", "prior_scale", "make_prior"]

#: the priors this experiment compares, in figure order
PRIOR_NAMES = ("gaussian", "ternary", "binary")
#: reasons stored for solver runs that do not apply
SKIP_EXACT = "skipped: exact marginals need the Gaussian prior"
SKIP_GIBBS_GAUSSIAN = "skipped: Gaussian prior (its marginals are exact)"
SKIP_GIBBS_D = "skipped: D > gibbs_max_D"
SKIP_GIBBS_DENSE = "skipped: D > dense_max_D"

QUICK = {"D": [10], "N": [20], "P": [25, 50, 100, 200, 400, 800], "beta": [10.0, 1000.0],
         "priors": list(PRIOR_NAMES), "a": "population", "p0": 1.0 / 3.0, "lam": 0.01,
         "P_test": 1000, "seeds": 2, "damping": "auto", "solvers": ["exact", "tap"],
         # AMP that has not converged in 2000 iterations at beta = 1000 does not (binary)
         "max_iter": 2000,
         "gibbs_sweeps": 1000, "gibbs_chains": 4, "ladder_min": 0.1, "ladder_ratio": 1.5,
         "gibbs_max_D": 10, "rhat_tol": 1.01, "icl_threshold": 0.9, "seed": 0,
         # prompt statistics drawn directly (same law as drawing every token, sgphys.tasks)
         "sampler": "statistics",
         # above this D: matrix-free exact (PCG) and AMP (GAMP), no Gibbs (None: never)
         "dense_max_D": None}
PAPER = {**QUICK, "D": [10, 20], "N": [10, 20, 40],
         "P": [25, 50, 100, 200, 400, 800, 1600, 3200, 6400], "seeds": 5, "P_test": 2000,
         "gibbs_sweeps": 4000}
LARGE = {**QUICK, "D": [40, 80], "N": [40, 80, 160],
         # 1000 * 2^(k/2), k = 0..12
         "P": [1000, 1414, 2000, 2828, 4000, 5657, 8000, 11314, 16000, 22627, 32000, 45255,
               64000], "beta": [1000.0],
         "priors": ["gaussian", "ternary"], "seeds": 4, "P_test": 2000,
         "dense_max_D": 20}


# -- parameters -------------------------------------------------------------------------------

def check_priors(value):
    """The ``priors`` parameter as a list of distinct names from :data:`PRIOR_NAMES`."""
    priors = [value] if isinstance(value, str) else value
    if (not isinstance(priors, (list, tuple)) or not priors
            or any(p not in PRIOR_NAMES for p in priors) or len(set(priors)) != len(priors)):
        raise ValueError(f"priors must be a non-empty list of distinct names from "
                         f"{list(PRIOR_NAMES)}, got {_short(value)}")
    return list(priors)


def _check(params):
    """Validated experiment-specific parameters (ValueError naming the parameter)."""
    priors = check_priors(params["priors"])
    a = params["a"]
    if not (isinstance(a, str) and a == "population"):
        if isinstance(a, str):
            raise ValueError(f"a must be 'population' or a number > 0, got {a!r}")
        check_positive("a", a)
    check_fraction("p0", params["p0"])
    check_nonnegative("lam", params["lam"])
    check_positive_int("gibbs_sweeps", params["gibbs_sweeps"])
    if params["gibbs_sweeps"] < 16:
        raise ValueError(f"gibbs_sweeps must be at least 16, got {params['gibbs_sweeps']!r}")
    check_positive_int("gibbs_chains", params["gibbs_chains"])
    check_positive("ladder_min", params["ladder_min"])
    if check_positive("ladder_ratio", params["ladder_ratio"]) <= 1.0:
        raise ValueError(f"ladder_ratio must be > 1, got {params['ladder_ratio']!r}")
    max_D = params["gibbs_max_D"]
    if max_D is not None:
        check_positive_int("gibbs_max_D", max_D)
    if check_positive("rhat_tol", params["rhat_tol"]) <= 1.0:
        raise ValueError(f"rhat_tol must be > 1, got {params['rhat_tol']!r}")
    thr = check_positive("icl_threshold", params["icl_threshold"])
    if thr > 1.0:
        raise ValueError(f"icl_threshold must lie in (0, 1], got {thr!r}")
    check_choice("sampler", params.get("sampler", "tokens"), ("tokens", "statistics"))
    dense_D = params.get("dense_max_D")
    if dense_D is not None:
        dense_D = check_positive_int("dense_max_D", dense_D)
    P = max(int(p) for p in params["P"])
    for D in params["D"]:
        n = D * (D + 1)
        if dense_D is None or D <= dense_D:
            check_memory("D", D, _point_bytes(D, P, True), f"one point's spin model (3 "
                         f"n_spins^2 doubles of couplings and the P x n_spins features, "
                         f"n_spins = {n}, P = {P}; larger D run matrix-free above dense_max_D)")
        else:
            check_factor_memory(D, P)
    return list(priors)


def _point_bytes(D, P, dense):
    """Bytes of one point: the dense model with its features, or the factors."""
    n = D * (D + 1)
    return 8 * (3 * n * n + P * n) if dense else factor_bytes(D, P)


def point_bytes(params):
    """Bytes of the largest point (:attr:`Experiment.point_bytes`)."""
    _check(params)
    P = max(int(p) for p in params["P"])
    return max(_point_bytes(D, P, not _matrix_free(params, D)) for D in params["D"])


def _matrix_free(params, D):
    dense_D = params.get("dense_max_D")
    return dense_D is not None and D > int(dense_D)


def prior_scale(params, D, N) -> float:
    """The support scale ``a`` at (D, N): ``N/(N+D+1)`` for ``a="population"``, else ``a``."""
    a = params["a"]
    if isinstance(a, str):
        return theory_w11_scale(N, D)
    return float(a)


def make_prior(name, params, D, N):
    """The prior ``name`` at (D, N): ``Gaussian(lam)``, ``Ternary(a, p0)`` or ``Binary(a)``."""
    if name == "gaussian":
        return Gaussian(float(params["lam"]))
    a = prior_scale(params, D, N)
    if name == "ternary":
        return Ternary(a, float(params["p0"]))
    return Binary(a)


def ladder(beta, ladder_min, ratio):
    """Geometric replica ladder from ``ladder_min`` to ``beta`` (both included) whose
    adjacent ratio is at most ``ratio``; None (plain Gibbs) when ``beta <= ladder_min``."""
    beta = check_positive("beta", beta)
    ladder_min = check_positive("ladder_min", ladder_min)
    ratio = check_positive("ladder_ratio", ratio)
    if ratio <= 1.0:
        raise ValueError(f"ladder_ratio must be > 1, got {ratio!r}")
    if beta <= ladder_min:
        return None
    n = int(math.ceil(math.log(beta / ladder_min) / math.log(ratio) - 1e-12)) + 1
    rungs = np.geomspace(ladder_min, beta, max(n, 2))
    rungs[-1] = beta
    return rungs


def _gibbs_seed(init, P, prior, beta):
    """A Gibbs stream keyed by the values (P, prior, beta) under the point's init stream."""
    v0, v1 = values_hash({"P": int(P), "prior": prior, "beta": float(beta)})
    return np.random.SeedSequence(init.entropy, spawn_key=tuple(init.spawn_key) + (v0, v1))


# -- the sweep --------------------------------------------------------------------------------

_PER_SOLVER = {"converged": (0, np.int64), "n_iter": (0, np.int64),
               "negative_cavity": (-1, np.int64),
               "residual": (np.nan, float), "reason": ("", object),
               "contrast_ratio": (np.nan, float), "contrast_ratio_w11": (np.nan, float),
               "test_error": (np.nan, float), "w11_diagonal": (np.nan, float),
               "energy_of_mean": (np.nan, float)}
_PER_GIBBS = ("gibbs_rhat_max", "gibbs_ess_min", "gibbs_mcse_max", "gibbs_mean_energy",
              "gibbs_min_energy", "gibbs_swap_acceptance_min", "tap_gibbs_rms")


def _solvers(params):
    return list(params["solvers"]) + ["gibbs"]


def _run_gibbs(model, beta, params, seed):
    betas = ladder(beta, params["ladder_min"], params["ladder_ratio"])
    r = sample_gibbs(model, beta, int(params["gibbs_sweeps"]), int(params["gibbs_chains"]),
                     seed=seed, betas=betas)
    e_min = float(min(np.min(r.energy_trace), np.min(energy0(model, r.states))))
    acc = np.nan if r.swap_acceptance is None else float(np.min(r.swap_acceptance))
    extras = {"gibbs_rhat_max": float(np.max(r.rhat)), "gibbs_ess_min": float(np.min(r.ess)),
              "gibbs_mcse_max": float(np.max(r.mcse)), "gibbs_mean_energy": r.mean_energy,
              "gibbs_min_energy": e_min, "gibbs_swap_acceptance_min": acc}
    return r.to_marginals(rhat_tol=float(params["rhat_tol"])), extras


def point(params, values, streams):
    """One (D, N, seed): every P, prior, beta and solver on one task stream."""
    priors = _check(params)
    D, N = int(values["D"]), int(values["N"])
    Ps, betas = [int(p) for p in params["P"]], [float(b) for b in params["beta"]]
    solvers = _solvers(params)
    method = params.get("sampler", "tokens")
    max_D = params["gibbs_max_D"]
    factored = _matrix_free(params, D)
    arrays = training_set(D, N, max(Ps), streams["train"], method, factored)
    if factored:  # the rank-one factors of the features: no H, Q or J
        a, b, y = arrays
    else:
        H, y = arrays
    test = sample_tasks(D, N, int(params["P_test"]), seed=streams["test"], method=method).keep()
    prior_of = {name: make_prior(name, params, D, N) for name in priors}
    shape = (len(Ps), len(priors), len(betas))
    out = {key: np.full(shape + (len(solvers),), fill, dtype=dtype)
           for key, (fill, dtype) in _PER_SOLVER.items()}
    out.update({key: np.full(shape, np.nan) for key in _PER_GIBBS})
    out["mean"] = np.full(shape + (len(solvers), D + 1, D + 1), np.nan)
    for i, P in enumerate(Ps):
        # the moments of the first P sequences, built afresh (not accumulated over the
        # other P), so a P's numbers are the same bits whatever else the P list holds
        if not factored:
            Q, h, y2 = feature_moments(H[:P], y[:P])
        for j, name in enumerate(priors):
            prior = prior_of[name]
            lam = prior.lam if name == "gaussian" else 0.0
            if factored:
                model = FactoredModel.from_factors(a[:P], b[:P], y[:P], lam, prior=prior)
            else:
                model = SpinModel(D, lam, h, Q, H=H[:P], y=y[:P], y_sq_mean=y2, prior=prior)
            for k, beta in enumerate(betas):
                means = {}
                for c, solver in enumerate(solvers):
                    slot = (i, j, k, c)
                    if solver == "gibbs":
                        if name == "gaussian" or (max_D is not None and D > max_D) \
                                or factored:
                            out["reason"][slot] = (
                                SKIP_GIBBS_GAUSSIAN if name == "gaussian"
                                else SKIP_GIBBS_D if max_D is not None and D > max_D
                                else SKIP_GIBBS_DENSE)
                            continue
                        r, extras = _run_gibbs(model, beta, params,
                                               _gibbs_seed(streams["init"], P, name, beta))
                        for key, value in extras.items():
                            out[key][i, j, k] = value
                    elif solver == "exact" and name != "gaussian":
                        out["reason"][slot] = SKIP_EXACT
                        continue
                    else:
                        # a solver that raises fails the point (status 0), as elsewhere
                        r = solve(model, solver, {**params, "beta": beta},
                                  **({"variances": False} if solver == "exact" else {}))
                    means[solver] = r.mean
                    _store(out, slot, r, model, test, D)
                if "tap" in means and "gibbs" in means:
                    out["tap_gibbs_rms"][i, j, k] = float(
                        np.sqrt(np.mean((means["tap"] - means["gibbs"]) ** 2)))
    out["reason"] = out["reason"].astype(str)
    return out


def _store(out, slot, r, model, test, D):
    out["converged"][slot] = int(r.converged)
    out["n_iter"][slot] = r.n_iter
    out["residual"][slot] = r.residual
    out["reason"][slot] = r.reason
    out["negative_cavity"][slot] = negative_cavity(r)
    W = spins_to_weights(r.mean, D)
    out["mean"][slot] = W
    if np.any(W):
        out["contrast_ratio"][slot] = contrast_ratio(W)
        if np.any(W[:-1, :-1]):
            out["contrast_ratio_w11"][slot] = contrast_ratio(W, block="w11")
    out["w11_diagonal"][slot] = float(np.mean(np.diag(W)[:D]))
    out["test_error"][slot] = test_error(W, test)
    if isinstance(model, FactoredModel):  # E0 = E - (lam/2) |m|^2, matrix-free
        out["energy_of_mean"][slot] = model.energy(r.mean) - 0.5 * model.lam * float(
            r.mean @ r.mean)
    else:
        out["energy_of_mean"][slot] = energy0(model, r.mean)


def variables(params):
    dims = ("P", "prior", "beta")
    v = {name: Var(dims + var.dims, var.long_name, var.units, var.kind)
         for name, var in SOLVER_VARS.items()}
    v["residual"] = Var(dims + ("solver",), "final convergence residual (docs/model.rst, section Solvers; gibbs: "
                                            "max split R-hat - 1)")
    v["n_iter"] = Var(dims + ("solver",), "solver iterations (gibbs: sweeps per chain)", "1", "i")
    v["contrast_ratio"] = Var(dims + ("solver",), "contrast ratio of the mean W with I_{D+1} "
                                                  "(full matrix)")
    v["contrast_ratio_w11"] = Var(dims + ("solver",), "contrast ratio of the mean W11 with I_D")
    v["test_error"] = Var(dims + ("solver",), "test error of the mean weights on fresh tasks")
    v["w11_diagonal"] = Var(dims + ("solver",), "average diagonal entry of the mean W11")
    v["energy_of_mean"] = Var(dims + ("solver",), "E0 of the mean spins, (1/2) m^T Q m - h^T m "
                                                  "(energy without the ridge term)")
    v["mean"] = Var(dims + ("solver", "row", "col"),
                    "marginal mean weight matrix (NaN beyond this D)")
    gibbs = {
        "gibbs_rhat_max": "largest split R-hat over the spins (Gibbs)",
        "gibbs_ess_min": "smallest effective sample size over the spins (Gibbs)",
        "gibbs_mcse_max": "largest Monte Carlo standard error of a spin mean (Gibbs)",
        "gibbs_mean_energy": "mean energy <E0> at beta (Gibbs)",
        "gibbs_min_energy": "lowest E0 of the recorded and final states at beta (Gibbs)",
        "gibbs_swap_acceptance_min": "smallest swap acceptance between adjacent replicas "
                                     "(Gibbs; NaN without a ladder)",
        "tap_gibbs_rms": "root mean square difference of the TAP and Gibbs spin means "
                         "(stored whether or not they converged: see converged)",
    }
    for name, long_name in gibbs.items():
        v[name] = Var(dims, long_name)
    return v


def coords(params):
    _check(params)
    labels = "; ".join(f"{n} = {get_solver(n).label}" for n in params["solvers"])
    labels += "; gibbs = Gibbs sampling with replica exchange"
    priors = params["priors"] if isinstance(params["priors"], list) else [params["priors"]]
    return {"solver": (_solvers(params), f"solver ({labels})", "1"),
            "P": (list(params["P"]), "task diversity P (number of training sequences)", "1"),
            "beta": ([float(b) for b in params["beta"]], "inverse temperature beta", "1"),
            "prior": (list(priors), "weight prior (gaussian: ridge lam; ternary: {-a, 0, a} "
                                    "with P(0) = p0; binary: {-a, a})", "1"),
            **matrix_coords(max(params["D"]))}


def _attrs(long_name, units="1"):
    return {"long_name": long_name, "units": units}


def finalize(ds, params):
    priors = _check(params)
    Ds = [int(d) for d in ds.D.values]
    Ns = [int(n) for n in ds.N.values]
    ds = ds.transpose("D", "N", "P", "seed", ...)
    ds["prior_a"] = (("D", "N"), np.array([[prior_scale(params, D, N) for N in Ns]
                                           for D in Ds]),
                     _attrs("support scale a of the ternary and binary priors ("
                            + ("a = N/(N+D+1), the population-optimal W11 scale"
                               if isinstance(params["a"], str) else "fixed") + ")"))
    # the contrast ratio's seed mean over converged runs, and the P from which it stays at
    # or above the threshold
    cr = ds.contrast_ratio_w11.where(ds.converged == 1)
    n = cr.notnull().sum("seed")
    mean = cr.sum("seed").where(n > 0) / n.where(n > 0)
    order = np.argsort(np.asarray(ds.P.values))
    Ps = np.asarray(ds.P.values)[order]
    m = mean.transpose("D", "N", "P", ...).values[:, :, order]  # (D, N, P, prior, beta, solver)
    above = np.where(np.isfinite(m), m >= float(params["icl_threshold"]), False)
    stays = np.flip(np.logical_and.accumulate(np.flip(above, axis=2), axis=2), axis=2)
    first = np.argmax(stays, axis=2)
    onset = np.where(stays.any(axis=2), Ps[first].astype(float), np.nan)
    ds["icl_onset_P"] = (("D", "N", "prior", "beta", "solver"), onset, _attrs(
        f"smallest P from which the seed-mean W11 contrast ratio (converged runs) stays "
        f">= icl_threshold = {float(params['icl_threshold'])!r} (NaN: never)"))
    ds["icl_onset_P"].attrs["threshold"] = float(params["icl_threshold"])
    ds.attrs["priors"] = json.dumps([
        {"D": D, "N": N, **{name: make_prior(name, params, D, N).to_attrs()
                            for name in priors}} for D in Ds for N in Ns], sort_keys=True)
    ds["matrix_free"] = (("D",), np.array([int(_matrix_free(params, D)) for D in Ds],
                                          dtype=np.int64), _attrs(
        "1: the points of this D are matrix-free (exact = conjugate gradients, tap = GAMP, "
        "no Gibbs; D > dense_max_D), 0: dense"))
    ds.attrs["prior_a_rule"] = ("population: a = N/(N+D+1)" if isinstance(params["a"], str)
                                else f"fixed: a = {float(params['a'])!r}")
    return ds


EXPERIMENT = Experiment(
    name="quantized", title="ICL phase diagram of quantised (ternary, binary) weights (Fig. Q1)",
    figure="Fig. Q1", presets={"quick": QUICK, "paper": PAPER, "large": LARGE},
    reproduce_with={"paper": ("large",)},
    sweep=("D", "N"), point=point, variables=variables, coords=coords, finalize=finalize,
    inner=("P", "beta"),
    # the memory of a point (dense or matrix-free) is checked by _check, that of a pool's
    # points together through point_bytes
    spin_model=False, point_bytes=point_bytes)
