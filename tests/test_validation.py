"""Property-based checks of input validation: bad input raises ValueError naming the
parameter, good input returns finite results. The validity of each generated input is
decided here, independently of sgphys's own checks."""

import math
import numbers

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sgphys

SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

ints = st.one_of(st.integers(-2, 4), st.sampled_from([2.0, 1.5, float("nan"), True, "3"]))
reals = st.one_of(st.floats(-1.0, 2.0), st.sampled_from([0.0, float("nan"), float("inf"), -1e-9]))


def _pos_int(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= 1


def _real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


@SETTINGS
@given(D=ints, N=ints, P=ints, corr=reals, mode=st.sampled_from(["equicorrelated", "paper", "x"]),
       sigma_x=reals, noise=reals)
def test_sample_tasks_validation(D, N, P, corr, mode, sigma_x, noise):
    checks = {
        "D": _pos_int(D), "N": _pos_int(N), "P": _pos_int(P),
        "corr": _real(corr) and 0 <= corr < 1,
        "corr_mode": mode in ("equicorrelated", "paper"),
        "sigma_x": _real(sigma_x) and sigma_x > 0,
        "noise": _real(noise) and noise >= 0,
    }
    try:
        tasks = sgphys.sample_tasks(D, N, P, seed=0, corr=corr, corr_mode=mode,
                                    sigma_x=sigma_x, noise=noise)
    except ValueError as exc:
        bad = [name for name, ok in checks.items() if not ok]
        assert bad, f"valid input rejected: {exc}"
        assert any(name in str(exc) for name in bad), str(exc)
        return
    assert all(checks.values()), f"invalid input accepted: {checks}"
    assert np.all(np.isfinite(tasks.Z)) and np.all(np.isfinite(tasks.y))


@st.composite
def model_inputs(draw):
    D = draw(st.integers(1, 3))
    n = D * (D + 1)
    P = draw(st.integers(1, 2 * n + 2))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    H = rng.standard_normal((P, n))
    y = rng.standard_normal(P)
    corrupt = draw(st.sampled_from(["none", "nan_H", "inf_y", "shape_H", "shape_y"]))
    if corrupt == "nan_H":
        H[0, 0] = np.nan
    elif corrupt == "inf_y":
        y[-1] = np.inf
    elif corrupt == "shape_H":
        H = H[:, :-1]
    elif corrupt == "shape_y":
        y = y[:-1] if P > 1 else np.zeros(2)
    lam = draw(st.one_of(st.sampled_from([0.0, -0.1, float("nan")]), st.floats(1e-3, 2.0)))
    beta = draw(st.one_of(st.sampled_from([0.0, -1.0, float("inf")]), st.floats(0.1, 200.0)))
    return D, H, y, lam, beta, corrupt


@SETTINGS
@given(model_inputs())
def test_spin_model_and_exact_solver_validation(args):
    D, H, y, lam, beta, corrupt = args
    n = D * (D + 1)
    model_ok = corrupt == "none" and _real(lam) and lam >= 0
    try:
        model = sgphys.SpinModel.from_arrays(H, y, lam, D)
    except ValueError as exc:
        assert not model_ok, f"valid model rejected: {exc}"
        bad = [{"nan_H": "H", "inf_y": "y", "shape_H": "H", "shape_y": "y"}.get(corrupt, "?")]
        if not (_real(lam) and lam >= 0):
            bad.append("lam")
        assert any(name in str(exc) for name in bad), str(exc)
        return
    assert model_ok, "invalid model accepted"
    solve_ok = _real(beta) and beta > 0 and (lam > 0 or H.shape[0] >= n)
    try:
        r = sgphys.solve_exact(model, beta)
    except ValueError as exc:
        if _real(beta) and beta > 0:
            # lam = 0 with a rank-deficient Q: the measure is improper
            assert lam == 0 and "lam" in str(exc), str(exc)
            assert np.linalg.matrix_rank(H) < n
        else:
            assert "beta" in str(exc)
        return
    assert solve_ok
    assert np.all(np.isfinite(r.mean)) and np.all(r.var > 0)
    s = r.mean
    assert math.isfinite(model.energy(s)) and math.isfinite(model.loss(model.to_weights(s)))


@SETTINGS
@given(D=st.integers(1, 3), rows=st.integers(1, 5), block=st.sampled_from(["full", "w11", "w12"]),
       corrupt=st.sampled_from(["none", "nan", "shape", "last_col"]), seed=st.integers(0, 99))
def test_weight_observables_validation(D, rows, block, corrupt, seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((D + 1, D + 1))
    W[:, D] = 0.0
    if corrupt == "nan":
        W[0, 0] = np.nan
    elif corrupt == "shape":
        W = W[:, :-1]
    elif corrupt == "last_col":
        W[0, D] = 1.0
    tasks = sgphys.sample_tasks(D, 3, rows, seed=seed)
    model = sgphys.SpinModel.from_tasks(tasks, 0.1)
    ok_cr = corrupt in ("none", "last_col") and block != "w12"
    try:
        value = sgphys.contrast_ratio(W, block=block)
        assert ok_cr and math.isfinite(value) and abs(value) <= 1 + 1e-12
    except ValueError as exc:
        assert not ok_cr
        assert ("block" in str(exc)) if corrupt in ("none", "last_col") else ("W" in str(exc))
    ok_loss = corrupt == "none"
    try:
        value = model.loss(W)
        assert ok_loss and math.isfinite(value)
    except ValueError as exc:
        assert not ok_loss and "W" in str(exc)
    ok_err = corrupt in ("none", "last_col")  # the inert column is ignored by the prediction
    try:
        value = sgphys.test_error(W, tasks)
        assert ok_err and math.isfinite(value) and value >= 0
    except ValueError as exc:
        assert not ok_err and "W" in str(exc)


def test_exact_solver_rejects_improper_measures_that_cholesky_lets_through():
    """lam = 0 with rank(Q) < n_spins: rounding can leave every Cholesky pivot positive
    (hypothesis found P=1, D=1; this H is one), so solve_exact checks the rank bound and
    the pivots."""
    H, y = np.array([[-0.7111357807746016, 0.769627314886453]]), np.array([1.0])
    with pytest.raises(ValueError, match="lam"):
        sgphys.solve_exact(sgphys.SpinModel.from_arrays(H, y, 0.0, 1), 1.0)
    rng = np.random.default_rng(0)
    D = 3
    n = D * (D + 1)
    H = rng.normal(size=(4 * n, n - 1)) @ rng.normal(size=(n - 1, n))  # P > n, rank n - 1
    model = sgphys.SpinModel.from_arrays(H, rng.normal(size=4 * n), 0.0, D)
    assert np.linalg.matrix_rank(model.Q) == n - 1
    with pytest.raises(ValueError, match="lam"):
        sgphys.solve_exact(model, 1.0)
    ok = sgphys.SpinModel.from_arrays(H, rng.normal(size=4 * n), 1e-6, D)  # any lam > 0 is fine
    assert np.all(sgphys.solve_exact(ok, 1.0).var > 0)


# -- regression tests of the input-validation review (each failed before its fix) --------

import os
import subprocess
import sys
import textwrap

from sgphys import _validate, solvers


def _small_model(D=2, P=40, lam=0.1, seed=0):
    return sgphys.SpinModel.from_tasks(sgphys.sample_tasks(D, 10, P, seed=seed), lam)


def _run_isolated(code):
    """Run ``code`` in a fresh interpreter (a segfault fails the test, not pytest)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-X", "faulthandler", "-c", textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=300, cwd=root, check=False)
    assert proc.returncode == 0, f"return code {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_kernels_never_see_unchecked_arrays_in_a_subprocess():
    """auto_damping(v0 too short) wrote past the array in the numba kernel (segfault); a
    reassigned model attribute reached the kernels the same way."""
    out = _run_isolated("""
        import numpy as np, sgphys
        from sgphys import solvers
        model = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(2, 10, 40, seed=0), 0.1)
        calls = {
            "v0": lambda: solvers.auto_damping(model, 100.0, v0=np.full(2, 1e-4)),
            "v0 ": lambda: solvers.rbp_auto_damping(model, 100.0, v0=np.full(2, 1e-4)),
            "init[1]": lambda: sgphys.solve_amp(model, 100.0, init=(np.zeros(6), np.ones(2))),
            "init[0]": lambda: sgphys.solve_rbp(model, 100.0, init=(np.zeros(2), np.ones(6))),
            "init": lambda: sgphys.solve_bp(model, 100.0, init=np.zeros(6)),
        }
        broken = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(2, 10, 40, seed=0), 0.1)
        broken.h = np.zeros(2)
        calls["model.h"] = lambda: sgphys.solve_amp(broken, 100.0)
        calls["model.h "] = lambda: sgphys.solve_rbp(broken, 100.0)
        calls["model.h  "] = lambda: sgphys.solve_bp(broken, 100.0, grid=9)
        for name, call in calls.items():
            try:
                call()
            except ValueError as exc:
                assert name.strip() in str(exc), (name, str(exc))
                print("ok", name)
            else:
                raise SystemExit(f"{name}: accepted")
    """)
    assert out.count("ok") == 8


@pytest.mark.parametrize("fn", [solvers.auto_damping, solvers.rbp_auto_damping])
@pytest.mark.parametrize("kwargs,name", [
    ({"v0": np.ones((6, 1))}, "v0"), ({"v0": np.full(6, np.nan)}, "v0"),
    ({"v0": -np.ones(6)}, "v0"), ({"v0": np.ones(6) + 0j}, "v0"), ({"tol": -1}, "tol"),
    ({"max_iter": 0}, "max_iter"), ({"max_iter": 2 ** 64}, "max_iter"),
    ({"parallel": "no"}, "parallel")])
def test_auto_damping_checks_every_argument(fn, kwargs, name):
    with pytest.raises(ValueError, match=name):
        fn(_small_model(), 100.0, **kwargs)


def test_full_bp_of_an_ill_conditioned_model_raises_instead_of_zero_division():
    """lam = 1e-6 with one task: the exact marginal is ~400 prior widths wide, so the grid
    cannot resolve the messages; the kernel divided by a zero variance."""
    model = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(2, 10, 1, seed=0), 1e-6)
    with pytest.raises(ValueError, match="grid"):
        sgphys.solve_bp(model, 100.0)


def test_bp_kernel_flags_a_collapsed_message():
    """A density on a single grid point has variance 0: moments gives NaN kurtosis (no
    ZeroDivisionError, also when var^2 underflows) and bp_solve stops with
    nonpositive_precision."""
    from sgphys.kernels import bp as K
    from sgphys.kernels.reasons import NONPOSITIVE

    x = np.linspace(-1.0, 1.0, 7)
    logw = K.trapezoid_logw(7, x[1] - x[0])
    point = np.full(7, -np.inf)
    point[3] = 0.0
    _, v, kurt = K.moments(point, x, logw)
    assert v == 0.0 and np.isnan(kurt)
    narrow = np.full(7, -745.0)  # neighbours at exp(-745): var ~ 1e-324, var^2 underflows
    narrow[3] = -logw[3]
    assert np.isnan(K.moments(narrow, x, logw)[2])
    model = _small_model(D=1, P=10)
    n = model.n_spins
    grid = np.ascontiguousarray(np.broadcast_to(x, (n, 7)))
    logmu = np.full((n, n, 7), -np.inf)
    logmu[:, :, 3] = 0.0
    for i in range(n):
        for j in range(n):
            K._normalise(logmu[i, j], logw)
    mean, var, kurt = np.zeros(n), np.zeros(n), np.zeros(n)
    J = model.J * 0.0  # no coupling: each marginal is its (point-mass) local field
    h = np.zeros(n)
    lam_k = np.full(n, 1e8)  # prior far narrower than the grid spacing
    _, _, code = K.bp_solve(J, h, lam_k, 1.0, grid, K.grid_logw(grid), logmu, 0.0, 1e-10, 5,
                            False, np.empty(0), mean, var, kurt, False)
    assert code == NONPOSITIVE


@pytest.mark.parametrize("damping", [0.3, 0.8, "auto"])
def test_full_bp_certifies_its_density_fixed_point(damping):
    """converged=True only once one more undamped sweep of the final messages changes no
    message moment by more than tol (info["fixed_point_residual"]); the exact-mean
    equation's residual is reported (grid accuracy) too."""
    model = _small_model(D=2, P=100, lam=0.1, seed=2)
    r = sgphys.solve_bp(model, 100.0, grid=41, damping=damping, tol=1e-9)
    assert r.converged
    assert r.info["fixed_point_residual"] <= 1e-9
    assert r.info["mean_equation_residual"] == pytest.approx(model.linear_residual(r.mean))
    assert r.info["mean_equation_residual"] < 1e-6  # grid accuracy, not tol
    paper = sgphys.solve_bp(model, 100.0, grid=41, criterion="paper", tol=1e-6)
    assert "fixed_point_residual" not in paper.info  # the authors' rule is not certified


