"""Sweeps reproducible from their parameters alone, loud about failures, safe to run twice:
streams keyed by values (not grid position), resume keyed by the code, corrupt point files
recomputed, one sweep per output file."""

import os
import signal
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import sgphys
from sgphys import sweep
from sgphys.experiments import get_experiment


class Interrupt(BaseException):
    """Stands for a kill: not an Exception, so the sweep does not record it as a failure."""


@pytest.fixture
def counted(monkeypatch):
    """hessian's point function (swept over D and P), counting the points it computes;
    ``limit`` makes the call after the limit-th one interrupt the sweep."""
    exp = get_experiment("hessian")
    original = exp.point
    state = {"calls": [], "limit": None}

    def point(params, values, streams):
        if state["limit"] is not None and len(state["calls"]) >= state["limit"]:
            raise Interrupt
        state["calls"].append(dict(values))
        return original(params, values, streams)

    monkeypatch.setattr(exp, "point", point)
    return state


def _grid(**kw):
    return dict(N=20, seeds=2, **kw)


def _same(a, b):
    for name in ("eigenvalues", "zero_mode_fraction", "spectral_density"):
        assert np.array_equal(a[name].values, b[name].values, equal_nan=True), name


def test_reordered_shrunk_extended_grid_resumes_to_the_uninterrupted_result(tmp_path,
                                                                         counted):
    out = tmp_path / "pd.nc"
    counted["limit"] = 5  # interrupted after 5 of the 8 points of the first grid
    with pytest.raises(Interrupt):
        sgphys.run_experiment("hessian", out=out, **_grid(D=[2, 3], P=[30, 60]))
    done = [dict(v) for v in counted["calls"]]
    counted["calls"].clear()
    counted["limit"] = None
    # the grid changes: D reordered and extended, P shrunk
    new = _grid(D=[3, 2, 4], P=[60])
    resumed = sgphys.run_experiment("hessian", out=out, **new)
    computed = counted["calls"]
    # only the points not finished before are computed (finished ones counted per seed)
    expected = 3 * 2 - sum(1 for v in done if v["P"] == 60)
    assert len(computed) == expected
    fresh = sgphys.run_experiment("hessian", out=tmp_path / "fresh.nc", **new)
    _same(resumed, fresh)
    # and a point's values do not depend on the grid it sits in
    alone = sgphys.run_experiment("hessian", **_grid(D=[4], P=[60]))
    np.testing.assert_array_equal(resumed.zero_mode_fraction.sel(D=4).values,
                                  alone.zero_mode_fraction.sel(D=4).values)
    np.testing.assert_array_equal(resumed.eigenvalues.sel(D=4).values,
                                  alone.eigenvalues.sel(D=4).values)


def test_points_of_other_code_are_recomputed_never_mixed(tmp_path, counted, monkeypatch):
    out = tmp_path / "pd.nc"
    counted["limit"] = 3
    with pytest.raises(Interrupt):
        sgphys.run_experiment("hessian", out=out, **_grid(D=[2], P=[30, 60]))
    counted["calls"].clear()
    counted["limit"] = None
    monkeypatch.setattr(sweep, "code_version", lambda: "0.0.0+othercode")
    import sgphys.experiments as experiments

    monkeypatch.setattr(experiments, "code_version", lambda: "0.0.0+othercode")
    ds = sgphys.run_experiment("hessian", out=out, **_grid(D=[2], P=[30, 60]))
    assert len(counted["calls"]) == 4  # nothing of the other code's points was kept
    assert ds.attrs["code_version"] == "0.0.0+othercode"


def test_code_version_hashes_the_package_sources():
    v = sweep.code_version()
    assert v.startswith(sgphys.__version__ + "+") and len(v.split("+")[1]) == 12
    assert sweep.values_hash({"N": 10, "P": 60}) == sweep.values_hash({"P": 60, "N": 10})
    assert sweep.values_hash({"N": 10}) != sweep.values_hash({"N": 11})


def test_a_corrupt_point_file_is_reported_moved_aside_and_recomputed(tmp_path, counted):
    out = tmp_path / "pd.nc"
    counted["limit"] = 3
    with pytest.raises(Interrupt):
        sgphys.run_experiment("hessian", out=out, **_grid(D=[2], P=[30, 60]))
    partial = tmp_path / "pd.nc.partial"
    files = sorted(partial.glob("*.npz"))
    assert len(files) == 3
    files[0].write_bytes(files[0].read_bytes()[:40])  # truncated
    files[1].write_bytes(b"garbage, not a zip file")
    counted["calls"].clear()
    counted["limit"] = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = sgphys.run_experiment("hessian", out=out, **_grid(D=[2], P=[30, 60]))
    named = [str(w.message) for w in caught if "unreadable" in str(w.message)]
    assert len(named) == 2 and any(files[0].name in m for m in named)
    assert len(counted["calls"]) == 3  # the two corrupt ones and the one never computed
    _same(ds, sgphys.run_experiment("hessian", **_grid(D=[2], P=[30, 60])))
    assert not partial.exists()


HOLDER = textwrap.dedent("""
    import sys, time
    from sgphys.sweep import OutputLock
    with OutputLock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(60)
""")


def test_one_sweep_per_output_file_and_the_lock_dies_with_its_holder(tmp_path):
    out = tmp_path / "pd.nc"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        # refused at once: a run that waited for the lock would get it once the holder's
        # 60 s sleep ends and raise nothing
        with pytest.raises(sweep.SweepLocked, match=f"pid {holder.pid}"):
            sgphys.run_experiment("hessian", out=out, **_grid(D=[2], P=[30]))
        r = subprocess.run([sys.executable, "-m", "sgphys", "run", "hessian", "--out",
                            str(out), "--set", "D=[2]", "--set", "P=[30]"],
                           capture_output=True, text=True)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
        assert "another sweep" in r.stderr and str(holder.pid) in r.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # SIGKILL released it: the next run goes through and leaves no lock file behind
    ds = sgphys.run_experiment("hessian", out=out, **_grid(D=[2], P=[30]))
    assert ds.status.values.all() and not os.path.exists(str(out) + ".lock")


def test_cli_exits_nonzero_and_counts_failed_points(tmp_path):
    out = tmp_path / "f.nc"
    args = ["run", "phase_diagram", "--out", str(out), "--set", "D=3", "--set", "N=[5]",
            "--set", "P=[5,40]", "--set", "lam=0", "--set", "seeds=2",
            "--set", 'solvers=["exact"]', "--no-progress"]
    r = subprocess.run([sys.executable, "-m", "sgphys", *args], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert "failed points: 2 of 2" in r.stdout and out.exists()  # written, flagged
    r = subprocess.run([sys.executable, "-m", "sgphys", "info", str(out)], capture_output=True,
                       text=True)
    assert "failed points: 2 of 2" in r.stdout and "error: " in r.stdout and "lam" in r.stdout
    # a fixed parameter that would fail every point is refused before any runs
    r = subprocess.run([sys.executable, "-m", "sgphys", "run", "phase_diagram", "--out",
                        str(tmp_path / "g.nc"), "--set", "D=-3"], capture_output=True, text=True)
    assert r.returncode == 2 and "D" in r.stderr and not (tmp_path / "g.nc.partial").exists()
