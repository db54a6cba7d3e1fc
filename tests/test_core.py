"""Core: tasks, the spin mapping and the exact marginals, each against an independent truth."""

import math

import numpy as np
import pytest

import sgphys
from sgphys.tasks import BLOCK


def _random_W(D, rng):
    W = rng.standard_normal((D + 1, D + 1))
    W[:, D] = 0.0
    return W


# -- prediction and spin mapping ------------------------------------------------------------

def test_prediction_equals_explicit_matrix_product():
    rng = np.random.default_rng(3)
    tasks = sgphys.sample_tasks(4, 7, 30, seed=11)
    W = _random_W(4, rng)
    explicit = np.array([((z @ z.T @ W @ z) / 7)[4, 7] for z in tasks.Z])
    H = tasks.features()
    np.testing.assert_allclose(H @ W[:, :4].ravel(), explicit, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sgphys.predict_merged(W, tasks.Z), explicit, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sgphys.features(tasks.Z), H, rtol=0, atol=0)


def test_query_label_is_masked_and_labels_follow_the_task_vector():
    tasks = sgphys.sample_tasks(5, 9, 40, seed=1)
    Z, y, w = tasks.Z, tasks.y, tasks.w
    assert np.all(Z[:, 5, 9] == 0.0)
    np.testing.assert_allclose(Z[:, 5, :9], np.einsum("pd,pdn->pn", w, Z[:, :5, :9]) / math.sqrt(5),
                               atol=1e-13)
    np.testing.assert_allclose(y, np.einsum("pd,pd->p", w, Z[:, :5, 9]) / math.sqrt(5), atol=1e-13)


def test_energy_equals_loss_minus_constant():
    rng = np.random.default_rng(5)
    tasks = sgphys.sample_tasks(3, 10, 50, seed=2)
    model = sgphys.SpinModel.from_tasks(tasks, lam=0.3)
    for _ in range(5):
        W = _random_W(3, rng)
        s = model.to_spins(W)
        expected = model.loss(W) - 0.5 * np.mean(tasks.y ** 2)
        assert abs(model.energy(s) - expected) <= 1e-10 * max(1.0, abs(expected))
    S = rng.standard_normal((4, model.n_spins))
    np.testing.assert_allclose(model.energy(S), [model.energy(s) for s in S], rtol=1e-12)


def test_couplings_fields_and_ridge_definitions():
    tasks = sgphys.sample_tasks(2, 6, 25, seed=9)
    model = sgphys.SpinModel.from_tasks(tasks, lam=0.2)
    H, y = tasks.features(), tasks.y
    Q = H.T @ H / 25
    assert np.array_equal(model.J, model.J.T)
    assert np.all(np.diag(model.J) == 0)
    np.testing.assert_allclose(model.J - np.diag(np.diag(Q)), -Q, atol=1e-14)
    np.testing.assert_allclose(model.h, H.T @ y / 25, atol=1e-14)
    np.testing.assert_allclose(model.lam_k, 0.2 + np.diag(Q), atol=1e-14)
    blocks = model.blocks()
    assert blocks["J1"].shape == (4, 4) and blocks["J2"].shape == (4, 2)
    assert blocks["J3"].shape == (2, 2) and blocks["h1"].shape == (4,) and blocks["h2"].shape == (2,)


def test_spin_layout_round_trip_and_inert_column():
    model = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(3, 5, 10, seed=0), lam=0.1)
    s = np.arange(12.0)
    W = model.to_weights(s)
    assert W[1, 2] == s[1 * 3 + 2] and np.all(W[:, 3] == 0)
    np.testing.assert_array_equal(model.to_spins(W), s)
    W[0, 3] = 1.0
    with pytest.raises(ValueError, match="last column"):
        model.to_spins(W)
    with pytest.raises(ValueError, match="last column"):
        model.loss(W)


# -- exact marginals ----------------------------------------------------------------------

