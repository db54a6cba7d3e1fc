"""numba's on-disk cache of the kernels, invalidated by any change to any kernel file.

numba keys a cached function by its own source file only, but a kernel's machine code also
holds what it calls from other files (``amp.amp_step_prior`` inlines
``priors.denoise``; ``rbp`` uses constants of ``amp``): after an edit of ``priors.py`` the
cached AMP kernel would still run the old denoiser. :class:`KernelsLocator` wraps the
locator numba would choose for a file of this package (``NUMBA_CACHE_DIR``, the in-tree
``__pycache__`` or the user-wide cache, in numba's order) and adds a hash of every kernel
source to its freshness stamp, so any change recompiles every kernel. Functions of other
packages are left to numba's own locators (it returns None for them).

Imported first by every kernel module, before its functions are decorated (numba picks the
locator when ``cache=True`` enables caching). Needs ``numba.config.CACHE_LOCATOR_CLASSES``
(present in numba 0.68, used here; absent in some older releases): without it the kernels
fall back to numba's per-file stamps, and tests/test_kernel_cache.py is skipped.
"""

from __future__ import annotations

import hashlib
import os

import numba
from numba.core import caching

_HERE = os.path.dirname(os.path.abspath(__file__))


def _sources_hash() -> str:
    h = hashlib.sha256()
    for name in sorted(os.listdir(_HERE)):
        if name.endswith(".py"):
            h.update(name.encode())
            with open(os.path.join(_HERE, name), "rb") as f:
                h.update(f.read())
    return h.hexdigest()


SOURCES_HASH = _sources_hash()


def _numba_class(name):
    """A class of numba.core.caching by its public name or the older private one."""
    return getattr(caching, name, None) or getattr(caching, "_" + name, None)


#: numba's default locators, in its order, tried for the kernels' files
_BASES = tuple(c for c in map(_numba_class, ("UserProvidedCacheLocator", "InTreeCacheLocator",
                                              "UserWideCacheLocator")) if c is not None)


class KernelsLocator:
    """numba cache locator for this package's kernel files (see the module notes)."""

    def __init__(self, base):
        self._base = base

    @classmethod
    def from_function(cls, py_func, py_file):
        if os.path.dirname(os.path.abspath(py_file)) != _HERE:
            return None
        for base in _BASES:
            loc = base.from_function(py_func, py_file)
            if loc is not None:
                return cls(loc)
        return None

    def get_source_stamp(self):
        return (self._base.get_source_stamp(), SOURCES_HASH)

    def __getattr__(self, name):  # ensure_cache_path, get_cache_path, get_disambiguator...
        return getattr(self._base, name)


def _install():
    config = numba.config
    if not hasattr(config, "CACHE_LOCATOR_CLASSES") or not _BASES:
        return False
    ours = f"{__name__}.KernelsLocator"
    current = config.CACHE_LOCATOR_CLASSES or ""
    if ours in current:
        return True
    impl = _numba_class("CacheImpl")
    if impl is None:
        return False
    defaults = current or ",".join(c.__name__ for c in impl._locator_classes)
    config.CACHE_LOCATOR_CLASSES = f"{ours},{defaults}"
    return True


INSTALLED = _install()
