"""Fig. 4a: contrast ratio of the inferred weights over prompt length N and diversity P.

The P values of one (N, seed) form a series that shares one task stream: the training set
at P is the first P sequences of the series' set at max(P) (and all P share one test set),
so neighbouring P differ only by the tasks added, as in an experiment that gathers more
tasks, and ``Q = H^T H / P`` grows by the new tasks' rows instead of being rebuilt for every
P. A point of the sweep is one (N, seed) series; the stored variables keep the layout
``(N, P, seed, solver)``.

Large preset (parameters absent from ``quick`` and ``paper``, whose runs they leave
unchanged):

- ``prior``: the weight prior of the AMP columns (``tap``, ``paper``): None (default) or
  ``"gaussian"`` for the ridge ``Gaussian(lam)``, ``"ternary"`` for ``Ternary(a, p0)``
  (``s in {-a, 0, a}``, replacing the ridge: lam = 0) or ``"binary"``, with the support
  scale ``a`` (``"population"``: ``N/(N+D+1)``) and ``p0`` as in
  :mod:`sgphys.experiments.quantized`. ``exact`` is always the Gaussian (ridge) solution.
- ``dense_max_D`` (None: never): above it the point holds the rank-one factors of its
  features (:func:`sgphys.factored.task_factors`, the same training set; docs/scale.md) and
  the series over P takes prefixes of the factors
  (:meth:`~sgphys.FactoredModel.from_factors`): H, Q and J are never formed. ``exact`` is
  then preconditioned conjugate gradients (solver ``exact_cg``, certified residual), ``tap``
  is GAMP on the factor graph of the sequences with the AMP prior (solver ``gamp``); the
  other solvers (``paper``, ``rbp``, ``bp``) are skipped (reason :data:`SKIPPED_DENSE`).

:func:`finalize` stores, when these parameters are given, ``matrix_free`` (1 if the points
are matrix-free), ``prior_a`` (N) and the attribute ``amp_prior``.

Presets: quick D = 5; paper D = 20 (50 x 50 grid, 10 seeds); large D = 100 (10,100 spins)
matrix-free, 11 values of N in 10..400, 13 values of P from n_spins / 4 to 4 n_spins (ratio
2^(1/3)), 6 seeds, ternary GAMP beside the exact ridge solution.
"""

from __future__ import annotations

import json

import numpy as np

from .._validate import _short, check_fraction, check_memory, check_positive, check_positive_int
from ..factored import FactoredModel
from ..priors import Gaussian
from ..spin import SpinModel, prefix_models
from ..tasks import sample_tasks
from ..timing import section
from ._base import Experiment, Var
from ._common import (check_factor_memory, factor_bytes, fill_test_errors, run_solvers,
                      solver_coord, solver_vars, training_set, with_paper_solver)
from .quantized import PRIOR_NAMES, make_prior, prior_scale

__all__ = ["EXPERIMENT", "SKIPPED_DENSE"]

#: reason stored for solvers other than exact and tap on a matrix-free point (D > dense_max_D)
SKIPPED_DENSE = "skipped: D > dense_max_D"

QUICK = {"D": 5, "N": [5, 10, 20, 40], "P": [20, 40, 80, 160, 320], "seeds": 2, "lam": 1.0,
         "beta": 100.0, "damping": "auto", "P_test": 500, "solvers": ["exact", "tap"], "seed": 0,
         # prompt statistics drawn directly (same distribution as drawing every token,
         # sgphys.tasks); "tokens" draws the input matrices
         "sampler": "statistics"}
PAPER = with_paper_solver({
    **QUICK, "D": 20, "N": np.linspace(2, 100, 50, dtype=int).tolist(),
    "P": np.linspace(20, 1000, 50, dtype=int).tolist(), "seeds": 10, "P_test": 1000})
