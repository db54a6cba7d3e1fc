"""Input validation shared by every public function.

Every check raises ``ValueError`` whose message names the parameter and the offending
value, as docs/api.rst (section API) requires (wrong types included: a complex, boolean, string or
object array where real numbers are meant is a ValueError too). Nothing here imports more
than NumPy.

Integer parameters are bounded by :data:`MAX_INT` (so they fit the numba kernels' int64);
allocations larger than :func:`memory_limit` are refused by :func:`check_memory` before
they are attempted.
"""

from __future__ import annotations

import math
import numbers
import os

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
    "check_bool",
    "check_memory",
    "memory_limit",
    "parse_bytes",
    "as_scalar",
    "as_seed_sequence",
    "as_generator",
    "MAX_INT",
    "MAX_MEMORY",
]

#: largest integer parameter accepted (iteration counts, sizes): int64 kernels need < 2**63
MAX_INT = 2 ** 62

#: allocation limit in bytes for :func:`check_memory`; None: the environment variable
#: ``SGPHYS_MAX_MEMORY`` (bytes) if set, else the memory the machine has available
MAX_MEMORY: int | None = None

#: requests below this many bytes are not checked against the machine's available memory
#: (reading it costs a file read, and such requests cannot exhaust a machine this library
#: runs on); a :data:`MAX_MEMORY` or ``SGPHYS_MAX_MEMORY`` limit is checked at every size
SMALL_REQUEST = 64 * 2 ** 20


def _short(value) -> str:
    """A short description of ``value`` for an error message: its repr (at most 80
    characters), but only the dtype and shape of an array, never its contents."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0 and value.dtype.kind in "biufc":
            return f"{value.item()!r} (0-d array of dtype {value.dtype})"
        return f"array of dtype {value.dtype} and shape {value.shape}"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def as_scalar(value):
    """``value`` as a plain Python number when it is any integer or real number: a NumPy
    scalar or a 0-d integer or floating array becomes ``int`` or ``float`` (booleans stay
    booleans, so checks still refuse them); anything else is returned unchanged."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        value = value.item()
    elif isinstance(value, np.generic) and value.dtype.kind in "biuf":
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, int):
        return int(value)
    return value


def _is_int(value) -> bool:
    return (not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Integral))


def check_positive_int(name: str, value) -> int:
    """Return ``value`` as ``int`` if it is an integer in [1, MAX_INT], else raise ValueError
    (floats such as 2.0 and booleans are not integers here; NumPy integers and 0-d integer
    arrays are)."""
    value = as_scalar(value)
    if not _is_int(value) or not 1 <= value <= MAX_INT:
        raise ValueError(f"{name} must be a positive integer (at most 2**62), "
                         f"got {_short(value)}")
    return int(value)


def check_nonnegative_int(name: str, value) -> int:
    """Return ``value`` as ``int`` if it is an integer in [0, MAX_INT], else raise ValueError."""
    value = as_scalar(value)
    if not _is_int(value) or not 0 <= value <= MAX_INT:
        raise ValueError(f"{name} must be a non-negative integer (at most 2**62), "
                         f"got {_short(value)}")
    return int(value)


def check_bool(name: str, value, allow_none: bool = False):
    """Return ``value`` as ``bool`` (or None if ``allow_none``) if it is a bool, else raise
    ValueError: truthy strings such as ``"no"`` are not booleans."""
    if value is None and allow_none:
        return None
    value = as_scalar(value)
    if not isinstance(value, (bool, np.bool_)):
        kind = "None or a bool" if allow_none else "a bool"
        raise ValueError(f"{name} must be {kind}, got {_short(value)}")
    return bool(value)


def _as_real(name: str, value) -> float:
    value = as_scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {_short(value)}")
    try:
        value = float(value)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"{name} must be finite, got {_short(value)}") from None
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

    Only integer and floating dtypes are real arrays here: complex (the imaginary part
    would be dropped), boolean, string and object arrays, None and ragged lists raise
    ValueError naming ``name``, as do NaN and inf (also from overflow in the conversion,
    e.g. of a longdouble) and the wrong number of dimensions or shape. The result is a
    new array only when a conversion or a contiguous copy is needed.

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
        arr = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{name} must be a real array, got a {type(value).__name__} that "
                         "NumPy cannot convert (ragged or mixed)") from exc
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a real (integer or floating) array, got dtype "
                         f"{arr.dtype} and shape {arr.shape}")
    with np.errstate(over="ignore"):
        arr = np.asarray(arr, dtype=np.float64, order="C")  # keeps 0-d arrays 0-d
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape)
        ):
            want = tuple("*" if s is None else s for s in shape)
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf (dtype {arr.dtype}, shape {arr.shape})")
    return arr


def _system_available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def memory_limit() -> int | None:
    """Bytes :func:`check_memory` allows: :data:`MAX_MEMORY` if set, else the environment
    variable ``SGPHYS_MAX_MEMORY`` (bytes), else the memory available now (``MemAvailable``
    of /proc/meminfo, else ``os.sysconf``); None when none of these is known."""
    if MAX_MEMORY is not None:
        return int(MAX_MEMORY)
    env = os.environ.get("SGPHYS_MAX_MEMORY")
    if env is not None and env.strip():
        return parse_bytes("SGPHYS_MAX_MEMORY", env)
    return _system_available_memory()


_UNITS = {"": 1, "k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}


def parse_bytes(name: str, text: str) -> int:
    """A positive number of bytes from ``text``: a number, optionally followed by K, M, G
    or T (binary multiples; ``8G``, ``8 GiB`` and ``8GB`` all mean 8 * 2**30); else
    ValueError naming ``name``."""
    import re

    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*",
                     str(text))
    value = float(m.group(1)) * _UNITS[m.group(2).lower()] if m else math.nan
    if not (math.isfinite(value) and value >= 1):
        raise ValueError(f"{name} must be a number of bytes >= 1 (optionally with K, M, G "
                         f"or T, e.g. 8G), got {_short(text)}")
    return int(value)


def _bytes(n) -> str:
    for unit, size in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def check_memory(name: str, value, nbytes, what: str = "this") -> None:
    """Raise ValueError naming ``name=value`` if allocating ``nbytes`` (an estimate of what
    ``what`` needs) would exceed :func:`memory_limit`; call it before allocating.
    Requests below :data:`SMALL_REQUEST` bytes are checked only against an explicit limit."""
    if (nbytes < SMALL_REQUEST and MAX_MEMORY is None
            and not os.environ.get("SGPHYS_MAX_MEMORY", "").strip()):
        return
    limit = memory_limit()
    if limit is not None and nbytes > limit:
        raise ValueError(f"{name}={_short(value)}: {what} needs about {_bytes(nbytes)}, more "
                         f"than the {_bytes(limit)} of memory available (limit: "
                         "sgphys._validate.MAX_MEMORY or the environment variable "
                         "SGPHYS_MAX_MEMORY, e.g. 8G)")


def as_seed_sequence(seed) -> np.random.SeedSequence:
    """Turn ``seed`` (int, SeedSequence or Generator) into a SeedSequence.

    A Generator is consumed (four 63-bit draws) to make fresh entropy, so passing the
    same Generator twice gives two different, reproducible streams.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4).tolist())
    seed = as_scalar(seed)
    if not _is_int(seed) or seed < 0:
        raise ValueError(
            f"seed must be a non-negative integer, SeedSequence or Generator, got {_short(seed)}"
        )
    return np.random.SeedSequence(int(seed))


def as_generator(seed) -> np.random.Generator:
    """A PCG64 Generator from an int, SeedSequence or Generator (returned unchanged)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(as_seed_sequence(seed))
