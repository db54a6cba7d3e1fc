"""Experiments at large D through the matrix-free model (sgphys.FactoredModel), each against
an independent truth: the dense path on the same training sets, the sweep's own seed
streams, numpy least squares and the memory the sizes imply.
"""

import numpy as np
import pytest

import sgphys
from sgphys import _validate
from sgphys.experiments import finite_size as fs
from sgphys.experiments import get_experiment, resolve_params
from sgphys.experiments._common import seed_index
from sgphys.sweep import STREAMS, point_streams

# (5, 3) and (1, 4): P > n_spins; (2, 0.5): P < n_spins (ridgeless: near-singular)
SMALL = dict(alpha_tau=[[5.0, 3.0], [1.0, 4.0], [2.0, 0.5]], point=[0, 1, 2], D=[4, 6, 8],
             lam_theory=[1e-6, 2.0], seeds=3, iterative_max_D=6)


@pytest.fixture(scope="module")
def dense():
    return sgphys.run_experiment("finite_size", **SMALL)


@pytest.fixture(scope="module")
def matrix_free():
    # D = 6 and 8 matrix-free, D = 8 with two of the three seeds
    return sgphys.run_experiment("finite_size", **SMALL, dense_max_D=5,
                                 seeds_per_D=[[8, 2]])


def test_matrix_free_points_equal_the_dense_solution(dense, matrix_free):
    d, f = dense.sel(solver="exact"), matrix_free.sel(solver="exact")
    assert (matrix_free.status.values == 1).all(), matrix_free.error.values
    # D = 4 is dense in both runs: identical
    np.testing.assert_array_equal(f.test_error.sel(D=4).values, d.test_error.sel(D=4).values)
    # the same training sets (same seeds) solved by certified PCG instead of Cholesky
    run = ~(f.reason.values == fs.SKIPPED_SEED)
    assert (f.converged.values[run] == 1).all()
    assert (f.residual.sel(D=[6, 8]).values[run[:, 1:]] <= 1e-10).all()
    assert (f.n_iter.sel(D=[6, 8]).values[run[:, 1:]] > 0).all()  # CG, not Cholesky (0)
    ef, ed = f.test_error.values, d.test_error.values
    well_posed = np.ones(ef.shape, bool)
    well_posed[2, :, :, 0] = False  # ridgeless with P < n_spins
    ok = run & well_posed
    np.testing.assert_allclose(ef[ok], ed[ok], rtol=1e-8)
    # ridgeless with P < n_spins: the residual certificate bounds the error in Q's null
    # space only through 1 / lam, so the agreement is looser
    ok = run & ~well_posed
    np.testing.assert_allclose(ef[ok], ed[ok], rtol=1e-3)


def test_other_solvers_are_skipped_on_matrix_free_points(matrix_free):
    tap = matrix_free.sel(solver="tap")
    assert (tap.reason.sel(D=6).values == fs.SKIPPED_DENSE).all()
    assert (tap.reason.sel(D=8).isel(seed=[0, 1]).values == fs.SKIPPED_DENSE).all()
    assert not (tap.reason.sel(D=4).values == fs.SKIPPED_DENSE).any()
    assert np.isnan(tap.test_error.sel(D=[6, 8]).values).all()


def test_seeds_per_D_runs_the_first_seeds_only(dense, matrix_free):
    f = matrix_free.sel(D=8)
    skipped = f.reason.values == fs.SKIPPED_SEED  # (point, seed, lam, solver)
    assert skipped[:, 2].all() and not skipped[:, :2].any()
    assert (f.converged.values[:, 2] == 0).all()
    assert np.isnan(f.test_error.values[:, 2]).all()
    np.testing.assert_array_equal(matrix_free.exact_error_n.sel(D=8).values, 2)
    np.testing.assert_array_equal(matrix_free.exact_error_n.sel(D=[4, 6]).values, 3)
    # the mean at D = 8 is the dense run's mean over its first two seeds
    first = dense.test_error.sel(D=8, solver="exact").isel(seed=[0, 1])
    np.testing.assert_allclose(matrix_free.exact_error_mean.sel(D=8).values,
                               first.mean("seed").transpose("point", "lam_theory").values,
                               rtol=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 7, 123])
def test_seed_index_reads_the_sweep_streams(seed):
    streams = point_streams(5, {"point": 1, "D": 40}, seed)
    assert set(STREAMS) <= set(streams)
    assert seed_index(streams) == seed


