"""Matrix-free solvers on the rank-one features (sgphys.factored) against the dense path.

Each part runs in a fresh process, so its peak resident memory (``ru_maxrss``) is its own:

1. D = 100: dense ``SpinModel.from_tasks`` + ``solve_exact(variances=False)`` (Cholesky)
   against ``FactoredModel.from_tasks`` + ``solve_exact_factored`` (both timed from the
   task set, i.e. build + solve), and the largest difference of their means;
2. D = 300 (n_spins = 90,300, P = 4 n_spins = 361,200): exact means by PCG (time, CG
   iterations, peak memory), then one CG iteration (matrix-free ``Q`` product and
   preconditioner) against the two bare (P, D+1) x (D+1, D) products it is made of;
3. D = 300: GAMP with the Ternary(1, 0.5) prior (lam = 0);
4. accuracy (no timing): GAMP against dense TAP-AMP (``solve_amp``) with the Binary(0.5),
   Ternary(1, 0.5) and Laplace(0.2) priors at D = 2, 3, 5, P = 20 n_spins, N = 2D,
   beta = 1 and 10, on the 20 seeds 3000-3019 (used by no test), and both against
   ``solve_enumerate`` at D = 2: median / worst of the largest difference of a mean;
5. D = 500 (n_spins = 250,500, P = 1,002,000): one matrix-free ``Q`` product on random
   factors of that size and the peak memory, for the projection of a whole solve.

Statistics sampler (method="statistics"), N = 100, lam = 0.01, beta = 100, tol 1e-10.

    python benchmarks/factored.py            # parts 1-3
    python benchmarks/factored.py 4          # the accuracy table
    python benchmarks/factored.py 5          # D = 500: one Q product on random factors
    python benchmarks/factored.py 1 2        # some parts
    python benchmarks/factored.py --small    # D = 40 / 60 stand-ins (a quick check)
"""

import json
import os
import subprocess
import sys
import textwrap

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402

COMMON = textwrap.dedent("""
    import json, resource, sys, time
    import sgphys
    import numpy as np
    from sgphys.factored import FactoredModel, solve_exact_factored, solve_amp_factored
    D = int(sys.argv[1]); n = D * (D + 1)
    LAM, BETA = 0.01, 100.0
    def tasks():
        return sgphys.sample_tasks(D, 100, 4 * n, seed=0, method="statistics")
    def peak():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # GiB
    out = {"D": D, "n_spins": n, "P": 4 * n}
""")

DENSE_VS_FACTORED = COMMON + textwrap.dedent("""
    t0 = time.perf_counter()
    fm = FactoredModel.from_tasks(tasks(), LAM)
    r = solve_exact_factored(fm, BETA)
    out["factored_s"] = time.perf_counter() - t0
    out["cg_iter"] = r.n_iter
    out["cg_residual"] = r.residual
    out["cg_reason"] = r.reason
    del fm
    t0 = time.perf_counter()
    sm = sgphys.SpinModel.from_tasks(tasks(), LAM)
    ex = sgphys.solve_exact(sm, BETA, variances=False)
    out["dense_s"] = time.perf_counter() - t0
    out["max_rel_diff"] = float(np.max(np.abs(r.mean - ex.mean)) / np.max(np.abs(ex.mean)))
    print(json.dumps(out))
""")

LARGE_EXACT = COMMON + textwrap.dedent("""
    t0 = time.perf_counter()
    fm = FactoredModel.from_tasks(tasks(), LAM)
    out["build_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = solve_exact_factored(fm, BETA)
    out["solve_s"] = time.perf_counter() - t0
    out["cg_iter"] = r.n_iter
    out["matvecs"] = r.info["matvecs"]
    out["cg_residual"] = r.residual
    out["cg_reason"] = r.reason
    out["peak_gib"] = peak()
    X = np.random.default_rng(0).standard_normal((D + 1, D))
    def best(f, k=3):
        ts = []
        for _ in range(k):
            t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
        return min(ts)
    out["cg_iteration_s"] = best(lambda: (fm._qmat(X) + LAM * X, fm.precondition(X)))
    M = np.empty((fm.P, D))
    def gemms():
        np.matmul(fm.a, X, out=M)
        return fm.a.T @ M
    out["two_gemms_s"] = best(gemms)
    print(json.dumps(out))
""")

LARGE_AMP = COMMON + textwrap.dedent("""
    t0 = time.perf_counter()
    fm = FactoredModel.from_tasks(tasks(), 0.0, prior=sgphys.Ternary(1.0, 0.5))
    out["build_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = solve_amp_factored(fm, BETA, max_iter=100)
    out["amp_s"] = time.perf_counter() - t0
    out["amp_iter"] = r.n_iter
    out["amp_reason"] = r.reason
    out["amp_residual"] = r.residual
    out["damping_final"] = r.info.get("damping_final")
    out["peak_gib"] = peak()
    print(json.dumps(out))
""")


