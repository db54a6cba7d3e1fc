"""Solver speed in a user's script: import order and a BLAS call just before.

    python benchmarks/import_order.py [D] [P]

Runs each scenario in a fresh interpreter with the environment as the user has it (nothing
exported by this script): ``import sgphys`` first (sgphys sets OPENBLAS_THREAD_TIMEOUT
before OpenBLAS loads), or ``import numpy, scipy`` first (the usual script), and within
each the default ``solve_amp``, ``solve_rbp`` and ``solve_exact`` back to back and right
after a scipy Cholesky of a 600 x 600 matrix (the BLAS call a script makes between solves).
Prints medians of 15 calls and each time as a ratio to the best scenario, with the machine's
yardsticks (benchmarks/_machine.py). (A pause between calls is left out on purpose: on a
virtual machine an idle core makes the next call slower whatever the code, serial kernels
included.)
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
tasks = sgphys.sample_tasks(D, 100, P, seed=0, method="statistics")
model = sgphys.SpinModel.from_tasks(tasks, 1.0)
model.J
rng = np.random.default_rng(0)
X = rng.standard_normal((600, 600)); C = X @ X.T + 600 * np.eye(600)
for f in (sgphys.solve_amp, sgphys.solve_rbp, sgphys.solve_exact):  # compile, warm
    f(model, 100.0)
out = {}
for name, f in (("amp", sgphys.solve_amp), ("rbp", sgphys.solve_rbp),
                ("exact", sgphys.solve_exact)):
    for after in (False, True):
        ts = []
        for _ in range(15):
            if after:
                scipy.linalg.cho_factor(C)
            t0 = time.perf_counter(); f(model, 100.0); ts.append(time.perf_counter() - t0)
        ts.sort()
        out[f"{name}{'_after_cholesky' if after else ''}"] = ts[len(ts) // 2]
print(json.dumps(out))
"""


def main(D=30, P=8000):
    sys.path.insert(0, HERE)
    from _machine import yardsticks

    print(yardsticks())
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    results = {}
    for first in ("sgphys", "numpy"):
        proc = subprocess.run([sys.executable, "-c", CHILD, first, str(D), str(P)],
                              capture_output=True, text=True, env=env, check=True)
        results[first] = json.loads(proc.stdout.strip().splitlines()[-1])
    keys = list(results["sgphys"])
    best = {}
    for res in results.values():
        for k, t in res.items():
            solver = k.split("_")[0]
            best[solver] = min(best.get(solver, t), t)
    print(f"\nD = {D}, P = {P}, lam = 1, beta = 100; medians of 15 calls (ms) and the ratio "
          "to the fastest scenario of the same solver")
    print("| import first | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for first, res in results.items():
        cells = [f"{res[k] * 1e3:.2f} ({res[k] / best[k.split('_')[0]]:.2f}x)" for k in keys]
        print(f"| {first} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
