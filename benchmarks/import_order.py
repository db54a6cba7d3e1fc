"""Solver speed in a user's script: import order and a BLAS call just before.

    python benchmarks/import_order.py [D] [P] [ROUNDS]

Each configuration runs in a fresh interpreter with the environment as the user has it
(nothing exported by this script, except ``SGPHYS_QUIET_BLAS=0`` for the configuration that
shows the code without its mechanism):

- ``sgphys first``: ``import sgphys`` before numpy (sgphys sets OPENBLAS_THREAD_TIMEOUT before
  OpenBLAS loads);
- ``numpy first``: ``import numpy, scipy.linalg`` first, the usual script;
- ``numpy first, quiet off``: the same with ``SGPHYS_QUIET_BLAS=0``, i.e. without the
  stopping of OpenBLAS's spinning threads before the parallel kernels
  (:mod:`sgphys._blas`);
- ``numpy first, one BLAS thread``: ``threadpoolctl.threadpool_limits(1)`` after the
  imports, as sweep workers run: no BLAS thread pool to compete with, the best case of the
  small factorisations.

Within each, the default ``solve_amp``, ``solve_rbp``, ``solve_exact``, ``solve_exact`` on
a model with P < n_spins (the dual route: P = 160 sequences at D = 20, 420 spins, a
point of Fig. 4a's grid), ``train`` (Adam, 20 epochs) and a serial sweep
(``run_experiment("phase_diagram")`` at D = 10 in memory, 4 points of 3 models each), back
to back and right after a scipy Cholesky of a 600 x 600 matrix (the BLAS call a script makes
between solves). Medians of 15 calls (5 for the sweep), and the median over ``ROUNDS``
rounds (the configurations alternate, so a slow spell of the machine hits all of them).
Each time is also given as a ratio to the fastest configuration of the same scenario (the
same solver, back to back or after a Cholesky), which is the best case the code reaches.
Printed with the machine's yardsticks (benchmarks/_machine.py).
"""

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import sys, time, json
FIRST = sys.argv[1]
if FIRST == "numpy":
    import numpy as np, scipy.linalg
    import sgphys
else:
    import sgphys
    import numpy as np, scipy.linalg
D, P = int(sys.argv[2]), int(sys.argv[3])
if sys.argv[4] == "1":
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
tasks = sgphys.sample_tasks(D, 100, P, seed=0, method="statistics")
model = sgphys.SpinModel.from_tasks(tasks, 1.0)
model.J
small = sgphys.sample_tasks(10, 20, 200, seed=1)
dual = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(20, 50, 160, seed=2,
                                                       method="statistics"), 1.0)
rng = np.random.default_rng(0)
X = rng.standard_normal((600, 600)); C = X @ X.T + 600 * np.eye(600)
def sweep():
    sgphys.run_experiment("phase_diagram", "quick", progress=False, seeds=2, D=10,
                          N=[20, 40], P=[100, 200, 400])
calls = {"amp": lambda: sgphys.solve_amp(model, 100.0),
         "rbp": lambda: sgphys.solve_rbp(model, 100.0),
         "exact": lambda: sgphys.solve_exact(model, 100.0),
         "exact dual": lambda: sgphys.solve_exact(dual, 100.0),
         "train": lambda: sgphys.train(small, epochs=20, lr=1e-2, seed=0),
         "sweep": sweep}
for f in calls.values():  # compile, warm
    f()
out = {}
for name, f in calls.items():
    for after in (False, True):
        ts = []
        for _ in range(5 if name == "sweep" else 15):
            if after:
                scipy.linalg.cho_factor(C)
            t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
        ts.sort()
        out[f"{name}{' after Cholesky' if after else ''}"] = ts[len(ts) // 2]
print(json.dumps(out))
"""

CONFIGS = {"sgphys first": ("sgphys", {}, 0), "numpy first": ("numpy", {}, 0),
           "numpy first, quiet off": ("numpy", {"SGPHYS_QUIET_BLAS": "0"}, 0),
           "numpy first, one BLAS thread": ("numpy", {}, 1)}


def main(D=30, P=8000, rounds=3):
    sys.path.insert(0, HERE)
    from _machine import yardsticks

    print(yardsticks())
    base = {k: v for k, v in os.environ.items()
            if k not in ("OPENBLAS_THREAD_TIMEOUT", "SGPHYS_QUIET_BLAS")}
    runs = {name: [] for name in CONFIGS}
    for _ in range(rounds):
        for name, (first, extra, one) in CONFIGS.items():
            proc = subprocess.run([sys.executable, "-c", CHILD, first, str(D), str(P), str(one)],
                                  capture_output=True, text=True, env={**base, **extra},
                                  check=True)
            runs[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    results = {name: {k: sorted(r[k] for r in rs)[len(rs) // 2] for k in rs[0]}
               for name, rs in runs.items()}
    keys = list(results["sgphys first"])
    best = {k: min(res[k] for res in results.values()) for k in keys}
    print(f"\nD = {D}, P = {P}, lam = 1, beta = 100; medians of 15 calls (5 sweeps), median "
          f"of {rounds} rounds, in ms, and the ratio to the fastest configuration")
    print("| scenario | " + " | ".join(results) + " |")
    print("|---" * (len(results) + 1) + "|")
    for k in keys:
        cells = [f"{res[k] * 1e3:.2f} ({res[k] / best[k]:.2f}x)" for res in results.values()]
        print(f"| {k} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
