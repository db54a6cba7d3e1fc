"""Experiments: one module per paper figure, registered by name (SPEC section 7).

Each module defines an :class:`Experiment`: presets (``quick``: under a minute on two
cores; ``paper``: the paper's parameters), the swept parameters (dimensions of the stored
Dataset, plus ``seed``), a pure ``point(params, values, streams) -> dict`` and the stored
variables with their dims, long_name and units. :func:`run_experiment` runs the sweep
(:mod:`sgphys.sweep`), assembles an ``xarray.Dataset`` and writes it to netCDF
(:mod:`sgphys.io`).
"""

from __future__ import annotations

import importlib
import json
import numbers
import os

import numpy as np

from .. import io
from ..registry import get_solver, settings_of, solver_kwargs, solver_names
from .._validate import (check_fraction, check_nonnegative, check_positive,
                         check_positive_int)
from ..sweep import OutputLock, PointStore, code_version, make_points, run_points
from ._base import DIM_LABELS, Experiment, Var

__all__ = ["Experiment", "Var", "run_experiment", "list_experiments", "get_experiment",
           "resolve_params", "SOLVERS"]

#: module names of the registered experiments, in paper order
_MODULES = ("couplings", "weights", "landscape", "phase_diagram", "prompt_length", "separated",
            "coupling_kl", "resampled", "correlated", "hessian", "architectures", "finite_size",
            "task_pool", "quantized", "thermodynamics")

#: names of the registered solvers (:mod:`sgphys.registry`)
SOLVERS = solver_names()

_REGISTRY: dict = {}


def list_experiments():
    """Names of the registered experiments, in the paper's figure order."""
    return list(_MODULES)


def get_experiment(name) -> Experiment:
    if not isinstance(name, str) or name not in _MODULES:
        raise ValueError(f"experiment must be one of {list(_MODULES)}, got {name!r}")
    if name not in _REGISTRY:
        module = importlib.import_module(f".{name}", __name__)
        _REGISTRY[name] = module.EXPERIMENT
    return _REGISTRY[name]


def _check_seed(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def _check_positive_or_none(name, value):
    return None if value is None else check_positive_int(name, value)


#: checks of the parameters experiments share, applied to fixed values and to every value of
#: a swept list before the first point runs (ValueError naming the parameter)
PARAM_CHECKS = {
    "D": check_positive_int, "N": check_positive_int, "P": check_positive_int,
    "P_test": check_positive_int, "epochs": check_positive_int, "bins": check_positive_int,
    "heads": check_positive_int, "n_samples": check_positive_int,
    "max_components": check_positive_int, "batch_size": _check_positive_or_none,
    "lam": check_nonnegative, "lam_train": check_nonnegative, "noise": check_nonnegative,
    "beta": check_positive, "lr": check_positive, "zero_atol": check_positive,
    "alpha": check_positive, "corr": check_fraction, "seed": _check_seed,
    "n_tasks": check_positive_int, "tau": check_positive, "N_per_D": check_positive,
}


def resolve_params(exp: Experiment, preset="quick", overrides=None) -> dict:
    """The preset's parameters with overrides applied and checked.

    Swept parameters become lists (a scalar override is a one-value sweep); unknown keys
    and bad values raise ValueError naming the key.
    """
    if preset not in exp.presets:
        raise ValueError(f"preset must be one of {sorted(exp.presets)}, got {preset!r}")
    params = json.loads(json.dumps(exp.presets[preset]))
    overrides = dict(overrides or {})
    runs_solvers = "solvers" in params
    if "solvers" in overrides and runs_solvers:
        params["solvers"] = overrides.pop("solvers")
    all_settings = settings_of(SOLVERS) if runs_solvers else {}
    for key, value in overrides.items():
        if key not in params and key not in all_settings:
            known = sorted(set(params) | set(all_settings))
            raise ValueError(f"unknown parameter {key!r} for experiment {exp.name!r}; "
                             f"known: {known}")
        if key in exp.sweep or key in exp.inner:
            value = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
            if not value:
                raise ValueError(f"{key} must list at least one value")
        params[key] = value
    for key in exp.sweep + tuple(exp.inner):
        vals = params[key]
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in vals):
            raise ValueError(f"{key} must be a list of numbers, got {vals!r}")
        if key in ("D", "N", "P"):
            if not all(isinstance(v, numbers.Integral) and v >= 1 for v in vals):
                raise ValueError(f"{key} must be a list of positive integers, got {vals!r}")
        if len(set(vals)) != len(vals):
            raise ValueError(f"{key} has repeated values: {vals!r}")
    seeds = params.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, numbers.Integral) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    for key, check in PARAM_CHECKS.items():
        if key in params:
            listed = key in exp.sweep or key in exp.inner
            for value in (params[key] if listed else [params[key]]):
                check(key, value)
    if runs_solvers:
        solvers = params["solvers"]
        if isinstance(solvers, str):
            solvers = [solvers]
        if not isinstance(solvers, (list, tuple)) or not solvers \
                or any(s not in SOLVERS for s in solvers):
            raise ValueError(f"solvers must be a non-empty list from {list(SOLVERS)}, "
                             f"got {solvers!r}")
        if "exact" not in solvers:  # the reference is always stored beside the others
            solvers = ["exact"] + list(solvers)
        params["solvers"] = list(solvers)
        used = settings_of(solvers)
        stray = sorted(k for k in overrides if k in all_settings and k not in used
                       and k not in exp.presets[preset])
        if stray:
            owners = {k: [n for n in SOLVERS if k in get_solver(n).defaults()] for k in stray}
            raise ValueError(f"{', '.join(stray)}: setting(s) of solver(s) {owners} that this "
                             f"run does not use (solvers={params['solvers']})")
        for key, default in used.items():
            params.setdefault(key, default)
        for name in params["solvers"]:  # every setting checked before the first point
            solver_kwargs(name, params)
    # the experiment's own checks (its coords validate its parameters) before any point
    exp.coords(params)
    return params


