"""Identities of the core: prediction = <H, W>_F, E(s) = L(W(s)) - const."""

import numpy as np

import sgphys


def _random_W(D, rng):
    W = rng.standard_normal((D + 1, D + 1))
    W[:, D] = 0.0
    return W


def test_prediction_equals_explicit_matrix_product():
    rng = np.random.default_rng(3)
    tasks = sgphys.sample_tasks(4, 7, 30, seed=11)
    W = _random_W(4, rng)
    explicit = np.array([((z @ z.T @ W @ z) / 7)[4, 7] for z in tasks.Z])
    H = tasks.features()
    np.testing.assert_allclose(H @ W[:, :4].ravel(), explicit, rtol=0, atol=1e-12)
    np.testing.assert_allclose(sgphys.predict_merged(W, tasks.Z), explicit, rtol=0, atol=1e-12)


def test_energy_equals_loss_minus_constant():
    rng = np.random.default_rng(5)
    tasks = sgphys.sample_tasks(3, 10, 50, seed=2)
    model = sgphys.SpinModel.from_tasks(tasks, lam=0.3)
    for _ in range(5):
        W = _random_W(3, rng)
        s = model.to_spins(W)
        expected = model.loss(W) - 0.5 * np.mean(tasks.y ** 2)
        assert abs(model.energy(s) - expected) <= 1e-10 * max(1.0, abs(expected))
