"""Quantised weights (Fig. Q1): the experiment at D = 2 (6 spins) against exact enumeration
and the exact Gaussian solution of the same training sets, its stored schema, value-keyed
Gibbs streams, resume after an interruption, parameter checks and the figure."""

import json
from pathlib import Path

import numpy as np
import pytest

import sgphys
from sgphys.experiments import get_experiment
from sgphys.experiments import quantized as qz
from sgphys.priors import prior_from_attrs
from sgphys.spin import weights_to_spins

REPO = Path(__file__).resolve().parents[1]

#: a tiny series: 6 spins (3^6 = 729 ternary states), two P on either side of the
#: interpolation threshold, a hot, a warm and a cold beta
TINY = dict(D=[2], N=[6], P=[30, 200], beta=[0.5, 2.0, 50.0], seeds=2, gibbs_sweeps=2000,
            P_test=200)


class Interrupt(BaseException):
    """Stands for a kill: not an Exception, so the sweep does not record it as a failure."""


@pytest.fixture(scope="module")
def tiny():
    """The tiny run, with each point's training and test streams as the sweep handed them."""
    exp = get_experiment("quantized")
    real = exp.point
    seen = {}

    def recording(params, values, streams):
        # the seed index is the last entry of the point's root spawn key (sgphys.sweep)
        seen[(int(values["D"]), int(values["N"]), streams["train"].spawn_key[-2])] = streams
        return real(params, values, streams)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(exp, "point", recording)
        ds = sgphys.run_experiment("quantized", **TINY)
    return ds, seen


def _data(streams, D, N, P):
    """The training arrays of one P and the test set, rebuilt from the recorded streams."""
    H, y = sgphys.sample_tasks(D, N, max(TINY["P"]), seed=streams["train"],
                               method="statistics").feature_arrays()
    test = sgphys.sample_tasks(D, N, TINY["P_test"], seed=streams["test"], method="statistics")
    return H[:P], y[:P], test.keep()


def _spins(ds, sel, solver):
    D = sel["D"]
    W = ds["mean"].sel(**sel, solver=solver).values[:D + 1, :D + 1]
    return weights_to_spins(W, D)


def test_tiny_run_is_complete_and_labelled(tiny):
    ds, seen = tiny
    assert (ds.status.values == 1).all(), ds.error.values
    assert len(seen) == 2
    assert ds.contrast_ratio_w11.dims == ("D", "N", "P", "seed", "prior", "beta", "solver")
    assert list(ds.solver.values) == ["exact", "tap", "gibbs"]
    assert list(ds.prior.values) == list(qz.PRIOR_NAMES)
    for v in list(ds.data_vars) + list(ds.coords):
        assert {"long_name", "units"} <= set(ds[v].attrs), v
    # solvers that do not apply say so, and only there
    reason = ds.reason
    assert (reason.sel(solver="exact", prior=["ternary", "binary"]) == qz.SKIP_EXACT).all()
    assert (reason.sel(solver="gibbs", prior="gaussian") == qz.SKIP_GIBBS_GAUSSIAN).all()
    assert (reason.sel(solver="exact", prior="gaussian") == "converged").all()
    assert not (reason.sel(solver="gibbs", prior=["ternary", "binary"]).str.startswith(
        "skipped")).any()


def test_prior_scale_and_provenance(tiny):
    ds, _ = tiny
    D, N = 2, 6
    a = sgphys.observables.theory_w11_scale(N, D)
    assert float(ds.prior_a.sel(D=D, N=N)) == pytest.approx(N / (N + D + 1), rel=1e-15)
    (entry,) = json.loads(ds.attrs["priors"])
    assert (entry["D"], entry["N"]) == (D, N)
    assert prior_from_attrs(entry["ternary"]) == sgphys.Ternary(a, 1.0 / 3.0)
    assert prior_from_attrs(entry["binary"]) == sgphys.Binary(a)
    assert prior_from_attrs(entry["gaussian"]) == sgphys.Gaussian(0.01)
    # a fixed scale is used as given
    assert qz.prior_scale({"a": 0.5}, D, N) == 0.5
    assert qz.make_prior("ternary", {"a": 0.5, "p0": 0.2, "lam": 0.0}, D, N) == \
        sgphys.Ternary(0.5, 0.2)


