"""Fig. Th: free energy, energy and entropy of the ICL state and of the other TAP branches.

For the Gaussian (ridge ``lam``), ternary and binary priors (support scale ``a``, as in
:mod:`~sgphys.experiments.quantized`: ``a = N/(N+D+1)`` by default), at each task diversity
``P = P_over_n * n_spins`` and inverse temperature ``beta``:

- ``TAP states``: :func:`~sgphys.states.find_states` with TAP-AMP from the prior, the ICL
  state (:func:`~sgphys.states.icl_init`), ``n_random`` random means and the continuation
  starts: the states found at the next smaller P (an ascending pass over P) and, in a
  descending pass, those at the next larger P; both passes' states are merged by the same
  distinctness rule. Each certified state is classified by the W11 contrast ratio of its
  means, ``icl`` (>= ``icl_threshold``) or ``other``; per branch the lowest free energy
  state is stored: free energy, energy and entropy per spin (docs/thermodynamics.md), W11
  contrast ratio, the number of spins with a negative cavity precision and the starts that
  reached it. ``branch_exists`` is 1 where TAP found a certified fixed point of that branch.
- ``exact``: the Gaussian prior's closed form (:func:`~sgphys.solvers.solve_exact`), its
  unique state.
- ``gibbs``: replica-exchange Gibbs sampling (:func:`~sgphys.discrete.sample_gibbs`) for
  the discrete priors up to ``gibbs_max_D``, over the ladder ``0`` plus a geometric one from
  ``ladder_min`` to ``beta`` (ratio at most ``ladder_ratio``): ``log Z`` by thermodynamic
  integration from ``beta = 0`` and its standard error, energy, entropy, and the W11
  contrast ratio of its means.

Swept: ``D`` and ``seed``. One point is a whole series over ``P_over_n`` (one task stream:
the training set at P is the first P sequences of the set at the largest P), ``prior`` and
``beta``. :func:`finalize` derives, per seed, prior and beta: the spinodals
``spinodal_icl`` (smallest P/n_spins where the ICL branch exists) and ``spinodal_other``
(largest P/n_spins where a non-ICL branch exists), the thermodynamic transition
``transition`` (where ``f_icl - f_other`` changes sign from positive to non-positive,
linear interpolation in P; NaN without a crossing in range), ``gibbs_icl_onset`` (the
first upward crossing of the Gibbs W11 contrast ratio through ``icl_threshold``, runs with
split R-hat above ``rhat_tol`` left out) and, per
seed, ``ridge_onset`` (the same crossing for the exact Gaussian solution); each with its
seed mean, standard deviation and count (``*_mean``, ``*_sd``, ``*_count``), all in units
of P/n_spins.

Presets. Quick: D = 10, N = 20, P/n_spins in {1, 2, 4, 8}, beta in {10, 100}, 2 seeds,
2 random starts, Gibbs 300 sweeps of 2 chains. Paper: D in {10, 20} (Gibbs at D = 10
only), P/n_spins in {0.5, 1, 2, 3, 4, 6, 8, 12, 16}, beta in {1, 3, 10, 30, 100, 1000},
5 seeds, 6 random starts, Gibbs 2000 sweeps of 4 chains.
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import _short, check_positive, check_positive_int
from ..discrete import sample_gibbs
from ..observables import contrast_ratio
from ..solvers import solve_exact
from ..spin import SpinModel, feature_moments, spins_to_weights
from ..states import find_states
from ..sweep import values_hash
from ..tasks import sample_tasks
from ._base import Experiment, Var
from .quantized import PRIOR_NAMES, check_priors, ladder, make_prior, prior_scale

__all__ = ["EXPERIMENT", "BRANCHES", "crossing", "thermo_ladder", "classify"]

#: the branches stored per (P, prior, beta)
BRANCHES = ("icl", "other")
SKIP_GIBBS_GAUSSIAN = "skipped: Gaussian prior (closed form)"

QUICK = {"D": [10], "N": 20, "P_over_n": [1.0, 2.0, 4.0, 8.0], "beta": [10.0, 100.0],
         "priors": list(PRIOR_NAMES), "a": "population", "p0": 1.0 / 3.0, "lam": 0.01,
         "seeds": 2, "n_random": 2, "damping": "auto", "tol": 1e-10, "max_iter": 2000,
         "distinct": 1e-6, "icl_threshold": 0.9,
         "gibbs_sweeps": 300, "gibbs_chains": 2, "ladder_min": 0.1, "ladder_ratio": 1.5,
         "gibbs_max_D": 10, "rhat_tol": 1.1, "seed": 0, "sampler": "statistics"}
PAPER = {**QUICK, "D": [10, 20], "P_over_n": [0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0],
         "beta": [1.0, 3.0, 10.0, 30.0, 100.0, 1000.0], "seeds": 5, "n_random": 6,
         "gibbs_sweeps": 2000, "gibbs_chains": 4}


# -- helpers ----------------------------------------------------------------------------------

def crossing(x, y, direction="down"):
    """The first zero crossing of ``y(x)``, linearly interpolated.

    Parameters
    ----------
    x : array_like (k,)
        Increasing abscissae.
    y : array_like (k,)
        Values; pairs of neighbours with a NaN are skipped.
    direction : {"down", "up"}
        ``"down"``: the first neighbours with ``y_i > 0 >= y_{i+1}``; ``"up"``: ``y_i < 0
        <= y_{i+1}``.

    Returns
    -------
    float
        ``x_i + (x_{i+1} - x_i) y_i / (y_i - y_{i+1})``; NaN when there is no such pair.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(f"x and y must be 1-D of equal length, got shapes {x.shape} "
                         f"and {y.shape}")
    if direction not in ("down", "up"):
        raise ValueError(f"direction must be 'down' or 'up', got {direction!r}")
    s = y if direction == "down" else -y
    for i in range(x.size - 1):
        a, b = s[i], s[i + 1]
        if np.isfinite(a) and np.isfinite(b) and a > 0 >= b:
            return float(x[i] + (x[i + 1] - x[i]) * a / (a - b))
    return math.nan


