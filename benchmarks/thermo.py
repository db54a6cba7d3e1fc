"""Accuracy of the approximate free energies (TAP, Bethe) against the exact ones, over seeds.

    python benchmarks/thermo.py [SEEDS]

D = 2 (6 spins), N = 4, on SEEDS (default 20) seeds 2000-... that no test uses; P = 4 and
20 n_spins; beta in {1, 10, 100}. The truth is the Gaussian closed form (`solve_exact`,
ridge lam = 0.1) or exact enumeration (`solve_enumerate`; Binary(0.5), Ternary(1, 0.5)).
Each cell is "median / worst |log_z - log_z_exact| / n_spins (runs with a free energy of
the seeds)"; a method reports a free energy only at a certified fixed point.
"""

import os
import sys

import numpy as np

import sgphys
from sgphys import Binary, SpinModel, Ternary, sample_tasks

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402

PRIORS = {"gaussian(0.1)": None, "binary(0.5)": Binary(0.5), "ternary(1, 0.5)": Ternary(1.0, 0.5)}
METHODS = {"TAP": lambda m, b: sgphys.solve_amp(m, b),
           "Bethe (r-BP)": lambda m, b: sgphys.solve_rbp(m, b),
           "Bethe (full BP)": lambda m, b: sgphys.solve_bp(m, b, damping="auto")}


def cell(errs, runs):
    if not errs:
        return f"- (0/{runs})"
    e = np.asarray(errs)
    return f"{np.median(e):.1e} / {e.max():.1e} ({e.size}/{runs})"


def main(n_seeds=20):
    D = 2
    n = D * (D + 1)
    seeds = range(2000, 2000 + n_seeds)
    rows = []
    for pname, prior in PRIORS.items():
        for beta in (1.0, 10.0, 100.0):
            for ppn in (4, 20):
                errs = {k: [] for k in METHODS}
                for seed in seeds:
                    tasks = sample_tasks(D, 2 * D, ppn * n, seed=seed)
                    if prior is None:
                        model = SpinModel.from_tasks(tasks, 0.1)
                        truth = sgphys.solve_exact(model, beta).log_z
                    else:
                        model = SpinModel.from_tasks(tasks, 0.0, prior=prior)
                        truth = sgphys.solve_enumerate(model, beta).log_z
                    for name, solve in METHODS.items():
                        if prior is not None and name == "Bethe (r-BP)":
                            continue  # Gaussian messages: no Bethe free energy with a prior
                        r = solve(model, beta)
                        if np.isfinite(r.log_z):
                            errs[name].append(abs(r.log_z - truth) / n)
                rows.append([pname, beta, f"{ppn} n", *[
                    "n/a" if prior is not None and k == "Bethe (r-BP)" else cell(errs[k], n_seeds)
                    for k in METHODS]])
                print(table(["prior", "beta", "P", *METHODS], rows[-1:]).splitlines()[-1],
                      flush=True)
    print(f"\n|log_z - exact| / n_spins, D = {D}, {n_seeds} seeds (2000-{1999 + n_seeds}): "
          "median / worst (runs with a free energy)")
    print(table(["prior", "beta", "P", *METHODS], rows))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
