"""Sweep benchmark (issue 6): the paper-scale phase_diagram (D=20, 50 x 50 (N, P) grid,
10 seeds, lam=1, beta=100, exact + TAP-AMP) timed on an evenly spaced 10 x 10 subgrid with
three seeds (300 points, a fair sample of the grid's mix of sizes) and extrapolated by
25000/300; serial, process pool (2 workers) and dask LocalCluster
(2 workers) on the same subgrid, in one run."""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402

import sgphys  # noqa: E402

if __name__ == "__main__":
    N = np.linspace(2, 100, 50, dtype=int)[2::5].tolist()
    P = np.linspace(20, 1000, 50, dtype=int)[2::5].tolist()
    kw = dict(preset="paper", N=N, P=P, seeds=3, solvers=["exact", "tap"], progress=False)
    sgphys.warmup()
    rows = []
    times = {}
    for label, extra in (("serial", {}), ("process pool, 2 workers", {"workers": 2}),
                         ("dask LocalCluster, 2 workers", {"workers": 2, "scheduler": "local"})):
        t0 = time.perf_counter()
        ds = sgphys.run_experiment("phase_diagram", **kw, **extra)
        t = time.perf_counter() - t0
        times[label] = t
        conv = int(ds.converged.sel(solver="tap").sum())
        rows.append((label, f"{t:.1f}", f"{t * 25000 / 300 / 60:.1f}", f"{times['serial'] / t:.2f}",
                     f"{conv}/300"))
    print(table(["executor", "300 points (s)", "full grid x 10 seeds, extrapolated (min)",
                 "speed-up vs serial", "TAP converged"], rows))