@pytest.mark.parametrize("D,P,lam", [(2, 40, 0.05), (3, 8, 0.5), (4, 200, 1e-3)])
def test_solve_exact_matches_lstsq_and_inverse(D, P, lam):
    tasks = sgphys.sample_tasks(D, 12, P, seed=D + P)
    model = sgphys.SpinModel.from_tasks(tasks, lam)
    H, y, n = tasks.features(), tasks.y, model.n_spins
    # stacked ridge system: min ||y - H s||^2 / (2P) + lam ||s||^2 / 2
    A_stack = np.vstack([H / math.sqrt(P), math.sqrt(lam) * np.eye(n)])
    b_stack = np.concatenate([y / math.sqrt(P), np.zeros(n)])
    m_ref = np.linalg.lstsq(A_stack, b_stack, rcond=None)[0]
    beta = 7.0
    v_ref = np.diag(np.linalg.inv(beta * (H.T @ H / P + lam * np.eye(n))))
    for method in ("cholesky", "dual"):
        r = sgphys.solve_exact(model, beta, method=method)
        scale = max(1.0, np.abs(m_ref).max())
        assert np.abs(r.mean - m_ref).max() <= 1e-8 * scale, method
        np.testing.assert_allclose(r.var, v_ref, rtol=1e-7, err_msg=method)
        assert r.converged and r.reason == "converged" and r.residual < 1e-10
    # means do not depend on beta; variances scale as 1/beta
    r1, r2 = sgphys.solve_exact(model, 1.0), sgphys.solve_exact(model, 100.0)
    np.testing.assert_allclose(r1.mean, r2.mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(r1.var, 100.0 * r2.var, rtol=1e-12)


def test_solve_exact_rejects_improper_measure():
    model = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(3, 10, 5, seed=0), lam=0.0)
    with pytest.raises(ValueError, match="lam"):
        sgphys.solve_exact(model, 1.0)
    with pytest.raises(ValueError, match="beta"):
        sgphys.solve_exact(model, 0.0)


def test_large_P_and_N_reach_the_population_optimum():
    """docs/model.rst (section Transformer): W11 -> N/(N+D+1) I, W21 -> 0, eps_g -> (D+1)/(N+D+1).

    Measured at D=3, N=20, P=40000 over four seeds: |diag - 20/24| <= 0.010, off-diagonal
    and W21 entries <= 0.009, test error within 1.6% of 1/6 (test set 40000). Tolerances
    are three times those: well below the gap 0.17 between N/(N+D+1) and the naive W11 = I.
    """
    D, N = 3, 20
    tasks = sgphys.sample_tasks(D, N, 40000, seed=0)
    model = sgphys.SpinModel.from_tasks(tasks, lam=1e-8)
    W = sgphys.solve_exact(model, 100.0).W
    scale = N / (N + D + 1)
    assert np.abs(np.diag(W)[:D] - scale).max() < 0.03
    assert np.abs(W[:D, :D] - np.diag(np.diag(W[:D, :D]))).max() < 0.03
    assert np.abs(W[D, :D]).max() < 0.03
    eps = sgphys.test_error(W, tasks.test_set(40000))
    assert abs(eps / sgphys.theory_test_error(N, D) - 1.0) < 0.05


def test_contrast_ratio_known_values():
    D = 4
    W = np.zeros((D + 1, D + 1))
    W[:D, :D] = 0.7 * np.eye(D)
    assert sgphys.contrast_ratio(W) == pytest.approx(math.sqrt(D / (D + 1)), rel=1e-14)
    assert sgphys.contrast_ratio(W, block="w11") == pytest.approx(1.0, rel=1e-14)
    W[D, 0] = 0.7 * 2.0  # a weight off the diagonal lowers both
    assert sgphys.contrast_ratio(W) < math.sqrt(D / (D + 1))
    W2 = np.zeros((D + 1, D + 1))
    W2[0, 1] = 1.0
    assert sgphys.contrast_ratio(W2) == 0.0


def test_test_error_equals_direct_mean_squared_error():
    rng = np.random.default_rng(0)
    tasks = sgphys.sample_tasks(3, 8, 60, seed=3)
    W = _random_W(3, rng)
    direct = np.mean((tasks.y - sgphys.predict_merged(W, tasks.Z)) ** 2)
    assert sgphys.test_error(W, tasks) == pytest.approx(direct, rel=1e-12)
    # a stack of weight matrices in one pass, over several feature blocks
    big = sgphys.sample_tasks(3, 8, 2 * sgphys.tasks.BLOCK + 5, seed=4)
    from sgphys.observables.weights import STACK_BLAS

    for k in (3, STACK_BLAS + 1):  # the compiled pass and the BLAS product per block
        Ws = np.stack([_random_W(3, rng) for _ in range(k)])
        stacked = sgphys.test_error(Ws, big)
        assert stacked.shape == (k,)
        for W, e in zip(Ws, stacked):
            direct = np.mean((big.y - sgphys.predict_merged(W, big.Z)) ** 2)
            assert e == pytest.approx(direct, rel=1e-12)
    with pytest.raises(ValueError, match="W must have shape"):
        sgphys.test_error(Ws[:, :3], big)
    with pytest.raises(ValueError, match="overflows"):
        sgphys.test_error(Ws * 1e200, big)


# -- data generation ----------------------------------------------------------------------

