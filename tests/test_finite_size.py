"""The finite_size experiment (Fig. T1), its closed-form test error and the theory figures,
each against an independent computation.

Assumes the experiment and its figure are registered ("finite_size" in
sgphys.experiments._MODULES, "finite_size": "figT1_finite_size" in sgphys.figures.FIGURES).
"""

import json
import math

import numpy as np
import pytest

import sgphys
from sgphys.experiments import finite_size as fs
from sgphys.theory import icl_error, theory_params

# -- the closed-form expected test error -----------------------------------------------------


def _random_W(D, rng, w21_scale=1.0):
    W = 0.3 * rng.standard_normal((D + 1, D + 1)) + np.eye(D + 1) * 0.5
    W[D, :D] *= w21_scale
    W[:, D] = 0.0
    return W


@pytest.mark.parametrize("D, N, noise, w21", [(4, 7, 0.0, 1.0), (3, 2, 0.5, 0.3),
                                              (6, 20, 0.2, 0.0)])
def test_population_error_equals_monte_carlo(D, N, noise, w21):
    # independent truth: the mean squared residual on many fresh token-sampled sequences
    # (every token drawn, features built from the input matrices)
    W = _random_W(D, np.random.default_rng(D + N), w21)
    test = sgphys.sample_tasks(D, N, 120_000, seed=5, noise=noise)
    s = W[:, :D].ravel()
    r2 = np.concatenate([(yb - Hb @ s) ** 2 for Hb, yb in test.iter_feature_blocks()])
    mc, sem = r2.mean(), r2.std(ddof=1) / math.sqrt(r2.size)
    assert sgphys.test_error(W, test) == pytest.approx(mc, rel=1e-10)
    pop = fs.population_test_error(W, N, noise)
    assert abs(pop - mc) < 4.0 * sem, (pop, mc, sem)
    # and it is not insensitive to W21 or W11 (the test can fail)
    W2 = W.copy()
    W2[D, :D] += 0.5
    assert abs(fs.population_test_error(W2, N, noise) - mc) > 10 * sem


def test_population_error_at_the_population_optimum():
    # docs/model.rst (section Transformer): W11 = N/(N+D+1) I, W21 = 0 gives (D+1)/(N+D+1)
    for D, N in ((3, 5), (10, 40), (20, 7)):
        W = np.zeros((D + 1, D + 1))
        W[:D, :D] = N / (N + D + 1.0) * np.eye(D)
        assert fs.population_test_error(W, N) == pytest.approx((D + 1) / (N + D + 1), rel=1e-13)
        assert fs.population_test_error(np.zeros((D + 1, D + 1)), N, 0.5) == pytest.approx(1.25)


@pytest.mark.parametrize("kwargs, name", [
    (dict(W=np.zeros((3, 4)), N=3), "W"), (dict(W=np.zeros((1, 1)), N=3), "W"),
    (dict(W=np.full((3, 3), np.nan), N=3), "W"), (dict(W=np.zeros((3, 3)), N=0), "N"),
    (dict(W=np.zeros((3, 3)), N=2.5), "N"), (dict(W=np.zeros((3, 3)), N=3, noise=-1.0), "noise"),
])
def test_population_error_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        fs.population_test_error(**kwargs)


# -- the extrapolation ------------------------------------------------------------------------

