"""Message passing with non-Gaussian priors: TAP-AMP, r-BP and full BP with a
prior's denoiser, held against plain NumPy versions of the same iterations, exact
enumeration, a tree (where BP is exact) and Gibbs sampling."""

import numpy as np
import pytest

import sgphys
from sgphys import Binary, Gaussian, Laplace, SpinModel, Ternary, sample_tasks
from sgphys.kernels import amp as KA


def _model(D, P, prior, seed=0, N=None):
    return SpinModel.from_tasks(sample_tasks(D, N or 2 * D, P, seed=seed), 0.0, prior=prior)


def _amp_reference(model, beta, damping, n_iter, tap=True):
    """Plain NumPy AMP with the prior's (NumPy) denoiser, both means and variances damped."""
    prior = model.prior
    J, h, qd = model.J, model.h, np.diag(model.Q)
    n = model.n_spins
    if prior.discrete:
        v, w = prior.support(), prior.weights()
        m, var = np.full(n, w @ v), np.full(n, w @ (v - w @ v) ** 2)
    else:
        m, var = np.zeros(n), np.minimum(2.0 / (beta * prior.lam1) ** 2, 1.0 / (beta * qd))
    for _ in range(n_iter):
        V = beta ** 2 * (J * J) @ var
        A = beta * qd - V
        B = beta * h + beta * J @ m - (V * m if tap else 0.0)
        um, uv = prior.denoise(A, B, beta)
        m = damping * m + (1 - damping) * um
        var = damping * var + (1 - damping) * uv
    return m, var


@pytest.mark.parametrize("prior", [Binary(0.5), Ternary(1.0, 0.5), Laplace(0.2)],
                         ids=lambda p: p.name)
@pytest.mark.parametrize("tap", [True, False])
def test_amp_prior_kernel_against_numpy(prior, tap):
    model = _model(2, 200, prior)
    beta = 3.0
    ref_m, ref_v = _amp_reference(model, beta, 0.5, 25, tap=tap)
    r = sgphys.solve_amp(model, beta, variant="tap" if tap else "paper", damping=0.5,
                         max_iter=25, tol=1e-300)
    assert r.n_iter == 25 and r.reason == "max_iter"
    np.testing.assert_allclose(r.mean, ref_m, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.var, ref_v, rtol=0, atol=1e-12)


def _rbp_reference(model, beta, n_iter=2000, damping=0.5):
    """Plain NumPy r-BP with full n x n message matrices (``M[k, i] = m_{k->i}``)."""
    prior = model.prior
    n, J, h, qd = model.n_spins, model.J, model.h, np.diag(model.Q)
    off = ~np.eye(n, dtype=bool)
    M = np.zeros((n, n))
    V = np.where(off, 1.0 / (beta * qd.max()), 0.0)
    for _ in range(n_iter):
        A = beta * qd - beta ** 2 * (J ** 2 * V.T).sum(1)
        B = beta * h + beta * (J * M.T).sum(1)
        Acav = A[:, None] + beta ** 2 * J ** 2 * V.T   # [i, j]: i's field without j
        Bcav = B[:, None] - beta * J * M.T
        um, uv = prior.denoise(np.where(off, Acav, 1.0), np.where(off, Bcav, 0.0), beta)
        M = np.where(off, damping * M + (1 - damping) * um, 0.0)
        V = np.where(off, damping * V + (1 - damping) * uv, 0.0)
    A = beta * qd - beta ** 2 * (J ** 2 * V.T).sum(1)
    B = beta * h + beta * (J * M.T).sum(1)
    return prior.denoise(A, B, beta)


@pytest.mark.parametrize("prior", [Ternary(0.5, 0.3), Laplace(0.1)], ids=lambda p: p.name)
def test_rbp_prior_fixed_point_against_numpy(prior):
    model = _model(2, 200, prior, seed=1)
    beta = 10.0
    ref_m, ref_v = _rbp_reference(model, beta)
    r = sgphys.solve_rbp(model, beta)
    assert r.converged, r
    np.testing.assert_allclose(r.mean, ref_m, rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.var, ref_v, rtol=0, atol=1e-9)


