"""Time to solution: default solve_amp and solve_rbp (damping="auto", tol 1e-10) against
solve_exact (means and variances, the default; and means alone), measured in one run.

    python benchmarks/time_to_solution.py            # D = 20, 40, 60, 100

P = 4 n_spins tasks (statistics sampler), N = 100, lam = 1, beta = 100. Best of 3 calls up
to D = 60, one call at D = 100. The means of AMP and r-BP are checked against the exact
ones. Run as a user's script runs: numpy imported first, nothing exported.

r-BP stores a message per directed edge, so a sweep reads J's upper triangle and reads and
writes four message arrays: 72 bytes per pair. Its memory-traffic floor is
``sweeps x 72 x n(n-1)/2 / bandwidth`` (the machine's copy bandwidth, benchmarks/_machine.py);
the last column is r-BP's time over that floor.
"""

import os
import sys
import time

import numpy as np

import sgphys

sys.path.insert(0, os.path.dirname(__file__))
from _machine import measure  # noqa: E402
from _util import best_of, table  # noqa: E402

#: bytes an r-BP sweep moves per pair: J_ij, and four message arrays read and written
RBP_BYTES_PER_PAIR = 8 + 4 * 2 * 8



def timed(fn, repeat):
    out = {}

    def call():
        out["r"] = fn()
    return best_of(call, repeat=repeat), out["r"]


def main(sizes=(20, 40, 60, 100)):
    sgphys.warmup()
    machine = measure()
    bandwidth = machine["bandwidth_GBs"] * 1e9
    print(machine)
    rows = []
    for D in sizes:
        n = D * (D + 1)
        model = sgphys.SpinModel.from_tasks(
            sgphys.sample_tasks(D, 100, 4 * n, seed=0, method="statistics"), 1.0)
        model.J
        rep = 3 if D <= 60 else 1
        t_ex, ex = timed(lambda: sgphys.solve_exact(model, 100.0), rep)
        t_exm, _ = timed(lambda: sgphys.solve_exact(model, 100.0, variances=False), rep)
        t_amp, amp = timed(lambda: sgphys.solve_amp(model, 100.0), rep)
        t_rbp, rbp = timed(lambda: sgphys.solve_rbp(model, 100.0), rep)
        rows.append((D, n, f"{t_ex * 1e3:.1f}", f"{t_exm * 1e3:.1f}",
                     f"{t_amp * 1e3:.1f} ({amp.n_iter} it.)", f"{t_amp / t_ex:.3f}",
                     f"{np.max(np.abs(amp.mean - ex.mean)):.0e}",
                     f"{t_rbp * 1e3:.1f} ({rbp.n_iter} it.)", f"{t_rbp / t_ex:.3f}",
                     f"{np.max(np.abs(rbp.mean - ex.mean)):.0e}",
                     f"{t_rbp / (rbp.n_iter * RBP_BYTES_PER_PAIR * n * (n - 1) / 2 / bandwidth):.2f}"))
        del model
    print(table(["D", "n_spins", "exact (ms)", "exact means only (ms)", "AMP (ms)",
                 "AMP / exact", "AMP mean error", "r-BP (ms)", "r-BP / exact",
                 "r-BP mean error", "r-BP / traffic floor"], rows))


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or (20, 40, 60, 100))
