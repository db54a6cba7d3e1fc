"""Solver benchmarks: ratios measured in one run on this machine.

    python benchmarks/solvers.py            # prints markdown tables

1. AMP time per iteration / one BLAS ``J @ x`` (dgemv), serial and row-parallel kernels.
2. numba AMP iteration vs the plain NumPy AMP iteration (sgphys.kernels.reference).
3. One whole r-BP sweep / one AMP iteration, serial and parallel kernels.
4. AMP (TAP, auto damping) and r-BP to tol 1e-10 vs solve_exact.
5. D=100 (10,100 spins): AMP solve time and peak memory (separate process).
6. Cold start: a fresh process importing sgphys and running a first solve_amp at D=20, after
   sgphys.warmup() cached the kernels.
7. AMP row sums from the whole J (row kernel) against J's upper triangle (the kernel used
   from ``SYM_MIN_SPINS``), serial and parallel, random symmetric J.
8. The row kernel (``ROW_BLOCK`` rows at a time) against one row at a time, serial, the
   sizes below ``SYM_MIN_SPINS``:

       python benchmarks/solvers.py kernels   # only tables 7 and 8
"""

import os
import subprocess
import sys
import textwrap
import time

import numpy as np  # first, as in a user's script (benchmarks/import_order.py)

import sgphys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _util import best_of, table  # noqa: E402

from sgphys.kernels import amp as K  # noqa: E402
from sgphys.kernels import rbp as R  # noqa: E402
from sgphys.kernels import reference as ref  # noqa: E402


def model(D, lam=1.0, mult=4):
    n = D * (D + 1)
    return sgphys.SpinModel.from_tasks(sgphys.sample_tasks(D, 100, mult * n, seed=0), lam)


def per_iteration():
    rows, rows2, rows3 = [], [], []
    sgphys.warmup()
    for D in (10, 20, 30, 40):
        m = model(D)
        n = m.n_spins
        J = np.ascontiguousarray(m.J)
        h, lam_k, beta = m.h, m.lam_k, 100.0
        x = np.random.default_rng(0).standard_normal(n)
        v = 1.0 / (beta * lam_k)
        bufs = [np.empty(n) for _ in range(5)]
        t_gemv = best_of(lambda: J @ x, repeat=7, number=20)
        t_ser = best_of(lambda: K.amp_step(J, h, lam_k, beta, x, v, True, *bufs, False), 7, 20)
        t_par = best_of(lambda: K.amp_step(J, h, lam_k, beta, x, v, True, *bufs, True), 7, 20)
        t_np = best_of(lambda: ref.amp_step(J, h, lam_k, beta, x, v, True), 5, 5)
        t_rbp, t_rbp_par = rbp_sweep_times(m, beta)
        rows.append((n, f"{t_gemv * 1e6:.0f}", f"{t_ser * 1e6:.0f}", f"{t_ser / t_gemv:.2f}",
                     f"{t_par / t_gemv:.2f}", f"{t_np * 1e6:.0f}", f"{t_ser / t_np:.2f}"))
        rows3.append((n, f"{t_rbp * 1e6:.0f}", f"{t_rbp / t_ser:.2f}",
                       f"{t_rbp_par * 1e6:.0f}", f"{t_rbp_par / t_par:.2f}",
                       f"{t_rbp / t_rbp_par:.2f}"))
        t0 = time.perf_counter()
        a = sgphys.solve_amp(m, beta)
        t_amp = time.perf_counter() - t0
        t0 = time.perf_counter()
        r = sgphys.solve_rbp(m, beta)
        t_r = time.perf_counter() - t0
        t_ex = best_of(lambda: sgphys.solve_exact(m, beta), repeat=3)
        rows2.append((n, a.n_iter, a.reason, f"{t_amp * 1e3:.1f}", r.n_iter, r.reason,
                      f"{t_r * 1e3:.1f}", f"{t_ex * 1e3:.1f}", f"{t_amp / t_ex:.2f}",
                      f"{t_r / t_ex:.2f}"))
    print("AMP iteration vs BLAS J@x and NumPy AMP (P = 4 n_spins, N = 100, lam = 1):\n")
    print(table(["n_spins", "J@x (us)", "AMP iter (us)", "AMP / J@x", "parallel AMP / J@x",
                 "NumPy AMP iter (us)", "numba / NumPy"], rows))
    print("\nOne whole r-BP sweep (every message updated, damped, residual and node sums) vs "
          "one AMP iteration, serial and row-parallel kernels:\n")
    print(table(["n_spins", "r-BP sweep (us)", "r-BP / AMP iter", "parallel r-BP sweep (us)",
                 "parallel r-BP / parallel AMP", "r-BP serial / parallel"], rows3))
    print("\nAMP (TAP) and r-BP (auto damping) to tol 1e-10 vs solve_exact (Cholesky, means and "
          "variances):\n")
    print(table(["n_spins", "AMP iterations", "reason", "AMP solve (ms)", "r-BP iterations",
                 "reason", "r-BP solve (ms)", "exact (ms)", "AMP / exact", "r-BP / exact"],
                rows2))