LARGE = {**QUICK, "D": 100, "N": [10, 15, 25, 35, 50, 75, 100, 150, 200, 300, 400],
         # n_spins = 10,100: P / n_spins = 2^(k/3) / 4, k = 0..12 (1/4 to 4)
         "P": [2525, 3181, 4008, 5050, 6363, 8016, 10100, 12725, 16033, 20200, 25450, 32066,
               40400], "seeds": 6,
         # test errors of near-ridge weights differ by ~1e-2 over the grid: 10^4 test
         # sequences (a shared test set per (N, seed))
         "P_test": 10000,
         # the AMP column: ternary weights {-a, 0, a}, a = N/(N+D+1), P(0) = p0 (lam = 0)
         "prior": "ternary", "a": "population", "p0": 1.0 / 3.0,
         # above this D: matrix-free exact (PCG) and AMP (GAMP), no H, Q or J (None: never)
         "dense_max_D": 20}


# -- parameters -------------------------------------------------------------------------------

def _check(params):
    """Validated ``(prior name or None, matrix-free)``; ValueError naming the parameter, and
    for a point that does not fit the memory limit, naming D or P."""
    prior = params.get("prior")
    if prior is not None and (not isinstance(prior, str) or prior not in PRIOR_NAMES):
        raise ValueError(f"prior must be None or one of {list(PRIOR_NAMES)}, got "
                         f"{_short(prior)}")
    a = params.get("a", "population")
    if not (isinstance(a, str) and a == "population"):
        if isinstance(a, str):
            raise ValueError(f"a must be 'population' or a number > 0, got {a!r}")
        check_positive("a", a)
    check_fraction("p0", params.get("p0", 1.0 / 3.0))
    dense_D = params.get("dense_max_D")
    if dense_D is not None:
        dense_D = check_positive_int("dense_max_D", dense_D)
    D = check_positive_int("D", params["D"])
    n = D * (D + 1)
    P = max(int(p) for p in params["P"])
    factored = dense_D is not None and D > dense_D
    if factored:
        check_factor_memory(D, P)
    else:  # the dense model of the series at max(P) (as for every dense experiment)
        model = 8 * 3 * n * n
        check_memory("D", D, model, f"one point's spin model (3 n_spins^2 doubles of "
                     f"couplings, n_spins = D(D+1) = {n})")
        check_memory("P", P, model + 8 * P * n, f"one point's spin model with D={D} "
                     f"(couplings and the P x n_spins features, n_spins = {n})")
    return (None if prior is None else prior), factored


def point_bytes(params):
    """Bytes of one point (the memory :func:`_check` checks): the rank-one factors of max(P)
    sequences when matrix-free, else the dense model of the series at max(P)."""
    _, factored = _check(params)
    D = int(params["D"])
    n = D * (D + 1)
    P = max(int(p) for p in params["P"])
    return factor_bytes(D, P) if factored else 8 * 3 * n * n + 8 * P * n


def _amp_prior(params, D, N):
    """The AMP columns' prior at (D, N), None for the model's own ``Gaussian(lam)``."""
    name = params.get("prior")
    if name is None or name == "gaussian":
        return None
    return make_prior(name, {"a": params.get("a", "population"),
                             "p0": params.get("p0", 1.0 / 3.0), "lam": params["lam"]}, D, N)


# -- the sweep --------------------------------------------------------------------------------

def point(params, values, streams):
    """One (N, seed): every P of the series (dense prefix models or matrix-free prefixes of
    the factors) and every solver."""
    _, factored = _check(params)
    D, N, lam = params["D"], values["N"], params["lam"]
    method = params.get("sampler", "tokens")
    Ps = params["P"]
    prior = _amp_prior(params, D, int(N))
    with section("model build"):
        arrays = training_set(D, N, max(Ps), streams["train"], method, factored)
        if factored:  # the rank-one factors of the features: no H, Q or J
            a, b, y = arrays
        else:
            H, y = arrays
        test = sample_tasks(D, N, params["P_test"], seed=streams["test"], method=method).keep()
    series = {}
    if factored:
        for P in sorted(set(Ps)):
            with section("model build"):
                gauss = FactoredModel.from_factors(a[:P], b[:P], y[:P], lam)
                amp = gauss if prior is None else FactoredModel.from_factors(
                    a[:P], b[:P], y[:P], 0.0, prior=prior)
            series[P] = _columns(gauss, amp, params, test, skip={
                s: SKIPPED_DENSE for s in params["solvers"] if s not in ("exact", "tap")})
            del gauss, amp
    else:
        with section("model build"):
            models = prefix_models(D, lam, H, y, sorted(set(Ps)))
        stacks = []  # the solvers' W of every P: their test errors in one pass at the end
        while True:
            with section("model build"):  # each model is built as the series reaches it
                item = next(models, None)
            if item is None:
                break
            P, model = item
            if prior is None:
                series[P] = run_solvers(model, params, test=test, defer_test=stacks)
            else:
                amp = SpinModel(D, 0.0, model.h, model.Q, H=model.H, y=model.y, prior=prior)
                series[P] = _columns(model, amp, params, test)
        if stacks:
            fill_test_errors([series[P] for P in sorted(set(Ps))], stacks, test)
    return {k: np.stack([series[P][k] for P in Ps]) for k in series[Ps[0]]}


