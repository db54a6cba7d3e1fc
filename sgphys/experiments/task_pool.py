"""Task diversity as a count of distinct tasks (Fig. T2): the memorisation-to-ICL transition.

Pretraining prompts draw their task vectors from a finite pool of K tasks
(``sample_tasks(..., n_tasks=K)``; Raventos, Paul, Chen & Ganguli, NeurIPS 2023), P fixed
and large. For each K: the spin model's exact solution (the ridge-trained linear attention)
and TAP-AMP, the trained merged linear attention (and softmax attention in the paper preset),
the Bayes baselines on the same test prompts (dMMSE: Bayes-optimal for the pool; ridge:
Bayes-optimal for the Gaussian task prior), and the asymptotic theory of Lu et al. (PNAS 2025)
at kappa = K/D. Errors on fresh tasks (ICL) and on pool tasks (IDG, in distribution); the W11
contrast ratio and the coupling blocks' excess kurtosis against K.

Theory variables: alpha = N/D, tau = P/D^2, kappa = K/D, rho = noise^2; the ICL theory uses
the ridge lambda = D lam (:func:`sgphys.theory.theory_params`), the IDG theory is ridgeless
(the formula has no ridge), so ``lam`` is kept small.
"""

import numpy as np

from ..baselines import dmmse_predict, mean_squared_error, ridge_predict
from ..observables import block_statistics, test_error
from ..spin import BLOCKS, SpinModel
from ..tasks import sample_tasks
from ..theory import icl_error, idg_error, theory_params
from ..training import predict, train
from ._base import Experiment, Var
from ._common import run_solvers, solver_coord, solver_vars

QUICK = {"D": [4], "N_per_D": 2, "tau": 30.0, "n_tasks": [1, 2, 4, 8, 16, 32, 64, 256],
         "noise": 0.5, "lam": 1e-4, "P_test": 1000, "seeds": 3, "beta": 100.0,
         "damping": "auto", "solvers": ["exact", "tap"], "archs": ["sla"], "lam_train": 0.0,
         "lr": 1e-2, "epochs": 300, "seed": 0}
PAPER = {**QUICK, "D": [8, 20], "n_tasks": [2 ** k for k in range(11)], "seeds": 5,
         "P_test": 2000, "archs": ["sla", "sa"], "epochs": 2000}

ERRORS = ("icl", "idg")


def _sizes(params, D):
    N = int(round(params["N_per_D"] * D))
    P = int(round(params["tau"] * D * D))
    return N, P


def point(params, values, streams):
    D, K = values["D"], values["n_tasks"]
    N, P = _sizes(params, D)
    noise = params["noise"]
    tasks = sample_tasks(D, N, P, seed=streams["train"], noise=noise, n_tasks=K)
    fresh = tasks.test_set(params["P_test"], seed=streams["test"], tasks="fresh").keep()
    pool = tasks.test_set(params["P_test"], seed=streams["resample"], tasks="pool").keep()
    model = SpinModel.from_tasks(tasks, params["lam"])
    out = {}
    for kind, test in zip(ERRORS, (fresh, pool)):
        res = run_solvers(model, params, test=test)
        out[f"{kind}_error"] = res.pop("test_error")
        if kind == "icl":
            out.update(res)
        out[f"{kind}_error_dmmse"] = mean_squared_error(dmmse_predict(test, tasks.pool, noise),
                                                        test)
        out[f"{kind}_error_ridge"] = mean_squared_error(ridge_predict(test, noise), test)
    trained_icl, trained_idg = [], []
    for arch in params["archs"]:
        r = train(tasks, arch=arch, lam=params["lam_train"], lr=params["lr"],
                  epochs=params["epochs"], seed=streams["init"], progress=False)
        if r.W is not None:
            trained_icl.append(test_error(r.W, fresh))
            trained_idg.append(test_error(r.W, pool))
        else:
            trained_icl.append(mean_squared_error(predict(r.params, fresh.Z, arch), fresh))
            trained_idg.append(mean_squared_error(predict(r.params, pool.Z, arch), pool))
    out["icl_error_trained"] = np.array(trained_icl)
    out["idg_error_trained"] = np.array(trained_idg)
    stats = block_statistics(model, bins=60)
    out["excess_kurtosis"] = np.array([stats.excess_kurtosis(b) for b in BLOCKS])
    return out


def variables(params):
    v = solver_vars(test=False)
    v.pop("contrast_ratio")
    for kind, what in (("icl", "fresh tasks (in-context learning)"),
                       ("idg", "pool tasks (in distribution)")):
        v[f"{kind}_error"] = Var(("solver",), f"test error of the solver's mean weights on {what}")
        v[f"{kind}_error_trained"] = Var(("arch",), f"test error of the trained attention on {what}")
        v[f"{kind}_error_dmmse"] = Var((), f"test error of the dMMSE (pool-Bayes) predictor on {what}")
        v[f"{kind}_error_ridge"] = Var((), f"test error of the ridge (Gaussian-prior Bayes) "
                                           f"predictor on {what}")
    v["excess_kurtosis"] = Var(("block",), "excess kurtosis of the coupling and field blocks")
    return v


def coords(params):
    return {**solver_coord(params),
            "arch": (list(params["archs"]), "trained architecture (sla merged linear attention, "
                                            "sa softmax attention)", "1"),
            "block": (list(BLOCKS), "coupling or field block (J1, J2, J3, h1, h2)", "1")}


def finalize(ds, params):
    Ds = np.asarray(ds.D.values)
    Ks = np.asarray(ds.n_tasks.values)
    icl = np.empty((Ds.size, Ks.size))
    idg = np.empty_like(icl)
    kappa = np.empty_like(icl)
    for i, D in enumerate(Ds):
        N, P = _sizes(params, int(D))
        for j, K in enumerate(Ks):
            a, t, k, rho, lam = theory_params(int(D), N, P, params["lam"], params["noise"],
                                              int(K))
            icl[i, j] = icl_error(a, t, k, rho, lam)
            idg[i, j] = idg_error(a, t, k, rho)
            kappa[i, j] = k
    ds["theory_icl_error"] = (("D", "n_tasks"), icl, {
        "long_name": "asymptotic ICL error (Lu et al. 2025) at kappa = K/D, lambda = D lam",
        "units": "1"})
    ds["theory_idg_error"] = (("D", "n_tasks"), idg, {
        "long_name": "asymptotic ridgeless in-distribution error (Lu et al. 2025) at kappa = K/D",
        "units": "1"})
    ds["kappa"] = (("D", "n_tasks"), kappa, {"long_name": "distinct tasks per dimension K/D",
                                             "units": "1"})
    return ds


EXPERIMENT = Experiment(
    name="task_pool", title="Finite task pools: memorisation to in-context learning (Fig. T2)",
    figure="Fig. T2", presets={"quick": QUICK, "paper": PAPER}, sweep=("D", "n_tasks"),
    point=point, variables=variables, coords=coords, finalize=finalize)
