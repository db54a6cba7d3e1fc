"""Input validation shared by every public function.

Every check raises ``ValueError`` whose message names the parameter and the offending
value, as SPEC section 8 requires. Nothing here imports more than NumPy.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "check_positive_int",
    "check_nonnegative_int",
    "check_positive",
    "check_nonnegative",
    "check_fraction",
    "check_choice",
    "check_damping",
    "check_array",
    "as_seed_sequence",
    "as_generator",
]


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_positive_int(name: str, value) -> int:
    """Return ``value`` as ``int`` if it is an integer >= 1, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {_short(value)}")
    return int(value)


def check_nonnegative_int(name: str, value) -> int:
    """Return ``value`` as ``int`` if it is an integer >= 0, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {_short(value)}")
    return int(value)


def _as_real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {_short(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_positive(name: str, value) -> float:
    """Return ``value`` as ``float`` if finite and > 0, else raise ValueError."""
    value = _as_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def check_nonnegative(name: str, value) -> float:
    """Return ``value`` as ``float`` if finite and >= 0, else raise ValueError."""
    value = _as_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def check_fraction(name: str, value) -> float:
    """Return ``value`` as ``float`` if it lies in [0, 1), else raise ValueError."""
    value = _as_real(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return value


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ValueError."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {_short(value)}")
    return value


def check_damping(value):
    """Validate a damping: the string ``"auto"`` or a number in [0, 1).

    Convention everywhere in sgphys: ``new = damping * old + (1 - damping) * update``.
    """
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"damping must be 'auto' or a number in [0, 1), got {value!r}")
        return value
    return check_fraction("damping", value)


def check_array(name: str, value, ndim: int | None = None, shape=None) -> np.ndarray:
    """Return ``value`` as a C-contiguous float64 array after checking it.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : array_like
        The array.
    ndim : int, optional
        Required number of dimensions.
    shape : tuple, optional
        Required shape; ``None`` entries match any length.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real array, got {_short(value)}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape)
        ):
            want = tuple("*" if s is None else s for s in shape)
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return np.ascontiguousarray(arr)


def as_seed_sequence(seed) -> np.random.SeedSequence:
    """Turn ``seed`` (int, SeedSequence or Generator) into a SeedSequence.

    A Generator is consumed (four 63-bit draws) to make fresh entropy, so passing the
    same Generator twice gives two different, reproducible streams.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4).tolist())
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(
            f"seed must be a non-negative integer, SeedSequence or Generator, got {_short(seed)}"
        )
    return np.random.SeedSequence(int(seed))


def as_generator(seed) -> np.random.Generator:
    """A PCG64 Generator from an int, SeedSequence or Generator (returned unchanged)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(as_seed_sequence(seed))
