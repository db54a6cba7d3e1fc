"""OpenBLAS's spinning threads stopped before parallel kernels (sgphys._blas): the threads
really go (the operating system's thread count), BLAS still computes right afterwards, no
solver result changes, and nothing is done where it would not be safe."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

linux = pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc")


def _child(code, **env_extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_THREAD_TIMEOUT", "SGPHYS_QUIET_BLAS", "OPENBLAS_NUM_THREADS",
                        "OMP_NUM_THREADS")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


PRELUDE = """
    import os, threading
    import numpy as np, scipy.linalg
    from threadpoolctl import threadpool_info
    from sgphys._blas import quiet_blas, blas_libraries
    def threads():
        return len(os.listdir("/proc/self/task"))
    multi = any(i["internal_api"] == "openblas" and i["num_threads"] > 1
                for i in threadpool_info())
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 400)); C = X @ X.T + 400 * np.eye(400)
"""


@linux
def test_quiet_blas_stops_the_threads_and_blas_still_computes():
    out = _child(PRELUDE + """
    if not (multi and blas_libraries()):
        print("skip"); raise SystemExit
    L = np.linalg.cholesky(C)          # numpy's OpenBLAS, several threads
    scipy.linalg.cho_factor(C)         # scipy's
    before = threads()
    stopped = quiet_blas()
    after = threads()
    L2 = np.linalg.cholesky(C)         # the threads start again on demand
    print(stopped, before > after, after < threads(),
          float(np.max(np.abs(L2 @ L2.T - C)) / np.max(np.abs(C))),
          float(np.max(np.abs(L2 - L))))
    """, OPENBLAS_NUM_THREADS="2")
    if out == ["skip"]:
        pytest.skip("no multi-threaded OpenBLAS with blas_thread_shutdown_")
    stopped, fewer, restarted, rel, diff = out
    assert stopped == "True" and fewer == "True" and restarted == "True"
    assert float(rel) < 1e-13          # L L^T = C: the factorisation is right afterwards
    assert float(diff) == 0.0          # and the same bits as before


def test_quiet_blas_does_nothing_where_unsafe_or_unwanted():
    out = _child(PRELUDE + """
    import sgphys._blas as B
    res = {}
    t = threading.Thread(target=lambda: res.setdefault("thread", quiet_blas()))
    t.start(); t.join()                # not the main thread
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)   # a non-daemon thread alive
    worker.start(); res["non-daemon"] = quiet_blas(); stop.set(); worker.join()
    daemon = threading.Thread(target=stop.wait, daemon=True)
    stop.clear(); daemon.start()
    res["daemon"] = quiet_blas() == bool(blas_libraries()); stop.set(); daemon.join()
    os.environ["SGPHYS_QUIET_BLAS"] = "0"; res["off"] = quiet_blas()
    print(res["thread"], res["non-daemon"], res["daemon"], res["off"])
    """, OPENBLAS_NUM_THREADS="2")
    assert out == ["False", "False", "True", "False"]


def test_a_library_limited_to_one_thread_is_left_alone():
    """Sweep workers limit BLAS to one thread: nothing to stop there (stopping costs a thread
    start-up at the next call), unless forced."""
    out = _child(PRELUDE + """
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=1, user_api="blas"):
        print(quiet_blas(), quiet_blas(force=True) == bool(blas_libraries()))
    """, OPENBLAS_NUM_THREADS="2")
    assert out == ["False", "True"]


def test_a_short_wait_from_the_environment_is_left_alone():
    out = _child(PRELUDE + """
    print(len(blas_libraries()), quiet_blas())
    """, OPENBLAS_THREAD_TIMEOUT="10")
    assert out == ["0", "False"]


def test_solver_results_do_not_depend_on_stopping_the_threads():
    """The same bits with and without the mechanism (two processes on this machine), for
    every solver that uses it and the trainer: the kernels are numba's, only BLAS's threads
    are stopped and started again."""
    code = PRELUDE + """
    import hashlib
    import sgphys
    from sgphys.priors import Ternary
    tasks = sgphys.sample_tasks(20, 40, 1700, seed=3, method="statistics")
    model = sgphys.SpinModel.from_tasks(tasks, 0.5)
    ternary = sgphys.SpinModel.from_tasks(tasks, 0.0, prior=Ternary(0.3))
    out = []
    for f in (lambda: sgphys.solve_exact(model, 50.0),
              lambda: sgphys.solve_amp(model, 50.0),
              lambda: sgphys.solve_amp(ternary, 10.0),
              lambda: sgphys.solve_rbp(model, 50.0)):
        scipy.linalg.cho_factor(C)     # a BLAS call just before, as in a script
        r = f()
        out.append(hashlib.sha256(r.mean.tobytes()).hexdigest()[:16] + f":{r.converged}")
    W = sgphys.train(sgphys.sample_tasks(5, 10, 50, seed=1), epochs=5, lr=1e-2, seed=0).W
    out.append(hashlib.sha256(np.asarray(W).tobytes()).hexdigest()[:16])
    print(*out)
    """
    on = _child(code)
    off = _child(code, SGPHYS_QUIET_BLAS="0")
    assert on == off
    assert [s.split(":")[1] for s in on[:4]] == ["True"] * 4
