"""The spin-glass mapping of merged linear attention (docs/model.rst, section Spin mapping).

Glossary
--------
s : spins, shape (n_spins,), ``s[i*D + j] = W[i, j]`` for ``i in 0..D``, ``j in 0..D-1``.
H : features, shape (P, n_spins), ``yhat^mu = H[mu] @ s``.
Q : ``H^T H / P`` (n_spins, n_spins).     J : ``-Q`` with zero diagonal (couplings).
h : ``H^T y / P`` (fields).               lam_k : ``lam + Q_kk`` (anisotropic ridge).
A : ``Q + lam I = diag(lam_k) - J``, the precision of the Gibbs measure per unit beta.

Energy (paper Eq. 5)::

    E(s) = -(1/2) sum_{k != l} J_kl s_k s_l - sum_k h_k s_k + (1/2) sum_k lam_k s_k^2
         = L(W(s)) - (1/(2P)) sum_mu y_mu^2
"""

from __future__ import annotations

import itertools

import numpy as np

from ._validate import (_short, check_array, check_memory, check_nonnegative,
                        check_positive_int)
from .priors import Gaussian, get_prior

__all__ = ["SpinModel", "BLOCKS"]

#: names of the coupling and field blocks (paper Fig. 1, docs/model.rst, section Spin mapping)
BLOCKS = ("J1", "J2", "J3", "h1", "h2")


def feature_moments(H: np.ndarray, y: np.ndarray):
    """``Q = H^T H / P`` (symmetrised exactly), ``h = H^T y / P`` and ``<y^2>`` (docs/model.rst,
    section Spin mapping):
    the sufficient statistics of the quadratic loss, shared by the spin model and the
    merged linear-attention trainer."""
    P = H.shape[0]
    Q = H.T @ H
    Q *= 1.0 / P
    Q = 0.5 * (Q + Q.T)  # exact symmetry regardless of BLAS blocking
    h = H.T @ y
    h *= 1.0 / P
    return Q, h, float(y @ y) / P


#: from_tasks keeps the features H when they take at most this many bytes (or P < n_spins,
#: where H is smaller than Q); larger models accumulate Q block by block and keep no H
KEEP_FEATURES_BYTES = 512 * 2**20
#: refuse to build, block by block, a model estimated to take longer than this
MAX_BUILD_HOURS = 6.0


def _build_hours(tasks) -> float:
    """Rough build time of a block-accumulated model: per-block overhead (1e-4 s), the
    P n^2 / 2 multiply-adds of Q (at 2e10/s) and the random numbers (1e-8 s each)."""
    n = tasks.n_spins
    P = float(tasks.P)
    seconds = (P / 1024 * 1e-4 + P * n * n / 2e10
               + P * tasks.D * (tasks.N + 2) * 1e-8)
    return seconds / 3600.0


#: column panel width of :func:`block_moments`
PANEL = 1024


def block_moments(blocks, n: int):
    """``(Q, h, <y^2>, P)`` accumulated over ``(H_b, y_b)`` blocks without holding all of H.

    Only the upper triangle of ``sum H_b^T H_b`` is formed, by column panels (half of a
    full product's work, like BLAS ``syrk``, whose SciPy wrapper crashes beyond 2 GiB
    matrices), then mirrored in place, so the only n^2 array is Q itself (docs/model.rst, section
    Spin mapping).
    """
    S = np.zeros((n, n))
    b = np.zeros(n)
    yy = 0.0
    P = 0
    for Hb, yb in blocks:
        for j0 in range(0, n, PANEL):
            j1 = min(n, j0 + PANEL)
            S[:j1, j0:j1] += Hb[:, :j1].T @ Hb[:, j0:j1]
        b += Hb.T @ yb
        yy += float(yb @ yb)
        P += Hb.shape[0]
    for j0 in range(0, n, PANEL):  # lower triangle := upper, exactly symmetric
        j1 = min(n, j0 + PANEL)
        diag = S[j0:j1, j0:j1]
        S[j0:j1, j0:j1] = np.triu(diag) + np.triu(diag, 1).T
        S[j0:j1, :j0] = S[:j0, j0:j1].T
    S *= 1.0 / P
    b *= 1.0 / P
    return S, b, yy / P, P


#: largest C matrix (bytes) handed to SciPy's BLAS syrk wrapper (it crashes beyond 2 GiB)
SYRK_MAX_BYTES = 2**31 - 1


