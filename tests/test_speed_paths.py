"""The fast paths against the references: exact means without variances, the adaptive
damping of AMP and r-BP (exact means to 1e-8; serial = parallel bit for bit), Lanczos
against a dense eigensolver."""

import numpy as np
import pytest

import sgphys
from sgphys.kernels import amp as K


def _model(D, N, P, lam, seed):
    return sgphys.SpinModel.from_tasks(sgphys.sample_tasks(D, N, P, seed=seed), lam)


@pytest.mark.parametrize("P", [30, 200])  # the dual (P < n_spins) and the Cholesky route
def test_exact_means_alone_equal_the_full_solve(P):
    model = _model(8, 40, P, 0.3, seed=1)
    full = sgphys.solve_exact(model, 10.0)
    means = sgphys.solve_exact(model, 10.0, variances=False)
    assert np.array_equal(full.mean, means.mean) and np.isnan(means.var).all()
    assert means.info["variances"] is False and full.info["variances"] is True
    A = model.precision()
    np.testing.assert_allclose(full.var, np.diag(np.linalg.inv(A)) / 10.0, rtol=1e-10)


def test_lanczos_estimate_against_the_dense_largest_eigenvalue():
    model = _model(6, 50, 400, 0.1, seed=3)
    beta = 100.0
    v = 1.0 / (beta * model.lam_k) * 3.0
    u = np.sqrt(beta * v)
    M = u[:, None] * (np.diag(model.lam_k) - model.J) * u[None, :]
    top = np.linalg.eigvalsh(M)[-1]
    J = np.ascontiguousarray(model.J)
    est = K.lanczos_max(J, model.lam_k, beta, v, np.zeros(model.n_spins), 40, False)
    assert est == pytest.approx(top, rel=1e-8)
    rough = K.lanczos_max(J, model.lam_k, beta, v, np.zeros(model.n_spins), 10, False)
    assert rough <= top * (1 + 1e-12) and rough > 0.9 * top  # a lower estimate, close


CASES = [(20, 100, 100, 1.0, 0), (10, 100, 770, 0.01, 1), (20, 100, 80, 1.0, 2),
         (10, 50, 1000, 0.01, 3), (10, 20, 1000, 0.01, 7), (20, 100, 1680, 1.0, 0)]


@pytest.mark.parametrize("D,N,P,lam,seed", CASES)
def test_adaptive_damping_reaches_the_exact_means(D, N, P, lam, seed):
    model = _model(D, N, P, lam, seed)
    exact = sgphys.solve_exact(model, 100.0)
    for solve in (sgphys.solve_amp, sgphys.solve_rbp):
        serial = solve(model, 100.0, parallel=False)
        assert serial.converged, serial
        assert np.max(np.abs(serial.mean - exact.mean)) < 1e-8
        parallel = solve(model, 100.0, parallel=True)
        assert np.array_equal(serial.mean, parallel.mean)
        assert np.array_equal(serial.var, parallel.var) and serial.n_iter == parallel.n_iter


def test_adaptive_damping_is_undamped_when_undamped_iteration_converges():
    model = _model(10, 100, 880, 1.0, seed=0)  # P = 8 n_spins: far from every threshold
    r = sgphys.solve_amp(model, 100.0)
    assert r.converged and r.info["damping_final"] == 0.0 and not r.info["damping_estimated"]
    fixed = sgphys.solve_amp(model, 100.0, damping=0.0)
    np.testing.assert_allclose(r.mean, fixed.mean, atol=1e-12)


def test_blockwise_model_equals_the_one_built_from_all_features():
    tasks = sgphys.sample_tasks(4, 10, 3000, seed=1, method="statistics")
    full = sgphys.SpinModel.from_tasks(tasks, 0.1, keep_features=True)
    blocks = sgphys.SpinModel.from_tasks(tasks, 0.1, keep_features=False)
    assert full.H is not None and blocks.H is None and blocks.P == 3000
    np.testing.assert_allclose(blocks.Q, full.Q, rtol=0, atol=1e-14)
    np.testing.assert_allclose(blocks.h, full.h, rtol=0, atol=1e-14)
    assert np.array_equal(blocks.Q, blocks.Q.T)
    assert blocks.energy_offset == pytest.approx(full.energy_offset, rel=1e-14)
    with pytest.raises(ValueError, match="keep_features"):
        sgphys.SpinModel.from_tasks(tasks, 0.1, keep_features="no")


