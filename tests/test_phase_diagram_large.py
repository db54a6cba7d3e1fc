"""Fig. 4a's large preset: matrix-free points (sgphys.FactoredModel) above dense_max_D and a
ternary prior for the AMP column, each against an independent truth: the dense path on the
same training sets (same seeds), the Gaussian GAMP fixed point (the ridge solution), the
quick path's numbers and the memory the sizes imply."""

import numpy as np
import pytest

import sgphys
from sgphys import _validate
from sgphys.experiments import get_experiment, resolve_params
from sgphys.experiments import phase_diagram as pd
from sgphys.observables import theory_w11_scale

# D = 3: n_spins = 12; P below and above n_spins
TINY = dict(D=3, N=[4, 8], P=[6, 12, 30], seeds=2, P_test=100)
# D = 5: n_spins = 30; ternary prior at beta = 1, P / n_spins = 1/2, 3 and 5
TERNARY = dict(D=5, N=[5, 10], P=[15, 90, 150], beta=1.0)


def _run(**kw):
    ds = sgphys.run_experiment("phase_diagram", preset="large", **{**TINY, **kw})
    assert (ds.status.values == 1).all(), ds.error.values
    return ds


@pytest.fixture(scope="module")
def dense_gauss():
    return _run(prior=None, dense_max_D=None)


@pytest.fixture(scope="module")
def free_gauss():
    return _run(prior=None, dense_max_D=2)


@pytest.fixture(scope="module")
def dense_ternary():
    return _run(**TERNARY, dense_max_D=None)


@pytest.fixture(scope="module")
def free_ternary():
    return _run(**TERNARY, dense_max_D=4)


def test_large_keys_at_their_defaults_give_the_quick_numbers(dense_gauss):
    # prior None and dense_max_D None: the quick path, bit for bit
    q = sgphys.run_experiment("phase_diagram", **TINY)
    for v in ("contrast_ratio", "contrast_ratio_w11", "test_error", "converged", "n_iter"):
        np.testing.assert_array_equal(dense_gauss[v].values, q[v].values)
    assert int(dense_gauss.matrix_free) == 0 and "matrix_free" not in q
    assert dense_gauss.attrs["amp_prior"] == "gaussian"


def test_matrix_free_exact_equals_the_dense_ridge(dense_gauss, free_gauss):
    assert int(free_gauss.matrix_free) == 1
    f, d = free_gauss.sel(solver="exact"), dense_gauss.sel(solver="exact")
    assert (f.converged.values == 1).all()
    assert (f.n_iter.values > 0).all()  # conjugate gradients, not a factorisation
    assert (f.residual.values <= 1e-10).all()
    for v in ("contrast_ratio", "contrast_ratio_w11", "test_error"):
        np.testing.assert_allclose(f[v].values, d[v].values, rtol=1e-8)


def test_matrix_free_gaussian_gamp_is_the_ridge(dense_gauss, free_gauss):
    # a Gaussian prior: GAMP's fixed point has the exact means
    g = free_gauss.sel(solver="tap")
    assert (g.converged.values == 1).all()
    assert (g.negative_cavity.values == -1).all()
    e = dense_gauss.sel(solver="exact")
    np.testing.assert_allclose(g.contrast_ratio.values, e.contrast_ratio.values, rtol=1e-6)
    np.testing.assert_allclose(g.test_error.values, e.test_error.values, rtol=1e-6)


def test_ternary_gamp_agrees_with_dense_ternary_tap(dense_ternary, free_ternary):
    for ds in (dense_ternary, free_ternary):
        np.testing.assert_allclose(ds.prior_a.values, [theory_w11_scale(N, 5) for N in (5, 10)])
        assert ds.attrs["amp_prior"] == "ternary"
    assert int(free_ternary.matrix_free) == 1 and int(dense_ternary.matrix_free) == 0
    # the exact column stays the ridge solution (dense Cholesky vs PCG) whatever the AMP prior
    for v in ("contrast_ratio", "test_error"):
        np.testing.assert_allclose(free_ternary[v].sel(solver="exact").values,
                                   dense_ternary[v].sel(solver="exact").values, rtol=1e-8)
    t = free_ternary.sel(solver="tap").transpose("N", "P", "seed")
    td = dense_ternary.sel(solver="tap").transpose("N", "P", "seed")
    assert (t.converged.values == 1).all() and (td.converged.values == 1).all()
    # GAMP and the dense TAP are two mean-field approximations of the same ternary marginals
    # (docs/scale.md): close at P >= 3 n_spins, apart by up to several per cent below
    many = t.P.values >= 90
    for v, tol in (("test_error", 1e-2), ("contrast_ratio", 1e-2)):
        np.testing.assert_allclose(t[v].values[:, many], td[v].values[:, many], rtol=tol)
        np.testing.assert_allclose(t[v].values, td[v].values, rtol=0.15)
    # and the ternary prior is in use: TAP with the Gaussian prior has the exact numbers
    e = dense_ternary.sel(solver="exact").transpose("N", "P", "seed")
    assert np.min(np.abs(td.test_error.values - e.test_error.values)) > 1e-3


