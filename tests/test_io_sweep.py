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


def test_batched_test_errors_equal_one_model_at_a_time():
    """A phase-diagram point takes the test errors of all its models in one pass at the
    end (a BLAS product per block once the stack is large): each equals the error of that
    model's W on the point's test set, computed alone."""
    from sgphys.observables.weights import STACK_BLAS

    Ps = list(range(20, 20 + 10 * STACK_BLAS, 10))  # two solvers: 2 STACK_BLAS weights
    ds = sgphys.run_experiment("phase_diagram", D=3, N=[10], P=Ps, seeds=1, P_test=300)
    streams = point_streams(0, {"N": 10}, 0)
    H, y = sgphys.sample_tasks(3, 10, max(Ps), seed=streams["train"],
                               method="statistics").feature_arrays()
    test = sgphys.sample_tasks(3, 10, 300, seed=streams["test"], method="statistics")
    for P in Ps[::3]:
        model = sgphys.SpinModel.from_arrays(H[:P], y[:P], 1.0, 3)
        for name in ("exact", "tap"):
            r = (sgphys.solve_exact(model, 100.0) if name == "exact"
                 else sgphys.solve_amp(model, 100.0))
            stored = ds.test_error.sel(N=10, P=P, seed=0, solver=name).item()
            assert stored == pytest.approx(sgphys.test_error(r.W, test), rel=1e-9)


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


# -- hostile files: output paths, checksums, leftovers, CF -----------------------------------

import socket  # noqa: E402
import warnings  # noqa: E402

from sgphys.sweep import PointStore  # noqa: E402

HESS = dict(D=[2, 3], P=[3, 5], seeds=1, N=20)


