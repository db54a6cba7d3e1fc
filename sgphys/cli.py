"""The ``sgphys`` command line: run experiments, draw figures, reproduce the paper.

    sgphys list [EXPERIMENT]          experiments and presets; one experiment's parameters
    sgphys run EXPERIMENT [--preset quick|paper] [--set key=value ...] [--out PATH]
               [--workers N | --scheduler ADDRESS] [--fresh]
    sgphys plot EXPERIMENT [PATH] [--out PNG] [--pdf] [--reference]
    sgphys reproduce [--preset quick|paper] [--data DIR] [--figures DIR] [--workers N]
                     [--reuse | --fresh]
    sgphys info PATH                  dims, variables, attributes, convergence counts
    sgphys warmup                     compile and cache the numba kernels

``run`` reuses a file whose parameters match the run's (``--fresh`` recomputes, e.g. after
changing the code); ``reproduce`` recomputes every experiment unless ``--reuse`` is given;
``reproduce --preset paper`` also runs the presets an experiment lists for it
(``Experiment.reproduce_with``: the matrix-free ``large`` presets, into ``NAME_large.nc``).
An interrupted run resumes from its finished points either way.
Errors (unknown experiment, bad ``--set`` value, unreadable file, an output that is not a
regular file, sizes beyond the memory limit) print one line and exit with status 2,
before any work. Progress goes to stderr: a bar on a terminal, else whole lines (start,
every ~10 %, finish). Figures are drawn by :mod:`sgphys.figures` (installed with the package);
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
from ._version import __version__
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


def _progress(args):
    """The sweep's progress: none with --no-progress, a bar on a terminal, else lines."""
    if args.no_progress:
        return False
    return None if sys.stderr.isatty() else "text"


def _run(args):
    out = args.out or os.path.join("data", f"{args.experiment}.nc")
    io.check_output_path("--out", out)
    before = _mtime(out)
    t0 = time.perf_counter()
    ds = run_experiment(args.experiment, preset=args.preset, workers=args.workers,
                        scheduler=args.scheduler, out=out, resume=not args.fresh,
                        progress=_progress(args), **parse_set(args.set))
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
    out = args.out or os.path.join("figures", f"{FIGURES[args.experiment]}.png")
    io.check_output_path("--out", out)
    if args.pdf:
        from pathlib import Path

        io.check_output_path("--out (its PDF)", Path(out).with_suffix(".pdf"))
    ds = io.load(path)
    found = ds.attrs.get("experiment")
    if found != args.experiment:
        raise CLIError(f"{path} is not a file of experiment {args.experiment!r} "
                       f"(its experiment attribute: {found!r}); "
                       f"run `sgphys run {args.experiment}` to make one")
    print(module.plot(ds, out, reference=args.reference, pdf=args.pdf))
    return 0


def reproduce_runs(preset, data="data", figures="figures"):
    """The runs of ``sgphys reproduce --preset PRESET``: ``(experiment, preset, netCDF path,
    PNG path, label)`` for every experiment at ``preset``, then the presets it lists in
    ``reproduce_with`` for this one (e.g. phase_diagram's ``large`` at ``paper``) into
    ``NAME_EXTRA.nc`` and ``FIGURE_EXTRA.png``."""
    from .experiments import get_experiment

    runs = []
    for name in list_experiments():
        runs.append((name, preset, os.path.join(data, f"{name}.nc"),
                     os.path.join(figures, f"{FIGURES[name]}.png"), name))
        for extra in get_experiment(name).reproduce_with.get(preset, ()):
            runs.append((name, extra, os.path.join(data, f"{name}_{extra}.nc"),
                         os.path.join(figures, f"{FIGURES[name]}_{extra}.png"),
                         f"{name} ({extra})"))
    return runs


