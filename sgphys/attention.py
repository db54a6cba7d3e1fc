"""Forward passes and hand-written gradients of the attention architectures (docs/model.rst,
sections Transformer and Trainers).

Every architecture reads out the prediction for the query at ``[D, N]`` (``tf`` through a
linear readout of the query column). Shapes: ``Z (B, D+1, N+1)``, ``y (B,)``.

=====  ========================================================================
sla    merged ``F = (1/N) Z Z^T W Z`` (``W (D+1, D+1)``, last column inert);
       separated ``W = W_K^T W_Q`` (two (D+1, D+1) factors, paper Eq. S2)
fla    ``F = (1/N) W_V Z Z^T W_K^T W_Q Z`` (trainable value matrix, Eq. S39)
sa     ``F = W_V Z softmax((W_K Z)^T (W_Q Z) / sqrt(d_k))``, softmax over the keys (all
       N+1 columns, the query's own column included, as in standard self-attention)
tf     ``sa`` with residual, two-layer ReLU feed-forward (width ``hidden``) with residual,
       linear readout of the query column (Eqs. S41-S42)
mhla   ``heads`` copies of ``fla``, outputs concatenated and read out linearly; only the
       readout row producing ``[D, N]`` matters, stored as ``R (heads, D+1)``
=====  ========================================================================

Each architecture in :data:`ARCHITECTURES` provides ``init(D, rng, **hp) -> params``,
``forward(params, data) -> yhat`` and ``grad(params, data, y) -> (data_loss, grads)`` where
``data_loss = (1/(2B)) sum (yhat - y)^2`` and ``data`` is :func:`prepare` (Z plus cached
products). Weight decay is added by the trainer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validate import _short, check_array
from .tasks import label_weighted_sum

__all__ = ["predict_merged", "ARCHITECTURES", "Architecture", "prepare", "forward",
           "check_params"]


def predict_merged(W, Z) -> np.ndarray:
    """Merged linear-attention predictions for a batch of input matrices.

    Parameters
    ----------
    W : array_like, shape (D+1, D+1)
    Z : array_like, shape (P, D+1, N+1)

    Returns
    -------
    yhat : ndarray, shape (P,)
        ``[(1/N) Z Z^T W Z][D, N]`` per input matrix, computed as
        ``(1/N) (sum_n y_n Z[:, n])^T W x_q`` (no (D+1)^2 N work per sequence).
    """
    Z = check_array("Z", Z, ndim=3)
    P, Dp1, Np1 = Z.shape
    if Dp1 < 2 or Np1 < 2:
        raise ValueError(f"Z must have shape (P, D+1, N+1) with D, N >= 1, got {Z.shape}")
    W = check_array("W", W, shape=(Dp1, Dp1))
    N = Np1 - 1
    with np.errstate(over="ignore", invalid="ignore"):
        r = label_weighted_sum(Z)  # row D of Z Z^T without the query column
        out = np.einsum("pi,pi->p", r @ W, Z[:, :, N]) / N
    if not np.all(np.isfinite(out)):
        raise ValueError("W, Z: the predictions overflow (non-finite); W or Z is too large")
    return out


@dataclass
class Batch:
    """Input matrices with the products every architecture reuses."""

    Z: np.ndarray            # (B, D+1, N+1)
    xq: np.ndarray           # (B, D+1) query column [x_q; 0]
    _C: np.ndarray | None = None
    _r: np.ndarray | None = None

    @property
    def N(self):
        return self.Z.shape[2] - 1

    @property
    def D(self):
        return self.Z.shape[1] - 1

    @property
    def C(self):
        """Z Z^T, shape (B, D+1, D+1), computed once."""
        if self._C is None:
            self._C = np.matmul(self.Z, self.Z.transpose(0, 2, 1))
        return self._C

    @property
    def r(self):
        """``sum_n y_n Z[:, n]``, shape (B, D+1) (:func:`sgphys.tasks.label_weighted_sum`),
        computed once."""
        if self._r is None:
            self._r = label_weighted_sum(self.Z)
        return self._r

    def take(self, idx):
        return Batch(self.Z[idx], self.xq[idx], None if self._C is None else self._C[idx],
                     None if self._r is None else self._r[idx])


def prepare(Z) -> Batch:
    Z = check_array("Z", Z, ndim=3)
    return Batch(Z, np.ascontiguousarray(Z[:, :, -1]))


def _normal(rng, shape, D):
    return rng.standard_normal(shape) * math.sqrt(1.0 / (D + 1))


# -- sla ------------------------------------------------------------------------------------

def _sla_W(params):
    if "W" in params:
        return params["W"]
    return params["W_K"].T @ params["W_Q"]


def _sla_features_grad(W, data, y):
    """Prediction and dL/dW of the merged form for any W (B, D+1, D+1)."""
    N, D = data.N, data.D
    r = data.r                                                      # (B, D+1)
    yhat = np.einsum("bi,bi->b", r @ W, data.xq) / N
    res = yhat - y
    B = y.shape[0]
    G = ((res / B)[:, None] * r).T @ data.xq / N                     # (D+1, D+1)
    G[:, D] = 0.0
    return 0.5 * float(res @ res) / B, G


def _sla_init(D, rng, scheme="merged", **_):
    if scheme == "merged":
        W = _normal(rng, (D + 1, D + 1), D)
        W[:, D] = 0.0
        return {"W": W}
    return {"W_K": _normal(rng, (D + 1, D + 1), D), "W_Q": _normal(rng, (D + 1, D + 1), D)}


def _sla_forward(params, data):
    W = _sla_W(params)
    return np.einsum("bi,bi->b", data.r @ W, data.xq) / data.N


def _sla_grad(params, data, y):
    loss, G = _sla_features_grad(_sla_W(params), data, y)
    return loss, sla_chain(params, G)


def sla_chain(params, G):
    """Gradients of the parameters given dL/dW = G (merged, or separated W = W_K^T W_Q)."""
    if "W" in params:
        return {"W": G}
    return {"W_K": params["W_Q"] @ G.T, "W_Q": params["W_K"] @ G}


# -- fla / mhla ------------------------------------------------------------------------------

def _mh_forward_parts(WV, WK, WQ, R, data):
    """Per-head pieces: u_h = W_V^h^T R_h, W^h = W_K^h^T W_Q^h, Cu, Wx, y_h."""
    N = data.N
    out = []
    for h in range(WV.shape[0]):
        u = WV[h].T @ R[h]
        W = WK[h].T @ WQ[h]
        Cu = data.C @ u                                  # (B, D+1), C symmetric
        Wx = data.xq @ W.T                               # (B, D+1)
        out.append((u, W, Cu, Wx, np.einsum("bi,bi->b", Cu, Wx) / N))
    return out


def _mh_grad(WV, WK, WQ, R, data, y):
    parts = _mh_forward_parts(WV, WK, WQ, R, data)
    yhat = sum(p[4] for p in parts)
    res = yhat - y
    B, N = y.shape[0], data.N
    g = res / B
    grads = {k: np.zeros_like(v) for k, v in (("W_V", WV), ("W_K", WK), ("W_Q", WQ), ("R", R))}
    for h, (u, W, Cu, Wx, _) in enumerate(parts):
        dW = (g[:, None] * Cu).T @ data.xq / N                         # (D+1, D+1)
        du = g @ np.matmul(data.C, Wx[:, :, None])[:, :, 0] / N         # (D+1,)
        grads["W_K"][h] = WQ[h] @ dW.T
        grads["W_Q"][h] = WK[h] @ dW
        grads["R"][h] = WV[h] @ du
        grads["W_V"][h] = np.outer(R[h], du)
    return 0.5 * float(res @ res) / B, grads, yhat


def _fla_readout(D):
    R = np.zeros((1, D + 1))
    R[0, D] = 1.0
    return R


def _fla_init(D, rng, **_):
    return {k: _normal(rng, (D + 1, D + 1), D) for k in ("W_V", "W_K", "W_Q")}


def _fla_forward(params, data):
    parts = _mh_forward_parts(params["W_V"][None], params["W_K"][None], params["W_Q"][None],
                              _fla_readout(data.D), data)
    return parts[0][4]


def _fla_grad(params, data, y):
    loss, g, _ = _mh_grad(params["W_V"][None], params["W_K"][None], params["W_Q"][None],
                          _fla_readout(data.D), data, y)
    return loss, {k: g[k][0] for k in ("W_V", "W_K", "W_Q")}


def _mhla_init(D, rng, heads=1, **_):
    return {"W_V": _normal(rng, (heads, D + 1, D + 1), D),
            "W_K": _normal(rng, (heads, D + 1, D + 1), D),
            "W_Q": _normal(rng, (heads, D + 1, D + 1), D),
            "R": _normal(rng, (heads, D + 1), D)}


def _mhla_forward(params, data):
    parts = _mh_forward_parts(params["W_V"], params["W_K"], params["W_Q"], params["R"], data)
    return sum(p[4] for p in parts)


def _mhla_grad(params, data, y):
    loss, g, _ = _mh_grad(params["W_V"], params["W_K"], params["W_Q"], params["R"], data, y)
    return loss, g


# -- sa / tf ----------------------------------------------------------------------------------

def _attention_weights(WK, WQ, data):
    dk = WK.shape[0]
    K = np.matmul(WK, data.Z)                          # (B, dk, N+1)
    q = data.xq @ WQ.T                                 # (B, dk)
    s = np.einsum("bkn,bk->bn", K, q) / math.sqrt(dk)
    s -= s.max(axis=1, keepdims=True)
    a = np.exp(s)
    a /= a.sum(axis=1, keepdims=True)
    return K, q, a


def _score_grads(WK, K, q, ds, data):
    """dL/dW_K and dL/dW_Q given dL/ds (B, N+1)."""
    c = 1.0 / math.sqrt(WK.shape[0])
    zg = np.einsum("bdn,bn->bd", data.Z, ds)
    kg = np.einsum("bkn,bn->bk", K, ds)
    return c * q.T @ zg, c * kg.T @ data.xq


def _sa_init(D, rng, d_k=None, **_):
    dk = d_k or D + 1
    return {"W_V": _normal(rng, (D + 1, D + 1), D), "W_K": _normal(rng, (dk, D + 1), D),
            "W_Q": _normal(rng, (dk, D + 1), D)}


def _sa_forward(params, data):
    _, _, a = _attention_weights(params["W_K"], params["W_Q"], data)
    v = np.einsum("d,bdn->bn", params["W_V"][data.D], data.Z)
    return np.einsum("bn,bn->b", a, v)


def _sa_grad(params, data, y):
    D = data.D
    K, q, a = _attention_weights(params["W_K"], params["W_Q"], data)
    v = np.einsum("d,bdn->bn", params["W_V"][D], data.Z)
    yhat = np.einsum("bn,bn->b", a, v)
    res = yhat - y
    B = y.shape[0]
    g = res / B
    dWV = np.zeros_like(params["W_V"])
    dWV[D] = np.einsum("bn,bdn->d", g[:, None] * a, data.Z)
    ds = g[:, None] * a * (v - yhat[:, None])
    dWK, dWQ = _score_grads(params["W_K"], K, q, ds, data)
    return 0.5 * float(res @ res) / B, {"W_V": dWV, "W_K": dWK, "W_Q": dWQ}


def _tf_init(D, rng, d_k=None, hidden=None, **_):
    p = _sa_init(D, rng, d_k=d_k)
    hd = hidden or 4 * (D + 1)
    p.update(W1=_normal(rng, (hd, D + 1), D), b1=np.zeros(hd), W2=_normal(rng, (D + 1, hd), D),
             b2=np.zeros(D + 1), w_out=_normal(rng, (D + 1,), D), b_out=np.zeros(1))
    return p


def _tf_parts(params, data):
    K, q, a = _attention_weights(params["W_K"], params["W_Q"], data)
    za = np.einsum("bdn,bn->bd", data.Z, a)
    h1 = data.xq + za @ params["W_V"].T
    pre = h1 @ params["W1"].T + params["b1"]
    act = np.maximum(pre, 0.0)
    h2 = h1 + act @ params["W2"].T + params["b2"]
    yhat = h2 @ params["w_out"] + params["b_out"][0]
    return K, q, a, za, h1, pre, act, h2, yhat


def _tf_forward(params, data):
    return _tf_parts(params, data)[-1]


def _tf_grad(params, data, y):
    K, q, a, za, h1, pre, act, h2, yhat = _tf_parts(params, data)
    res = yhat - y
    B = y.shape[0]
    g = res / B
    gr = {}
    gr["w_out"] = h2.T @ g
    gr["b_out"] = np.array([g.sum()])
    dh2 = g[:, None] * params["w_out"][None, :]
    gr["W2"] = dh2.T @ act
    gr["b2"] = dh2.sum(axis=0)
    dpre = (dh2 @ params["W2"]) * (pre > 0)
    gr["W1"] = dpre.T @ h1
    gr["b1"] = dpre.sum(axis=0)
    dh1 = dh2 + dpre @ params["W1"]
    gr["W_V"] = dh1.T @ za
    dza = dh1 @ params["W_V"]
    da = np.einsum("bdn,bd->bn", data.Z, dza)
    ds = a * (da - np.sum(a * da, axis=1, keepdims=True))
    gr["W_K"], gr["W_Q"] = _score_grads(params["W_K"], K, q, ds, data)
    return 0.5 * float(res @ res) / B, gr


@dataclass(frozen=True)
class Architecture:
    """Registry entry: parameter initialisation, forward pass and gradient."""

    name: str
    init: Callable
    forward: Callable
    grad: Callable
    undecayed: tuple = ()   # parameter names without weight decay (biases)

    def decayed(self, name: str) -> bool:
        """Whether parameter ``name`` is under weight decay (docs/model.rst, section Trainers: every
        trained
        matrix; biases are not)."""
        return name not in self.undecayed


ARCHITECTURES = {
    "sla": Architecture("sla", _sla_init, _sla_forward, _sla_grad),
    "fla": Architecture("fla", _fla_init, _fla_forward, _fla_grad),
    "sa": Architecture("sa", _sa_init, _sa_forward, _sa_grad),
    "tf": Architecture("tf", _tf_init, _tf_forward, _tf_grad, undecayed=("b1", "b2", "b_out")),
    "mhla": Architecture("mhla", _mhla_init, _mhla_forward, _mhla_grad),
}


def _hyperparameters(arch, params):
    """heads, d_k, hidden as the shapes of ``params`` (checked arrays) imply."""
    def lead(key, ndim):
        v = params.get(key)
        return int(v.shape[0]) if v is not None and v.ndim == ndim and v.shape[0] >= 1 else None
    return {"heads": lead("W_V", 3) if arch == "mhla" else None,
            "d_k": lead("W_K", 2) if arch in ("sa", "tf") else None,
            "hidden": lead("W1", 2) if arch == "tf" else None}


def check_params(name, params, arch, D, scheme=None, **hp) -> dict:
    """``params`` as a dict of new C-contiguous float64 arrays after checking that it has
    exactly the parameters of architecture ``arch`` (for ``sla`` those of ``scheme``, either
    when None) at token dimension ``D``, with the shapes ``ARCHITECTURES[arch].init`` gives.

    The free sizes (``heads`` of mhla, ``d_k`` of sa and tf, ``hidden`` of tf) are read from
    the arrays; a value in ``hp`` that is not None must agree. Raises ValueError naming
    ``name`` (or ``name[key]``), the expected keys or shapes and what was given.
    """
    if arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {sorted(ARCHITECTURES)}, got {_short(arch)}")
    if not isinstance(params, dict):
        raise ValueError(f"{name} must be a dict of parameter arrays, got {_short(params)}")
    spec = ARCHITECTURES[arch]
    if arch == "sla":
        schemes = ("merged", "separated") if scheme is None else (scheme,)
        key_sets = {sc: sorted(spec.init(1, np.random.default_rng(0), scheme=sc))
                    for sc in schemes}
        scheme = next((sc for sc, keys in key_sets.items() if sorted(params) == keys), None)
        if scheme is None:
            want = " or ".join(str(k) for k in key_sets.values())
            raise ValueError(f"{name} must have the keys {want} for arch='sla', got "
                             f"{_short(sorted(map(str, params)))}")
    out = {}
    for key, value in params.items():
        if not isinstance(key, str):
            raise ValueError(f"{name} keys must be parameter names, got {_short(key)}")
        out[key] = check_array(f"{name}[{key!r}]", value).copy()
    inferred = _hyperparameters(arch, out)
    for k, v in hp.items():
        if v is not None and inferred.get(k) is not None and v != inferred[k]:
            raise ValueError(f"{k}={v!r} disagrees with {name}, whose shapes give {k}="
                             f"{inferred[k]}")
    expected = spec.init(D, np.random.default_rng(0), scheme=scheme or "merged",
                         **{k: (v if v is not None else 1 if k == "heads" else None)
                            for k, v in inferred.items()})
    if sorted(out) != sorted(expected):
        raise ValueError(f"{name} must have the keys {sorted(expected)} for arch={arch!r}, "
                         f"got {_short(sorted(out))}")
    for key, ref in expected.items():
        if out[key].shape != ref.shape:
            raise ValueError(f"{name}[{key!r}] must have shape {ref.shape} (arch={arch!r}, "
                             f"D={D}), got {out[key].shape}")
    return out


def forward(params, Z, arch) -> np.ndarray:
    """Predictions ``(B,)`` of architecture ``arch`` with parameters ``params`` (checked by
    :func:`check_params`)."""
    if not isinstance(arch, str) or arch not in ARCHITECTURES:
        raise ValueError(f"arch must be one of {sorted(ARCHITECTURES)}, got {_short(arch)}")
    Z = check_array("Z", Z, ndim=3)
    if Z.shape[1] < 2 or Z.shape[2] < 2:
        raise ValueError(f"Z must have shape (P, D+1, N+1) with D, N >= 1, got {Z.shape}")
    params = check_params("params", params, arch, Z.shape[1] - 1)
    with np.errstate(over="ignore", invalid="ignore"):
        out = ARCHITECTURES[arch].forward(params, prepare(Z))
    if not np.all(np.isfinite(out)):
        raise ValueError("params: the predictions overflow (non-finite values); the "
                         "parameters or Z are too large")
    return out