def test_block_moments_by_panels_equal_the_full_product(monkeypatch):
    """Several column panels (PANEL forced small): the upper triangle by panels, mirrored,
    equals H^T H / P (the SciPy syrk wrapper this replaces crashed beyond 2 GiB)."""
    from sgphys import spin

    monkeypatch.setattr(spin, "PANEL", 7)
    tasks = sgphys.sample_tasks(4, 10, 2500, seed=2, method="statistics")
    H, y = tasks.feature_arrays()
    Q, h, y2, P = spin.block_moments(tasks.iter_feature_blocks(), tasks.n_spins)
    assert P == 2500 and np.array_equal(Q, Q.T)
    np.testing.assert_allclose(Q, H.T @ H / 2500, rtol=0, atol=1e-13)
    np.testing.assert_allclose(h, H.T @ y / 2500, rtol=0, atol=1e-13)
    assert y2 == pytest.approx(float(y @ y) / 2500, rel=1e-13)


@pytest.mark.pinned
def test_upper_triangle_row_sums_against_numpy_and_serial_equals_parallel():
    """The upper-triangle kernel (the AMP row sums from SYM_MIN_SPINS): against NumPy's
    products, and the same bits serially and across threads (fixed chunks)."""
    from sgphys.kernels import amp as K

    n = 1061
    rng = np.random.default_rng(3)
    J = rng.standard_normal((n, n))
    J = 0.5 * (J + J.T)
    np.fill_diagonal(J, 0.0)
    m, v = rng.standard_normal(n), rng.random(n)
    out = {}
    for par, kernel in ((False, K._sym_sums), (True, K._sym_sums_parallel)):
        Jm, JJv = np.empty(n), np.empty(n)
        kernel(J, m, v, Jm, JJv, False)
        out[par] = (Jm, JJv)
    assert np.array_equal(out[False][0], out[True][0])
    assert np.array_equal(out[False][1], out[True][1])
    np.testing.assert_allclose(out[False][0], J @ m, rtol=0, atol=1e-11 * np.abs(J @ m).max())
    np.testing.assert_allclose(out[False][1], (J * J) @ v, rtol=1e-12)


def _weakly_coupled(D, seed):
    """A model of D(D+1) spins with Q = 2 I + W / (2 sqrt(n)), W symmetric Gaussian
    (spectrum within about [1, 3]: AMP converges fast), random fields; cheap at any size."""
    n = D * (D + 1)
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((n, n))
    Q += Q.T
    Q *= 0.25 / np.sqrt(n)
    Q[np.diag_indices(n)] += 2.0
    return sgphys.SpinModel(D, 0.5, rng.standard_normal(n), Q)


def test_amp_above_the_symmetric_threshold_reaches_the_exact_means():
    D = 71  # 5112 spins >= SYM_MIN_SPINS: the upper-triangle kernel
    assert D * (D + 1) >= K.SYM_MIN_SPINS
    model = _weakly_coupled(D, seed=1)
    ex = sgphys.solve_exact(model, 100.0, variances=False)
    a = sgphys.solve_amp(model, 100.0, parallel=False)
    assert model._J is None  # the kernels read Q: the solve built no J
    model.J
    b = sgphys.solve_amp(model, 100.0, parallel=True)
    c = sgphys.solve_amp(model, 100.0, parallel=False)
    for r in (b, c):  # from J or from Q, serial or parallel: the same bits
        assert np.array_equal(a.mean, r.mean) and np.array_equal(a.var, r.var)
        assert a.n_iter == r.n_iter and a.log_z == r.log_z
    assert a.converged and np.isfinite(a.log_z)
    np.testing.assert_allclose(a.mean, ex.mean, rtol=0, atol=1e-8 * np.abs(ex.mean).max())


