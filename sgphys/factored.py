"""Matrix-free spin model and solvers on the rank-one features (docs/scale.md).

The feature vector of sequence ``mu`` is a Kronecker product (docs/model.rst)::

    H_mu = a_mu (x) b_mu,    a_mu = (1/N) sum_{n<N} y_n Z[:, n]  (D+1,),   b_mu = x_q  (D,)

so that ``H_mu . s = a_mu^T W b_mu`` with ``W = s.reshape(D+1, D)``. Everything the solvers
need is then two matrix-matrix products with the stacked factors ``a`` (P, D+1) and ``b``
(P, D), O(P D^2) time and O(P D) memory, never the n_spins^2 couplings::

    Q s          = (1/P) sum_mu a_mu (a_mu^T W b_mu) b_mu^T
    (H_mu o H_mu) . v = (a_mu o a_mu)^T V (b_mu o b_mu)
    diag Q       = (1/P) sum_mu (a_mu o a_mu) (x) (b_mu o b_mu)
    h            = (1/P) sum_mu y_mu a_mu (x) b_mu

``E[Q] = E[a a^T] (x) E[b b^T]`` when the query is independent of the context, which makes
``S_a (x) S_b + lam I`` (the empirical second moments) a preconditioner inverted by two
small eigendecompositions.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import (as_generator, check_array, check_bool, check_damping,
                        check_memory, check_nonnegative, check_positive, check_positive_int)
from .kernels.reasons import BLOWUP, CONVERGED, MAX_ITER, NONPOSITIVE, REASONS
from .spin import _model_prior, check_spins

__all__ = ["FactoredModel", "solve_exact_factored", "solve_amp_factored", "task_factors"]

#: doubles of one row chunk of a matrix-free product (chunk rows x (D+1))
CHUNK_DOUBLES = 2 ** 21


def _chunk_rows(D: int) -> int:
    return max(64, CHUNK_DOUBLES // (D + 1))


def task_factors(tasks):
    """``(a, b, y)`` of a :class:`~sgphys.tasks.Tasks`: ``a`` (P, D+1), ``b`` (P, D), such
    that the features are ``H[mu] = kron(a[mu], b[mu])`` (``tasks.features()``), obtained
    block by block without forming H.

    Token-sampled and user task sets: ``a = (1/N) sum_{n<N} y_n Z[:, n]``, ``b = Z[:D, N]``
    (any token correlation). Statistics-sampled sets: the sampler's prompt statistics.
    """
    from .tasks import Tasks, label_weighted_sum

    if not isinstance(tasks, Tasks):
        raise ValueError(f"tasks must be a Tasks (sgphys.sample_tasks), got "
                         f"{type(tasks).__name__}")
    D, N, P = tasks.D, tasks.N, tasks.P
    check_memory("tasks.P", P, 8 * P * (2 * D + 2), "the factors a, b and labels y")
    a = np.empty((P, D + 1))
    b = np.empty((P, D))
    y = np.empty(P)
    sampler = tasks._sampler
    start = 0
    if tasks._Z is not None:
        blocks = ((tasks._Z[i:i + 1024], tasks.y[i:i + 1024]) for i in range(0, P, 1024))
    elif tasks.method == "statistics":
        blocks = None
    else:
        blocks = (sampler.block(k)[:2] for k in range(tasks.n_blocks))
    if blocks is None:
        for k in range(tasks.n_blocks):
            v, xq, yq, _ = sampler.statistics_block(k)
            stop = start + v.shape[0]
            a[start:stop] = v
            a[start:stop] *= 1.0 / N
            b[start:stop] = xq
            y[start:stop] = yq
            start = stop
    else:
        for Zb, yb in blocks:
            stop = start + Zb.shape[0]
            with np.errstate(over="ignore", invalid="ignore"):
                a[start:stop] = label_weighted_sum(Zb)
                a[start:stop] *= 1.0 / N
            b[start:stop] = Zb[:, :D, N]
            y[start:stop] = yb
            start = stop
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("tasks: the features overflow (non-finite factors); rescale the data")
    return a, b, y


class FactoredModel:
    """The spin model of :class:`~sgphys.spin.SpinModel` held as the rank-one factors of its
    features: O(P D) memory, matrix-free products in O(P D^2) (module docstring).

    Build with :meth:`from_tasks` or :meth:`from_factors`; :meth:`to_dense` gives the
    equivalent :class:`~sgphys.spin.SpinModel` (small sizes).

    Attributes
    ----------
    a : ndarray, shape (P, D+1)
        Label-weighted token means ``(1/N) sum_n y_n Z[:, n]``.
    b : ndarray, shape (P, D)
        Query tokens.
    y : ndarray, shape (P,)
    h : ndarray, shape (n_spins,)
        ``H^T y / P``.
    diag_Q : ndarray, shape (n_spins,)
    lam_k : ndarray, shape (n_spins,)
        ``lam + diag_Q``.
    lam : float
    prior : prior of :mod:`sgphys.priors` (default ``Gaussian(lam)``)
    D, n_spins, P : int
    S_a : ndarray, shape (D+1, D+1)
        ``a^T a / P``.
    S_b : ndarray, shape (D, D)
        ``b^T b / P``.
    """

    def __init__(self, a, b, y, lam, prior=None):
        a = check_array("a", a, ndim=2)
        if a.shape[0] < 1 or a.shape[1] < 2:
            raise ValueError(f"a must have shape (P, D+1) with P, D >= 1, got {a.shape}")
        P, D = a.shape[0], a.shape[1] - 1
        b = check_array("b", b, shape=(P, D))
        y = check_array("y", y, shape=(P,))
        lam = check_nonnegative("lam", lam)
        self.prior = _model_prior(prior, lam)
        self.lam = lam
        self.a, self.b, self.y = a, b, y
        self.D, self.P, self.n_spins = D, P, D * (D + 1)
        self._chunk = _chunk_rows(D)
        with np.errstate(over="ignore", invalid="ignore"):
            self.h = self._scatter(y).ravel()
            self.diag_Q = self._scatter(None, square=True).ravel()
            self.S_a = (a.T @ a) * (1.0 / P)
            self.S_b = (b.T @ b) * (1.0 / P)
            self._y_sq_mean = float(y @ y) / P
        if not (np.all(np.isfinite(self.h)) and np.all(np.isfinite(self.diag_Q))
                and np.all(np.isfinite(self.S_a)) and np.all(np.isfinite(self.S_b))
                and math.isfinite(self._y_sq_mean)):
            raise ValueError("a, b or y: the moments h, diag Q overflow; rescale the data")
        self.S_a = 0.5 * (self.S_a + self.S_a.T)
        self.S_b = 0.5 * (self.S_b + self.S_b.T)
        self._precond = None

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_factors(cls, a, b, y, lam: float, prior=None) -> "FactoredModel":
        """Model of features ``H[mu] = kron(a[mu], b[mu])`` and targets ``y``.

        Parameters
        ----------
        a : array_like, shape (P, D+1)
        b : array_like, shape (P, D)
        y : array_like, shape (P,)
        lam : float >= 0
        prior : prior, name or dict, optional
            As in :meth:`sgphys.SpinModel.from_tasks` (None: ``Gaussian(lam)``; other
            priors need ``lam = 0``).

        Raises
        ------
        ValueError
            Naming the argument, for a wrong dtype, shape, non-finite entries or prior.
        """
        return cls(a, b, y, lam, prior)

    @classmethod
    def from_tasks(cls, tasks, lam: float, prior=None) -> "FactoredModel":
        """Model of the training set ``tasks`` (:func:`task_factors`), the same spin glass
        as ``SpinModel.from_tasks(tasks, lam, prior)``."""
        lam = check_nonnegative("lam", lam)
        _model_prior(prior, lam)
        a, b, y = task_factors(tasks)
        return cls(a, b, y, lam, prior)

    def to_dense(self):
        """The equivalent :class:`~sgphys.spin.SpinModel` (forms H: small sizes only)."""
        from .spin import SpinModel

        check_memory("n_spins", self.n_spins, 8 * (3 * self.n_spins ** 2
                                                   + self.P * self.n_spins),
                     "the dense model (features and couplings)")
        H = (self.a[:, :, None] * self.b[:, None, :]).reshape(self.P, self.n_spins)
        return SpinModel.from_arrays(H, self.y, self.lam, self.D, prior=self.prior)

    # -- matrix-free products -----------------------------------------------------------
    def _chunks(self):
        for i in range(0, self.P, self._chunk):
            yield slice(i, min(self.P, i + self._chunk))

    def _project(self, X, square=False):
        """``z[mu] = a_mu^T X b_mu`` for X (D+1, D) (or with ``a o a``, ``b o b``)."""
        z = np.empty(self.P)
        for c in self._chunks():
            ac, bc = self.a[c], self.b[c]
            if square:
                ac, bc = ac * ac, bc * bc
            z[c] = np.einsum("pd,pd->p", ac @ X, bc)
        return z

    def _scatter(self, z, square=False):
        """``sum_mu z_mu a_mu b_mu^T / P`` (D+1, D) (with squares; z None: ones)."""
        G = np.zeros((self.D + 1, self.D))
        for c in self._chunks():
            ac, bc = self.a[c], self.b[c]
            if square:
                ac, bc = ac * ac, bc * bc
            G += ac.T @ (bc if z is None else bc * z[c, None])
        G *= 1.0 / self.P
        return G

    def _qmat(self, X):
        """``Q`` applied to the spin matrix X (D+1, D): one pass over the chunks, the two
        products per chunk."""
        G = np.zeros((self.D + 1, self.D))
        for c in self._chunks():
            ac, bc = self.a[c], self.b[c]
            z = np.einsum("pd,pd->p", ac @ X, bc)
            G += ac.T @ (bc * z[:, None])
        G *= 1.0 / self.P
        return G

    def _spins(self, name, s):
        s = check_array(name, s, shape=(self.n_spins,))
        return s

    def features_matvec(self, s) -> np.ndarray:
        """``H s`` (P,): the predictions ``a_mu^T W b_mu``."""
        s = self._spins("s", s)
        return self._project(s.reshape(self.D + 1, self.D))

    def Q_matvec(self, s) -> np.ndarray:
        """``Q s = H^T H s / P`` (n_spins,), matrix-free."""
        s = self._spins("s", s)
        return self._qmat(s.reshape(self.D + 1, self.D)).ravel()

    def J_matvec(self, s) -> np.ndarray:
        """``J s = -(Q s - diag(Q) s)`` (n_spins,): the couplings, zero diagonal."""
        s = self._spins("s", s)
        return self.diag_Q * s - self._qmat(s.reshape(self.D + 1, self.D)).ravel()

    def precision_matvec(self, s) -> np.ndarray:
        """``A s = Q s + lam s`` (n_spins,)."""
        s = self._spins("s", s)
        return self._qmat(s.reshape(self.D + 1, self.D)).ravel() + self.lam * s

    @property
    def lam_k(self) -> np.ndarray:
        """Anisotropic ridge ``lam + diag Q``."""
        return self.lam + self.diag_Q

    def energy(self, s):
        """Hamiltonian E(s) (paper Eq. 5), as :meth:`sgphys.SpinModel.energy`:
        ``(1/2) s^T Q s - h.s + (lam/2) |s|^2``.

        Parameters
        ----------
        s : array_like, shape (n_spins,) or (n_samples, n_spins)

        Returns
        -------
        float or ndarray, shape (n_samples,)
        """
        s, S = check_spins(s, self.n_spins)
        e = np.empty(S.shape[0])
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(S.shape[0]):
                z = self._project(S[k].reshape(self.D + 1, self.D))
                e[k] = (0.5 * float(z @ z) / self.P - float(S[k] @ self.h)
                        + 0.5 * self.lam * float(S[k] @ S[k]))
        if not np.all(np.isfinite(e)):
            raise ValueError("s: the result overflows (non-finite); the entries of s are too "
                             "large for this model")
        return float(e[0]) if s.ndim == 1 else e

    @property
    def energy_offset(self) -> float:
        """``(1/(2P)) sum_mu y_mu^2``, with ``E(s) = L(W(s)) - offset``."""
        return 0.5 * self._y_sq_mean

    # -- preconditioner -----------------------------------------------------------------
    def preconditioner(self):
        """``(U_a, e_a, U_b, e_b)``: eigendecompositions of ``S_a``, ``S_b``, so that
        ``M = S_a (x) S_b + lam I`` has eigenvalues ``e_a[i] e_b[j] + lam``."""
        if self._precond is None:
            e_a, U_a = np.linalg.eigh(self.S_a)
            e_b, U_b = np.linalg.eigh(self.S_b)
            self._precond = (U_a, np.maximum(e_a, 0.0), U_b, np.maximum(e_b, 0.0))
        return self._precond

    def _minv_denominator(self, shift):
        U_a, e_a, U_b, e_b = self.preconditioner()
        return np.outer(e_a, e_b) + shift

    def precondition(self, R, shift=None):
        """``M^{-1} R`` for R (D+1, D), ``M = S_a (x) S_b + shift I`` (shift default lam)."""
        U_a, e_a, U_b, e_b = self.preconditioner()
        den = self._minv_denominator(self.lam if shift is None else shift)
        return U_a @ ((U_a.T @ R @ U_b) / den) @ U_b.T

    #: marker by which :mod:`sgphys.solvers` dispatches to the matrix-free solvers
    matrix_free = True

    def _solve_exact(self, beta, **kw):
        return solve_exact_factored(self, beta, **kw)

    def _solve_amp(self, beta, **kw):
        return solve_amp_factored(self, beta, **kw)

    def __repr__(self) -> str:
        return (f"FactoredModel(D={self.D}, n_spins={self.n_spins}, P={self.P}, "
                f"lam={self.lam}, prior={self.prior!r})")


def _check_factored(model, gaussian=False):
    if not isinstance(model, FactoredModel):
        raise ValueError(f"model must be a FactoredModel, got {type(model).__name__}")
    if gaussian and model.prior.name != "gaussian":
        raise ValueError(f"model.prior={model.prior!r}: this solver needs the Gaussian prior "
                         "(other priors: solve_amp_factored)")
    return model


def _rel_residual(Am, h):
    """``max|A m - h| / max(max|A m|, max|h|)`` (0 when both vanish)."""
    scale = max(float(np.max(np.abs(Am))), float(np.max(np.abs(h))))
    if not math.isfinite(scale):
        return math.inf
    if scale == 0.0:
        return 0.0
    return float(np.max(np.abs(Am - h))) / scale


def _pcg(model, rhs, shift, tol, max_iter, x0=None):
    """Preconditioned CG on ``(Q + shift I) x = rhs`` (matrices (D+1, D)), Kronecker
    preconditioner ``S_a (x) S_b + shift I``; certified on the true residual.

    Returns ``(x, n_iter, residual, code, n_matvec)``; residual as :func:`_rel_residual`.
    """
    pshift = shift if shift > 0 else 1e-12 * float(np.max(np.abs(model.diag_Q)) or 1.0)
    x = np.zeros_like(rhs) if x0 is None else x0.copy()
    Ax = model._qmat(x) + shift * x if x0 is not None else np.zeros_like(rhs)
    n_mv = 1 if x0 is not None else 0
    it = 0
    res = _rel_residual(Ax, rhs)
    if res <= tol:
        return x, 0, res, CONVERGED, n_mv
    while True:  # restarts from the true residual if the recursive one drifted
        r = rhs - Ax
        z = model.precondition(r, pshift)
        p = z.copy()
        rz = float(np.vdot(r, z))
        while it < max_iter:
            Ap = model._qmat(p) + shift * p
            n_mv += 1
            it += 1
            pAp = float(np.vdot(p, Ap))
            if not (pAp > 0 and math.isfinite(pAp)):
                code = NONPOSITIVE if math.isfinite(pAp) else BLOWUP
                return x, it, _rel_residual(Ax, rhs), code, n_mv
            alpha = rz / pAp
            x += alpha * p
            Ax += alpha * Ap
            r -= alpha * Ap
            if _rel_residual(rhs - r, rhs) <= 0.5 * tol:
                break
            z = model.precondition(r, pshift)
            rz_new = float(np.vdot(r, z))
            p *= rz_new / rz
            p += z
            rz = rz_new
        Ax = model._qmat(x) + shift * x  # the true residual certifies
        n_mv += 1
        res = _rel_residual(Ax, rhs)
        if not math.isfinite(res):
            return x, it, res, BLOWUP, n_mv
        if res <= tol:
            return x, it, res, CONVERGED, n_mv
        if it >= max_iter:
            return x, it, res, MAX_ITER, n_mv


def solve_exact_factored(model, beta: float = 100.0, tol: float = 1e-10,
                         max_iter: int = 1000, variances: bool = False, n_probes: int = 32,
                         seed=0):
    """Exact Gaussian means ``A^{-1} h`` (``A = Q + lam I``) of a :class:`FactoredModel` by
    preconditioned conjugate gradients, matrix-free (docs/scale.md).

    The preconditioner is ``S_a (x) S_b + lam I`` (the Kronecker form of ``E[Q]``),
    inverted through the eigendecompositions of ``S_a`` (D+1)^2 and ``S_b`` (D^2). Each
    iteration costs two (P, D+1) x (D+1, D) matrix products.

    Parameters
    ----------
    model : FactoredModel
        With the Gaussian prior.
    beta : float > 0
        Inverse temperature (only the variances depend on it).
    tol : float > 0
        Convergence on the scale-invariant residual ``max|A m - h| / max(max|A m|,
        max|h|)``, recomputed from ``m`` (not CG's recursion) before it is accepted.
    max_iter : int
        CG iterations (matrix-vector products) at most; reason ``"max_iter"`` beyond.
    variances : bool
        False: ``var`` is NaN. True: ``var_k = [A^{-1}]_kk / beta`` estimated by
        stochastic probing with the preconditioner as control variate,
        ``diag(A^{-1}) = diag(M^{-1}) + E[z o (A^{-1} - M^{-1}) z]`` with Rademacher ``z``
        (Bekas, Kokiopoulou & Saad 2007), ``diag(M^{-1})`` exact; ``n_probes`` CG solves.
        ``info["var_err"]`` holds the standard error of each variance (the probes'
        standard deviation / sqrt(n_probes)).
    n_probes : int
        Probe vectors of the variance estimate.
    seed : int, SeedSequence or Generator
        Seed of the probe vectors.

    Returns
    -------
    Marginals
        ``solver="exact_cg"``; ``n_iter`` CG iterations of the means; ``info`` the number
        of matrix-vector products and, with variances, the probes' iterations and
        ``var_err``.

    Raises
    ------
    ValueError
        For bad arguments, a non-Gaussian prior, or an improper measure (``lam = 0`` with
        ``P < n_spins``).
    """
    from .solvers import Marginals

    model = _check_factored(model, gaussian=True)
    beta = check_positive("beta", beta)
    tol = check_positive("tol", tol)
    max_iter = check_positive_int("max_iter", max_iter)
    variances = check_bool("variances", variances)
    n_probes = check_positive_int("n_probes", n_probes)
    rng = as_generator(seed) if variances else None
    if model.lam == 0 and model.P < model.n_spins:
        raise ValueError(f"lam=0.0: the precision Q is singular (P={model.P} < n_spins="
                         f"{model.n_spins}); the Gibbs measure is improper, use lam > 0")
    D, n = model.D, model.n_spins
    rhs = model.h.reshape(D + 1, D)
    x, it, res, code, n_mv = _pcg(model, rhs, model.lam, tol, max_iter)
    info = {"method": "pcg", "preconditioner": "kronecker", "matvecs": n_mv,
            "variances": variances}
    var = np.full(n, np.nan)
    if variances:
        var, err, probe_iters, probe_ok = _diag_inverse(model, n_probes, rng, tol, max_iter)
        with np.errstate(over="ignore"):
            var = var / beta
            info["var_err"] = err / beta
        info["n_probes"] = n_probes
        info["probe_iterations"] = probe_iters
        info["probes_converged"] = probe_ok
    info["thermo_reason"] = ("log det A is not computed matrix-free: no free energy "
                             "(use to_dense() and solve_exact at small D)")
    return Marginals(mean=x.ravel(), var=var, converged=(code == CONVERGED), n_iter=int(it),
                     residual=float(res), reason=REASONS[code], solver="exact_cg", D=D,
                     info=info, beta=beta)


def _diag_inverse(model, n_probes, rng, tol, max_iter):
    """``diag(A^{-1})`` by Rademacher probing of ``A^{-1} - M^{-1}`` plus the exact
    ``diag(M^{-1})`` (Kronecker eigenbasis); returns (estimate, standard errors,
    iterations per probe, all probes converged)."""
    D = model.D
    U_a, e_a, U_b, e_b = model.preconditioner()
    pshift = model.lam if model.lam > 0 else 1e-12 * float(np.max(np.abs(model.diag_Q)) or 1.0)
    den = np.outer(e_a, e_b) + pshift
    base = (U_a * U_a) @ (1.0 / den) @ (U_b * U_b).T
    samples = np.empty((n_probes, D + 1, D))
    iters = []
    ok = True
    for k in range(n_probes):
        z = rng.choice(np.array([-1.0, 1.0]), size=(D + 1, D))
        x, it, _, code, _ = _pcg(model, z, model.lam, tol, max_iter)
        iters.append(int(it))
        ok = ok and code == CONVERGED
        samples[k] = z * (x - model.precondition(z, pshift))
    est = base + samples.mean(axis=0)
    err = (samples.std(axis=0, ddof=1) / math.sqrt(n_probes) if n_probes > 1
           else np.full((D + 1, D), np.inf))
    return est.ravel(), err.ravel(), iters, ok


# -- message passing ----------------------------------------------------------------------

#: ``damping="auto"``: the damping rises ``d <- 1 - (1 - d) / 2`` (0, 0.5, 0.75, ...) up to
#: this when the residual grows or stalls
AMP_MAX_DAMPING = 0.97
#: the residual "grows" when it exceeds this factor times its minimum since the last change
AMP_GROWTH = 1.5
#: and "stalls" when it has not halved within this many iterations
AMP_STALL_ITER = 30
#: a mean beyond this magnitude is a blow-up
BLOWUP_LIMIT = 1e100


def _gamp_forward(model, X, TX):
    """``(H x, (H o H) tx)`` (P,) for the spin matrices X, TX (D+1, D): one pass."""
    z = np.empty(model.P)
    tz = np.empty(model.P)
    for c in model._chunks():
        ac, bc = model.a[c], model.b[c]
        z[c] = np.einsum("pd,pd->p", ac @ X, bc)
        tz[c] = np.einsum("pd,pd->p", (ac * ac) @ TX, bc * bc)
    return z, tz


def _gamp_backward(model, s, ts):
    """``(H^T s, (H o H)^T ts)`` as (D+1, D) matrices: one pass."""
    G = np.zeros((model.D + 1, model.D))
    G2 = np.zeros((model.D + 1, model.D))
    for c in model._chunks():
        ac, bc = model.a[c], model.b[c]
        G += ac.T @ (bc * s[c, None])
        G2 += (ac * ac).T @ (bc * bc * ts[c, None])
    return G, G2


def _amp_start(model, beta, init):
    """Initial means and variances: the prior's moments (Gaussian: 0 and 1/(beta lam_k);
    Laplace no wider than 1/(beta diag Q)), or ``init``."""
    from .solvers import _check_v0, _prior_moments

    n = model.n_spins
    prior = model.prior
    if init is not None:
        try:
            m0, v0 = init
        except (TypeError, ValueError):
            raise ValueError("init must be a pair (m0, v0) of arrays of shape (n_spins,)") from None
        return check_array("init[0]", m0, shape=(n,)).copy(), _check_v0(v0, n, "init[1]")
    if prior.name == "gaussian":
        lam_k = model.lam_k
        if not np.all(lam_k > 0):
            raise ValueError(f"lam={model.lam!r}: some lam_k = lam + Q_kk are not positive; "
                             "use lam > 0")
        return np.zeros(n), 1.0 / (beta * lam_k)
    pm, pv = _prior_moments(prior, beta)
    v0 = np.full(n, pv)
    if not prior.discrete:
        with np.errstate(divide="ignore"):
            v0 = np.minimum(v0, 1.0 / (beta * model.diag_Q))
    return np.full(n, pm), v0


def solve_amp_factored(model, beta: float = 100.0, damping="auto", tol: float = 1e-10,
                       max_iter: int = 1000, init=None, history: bool = False):
    """Generalised approximate message passing (GAMP) on the factor graph of the P
    sequences, matrix-free: O(P D^2) time and O(P) extra memory per iteration.

    The Gibbs measure is that of a linear regression with Gaussian noise of variance
    ``P / beta`` per sequence, ``p(s) ~ prod_mu exp(-beta (y_mu - H_mu s)^2 / (2P))
    prod_k pi_beta(s_k)`` (docs/model.rst); sum-product GAMP (Rangan 2011) iterates::

        tp = (H o H) tx,  p = H x - tp o g,  g = (y - p) / (P/beta + tp),
        tg = 1 / (P/beta + tp),  A = (H o H)^T tg,  B = A o x + H^T g,
        (x, tx) = mean and variance of pi_beta(s) exp(-A s^2/2 + B s)

    with the prior's denoiser (:func:`sgphys.kernels.priors.denoise`), the products by
    :class:`FactoredModel`'s factors (``(H_mu o H_mu) . v = (a o a)^T V (b o b)``). Its
    fixed points do not depend on the damping; with the Gaussian prior their means are the
    exact means ``A^{-1} h`` (variances approximate), with another prior they approximate
    the same marginals as TAP (:func:`sgphys.solve_amp`), by a different (bipartite)
    cavity argument, so the two differ by the approximation's error (docs/scale.md).

    Parameters
    ----------
    model : FactoredModel
    beta : float > 0
    damping : "auto" or float in [0, 1)
        Weight on the old value of ``x``, ``tx`` and ``g``. ``"auto"`` starts undamped
        and sets ``d <- 1 - (1 - d)/2`` (up to :data:`AMP_MAX_DAMPING`) whenever the
        residual exceeds :data:`AMP_GROWTH` times its minimum since the last change or has
        not halved in :data:`AMP_STALL_ITER` iterations.
    tol : float > 0
        On the strict residual (docs/model.rst, section Solvers) of one undamped update,
        ``max(max|u_m - m| / max(1, max|m|), max|u_v - v| / max v)``. With the Gaussian
        prior convergence is also certified on the means: ``max|A m - h| / max(max|A m|,
        max|h|) <= tol`` (``info["mean_equation_residual"]``), iterating on otherwise.
    max_iter : int
    init : (m0, v0), optional
        Initial means and positive variances; default the prior's moments (Gaussian: 0
        and ``1/(beta lam_k)``).
    history : bool
        Keep the residual of every iteration.

    Returns
    -------
    Marginals
        ``solver="gamp"``; reason ``"converged"``, ``"max_iter"`` or ``"blowup"`` (the
        last finite state is returned); GAMP's precisions are positive by construction.
    """
    from .kernels.priors import denoise_array
    from .solvers import Marginals

    model = _check_factored(model)
    beta = check_positive("beta", beta)
    damping = check_damping(damping)
    tol = check_positive("tol", tol)
    max_iter = check_positive_int("max_iter", max_iter)
    history = check_bool("history", history)
    x, tx = _amp_start(model, beta, init)
    D, n, P = model.D, model.n_spins, model.P
    sh = (D + 1, D)
    code, params = model.prior.kernel_args()
    gaussian = model.prior.name == "gaussian"
    delta = P / beta
    g = np.zeros(P)
    tg = np.zeros(P)
    xbar = x.copy()
    um, uv = np.empty(n), np.empty(n)
    hist = []
    auto = damping == "auto"
    d = 0.0 if auto else float(damping)
    info = {"prior": model.prior.to_attrs(), "damping": damping}
    res = math.inf
    reason = MAX_ITER
    inner_tol = tol
    best, window_start, window_res, changes = math.inf, 0, math.inf, 0
    it = 0
    while it < max_iter:
        w = 0.0 if it == 0 else d  # weight on the old value
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            z, tp = _gamp_forward(model, x.reshape(sh), tx.reshape(sh))
            p = z - tp * g
            tg_new = 1.0 / (delta + tp)
            g_new = (model.y - p) * tg_new
            g_new = w * g + (1 - w) * g_new
            tg_new = w * tg + (1 - w) * tg_new
            xbar_new = w * xbar + (1 - w) * x
            Hg, A = _gamp_backward(model, g_new, tg_new)
            A = A.ravel()
            B = A * xbar_new + Hg.ravel()
        bad = denoise_array(code, params, beta, A, B, um, uv)
        it += 1
        if bad or not (np.all(np.isfinite(g_new)) and np.all(np.abs(um) < BLOWUP_LIMIT)):
            reason = BLOWUP
            break
        g, tg, xbar = g_new, tg_new, xbar_new
        rm = float(np.max(np.abs(um - x))) / max(1.0, float(np.max(np.abs(x))))
        vmax = float(np.max(tx))
        rv = float(np.max(np.abs(uv - tx))) / vmax if vmax > 0 else 0.0
        uv = w * tx + (1 - w) * uv
        res = max(rm, rv)
        if history:
            hist.append(res)
        x, um = um, x
        tx, uv = uv, tx
        if res <= inner_tol:
            if not gaussian:
                reason = CONVERGED
                break
            eq = _rel_residual(model._qmat(x.reshape(sh)).ravel() + model.lam * x, model.h)
            info["mean_equation_residual"] = eq
            if eq <= tol:
                reason = CONVERGED
                break
            inner_tol = max(inner_tol * min(0.5, tol / eq), 1e-300)
        if auto:
            best = min(best, res)
            grew = res > AMP_GROWTH * best
            stalled = it - window_start >= AMP_STALL_ITER and res > 0.5 * window_res
            if it - window_start >= AMP_STALL_ITER:
                window_start, window_res = it, res
            if (grew or stalled) and d < AMP_MAX_DAMPING:
                d = min(AMP_MAX_DAMPING, 1.0 - 0.5 * (1.0 - d))
                changes += 1
                best, window_start, window_res = res, it, res
    if auto:
        info.update(damping_final=d, damping_changes=changes)
    info["thermo_reason"] = "the matrix-free GAMP reports no free energy"
    return Marginals(mean=x, var=tx, converged=(reason == CONVERGED), n_iter=int(it),
                     residual=float(res), reason=REASONS[reason],
                     history=np.array(hist) if history else None, solver="gamp", D=D,
                     info=info, beta=beta)
