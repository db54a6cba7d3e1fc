"""Fig. 1: statistics of the couplings J and fields h per block (J1, J2, J3, h1, h2)."""

import numpy as np

from ..observables import (BlockStatistics, block_statistics, block_values, fit_blocks,
                           symmetric_edges)
from ..spin import SpinModel
from ..tasks import sample_tasks
from ._base import Experiment, Var

BLOCK_NAMES = ("J1", "J2", "J3", "h1", "h2")
QUICK = {"D": [5], "N": [100], "P": [1000], "seeds": 4, "bins": 100, "max_components": 4,
         "lam": 0.0, "seed": 0}
PAPER = {**QUICK, "seeds": 40}


def _edges(params, values, streams):
    """Bin edges per block from a pilot model shared by all seeds of the point."""

    pilot = SpinModel.from_tasks(
        sample_tasks(values["D"], values["N"], values["P"], seed=streams["pilot"]), 0.0)
    vals = block_values(pilot)
    return {b: symmetric_edges(vals[b], params["bins"]) for b in BLOCK_NAMES}


def point(params, values, streams):

    D = values["D"]
    model = SpinModel.from_tasks(
        sample_tasks(D, values["N"], values["P"], seed=streams["train"]), params["lam"])
    stats = block_statistics(model, bins=_edges(params, values, streams))
    n_max = max(params["D"]) * (max(params["D"]) + 1)
    J = np.full((n_max, n_max), np.nan)
    J[:model.n_spins, :model.n_spins] = model.J
    h = np.full(n_max, np.nan)
    h[:model.n_spins] = model.h
    return {
        "histogram": np.array([stats.counts[b] for b in BLOCK_NAMES]),
        "bin_edges": np.array([stats.edges[b] for b in BLOCK_NAMES]),
        "power_sums": np.array([stats.sums[b] for b in BLOCK_NAMES]),
        "outside": np.array([stats.outside[b] for b in BLOCK_NAMES]),
        "block_mean": np.array([stats.mean(b) for b in BLOCK_NAMES]),
        "block_var": np.array([stats.var(b) for b in BLOCK_NAMES]),
        "excess_kurtosis": np.array([stats.excess_kurtosis(b) for b in BLOCK_NAMES]),
        "J_example": J, "h_example": h,
    }


def variables(params):
    return {
        "histogram": Var(("block", "bin"), "counts of non-zero block entries per bin", "1", "i"),
        "bin_edges": Var(("block", "edge"), "histogram bin edges (shared by the seeds of a point)"),
        "power_sums": Var(("block", "power"), "sums of x^k of the non-zero block entries, k=0..4"),
        "outside": Var(("block",), "entries outside the bin range (still in the moments)", "1", "i"),
        "block_mean": Var(("block",), "mean of the non-zero block entries"),
        "block_var": Var(("block",), "variance of the non-zero block entries"),
        "excess_kurtosis": Var(("block",), "excess kurtosis of the non-zero block entries"),
        "J_example": Var(("spin_i", "spin_j"), "couplings J (NaN-padded to the largest D)"),
        "h_example": Var(("spin_i",), "fields h (NaN-padded to the largest D)"),
    }


def coords(params):
    n_max = max(params["D"]) * (max(params["D"]) + 1)
    return {"block": (list(BLOCK_NAMES), "coupling or field block (paper Fig. 1)", "1"),
            "bin": (np.arange(params["bins"]), "histogram bin index", "1"),
            "edge": (np.arange(params["bins"] + 1), "histogram edge index", "1"),
            "power": (np.arange(5), "power k of the sums", "1"),
            "spin_i": (np.arange(n_max), "spin index k = i*D + j", "1"),
            "spin_j": (np.arange(n_max), "spin index l", "1"),
            "component": (np.arange(params["max_components"]), "mixture component", "1")}


def finalize(ds, params):
    """Gaussian and Gaussian-mixture fits of the histograms pooled over seeds."""

    shape = tuple(ds.sizes[d] for d in ("D", "N", "P"))
    K = params["max_components"]
    g = np.full(shape + (5, 2), np.nan)
    mw, mm, ms = (np.full(shape + (5, K), np.nan) for _ in range(3))
    ll = np.full(shape + (5, 2), np.nan)
    kurt = np.full(shape + (5,), np.nan)
    for idx in np.ndindex(shape):
        sub = ds.isel(D=idx[0], N=idx[1], P=idx[2])
        ok = sub.status.values == 1
        if not ok.any():
            continue
        first = int(np.argmax(ok))
        stats = BlockStatistics({b: sub.bin_edges.values[first, i] for i, b in enumerate(BLOCK_NAMES)})
        for i, b in enumerate(BLOCK_NAMES):
            stats.counts[b] = sub.histogram.values[ok, i].sum(axis=0)
            stats.sums[b] = sub.power_sums.values[ok, i].sum(axis=0)
        gf = fit_blocks(stats, "gaussian")
        mf = fit_blocks(stats, "mixture", max_components=K)
        for i, b in enumerate(BLOCK_NAMES):
            g[idx + (i,)] = gf[b].means[0], gf[b].stds[0]
            k = mf[b].weights.size
            mw[idx + (i, slice(0, k))] = mf[b].weights
            mm[idx + (i, slice(0, k))] = mf[b].means
            ms[idx + (i, slice(0, k))] = mf[b].stds
            ll[idx + (i,)] = gf[b].loglik, mf[b].loglik
            kurt[idx + (i,)] = stats.excess_kurtosis(b)
    dims = ("D", "N", "P", "block")
    ds["gauss_fit"] = (dims + ("moment",), g, {"long_name": "Gaussian fit (mean, std) of the pooled block entries", "units": "1"})
    ds["mixture_weight"] = (dims + ("component",), mw, {"long_name": "Gaussian-mixture weights (BIC-chosen size; NaN unused)", "units": "1"})
    ds["mixture_mean"] = (dims + ("component",), mm, {"long_name": "Gaussian-mixture component means", "units": "1"})
    ds["mixture_std"] = (dims + ("component",), ms, {"long_name": "Gaussian-mixture component standard deviations", "units": "1"})
    ds["pooled_excess_kurtosis"] = (dims, kurt, {"long_name": "excess kurtosis of the block entries pooled over seeds", "units": "1"})
    ds["fit_loglik"] = (dims + ("fit",), ll, {"long_name": "log-likelihood of the binned pooled data", "units": "1"})
    ds = ds.assign_coords(moment=("moment", np.array(["mean", "std"]), {"long_name": "Gaussian fit parameter", "units": "1"}),
                          fit=("fit", np.array(["gaussian", "mixture"]), {"long_name": "fitted distribution", "units": "1"}))
    return ds


EXPERIMENT = Experiment(
    name="couplings", title="Statistics of couplings and fields (Fig. 1)", figure="Fig. 1",
    presets={"quick": QUICK, "paper": PAPER}, sweep=("D", "N", "P"), point=point,
    variables=variables, coords=coords, finalize=finalize)