def test_fit_min_D_fits_only_the_large_sizes(dense):
    ds = sgphys.run_experiment("finite_size", **SMALL, fit_min_D=6)
    x = 1.0 / np.array([6.0, 8.0])
    for i in range(3):
        for lt in SMALL["lam_theory"]:
            e = dense.test_error.sel(point=i, lam_theory=lt, solver="exact",
                                     D=[6, 8]).transpose("D", "seed").values
            slope, intercept = np.polyfit(x, e.mean(axis=1), 1)  # two D: the line through
            sub = ds.sel(point=i, lam_theory=lt)
            assert float(sub.extrapolated_error) == pytest.approx(intercept, rel=1e-9)
            assert float(sub.extrapolation_slope) == pytest.approx(slope, rel=1e-9)
            assert np.isnan(float(sub.extrapolated_error_quadratic))  # two D: no quadratic


def test_large_preset_resolves_within_its_memory(monkeypatch):
    exp = get_experiment("finite_size")
    monkeypatch.setattr(_validate, "MAX_MEMORY", 8 * 2**30)
    params = resolve_params(exp, "large")
    assert params["D"] == [20, 40, 80, 160, 320]
    assert params["solvers"] == ["exact"]
    assert params["dense_max_D"] < 80 and params["fit_min_D"] == 80
    assert {D: n for D, n in params["seeds_per_D"]} == {160: 8, 320: 2}
    # the D = 320, tau = 4 factors: 2 x 409,600 x 321 doubles, about 2.1 GB, fit in 8 GiB;
    # dense couplings (3 n_spins^2 doubles) do not: 15.9 GB at D = 160
    with pytest.raises(ValueError, match="^D=160: one point's couplings"):
        resolve_params(exp, "large", {"dense_max_D": 320})
    monkeypatch.setattr(_validate, "MAX_MEMORY", 2 * 10**9)  # below the factors' 2.1 GB
    with pytest.raises(ValueError, match="^D=320: one matrix-free point's factors"):
        resolve_params(exp, "large")


def test_cli_lists_the_large_preset(capsys):
    from sgphys.cli import main

    main(["list", "finite_size"])
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("--set KEY"))
    assert "large" in header.split()
    assert any(line.startswith("seeds_per_D") and "[[160, 8], [320, 2]]" in line
               for line in out.splitlines())


@pytest.mark.parametrize("override, name", [
    ({"seeds_per_D": [[8, 4]]}, "seeds_per_D"),          # more than seeds=3
    ({"seeds_per_D": [[8, 1], [8, 2]]}, "seeds_per_D"),  # D twice
    ({"seeds_per_D": [[8]]}, "seeds_per_D"),
    ({"seeds_per_D": 2}, "seeds_per_D"),
    ({"seeds_per_D": [[8, 0]]}, "seeds_per_D"),
    ({"dense_max_D": 0}, "dense_max_D"),
    ({"dense_max_D": 2.5}, "dense_max_D"),
    ({"fit_min_D": -1}, "fit_min_D"),
])
def test_bad_large_parameters_name_the_parameter(override, name):
    with pytest.raises(ValueError, match=name):
        resolve_params(get_experiment("finite_size"), "quick", {**SMALL, **override})


