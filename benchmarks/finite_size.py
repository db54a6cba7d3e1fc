"""Finite-size benchmark (Fig. T1): the exact test error extrapolated in 1/D from
D = 10, 20, 40, 80 against the asymptotic theory of Lu et al. (PNAS 2025), at the
finite_size experiment's four (alpha, tau) points and two ridges (lambda = 1e-6, 1), with
a tolerance of 3%, both by the least-squares line in 1/D (the experiment's
``extrapolated_error``) and by the least-squares quadratic with a 1/D^2 term
(``extrapolated_error_quadratic``; the error curves in 1/D, most at the ridgeless points).
Exact solver only (TAP adds nothing here: where it converges its means are the exact ones).

The seeds per D differ (the seed scatter of the error falls with D while the cost grows as
D^6), so the sizes run as separate sweeps and are combined with
:func:`sgphys.experiments.finite_size.extrapolate` (weights 1/sem^2). Prints one markdown
table and the time per sweep; exits with status 1 if a point misses the tolerance.

Cost, measured before the experiment built only the upper triangle of Q and skipped the
exact solver's marginal variances (both cut it, not re-measured since): D = 80 took about
110 s a seed on one core for the four points (building the 6480 x 6480 coupling matrix
from P = 3200..25600 sequences, about 55 s, and eight Cholesky solves with marginal
variances, about 7 s each); D <= 40 with the default seeds about 20 s. So the default
(4 seeds at D = 80) ran about 8 min serial (peak memory about 2.2 GB a worker).
"""

import argparse
import os
import sys
import time

import numpy as np  # first, as in a user's script (benchmarks/import_order.py)

import sgphys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402

from sgphys.experiments.finite_size import extrapolate, extrapolate_poly  # noqa: E402
from sgphys.theory import icl_error  # noqa: E402

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds-small", type=int, default=64, help="seeds at D = 10 and 20")
    p.add_argument("--seeds-40", type=int, default=8, help="seeds at D = 40")
    p.add_argument("--seeds-80", type=int, default=4,
                   help="seeds at D = 80 (>= 4 for the 1/sem^2 weights, MIN_SEEDS_WEIGHTED)")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--tolerance", type=float, default=0.03,
                   help="allowed |extrapolated / theory - 1|")
    p.add_argument("--save", help="folder to write the three sweeps to (netCDF)")
    a = p.parse_args()
    groups = (([10, 20], a.seeds_small), ([40], a.seeds_40), ([80], a.seeds_80))
    runs, times = [], []
    for Ds, seeds in groups:
        t0 = time.perf_counter()
        out = (None if a.save is None
               else os.path.join(a.save, f"finite_size_D{'_'.join(map(str, Ds))}.nc"))
        runs.append(sgphys.run_experiment("finite_size", D=Ds, seeds=seeds, solvers=["exact"],
                                          workers=a.workers, out=out))
        times.append(time.perf_counter() - t0)
        print(f"D = {Ds}, {seeds} seeds: {times[-1]:.0f} s", flush=True)
    ref = runs[0]
    Ds = np.concatenate([r.D.values for r in runs]).astype(float)
    rows, worst = [], 0.0
    for i in ref.point.values:
        alpha, tau = float(ref.alpha[i]), float(ref.tau[i])
        for lam in ref.lam_theory.values:
            sel = dict(point=i, lam_theory=lam)
            cat = {v: np.concatenate([r[v].sel(**sel).values for r in runs])
                   for v in ("exact_error_mean", "exact_error_sem", "exact_error_n")}
            e, se, _, weighted = extrapolate(1.0 / Ds, cat["exact_error_mean"],
                                             cat["exact_error_sem"], cat["exact_error_n"])
            coef, se_q, _ = extrapolate_poly(1.0 / Ds, cat["exact_error_mean"],
                                             cat["exact_error_sem"], cat["exact_error_n"],
                                             degree=2)
            th = icl_error(alpha, tau, lam=float(lam))
            dev, dev_q = e / th - 1.0, coef[0] / th - 1.0
            worst = max(worst, abs(dev), abs(dev_q))
            rows.append((f"{alpha:g}", f"{tau:g}", f"{lam:g}",
                         *[f"{m:.4f}" for m in cat["exact_error_mean"]],
                         f"{e:.4f} ± {se:.4f}" + ("" if weighted else " (unweighted)"),
                         f"{coef[0]:.4f} ± {se_q:.4f}", f"{th:.4f}",
                         f"{100 * dev:+.1f} ± {100 * se / th:.1f}",
                         f"{100 * dev_q:+.1f} ± {100 * se_q / th:.1f}"))
    print()
    print(table(["alpha", "tau", "lambda", *[f"D={int(D)}" for D in Ds], "line in 1/D",
                 "quadratic in 1/D", "theory", "deviation, line (%)",
                 "deviation, quadratic (%)"], rows))
    ok = worst <= a.tolerance
    print(f"\nlargest |deviation| {100 * worst:.1f}% (line and quadratic; tolerance "
          f"{100 * a.tolerance:g}%): {'PASS' if ok else 'FAIL'}; total {sum(times):.0f} s "
          f"with workers={a.workers}")
    sys.exit(0 if ok else 1)
