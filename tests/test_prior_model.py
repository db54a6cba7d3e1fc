"""The weight prior as part of the spin model: Gaussian(lam) is today's model, other priors
replace the ridge and are refused by the Gaussian solvers."""

import numpy as np
import pytest

import sgphys


def test_default_prior_is_the_ridge_and_changes_nothing():
    tasks = sgphys.sample_tasks(3, 20, 200, seed=4)
    a = sgphys.SpinModel.from_tasks(tasks, 0.1)
    b = sgphys.SpinModel.from_tasks(tasks, 0.1, prior=sgphys.Gaussian(0.1))
    assert a.prior == sgphys.Gaussian(0.1) == b.prior
    for x, y in ((a.J, b.J), (a.h, b.h), (a.lam_k, b.lam_k)):
        assert np.array_equal(x, y)
    assert np.array_equal(sgphys.solve_amp(a, 10.0).mean, sgphys.solve_amp(b, 10.0).mean)
    # a stored prior round-trips through its netCDF attributes
    assert sgphys.priors.prior_from_attrs(sgphys.Ternary(0.5, 0.2).to_attrs()) == \
        sgphys.Ternary(0.5, 0.2)


def test_prior_and_lam_must_agree():
    tasks = sgphys.sample_tasks(2, 10, 50, seed=0)
    with pytest.raises(ValueError, match="lam"):
        sgphys.SpinModel.from_tasks(tasks, 0.1, prior=sgphys.Gaussian(0.2))
    with pytest.raises(ValueError, match="lam"):
        sgphys.SpinModel.from_tasks(tasks, 0.1, prior=sgphys.Binary(1.0))
    with pytest.raises(ValueError, match="prior"):
        sgphys.SpinModel.from_tasks(tasks, 0.0, prior="nonsense")
    with pytest.raises(ValueError, match="tasks"):
        sgphys.SpinModel.from_tasks("tasks", 1.0)


@pytest.mark.parametrize("solve", [sgphys.solve_exact, sgphys.solvers.auto_damping,
                                   sgphys.solvers.rbp_auto_damping])
def test_gaussian_solvers_refuse_a_discrete_prior(solve):
    model = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(2, 10, 50, seed=0), 0.0,
                                        prior=sgphys.Ternary(1.0, 0.3))
    with pytest.raises(ValueError, match="prior"):
        solve(model, 10.0)
    # the exact answer for that measure is enumeration
    r = sgphys.solve_enumerate(model, 10.0)
    assert r.converged and r.mean.shape == (6,) and np.all(r.var >= 0)
