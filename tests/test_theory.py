"""Tests of sgphys.theory: the asymptotic ICL theory of Lu, Letey, Zavatone-Veth, Maiti &
Pehlevan, PNAS 122 (28), e2502599122 (2025), arXiv:2405.11751 ("the PNAS paper"), and its
mapping onto sgphys's normalisation.

Check values are the PNAS paper's formulas evaluated at the quoted points (copied here; the
tests read nothing outside the repository).
"""

import math

import numpy as np
import pytest
from scipy import integrate

import sgphys
from sgphys import theory
from sgphys.theory import (icl_error, idg_error, m_kappa, m_kappa_prime, task_diversity_gap,
                           theory_params, theory_test_error, zero_mode_fraction)

# (alpha, tau) -> ridgeless e_ICL at kappa = inf, rho = 0 (the PNAS paper's formulas;
# (1, 25) is 25/48 = 0.5208333...)
CHECK_VALUES = {(2.0, 2.0): 2.0 / 3.0, (5.0, 0.5): 0.75, (5.0, 3.0): 0.25,
                (1.0, 25.0): 25.0 / 48.0}


# -- check values ---------------------------------------------------------------------------

@pytest.mark.parametrize("point", sorted(CHECK_VALUES))
def test_check_values(point):
    alpha, tau = point
    assert icl_error(alpha, tau) == pytest.approx(CHECK_VALUES[point], abs=1e-10)


def test_check_value_digits():
    # the value as quoted (0.5208333, seven digits)
    assert round(icl_error(1.0, 25.0), 7) == 0.5208333


@pytest.mark.parametrize("kappa, gap, digits", [(0.5, 0.50, 2), (1.0, 0.145, 3),
                                                (2.0, 0.023, 3)])
def test_task_diversity_gap_values(kappa, gap, digits):
    # alpha = 10, tau = 1e4, rho = 0.01: "about 0.50, 0.145, 0.023 at kappa = 0.5, 1, 2"
    g = task_diversity_gap(10.0, 1e4, kappa, 0.01)
    assert abs(g - gap) <= 0.5 * 10.0**-digits


# -- limits -----------------------------------------------------------------------------------

@pytest.mark.parametrize("point", sorted(CHECK_VALUES))
def test_ridge_tends_to_ridgeless(point):
    alpha, tau = point
    assert abs(icl_error(alpha, tau, lam=1e-8) - icl_error(alpha, tau)) < 1e-6


@pytest.mark.parametrize("kappa", [0.3, 1.0, 3.0])
@pytest.mark.parametrize("alpha, tau", [(2.0, 0.5), (2.0, 2.0), (1.0, 25.0), (0.5, 0.9),
                                        (3.0, 1.1)])
def test_ridge_tends_to_ridgeless_finite_kappa(alpha, tau, kappa):
    e0 = icl_error(alpha, tau, kappa, 0.1)
    assert abs(icl_error(alpha, tau, kappa, 0.1, lam=1e-9) - e0) < 1e-6 * max(1.0, e0)


def test_ridge_is_finite_through_the_peak():
    taus = np.array([0.9, 0.99, 1.0, 1.01, 1.1])
    e = icl_error(2.0, taus, lam=0.1)
    assert np.all(np.isfinite(e))
    assert np.all(np.abs(np.diff(e)) < 0.05)  # continuous across tau = 1
    assert icl_error(2.0, 1.0) == np.inf


@pytest.mark.parametrize("alpha", [0.5, 1.0, 3.0, 10.0])
def test_large_tau_limit(alpha):
    # independent closed form: 1/(1 + alpha), the large-D limit of (D+1)/(N+D+1)
    assert icl_error(alpha, 1e9) == pytest.approx(1.0 / (1.0 + alpha), rel=1e-7)
    D = 10**6
    assert theory_test_error(int(alpha * D), D) == pytest.approx(1.0 / (1.0 + alpha),
                                                                 rel=1e-5)


