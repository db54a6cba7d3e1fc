"""The thermodynamics experiment (Fig. Th): its Gaussian free energy is the closed form, its
TAP branches are fixed points re-found from their starts, the transition helper interpolates
a crossing, and a small run stores the documented, labelled variables."""

import math
from pathlib import Path

import numpy as np
import pytest

import sgphys
from sgphys.experiments import get_experiment, resolve_params
from sgphys.experiments import thermodynamics as th
from sgphys.solvers import solve_amp
from sgphys.spin import SpinModel
from sgphys.states import icl_init
from sgphys.tasks import sample_tasks

REPO = Path(__file__).resolve().parents[1]
TINY = {"D": [4], "N": 8, "P_over_n": [1.0, 4.0, 12.0], "beta": [5.0, 30.0], "seeds": 1,
        "n_random": 1, "gibbs_sweeps": 200, "gibbs_chains": 2, "ladder_ratio": 2.0}


def _streams(seed=7):
    root = np.random.SeedSequence(seed)
    return dict(zip(("train", "test", "init", "resample"), root.spawn(4)))


@pytest.fixture(scope="module")
def tiny_point():
    params = resolve_params(get_experiment("thermodynamics"), "quick", TINY)
    return params, th.point(params, {"D": 4}, _streams())


def _data(params, D, streams):
    Ps = th.P_values(params["P_over_n"], D)
    H, y = sample_tasks(D, int(params["N"]), max(Ps), seed=streams["train"],
                        method=params["sampler"]).feature_arrays()
    return Ps, H, y


def test_crossing_interpolates_a_synthetic_crossing():
    x = np.array([1.0, 2.0, 4.0, 8.0])
    # f_icl - f_other = 3 - x: positive, then zero at x = 3 between the 2nd and 3rd points
    assert th.crossing(x, 3.0 - x) == pytest.approx(3.0, abs=1e-14)
    # a line through (2, 0.5) and (4, -1.5): zero at 2 + 2 * 0.5 / 2 = 2.5
    assert th.crossing(x, [1.0, 0.5, -1.5, -2.0]) == pytest.approx(2.5, abs=1e-14)
    # NaN pairs are skipped; the first crossing wins
    assert th.crossing(x, [np.nan, 1.0, -1.0, 1.0]) == pytest.approx(3.0, abs=1e-14)
    assert math.isnan(th.crossing(x, [1.0, np.nan, -1.0, -2.0]))  # gaps are not bridged
    assert math.isnan(th.crossing(x, [-1.0, -2.0, -3.0, -4.0]))  # no crossing in range
    assert th.crossing(x, x - 5.0, "up") == pytest.approx(5.0, abs=1e-14)
    assert math.isnan(th.crossing(x, x - 5.0, "down"))
    with pytest.raises(ValueError, match="direction"):
        th.crossing(x, x, "sideways")


def test_thermo_ladder_starts_at_zero_and_reaches_beta():
    lad = th.thermo_ladder(30.0, 0.1, 2.0)
    assert lad[0] == 0.0 and lad[-1] == 30.0
    assert np.all(lad[2:] / lad[1:-1] <= 2.0 + 1e-12) and lad[1] == pytest.approx(0.1)


def test_gaussian_free_energy_is_the_closed_form(tiny_point):
    params, out = tiny_point
    D, n, lam = 4, 20, float(params["lam"])
    Ps, H, y = _data(params, D, _streams())
    for i, P in enumerate(Ps):
        Hp, yp = H[:P], y[:P]
        A = Hp.T @ Hp / P + lam * np.eye(n)
        h = Hp.T @ yp / P
        hAh = float(h @ np.linalg.solve(A, h))
        logdet = np.linalg.slogdet(A)[1]
        for k, beta in enumerate(params["beta"]):
            log_z = 0.5 * n * math.log(2 * math.pi / beta) - 0.5 * logdet + 0.5 * beta * hAh
            energy = 0.5 * n / beta - 0.5 * hAh
            assert out["exact_free_energy_per_spin"][i, k] == pytest.approx(
                -log_z / (beta * n), rel=1e-9, abs=1e-12)
            assert out["exact_energy_per_spin"][i, k] == pytest.approx(energy / n, rel=1e-9)
            assert out["exact_entropy_per_spin"][i, k] == pytest.approx(
                (log_z + beta * energy) / n, rel=1e-9, abs=1e-12)


