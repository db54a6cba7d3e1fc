"""Priors on the spins: Gaussian (ridge, today's model), Laplace (lasso), binary, ternary.

A prior enters the Gibbs measure as::

    p(s) ∝ exp(-beta E0(s)) prod_k pi_beta(s_k),
    E0(s) = -(1/2) sum_{k != l} J_kl s_k s_l - sum_k h_k s_k + (1/2) sum_k Q_kk s_k^2
          = (1/2) s^T Q s - h^T s

(the energy (docs/model.rst, section Spin mapping) without the ridge term, Q_kk = lam_k - lam).
``Gaussian(lam)`` has
``pi_beta(s) ∝ exp(-beta lam s^2/2)`` and gives the model (docs/model.rst, section Spin mapping)
exactly.

Beta convention (one rule for every method and kernel)
------------------------------------------------------
The continuous priors carry beta in their exponent: ``pi_beta(s) ∝ exp(-beta lam s^2/2)``
(Gaussian), ``exp(-beta lam1 |s|)`` (Laplace); the discrete priors' weights do not depend on
beta. Methods that need it take ``beta`` and apply it themselves. The natural parameters
``A``, ``B`` of :meth:`denoise` are those of the *rest* of the measure, already multiplied by
beta: the tilted density is ``pi_beta(s) exp(-A s^2/2 + B s)``; e.g. the Gibbs conditional
of spin i has ``A = beta Q_ii``, ``B = beta (h_i + sum_k J_ik s_k)``, and a cavity field of
precision ``a`` and mean ``m`` has ``A = a``, ``B = a m``.

Each prior is a frozen dataclass with ``name``, ``discrete``, :meth:`denoise`,
:meth:`log_weight`, :meth:`penalty`, :meth:`to_attrs` / :meth:`from_attrs` (netCDF
provenance) and :meth:`kernel_args` (integer code and float64 parameters for the numba
kernels in :mod:`sgphys.kernels.priors`); discrete ones also :meth:`support` and
:meth:`weights`. :func:`get_prior` turns an instance, None, a name or a dict into a prior.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import scipy.special

from ._validate import _as_real, _short, check_array, check_positive

__all__ = ["Gaussian", "Laplace", "Binary", "Ternary", "PRIORS", "get_prior",
           "prior_from_attrs"]

_SQRT2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
#: continued fraction from here on, as in the kernels
_X_CF = 4.0
_CF_TERMS = 64


def _broadcast(A, B, beta):
    beta = check_positive("beta", beta)
    A = check_array("A", A).reshape(np.shape(A))  # check_array makes 0-d arrays 1-d
    B = check_array("B", B).reshape(np.shape(B))
    try:
        A, B = np.broadcast_arrays(A, B)
    except ValueError:
        raise ValueError(f"A and B must broadcast, got shapes {A.shape} and {B.shape}") from None
    return A, B, beta


def _mills(x):
    """(lam, d, w) of N(0,1) truncated to z > x, elementwise (see kernels/priors.py)."""
    shape = np.shape(x)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    lam = np.empty_like(x)
    d = np.empty_like(x)
    w = np.empty_like(x)
    lo = x <= _X_CF
    if np.any(lo):
        xl = x[lo]
        with np.errstate(over="ignore"):
            ll = _SQRT_2_OVER_PI / scipy.special.erfcx(xl / _SQRT2)  # erfcx -> inf: lam -> 0
        dl = ll - xl
        lam[lo], d[lo], w[lo] = ll, dl, 1.0 - ll * dl
    hi = ~lo
    if np.any(hi):
        xh = x[hi]
        t = np.zeros_like(xh)
        for k in range(_CF_TERMS, 1, -1):
            t = k / (xh + t)
        dh = 1.0 / (xh + t)
        lam[hi], d[hi], w[hi] = xh + dh, dh, dh * (t - dh)
    return lam.reshape(shape), d.reshape(shape), w.reshape(shape)


def _finite_result(name, mean, var):
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var)) and np.all(var >= 0)):
        raise ValueError(f"{name}: non-finite tilted moments (A or B out of range)")
    return mean, var


class _Prior(ABC):
    name: ClassVar[str] = ""
    discrete: ClassVar[bool] = False
    _fields: ClassVar[tuple] = ()

    # -- provenance -----------------------------------------------------------------------
    def to_attrs(self) -> dict:
        """JSON-able flat dict for netCDF attributes: ``{"prior": name, "prior_<p>": value}``."""
        out = {"prior": self.name}
        for f in self._fields:
            out[f"prior_{f}"] = float(getattr(self, f))
        return out

    @classmethod
    def from_attrs(cls, attrs: dict):
        """Inverse of :meth:`to_attrs` (also accepts plain ``{field: value}`` keys)."""
        attrs = dict(attrs)
        name = attrs.get("prior", cls.name)
        if name != cls.name:
            raise ValueError(f"prior must be {cls.name!r} for {cls.__name__}.from_attrs, "
                             f"got {_short(name)}")
        kwargs = {}
        for f in cls._fields:
            for key in (f"prior_{f}", f):
                if key in attrs:
                    v = attrs[key]
                    kwargs[f] = v.item() if isinstance(v, np.generic) else v
                    break
        return cls(**kwargs)

    @abstractmethod
    def kernel_args(self):
        """``(code, params)`` for :mod:`sgphys.kernels.priors` (beta-free parameters)."""

    def support(self) -> np.ndarray:
        raise ValueError(f"prior {self.name!r} is continuous: it has no finite support")

    def weights(self) -> np.ndarray:
        raise ValueError(f"prior {self.name!r} is continuous: it has no weights")


class _Discrete(_Prior):
    discrete: ClassVar[bool] = True

    @abstractmethod
    def _table(self):
        """All values and probabilities, zero-probability ones included."""

    def support(self) -> np.ndarray:
        """Values with positive probability, ascending."""
        v, p = self._table()
        return v[p > 0].copy()

    def weights(self) -> np.ndarray:
        """Probabilities of :meth:`support`'s values (sum to 1)."""
        p = self._table()[1]
        return p[p > 0].copy()

    def kernel_args(self):
        v = self.support()
        lw = np.log(self.weights())
        sym = float(np.array_equal(v, -v[::-1]) and np.array_equal(lw, lw[::-1]))
        return 2, np.concatenate([[float(v.size)], v, lw, [sym]]).astype(np.float64)

    def log_weight(self, s, beta=None):
        """``log pi(s)`` (normalised pmf; -inf off the support). ``beta`` is ignored."""
        s = check_array("s", s)
        v, p = self.support(), self.weights()
        out = np.full(s.shape, -np.inf)
        for vk, pk in zip(v, p):
            out = np.where(s == vk, math.log(pk), out)
        return out

    def penalty(self, s):
        """The beta-linear part of ``-log pi_beta(s)/beta``: 0 for a discrete prior."""
        return np.zeros(np.shape(s))

    def denoise(self, A, B, beta):
        """Mean and variance of ``pi(s) exp(-A s^2/2 + B s)`` elementwise (any real A).

        Log-sum-exp over the support, pairwise variance ``sum_{k<l} p_k p_l (v_k - v_l)^2``.
        """
        A, B, beta = _broadcast(A, B, beta)
        v, lw = self.support(), np.log(self.weights())
        with np.errstate(over="ignore", invalid="ignore"):
            L = lw - 0.5 * A[..., None] * v * v + B[..., None] * v
            Lmax = np.max(L, axis=-1, keepdims=True)
            Lmax0 = -Lmax[..., 0]
            p = np.exp(L - Lmax)
            tot = p.sum(axis=-1, keepdims=True)
            p /= tot
            Lmax0 = Lmax0 - np.log(tot[..., 0])  # folds the normalisation into the pairs
            mean = p @ v
            K = v.size
            if np.array_equal(v, -v[::-1]) and np.array_equal(lw, lw[::-1]):
                # mirror pairs (-v, v): v (p(v) - p(-v)) through expm1 (relative precision
                # for small B, exactly 0 at B = 0)
                mean = np.zeros(A.shape)
                for k in range(K // 2):
                    vk = v[K - 1 - k]
                    bv = B * vk
                    ab = np.abs(bv)
                    diff = -np.expm1(-2.0 * ab) * np.exp(lw[K - 1 - k] - 0.5 * A * vk * vk
                                                         + ab + Lmax0)
                    mean = mean + np.sign(bv) * vk * diff
            var = np.zeros(A.shape)
            for k in range(v.size):
                for j in range(k + 1, v.size):
                    var = var + p[..., k] * p[..., j] * (v[k] - v[j]) ** 2
        return _finite_result(self.name, mean, var)


@dataclass(frozen=True)
class Gaussian(_Prior):
    """``pi_beta(s) ∝ exp(-beta lam s^2 / 2)``, lam >= 0 (lam = 0: flat). The ridge (docs/model.rst,
    section Spin mapping)."""

    lam: float
    name: ClassVar[str] = "gaussian"
    _fields: ClassVar[tuple] = ("lam",)

    def __post_init__(self):
        lam = _as_real("lam", self.lam)
        if lam < 0:
            raise ValueError(f"lam must be >= 0, got {lam!r}")
        object.__setattr__(self, "lam", lam)

    def kernel_args(self):
        return 0, np.array([self.lam], dtype=np.float64)

    def log_weight(self, s, beta):
        """Unnormalised ``log pi_beta(s) = -beta lam s^2/2``."""
        beta = check_positive("beta", beta)
        return -beta * self.penalty(s)

    def penalty(self, s):
        """``lam s^2 / 2`` (so that ``log pi_beta = -beta penalty`` + const)."""
        s = check_array("s", s)
        return 0.5 * self.lam * s * s

    def denoise(self, A, B, beta):
        """``(B/a, 1/a)`` with ``a = A + beta lam``; ValueError unless a > 0 everywhere."""
        A, B, beta = _broadcast(A, B, beta)
        a = A + beta * self.lam
        if not np.all(a > 0):
            bad = float(np.min(a))
            raise ValueError(f"A must satisfy A + beta*lam > 0 for the Gaussian prior "
                             f"(lam={self.lam!r}, beta={beta!r}), got A + beta*lam = {bad!r}")
        return _finite_result(self.name, B / a, 1.0 / a)


@dataclass(frozen=True)
class Laplace(_Prior):
    """``pi_beta(s) ∝ exp(-beta lam1 |s|)``, lam1 > 0 (lasso at large beta)."""

    lam1: float
    name: ClassVar[str] = "laplace"
    _fields: ClassVar[tuple] = ("lam1",)

    def __post_init__(self):
        lam1 = _as_real("lam1", self.lam1)
        if lam1 <= 0:
            raise ValueError(f"lam1 must be > 0, got {lam1!r}")
        object.__setattr__(self, "lam1", lam1)

    def kernel_args(self):
        return 1, np.array([self.lam1], dtype=np.float64)

    def log_weight(self, s, beta):
        """Unnormalised ``log pi_beta(s) = -beta lam1 |s|``."""
        beta = check_positive("beta", beta)
        return -beta * self.penalty(s)

    def penalty(self, s):
        """``lam1 |s|``."""
        return self.lam1 * np.abs(check_array("s", s))

    def denoise(self, A, B, beta):
        """Mean and variance of ``exp(-beta lam1 |s| - A s^2/2 + B s)``; needs A > 0.

        A mixture of N((B-c)/A, 1/A) on s > 0 and N((B+c)/A, 1/A) on s < 0, c = beta lam1,
        written through the inverse Mills ratio (scaled erfc): no overflow for any ``|B|``.
        """
        A, B, beta = _broadcast(A, B, beta)
        if not np.all(A > 0):
            raise ValueError(f"A must be > 0 for the Laplace prior, got min A = "
                             f"{float(np.min(A))!r}")
        c = beta * self.lam1
        sa = np.sqrt(A)
        lp, dp, wp = _mills((c - B) / sa)
        lm, dm, wm = _mills((c + B) / sa)
        with np.errstate(invalid="ignore", over="ignore"):
            tot = lp + lm
            pp, pm = lm / tot, lp / tot
            sigma = 1.0 / sa
            mean = sigma * (pp * dp - pm * dm)
            var = sigma * sigma * (pp * wp + pm * wm + pp * pm * (dp + dm) ** 2)
        return _finite_result(self.name, mean, var)


@dataclass(frozen=True)
class Binary(_Discrete):
    """``s in {-a, +a}`` with equal weights, a > 0."""

    a: float = 1.0
    name: ClassVar[str] = "binary"
    _fields: ClassVar[tuple] = ("a",)

    def __post_init__(self):
        a = _as_real("a", self.a)
        if a <= 0:
            raise ValueError(f"a must be > 0, got {a!r}")
        object.__setattr__(self, "a", a)

    def _table(self):
        return np.array([-self.a, self.a]), np.array([0.5, 0.5])


@dataclass(frozen=True)
class Ternary(_Discrete):
    """``s in {-a, 0, +a}``, P(0) = p0 in [0, 1), P(+-a) = (1 - p0)/2, a > 0.

    With p0 = 0 the support is {-a, +a} (zero-probability values are dropped).
    """

    a: float = 1.0
    p0: float = 1.0 / 3.0
    name: ClassVar[str] = "ternary"
    _fields: ClassVar[tuple] = ("a", "p0")

    def __post_init__(self):
        a = _as_real("a", self.a)
        if a <= 0:
            raise ValueError(f"a must be > 0, got {a!r}")
        p0 = _as_real("p0", self.p0)
        if not 0.0 <= p0 < 1.0:
            raise ValueError(f"p0 must lie in [0, 1), got {p0!r}")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "p0", p0)

    def _table(self):
        q = 0.5 * (1.0 - self.p0)
        return np.array([-self.a, 0.0, self.a]), np.array([q, self.p0, q])


