"""OpenBLAS's spinning worker threads, put to sleep before numba's parallel kernels run.

After a multi-threaded call (a Cholesky, a matrix product) OpenBLAS's worker threads
busy-wait for ``2^OPENBLAS_THREAD_TIMEOUT`` cycles (default ``2^28``, about 0.1 s on x86-64,
where the wait is a loop of ``nop``) before they sleep. On a machine with as many cores as
threads they take cores from the row-parallel numba kernels that run next, whose threads
meet at a barrier every iteration: a descheduled thread stalls the whole iteration for a
scheduler time slice (measured: AMP 2.4-3x slower right after a BLAS call,
``benchmarks/import_order.py``). ``import sgphys`` before numpy shortens the wait through the
environment, which OpenBLAS reads only once, as it loads; a script that imports numpy first
has the default wait.

:func:`quiet_blas` ends the wait instead: ``blas_thread_shutdown_`` (exported by every
OpenBLAS, numpy's and scipy's bundled ones included) stops the worker threads, and OpenBLAS
starts them again at its next multi-threaded call, as it does after a ``fork`` (about
0.1 ms). It changes no result: BLAS partitions its work the same way with the new threads.
Stopping the threads is only safe when no other thread can be inside OpenBLAS, so it is done
only from the main thread while every other Python thread is a daemon (a notebook kernel's
threads are; a thread pool's workers are not); elsewhere (dask's task threads, a script's
own thread pool) nothing is done. Libraries whose wait was shortened through the environment
are left alone. ``SGPHYS_QUIET_BLAS=0`` turns it off.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

__all__ = ["quiet_blas", "blas_libraries", "controller", "use_parallel", "PARALLEL_MIN_SPINS"]

#: spin count from which the row-parallel kernels are used by default: measured faster
#: than the serial ones at 420, 930 and 1640 spins and slower at 110 on 2 cores
#: (benchmarks/solvers.py); rows are summed serially, so results do not depend on threads
PARALLEL_MIN_SPINS = 400

#: OpenBLAS waits (log2 cycles, from OPENBLAS_THREAD_TIMEOUT) at or below which its threads
#: are left alone: they sleep within about 0.4 ms by themselves
SHORT_TIMEOUT = 20

_cache = {"n_modules": -1, "controller": None, "shutdown": ()}


def controller():
    """threadpoolctl's ``ThreadpoolController`` of the libraries loaded in this process
    (a scan of the loaded libraries costs milliseconds: kept, and rescanned only when a
    module was imported since), or None without threadpoolctl."""
    n_modules = len(sys.modules)
    if n_modules != _cache["n_modules"]:
        try:
            from threadpoolctl import ThreadpoolController

            ctl = ThreadpoolController()
        except Exception:  # no threadpoolctl, or a library it cannot read
            ctl = None
        found = []
        for lib in (ctl.select(internal_api="openblas").lib_controllers if ctl else ()):
            fn = getattr(lib.dynlib, "blas_thread_shutdown_", None)
            timeout = getattr(lib.dynlib, "openblas_thread_timeout", None)
            if fn is None:
                continue
            if timeout is not None:
                timeout.restype = ctypes.c_uint
                timeout.argtypes = []
                # set from the environment (log2 cycles, 0 = unset: 2^28): a short wait
                # ends by itself, and stopping sleeping threads only costs wake-ups
                if 0 < timeout() <= SHORT_TIMEOUT:
                    continue
            fn.restype = ctypes.c_int
            fn.argtypes = []
            found.append((lib, fn))
        _cache.update(n_modules=n_modules, controller=ctl, shutdown=tuple(found))
    return _cache["controller"]


def blas_libraries():
    """``[(filepath, shutdown function)]`` of the loaded OpenBLAS libraries with the default
    wait, the ones :func:`quiet_blas` stops."""
    controller()
    return [(lib.filepath, fn) for lib, fn in _cache["shutdown"]]


def _safe():
    """Called from the main thread, and every other Python thread is a daemon (a notebook
    kernel's or a progress bar's; a thread pool's workers are not daemons): no other thread
    is then expected inside OpenBLAS."""
    if os.environ.get("SGPHYS_QUIET_BLAS", "1") == "0":
        return False
    main = threading.main_thread()
    if threading.current_thread() is not main:
        return False
    return all(t is main or t.daemon for t in threading.enumerate())


def quiet_blas(force=False) -> bool:
    """Stop OpenBLAS's (possibly spinning) worker threads before a parallel numba kernel.

    Only libraries set to more than one thread are stopped (a library limited to one thread,
    as in sweep workers, runs no pool worth stopping; stopping it anyway costs a thread
    start-up at its next call), unless ``force``. Returns True if some library's threads
    were stopped, False if nothing was done (a non-daemon Python thread besides the main
    one, the caller is not the main thread, ``SGPHYS_QUIET_BLAS=0``, or no such OpenBLAS).
    Results of later BLAS calls are unchanged; their threads start again on demand."""
    if not _safe():
        return False
    controller()
    done = False
    for lib, fn in _cache["shutdown"]:
        if force or lib.num_threads > 1:
            fn()
            done = True
    return done


def use_parallel(parallel, n):
    """Whether a solver runs its row-parallel kernels on ``n`` spins (``parallel`` None:
    from :data:`PARALLEL_MIN_SPINS` with more than one numba thread); if so, OpenBLAS's
    spinning threads are stopped first (:func:`quiet_blas`), so they do not take the cores
    from the kernels whatever BLAS call came just before."""
    from ._validate import check_bool

    parallel = check_bool("parallel", parallel, allow_none=True)
    if parallel is None:
        if n < PARALLEL_MIN_SPINS:
            return False
        import numba

        # with one thread (sweep workers) the parallel kernel is pure overhead, and from a
        # non-main thread (dask's task threads) a costly one
        parallel = numba.get_num_threads() > 1
    if parallel:
        quiet_blas()
    return bool(parallel)