def _columns(gauss, amp, params, test, skip=()):
    """:func:`run_solvers`'s fields with ``exact`` on the Gaussian model ``gauss``, the AMP
    solvers on ``amp`` (its prior) and the solvers in ``skip`` stored with their reason."""
    solvers = list(params["solvers"])
    out = None
    for j, name in enumerate(solvers):
        if name in skip:
            continue
        r = run_solvers(gauss if name == "exact" else amp, {**params, "solvers": [name]},
                        test=test)
        if out is None:  # the layout of run_solvers over every solver, all NaN / empty
            out = {k: np.full((len(solvers),) + v.shape[1:],
                              -1 if k == "negative_cavity" else 0 if v.dtype.kind == "i"
                              else "" if v.dtype.kind == "U" else np.nan,
                              dtype=object if v.dtype.kind == "U" else v.dtype)
                   for k, v in r.items()}
        for k, v in r.items():
            out[k][j] = v[0]
    for j, name in enumerate(solvers):
        if name in skip:
            out["reason"][j] = skip[name]
    out["reason"] = out["reason"].astype(str)
    return out


def variables(params):
    return {name: type(var)(("P",) + var.dims, var.long_name, var.units, var.kind)
            for name, var in solver_vars(test=True).items()}


def coords(params):
    _check(params)
    return {**solver_coord(params),
            "P": (list(params["P"]), "task diversity P (number of training sequences)", "1")}


def _attrs(long_name, units="1"):
    return {"long_name": long_name, "units": units}


def finalize(ds, params):
    ds = ds.transpose("N", "P", "seed", ...)
    if "prior" not in params and "dense_max_D" not in params:
        return ds  # quick and paper: the layout they always had
    prior, factored = _check(params)
    D = int(params["D"])
    Ns = [int(n) for n in ds.N.values]
    name = prior or "gaussian"
    ds.attrs["amp_prior"] = name
    ds.attrs["amp_priors"] = json.dumps(
        [{"N": N, **(_amp_prior(params, D, N) or Gaussian(float(params["lam"]))).to_attrs()}
         for N in Ns], sort_keys=True)
    if prior in ("ternary", "binary"):
        a = params.get("a", "population")
        ds["prior_a"] = (("N",), np.array([prior_scale({"a": a}, D, N) for N in Ns]), _attrs(
            f"support scale a of the {prior} prior of the AMP columns ("
            + ("a = N/(N+D+1), the population-optimal W11 scale" if isinstance(a, str)
               else "fixed") + ")"))
    amp = "GAMP" if factored else "TAP-AMP"
    ds["matrix_free"] = ((), np.int64(factored), _attrs(
        f"1: matrix-free points (D > dense_max_D; exact = conjugate gradients, tap = GAMP, "
        f"other solvers skipped), 0: dense; the AMP columns ({amp}) use the {name} prior, exact the "
        f"Gaussian (ridge lam) one"))
    return ds


EXPERIMENT = Experiment(
    name="phase_diagram", title="Contrast ratio over prompt length and task diversity (Fig. 4a)",
    figure="Fig. 4a", presets={"quick": QUICK, "paper": PAPER, "large": LARGE}, sweep=("N",),
    reproduce_with={"paper": ("large",)},
    point=point, variables=variables, coords=coords, finalize=finalize, inner=("P",),
    # the memory of a point (dense or matrix-free) is checked by _check, that of a pool's
    # points together through point_bytes
    spin_model=False, point_bytes=point_bytes)