def test_idg_equals_icl_at_infinite_kappa():
    alpha = np.array([0.5, 1.0, 2.0, 5.0])[:, None, None]
    tau = np.array([0.2, 0.5, 0.9, 1.5, 3.0, 25.0])[None, :, None]
    rho = np.array([0.0, 0.01, 0.5])[None, None, :]
    np.testing.assert_allclose(idg_error(alpha, tau, np.inf, rho),
                               icl_error(alpha, tau, np.inf, rho), rtol=1e-12)
    assert np.all(np.abs(task_diversity_gap(alpha, tau, np.inf, rho)) < 1e-12)


@pytest.mark.parametrize("alpha, tau, rho", [(10.0, 1e4, 0.01), (2.0, 0.5, 0.1),
                                             (2.0, 3.0, 0.0)])
def test_gap_vanishes_as_kappa_grows(alpha, tau, rho):
    kappas = np.array([0.5, 1.0, 2.0, 8.0, 32.0, 1e3, 1e6])
    g = task_diversity_gap(alpha, tau, kappas, rho)
    assert np.all(g > 0)
    assert np.all(np.diff(g) < 0)
    assert g[-1] < 1e-6
    assert g[0] > 0.3


# -- M_kappa: an independent numerical evaluation ------------------------------------------------

def _mp_transform(x, kappa, power=1):
    """E[(s + x)^-power] for s ~ Marchenko-Pastur with ratio c = 1/kappa (unit mean), by
    quadrature of the density, plus the atom of mass 1 - kappa at 0 when kappa < 1."""
    c = 1.0 / kappa
    a, b = (1.0 - math.sqrt(c)) ** 2, (1.0 + math.sqrt(c)) ** 2

    def dens(s):
        return math.sqrt(max((b - s) * (s - a), 0.0)) / (2.0 * math.pi * c * s)

    val, _ = integrate.quad(lambda s: dens(s) / (s + x) ** power, a, b, epsabs=1e-13,
                            epsrel=1e-12, limit=200)
    return val + max(0.0, 1.0 - kappa) / x**power


@pytest.mark.parametrize("kappa", [0.3, 1.0, 2.5, 10.0])
@pytest.mark.parametrize("x", [0.05, 0.2, 1.0, 3.0])
def test_m_kappa_is_a_marchenko_pastur_stieltjes_transform(x, kappa):
    assert m_kappa(x, kappa) == pytest.approx(_mp_transform(x, kappa), rel=1e-9)
    # derivative: d/dx E[1/(s+x)] = -E[1/(s+x)^2]
    assert m_kappa_prime(x, kappa) == pytest.approx(-_mp_transform(x, kappa, 2), rel=1e-8)


def test_m_kappa_against_wishart_resolvent():
    rng = np.random.default_rng(12345)
    d = 300
    for kappa in (0.5, 2.0):
        k = int(kappa * d)
        G = rng.standard_normal((k, d))
        ev = np.linalg.eigvalsh(G.T @ G / k)  # empirical task covariance, (1/k) sum w w^T
        for x in (0.2, 1.0):
            assert np.mean(1.0 / (ev + x)) == pytest.approx(m_kappa(x, kappa), rel=5e-3)


def test_m_kappa_infinite_kappa_and_small_kappa():
    x = np.array([1e-3, 0.1, 1.0, 10.0])
    np.testing.assert_allclose(m_kappa(x, np.inf), 1.0 / (1.0 + x), rtol=1e-15)
    np.testing.assert_allclose(m_kappa_prime(x, np.inf), -1.0 / (1.0 + x) ** 2, rtol=1e-14)
    # tiny kappa: all but a fraction kappa of the mass at 0, no cancellation
    assert m_kappa(1.0, 1e-9) == pytest.approx((1.0 - 1e-9) / 1.0 + 1e-9 / 2.0, rel=1e-8)


# -- the ridge mapping: sgphys's exact finite-D error -----------------------------------------

def _population_error(W, N, noise=0.0):
    """Expected test error E (y_q - yhat)^2 of merged weights W over fresh sequences
    (the normalisation (docs/model.rst, sections Data and Transformer)), in closed form: with u =
    (1/N) sum y_n x_n and
    v = (1/N) sum y_n^2, E[u w^T] = I/sqrt(D), E[u u^T] = c_u I, E[v^2] = c_v, the odd
    moments vanish, and the error is 1 + rho - 2 tr(W11)/D + c_u |W11|^2 + c_v |W21|^2."""
    D = W.shape[0] - 1
    rho = noise**2
    W11, W21 = W[:D, :D], W[D, :D]
    c_u = ((1.0 + rho) + 2.0 / D) / N + (N - 1.0) / (N * D)
    c_v = (1.0 + 2.0 / N) * ((1.0 + rho) ** 2 + 2.0 / D)
    return (1.0 + rho - 2.0 * np.trace(W11) / D + c_u * np.sum(W11**2)
            + c_v * np.sum(W21**2))