@pytest.mark.pinned
@pytest.mark.parametrize("prior", [Ternary(1.0, 0.5), Laplace(0.1)], ids=lambda p: p.name)
def test_prior_solvers_serial_equal_parallel_bit_for_bit(prior):
    from sgphys.solvers import rbp_chunks

    model = _model(15, 2400, prior, seed=2)   # 240 spins: three r-BP row chunks
    assert rbp_chunks(model.n_spins) == 3
    for solve in (sgphys.solve_rbp, sgphys.solve_amp):
        a = solve(model, 5.0, parallel=False)
        b = solve(model, 5.0, parallel=True)
        assert a.converged, a
        assert np.array_equal(a.mean, b.mean) and np.array_equal(a.var, b.var)


def test_gaussian_prior_through_the_denoiser_equals_the_ridge_path():
    """The prior kernel with the Gaussian denoiser (code 0) iterates the equations (docs/model.rst,
    section AMP):
    its fixed point is the ridge solver's (the exact means)."""
    lam, beta = 0.1, 50.0
    model = SpinModel.from_tasks(sample_tasks(3, 12, 200, seed=5), lam)
    ref = sgphys.solve_exact(model, beta)
    n = model.n_spins
    qd = np.diag(model.Q).copy()
    m, v = np.zeros(n), 1.0 / (beta * model.lam_k)
    code, params = Gaussian(lam).kernel_args()
    it, res, reason = KA.amp_solve_prior(model.J, model.h, qd, beta, m, v, True, 0.3, 1e-13,
                                         5000, False, np.empty(0), False, np.empty(0), code,
                                         params)
    assert reason == 0 and it < 5000
    np.testing.assert_allclose(m, ref.mean, rtol=0, atol=1e-9)
    np.testing.assert_allclose(m, sgphys.solve_amp(model, beta, damping=0.3).mean, atol=1e-9)


@pytest.mark.parametrize("prior", [Binary(0.7), Ternary(1.0, 0.4)], ids=lambda p: p.name)
@pytest.mark.parametrize("beta", [1.0, 10.0])
def test_full_bp_is_exact_on_a_tree(prior, beta):
    """D = 1: two spins and one coupling, a tree, where BP's fixed point is the exact
    marginal (enumeration)."""
    model = _model(1, 40, prior, seed=3, N=4)
    ex = sgphys.solve_enumerate(model, beta)
    r = sgphys.solve_bp(model, beta)
    assert r.converged and r.info["grid"] == prior.support().size
    np.testing.assert_allclose(r.mean, ex.mean, atol=1e-10)
    np.testing.assert_allclose(r.var, ex.var, atol=1e-10)


# Accuracy against enumeration at D = 2 (6 spins), beta = 1 and P = 20 n_spins, three seeds:
# benchmarks/priors.py measured mean absolute errors of the means of at most 1.3e-4 (binary)
# and 1.8e-4 (ternary) for every solver (README, "Non-Gaussian weight priors"); bounds 5e-4.
@pytest.mark.parametrize("prior", [Binary(0.5), Ternary(1.0, 0.5)], ids=lambda p: p.name)
@pytest.mark.parametrize("solver", ["amp", "rbp", "bp"])
def test_message_passing_against_enumeration_D2(prior, solver):
    errs = []
    for seed in range(3):
        model = _model(2, 120, prior, seed=seed)
        ex = sgphys.solve_enumerate(model, 1.0)
        r = getattr(sgphys, f"solve_{solver}")(model, 1.0, **({"damping": "auto"}
                                                                if solver == "bp" else {}))
        assert r.converged, r
        errs.append(np.mean(np.abs(r.mean - ex.mean)))
    assert max(errs) < 5e-4, errs


