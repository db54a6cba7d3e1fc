"""Experiments: one module per paper figure, registered by name (docs/experiments.rst, section
Experiments).

Each module defines an :class:`Experiment`: presets (``quick``: under a minute on two
cores; ``paper``: the paper's parameters), the swept parameters (dimensions of the stored
Dataset, plus ``seed``), a pure ``point(params, values, streams) -> dict`` and the stored
variables with their dims, long_name and units. :func:`run_experiment` runs the sweep
(:mod:`sgphys.sweep`), assembles an ``xarray.Dataset`` and writes it to netCDF
(:mod:`sgphys.io`).
"""

from __future__ import annotations

import fractions
import importlib
import json
import math
import numbers
import os
import sys
import time
import warnings

import numpy as np

from .. import io
from ..registry import get_solver, settings_of, solver_kwargs, solver_names
from .._validate import (_short, as_scalar, check_bool, check_fraction, check_memory,
                         check_nonnegative, check_positive, check_positive_int, memory_limit)
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


def normalise(value):
    """``value`` with every number as a plain Python ``int`` or ``float`` (NumPy scalars,
    0-d arrays, fractions), arrays and tuples as lists and dict values normalised, so
    parameters compare, hash and serialise (JSON) the same whatever their source types.
    Anything else (strings, booleans, complex, objects) is returned unchanged for the
    checks to judge."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return as_scalar(value)
        if value.dtype.kind in "biuf":
            return value.tolist()
        return [normalise(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    value = as_scalar(value)
    if isinstance(value, fractions.Fraction) or (
            isinstance(value, numbers.Real) and not isinstance(value, (int, float, bool))):
        try:
            return float(value)
        except (OverflowError, ValueError, TypeError):
            return value
    return value


def _check_seed(name, value):
    value = as_scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {_short(value)}")
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
    if not isinstance(preset, str) or preset not in exp.presets:
        raise ValueError(f"preset must be one of {sorted(exp.presets)}, got {_short(preset)}")
    params = json.loads(json.dumps(exp.presets[preset]))
    overrides = {k: normalise(v) for k, v in dict(overrides or {}).items()}
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
            raise ValueError(f"{key} must be a list of numbers, got {_short(vals)}")
        if key in ("D", "N", "P"):
            if not all(isinstance(v, numbers.Integral) and v >= 1 for v in vals):
                raise ValueError(f"{key} must be a list of positive integers, got "
                                 f"{_short(vals)}")
        if not all(math.isfinite(v) for v in vals if not isinstance(v, numbers.Integral)):
            raise ValueError(f"{key} must be a list of finite numbers, got {_short(vals)}")
        if len(set(vals)) != len(vals):
            raise ValueError(f"{key} has repeated values: {_short(vals)}")
    seeds = params.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, numbers.Integral) or seeds < 1:
        raise ValueError(f"seeds must be a positive integer, got {_short(seeds)}")
    check_positive_int("seeds", seeds)
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
    try:
        _params_json(params)
    except (TypeError, ValueError):
        bad = [k for k, v in params.items() if not _serialisable(v)]
        raise ValueError(f"parameter(s) {bad} must be numbers, strings, booleans or lists "
                         "of them") from None
    # memory: every size the parameters imply, before the coords allocate anything
    _check_sizes(exp, params)
    # the experiment's own checks (its coords validate its parameters) before any point
    coords = exp.coords(params)
    _check_stored_size(exp, params, coords)
    return params


def _serialisable(value):
    try:
        _params_json(value)
    except (TypeError, ValueError):
        return False
    return True


#: integer parameters that never size an array (the experiment seed)
_NOT_SIZES = frozenset({"seed"})


def _point_model_bytes(exp, params):
    """Bytes of one point's spin model (:func:`_check_sizes`), or the experiment's own
    :attr:`Experiment.point_bytes`; 0 without either."""
    if exp.point_bytes is not None:
        return int(exp.point_bytes(params))
    if not exp.spin_model or "D" not in params:
        return 0
    Ds = params["D"] if isinstance(params["D"], list) else [params["D"]]
    n = max(Ds) * (max(Ds) + 1)
    Ps = params.get("P")
    Ps = [p for p in (Ps if isinstance(Ps, list) else [Ps]) if isinstance(p, numbers.Integral)]
    return 8 * 3 * n * n + 8 * max(Ps, default=0) * n


def _check_sizes(exp, params):
    """Refuse (ValueError naming the parameter and the memory needed) sizes that cannot
    fit :func:`sgphys._validate.memory_limit`: every integer parameter as a length of
    doubles (a coordinate's lower bound), and with :attr:`Experiment.spin_model` one
    point's spin model of the largest D (its couplings, 3 n_spins^2 doubles, and the P x
    n_spins features). The limit is read once here, so a bad ``SGPHYS_MAX_MEMORY`` stops
    the run before its first point."""
    memory_limit()
    for key, value in params.items():
        values = value if isinstance(value, list) else [value]
        ints = [v for v in values if isinstance(v, numbers.Integral) and not isinstance(v, bool)]
        if ints and key not in _NOT_SIZES:
            big = max(ints)
            check_memory(key, big, 8 * big, f"an array of {key} doubles")
    if not exp.spin_model or "D" not in params:
        return
    Ds = params["D"] if isinstance(params["D"], list) else [params["D"]]
    D = max(Ds)
    n = D * (D + 1)
    model = 8 * 3 * n * n
    check_memory("D", D, model, f"one point's spin model (3 n_spins^2 doubles of couplings, "
                 f"n_spins = D(D+1) = {n})")
    Ps = params.get("P")
    Ps = Ps if isinstance(Ps, list) else [Ps]
    Ps = [p for p in Ps if isinstance(p, numbers.Integral)]
    if Ps:
        P = max(Ps)
        check_memory("P", P, model + 8 * P * n, f"one point's spin model with D={D} "
                     f"(couplings and the P x n_spins features, n_spins = {n})")


def _check_stored_size(exp, params, coords):
    """Refuse a sweep whose stored results (every variable over the swept dims, seeds and
    its own dims; held per point, assembled and encoded: ~3 copies) exceed the memory
    limit, naming the sizes."""
    sizes = {d: len(params[d]) for d in exp.sweep}
    sizes["seed"] = params["seeds"]
    base = math.prod(sizes.values())
    extra = {d: len(v[0]) for d, v in coords.items()}
    total, largest = 0, None
    for name, var in exp.variables(params).items():
        shape = tuple(sizes.values()) + tuple(extra.get(d, 1) for d in var.dims)
        nbytes = base * math.prod(extra.get(d, 1) for d in var.dims) * (
            64 if var.kind == "s" else 8)
        total += nbytes
        if largest is None or nbytes > largest[1]:
            largest = (name, nbytes, shape)
    if largest is not None:
        dims = {**sizes, **{d: extra[d] for d in exp.variables(params)[largest[0]].dims
                            if d in extra}}
        check_memory("sizes", dims, 3 * total,
                     f"the sweep's results (largest: {largest[0]} of shape {largest[2]})")


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
        Parameter preset; ``overrides`` use the documented parameter names (lists for swept ones,
        ``seeds`` = number of seeds, ``solvers`` = list of solver names, ``seed`` = the
        experiment seed).
    workers : int
        Process-pool size (or LocalCluster size with ``scheduler="local"``).
    scheduler : str, optional
        ``"local"`` or the address of a dask.distributed scheduler.
    out : path, optional
        netCDF output: a regular file or a path that does not exist (a symbolic link is
        followed to the regular file it names, which is replaced; see
        :func:`sgphys.io.check_output_path`). Finished points are kept in
        ``<out>.partial/`` until the file is written, so an interrupted run resumes where
        it stopped; a complete file with the same parameters, code and a valid checksum is
        returned without recomputing (unless ``reuse`` is False). A file whose checksum
        does not match, or that cannot be read, is reported (a warning), moved aside to
        ``<out>.corrupt`` and recomputed.
    resume : bool
        False discards finished points of an earlier interrupted run (and recomputes a
        complete file).
    reuse : bool
        False recomputes a complete file with the same parameters (finished points of an
        interrupted run are still kept unless ``resume`` is False).
    progress : bool or "text", optional
        tqdm bar over points; default on only when stderr is a terminal. ``"text"``: whole
        lines on stderr (start, every ~10 %, finish), for logs.

    Raises
    ------
    ValueError
        Bad parameters, ``out`` or sizes beyond the memory limit (checked before the first
        point runs, :data:`PARAM_CHECKS`, :func:`sgphys._validate.memory_limit`).
    sgphys.sweep.SweepLocked
        Another sweep is writing ``out``.
    """
    exp = get_experiment(name)
    if out is not None:  # the output first: nothing is computed for a path it cannot write
        out = _check_out(out)
    workers = as_scalar(workers)
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {_short(workers)}")
    workers = check_positive_int("workers", workers)
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ValueError(f"scheduler must be None, 'local' or a dask scheduler address, got "
                         f"{_short(scheduler)}")
    resume = check_bool("resume", resume)
    reuse = check_bool("reuse", reuse)
    if not (progress is None or isinstance(progress, (bool, np.bool_))
            or (isinstance(progress, str) and progress == "text")):
        raise ValueError(f"progress must be None, True, False or 'text', got {_short(progress)}")
    progress = bool(progress) if isinstance(progress, np.bool_) else progress
    params = resolve_params(exp, preset, overrides)
    if workers > 1 and scheduler is None:  # a pool runs `workers` points at once here
        check_memory("workers", workers, workers * _point_model_bytes(exp, params),
                     f"{workers} points at once (each "
                     + ("its model's memory at the largest sizes)" if exp.point_bytes
                        else "a spin model of the largest D)"))
    experiment_seed = int(params.get("seed", 0))
    if out is None:
        return _run(exp, name, preset, params, experiment_seed, None, resume, workers,
                    scheduler, progress)
    with OutputLock(out):
        io.remove_leftovers(out)  # temporary files of a killed save (ours: we hold the lock)
        if resume and reuse and os.path.exists(out):
            old = _reusable(out, params, name)
            if old is not None:
                return old
        return _run(exp, name, preset, params, experiment_seed, out, resume, workers,
                    scheduler, progress)


