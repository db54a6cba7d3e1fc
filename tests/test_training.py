"""Trainers: hand-written gradients vs finite differences, convergence to the exact ridge
solution, reductions between architectures, determinism and validation."""

import numpy as np
import pytest

import sgphys
from sgphys.attention import ARCHITECTURES, prepare
from sgphys.training import _penalty

CASES = [("sla", "merged", {}), ("sla", "separated", {}), ("fla", "merged", {}),
         ("sa", "merged", {}), ("sa", "merged", {"d_k": 2}), ("tf", "merged", {"hidden": 5}),
         ("mhla", "merged", {"heads": 3})]


@pytest.mark.parametrize("arch,scheme,hp", CASES)
def test_gradients_match_central_finite_differences(arch, scheme, hp):
    tasks = sgphys.sample_tasks(2, 4, 7, seed=3)
    data, y = prepare(tasks.Z), tasks.y
    spec = ARCHITECTURES[arch]
    params = spec.init(2, np.random.default_rng(1), scheme=scheme, **hp)
    if arch == "tf":  # move the ReLU kinks away from zero pre-activations
        params["b1"] = np.random.default_rng(2).standard_normal(params["b1"].shape)
    lam = 0.37

    def loss(p):
        return spec.grad(p, data, y)[0] + 0.5 * lam * _penalty(p, spec)

    _, grads = spec.grad(params, data, y)
    eps = 1e-6
    for name, value in params.items():
        g = grads[name] + (lam * value if spec.decayed(name) else 0.0)
        fd = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + eps
            up = loss(params)
            value[idx] = old - eps
            down = loss(params)
            value[idx] = old
            fd[idx] = (up - down) / (2 * eps)
        scale = max(1.0, np.abs(fd).max())
        assert np.abs(g - fd).max() <= 1e-6 * scale, (arch, name)


@pytest.mark.parametrize("optimizer,lr,epochs", [("sgd", None, 3000), ("adam", 3e-4, 20000)])
def test_merged_sla_converges_to_the_exact_ridge_solution(optimizer, lr, epochs):
    tasks = sgphys.sample_tasks(3, 10, 500, seed=1)
    test = tasks.test_set(500)
    model = sgphys.SpinModel.from_tasks(tasks, 0.1)
    exact = sgphys.solve_exact(model, 100.0)
    if lr is None:  # full-batch gradient descent at 1 / largest curvature
        lr = 1.0 / np.linalg.eigvalsh(model.precision())[-1]
    r = sgphys.train(tasks, optimizer=optimizer, lam=0.1, lr=lr, epochs=epochs, test=test)
    s = r.W[:, :3].ravel()
    assert np.abs(s - exact.mean).max() <= 1e-4 * np.abs(exact.mean).max()
    assert r.history.test_loss.values[-1] == pytest.approx(sgphys.test_error(exact.W, test), rel=1e-4)
    # the recorded training loss is L(W) of the spin model
    assert r.history.train_loss.values[-1] == pytest.approx(model.loss(r.W), rel=1e-10)


def test_separated_matches_merged_when_data_rich_and_depends_on_init_when_poor():
    D = 3
    rich = sgphys.sample_tasks(D, 20, 5 * D * (D + 1) * 4, seed=2)
    test = rich.test_set(2000)
    merged = sgphys.train(rich, lr=1e-2, epochs=3000, test=test)
    sep = sgphys.train(rich, scheme="separated", lr=1e-2, epochs=3000, test=test)
    e_m, e_s = merged.history.test_loss.values[-1], sep.history.test_loss.values[-1]
    assert abs(e_s / e_m - 1) < 0.05
    # data-poor (P < n_spins, lam = 0): many interpolating minima; the one reached depends
    # on the initialisation (measured: max |W difference| ~ 1 between two seeds)
    poor = sgphys.sample_tasks(D, 20, 6, seed=2)
    a = sgphys.train(poor, scheme="separated", lr=1e-2, epochs=2000, seed=0)
    b = sgphys.train(poor, scheme="separated", lr=1e-2, epochs=2000, seed=1)
    assert a.history.train_loss.values[-1] < 1e-6 and b.history.train_loss.values[-1] < 1e-6
    assert np.abs(a.W - b.W).max() > 0.1


