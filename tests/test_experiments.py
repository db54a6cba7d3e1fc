"""Every experiment's quick preset runs and stores the variables (docs/experiments.rst, section
Experiments), labelled."""

import numpy as np
import pytest

import sgphys

EXPECTED = {
    "couplings": (("D", "N", "P", "seed", "block"), ["histogram", "excess_kurtosis", "J_example",
                                                      "gauss_fit", "mixture_weight"]),
    "weights": (("P", "seed", "solver"), ["mean", "var", "train_loss", "test_loss", "W_trained",
                                          "converged", "n_iter", "residual", "reason"]),
    "landscape": (("P", "seed"), ["energy", "embedding", "surface"]),
    "phase_diagram": (("N", "P", "seed", "solver"), ["contrast_ratio", "contrast_ratio_w11",
                                                     "test_error", "converged", "n_iter",
                                                     "residual", "reason"]),
    "prompt_length": (("N", "seed", "solver"), ["test_error", "test_error_trained",
                                                "theory_test_error"]),
    "separated": (("alpha", "seed", "scheme", "epoch"), ["test_error_trained", "train_loss",
                                                         "test_loss"]),
    "coupling_kl": (("N", "seed", "block"), ["kl_divergence"]),
    "resampled": (("seed", "solver", "row", "col"), ["mean", "var", "J_resampled", "mean_data"]),
    "task_pool": (("D", "n_tasks", "seed", "solver", "arch", "block"),
                  ["icl_error", "idg_error", "icl_error_dmmse", "idg_error_ridge",
                   "theory_icl_error", "theory_idg_error", "excess_kurtosis"]),
    "finite_size": (("point", "D", "seed", "lam_theory", "solver"),
                    ["test_error", "theory_error", "extrapolated_error", "extrapolated_error_se",
                     "converged"]),
    "correlated": (("corr", "seed", "solver"), ["test_error", "test_error_trained"]),
    "hessian": (("D", "P", "seed", "eigen", "bin"), ["eigenvalues", "spectral_density",
                                                     "zero_mode_fraction"]),
    "architectures": (("arch", "N", "seed", "solver"), ["test_error_trained", "test_error"]),
    "quantized": (("D", "N", "P", "seed", "prior", "beta", "solver", "row", "col"),
                  ["contrast_ratio_w11", "test_error", "converged", "n_iter", "residual",
                   "reason", "mean", "gibbs_rhat_max", "gibbs_ess_min", "icl_onset_P"]),
    "thermodynamics": (("D", "seed", "P_over_n", "prior", "beta", "branch"),
                       ["free_energy_per_spin", "energy_per_spin", "entropy_per_spin",
                        "branch_exists", "exact_free_energy_per_spin", "gibbs_log_z",
                        "gibbs_log_z_err", "spinodal_icl", "spinodal_other", "transition",
                        "ridge_onset"]),
}


@pytest.fixture(scope="module")
def quick(quick_data):
    return {name: quick_data.dataset(name) for name in sgphys.list_experiments()}


def test_registry_is_complete():
    assert sorted(sgphys.list_experiments()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_quick_preset_has_documented_variables(quick, name):
    ds = quick[name]
    dims, variables = EXPECTED[name]
    assert set(dims) <= set(ds.dims), (name, dict(ds.sizes))
    for v in variables:
        assert v in ds.data_vars, (name, v)
    for v in list(ds.data_vars) + list(ds.coords):
        assert {"long_name", "units"} <= set(ds[v].attrs), (name, v)
    assert (ds.status.values == 1).all(), ds.error.values
    assert ds.attrs["experiment"] == name and ds.attrs["preset"] == "quick"


def test_quick_physics_is_sane(quick):
    pd = quick["phase_diagram"]
    cr = pd.contrast_ratio.sel(solver="exact").mean("seed")
    # more tasks, closer to the identity (at the largest N)
    assert cr.isel(N=-1, P=-1) > cr.isel(N=-1, P=0)
    tap = pd.sel(solver="tap")
    ok = tap.converged.values == 1
    np.testing.assert_allclose(tap.contrast_ratio.values[ok],
                               pd.contrast_ratio.sel(solver="exact").values[ok], rtol=1e-7)
    pl = quick["prompt_length"]
    np.testing.assert_allclose(pl.theory_test_error, 6 / (pl.N + 6))
    hz = quick["hessian"]
    for D in hz.D.values:
        for P in hz.P.values:
            n = D * (D + 1)
            np.testing.assert_allclose(hz.zero_mode_fraction_active.sel(D=D, P=P),
                                       max(0, n - P) / n)
            if P != n:  # at P = n the smallest eigenvalue may fall below the absolute 1e-5
                np.testing.assert_allclose(hz.zero_mode_fraction.sel(D=D, P=P),
                                           (max(0, n - P) + D + 1) / (D + 1) ** 2)
