"""Hessian benchmark: time of the Fig. S5 inset grid (D in 10..40, 7 values; P in
25..2000, 80 values; N=100, lam=0) per seed, measured on every D over 8 of the 80 P values
and extrapolated to the grid and to 10 seeds (labelled as such)."""

import os
import sys
import time

import numpy as np  # first, as in a user's script (benchmarks/import_order.py)

import sgphys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    Ds = np.linspace(10, 40, 7, dtype=int)
    Ps = np.linspace(25, 2000, 80, dtype=int)
    sub = Ps[::10]
    rows, total = [], 0.0
    for D in Ds:
        t_data = t_eig = 0.0
        for P in sub:
            t0 = time.perf_counter()
            m = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(int(D), 100, int(P), seed=0), 0.0)
            t1 = time.perf_counter()
            sgphys.zero_mode_fraction(m, count="all", atol=1e-5)
            t2 = time.perf_counter()
            t_data += t1 - t0
            t_eig += t2 - t1
        per_P = (t_data + t_eig) / len(sub)
        total += per_P * len(Ps)
        rows.append((int(D), int(D) * (int(D) + 1), f"{t_data / len(sub) * 1e3:.0f}",
                     f"{t_eig / len(sub) * 1e3:.0f}"))
    print(table(["D", "n_spins", "data + model per P (ms)", "eigvalsh per P (ms)"], rows))
    print(f"\nExtrapolated: one seed of the 7 x 80 grid {total:.0f} s; 10 seeds {10 * total / 60:.1f} "
          f"min on one core (2 workers halve it).")
