"""The matrix-free model on the rank-one features (sgphys.factored) against the dense
SpinModel, an independent construction from Z, closed forms, enumeration and a plain NumPy
GAMP."""

import numpy as np
import pytest

import sgphys
from sgphys import Binary, FactoredModel, Laplace, SpinModel, Ternary, sample_tasks
from sgphys.factored import solve_amp_factored, solve_exact_factored, task_factors

TASK_CASES = [
    (2, {"method": "tokens"}),
    (3, {"method": "statistics"}),
    (4, {"method": "tokens", "corr": 0.4}),
    (5, {"method": "tokens", "corr": 0.3, "corr_mode": "paper"}),
    (3, {"method": "statistics", "n_tasks": 5, "noise": 0.2}),
]


def _tasks(D, kw, P=None, N=7, seed=0):
    return sample_tasks(D, N, P or 3 * D * (D + 1), seed=seed, **kw)


def _rel(x, ref):
    return float(np.max(np.abs(x - ref)) / np.max(np.abs(ref)))


@pytest.mark.parametrize("D,kw", TASK_CASES)
def test_factors_reproduce_the_features(D, kw):
    tasks = _tasks(D, kw)
    a, b, y = task_factors(tasks)
    H, y_ref = tasks.feature_arrays()
    np.testing.assert_allclose(np.einsum("pi,pj->pij", a, b).reshape(H.shape), H,
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(y, y_ref)


def test_factors_of_user_arrays_and_kept_task_sets():
    tokens = sample_tasks(3, 5, 30, seed=2)
    user = sgphys.Tasks.from_arrays(tokens.Z, tokens.y)
    for tasks in (user, sample_tasks(3, 5, 2100, seed=2, method="statistics").keep()):
        a, b, y = task_factors(tasks)
        H, y_ref = tasks.feature_arrays()
        np.testing.assert_allclose(np.einsum("pi,pj->pij", a, b).reshape(H.shape), H,
                                   rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(y, y_ref)


@pytest.mark.parametrize("corr", [0.0, 0.5])
def test_factors_from_Z_directly(corr):
    """Independent construction from the input matrices: a = (1/N) sum_n y_n Z[:, n],
    b = x_q, and Q, h, diag Q, energy from the explicit outer products."""
    D, N = 3, 6
    tasks = sample_tasks(D, N, 40, seed=3, corr=corr)
    Z, y = tasks.Z, tasks.y
    a = np.stack([sum(Z[m, D, k] * Z[m, :, k] for k in range(N)) / N for m in range(40)])
    b = Z[:, :D, N]
    H = np.stack([np.outer(a[m], b[m]).ravel() for m in range(40)])
    Q, h = H.T @ H / 40, H.T @ y / 40
    fm = FactoredModel.from_tasks(tasks, 0.2)
    np.testing.assert_allclose(fm.a, a, rtol=1e-12)
    np.testing.assert_allclose(fm.b, b, rtol=0, atol=0)
    s = np.random.default_rng(0).standard_normal(fm.n_spins)
    np.testing.assert_allclose(fm.Q_matvec(s), Q @ s, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(fm.h, h, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fm.diag_Q, np.diag(Q), rtol=1e-12)
    e = 0.5 * s @ Q @ s - h @ s + 0.1 * s @ s
    assert fm.energy(s) == pytest.approx(e, rel=1e-12)
    # the energy is the loss minus its constant
    loss = 0.5 * np.mean((y - H @ s) ** 2) + 0.1 * s @ s
    assert fm.energy(s) + fm.energy_offset == pytest.approx(loss, rel=1e-12)


@pytest.mark.parametrize("D,kw", TASK_CASES)
def test_operations_equal_the_dense_model(D, kw):
    tasks = _tasks(D, kw)
    fm = FactoredModel.from_tasks(tasks, 0.05)
    sm = SpinModel.from_tasks(tasks, 0.05)
    assert (fm.D, fm.n_spins, fm.P, fm.lam) == (sm.D, sm.n_spins, sm.P, sm.lam)
    assert fm.prior == sm.prior
    rng = np.random.default_rng(1)
    S = rng.standard_normal((3, fm.n_spins))
    scale = np.max(np.abs(sm.Q))
    for s in S:
        np.testing.assert_allclose(fm.Q_matvec(s), sm.Q @ s, rtol=0, atol=1e-13 * scale * 10)
        np.testing.assert_allclose(fm.J_matvec(s), sm.J @ s, rtol=0, atol=1e-13 * scale * 10)
    np.testing.assert_allclose(fm.h, sm.h, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fm.diag_Q, np.diag(sm.Q), rtol=1e-12)
    np.testing.assert_allclose(fm.lam_k, sm.lam_k, rtol=1e-12)
    np.testing.assert_allclose(fm.energy(S), sm.energy(S), rtol=1e-11)
    assert fm.energy(S[0]) == pytest.approx(sm.energy(S[0]), rel=1e-11)
    assert fm.energy_offset == pytest.approx(sm.energy_offset, rel=1e-12)
    dense = fm.to_dense()
    assert isinstance(dense, SpinModel)
    np.testing.assert_allclose(dense.Q, sm.Q, rtol=0, atol=1e-13 * scale)
    np.testing.assert_allclose(dense.h, sm.h, rtol=1e-12, atol=1e-15)


def test_chunked_products_do_not_depend_on_the_chunk():
    fm = FactoredModel.from_tasks(_tasks(3, {"method": "statistics"}, P=500), 0.1)
    s = np.random.default_rng(2).standard_normal(fm.n_spins)
    whole = fm.Q_matvec(s)
    fm._chunk = 7
    np.testing.assert_allclose(fm.Q_matvec(s), whole, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(fm.features_matvec(s),
                               fm.to_dense().H @ s, rtol=1e-12, atol=1e-14)


def test_preconditioner_is_the_kronecker_inverse():
    fm = FactoredModel.from_tasks(_tasks(3, {"method": "tokens"}), 0.3)
    R = np.random.default_rng(4).standard_normal((4, 3))
    M = np.kron(fm.a.T @ fm.a, fm.b.T @ fm.b) / fm.P ** 2 + 0.3 * np.eye(12)
    np.testing.assert_allclose(fm.precondition(R).ravel(), np.linalg.solve(M, R.ravel()),
                               rtol=1e-10)


def test_validation_names_the_argument():
    rng = np.random.default_rng(0)
    a, b, y = rng.standard_normal((10, 4)), rng.standard_normal((10, 3)), rng.standard_normal(10)
    FactoredModel.from_factors(a, b, y, 0.1)  # fine
    with pytest.raises(ValueError, match=r"a must have 2 dimensions, got shape \(40,\)"):
        FactoredModel.from_factors(a.ravel(), b, y, 0.1)
    with pytest.raises(ValueError, match=r"b must have shape \(10, 3\), got \(10, 4\)"):
        FactoredModel.from_factors(a, a, y, 0.1)
    with pytest.raises(ValueError, match=r"y must have shape \(10,\), got \(9,\)"):
        FactoredModel.from_factors(a, b, y[:9], 0.1)
    with pytest.raises(ValueError, match="a must be a real .*dtype complex128"):
        FactoredModel.from_factors(a + 1j, b, y, 0.1)
    with pytest.raises(ValueError, match=r"a must have shape \(P, D\+1\)"):
        FactoredModel.from_factors(a[:, :1], b[:, :0], y, 0.1)
    bad = b.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="b contains NaN"):
        FactoredModel.from_factors(a, bad, y, 0.1)
    with pytest.raises(ValueError, match="lam"):
        FactoredModel.from_factors(a, b, y, -1.0)
    with pytest.raises(ValueError, match="non-Gaussian prior"):
        FactoredModel.from_factors(a, b, y, 0.1, prior=Binary(1.0))
    with pytest.raises(ValueError, match="tasks must be a Tasks"):
        FactoredModel.from_tasks(a, 0.1)
    fm = FactoredModel.from_factors(a, b, y, 0.1)
    with pytest.raises(ValueError, match=r"s must have shape \(12,\), got \(11,\)"):
        fm.Q_matvec(np.zeros(11))
    with pytest.raises(ValueError, match="s must have shape"):
        fm.energy(np.zeros((2, 3, 12)))
    with pytest.raises(ValueError, match="model must be a FactoredModel"):
        solve_exact_factored(fm.to_dense())
    with pytest.raises(ValueError, match="Gaussian prior"):
        solve_exact_factored(FactoredModel.from_factors(a, b, y, 0.0, prior="binary"))
    for kw, name in (({"beta": 0.0}, "beta"), ({"tol": -1.0}, "tol"),
                     ({"max_iter": 0}, "max_iter"), ({"variances": 1}, "variances")):
        with pytest.raises(ValueError, match=name):
            solve_exact_factored(fm, **kw)
    for kw, name in (({"damping": 1.0}, "damping"), ({"init": (np.zeros(12), -np.ones(12))},
                                                     r"init\[1\]")):
        with pytest.raises(ValueError, match=name):
            solve_amp_factored(fm, **kw)


@pytest.mark.parametrize("D,kw", TASK_CASES)
def test_exact_means_equal_the_dense_solve(D, kw):
    tasks = _tasks(D, kw)
    fm = FactoredModel.from_tasks(tasks, 0.01)
    r = solve_exact_factored(fm, 50.0)
    ex = sgphys.solve_exact(SpinModel.from_tasks(tasks, 0.01), 50.0)
    assert r.converged and r.reason == "converged" and r.solver == "exact_cg"
    assert r.D == D and 0 < r.n_iter <= fm.n_spins + 5 and r.residual <= 1e-10
    assert _rel(r.mean, ex.mean) < 1e-8
    assert np.all(np.isnan(r.var)) and r.info["variances"] is False
    # the residual certificate is recomputed from the means
    Am = fm.precision_matvec(r.mean)
    assert np.max(np.abs(Am - fm.h)) / max(np.max(np.abs(Am)), np.max(np.abs(fm.h))) <= 1e-10


def test_exact_residual_is_scale_invariant_and_lam_zero_works():
    tasks = _tasks(3, {"method": "statistics"}, P=200)
    a, b, y = task_factors(tasks)
    ex = np.linalg.solve(FactoredModel.from_factors(a, b, y, 0.0).to_dense().Q,
                         FactoredModel.from_factors(a, b, y, 0.0).h)
    for scale in (1e-6, 1.0, 1e6):  # targets scaled: means scale, iterations do not change
        r = solve_exact_factored(FactoredModel.from_factors(a, b, scale * y, 0.0))
        assert r.converged and _rel(r.mean, scale * ex) < 1e-8


def test_exact_reports_max_iter_and_improper_measures():
    fm = FactoredModel.from_tasks(_tasks(4, {"method": "tokens"}), 1e-3)
    r = solve_exact_factored(fm, max_iter=2)
    assert not r.converged and r.reason == "max_iter" and r.n_iter == 2
    assert r.residual > 1e-10 and np.all(np.isfinite(r.mean))
    small = FactoredModel.from_tasks(_tasks(4, {"method": "tokens"}, P=10), 0.0)
    with pytest.raises(ValueError, match="improper"):
        solve_exact_factored(small)


def test_variance_estimate_is_unbiased_within_its_standard_error():
    tasks = _tasks(3, {"method": "tokens"}, P=60)
    fm = FactoredModel.from_tasks(tasks, 0.05)
    ex = sgphys.solve_exact(fm.to_dense(), 20.0)
    r = solve_exact_factored(fm, 20.0, variances=True, n_probes=200, seed=1)
    err = r.info["var_err"]
    assert err.shape == (fm.n_spins,) and np.all(err > 0) and r.info["probes_converged"]
    z = (r.var - ex.var) / err
    assert np.max(np.abs(z)) < 5.0, z
    assert np.max(err / ex.var) < 0.2
    again = solve_exact_factored(fm, 20.0, variances=True, n_probes=200, seed=1)
    np.testing.assert_array_equal(again.var, r.var)
    other = solve_exact_factored(fm, 20.0, variances=True, n_probes=200, seed=2)
    assert not np.array_equal(other.var, r.var)
    np.testing.assert_array_equal(other.mean, r.mean)


@pytest.mark.parametrize("D,damping", [(3, "auto"), (5, "auto"), (5, 0.5)])
def test_gamp_gaussian_fixed_point_is_exact(D, damping):
    tasks = _tasks(D, {"method": "statistics"}, P=4 * D * (D + 1), N=2 * D, seed=1)
    fm = FactoredModel.from_tasks(tasks, 0.01)
    r = solve_amp_factored(fm, 100.0, damping=damping)
    ex = sgphys.solve_exact(fm.to_dense(), 100.0)
    assert r.converged and r.solver == "gamp" and r.D == D
    assert r.info["mean_equation_residual"] <= 1e-10
    assert _rel(r.mean, ex.mean) < 1e-8
    assert np.all(r.var > 0)


def _numpy_gamp(model, beta, n_iter):
    """Plain undamped sum-product GAMP on the dense features H with the NumPy denoiser."""
    H = model.to_dense().H
    P = H.shape[0]
    S = H * H
    prior = model.prior
    v, w = prior.support(), prior.weights()
    x = np.full(H.shape[1], w @ v)
    tx = np.full(H.shape[1], w @ (v - w @ v) ** 2)
    g = np.zeros(P)
    for _ in range(n_iter):
        tp = S @ tx
        p = H @ x - tp * g
        g = (model.y - p) / (P / beta + tp)
        A = S.T @ (1.0 / (P / beta + tp))
        x, tx = prior.denoise(A, A * x + H.T @ g, beta)
    return x, tx


def test_gamp_with_a_prior_matches_a_plain_numpy_gamp():
    fm = FactoredModel.from_tasks(_tasks(3, {"method": "tokens"}, P=240, N=6), 0.0,
                                  prior=Ternary(1.0, 0.5))
    r = solve_amp_factored(fm, 1.0, damping=0.0)
    x, tx = _numpy_gamp(fm, 1.0, r.n_iter + 50)
    assert r.converged
    np.testing.assert_allclose(r.mean, x, rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.var, tx, rtol=1e-8)


# D = 5, P = 20 n_spins, N = 2D, seeds 0-2 (docs/scale.md): GAMP and TAP means differ by
# 1.6e-5 - 5.8e-5 (binary), 1.3e-5 - 3.8e-5 (ternary), 4.4e-4 - 7.6e-4 (Laplace) on average
# at beta = 1 and by 2.3e-4 - 6.7e-4 (ternary, Laplace) at beta = 10; bound 2e-3.
@pytest.mark.parametrize("prior,beta", [(Binary(0.5), 1.0), (Ternary(1.0, 0.5), 1.0),
                                        (Laplace(0.2), 1.0), (Ternary(1.0, 0.5), 10.0),
                                        (Laplace(0.2), 10.0)], ids=str)
def test_gamp_with_priors_agrees_with_dense_tap(prior, beta):
    fm = FactoredModel.from_tasks(sample_tasks(5, 10, 600, seed=0), 0.0, prior=prior)
    r = solve_amp_factored(fm, beta)
    tap = sgphys.solve_amp(fm.to_dense(), beta)
    assert r.converged and tap.converged
    assert r.info["prior"] == prior.to_attrs()
    assert np.mean(np.abs(r.mean - tap.mean)) < 2e-3


# D = 2, P = 20 n_spins, beta = 1, seeds 0-2: mean absolute error of GAMP's means against
# enumeration 1.7e-4 - 1.6e-3 (binary), 1.5e-4 - 6.8e-4 (ternary); TAP's 9e-6 - 4.6e-4.
@pytest.mark.parametrize("prior", [Binary(0.5), Ternary(1.0, 0.5)], ids=lambda p: p.name)
def test_gamp_against_enumeration_D2(prior):
    for seed in range(3):
        fm = FactoredModel.from_tasks(sample_tasks(2, 4, 120, seed=seed), 0.0, prior=prior)
        ex = sgphys.solve_enumerate(fm.to_dense(), 1.0)
        r = solve_amp_factored(fm, 1.0)
        assert r.converged
        assert np.mean(np.abs(r.mean - ex.mean)) < 5e-3


def test_gamp_reports_max_iter_and_history():
    fm = FactoredModel.from_tasks(sample_tasks(3, 6, 240, seed=0), 0.0, prior=Binary(0.5))
    r = solve_amp_factored(fm, 10.0, max_iter=3, history=True)
    assert not r.converged and r.reason == "max_iter" and r.n_iter == 3
    assert r.history.shape == (3,) and np.all(np.isfinite(r.mean))
    full = solve_amp_factored(fm, 10.0, init=(r.mean, r.var))
    assert full.converged


def test_public_export():
    assert sgphys.FactoredModel is FactoredModel
    assert "FactoredModel" in sgphys.__all__


def test_solvers_dispatch_a_factored_model():
    """solve_exact and solve_amp take a FactoredModel through their own signatures."""
    tasks = sgphys.sample_tasks(3, 12, 120, seed=21)
    fm = sgphys.FactoredModel.from_tasks(tasks, 0.2)
    dense = sgphys.solve_exact(fm.to_dense(), 50.0)
    r = sgphys.solve_exact(fm, 50.0)
    assert r.converged and r.solver == "exact_cg" and r.beta == 50.0
    assert np.all(np.isnan(r.var))  # variances only when asked: probing costs CG solves
    assert np.max(np.abs(r.mean - dense.mean)) <= 1e-8 * np.max(np.abs(dense.mean))
    assert np.isnan(r.log_z) and "thermo_reason" in r.info
    g = sgphys.solve_amp(fm, 50.0)
    assert g.converged and g.solver == "gamp"
    assert np.max(np.abs(g.mean - dense.mean)) <= 1e-8 * np.max(np.abs(dense.mean))
    with pytest.raises(ValueError, match="variant"):
        sgphys.solve_amp(fm, 50.0, variant="paper")
    with pytest.raises(ValueError, match="method"):
        sgphys.solve_exact(fm, 50.0, method="cholesky")
    with pytest.raises(ValueError, match="unexpected"):
        sgphys.solve_exact(fm.to_dense(), 50.0, n_probes=3)