@pytest.mark.pinned
def test_same_seed_same_arrays_bit_for_bit():
    a = sgphys.sample_tasks(3, 6, 50, seed=123, corr=0.4, noise=0.1)
    b = sgphys.sample_tasks(3, 6, 50, seed=123, corr=0.4, noise=0.1)
    assert np.array_equal(a.Z, b.Z) and np.array_equal(a.y, b.y) and np.array_equal(a.w, b.w)
    c = sgphys.sample_tasks(3, 6, 50, seed=124, corr=0.4, noise=0.1)
    assert not np.array_equal(a.Z, c.Z)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert np.array_equal(sgphys.sample_tasks(2, 3, 4, seed=g1).Z, sgphys.sample_tasks(2, 3, 4, seed=g2).Z)


def test_blocks_are_chunk_invariant_and_test_set_is_independent():
    P = BLOCK + 300
    tasks = sgphys.sample_tasks(2, 4, P, seed=8)
    H_stream = tasks.features()  # one block of Z at a time
    y_stream = tasks.y.copy()
    fresh = sgphys.sample_tasks(2, 4, P, seed=8)
    np.testing.assert_array_equal(sgphys.features(fresh.Z), H_stream)
    np.testing.assert_array_equal(fresh.y, y_stream)
    # a prefix of a larger set is the smaller set (sequences do not depend on P's blocks)
    small = sgphys.sample_tasks(2, 4, 100, seed=8)
    np.testing.assert_array_equal(small.Z, fresh.Z[:100])
    test = tasks.test_set(100)
    assert test.P == 100 and not np.any(np.isin(test.w, tasks.w))
    assert np.array_equal(test.Z, tasks.test_set(100).Z)


def test_label_noise_has_the_requested_variance():
    clean = sgphys.sample_tasks(4, 50, 2000, seed=2)
    noisy = sgphys.sample_tasks(4, 50, 2000, seed=2, noise=0.5)
    np.testing.assert_array_equal(clean.Z[:, :4], noisy.Z[:, :4])  # tokens share nothing with noise
    diff = noisy.Z[:, 4, :50] - clean.Z[:, 4, :50]
    assert abs(diff.std() - 0.5) < 0.01  # 1e5 draws: sampling error ~0.001


@pytest.mark.parametrize("c", [0.0, 0.3, 0.8])
def test_equicorrelated_tokens_have_correlation_c(c):
    tasks = sgphys.sample_tasks(10, 5, 3000, seed=4, corr=c)
    rows = tasks.Z[:, :10, :].reshape(-1, 6)  # 30000 rows of N+1 tokens
    C = np.corrcoef(rows, rowvar=False)
    off = C[~np.eye(6, dtype=bool)]
    # standard error of a correlation estimate with 3e4 rows is < 0.006
    assert np.abs(off - c).max() < 0.03
    assert np.abs(rows.var(axis=0) - 1.0).max() < 0.04


def test_paper_mode_tokens_have_covariance_LtL():
    c, N = 0.6, 4
    tasks = sgphys.sample_tasks(10, N, 4000, seed=6, corr=c, corr_mode="paper")
    rows = tasks.Z[:, :10, :].reshape(-1, N + 1)
    sigma = (1 - c) * np.eye(N + 1) + c * np.ones((N + 1, N + 1))
    L = np.linalg.cholesky(sigma)
    C = rows.T @ rows / rows.shape[0]
    assert np.abs(C - L.T @ L).max() < 0.05
    assert C[0, 0] == pytest.approx(1 + N * c * c, rel=0.05)  # first token's variance


def test_from_arrays_wraps_user_data_and_masks_query_label():
    src = sgphys.sample_tasks(2, 3, 5, seed=0)
    Z = src.Z.copy()
    Z[:, 2, 3] = 9.0
    t = sgphys.Tasks.from_arrays(Z, src.y)
    assert np.all(t.Z[:, 2, 3] == 0.0)
    np.testing.assert_array_equal(t.features(), src.features())


@pytest.mark.parametrize("D, N, sigma_x, sigma_w, noise", [
    (3, 1, 1.0, 1.0, 0.0), (3, 4, 1.3, 0.7, 0.4), (5, 12, 1.0, 1.0, 0.0)])
def test_statistics_sampler_matches_token_sampler_in_distribution(D, N, sigma_x, sigma_w, noise):
    """The statistics sampler against the independent truth of drawing every token: the
    moments the spin model is built from (Q = <H H^T>, h = <y H>, <y^2>) agree within
    Monte-Carlo error, and each feature's marginal law passes a two-sample KS test."""
    from scipy.stats import ks_2samp

    P = 40_000
    kw = dict(sigma_x=sigma_x, sigma_w=sigma_w, noise=noise)
    a = sgphys.sample_tasks(D, N, P, seed=11, **kw)
    b = sgphys.sample_tasks(D, N, P, seed=12, method="statistics", **kw)
    Ha, Hb = a.features(), b.features()
    ya, yb = a.y, b.y
    for fa, fb in ((Ha[:, :, None] * Ha[:, None, :], Hb[:, :, None] * Hb[:, None, :]),
                   (ya[:, None] * Ha, yb[:, None] * Hb), (ya ** 2, yb ** 2), (Ha, Hb)):
        fa, fb = fa.reshape(P, -1), fb.reshape(P, -1)
        se = np.sqrt(fa.var(axis=0) / P + fb.var(axis=0) / P) + 1e-300
        z = np.abs(fa.mean(axis=0) - fb.mean(axis=0)) / se
        assert z.max() < 5.0, z.max()
    for k in (0, D - 1, D * D, (D + 1) * D - 1):  # x-part and label-part columns
        assert ks_2samp(Ha[:, k], Hb[:, k]).pvalue > 1e-3
    assert ks_2samp(ya, yb).pvalue > 1e-3