def test_icl_branch_is_refound_from_the_icl_start(tiny_point):
    params, out = tiny_point
    D, n = 4, 20
    Ps, H, y = _data(params, D, _streams())
    priors = list(params["priors"])
    checked = 0
    for j, name in enumerate(priors):
        if name == "gaussian":
            continue
        prior = th.make_prior(name, params, D, int(params["N"]))
        x, w = prior.support(), prior.weights()
        v0 = np.full(n, float(w @ x**2 - (w @ x) ** 2))  # the prior's variance
        for i, P in enumerate(Ps):
            for k, beta in enumerate(params["beta"]):
                slot = (i, j, k, 0)  # the ICL branch
                if not out["branch_exists"][slot] or "icl" not in \
                        out["branch_inits"][slot].split(","):
                    continue
                Hp, yp = H[:P], y[:P]
                Q, h = Hp.T @ Hp / P, Hp.T @ yp / P
                model = SpinModel(D, 0.0, h, 0.5 * (Q + Q.T), prior=prior)
                r = solve_amp(model, beta, tol=1e-10, max_iter=10000, init=(icl_init(model), v0))
                assert r.converged
                # NaN on both sides at a fixed point with a negative cavity precision
                assert np.isnan(r.free_energy) == (r.info["negative_cavity"] > 0)
                np.testing.assert_allclose(r.free_energy / n, out["free_energy_per_spin"][slot],
                                           rtol=1e-6, atol=1e-9, equal_nan=True)
                np.testing.assert_allclose(r.entropy / n, out["entropy_per_spin"][slot],
                                           rtol=1e-6, atol=1e-9, equal_nan=True)
                W = sgphys.spin.spins_to_weights(r.mean, D)
                cr = sgphys.contrast_ratio(W, block="w11")
                assert cr >= float(params["icl_threshold"])
                assert cr == pytest.approx(out["contrast_ratio_w11"][slot], abs=1e-6)
                checked += 1
    assert checked >= 1


def test_continuation_starts_come_from_the_neighbouring_P(tiny_point):
    params, out = tiny_point
    Ps = th.P_values(params["P_over_n"], 4)
    for idx in np.ndindex(out["branch_inits"].shape):
        for start in filter(None, out["branch_inits"][idx].split(",")):
            if start.startswith(("up:", "down:")):
                P_from = int(start.split("P=")[1].split("#")[0])
                i = Ps.index(P_from)
                assert abs(i - idx[0]) == 1
                assert (i < idx[0]) == start.startswith("up:")


def test_small_run_stores_labelled_variables_and_derived_fields(tmp_path):
    ds = sgphys.run_experiment("thermodynamics", **{**TINY, "seeds": 2})
    assert (ds.status.values == 1).all(), ds.error.values
    exp = get_experiment("thermodynamics")
    params = resolve_params(exp, "quick", TINY)
    for v in exp.variables(params):
        assert v in ds.data_vars, v
    for v in ("spinodal_icl", "spinodal_other", "transition", "tap_icl_onset",
              "gibbs_icl_onset", "ridge_onset", "transition_mean", "transition_sd",
              "transition_count", "equilibrium_contrast_ratio_w11", "prior_a"):
        assert v in ds.data_vars, v
    for v in list(ds.data_vars) + list(ds.coords):
        assert {"long_name", "units"} <= set(ds[v].attrs), v
    assert list(ds.branch.values) == ["icl", "other"]
    # the spinodals agree with where the branches exist
    ex = ds.branch_exists.sel(prior="ternary")
    for s in ds.seed.values:
        for b in ds.beta.values:
            e = ex.sel(seed=s, beta=b).isel(D=0)
            icl = e.sel(branch="icl").values == 1
            sp = float(ds.spinodal_icl.sel(seed=s, beta=b, prior="ternary").isel(D=0))
            if icl.any():
                assert sp == ds.P_over_n.values[icl].min()
            else:
                assert math.isnan(sp)
    # Gibbs gives a free energy for the discrete priors only
    assert np.isfinite(ds.gibbs_free_energy_per_spin.sel(prior="ternary")).all()
    assert ds.gibbs_free_energy_per_spin.sel(prior="gaussian").isnull().all()
    assert np.isfinite(ds.exact_free_energy_per_spin).all()
    from sgphys.figures import FIGURES, figTh_thermodynamics

    assert FIGURES["thermodynamics"] == "figTh_thermodynamics"
    assert (REPO / "analysis" / "figTh_thermodynamics.py").exists()
    out = figTh_thermodynamics.plot(ds, tmp_path / "th.png")
    assert out.stat().st_size > 10_000


def test_fig4a_draws_the_entropy_panel(tmp_path):
    ds = sgphys.run_experiment("phase_diagram", N=[5, 10], P=[20, 40, 80], seeds=1)
    assert np.isfinite(ds.entropy_per_spin.sel(solver="exact")).all()
    from sgphys.figures import fig4_phase_diagram

    out = fig4_phase_diagram.plot(ds, tmp_path / "f4.png")
    assert out.stat().st_size > 10_000


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="priors"):
        sgphys.run_experiment("thermodynamics", **{**TINY, "priors": ["laplace"]})
    with pytest.raises(ValueError, match="icl_threshold"):
        sgphys.run_experiment("thermodynamics", **{**TINY, "icl_threshold": 1.5})
    with pytest.raises(ValueError, match="P_over_n"):
        sgphys.run_experiment("thermodynamics", **{**TINY, "P_over_n": [1.0, -2.0]})