def test_fla_with_identity_value_is_sla_and_mhla_with_one_head_is_fla():
    tasks = sgphys.sample_tasks(3, 6, 20, seed=4)
    rng = np.random.default_rng(0)
    WK, WQ = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    fla = {"W_V": np.eye(4), "W_K": WK, "W_Q": WQ}
    np.testing.assert_allclose(sgphys.predict(fla, tasks.Z, "fla"),
                               sgphys.predict_merged(WK.T @ WQ, tasks.Z), rtol=1e-12, atol=1e-12)
    WV = rng.standard_normal((4, 4))
    R = np.zeros((1, 4))
    R[0, 3] = 1.0
    mh = {"W_V": WV[None], "W_K": WK[None], "W_Q": WQ[None], "R": R}
    np.testing.assert_allclose(sgphys.predict(mh, tasks.Z, "mhla"),
                               sgphys.predict({"W_V": WV, "W_K": WK, "W_Q": WQ}, tasks.Z, "fla"),
                               rtol=1e-12, atol=1e-12)


def test_sa_forward_matches_explicit_softmax_attention():
    tasks = sgphys.sample_tasks(2, 4, 5, seed=6)
    p = ARCHITECTURES["sa"].init(2, np.random.default_rng(3), d_k=2)
    expected = []
    for Z in tasks.Z:
        S = (p["W_K"] @ Z).T @ (p["W_Q"] @ Z) / np.sqrt(2)
        A = np.exp(S - S.max(axis=0))
        A /= A.sum(axis=0)  # softmax over keys (rows) for each query (column)
        expected.append((p["W_V"] @ Z @ A)[2, 4])
    np.testing.assert_allclose(sgphys.predict(p, tasks.Z, "sa"), expected, rtol=1e-12)


@pytest.mark.parametrize("arch", ["sla", "fla", "sa", "tf", "mhla"])
def test_every_architecture_learns_and_is_deterministic(arch):
    tasks = sgphys.sample_tasks(3, 10, 150, seed=1)
    test = tasks.test_set(100)
    kw = dict(arch=arch, lr=1e-2, epochs=60, batch_size=50, seed=7, test=test, heads=2)
    a = sgphys.train(tasks, **kw)
    b = sgphys.train(tasks, **kw)
    np.testing.assert_array_equal(a.history.train_loss.values, b.history.train_loss.values)
    np.testing.assert_array_equal(a.history.test_loss.values, b.history.test_loss.values)
    c = sgphys.train(tasks, **{**kw, "seed": 8})
    assert not np.array_equal(a.history.train_loss.values, c.history.train_loss.values)
    loss = a.history.train_loss.values
    assert loss[-1] < loss[0]
    # predict() on the test set reproduces the recorded test loss
    yhat = sgphys.predict(a.params, test.Z, arch)
    assert np.mean((yhat - test.y) ** 2) == pytest.approx(a.history.test_loss.values[-1], rel=1e-10)
    assert (a.W is not None) == (arch == "sla")
    assert a.history.train_loss.attrs["units"] == "1" and "long_name" in a.history.test_loss.attrs


@pytest.mark.parametrize("kwargs,name", [
    ({"arch": "rnn"}, "arch"), ({"lr": 0.0}, "lr"), ({"epochs": 0}, "epochs"),
    ({"batch_size": 1000}, "batch_size"), ({"optimizer": "lbfgs"}, "optimizer"),
    ({"lam": -1.0}, "lam"), ({"scheme": "separated", "arch": "fla"}, "scheme"),
    ({"heads": 0}, "heads"), ({"scheme": "split"}, "scheme"),
])
def test_bad_arguments_raise(kwargs, name):
    tasks = sgphys.sample_tasks(2, 3, 10, seed=0)
    with pytest.raises(ValueError, match=name):
        sgphys.train(tasks, **{"epochs": 2, **kwargs})
    with pytest.raises(ValueError, match="tasks"):
        sgphys.train(np.zeros((2, 3, 4)))