def _reproduce(args):
    # every output checked before the first experiment runs
    io.check_output_dir("--data", args.data)
    io.check_output_dir("--figures", args.figures)
    runs = reproduce_runs(args.preset, args.data, args.figures)
    for _, _, out, png, _ in runs:
        io.check_output_path("--data", out)
        io.check_output_path("--figures", png)
    rows = []
    total_failed = 0
    for name, preset, out, png, label in runs:
        before = _mtime(out)
        t0 = time.perf_counter()
        ds = run_experiment(name, preset=preset, workers=args.workers, out=out,
                            resume=not args.fresh, reuse=args.reuse,
                            progress=_progress(args))
        t_run = time.perf_counter() - t0
        reused = before is not None and _mtime(out) == before
        fig = _figure_module(name).plot(ds, png, reference=args.reference)
        conv = ""
        if "converged" in ds:
            c = ds.converged.values
            conv = f"{int((c == 1).sum())}/{c.size}"
        failed = _failed_points(ds)
        total_failed += failed
        seconds = "reused" if reused else f"{t_run:.1f}"
        rows.append((label, seconds, conv, str(failed), str(fig)))
        print(f"  {label:<14s} {seconds:>7s}{'' if reused else ' s'}  -> {fig}", flush=True)
    print()
    width = max(14, *(len(r[0]) for r in rows)) if rows else 14
    print(f"{'experiment':<{width}s} {'seconds':>8s} {'converged':>10s} {'failed':>7s}  figure")
    for r in rows:
        print(f"{r[0]:<{width}s} {r[1]:>8s} {r[2]:>10s} {r[3]:>7s}  {r[4]}")
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
    if "converged" in ds and "solver" in ds.converged.dims:
        for line in _convergence_lines(ds):
            print(line)
    if "status" in ds:
        bad = _failed_points(ds)
        print(f"failed points: {bad} of {ds.status.size}")
        if bad and "error" in ds:
            messages = sorted(set(str(e) for e in ds.error.values.ravel() if str(e)))
            for m in messages[:5]:
                print(f"  error: {m}")
            if len(messages) > 5:
                print(f"  ... {len(messages) - 5} more distinct messages")
    for k in ("title", "history", "references", "parameters"):
        if k in ds.attrs:
            print(f"{k}: {ds.attrs[k]}")
    return 0


#: reasons that mark a solver run as not applicable (e.g. the exact solver on a discrete
#: prior): stored as not converged with a reason starting so
SKIPPED = "skipped"


def _convergence_lines(ds):
    """Per solver: converged count over the runs where the solver applies (runs of failed
    points, stored as -1, excluded) and, with a ``reason`` variable, the counts per reason;
    "not applicable" when no run applies."""
    import numpy as np

    lines = []
    for s in ds.solver.values:
        c = np.asarray(ds.converged.sel(solver=s).values).ravel()
        reasons = (np.asarray(ds.reason.sel(solver=s).values).astype(str).ravel()
                   if "reason" in ds and "solver" in ds.reason.dims else None)
        ran = c >= 0
        if reasons is not None and reasons.shape == c.shape:
            skipped = np.char.startswith(reasons, SKIPPED) & ran
        else:
            skipped = np.zeros(c.shape, bool)
        applies = ran & ~skipped
        if not applies.any():
            why = sorted(set(reasons[skipped])) if skipped.any() else []
            lines.append(f"converged ({s}): not applicable"
                         + (f" ({'; '.join(why)})" if why else ""))
            continue
        line = f"converged ({s}): {int((c[applies] == 1).sum())} of {int(applies.sum())}"
        if skipped.any():
            line += f" (not applicable to {int(skipped.sum())} more)"
        lines.append(line)
        if reasons is not None and reasons.shape == c.shape:
            names, counts = np.unique(reasons[applies], return_counts=True)
            lines.append("  by reason: " + ", ".join(
                f"{n or '(none)'} {k}" for n, k in zip(names, counts)))
        if "negative_cavity" in ds and "solver" in ds.negative_cavity.dims:
            neg = np.asarray(ds.negative_cavity.sel(solver=s).values).ravel()
            if neg.shape == c.shape and (neg[applies] >= 0).any():
                flagged = int(((neg > 0) & (c == 1) & applies).sum())
                lines.append(f"  converged with a negative cavity precision: {flagged}")
    return lines