@pytest.mark.parametrize("n", [1, 2, 3, 6, 7, 110, 421, "sym"])
def test_row_sums_from_q_equal_those_from_j(n):
    """``ROWS_FROM_Q``: the kernels read ``J = -Q`` off the diagonal from Q itself, bit for
    bit the sums from J, serial and parallel, against NumPy's products: the row kernel
    (blocks of ROW_BLOCK rows, sizes with and without a remainder) and, from
    SYM_MIN_SPINS, the upper-triangle kernel."""
    n = K.SYM_MIN_SPINS + 5 if n == "sym" else n
    rng = np.random.default_rng(4)
    Q = rng.standard_normal((n, n))
    Q += Q.T  # symmetric, with a diagonal the kernels must leave out
    J = -Q
    np.fill_diagonal(J, 0.0)
    m, v = rng.standard_normal(n), rng.random(n)
    out = []
    for flags in (0, K.ROWS_PARALLEL):
        a, b = (np.empty(n), np.empty(n)), (np.empty(n), np.empty(n))
        K.row_sums(J, m, v, *a, flags)
        K.row_sums(Q, m, v, *b, flags | K.ROWS_FROM_Q)
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
        out.append(b)
    assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])
    np.testing.assert_allclose(b[0], J @ m, rtol=0, atol=1e-11 * np.abs(J @ m).max())
    np.testing.assert_allclose(b[1], (J * J) @ v, rtol=1e-12)


def _mean_map_spectrum(model, beta):
    """Dense extreme eigenvalues of U^(1/2) A U^(1/2) at the variance fixed point: the
    TAP mean map at fixed variances is m <- m + (1 - d) U (h - A m)."""
    lk, J = model.lam_k, np.ascontiguousarray(model.J)
    v = 1.0 / (beta * lk)
    assert K.variance_fixed_point(J, lk, beta, v, 1e-15, 10000, False)[2] == 0
    u = np.sqrt(beta * v)
    ev = np.linalg.eigvalsh(u[:, None] * (np.diag(lk) - J) * u[None, :])
    return ev[0], ev[-1], v


def test_lanczos_extremes_lie_inside_the_dense_spectrum_and_converge():
    model = _model(6, 50, 400, 0.1, seed=3)
    beta = 100.0
    lo, hi, v = _mean_map_spectrum(model, beta)
    J = np.ascontiguousarray(model.J)
    zero = np.zeros(model.n_spins)
    rlo, rhi = K.lanczos_extremes(J, model.lam_k, beta, v, zero, 10, False)
    assert lo * (1 - 1e-12) <= rlo <= rhi <= hi * (1 + 1e-12)
    flo, fhi = K.lanczos_extremes(J, model.lam_k, beta, v, zero, 42, False)
    assert flo == pytest.approx(lo, rel=1e-6) and fhi == pytest.approx(hi, rel=1e-8)


def test_richardson_damping_is_the_optimum_and_above_the_spec_threshold():
    for lo, hi in [(0.7, 1.9), (0.75, 2.5), (0.01, 3.6), (0.9, 1.1), (1.0, 100.0)]:
        d = K.richardson_damping(lo, hi)
        hi_m = K.AUTO_MU_MARGIN * hi
        assert d == pytest.approx(max(0.0, 1 - 2 / (lo + hi_m)), abs=1e-15)
        assert d > 1 - 2 / hi_m  # every mode contracts, with the margin on hi
        # the optimum: a scan of dampings contracts no faster
        scan = np.linspace(0, 0.995, 9951)
        rates = np.maximum(abs(1 - (1 - scan) * lo), abs(1 - (1 - scan) * hi_m))
        rate = max(abs(1 - (1 - d) * lo), abs(1 - (1 - d) * hi_m))
        assert rate <= rates.min() + 1e-12
    # without a usable spectrum: the threshold rule (docs/model.rst, section AMP)
    assert K.richardson_damping(0.0, 3.0) == pytest.approx(1 - 2 / 3 + 0.05)
    assert K.richardson_damping(np.nan, np.inf) == 0.95
    assert K.richardson_damping(np.nan, np.nan) == 0.05