def test_extrapolate_is_weighted_least_squares():
    x = 1.0 / np.array([5.0, 10.0, 20.0, 40.0])
    y = np.array([0.9, 0.75, 0.7, 0.66])
    s = np.array([0.05, 0.02, 0.01, 0.008])
    a, se, b, weighted = fs.extrapolate(x, y, s, [8, 8, 8, 8])
    coef, cov = np.polyfit(x, y, 1, w=1.0 / s, cov="unscaled")
    assert weighted
    assert (a, b) == pytest.approx((coef[1], coef[0]), rel=1e-12)
    assert se == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-10)
    # too few seeds: unweighted, se from the intercept's linear weights (found by fitting
    # unit vectors, independent of the pseudo-inverse)
    a, se, b, weighted = fs.extrapolate(x, y, s, [2, 8, 8, 8])
    coef = np.polyfit(x, y, 1)
    c = np.array([np.polyfit(x, e, 1)[1] for e in np.eye(4)])
    assert not weighted
    assert (a, b) == pytest.approx((coef[1], coef[0]), rel=1e-12)
    assert se == pytest.approx(math.sqrt(np.sum(c**2 * s**2)), rel=1e-10)
    # a missing mean drops its D; one D left: no line
    a2 = fs.extrapolate(x, [np.nan, 0.75, 0.7, 0.66], s, None)[0]
    assert a2 == pytest.approx(np.polyfit(x[1:], y[1:], 1, w=1 / s[1:])[1], rel=1e-12)
    assert all(math.isnan(v) for v in fs.extrapolate(x, [np.nan, np.nan, 0.7, np.nan], s)[:3])



def test_extrapolate_poly_is_weighted_least_squares():
    x = 1.0 / np.array([5.0, 10.0, 20.0, 40.0, 80.0])
    y = np.array([1.2, 0.9, 0.75, 0.7, 0.68])
    s = np.array([0.05, 0.02, 0.01, 0.008, 0.01])
    coef, se, weighted = fs.extrapolate_poly(x, y, s, [8] * 5, degree=2)
    ref, cov = np.polyfit(x, y, 2, w=1.0 / s, cov="unscaled")
    assert weighted
    np.testing.assert_allclose(coef, ref[::-1], rtol=1e-10)
    assert se == pytest.approx(math.sqrt(cov[2, 2]), rel=1e-8)
    # degree 1 is extrapolate's line
    line = fs.extrapolate(x, y, s, [8] * 5)
    coef1, se1, w1 = fs.extrapolate_poly(x, y, s, [8] * 5, degree=1)
    assert (coef1[0], se1, coef1[1], w1) == pytest.approx(line, rel=1e-12)
    # three sizes: the parabola through the means, se from its Lagrange weights at 1/D = 0
    x3, y3, s3 = x[1:4], y[1:4], s[1:4]
    coef, se, _ = fs.extrapolate_poly(x3, y3, s3, [2, 8, 8], degree=2)  # unweighted: same
    lagrange = [np.prod([x3[j] / (x3[j] - x3[i]) for j in range(3) if j != i])
                for i in range(3)]
    assert coef[0] == pytest.approx(np.dot(lagrange, y3), rel=1e-10)
    np.testing.assert_allclose(np.polyval(coef[::-1], x3), y3, rtol=1e-10)
    assert se == pytest.approx(math.sqrt(np.sum(np.square(lagrange) * s3**2)), rel=1e-10)
    # fewer than degree + 1 sizes with a finite mean: no fit
    coef, se, weighted = fs.extrapolate_poly(x3, [np.nan, 0.75, 0.7], s3, degree=2)
    assert np.all(np.isnan(coef)) and math.isnan(se) and not weighted
    with pytest.raises(ValueError, match="degree"):
        fs.extrapolate_poly(x3, y3, s3, degree=0)


# -- the experiment at a tiny size --------------------------------------------------------------

TINY = dict(alpha_tau=[[5.0, 3.0], [1.0, 4.0]], point=[0, 1], D=[4, 6, 8],
            lam_theory=[1e-6, 2.0], seeds=4, iterative_max_D=6)  # TAP converges at (5, 3, 2)


@pytest.fixture(scope="module")
def tiny():
    return sgphys.run_experiment("finite_size", **TINY)


def test_tiny_run_is_complete_and_labelled(tiny):
    ds = tiny
    assert (ds.status.values == 1).all(), ds.error.values
    assert set(ds.test_error.dims) == {"point", "D", "seed", "lam_theory", "solver"}
    for v in list(ds.data_vars) + list(ds.coords):
        assert {"long_name", "units"} <= set(ds[v].attrs), v
    # TAP skipped above iterative_max_D and only there
    tap = ds.reason.sel(solver="tap")
    assert (tap.sel(D=8).values == fs.SKIPPED).all()
    assert not (tap.sel(D=[4, 6]).values == fs.SKIPPED).any()
    ok = ds.converged.sel(solver="tap").values == 1
    assert ok.any()
    np.testing.assert_allclose(ds.test_error.sel(solver="tap").values[ok],
                               ds.test_error.sel(solver="exact").values[ok], rtol=1e-6)