@pytest.mark.parametrize("call,name", [
    (lambda m: sgphys.SpinModel.from_arrays(m.H + 1e-3j, m.y, 0.1, 2), "H"),
    (lambda m: sgphys.SpinModel.from_arrays(m.H, m.y.astype(str), 0.1, 2), "y"),
    (lambda m: sgphys.SpinModel.from_arrays(m.H > 0, m.y, 0.1, 2), "H"),
    (lambda m: sgphys.SpinModel.from_arrays(m.H * 1e300, m.y, 0.1, 2), "H"),
    (lambda m: sgphys.features(sgphys.sample_tasks(2, 3, 4).Z + 1j), "Z"),
    (lambda m: sgphys.Tasks.from_arrays(sgphys.sample_tasks(2, 3, 4).Z.astype(object),
                                        np.zeros(4)), "Z"),
    (lambda m: sgphys.solve_amp(m, max_iter=2 ** 64), "max_iter"),
    (lambda m: sgphys.solve_amp(m, parallel="no"), "parallel"),
    (lambda m: sgphys.solve_rbp(m, history="yes"), "history"),
    (lambda m: sgphys.sample_tasks(2, 3, 4, seed=1.5), "seed"),
    (lambda m: sgphys.sample_tasks(2, 3, 4, seed=-1), "seed"),
    (lambda m: sgphys.sample_tasks(2, 3, 1e20), "P"),
    (lambda m: sgphys.sample_tasks(2, 3, 10 ** 20), "P"),
    (lambda m: sgphys.theory_test_error("10", 5), "N"),
    (lambda m: sgphys.theory_test_error(float("nan"), 5), "N"),
    (lambda m: sgphys.SpinModel.from_tasks("tasks", 1.0), "tasks"),
])
def test_bad_values_raise_naming_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call(_small_model())