def rbp_sweep_times(model, beta):
    """Best time of one whole r-BP sweep (kernels/rbp.py), serial and parallel chunks."""
    n = model.n_spins
    J = np.ascontiguousarray(model.J)
    h, lam_k = model.h, model.lam_k
    v = 1.0 / (beta * lam_k)
    iu, ju = np.triu_indices(n, 1)
    msgs = (np.zeros(iu.size), v[iu], np.zeros(iu.size), v[ju])
    off = R.pair_offsets(n)
    chunks = sgphys.solvers.rbp_chunks(n)
    work = (R.chunk_bounds(n, chunks), np.empty((chunks, n)), np.empty((chunks, n)),
            np.empty((chunks, R.N_STATS)))
    T, S, Tn, Sn, A, B, um, uv = (np.empty(n) for _ in range(8))
    stats = np.empty(R.N_STATS)
    R.node_sums(J, off, *msgs, T, S)
    times = []
    for parallel in (False, True):
        def sweep():
            R.rbp_sweep(J, h, lam_k, beta, off, *msgs, T, S, Tn, Sn, A, B, 0.5, 0.5, um, uv,
                        stats, *work, parallel)
        sweep()
        assert stats[0] > 0  # a real sweep, not the early return of a nonpositive state
        times.append(best_of(sweep, repeat=7, number=3))
    return times


BIG = textwrap.dedent("""
    import resource, time, numpy as np, sgphys
    D = 100
    H = None
    tasks = sgphys.sample_tasks(D, 100, 2 * D * (D + 1), seed=0)
    model = sgphys.SpinModel.from_tasks(tasks, 1.0)
    del tasks
    t0 = time.perf_counter()
    r = sgphys.solve_amp(model, 100.0, max_iter=2000)
    t = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{model.n_spins} {r.reason} {r.n_iter} {t:.1f} {peak:.2f}")
""")

COLD = textwrap.dedent("""
    import time
    t0 = time.perf_counter()
    import sgphys
    m = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(20, 100, 2000, seed=0), 1.0)
    t1 = time.perf_counter()
    r = sgphys.solve_amp(m, 100.0)
    t2 = time.perf_counter()
    print(f"{t1 - t0:.2f} {t2 - t1:.2f} {r.reason}")
""")


def big_and_cold():
    out = subprocess.run([sys.executable, "-c", BIG], capture_output=True, text=True, check=True)
    n, reason, it, t, peak = out.stdout.split()
    print(f"\nD=100 ({n} spins, P = 2 n_spins, lam = 1): AMP {reason} in {it} iterations, "
          f"{t} s; peak resident memory of the whole process {peak} GiB (J alone is "
          f"{int(n) ** 2 * 8 / 2**30:.2f} GiB; H, Q and J are held).")
    sgphys.warmup()
    runs = [subprocess.run([sys.executable, "-c", COLD], capture_output=True, text=True,
                           check=True).stdout.split() for _ in range(3)]
    best = min(runs, key=lambda r: float(r[1]))
    print(f"\nCold start after warmup (fresh process, best of 3): import + data + model "
          f"{best[0]} s, first solve_amp at D=20 {best[1]} s ({best[2]}).")