def _place(array, idx, value, experiment, name):
    """Put one point's value into its slot. A value padded for another grid (e.g. NaN-padded
    to another largest D, then resumed into this grid) fits when what does not overlap is
    padding; anything else is an error."""
    slot = array[idx]
    value = np.asarray(value)
    if np.shape(slot) == value.shape:
        array[idx] = value
        return
    if np.ndim(slot) != value.ndim:
        raise ValueError(f"experiment {experiment!r}: {name} has shape {value.shape}, its slot "
                         f"{np.shape(slot)}")
    common = tuple(slice(0, min(a, b)) for a, b in zip(np.shape(slot), value.shape))
    rest = value.copy()
    rest[common] = np.nan if value.dtype.kind == "f" else rest[common]
    if value.dtype.kind != "f" or np.isfinite(rest).any():
        raise ValueError(f"experiment {experiment!r}: {name} has shape {value.shape}, its slot "
                         f"{np.shape(slot)} (not padding)")
    slot[common] = value[common]


def _assemble(exp, params, points, results):
    import xarray as xr

    n_seeds = params["seeds"]
    sweep_shape = tuple(len(params[d]) for d in exp.sweep) + (n_seeds,)
    base_dims = tuple(exp.sweep) + ("seed",)
    extra = exp.coords(params)
    variables = exp.variables(params)
    arrays = {}
    for name, var in variables.items():
        shape = sweep_shape + tuple(len(extra[d][0]) for d in var.dims)
        if var.kind == "f":
            arrays[name] = np.full(shape, np.nan)
        elif var.kind == "i":
            arrays[name] = np.full(shape, -1, dtype=np.int64)
        else:
            arrays[name] = np.full(shape, "", dtype=object)
    status = np.zeros(sweep_shape, dtype=np.int8)
    error = np.full(sweep_shape, "", dtype=object)
    for p, res in zip(points, results):
        idx = np.unravel_index(p.index, sweep_shape[:-1]) + (p.seed_index,)
        status[idx] = int(res["__status__"])
        if status[idx] != 1:
            error[idx] = str(res["__error__"])
            continue
        for name in variables:
            if name not in res:
                raise ValueError(f"experiment {exp.name!r}: point result lacks {name!r}")
            value = res[name]
            _place(arrays[name], idx, value.astype(object) if variables[name].kind == "s"
                   else value, exp.name, name)
    data_vars = {}
    for name, var in variables.items():
        arr = arrays[name].astype(str) if var.kind == "s" else arrays[name]
        data_vars[name] = (base_dims + tuple(var.dims), arr,
                           {"long_name": var.long_name, "units": var.units})
    data_vars["status"] = (base_dims, status, {
        "long_name": "point status: 1 computed, 0 raised an error (see error)", "units": "1"})
    data_vars["error"] = (base_dims, error.astype(str), {
        "long_name": "error message of a failed point (empty if none)", "units": "1"})
    coords = {}
    for d in exp.sweep:
        label, units = DIM_LABELS.get(d, (d, "1"))
        coords[d] = (d, np.asarray(params[d]), {"long_name": label, "units": units})
    coords["seed"] = ("seed", np.arange(n_seeds), {"long_name": DIM_LABELS["seed"][0], "units": "1"})
    for d, (values, long_name, units) in extra.items():
        vals = np.asarray(values)
        if vals.dtype.kind in "UO":
            vals = vals.astype(str)
        coords[d] = (d, vals, {"long_name": long_name, "units": units})
    ds = xr.Dataset(data_vars, coords=coords)
    if exp.finalize is not None:
        ds = exp.finalize(ds, params)
    return ds