def _special_paths(tmp_path):
    """A FIFO, a socket, a directory and symbolic links to each, and a dangling link."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    folder = tmp_path / "folder"
    folder.mkdir()
    paths = {"FIFO": fifo, "socket": sock_path, "directory": folder}
    for label, target in list(paths.items()):
        link = tmp_path / f"link-to-{target.name}"
        link.symlink_to(target)
        paths[f"link to {label}"] = link
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere.nc")
    paths["dangling link"] = dangling
    return paths, sock


def _snapshot(folder):
    return sorted((p.name, p.is_dir()) for p in Path(folder).iterdir())


def test_special_output_paths_are_refused_before_any_work(tmp_path, monkeypatch):
    """A FIFO, socket, directory (or a link to one, or a dangling link) as ``out`` or as
    io.save's path: ValueError naming the parameter, and nothing computed or written (a
    FIFO is never opened: opening one for writing would block)."""
    paths, sock = _special_paths(tmp_path)
    from sgphys.experiments import get_experiment

    calls = []
    exp = get_experiment("hessian")
    monkeypatch.setattr(exp, "point", lambda *a: calls.append(a))
    ds = xr.Dataset({"x": ("a", np.arange(3.0), {"long_name": "x", "units": "1"})},
                    coords={"a": ("a", np.arange(3), {"long_name": "a", "units": "1"})})
    try:
        before = _snapshot(tmp_path)
        for label, path in paths.items():
            with pytest.raises(ValueError, match=r"^out=") as info:
                sgphys.run_experiment("hessian", out=path, **HESS)
            assert "regular file" in str(info.value) or "dangling" in str(info.value), label
            with pytest.raises(ValueError, match=r"^path="):
                io.save(ds, path)
        assert calls == [] and _snapshot(tmp_path) == before
    finally:
        sock.close()
    for bad in (3, 2.5, True, b"", "", "a\0b", ["x.nc"], str(tmp_path / "new") + os.sep):
        with pytest.raises(ValueError, match="out"):
            sgphys.run_experiment("hessian", out=bad, **HESS)
    # a file where a parent directory should be
    (tmp_path / "plain").write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        io.check_output_path("out", tmp_path / "plain" / "k.nc")


def test_dev_null_is_refused_without_writing():
    """A character device is refused by looking at it only (lstat): nothing is opened."""
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    with pytest.raises(ValueError, match="character device"):
        io.check_output_path("out", "/dev/null")
    assert os.path.exists("/dev/null")


def test_a_symbolic_link_to_a_regular_file_is_followed_and_kept(tmp_path):
    """The documented rule: the link's target is replaced atomically, the link stays a
    link (and its lock and point store sit beside the target)."""
    real_dir = tmp_path / "store"
    real_dir.mkdir()
    target = real_dir / "k.nc"
    sgphys.run_experiment("hessian", out=target, **{**HESS, "N": 10})  # another run's file
    link = tmp_path / "k.nc"
    link.symlink_to(target)
    ds = sgphys.run_experiment("hessian", out=link, **HESS)
    assert link.is_symlink() and os.readlink(link) == str(target)
    back = io.load(target)
    np.testing.assert_array_equal(back.eigenvalues.values, ds.eigenvalues.values)
    assert sorted(p.name for p in real_dir.iterdir()) == ["k.nc"]  # no lock, store or tmp
    assert io.check_output_path("out", link) == os.path.realpath(target)


def test_numpy_and_zero_d_numbers_are_parameters_like_python_numbers(tmp_path):
    """NumPy integers and floats and 0-d arrays are accepted wherever a number is, and give
    the same parameters (the same file key and values) as Python numbers."""
    plain = sgphys.run_experiment("hessian", D=[2], P=[30, 40, 50], seeds=1, N=20, lam=0.5,
                                  out=tmp_path / "a.nc")
    numpy = sgphys.run_experiment("hessian", D=np.array([2], dtype=np.int32),
                                  P=list(np.arange(30, 60, 10)), seeds=np.int64(1),
                                  N=np.array(20), lam=np.float32(0.5), bins=np.uint16(45),
                                  zero_atol=np.array(1e-5), out=tmp_path / "b.nc")
    assert numpy.attrs["parameters"] == plain.attrs["parameters"]
    np.testing.assert_array_equal(numpy.eigenvalues.values, plain.eigenvalues.values)
    for bad in ({"seeds": np.array([1, 2])}, {"N": np.float64(2.5)}, {"lam": np.array(1j)},
                {"D": [np.bool_(True)]}, {"seeds": np.float64(1.0)}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            sgphys.run_experiment("hessian", **{**dict(D=[2], P=[30], seeds=1, N=20), **bad})
    with pytest.raises(ValueError, match="workers"):
        sgphys.run_experiment("hessian", workers=np.float64(2.0), **HESS)


def _xor(path, offset, n=64):
    data = bytearray(path.read_bytes())
    data[offset:offset + n] = bytes(b ^ 0xFF for b in data[offset:offset + n])
    path.write_bytes(bytes(data))


def test_a_damaged_netcdf_file_is_moved_aside_and_recomputed(tmp_path):
    """64 flipped bytes inside a stored variable's values: the checksum no longer matches,
    the file is named in a warning, moved to .corrupt and recomputed (values as before).
    64 flipped bytes in the middle of the file: whatever they hit, the rerun's values are
    right."""
    out = tmp_path / "k.nc"
    ref = sgphys.run_experiment("hessian", out=out, **HESS)
    assert io.verify(io.load(out)) is None
    raw = out.read_bytes()
    values = ref.spectral_density.values.astype("<f8").tobytes()
    offset = raw.find(values)
    assert offset > 0  # stored contiguously and uncompressed
    _xor(out, offset + 8)
    with pytest.warns(RuntimeWarning, match="k.nc: checksum mismatch"):
        again = sgphys.run_experiment("hessian", out=out, **HESS)
    assert (tmp_path / "k.nc.corrupt").exists()
    for name in ref.data_vars:
        np.testing.assert_array_equal(again[name].values, ref[name].values, err_msg=name)
    assert io.verify(io.load(out)) is None
    (tmp_path / "k.nc.corrupt").unlink()
    _xor(out, out.stat().st_size // 2)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        third = sgphys.run_experiment("hessian", out=out, **HESS)
    for name in ref.data_vars:
        np.testing.assert_array_equal(third[name].values, ref[name].values, err_msg=name)
    np.testing.assert_array_equal(io.load(out).eigenvalues.values, ref.eigenvalues.values)


def test_checksum_covers_values_and_key_not_history():
    ds = sgphys.run_experiment("hessian", D=[2], P=[3], seeds=1, N=20)
    assert io.verify(ds) is None
    for change in ("value", "key", "coord"):
        other = ds.copy(deep=True)
        if change == "value":
            other["zero_mode_fraction"].values[...] += 1e-12
        elif change == "key":
            other.attrs["parameters"] = other.attrs["parameters"].replace('"N": 20', '"N": 21')
        else:
            other = other.assign_coords(bin=other.bin.values + 1e-9)
        assert io.verify(other) == "checksum mismatch", change
    other = ds.copy()
    other.attrs["history"] = "rewritten"
    assert io.verify(other) is None
    del other.attrs["checksum"]
    assert io.verify(other) == "no checksum"


def test_swapped_point_files_are_detected_and_recomputed(tmp_path, monkeypatch):
    """Each point file holds its key and a checksum: two files swapped in the store (each
    a valid file of another point) are named, moved aside and recomputed."""
    out = tmp_path / "k.nc"

    def interrupted(ds, path):
        raise KeyboardInterrupt

    monkeypatch.setattr(io, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        sgphys.run_experiment("hessian", out=out, **HESS)
    monkeypatch.undo()
    files = sorted((tmp_path / "k.nc.partial").glob("*.npz"))
    assert len(files) == 4 and not out.exists()
    a, b = files[0], files[1]
    tmp = a.with_suffix(".swap")
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    with pytest.warns(RuntimeWarning, match="another point") as record:
        resumed = sgphys.run_experiment("hessian", out=out, **HESS)
    named = " ".join(str(w.message) for w in record)
    assert a.name in named and b.name in named
    fresh = sgphys.run_experiment("hessian", **HESS)
    for name in fresh.data_vars:
        np.testing.assert_array_equal(resumed[name].values, fresh[name].values, err_msg=name)


def test_a_point_file_with_other_values_fails_its_checksum(tmp_path):
    """A valid zip whose values were changed (its stored key and checksum kept), or a
    damaged one (the zip's CRC): refused and moved aside; an intact one read back."""
    key = "0" * 20
    store = PointStore(tmp_path / "s")
    store.put(key, {"x": np.arange(100.0), "__status__": np.asarray(1)})
    path = tmp_path / "s" / (key + ".npz")
    assert np.array_equal(store.get(key)["x"], np.arange(100.0))
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["x"][7] += 1e-9
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    with pytest.warns(RuntimeWarning, match=f"{key}.npz is unusable.*checksum mismatch"):
        assert store.get(key) is None
    assert (tmp_path / "s" / (key + ".npz.corrupt")).exists() and not path.exists()
    store.put(key, {"x": np.arange(100.0), "__status__": np.asarray(1)})
    offset = path.read_bytes().find(np.arange(100.0).tobytes())
    assert offset > 0  # npz is an uncompressed zip
    _xor(path, offset + 80, 8)
    with pytest.warns(RuntimeWarning, match="unreadable"):
        assert store.get(key) is None


def test_leftovers_of_a_killed_save_are_removed_and_nothing_else(tmp_path):
    out = tmp_path / "k.nc"
    mine = tmp_path / ".k.nc.ab12_x9z.tmp"  # what mkstemp names a killed save's file
    others = [tmp_path / ".k.nc.short.tmp", tmp_path / ".kk.nc.ab12_x9z.tmp",
              tmp_path / "k.nc.ab12_x9z.tmp", tmp_path / ".k.nc.ab12_x9z.tmp.keep"]
    for p in [mine] + others:
        p.write_bytes(b"partial")
    folder = tmp_path / ".k.nc.abcdefgh.tmp"
    folder.mkdir()  # the pattern, but not a regular file: kept
    sgphys.run_experiment("hessian", out=out, **HESS)
    assert not mine.exists() and all(p.exists() for p in others) and folder.is_dir()
    # the point store's own leftovers (.<20 hex key><8 characters>.tmp), when it is opened
    store = tmp_path / "k.nc.partial"
    store.mkdir()
    leftover = store / (".{}abcd_123.tmp".format("f" * 20))
    kept = [store / (".{}abcd_123.tmp".format("g" * 20)), store / ("f" * 20 + ".npz")]
    for p in [leftover] + kept:
        p.write_bytes(b"partial")
    PointStore(store)
    assert not leftover.exists() and all(p.exists() for p in kept)


def test_a_bad_scheduler_leaves_no_empty_point_store(tmp_path):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "k.nc"
    with pytest.raises(ValueError, match="scheme"):
        sgphys.run_experiment("hessian", out=out, scheduler="bogus://nowhere", **HESS)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="scheduler"):
        sgphys.run_experiment("hessian", out=out, scheduler=3, **HESS)


