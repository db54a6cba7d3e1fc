"""The ``sgphys`` command line: run experiments, draw figures, reproduce the paper.

    sgphys list                       experiments and presets
    sgphys run EXPERIMENT [--preset quick|paper] [--set key=value ...] [--out PATH]
               [--workers N | --scheduler ADDRESS] [--fresh]
    sgphys plot EXPERIMENT [PATH] [--out PNG] [--pdf] [--reference]
    sgphys reproduce [--preset quick|paper] [--data DIR] [--figures DIR] [--workers N]
                     [--reuse | --fresh]
    sgphys info PATH                  dims, variables, attributes, convergence counts
    sgphys warmup                     compile and cache the numba kernels

``run`` reuses a file whose parameters match the run's (``--fresh`` recomputes, e.g. after
changing the code); ``reproduce`` recomputes every experiment unless ``--reuse`` is given.
An interrupted run resumes from its finished points either way.
Errors (unknown experiment, bad ``--set`` value, unreadable file) print one line and exit
with status 2. Figures are drawn by :mod:`sgphys.figures` (installed with the package);
``--data`` and ``--figures`` default to ``data/`` and ``figures/`` in the working directory.
``python -m sgphys`` is the same command.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from . import io
from .experiments import list_experiments, run_experiment
from .figures import FIGURES  # experiment -> figure module (kept importable here)
from .registry import describe as registry_lines
from .solvers import warmup
from .sweep import MainGuardError, SweepLocked


class CLIError(Exception):
    """An error reported as one line, exit status 2."""


def _figure_module(experiment):
    from .figures import figure_module

    if experiment not in FIGURES:
        raise CLIError(f"unknown experiment {experiment!r}; known: {', '.join(FIGURES)}")
    return figure_module(experiment)


def parse_set(items):
    """``key=value`` pairs; values parsed as JSON (numbers, lists, true/false), else text."""
    out = {}
    for item in items or []:
        if "=" not in item:
            raise CLIError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key.isidentifier():
            raise CLIError(f"--set: bad parameter name {key!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            if raw.strip().startswith(("[", "{")):
                raise CLIError(f"--set {key}: cannot parse {raw!r}") from None
            value = raw
        out[key] = value
    return out


#: exit status when the file was written but some of its points failed
EXIT_FAILED_POINTS = 1


def _failed_points(ds):
    return int((ds.status.values != 1).sum()) if "status" in ds else 0


def _run(args):
    out = args.out or os.path.join("data", f"{args.experiment}.nc")
    before = _mtime(out)
    t0 = time.perf_counter()
    ds = run_experiment(args.experiment, preset=args.preset, workers=args.workers,
                        scheduler=args.scheduler, out=out, resume=not args.fresh,
                        progress=None if not args.no_progress else False,
                        **parse_set(args.set))
    failed = _failed_points(ds)
    if before is not None and _mtime(out) == before:
        print(f"{args.experiment}: {out} is up to date (same parameters and code, not "
              "recomputed; --fresh recomputes it)")
    else:
        print(f"{args.experiment}: wrote {out} in {time.perf_counter() - t0:.1f} s")
    print(f"{args.experiment}: failed points: {failed} of {ds.status.size}"
          + (f" (messages: `sgphys info {out}`)" if failed else ""))
    return EXIT_FAILED_POINTS if failed else 0


def _mtime(path):
    """Modification time of a file in ns, or None: tells a reused file from a new one."""
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _plot(args):
    path = args.path or os.path.join("data", f"{args.experiment}.nc")
    module = _figure_module(args.experiment)
    ds = io.load(path)
    found = ds.attrs.get("experiment")
    if found != args.experiment:
        raise CLIError(f"{path} is not a file of experiment {args.experiment!r} "
                       f"(its experiment attribute: {found!r}); "
                       f"run `sgphys run {args.experiment}` to make one")
    out = args.out or os.path.join("figures", f"{FIGURES[args.experiment]}.png")
    print(module.plot(ds, out, reference=args.reference, pdf=args.pdf))
    return 0


def _reproduce(args):
    rows = []
    total_failed = 0
    for name in list_experiments():
        out = os.path.join(args.data, f"{name}.nc")
        before = _mtime(out)
        t0 = time.perf_counter()
        ds = run_experiment(name, preset=args.preset, workers=args.workers, out=out,
                                   resume=not args.fresh, reuse=args.reuse,
                                   progress=None if not args.no_progress else False)
        t_run = time.perf_counter() - t0
        reused = before is not None and _mtime(out) == before
        fig = _figure_module(name).plot(ds, os.path.join(args.figures, f"{FIGURES[name]}.png"),
                                        reference=args.reference)
        conv = ""
        if "converged" in ds:
            c = ds.converged.values
            conv = f"{int((c == 1).sum())}/{c.size}"
        failed = _failed_points(ds)
        total_failed += failed
        seconds = "reused" if reused else f"{t_run:.1f}"
        rows.append((name, seconds, conv, str(failed), str(fig)))
        print(f"  {name:<14s} {seconds:>7s}{'' if reused else ' s'}  -> {fig}", flush=True)
    print()
    print(f"{'experiment':<14s} {'seconds':>8s} {'converged':>10s} {'failed':>7s}  figure")
    for r in rows:
        print(f"{r[0]:<14s} {r[1]:>8s} {r[2]:>10s} {r[3]:>7s}  {r[4]}")
    if total_failed:
        print(f"failed points: {total_failed} (see `sgphys info FILE` for their messages)")
    return EXIT_FAILED_POINTS if total_failed else 0


def _info(args):
    ds = io.load(args.path)
    print(f"{args.path}: experiment {ds.attrs.get('experiment', '?')}, preset "
          f"{ds.attrs.get('preset', '?')}, {ds.attrs.get('source', '')}")
    print("dimensions: " + ", ".join(f"{k}={v}" for k, v in ds.sizes.items()))
    print("variables:")
    for name, var in ds.data_vars.items():
        print(f"  {name}({', '.join(var.dims)}) [{var.attrs.get('units', '?')}]: "
              f"{var.attrs.get('long_name', '')}")
    if "converged" in ds and "solver" in ds.dims:
        for s in ds.solver.values:
            c = ds.converged.sel(solver=s).values
            print(f"converged ({s}): {int((c == 1).sum())} of {c.size}")
    if "status" in ds:
        bad = _failed_points(ds)
        print(f"failed points: {bad} of {ds.status.size}")
        if bad:
            messages = sorted(set(str(e) for e in ds.error.values.ravel() if str(e)))
            for m in messages[:5]:
                print(f"  error: {m}")
            if len(messages) > 5:
                print(f"  ... {len(messages) - 5} more distinct messages")
    for k in ("title", "history", "references", "parameters"):
        if k in ds.attrs:
            print(f"{k}: {ds.attrs[k]}")
    return 0


def _list(args):
    from .experiments import get_experiment

    print("experiments:")
    for name in list_experiments():
        exp = get_experiment(name)
        sweep = ", ".join(exp.sweep) or "-"
        print(f"{name:<14s} {exp.figure:<8s} presets: {', '.join(exp.presets):<12s} "
              f"swept: {sweep:<10s} {exp.title}")
    print("\nsolvers (settings are parameters: --set tol=1e-8 --set grid=81 ...):")
    for line in registry_lines():
        print(line)
    return 0


def _warmup(args):

    warmup(verbose=True)
    return 0


def build_parser():
    p = argparse.ArgumentParser(prog="sgphys", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="run an experiment and write netCDF")
    r.add_argument("experiment")
    r.add_argument("--preset", default="quick")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a parameter (JSON values: P=[100,200], lam=0.1)")
    r.add_argument("--out", help="netCDF path (default data/EXPERIMENT.nc)")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=1, help="process-pool size")
    g.add_argument("--scheduler", help="dask scheduler address, or 'local'")
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--fresh", action="store_true",
                   help="recompute: ignore an existing file with the same parameters and "
                        "the finished points of an interrupted run")
    r.set_defaults(func=_run)

    pl = sub.add_parser("plot", help="draw an experiment's figure from its netCDF")
    pl.add_argument("experiment")
    pl.add_argument("path", nargs="?", help="netCDF file (default data/EXPERIMENT.nc)")
    pl.add_argument("--out", help="PNG path (default figures/<script>.png)")
    pl.add_argument("--pdf", action="store_true", help="also write a PDF")
    pl.add_argument("--reference", action="store_true", help="overlay the paper's numbers")
    pl.set_defaults(func=_plot)

    rp = sub.add_parser("reproduce", help="run every experiment, then draw every figure")
    rp.add_argument("--preset", default="quick")
    rp.add_argument("--data", default="data")
    rp.add_argument("--figures", default="figures")
    rp.add_argument("--workers", type=int, default=1)
    rp.add_argument("--reference", action="store_true")
    rp.add_argument("--no-progress", action="store_true")
    g = rp.add_mutually_exclusive_group()
    g.add_argument("--reuse", action="store_true",
                   help="keep files whose parameters match (e.g. after an interrupted "
                        "reproduce) instead of recomputing them")
    g.add_argument("--fresh", action="store_true",
                   help="also discard the finished points of interrupted runs")
    rp.set_defaults(func=_reproduce)

    i = sub.add_parser("info", help="describe a netCDF file")
    i.add_argument("path")
    i.set_defaults(func=_info)

    sub.add_parser("list", help="list experiments and presets").set_defaults(func=_list)
    sub.add_parser("warmup", help="compile and cache the numba kernels").set_defaults(func=_warmup)
    return p


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (CLIError, ValueError, OSError, ModuleNotFoundError, SweepLocked,
            MainGuardError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"sgphys: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sgphys: interrupted (finished points are kept: run again to resume; "
              "`sgphys reproduce --reuse` also keeps the finished experiments)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
