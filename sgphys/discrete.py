"""Non-Gaussian priors on the spins: exact enumeration and Gibbs sampling.

The Gibbs measure with a prior (see :mod:`sgphys.priors`) is

    p(s) ∝ exp(-beta E0(s)) prod_k pi_beta(s_k),   E0(s) = (1/2) s^T Q s - h^T s

:func:`solve_enumerate` sums it exactly over every state of a discrete prior;
:func:`sample_gibbs` samples it for any prior (exact single-spin conditionals, independent
chains, optional replica exchange); :func:`ess_rhat` gives the diagnostics it reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np
import scipy.linalg

from ._validate import (_short, as_seed_sequence, check_array, check_memory,
                        check_nonnegative_int, check_positive, check_positive_int)
from .priors import Gaussian, Laplace, get_prior
from .spin import _check_finite_value, check_model

__all__ = ["solve_enumerate", "sample_gibbs", "GibbsResult", "ess_rhat", "MAX_STATES",
           "energy0"]

#: default state-count limits of :func:`solve_enumerate` by support size
MAX_STATES = {2: 2 ** 20, 3: 3 ** 13}
_MAX_STATES_OTHER = 2 ** 21
_BLOCK = 4096
#: float64 values kept for the diagnostic traces before they are thinned
MAX_TRACE_VALUES = 2 ** 21
#: batches of kept sweeps per chain for the standard error of log_z
_N_BATCHES = 8
#: largest expansion parameter sqrt(beta_0 Var X) of the Laplace small-beta reference
#: (truncation error about 0.2 of its cube: 2e-6 here)
_LAPLACE_SD_X = 0.02
#: float64 values of pre-drawn random numbers per block of sweeps
_RAND_BLOCK_VALUES = 2 ** 19


def _resolve_prior(model, prior, default):
    spec = prior if prior is not None else getattr(model, "prior", None)
    return get_prior(spec, default=default)


def energy0(model, s):
    """``E0(s) = (1/2) s^T Q s - h^T s`` (the energy (docs/model.rst, section Spin mapping) without
    the ridge term)."""
    model = check_model(model)
    s = check_array("s", s)
    if s.shape[-1:] != (model.n_spins,) or s.ndim > 2:
        raise ValueError(f"s must have shape (n_spins,) or (n_samples, n_spins) with "
                         f"n_spins = {model.n_spins}, got {s.shape}")
    S = np.atleast_2d(s)
    with np.errstate(over="ignore", invalid="ignore"):
        e = 0.5 * np.einsum("ij,ij->i", S @ model.Q, S) - S @ model.h
    _check_finite_value("s", e)
    return float(e[0]) if s.ndim == 1 else e


# -- exact enumeration ------------------------------------------------------------------------

def solve_enumerate(model, beta: float = 100.0, prior=None, max_states=None):
    """Exact marginals of a discrete-prior model by summing over every state.

    Parameters
    ----------
    model : SpinModel
    beta : float > 0
    prior : Binary, Ternary, dict or str, optional
        Default ``model.prior``; a continuous or missing prior raises ValueError.
    max_states : int, optional
        State-count limit (default 2^20 for two values, 3^13 for three, 2^21 otherwise).

    Returns
    -------
    Marginals
        ``solver="enumerate"``, exact ``mean`` and ``var``; ``info`` has ``log_z``
        (``log sum_s prod_k pi(s_k) exp(-beta E0(s))``, pi normalised), ``ground_state``
        (argmin of E0 over the support's states, first in Gray order among ties),
        ``ground_energy`` (its E0), ``mean_energy`` (<E0>), ``n_states``, ``prior``, ``beta``.
    """
    from .kernels.enumerate import enumerate_states
    from .solvers import Marginals

    model = check_model(model)
    beta = check_positive("beta", beta)
    prior = _resolve_prior(model, prior, None)
    if prior is None:
        raise ValueError("prior must be given (a discrete prior such as Binary(a) or "
                         "Ternary(a, p0)): the model has none")
    if not prior.discrete:
        raise ValueError(f"prior must be discrete for exact enumeration, got {prior!r}")
    values = prior.support()
    logw = np.log(prior.weights())
    K, n = values.size, model.n_spins
    if max_states is None:
        limit = MAX_STATES.get(K, _MAX_STATES_OTHER)
    else:
        limit = check_positive_int("max_states", max_states)
    n_states = K ** n
    if n_states > limit:
        raise ValueError(f"model.n_spins={n} with {K} values per spin needs {K}^{n} = "
                         f"{n_states} states, more than max_states={limit}")
    Q = np.ascontiguousarray(model.Q, dtype=np.float64)
    h = np.ascontiguousarray(model.h, dtype=np.float64)
    W, shift, e_mean, ground, _, count = enumerate_states(Q, h, beta, values, logw, _BLOCK)
    if count != n_states:  # pragma: no cover - a kernel bug
        raise RuntimeError(f"enumeration visited {count} of {n_states} states")
    Zi = W.sum(axis=1)
    if not (np.all(np.isfinite(W)) and np.all(Zi > 0) and math.isfinite(shift)
            and math.isfinite(e_mean)):
        raise ValueError(f"beta={beta!r}: the enumeration overflowed (non-finite weights)")
    P = W / Zi[:, None]
    mean = P @ values
    var = np.zeros(n)
    for k in range(K):
        for j in range(k + 1, K):
            var += P[:, k] * P[:, j] * (values[k] - values[j]) ** 2
    ground_state = values[ground]
    info = {"log_z": float(shift + math.log(Zi[0])), "ground_state": ground_state,
            "ground_energy": energy0(model, ground_state), "mean_energy": float(e_mean),
            "n_states": int(n_states), "prior": prior.to_attrs(), "beta": beta}
    return Marginals(mean=mean, var=var, converged=True, n_iter=0, residual=0.0,
                     reason="converged", solver="enumerate", D=model.D, info=info,
                     beta=beta, log_z=info["log_z"], energy=info["mean_energy"])


# -- diagnostics ------------------------------------------------------------------------------

def ess_rhat(trace):
    """Effective sample size and split R-hat of each column of ``trace``.

    Parameters
    ----------
    trace : array_like, shape (n_chains, n_draws) or (n_chains, n_draws, n_quantities)
        n_draws >= 8.

    Returns
    -------
    ess, rhat : ndarrays of shape (n_quantities,) (or floats for a 2-D trace)
        Chains are split in halves (a middle draw is dropped when n_draws is odd).
        R-hat = sqrt(var+ / W) (Gelman et al.), ESS from the chain-averaged FFT
        autocovariances with Geyer's initial monotone sequence (Stan's estimator, no rank
        normalisation), capped below by tau >= 1/log10(draws). A quantity constant within
        every chain has W = 0: rhat 1 and ess = n_chains*n_draws if all chains agree, else
        rhat inf and ess = n_chains (each chain counts once). Never NaN.
    """
    from .kernels.gibbs import geyer_tau

    x = check_array("trace", trace)
    squeeze = x.ndim == 2
    if squeeze:
        x = x[:, :, None]
    if x.ndim != 3:
        raise ValueError(f"trace must have shape (n_chains, n_draws[, n]), got {x.shape}")
    C, T, n = x.shape
    if C < 1 or T < 8:
        raise ValueError(f"trace needs at least 1 chain and 8 draws, got shape {x.shape}")
    # ESS and R-hat are scale-free: a quantity of extreme magnitude is divided by its
    # largest magnitude, so that the variances neither overflow nor underflow (others are
    # left as they are, bit for bit)
    scale = np.max(np.abs(x), axis=(0, 1))
    extreme = (scale > 1e100) | ((scale > 0) & (scale < 1e-100))
    if np.any(extreme):
        x = x / np.where(extreme, scale, 1.0)
    N = T // 2
    xs = np.concatenate([x[:, :N], x[:, T - N:]], axis=0)  # (2C, N, n)
    m = xs.shape[0]
    cmean = xs.mean(axis=1)
    xc = xs - cmean[:, None, :]
    cvar = (xc * xc).sum(axis=1) / (N - 1)
    W = cvar.mean(axis=0)
    B_N = cmean.var(axis=0, ddof=1) if m > 1 else np.zeros(n)
    var_plus = (N - 1) / N * W + B_N
    ess = np.empty(n)
    rhat = np.empty(n)
    total = m * N
    nfft = 1 << int(math.ceil(math.log2(2 * N)))
    chunk = max(1, (1 << 22) // max(1, m * nfft))
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        f = np.fft.rfft(xc[:, :, lo:hi], n=nfft, axis=1)
        acov = np.fft.irfft(f * np.conj(f), n=nfft, axis=1)[:, :N, :] / N  # biased
        acov_mean = acov.mean(axis=0)  # (N, hi-lo)
        for q in range(lo, hi):
            if not W[q] > 0:
                if B_N[q] > 0:
                    rhat[q], ess[q] = np.inf, float(C)
                else:
                    rhat[q], ess[q] = 1.0, float(C * T)
                continue
            rhat[q] = math.sqrt(var_plus[q] / W[q])
            mean_var = acov_mean[0, q - lo] * N / (N - 1)
            tau = geyer_tau(np.ascontiguousarray(acov_mean[:, q - lo]), mean_var, var_plus[q])
            tau = max(tau, 1.0 / math.log10(total))
            ess[q] = total / tau
    if squeeze:
        return float(ess[0]), float(rhat[0])
    return ess, rhat


# -- Gibbs sampling ---------------------------------------------------------------------------

@dataclass
class GibbsResult:
    """Output of :func:`sample_gibbs` (statistics at the target ``beta``).

    Attributes
    ----------
    mean, var : ndarray (n_spins,)
        Pooled over chains and every kept sweep (after burn-in); var with ddof=1.
    ess : ndarray (n_spins,)
        Effective sample size of each spin's mean (from the recorded, possibly thinned,
        traces: conservative when thin > 1).
    rhat : ndarray (n_spins,)
        Split R-hat.
    mcse : ndarray (n_spins,)
        Monte Carlo standard error of ``mean``: sqrt(var / ess).
    mean_energy, energy_ess : float
        <E0> and its ESS.
    n_sweeps, n_chains, burn, thin : int
    beta : float;  betas : ndarray or None (the replica ladder, ascending)
    swap_acceptance : ndarray (len(betas) - 1,) or None
        Accepted fraction of swaps between adjacent temperatures.
    trace : ndarray (n_chains, n_recorded, n_spins)
        Recorded states at beta (every ``thin``-th kept sweep); ``energy_trace`` their E0.
    states : ndarray (n_chains, n_spins)
        Final states at beta.
    prior : the prior used;  D : int;  info : dict
    energy : float
        <E> at beta, ``E = E0 + sum_k penalty(s_k)`` (the Hamiltonian of
        docs/thermodynamics.md: the ridge ``lam s^2/2`` included for the Gaussian prior,
        ``lam1 |s|`` for Laplace), pooled over chains and kept sweeps.
    log_z, log_z_err, entropy, free_energy : float
        With a replica-exchange ladder: ``log_z`` at beta by thermodynamic integration of
        the ladder's mean energies (:func:`sgphys.thermo.integrate_energy`) from beta = 0
        (discrete priors, exact prior moments there), from the closed-form ``log_z`` at the
        lowest rung (Gaussian prior) or from its small-beta expansion there (Laplace,
        :func:`sgphys.thermo.laplace_small_beta_log_z`: the lowest rung must be small,
        about 1e-4 or below); for continuous priors the quadrature is in log beta.
        ``log_z_err`` is its standard error from the spread over batches of kept sweeps (8
        per chain). NaN without a ladder or with a Laplace ladder starting too high,
        ``info["thermo_reason"]`` says why (None otherwise). The quadrature error of a
        coarse ladder is not in ``log_z_err``; ``info["log_z_trapezoid"]`` (the plain
        trapezoid rule, no end correction, whose error is typically much larger) gauges it.
        ``info["energy_by_beta"]`` holds <E> on every rung.
    """

    mean: np.ndarray
    var: np.ndarray
    ess: np.ndarray
    rhat: np.ndarray
    mcse: np.ndarray
    mean_energy: float
    energy_ess: float
    n_sweeps: int
    n_chains: int
    burn: int
    thin: int
    beta: float
    betas: np.ndarray | None
    swap_acceptance: np.ndarray | None
    trace: np.ndarray
    energy_trace: np.ndarray
    states: np.ndarray
    prior: object
    D: int | None = None
    info: dict = field(default_factory=dict)
    energy: float = math.nan
    log_z: float = math.nan
    log_z_err: float = math.nan
    entropy: float = math.nan
    free_energy: float = math.nan

    def to_marginals(self, rhat_tol: float = 1.01):
        """As :class:`~sgphys.solvers.Marginals` (``solver="gibbs"``); converged when
        max R-hat < ``rhat_tol`` (then reason "converged", else "max_iter"); residual is
        max R-hat - 1, n_iter the number of sweeps; the thermodynamic fields (also in
        ``info``, with ``log_z_err``) carried over."""
        from .solvers import Marginals

        worst = float(np.max(self.rhat))
        ok = worst < rhat_tol
        info = dict(self.info, ess=self.ess, rhat=self.rhat, mcse=self.mcse,
                    log_z=self.log_z, log_z_err=self.log_z_err, energy=self.energy,
                    entropy=self.entropy, free_energy=self.free_energy)
        names = {f.name for f in fields(Marginals)}
        thermo = {k: getattr(self, k) for k in ("log_z", "energy", "entropy", "free_energy")
                  if k in names}
        return Marginals(mean=self.mean, var=self.var, converged=ok, n_iter=self.n_sweeps,
                         residual=worst - 1.0, reason="converged" if ok else "max_iter",
                         solver="gibbs", D=self.D, info=info, beta=self.beta, **thermo)


def _check_properness(model, prior):
    """Conditionals must be proper for every spin, the joint measure proper."""
    qd = np.diag(model.Q)
    if isinstance(prior, Gaussian):
        prec = qd + prior.lam
        if not np.all(prec > 0):
            raise ValueError(f"lam={prior.lam!r}: some Q_kk + lam are not positive, so a "
                             "Gibbs conditional is improper; use lam > 0")
        evmin = float(np.linalg.eigvalsh(model.Q + prior.lam * np.eye(model.n_spins))[0])
        if evmin <= model.n_spins * np.finfo(float).eps * float(np.max(prec)):
            raise ValueError(f"lam={prior.lam!r}: Q + lam I is not positive definite, the "
                             "Gibbs measure is improper; use lam > 0")
    elif isinstance(prior, Laplace):
        if not np.all(qd > 0):
            raise ValueError("model: the Laplace prior needs every Q_kk > 0 (a spin with "
                             "Q_kk = 0 has no quadratic term)")
        evmin = float(np.linalg.eigvalsh(model.Q)[0])
        if evmin < -1e-12 * float(np.max(qd)):
            raise ValueError(f"model: Q has a negative eigenvalue ({evmin!r}); E0 is "
                             "unbounded below and the Laplace-prior measure improper")


def _check_ladder(beta, betas, allow_zero=False):
    if betas is None:
        return np.array([beta]), 0
    ladder = check_array("betas", betas)
    if ladder.ndim != 1 or ladder.size < 1:
        raise ValueError(f"betas must be a non-empty 1-D array, got shape {ladder.shape}")
    if not (np.all(np.isfinite(ladder)) and np.all(ladder >= 0 if allow_zero else ladder > 0)):
        raise ValueError(f"betas must be finite and {'>= 0' if allow_zero else '> 0'} (0 only "
                         f"for a discrete prior), got {_short(betas)}")
    ladder = np.sort(ladder)
    if np.any(np.diff(ladder) == 0):
        raise ValueError(f"betas must be distinct, got {_short(betas)}")
    hit = np.flatnonzero(ladder == beta)
    if hit.size != 1:
        raise ValueError(f"betas must contain beta={beta!r}, got {_short(betas)}")
    return np.ascontiguousarray(ladder), int(hit[0])


def _ladder_thermo(model, prior, ladder, target, has_ladder, bcount, bmean, bm2):
    """GibbsResult's thermodynamic fields from the per-temperature batch accumulators."""
    from .thermo import (gaussian_thermo, integrate_energy, laplace_small_beta_log_z,
                         prior_energy_moments)

    C, R, NB = bcount.shape
    cnt = bcount.astype(np.float64)
    N = cnt.sum(axis=(0, 2))  # per temperature
    e = (cnt * bmean).sum(axis=(0, 2)) / N
    m2 = bm2.sum(axis=(0, 2)) + (cnt * (bmean - e[None, :, None]) ** 2).sum(axis=(0, 2))
    var = m2 / np.maximum(N - 1, 1)
    nan = math.nan
    out = {"energy": float(e[target]), "log_z": nan, "log_z_err": nan, "entropy": nan,
           "free_energy": nan, "reason": None, "energy_by_beta": e}
    if not has_ladder:
        out["reason"] = "no replica-exchange ladder (betas=None)"
        return out
    if isinstance(prior, Laplace):
        try:
            log_z0, sd_x = laplace_small_beta_log_z(model.Q, model.h, prior.lam1,
                                                    float(ladder[0]))
        except ValueError:
            out["reason"] = ("the Laplace reference (small-beta expansion) needs Q positive "
                             "definite")
            return out
        if sd_x > _LAPLACE_SD_X:
            b0 = float(ladder[0]) * (_LAPLACE_SD_X / sd_x) ** 2
            out["reason"] = (f"the lowest rung beta={float(ladder[0])!r} is too high for the "
                             f"Laplace small-beta reference; start the ladder at or below "
                             f"{b0:.3g}")
            return out
    beta = float(ladder[target])
    # batch statistics (T, C * NB) of the rungs up to the target
    bm = bmean[:, :target + 1].transpose(1, 0, 2).reshape(target + 1, C * NB)
    bv = (bm2[:, :target + 1] / np.maximum(cnt[:, :target + 1] - 1, 1)).transpose(
        1, 0, 2).reshape(target + 1, C * NB)
    nodes, em, ev = ladder[:target + 1], e[:target + 1], var[:target + 1]
    if prior.discrete:  # from beta = 0, where the moments are exact (a rung at 0 is replaced)
        e0, v0 = prior_energy_moments(model.Q, model.h, prior)
        k = int(nodes[0] == 0.0)
        nodes = np.concatenate([[0.0], nodes[k:]])
        em, ev = np.concatenate([[e0], em[k:]]), np.concatenate([[v0], ev[k:]])
        bm = np.concatenate([np.full((1, C * NB), e0), bm[k:]])
        bv = np.concatenate([np.full((1, C * NB), v0), bv[k:]])
        log_z0 = 0.0
    elif isinstance(prior, Gaussian):  # the closed form at the lowest rung
        A = model.Q + prior.lam * np.eye(model.n_spins)
        L = np.linalg.cholesky(A)
        mean = scipy.linalg.cho_solve((L, True), model.h)
        log_z0 = gaussian_thermo(2.0 * float(np.sum(np.log(np.diag(L)))), model.h, mean,
                                 model.n_spins, float(ladder[0]))["log_z"]
    if nodes.size == 1:
        log_z, err = log_z0, 0.0
    else:
        lb = not prior.discrete  # the Gaussian's n/(2 beta): quadrature in log beta
        log_z = log_z0 - integrate_energy(nodes, em, ev, log_beta=lb)
        per = log_z0 - integrate_energy(nodes, bm, bv, log_beta=lb)
        # the plain trapezoid rule: its distance to log_z gauges the ladder's resolution
        out["log_z_trapezoid"] = float(log_z0 - integrate_energy(nodes, em, ev, log_beta=lb,
                                                                 corrected=False))
        err = float(np.std(per, ddof=1) / math.sqrt(per.size)) if per.size > 1 else nan
    ee = float(e[target])
    out.update(log_z=float(log_z), log_z_err=err, entropy=float(log_z + beta * ee),
               free_energy=float(-log_z / beta))
    return out