def thermo_ladder(beta, ladder_min, ratio):
    """Replica ladder for thermodynamic integration from 0: ``0``, then geometric from
    ``ladder_min`` to ``beta`` with adjacent ratio at most ``ratio`` (just ``[0, beta]`` when
    ``beta <= ladder_min``); the geometric part is :func:`~sgphys.experiments.quantized.ladder`'s."""
    rungs = ladder(beta, ladder_min, ratio)
    return np.array([0.0, float(beta)]) if rungs is None else np.concatenate([[0.0], rungs])


def w11_contrast(mean, D):
    """W11 contrast ratio of spin means (NaN for a zero W11)."""
    W = spins_to_weights(mean, D)
    if not np.any(W[:-1, :-1]):
        return math.nan
    return contrast_ratio(W, block="w11")


def classify(states, D, threshold):
    """``{"icl": [...], "other": [...]}``: states split by their W11 contrast ratio
    (``>= threshold`` is ICL), each list in the input order (lowest free energy first)."""
    out = {b: [] for b in BRANCHES}
    for s in states:
        cr = w11_contrast(s.mean, D)
        out["icl" if (np.isfinite(cr) and cr >= threshold) else "other"].append(s)
    return out


def _merge(states, new, distinct):
    """``states`` plus the states of ``new`` not among them (find_states' rule), sorted by
    free energy; the ``inits`` of duplicates are appended."""
    states = list(states)
    for r in new:
        for s in states:
            scale = max(float(np.max(np.abs(s.mean))), float(np.sqrt(np.max(s.var))), 1e-300)
            if np.max(np.abs(s.mean - r.mean)) <= distinct * scale:
                s.info["inits"] = list(s.info["inits"]) + [i for i in r.info["inits"]
                                                          if i not in s.info["inits"]]
                break
        else:
            states.append(r)
    return sorted(states, key=lambda s: (not np.isfinite(s.free_energy), s.free_energy))


def _stream(init, tag, P, prior, beta):
    """A stream keyed by the values (tag, P, prior, beta) under the point's init stream."""
    v0, v1 = values_hash({"tag": tag, "P": int(P), "prior": prior, "beta": float(beta)})
    return np.random.SeedSequence(init.entropy, spawn_key=tuple(init.spawn_key) + (v0, v1))