def _round_half_up(x):
    return int(math.floor(x + 0.5))


def test_tiny_run_theory_and_mapping(tiny):
    ds = tiny
    for i, (alpha, tau) in enumerate(TINY["alpha_tau"]):
        assert float(ds.alpha[i]) == alpha and float(ds.tau[i]) == tau
        for lt in TINY["lam_theory"]:
            assert float(ds.theory_error.sel(point=i, lam_theory=lt)) == pytest.approx(
                icl_error(alpha, tau, lam=lt), rel=1e-12)
            for D in TINY["D"]:
                N, P = _round_half_up(alpha * D), _round_half_up(tau * D * D)
                assert (int(ds.N.sel(point=i, D=D)), int(ds.P.sel(point=i, D=D))) == (N, P)
                assert float(ds.lam.sel(D=D, lam_theory=lt)) == pytest.approx(lt / D)
                a, t, _, rho, lam_t = theory_params(D, N, P, lam=lt / D)
                assert lam_t == pytest.approx(lt, rel=1e-12)
                assert float(ds.theory_error_D.sel(point=i, D=D, lam_theory=lt)) == \
                    pytest.approx(icl_error(a, t, rho=rho, lam=lam_t), rel=1e-12)


def test_stored_exact_error_is_the_ridge_solution(monkeypatch):
    # independent path: each point's training stream (recorded as the sweep hands it over),
    # the spin model from stacked features (not the block-accumulated moments),
    # solve_exact, and the closed-form error
    seen = []
    real = fs.EXPERIMENT.point

    def recording(params, values, streams):
        ss = streams["train"]
        seen.append((dict(values), ss.entropy, tuple(ss.spawn_key)))
        return real(params, values, streams)

    monkeypatch.setattr(fs.EXPERIMENT, "point", recording)
    kw = dict(TINY, D=[4, 6], seeds=2, solvers=["exact"])
    ds = sgphys.run_experiment("finite_size", **kw)
    assert len(seen) == 2 * 2 * 2
    for values, entropy, key in seen:
        i, D = int(values["point"]), int(values["D"])
        alpha, tau = TINY["alpha_tau"][i]
        N, P = _round_half_up(alpha * D), _round_half_up(tau * D * D)
        ss = np.random.SeedSequence(entropy, spawn_key=key)
        t = sgphys.sample_tasks(D, N, P, seed=ss, method="statistics")
        expected = []
        for lt in TINY["lam_theory"]:
            W = sgphys.solve_exact(sgphys.SpinModel.from_tasks(t, lt / D), 100.0).W
            expected.append(fs.population_test_error(W, N))
        stored = ds.test_error.sel(point=i, D=D, solver="exact").transpose("seed", "lam_theory")
        # the seed index is not handed to the point function: match by value
        assert any(np.allclose(row, expected, rtol=1e-7) for row in stored.values), \
            (values, expected, stored.values)


