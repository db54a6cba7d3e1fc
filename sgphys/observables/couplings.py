"""Statistics of the couplings J and fields h per block (paper Fig. 1, appendix B): streaming
histograms and moments, Gaussian and mixture fits, fitted-distribution resampling (Fig. S3)
and KL divergences (Fig. S2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._summary import SummaryRepr
from .._validate import (_short, as_generator, check_array, check_bool, check_choice,
                         check_memory, check_nonnegative, check_positive_int)
from ..spin import BLOCKS, SpinModel, check_model

__all__ = ["block_values", "H1_SPLIT", "BlockStatistics", "symmetric_edges", "block_statistics",
           "BlockFit", "fit_blocks", "resample_model", "kl_divergence"]



#: sub-blocks of h1 by position: the fields of the W11 diagonal (i = j) and the rest. h1 is
#: bimodal (Fig. 1c) because the diagonal carries the signal W11 = I; fitting the two apart
#: keeps that structure when resampling (see :func:`resample_model`)
H1_SPLIT = ("h1_diag", "h1_off")


def block_values(model) -> dict:
    """Non-zero entries of each block (docs/model.rst, section Spin mapping): J1 and J3
    off-diagonal, J2 in both
    orientations (the W11-W21 block and its transpose), h1, h2; and h1 split by position
    into ``h1_diag`` (fields of W11[i, i]) and ``h1_off`` (:data:`H1_SPLIT`)."""
    b = model.blocks()
    out = {}
    for name in ("J1", "J3"):
        M = b[name]
        vals = M[~np.eye(M.shape[0], dtype=bool)]
        out[name] = vals
    out["J2"] = np.concatenate([b["J2"].ravel(), b["J2"].T.ravel()])
    out["h1"], out["h2"] = b["h1"], b["h2"]
    diag = _w11_diagonal(model.D)
    out["h1_diag"], out["h1_off"] = b["h1"][diag], b["h1"][~diag]
    return {k: v[v != 0.0] for k, v in out.items()}


def _w11_diagonal(D):
    """Mask over the D*D W11 spins (k = i*D + j) of the diagonal i = j."""
    return np.eye(D, dtype=bool).ravel()


@dataclass(repr=False)
class BlockStatistics(SummaryRepr):
    """Streaming per-block statistics: histogram counts on fixed edges and power sums.

    Update model by model (:meth:`add_model`) or from raw samples (:meth:`add_values`);
    merge two with :meth:`merge`. Values outside the edges are counted in ``outside`` (they
    still enter the moments), never dropped silently.

    Attributes
    ----------
    edges : dict block -> ndarray (n_bins + 1,)
    counts : dict block -> ndarray (n_bins,) of int64
    sums : dict block -> ndarray (5,)
        Sums of x^0..x^4.
    outside : dict block -> int
    n_models : int
    D : int or None
    """

    edges: dict
    counts: dict = field(default_factory=dict)
    sums: dict = field(default_factory=dict)
    outside: dict = field(default_factory=dict)
    n_models: int = 0
    D: int | None = None

    def __post_init__(self):
        for name, e in self.edges.items():
            self.edges[name] = check_array(f"edges[{name}]", e, ndim=1)
            if self.edges[name].size < 2 or np.any(np.diff(self.edges[name]) <= 0):
                raise ValueError(f"edges[{name}] must be increasing with at least 2 entries")
            self.counts.setdefault(name, np.zeros(self.edges[name].size - 1, dtype=np.int64))
            self.sums.setdefault(name, np.zeros(5))
            self.outside.setdefault(name, 0)

    @property
    def blocks(self):
        return tuple(self.edges)

    def add_values(self, name, values):
        """Add raw samples of block ``name``."""
        if name not in self.edges:
            raise ValueError(f"name must be one of the blocks {list(self.edges)}, got "
                             f"{_short(name)}")
        x = check_array("values", values).ravel()
        e = self.edges[name]
        sums = np.zeros(5)
        p = np.ones_like(x)
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(5):
                sums[k] = p.sum()
                p = p * x
            total = self.sums[name] + sums
        if not np.all(np.isfinite(total)):
            raise ValueError(f"values: block {name}'s power sums up to x^4 overflow (max |x| = "
                             f"{float(np.max(np.abs(x))):.3g}); the moments are undefined")
        self.counts[name] += np.histogram(x, bins=e)[0]
        self.outside[name] += int(np.sum((x < e[0]) | (x > e[-1])))
        self.sums[name] = total
        return self

    def add_model(self, model):
        """Add the non-zero block entries of one SpinModel."""
        if self.D is None:
            self.D = model.D
        elif self.D != model.D:
            raise ValueError(f"model.D={model.D} differs from these statistics' D={self.D}")
        for name, vals in block_values(model).items():
            if name in self.edges:
                self.add_values(name, vals)
        self.n_models += 1
        return self

    def merge(self, other):
        """A new BlockStatistics pooling ``self`` and ``other`` (same edges)."""
        for name in self.edges:
            if not np.array_equal(self.edges[name], other.edges[name]):
                raise ValueError(f"edges of block {name} differ: cannot merge")
        out = BlockStatistics({k: v.copy() for k, v in self.edges.items()}, D=self.D)
        for name in self.edges:
            out.counts[name] = self.counts[name] + other.counts[name]
            out.sums[name] = self.sums[name] + other.sums[name]
            out.outside[name] = self.outside[name] + other.outside[name]
        out.n_models = self.n_models + other.n_models
        return out

    # moments from the power sums (central moments by binomial expansion)
    def n(self, name):
        return int(self.sums[name][0])

    def mean(self, name):
        s = self.sums[name]
        return s[1] / s[0]

    def _central(self, name):
        s = self.sums[name]
        n = s[0]
        m = s[1] / n
        r2, r3, r4 = s[2] / n, s[3] / n, s[4] / n
        c2 = r2 - m * m
        c3 = r3 - 3 * m * r2 + 2 * m ** 3
        c4 = r4 - 4 * m * r3 + 6 * m * m * r2 - 3 * m ** 4
        return c2, c3, c4

    def var(self, name):
        return self._central(name)[0]

    def skewness(self, name):
        c2, c3, _ = self._central(name)
        return c3 / c2 ** 1.5

    def excess_kurtosis(self, name):
        c2, _, c4 = self._central(name)
        return c4 / (c2 * c2) - 3.0

    def density(self, name):
        """Histogram normalised to a probability density over the binned samples."""
        c = self.counts[name].astype(float)
        return c / (c.sum() * np.diff(self.edges[name]))

    def centres(self, name):
        e = self.edges[name]
        return 0.5 * (e[1:] + e[:-1])

    @classmethod
    def from_samples(cls, samples: dict, bins=200, range=None):
        """Statistics of raw samples per block (``samples``: name -> array)."""
        edges = {}
        for name, x in samples.items():
            x = check_array(f"samples[{name}]", x).ravel()
            lo, hi = (float(x.min()), float(x.max())) if range is None else range
            edges[name] = np.linspace(lo, hi, check_positive_int("bins", bins) + 1)
        stats = cls(edges)
        for name, x in samples.items():
            stats.add_values(name, x)
        return stats


def symmetric_edges(x, bins: int) -> np.ndarray:
    """Histogram edges for a block's values ``x``: ``bins`` equal bins on ``[-a, a]`` with
    ``a = max(2 max|x|, 8 std(x))`` (symmetric, so histograms pooled over models share
    bins; ``a = 1`` for an empty block)."""
    x = check_array("x", x)
    a = max(2.0 * float(np.abs(x).max()), 8.0 * float(x.std())) if x.size else 1.0
    return np.linspace(-a, a, check_positive_int("bins", bins) + 1)


def block_statistics(models_or_model, bins=200, range=None, blocks=BLOCKS) -> BlockStatistics:
    """Per-block statistics of J and h pooled over one or many models (paper Fig. 1c).

    Parameters
    ----------
    models_or_model : SpinModel or iterable of SpinModel
        Consumed one at a time (a generator keeps one model in memory).
    bins : int or dict block -> edges
        With an int, each block's edges are :func:`symmetric_edges` of the first model's
        entries; later values outside are counted in ``outside`` and still enter the
        moments.
    range : dict block -> (lo, hi), optional
        Explicit ranges for integer ``bins``.
    """
    if isinstance(models_or_model, SpinModel):
        it = iter([models_or_model])
    else:
        try:
            it = iter(models_or_model)
        except TypeError:
            raise ValueError(f"models_or_model must be a SpinModel or an iterable of them, "
                             f"got {_short(models_or_model)}") from None
        if isinstance(models_or_model, (str, bytes, dict)):
            raise ValueError(f"models_or_model must be a SpinModel or an iterable of them, "
                             f"got {_short(models_or_model)}")
    try:
        first = next(it)
    except StopIteration:
        raise ValueError("models_or_model must contain at least one SpinModel") from None
    if not isinstance(first, SpinModel):
        raise ValueError(f"models_or_model must contain SpinModels, got {_short(first)}")
    first = check_model(first)
    blocks = tuple(blocks) if isinstance(blocks, (tuple, list)) else blocks
    known = BLOCKS + H1_SPLIT
    if not isinstance(blocks, tuple) or not blocks or any(b not in known for b in blocks):
        raise ValueError(f"blocks must be a non-empty tuple of names from {list(known)}, "
                         f"got {_short(blocks)}")
    if isinstance(bins, dict):
        if not bins or any(k not in known for k in bins):
            raise ValueError(f"bins must be an int or a non-empty dict block -> edges with "
                             f"blocks from {list(known)}, got {_short(bins)}")
        edges = {k: check_array(f"bins[{k!r}]", v, ndim=1) for k, v in bins.items()}
    else:
        nb = check_positive_int("bins", bins)
        check_memory("bins", nb, 8 * 3 * nb * len(blocks), "the histograms")
        vals = block_values(first)
        edges = {}
        for name in blocks:
            if range is not None and name in range:
                edges[name] = np.linspace(*range[name], nb + 1)
            else:
                edges[name] = symmetric_edges(vals[name], nb)
    stats = BlockStatistics(edges)
    stats.add_model(first)
    for model in it:
        if not isinstance(model, SpinModel):
            raise ValueError(f"models_or_model must contain SpinModels, got {_short(model)}")
        stats.add_model(check_model(model))
    return stats


# -- fits ------------------------------------------------------------------------------------


@dataclass(repr=False)
class BlockFit(SummaryRepr):
    """A one-dimensional Gaussian mixture fitted to one block.

    ``kind`` "gaussian" has one component. ``loglik`` is the log-likelihood of the binned
    data (counts at bin centres); ``bic`` = -2 loglik + (3k - 1) log n.
    """

    kind: str
    weights: np.ndarray
    means: np.ndarray
    stds: np.ndarray
    loglik: float
    bic: float

    def pdf(self, x):
        x = check_array("x", x)[..., None]
        comp = np.exp(-0.5 * ((x - self.means) / self.stds) ** 2) / (np.sqrt(2 * np.pi) * self.stds)
        return (comp * self.weights).sum(axis=-1)

    def sample(self, size, rng):
        k = rng.choice(self.weights.size, size=size, p=self.weights)
        return self.means[k] + self.stds[k] * rng.standard_normal(size)


def _binned_loglik(x, w, weights, means, stds):
    comp = np.exp(-0.5 * ((x[:, None] - means) / stds) ** 2) / (np.sqrt(2 * np.pi) * stds)
    dens = np.maximum((comp * weights).sum(axis=1), 1e-300)
    return float(np.sum(w * np.log(dens))), comp * weights / dens[:, None]


def _em(x, w, k, rng, n_iter=500, tol=1e-10):
    n = w.sum()
    mean = np.sum(w * x) / n
    sd = np.sqrt(np.sum(w * (x - mean) ** 2) / n)
    # initial components at weighted quantiles, deterministic
    cdf = np.cumsum(w) / n
    means = np.interp((np.arange(k) + 0.5) / k, cdf, x)
    stds = np.full(k, sd / np.sqrt(k) + 1e-12)
    weights = np.full(k, 1.0 / k)
    floor = 1e-3 * sd + 1e-300
    ll_old = -np.inf
    for _ in range(n_iter):
        ll, resp = _binned_loglik(x, w, weights, means, stds)
        r = resp * w[:, None]
        nk = r.sum(axis=0) + 1e-300
        weights = nk / n
        means = (r * x[:, None]).sum(axis=0) / nk
        stds = np.sqrt((r * (x[:, None] - means) ** 2).sum(axis=0) / nk)
        stds = np.maximum(stds, floor)
        if abs(ll - ll_old) < tol * max(1.0, abs(ll)):
            break
        ll_old = ll
    ll, _ = _binned_loglik(x, w, weights, means, stds)
    order = np.argsort(means)
    return weights[order], means[order], stds[order], ll


def fit_blocks(stats: BlockStatistics, kind="gaussian", max_components=4) -> dict:
    """Fit each block's distribution (paper appendix B.2).

    ``kind="gaussian"``: mean and standard deviation from the exact moments.
    ``kind="mixture"``: Gaussian mixtures with 1 to ``max_components`` components fitted by
    EM to the binned counts (bin centres weighted by counts); the number of components is
    chosen by BIC.

    Returns
    -------
    dict block -> BlockFit
    """
    if not isinstance(stats, BlockStatistics):
        raise ValueError(f"stats must be a BlockStatistics (block_statistics), got "
                         f"{_short(stats)}")
    kind = check_choice("kind", kind, ("gaussian", "mixture"))
    max_components = check_positive_int("max_components", max_components)
    fits = {}
    for name in stats.blocks:
        x = stats.centres(name)
        w = stats.counts[name].astype(float)
        n = w.sum()
        if n == 0:
            raise ValueError(f"block {name} has no samples to fit")
        var = stats.var(name)
        if not (np.isfinite(var) and var > 0):
            raise ValueError(f"stats: block {name} has no spread (variance {var!r}: its values "
                             "are all equal), so no distribution can be fitted")
        if kind == "gaussian":
            weights, means, stds = np.ones(1), np.array([stats.mean(name)]), np.array([np.sqrt(var)])
            ll, _ = _binned_loglik(x, w, weights, means, stds)
            fits[name] = BlockFit("gaussian", weights, means, stds, ll, -2 * ll + 2 * np.log(n))
            continue
        best = None
        for k in range(1, max_components + 1):
            weights, means, stds, ll = _em(x, w, k, None)
            bic = -2 * ll + (3 * k - 1) * np.log(n)
            if best is None or bic < best.bic:
                best = BlockFit("mixture", weights, means, stds, ll, bic)
        fits[name] = best
    return fits


def resample_model(model, fit: dict, seed=0, lam_k=None, split_h1=False):
    """A spin model whose J and h are drawn entrywise from fitted block distributions.

    Keeps the block layout (J1 W11-W11, J2 W11-W21, J3 W21-W21, h1, h2), symmetry and zero
    diagonal; ``lam_k`` is kept from the data model (``Q_kk + lam``, as in the paper's
    Fig. S3) unless given. Returns a :class:`~sgphys.spin.SpinModel` (built from couplings,
    without features) that every solver accepts.

    Drawn entrywise from one distribution per block, h1 loses where its large values sit
    (on the W11 diagonal), and so does the solution. With ``split_h1=True`` the fields of
    the W11 diagonal and the other W11 fields are drawn from their own fits (``fit`` needs
    ``h1_diag`` and ``h1_off``: pass ``blocks=BLOCKS + H1_SPLIT`` to
    :func:`block_statistics`). Draws are made in block order J1, J2, J3, h1, h2, so the
    same seed gives the same couplings either way.

    Parameters
    ----------
    model : SpinModel
        Supplies D, lam and (by default) lam_k.
    fit : dict block -> BlockFit
        From :func:`fit_blocks`.
    seed : int, SeedSequence or Generator
    lam_k : array_like, shape (n_spins,), optional
    split_h1 : bool
        Draw the W11-diagonal fields apart from the other W11 fields.
    """
    model = check_model(model)
    split_h1 = check_bool("split_h1", split_h1)
    D, n = model.D, model.n_spins
    lk = model.lam_k if lam_k is None else check_array("lam_k", lam_k, shape=(n,))
    rng = as_generator(seed)
    if not isinstance(fit, dict):
        raise ValueError(f"fit must be a dict block -> BlockFit (fit_blocks), got {_short(fit)}")
    need = [b for b in BLOCKS if b != "h1"] + (list(H1_SPLIT) if split_h1 else ["h1"])
    missing = [b for b in need if b not in fit]
    if missing:
        raise ValueError(f"fit is missing blocks {missing}")
    for b in need:
        if not isinstance(fit[b], BlockFit):
            raise ValueError(f"fit[{b!r}] must be a BlockFit, got {_short(fit[b])}")
    d2 = D * D
    J = np.zeros((n, n))
    iu1 = np.triu_indices(d2, 1)
    J1 = np.zeros((d2, d2))
    J1[iu1] = fit["J1"].sample(iu1[0].size, rng)
    J[:d2, :d2] = J1 + J1.T
    J2 = fit["J2"].sample(d2 * D, rng).reshape(d2, D)
    J[:d2, d2:] = J2
    J[d2:, :d2] = J2.T
    iu3 = np.triu_indices(D, 1)
    J3 = np.zeros((D, D))
    J3[iu3] = fit["J3"].sample(iu3[0].size, rng)
    J[d2:, d2:] = J3 + J3.T
    if split_h1:
        diag = _w11_diagonal(D)
        h1 = np.empty(d2)
        h1[diag] = fit["h1_diag"].sample(D, rng)
        h1[~diag] = fit["h1_off"].sample(d2 - D, rng)
    else:
        h1 = fit["h1"].sample(d2, rng)
    h = np.concatenate([h1, fit["h2"].sample(D, rng)])
    return SpinModel.from_couplings(J, h, lk, D, lam=model.lam)


def kl_divergence(stats_a: BlockStatistics, stats_b: BlockStatistics, alpha=0.5) -> dict:
    """Per-block KL divergence ``KL(a || b)`` between binned distributions (Fig. S2).

    Both statistics must share each block's edges. Empty bins are smoothed by adding
    ``alpha`` pseudo-counts to every bin of both histograms (Jeffreys' add-half rule by
    default), so the divergence is finite; the bin width cancels in the ratio.

    Returns
    -------
    dict block -> float (nats)
    """
    for label, st in (("stats_a", stats_a), ("stats_b", stats_b)):
        if not isinstance(st, BlockStatistics):
            raise ValueError(f"{label} must be a BlockStatistics (block_statistics), got "
                             f"{_short(st)}")
    alpha = check_nonnegative("alpha", alpha)
    out = {}
    for name in stats_a.blocks:
        if name not in stats_b.edges or not np.array_equal(stats_a.edges[name], stats_b.edges[name]):
            raise ValueError(f"block {name}: the two statistics must share bin edges")
        pa = stats_a.counts[name] + alpha
        pb = stats_b.counts[name] + alpha
        if pa.sum() == 0 or pb.sum() == 0:
            raise ValueError(f"block {name} is empty")
        pa = pa / pa.max()  # scaled first: a huge alpha must not overflow the sums
        pb = pb / pb.max()
        pa = pa / pa.sum()
        pb = pb / pb.sum()
        mask = pa > 0
        if np.any(pb[mask] == 0):
            out[name] = float("inf")
        else:
            out[name] = float(np.sum(pa[mask] * np.log(pa[mask] / pb[mask])))
    return out