def _check(params):
    priors = check_priors(params["priors"])
    check_positive_int("N", params["N"])
    if any(not (float(r) > 0) for r in params["P_over_n"]):
        raise ValueError(f"P_over_n must hold numbers > 0, got {_short(params['P_over_n'])}")
    if isinstance(params["n_random"], bool) or int(params["n_random"]) < 0:
        raise ValueError(f"n_random must be an integer >= 0, got {params['n_random']!r}")
    check_positive("distinct", params["distinct"])
    thr = check_positive("icl_threshold", params["icl_threshold"])
    if thr > 1.0:
        raise ValueError(f"icl_threshold must lie in (0, 1], got {thr!r}")
    check_positive_int("gibbs_sweeps", params["gibbs_sweeps"])
    if params["gibbs_sweeps"] < 16:
        raise ValueError(f"gibbs_sweeps must be at least 16, got {params['gibbs_sweeps']!r}")
    check_positive_int("gibbs_chains", params["gibbs_chains"])
    thermo_ladder(1.0, params["ladder_min"], params["ladder_ratio"])
    if check_positive("rhat_tol", params["rhat_tol"]) <= 1.0:
        raise ValueError(f"rhat_tol must be > 1, got {params['rhat_tol']!r}")
    if params["gibbs_max_D"] is not None:
        check_positive_int("gibbs_max_D", params["gibbs_max_D"])
    return list(priors)


def P_values(ratios, D):
    """``P = round(ratio * n_spins)`` (at least 1) for each ratio."""
    n = D * (D + 1)
    return [max(1, int(round(float(r) * n))) for r in ratios]


# -- the sweep --------------------------------------------------------------------------------

_BRANCH_FLOAT = ("free_energy_per_spin", "energy_per_spin", "entropy_per_spin",
                 "contrast_ratio_w11")
_GIBBS = ("gibbs_free_energy_per_spin", "gibbs_free_energy_err", "gibbs_energy_per_spin",
          "gibbs_entropy_per_spin", "gibbs_log_z", "gibbs_log_z_err", "gibbs_contrast_ratio_w11",
          "gibbs_rhat_max", "gibbs_swap_acceptance_min")


def _tap_series(models, beta, params, streams, name, Ps):
    """find_states over the P series: an ascending pass continuing the states of the next
    smaller P, a descending pass continuing those of the next larger P; merged per P."""
    kw = dict(solver="tap", tol=float(params["tol"]), max_iter=int(params["max_iter"]),
              distinct=float(params["distinct"]), damping=params["damping"])
    distinct = float(params["distinct"])
    found = [None] * len(Ps)
    prev = []
    for i, model in enumerate(models):
        inits = [(f"up:P={Ps[i - 1]}#{k}", (s.mean, s.var)) for k, s in enumerate(prev)]
        found[i] = find_states(model, beta, seed=_stream(streams["init"], "tap", Ps[i], name,
                                                         beta),
                               n_random=int(params["n_random"]), inits=inits, **kw)
        prev = found[i]
    for i in range(len(Ps) - 2, -1, -1):
        above = found[i + 1]
        if not above:
            continue
        inits = [(f"down:P={Ps[i + 1]}#{k}", (s.mean, s.var)) for k, s in enumerate(above)]
        new = find_states(models[i], beta, n_random=0, inits=inits, **kw)
        # the prior and ICL starts of this call repeat the ascending pass's: keep only new
        # states reached from a continuation start
        new = [s for s in new if any(str(t).startswith("down:") for t in s.info["inits"])]
        found[i] = _merge(found[i], new, distinct)
    return found