def test_check_array_rejects_non_real_dtypes():
    for bad in (np.array(["1", "2"]), np.array([1 + 2j]), np.array([True]),
                np.array([1.0, None], dtype=object), [[1.0], [1.0, 2.0]], None, "12"):
        with pytest.raises(ValueError, match="x"):
            _validate.check_array("x", bad)
    out = _validate.check_array("x", np.arange(6.0).reshape(2, 3).T)  # non-contiguous view
    assert out.flags.c_contiguous and out.dtype == np.float64
    assert _validate.check_array("x", 2.0).shape == ()


def test_train_checks_init_and_flags_divergence():
    tasks = sgphys.sample_tasks(2, 3, 10)
    with pytest.raises(ValueError, match=r"init.*\['W'\]"):
        sgphys.train(tasks, init={"foo": np.zeros(3)}, epochs=2)
    with pytest.raises(ValueError, match=r"init\['W'\].*\(3, 3\).*\(2, 2\)"):
        sgphys.train(tasks, init={"W": np.zeros((2, 2))}, epochs=2)
    with pytest.raises(ValueError, match=r"init\['W'\]"):
        sgphys.train(tasks, init={"W": np.full((3, 3), np.nan)}, epochs=2)
    with pytest.raises(ValueError, match="init"):
        sgphys.train(tasks, init="W", epochs=2)
    with pytest.raises(ValueError, match="lr"):
        sgphys.train(tasks, lr=1e6, optimizer="sgd", epochs=50)
    ok = sgphys.train(tasks, init={"W": np.zeros((3, 3))}, epochs=2)
    assert np.all(np.isfinite(ok.history["train_loss"].values))
    with pytest.raises(ValueError, match=r"params.*\['W'\]"):
        sgphys.predict({"foo": np.zeros(3)}, tasks.Z)