def _add_gram_lower(L, rows):
    """``L += rows^T rows`` on the lower triangle of ``L`` (C order; the strict upper part
    is left unspecified): BLAS ``syrk`` on ``L``'s transpose (F order) in place, half a full
    product's work; by :data:`PANEL` row panels beyond :data:`SYRK_MAX_BYTES`."""
    if rows.shape[0] == 0:
        return
    n = L.shape[0]
    if 8 * n * n <= SYRK_MAX_BYTES:
        from scipy.linalg.blas import dsyrk

        out = dsyrk(1.0, rows, beta=1.0, c=L.T, trans=1, lower=0, overwrite_c=1)
        if not np.may_share_memory(out, L):  # in place for F-contiguous c; else copy back
            L.T[...] = out
        return
    for i0 in range(0, n, PANEL):
        i1 = min(n, i0 + PANEL)
        L[i0:i1, :i1] += rows[:, i0:i1].T @ rows[:, :i1]


def prefix_models(D: int, lam: float, H, y, Ps):
    """Spin models of the training prefixes ``(H[:P], y[:P])`` for increasing ``Ps``.

    A generator of ``(P, SpinModel)``: ``Q`` grows by the rows added since the previous
    ``P`` (BLAS ``syrk`` on one triangle, mirrored exactly,
    :func:`sgphys.kernels.moments.mirror_scaled`) instead of being rebuilt for every
    ``P``: O(max(Ps) n^2) work for the whole series rather than O(sum(Ps) n^2). Each model
    keeps its prefix of ``H`` and ``y`` (views) and ``<y^2>``, as
    :meth:`SpinModel.from_arrays` would; its ``Q`` equals that of ``from_arrays`` to
    rounding (the sums are grouped by the series' steps). The arguments are checked when
    this is called (not at the first ``next``); the models are built without re-checking
    the arrays.
    """
    D = check_positive_int("D", D)
    lam = check_nonnegative("lam", lam)
    n = D * (D + 1)
    H = check_array("H", H, ndim=2)
    if H.shape[1] != n:
        raise ValueError(f"H must have shape (P, D*(D+1)) = (P, {n}), got {H.shape}")
    y = check_array("y", y, shape=(H.shape[0],))
    if isinstance(Ps, (str, bytes)) or not hasattr(Ps, "__iter__"):
        raise ValueError(f"Ps must be a sequence of task counts, got {_short(Ps)}")
    Ps = [check_positive_int("Ps", P) for P in Ps]
    if any(b <= a for a, b in itertools.pairwise(Ps)) or (Ps and Ps[-1] > H.shape[0]):
        raise ValueError(f"Ps must increase strictly, up to len(H) = {H.shape[0]}, got {Ps}")
    _check_model_memory(D)
    return _prefix_series(D, lam, H, y, Ps)


def _prefix_series(D, lam, H, y, Ps):
    """The generator of :func:`prefix_models` (arguments checked there, eagerly)."""
    from .kernels.moments import mirror_scaled

    n = D * (D + 1)
    prior = _model_prior(None, lam)
    L = np.zeros((n, n))  # lower triangle: sum of H^T H over the rows added so far
    b = np.zeros(n)
    yy = 0.0
    done = 0
    for P in Ps:
        rows = H[done:P]
        _add_gram_lower(L, rows)
        with np.errstate(over="ignore", invalid="ignore"):
            b += rows.T @ y[done:P]
            yy += float(y[done:P] @ y[done:P])
            h = b / P
        done = P
        Q = np.empty((n, n))  # J is built only if asked for (the AMP kernels read Q)
        if not (mirror_scaled(L, P, Q) and np.all(np.isfinite(h)) and np.isfinite(yy)):
            raise ValueError(f"H or y: the moments at P={P} overflow (max |H| = "
                             f"{float(np.max(np.abs(H))):.3g}, max |y| = "
                             f"{float(np.max(np.abs(y))):.3g}); rescale the data")
        yield P, SpinModel._checked(D, lam, h, Q, None, H[:P], y[:P], prior, yy / P)


def _model_prior(prior, lam):
    """The model's prior: None -> ``Gaussian(lam)``; a Gaussian must carry the model's lam;
    any other prior replaces the ridge (lam must be 0)."""
    prior = get_prior(prior, default=Gaussian(lam))
    if isinstance(prior, Gaussian):
        if prior.lam != lam:
            raise ValueError(f"prior=Gaussian(lam={prior.lam!r}) differs from lam={lam!r}: "
                             "pass one of them")
    elif lam != 0:
        raise ValueError(f"lam={lam!r} with prior={prior!r}: a non-Gaussian prior replaces "
                         "the ridge; use lam=0")
    return prior