def point(params, values, streams):
    """One (D, seed): every P, prior and beta on one task stream."""
    priors = _check(params)
    D, N = int(values["D"]), int(params["N"])
    n = D * (D + 1)
    ratios = [float(r) for r in params["P_over_n"]]
    order = np.argsort(ratios)
    Ps = P_values(ratios, D)
    betas = [float(b) for b in params["beta"]]
    thr = float(params["icl_threshold"])
    max_D = params["gibbs_max_D"]
    method = params.get("sampler", "tokens")
    H, y = sample_tasks(D, N, max(Ps), seed=streams["train"], method=method).feature_arrays()
    nP, nb, npr, nB = len(Ps), len(betas), len(priors), len(BRANCHES)
    out = {"P": np.array(Ps, dtype=np.int64),
           "branch_exists": np.zeros((nP, npr, nb, nB), dtype=np.int64),
           "branch_n_states": np.zeros((nP, npr, nb, nB), dtype=np.int64),
           "negative_cavity": np.full((nP, npr, nb, nB), -1, dtype=np.int64),
           "branch_inits": np.full((nP, npr, nb, nB), "", dtype=object),
           "exact_contrast_ratio_w11": np.full(nP, np.nan),
           "gibbs_reason": np.full((nP, npr, nb), "", dtype=object)}
    for key in _BRANCH_FLOAT:
        out[key] = np.full((nP, npr, nb, nB), np.nan)
    for key in ("exact_free_energy_per_spin", "exact_energy_per_spin",
                "exact_entropy_per_spin"):
        out[key] = np.full((nP, nb), np.nan)
    for key in _GIBBS:
        out[key] = np.full((nP, npr, nb), np.nan)
    moments = {}
    for i in order:
        # the moments of the first P sequences, built afresh for every P
        moments[i] = feature_moments(H[:Ps[i]], y[:Ps[i]])
    for j, name in enumerate(priors):
        prior = make_prior(name, params, D, N)
        lam = prior.lam if name == "gaussian" else 0.0
        models = {}
        for i in order:
            Q, h, y2 = moments[i]
            P = Ps[i]
            models[i] = SpinModel(D, lam, h, Q, H=H[:P], y=y[:P], y_sq_mean=y2, prior=prior)
        for k, beta in enumerate(betas):
            if name == "gaussian":
                for i in order:
                    r = solve_exact(models[i], beta, variances=False)
                    out["exact_free_energy_per_spin"][i, k] = r.free_energy / n
                    out["exact_energy_per_spin"][i, k] = r.energy / n
                    out["exact_entropy_per_spin"][i, k] = r.entropy / n
                    out["exact_contrast_ratio_w11"][i] = w11_contrast(r.mean, D)
            series = _tap_series([models[i] for i in order], beta, params, streams, name,
                                 [Ps[i] for i in order])
            for i, states in zip(order, series):
                split = classify(states, D, thr)
                for b, branch in enumerate(BRANCHES):
                    members = split[branch]
                    out["branch_n_states"][i, j, k, b] = len(members)
                    if not members:
                        continue
                    s = members[0]  # lowest free energy of the branch
                    slot = (i, j, k, b)
                    out["branch_exists"][slot] = 1
                    out["free_energy_per_spin"][slot] = s.free_energy / n
                    out["energy_per_spin"][slot] = s.energy / n
                    out["entropy_per_spin"][slot] = s.entropy / n
                    out["contrast_ratio_w11"][slot] = w11_contrast(s.mean, D)
                    out["negative_cavity"][slot] = int(s.info.get("negative_cavity", -1))
                    out["branch_inits"][slot] = ",".join(map(str, s.info["inits"]))
            for i in order:
                if name == "gaussian" or (max_D is not None and D > max_D):
                    out["gibbs_reason"][i, j, k] = (SKIP_GIBBS_GAUSSIAN if name == "gaussian"
                                                    else "skipped: D > gibbs_max_D")
                    continue
                _gibbs(out, (i, j, k), models[i], beta, params,
                       _stream(streams["init"], "gibbs", Ps[i], name, beta), n, D)
    out["branch_inits"] = out["branch_inits"].astype(str)
    out["gibbs_reason"] = out["gibbs_reason"].astype(str)
    return out


def _gibbs(out, slot, model, beta, params, seed, n, D):
    ladder = thermo_ladder(beta, params["ladder_min"], params["ladder_ratio"])
    r = sample_gibbs(model, beta, int(params["gibbs_sweeps"]), int(params["gibbs_chains"]),
                     seed=seed, betas=ladder)
    out["gibbs_log_z"][slot] = r.log_z
    out["gibbs_log_z_err"][slot] = r.log_z_err
    out["gibbs_free_energy_per_spin"][slot] = r.free_energy / n
    out["gibbs_free_energy_err"][slot] = r.log_z_err / (beta * n)
    out["gibbs_energy_per_spin"][slot] = r.energy / n
    out["gibbs_entropy_per_spin"][slot] = r.entropy / n
    out["gibbs_contrast_ratio_w11"][slot] = w11_contrast(r.mean, D)
    out["gibbs_rhat_max"][slot] = float(np.max(r.rhat))
    if r.swap_acceptance is not None:
        out["gibbs_swap_acceptance_min"][slot] = float(np.min(r.swap_acceptance))
    out["gibbs_reason"][slot] = str(r.info.get("thermo_reason") or "")


