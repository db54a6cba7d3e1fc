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
    assert {D: n for D, n in params["seeds_per_D"]} == {160: 4, 320: 2}
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
    assert any(line.startswith("seeds_per_D") and "[[160, 4], [320, 2]]" in line
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