def _exact_error(D, alpha, tau, lam_theory, seeds, noise=0.0):
    errs = []
    for seed in range(seeds):
        _, _, _, _, lt = theory_params(D, 1, 1, lam=1.0)  # lam_theory per unit lam = D
        lam = lam_theory / lt
        N, P = int(round(alpha * D)), int(round(tau * D * D))
        t = sgphys.sample_tasks(D, N, P, seed=seed, noise=noise, method="statistics")
        W = sgphys.solve_exact(sgphys.SpinModel.from_tasks(t, lam), 100.0).W
        errs.append(_population_error(W, N, noise))
    return float(np.mean(errs))


def test_population_error_is_sgphys_test_error():
    # the closed form equals sgphys.test_error on a large fresh test set (normalisation)
    D, N, P = 5, 10, 200
    t = sgphys.sample_tasks(D, N, P, seed=3, noise=0.3, method="statistics")
    W = sgphys.solve_exact(sgphys.SpinModel.from_tasks(t, 0.01), 100.0).W
    mc = sgphys.test_error(W, t.test_set(40000))
    pop = _population_error(W, N, 0.3)
    assert abs(mc - pop) < 0.02 * pop  # Monte Carlo error about 0.7%
    # and it reproduces the finite-N population optimum (D+1)/(N+D+1) of docs/model.rst (section
    # Transformer)
    W_opt = np.zeros((D + 1, D + 1))
    W_opt[:D, :D] = N / (N + D + 1.0) * np.eye(D)
    assert _population_error(W_opt, N) == pytest.approx(theory_test_error(N, D), rel=1e-14)


@pytest.fixture(scope="module")
def ridge_curve():
    """sgphys exact test error at lam = lambda/D, (alpha, tau, lambda) = (2, 2, 1).

    Measured (this fixture): 0.6427 (D=10, 32 seeds), 0.5956 (D=20, 12 seeds),
    0.5921 (D=30, 6 seeds); linear fit in 1/D: 0.5612 at D = inf against the theory's
    0.5610 (theory at lambda/2: 0.5238, at 2 lambda: 0.6366). Adding D = 40 and 60 gives
    0.5595.
    """
    alpha, tau, lam_theory = 2.0, 2.0, 1.0
    Ds = np.array([10, 20, 30])
    errs = np.array([_exact_error(D, alpha, tau, lam_theory, seeds)
                     for D, seeds in zip(Ds, (32, 12, 6))])
    return Ds, errs, icl_error(alpha, tau, lam=lam_theory)


def test_ridge_mapping_finite_d(ridge_curve):
    Ds, errs, th = ridge_curve
    # finite-size excess positive and below about 1/D, shrinking with D
    excess = errs - th
    assert np.all(excess > 0)
    assert np.all(excess < 1.2 / Ds)
    assert excess[-1] < excess[0]
    # linear extrapolation in 1/D lands within a few percent of the theory at this lambda,
    # and not at a wrongly mapped one (a factor 2 in lambda moves the theory by 7-13%)
    slope, intercept = np.polyfit(1.0 / Ds, errs, 1)
    assert abs(intercept - th) < 0.04 * th
    for wrong in (0.5, 2.0):
        assert abs(intercept - th) < abs(intercept - icl_error(2.0, 2.0, lam=wrong))


def test_ridge_mapping_small_tau():
    # below the interpolation peak: tau = 0.5, lambda = 0.3; the error falls toward theory
    th = icl_error(2.0, 0.5, lam=0.3)
    e10 = _exact_error(10, 2.0, 0.5, 0.3, 24)
    e20 = _exact_error(20, 2.0, 0.5, 0.3, 10)
    assert th < e20 < e10
    assert abs((2 * e20 - e10) - th) < 0.06 * th  # two-point 1/D extrapolation