def _check_finite_value(name, value):
    """``value`` unless some entry is non-finite (ValueError: the input ``name`` is so
    large that the result overflows)."""
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{name}: the result overflows (non-finite); the entries of {name} "
                         "are too large for this model")
    return value


def _check_model_memory(D):
    """Q, its symmetrised copy and J: about 3 n_spins^2 doubles."""
    n = D * (D + 1)
    check_memory("D", D, 8 * 3 * n * n, f"the spin model's couplings (3 n_spins^2 doubles, "
                 f"n_spins = {n})")


def check_model(model, gaussian: bool = False) -> "SpinModel":
    """``model`` if it is a :class:`SpinModel` (with a Gaussian prior if ``gaussian``),
    else ValueError naming ``model``.

    Also re-checks what the kernels rely on, in case attributes were reassigned after
    construction: ``Q`` (n, n), ``h`` (n,) and the cached ``J`` C-contiguous float64 and
    finite, with ``n = D (D+1)``, and ``lam`` finite and >= 0.
    """
    if not isinstance(model, SpinModel):
        raise ValueError(f"model must be a SpinModel, got {type(model).__name__}")
    D = model.D
    if not (isinstance(D, int) and not isinstance(D, bool) and D >= 1
            and model.n_spins == D * (D + 1)):
        raise ValueError(f"model.D must be a positive integer with n_spins = D(D+1), got "
                         f"D={_short(D)}, n_spins={_short(model.n_spins)}")
    n = model.n_spins
    finite = getattr(model, "_finite_checked", {})
    for name, shape in (("Q", (n, n)), ("h", (n,)), ("_J", (n, n))):
        arr = getattr(model, name)
        if name == "_J" and arr is None:
            continue
        if not (isinstance(arr, np.ndarray) and arr.dtype == np.float64 and arr.shape == shape
                and arr.flags.c_contiguous):
            raise ValueError(f"model.{name.lstrip('_')} must be a finite C-contiguous float64 "
                             f"array of shape {shape}, got {_short(arr)}")
        # the O(n^2) finiteness scan once per array object (a solver call per sweep point
        # would repeat it); shape, dtype and layout, which memory safety needs, every time
        if finite.get(name) != id(arr):
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"model.{name.lstrip('_')} must be a finite C-contiguous "
                                 f"float64 array of shape {shape}, got {_short(arr)}")
            finite[name] = id(arr)
    model._finite_checked = finite
    lam = model.lam
    if not (isinstance(lam, float) and np.isfinite(lam) and lam >= 0):
        raise ValueError(f"model.lam must be a finite float >= 0, got {_short(lam)}")
    if gaussian and model.prior.name != "gaussian":
        raise ValueError(f"model.prior={model.prior!r}: this solver needs the Gaussian prior "
                         "(other priors: solve_amp, solve_rbp, solve_bp, solve_enumerate, "
                         "sample_gibbs)")
    return model


def check_spins(s, n_spins: int):
    """``(s, S)``: spins ``s`` of shape (n_spins,) or (n_samples, n_spins) as a checked float
    array, and its rows as a 2-D view (ValueError naming ``s`` otherwise)."""
    s = check_array("s", s)
    if s.ndim not in (1, 2) or s.shape[-1] != n_spins:
        raise ValueError(f"s must have shape (n_spins,) or (n_samples, n_spins) with "
                         f"n_spins = {n_spins}, got {s.shape}")
    return s, np.atleast_2d(s)


def spins_to_weights(s, D: int) -> np.ndarray:
    """Weight matrix (D+1, D+1) of spins ``s`` (..., D*(D+1)): row-major ``W[:, :D]``, last
    column zero (docs/model.rst, section Spin mapping). Leading dims of ``s`` are kept (``(..., D+1,
    D+1)``)."""
    s = np.asarray(s)
    W = np.zeros(s.shape[:-1] + (D + 1, D + 1))
    W[..., :, :D] = s.reshape(s.shape[:-1] + (D + 1, D))
    return W


def weights_to_spins(W, D: int) -> np.ndarray:
    """Spins (..., D*(D+1)) of weight matrices (..., D+1, D+1): ``W[..., :, :D]`` row-major."""
    W = np.asarray(W)
    return W[..., :, :D].reshape(W.shape[:-2] + ((D + 1) * D,)).copy()


