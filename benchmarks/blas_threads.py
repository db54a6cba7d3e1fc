"""OpenBLAS's idle worker threads against numba's kernels on 2 cores.

    python benchmarks/blas_threads.py

After a multi-threaded BLAS call (the Cholesky of ``solve_exact``, the products that build a
model) OpenBLAS's worker threads spin for 2^OPENBLAS_THREAD_TIMEOUT cycles (default 2^28,
about 0.1 s) before sleeping, taking the cores from the row-parallel numba kernels that run
next. sgphys stops them before its parallel kernels (``sgphys._blas.quiet_blas``); this
compares that with no mechanism (``SGPHYS_QUIET_BLAS=0``) and with a short wait exported
(``OPENBLAS_THREAD_TIMEOUT=18``, which OpenBLAS reads as it loads). Each setting runs in a
fresh process that imports numpy first: D = 40 (1640 spins), P = 4 n_spins, lam = 1,
beta = 100; ``solve_exact`` then ``solve_amp``, five times, and ``solve_amp`` alone, five
times; medians.
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402

CHILD = r"""
import json, time
import numpy as np
import sgphys
D = 40
n = D * (D + 1)
model = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(D, 100, 4 * n, seed=0,
                                                       method="statistics"), 1.0)
model.J
sgphys.solve_amp(model, 100.0)
sgphys.solve_exact(model, 100.0)
def t(f):
    t0 = time.perf_counter(); f(); return time.perf_counter() - t0
alone = [t(lambda: sgphys.solve_amp(model, 100.0)) for _ in range(5)]
ex, after = [], []
for _ in range(5):
    ex.append(t(lambda: sgphys.solve_exact(model, 100.0)))
    after.append(t(lambda: sgphys.solve_amp(model, 100.0)))
print(json.dumps([float(np.median(x)) for x in (alone, ex, after)]))
"""


SETTINGS = {"default wait, threads stopped (sgphys)": {},
            "default wait, SGPHYS_QUIET_BLAS=0": {"SGPHYS_QUIET_BLAS": "0"},
            "OPENBLAS_THREAD_TIMEOUT=18 exported": {"OPENBLAS_THREAD_TIMEOUT": "18"}}


def run(extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_THREAD_TIMEOUT", "SGPHYS_QUIET_BLAS")}
    env.update(extra)
    out = subprocess.run([sys.executable, "-c", CHILD], env={**env}, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    sys.path.insert(0, os.path.dirname(__file__))
    from _machine import yardsticks

    print(yardsticks())
    rows = []
    for label, extra in SETTINGS.items():
        alone, ex, after = run(extra)
        rows.append([label, f"{alone * 1e3:.1f}", f"{ex * 1e3:.1f}", f"{after * 1e3:.1f}",
                     f"{after / alone:.2f}"])
    print(table(["setting", "solve_amp alone (ms)", "solve_exact (ms)",
                 "solve_amp after solve_exact (ms)", "after / alone"], rows))


if __name__ == "__main__":
    main()
