"""Bayes-optimal baselines (sgphys.baselines): ridge (Gaussian task prior) and dMMSE (task
pool), each against an independent truth: brute-force posteriors written out prompt by
prompt, closed-form Bayes risks, the orthogonality of the posterior mean's error to every
other predictor, and the spin model's exact solution in the limit where they coincide."""

import math

import numpy as np
import pytest

import sgphys
from sgphys import baselines
from sgphys.baselines import dmmse_predict, mean_squared_error, ridge_predict

# -- independent references ------------------------------------------------------------------


def _split(Z):
    D, N = Z.shape[1] - 1, Z.shape[2] - 1
    return Z[:, :D, :N].transpose(0, 2, 1), Z[:, D, :N], Z[:, :D, N]  # X (P,N,D), y, x_q


def ridge_weight_space(Z, noise, sigma_w):
    """Gaussian posterior of w by Bayes' formula, one prompt at a time, with explicit
    inverses: precision X^T X / (D noise^2) + I / sigma_w^2, mean Cov X^T y / (sqrt(D)
    noise^2); returns the predictive mean and variance of y_q (noise > 0 only)."""
    X, Y, XQ = _split(Z)
    D = X.shape[2]
    mean, var = [], []
    for x, y, xq in zip(X, Y, XQ):
        cov = np.linalg.inv(x.T @ x / (D * noise ** 2) + np.eye(D) / sigma_w ** 2)
        mw = cov @ x.T @ y / (math.sqrt(D) * noise ** 2)
        mean.append(xq @ mw / math.sqrt(D))
        var.append(noise ** 2 + xq @ cov @ xq / D)
    return np.array(mean), np.array(var)


def ridge_function_space(Z, noise, sigma_w):
    """The same posterior as Gaussian conditioning of the labels: (y, y_q) given the tokens
    is jointly Gaussian with Cov(y, y) = sigma_w^2 X X^T / D + noise^2 I; pinv makes
    noise = 0 (a singular label covariance) the same formula."""
    X, Y, XQ = _split(Z)
    D = X.shape[2]
    mean, var = [], []
    for x, y, xq in zip(X, Y, XQ):
        kcc = sigma_w ** 2 * x @ x.T / D + noise ** 2 * np.eye(len(y))
        kqc = sigma_w ** 2 * x @ xq / D
        kqq = sigma_w ** 2 * xq @ xq / D + noise ** 2
        inv = np.linalg.pinv(kcc, rcond=1e-12, hermitian=True)
        mean.append(kqc @ inv @ y)
        var.append(kqq - kqc @ inv @ kqc)
    return np.array(mean), np.array(var)


def dmmse_loop(Z, pool, noise):
    """Posterior over the pool written out: Python loops over prompts and pool tasks, the
    log-weights, np.exp after subtracting the max, normalised."""
    X, Y, XQ = _split(Z)
    D = X.shape[2]
    out = []
    for x, y, xq in zip(X, Y, XQ):
        logw = np.empty(len(pool))
        for k, wk in enumerate(pool):
            res = [y[n] - x[n] @ wk / math.sqrt(D) for n in range(len(y))]
            logw[k] = -sum(r * r for r in res) / (2 * noise ** 2)
        p = np.exp(logw - logw.max())
        p /= p.sum()
        out.append(sum(p[k] * (xq @ pool[k]) / math.sqrt(D) for k in range(len(pool))))
    return np.array(out)


def pool_prompts(rng, pool, N, P, noise):
    """P prompts whose task is drawn uniformly from ``pool`` (docs/model.rst, section Data
    otherwise), built here
    (task pools in sample_tasks are not built yet)."""
    K, D = pool.shape
    w = pool[rng.integers(0, K, size=P)]
    X = rng.standard_normal((P, D, N + 1))
    labels = np.einsum("pd,pdn->pn", w, X) / math.sqrt(D) + noise * rng.standard_normal((P, N + 1))
    Z = np.empty((P, D + 1, N + 1))
    Z[:, :D] = X
    Z[:, D, :N] = labels[:, :N]
    Z[:, D, N] = 0.0
    return Z, labels[:, N].copy()


