"""Resumable parameter sweeps (docs/experiments.rst, section Experiments).

A sweep is the product of an experiment's swept values and the seed indices. Each
(point, seed index) is keyed by a hash of the experiment, its fixed parameters, the point's
values, the seed index, the experiment seed and the code (:func:`code_version`); its random
streams come from ``SeedSequence(experiment_seed, spawn_key=(v0, v1, seed_index))`` with
``(v0, v1)`` a stable hash of the point's canonical values (:func:`values_hash`), spawned
into training-data, test-data, initialisation and resampling streams. So a result depends
only on its parameter values, never on the executor, the order, or where the point sits in
the grid: a grid reordered, shrunk or extended between an interruption and its resume gives
the file an uninterrupted run of the new grid gives, and points computed by other code are
recomputed, never mixed in.

Finished results are written one file per key, atomically, into a store directory beside
the output (``<out>.partial/``, made when the first point finishes); a sweep killed at any
moment (SIGKILL included) and restarted recomputes nothing finished (pool and dask workers
run points in chunks of at most ``MAX_CHUNK``; a chunk's results are stored when it
returns, so a kill loses at most the chunks in flight). When every key is done, the
Dataset is assembled and written, and the store removed. A point that raises is recorded
(``status`` 0 and the message in ``error``) and the sweep goes on. Each point file carries
its own key and a SHA-256 of its values (:func:`result_checksum`); a file that cannot be
read, or whose key or checksum does not match, is reported by name (a warning), moved
aside (``*.corrupt``) and recomputed. One sweep writes a given output at a time
(:class:`OutputLock`, an OS file lock released on any exit).

Executors: serial; a process pool (``workers=N``, spawn context, numba limited to one thread
per worker); a dask.distributed cluster (``scheduler="local"`` for a LocalCluster with
``workers`` processes, or the address of a running scheduler). dask is optional.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from functools import lru_cache

import numpy as np

__all__ = ["Point", "point_key", "point_streams", "PointStore", "run_points", "local_cluster",
           "STREAMS", "values_hash", "code_version", "OutputLock", "SweepLocked",
           "MainGuardError", "result_checksum"]

#: roles of the per-point random streams, in spawn order
STREAMS = ("train", "test", "init", "resample")


class Point:
    """One (swept values, seed index) of a sweep."""

    __slots__ = ("index", "values", "seed_index", "key")

    def __init__(self, index, values, seed_index, key):
        self.index = index
        self.values = values
        self.seed_index = seed_index
        self.key = key


@lru_cache(maxsize=1)
def code_version() -> str:
    """``"<version>+<hash>"``: the sgphys version and a SHA-256 (12 hex digits) of every
    Python source file of the installed package, so results of changed code never count as
    finished points of a resumed sweep."""
    from ._version import __version__

    root = os.path.dirname(os.path.abspath(__file__))
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(folder, name)
            digest.update(os.path.relpath(path, root).encode())
            with open(path, "rb") as fh:
                digest.update(fh.read())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def _canonical(obj) -> str:
    from .io import json_default

    return json.dumps(obj, sort_keys=True, default=json_default, separators=(",", ":"))


def values_hash(values) -> tuple:
    """Two 32-bit words from a SHA-256 of a point's canonical values (sorted JSON): the
    point's identity in its random streams, independent of its place in the grid."""
    h = hashlib.sha256(_canonical(values).encode()).digest()
    return int.from_bytes(h[:4], "little"), int.from_bytes(h[4:8], "little")


def point_key(experiment, fixed, values, seed_index, experiment_seed):
    blob = _canonical({"experiment": experiment, "fixed": fixed, "values": values,
                       "seed_index": seed_index, "experiment_seed": experiment_seed,
                       "code": code_version()})
    return hashlib.sha1(blob.encode()).hexdigest()[:20]


def point_streams(experiment_seed, values, seed_index):
    """Independent SeedSequences for the roles in :data:`STREAMS` (and a ``pilot`` stream
    shared by all seeds of the point), from the point's values (:func:`values_hash`)."""
    v0, v1 = values_hash(values)
    root = np.random.SeedSequence(experiment_seed, spawn_key=(v0, v1, seed_index))
    streams = dict(zip(STREAMS, root.spawn(len(STREAMS))))
    streams["pilot"] = np.random.SeedSequence(experiment_seed, spawn_key=(v0, v1, 2**32 - 1))
    return streams


