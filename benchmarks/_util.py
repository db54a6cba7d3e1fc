"""Timing helpers for the benchmark scripts."""

import time

import numpy as np


def best_of(fn, repeat=5, number=1):
    """Best wall time of ``repeat`` runs of ``number`` calls (seconds per call)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