def test_allocation_guards_name_the_parameter(monkeypatch):
    model = _small_model()
    with pytest.raises(ValueError, match="D=1000000"):
        sgphys.sample_tasks(10 ** 6, 2, 2).features()
    with pytest.raises(ValueError, match="N=1000000000000"):
        sgphys.sample_tasks(2, 10 ** 12, 1).Z  # noqa: B018
    with pytest.raises(ValueError, match="P=1000000000000"):
        sgphys.SpinModel.from_tasks(sgphys.sample_tasks(2, 3, 10 ** 12), 0.1)
    with pytest.raises(ValueError, match="D=1000"):
        sgphys.SpinModel.from_tasks(sgphys.sample_tasks(1000, 2, 1), 0.1)
    with pytest.raises(ValueError, match="max_iter"):
        sgphys.solve_amp(model, max_iter=10 ** 12, history=True)
    with pytest.raises(ValueError, match="epochs"):
        sgphys.train(sgphys.sample_tasks(2, 3, 4), epochs=10 ** 12)
    monkeypatch.setattr(_validate, "MAX_MEMORY", 8 * 2 ** 30)
    big = sgphys.SpinModel.from_couplings(np.zeros((2550, 2550)), np.zeros(2550),
                                          np.ones(2550), 50)
    with pytest.raises(ValueError, match="grid=101"):  # D = 50: 6 n^2 K doubles ~ 30 GiB
        sgphys.solve_bp(big, 100.0)
    monkeypatch.setattr(_validate, "MAX_MEMORY", None)
    monkeypatch.setenv("SGPHYS_MAX_MEMORY", str(10 ** 6))
    with pytest.raises(ValueError, match="grid=101.*MiB"):  # D = 5: 4.4 MB > 1 MB
        sgphys.solve_bp(_small_model(D=5, P=200), 100.0)
    assert _validate.memory_limit() == 10 ** 6
    monkeypatch.delenv("SGPHYS_MAX_MEMORY")
    assert _validate.memory_limit() is None or _validate.memory_limit() > 10 ** 6