def test_memory_limit_is_checked_before_anything_is_allocated(tmp_path, monkeypatch):
    """D whose spin model cannot fit (n_spins^2 doubles) is refused at once, naming D and
    the memory, for any limit; a bad SGPHYS_MAX_MEMORY stops the run (one message), not
    every point."""
    from sgphys import _validate

    for D in (20000, 100000):
        with pytest.raises(ValueError, match=rf"^D={D}: .* needs about .*TiB"):
            sgphys.run_experiment("hessian", out=tmp_path / "k.nc", D=[D], P=[30], seeds=1)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("SGPHYS_MAX_MEMORY", "lots")
    with pytest.raises(ValueError, match="SGPHYS_MAX_MEMORY"):
        sgphys.run_experiment("hessian", **HESS)
    # a limit of 400 KiB: D = 10 (n = 110, 3 n^2 doubles = 290 KB) fits, D = 20 (4.2 MB)
    # not
    monkeypatch.setenv("SGPHYS_MAX_MEMORY", "400K")
    assert _validate.memory_limit() == 400 * 2 ** 10
    with pytest.raises(ValueError, match="^D=20: .*MiB"):
        sgphys.run_experiment("hessian", D=[20], P=[30], seeds=1)
    # stored results: 10^4 seeds x eigenvalues (110) x 8 B x 3 copies > 400 KiB
    with pytest.raises(ValueError, match="^sizes=.*seed.*eigenvalues"):
        sgphys.run_experiment("hessian", D=[10], P=[30], seeds=10 ** 4)
    # a process pool holds one point per worker: D = 10 fits once, not 4 times
    with pytest.raises(ValueError, match="^workers=4: 4 points at once"):
        sgphys.run_experiment("hessian", D=[10], P=[30], seeds=1, workers=4)
    # a size parameter whose coordinate alone is too large
    with pytest.raises(ValueError, match="^bins=1000000:"):
        sgphys.run_experiment("hessian", D=[2], P=[3], seeds=1, bins=10 ** 6)


