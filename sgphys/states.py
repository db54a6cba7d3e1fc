"""Distinct fixed points of the cavity equations, ranked by their free energy.

Where message passing has several fixed points (discrete weights at low temperature), the
equilibrium state is the one of lowest free energy; the others are metastable branches.
:func:`find_states` starts a solver from several initialisations and returns the distinct
certified fixed points it reaches, sorted by the method's own free energy
(``Marginals.free_energy``; docs/thermodynamics.md).
"""

from __future__ import annotations

import numpy as np

from ._validate import (as_generator, check_choice, check_nonnegative_int, check_positive,
                        check_positive_int)
from .spin import check_model

__all__ = ["find_states", "icl_init"]

_SOLVERS = ("tap", "rbp", "bp")


def icl_init(model):
    """Means of the ICL state, ``W11 = c I`` and ``W21 = 0``, with the scale ``c`` that
    minimises the energy along that direction (``c = h.u / u^T Q' u``, ``u`` the spins
    of ``W11 = I``, ``Q'`` the quadratic form with the ridge where the prior has one)."""
    model = check_model(model)
    D, n = model.D, model.n_spins
    u = np.zeros(n)
    u[np.arange(D) * D + np.arange(D)] = 1.0  # s[i*D + j] = W[i, j], W11 = I
    quad = float(u @ model.Q @ u) + model.lam * float(u @ u)
    c = float(model.h @ u) / quad if quad > 0 else 0.0
    return c * u


def _prior_start(model, beta):
    """Initial variances: the prior's own (discrete priors) or ``1/(beta lam_k)``."""
    from .solvers import _has_prior, _prior_moments

    if _has_prior(model):
        pm, pv = _prior_moments(model.prior, beta)
        if model.prior.discrete:
            return pm, np.full(model.n_spins, pv)
        return pm, np.minimum(pv, 1.0 / (beta * np.diag(model.Q)))
    return 0.0, 1.0 / (beta * model.lam_k)


def _random_means(model, rng, sd):
    if model.prior.discrete:
        return rng.choice(model.prior.support(), size=model.n_spins,
                          p=model.prior.weights()).astype(np.float64)
    return rng.standard_normal(model.n_spins) * sd


def find_states(model, beta, solver="tap", seed=0, n_random=4, inits=None, tol=1e-10,
                max_iter=10000, distinct=1e-6, **solver_kw):
    """The distinct certified fixed points of a message-passing solver, lowest free energy
    first.

    Parameters
    ----------
    model : SpinModel
    beta : float > 0
    solver : {"tap", "rbp", "bp"}
        ``solve_amp`` (TAP variant), ``solve_rbp`` or ``solve_bp``.
    seed : int, SeedSequence or Generator
        For the random initialisations.
    n_random : int >= 0
        Random initialisations: means drawn from the prior (discrete priors) or Gaussian of
        the exact solution's scale, variances the prior's.
    inits : sequence of (name, m0) or (name, (m0, v0)), optional
        Further starts, e.g. a neighbouring model's states for a continuation in P.
    tol, max_iter : the solver's.
    distinct : float > 0
        Two fixed points are the same state when their means differ by at most
        ``distinct`` times the largest mean magnitude (or the spins' scale).
    **solver_kw : passed to the solver (damping, ...).

    Returns
    -------
    list of Marginals
        Certified (``converged``) fixed points, one per state, sorted by ascending
        ``free_energy`` (states without one last). ``info["inits"]`` names the starts that
        reached each state. Always starts from the solver's default (the prior), from the
        ICL state (:func:`icl_init`) and from ``n_random`` random means.
    """
    from .solvers import solve_amp, solve_bp, solve_rbp

    model = check_model(model)
    beta = check_positive("beta", beta)
    solver = check_choice("solver", solver, _SOLVERS)
    n_random = check_nonnegative_int("n_random", n_random)
    distinct = check_positive("distinct", distinct)
    max_iter = check_positive_int("max_iter", max_iter)
    rng = as_generator(seed)
    run = {"tap": solve_amp, "rbp": solve_rbp, "bp": solve_bp}[solver]
    _, v0 = _prior_start(model, beta)
    v0 = np.broadcast_to(v0, (model.n_spins,)).astype(np.float64)
    icl = icl_init(model)
    sd = max(float(np.max(np.abs(icl))), 1e-3)
    starts = [("prior", None), ("icl", (icl, v0))]
    starts += [(f"random{k}", (_random_means(model, rng, sd), v0)) for k in range(n_random)]
    for item in inits or ():
        try:
            name, start = item
        except (TypeError, ValueError):
            raise ValueError("inits must hold pairs (name, m0) or (name, (m0, v0))") from None
        if isinstance(start, tuple):
            starts.append((str(name), start))
        else:
            starts.append((str(name), (start, v0)))
    states = []
    for name, init in starts:
        r = run(model, beta, tol=tol, max_iter=max_iter, init=init, **solver_kw)
        if not r.converged:
            continue
        for s in states:
            scale = max(float(np.max(np.abs(s.mean))), float(np.sqrt(np.max(s.var))), 1e-300)
            if np.max(np.abs(s.mean - r.mean)) <= distinct * scale:
                s.info["inits"].append(name)
                break
        else:
            r.info["inits"] = [name]
            states.append(r)
    return sorted(states, key=lambda s: (not np.isfinite(s.free_energy), s.free_energy))