def _preset_text(value, width=34):
    text = json.dumps(value, default=io.json_default)
    return text if len(text) <= width else text[:width - 3] + "..."


def _list_experiment(name):
    from .experiments import get_experiment
    from .registry import settings_of, solver_names

    exp = get_experiment(name)
    print(f"{name}: {exp.title}")
    listed = tuple(exp.sweep) + tuple(exp.inner)
    print(f"swept (dimensions of the file, besides seed): {', '.join(exp.sweep) or '-'}"
          + (f"; computed whole per point: {', '.join(exp.inner)}" if exp.inner else ""))
    presets = list(exp.presets)
    keys = []
    for p in presets:
        keys += [k for k in exp.presets[p] if k not in keys]
    print()
    print(f"{'--set KEY':<18s}" + "".join(f"{p:<36s}" for p in presets))
    for k in keys:
        mark = " *" if k in listed else ""
        print(f"{k + mark:<18s}" + "".join(
            f"{_preset_text(exp.presets[p][k]) if k in exp.presets[p] else '-':<36s}"
            for p in presets))
    print("\n* a list of values (e.g. --set P=[10,20,40]); other keys take one value "
          "(e.g. --set seeds=3)")
    if any("solvers" in exp.presets[p] for p in presets):
        print("solver settings (--set KEY=VALUE, for the solvers a run uses):")
        for key, default in settings_of(solver_names()).items():
            print(f"  {key}={default!r}")
    return 0


def _list(args):
    from .experiments import get_experiment

    if args.experiment is not None:
        if args.experiment not in list_experiments():
            raise CLIError(f"unknown experiment {args.experiment!r}; known: "
                           f"{', '.join(list_experiments())}")
        return _list_experiment(args.experiment)
    print("experiments:")
    for name in list_experiments():
        exp = get_experiment(name)
        sweep = ", ".join(exp.sweep) or "-"
        print(f"{name:<14s} {exp.figure:<8s} presets: {', '.join(exp.presets):<12s} "
              f"swept: {sweep:<10s} {exp.title}")
    print("\nsolvers (settings are parameters: --set tol=1e-8 --set grid=81 ...):")
    for line in registry_lines():
        print(line)
    print("\n`sgphys list EXPERIMENT` shows an experiment's parameters and presets.")
    return 0


def _warmup(args):

    warmup(verbose=True)
    return 0


DESCRIPTION = """\
sgphys: the spin-glass model of in-context learning. Run the paper's experiments
(resumable parameter sweeps written to netCDF), draw their figures, inspect files."""

EPILOG = """\
examples:
  sgphys list                                  experiments, presets and solvers
  sgphys list hessian                          one experiment's parameters
  sgphys run hessian                           quick preset -> data/hessian.nc
  sgphys run phase_diagram --preset paper --workers 2
  sgphys run hessian --set P=[10,40] --set seeds=1 --out h.nc
  sgphys plot hessian h.nc --out h.png --pdf
  sgphys info h.nc                             dims, variables, convergence, errors
  sgphys reproduce --reuse                     every experiment and figure
  SGPHYS_MAX_MEMORY=8G sgphys run hessian      refuse sizes needing more than 8 GiB

exit status: 0 done; 1 file written but some points failed (see sgphys info);
2 error (one line on stderr, nothing computed); 130 interrupted (run again to resume)."""


def _parser(sub, name, help, examples=None):
    return sub.add_parser(name, help=help, description=help,
                          formatter_class=argparse.RawDescriptionHelpFormatter,
                          epilog=("examples:\n" + "\n".join(f"  {e}" for e in examples))
                          if examples else None)