def variables(params):
    pb = ("P_over_n", "prior", "beta")
    br = pb + ("branch",)
    v = {"P": Var(("P_over_n",), "task diversity P = round(P_over_n * n_spins)", "1", "i"),
         "branch_exists": Var(br, "TAP found a certified fixed point of this branch (1) or "
                                  "not (0)", "1", "i"),
         "branch_n_states": Var(br, "number of distinct certified TAP states in this branch",
                                "1", "i"),
         "free_energy_per_spin": Var(br, "TAP free energy per spin, -log Z / (beta n_spins), "
                                         "of the branch's lowest state"),
         "energy_per_spin": Var(br, "TAP energy per spin, <E> / n_spins, of the branch's "
                                    "lowest state"),
         "entropy_per_spin": Var(br, "TAP entropy per spin, (log Z + beta <E>) / n_spins, "
                                     "of the branch's lowest state"),
         "contrast_ratio_w11": Var(br, "W11 contrast ratio of the branch's lowest TAP state"),
         "negative_cavity": Var(br, "spins with a negative cavity precision at the branch's "
                                    "lowest state (-1: no state)", "1", "i"),
         "branch_inits": Var(br, "starts that reached the branch's lowest state (prior, icl, "
                                 "random<k>, up:P=<P>#<k>, down:P=<P>#<k>)", "1", "s"),
         "exact_free_energy_per_spin": Var(("P_over_n", "beta"), "exact free energy per spin "
                                           "of the Gaussian prior's measure"),
         "exact_energy_per_spin": Var(("P_over_n", "beta"), "exact energy per spin of the "
                                      "Gaussian prior's measure"),
         "exact_entropy_per_spin": Var(("P_over_n", "beta"), "exact (differential) entropy "
                                       "per spin of the Gaussian prior's measure"),
         "exact_contrast_ratio_w11": Var(("P_over_n",), "W11 contrast ratio of the exact "
                                         "Gaussian (ridge) solution"),
         "gibbs_free_energy_per_spin": Var(pb, "Gibbs free energy per spin, -log Z / (beta "
                                               "n_spins), thermodynamic integration"),
         "gibbs_free_energy_err": Var(pb, "standard error of gibbs_free_energy_per_spin "
                                          "(batch spread; no quadrature error)"),
         "gibbs_energy_per_spin": Var(pb, "Gibbs energy per spin <E> / n_spins"),
         "gibbs_entropy_per_spin": Var(pb, "Gibbs entropy per spin (log Z + beta <E>) / "
                                           "n_spins"),
         "gibbs_log_z": Var(pb, "Gibbs log Z by thermodynamic integration from beta = 0"),
         "gibbs_log_z_err": Var(pb, "standard error of gibbs_log_z"),
         "gibbs_contrast_ratio_w11": Var(pb, "W11 contrast ratio of the Gibbs means"),
         "gibbs_rhat_max": Var(pb, "largest split R-hat over the spins (Gibbs)"),
         "gibbs_swap_acceptance_min": Var(pb, "smallest swap acceptance between adjacent "
                                              "replicas (Gibbs)"),
         "gibbs_reason": Var(pb, "why the Gibbs thermodynamics are NaN (empty: defined)",
                             "1", "s")}
    return v


def coords(params):
    priors = _check(params)
    return {"P_over_n": ([float(r) for r in params["P_over_n"]],
                         "task diversity per spin P / n_spins", "1"),
            "beta": ([float(b) for b in params["beta"]], "inverse temperature beta", "1"),
            "prior": (priors, "weight prior (gaussian: ridge lam; ternary: {-a, 0, a} with "
                              "P(0) = p0; binary: {-a, a})", "1"),
            "branch": (list(BRANCHES), "TAP branch (icl: W11 contrast ratio >= icl_threshold; "
                                       "other: the lowest free energy state below it)", "1")}


def _attrs(long_name, units="1"):
    return {"long_name": long_name, "units": units}


def _seed_stats(ds, name, values, dims, long_name):
    """Store ``values`` (dims with seed) and its seed mean, sd and count."""
    ds[name] = (dims, values, _attrs(long_name + " (units of P / n_spins)"))
    axis = dims.index("seed")
    n = np.isfinite(values).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(values, axis=axis) / np.where(n > 0, n, np.nan)
        sd = np.sqrt(np.nansum((values - np.expand_dims(mean, axis)) ** 2, axis=axis)
                     / np.where(n > 1, n - 1, np.nan))
    rest = tuple(d for d in dims if d != "seed")
    ds[name + "_mean"] = (rest, mean, _attrs(f"seed mean of {name} (finite seeds)"))
    ds[name + "_sd"] = (rest, sd, _attrs(f"seed standard deviation of {name}"))
    ds[name + "_count"] = (rest, n.astype(np.int64), _attrs(f"seeds with a finite {name}"))