@pytest.mark.parametrize("prior", ["ternary", "binary"])
def test_gibbs_means_and_ground_energy_match_enumeration(tiny, prior):
    """Every stored Gibbs mean against the exact enumeration of the same model (within
    five Monte Carlo standard errors), and the lowest energy met at the cold beta is the
    ground state's."""
    ds, seen = tiny
    D, N = 2, 6
    make = qz.make_prior(prior, {"a": "population", "p0": 1.0 / 3.0, "lam": 0.0}, D, N)
    checked = 0
    for (_, _, s), streams in seen.items():
        for P in TINY["P"]:
            H, y, _ = _data(streams, D, N, P)
            model = sgphys.SpinModel.from_arrays(H, y, 0.0, D, prior=make)
            for beta in TINY["beta"]:
                sel = dict(D=D, N=N, P=P, seed=s, prior=prior, beta=beta)
                exact = sgphys.solve_enumerate(model, beta)
                g = ds.sel(**sel, solver="gibbs")
                assert int(g.converged) == 1, (sel, float(g.residual))
                mcse = float(ds.gibbs_mcse_max.sel(**sel))
                got = _spins(ds, sel, "gibbs")
                np.testing.assert_allclose(got, exact.mean, rtol=0, atol=5 * mcse + 2e-3,
                                           err_msg=str(sel))
                e_min = float(ds.gibbs_min_energy.sel(**sel))
                assert e_min >= exact.info["ground_energy"] - 1e-12
                if beta == max(TINY["beta"]):
                    assert e_min == pytest.approx(exact.info["ground_energy"], abs=1e-12)
                assert float(g.energy_of_mean) == pytest.approx(
                    sgphys.discrete.energy0(model, got), rel=1e-12, abs=1e-12)
                checked += 1
    assert checked == 2 * 2 * 3


def test_gaussian_branch_is_the_ridge_solution(tiny):
    ds, seen = tiny
    D, N = 2, 6
    for (_, _, s), streams in seen.items():
        for P in TINY["P"]:
            H, y, test = _data(streams, D, N, P)
            W = sgphys.solve_exact(sgphys.SpinModel.from_arrays(H, y, 0.01, D), 1.0).W
            for beta in TINY["beta"]:
                sel = dict(D=D, N=N, P=P, seed=s, prior="gaussian", beta=beta)
                stored = ds["mean"].sel(**sel, solver="exact").values
                np.testing.assert_allclose(stored, W, rtol=1e-9, atol=1e-12)
                x = ds.sel(**sel, solver="exact")
                assert float(x.test_error) == pytest.approx(sgphys.test_error(W, test),
                                                            rel=1e-9)
                assert float(x.contrast_ratio_w11) == pytest.approx(
                    sgphys.contrast_ratio(W, block="w11"), rel=1e-12)
                tap = ds.sel(**sel, solver="tap")
                if int(tap.converged) == 1:  # TAP's fixed point has the exact means
                    np.testing.assert_allclose(ds["mean"].sel(**sel, solver="tap").values,
                                               W, rtol=1e-6, atol=1e-8)


