"""Non-Gaussian weight priors: accuracy of message passing against ground truth, and speed.

    python benchmarks/priors.py accuracy [D ...]   # the accuracy table of docs/accuracy.md
    python benchmarks/priors.py speed              # per-iteration cost, sampler, enumeration

Accuracy: absolute error of the marginal means (largest over the spins) of TAP-AMP, r-BP and
full BP (discrete support as the grid; 101 points for Laplace) against exact enumeration at
D = 2, 3 (6 and 12 spins; default) or replica-exchange Gibbs sampling at D = 5 (30 spins,
given on the command line), per prior, over beta in {1, 10, 100} and P in {2, 20} x n_spins
tasks (N = 2D), on the 20 seeds 1000-1019, which no test and no tuning uses. Each cell is
"median / worst (converged of runs)" over the converged runs; fixed points with a negative
cavity precision (``info["negative_cavity"] > 0``) are counted in brackets, since they carry
most of the error.
"""

import os
import sys
import time

import numpy as np  # first, as in a user's script (benchmarks/import_order.py)

import sgphys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _util import best_of, table  # noqa: E402

from sgphys import Binary, Laplace, SpinModel, Ternary, sample_tasks  # noqa: E402

PRIORS = {"binary(0.5)": Binary(0.5), "ternary(1, 0.5)": Ternary(1.0, 0.5),
          "laplace(0.1)": Laplace(0.1)}
BETAS = (1.0, 10.0, 100.0)
P_PER_N = (2, 20)
#: seeds no test and no tuning uses
SEEDS = tuple(range(1000, 1020))
SOLVERS = ("tap", "rbp", "bp")


def _solve(name, model, beta):
    if name == "tap":
        return sgphys.solve_amp(model, beta)
    if name == "rbp":
        return sgphys.solve_rbp(model, beta)
    try:
        return sgphys.solve_bp(model, beta, damping="auto")
    except ValueError:  # Laplace grids need a converged AMP
        return None


def _truth(model, beta, D, seed):
    """(means, mcse or 0, mixed) of the ground truth."""
    if model.prior.discrete and D <= 3:
        return sgphys.solve_enumerate(model, beta).mean, 0.0, True
    ladder = None if beta <= 1.0 else np.geomspace(1.0, beta, 8 if beta > 10 else 5)
    sweeps = 40000 if D <= 3 else 10000
    g = sgphys.sample_gibbs(model, beta, n_sweeps=sweeps, n_chains=4, seed=seed,
                            betas=ladder)
    return g.mean, float(np.max(g.mcse)), bool(np.max(g.rhat) < 1.05)


def _cell(errs, neg, runs):
    if not errs:
        return f"- (0/{runs})"
    e = np.array(errs)
    tail = f", {neg} neg." if neg else ""
    return f"{np.median(e):.1e} / {e.max():.1e} ({e.size}/{runs}{tail})"


def accuracy(sizes=(2, 3)):
    header = ["D", "prior", "beta", "P", "truth", "TAP-AMP", "r-BP", "full BP", "unmixed"]
    rows = []
    for D in sizes:
        n = D * (D + 1)
        for pname, prior in PRIORS.items():
            for beta in BETAS:
                for ppn in P_PER_N:
                    errs = {s: [] for s in SOLVERS}
                    neg = {s: 0 for s in SOLVERS}
                    runs = 0
                    unmixed = 0
                    mcse = []
                    for seed in SEEDS:
                        tasks = sample_tasks(D, 2 * D, ppn * n, seed=seed)
                        model = SpinModel.from_tasks(tasks, 0.0, prior=prior)
                        truth, err, mixed = _truth(model, beta, D, seed)
                        if not mixed:
                            unmixed += 1
                            continue
                        runs += 1
                        mcse.append(err)
                        for s in SOLVERS:
                            r = _solve(s, model, beta)
                            if r is not None and r.converged:
                                errs[s].append(float(np.max(np.abs(r.mean - truth))))
                                neg[s] += int(r.info.get("negative_cavity", 0) > 0)
                    cells = [_cell(errs[s], neg[s], runs) for s in SOLVERS]
                    truth_name = ("enumeration" if prior.discrete and D <= 3
                                  else f"Gibbs (MCSE {max(mcse) if mcse else float('nan'):.0e})")
                    rows.append([D, pname, beta, f"{ppn} n", truth_name, *cells, unmixed])
                    print(table(header, rows[-1:]).splitlines()[-1], flush=True)
    print()
    print(f"Largest error of a marginal mean, {len(SEEDS)} seeds ({SEEDS[0]}-{SEEDS[-1]}): "
          "median / worst (converged/runs, fixed points with a negative cavity precision)")
    print(table(header, rows))


