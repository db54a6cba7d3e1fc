"""Finite task pools: the sampler (pool drawn once, each prompt a uniform pool task), the
unchanged default, and the memorisation-to-ICL transition in the spin model against the
Bayes baselines and the theory."""

import hashlib

import numpy as np
import pytest

import sgphys


def _fp(*arrays):
    return hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes()
                                   for a in arrays)).hexdigest()[:16]


def _rng(seed, role, block, stream):
    """The documented stream layout of a task set (sgphys.tasks): one Generator per (role,
    block, stream), role 0 training and 1 test; streams 0 task vectors, 1 tokens, 2 noise."""
    key = (role, block, stream)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def _reference_tokens(D, N, P, seed, noise, role=0):
    """Plain NumPy reimplementation of the token sampler without a task pool (i.i.d.
    tokens, sigma_x = sigma_w = 1): blocks of 1024 sequences, labels summed term by term."""
    Zs, ys, ws = [], [], []
    for b in range(-(-P // 1024)):
        B = min(1024, P - b * 1024)
        w = _rng(seed, role, b, 0).standard_normal((B, D))
        X = _rng(seed, role, b, 1).standard_normal((B, D, N + 1))
        labels = sum(w[:, d, None] * X[:, d, :] for d in range(D)) / np.sqrt(D)
        labels = labels + noise * _rng(seed, role, b, 2).standard_normal((B, N + 1))
        Z = np.zeros((B, D + 1, N + 1))
        Z[:, :D] = X
        Z[:, D, :N] = labels[:, :N]
        Zs.append(Z), ys.append(labels[:, N]), ws.append(w)
    return np.concatenate(Zs), np.concatenate(ys), np.concatenate(ws)


def _reference_statistics(D, N, P, seed, noise):
    """Plain NumPy reimplementation of the statistics sampler (sgphys.tasks docstring):
    sum_n y_n x_n = u (g.a) + |a| (I - u u^T) xi, sum_n y_n^2 = |a|^2, the Gram matrix of
    (g, eps) by Bartlett's decomposition."""
    Hs, ys, ws = [], [], []
    for b in range(-(-P // 1024)):
        B = min(1024, P - b * 1024)
        w = _rng(seed, 0, b, 0).standard_normal((B, D))
        rng = _rng(seed, 0, b, 1)
        xi = rng.standard_normal((B, D))
        xq = rng.standard_normal((B, D))
        c1 = np.sqrt(rng.chisquare(N, size=B))
        c2 = np.sqrt(rng.chisquare(N - 1, size=B))
        n21 = rng.standard_normal(B)
        norm = np.sqrt((w ** 2).sum(axis=1))
        u = w / norm[:, None]
        alpha = norm / np.sqrt(D)
        ga = alpha * c1 ** 2 + noise * c1 * n21
        aa = (alpha * c1 + noise * n21) ** 2 + (noise * c2) ** 2
        perp = xi - u * (u * xi).sum(axis=1)[:, None]
        v = np.concatenate([u * ga[:, None] + np.sqrt(aa)[:, None] * perp, aa[:, None]], axis=1)
        yq = (w * xq).sum(axis=1) / np.sqrt(D) + noise * _rng(seed, 0, b, 2).standard_normal(B)
        Hs.append((v[:, :, None] * xq[:, None, :] / N).reshape(B, -1))
        ys.append(yq), ws.append(w)
    return np.concatenate(Hs), np.concatenate(ys), np.concatenate(ws)


@pytest.mark.pinned
def test_default_is_the_sampler_before_pools():
    """Without a pool both samplers follow the stream layout they had before task pools:
    the raw Gaussian draws (no arithmetic on them) are pinned bit for bit by fingerprints
    taken from the code before pools; everything computed from them is compared with a
    plain NumPy reimplementation to rounding (the label sums go through BLAS)."""
    D, N, P, seed, noise = 3, 5, 1500, 7, 0.3
    t = sgphys.sample_tasks(D, N, P, seed=seed, noise=noise)
    Z, y, w = _reference_tokens(D, N, P, seed, noise)
    np.testing.assert_array_equal(t.w, w)
    np.testing.assert_array_equal(t.Z[:, :D], Z[:, :D])
    np.testing.assert_allclose(t.Z, Z, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(t.y, y, rtol=1e-12, atol=1e-14)
    assert _fp(t.w, t.Z[:, :D]) == "ae8cac6105c8e0e8"  # task vectors and tokens
    test = sgphys.sample_tasks(D, N, P, seed=seed, noise=noise).test_set(50)
    Z, y, w = _reference_tokens(D, N, 50, seed, noise, role=1)
    np.testing.assert_array_equal(test.Z[:, :D], Z[:, :D])
    np.testing.assert_allclose(test.Z, Z, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(test.y, y, rtol=1e-12, atol=1e-14)
    assert _fp(test.w, test.Z[:, :D]) == "1270a02a223216f6"
    s = sgphys.sample_tasks(D, N, P, seed=seed, noise=noise, method="statistics")
    H, y = s.feature_arrays()
    H_ref, y_ref, w = _reference_statistics(D, N, P, seed, noise)
    np.testing.assert_array_equal(s.w, w)
    np.testing.assert_allclose(H, H_ref, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(y, y_ref, rtol=1e-12, atol=1e-14)
    assert _fp(s.w) == "a83904f6f09d383b"
    assert t.pool is None and t.task_index is None and "n_tasks" not in repr(t)


@pytest.mark.pinned
@pytest.mark.parametrize("method", ["tokens", "statistics"])
def test_pool_tasks_are_drawn_once_and_shared(method):
    t = sgphys.sample_tasks(4, 6, 2500, seed=3, noise=0.2, n_tasks=5, method=method)
    assert t.pool.shape == (5, 4)
    idx = t.task_index
    assert idx.shape == (2500,) and set(np.unique(idx)) == set(range(5))
    np.testing.assert_array_equal(t.w, t.pool[idx])
    counts = np.bincount(idx, minlength=5)
    assert np.all(np.abs(counts - 500) < 5 * np.sqrt(500))  # uniform
    again = sgphys.sample_tasks(4, 6, 2500, seed=3, noise=0.2, n_tasks=5, method=method)
    np.testing.assert_array_equal(again.pool, t.pool)
    np.testing.assert_array_equal(again.feature_arrays()[0], t.feature_arrays()[0])
    # pool test sets use the training pool (also from another seed), fresh ones do not
    for seed in (None, 11):
        pool_test = t.test_set(300, seed=seed, tasks="pool")
        np.testing.assert_array_equal(pool_test.pool, t.pool)
        np.testing.assert_array_equal(pool_test.w, t.pool[pool_test.task_index])
        fresh = t.test_set(300, seed=seed)
        assert fresh.pool is None
        assert not np.isin(fresh.w[:, 0], t.pool[:, 0]).any()
    # another seed, another pool
    other = sgphys.sample_tasks(4, 6, 10, seed=4, n_tasks=5, method=method)
    assert not np.array_equal(other.pool, t.pool)


def test_pool_validation():
    for bad in (0, -2, 1.5, "4", True):
        with pytest.raises(ValueError, match="n_tasks"):
            sgphys.sample_tasks(3, 5, 10, n_tasks=bad)
    t = sgphys.sample_tasks(3, 5, 10)
    with pytest.raises(ValueError, match="pool"):
        t.test_set(5, tasks="pool")
    with pytest.raises(ValueError, match="tasks"):
        t.test_set(5, tasks="all")


@pytest.fixture(scope="module")
def quick():
    return sgphys.run_experiment("task_pool", preset="quick")


def _mean_se(da):
    x = np.asarray(da.values, dtype=float)
    return x.mean(axis=-1), x.std(axis=-1, ddof=1) / np.sqrt(x.shape[-1])


def test_memorisation_at_one_task(quick):
    """K = 1: dMMSE predicts the one task exactly, so its in-distribution error is the
    label-noise floor; the linear attention's is not."""
    noise2 = sgphys.experiments.get_experiment("task_pool").presets["quick"]["noise"] ** 2
    sub = quick.sel(D=4, n_tasks=1)
    m, se = _mean_se(sub.idg_error_dmmse)
    assert abs(m - noise2) < 4 * se + 0.03
    la, _ = _mean_se(sub.idg_error.sel(solver="exact"))
    assert la > 1.8 * noise2


def test_gap_shrinks_with_the_number_of_tasks(quick):
    sub = quick.sel(D=4)
    gap = sub.icl_error.sel(solver="exact") - sub.idg_error.sel(solver="exact")
    m, se = _mean_se(gap)
    for a, b, sa, sb in zip(m[:-1], m[1:], se[:-1], se[1:]):
        assert b <= a + 2 * np.hypot(sa, sb)
    assert m[-1] < 0.1 * m[0]


def test_many_tasks_behave_like_fresh_tasks_and_the_theory(quick):
    """K >> D: the pool is as good as a fresh task per prompt. The linear attention is not
    the Bayes estimator, so its ICL error stays above ridge's (Bayes) and approaches the
    theory's kappa = inf value within the finite-D tolerance (about 1/D: 15% at D = 4)."""
    params = sgphys.experiments.get_experiment("task_pool").presets["quick"]
    sub = quick.sel(D=4, n_tasks=256)
    la, se = _mean_se(sub.icl_error.sel(solver="exact"))
    ridge, _ = _mean_se(sub.icl_error_ridge)
    assert la > ridge
    theory = float(sub.theory_icl_error)
    assert abs(la - theory) / theory < 0.15
    inf = sgphys.theory.icl_error(*sgphys.theory.theory_params(
        4, 8, int(params["tau"] * 16), params["lam"], params["noise"]))
    assert abs(theory - inf) / inf < 0.01  # kappa = 64 is the kappa = inf limit
    # the same linear attention trained on a fresh task per prompt
    errs = []
    for s in range(3):
        t = sgphys.sample_tasks(4, 8, int(params["tau"] * 16), seed=100 + s,
                                noise=params["noise"])
        W = sgphys.solve_exact(sgphys.SpinModel.from_tasks(t, params["lam"]), 100.0).W
        errs.append(sgphys.test_error(W, t.test_set(3000)))
    assert abs(la - np.mean(errs)) < 4 * np.hypot(se, np.std(errs, ddof=1) / np.sqrt(3)) + 0.02
