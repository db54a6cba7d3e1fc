"""Where a sweep's time goes: named sections, timed exclusively and summed per process.

A point function (or the library code it calls) wraps its phases in :func:`section`; a
section entered inside another takes its time from the outer one, so the sections add up
to the time spent in them, never more. :func:`take` returns the totals and starts again.
The sweep (:mod:`sgphys.sweep`) takes them after every point, adds the parent's own phases
(worker start-up, I/O) and reports the split at the end of a run
(:func:`sgphys.sweep.last_time_split`, and a line on stderr with progress on).

>>> from sgphys.timing import section, take
>>> with section("solves"):
...     pass
>>> sorted(take())
['solves']
"""

from __future__ import annotations

import time
from contextlib import contextmanager

__all__ = ["section", "take", "format_split"]

_totals: dict[str, float] = {}
_stack: list[list] = []  # [name, start of the current stretch]


@contextmanager
def section(name: str):
    """Time the enclosed block under ``name`` (exclusive of inner sections)."""
    now = time.perf_counter()
    if _stack:  # pause the enclosing section
        outer = _stack[-1]
        _totals[outer[0]] = _totals.get(outer[0], 0.0) + now - outer[1]
    _stack.append([name, now])
    try:
        yield
    finally:
        now = time.perf_counter()
        inner = _stack.pop()
        _totals[inner[0]] = _totals.get(inner[0], 0.0) + now - inner[1]
        if _stack:
            _stack[-1][1] = now


def take() -> dict:
    """The totals (seconds per section name) since the last call, and reset them."""
    out = dict(_totals)
    _totals.clear()
    return out


#: order of the phases in a printed split
ORDER = ("worker start-up", "model build", "solves", "test errors", "other", "I/O")


def format_split(split: dict) -> str:
    """One line: the phases in :data:`ORDER` (then any other), seconds with one decimal."""
    names = [k for k in ORDER if k in split] + sorted(k for k in split
                                                      if k not in ORDER and k != "wall")
    parts = [f"{k} {split[k]:.1f}" for k in names]
    if "wall" in split:
        parts.append(f"wall {split['wall']:.1f}")
    return "time split (s): " + ", ".join(parts)