#: name -> class
PRIORS = {cls.name: cls for cls in (Gaussian, Laplace, Binary, Ternary)}


def prior_from_attrs(attrs: dict):
    """Rebuild a prior from :meth:`to_attrs` output (e.g. a dataset's attributes)."""
    if not isinstance(attrs, dict) or "prior" not in attrs:
        raise ValueError(f"attrs must be a dict with a 'prior' key, got {_short(attrs)}")
    name = attrs["prior"]
    if name not in PRIORS:
        raise ValueError(f"prior must be one of {sorted(PRIORS)}, got {_short(name)}")
    return PRIORS[name].from_attrs(attrs)


def get_prior(spec, default=None):
    """A prior from an instance, None, a name or a dict.

    - a prior instance is returned unchanged;
    - None returns ``default`` (None unless given; callers pass ``Gaussian(model.lam)``);
    - a name (``"binary"``, ``"ternary"``; ``"gaussian"``/``"laplace"`` need their parameter,
      so only in dict form) builds the prior with its default parameters;
    - a dict ``{"name": "laplace", "lam1": 0.1}`` or :meth:`to_attrs` output
      ``{"prior": "laplace", "prior_lam1": 0.1}``.
    """
    if spec is None:
        return default
    if isinstance(spec, _Prior):
        return spec
    if isinstance(spec, str):
        if spec not in PRIORS:
            raise ValueError(f"prior must be one of {sorted(PRIORS)}, got {spec!r}")
        try:
            return PRIORS[spec]()
        except TypeError:
            field = PRIORS[spec]._fields[0]
            raise ValueError(f"prior {spec!r} needs its parameter {field}: pass "
                             f"{{'name': {spec!r}, {field!r}: ...}} or an instance") from None
    if isinstance(spec, dict):
        spec = dict(spec)
        if "name" in spec and "prior" not in spec:
            spec["prior"] = spec.pop("name")
        cls_name = spec.get("prior")
        if cls_name not in PRIORS:
            raise ValueError(f"prior must be one of {sorted(PRIORS)}, got {_short(cls_name)}")
        cls = PRIORS[cls_name]
        unknown = set(spec) - {"prior"} - set(cls._fields) - {f"prior_{f}" for f in cls._fields}
        if unknown:
            raise ValueError(f"prior {cls_name!r} has parameters {list(cls._fields)}, "
                             f"got unknown {sorted(unknown)}")
        try:
            return cls.from_attrs(spec)
        except TypeError:
            raise ValueError(f"prior {cls_name!r} needs parameters {list(cls._fields)}, "
                             f"got {_short(spec)}") from None
    raise ValueError(f"prior must be a prior instance, None, a name or a dict, got {_short(spec)}")
