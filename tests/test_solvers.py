"""Message-passing solvers against the exact Gaussian marginals and NumPy references."""


import numpy as np
import pytest

import sgphys
from sgphys.kernels import amp as kamp
from sgphys.kernels import bp as kbp
from sgphys.kernels import rbp as krbp
from sgphys import reference
from sgphys.kernels import reference as ref
from sgphys.solvers import REASONS, auto_damping



def _model(D, N, P, lam, seed=0, corr=0.0):
    return sgphys.SpinModel.from_tasks(sgphys.sample_tasks(D, N, P, seed=seed, corr=corr), lam)


# (D, N, P, lam, beta, corr): D 2..20, lam 0.01..1, beta 1 and 100, correlated data included.
# Each has a positive variance fixed point (docs/model.rst, section AMP: small lam with small
# P/n_spins has
# none; e.g. (2, 10, 60, 0.1) and (8, 50, 2000, 0.1, corr 0.5) do not, and are flagged).
INSTANCES = [
    (2, 10, 200, 0.1, 100.0, 0.0),
    (2, 20, 100, 1.0, 100.0, 0.0),
    (3, 20, 200, 0.1, 1.0, 0.0),
    (4, 20, 400, 1.0, 100.0, 0.3),
    (5, 30, 2000, 0.01, 100.0, 0.3),
    (6, 40, 1000, 0.5, 1.0, 0.0),
    (8, 50, 2000, 1.0, 100.0, 0.5),
    (10, 100, 1000, 1.0, 1.0, 0.0),
    (10, 100, 2000, 0.01, 100.0, 0.0),
    (15, 100, 3000, 1.0, 100.0, 0.2),
    (20, 100, 4000, 1.0, 100.0, 0.0),
    (20, 100, 100, 1.0, 100.0, 0.0),
]


@pytest.mark.parametrize("D,N,P,lam,beta,corr", INSTANCES)
def test_tap_and_rbp_means_equal_exact_means(D, N, P, lam, beta, corr):
    model = _model(D, N, P, lam, seed=D, corr=corr)
    exact = sgphys.solve_exact(model, beta)
    scale = np.maximum(1.0, np.abs(exact.mean))
    for result in (sgphys.solve_amp(model, beta), sgphys.solve_rbp(model, beta)):
        assert result.converged and result.reason == "converged", result.solver
        assert result.residual < 1e-10
        assert np.max(np.abs(result.mean - exact.mean) / scale) < 1e-8, result.solver
        assert np.all(np.isfinite(result.var)) and np.all(result.var > 0)


@pytest.mark.parametrize("D,lam,beta,seed", [(2, 0.1, 100.0, 2), (3, 1.0, 1.0, 2), (3, 0.3, 5.0, 7)])
def test_full_bp_agrees_with_rbp_and_is_gaussian(D, lam, beta, seed):
    model = _model(D, 10, 100, lam, seed=seed)
    rbp = sgphys.solve_rbp(model, beta)
    assert rbp.converged
    bp = sgphys.solve_bp(model, beta, grid=61)
    assert bp.converged and bp.reason == "converged"
    assert np.max(np.abs(bp.mean - rbp.mean)) < 1e-6
    assert np.max(np.abs(bp.var / rbp.var - 1.0)) < 1e-4
    assert np.max(np.abs(bp.kurtosis)) < 1e-6  # Gaussian marginals


def test_paper_variant_solves_its_own_fixed_point_and_is_biased():
    model = _model(10, 100, 2000, 0.01, seed=1)
    beta = 100.0
    paper = sgphys.solve_amp(model, beta, variant="paper")
    assert paper.converged
    V = beta ** 2 * (model.J ** 2) @ paper.var
    A = model.precision()
    lhs = (A - np.diag(V) / beta) @ paper.mean
    assert np.max(np.abs(lhs - model.h)) < 1e-8
    exact = sgphys.solve_exact(model, beta)
    assert np.max(np.abs(paper.mean - exact.mean)) > 1e-2  # the bias is real