def test_slow_residual_trigger_estimates_once_and_fast_residuals_never():
    """The rate-window trigger on synthetic residuals: shrinking by 0.97 per iteration (700
    more to reach 1e-10) asks for the estimate once the first window of AUTO_WINDOW
    iterations is measured; by 0.5 per iteration it never does; growth after the estimate
    that is not sustained does not back off."""
    from sgphys.solvers import _auto_state

    model = _model(3, 20, 60, 0.5, seed=1)
    J = np.ascontiguousarray(model.J)
    v = 1.0 / (100.0 * model.lam_k)
    zero = np.zeros(model.n_spins)
    for rate, expect in ((0.97, True), (0.5, False)):
        state = _auto_state()
        fired = None
        for it in range(30):
            K.auto_damping_step(state, it, 0.1 * rate ** it, 0.0, J, model.lam_k, 100.0, v,
                                zero, False, 1e-10)
            if state[2] == 1.0 and fired is None:
                fired = it
        assert (fired is not None) == expect, (rate, fired)
        if expect:
            assert fired == K.AUTO_START_ITER + K.AUTO_WINDOW
            d = state[0]
            assert d == K.richardson_damping(state[5], state[3]) and 0 <= state[5] <= state[3]
            # one uptick after the estimate: no back-off (sustained growth only)
            K.auto_damping_step(state, 30, 1.5 * 0.1 * rate ** 29, 0.0, J, model.lam_k, 100.0,
                                v, zero, False, 1e-10)
            assert state[0] == d
    # a resumed solve restarts the window (iterations count from 0 again)
    state = _auto_state()
    for it in range(5):
        K.auto_damping_step(state, it, 0.1 * 0.97 ** it, 0.0, J, model.lam_k, 100.0, v, zero,
                            False, 1e-10)
    from sgphys.solvers import _resume_window

    _resume_window(state)
    for it in range(K.AUTO_START_ITER + K.AUTO_WINDOW + 1):
        K.auto_damping_step(state, it, 0.01 * 0.97 ** it, 0.0, J, model.lam_k, 100.0, v,
                            zero, False, 1e-10)
    assert state[2] == 1.0
    with pytest.raises(ValueError, match="AUTO_STATE"):
        K.amp_solve_auto(J, model.h, model.lam_k, 100.0, np.zeros(model.n_spins), v.copy(),
                         True, 1e-10, 10, False, np.empty(0), False, np.zeros(5))


def test_slow_undamped_iteration_gets_the_optimal_damping():
    """mu_max just below 2: undamped AMP converges, but at rate |1 - mu_max| ~ 0.96 (its
    early residual ticks up once, which asks for the estimate here; the rate trigger is
    tested on its own below); the damping is the optimum of the linear mean map from the
    dense spectrum, and the solve ends within a few iterations of its prediction."""
    beta = 100.0
    model = sgphys.SpinModel.from_tasks(
        sgphys.sample_tasks(10, 40, 120, seed=40120, method="statistics"), 1.0)
    lo, hi, _ = _mean_map_spectrum(model, beta)
    assert 1.9 < hi < 2.0
    exact = sgphys.solve_exact(model, beta)
    undamped = sgphys.solve_amp(model, beta, damping=0.0)
    auto = sgphys.solve_amp(model, beta)
    assert undamped.converged and undamped.n_iter > 300
    assert auto.converged and auto.info["damping_estimated"]
    assert auto.info["damping_final"] == pytest.approx(K.richardson_damping(lo, hi), abs=0.02)
    d = auto.info["damping_final"]
    predicted = np.log(1e-10) / np.log(max(abs(1 - (1 - d) * lo), abs(1 - (1 - d) * hi)))
    assert auto.n_iter <= predicted + K.AUTO_START_ITER + K.AUTO_WINDOW + 12
    assert np.max(np.abs(auto.mean - exact.mean)) < 1e-8
    spec = sgphys.solve_amp(model, beta, damping=max(0, 1 - 2 / hi) + 0.05)
    assert spec.converged and auto.n_iter < spec.n_iter / 2  # The fixed rule (docs/model.rst, section AMP)


def test_prefix_models_equal_models_built_from_each_prefix(monkeypatch):
    from sgphys import spin

    tasks = sgphys.sample_tasks(4, 10, 90, seed=5, method="statistics")
    H, y = tasks.feature_arrays()
    Ps = [7, 20, 21, 90]
    series = list(spin.prefix_models(4, 0.3, H, y, Ps))
    assert [P for P, _ in series] == Ps
    for P, m in series:
        ref = sgphys.SpinModel.from_arrays(H[:P], y[:P], 0.3, 4)
        assert m.P == P and np.shares_memory(m.H, H)
        assert np.array_equal(m.Q, m.Q.T)
        np.testing.assert_allclose(m.Q, ref.Q, rtol=0, atol=1e-13)
        np.testing.assert_allclose(m.h, ref.h, rtol=0, atol=1e-14)
        assert m.energy_offset == pytest.approx(ref.energy_offset, rel=1e-13)
        assert m._J is None  # built on demand
        J = -m.Q
        J[np.diag_indices(m.n_spins)] = 0.0
        assert np.array_equal(m.J, J)
        np.testing.assert_allclose(sgphys.solve_exact(m, 10.0).mean,
                                   sgphys.solve_exact(ref, 10.0).mean, atol=1e-10)
    # the panel route (beyond the syrk wrapper's size) gives the same models to rounding
    monkeypatch.setattr(spin, "SYRK_MAX_BYTES", 0)
    monkeypatch.setattr(spin, "PANEL", 7)
    for (P, a), (_, b) in zip(series, spin.prefix_models(4, 0.3, H, y, Ps)):
        np.testing.assert_allclose(a.Q, b.Q, rtol=0, atol=1e-13)
    for bad in ([20, 7], [7, 7], [0, 5], [5, 91]):
        with pytest.raises(ValueError, match="Ps"):
            list(spin.prefix_models(4, 0.3, H, y, bad))
    H2 = H.copy()
    H2[3, 0] = np.inf
    with pytest.raises(ValueError, match="H"):
        list(spin.prefix_models(4, 0.3, H2, y, Ps))