def mp_bayes_risk(alpha, rho):
    """Large-D Bayes risk of ridge for sigma_w = sigma_x = 1 at N = alpha D, noise^2 = rho:
    rho (1 + m(-rho)) with m the Stieltjes transform of X^T X / D (Marchenko-Pastur)."""
    gamma, z = 1.0 / alpha, -rho / alpha  # X^T X / N has MP(gamma); X^T X / D = alpha * it
    a, b = gamma * z, z - 1.0 + gamma  # a m^2 + b m + 1 = 0, the positive root
    roots = np.roots([a, b, 1.0])
    m_s = float(max(r.real for r in roots))
    return rho * (1.0 + m_s / alpha)


def se(x):
    return float(np.std(x) / math.sqrt(len(x)))


# -- ridge against brute force ------------------------------------------------------------------


@pytest.mark.parametrize("N", [2, 4, 9])  # N < D, N = D, N > D at D = 4
def test_ridge_matches_bayes_formula_prompt_by_prompt(N):
    tasks = sgphys.sample_tasks(4, N, 7, seed=N, noise=0.3, sigma_w=0.7)
    mean, var = ridge_predict(tasks.Z, noise=0.3, sigma_w=0.7, return_var=True)
    ref_m, ref_v = ridge_weight_space(tasks.Z, 0.3, 0.7)
    fs_m, fs_v = ridge_function_space(tasks.Z, 0.3, 0.7)
    np.testing.assert_allclose(ref_m, fs_m, rtol=1e-9, atol=1e-12)  # the two references agree
    np.testing.assert_allclose(ref_v, fs_v, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mean, ref_m, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(var, ref_v, rtol=1e-10, atol=1e-12)
    # a Tasks reads its own generation noise and sigma_w
    np.testing.assert_allclose(ridge_predict(tasks), mean, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("N", [2, 4, 9])
def test_ridgeless_is_the_pseudo_inverse_limit(N):
    tasks = sgphys.sample_tasks(4, N, 7, seed=10 + N)
    mean, var = ridge_predict(tasks.Z, noise=0.0, return_var=True)
    fs_m, fs_v = ridge_function_space(tasks.Z, 0.0, 1.0)
    np.testing.assert_allclose(mean, fs_m, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(var, np.maximum(fs_v, 0.0), atol=1e-9)
    X, Y, XQ = _split(tasks.Z)
    mn = np.array([xq @ np.linalg.pinv(x) @ y for x, y, xq in zip(X, Y, XQ)])
    np.testing.assert_allclose(mean, mn, rtol=1e-9, atol=1e-12)  # min-norm / least squares
    # continuity: a tiny noise gives (nearly) the same predictions
    np.testing.assert_allclose(ridge_predict(tasks.Z, noise=1e-6), mean, rtol=1e-6, atol=1e-8)
    if N >= 4:  # noise-free labels with N >= D are interpolated exactly
        np.testing.assert_allclose(mean, tasks.y, rtol=1e-9, atol=1e-10)
        assert np.all(var < 1e-12)


def test_ridgeless_handles_rank_deficient_contexts():
    """Repeated tokens (rank 1 < N, D): the SVD path gives the min-norm answer, no NaN."""
    rng = np.random.default_rng(0)
    D, N = 3, 5
    Z = np.zeros((2, D + 1, N + 1))
    x = rng.standard_normal(D)
    Z[:, :D, :N] = x[:, None]
    Z[:, D, :N] = 0.8
    Z[:, :D, N] = rng.standard_normal((2, D))
    got = ridge_predict(Z)
    want = [Z[p, :D, N] @ np.linalg.pinv(Z[p, :D, :N].T) @ Z[p, D, :N] for p in range(2)]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_ridge_chunking_does_not_change_the_answer(monkeypatch):
    tasks = sgphys.sample_tasks(3, 6, 50, seed=3, noise=0.2)
    full = ridge_predict(tasks, return_var=True)
    monkeypatch.setattr(baselines, "CHUNK_ENTRIES", 100)
    chunked = ridge_predict(tasks, return_var=True)
    for a, b in zip(full, chunked):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# -- dMMSE against brute force ------------------------------------------------------------------


@pytest.mark.parametrize("noise", [0.5, 1e-3, 0.0])
def test_dmmse_pool_of_one_returns_that_tasks_prediction(noise):
    tasks = sgphys.sample_tasks(5, 8, 30, seed=4, noise=0.5)  # contexts from other tasks
    pool = np.random.default_rng(1).standard_normal((1, 5))
    got, weights = dmmse_predict(tasks, pool, noise=noise, return_weights=True)
    np.testing.assert_array_equal(weights, 1.0)
    np.testing.assert_allclose(got, tasks.Z[:, :5, 8] @ pool[0] / math.sqrt(5),
                               rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("N", [1, 6])
def test_dmmse_matches_explicit_posterior(N):
    tasks = sgphys.sample_tasks(3, N, 9, seed=5 + N, noise=0.7)
    pool = np.random.default_rng(N).standard_normal((5, 3))
    got, weights = dmmse_predict(tasks.Z, pool, noise=0.7, return_weights=True)
    np.testing.assert_allclose(got, dmmse_loop(tasks.Z, pool, 0.7), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(dmmse_predict(tasks, pool), got)  # Tasks' own noise


def test_dmmse_is_stable_when_naive_exp_underflows():
    """Tiny assumed noise, far-off pool tasks: the log-weights are about -1e6, exp of them
    underflows to 0 for every task and the naive softmax is 0/0."""
    tasks = sgphys.sample_tasks(4, 10, 20, seed=6, noise=0.5)
    pool = 3.0 * np.random.default_rng(2).standard_normal((6, 4))
    noise = 1e-3
    X, Y, _ = _split(tasks.Z)
    logw = -(((Y[:, None, :] - np.einsum("pnd,kd->pkn", X, pool) / 2.0) ** 2).sum(-1)
             / (2 * noise ** 2))
    assert logw.max() < -1000  # the regime: every weight underflows
    with np.errstate(invalid="ignore", divide="ignore"):
        naive = np.exp(logw) / np.exp(logw).sum(axis=1, keepdims=True)
    assert np.isnan(naive).all()
    got = dmmse_predict(tasks.Z, pool, noise=noise)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, dmmse_loop(tasks.Z, pool, noise), rtol=1e-12, atol=1e-14)
    # here the posterior is a hard max: the same as the noise = 0 limit
    np.testing.assert_allclose(got, dmmse_predict(tasks.Z, pool, noise=0.0), rtol=1e-12)


def test_dmmse_noise_zero_is_the_argmin_and_identifies_pool_tasks():
    rng = np.random.default_rng(7)
    pool = rng.standard_normal((4, 5))
    # a duplicate one ulp away: a tie at rounding level, shared equally
    pool = np.concatenate([pool, np.nextafter(pool[:1], np.inf)])
    Z, yq = pool_prompts(rng, pool, 6, 40, noise=0.0)
    got, weights = dmmse_predict(Z, pool, noise=0.0, return_weights=True)
    np.testing.assert_allclose(got, yq, rtol=1e-12, atol=1e-12)  # the true task, found
    X, Y, _ = _split(Z)
    sq = ((Y[:, None, :] - np.einsum("pnd,kd->pkn", X, pool) / math.sqrt(5)) ** 2).sum(-1)
    best = sq.argmin(axis=1)
    for p in range(40):
        expect = np.zeros(5)
        ties = [best[p]] + ([4] if best[p] == 0 else [0] if best[p] == 4 else [])
        expect[ties] = 1.0 / len(ties)
        np.testing.assert_allclose(weights[p], expect, atol=1e-15)


def test_dmmse_chunking_does_not_change_the_answer(monkeypatch):
    tasks = sgphys.sample_tasks(3, 6, 50, seed=8, noise=0.4)
    pool = np.random.default_rng(3).standard_normal((7, 3))
    full = dmmse_predict(tasks, pool)
    monkeypatch.setattr(baselines, "CHUNK_ENTRIES", 60)
    np.testing.assert_allclose(dmmse_predict(tasks, pool), full, rtol=1e-13, atol=1e-15)


# -- Bayes risk ------------------------------------------------------------------------------


def test_ridgeless_risk_below_d_is_the_unseen_fraction():
    """noise = 0, N < D: the Bayes risk is sigma_w^2 sigma_x^2 (D - N) / D exactly (the query's
    component outside the context's span is unpredictable)."""
    D, N, sw, sx = 10, 4, 1.3, 0.8
    tasks = sgphys.sample_tasks(D, N, 20000, seed=9, sigma_w=sw, sigma_x=sx)
    yhat, var = ridge_predict(tasks, return_var=True)
    err = (tasks.y - yhat) ** 2
    exact = sw ** 2 * sx ** 2 * (D - N) / D
    assert abs(err.mean() - exact) < 4 * se(err)
    assert abs(var.mean() - exact) < 4 * se(var)


@pytest.mark.parametrize("D,N", [(30, 15), (30, 60)])
def test_ridge_risk_matches_posterior_variance_and_marchenko_pastur(D, N):
    """Monte Carlo MSE = mean predictive variance (the posterior's own Bayes risk, from the
    explicit-inverse formula), and both match the large-D Marchenko-Pastur value
    noise^2 (1 + m(-noise^2)) to within its 1/D corrections (measured < 1% at D = 30)."""
    noise = 0.6
    tasks = sgphys.sample_tasks(D, N, 6000, seed=D + N, noise=noise)
    yhat = ridge_predict(tasks)
    err = (tasks.y - yhat) ** 2
    _, var = ridge_weight_space(tasks.Z[:300], noise, 1.0)
    _, var_all = ridge_predict(tasks, return_var=True)
    np.testing.assert_allclose(var_all[:300], var, rtol=1e-10)
    assert abs(err.mean() - var_all.mean()) < 4 * se(err)
    mp = mp_bayes_risk(N / D, noise ** 2)
    assert abs(var_all.mean() - mp) < 0.02 * mp
    # bracketed by the noise floor and ordinary least squares' risk (N > D + 1)
    assert noise ** 2 < err.mean()
    if N > D + 1:
        assert err.mean() < noise ** 2 * (1 + D / (N - D - 1))


def test_ridge_is_bayes_optimal_against_spin_model_and_dmmse():
    """On fresh Gaussian tasks ridge beats the exact spin-model solution at small P and
    dMMSE with a random pool, and, being the posterior mean, its error is orthogonal to
    every other predictor's deviation from it: MSE(f) - MSE(ridge) = mean (f - ridge)^2."""
    D, N, noise = 5, 10, 0.4
    train = sgphys.sample_tasks(D, N, 100, seed=11, noise=noise)
    W = sgphys.solve_exact(sgphys.SpinModel.from_tasks(train, 1e-3), 100.).W
    test = train.test_set(8000)
    yr = ridge_predict(test)
    e_ridge = mean_squared_error(yr, test)
    others = {
        "spin": (sgphys.test_error(W, test), sgphys.predict_merged(W, test.Z)),
        "dmmse": (None, dmmse_predict(test, np.random.default_rng(4).standard_normal((8, D)))),
    }
    for name, (e_other, yo) in others.items():
        e_mse = mean_squared_error(yo, test)
        if e_other is not None:
            assert e_other == pytest.approx(e_mse, rel=1e-12)  # test_error agrees
        assert e_ridge < e_mse, name
        # MSE(f) - MSE(ridge) - mean (f - ridge)^2 is this cross term's mean: zero in
        # expectation for the posterior mean only
        cross = 2 * (test.y - yr) * (yr - yo)
        assert abs(cross.mean()) < 4 * se(cross), name


def test_spin_model_approaches_ridge_as_n_grows():
    """The spin model's exact solution is the optimal linear attention, not the Bayes
    estimator; with many training prompts they coincide only as N -> inf. Expansion of
    (X^T X)^{-1} about I/N gives mean (yhat_spin - yhat_ridge)^2 ~ (D+1) sigma_w^2
    sigma_x^2 / N, and by orthogonality the test-error gap is the same. Measured (D=3,
    noise 0.5, P=2e5, lam=1e-6): N * gap = 3.8-4.3 at N = 128..2048, SE about 0.2."""
    D, noise = 3, 0.5
    msd, gap = {}, {}
    for N in (8, 32, 512):
        train = sgphys.sample_tasks(D, N, 100_000, seed=12, noise=noise, method="statistics")
        W = sgphys.solve_exact(sgphys.SpinModel.from_tasks(train, 1e-6), 100.).W
        test = sgphys.sample_tasks(D, N, 4000, seed=13, noise=noise)
        yr = ridge_predict(test)
        msd[N] = float(np.mean((sgphys.predict_merged(W, test.Z) - yr) ** 2))
        gap[N] = sgphys.test_error(W, test) - mean_squared_error(yr, test)
    assert msd[8] > msd[32] > msd[512]
    assert gap[8] > gap[32] > gap[512] > 0
    assert 0.8 * (D + 1) < 512 * msd[512] < 1.2 * (D + 1)
    assert 512 * gap[512] == pytest.approx(D + 1, rel=0.35)


@pytest.mark.parametrize("K", [2, 4])
def test_dmmse_beats_ridge_on_pool_tasks_and_loses_on_fresh_ones(K):
    D, N, noise = 8, 8, 0.5
    rng = np.random.default_rng(20 + K)
    pool = rng.standard_normal((K, D))
    Z, yq = pool_prompts(rng, pool, N, 6000, noise)
    yd, yr = dmmse_predict(Z, pool, noise=noise), ridge_predict(Z, noise=noise)
    e_d, e_r = mean_squared_error(yd, yq), mean_squared_error(yr, yq)
    assert e_d < 0.7 * e_r  # memorisation wins in distribution
    assert e_d > noise ** 2 - 4 * se((yq - yd) ** 2)
    # dMMSE is the posterior mean here: orthogonality the other way round
    cross = 2 * (yq - yd) * (yd - yr)
    assert abs(cross.mean()) < 4 * se(cross)
    fresh = sgphys.sample_tasks(D, N, 6000, seed=K, noise=noise)
    assert mean_squared_error(ridge_predict(fresh), fresh) < mean_squared_error(
        dmmse_predict(fresh, pool), fresh)


# -- validation ------------------------------------------------------------------------------


def _Z(D=3, N=4, P=2):
    return sgphys.sample_tasks(D, N, P, seed=0).Z


@pytest.mark.parametrize("call,name", [
    (lambda: ridge_predict(np.zeros((2, 4))), "prompts"),
    (lambda: ridge_predict(np.zeros((2, 1, 5))), "prompts"),
    (lambda: ridge_predict(np.where(np.eye(4, 5)[None] > 0, np.nan, _Z())), "prompts"),
    (lambda: ridge_predict(_Z().astype(complex)), "prompts"),
    (lambda: ridge_predict(_Z() > 0), "prompts"),
    (lambda: ridge_predict(_Z(), noise=-0.1), "noise"),
    (lambda: ridge_predict(_Z(), noise=float("inf")), "noise"),
    (lambda: ridge_predict(_Z(), noise=1j), "noise"),
    (lambda: ridge_predict(_Z(), sigma_w=0.0), "sigma_w"),
    (lambda: ridge_predict(_Z(), sigma_x=-1.0), "sigma_x"),
    (lambda: dmmse_predict(_Z(), np.zeros((2, 4)), noise=0.1), "pool"),
    (lambda: dmmse_predict(_Z(), np.zeros(3), noise=0.1), "pool"),
    (lambda: dmmse_predict(_Z(), np.zeros((0, 3)), noise=0.1), "pool"),
    (lambda: dmmse_predict(_Z(), np.full((2, 3), np.inf), noise=0.1), "pool"),
    (lambda: dmmse_predict(_Z(), np.zeros((2, 3), complex), noise=0.1), "pool"),
    (lambda: dmmse_predict(_Z(), np.zeros((2, 3)), noise=-1.0), "noise"),
    (lambda: dmmse_predict(_Z(), np.zeros((2, 3)), noise=float("nan")), "noise"),
    (lambda: dmmse_predict(_Z(), np.zeros((2, 3))), "noise"),
    (lambda: dmmse_predict(np.zeros((2, 4, 5), dtype=object), np.zeros((2, 3)), 0.1), "prompts"),
    (lambda: mean_squared_error(np.zeros(3), np.zeros(4)), "targets"),
    (lambda: mean_squared_error(np.zeros((3, 1)), np.zeros(3)), "predictions"),
    (lambda: mean_squared_error(np.zeros(3), [0.0, np.nan, 0.0]), "targets"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_bad_values_are_quoted():
    with pytest.raises(ValueError, match=r"-0\.1"):
        ridge_predict(_Z(), noise=-0.1)
    with pytest.raises(ValueError, match=r"\(2, 4\)"):
        dmmse_predict(_Z(), np.zeros((2, 4)), noise=0.1)
    with pytest.raises(ValueError, match="complex"):
        ridge_predict(_Z().astype(complex))
