"""Large systems: building the model (Q accumulated block by block, H never held whole) and
solving it with AMP (and the exact solver up to D = 100), one fresh process per size so the
peak resident memory is that of the size alone.

    python benchmarks/large.py            # D = 60, 100
    python benchmarks/large.py 60 100 150 # any sizes (D = 150: Q alone is 4.1 GB, and its
                                          # 9e13 flops take tens of minutes on 2 cores)

P = 4 n_spins tasks (statistics sampler), N = 100, lam = 1, beta = 100, tol 1e-10.
"""

import os
import subprocess
import sys
import textwrap

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402

ONE = textwrap.dedent("""
    import resource, sys, time, numpy as np, sgphys
    D = int(sys.argv[1]); n = D * (D + 1)
    t0 = time.perf_counter()
    tasks = sgphys.sample_tasks(D, 100, 4 * n, seed=0, method="statistics")
    model = sgphys.SpinModel.from_tasks(tasks, 1.0)
    model.J
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    amp = sgphys.solve_amp(model, 100.0)
    t_amp = time.perf_counter() - t0
    t_exact, err = float("nan"), float("nan")
    if D <= 100:
        t0 = time.perf_counter()
        ex = sgphys.solve_exact(model, 100.0, variances=False)
        t_exact = time.perf_counter() - t0
        err = float(np.max(np.abs(amp.mean - ex.mean)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(n, model.H is None, f"{t_build:.1f}", amp.reason, amp.n_iter, f"{t_amp:.2f}",
          f"{t_exact:.2f}", f"{err:.1e}", f"{peak:.2f}")
""")


def main(sizes):
    rows = []
    for D in sizes:
        out = subprocess.run([sys.executable, "-c", ONE, str(D)], capture_output=True,
                             text=True, check=True).stdout.split()
        n, no_h, build, reason, it, t_amp, t_ex, err, peak = out
        rows.append((D, n, build, f"{reason} ({it} it.)", t_amp, t_ex, err, peak,
                     "no" if no_h == "True" else "yes"))
    print(table(["D", "n_spins", "build model (s)", "AMP", "AMP solve (s)",
                 "exact means (s)", "max |AMP - exact|", "peak memory (GiB)", "H kept"], rows))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    main([int(a) for a in sys.argv[1:]] or [60, 100])
