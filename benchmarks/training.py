"""Trainer benchmark: a paper-scale Fig. 4b point (D=20, N=100, P=10000, 5000
full-batch Adam epochs, lr 1e-3) by sgphys.train (sufficient statistics) against the same
Adam loop with a plain per-epoch ``H @ s`` forward and ``H^T r`` backward. One run, one core."""

import os
import sys
import time

import numpy as np  # first, as in a user's script (benchmarks/import_order.py)

import sgphys  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402



def plain_adam(H, y, lam, lr, epochs, s0):
    s = s0.copy()
    m = np.zeros_like(s)
    v = np.zeros_like(s)
    P = H.shape[0]
    for t in range(1, epochs + 1):
        r = H @ s - y
        g = H.T @ r / P + lam * s
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        s -= lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return s


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    D, N, P, epochs = 20, 100, 10000, 5000
    tasks = sgphys.sample_tasks(D, N, P, seed=0)
    t0 = time.perf_counter()
    H = tasks.features()
    t_feat = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = sgphys.train(tasks, lam=0.005, lr=1e-3, epochs=epochs)
    t_sg = time.perf_counter() - t0
    s0 = r.params["W"]  # same shape; start of the plain loop does not matter for timing
    t0 = time.perf_counter()
    plain_adam(H, tasks.y, 0.005, 1e-3, epochs, np.zeros(D * (D + 1)))
    t_plain = time.perf_counter() - t0
    print(table(["what", "seconds"], [
        ("features H (P=10000, N=100)", f"{t_feat:.2f}"),
        ("sgphys.train, 5000 Adam epochs (incl. features, Q, train loss per epoch)", f"{t_sg:.2f}"),
        ("plain H @ s Adam loop, 5000 epochs (no loss recorded)", f"{t_plain:.2f}"),
        ("ratio sgphys / plain", f"{t_sg / t_plain:.3f}"),
    ]))