def test_tiny_run_extrapolation_is_a_numpy_fit_of_the_seed_means(tiny):
    ds = tiny
    x = 1.0 / np.asarray(TINY["D"], float)
    for i in range(len(TINY["alpha_tau"])):
        for lt in TINY["lam_theory"]:
            e = ds.test_error.sel(point=i, lam_theory=lt, solver="exact").transpose("D", "seed")
            e = e.values
            mean = e.mean(axis=1)
            sem = e.std(axis=1, ddof=1) / math.sqrt(e.shape[1])
            sel = dict(point=i, lam_theory=lt)
            np.testing.assert_allclose(ds.exact_error_mean.sel(**sel), mean, rtol=1e-12)
            np.testing.assert_allclose(ds.exact_error_sem.sel(**sel), sem, rtol=1e-10)
            coef, cov = np.polyfit(x, mean, 1, w=1.0 / sem, cov="unscaled")
            assert int(ds.extrapolation_weighted.sel(**sel)) == 1  # 4 seeds
            assert float(ds.extrapolated_error.sel(**sel)) == pytest.approx(coef[1], rel=1e-10)
            assert float(ds.extrapolation_slope.sel(**sel)) == pytest.approx(coef[0], rel=1e-10)
            assert float(ds.extrapolated_error_se.sel(**sel)) == pytest.approx(
                math.sqrt(cov[1, 1]), rel=1e-8)
            th = icl_error(*TINY["alpha_tau"][i], lam=lt)
            assert float(ds.relative_deviation.sel(**sel)) == pytest.approx(
                coef[1] / th - 1.0, rel=1e-9)
            # the second extrapolation, with a 1/D^2 term: the parabola through the means
            coef, cov = np.polyfit(x, mean, 2, w=1.0 / sem, cov="unscaled")
            got = [float(ds[v].sel(**sel)) for v in (
                "extrapolated_error_quadratic", "extrapolation_quadratic_slope",
                "extrapolation_quadratic_curvature")]
            np.testing.assert_allclose(got, coef[::-1], rtol=1e-8)
            assert float(ds.extrapolated_error_quadratic_se.sel(**sel)) == pytest.approx(
                math.sqrt(cov[2, 2]), rel=1e-8)
            assert float(ds.relative_deviation_quadratic.sel(**sel)) == pytest.approx(
                coef[2] / th - 1.0, rel=1e-8)


@pytest.mark.parametrize("override, name", [
    (dict(alpha_tau=[[2.0, -1.0]], point=[0]), "alpha_tau"),
    (dict(alpha_tau=[[2.0]], point=[0]), "alpha_tau"),
    (dict(alpha_tau=[[0.01, 1.0]], point=[0]), "alpha_tau"),  # N = round(0.01 D) = 0
    (dict(alpha_tau=[[2.0, 2.0], [1.0, 3.0]]), "point"),  # point still [0, 1, 2, 3]
    (dict(lam_theory=[-1.0]), "lam_theory"), (dict(lam_theory=[1.0, 1.0]), "lam_theory"),
    (dict(noise=-0.1), "noise"), (dict(iterative_max_D=0), "iterative_max_D"),
])
def test_bad_parameters_name_the_parameter(override, name):
    kw = dict(D=[2], seeds=1, solvers=["exact"])
    with pytest.raises(ValueError, match=name):
        sgphys.run_experiment("finite_size", **{**kw, **override})


# -- agreement with the asymptotic theory ------------------------------------------------------

#: seeds per (point, D) of the agreement test, D = 10, 20, 40 at the default alpha_tau
#: [[2, 2], [5, 3], [1, 4], [2, 0.5]]: most where the seed scatter is largest (the ridgeless
#: (2, 2) and (2, 0.5), about 3% of the error per seed at D = 40, 8% at D = 20, 21% at
#: D = 10) and where a seed is cheap (D = 10, 20), so that every extrapolation's standard
#: error is near 1% of the error.
AGREEMENT_SEEDS = {10: {(0, 1, 2, 3): 512}, 20: {(0, 3): 768, (1, 2): 256},
                   40: {(0,): 64, (3,): 96, (1,): 24, (2,): 16}}
AGREEMENT_D = (10, 20, 40)
#: the tolerance on |extrapolated / theory - 1|, at every (point, lambda)
TOLERANCE = 0.03
#: largest standard error (from the seed scatter, relative to the theory) for which the 3%
#: comparison is a test: a pass is then not a matter of seed luck
MAX_SE = 0.015


