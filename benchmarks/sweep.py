"""Sweep benchmark: the paper preset of Fig. 4a (phase_diagram: D=20, 50 x 50 (N, P) grid,
10 seeds, lam=1, beta=100; solvers exact, TAP-AMP and the authors' AMP).

    python benchmarks/sweep.py             # 2 seeds of the grid (5,000 points): serial, pool, dask
    python benchmarks/sweep.py --seeds 10  # the same on the whole grid (25,000 points, ~6 min)
    python benchmarks/sweep.py --full      # the whole grid x 10 seeds, pool of 2 only

A sweep point is one (N, seed) series over the 50 P values (one task stream, Q accumulated
over P), so 2 seeds are 100 tasks. They are run serially (as a user's ``workers=1`` run
does: BLAS and the row-parallel AMP kernel use both cores inside a point), serially with one
thread (what each pool worker gets), on a process pool of 2 workers and on a dask
LocalCluster of 2 workers, in one run; the cluster is started just before its run,
off the clock (its start-up is printed apart: a user starts it once,
``sgphys.sweep.local_cluster``, and passes its address to every sweep). The pool and the dask
workers compile nothing: kernels come from the on-disk cache.
"""

import os
import sys
import time

import numpy as np  # first, as in a user's script (benchmarks/import_order.py)

import sgphys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402

from sgphys.sweep import local_cluster  # noqa: E402


def subgrid(seeds=2):
    kw = dict(preset="paper", seeds=seeds, progress=False)
    n = 2500 * seeds
    rows, times, data = [], {}, {}
    t_start = None
    for label in ("serial", "serial, one thread", "process pool, 2 workers",
                  "dask LocalCluster, 2 workers"):
        extra, cluster, limits = {}, None, None
        if label == "serial, one thread":
            # the serial run above uses both cores inside a point (2-thread BLAS Cholesky,
            # row-parallel AMP kernel); this one, like each pool worker, uses one
            import numba
            from threadpoolctl import threadpool_limits

            numba.set_num_threads(1)
            limits = threadpool_limits(1)
        elif label.startswith("process"):
            extra = {"workers": 2}
        elif label.startswith("dask"):
            t0 = time.perf_counter()
            cluster = local_cluster(2)
            t_start = time.perf_counter() - t0
            extra = {"scheduler": cluster.scheduler_address}
        try:
            t0 = time.perf_counter()
            ds = sgphys.run_experiment("phase_diagram", **kw, **extra)
            t = time.perf_counter() - t0
        finally:
            if cluster is not None:
                cluster.close()
            if limits is not None:
                limits.unregister()
                numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        times[label] = t
        data[label] = ds
        conv = int(ds.converged.sel(solver="tap").sum())
        rows.append([label, t, conv])
    one = times["serial, one thread"]
    rows = [(label, f"{t:.1f}", f"{t * 10 / seeds:.0f}", f"{times['serial'] / t:.2f}",
             f"{one / t:.2f}", f"{conv}/{n}") for label, t, conv in rows]
    same = all(np.array_equal(data[k].contrast_ratio.values, data["serial"].contrast_ratio.values,
                              equal_nan=True) for k in data)
    print(table(["executor", f"{n:,} points (s)", "10 seeds (s; extrapolated if fewer)",
                 "speed-up vs serial", "vs serial, one thread", "TAP converged"], rows))
    print(f"\ndask LocalCluster start-up (not in the table): {t_start:.1f} s; "
          f"datasets identical across executors: {same}")


def full():
    t0 = time.perf_counter()
    ds = sgphys.run_experiment("phase_diagram", preset="paper", workers=2, progress=False)
    t = time.perf_counter() - t0
    n = ds.sizes["N"] * ds.sizes["P"] * ds.sizes["seed"]
    conv = {s: int(ds.converged.sel(solver=s).sum()) for s in ds.solver.values}
    print(f"full paper grid (solvers {', '.join(ds.solver.values)}), process pool of 2 "
          f"workers: {n} points in {t:.1f} s ({t / n * 1e3:.2f} ms per point); converged "
          f"{conv} of {n} each")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    sgphys.warmup()
    if "--full" in sys.argv:
        full()
    else:
        subgrid(int(sys.argv[sys.argv.index("--seeds") + 1]) if "--seeds" in sys.argv else 2)