PRODUCT_ONLY = COMMON + textwrap.dedent("""
    # the factors of a D-sized task set, random (drawing the task set itself would take
    # minutes): one matrix-free Q product and one preconditioner application, best of 2
    P = 4 * n
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    a = rng.standard_normal((P, D + 1)); b = rng.standard_normal((P, D))
    fm = FactoredModel.from_factors(a, b, rng.standard_normal(P), LAM)
    out["random_factors_s"] = time.perf_counter() - t0
    x = rng.standard_normal(n)
    fm.Q_matvec(x)
    best = []
    for _ in range(2):
        t0 = time.perf_counter(); fm.Q_matvec(x); best.append(time.perf_counter() - t0)
    out["product_s"] = min(best)
    out["peak_gib"] = peak()
    print(json.dumps(out))
""")


def accuracy():
    """Part 4: mean |GAMP - TAP| of the means (and both against enumeration at D = 2)."""
    import numpy as np

    import sgphys
    from sgphys.factored import FactoredModel, solve_amp_factored

    seeds = range(3000, 3020)
    rows = []
    for prior in (sgphys.Binary(0.5), sgphys.Ternary(1.0, 0.5), sgphys.Laplace(0.2)):
        for beta in (1.0, 10.0):
            for D in (2, 3, 5):
                diff, e_gamp, e_tap, conv = [], [], [], [0, 0]
                for seed in seeds:
                    tasks = sgphys.sample_tasks(D, 2 * D, 20 * D * (D + 1), seed=seed)
                    fm = FactoredModel.from_tasks(tasks, 0.0, prior=prior)
                    r = solve_amp_factored(fm, beta)
                    sm = fm.to_dense()
                    t = sgphys.solve_amp(sm, beta)
                    conv[0] += r.converged
                    conv[1] += t.converged
                    if r.converged and t.converged:
                        diff.append(np.max(np.abs(r.mean - t.mean)))
                    if D == 2 and prior.discrete:
                        ex = sgphys.solve_enumerate(sm, beta)
                        if r.converged:
                            e_gamp.append(np.max(np.abs(r.mean - ex.mean)))
                        if t.converged:
                            e_tap.append(np.max(np.abs(t.mean - ex.mean)))

                def mw(x):
                    return f"{np.median(x):.1e} / {max(x):.1e}" if x else ""
                k = len(seeds)
                rows.append((prior.name, beta, D, f"{conv[0]}/{k}", f"{conv[1]}/{k}", mw(diff),
                             mw(e_gamp), mw(e_tap)))
                print(rows[-1], flush=True)
    print(f"largest |difference| of a mean over the spins, {len(seeds)} seeds: median / worst")
    print(table(["prior", "beta", "D", "GAMP converged", "TAP converged",
                 "GAMP - TAP", "GAMP vs enumeration", "TAP vs enumeration"], rows))


def run(script, D):
    proc = subprocess.run([sys.executable, "-c", script, str(D)], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(parts, small=False):
    d_small, d_large = (40, 60) if small else (100, 300)
    if 1 in parts:
        o = run(DENSE_VS_FACTORED, d_small)
        print(table(["D", "n_spins", "P", "dense build + Cholesky (s)", "factored build + PCG (s)",
                     "speed-up", "CG iterations", "max rel. diff of means"],
                    [(o["D"], o["n_spins"], o["P"], f"{o['dense_s']:.1f}",
                      f"{o['factored_s']:.2f}", f"{o['dense_s'] / o['factored_s']:.0f}x",
                      o["cg_iter"], f"{o['max_rel_diff']:.1e}")]), flush=True)
    if 2 in parts:
        o = run(LARGE_EXACT, d_large)
        print(table(["D", "n_spins", "P", "build factors (s)", "PCG means (s)", "CG iterations",
                     "residual", "peak memory (GiB)", "CG iteration (s)", "two GEMMs (s)",
                     "ratio"],
                    [(o["D"], o["n_spins"], o["P"], f"{o['build_s']:.1f}",
                      f"{o['solve_s']:.1f}", f"{o['cg_iter']} ({o['cg_reason']})",
                      f"{o['cg_residual']:.1e}", f"{o['peak_gib']:.2f}",
                      f"{o['cg_iteration_s']:.2f}", f"{o['two_gemms_s']:.2f}",
                      f"{o['cg_iteration_s'] / o['two_gemms_s']:.2f}")]), flush=True)
    if 3 in parts:
        o = run(LARGE_AMP, d_large)
        print(table(["D", "n_spins", "P", "build factors (s)", "GAMP Ternary (s)", "iterations",
                     "reason", "residual", "final damping", "peak memory (GiB)"],
                    [(o["D"], o["n_spins"], o["P"], f"{o['build_s']:.1f}", f"{o['amp_s']:.1f}",
                      o["amp_iter"], o["amp_reason"], f"{o['amp_residual']:.1e}",
                      o["damping_final"], f"{o['peak_gib']:.2f}")]), flush=True)
    if 4 in parts:
        accuracy()
    if 5 in parts:
        o = run(PRODUCT_ONLY, 500)
        print(table(["D", "n_spins", "P", "one matrix-free Q product (s)", "peak memory (GiB)"],
                    [(o["D"], o["n_spins"], o["P"], f"{o['product_s']:.1f}",
                      f"{o['peak_gib']:.2f}")]), flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    args = [a for a in sys.argv[1:] if a != "--small"]
    main([int(a) for a in args] or [1, 2, 3], small="--small" in sys.argv)
