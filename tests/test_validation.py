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