class SpinModel:
    """Couplings, fields and anisotropic ridge of the ICL spin glass.

    Build with :meth:`from_tasks`, :meth:`from_arrays` (features and targets) or
    :meth:`from_couplings` (J, h, lam_k directly, e.g. resampled models; no H then).

    Attributes
    ----------
    H : ndarray, shape (P, n_spins) or None
    y : ndarray, shape (P,) or None
    Q : ndarray, shape (n_spins, n_spins)
    J : ndarray, shape (n_spins, n_spins)
        Symmetric, zero diagonal.
    h : ndarray, shape (n_spins,)
    lam_k : ndarray, shape (n_spins,)
    lam : float
        Isotropic ridge (weight decay).
    D : int
        Token dimension.
    n_spins : int
        D*(D+1).
    P : int or None
        Number of sequences.
    """

    def __init__(self, D: int, lam: float, h: np.ndarray, Q: np.ndarray,
                 H: np.ndarray | None = None, y: np.ndarray | None = None,
                 y_sq_mean: float | None = None, prior=None):
        # the classmethods are the documented constructors; direct calls are checked too,
        # since the kernels index these arrays without bounds checks
        D = check_positive_int("D", D)
        lam = check_nonnegative("lam", lam)
        n = D * (D + 1)
        Q = check_array("Q", Q, shape=(n, n))
        h = check_array("h", h, shape=(n,))
        if H is not None:
            H = check_array("H", H, ndim=2)
            if H.shape[1] != n or H.shape[0] < 1:
                raise ValueError(f"H must have shape (P, D*(D+1)) = (P, {n}) with P >= 1, "
                                 f"got {H.shape}")
            if y is None:
                raise ValueError("y must be given with H")
            y = check_array("y", y, shape=(H.shape[0],))
        elif y is not None:
            raise ValueError("y needs the features H")
        if y_sq_mean is not None:
            y_sq_mean = check_nonnegative("y_sq_mean", y_sq_mean)
        self._assign(D, lam, h, Q, H, y, y_sq_mean, _model_prior(prior, lam), None)

    def _assign(self, D, lam, h, Q, H, y, y_sq_mean, prior, J):
        """Set the attributes (of checked values; ``J`` None: derived on first use)."""
        self.prior = prior
        self.D = D
        self.n_spins = D * (D + 1)
        self.lam = lam
        self.h = h
        self.Q = Q
        self.H = H
        self.y = y
        self.P = None if H is None else H.shape[0]
        self._y_sq_mean = y_sq_mean
        self._J = J

    @classmethod
    def _checked(cls, D, lam, h, Q, J, H, y, prior, y_sq_mean=None):
        """A model from arrays its caller has checked (shapes, C-contiguous float64,
        finite; ``J = -Q`` with a zero diagonal, or None to build it on demand): no
        re-validation, the finiteness scans recorded as done (:func:`prefix_models`)."""
        self = cls.__new__(cls)
        self._assign(D, lam, h, Q, H, y, y_sq_mean, prior, J)
        self._finite_checked = {"Q": id(Q), "h": id(h)}
        if J is not None:
            self._finite_checked["_J"] = id(J)
        return self

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_tasks(cls, tasks, lam: float, prior=None, keep_features="auto") -> "SpinModel":
        """Spin model of the training set ``tasks`` (a :class:`~sgphys.tasks.Tasks`).

        ``prior`` (a :mod:`sgphys.priors` prior, a name or a dict) is the weight prior of
        the Gibbs measure ``p(s) ~ exp(-beta E0(s)) prod_i pi(s_i)``; None is
        ``Gaussian(lam)``, the model (docs/model.rst, section Spin mapping). A non-Gaussian prior
        replaces the ridge, so it
        needs ``lam = 0``.

        ``keep_features``: True keeps the features ``H`` (P, n_spins) in the model (for
        :meth:`loss` and the dual exact solve); False accumulates ``Q`` and ``h`` block by
        block (:func:`block_moments`), never holding all of H, and keeps none; ``"auto"``
        keeps H when it is at most :data:`KEEP_FEATURES_BYTES` or when ``P < n_spins``.
        """
        from .tasks import Tasks
        from .timing import section

        with section("model build"):  # a sweep's time split
            if not isinstance(tasks, Tasks):
                raise ValueError(f"tasks must be a Tasks (sgphys.sample_tasks), got "
                                 f"{type(tasks).__name__}")
            _check_model_memory(tasks.D)
            n = tasks.n_spins
            if keep_features == "auto":
                keep_features = tasks.P < n or 8 * tasks.P * n <= KEEP_FEATURES_BYTES
            if not isinstance(keep_features, bool):
                raise ValueError(f"keep_features must be True, False or 'auto', got "
                                 f"{keep_features!r}")
            if keep_features:
                H, y = tasks.feature_arrays()
                return cls.from_arrays(H, y, lam, tasks.D, prior=prior)
            lam = check_nonnegative("lam", lam)
            _model_prior(prior, lam)
            hours = _build_hours(tasks)
            if hours > MAX_BUILD_HOURS:
                raise ValueError(f"P={tasks.P}: building this model takes about "
                                 f"{hours:.0f} hours (n_spins = {n}; limit "
                                 f"{MAX_BUILD_HOURS} h); use fewer tasks")
            Q, h, y2, P = block_moments(tasks.iter_feature_blocks(), n)
            if not (np.all(np.isfinite(Q)) and np.all(np.isfinite(h))):
                raise ValueError("tasks: the features overflow (Q or h is not finite)")
            model = cls(tasks.D, lam, h, Q, y_sq_mean=y2, prior=prior)
            model.P = P
            return model

    @classmethod
    def from_arrays(cls, H, y, lam: float, D: int, prior=None) -> "SpinModel":
        """Spin model from stacked features ``H`` (P, D*(D+1)) and targets ``y`` (P,);
        ``prior`` as in :meth:`from_tasks`."""
        D = check_positive_int("D", D)
        lam = check_nonnegative("lam", lam)
        _model_prior(prior, lam)  # checked before the (possibly large) moments are computed
        H = check_array("H", H, ndim=2)
        if H.shape[1] != D * (D + 1):
            raise ValueError(f"H must have shape (P, D*(D+1)) = (P, {D * (D + 1)}), "
                             f"got {H.shape}")
        if H.shape[0] < 1:
            raise ValueError(f"P must be a positive integer, got {H.shape[0]}")
        y = check_array("y", y, shape=(H.shape[0],))
        _check_model_memory(D)
        with np.errstate(over="ignore", invalid="ignore"):
            Q, h, y2 = feature_moments(H, y)
        if not (np.all(np.isfinite(Q)) and np.all(np.isfinite(h)) and np.isfinite(y2)):
            bad = "H" if not np.all(np.isfinite(Q)) else "H or y"
            raise ValueError(f"{bad}: the moments Q = H^T H / P, h = H^T y / P, <y^2> overflow "
                             f"(max |H| = {float(np.max(np.abs(H))):.3g}, max |y| = "
                             f"{float(np.max(np.abs(y))):.3g}); rescale the data")
        return cls(D, lam, h, Q, H=H, y=y, y_sq_mean=y2, prior=prior)

    @classmethod
    def from_couplings(cls, J, h, lam_k, D: int, lam: float = 0.0) -> "SpinModel":
        """Spin model from couplings, fields and anisotropic ridge directly.

        ``J`` must be symmetric with zero diagonal. ``lam`` is only recorded (the
        isotropic part of ``lam_k``); ``Q`` is rebuilt as ``diag(lam_k - lam) - J``.
        """
        D = check_positive_int("D", D)
        n = D * (D + 1)
        lam = check_nonnegative("lam", lam)
        _check_model_memory(D)
        J = check_array("J", J, shape=(n, n))
        h = check_array("h", h, shape=(n,))
        lam_k = check_array("lam_k", lam_k, shape=(n,))
        if not np.array_equal(J, J.T):
            raise ValueError("J must be symmetric")
        if np.any(np.diag(J) != 0.0):
            raise ValueError("J must have a zero diagonal")
        Q = -J.copy()
        Q[np.diag_indices(n)] = lam_k - lam
        model = cls(D, lam, h, Q)
        model._J = J
        return model

    # -- derived quantities -------------------------------------------------------------
    @property
    def J(self) -> np.ndarray:
        """Couplings ``-Q`` with zero diagonal (computed once, cached)."""
        if self._J is None:
            J = -self.Q
            J[np.diag_indices(self.n_spins)] = 0.0
            self._J = J
        return self._J

    @property
    def lam_k(self) -> np.ndarray:
        """Anisotropic ridge ``lam + Q_kk``."""
        return self.lam + np.diag(self.Q).copy()

    def precision(self) -> np.ndarray:
        """``A = Q + lam I`` (a new array): the Gibbs precision per unit beta."""
        A = self.Q.copy()
        A[np.diag_indices(self.n_spins)] += self.lam
        return A

    def linear_residual(self, m, parallel=None) -> float:
        """``max|A m - h| / max(max|A m|, max|h|)``: how far means ``m`` are from the exact
        ones (``A m = h``), relative to the size of both sides, so invariant to the units
        of the features and the labels; 0 when both sides vanish, inf when not finite. The
        certificate every solver with exact-mean fixed points passes
        (docs/convergence.md). ``parallel`` (default: from 400 spins, with more than one
        numba thread) spreads the rows over threads; the value is the same."""
        from ._blas import use_parallel
        from .kernels.convergence import linear_residual

        m = np.ascontiguousarray(m, dtype=np.float64)
        if m.shape != (self.n_spins,):
            raise ValueError(f"m must have shape ({self.n_spins},), got dtype {m.dtype} and "
                             f"shape {m.shape}")
        par = use_parallel(parallel, self.n_spins)
        return float(linear_residual(self.Q, float(self.lam), self.h, m, par))

    def blocks(self) -> dict:
        """Views of the coupling and field blocks (docs/model.rst, section Spin mapping).

        ``J1`` W11-W11, ``J2`` W11-W21 (rows W11, columns W21), ``J3`` W21-W21,
        ``h1`` W11 fields, ``h2`` W21 fields. Diagonals are included in these views; the
        statistics in :mod:`sgphys.observables` count only non-zero entries.
        """
        d2 = self.D * self.D
        J = self.J
        return {"J1": J[:d2, :d2], "J2": J[:d2, d2:], "J3": J[d2:, d2:],
                "h1": self.h[:d2], "h2": self.h[d2:]}

    # -- layout ---------------------------------------------------------------------------
    def to_weights(self, s) -> np.ndarray:
        """Weight matrix (D+1, D+1) of spins ``s`` (n_spins,); last column zero."""
        return spins_to_weights(check_array("s", s, shape=(self.n_spins,)), self.D)

    def to_spins(self, W) -> np.ndarray:
        """Spins (n_spins,) of a weight matrix (D+1, D+1) whose last column is zero."""
        W = check_array("W", W, shape=(self.D + 1, self.D + 1))
        if np.any(W[:, self.D] != 0.0):
            raise ValueError("W's last column must be zero: it is not a parameter")
        return weights_to_spins(W, self.D)

    # -- energies -------------------------------------------------------------------------
    def energy(self, s) -> np.ndarray | float:
        """Hamiltonian E(s) of paper Eq. 5.

        Parameters
        ----------
        s : array_like, shape (n_spins,) or (n_samples, n_spins)

        Returns
        -------
        float or ndarray, shape (n_samples,)
        """
        s, S = check_spins(s, self.n_spins)
        with np.errstate(over="ignore", invalid="ignore"):
            Js = S @ self.J  # J symmetric
            e = (-0.5 * np.einsum("ij,ij->i", Js, S) - S @ self.h
                 + 0.5 * np.einsum("ij,ij->i", S * S, np.broadcast_to(self.lam_k, S.shape)))
        _check_finite_value("s", e)
        return float(e[0]) if s.ndim == 1 else e

    def loss(self, W) -> float:
        """Training loss L(W) of paper Eq. 2 (docs/model.rst, section Transformer); needs the
        features H."""
        if self.H is None:
            raise ValueError("loss needs the features H; this model was built from couplings")
        s = self.to_spins(W)
        with np.errstate(over="ignore", invalid="ignore"):
            r = self.y - self.H @ s
            value = 0.5 * float(r @ r) / self.P + 0.5 * self.lam * float(s @ s)
        return float(_check_finite_value("W", value))

    @property
    def energy_offset(self) -> float:
        """The constant ``(1/(2P)) sum_mu y_mu^2`` with ``E(s) = L(W(s)) - offset``."""
        if self._y_sq_mean is None:
            raise ValueError("energy_offset needs the targets y; this model was built from couplings")
        return 0.5 * self._y_sq_mean

    def __repr__(self) -> str:
        return f"SpinModel(D={self.D}, n_spins={self.n_spins}, P={self.P}, lam={self.lam})"