def _random_couplings(n):
    """A random symmetric J with zero diagonal and random m, v > 0 (seed 0)."""
    rng = np.random.default_rng(0)
    J = rng.standard_normal((n, n))
    J = 0.5 * (J + J.T)
    np.fill_diagonal(J, 0.0)
    return J, rng.standard_normal(n), rng.random(n)


def row_vs_upper_triangle(sizes=(1640, 3660, 6480, 10100)):
    """The two row-sum kernels of AMP on the same random symmetric J (best of repeats)."""
    rows = []
    for n in sizes:
        J, m, v = _random_couplings(n)
        Jm, JJv = np.empty(n), np.empty(n)
        rep = max(3, int(2e8 / n ** 2))
        t = {}
        for name, fn in (("row", lambda *a: K._row_sums(*a, False)),
                         ("row par", lambda *a: K._row_sums_parallel(*a, False)),
                         ("upper", lambda *a: K._sym_sums(*a, False)),
                         ("upper par", lambda *a: K._sym_sums_parallel(*a, False))):
            fn(J, m, v, Jm, JJv)
            t[name] = best_of(lambda: fn(J, m, v, Jm, JJv), rep)  # noqa: B023
        rows.append((n, f"{t['row'] * 1e3:.2f}", f"{t['upper'] * 1e3:.2f}",
                     f"{t['row'] / t['upper']:.2f}", f"{t['row par'] * 1e3:.2f}",
                     f"{t['upper par'] * 1e3:.2f}", f"{t['row par'] / t['upper par']:.2f}"))
        del J
    print("\nAMP row sums (J m and (J*J) v): whole J against its upper triangle, random "
          f"symmetric J (sgphys uses the upper triangle from {K.SYM_MIN_SPINS} spins):\n")
    print(table(["n_spins", "row (ms)", "upper (ms)", "row / upper", "row par (ms)",
                 "upper par (ms)", "row par / upper par"], rows))


def _one_row_at_a_time(J, m, v, Jm, JJv):
    """The row kernel without blocking: each row of J read against m and v on its own."""
    n = J.shape[0]
    for i in range(n):
        s1 = 0.0
        s2 = 0.0
        for k in range(n):
            jik = J[i, k]
            s1 += jik * m[k]
            s2 += jik * jik * v[k]
        Jm[i] = s1
        JJv[i] = s2


def row_blocking(sizes=(110, 420, 930)):
    """sgphys's row kernel (``ROW_BLOCK`` rows share each load of m_k and v_k) against one
    row at a time, compiled with the same flags, serial (best of repeats)."""
    from numba import njit

    one = njit(fastmath=K.FASTMATH, error_model="numpy")(_one_row_at_a_time)
    rows = []
    for n in sizes:
        J, m, v = _random_couplings(n)
        Jm, JJv = np.empty(n), np.empty(n)
        rep = max(20, int(2e8 / n ** 2))
        one(J, m, v, Jm, JJv)
        K._row_sums(J, m, v, Jm, JJv, False)
        t1 = best_of(lambda: one(J, m, v, Jm, JJv), rep)  # noqa: B023
        tb = best_of(lambda: K._row_sums(J, m, v, Jm, JJv, False), rep)  # noqa: B023
        rows.append((n, f"{t1 * 1e6:.1f}", f"{tb * 1e6:.1f}", f"{t1 / tb:.2f}"))
    print(f"\nAMP row kernel: {K.ROW_BLOCK} rows at a time against one row at a time, "
          "serial:\n")
    print(table(["n_spins", "one row (us)", f"{K.ROW_BLOCK} rows (us)", "speed-up"], rows))


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    print(f"machine: {os.cpu_count()} cores; numba threads {__import__('numba').get_num_threads()}\n")
    if sys.argv[1:] == ["kernels"]:
        row_vs_upper_triangle()
        row_blocking()
    else:
        per_iteration()
        big_and_cold()
        row_vs_upper_triangle()
        row_blocking()