# -- theory_params ----------------------------------------------------------------------------

def test_theory_params_values():
    assert theory_params(20, 40, 800) == (2.0, 2.0, math.inf, 0.0, 0.0)
    a, t, k, r, lt = theory_params(10, 50, 300, lam=0.02, noise=0.5, n_tasks=15)
    assert (a, t, k, r) == (5.0, 3.0, 1.5, 0.25)
    assert lt == pytest.approx(10 * 0.02, rel=1e-15)  # lambda = D lam
    assert all(isinstance(v, float) for v in (a, t, k, r, lt))


@pytest.mark.parametrize("kwargs, name", [
    (dict(D=0, N=1, P=1), "D"), (dict(D=2.5, N=1, P=1), "D"), (dict(D=2, N=0, P=1), "N"),
    (dict(D=2, N=1, P=-3), "P"), (dict(D=2, N=1, P=1, lam=-1.0), "lam"),
    (dict(D=2, N=1, P=1, lam=float("nan")), "lam"), (dict(D=2, N=1, P=1, noise=-0.1), "noise"),
    (dict(D=2, N=1, P=1, n_tasks=0), "n_tasks"), (dict(D=2, N=1, P=1, lam="0.1"), "lam"),
])
def test_theory_params_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        theory_params(**kwargs)


# -- zero modes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("D, P", [(3, 5), (3, 11), (3, 12), (3, 40), (5, 17), (5, 30),
                                  (5, 90)])
def test_zero_mode_fraction_matches_hessian(D, P):
    t = sgphys.sample_tasks(D, 2 * D, P, seed=7)
    model = sgphys.SpinModel.from_tasks(t, 0.0)
    measured = sgphys.zero_mode_fraction(model, count="all")
    assert zero_mode_fraction(D, P) == pytest.approx(measured, abs=1e-14)


def test_zero_mode_fraction_closed_form_and_vectorised():
    D = 4
    P = np.array([1, 10, 19, 20, 21, 100])
    expected = ((D + 1) + np.maximum(0, D * (D + 1) - P)) / (D + 1) ** 2
    out = zero_mode_fraction(D, P)
    assert isinstance(out, np.ndarray) and out.shape == P.shape
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-15)
    assert zero_mode_fraction(D, 20) == pytest.approx(1.0 / (D + 1))
    assert isinstance(zero_mode_fraction(D, 3), float)


@pytest.mark.parametrize("args, name", [((0, 5), "D"), ((3, 0), "P"), ((3, 2.5), "P"),
                                        ((3, "7"), "P"), ((3, [4, -1]), "P"),
                                        ((3, True), "P")])
def test_zero_mode_fraction_bad_input(args, name):
    with pytest.raises(ValueError, match=name):
        zero_mode_fraction(*args)


# -- theory_test_error (same as sgphys.observables.theory_test_error) -------------------------

def test_theory_test_error_matches_observables():
    from sgphys.observables import theory_test_error as obs
    N = np.array([1, 10, 100])
    np.testing.assert_array_equal(theory_test_error(N, 10), obs(N, 10))
    assert theory_test_error(50, 9) == obs(50, 9) == 10 / 60
    assert isinstance(theory_test_error(50, 9), float)
    for args, name in (((0, 5), "N"), ((5, 0), "D")):
        with pytest.raises(ValueError, match=name):
            theory_test_error(*args)


# -- vectorisation -------------------------------------------------------------------------------

def test_vectorised_equals_scalar_calls():
    alpha = np.array([0.5, 2.0, 5.0])[:, None, None]
    tau = np.array([0.3, 1.0, 3.0])[None, :, None]
    lam = np.array([0.0, 0.05, 1.0])[None, None, :]
    kappa, rho = 2.0, 0.1
    out = icl_error(alpha, tau, kappa, rho, lam)
    idg = idg_error(alpha, tau, kappa, rho)
    assert isinstance(out, np.ndarray) and out.shape == (3, 3, 3)
    assert idg.shape == (3, 3, 1)
    for i, j, k in np.ndindex(out.shape):
        a, t, l_ = float(alpha[i, 0, 0]), float(tau[0, j, 0]), float(lam[0, 0, k])
        s = icl_error(a, t, kappa, rho, l_)
        assert isinstance(s, float)
        if t == 1.0 and l_ == 0.0:
            assert s == out[i, j, k] == np.inf
        else:
            assert out[i, j, k] == pytest.approx(s, rel=1e-13)
        assert idg[i, j, 0] == pytest.approx(idg_error(a, t, kappa, rho), rel=1e-13)