def test_files_follow_cf_conventions(tmp_path):
    import netCDF4

    out = tmp_path / "q.nc"
    sgphys.run_experiment("phase_diagram", out=out, D=2, N=[5], P=[20], seeds=1, P_test=10)
    with netCDF4.Dataset(out) as nc:
        assert nc.getncattr("Conventions") == "CF-1.11"
        assert nc.getncattr("checksum").startswith("sha256:")
        for name, var in nc.variables.items():
            attrs = var.ncattrs()
            assert {"long_name", "units"} <= set(attrs), name
            if name in nc.dimensions:  # a coordinate variable
                assert "_FillValue" not in attrs, name
            if var.dtype == str or var.dtype.kind in "SU":  # strings: UTF-8 char arrays
                assert var.dtype == np.dtype("S1") and var.getncattr("_Encoding") == "utf-8"
    back = io.load(out)
    assert list(back.solver.values) == ["exact", "tap"] and io.verify(back) is None


def test_compliance_checker_finds_no_cf_error(tmp_path):
    """The IOOS compliance checker (optional: pip install compliance-checker) on a small
    file: no errors or warnings."""
    import shutil

    exe = shutil.which("compliance-checker") or shutil.which(
        "compliance-checker", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.skip("compliance-checker is not installed")
    out = tmp_path / "q.nc"
    sgphys.run_experiment("phase_diagram", out=out, D=2, N=[5], P=[20], seeds=1, P_test=10)
    r = subprocess.run([exe, "--test=cf:1.11", "--criteria=strict", str(out)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "All tests passed" in r.stdout, r.stdout + r.stderr
    assert "exceptions occurred" not in r.stderr, r.stderr


KILLED_SAVE = textwrap.dedent("""
    import os, signal, sys
    import xarray as xr
    import sgphys
    original = xr.Dataset.to_netcdf
    def write_then_die(self, path, *args, **kwargs):
        original(self, path, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)  # between the temporary file and the rename
    xr.Dataset.to_netcdf = write_then_die
    sgphys.run_experiment("hessian", out=sys.argv[1], D=[2, 3], P=[3, 5], seeds=1, N=20)
""")


def test_a_save_killed_before_its_rename_leaves_a_leftover_the_next_run_removes(tmp_path):
    out = tmp_path / "k.nc"
    proc = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(out)], timeout=300)
    assert proc.returncode == -signal.SIGKILL
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) == 1 and leftovers[0].startswith(".k.nc.") and not out.exists()
    ds = sgphys.run_experiment("hessian", out=out, **HESS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.nc"]
    assert io.verify(io.load(out)) is None and ds.status.values.all()


@pytest.mark.parametrize("name, kw", [
    ("phase_diagram", dict(D=6, N=[5], P=[20000], dense_max_D=3, P_test=50)),
    ("quantized", dict(D=[6], N=[5], P=[20000], dense_max_D=3)),
    ("finite_size", dict(D=[6], alpha_tau=[[1.0, 600.0]], point=[0], seeds_per_D=[],
                         dense_max_D=3))])
def test_matrix_free_points_are_memory_checked_per_worker(name, kw, monkeypatch):
    """Experiments without a dense spin model per point declare a point's bytes: at least
    the rank-one factors a point holds (measured on the arrays), and a pool of two is
    refused when two points do not fit the limit together, before any work."""
    from sgphys.experiments import get_experiment, resolve_params
    from sgphys.experiments._common import training_set

    exp = get_experiment(name)
    params = resolve_params(exp, "large", kw)
    need = exp.point_bytes(params)
    a, b, y = training_set(6, 5, 20000 if name != "finite_size" else 600 * 36,
                           np.random.SeedSequence(0), "statistics", True)
    held = a.nbytes + b.nbytes + y.nbytes
    assert held <= need < 2 * held  # the factors are what a matrix-free point holds
    monkeypatch.setenv("SGPHYS_MAX_MEMORY", str(int(1.5 * need)))
    with pytest.raises(ValueError, match="^workers=2: 2 points at once"):
        sgphys.run_experiment(name, "large", workers=2, seeds=1, **kw)