def test_figT1_draws_the_fit_over_the_large_sizes_and_the_relative_row(matrix_free, tmp_path,
                                                                       monkeypatch):
    import json

    from sgphys.figures import _style, figT1_finite_size
    from sgphys.theory import icl_error

    ds = matrix_free.copy()
    params = json.loads(ds.attrs["parameters"])
    ds = ds.assign_attrs(parameters=json.dumps({**params, "fit_min_D": 6}))
    figs = []
    real = _style.save
    monkeypatch.setattr(_style, "save", lambda fig, out, pdf=False: (figs.append(fig),
                                                                     real(fig, out, pdf))[1])
    # the stored fits over D >= 6 (as a run with fit_min_D=6 stores them)
    x = 1.0 / np.array([6.0, 8.0])
    lines = {}
    for i in range(3):
        e = ds.exact_error_mean.sel(point=i, lam_theory=2.0, D=[6, 8]).values
        slope, intercept = np.polyfit(x, e, 1)
        lines[i] = (intercept, slope)
        ds["extrapolated_error"].loc[{"point": i, "lam_theory": 2.0}] = intercept
        ds["extrapolation_slope"].loc[{"point": i, "lam_theory": 2.0}] = slope
    figT1_finite_size.plot(ds, tmp_path / "t1.png")
    top, bottom = figs[0].axes[1], figs[0].axes[3]  # lambda = 2: error and relative rows
    dashed = [ln for ln in top.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 3
    for i, ln in enumerate(dashed):
        xs = ln.get_xdata()
        assert xs.min() == 0.0 and xs.max() == pytest.approx(1.05 / 6)  # to the smallest D fitted
        np.testing.assert_allclose(ln.get_ydata(), lines[i][0] + lines[i][1] * xs, rtol=1e-12)
    # lower row: each point's means relative to the closed-form theory, in %
    theory = [icl_error(a, t, lam=2.0) for a, t in SMALL["alpha_tau"]]
    solid = [ln for ln in bottom.lines if ln.get_linestyle() == "-" and len(ln.get_xdata()) == 3]
    assert len(solid) == 3
    for i, ln in enumerate(solid):
        m = ds.exact_error_mean.sel(point=i, lam_theory=2.0).values
        np.testing.assert_allclose(ln.get_ydata(), 100 * (m / theory[i] - 1), rtol=1e-10)


# -- quantized: matrix-free exact and GAMP above dense_max_D -------------------------------------

from sgphys.experiments import quantized as qz  # noqa: E402

QSMALL = dict(D=[4, 5], N=[8], P=[60, 120, 240], priors=["gaussian", "ternary"],
              beta=[1.0, 10.0], seeds=2, P_test=200, gibbs_max_D=4, gibbs_sweeps=100)


@pytest.fixture(scope="module")
def q_dense():
    return sgphys.run_experiment("quantized", **QSMALL)


@pytest.fixture(scope="module")
def q_free():
    return sgphys.run_experiment("quantized", **QSMALL, dense_max_D=4)


def test_quantized_matrix_free_exact_is_the_dense_ridge(q_dense, q_free):
    assert (q_free.status.values == 1).all(), q_free.error.values
    np.testing.assert_array_equal(q_free.matrix_free.values, [0, 1])
    np.testing.assert_array_equal(q_dense.matrix_free.values, [0, 0])
    # D = 4 dense in both: identical
    for v in ("test_error", "contrast_ratio_w11", "mean"):
        np.testing.assert_array_equal(q_free[v].sel(D=4).values, q_dense[v].sel(D=4).values)
    f = q_free.sel(D=5, prior="gaussian", solver="exact")
    d = q_dense.sel(D=5, prior="gaussian", solver="exact")
    assert (f.converged.values == 1).all() and (f.n_iter.values > 0).all()  # CG
    np.testing.assert_allclose(f["mean"].values, d["mean"].values, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(f.test_error.values, d.test_error.values, rtol=1e-8)
    # E0 of the mean, matrix-free, against the dense model's
    np.testing.assert_allclose(f.energy_of_mean.values, d.energy_of_mean.values, rtol=1e-8)


def test_quantized_matrix_free_amp_is_gamp(q_dense, q_free):
    f = q_free.sel(D=5)
    # Gaussian prior: GAMP's fixed point has the exact (ridge) means
    g = f.sel(prior="gaussian", solver="tap")
    assert (g.converged.values == 1).all()
    np.testing.assert_allclose(g["mean"].values,
                               q_dense.sel(D=5, prior="gaussian", solver="exact")["mean"].values,
                               rtol=1e-6, atol=1e-8)
    assert (g.negative_cavity.values == -1).all()
    # ternary at beta = 1: GAMP and the dense TAP approximate the same marginals; they
    # differ by a few 1e-3 at D = 5 (docs/scale.md), far below the means' scale
    t = f.sel(prior="ternary", solver="tap", beta=1.0)
    td = q_dense.sel(D=5, prior="ternary", solver="tap", beta=1.0)
    both = (t.converged.values == 1) & (td.converged.values == 1)
    assert both.sum() >= 4
    diff = np.abs(t["mean"].values - td["mean"].values)[both]
    assert np.nanmax(diff) < 2e-2
    # no Gibbs on matrix-free points
    assert (f.sel(prior="ternary", solver="gibbs").reason.values
            == qz.SKIP_GIBBS_D).all()  # gibbs_max_D = 4 applies first
    ds = sgphys.run_experiment("quantized", **{**QSMALL, "D": [5], "P": [60], "beta": [1.0],
                                               "gibbs_max_D": 10}, dense_max_D=4)
    assert (ds.reason.sel(prior="ternary", solver="gibbs").values == qz.SKIP_GIBBS_DENSE).all()


def test_quantized_large_preset_resolves_within_its_memory(monkeypatch):
    exp = get_experiment("quantized")
    monkeypatch.setattr(_validate, "MAX_MEMORY", 8 * 2**30)
    params = resolve_params(exp, "large")
    assert params["D"] == [40, 80] and params["dense_max_D"] < 40
    assert params["priors"] == ["gaussian", "ternary"]
    # dense at D = 80: couplings 3 n^2 and features P n doubles (n = 6480, P = 64000: 4.3 GB)
    monkeypatch.setattr(_validate, "MAX_MEMORY", 4 * 10**9)
    resolve_params(exp, "large")  # the factors (0.17 GB) fit
    with pytest.raises(ValueError, match="^D=80: one point's spin model"):
        resolve_params(exp, "large", {"dense_max_D": 80})
    with pytest.raises(ValueError, match="dense_max_D"):
        resolve_params(exp, "large", {"dense_max_D": 0})