def _check_out(out):
    """The netCDF path to write for ``out`` (its target if a symbolic link), its lock file
    and point store checked too (ValueError naming ``out``)."""
    path = io.check_output_path("out", out)
    for suffix, want_dir in ((".lock", False), (".partial", True)):
        side = path + suffix
        if os.path.lexists(side):
            mode = os.lstat(side).st_mode
            import stat

            ok = stat.S_ISDIR(mode) if want_dir else stat.S_ISREG(mode)
            if not ok:
                raise ValueError(f"out={os.fspath(out)!r}: {side!r} (its "
                                 f"{'point store' if want_dir else 'lock file'}) exists and "
                                 f"is not a {'directory' if want_dir else 'regular file'}")
    return path


def _reusable(out, params, experiment):
    """The finished file ``out`` if its key (experiment, parameters, code) is this run's
    and its checksum matches, else None. Another run's file (another key) is left to be
    overwritten; a file that cannot be read, or that claims this key but fails its
    checksum (or has none), is reported, moved aside to ``<out>.corrupt`` and None
    returned."""
    try:
        old = io.load(out)
    except ValueError as exc:
        old, problem = None, f"unreadable ({exc})"
    else:
        if (old.attrs.get("experiment") != experiment
                or old.attrs.get("parameters") != _params_json(params)
                or old.attrs.get("code_version") != code_version()):
            return None
        problem = io.verify(old)
        if problem is None:
            return old
    aside = out + ".corrupt"
    os.replace(out, aside)
    warnings.warn(f"{out}: {problem}; moved to {aside} and recomputed", RuntimeWarning,
                  stacklevel=3)
    return None


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
    done = False
    try:
        results = run_points(name, params, points, store, workers=workers, scheduler=scheduler,
                             progress=progress, experiment_seed=experiment_seed,
                             point=exp.point)
        t0 = time.perf_counter()
        ds = _assemble(exp, params, points, results)
        t_assembly = time.perf_counter() - t0
        ds.attrs.update(io.provenance(name, preset, params, params.get("solvers", ()),
                                      params["seeds"], title=exp.title,
                                      extra={"figure": exp.figure,
                                             "experiment_seed": experiment_seed,
                                             "code_version": code_version(),
                                             "failed_points": int((ds.status.values != 1).sum()),
                                             "solver_settings": json.dumps(
                                                 _solver_settings(params), sort_keys=True)}))
        ds.attrs["parameters"] = _params_json(params)
        ds = io.stamp(ds)
        t0 = time.perf_counter()
        if out is not None:
            io.save(ds, out)
            store.remove()
        _report_split(name, progress, t_assembly, time.perf_counter() - t0)
        done = True
    finally:
        if tmp is not None:
            store.remove()
        elif not done:
            store.remove_if_empty()  # e.g. a bad scheduler address: no empty store left
    return ds


def _report_split(name, progress, t_assembly, t_save):
    """Complete the sweep's time split (:func:`sgphys.sweep.last_time_split`) with the
    dataset's assembly and file, and print it with the progress (stderr)."""
    from .. import sweep
    from ..timing import format_split

    split = sweep._last_split
    if not split:
        return
    split["assembly"] = t_assembly
    split["I/O"] = split.get("I/O", 0.0) + t_save
    split["wall"] = split.get("wall", 0.0) + t_assembly + t_save
    if progress or (progress is None and sys.stderr.isatty()):
        workers = split.get("workers", 1)
        shown = {k: v for k, v in split.items() if k != "workers"}
        print(f"{name}: {format_split(shown)} (point phases summed over the points"
              f"{f', {workers} workers' if workers > 1 else ''})", file=sys.stderr, flush=True)


def _params_json(params):
    return json.dumps(params, sort_keys=True)


def _solver_settings(params):
    return {s: solver_kwargs(s, params) for s in params.get("solvers", ())}
