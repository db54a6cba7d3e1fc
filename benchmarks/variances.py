"""Error of the message-passing variances against the exact ones (Gaussian prior).

    python benchmarks/variances.py [SEEDS]

TAP-AMP and r-BP at D = 10, N = 100, lam = 0.01, beta = 100, P = 9 and 90 n_spins, on SEEDS
(default 20) seeds 4000-... used by no test. Loopy Gaussian BP has the exact means but
approximate variances; prints the median and worst over seeds of the largest relative
variance error max_k |v_k - v_exact,k| / v_exact,k, and how many runs converged.
"""

import os
import sys

import numpy as np

import sgphys

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402


def main(n_seeds=20):
    D = 10
    n = D * (D + 1)
    rows = []
    for ppn in (9, 90):
        errs = {"TAP-AMP": [], "r-BP": []}
        for seed in range(4000, 4000 + n_seeds):
            tasks = sgphys.sample_tasks(D, 100, ppn * n, seed=seed, method="statistics")
            model = sgphys.SpinModel.from_tasks(tasks, 0.01)
            exact = sgphys.solve_exact(model, 100.0)
            for name, solve in (("TAP-AMP", sgphys.solve_amp), ("r-BP", sgphys.solve_rbp)):
                r = solve(model, 100.0)
                if r.converged:
                    errs[name].append(float(np.max(np.abs(r.var - exact.var) / exact.var)))
        cells = [f"{np.median(e):.3g} / {max(e):.3g} ({len(e)}/{n_seeds})" if e else
                 f"- (0/{n_seeds})" for e in errs.values()]
        rows.append([f"{ppn} n", *cells])
    print(f"largest relative variance error, D = {D}, N = 100, lam = 0.01, beta = 100, "
          f"{n_seeds} seeds: median / worst (converged runs)")
    print(table(["P", "TAP-AMP", "r-BP"], rows))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