@pytest.fixture(scope="module")
def agreement():
    """Seed means, sems and counts of the exact error (point, lam_theory, D) from one sweep
    per (D, group of points) with that group's seeds (two workers)."""
    pairs = fs.QUICK["alpha_tau"]
    lams = fs.QUICK["lam_theory"]
    stats = np.full((3, len(pairs), len(lams), len(AGREEMENT_D)), np.nan)
    for d, D in enumerate(AGREEMENT_D):
        for group, seeds in AGREEMENT_SEEDS[D].items():
            ds = sgphys.run_experiment("finite_size", D=[D], seeds=seeds, solvers=["exact"],
                                       alpha_tau=[pairs[i] for i in group],
                                       point=list(range(len(group))), workers=2,
                                       progress=False)
            for k, i in enumerate(group):
                for a, lt in enumerate(lams):
                    sel = dict(point=k, lam_theory=lt, D=D)
                    stats[:, i, a, d] = [float(ds[v].sel(**sel)) for v in (
                        "exact_error_mean", "exact_error_sem", "exact_error_n")]
    return pairs, lams, stats


def test_extrapolated_exact_error_meets_the_theory(agreement):
    # The criterion at D <= 40: the exact error at D = 10, 20, 40, extrapolated to
    # 1/D = 0 with the 1/D^2 term (extrapolate_poly, degree 2: the parabola through the three
    # means), against the theory's closed form, within the plain 3% (no statistical
    # allowance) at all four points and both lambdas; the standard errors (seed scatter
    # propagated through the fit) must stay below 1.5% for the comparison to mean something.
    # Measured with these seeds (deviation +- standard error, %):
    #   lambda = 1e-6: (2, 2) +1.5 +- 1.1, (5, 3) -0.8 +- 1.0, (1, 4) +0.3 +- 1.1,
    #                  (2, 0.5) -0.1 +- 1.1
    #   lambda = 1:    (2, 2) -0.0 +- 0.5, (5, 3) -0.2 +- 1.0, (1, 4) +0.5 +- 0.4,
    #                  (2, 0.5) +0.1 +- 0.6
    # The line through D = 20, 40 is checked too (worst -1.2%). The line through all three
    # sizes is only printed: it lands 3.5 +- 0.6% low at the ridgeless (2, 2) here (4.2 +- 0.4%
    # with 2048, 512, 128 seeds), as the error curves in 1/D, the more the closer tau is to
    # the interpolation peak tau = 1 and most without ridge (module notes of finite_size);
    # the parabola's value at D = 80 matched 16 seeds there (0.700 against 0.699 +- 0.002).
    # A ridge mapping off by a factor 2 (lambda = 2 D lam) moves the lambda = 1 theory by
    # +13, +33, +7 % at the first three points and fails this test.
    pairs, lams, (mean, sem, n) = agreement
    x = 1.0 / np.asarray(AGREEMENT_D, float)
    devs, ses, devs_line, devs_line3 = {}, {}, {}, {}
    for i, (alpha, tau) in enumerate(pairs):
        for a, lt in enumerate(lams):
            th = icl_error(alpha, tau, lam=lt)
            coef, se, _ = fs.extrapolate_poly(x, mean[i, a], sem[i, a], n[i, a], degree=2)
            key = (alpha, tau, lt)
            devs[key], ses[key] = coef[0] / th - 1.0, se / th
            # the parabola interpolates the three means: it is numpy's polynomial too
            assert coef[0] == pytest.approx(np.polyfit(x, mean[i, a], 2)[2], rel=1e-9)
            line = fs.extrapolate(x[1:], mean[i, a, 1:], sem[i, a, 1:], n[i, a, 1:])
            devs_line[key] = (line[0] / th - 1.0, line[1] / th)
            line3 = fs.extrapolate(x, mean[i, a], sem[i, a], n[i, a])  # reported, not tested
            devs_line3[key] = (line3[0] / th - 1.0, line3[1] / th)
            # the finite-D errors lie above the theory and fall towards it
            assert np.all(mean[i, a] > th) and np.all(np.diff(mean[i, a]) < 0), (key,
                                                                                 mean[i, a])
    table = "\n".join(
        f"{k}: quadratic {100 * devs[k]:+.2f} +- {100 * ses[k]:.2f} %, line (20, 40) "
        f"{100 * devs_line[k][0]:+.2f} +- {100 * devs_line[k][1]:.2f} %, line (10, 20, 40) "
        f"{100 * devs_line3[k][0]:+.2f} +- {100 * devs_line3[k][1]:.2f} %" for k in devs)
    print(table)
    assert max(ses.values()) < MAX_SE, table
    assert max(abs(v) for v in devs.values()) <= TOLERANCE, table
    assert max(abs(v[0]) for v in devs_line.values()) <= TOLERANCE, table


