"""The sgphys command line through subprocess, as a newcomer runs it."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sgphys

REPO = Path(__file__).resolve().parents[1]


def sg(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sgphys.cli", *args], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "MPLBACKEND": "Agg"})


def test_list_names_every_experiment():
    r = sg("list")
    assert r.returncode == 0
    for name in sgphys.list_experiments():
        assert name in r.stdout


def test_run_info_plot_round_trip(tmp_path):
    out = tmp_path / "h.nc"
    r = sg("run", "hessian", "--set", "P=[10,40]", "--set", "seeds=1", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.exists()
    ds = sgphys.io.load(out)
    assert list(ds.P.values) == [10, 40] and ds.sizes["seed"] == 1
    r = sg("info", str(out))
    assert r.returncode == 0 and "zero_mode_fraction" in r.stdout and "failed points: 0" in r.stdout
    # same parameters again: reused, and said so; --fresh recomputes
    mtime = out.stat().st_mtime_ns
    r = sg("run", "hessian", "--set", "P=[10,40]", "--set", "seeds=1", "--out", str(out))
    assert r.returncode == 0 and "up to date" in r.stdout and out.stat().st_mtime_ns == mtime
    r = sg("run", "hessian", "--set", "P=[10,40]", "--set", "seeds=1", "--out", str(out),
           "--fresh")
    assert r.returncode == 0 and "wrote" in r.stdout and out.stat().st_mtime_ns != mtime
    np.testing.assert_array_equal(sgphys.io.load(out).eigenvalues, ds.eigenvalues)
    png = tmp_path / "h.png"
    r = sg("plot", "hessian", str(out), "--out", str(png), "--pdf")
    assert r.returncode == 0, r.stderr
    assert png.stat().st_size > 10_000 and png.with_suffix(".pdf").exists()


def test_reproduce_writes_every_dataset_and_figure(tmp_path):
    r = sg("reproduce", "--data", str(tmp_path / "d"), "--figures", str(tmp_path / "f"))
    assert r.returncode == 0, r.stderr
    for name in sgphys.list_experiments():
        assert (tmp_path / "d" / f"{name}.nc").exists()
    pngs = list((tmp_path / "f").glob("*.png"))
    assert len(pngs) == len(sgphys.list_experiments())
    assert all(p.stat().st_size > 10_000 for p in pngs)
    assert "experiment" in r.stdout and "seconds" in r.stdout and "reused" not in r.stdout
    # --reuse keeps the files (an interrupted reproduce goes on where it stopped)
    mtimes = {p: p.stat().st_mtime_ns for p in (tmp_path / "d").glob("*.nc")}
    r = sg("reproduce", "--data", str(tmp_path / "d"), "--figures", str(tmp_path / "f"),
           "--reuse")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("reused") >= 2 * len(sgphys.list_experiments())  # lines and table
    assert all(p.stat().st_mtime_ns == t for p, t in mtimes.items())


def test_paper_reproduction_also_runs_the_large_presets(tmp_path, monkeypatch):
    """``reproduce --preset paper`` adds the presets an experiment lists for it (the
    matrix-free sizes), each into its own file and figure; the quick reproduction none.
    Run with the runs replaced by a stub that records them (the large presets take hours)."""
    from sgphys import cli

    quick = cli.reproduce_runs("quick", "d", "f")
    assert [r[0] for r in quick] == sgphys.list_experiments()
    paper = cli.reproduce_runs("paper", "d", "f")
    extra = [r for r in paper if r[1] != "paper"]
    assert {(r[0], r[1]) for r in extra} == {("phase_diagram", "large"),
                                             ("finite_size", "large"), ("quantized", "large")}
    assert ("phase_diagram", "large", os.path.join("d", "phase_diagram_large.nc"),
            os.path.join("f", "fig4_phase_diagram_large.png"),
            "phase_diagram (large)") in extra
    assert len({r[2] for r in paper}) == len(paper)  # no file written twice
    for name, preset, *_ in extra:  # each listed preset exists
        assert preset in sgphys.experiments.get_experiment(name).presets

    calls = []

    def fake_run(name, preset, out, **kw):
        calls.append((name, preset, out))
        raise SystemExit(0)  # stop after the first run: its arguments are what we check
    monkeypatch.setattr(cli, "run_experiment", fake_run)
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--preset", "paper", "--data", str(tmp_path / "d"),
                  "--figures", str(tmp_path / "f")])
    assert calls == [(paper[0][0], "paper", str(tmp_path / "d" / f"{paper[0][0]}.nc"))]


@pytest.mark.parametrize("args,needle", [
    (("run", "fig9"), "experiment"),
    (("run", "hessian", "--set", "P=[1,"), "--set"),
    (("run", "hessian", "--set", "gamma=2"), "gamma"),
    (("run", "hessian", "--set", "novalue"), "key=value"),
    (("info", "missing.nc"), "missing.nc"),
    (("plot", "nothing"), "experiment"),
])
def test_errors_are_one_line_with_nonzero_exit(tmp_path, args, needle):
    r = sg(*args, cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_help_on_every_subcommand():
    for cmd in ("run", "plot", "reproduce", "info", "list", "warmup"):
        r = sg(cmd, "--help")
        assert r.returncode == 0 and "usage" in r.stdout


def test_warmup_compiles_kernels():
    r = sg("warmup")
    assert r.returncode == 0 and "compiled" in r.stdout


# -- hostile use, help, list, progress, info ----------------------------------------------------

import json  # noqa: E402
import re  # noqa: E402

import xarray as xr  # noqa: E402


def _one_line_error(r, needle):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.stderr, r.stderr


def test_special_outputs_are_refused_before_any_work(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    small = ("--set", "D=[2]", "--set", "P=[3]", "--set", "seeds=1")
    for bad in (fifo, folder):
        _one_line_error(sg("run", "hessian", *small, "--out", str(bad), cwd=tmp_path), "--out")
        _one_line_error(sg("plot", "hessian", str(tmp_path / "missing.nc"), "--out", str(bad),
                           cwd=tmp_path), "--out")
    _one_line_error(sg("reproduce", "--data", str(fifo), cwd=tmp_path), "--data")
    _one_line_error(sg("reproduce", "--figures", str(fifo), cwd=tmp_path), "--figures")
    # a special file where one experiment's output goes: refused before the first runs
    data = tmp_path / "data"
    data.mkdir()
    os.mkfifo(data / "quantized.nc")
    _one_line_error(sg("reproduce", "--data", str(data), "--figures", str(tmp_path / "f"),
                       cwd=tmp_path), "quantized.nc")
    assert sorted(p.name for p in data.iterdir()) == ["quantized.nc"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(before + ["data"])


def test_sizes_beyond_the_memory_limit_stop_at_once(tmp_path):
    for D in (20000, 100000):
        r = sg("run", "hessian", "--set", f"D=[{D}]", "--set", "P=[30]", "--set", "seeds=1",
               "--out", str(tmp_path / "k.nc"), cwd=tmp_path)
        _one_line_error(r, f"D={D}")
        assert re.search(r"needs about [0-9.e+]+ TiB", r.stderr)
    assert list(tmp_path.iterdir()) == []
    env = {**os.environ, "SGPHYS_MAX_MEMORY": "lots"}
    r = subprocess.run([sys.executable, "-m", "sgphys.cli", "run", "hessian", "--out",
                        str(tmp_path / "k.nc")], capture_output=True, text=True, env=env)
    _one_line_error(r, "SGPHYS_MAX_MEMORY")
    assert list(tmp_path.iterdir()) == []


def test_version_and_help_text_of_every_option():
    r = sg("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"sgphys {sgphys.__version__}"
    r = sg("--help")
    assert r.returncode == 0 and "``" not in r.stdout
    assert r.stdout.rstrip().splitlines()[-1] and "examples:" in r.stdout
    assert r.stdout.index("examples:") > r.stdout.index("options:")
    parser = sgphys.cli.build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for action in parser._actions:
        assert action.help, action.dest
    for name, sub in subparsers.choices.items():
        assert sub.epilog and "examples:" in sub.epilog, name
        for action in sub._actions:
            assert action.help and action.help != "==SUPPRESS==", (name, action.dest)


def test_list_one_experiment_shows_parameters_presets_and_set_keys():
    from sgphys.experiments import get_experiment

    for name in ("hessian", "phase_diagram"):
        r = sg("list", name)
        assert r.returncode == 0, r.stderr
        exp = get_experiment(name)
        rows = {line.split()[0]: line for line in r.stdout.splitlines() if line.strip()}
        for key, value in exp.presets["quick"].items():
            swept = key in exp.sweep or key in exp.inner
            assert (rows[key].split()[1] == "*") == swept, key
            shown = rows[key].split()[2 if swept else 1]
            assert shown.rstrip(",.") in json.dumps(value), (key, shown)
        assert "quick" in r.stdout and "paper" in r.stdout
    assert "tol=" in sg("list", "phase_diagram").stdout  # solver settings of a solver run
    _one_line_error(sg("list", "fig9"), "fig9")


def test_progress_lines_on_a_non_terminal(tmp_path):
    r = sg("run", "hessian", "--set", "D=[2]", "--set", "P=[3,4,5,6,7,8,9,10,11,12]",
           "--set", "seeds=2", "--out", str(tmp_path / "k.nc"))
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("hessian: started: 20 points")
    assert lines[-2].startswith("hessian: finished: 20 of 20 points")
    assert lines[-1].startswith("hessian: time split (s): ")  # where the time went
    assert "other" in lines[-1] and "I/O" in lines[-1] and "wall" in lines[-1]
    percents = [int(m.group(1)) for m in (re.match(r"hessian: (\d+)% \(", x) for x in lines) if m]
    assert percents == list(range(10, 100, 10))
    r = sg("run", "hessian", "--set", "D=[2]", "--set", "P=[3]", "--set", "seeds=1",
           "--out", str(tmp_path / "q.nc"), "--no-progress")
    assert r.returncode == 0 and r.stderr == ""


def test_info_says_not_applicable_and_counts_reasons(tmp_path):
    """A solver skipped everywhere (e.g. the exact solver on a discrete prior) is "not
    applicable", not "0 of n"; counts per reason; a status without an error variable."""
    ds = xr.Dataset(
        {"converged": (("P", "solver"), np.array([[0, 1, 1], [0, 0, -1]]),
                       {"long_name": "converged", "units": "1"}),
         "reason": (("P", "solver"), np.array([["skipped: discrete prior", "converged",
                                                "converged"],
                                               ["skipped: discrete prior", "max_iter", ""]]),
                    {"long_name": "reason", "units": "1"}),
         "status": (("P",), np.array([1, 1], dtype=np.int8),
                    {"long_name": "status", "units": "1"})},
        coords={"P": ("P", [10, 20], {"long_name": "P", "units": "1"}),
                "solver": ("solver", ["exact", "tap", "gibbs"],
                           {"long_name": "solver", "units": "1"})})
    path = tmp_path / "s.nc"
    sgphys.io.save(ds, path)
    r = sg("info", str(path))
    assert r.returncode == 0, r.stderr
    assert "converged (exact): not applicable (skipped: discrete prior)" in r.stdout
    assert "converged (tap): 1 of 2" in r.stdout and "converged 1, max_iter 1" in r.stdout
    assert "converged (gibbs): 1 of 1" in r.stdout  # the failed point's run (-1) left out
    assert "failed points: 0 of 2" in r.stdout
    bad = ds.copy()
    bad["status"] = ("P", np.array([1, 0], dtype=np.int8), {"long_name": "s", "units": "1"})
    sgphys.io.save(bad, path)
    r = sg("info", str(path))
    assert r.returncode == 0 and "failed points: 1 of 2" in r.stdout, r.stderr


def test_a_damaged_file_is_named_in_one_warning_line_and_recomputed(tmp_path):
    out = tmp_path / "k.nc"
    args = ("run", "hessian", "--set", "D=[2]", "--set", "P=[3,5]", "--set", "seeds=1",
            "--out", str(out), "--no-progress")
    assert sg(*args).returncode == 0
    ref = sgphys.io.load(out)
    raw = bytearray(out.read_bytes())
    at = bytes(raw).find(ref.spectral_density.values.astype("<f8").tobytes())
    assert at > 0
    raw[at:at + 64] = bytes(b ^ 0xFF for b in raw[at:at + 64])
    out.write_bytes(bytes(raw))
    r = sg(*args)
    assert r.returncode == 0 and "wrote" in r.stdout, r.stderr
    assert r.stderr.strip().splitlines() == [
        f"sgphys: warning: {out}: checksum mismatch; moved to {out}.corrupt and recomputed"]
    np.testing.assert_array_equal(sgphys.io.load(out).spectral_density, ref.spectral_density)
