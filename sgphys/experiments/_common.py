"""Helpers shared by the experiment modules: solver runs and their stored fields."""

from __future__ import annotations

import numpy as np


from ..observables import test_error
from ..kernels.moments import contrast
from ..registry import SOLVERS, get_solver, solve
from ..timing import section
from ._base import Var

#: variables every solver run stores over the ``solver`` dimension
SOLVER_VARS = {
    "converged": Var(("solver",), "solver converged (1) or not (0)", "1", "i"),
    "n_iter": Var(("solver",), "solver iterations", "1", "i"),
    "residual": Var(("solver",), "final convergence residual (docs/model.rst, section Solvers)", "1"),
    "reason": Var(("solver",), "why the solver stopped", "1", "s"),
    "negative_cavity": Var(("solver",), "spins with a negative cavity precision at the "
                           "solver's fixed point (-1: not applicable)", "1", "i"),
}


def solver_coord(params):
    labels = "; ".join(f"{n} = {get_solver(n).label}" for n in SOLVERS)
    return {"solver": (list(params["solvers"]), f"solver ({labels})", "1")}


def matrix_coords(D):
    return {"row": (np.arange(D + 1), "weight matrix row", "1"),
            "col": (np.arange(D + 1), "weight matrix column", "1")}


def run_solvers(model, params, test=None, weights=False, variances=None, defer_test=None):
    """Run every solver in ``params["solvers"]``; per-solver arrays for storage.

    Returns a dict with contrast ratios, test errors (if ``test`` tasks given), the
    convergence fields and, with ``weights``, the mean and variance matrices.
    ``variances`` (default: ``weights``) asks the exact solver for its marginal variances
    (an extra n_spins^3 / 3 of work); without them its variance matrix is NaN.
    ``defer_test``: a list to which the solvers' stack of mean W is appended instead of
    computing their test errors (left NaN), for :func:`fill_test_errors` to compute the
    errors of many models in one pass over ``test``.
    """

    solvers = params["solvers"]
    k = len(solvers)
    if test is not None:
        test = test.keep()  # one generation for every solver's test error
    out = {"converged": np.zeros(k, dtype=np.int64), "n_iter": np.zeros(k, dtype=np.int64),
           "negative_cavity": np.full(k, -1, dtype=np.int64),
           "residual": np.full(k, np.nan), "reason": np.array([""] * k, dtype=object),
           "contrast_ratio": np.full(k, np.nan), "contrast_ratio_w11": np.full(k, np.nan),
           "entropy_per_spin": np.full(k, np.nan)}
    if test is not None:
        out["test_error"] = np.full(k, np.nan)
    if weights:
        D = model.D
        out["mean"] = np.full((k, D + 1, D + 1), np.nan)
        out["var"] = np.full((k, D + 1, D + 1), np.nan)
    if variances is None:
        variances = weights
    Ws = []
    for i, name in enumerate(solvers):
        # a solver that raises fails the point (status 0); the exact solver computes the
        # variances only when they are stored
        with section("solves"):
            r = solve(model, name, params, **({"variances": bool(variances)} if name == "exact"
                                              else {}))
        out["converged"][i] = int(r.converged)
        out["n_iter"][i] = r.n_iter
        out["residual"][i] = r.residual
        out["reason"][i] = r.reason
        out["negative_cavity"][i] = negative_cavity(r)
        out["entropy_per_spin"][i] = r.entropy / model.n_spins
        W = r.W
        # a solver's W (float64, square): the compiled cosine, NaN for a zero W or block
        out["contrast_ratio"][i] = contrast(W, W.shape[0])
        out["contrast_ratio_w11"][i] = contrast(W, W.shape[0] - 1)
        Ws.append(W)
        if weights:
            out["mean"][i] = W
            out["var"][i] = r.var_matrix
    if defer_test is not None and k:
        defer_test.append(np.stack(Ws))
    elif test is not None and k:
        with section("test errors"):  # one pass over the test set
            out["test_error"][:] = test_error(np.stack(Ws), test)
    out["reason"] = out["reason"].astype(str)
    return out


def fill_test_errors(results, stacks, test):
    """Fill ``results[i]["test_error"]`` from ``stacks[i]`` (the W stacks that
    :func:`run_solvers` with ``defer_test`` collected, one per result) by one pass over the
    ``test`` tasks: the same errors to rounding as one pass per model, with a matrix
    product per block of test sequences."""
    if not stacks:
        return
    with section("test errors"):
        errors = test_error(np.concatenate(stacks), test)
    start = 0
    for out, W in zip(results, stacks, strict=True):
        out["test_error"][:] = errors[start:start + len(W)]
        start += len(W)


def negative_cavity(r):
    """The number of spins with a negative cavity precision at a converged TAP or r-BP
    fixed point (``Marginals.info["negative_cavity"]``), -1 where it does not apply."""
    return int((r.info or {}).get("negative_cavity", -1))


def solver_vars(test=False, weights=False):
    v = dict(SOLVER_VARS)
    v["contrast_ratio"] = Var(("solver",), "contrast ratio of the mean W with I_{D+1} (full matrix)")
    v["contrast_ratio_w11"] = Var(("solver",), "contrast ratio of the mean W11 with I_D")
    v["entropy_per_spin"] = Var(("solver",), "Gibbs entropy per spin, (log Z + beta <E>) / "
                                "n_spins (exact: of the Gaussian measure; NaN where the "
                                "solver has no free energy or did not converge)")
    if test:
        v["test_error"] = Var(("solver",), "test error of the solver's mean weights on fresh tasks")
    if weights:
        v["mean"] = Var(("solver", "row", "col"), "marginal mean weight matrix")
        v["var"] = Var(("solver", "row", "col"), "marginal variance matrix")
    return v


def with_paper_solver(preset):
    """The paper preset adds the authors' AMP to the default solvers."""
    return {**preset, "solvers": ["exact", "tap", "paper"]}


def seed_index(streams):
    """The seed index of the point whose random ``streams`` these are.

    :func:`sgphys.sweep.point_streams` spawns every role's SeedSequence from one root
    whose spawn key ends with the seed index, so each role's key is ``(..., seed index,
    role)``. Lets a point function run fewer seeds at some sizes.
    """
    key = streams["train"].spawn_key
    if len(key) < 2:
        raise ValueError(f"streams: the train stream's spawn key {key!r} carries no seed index")
    return int(key[-2])


def training_set(D, N, P, seed, method, factored):
    """The first ``P`` training sequences as the rank-one factors ``(a, b, y)`` of their
    features (``factored``: matrix-free, no H, Q or J; :func:`sgphys.factored.task_factors`)
    or as the features ``(H, y)``."""
    from ..factored import task_factors
    from ..tasks import sample_tasks

    train = sample_tasks(D, N, P, seed=seed, method=method)
    return task_factors(train) if factored else train.feature_arrays()


def factor_bytes(D, P, vectors=6):
    """Bytes of a matrix-free point: the rank-one factors of ``P`` sequences, ``2 D + 3``
    doubles each, and ``vectors`` spin-sized work vectors of the solvers."""
    return 8 * P * (2 * D + 3) + 8 * vectors * D * (D + 1)


def check_factor_memory(D, P, vectors=6):
    """A matrix-free point's memory (:func:`factor_bytes`; ValueError naming D beyond the
    limit)."""
    from .._validate import check_memory

    check_memory("D", D, factor_bytes(D, P, vectors),
                 f"one matrix-free point's factors (P = {P} sequences of 2 D + 2 numbers)")