# -- figures --------------------------------------------------------------------------------------

def _captured(monkeypatch):
    """Keep the figure a plot function saves (sgphys.figures._style.save), to read its data."""
    from sgphys.figures import _style

    figs = []
    real = _style.save

    def save(fig, out, pdf=False):
        figs.append(fig)
        return real(fig, out, pdf)

    monkeypatch.setattr(_style, "save", save)
    return figs


def test_figT1_draws_from_a_small_dataset(tiny, tmp_path, monkeypatch):
    from sgphys.figures import figT1_finite_size

    figs = _captured(monkeypatch)
    out = figT1_finite_size.plot(tiny, tmp_path / "t1.png")
    assert out.stat().st_size > 10_000
    ax = figs[0].axes[1]  # lambda = 2 panel
    stars = [ln for ln in ax.lines if ln.get_marker() == "*"]
    np.testing.assert_allclose([ln.get_ydata()[0] for ln in stars],
                               [icl_error(a, t, lam=2.0) for a, t in TINY["alpha_tau"]])
    # the dotted curves: numpy's parabola through each point's seed means (three D)
    dotted = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert len(dotted) == len(TINY["alpha_tau"])
    x = 1.0 / np.asarray(TINY["D"], float)
    for i, ln in enumerate(dotted):
        e = tiny.test_error.sel(point=i, lam_theory=2.0, solver="exact").transpose("D", "seed")
        coef = np.polyfit(x, e.values.mean(axis=1), 2)
        np.testing.assert_allclose(ln.get_ydata(), np.polyval(coef, ln.get_xdata()), rtol=1e-8)


def test_figT1_is_registered():
    from sgphys.figures import FIGURES

    assert FIGURES["finite_size"] == "figT1_finite_size"
    assert "finite_size" in sgphys.list_experiments()


def test_theory_phase_diagram_is_right(tmp_path, monkeypatch):
    from sgphys.figures import figT0_theory_phase as t0

    figs = _captured(monkeypatch)
    out = t0.plot_theory(tmp_path / "t0.png")
    assert out.stat().st_size > 10_000
    # the red dashed line marks tau = 1
    assert any(ln.get_xdata()[0] == 1.0 and ln.get_linestyle() == "--"
               for ln in figs[0].axes[0].lines)
    # grid values against the PNAS check values (copied from the paper's formulas)
    alpha, _, e = t0.theory_grid(alpha_range=(0.5, 8.0), tau_range=(0.5, 8.0), n=5)
    np.testing.assert_allclose(alpha, [0.5, 1, 2, 4, 8])
    assert e[2, 2] == pytest.approx(2.0 / 3.0, abs=1e-10)  # (alpha, tau) = (2, 2)
    assert icl_error(5.0, 3.0) == pytest.approx(0.25)
    _, _, e1 = t0.theory_grid(alpha_range=(1.0, 2.0), tau_range=(0.5, 2.0), n=3)
    assert np.all(np.isinf(e1[:, 1]))  # tau = 1
    for bad, name in ((dict(n=1), "n"), (dict(alpha_range=(2.0, 1.0)), "alpha_range"),
                      (dict(tau_range=(0.0, 1.0)), "tau_range"), (dict(kappa=-1.0), "kappa")):
        with pytest.raises(ValueError, match=name):
            t0.theory_grid(**bad)