def test_overflow_is_an_error_not_a_silent_nan():
    model = _small_model()
    assert sgphys.contrast_ratio(np.eye(11) * 1e308) == pytest.approx(1.0)
    assert sgphys.contrast_ratio(np.eye(3) * 5e-324) == pytest.approx(1.0)
    W = np.zeros((3, 3))
    W[:, :2] = 1e300
    for call, name in ((lambda: model.energy(np.full(6, 1e300)), "s"),
                       (lambda: model.loss(W), "W"),
                       (lambda: sgphys.test_error(W, sgphys.sample_tasks(2, 3, 4)), "W"),
                       (lambda: sgphys.predict_merged(np.eye(3), np.full((1, 3, 2), 1e300)), "W, Z"),
                       (lambda: sgphys.features(np.full((1, 3, 2), 1e300)), "Z"),
                       (lambda: sgphys.sample_tasks(2, 3, 4, sigma_x=1e100, sigma_w=1e300).features(),
                        "sigma_x"),
                       (lambda: sgphys.solve_exact(model, 1e-310), "beta")):
        with pytest.raises(ValueError, match=name):
            call()
    from sgphys import baselines, discrete

    with pytest.raises(ValueError, match="noise"):  # was OverflowError
        baselines.ridge_predict(sgphys.sample_tasks(2, 3, 4), noise=1e308)
    ess, rhat = discrete.ess_rhat(np.random.default_rng(0).standard_normal((2, 16)) * 1e307)
    assert np.isfinite(ess) and np.isfinite(rhat)


def test_observables_check_their_container_arguments():
    model = _small_model(D=3, P=60)
    stats = sgphys.block_statistics(model, bins=8)
    for call, name in ((lambda: sgphys.kl_divergence(object(), stats), "stats_a"),
                       (lambda: sgphys.fit_blocks("stats"), "stats"),
                       (lambda: sgphys.resample_model(model, {"J1": 3}), "fit"),
                       (lambda: sgphys.resample_model(model, sgphys.fit_blocks(stats),
                                                      split_h1="no"), "split_h1"),
                       (lambda: sgphys.block_statistics(3), "models_or_model"),
                       (lambda: sgphys.block_statistics(model, bins={}), "bins"),
                       (lambda: sgphys.spectral_density(np.zeros((2, 2, 2))), "eigenvalues"),
                       (lambda: sgphys.spectral_density(np.ones(3), range=(1, 0)), "range")):
        with pytest.raises(ValueError, match=name):
            call()
    degenerate = sgphys.block_statistics(_small_model(D=2), bins=8)  # J3: two equal values
    with pytest.raises(ValueError, match="J3"):
        sgphys.fit_blocks(degenerate)
    huge = sgphys.SpinModel.from_couplings(np.full((2, 2), 1e150) * (1 - np.eye(2)),
                                           np.ones(2), np.ones(2), 1)
    with pytest.raises(ValueError, match="values"):  # the x^4 power sums overflowed to NaN
        sgphys.block_statistics(huge)