def test_kernels_match_numpy_reference_for_one_iteration():
    rng = np.random.default_rng(0)
    model = _model(3, 8, 30, 0.5, seed=3)
    J, h, lam_k, beta, n = model.J, model.h, model.lam_k, 3.0, model.n_spins
    m = rng.standard_normal(n) * 0.1
    v = 1.0 / (beta * lam_k) * (1 + 0.1 * rng.random(n))
    for tap in (True, False):
        um, uv, a, Jm, JJv = (np.empty(n) for _ in range(5))
        for parallel in (False, True):
            kamp.amp_step(J, h, lam_k, beta, m, v, tap, um, uv, a, Jm, JJv, parallel)
            rm, rv, ra = ref.amp_step(J, h, lam_k, beta, m, v, tap)
            np.testing.assert_allclose(um, rm, rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(uv, rv, rtol=1e-12)
            np.testing.assert_allclose(a, ra, rtol=1e-12)
    # r-BP: random messages, sender-major M[k, i] = m_{k->i}
    M = rng.standard_normal((n, n)) * 0.1
    Vm = (1.0 / (beta * lam_k))[:, None] * (1 + 0.1 * rng.random((n, n)))
    Vm = Vm * 0.05  # small enough that every node precision is positive (else no sweep)
    rM, rV, rmean, rvar = ref.rbp_step(J, h, lam_k, beta, M, Vm)
    off = ~np.eye(n, dtype=bool)
    for damping in (0.0, 0.3):
        poff, mu, vu, md, vd = krbp.pack(M, Vm)
        T, S, Tn, Sn, A, B, mean, var = (np.empty(n) for _ in range(8))
        stats = np.empty(krbp.N_STATS)
        chunks = 3  # rows split unevenly into chunks: the chunk sums must add up
        work = (krbp.chunk_bounds(n, chunks), np.empty((chunks, n)), np.empty((chunks, n)),
                np.empty((chunks, krbp.N_STATS)))
        krbp.node_sums(J, poff, mu, vu, md, vd, T, S)
        krbp.rbp_sweep(J, h, lam_k, beta, poff, mu, vu, md, vd, T, S, Tn, Sn, A, B, damping,
                       damping, mean, var, stats, *work, damping > 0)
        assert stats[krbp.AMIN] > 0
        Mout, Vout = krbp.unpack(mu, vu, md, vd, n)
        np.testing.assert_allclose(Mout[off], (damping * M + (1 - damping) * rM)[off],
                                   rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(Vout[off], (damping * Vm + (1 - damping) * rV)[off],
                                   rtol=1e-11)
        np.testing.assert_allclose(mean, rmean, rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(var, rvar, rtol=1e-11)
        # carried node sums of the new messages, and the edge statistics
        np.testing.assert_allclose(Tn, (J * Mout.T).sum(axis=1), rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(Sn, (J ** 2 * Vout.T).sum(axis=1), rtol=1e-11)
        np.testing.assert_allclose(stats[krbp.DM], np.abs(rM - M)[off].max(), rtol=1e-12)
        np.testing.assert_allclose(stats[krbp.DV], np.abs(rV - Vm)[off].max(), rtol=1e-12)
        np.testing.assert_allclose(stats[krbp.SM], ((rM - M)[off] ** 2).sum(), rtol=1e-10)
    # full BP: random Gaussian-ish messages on grids
    small = _model(2, 6, 20, 0.5, seed=4)
    n, K = small.n_spins, 15
    x = np.linspace(-2, 2, K)[None, :] * (1 + 0.1 * np.arange(n))[:, None]
    logmu = -0.5 * (x[:, None, :] - 0.1 * rng.standard_normal((n, n, 1))) ** 2
    logw = np.log(x[:, 1] - x[:, 0])[:, None] + np.zeros(K)
    logw[:, [0, -1]] += np.log(0.5)
    logmu = np.ascontiguousarray(logmu)
    for i in range(n):
        for j in range(n):
            kbp._normalise(logmu[i, j], logw[i])
    new = np.zeros_like(logmu)
    lphi = np.zeros_like(logmu)
    mean, var, kurt = np.empty(n), np.empty(n), np.empty(n)
    kbp.bp_step(small.J, small.h, small.lam_k, 2.0, x, logw, logmu, lphi, new, mean, var, kurt)
    rnew, rmarg = ref.bp_step(small.J, small.h, small.lam_k, 2.0, x, logmu)
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_allclose(new[off], rnew[off], rtol=1e-10, atol=1e-10)
    p = np.exp(rmarg + logw)
    np.testing.assert_allclose(mean, (p * x).sum(axis=1), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", ["tap", "paper", "rbp", "tap_fixed"])
def test_non_convergent_case_is_flagged_not_raised(solver):
    model = _model(10, 100, 50, 1e-4, seed=0)
    if solver == "rbp":
        r = sgphys.solve_rbp(model, 100.0, max_iter=500)
    elif solver == "tap_fixed":
        r = sgphys.solve_amp(model, 100.0, damping=0.5, max_iter=500)
    else:
        r = sgphys.solve_amp(model, 100.0, variant=solver, max_iter=500)
    assert not r.converged
    assert r.reason in REASONS and r.reason != "converged"
    assert np.all(np.isfinite(r.mean)) and np.all(np.isfinite(r.var))


@pytest.mark.parametrize("D,N,P,lam,seed", [(20, 100, 100, 1.0, 0), (10, 100, 770, 0.01, 1)])
def test_auto_damping_converges_where_small_fixed_damping_blows_up(D, N, P, lam, seed):
    model = _model(D, N, P, lam, seed=seed)
    assert sgphys.solve_amp(model, 100.0, damping=0.3, max_iter=3000).reason == "blowup"
    assert sgphys.solve_amp(model, 100.0, damping=0.6, max_iter=3000).converged
    auto = sgphys.solve_amp(model, 100.0)
    assert auto.converged
    exact = sgphys.solve_exact(model, 100.0)
    assert np.max(np.abs(auto.mean - exact.mean)) < 1e-8


@pytest.mark.parametrize("D,N,P,lam,seed", [(20, 100, 100, 1.0, 1), (20, 100, 80, 1.0, 2),
                                            (10, 100, 770, 0.01, 2)])
def test_damping_threshold_matches_a_scan_of_fixed_dampings(D, N, P, lam, seed):
    """Mean iteration at the variance fixed point converges iff damping > 1 - 2/mu_max."""
    model = _model(D, N, P, lam, seed=seed)
    _, v_star, info = auto_damping(model, 100.0)
    thr = info["threshold"]
    assert 0.1 < thr < 0.9
    init = (np.zeros(model.n_spins), v_star)
    above = sgphys.solve_amp(model, 100.0, damping=thr + 0.03, init=init, max_iter=20000)
    below = sgphys.solve_amp(model, 100.0, damping=thr - 0.03, init=init, max_iter=20000)
    assert above.converged
    assert not below.converged and below.reason in ("blowup", "max_iter")


def test_paper_criterion_reproduces_fig2_amp_matrix():
    """Paper variant, criterion="paper", damping 0.9, 100 steps, at Fig. 2's parameters.

    The W11 diagonal, the off-diagonal spread of W11 and the spread of W21 match the
    published matrix within two seed-to-seed standard deviations (six seeds). Measuring the
    paper rule's change on the damped step instead stops ~25 steps early with a diagonal of
    0.82 (published 0.858): this test fails for that reading.
    """
    published = reference.load("fig2/m.npy").astype(float)
    off = ~np.eye(10, dtype=bool)
    diag, spread, w21 = [], [], []
    for seed in range(6):
        model = _model(10, 100, 5000, 0.01, seed=seed)
        r = sgphys.solve_amp(model, 100.0, variant="paper", damping=0.9, max_iter=100,
                             criterion="paper", tol=1e-6)
        assert r.converged and r.n_iter < 100
        W = r.W
        diag.append(np.diag(W)[:10].mean())
        spread.append(W[:10, :10][off].std())
        w21.append(W[10, :10].std())
    assert abs(np.diag(published)[:10].mean() - np.mean(diag)) < 2 * max(np.std(diag), 0.002)
    spread_sd = max(np.std(spread), 0.002)
    assert abs(published[:10, :10][off].std() - np.mean(spread)) < 2 * spread_sd + 0.002
    assert abs(published[10, :10].std() - np.mean(w21)) < 0.003


def test_paper_criterion_matches_its_definition():
    """criterion="paper" stops at the first step whose raw update u satisfies
    mean((u_m - m)^2) + mean((u_v - v)^2) < tol, checked against a plain NumPy loop."""
    model = _model(5, 40, 600, 0.1, seed=3)
    J, h, lam_k, beta, d = model.J, model.h, model.lam_k, 100.0, 0.9
    m, v = np.zeros(model.n_spins), 1.0 / (beta * lam_k)
    for it in range(1, 101):
        um, uv, _ = ref.amp_step(J, h, lam_k, beta, m, v, tap=False)
        change = np.mean((um - m) ** 2) + np.mean((uv - v) ** 2)
        m, v = d * m + (1 - d) * um, d * v + (1 - d) * uv
        if change < 1e-6:
            break
    r = sgphys.solve_amp(model, beta, variant="paper", damping=d, max_iter=100,
                         criterion="paper", tol=1e-6)
    assert r.converged and r.n_iter == it < 100
    np.testing.assert_allclose(r.mean, m, rtol=1e-9, atol=1e-12)


def test_rbp_iteration_matches_a_numpy_loop():
    """The whole r-BP loop (damping, the authors' acceptance rule over directed edges, the
    final marginals of the damped messages) against the NumPy sweep iterated by hand."""
    model = _model(2, 10, 200, 0.3, seed=1)
    J, h, lam_k, beta, d, n = model.J, model.h, model.lam_k, 20.0, 0.4, model.n_spins
    M = np.zeros((n, n))
    Vm = np.broadcast_to((1.0 / (beta * lam_k))[:, None], (n, n)).copy()
    off = ~np.eye(n, dtype=bool)
    for it in range(1, 201):
        uM, uV, _, _ = ref.rbp_step(J, h, lam_k, beta, M, Vm)
        change = np.mean((uM - M)[off] ** 2) + np.mean((uV - Vm)[off] ** 2)
        M, Vm = d * M + (1 - d) * uM, d * Vm + (1 - d) * uV
        if change < 1e-14:
            break
    mean, var = ref.rbp_step(J, h, lam_k, beta, M, Vm)[2:]
    for parallel in (False, True):
        r = sgphys.solve_rbp(model, beta, damping=d, criterion="paper", tol=1e-14,
                             max_iter=200, parallel=parallel)
        assert r.converged and r.n_iter == it < 200
        np.testing.assert_allclose(r.mean, mean, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(r.var, var, rtol=1e-10)


def test_variance_error_bound_stated_in_docstring():
    """solve_amp's docstring: variances too large by at most 20% at P = 9 n_spins and
    0.3% at P = 90 n_spins (D=10, N=100, lam=0.01, beta=100; measured 11-15% and 0.11-0.15%
    over three seeds)."""
    for ratio, bound in ((9, 0.20), (90, 0.003)):
        model = _model(10, 100, ratio * 110, 0.01, seed=0)
        amp = sgphys.solve_amp(model, 100.0)
        exact = sgphys.solve_exact(model, 100.0)
        err = amp.var / exact.var - 1.0
        assert amp.converged
        assert err.max() < bound
        assert np.median(err) > 0  # too large, not too small
    assert err.max() < 0.1 * 0.20  # and it shrinks with P


def test_history_parallel_and_determinism():
    model = _model(6, 30, 800, 0.1, seed=5)
    a = sgphys.solve_amp(model, 100.0, history=True, parallel=False)
    b = sgphys.solve_amp(model, 100.0, history=True, parallel=True)
    assert len(a.history) == a.n_iter and a.history[-1] < 1e-10
    np.testing.assert_array_equal(a.mean, b.mean)  # row-parallel sums are deterministic
    np.testing.assert_array_equal(a.var, b.var)
    c = sgphys.solve_amp(model, 100.0, history=True, parallel=False)
    np.testing.assert_array_equal(a.mean, c.mean)
    r = sgphys.solve_rbp(model, 100.0, history=True, parallel=False)
    assert len(r.history) == r.n_iter and r.history[-1] < 1e-10
    rp = sgphys.solve_rbp(model, 100.0, history=True, parallel=True)
    np.testing.assert_array_equal(r.mean, rp.mean)  # same chunks, summed in the same order
    np.testing.assert_array_equal(r.var, rp.var)
    np.testing.assert_array_equal(r.history, rp.history)


def test_bit_pattern_max_is_a_nan_propagating_abs_max():
    """The r-BP residual maxima run on IEEE bit patterns (vectorisable integer max)."""
    from numba import njit

    @njit
    def bitmax(x):
        b = 0
        for v in x:
            b = max(b, krbp._bits(abs(v)))
        return krbp._float(b)

    rng = np.random.default_rng(1)
    for x in (rng.standard_normal(37), -np.abs(rng.standard_normal(5)) * 1e-300,
              np.array([0.0, -0.0]), np.array([1.0, -np.inf, 3.0])):
        assert bitmax(x) == np.max(np.abs(x))
    assert np.isnan(bitmax(np.array([1.0, np.nan, np.inf, -2.0])))
    assert np.isnan(bitmax(np.array([-np.nan, 1.0])))


@pytest.mark.parametrize("n", [1, 2, 3, 7, 64, 65, 500])
@pytest.mark.parametrize("chunks", [1, 2, 3, 16])
def test_rbp_chunks_cover_every_pair_once(n, chunks):
    bounds = krbp.chunk_bounds(n, chunks)
    assert bounds[0] == 0 and bounds[-1] == max(n - 1, 0)
    assert np.all(np.diff(bounds) >= 0)
    pairs = np.array([sum(n - 1 - i for i in range(a, b)) for a, b in zip(bounds, bounds[1:])])
    assert pairs.sum() == n * (n - 1) // 2
    # each boundary lies within one row (< n pairs) of its share: chunks balanced to 2 rows
    assert np.all(np.abs(pairs - pairs.sum() / chunks) < n)
    off = krbp.pair_offsets(n)
    iu, ju = np.triu_indices(n, 1)
    np.testing.assert_array_equal(off[iu] + ju, np.arange(iu.size))


def test_init_is_used():
    model = _model(4, 20, 500, 0.1, seed=2)
    exact = sgphys.solve_exact(model, 100.0)
    warm = sgphys.solve_amp(model, 100.0, init=(exact.mean, exact.var * 1.01))
    cold = sgphys.solve_amp(model, 100.0)
    assert warm.converged and warm.n_iter < cold.n_iter


@pytest.mark.parametrize("kwargs,name", [
    ({"beta": 0.0}, "beta"), ({"damping": 1.0}, "damping"), ({"damping": "fast"}, "damping"),
    ({"tol": 0.0}, "tol"), ({"max_iter": 0}, "max_iter"), ({"variant": "x"}, "variant"),
    ({"criterion": "loose"}, "criterion"), ({"init": (np.zeros(3), np.ones(3))}, "init"),
])
def test_bad_input_raises_value_error_naming_parameter(kwargs, name):
    model = _model(2, 5, 30, 0.1)
    with pytest.raises(ValueError, match=name):
        sgphys.solve_amp(model, **{"beta": 1.0, **kwargs})
    if "variant" not in kwargs:
        with pytest.raises(ValueError, match=name):
            sgphys.solve_rbp(model, **{"beta": 1.0, **kwargs})
    with pytest.raises(ValueError, match="model"):
        sgphys.solve_amp("not a model", 1.0)
    with pytest.raises(ValueError, match="grid"):
        sgphys.solve_bp(model, 1.0, grid=2)


def test_models_built_from_couplings_are_solved():
    model = _model(3, 10, 200, 0.2, seed=9)
    copy = sgphys.SpinModel.from_couplings(model.J, model.h, model.lam_k, 3, lam=0.2)
    exact = sgphys.solve_exact(model, 10.0)
    r = sgphys.solve_amp(copy, 10.0)
    assert r.converged and np.max(np.abs(r.mean - exact.mean)) < 1e-8
    np.testing.assert_allclose(sgphys.solve_exact(copy, 10.0).mean, exact.mean, atol=1e-12)