def test_other_solvers_are_skipped_on_matrix_free_points():
    ds = _run(N=[8], P=[30], seeds=1, solvers=["exact", "tap", "paper", "rbp"], prior=None,
              dense_max_D=2)
    p = ds.sel(solver=["paper", "rbp"])
    assert (p.reason.values == pd.SKIPPED_DENSE).all()
    assert np.isnan(p.contrast_ratio.values).all() and (p.converged.values == 0).all()
    assert (ds.sel(solver="tap").converged.values == 1).all()


def test_large_preset_resolves_within_its_memory(monkeypatch):
    exp = get_experiment("phase_diagram")
    monkeypatch.setattr(_validate, "MAX_MEMORY", 2 * 10**9)
    params = resolve_params(exp, "large")
    n = 100 * 101
    assert params["D"] == 100 and params["dense_max_D"] < 100
    assert params["prior"] == "ternary" and params["solvers"] == ["exact", "tap"]
    assert min(params["P"]) <= n / 4 + 1 and max(params["P"]) >= 4 * n
    # dense at D = 100: 3 n_spins^2 doubles of couplings, 2.4 GB, do not fit 2 GB; the
    # factors (P x (2 D + 3) doubles, 66 MB) do
    with pytest.raises(ValueError, match="^D=100: one point's spin model"):
        resolve_params(exp, "large", {"dense_max_D": 100})
    monkeypatch.setattr(_validate, "MAX_MEMORY", 5 * 10**7)
    with pytest.raises(ValueError, match="^D=100: one matrix-free point's factors"):
        resolve_params(exp, "large")


def test_cli_lists_the_large_preset(capsys):
    from sgphys.cli import main

    main(["list", "phase_diagram"])
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.startswith("--set KEY"))
    assert "large" in header.split()
    assert any(line.startswith("dense_max_D") for line in out.splitlines())


@pytest.mark.parametrize("override, name", [
    ({"prior": "quaternary"}, "prior"),
    ({"prior": 3}, "prior"),
    ({"a": -1.0}, "a"),
    ({"a": "optimal"}, "a"),
    ({"p0": 1.5}, "p0"),
    ({"dense_max_D": 0}, "dense_max_D"),
    ({"dense_max_D": 2.5}, "dense_max_D"),
])
def test_bad_large_parameters_name_the_parameter(override, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        resolve_params(get_experiment("phase_diagram"), "large", {**TINY, **override})


def test_fig4a_draws_a_matrix_free_ternary_file(tmp_path, monkeypatch):
    from sgphys.figures import _style, fig4_phase_diagram

    figs = []
    real = _style.save
    monkeypatch.setattr(_style, "save", lambda fig, out, pdf=False: (figs.append(fig),
                                                                     real(fig, out, pdf))[1])
    # P and N spread geometrically, as in the large preset
    ds = _run(D=3, N=[2, 4, 8, 16], P=[6, 12, 24, 48], seeds=2, beta=1.0, dense_max_D=2)
    fig4_phase_diagram.plot(ds, tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 0
    axes = {ax.get_title()[:3]: ax for ax in figs[0].axes if ax.get_title()}
    assert "ternary GAMP" in axes["(a)"].get_title() and "CG" in axes["(c)"].get_title()
    # panel (a): the seed mean of the converged ternary GAMP contrast ratios, on log axes
    tap = ds.sel(solver="tap")
    cr = tap.contrast_ratio.where(tap.converged == 1).mean("seed").values
    np.testing.assert_allclose(axes["(a)"].collections[0].get_array().reshape(4, 4), cr,
                               rtol=1e-12)
    assert axes["(a)"].get_xscale() == "log" and axes["(a)"].get_yscale() == "log"
    # the exact ridge contrast ratio in (c); the cell edges are the geometric midpoints
    np.testing.assert_allclose(
        axes["(c)"].collections[0].get_array().reshape(4, 4),
        ds.contrast_ratio.sel(solver="exact").mean("seed").values, rtol=1e-12)
    edges = axes["(c)"].collections[0].get_coordinates()[0, :, 0]
    np.testing.assert_allclose(edges[1:-1], np.sqrt([6 * 12, 12 * 24, 24 * 48]), rtol=1e-12)
