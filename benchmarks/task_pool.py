"""Finite task pools: where the gap between fresh-task and pool-task error halves, with its
seed spread (the numbers of the task-pool section in docs/results.md).

    python benchmarks/task_pool.py [SEEDS] [--workers 2]

Runs the ``task_pool`` experiment at its quick preset (D = 4, N = 8, P = 30 D^2,
noise^2 = 0.25) on SEEDS seeds (default 20) of the experiment seed 1000, which no test
uses. For each seed, the gap ICL - IDG of the exact solution and of the trained merged
linear attention is interpolated linearly in log K; the onset is the K where it has fallen
to half its value at K = 1. Prints the median onset, the 16-84% range over seeds and the
standard error of the median (bootstrap, 2000 resamples), against the theory's K (Lu et
al., same interpolation), and the ICL error of the ridge (Gaussian-prior Bayes) predictor and
of the exact solution at the largest K (median and range over seeds).
"""

import os
import sys
import tempfile

import numpy as np

import sgphys

EXPERIMENT_SEED = 1000


def half_gap_K(K, gap):
    """The K (interpolated linearly in log K) where ``gap`` first falls to half of
    ``gap[0]``; NaN if it never does."""
    target = 0.5 * gap[0]
    logK = np.log(K)
    for j in range(1, len(K)):
        if gap[j] <= target:
            f = (gap[j - 1] - target) / (gap[j - 1] - gap[j])
            return float(np.exp(logK[j - 1] + f * (logK[j] - logK[j - 1])))
    return np.nan


def summary(values, rng):
    v = np.asarray([x for x in values if np.isfinite(x)])
    if v.size == 0:
        return "-"
    boot = np.median(rng.choice(v, size=(2000, v.size)), axis=1)
    lo, hi = np.percentile(v, [16, 84])
    return (f"{np.median(v):.2f} (16-84%: {lo:.2f}-{hi:.2f}; se of median "
            f"{np.std(boot):.2f}; {v.size} seeds)")


def main(n_seeds=20, workers=1):
    with tempfile.TemporaryDirectory() as tmp:
        ds = sgphys.run_experiment("task_pool", preset="quick", seeds=n_seeds,
                                   seed=EXPERIMENT_SEED, workers=workers,
                                   out=f"{tmp}/task_pool.nc")
        ds = ds.load()
    K = ds.n_tasks.values.astype(float)
    D = int(ds.D.values[0])
    rng = np.random.default_rng(0)
    exact, trained = [], []
    for s in ds.seed.values:
        sub = ds.sel(D=D, seed=s)
        gap_e = (sub.icl_error.sel(solver="exact") - sub.idg_error.sel(solver="exact")).values
        gap_t = (sub.icl_error_trained.sel(arch="sla")
                 - sub.idg_error_trained.sel(arch="sla")).values
        exact.append(half_gap_K(K, gap_e))
        trained.append(half_gap_K(K, gap_t))
    th = ds.sel(D=D)
    theory = half_gap_K(K, (th.theory_icl_error - th.theory_idg_error).values)
    print(f"task_pool quick preset, D = {D}, {n_seeds} seeds of experiment seed "
          f"{EXPERIMENT_SEED}")
    print(f"K where ICL - IDG halves: exact solution {summary(exact, rng)}")
    print(f"                         trained merged linear attention {summary(trained, rng)}")
    print(f"                         theory (Lu et al.) {theory:.2f} (kappa {theory / D:.2f})")
    last = ds.sel(D=D, n_tasks=K.max())
    ridge = last.icl_error_ridge.values
    ex = last.icl_error.sel(solver="exact").values
    print(f"ICL error at K = {int(K.max())}: ridge (Bayes) {summary(ridge, rng)}")
    print(f"                     exact solution {summary(ex, rng)}; theory "
          f"{float(last.theory_icl_error):.3f}")
    first = ds.sel(D=D, n_tasks=K.min())
    print(f"at K = {int(K.min())}: exact ICL error {summary(first.icl_error.sel(solver='exact').values, rng)}"
          f", IDG {summary(first.idg_error.sel(solver='exact').values, rng)}, dMMSE IDG "
          f"{summary(first.idg_error_dmmse.values, rng)}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    workers = 2 if "--workers" in sys.argv else 1
    main(int(args[0]) if args else 20, workers)
