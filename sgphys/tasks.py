"""In-context linear regression data (docs/model.rst, section Data).

Glossary
--------
D : token dimension.            N : prompt length (labelled examples per sequence).
P : task diversity (number of input matrices, each with its own task vector w).
Z : input matrix, shape (D+1, N+1); column n < N is [x_n; y_n], the last is [x_q; 0].
y : query labels y_q, shape (P,).   w : task vectors, shape (P, D).

Sequences are generated in fixed blocks of ``BLOCK`` sequences, each block from its own
child of the task set's SeedSequence, with separate streams for task vectors, tokens and
label noise. So the arrays are identical whatever order or chunking they are read in, and a
large task set never needs more than one block of ``Z`` in memory when only the features
``H`` are wanted (``Tasks.features``).

Two samplers draw the same distribution. ``method="tokens"`` (default) draws every token
of every input matrix. ``method="statistics"`` (i.i.d. tokens, ``corr=0``) draws only what
the features depend on: with ``u = w/|w|``, ``g = G^T u`` and the context labels
``a = alpha g + noise eps`` (``alpha = sigma_x |w| / sqrt(D)``), the label-weighted token sum is
``sum_n y_n x_n = sigma_x (u (g.a) + |a| (I - u u^T) xi)`` with ``xi ~ N(0, I_D)``
independent of ``(g, eps)`` (rotation invariance of the Gaussian token matrix ``G``), and
``sum_n y_n^2 = |a|^2``. The Gram matrix of ``(g, eps)`` is Wishart(N, I_2), drawn by
Bartlett's decomposition. So a sequence costs about 3D + 4 random numbers instead of
D (N + 2): exact in distribution, not in the individual draws (the two methods give
different numbers for the same seed). Such task sets have features and labels but no ``Z``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from ._validate import (
    as_seed_sequence,
    check_array,
    check_choice,
    check_fraction,
    check_memory,
    check_nonnegative,
    check_positive,
    check_positive_int,
)

__all__ = ["Tasks", "sample_tasks", "features", "CORR_MODES", "METHODS", "BLOCK"]

#: sequences per generation block (part of the stream layout: changing it changes data)
BLOCK = 1024
CORR_MODES = ("equicorrelated", "paper")
METHODS = ("tokens", "statistics")
_ROLE_TRAIN, _ROLE_TEST = 0, 1
_STREAM_W, _STREAM_X, _STREAM_NOISE, _STREAM_TASK = 0, 1, 2, 3
#: role of the task pool's stream (shared by a task set and its test sets)
_ROLE_POOL = 2


def features(Z) -> np.ndarray:
    """Flattened feature vectors H^mu of the merged linear attention (docs/model.rst, sections
    Transformer and Spin mapping).

    ``H[mu, i*D + j] = (1/N) sum_n y_n Z[i, n] * x_q[j]`` for ``i <= D``, ``j < D``, so that
    the prediction is ``yhat = H @ s`` with ``s = W[:, :D].ravel()``. Built without forming
    ``Z Z^T``.

    Parameters
    ----------
    Z : ndarray, shape (P, D+1, N+1)
        Input matrices (the query label Z[D, N] is ignored).

    Returns
    -------
    H : ndarray, shape (P, D*(D+1)), float64
    """
    Z = check_array("Z", Z, ndim=3)
    P, Dp1, Np1 = Z.shape
    if Dp1 < 2 or Np1 < 2:
        raise ValueError(f"Z must have shape (P, D+1, N+1) with D, N >= 1, got {Z.shape}")
    _check_size(Dp1 - 1, Np1 - 1, P, "the features H", 2 * P * Dp1 * (Dp1 - 1))
    return _features(Z)


def label_weighted_sum(Z: np.ndarray) -> np.ndarray:
    """``r[mu, i] = sum_{n<N} y_n Z[mu, i, n]`` (row D of ``Z Z^T`` without the query
    column), shape (P, D+1): the one data product linear attention's prediction needs,
    ``yhat = (1/N) r^T W x_q``. A batched matrix-vector product; no checks."""
    N = Z.shape[2] - 1
    D = Z.shape[1] - 1
    return np.matmul(Z[:, :, :N], Z[:, D, :N, None])[:, :, 0]


def _features(Z: np.ndarray) -> np.ndarray:
    P, Dp1, Np1 = Z.shape
    D, N = Dp1 - 1, Np1 - 1
    with np.errstate(over="ignore", invalid="ignore"):
        v = label_weighted_sum(Z)
        xq = Z[:, :D, N]
        H = v[:, :, None] * xq[:, None, :]
        H *= 1.0 / N
    return _finite_features(H.reshape(P, Dp1 * D))


def _finite_features(H: np.ndarray) -> np.ndarray:
    """``H`` unless it overflowed (ValueError naming the data and its scales)."""
    if not np.all(np.isfinite(H)):
        raise ValueError("Z: the features H = (1/N) (sum_n y_n Z[:, n]) x_q^T overflow "
                         "(non-finite values); rescale the data (or sigma_x, sigma_w, noise "
                         "of sample_tasks)")
    return H


def _check_size(D: int, N: int, P: int, what: str, doubles: int) -> None:
    """Refuse (ValueError naming the largest of D, N, P and all three values) to allocate
    ``doubles`` float64 values for ``what`` beyond the memory limit (sgphys._validate)."""
    sizes = {"P": P, "D": D, "N": N}
    name = max(sizes, key=sizes.get)
    check_memory(name, sizes[name], 8 * doubles,
                 f"{what} with D={D}, N={N}, P={P}")


@dataclass(frozen=True)
class _Params:
    D: int
    N: int
    P: int
    corr: float
    corr_mode: str
    sigma_x: float
    sigma_w: float
    noise: float
    method: str = "tokens"
    n_tasks: int | None = None


class _Sampler(ABC):
    """The random streams of one task set, generated block by block (module docstring).

    Block ``b`` holds sequences ``b*BLOCK ...``; each block has its own child of the set's
    SeedSequence, with separate streams for task vectors, tokens and label noise. Stateless:
    the same block is the same arrays whenever it is asked for.
    """

    method = ""

    def __init__(self, params: _Params, root: np.random.SeedSequence, role: int,
                 pool: np.ndarray | None = None):
        self.params = params
        self.root = root
        self.role = role
        self.pool = pool  # (K, D) task vectors of a finite pool, or None: a task per prompt

    @property
    def n_blocks(self) -> int:
        return -(-self.params.P // BLOCK)

    def _size(self, b: int) -> int:
        return min(BLOCK, self.params.P - b * BLOCK)

    def _rng(self, b: int, stream: int) -> np.random.Generator:
        key = tuple(self.root.spawn_key) + (self.role, b, stream)
        return np.random.default_rng(np.random.SeedSequence(self.root.entropy, spawn_key=key))

    def with_size(self, P: int, root=None, role=None, pool="same") -> "_Sampler":
        """The same law for ``P`` sequences (from another root or role if given; ``pool``
        None for fresh tasks, an array for another pool)."""
        pool = self.pool if isinstance(pool, str) else pool
        params = {**self.params.__dict__, "P": P,
                  "n_tasks": None if pool is None else int(pool.shape[0])}
        return type(self)(_Params(**params), self.root if root is None else root,
                          self.role if role is None else role, pool)

    def task_index(self, b: int) -> np.ndarray | None:
        """Pool task of each sequence of block ``b`` (uniform, its own stream), or None."""
        if self.pool is None:
            return None
        return self._rng(b, _STREAM_TASK).integers(0, self.pool.shape[0], size=self._size(b))

    def _tasks(self, b: int) -> np.ndarray:
        """Task vectors ``w`` (B, D) of block ``b``: fresh draws (docs/model.rst, section Data), or
        pool tasks."""
        if self.pool is None:
            p = self.params
            return p.sigma_w * self._rng(b, _STREAM_W).standard_normal((self._size(b), p.D))
        return self.pool[self.task_index(b)]

    @abstractmethod
    def block(self, b: int):
        """``(Z_b, y_b, w_b)`` of block ``b``."""

    @abstractmethod
    def feature_block(self, b: int):
        """``(H_b, y_b, w_b)`` of block ``b``."""


class _TokenSampler(_Sampler):
    """Draws every token of every input matrix (``method="tokens"``)."""

    method = "tokens"

    def block(self, b: int):
        p = self.params
        B, D, N = self._size(b), p.D, p.N
        # G, X, Z and the labels of one block
        _check_size(D, N, p.P, f"a block of {B} input matrices", 4 * B * (D + 1) * (N + 1))
        w = self._tasks(b)
        rng_x = self._rng(b, _STREAM_X)
        # rows (token coordinates) x columns (tokens x_0..x_{N-1}, x_q)
        G = rng_x.standard_normal((B, D, N + 1))
        if p.corr == 0.0:
            X = G
        elif p.corr_mode == "equicorrelated":
            # Cov of a row = (1-c) I + c 11^T: independent part plus a shared one
            g0 = rng_x.standard_normal((B, D, 1))
            X = math.sqrt(1.0 - p.corr) * G + math.sqrt(p.corr) * g0
        else:  # "paper": row = g L with L the lower Cholesky factor (cov L^T L)
            X = G @ _paper_cholesky(N + 1, p.corr)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow raises below
            if p.sigma_x != 1.0:
                X = X * p.sigma_x
            labels = np.matmul(w[:, None, :], X)[:, 0, :] * (1.0 / math.sqrt(D))  # (B, N+1)
            if p.noise > 0.0:
                labels += p.noise * self._rng(b, _STREAM_NOISE).standard_normal((B, N + 1))
        Z = np.empty((B, D + 1, N + 1))
        Z[:, :D, :] = X
        Z[:, D, :N] = labels[:, :N]
        Z[:, D, N] = 0.0
        if not (np.all(np.isfinite(Z)) and np.all(np.isfinite(labels))):
            raise ValueError(f"sigma_x={p.sigma_x!r}, sigma_w={p.sigma_w!r}, noise={p.noise!r}: "
                             "the tokens or labels overflow (non-finite values)")
        return Z, labels[:, N].copy(), w

    def feature_block(self, b: int):
        p = self.params
        _check_size(p.D, p.N, p.P, f"a block of {self._size(b)} feature vectors",
                    2 * self._size(b) * (p.D + 1) * p.D)
        Z, y, w = self.block(b)
        return _features(Z), y, w


class _StatisticsSampler(_Sampler):
    """Draws only the prompt statistics the features depend on (``method="statistics"``,
    i.i.d. tokens): rotation invariance and a 2 x 2 Bartlett step (module docstring)."""

    method = "statistics"

    def block(self, b: int):
        raise ValueError(
            f"method={self.method!r}: these tasks were drawn from their prompt statistics "
            "and have no input matrices Z; use sample_tasks(..., method='tokens')")

    def feature_block(self, b: int):
        p = self.params
        B, D, N = self._size(b), p.D, p.N
        _check_size(D, N, p.P, f"a block of {B} feature vectors", 2 * B * (D + 1) * D + 8 * B * D)
        v, xq, yq, w = self.statistics_block(b)
        H = v[:, :, None] * xq[:, None, :]
        H *= 1.0 / N
        return _finite_features(H.reshape(B, (D + 1) * D)), yq, w

    def statistics_block(self, b: int):
        """``(v, x_q, y_q, w)`` of block ``b``: ``v[:, i] = sum_n y_n Z[i, n]`` (B, D+1),
        queries (B, D), labels, task vectors; the features are ``v x_q^T / N``."""
        p = self.params
        B, D, N = self._size(b), p.D, p.N
        w = self._tasks(b)
        rng_x = self._rng(b, _STREAM_X)
        xi = rng_x.standard_normal((B, D))
        xq = p.sigma_x * rng_x.standard_normal((B, D))
        # Bartlett: Gram matrix of (g, eps) = A A^T, A = [[c1, 0], [n21, c2]]
        c1 = np.sqrt(rng_x.chisquare(N, size=B))
        c2 = np.sqrt(rng_x.chisquare(N - 1, size=B)) if N > 1 else np.zeros(B)
        n21 = rng_x.standard_normal(B)
        norm_w = np.sqrt(np.einsum("bd,bd->b", w, w))
        u = w / norm_w[:, None]
        alpha = p.sigma_x * norm_w / math.sqrt(D)
        sig = p.noise
        # g.g = c1^2, g.eps = c1 n21, eps.eps = n21^2 + c2^2
        ga = alpha * c1 * c1 + sig * c1 * n21
        aa = alpha ** 2 * c1 * c1 + 2.0 * alpha * sig * c1 * n21 + sig ** 2 * (n21 ** 2 + c2 ** 2)
        perp = xi - u * np.einsum("bd,bd->b", u, xi)[:, None]
        v = np.empty((B, D + 1))
        v[:, :D] = p.sigma_x * (u * ga[:, None] + np.sqrt(aa)[:, None] * perp)
        v[:, D] = aa
        yq = np.einsum("bd,bd->b", w, xq) * (1.0 / math.sqrt(D))
        if sig > 0.0:
            yq += sig * self._rng(b, _STREAM_NOISE).standard_normal(B)
        if not np.all(np.isfinite(yq)):
            raise ValueError(f"sigma_x={p.sigma_x!r}, sigma_w={p.sigma_w!r}, noise={p.noise!r}: "
                             "the labels overflow (non-finite values)")
        return v, xq, yq, w


#: method name -> sampler class
SAMPLERS = {"tokens": _TokenSampler, "statistics": _StatisticsSampler}


def _paper_cholesky(n: int, corr: float) -> np.ndarray:
    """Lower Cholesky factor of ``(1-c) I + c 11^T`` (n x n), the authors' Fig. S4 rows."""
    sigma = (1.0 - corr) * np.eye(n) + corr * np.ones((n, n))
    return np.linalg.cholesky(sigma)


