"""Training the transformer side by SGD or Adam (docs/model.rst, section Trainers).

The loss is that of docs/model.rst (section Transformer), ``L = (1/(2P)) sum_mu (y_q - yhat)^2 +
(lam/2) sum ||theta||_F^2``, the
decay acting on every trained matrix (for ``sla`` separated on W_K and W_Q, not on their
product; biases are not decayed). The merged and separated ``sla`` run in the space of
sufficient statistics: with ``s = W[:, :D]`` flattened, the data term is
``(1/2) s^T Q s - h^T s + const`` with the spin model's Q and h, so a full-batch epoch
costs O(n_spins^2) instead of O(P n_spins); mini-batches use rows of the features H.

The authors' trainer used Adam's ``weight_decay`` on a plain mean squared error: that is
``lam = weight_decay / 2`` here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ._blas import quiet_blas
from ._summary import SummaryRepr
from .spin import feature_moments, spins_to_weights, weights_to_spins
from ._validate import (as_seed_sequence, check_bool, check_choice, check_memory,
                        check_nonnegative, check_positive, check_positive_int)
from .attention import ARCHITECTURES, check_params, forward, prepare, sla_chain

__all__ = ["train", "predict", "TrainResult"]

ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8


@dataclass(repr=False)
class TrainResult(SummaryRepr):
    """Outcome of :func:`train`.

    Attributes
    ----------
    params : dict name -> ndarray
    W : ndarray (D+1, D+1) or None
        The merged weight matrix for ``sla`` (separated: ``(W_K^T W_Q)`` with its inert
        last column zeroed); None for the other architectures.
    history : xarray.Dataset
        Over ``epoch`` (1..epochs): ``train_loss`` (L after the epoch, with the decay term)
        and ``test_loss`` (mean squared error on the test set, no 1/2: the test error).
        For ``sla`` both come from sufficient statistics (``s^T Q s - 2 h^T s + <y^2>``), so
        values below about 1e-15 <y^2> are round-off, not a loss.
    arch, scheme, optimizer : str
    """

    params: dict
    W: np.ndarray | None
    history: object
    arch: str
    scheme: str
    optimizer: str


def _penalty(params, spec):
    """``||.||^2`` summed over the parameters under weight decay."""
    return sum(float(np.sum(v * v)) for k, v in params.items() if spec.decayed(k))


class _Adam:
    def __init__(self, params, lr):
        self.lr = lr
        self.t = 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params, grads):
        self.t += 1
        c1 = 1.0 - ADAM_BETA1 ** self.t
        c2 = 1.0 - ADAM_BETA2 ** self.t
        for k, g in grads.items():
            m, v = self.m[k], self.v[k]
            m *= ADAM_BETA1
            m += (1.0 - ADAM_BETA1) * g
            v *= ADAM_BETA2
            v += (1.0 - ADAM_BETA2) * g * g
            params[k] -= self.lr * (m / c1) / (np.sqrt(v / c2) + ADAM_EPS)


class _SGD:
    def __init__(self, params, lr):
        self.lr = lr

    def step(self, params, grads):
        for k, g in grads.items():
            params[k] -= self.lr * g


_OPTIMIZERS = {"sgd": _SGD, "adam": _Adam}


def _sla_W(params):
    return params["W"] if "W" in params else params["W_K"].T @ params["W_Q"]


class _SlaStats:
    """Sufficient statistics of merged linear attention on one data set."""

    def __init__(self, tasks):
        self.H, self.y = tasks.feature_arrays()
        self.Q, self.h, self.y2 = feature_moments(self.H, self.y)

    def mse(self, s):
        return float(s @ (self.Q @ s)) - 2.0 * float(self.h @ s) + self.y2


def _progress(total, progress):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="train", unit="epoch", leave=False)


def train(tasks, arch="sla", scheme="merged", optimizer="adam", lam=0.0, lr=1e-3, epochs=100,
          batch_size=None, seed=0, test=None, heads=1, d_k=None, hidden=None, progress=None,
          init=None) -> TrainResult:
    """Train an attention model on in-context regression tasks.

    Parameters
    ----------
    tasks : Tasks
        Training set (P sequences).
    arch : {"sla", "fla", "sa", "tf", "mhla"}
        Architecture (registry :data:`sgphys.attention.ARCHITECTURES`).
    scheme : {"merged", "separated"}
        For ``sla`` only: train W directly or as ``W_K^T W_Q``.
    optimizer : {"sgd", "adam"}
    lam : float >= 0
        Weight decay inside the loss.
    lr : float > 0
    epochs : int >= 1
    batch_size : int, optional
        Mini-batch size (1..P); None for full batch.
    seed : int, SeedSequence or Generator
        Spawns the initialisation and batch-order streams.
    test : Tasks, optional
        Test set for ``test_loss`` (NaN when absent).
    heads, d_k, hidden : int
        Number of heads (mhla), key/query width (sa, tf; default D+1), feed-forward width
        (tf; default 4(D+1)).
    progress : bool, optional
        tqdm progress bar; default on only when stderr is a terminal.
    init : dict, optional
        Initial parameters (copied), instead of the N(0, 1/(D+1)) draw: exactly the keys
        and shapes the architecture's own draw has (for ``sla`` those of ``scheme``);
        their shapes fix heads, d_k and hidden (given values must agree). Checked by
        :func:`sgphys.attention.check_params` (ValueError naming ``init`` or
        ``init[key]``).

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        Naming the parameter, for invalid arguments; naming ``lr`` when the training loss
        (or a parameter) becomes non-finite: a diverging run (learning rate too large for
        the data's curvature) raises at the epoch it diverges instead of returning NaN
        losses.
    """
    from .tasks import Tasks

    if not isinstance(tasks, Tasks):
        raise ValueError(f"tasks must be a Tasks, got {type(tasks).__name__}")
    arch = check_choice("arch", arch, tuple(ARCHITECTURES))
    scheme = check_choice("scheme", scheme, ("merged", "separated"))
    if scheme == "separated" and arch != "sla":
        raise ValueError(f"scheme='separated' applies to arch='sla' only, got arch={arch!r}")
    optimizer = check_choice("optimizer", optimizer, tuple(_OPTIMIZERS))
    lam = check_nonnegative("lam", lam)
    lr = check_positive("lr", lr)
    epochs = check_positive_int("epochs", epochs)
    heads = check_positive_int("heads", heads)
    if d_k is not None:
        d_k = check_positive_int("d_k", d_k)
    if hidden is not None:
        hidden = check_positive_int("hidden", hidden)
    progress = check_bool("progress", progress, allow_none=True)
    P, D = tasks.P, tasks.D
    # train_loss and test_loss, and their copies in the history Dataset
    check_memory("epochs", epochs, 8 * 4 * epochs, "the loss history (4 doubles per epoch)")
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size)
        if batch_size > P:
            raise ValueError(f"batch_size must be at most P={P}, got {batch_size}")
    if test is not None:
        if not isinstance(test, Tasks):
            raise ValueError(f"test must be a Tasks, got {type(test).__name__}")
        if (test.D, test.N) != (tasks.D, tasks.N):
            raise ValueError(f"test must have D={D}, N={tasks.N}, got D={test.D}, N={test.N}")

    # another library's spinning BLAS threads (scipy's after a factorisation) would take the
    # core from this loop's BLAS threads
    quiet_blas()
    ss_init, ss_order = as_seed_sequence(seed).spawn(2)
    spec = ARCHITECTURES[arch]
    if init is None:
        _check_model_size(arch, D, tasks.N, P, heads, d_k, hidden)
        params = spec.init(D, np.random.default_rng(ss_init), scheme=scheme, heads=heads,
                           d_k=d_k, hidden=hidden)
    else:
        params = check_params("init", init, arch, D, scheme=scheme if arch == "sla" else None,
                              heads=None if heads == 1 else heads, d_k=d_k, hidden=hidden)
    order_rng = np.random.default_rng(ss_order)
    opt = _OPTIMIZERS[optimizer](params, lr)
    train_loss = np.empty(epochs)
    test_loss = np.full(epochs, np.nan)
    bar = _progress(epochs, progress)

    with np.errstate(over="ignore", invalid="ignore"):  # a divergence raises (_check_finite)
        return _train_loop(tasks, test, arch, scheme, optimizer, spec, params, opt, lam, lr,
                           epochs, batch_size, order_rng, train_loss, test_loss, bar)


def _check_model_size(arch, D, N, P, heads, d_k, hidden):
    """Refuse parameter and activation arrays beyond the memory limit, naming the width."""
    d = D + 1
    if arch == "mhla":
        check_memory("heads", heads, 8 * 4 * heads * (3 * d * d + d) + 8 * 2 * P * heads * d,
                     f"{heads} heads (parameters, Adam moments, gradients, activations)")
    if arch in ("sa", "tf"):
        dk = d_k or d
        check_memory("d_k", dk, 8 * 4 * 2 * dk * d + 8 * 3 * P * dk * (N + 1),
                     "the key/query matrices and scores (parameters, Adam moments, "
                     "activations)")
    if arch == "tf":
        hd = hidden or 4 * d
        check_memory("hidden", hd, 8 * 4 * 2 * hd * d + 8 * 3 * P * hd,
                     "the feed-forward layer (parameters, Adam moments, activations)")


def _check_finite(loss, params, e, lr, bar):
    if np.isfinite(loss) and all(np.all(np.isfinite(v)) for v in params.values()):
        return
    if bar is not None:
        bar.close()
    raise ValueError(f"lr={lr!r}: the training diverged at epoch {e + 1} (train_loss = "
                     f"{float(loss)!r}); lower lr")


def _train_loop(tasks, test, arch, scheme, optimizer, spec, params, opt, lam, lr, epochs,
                batch_size, order_rng, train_loss, test_loss, bar):
    P, D = tasks.P, tasks.D
    if arch == "sla":
        stats = _SlaStats(tasks)
        tstats = _SlaStats(test) if test is not None else None
        H, y = stats.H, stats.y

        def spins(p):
            return weights_to_spins(_sla_W(p), D)

        for e in range(epochs):
            for idx in _batches(P, batch_size, order_rng):
                s = spins(params)
                if idx is None:
                    g_flat = stats.Q @ s - stats.h
                else:
                    Hb = H[idx]
                    g_flat = Hb.T @ (Hb @ s - y[idx]) / idx.size
                G = spins_to_weights(g_flat, D)
                grads = sla_chain(params, G)
                for k in grads:
                    grads[k] = grads[k] + lam * params[k]
                opt.step(params, grads)
            s = spins(params)
            train_loss[e] = 0.5 * stats.mse(s) + 0.5 * lam * _penalty(params, spec)
            _check_finite(train_loss[e], params, e, lr, bar)
            if tstats is not None:
                test_loss[e] = tstats.mse(s)
            if bar is not None:
                bar.update()
    else:
        data = prepare(tasks.Z)
        y = tasks.y
        tdata = prepare(test.Z) if test is not None else None
        if arch in ("fla", "mhla"):
            data.C  # noqa: B018  (compute Z Z^T once for all epochs)
        for e in range(epochs):
            for idx in _batches(P, batch_size, order_rng):
                batch, yb = (data, y) if idx is None else (data.take(idx), y[idx])
                _, grads = spec.grad(params, batch, yb)
                for k in grads:
                    if spec.decayed(k):
                        grads[k] = grads[k] + lam * params[k]
                opt.step(params, grads)
            r = spec.forward(params, data) - y
            train_loss[e] = 0.5 * float(r @ r) / P + 0.5 * lam * _penalty(params, spec)
            _check_finite(train_loss[e], params, e, lr, bar)
            if tdata is not None:
                rt = spec.forward(params, tdata) - test.y
                test_loss[e] = float(rt @ rt) / test.P
            if bar is not None:
                bar.update()
    if bar is not None:
        bar.close()

    W = None
    if arch == "sla":
        W = _sla_W(params).copy()
        W[:, D] = 0.0
    return TrainResult(params, W, _history(train_loss, test_loss, arch, scheme, optimizer,
                                           test is not None), arch, scheme, optimizer)


def _batches(P, batch_size, rng):
    if batch_size is None or batch_size >= P:
        yield None
        return
    perm = rng.permutation(P)
    for start in range(0, P, batch_size):
        yield perm[start:start + batch_size]


def _history(train_loss, test_loss, arch, scheme, optimizer, has_test):
    import xarray as xr

    epoch = np.arange(1, train_loss.size + 1)
    return xr.Dataset(
        {"train_loss": ("epoch", train_loss, {
            "long_name": "training loss L = (1/(2P)) sum (y - yhat)^2 + (lam/2) sum ||theta||^2",
            "units": "1"}),
         "test_loss": ("epoch", test_loss, {
             "long_name": "test error: mean squared error on the test set" + (
                 "" if has_test else " (no test set given: NaN)"),
             "units": "1"})},
        coords={"epoch": ("epoch", epoch, {"long_name": "training epoch", "units": "1"})},
        attrs={"arch": arch, "scheme": scheme, "optimizer": optimizer})


def predict(params, Z, arch="sla") -> np.ndarray:
    """Predictions ``(P,)`` of a trained model (``TrainResult.params``) on input matrices
    ``Z (P, D+1, N+1)``."""
    return forward(params, Z, arch)
