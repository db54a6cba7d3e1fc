"""The package's structure: no import cycles (imports inside functions included), one
solver registry that experiments, the sweep and the command line read, and one meaning of
``damping="auto"``."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sgphys
from sgphys import registry
from sgphys.kernels import rbp as krbp
from sgphys.kernels import reference as ref

PACKAGE = Path(sgphys.__file__).resolve().parent


def _modules():
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph():
    """module -> set of sgphys modules it imports, anywhere in its body."""
    mods = _modules()

    def owner(name):
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name

    graph = {}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(base + ([node.module] if node.module else []))
                else:
                    base = node.module or ""
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]
            for t in targets:
                t = owner(t)
                if t.startswith("sgphys") and t != mod:
                    deps.add(t)
        graph[mod] = deps
    return graph


def _cycle(graph):
    """One import cycle as a list of modules, or None (depth-first search)."""
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_between_sgphys_modules():
    graph = import_graph()
    assert "sgphys.experiments.phase_diagram" in graph and graph["sgphys.sweep"]
    assert _cycle(graph) is None, " -> ".join(_cycle(graph))


def test_modules_import_what_they_use_not_the_package():
    """Inside the package nothing does ``import sgphys``: the package ``__init__`` only
    re-exports, so such an import hides what a module depends on."""
    graph = import_graph()
    bad = sorted(m for m, deps in graph.items() if "sgphys" in deps and m != "sgphys.__main__")
    assert bad == []
    assert "sgphys.experiments" not in graph["sgphys.sweep"]  # the sweep gets the point function


def test_every_solver_is_registered_once_and_experiments_use_the_registry():
    assert sgphys.experiments.SOLVERS == tuple(registry.SOLVERS) == (
        "exact", "tap", "paper", "rbp", "bp")
    for name, spec in registry.SOLVERS.items():
        kw = spec.kwargs({})
        assert set(kw) <= set(__import__("inspect").signature(spec.function).parameters)
    # the paper solver keeps the authors' settings, the strict ones the function defaults
    assert registry.solver_kwargs("paper", {}) == {
        "variant": "paper", "criterion": "paper", "damping": 0.9, "tol": 1e-6, "max_iter": 100}
    assert registry.solver_kwargs("bp", {})["grid"] == 101  # solve_bp's own default


def test_solver_settings_are_parameters_that_reach_the_solvers(tmp_path):
    ds = sgphys.run_experiment("phase_diagram", N=[20], P=[400], seeds=1, tol=1e-8,
                               max_iter=500, solvers=["exact", "tap", "rbp", "bp"], grid=21,
                               D=2, out=tmp_path / "p.nc")
    params = json.loads(ds.attrs["parameters"])
    assert params["tol"] == 1e-8 and params["max_iter"] == 500 and params["grid"] == 21
    settings = json.loads(ds.attrs["solver_settings"])
    assert settings["tap"]["tol"] == 1e-8 and settings["rbp"]["max_iter"] == 500
    assert settings["bp"]["grid"] == 21 and settings["paper"] if "paper" in settings else True
    # a setting of a solver the run does not use is an error, not silently ignored
    with pytest.raises(ValueError, match="grid"):
        sgphys.run_experiment("phase_diagram", N=[20], P=[40], seeds=1, grid=21)
    with pytest.raises(ValueError, match="tol"):
        sgphys.run_experiment("phase_diagram", N=[20], P=[40], seeds=1, tol=-1.0)


def test_cli_set_reaches_solver_settings_and_list_shows_them(tmp_path):
    out = tmp_path / "p.nc"
    r = subprocess.run([sys.executable, "-m", "sgphys", "run", "phase_diagram", "--set",
                        "N=[20]", "--set", "P=[100]", "--set", "seeds=1", "--set", "tol=1e-8",
                        "--set", "max_iter=500", "--out", str(out)], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(sgphys.io.load(out).attrs["solver_settings"])["tap"]["max_iter"] == 500
    r = subprocess.run([sys.executable, "-m", "sgphys", "list"], capture_output=True, text=True)
    for name in registry.SOLVERS:
        assert f"\n{name} " in r.stdout
    assert "paper_max_iter=100" in r.stdout and "grid=101" in r.stdout


def _model(D, N, P, lam, seed):
    return sgphys.SpinModel.from_tasks(sgphys.sample_tasks(D, N, P, seed=seed), lam)


def test_rbp_edge_variance_fixed_point_solves_the_rbp_variance_equations():
    model = _model(3, 20, 200, 0.3, seed=1)
    beta, n = 10.0, model.n_spins
    d, vu, vd, info = sgphys.solvers.rbp_auto_damping(model, beta, tol=1e-13)
    assert d is not None and info["variance_reason"] == "converged"
    M = np.zeros((n, n))
    _, V = krbp.unpack(np.zeros_like(vu), vu, np.zeros_like(vd), vd, n)
    _, V_new, _, var = ref.rbp_step(np.ascontiguousarray(model.J), model.h, model.lam_k,
                                    beta, M, V)
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_allclose(V_new[off], V[off], rtol=1e-11)
    assert np.all(var > 0)


def test_auto_damping_means_one_thing_in_every_solver():
    """damping="auto" never falls back silently: a case where AMP's node-variance recursion
    has no positive fixed point while r-BP's edge recursion has one (cavity variances are
    smaller): AMP reports nonpositive_precision, r-BP and full BP converge to the exact
    means with their own variances."""
    model = _model(2, 10, 100, 0.1, seed=2)
    amp = sgphys.solve_amp(model, 100.0)
    assert not amp.converged and amp.reason == "nonpositive_precision"
    rbp = sgphys.solve_rbp(model, 100.0)
    bp = sgphys.solve_bp(model, 100.0, damping="auto", grid=41)
    exact = sgphys.solve_exact(model, 100.0)
    assert rbp.converged and bp.converged
    np.testing.assert_allclose(rbp.mean, exact.mean, atol=1e-8)
    tiny = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(1, 1, 1, seed=0), 1e-12)
    amp = sgphys.solve_amp(tiny, 100.0)
    assert not amp.converged and amp.reason == "nonpositive_precision"
    assert amp.info["damping"] == "auto" and not amp.info["damping_estimated"]


def test_slow_iterations_are_not_reported_converged():
    """lam = 1e-12 with one task (condition number ~1e13): r-BP's change per iteration
    falls below tol at damping 0.95 while its means are still far from A m = h (it used
    to say converged=True with a mean off by 182). Converged now requires the means'
    own fixed-point equation to hold to tol."""
    tiny = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(1, 1, 1, seed=0), 1e-12)
    r = sgphys.solve_rbp(tiny, 100.0)
    assert not r.converged and r.reason == "max_iter"
    assert r.info["mean_equation_residual"] > 1e-10
    for lam in (1e-9, 1e-6, 1e-3):
        model = sgphys.SpinModel.from_tasks(sgphys.sample_tasks(1, 1, 1, seed=0), lam)
        exact = sgphys.solve_exact(model, 100.0)
        for r in (sgphys.solve_rbp(model, 100.0), sgphys.solve_amp(model, 100.0)):
            if r.converged:
                assert model.linear_residual(r.mean) <= 1e-10
                # the mean error is bounded by the residual times the condition number
                assert np.max(np.abs(r.mean - exact.mean)) <= 1e-10 * 2 / lam