def finalize(ds, params):
    import xarray as xr

    xr_where = xr.where
    thr = float(params["icl_threshold"])
    ds = ds.transpose("D", "seed", "P_over_n", ...)
    x = np.asarray(ds.P_over_n.values, dtype=float)
    order = np.argsort(x)
    xs = x[order]
    dims4 = ("D", "seed", "prior", "beta")
    ex = ds.branch_exists.transpose("D", "seed", "prior", "beta", "P_over_n", "branch").values
    f = ds.free_energy_per_spin.transpose("D", "seed", "prior", "beta", "P_over_n",
                                          "branch").values
    g = ds.gibbs_contrast_ratio_w11.where(ds.gibbs_rhat_max <= float(params["rhat_tol"]))
    g = g.transpose("D", "seed", "prior", "beta", "P_over_n").values
    ex, f, g = ex[..., order, :], f[..., order, :], g[..., order]
    shape = ex.shape[:4]
    sp_icl, sp_other = np.full(shape, np.nan), np.full(shape, np.nan)
    trans, g_on = np.full(shape, np.nan), np.full(shape, np.nan)
    for idx in np.ndindex(shape):
        icl, oth = ex[idx][:, 0] == 1, ex[idx][:, 1] == 1
        if icl.any():
            sp_icl[idx] = xs[np.argmax(icl)]
        if oth.any():
            sp_other[idx] = xs[len(xs) - 1 - np.argmax(oth[::-1])]
        trans[idx] = crossing(xs, f[idx][:, 0] - f[idx][:, 1], "down")
        g_on[idx] = crossing(xs, g[idx] - thr, "up")
    _seed_stats(ds, "spinodal_icl", sp_icl, dims4,
                "smallest P / n_spins where the TAP ICL branch exists")
    _seed_stats(ds, "spinodal_other", sp_other, dims4,
                "largest P / n_spins where a non-ICL TAP branch exists")
    _seed_stats(ds, "transition", trans, dims4,
                "thermodynamic transition: first P where f_icl - f_other falls to <= 0, "
                "linear in P (NaN: no crossing in range)")
    _seed_stats(ds, "gibbs_icl_onset", g_on, dims4,
                f"first upward crossing of the Gibbs W11 contrast ratio through {thr:g}, "
                f"linear in P, over runs with split R-hat <= {float(params['rhat_tol']):g}")
    # the equilibrium TAP state: the branch of lower (finite) free energy
    fe = ds.free_energy_per_spin
    other_wins = (fe.sel(branch="other") < fe.sel(branch="icl")) | fe.sel(branch="icl").isnull()
    eq = xr_where(other_wins, ds.contrast_ratio_w11.sel(branch="other"),
                  ds.contrast_ratio_w11.sel(branch="icl"))
    eq = eq.where(fe.notnull().any("branch"))
    ds["equilibrium_contrast_ratio_w11"] = eq.transpose("D", "seed", "P_over_n", "prior",
                                                        "beta").assign_attrs(_attrs(
        "W11 contrast ratio of the TAP state of lowest free energy (NaN: no state with a "
        "free energy)"))
    e = ds.equilibrium_contrast_ratio_w11.transpose("D", "seed", "prior", "beta",
                                                    "P_over_n").values[..., order]
    t_on = np.full(shape, np.nan)
    for idx in np.ndindex(shape):
        t_on[idx] = crossing(xs, e[idx] - thr, "up")
    _seed_stats(ds, "tap_icl_onset", t_on, dims4,
                f"first upward crossing of the equilibrium TAP state's W11 contrast ratio "
                f"through {thr:g}, linear in P")
    cr = ds.exact_contrast_ratio_w11.transpose("D", "seed", "P_over_n").values[..., order]
    ridge = np.full(cr.shape[:2], np.nan)
    for idx in np.ndindex(ridge.shape):
        ridge[idx] = crossing(xs, cr[idx] - thr, "up")
    _seed_stats(ds, "ridge_onset", ridge, ("D", "seed"),
                f"first upward crossing of the exact Gaussian (ridge) W11 contrast ratio "
                f"through {thr:g}, linear in P")
    ds["prior_a"] = (("D",), np.array([prior_scale(params, int(D), int(params["N"]))
                                       for D in ds.D.values]),
                     _attrs("support scale a of the ternary and binary priors"))
    ds.attrs["icl_threshold"] = thr
    return ds


EXPERIMENT = Experiment(
    name="thermodynamics",
    title="Free energy, energy and entropy of the ICL and other TAP branches (Fig. Th)",
    figure="Fig. Th", presets={"quick": QUICK, "paper": PAPER}, sweep=("D",), point=point,
    variables=variables, coords=coords, finalize=finalize, inner=("P_over_n", "beta"))