@pytest.mark.parametrize("solver", ["amp", "rbp", "bp"])
def test_ternary_message_passing_against_enumeration_at_beta_10(solver):
    """The README's beta = 10 row for ternary weights at D = 2 (P = 20 n_spins, seeds 0-2):
    mean errors 6.6e-3 / 8.6e-3 / 4.0e-3 on average, at most 1.7e-2 for one seed (r-BP);
    every run converges. Bound 2.5e-2 per seed."""
    for seed in range(3):
        model = _model(2, 120, Ternary(1.0, 0.5), seed=seed)
        ex = sgphys.solve_enumerate(model, 10.0)
        r = getattr(sgphys, f"solve_{solver}")(model, 10.0, **({"damping": "auto"}
                                                                 if solver == "bp" else {}))
        assert r.converged, r
        assert np.mean(np.abs(r.mean - ex.mean)) < 2.5e-2


def test_amp_with_prior_against_gibbs_D5():
    """30 spins, ternary weights, beta = 10: TAP-AMP's means within a few Monte Carlo
    standard errors plus the method's error measured in the README (2e-3 at D = 5)."""
    model = _model(5, 600, Ternary(1.0, 0.5), seed=4)
    g = sgphys.sample_gibbs(model, 10.0, n_sweeps=6000, n_chains=4, seed=0)
    assert np.max(g.rhat) < 1.05
    r = sgphys.solve_amp(model, 10.0)
    assert r.converged
    err = np.abs(r.mean - g.mean)
    assert np.mean(err) < 5e-3 and np.all(err < 4 * g.mcse + 2e-2), (np.mean(err), err.max())


def test_prior_results_keep_the_contract():
    """No silent NaN: a Laplace model whose cavity precision turns negative reports it."""
    model = _model(2, 12, Laplace(0.1))   # P = 2 n_spins: no valid AMP state
    for solve in (sgphys.solve_amp, sgphys.solve_rbp):
        r = solve(model, 10.0)
        assert not r.converged and r.reason == "nonpositive_precision"
        assert np.all(np.isfinite(r.mean)) and np.all(np.isfinite(r.var))
    with pytest.raises(ValueError, match="TAP-AMP"):
        sgphys.solve_bp(model, 10.0)
    # and a run cut short is flagged, with finite values and the prior recorded
    r = sgphys.solve_amp(_model(2, 60, Binary(0.5)), 10.0, max_iter=3)
    assert r.reason == "max_iter" and np.all(np.isfinite(r.mean))
    assert r.info["prior"] == {"prior": "binary", "prior_a": 0.5}


def test_auto_damping_with_a_prior_converges_where_undamped_fails():
    model = _model(2, 120, Binary(0.5), seed=1)
    ex = sgphys.solve_enumerate(model, 10.0)
    undamped = sgphys.solve_amp(model, 10.0, damping=0.0, max_iter=2000)
    auto = sgphys.solve_amp(model, 10.0)
    assert not undamped.converged
    assert auto.converged and auto.info["damping_final"] > 0
    # the fixed point it reaches is TAP's: one more undamped step changes nothing
    assert auto.info["mean_equation_residual"] <= 1e-10
    assert np.mean(np.abs(auto.mean - ex.mean)) < 0.2


def test_frozen_discrete_spins_do_not_break_auto_damping():
    """At large beta a discrete marginal freezes (variance exactly 0); the adaptive
    damping's mu_max estimate (which uses 1/v) must stay finite: regression for a
    LinAlgError from the Lanczos step (helper report, D = 10, binary, beta = 1000)."""
    H, y = sample_tasks(10, 20, 800, seed=0, method="statistics").feature_arrays()
    model = SpinModel.from_arrays(H[:25], y[:25], 0.0, 10, prior=Binary(20 / 31))
    for solve, kw in ((sgphys.solve_amp, {"max_iter": 400}), (sgphys.solve_rbp, {"max_iter": 60})):
        r = solve(model, 1000.0, **kw)
        assert r.reason in ("converged", "max_iter")
        assert np.all(np.isfinite(r.mean)) and np.all(np.isfinite(r.var))
    assert np.min(sgphys.solve_amp(model, 1000.0, max_iter=3).var) == 0.0  # frozen indeed