def test_statistics_sampler_is_seeded_and_has_no_input_matrices():
    t = sgphys.sample_tasks(4, 6, 2 * BLOCK + 5, seed=3, method="statistics")
    u = sgphys.sample_tasks(4, 6, 2 * BLOCK + 5, seed=3, method="statistics")
    assert np.array_equal(t.features(), u.features()) and np.array_equal(t.y, u.y)
    assert t.method == "statistics" and t.test_set(10).method == "statistics"
    with pytest.raises(ValueError, match="method='statistics'"):
        t.Z
    with pytest.raises(ValueError, match="corr"):
        sgphys.sample_tasks(4, 6, 10, corr=0.2, method="statistics")
    with pytest.raises(ValueError, match="method"):
        sgphys.sample_tasks(4, 6, 10, method="wishart")
    # the test error reads features only: equal to the direct mean squared error
    W = np.random.default_rng(0).standard_normal((5, 5))
    direct = np.mean((t.y - t.features() @ W[:, :4].ravel()) ** 2)
    assert sgphys.test_error(W, t) == pytest.approx(direct, rel=1e-12)


def test_contrast_ratio_equals_the_numpy_cosine():
    rng = np.random.default_rng(3)
    for D in (1, 2, 7, 20):
        W = rng.standard_normal((D + 1, D + 1)) * 10.0 ** rng.integers(-200, 200)
        W[D, D] = 0.0
        for block, V in (("full", W), ("w11", W[:-1, :-1])):
            ref = np.trace(V / abs(V).max()) / (np.linalg.norm(V / abs(V).max())
                                                 * np.sqrt(V.shape[0]))
            assert sgphys.contrast_ratio(W, block=block) == pytest.approx(ref, rel=1e-13)
    with pytest.raises(ValueError, match="zero"):
        sgphys.contrast_ratio(np.diag([0.0, 0.0, 0.0]))


def test_exact_auto_method_picks_the_cheaper_and_well_conditioned_system():
    from sgphys.solvers import DUAL_MAX_FRACTION

    D = 3
    n = D * (D + 1)
    H, y = sgphys.sample_tasks(D, 20, n, seed=5, method="statistics").feature_arrays()
    for P, lam, want in ((int(0.3 * n), 1.0, "dual"), (int(DUAL_MAX_FRACTION * n) + 1, 1.0,
                                                       "cholesky"),
                         (n - 1, 1e-8, "dual"), (n, 1.0, "cholesky")):
        model = sgphys.SpinModel.from_arrays(H[:P], y[:P], lam, D)
        r = sgphys.solve_exact(model, variances=False)
        assert r.info["method"] == want
        # both systems give the ridge solution of the normal equations
        ref = np.linalg.solve(model.Q + lam * np.eye(n), model.h)
        np.testing.assert_allclose(r.mean, ref, rtol=1e-6 if lam < 1e-6 else 1e-10,
                                   atol=1e-12)


def test_single_block_feature_arrays_are_fresh_and_equal_the_features_of_z():
    """A task set of one block hands out its block's arrays without a copy: they equal the
    features of the input matrices, and belong to the caller (writing to them changes
    nothing the task set gives out later)."""
    tasks = sgphys.sample_tasks(3, 6, 40, seed=9)
    assert tasks.n_blocks == 1
    H, y = tasks.feature_arrays()
    np.testing.assert_array_equal(H, sgphys.features(sgphys.sample_tasks(3, 6, 40, seed=9).Z))
    H[:] = 0.0
    y[:] = 0.0
    H2, y2 = tasks.feature_arrays()
    assert np.any(H2 != 0.0) and np.any(y2 != 0.0)
    stats = sgphys.sample_tasks(3, 6, 40, seed=9, method="statistics")
    Hs, ys = stats.feature_arrays()
    kept = sgphys.sample_tasks(3, 6, 40, seed=9, method="statistics").keep()
    np.testing.assert_array_equal(Hs, kept.features())
    np.testing.assert_array_equal(ys, kept.y)