def speed():
    import numba

    from sgphys.kernels import amp as K
    from sgphys.kernels.enumerate import enumerate_states

    numba.set_num_threads(1)
    rows = []
    for D in (10, 20, 40):
        n = D * (D + 1)
        tasks = sample_tasks(D, 2 * D, 4 * n, seed=0, method="statistics")
        gauss = SpinModel.from_tasks(tasks, 0.1)
        J, h = gauss.J, gauss.h
        lam_k = gauss.lam_k
        qd = np.diag(gauss.Q).copy()
        beta = 10.0
        m = np.zeros(n)
        v = 1.0 / (beta * lam_k)
        bufs = [np.empty(n) for _ in range(5)]
        t_g = best_of(lambda: K.amp_step(J, h, lam_k, beta, m, v, True, *bufs, False), 7, 20)
        cells = [n, f"{t_g * 1e6:.0f}"]
        for prior in (Ternary(1.0, 0.5), Binary(0.5), Laplace(0.1)):
            code, params = prior.kernel_args()
            t_p = best_of(lambda: K.amp_step_prior(J, h, qd, beta, m, v, True, *bufs, False,
                                                   code, params), 7, 20)
            cells.append(f"{t_p / t_g:.2f}")
        rows.append(cells)
    print("One AMP iteration with a prior over one Gaussian iteration (1 thread):")
    print(table(["n_spins", "Gaussian (us)", "ternary", "binary", "laplace"], rows))

    rows = []
    for D, prior in ((5, Ternary(1.0, 0.5)), (5, Laplace(0.1)), (10, Ternary(1.0, 0.5)),
                     (10, Binary(0.5)), (10, Laplace(0.1))):
        n = D * (D + 1)
        model = SpinModel.from_tasks(sample_tasks(D, 2 * D, 4 * n, seed=0), 0.0, prior=prior)
        sgphys.sample_gibbs(model, 10.0, n_sweeps=16, n_chains=1, seed=0)  # compile
        sweeps, chains = 4000, 4
        t0 = time.perf_counter()
        sgphys.sample_gibbs(model, 10.0, n_sweeps=sweeps, n_chains=chains, seed=0)
        dt = time.perf_counter() - t0
        rows.append([D, n, prior.name, f"{sweeps * chains * n / dt / 1e6:.2f}"])
    print("\nGibbs sampler, million spin updates per second (1 thread, beta = 10, plain):")
    print(table(["D", "n_spins", "prior", "M updates/s"], rows))

    rows = []
    for n_spins, prior in ((20, Binary(0.5)), (12, Ternary(1.0, 0.5))):
        D = 4 if n_spins == 20 else 3
        model = SpinModel.from_tasks(sample_tasks(D, 2 * D, 100, seed=0), 0.0, prior=prior)
        vals = prior.support()
        lw = np.log(prior.weights())
        Q, h = np.ascontiguousarray(model.Q), np.ascontiguousarray(model.h)
        enumerate_states(Q, h, 10.0, vals, lw, 4096)  # compile
        t = best_of(lambda: enumerate_states(Q, h, 10.0, vals, lw, 4096), 3)
        rows.append([n_spins, prior.name, vals.size ** n_spins,
                     f"{vals.size ** n_spins / t / 1e6:.1f}"])
    print("\nExact enumeration, million states per second (1 thread):")
    print(table(["n_spins", "prior", "states", "M states/s"], rows))

    rows = []
    for prior in (Ternary(1.0, 0.5), Binary(0.5)):
        model = SpinModel.from_tasks(sample_tasks(10, 20, 4000, seed=1), 0.0, prior=prior)
        sgphys.solve_bp(model, 10.0, damping="auto", max_iter=2)  # compile
        t0 = time.perf_counter()
        r = sgphys.solve_bp(model, 10.0, damping="auto")
        dt = time.perf_counter() - t0
        rows.append([prior.name, model.n_spins, f"{r.reason} ({r.n_iter} it.)", f"{dt:.2f}"])
    print("\nFull BP on the discrete support, D = 10, N = 20, P = 4000, beta = 10 (1 thread):")
    print(table(["prior", "n_spins", "result", "seconds"], rows))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    what = sys.argv[1] if len(sys.argv) > 1 else "speed"
    if what == "accuracy":
        sizes = tuple(int(x) for x in sys.argv[2:]) or (2, 3)
        accuracy(sizes)
    elif what == "speed":
        speed()
    else:
        raise SystemExit("usage: python benchmarks/priors.py accuracy [D ...] | speed")
