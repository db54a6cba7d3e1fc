"""The machine's own yardsticks, printed beside every benchmark's times so that a figure
measured on one machine can be read on another: cores, BLAS library and threads, numba's
threading layer, memory bandwidth (a large array copy), and one dgemm and one dgemv rate.
"""

import os
import time

import numpy as np


def _best(fn, repeat=5):
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure():
    """Dict of yardsticks: ``cores``, ``blas``, ``blas_threads``, ``numba_layer``,
    ``bandwidth_GBs`` (read + write of a 400 MB copy), ``dgemm_GFs`` (n = 1000),
    ``dgemv_GBs`` (bytes of the 4000 x 4000 matrix read per second)."""
    import numba
    from threadpoolctl import threadpool_info

    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')})"
                     for i in info) or "unknown"
    threads = ", ".join(str(i.get("num_threads")) for i in info) or "?"

    @numba.njit(parallel=True)
    def _touch(x):
        s = 0.0
        for i in numba.prange(x.shape[0]):
            s += x[i]
        return s

    _touch(np.ones(16))
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = "none"
    a = np.ones(50_000_000)
    b = np.empty_like(a)
    bw = 2 * a.nbytes / _best(lambda: np.copyto(b, a), 3) / 1e9
    del a, b
    rng = np.random.default_rng(0)
    A = rng.standard_normal((1000, 1000))
    gemm = 2 * 1000 ** 3 / _best(lambda: A @ A) / 1e9
    M = rng.standard_normal((4000, 4000))
    x = rng.standard_normal(4000)
    gemv = M.nbytes / _best(lambda: M @ x, 20) / 1e9
    return {"cores": os.cpu_count(), "blas": blas, "blas_threads": threads,
            "numba_layer": layer, "numba_threads": numba.get_num_threads(),
            "bandwidth_GBs": bw, "dgemm_GFs": gemm, "dgemv_GBs": gemv}


def yardsticks():
    """One line of :func:`measure` for a benchmark's header."""
    m = measure()
    return (f"machine: {m['cores']} cores; BLAS {m['blas']} with {m['blas_threads']} threads; "
            f"numba {m['numba_layer']} layer, {m['numba_threads']} threads; memory bandwidth "
            f"{m['bandwidth_GBs']:.1f} GB/s (copy); dgemm {m['dgemm_GFs']:.1f} GFLOP/s "
            f"(n = 1000); dgemv {m['dgemv_GBs']:.1f} GB/s (4000 x 4000)")


if __name__ == "__main__":
    print(yardsticks())