def test_amp_means_are_solve_amp_of_the_same_model(tiny):
    """The stored TAP marginals of a discrete prior are solve_amp's on the rebuilt model,
    and their W11 contrast ratio and test error are computed from them."""
    ds, seen = tiny
    D, N = 2, 6
    (_, _, s), streams = next(iter(seen.items()))
    for prior in ("ternary", "binary"):
        make = qz.make_prior(prior, {"a": "population", "p0": 1.0 / 3.0, "lam": 0.0}, D, N)
        for P in TINY["P"]:
            H, y, test = _data(streams, D, N, P)
            model = sgphys.SpinModel.from_arrays(H, y, 0.0, D, prior=make)
            for beta in TINY["beta"]:
                sel = dict(D=D, N=N, P=P, seed=s, prior=prior, beta=beta, solver="tap")
                r = sgphys.solve_amp(model, beta, max_iter=qz.QUICK["max_iter"])
                assert str(ds.reason.sel(**sel).values) == r.reason
                np.testing.assert_allclose(ds["mean"].sel(**sel).values, r.W, rtol=1e-9,
                                           atol=1e-12)
                x = ds.sel(**sel)
                assert float(x.test_error) == pytest.approx(sgphys.test_error(r.W, test),
                                                            rel=1e-9)
                assert float(x.contrast_ratio_w11) == pytest.approx(
                    sgphys.contrast_ratio(r.W, block="w11"), rel=1e-9)


def test_converged_amp_finds_the_ternary_ground_state(tiny):
    """At the cold beta and P = 200 (a unique, well separated ternary ground state) the
    converged TAP means are the enumerated ones (within 1% of a)."""
    ds, seen = tiny
    D, N, P, beta = 2, 6, 200, 50.0
    a = float(ds.prior_a.sel(D=D, N=N))
    make = qz.make_prior("ternary", {"a": "population", "p0": 1.0 / 3.0, "lam": 0.0}, D, N)
    n_converged = 0
    for (_, _, s), streams in seen.items():
        sel = dict(D=D, N=N, P=P, seed=s, prior="ternary", beta=beta)
        if int(ds.converged.sel(**sel, solver="tap")) != 1:
            continue
        H, y, _ = _data(streams, D, N, P)
        model = sgphys.SpinModel.from_arrays(H, y, 0.0, D, prior=make)
        exact = sgphys.solve_enumerate(model, beta)
        np.testing.assert_allclose(_spins(ds, sel, "tap"), exact.mean, rtol=0, atol=0.01 * a)
        n_converged += 1
    assert n_converged >= 1


def test_icl_onset_is_recomputed_from_the_stored_contrast(tiny):
    ds, _ = tiny
    thr = float(ds.icl_onset_P.attrs["threshold"])
    Ps = np.sort(ds.P.values)
    for prior in ds.prior.values:
        for beta in ds.beta.values:
            for solver in ds.solver.values:
                x = ds.sel(D=2, N=6, prior=prior, beta=beta, solver=solver).sel(P=Ps)
                cr = np.where(x.converged.values == 1, x.contrast_ratio_w11.values, np.nan)
                n = np.isfinite(cr).sum(axis=1)
                mean = np.where(n > 0, np.nansum(cr, axis=1) / np.maximum(n, 1), np.nan)
                ok = np.nan_to_num(mean, nan=-1.0) >= thr
                expect = next((float(Ps[i]) for i in range(len(Ps)) if ok[i:].all()), np.nan)
                got = float(ds.icl_onset_P.sel(D=2, N=6, prior=prior, beta=beta,
                                               solver=solver))
                assert got == expect or (np.isnan(got) and np.isnan(expect))


def test_gibbs_streams_are_keyed_by_values_not_grid_position():
    """P reordered and another P added below max(P) (the training set at P is the first P
    sequences of the set at max(P), so max(P) stays): the same numbers at every P."""
    kw = dict(D=[2], N=[6], beta=[50.0], seeds=1, gibbs_sweeps=200, P_test=50,
              priors=["ternary"], solvers=["exact"])
    a = sgphys.run_experiment("quantized", P=[30, 60], **kw)
    b = sgphys.run_experiment("quantized", P=[60, 45, 30], **kw)
    for P in (30, 60):
        for v in ("mean", "gibbs_rhat_max", "gibbs_min_energy", "test_error"):
            np.testing.assert_array_equal(a[v].sel(P=P).values, b[v].sel(P=P).values,
                                          err_msg=f"{v} at P={P}")