def make_points(experiment, sweep_dims, params, n_seeds, experiment_seed):
    """All points, in C order over the swept dims then the seed index."""
    fixed = {k: v for k, v in params.items() if k not in sweep_dims and k != "seeds"}
    grids = [params[d] for d in sweep_dims]
    points = []
    for index, combo in enumerate(itertools.product(*grids)):
        values = dict(zip(sweep_dims, combo))
        for s in range(n_seeds):
            points.append(Point(index, values, s,
                                point_key(experiment, fixed, values, s, experiment_seed)))
    return points


#: entries of a point file that are not part of the result
_KEY, _CHECKSUM = "__key__", "__checksum__"


def result_checksum(result) -> str:
    """SHA-256 (hex) of a point result: every entry but ``__checksum__``, by name, with its
    dtype, shape and bytes (npz files store arrays exactly, so the bytes read back are the
    bytes written)."""
    h = hashlib.sha256()
    for name in sorted(k for k in result if k != _CHECKSUM):
        a = np.ascontiguousarray(np.asarray(result[name]))
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode() + b"\0")
        h.update(a.tobytes())
    return h.hexdigest()


class PointStore:
    """One ``.npz`` file per finished key, written to a temporary name and renamed.

    The rename is atomic, so a point's file is complete or absent whenever the process is
    killed (SIGKILL included: written data live in the kernel's page cache). Files are not
    fsynced one by one (that cost ~2 ms a point, as much as a small point's computation);
    after a crash of the whole machine the last points may come back empty, and an empty
    file counts as not done, so they are recomputed. Each file stores its key and
    :func:`result_checksum`; :meth:`get` refuses a file whose key or checksum differs (a
    file copied, renamed or damaged).

    The directory is made by the first :meth:`put` (a sweep that stops before its first
    point leaves nothing behind). Opening a store removes the temporary files an
    interrupted :meth:`put` left (``.<key><8 characters>.tmp``): open it only while holding
    the output's :class:`OutputLock`.
    """

    _TMP = re.compile(r"\.[0-9a-f]{20}[a-z0-9_]{8}\.tmp")

    def __init__(self, directory):
        self.directory = os.fspath(directory)
        if os.path.lexists(self.directory) and not os.path.isdir(self.directory):
            raise ValueError(f"point store {self.directory!r} exists and is not a directory")
        self._remove_leftovers()

    def _remove_leftovers(self):
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            if self._TMP.fullmatch(name):
                try:
                    os.unlink(os.path.join(self.directory, name))
                except OSError:
                    pass

    def _path(self, key):
        return os.path.join(self.directory, key + ".npz")

    def has(self, key):
        try:
            return os.path.getsize(self._path(key)) > 0
        except OSError:
            return False

    def put(self, key, result):
        os.makedirs(self.directory, exist_ok=True)
        arrays = {k: np.asarray(v) for k, v in result.items()}
        arrays[_KEY] = np.asarray(key)
        arrays[_CHECKSUM] = np.asarray(result_checksum(arrays))
        fd, tmp = tempfile.mkstemp(prefix="." + key, suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
            os.replace(tmp, self._path(key))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def get(self, key):
        """The stored result of ``key``; None (after a warning naming the file, which is
        moved aside to ``<file>.corrupt``) when the file cannot be read, belongs to another
        key or fails its checksum."""
        path = self._path(key)
        try:
            with np.load(path, allow_pickle=False) as z:
                stored = {k: z[k] for k in z.files}
        except Exception as exc:  # truncated, corrupt or foreign file: recompute the point
            return self._aside(path, f"is unreadable ({type(exc).__name__}: {exc})")
        if _KEY not in stored or _CHECKSUM not in stored:
            return self._aside(path, "is unusable (no key or checksum)")
        if str(stored[_KEY]) != key:
            return self._aside(path, f"is unusable (it holds the result of another point, "
                                     f"key {stored[_KEY]})")
        if str(stored[_CHECKSUM]) != result_checksum(stored):
            return self._aside(path, "is unusable (checksum mismatch)")
        del stored[_KEY], stored[_CHECKSUM]
        return stored

    @staticmethod
    def _aside(path, problem):
        aside = path + ".corrupt"
        os.replace(path, aside)
        warnings.warn(f"point file {path} {problem}; moved to {aside} and recomputed",
                      RuntimeWarning, stacklevel=3)

    def remove(self):
        if os.path.islink(self.directory):
            os.unlink(self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)

    def remove_if_empty(self):
        """Remove the directory if it holds nothing (e.g. after a sweep that failed before
        its first point)."""
        try:
            os.rmdir(self.directory)
        except OSError:
            pass


def compute_point(point, params, values, seed_index, experiment_seed):
    """Run one point in the current process; exceptions become a recorded failure.

    ``point`` is the experiment's point function ``point(params, values, streams) -> dict``
    (a module-level function, so it pickles by reference to pool and dask workers).
    """
    from .timing import take

    streams = point_streams(experiment_seed, values, seed_index)
    take()  # sections timed before this point are not its own
    t0 = time.perf_counter()
    try:
        result = point(params, values, streams)
        result = {k: np.asarray(v) for k, v in result.items()}
        result["__status__"] = np.asarray(1)
    except Exception as exc:  # recorded, the sweep goes on
        msg = f"{type(exc).__name__}: {exc}"
        result = {"__status__": np.asarray(0), "__error__": np.asarray(msg),
                  "__traceback__": np.asarray(traceback.format_exc()[-2000:])}
    split = take()
    split["other"] = max(0.0, time.perf_counter() - t0 - sum(split.values()))
    # the point's time split, taken off by the sweep before the result is stored
    result[TIMINGS] = np.asarray(json.dumps(split))
    return result


#: key of a point result's time split (removed before the result is stored)
TIMINGS = "__timings__"
#: key of a pool worker's first result: when the worker was ready (time.time())
READY = "__ready__"
_worker = {"ready": None}
_pool_start = {"t": None}
_last_split: dict = {}


def last_time_split() -> dict:
    """The time split of the last sweep run in this process: seconds per phase of the
    points (``model build``, ``solves``, ``test errors``, ``other``: summed over the
    points, so over all workers), ``worker start-up`` (a pool's workers, from the pool's
    start to a worker ready, mean over workers), ``I/O`` (point files and the dataset file),
    ``assembly`` (the dataset) and ``wall``; ``workers`` the pool size."""
    return dict(_last_split)


def _load_blas():
    """Load every BLAS a point can use before limiting threads: numpy and scipy.linalg
    each bring their own OpenBLAS, and threadpoolctl only limits libraries already loaded
    (scipy's, loaded later, would otherwise run two spinning threads per worker)."""
    import numpy  # noqa: F401
    import scipy.linalg  # noqa: F401


def _init_worker():
    """One thread per worker for numba and BLAS (numpy is already imported when the task
    function is unpickled, so BLAS is limited through threadpoolctl, not the environment)."""
    os.environ["NUMBA_NUM_THREADS"] = "1"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    _load_blas()
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


def _init_pool_worker(parent_pid):
    """Pool worker set-up: die with the sweep process (Linux), then :func:`_init_worker`.

    Without this, workers of a killed sweep (SIGKILL, or SIGTERM from a batch system) went
    on computing their chunks for minutes, competing with the resumed sweep.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # no usable prctl: the worker then stops when it
            return _init_worker()  # next reads the broken call queue, as on other systems
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)
    _init_worker()
    _worker["ready"] = time.time()


class TextProgress:
    """Progress as whole lines on stderr (for logs and batch jobs: no carriage returns):
    one line when the sweep starts, one each time another ~10 % of its points is done, one
    when it finishes."""

    def __init__(self, total, desc, reused=0, stream=None, step=10):
        import time

        self.total, self.desc, self.done, self.step = total, desc, 0, step
        self.stream = stream if stream is not None else sys.stderr
        self._next = step
        self._t0 = time.perf_counter()
        self._print(f"started: {total} points to compute"
                    + (f" ({reused} finished earlier, reused)" if reused else ""))

    def _print(self, text):
        print(f"{self.desc}: {text}", file=self.stream, flush=True)

    def update(self, n=1):
        import time

        self.done += n
        percent = 100 * self.done // max(1, self.total)
        if percent >= self._next and self.done < self.total:
            self._print(f"{percent}% ({self.done}/{self.total} points, "
                        f"{time.perf_counter() - self._t0:.1f} s)")
            self._next = (percent // self.step + 1) * self.step

    def close(self):
        import time

        word = "finished" if self.done >= self.total else "stopped"
        self._print(f"{word}: {self.done} of {self.total} points computed in "
                    f"{time.perf_counter() - self._t0:.1f} s")


def _progress_bar(total, progress, desc, reused=0):
    """tqdm bar (``progress`` True, or None on a terminal), :class:`TextProgress`
    (``"text"``) or None (False, or None when stderr is not a terminal)."""
    if progress is None:
        progress = sys.stderr.isatty()
    if isinstance(progress, str):  # "text" (checked by run_points)
        return TextProgress(total, desc, reused)
    if not progress or total == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="point")


def run_points(experiment, params, points, store, workers=1, scheduler=None, progress=None,
               experiment_seed=0, point=None):
    """Compute every point not yet in ``store`` and return all results in point order.

    ``experiment`` names the sweep (progress bar); ``point`` is its point function.
    Finished points are read once (an unreadable file is reported, moved aside and its
    point recomputed); new results are stored as they arrive. ``progress``: True (tqdm
    bar), False, ``"text"`` (:class:`TextProgress` lines) or None (a bar on a terminal).
    """
    if point is None or not callable(point):
        raise ValueError(f"point must be the experiment's point function, got {point!r}")
    if not (progress is None or isinstance(progress, bool)
            or (isinstance(progress, str) and progress == "text")):
        raise ValueError(f"progress must be None, True, False or 'text', got {progress!r}")
    results = {}
    for p in points:
        if p.key not in results and store.has(p.key):
            stored = store.get(p.key)
            if stored is not None:
                results[p.key] = stored
    todo = [p for p in points if p.key not in results]
    bar = _progress_bar(len(todo), progress, experiment, reused=len(points) - len(todo))
    t_wall = time.perf_counter()
    split = {"I/O": 0.0}
    ready = []

    def finish(p, result):
        for k, v in json.loads(str(result.pop(TIMINGS, "{}"))).items():
            split[k] = split.get(k, 0.0) + v
        if READY in result:
            ready.append(float(result.pop(READY)) - _pool_start["t"])
        t0 = time.perf_counter()
        store.put(p.key, result)
        split["I/O"] += time.perf_counter() - t0
        results[p.key] = result
        if bar is not None:
            bar.update()

    args = [(point, params, p.values, p.seed_index, experiment_seed) for p in todo]
    try:
        if scheduler is not None:
            _run_dask(todo, args, finish, scheduler, workers)
        elif workers > 1 and len(todo) > 1:
            _run_pool(todo, args, finish, workers)
        else:
            # one BLAS thread: per-point matrices are small and OpenBLAS threads fight numba's
            # for the cores (measured 2.3x slower serial sweeps on 2 cores without the limit)
            from contextlib import nullcontext

            from ._blas import controller, quiet_blas

            _load_blas()
            ctl = controller()  # kept: a fresh scan of the libraries costs milliseconds
            with ctl.limit(limits=1, user_api="blas") if ctl else nullcontext():
                quiet_blas(force=True)  # threads spinning from the caller's BLAS calls
                for p, a in zip(todo, args):
                    finish(p, compute_point(*a))
    finally:
        if bar is not None:
            bar.close()
        if ready:
            split["worker start-up"] = float(np.mean(ready))
        _last_split.clear()
        _last_split.update(split, wall=time.perf_counter() - t_wall,
                           workers=1 if scheduler is None and workers <= 1 else workers)
    return [results[p.key] for p in points]


class SweepLocked(RuntimeError):
    """Another sweep is writing the same output file."""


class OutputLock:
    """One sweep per output file: an exclusive ``flock`` on ``<out>.lock``, taken without
    waiting and released on any exit of the process (the kernel drops it, SIGKILL
    included). The lock file names its holder (pid, host, start time, command).

    >>> with OutputLock("data/phase_diagram.nc"):   # doctest: +SKIP
    ...     pass
    """

    def __init__(self, out):
        self.path = os.fspath(out) + ".lock"
        self._fd = None

    def __enter__(self):
        import socket
        import time

        try:
            import fcntl
        except ImportError:  # no POSIX locks (Windows): run unlocked, and say so
            warnings.warn(f"no OS file locks on this platform: {self.path[:-5]} is not "
                          "protected against a second sweep", RuntimeWarning, stacklevel=2)
            return self

        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = ""
                try:
                    holder = os.read(fd, 4096).decode(errors="replace").strip()
                finally:
                    os.close(fd)
                raise SweepLocked(f"{self.path[:-5]} is being written by another sweep "
                                  f"({holder or 'unknown holder'}); wait for it or use "
                                  "another --out") from None
            # the file may have been removed by its previous holder between open and flock
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, (f"pid {os.getpid()} on {socket.gethostname()} since "
                      f"{time.strftime('%Y-%m-%d %H:%M:%S')}: {' '.join(sys.argv)[:300]}"
                      ).encode())
        self._fd = fd
        return self

    def __exit__(self, *exc):
        if self._fd is not None:
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            os.close(self._fd)  # closing drops the lock
            self._fd = None
        return False


#: glibc settings for worker processes: keep freed memory instead of returning every large
#: numpy temporary to the system (measured ~1.5x faster points on 2 cores)
WORKER_MALLOC = {"MALLOC_TRIM_THRESHOLD_": str(2**28), "MALLOC_MMAP_THRESHOLD_": str(2**28)}

#: most points a pool or dask task computes before its results are stored
MAX_CHUNK = 32


def compute_chunk(chunk):
    """Points of one pool task in this worker (the worker's first result carries when it
    was ready, for the sweep's time split)."""
    results = [compute_point(*a) for a in chunk]
    if _worker["ready"] is not None and results:
        results[0][READY] = np.asarray(_worker["ready"])
        _worker["ready"] = None
    return results


def _chunks(n, workers):
    """Index ranges of at most MAX_CHUNK points, at least ~32 tasks per worker (points of
    uneven cost balance; with many cheap points the chunks still amortise the per-task
    cost)."""
    size = max(1, min(MAX_CHUNK, n // (32 * max(1, workers))))
    return [range(i, min(n, i + size)) for i in range(0, n, size)]


MAIN_GUARD_HELP = (
    "worker processes re-run the main script when they start, so a sweep with workers > 1 "
    "(or scheduler='local') must be called under `if __name__ == \"__main__\":` in a "
    "script; alternatively pass workers=1, or a running dask scheduler's address")


def _is_main_guard(node):
    """``if __name__ == "__main__":`` (either order of the comparison)."""
    import ast

    t = node.test
    if not (isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq)):
        return False
    sides = [t.left, t.comparators[0]]
    return (any(isinstance(x, ast.Name) and x.id == "__name__" for x in sides)
            and any(isinstance(x, ast.Constant) and x.value == "__main__" for x in sides))


def _unguarded_main_line():
    """Line of the main script's module-level statement that led here when it is not under
    a ``__main__`` guard, else None (also None for notebooks, ``python -c`` and the REPL,
    whose main module spawned workers do not re-run)."""
    import ast
    import inspect

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None:
        return None
    frame = inspect.currentframe()
    line = None
    while frame is not None:
        if frame.f_globals is vars(main) and frame.f_code.co_name == "<module>":
            line = frame.f_lineno
        frame = frame.f_back
    if line is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_main_guard(node) and \
                node.lineno <= line <= (node.end_lineno or node.lineno):
            return None
    return line


class MainGuardError(RuntimeError):
    """Worker processes would re-run an unguarded main script."""


def require_main_guard():
    """Raise one clear RuntimeError when worker processes would re-run an unguarded script
    (instead of a BrokenProcessPool and a page of multiprocessing text)."""
    line = _unguarded_main_line()
    if line is not None:
        path = getattr(sys.modules["__main__"], "__file__", "the main script")
        raise MainGuardError(f"{path}, line {line}: {MAIN_GUARD_HELP}")


def _run_pool(todo, args, finish, workers):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    require_main_guard()
    ctx = multiprocessing.get_context("spawn")
    saved = {k: os.environ.get(k) for k in WORKER_MALLOC}
    os.environ.update(WORKER_MALLOC)  # read by glibc when each worker starts
    ex = None
    _pool_start["t"] = time.time()
    try:  # the workers start at the first submit
        ex = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                 initializer=_init_pool_worker, initargs=(os.getpid(),))
        futures = {ex.submit(compute_chunk, [args[i] for i in idx]): idx
                   for idx in _chunks(len(args), workers)}
    except BaseException:
        if ex is not None:
            ex.shutdown(cancel_futures=True)
        raise
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    with ex:
        try:
            for fut in as_completed(futures):
                for i, result in zip(futures[fut], fut.result()):
                    finish(todo[i], result)
        except BrokenProcessPool as exc:
            raise RuntimeError(f"a sweep worker process died ({exc}); the points finished "
                               f"so far are kept. If this is a script: {MAIN_GUARD_HELP}") from exc


def local_cluster(workers=2):
    """A dask ``LocalCluster`` set up for sweeps: ``workers`` processes, one thread each,
    numba and BLAS limited to one thread. Start it once and pass
    ``scheduler=cluster.scheduler_address`` to several sweeps to pay its start-up once."""
    try:
        from dask.distributed import LocalCluster
    except ImportError as exc:
        raise ValueError("scheduler needs dask.distributed: pip install 'sgphys[cluster]'") from exc
    import dask

    # the workers' statistical profiler samples the task thread every 10 ms, taking the GIL:
    # measured to slow numpy-heavy points about 2x, so it is off for sweep clusters
    # dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 for its workers, which makes glibc
    # map and unmap every large numpy temporary (page faults on every point)
    # the event-loop tick (20 ms), the system monitor (500 ms) and the memory monitor
    # (100 ms) wake each worker's event loop, which then waits for the GIL held by the
    # point: with 2 workers on 2 cores, Fig. 4a points measured 8% slower on dask than on a
    # process pool with the defaults, 3% with these intervals (diagnostics only; memory
    # limits are still enforced, checked once a second)
    with dask.config.set({"distributed.worker.profile.enabled": False,
                          "distributed.nanny.pre-spawn-environ": dict(WORKER_MALLOC),
                          "distributed.admin.tick.interval": "1s",
                          "distributed.admin.system-monitor.interval": "10s",
                          "distributed.admin.system-monitor.disk": False,
                          "distributed.worker.memory.monitor-interval": "1s"}):
        return LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1,
                            processes=True, dashboard_address=None,
                            env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                                 "OPENBLAS_NUM_THREADS": "1"})


def _run_dask(todo, args, finish, scheduler, workers):
    try:
        from dask.distributed import Client, as_completed
    except ImportError as exc:
        raise ValueError("scheduler needs dask.distributed: pip install 'sgphys[cluster]'") from exc
    cluster = None
    # never the default client: a client the sweep made (or failed to make: a bad address)
    # must not become the scheduler of later dask work in the process (xarray's netCDF
    # writes took a failed client's locks)
    if scheduler == "local":
        require_main_guard()
        cluster = local_cluster(workers)
        try:
            client = Client(cluster, set_as_default=False)
        except BaseException:
            cluster.close()
            raise
    else:
        client = Client(scheduler, set_as_default=False)
    try:
        # one BLAS thread per worker process, every BLAS loaded (the environment given to a
        # LocalCluster reaches numba; threadpoolctl is what reaches an already running worker)
        client.run(_init_worker)
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        chunks = _chunks(len(args), n_workers)
        futures = [client.submit(compute_chunk, [args[i] for i in idx], pure=False)
                   for idx in chunks]
        index = {f.key: idx for f, idx in zip(futures, chunks)}
        for fut in as_completed(futures, loop=client.loop):
            for i, result in zip(index[fut.key], fut.result()):
                finish(todo[i], result)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
