"""Storage and sweeps: netCDF round trip, provenance, kill-and-resume, executor equality."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import sgphys
from sgphys import io
from sgphys.sweep import point_streams


def _tiny(**kw):
    return dict(D=3, N=[5, 10], P=[20, 40, 60], seeds=2, P_test=100, **kw)


def test_netcdf_round_trip_and_provenance(tmp_path):
    path = tmp_path / "pd.nc"
    ds = sgphys.run_experiment("phase_diagram", out=path, **_tiny())
    back = io.load(path)
    xr.testing.assert_identical(back, ds)
    for name in list(back.data_vars) + list(back.coords):
        assert {"long_name", "units"} <= set(back[name].attrs), name
    for key in ("title", "source", "history", "references", "experiment", "preset",
                "solvers", "parameters", "seeds"):
        assert key in back.attrs
    assert "2408.02288" in back.attrs["references"]
    assert json.loads(back.attrs["parameters"])["P"] == [20, 40, 60]
    # readable with the netCDF4 library directly; booleans stored as integers
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        assert nc.getncattr("experiment") == "phase_diagram"
        assert nc.variables["converged"].dimensions == ("N", "P", "seed", "solver")
        assert nc.variables["converged"].dtype.kind == "i"
        assert nc.variables["contrast_ratio"].getncattr("units") == "1"
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_header_is_readable_by_other_tools(tmp_path):
    """``ncdump -h`` (netcdf-bin; .ci/run installs it) shows dims, units and provenance."""
    import shutil

    path = tmp_path / "h.nc"
    sgphys.run_experiment("hessian", out=path, D=[2], P=[3], seeds=1)
    if shutil.which("ncdump"):
        header = subprocess.run(["ncdump", "-h", str(path)], capture_output=True, text=True,
                                check=True).stdout
    else:  # the same header through the netCDF4 C library, for machines without netcdf-bin
        import netCDF4

        with netCDF4.Dataset(path) as nc:
            header = str(nc) + "".join(str(v) for v in nc.variables.values())
    for needle in ("zero_mode_fraction", "long_name", "units", "references", "2408.02288",
                   "experiment", "parameters", "sgphys"):
        assert needle in header, needle


def test_save_requires_labels_and_is_atomic(tmp_path):
    ds = xr.Dataset({"x": ("a", np.arange(3.0))})
    with pytest.raises(ValueError, match="long_name"):
        io.save(ds, tmp_path / "x.nc")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="does not exist"):
        io.load(tmp_path / "missing.nc")
    (tmp_path / "junk.nc").write_text("not netcdf")
    with pytest.raises(ValueError, match="cannot read"):
        io.load(tmp_path / "junk.nc")


def test_results_match_a_direct_computation():
    """The stored exact contrast ratios equal ones computed by hand from the point's seeds:
    a phase-diagram point is one (N, seed) series whose training set at P is the first P
    sequences of its set at max(P); Q is accumulated over the series, here built anew."""
    ds = sgphys.run_experiment("phase_diagram", **_tiny())
    streams = point_streams(0, {"N": 10}, 1)  # by its values; seed index 1
    H, y = sgphys.sample_tasks(3, 10, 60, seed=streams["train"],
                               method="statistics").feature_arrays()
    for P in (20, 40, 60):
        model = sgphys.SpinModel.from_arrays(H[:P], y[:P], 1.0, 3)
        W = sgphys.solve_exact(model, 100.0).W
        stored = ds.contrast_ratio.sel(N=10, P=P, seed=1, solver="exact").item()
        assert stored == pytest.approx(sgphys.contrast_ratio(W), rel=1e-12)


@pytest.mark.pinned
def test_serial_process_pool_and_dask_give_identical_datasets():
    """One sweep, three executors, the same bits (points seeded by their values, computed
    alike on one thread or two; dask.distributed is in the test extras)."""
    kw = _tiny()
    serial = sgphys.run_experiment("phase_diagram", **kw)
    others = {"pool": sgphys.run_experiment("phase_diagram", workers=2, **kw),
              "dask": sgphys.run_experiment("phase_diagram", workers=2, scheduler="local",
                                            **kw)}
    for label, other in others.items():
        for name in serial.data_vars:
            np.testing.assert_array_equal(other[name].values, serial[name].values,
                                          err_msg=f"{label}: {name}")


def test_a_failing_point_is_recorded_and_the_sweep_goes_on():
    # lam = 0 with P = 5 < n_spins = 6: the exact solver cannot run, so each point (an
    # (N, seed) series holding P = 5) fails: status 0, its message in error, values NaN;
    # with every P >= n_spins every point is computed
    ds = sgphys.run_experiment("phase_diagram", D=2, N=[5], P=[5, 40], seeds=2, lam=0.0,
                               P_test=50, solvers=["exact"])
    assert (ds.status == 0).all()
    assert "lam" in ds.error.sel(N=5, seed=0).item()
    assert np.isnan(ds.contrast_ratio).all()
    assert ds.attrs["failed_points"] == 2
    ds = sgphys.run_experiment("phase_diagram", D=2, N=[5], P=[10, 40], seeds=1, lam=0.0,
                               P_test=50, solvers=["exact"])
    assert ds.status.all() and (ds.reason == "converged").all()
    # a bad fixed or swept value is refused before the first point runs
    for bad in ({"corr": [0.5, 1.5]}, {"lam": -1.0}, {"lam": float("nan")}, {"P_test": 0},
                {"D": -3}, {"seed": -1}, {"seed": 1.5}, {"beta": float("inf")}):
        name = next(iter(bad))
        with pytest.raises(ValueError, match=name):
            sgphys.run_experiment("correlated" if name == "corr" else "phase_diagram",
                                  seeds=1, **bad)


SCRIPT = textwrap.dedent("""
    import sys, time
    import sgphys
    from sgphys.experiments import get_experiment
    exp = get_experiment("phase_diagram")
    original = exp.point
    def slow(params, values, streams):
        time.sleep(0.15)
        return original(params, values, streams)
    exp.point = slow
    sgphys.run_experiment("phase_diagram", out=sys.argv[1], D=3, N=[5, 10], P=[20, 40, 60],
                          seeds=2, P_test=100)