def test_rbp_runs_with_the_jit_disabled():
    """With NUMBA_DISABLE_JIT=1 the kernels run as Python; r-BP's bit-cast intrinsics then
    fall back to NumPy views and the fixed point still equals the exact marginals (a
    Gaussian model: r-BP's means are exact at its fixed point)."""
    code = textwrap.dedent("""
        import numpy as np, sgphys
        from sgphys.kernels import rbp
        x = -2.5e-300
        assert rbp._float(rbp._bits(x)) == x
        assert rbp._bits(1.0) == 0x3FF0000000000000
        m = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(2, 5, 100, seed=0), 0.5)
        r, e = sgphys.solve_rbp(m, 1.0), sgphys.solve_exact(m, 1.0)
        assert r.converged, r.reason
        print(float(np.abs(r.W - e.W).max()))
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, NUMBA_DISABLE_JIT="1", PYTHONPATH=root)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, cwd=root, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert float(proc.stdout.split()[-1]) < 1e-8


def test_array_errors_name_dtype_and_shape_never_the_contents():
    values = np.full((40, 50), 1.2345678) + 1j
    with pytest.raises(ValueError) as info:
        _validate.check_array("W", values)
    msg = str(info.value)
    assert "W" in msg and "complex128" in msg and "(40, 50)" in msg and "1.234" not in msg
    bad = np.full((3, 7), 9.87654)
    bad[1, 2] = np.nan
    with pytest.raises(ValueError) as info:
        _validate.check_array("h", bad)
    assert "(3, 7)" in str(info.value) and "9.876" not in str(info.value)
    with pytest.raises(ValueError) as info:
        _validate.check_positive_int("D", np.arange(1000.0) + 0.123)
    assert "shape (1000,)" in str(info.value) and "0.123" not in str(info.value)


@pytest.mark.parametrize("value,expected", [
    (np.int64(3), 3), (np.uint8(3), 3), (np.array(3), 3), (np.array(3, dtype=np.int16), 3),
    (np.float32(0.5), 0.5), (np.array(2.5), 2.5), (7, 7), (np.bool_(True), True)])
def test_any_integer_or_float_type_is_a_number(value, expected):
    got = _validate.as_scalar(value)
    assert got == expected and type(got) is type(expected)
    if type(expected) is int and expected >= 1:
        assert _validate.check_positive_int("n", value) == expected
    if type(expected) in (int, float):
        assert _validate.check_nonnegative("x", value) == float(expected)
    if type(expected) is bool:
        with pytest.raises(ValueError, match="n"):
            _validate.check_positive_int("n", value)
    for not_a_number in (np.array([3]), np.array(3 + 0j), np.array("3"), "3"):
        with pytest.raises(ValueError, match="x"):
            _validate.check_nonnegative("x", not_a_number)


@pytest.mark.parametrize("text,expected", [
    ("1000", 1000), ("8G", 8 * 2 ** 30), ("8 GiB", 8 * 2 ** 30), ("8gb", 8 * 2 ** 30),
    ("1.5M", 3 * 2 ** 19), ("2e9", 2 * 10 ** 9), ("1T", 2 ** 40), (" 64k ", 2 ** 16)])
def test_memory_limit_parses_sizes(monkeypatch, text, expected):
    monkeypatch.setattr(_validate, "MAX_MEMORY", None)
    monkeypatch.setenv("SGPHYS_MAX_MEMORY", text)
    assert _validate.memory_limit() == expected


@pytest.mark.parametrize("text", ["lots", "-5", "0", "inf", "nan", "8X", "1e400", "G", "0.5"])
def test_a_bad_memory_limit_is_one_clear_error(monkeypatch, text):
    monkeypatch.setattr(_validate, "MAX_MEMORY", None)
    monkeypatch.setenv("SGPHYS_MAX_MEMORY", text)
    with pytest.raises(ValueError, match="SGPHYS_MAX_MEMORY") as info:
        _validate.memory_limit()
    assert len(str(info.value).splitlines()) == 1


def test_memory_check_reads_the_machine_only_for_large_requests(monkeypatch):
    monkeypatch.setattr(_validate, "MAX_MEMORY", None)
    monkeypatch.delenv("SGPHYS_MAX_MEMORY", raising=False)
    reads = []

    def available():
        reads.append(1)
        return 10 ** 6
    monkeypatch.setattr(_validate, "_system_available_memory", available)
    _validate.check_memory("x", 1, _validate.SMALL_REQUEST - 1)  # small: not read
    assert reads == []
    with pytest.raises(ValueError, match="x=1"):
        _validate.check_memory("x", 1, _validate.SMALL_REQUEST)
    assert reads == [1]
    monkeypatch.setenv("SGPHYS_MAX_MEMORY", "1000")  # an explicit limit: every size
    with pytest.raises(ValueError, match="x=2"):
        _validate.check_memory("x", 2, 1001)
