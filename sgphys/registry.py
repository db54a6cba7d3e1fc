"""The solver registry: every solver an experiment can run, registered once.

Each :class:`SolverSpec` holds the solver's function, its label, the keyword arguments it
always gets (``fixed``) and the settings an experiment may override (:class:`Setting`):
each setting is a preset parameter (``tol``, ``max_iter``, ``damping``, ``grid``, ...) that
``run_experiment(..., tol=1e-8)`` and ``sgphys run ... --set tol=1e-8`` reach, and that is
recorded in the stored file's parameters. Experiments (:func:`solve`), the sweep's
provenance (:func:`solver_kwargs`) and the command line (``sgphys list``) all read it.

Solvers (the ``solver`` coordinate of the stored Datasets):

==========  ==================================================================
exact       Gaussian marginals by Cholesky (the reference)
tap         AMP with the Onsager reaction term (TAP): exact means at its fixed point
paper       the authors' AMP: no reaction term, damping 0.9, 100 steps, their rule
rbp         relaxed BP (Gaussian messages on every directed edge)
bp          full cavity BP (message densities on grids)
==========  ==================================================================
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, field
from typing import Callable

from ._validate import check_choice, check_damping, check_positive, check_positive_int
from .solvers import solve_amp, solve_bp, solve_exact, solve_rbp

__all__ = ["Setting", "SolverSpec", "SOLVERS", "register", "get_solver", "solver_names",
           "solver_kwargs", "settings_of", "solve", "describe"]


@dataclass(frozen=True)
class Setting:
    """A solver keyword an experiment may set through the preset parameter ``param``.

    ``default`` None takes the solver function's own default (one home for it).
    ``check(param, value)`` validates a value and returns it (ValueError naming ``param``).
    """

    param: str
    kwarg: str
    check: Callable
    default: object = None
    doc: str = ""


@functools.lru_cache(maxsize=None)
def _signature_defaults(function) -> dict:
    """``{keyword: default}`` of a solver function, read once (inspect.signature per solve
    cost 0.3 ms of a 7 ms phase-diagram point)."""
    return {k: p.default for k, p in inspect.signature(function).parameters.items()}


@dataclass(frozen=True)
class SolverSpec:
    """One registered solver."""

    name: str
    label: str
    function: Callable
    fixed: dict = field(default_factory=dict)
    settings: tuple = ()

    def default(self, setting: Setting):
        if setting.default is not None:
            return setting.default
        return _signature_defaults(self.function)[setting.kwarg]

    def defaults(self) -> dict:
        """``{param: default}`` of every setting."""
        return {s.param: self.default(s) for s in self.settings}

    def kwargs(self, params: dict) -> dict:
        """Keyword arguments for ``function`` from an experiment's parameters."""
        out = {s.kwarg: s.check(s.param, params.get(s.param, self.default(s)))
               for s in self.settings}
        out.update(self.fixed)
        return out


def _check_grid(name, value):
    value = check_positive_int(name, value)
    if value < 5:
        raise ValueError(f"{name} must be at least 5 points, got {value}")
    return value


def _check_method(name, value):
    return check_choice(name, value, ("auto", "cholesky", "dual"))


def _check_damping(name, value):
    try:
        return check_damping(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


SOLVERS: dict[str, SolverSpec] = {}


def register(spec: SolverSpec) -> SolverSpec:
    """Add a solver. A setting name shared with another solver must mean the same keyword
    with the same default (``tol`` for tap and rbp), else ValueError."""
    if spec.name in SOLVERS:
        raise ValueError(f"solver {spec.name!r} is already registered")
    for other in SOLVERS.values():
        mine = {s.param: (s.kwarg, spec.default(s)) for s in spec.settings}
        theirs = {s.param: (s.kwarg, other.default(s)) for s in other.settings}
        for param in set(mine) & set(theirs):
            if mine[param] != theirs[param]:
                raise ValueError(f"setting {param!r} of solver {spec.name!r} clashes with "
                                 f"solver {other.name!r}: {mine[param]} vs {theirs[param]}")
    SOLVERS[spec.name] = spec
    return spec


def get_solver(name) -> SolverSpec:
    if not isinstance(name, str) or name not in SOLVERS:
        raise ValueError(f"solver must be one of {list(SOLVERS)}, got {name!r}")
    return SOLVERS[name]


def solver_names() -> tuple:
    return tuple(SOLVERS)


def settings_of(names) -> dict:
    """``{param: default}`` of the settings of the solvers ``names``."""
    out = {}
    for name in names:
        out.update(get_solver(name).defaults())
    return out


def solver_kwargs(name, params) -> dict:
    """The keyword arguments solver ``name`` runs with under ``params`` (stored as the
    file's ``solver_settings``)."""
    return get_solver(name).kwargs(params)


def solve(model, name, params, **extra):
    """Run one solver by name with an experiment's parameters (and ``extra`` keywords the
    caller needs, e.g. ``variances=False`` for the exact means alone); returns Marginals."""
    spec = get_solver(name)
    return spec.function(model, params.get("beta", 100.0), **spec.kwargs(params), **extra)


def describe() -> list[str]:
    """One line per solver: name, label and its settings with defaults (``sgphys list``)."""
    lines = []
    for spec in SOLVERS.values():
        sets = ", ".join(f"{s.param}={spec.default(s)!r}" for s in spec.settings) or "-"
        lines.append(f"{spec.name:<7s} {spec.label:<48s} settings: {sets}")
    return lines


_STRICT = (
    Setting("damping", "damping", _check_damping, doc="weight on the old value, or 'auto'"),
    Setting("tol", "tol", check_positive, doc="convergence threshold on the residual (docs/model.rst, section Solvers)"),
    Setting("max_iter", "max_iter", check_positive_int, doc="iteration limit"),
)

register(SolverSpec("exact", "exact Gaussian marginals (Cholesky)", solve_exact,
                    settings=(Setting("exact_method", "method", _check_method),)))
register(SolverSpec("tap", "TAP-AMP (with the Onsager reaction term)", solve_amp,
                    fixed={"variant": "tap"}, settings=_STRICT))
register(SolverSpec(
    "paper", "the authors' AMP (no reaction term, their rule)", solve_amp,
    fixed={"variant": "paper", "criterion": "paper"},
    settings=(Setting("paper_damping", "damping", _check_damping, 0.9),
              Setting("paper_tol", "tol", check_positive, 1e-6),
              Setting("paper_max_iter", "max_iter", check_positive_int, 100))))
register(SolverSpec("rbp", "relaxed BP (Gaussian edge messages)", solve_rbp, settings=_STRICT))
register(SolverSpec(
    "bp", "full cavity BP (densities on grids)", solve_bp,
    settings=(Setting("grid", "grid", _check_grid),
              Setting("bp_damping", "damping", _check_damping),
              Setting("tol", "tol", check_positive),
              Setting("bp_max_iter", "max_iter", check_positive_int))))