def _initial_states(prior, model, ladder, rng):
    R, n = ladder.size, model.n_spins
    if prior.discrete:
        return rng.choice(prior.support(), size=(R, n), p=prior.weights())
    qd = np.diag(model.Q) + (prior.lam if isinstance(prior, Gaussian) else 0.0)
    return rng.standard_normal((R, n)) / np.sqrt(ladder[:, None] * qd[None, :])


def sample_gibbs(model, beta: float = 100.0, n_sweeps: int = 1000, n_chains: int = 4,
                 seed=0, prior=None, betas=None, burn=None):
    """Gibbs sampling of ``exp(-beta E0(s)) prod_k pi_beta(s_k)`` with exact conditionals.

    Parameters
    ----------
    model : SpinModel
    beta : float > 0
        Inverse temperature at which statistics are collected.
    n_sweeps : int >= 8
        Sweeps per chain (a sweep updates every spin once, in order), burn-in included.
    n_chains : int >= 1
        Independent chains, each with its own streams (SeedSequence(seed).spawn).
    seed : int, SeedSequence or Generator
    prior : prior, dict, str or None
        Default ``model.prior`` if set, else ``Gaussian(model.lam)`` (the measure (docs/model.rst,
        section Spin mapping)).
    betas : array_like or None
        Replica-exchange ladder containing ``beta`` (entries > 0; >= 0 for a discrete
        prior, whose replica at 0 samples the prior): every chain runs one replica per
        temperature and swaps adjacent ones (even/odd pairs on alternate sweeps) by the
        Metropolis rule; also gives ``log_z`` by thermodynamic integration (see
        :class:`GibbsResult`). None: plain Gibbs.
    burn : int or None
        Sweeps discarded (default n_sweeps // 4); at least 8 must remain.

    Returns
    -------
    GibbsResult
        Bit-identical for the same arguments and seed.
    """
    from .kernels.gibbs import BAD_DRAW, gibbs_block

    model = check_model(model)
    beta = check_positive("beta", beta)
    n_sweeps = check_positive_int("n_sweeps", n_sweeps)
    n_chains = check_positive_int("n_chains", n_chains)
    ss = as_seed_sequence(seed)
    prior = _resolve_prior(model, prior, Gaussian(model.lam))
    if burn is None:
        burn = n_sweeps // 4
    burn = check_nonnegative_int("burn", burn)
    if n_sweeps - burn < 8:
        raise ValueError(f"burn={burn} leaves {n_sweeps - burn} of n_sweeps={n_sweeps} "
                         "sweeps; at least 8 must remain")
    ladder, target = _check_ladder(beta, betas, allow_zero=prior.discrete)
    _check_properness(model, prior)

    n, C, R = model.n_spins, n_chains, ladder.size
    code, params = prior.kernel_args()
    ncol = 2 if code == 1 else 1
    # states and proposals (C, R, n), one block of random numbers (at least C R n ncol),
    # the accumulators and at least 8 recorded sweeps per chain
    check_memory("n_chains", C, 8 * C * n * (R * (3 + ncol) + 12),
                 f"{C} chains x {R} temperatures x {n} spins")
    gaussian = code == 0
    Q = np.ascontiguousarray(model.Q, dtype=np.float64)
    h = np.ascontiguousarray(model.h, dtype=np.float64)

    streams = [child.spawn(3) for child in ss.spawn(C)]  # (init, sweeps, swaps) per chain
    rng_sweep = [np.random.default_rng(s[1]) for s in streams]
    rng_swap = [np.random.default_rng(s[2]) for s in streams]
    S = np.empty((C, R, n))
    for c in range(C):
        S[c] = _initial_states(prior, model, ladder, np.random.default_rng(streams[c][0]))
    U = np.empty_like(S)

    n_kept = n_sweeps - burn
    thin = max(1, math.ceil(C * n_kept * n / MAX_TRACE_VALUES))
    n_rec = (n_kept - 1) // thin + 1
    if n_rec < 8:
        thin = max(1, (n_kept - 1) // 7)
        n_rec = (n_kept - 1) // thin + 1
    trace = np.empty((C, n_rec, n))
    etrace = np.empty((C, n_rec))
    wcount = np.zeros(C, dtype=np.int64)
    wmean = np.zeros((C, n))
    wm2 = np.zeros((C, n))
    emean = np.zeros(C)
    em2 = np.zeros(C)
    n_batch = max(1, min(_N_BATCHES, n_kept // 2))
    bcount = np.zeros((C, R, n_batch), dtype=np.int64)
    bmean = np.zeros((C, R, n_batch))
    bm2 = np.zeros((C, R, n_batch))
    swap_acc = np.zeros(max(R - 1, 1), dtype=np.int64)
    swap_try = np.zeros(max(R - 1, 1), dtype=np.int64)

    nb = max(1, min(n_sweeps, _RAND_BLOCK_VALUES // (C * R * n * ncol)))
    tpos = 0
    g0 = 0
    while g0 < n_sweeps:
        b = min(nb, n_sweeps - g0)
        rand = np.empty((C, b, R, n, ncol))
        swap_u = np.empty((C, b, max(R - 1, 1)))
        for c in range(C):
            if gaussian:
                rand[c] = rng_sweep[c].standard_normal((b, R, n, ncol))
            else:
                rand[c] = rng_sweep[c].random((b, R, n, ncol))
            if R > 1:
                swap_u[c] = rng_swap[c].random((b, R - 1))
            else:
                swap_u[c] = 0.0
        status, tpos = gibbs_block(Q, h, code, params, ladder, S, U, rand, swap_u, g0, burn,
                                   thin, target, wcount, wmean, wm2, emean, em2, trace,
                                   etrace, tpos, swap_acc, swap_try, n_kept, bcount, bmean,
                                   bm2)
        if status == BAD_DRAW:
            raise ValueError(f"beta={beta!r}: a Gibbs conditional of prior {prior!r} gave a "
                             "non-finite draw (fields out of range)")
        g0 += b
    if tpos != n_rec:  # pragma: no cover - a kernel bug
        raise RuntimeError(f"recorded {tpos} of {n_rec} trace rows")

    # pool the per-chain Welford accumulators
    k = float(n_kept)
    mean = wmean.mean(axis=0)
    m2 = wm2.sum(axis=0) + k * ((wmean - mean) ** 2).sum(axis=0)
    var = m2 / (C * k - 1)
    e_mean = float(emean.mean())
    ess, rhat = ess_rhat(trace)
    e_ess, e_rhat = ess_rhat(etrace)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var)) and math.isfinite(e_mean)):
        raise ValueError(f"beta={beta!r}: non-finite Gibbs statistics")
    mcse = np.sqrt(var / ess)
    acc = None
    if R > 1:
        acc = swap_acc / np.maximum(swap_try, 1)
    info = {"prior": prior.to_attrs(), "seed_entropy": str(ss.entropy),
            "energy_rhat": e_rhat, "n_recorded": n_rec, "target_index": target}
    th = _ladder_thermo(model, prior, ladder, target, betas is not None, bcount, bmean, bm2)
    info["thermo_reason"] = th.pop("reason")
    info["energy_by_beta"] = th.pop("energy_by_beta")
    info["log_z_trapezoid"] = th.pop("log_z_trapezoid", math.nan)
    return GibbsResult(**th, mean=mean, var=var, ess=ess, rhat=rhat, mcse=mcse,
                       mean_energy=e_mean, energy_ess=e_ess, n_sweeps=n_sweeps,
                       n_chains=C, burn=burn, thin=thin, beta=beta,
                       betas=None if betas is None else ladder, swap_acceptance=acc,
                       trace=trace, energy_trace=etrace, states=S[:, target].copy(),
                       prior=prior, D=model.D, info=info)
