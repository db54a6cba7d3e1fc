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