def test_interrupted_run_resumes_to_the_uninterrupted_file(tmp_path, monkeypatch):
    exp = get_experiment("quantized")
    real = exp.point
    calls = []
    kw = dict(D=[2], N=[4, 6], P=[30], beta=[50.0], seeds=2, gibbs_sweeps=100, P_test=50,
              solvers=["exact"])

    def point(params, values, streams):
        if len(calls) >= 2 and limit[0]:
            raise Interrupt
        calls.append(dict(values))
        return real(params, values, streams)

    limit = [True]
    monkeypatch.setattr(exp, "point", point)
    out = tmp_path / "q.nc"
    with pytest.raises(Interrupt):
        sgphys.run_experiment("quantized", out=out, **kw)
    assert not out.exists() and len(calls) == 2
    limit[0] = False
    calls.clear()
    resumed = sgphys.run_experiment("quantized", out=out, **kw)
    assert len(calls) == 2  # only the two points not finished before
    fresh = sgphys.run_experiment("quantized", **kw)
    for name in fresh.data_vars:
        np.testing.assert_array_equal(resumed[name].values, fresh[name].values, err_msg=name)
    assert resumed.attrs["priors"] == fresh.attrs["priors"]
    calls.clear()
    again = sgphys.run_experiment("quantized", out=out, **kw)  # complete: not recomputed
    assert not calls and again.attrs["history"] == resumed.attrs["history"]


def test_gibbs_is_skipped_above_gibbs_max_D():
    ds = sgphys.run_experiment("quantized", D=[2], N=[4], P=[20], beta=[5.0], seeds=1,
                               P_test=50, priors=["binary"], solvers=["exact"],
                               gibbs_max_D=1)
    assert (ds.status.values == 1).all()
    assert (ds.reason.sel(solver="gibbs") == qz.SKIP_GIBBS_D).all()
    assert np.isnan(ds.gibbs_rhat_max.values).all()


def test_ladder_is_geometric_with_the_target_on_top():
    lad = qz.ladder(1000.0, 1.0, 1.5)
    assert lad[0] == 1.0 and lad[-1] == 1000.0 and lad.size == 19
    r = lad[1:] / lad[:-1]
    assert np.all(r <= 1.5 + 1e-12) and np.allclose(r, r[0])
    assert qz.ladder(0.5, 1.0, 1.5) is None
    assert qz.ladder(1.5, 1.0, 1.5).tolist() == [1.0, 1.5]
    with pytest.raises(ValueError, match="ladder_ratio"):
        qz.ladder(10.0, 1.0, 1.0)


@pytest.mark.parametrize("override, name", [
    (dict(priors=["laplace"]), "priors"), (dict(priors=[]), "priors"),
    (dict(a=-1.0), "^a must"), (dict(a="optimum"), "^a must"), (dict(p0=1.0), "p0"),
    (dict(ladder_ratio=1.0), "ladder_ratio"), (dict(ladder_min=0.0), "ladder_min"),
    (dict(rhat_tol=1.0), "rhat_tol"), (dict(gibbs_sweeps=4), "gibbs_sweeps"),
    (dict(gibbs_chains=0), "gibbs_chains"), (dict(icl_threshold=1.5), "icl_threshold"),
    (dict(gibbs_max_D=0), "gibbs_max_D"), (dict(beta=[-1.0]), "beta"),
])
def test_bad_parameters_name_the_parameter(override, name):
    kw = dict(D=[2], N=[4], P=[10], seeds=1, solvers=["exact"])
    with pytest.raises(ValueError, match=name):
        sgphys.run_experiment("quantized", **{**kw, **override})


def test_figQ1_is_registered_and_draws_from_the_tiny_run(tiny, tmp_path):
    from sgphys.figures import FIGURES, figQ1_quantized

    assert FIGURES["quantized"] == "figQ1_quantized"
    assert "quantized" in sgphys.list_experiments()
    assert (REPO / "analysis" / "figQ1_quantized.py").exists()
    out = figQ1_quantized.plot(tiny[0], tmp_path / "q1.png")
    assert out.stat().st_size > 10_000