""")


def test_sigkill_and_resume_loses_nothing(tmp_path):
    out = tmp_path / "pd.nc"
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(out)])
    partial = tmp_path / "pd.nc.partial"
    deadline = time.time() + 60
    while time.time() < deadline:
        if partial.exists() and len(list(partial.glob("*.npz"))) >= 4:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done = sorted(p.name for p in partial.glob("*.npz"))
    assert 4 <= len(done) < 12 and not out.exists()
    mtimes = {p.name: p.stat().st_mtime_ns for p in partial.glob("*.npz")}
    resumed = sgphys.run_experiment("phase_diagram", out=out, **_tiny())
    assert out.exists() and not partial.exists()
    fresh = sgphys.run_experiment("phase_diagram", **_tiny())
    for name in fresh.data_vars:
        np.testing.assert_array_equal(resumed[name].values, fresh[name].values, err_msg=name)
    # a complete file with the same parameters is returned without recomputation
    again = sgphys.run_experiment("phase_diagram", out=out, **_tiny())
    assert again.attrs["history"] == resumed.attrs["history"]
    assert len(mtimes) == len(done)
    # reuse=False recomputes it (the same numbers, a new file)
    stamp = out.stat().st_mtime_ns
    redone = sgphys.run_experiment("phase_diagram", out=out, reuse=False, **_tiny())
    assert out.stat().st_mtime_ns != stamp
    for name in fresh.data_vars:
        np.testing.assert_array_equal(redone[name].values, fresh[name].values, err_msg=name)


def test_parameter_validation():
    with pytest.raises(ValueError, match="experiment"):
        sgphys.run_experiment("fig9")
    with pytest.raises(ValueError, match="unknown parameter"):
        sgphys.run_experiment("phase_diagram", gamma=1)
    with pytest.raises(ValueError, match="preset"):
        sgphys.run_experiment("phase_diagram", preset="huge")
    with pytest.raises(ValueError, match="P"):
        sgphys.run_experiment("phase_diagram", P=[10, -1])
    with pytest.raises(ValueError, match="solvers"):
        sgphys.run_experiment("phase_diagram", solvers=["magic"])
    with pytest.raises(ValueError, match="seeds"):
        sgphys.run_experiment("phase_diagram", seeds=0)
    with pytest.raises(ValueError, match="workers"):
        sgphys.run_experiment("phase_diagram", workers=0)


def test_exact_solution_is_always_stored():
    ds = sgphys.run_experiment("phase_diagram", D=2, N=[5], P=[30], seeds=1, P_test=50,
                               solvers=["tap"])
    assert list(ds.solver.values) == ["exact", "tap"]
    assert ds.converged.sel(solver="exact").item() == 1


def test_point_store_round_trip_and_empty_file_is_not_done(tmp_path):
    from sgphys.sweep import PointStore

    store = PointStore(tmp_path / "s")
    store.put("a", {"x": np.arange(3.0), "r": np.asarray("converged")})
    assert store.has("a") and not store.has("b")
    got = store.get("a")
    assert np.array_equal(got["x"], np.arange(3.0)) and got["r"].item() == "converged"
    (tmp_path / "s" / "b.npz").write_bytes(b"")  # what a machine crash can leave
    assert not store.has("b")


POOL_SCRIPT = textwrap.dedent("""
    import sys
    import sgphys
    if __name__ == "__main__":
        sgphys.run_experiment("phase_diagram", out=sys.argv[1], D=20, N=list(range(10, 200)),
                              P=[1000, 2000], seeds=1, P_test=100, workers=2, progress=False)
""")


def _children(pid):
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_pool_workers_die_with_a_killed_sweep(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(POOL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "pd.nc")])
    partial = tmp_path / "pd.nc.partial"
    deadline = time.time() + 120
    while time.time() < deadline and not (partial.exists() and any(partial.glob("*.npz"))):
        time.sleep(0.05)
    workers = [c for c in _children(proc.pid) if "spawn_main" in
               Path(f"/proc/{c}/cmdline").read_text(errors="replace")]
    assert len(workers) == 2, workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)