class Tasks:
    """A set of P in-context regression sequences.

    Create with :func:`sample_tasks` (lazy, seeded, block-generated) or
    :meth:`Tasks.from_arrays` (user data). Arrays are float64.

    Reading never fills hidden caches: :meth:`features`, :meth:`feature_arrays`,
    :meth:`iter_blocks` and :meth:`iter_feature_blocks` regenerate block by block (at most
    one block in memory) unless the arrays are kept, which happens on first access of
    ``Z``, ``y`` or ``w`` (each a lazy property that keeps its value) or on :meth:`keep`.

    Attributes
    ----------
    Z : ndarray, shape (P, D+1, N+1)
        Input matrices, query label masked (generated on first access, then kept).
    y : ndarray, shape (P,)
        Query labels (the regression targets).
    w : ndarray, shape (P, D)
        Task vectors (None for user data without them).
    D, N, P : int
        Token dimension, prompt length, number of sequences.
    params : dict
        The generation parameters (empty for user data).
    """

    def __init__(self, sampler: _Sampler | None = None, Z=None, y=None, w=None):
        if sampler is not None and not isinstance(sampler, _Sampler):
            raise ValueError(f"sampler must be None or a task sampler (use sample_tasks or "
                             f"Tasks.from_arrays), got {type(sampler).__name__}")
        if sampler is None:  # user arrays: the checks of from_arrays (no copy, no masking)
            Z = check_array("Z", Z, ndim=3)
            if Z.shape[0] < 1 or Z.shape[1] < 2 or Z.shape[2] < 2:
                raise ValueError(f"Z must have shape (P, D+1, N+1) with P, D, N >= 1, "
                                 f"got {Z.shape}")
            y = check_array("y", y, shape=(Z.shape[0],))
            if w is not None:
                w = check_array("w", w, shape=(Z.shape[0], Z.shape[1] - 1))
        self._sampler = sampler
        self._Z = Z
        self._y = y
        self._w = w
        self._H = None  # features, kept by keep() for statistics-sampled sets
        if sampler is not None:
            p = sampler.params
            self.D, self.N, self.P = p.D, p.N, p.P
        else:
            self.P, Dp1, Np1 = Z.shape
            self.D, self.N = Dp1 - 1, Np1 - 1

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_arrays(cls, Z, y, w=None) -> "Tasks":
        """Wrap user-supplied input matrices and query labels.

        Parameters
        ----------
        Z : array_like, shape (P, D+1, N+1)
        y : array_like, shape (P,)
        w : array_like, shape (P, D), optional
        """
        Z = check_array("Z", Z, ndim=3)
        P, Dp1, Np1 = Z.shape
        if P < 1 or Dp1 < 2 or Np1 < 2:
            raise ValueError(f"Z must have shape (P, D+1, N+1) with P, D, N >= 1, got {Z.shape}")
        y = check_array("y", y, shape=(P,))
        if w is not None:
            w = check_array("w", w, shape=(P, Dp1 - 1))
        Z = Z.copy()
        Z[:, Dp1 - 1, Np1 - 1] = 0.0  # the query label is never visible
        return cls(None, Z=Z, y=y, w=w)

    @property
    def params(self) -> dict:
        if self._sampler is None:
            return {}
        return dict(self._sampler.params.__dict__)

    @property
    def n_spins(self) -> int:
        return self.D * (self.D + 1)

    @property
    def method(self) -> str:
        """How the sequences are drawn: ``"tokens"`` or ``"statistics"`` (module docstring);
        ``"arrays"`` for user data."""
        return "arrays" if self._sampler is None else self._sampler.method

    @property
    def n_blocks(self) -> int:
        return -(-self.P // BLOCK)

    # -- reading ------------------------------------------------------------------------
    def keep(self) -> "Tasks":
        """Generate every array once and keep it (Z, y, w; the features H for
        statistics-sampled sets), so later passes read memory instead of regenerating.
        Returns the task set itself."""
        if self._sampler is None:
            return self
        if self.method == "tokens":
            self.Z  # noqa: B018  (the lazy property generates and keeps Z, y, w)
        elif self._H is None:
            _check_size(self.D, self.N, self.P, "the features H", 2 * self.P * self.n_spins)
            blocks = [self._sampler.feature_block(b) for b in range(self.n_blocks)]
            # one block: its fresh arrays as they are (a copy would only cost a pass)
            self._H, self._y, self._w = (a[0] if len(a) == 1 else np.concatenate(a)
                                         for a in zip(*blocks))
        return self

    def _slices(self, X):
        for start in range(0, self.P, BLOCK):
            yield X[start:start + BLOCK], self.y[start:start + BLOCK]

    def iter_blocks(self):
        """Yield ``(Z_block, y_block)`` in order, at most ``BLOCK`` sequences at a time."""
        if self._Z is not None:
            yield from self._slices(self._Z)
            return
        for b in range(self.n_blocks):
            Z, y, _ = self._sampler.block(b)
            yield Z, y

    def iter_feature_blocks(self):
        """Yield ``(H_block, y_block)`` in order, at most ``BLOCK`` sequences at a time."""
        if self._H is not None:
            yield from self._slices(self._H)
        elif self._Z is not None:
            for Zb, yb in self._slices(self._Z):
                yield _features(Zb), yb
        else:
            for b in range(self.n_blocks):
                H, y, _ = self._sampler.feature_block(b)
                yield H, y

    def feature_arrays(self):
        """``(H, y)``: stacked features (P, D*(D+1)) and labels (P,), in one pass (new
        arrays, never the task set's own)."""
        _check_size(self.D, self.N, self.P, "the features H", self.P * (self.n_spins + 1))
        if self._H is None and self._Z is None and self.n_blocks == 1:
            H, y, _ = self._sampler.feature_block(0)  # fresh arrays: no copy needed
            return H, y
        H = np.empty((self.P, self.n_spins))
        y = np.empty(self.P)
        start = 0
        for Hb, yb in self.iter_feature_blocks():
            stop = start + Hb.shape[0]
            H[start:stop] = Hb
            y[start:stop] = yb
            start = stop
        return H, y

    def features(self) -> np.ndarray:
        """Stacked features ``H``, shape (P, D*(D+1)), one block at a time."""
        return self.feature_arrays()[0]

    def _keep_labels(self):
        _check_size(self.D, self.N, self.P, "the labels y and task vectors w",
                    2 * self.P * (self.D + 1))
        make = (self._sampler.feature_block if self.method == "statistics"
                else self._sampler.block)
        blocks = [make(b) for b in range(self.n_blocks)]
        self._y = np.concatenate([blk[1] for blk in blocks])
        self._w = np.concatenate([blk[2] for blk in blocks])

    @property
    def Z(self) -> np.ndarray:
        if self._Z is None:
            # the blocks and their concatenation
            _check_size(self.D, self.N, self.P, "the input matrices Z",
                        2 * self.P * (self.D + 1) * (self.N + 1))
            blocks = [self._sampler.block(b) for b in range(self.n_blocks)]
            self._Z, self._y, self._w = (np.concatenate(a) for a in zip(*blocks))
        return self._Z

    @property
    def y(self) -> np.ndarray:
        if self._y is None:
            self._keep_labels()
        return self._y

    @property
    def w(self) -> np.ndarray | None:
        if self._w is None and self._sampler is not None:
            self._keep_labels()
        return self._w

    def test_set(self, P: int, seed=None, tasks: str = "fresh") -> "Tasks":
        """A test set of ``P`` sequences with the same generation parameters.

        Without ``seed`` it comes from the task set's own test stream, which never overlaps
        the training stream (different spawn key); with ``seed`` from that seed's test
        stream. ``tasks="fresh"`` draws new task vectors from the Gaussian prior (in-context
        learning of unseen tasks); ``tasks="pool"`` takes them from this set's task pool
        (``sample_tasks(..., n_tasks=K)``; in-distribution), each prompt its own draw.
        """
        P = check_positive_int("P", P)
        tasks = check_choice("tasks", tasks, ("fresh", "pool"))
        root = None if seed is None else as_seed_sequence(seed)
        if self._sampler is None:
            raise ValueError("test_set needs generation parameters; these tasks came from arrays")
        if tasks == "pool" and self._sampler.pool is None:
            raise ValueError("tasks='pool' needs a task pool: these tasks were drawn with "
                             "n_tasks=None (a fresh task per prompt)")
        pool = self._sampler.pool if tasks == "pool" else None
        return Tasks(self._sampler.with_size(P, root=root, role=_ROLE_TEST, pool=pool))

    @property
    def pool(self) -> np.ndarray | None:
        """Task vectors (n_tasks, D) of the pool, or None (a fresh task per prompt)."""
        return None if self._sampler is None else self._sampler.pool

    @property
    def task_index(self) -> np.ndarray | None:
        """Index into :attr:`pool` of each sequence's task (P,), or None without a pool."""
        if self.pool is None:
            return None
        return np.concatenate([self._sampler.task_index(b) for b in range(self.n_blocks)])

    def __repr__(self) -> str:
        extra = "" if self._sampler is None else f", corr={self._sampler.params.corr}"
        if self.pool is not None:
            extra += f", n_tasks={self.pool.shape[0]}"
        return f"Tasks(D={self.D}, N={self.N}, P={self.P}{extra})"


def sample_tasks(D, N, P, seed=0, corr=0.0, corr_mode="equicorrelated", sigma_x=1.0,
                 sigma_w=1.0, noise=0.0, method="tokens", n_tasks=None) -> Tasks:
    """Draw P in-context regression sequences (docs/model.rst, section Data).

    Parameters
    ----------
    D, N, P : int
        Token dimension, prompt length, number of sequences (task diversity).
    seed : int, SeedSequence or Generator
        Root of the random streams. The training set uses the root's role-0 branch; its
        :meth:`Tasks.test_set` the role-1 branch, so test data never share a stream.
    corr : float in [0, 1)
        Equal correlation between tokens (rows of the token matrix stay independent).
    corr_mode : {"equicorrelated", "paper"}
        ``"equicorrelated"``: each row ~ N(0, Sigma), Sigma = (1-c) I + c 11^T.
        ``"paper"``: each row is g L with L the lower Cholesky factor of Sigma (the
        authors' Fig. S4 construction; token covariance L^T L).
    sigma_x, sigma_w : float > 0
        Token and task-vector standard deviations.
    noise : float >= 0
        Standard deviation of Gaussian label noise (all labels, y_q included).
    n_tasks : int >= 1, optional
        None (default): every prompt has its own task vector (docs/model.rst, section Data; the
        paper). An
        integer K: a pool of K task vectors is drawn once from the seed's pool stream and
        each prompt takes one of them uniformly at random (its own stream): task
        diversity as a count of distinct tasks (Raventos et al. 2023). The test sets of
        :meth:`Tasks.test_set` then use fresh tasks or the same pool.
    method : {"tokens", "statistics"}
        ``"tokens"`` draws every input matrix. ``"statistics"`` (``corr=0`` only) draws
        the prompt statistics the features depend on, same distribution at about
        (3D + 4) / (D (N + 2)) of the random numbers; its task sets have no ``Z`` (the
        spin model and test errors need none, the transformer trainers do).

    Returns
    -------
    Tasks
        Lazy: arrays are generated in blocks on first access.
    """
    D = check_positive_int("D", D)
    N = check_positive_int("N", N)
    P = check_positive_int("P", P)
    corr = check_fraction("corr", corr)
    corr_mode = check_choice("corr_mode", corr_mode, CORR_MODES)
    sigma_x = check_positive("sigma_x", sigma_x)
    sigma_w = check_positive("sigma_w", sigma_w)
    noise = check_nonnegative("noise", noise)
    method = check_choice("method", method, METHODS)
    if method == "statistics" and corr != 0.0:
        raise ValueError(f"method='statistics' needs i.i.d. tokens (corr=0), got corr={corr!r}")
    root = as_seed_sequence(seed)
    pool = None
    if n_tasks is not None:
        n_tasks = check_positive_int("n_tasks", n_tasks)
        check_memory("n_tasks", n_tasks, 8 * n_tasks * D, "the task pool")
        key = tuple(root.spawn_key) + (_ROLE_POOL, 0, _STREAM_W)
        rng = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=key))
        pool = sigma_w * rng.standard_normal((n_tasks, D))
    params = _Params(D, N, P, corr, corr_mode, sigma_x, sigma_w, noise, method, n_tasks)
    return Tasks(SAMPLERS[method](params, root, _ROLE_TRAIN, pool))