def test_fig4b_draws_the_theory_curve(tmp_path, monkeypatch, quick_data):
    from sgphys.figures import fig4b_prompt_length

    figs = _captured(monkeypatch)
    ds = sgphys.io.load(quick_data.path("prompt_length"))
    fig4b_prompt_length.plot(ds, tmp_path / "f.png")
    p = json.loads(ds.attrs["parameters"])
    (ln,) = [ln for ln in figs[0].axes[0].lines if "PNAS" in str(ln.get_label())]
    N = ln.get_xdata()
    assert N.min() == ds.N.values.min() and N.max() == ds.N.values.max()
    np.testing.assert_allclose(ln.get_ydata(), icl_error(N / p["D"], p["P"] / p["D"] ** 2,
                                                         lam=p["D"] * p["lam"]), rtol=1e-12)


def test_figS1_draws_the_double_descent_theory(tmp_path, monkeypatch, quick_data):
    from sgphys.figures import figS1_separated

    figs = _captured(monkeypatch)
    ds = sgphys.io.load(quick_data.path("separated"))
    figS1_separated.plot(ds, tmp_path / "f.png")
    p = json.loads(ds.attrs["parameters"])
    assert p["lam_train"] == 0.0  # the separated experiment trains without weight decay
    ax = figs[0].axes[1]
    theory = [ln for ln in ax.lines if ln.get_linestyle() == "-."]
    assert len(theory) == 2  # the branches either side of tau = 1
    for ln in theory:
        tau = ln.get_xdata()
        assert np.all(np.abs(tau - 1.0) > 0.004)
        np.testing.assert_allclose(ln.get_ydata(), icl_error(p["N"] / p["D"], tau), rtol=1e-12)
    below = min(theory, key=lambda ln: ln.get_xdata()[0])
    assert below.get_ydata()[-1] > 20 * below.get_ydata()[0]  # rises towards the peak


def test_figS5_draws_the_closed_form_zero_modes(tmp_path, monkeypatch, quick_data):
    from sgphys.figures import figS5_hessian

    figs = _captured(monkeypatch)
    ds = sgphys.io.load(quick_data.path("hessian"))
    figS5_hessian.plot(ds, tmp_path / "f.png")
    lines = [ln for ln in figs[0].axes[1].lines if ln.get_linestyle() == "--"
             and len(ln.get_xdata())]
    assert len(lines) == ds.sizes["D"]
    for D, ln in zip(ds.D.values, lines):
        P = ln.get_xdata().astype(float)
        n = D * (D + 1)  # rank min(P, n) plus the D + 1 inert weights, by hand
        np.testing.assert_allclose(ln.get_ydata(), (D + 1 + np.maximum(0, n - P)) / (D + 1) ** 2)
        # through the measured active-mode fractions (relative tolerance, exact counts)
        meas = ds.zero_mode_fraction_active.sel(D=D).mean("seed").values
        np.testing.assert_allclose(meas * n / (D + 1) ** 2 + 1 / (D + 1),
                                   np.interp(ds.P.values, P, ln.get_ydata()), atol=1e-12)


def test_fig4a_draws_the_theory_grid(tmp_path, monkeypatch, quick_data):
    from sgphys.figures import fig4_phase_diagram

    figs = _captured(monkeypatch)
    ds = sgphys.io.load(quick_data.path("phase_diagram"))
    fig4_phase_diagram.plot(ds, tmp_path / "f.png")
    p = json.loads(ds.attrs["parameters"])
    D = p["D"]
    theory_ax = next(ax for ax in figs[0].axes if ax.get_title().startswith("(e)"))
    grid = theory_ax.collections[0].get_array().reshape(ds.sizes["N"], ds.sizes["P"])
    expected = icl_error(ds.N.values[:, None] / D, ds.P.values[None, :] / D**2, lam=D * p["lam"])
    np.testing.assert_allclose(grid, expected, rtol=1e-12)
    exact_ax = next(ax for ax in figs[0].axes if ax.get_title().startswith("(d)"))
    err = exact_ax.collections[0].get_array().reshape(ds.sizes["N"], ds.sizes["P"])
    np.testing.assert_allclose(err, ds.test_error.sel(solver="exact").mean("seed"), rtol=1e-12)