def run_experiment(name, preset="quick", workers=1, scheduler=None, out=None, resume=True,
                   progress=None, reuse=True, **overrides):
    """Run an experiment's sweep and return its labelled Dataset.

    Parameters
    ----------
    name : str
        One of :func:`list_experiments`.
    preset : {"quick", "paper", ...}
        Parameter preset; ``overrides`` use SPEC's parameter names (lists for swept ones,
        ``seeds`` = number of seeds, ``solvers`` = list of solver names, ``seed`` = the
        experiment seed).
    workers : int
        Process-pool size (or LocalCluster size with ``scheduler="local"``).
    scheduler : str, optional
        ``"local"`` or the address of a dask.distributed scheduler.
    out : path, optional
        netCDF output. Finished points are kept in ``<out>.partial/`` until the file is
        written, so an interrupted run resumes where it stopped; a complete file with the
        same parameters is returned without recomputing (unless ``reuse`` is False).
    resume : bool
        False discards finished points of an earlier interrupted run (and recomputes a
        complete file).
    reuse : bool
        False recomputes a complete file with the same parameters (finished points of an
        interrupted run are still kept unless ``resume`` is False).
    progress : bool, optional
        tqdm bar over points; default on only when stderr is a terminal.

    Raises
    ------
    ValueError
        Bad parameters (checked before the first point runs, :data:`PARAM_CHECKS`).
    sgphys.sweep.SweepLocked
        Another sweep is writing ``out``.
    """
    exp = get_experiment(name)
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    params = resolve_params(exp, preset, overrides)
    experiment_seed = int(params.get("seed", 0))
    if out is None:
        return _run(exp, name, preset, params, experiment_seed, None, resume, workers,
                    scheduler, progress)
    out = os.fspath(out)
    if os.path.isdir(out):
        raise ValueError(f"out={out!r} is a directory; give the netCDF file's path")
    with OutputLock(out):
        if resume and reuse and os.path.exists(out):
            try:
                old = io.load(out)
            except ValueError:
                old = None
            if (old is not None and old.attrs.get("parameters") == _params_json(params)
                    and old.attrs.get("code_version") == code_version()):
                return old
        return _run(exp, name, preset, params, experiment_seed, out, resume, workers,
                    scheduler, progress)


def _run(exp, name, preset, params, experiment_seed, out, resume, workers, scheduler,
         progress):
    import tempfile

    points = make_points(name, exp.sweep, params, params["seeds"], experiment_seed)
    tmp = None
    if out is None:
        tmp = tempfile.mkdtemp(prefix=f"sgphys-{name}-")
        store = PointStore(tmp)
    else:
        store = PointStore(out + ".partial")
        if not resume:
            store.remove()
            store = PointStore(out + ".partial")
    try:
        results = run_points(name, params, points, store, workers=workers, scheduler=scheduler,
                             progress=progress, experiment_seed=experiment_seed,
                             point=exp.point)
        ds = _assemble(exp, params, points, results)
        ds.attrs.update(io.provenance(name, preset, params, params.get("solvers", ()),
                                      params["seeds"], title=exp.title,
                                      extra={"figure": exp.figure,
                                             "experiment_seed": experiment_seed,
                                             "code_version": code_version(),
                                             "failed_points": int((ds.status.values != 1).sum()),
                                             "solver_settings": json.dumps(
                                                 _solver_settings(params), sort_keys=True)}))
        ds.attrs["parameters"] = _params_json(params)
        if out is not None:
            io.save(ds, out)
            store.remove()
    finally:
        if tmp is not None:
            store.remove()
    return ds


def _params_json(params):
    return json.dumps(params, sort_keys=True)


def _solver_settings(params):
    return {s: solver_kwargs(s, params) for s in params.get("solvers", ())}