def build_parser():
    p = argparse.ArgumentParser(prog="sgphys", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"sgphys {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           help="one of these (sgphys COMMAND --help for its options)")

    r = _parser(sub, "run", "run an experiment and write netCDF", [
        "sgphys run hessian",
        "sgphys run hessian --set D=[5,8] --set P=[10,30] --set seeds=2 --out h.nc",
        "sgphys run phase_diagram --preset paper --workers 2",
        "sgphys run phase_diagram --scheduler tcp://10.0.0.1:8786"])
    r.add_argument("experiment", help="experiment name (sgphys list)")
    r.add_argument("--preset", default="quick",
                   help="parameter preset: quick (about a minute) or paper (default quick)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a parameter (JSON values: P=[100,200], lam=0.1; "
                        "repeatable; keys: sgphys list EXPERIMENT)")
    r.add_argument("--out", help="netCDF path, a regular file or new (default "
                                 "data/EXPERIMENT.nc)")
    g = r.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, default=1,
                   help="process-pool size (default 1: serial)")
    g.add_argument("--scheduler", help="dask scheduler address, or 'local' for a local "
                                       "cluster of --workers processes")
    r.add_argument("--no-progress", action="store_true",
                   help="no progress bar or progress lines on stderr")
    r.add_argument("--fresh", action="store_true",
                   help="recompute: ignore an existing file with the same parameters and "
                        "the finished points of an interrupted run")
    r.set_defaults(func=_run)

    pl = _parser(sub, "plot", "draw an experiment's figure from its netCDF", [
        "sgphys plot hessian", "sgphys plot hessian h.nc --out h.png --pdf --reference"])
    pl.add_argument("experiment", help="experiment name (sgphys list)")
    pl.add_argument("path", nargs="?", help="netCDF file (default data/EXPERIMENT.nc)")
    pl.add_argument("--out", help="PNG path, a regular file or new (default "
                                  "figures/<script>.png)")
    pl.add_argument("--pdf", action="store_true", help="also write a PDF beside the PNG")
    pl.add_argument("--reference", action="store_true", help="overlay the paper's numbers")
    pl.set_defaults(func=_plot)

    rp = _parser(sub, "reproduce", "run every experiment, then draw every figure", [
        "sgphys reproduce", "sgphys reproduce --preset paper --workers 2 --reuse",
        "sgphys reproduce --data /tmp/d --figures /tmp/f"])
    rp.add_argument("--preset", default="quick",
                    help="parameter preset of every experiment (default quick); paper "
                         "also runs the matrix-free large presets of phase_diagram, "
                         "finite_size and quantized (NAME_large.nc, FIGURE_large.png)")
    rp.add_argument("--data", default="data",
                    help="directory of the netCDF files (default data)")
    rp.add_argument("--figures", default="figures",
                    help="directory of the figures (default figures)")
    rp.add_argument("--workers", type=int, default=1, help="process-pool size (default 1)")
    rp.add_argument("--reference", action="store_true",
                    help="overlay the paper's numbers on the figures")
    rp.add_argument("--no-progress", action="store_true",
                    help="no progress bar or progress lines on stderr")
    g = rp.add_mutually_exclusive_group()
    g.add_argument("--reuse", action="store_true",
                   help="keep files whose parameters match (e.g. after an interrupted "
                        "reproduce) instead of recomputing them")
    g.add_argument("--fresh", action="store_true",
                   help="also discard the finished points of interrupted runs")
    rp.set_defaults(func=_reproduce)

    i = _parser(sub, "info", "describe a netCDF file", ["sgphys info data/hessian.nc"])
    i.add_argument("path", help="netCDF file written by sgphys")
    i.set_defaults(func=_info)

    ls = _parser(sub, "list", "list experiments, presets and solvers; with EXPERIMENT, its "
                              "parameters", ["sgphys list", "sgphys list phase_diagram"])
    ls.add_argument("experiment", nargs="?",
                    help="show this experiment's parameters, presets and --set keys")
    ls.set_defaults(func=_list)
    _parser(sub, "warmup", "compile and cache the numba kernels",
            ["sgphys warmup"]).set_defaults(func=_warmup)
    return p


def _warning_line(message, category, filename, lineno, file=None, line=None):
    """Warnings (e.g. a damaged file moved aside) as one line on stderr."""
    print(f"sgphys: warning: {message}", file=file if file is not None else sys.stderr)


def main(argv=None):
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_line
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