def test_scalar_and_list_returns():
    assert isinstance(icl_error(2, 2), float)
    assert isinstance(icl_error(np.float64(2.0), np.array(2.0)), float)
    assert isinstance(idg_error(2, 2, 3), float)
    assert isinstance(task_diversity_gap(2, 2, 3), float)
    out = icl_error([1.0, 2.0], 2.0)
    assert isinstance(out, np.ndarray) and out.shape == (2,)
    assert isinstance(icl_error(2.0, [2.0], lam=0.5), np.ndarray)
    assert isinstance(m_kappa([0.5], 2.0), np.ndarray) and isinstance(m_kappa(0.5), float)


def test_interpolation_peak_is_infinite():
    assert icl_error(2.0, 1.0) == np.inf
    assert icl_error(2.0, 1.0, kappa=0.5, rho=0.1) == np.inf
    assert idg_error(2.0, 1.0) == np.inf
    e = icl_error(2.0, np.array([0.999, 1.0, 1.001]))
    assert e[1] == np.inf and np.isfinite(e[0]) and np.isfinite(e[2]) and min(e[0], e[2]) > 100


def test_no_root_raises_naming_parameters():
    # tau lam overflows: the ridge equation cannot be bracketed in floating point
    with pytest.raises(ValueError, match="alpha=.*tau=.*kappa=.*rho=.*lam="):
        icl_error(2.0, 2.0, lam=1e308)


# -- bad input -----------------------------------------------------------------------------------

BAD = [("alpha", 0.0), ("alpha", -1.0), ("alpha", float("nan")), ("alpha", np.inf),
       ("alpha", "2"), ("alpha", None), ("alpha", True), ("alpha", 1 + 2j),
       ("alpha", [1.0, float("nan")]), ("alpha", [1.0, -2.0]),
       ("tau", 0.0), ("tau", -3.0), ("tau", float("nan")), ("tau", "x"), ("tau", [2.0, 0.0]),
       ("kappa", 0.0), ("kappa", -1.0), ("kappa", float("nan")), ("kappa", -np.inf),
       ("kappa", "inf"),
       ("rho", -0.1), ("rho", float("nan")), ("rho", np.inf), ("rho", object()),
       ("lam", -1e-3), ("lam", float("nan")), ("lam", np.inf), ("lam", [0.1, -0.1])]
DEFAULTS = dict(alpha=2.0, tau=2.0, kappa=np.inf, rho=0.0, lam=0.0)


@pytest.mark.parametrize("name, value", BAD)
def test_icl_error_bad_input(name, value):
    with pytest.raises(ValueError, match=name):
        icl_error(**{**DEFAULTS, name: value})


@pytest.mark.parametrize("name, value", [b for b in BAD if b[0] != "lam"])
def test_idg_and_gap_bad_input(name, value):
    kw = {k: v for k, v in {**DEFAULTS, name: value}.items() if k != "lam"}
    with pytest.raises(ValueError, match=name):
        idg_error(**kw)
    with pytest.raises(ValueError, match=name):
        task_diversity_gap(**kw)


def test_m_kappa_bad_input():
    for args, name in (((0.0, 1.0), "x"), ((1.0, 0.0), "kappa"), ((float("nan"),), "x")):
        with pytest.raises(ValueError, match=name):
            m_kappa(*args)
        with pytest.raises(ValueError, match=name):
            m_kappa_prime(*args)


def test_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match="broadcast"):
        icl_error([1.0, 2.0], [1.5, 2.0, 3.0])


def test_all_exported():
    assert set(theory.__all__) == {"icl_error", "idg_error", "task_diversity_gap",
                                   "theory_params", "m_kappa", "m_kappa_prime",
                                   "zero_mode_fraction", "theory_test_error"}
    for name in theory.__all__:
        assert callable(getattr(theory, name))