def test_mirror_scaled_equals_its_numpy_expression():
    from sgphys.kernels.moments import mirror_scaled

    for n in (1, 5, 64, 65, 130):
        L = np.random.default_rng(n).standard_normal((n, n))
        Q = np.empty((n, n))
        assert mirror_scaled(L, 37, Q)
        low = np.tril(L) / 37
        ref = low + np.tril(low, -1).T
        assert np.array_equal(Q, ref)
    L[2, 1] = np.inf
    assert not mirror_scaled(L, 37, Q)


def test_rbp_message_init_equals_the_fancy_indexed_copy():
    from sgphys.kernels import rbp as R

    for n in (2, 7, 130):
        rng = np.random.default_rng(n)
        m0, v0 = rng.standard_normal(n), rng.random(n) + 0.1
        J = rng.standard_normal((n, n))
        J = J + J.T
        J[np.diag_indices(n)] = 0.0
        iu, ju = np.triu_indices(n, 1)
        ref = (m0[iu], v0[iu], m0[ju], v0[ju])
        off = R.pair_offsets(n)
        sums = []
        for parallel in (False, True):
            out = tuple(np.full(len(iu), np.nan) for _ in range(4))
            T, S = np.full(n, np.nan), np.full(n, np.nan)
            R.init_messages(J, off, m0, v0, *out, R.chunk_bounds(n, 3), T, S, parallel)
            for a, b in zip(out, ref):
                assert np.array_equal(a, b)
            # the node sums of the initial messages, in the same pass: J m0 and J^2 v0
            np.testing.assert_allclose(T, J @ m0, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(S, (J * J) @ v0, rtol=1e-12)
            sums.append((T, S))
        assert all(np.array_equal(a, b) for a, b in zip(*sums))  # threads: same bits


@pytest.mark.parametrize("prior", [None, "ternary"])
def test_rbp_reads_q_builds_no_j_and_gives_the_bits_of_j(prior):
    """r-BP's kernels take ``-Q`` above the diagonal when the model has no J (an exact
    negation): the solve, its certificate, its Bethe free energy and the damping rule give
    the bits they give from J, and build no J."""
    from sgphys.priors import Ternary
    from sgphys.solvers import rbp_auto_damping

    if prior is None:
        model = _model(6, 20, 200, 0.3, seed=4)
    else:
        model = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(6, 12, 400, seed=4), 0.0,
                                            prior=Ternary(1.0, 0.5))
    beta = 10.0
    a = sgphys.solve_rbp(model, beta, parallel=False)
    d = rbp_auto_damping(model, beta) if prior is None else None
    assert model._J is None
    assert a.converged, a
    model.J  # noqa: B018  (now the kernels read J)
    for par in (False, True):
        b = sgphys.solve_rbp(model, beta, parallel=par)
        assert np.array_equal(a.mean, b.mean) and np.array_equal(a.var, b.var)
        assert a.n_iter == b.n_iter and a.residual == b.residual
        assert a.log_z == b.log_z or (np.isnan(a.log_z) and np.isnan(b.log_z))
    if d is not None:
        e = rbp_auto_damping(model, beta)
        assert d[0] == e[0] and np.array_equal(d[1], e[1]) and d[3] == e[3]
    if prior is None:  # and the means are the exact ones
        np.testing.assert_allclose(a.mean, sgphys.solve_exact(model, beta).mean, rtol=0,
                                   atol=1e-8 * np.abs(a.mean).max())
