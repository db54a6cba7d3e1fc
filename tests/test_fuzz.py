"""Property-based fuzzing of every public function of sgphys.

The contract (input validation, docs/api.rst, section API): whatever the input, a public function
returns a
finite result (or a result flagged as not converged, with a reason), or raises ValueError
(TypeError is tolerated for a bad input) naming the parameter; never a crash (segfault), a
traceback of another exception type, a silent NaN or a non-finite result marked converged.

Each target draws its arguments from valid values and, for at most one parameter, from bad
ones (None, strings, booleans, complex, lists, objects, shapes off by one, bool / complex /
object / string dtypes, NaN, inf, 0, -1, 2**63, ...). Whether a drawn value is bad is
decided here, independently of sgphys's checks: a bad value must be rejected with an error
naming its parameter; valid values (extreme ones such as 1e308 included) may succeed or
raise ValueError, and a success must pass :func:`check_result`.

The fuzzing runs in a subprocess (``python -X faulthandler tests/test_fuzz.py``), so a
segfault fails the test instead of killing pytest; hypothesis is derandomised, so the run
is reproducible. ``python tests/test_fuzz.py [target ...]`` runs it directly.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import subprocess
import sys
import time

FUZZ_TIMEOUT = 600  # seconds; the run takes well under a minute on 2 cores
MIN_INPUTS = 1000


#: result fields that are NaN, with a reason in ``info["thermo_reason"]``, where a method has
#: no free energy
THERMO_FIELDS = ("log_z", "log_z_err", "energy", "entropy", "free_energy")


def test_public_api_survives_fuzzing():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(  # the sgphys next to this test file
        [root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    proc = subprocess.run([sys.executable, "-X", "faulthandler", os.path.abspath(__file__)],
                          capture_output=True, text=True, timeout=FUZZ_TIMEOUT, env=env, cwd=root,
                          check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"fuzzing failed (return code {proc.returncode}):\n{out[-20000:]}"
    total = [line for line in proc.stdout.splitlines() if line.startswith("fuzzed inputs:")]
    assert total, out[-5000:]
    assert int(total[-1].split(":")[1]) >= MIN_INPUTS, total[-1]


# -- everything below runs in the child process ------------------------------------------

if __name__ == "__main__":
    import warnings

    import numpy as np
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    import sgphys
    from sgphys import baselines, discrete, priors, solvers, theory
    from sgphys.solvers import Marginals

    warnings.simplefilter("ignore", RuntimeWarning)  # overflow warnings are not errors

    COUNT = [0]
    OUTCOMES = {}  # target -> [returned, valid input raised, bad input rejected]
    BAD_REASONS = ("max_iter", "nonpositive_precision", "blowup", "grid_truncated",
                   "grid_unresolved")

    class Bad:
        """A drawn value that is invalid for its parameter (decided by the fuzzer)."""

        def __init__(self, value, why):
            self.value, self.why = value, why

        def __repr__(self):
            return f"Bad({self.why}: {_short(self.value)})"

    def _short(v):
        text = repr(v)
        return text if len(text) < 300 else text[:297] + "..."

    # -- validity predicates (independent of sgphys) --------------------------------------

    def unwrap(v):
        """A 0-d integer or floating array is a number (the contract: any integer or float
        type, NumPy scalars and 0-d arrays included, wherever a number is)."""
        if isinstance(v, np.ndarray) and v.ndim == 0 and v.dtype.kind in "iuf":
            return v.item()
        return v

    def is_int(v, lo=1):
        v = unwrap(v)
        return (isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
                and lo <= v <= 2 ** 62)

    def is_real(v, lo=None, strict=True, hi=None):
        v = unwrap(v)
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            return False
        try:
            f = float(v)
        except OverflowError:
            return False
        if not math.isfinite(f):
            return False
        if lo is not None and (f <= lo if strict else f < lo):
            return False
        return hi is None or f < hi

    class _Weird:
        def __repr__(self):
            return "<object>"

    JUNK = [None, "x", "3", "", True, False, 1j, 1 + 0j, [1, 2], [[1.0]], {}, (), _Weird(),
            b"1", float("nan"), float("inf"), -float("inf"), 0, -1, 2 ** 63, -2 ** 63,
            10 ** 400, 1e308, -1e308, 1.5, 0.0, -0.0, 5e-324, np.float64("nan"),
            np.int64(-1), np.bool_(True), np.array([1.0]), np.array(2.0), np.complex128(1),
            np.array(["1", "2"]), np.array([1, None], dtype=object), "auto", "no"]

    ALLOW_JUNK = [False]  # set by one_bad for the one parameter that may be bad

    def keep(data):
        """Whether a drawer returns its valid value (always, unless junk is allowed)."""
        return not ALLOW_JUNK[0] or data.draw(st.integers(0, 2), label="keep?") != 0

    def pick(data, valid, junky):
        """One of ``valid`` or, when junk is allowed, of ``valid + junky`` (choice names)."""
        return data.draw(st.sampled_from(list(valid) + (list(junky) if ALLOW_JUNK[0] else [])))

    def scalar(data, valid, ok):
        """A valid value (``valid`` strategy) or a junk one; junk that ``ok`` accepts is
        returned as a plain (valid) value."""
        if not keep(data):
            v = data.draw(st.sampled_from(JUNK), label="junk")
            return v if ok(v) else Bad(v, "junk")
        return data.draw(valid)

    def int_arg(lo, hi, minimum=1):
        return lambda data: scalar(data, st.integers(lo, hi), lambda v: is_int(v, minimum) and v <= hi)

    def real_arg(valid, lo=None, strict=True, hi=None):
        return lambda data: scalar(data, valid, lambda v: is_real(v, lo, strict, hi))

    def bool_arg(allow_none=False):
        def ok(v):
            return isinstance(v, (bool, np.bool_)) or (allow_none and v is None)
        valid = st.sampled_from([True, False] + ([None] if allow_none else []))
        return lambda data: scalar(data, valid, ok)

    def choice_arg(options):
        return lambda data: scalar(data, st.sampled_from(list(options)),
                                   lambda v: isinstance(v, str) and v in options)

    def opt(drawer):
        """An optional parameter: None (valid) or ``drawer``'s value."""
        def draw(data):
            if data.draw(st.booleans(), label="None?"):
                return None
            v = drawer(data)
            return None if isinstance(v, Bad) and v.value is None else v
        return draw

    def seed_arg(data):
        if keep(data):
            return data.draw(st.sampled_from([0, 1, 2 ** 40, np.random.SeedSequence(3),
                                              np.random.default_rng(4)]))
        v = data.draw(st.sampled_from(JUNK))
        return v if is_int(v, 0) or (type(v) is int and v >= 0) else Bad(v, "junk")

    SHAPE_KINDS = ("bigger", "smaller", "extra_dim", "scalar", "empty")

    def array_variant(data, arr, positive=False, optional=False, shapes=True, free_rows=False):
        """``arr`` itself, a valid variant (int dtype, list, non-contiguous, extreme values)
        or a Bad one (shape off by one, bool/complex/object/str dtype, NaN, inf, None, a
        string, a scalar). ``optional``: None is valid; ``shapes=False``: no shape
        variants; ``free_rows``: any number of rows (>= 1) is valid."""
        junky = ["bigger", "smaller", "extra_dim", "bool", "complex", "object", "str", "nan",
                 "inf", "none", "string", "scalar", "empty"]
        if not shapes:
            junky = [k for k in junky if k not in SHAPE_KINDS]
        kind = pick(data, ["same", "same", "int", "list", "noncontig", "huge", "tiny", "negative"],
                    junky * 2)
        a = np.array(arr, dtype=np.float64)
        v = _variant(data, a, kind, positive)
        if isinstance(v, Bad) and not ALLOW_JUNK[0]:  # a valid variant that overflowed
            return a
        if kind == "none" and optional:
            return None
        if free_rows and kind in ("bigger", "smaller") and isinstance(v, Bad):
            b = np.asarray(v.value)
            if b.ndim == a.ndim and b.size > 0 and b.shape[1:] == a.shape[1:]:
                return b
        return v

    def _variant(data, a, kind, positive):
        if kind == "same":
            return a
        if kind == "int":
            if a.size and np.max(np.abs(a)) > 2.0 ** 52:
                return a
            return np.rint(a).astype(np.int64) + (1 if positive else 0)
        if kind == "list":
            return a.tolist()
        if kind == "noncontig":
            b = np.empty(a.shape + (2,))
            b[..., 0] = a
            return b[..., 0]
        if kind == "huge":
            b = a * 1e300
            return b if np.all(np.isfinite(b)) else Bad(b, "overflowed to inf")
        if kind == "tiny":
            return a * 1e-300
        if kind == "negative":
            return -np.abs(a) - 1.0
        if kind == "bigger":
            if a.ndim == 0:
                return Bad(np.zeros(2), kind)
            return Bad(np.concatenate([a, a[:1] if a.shape[0] else np.zeros((1,) + a.shape[1:])]), kind)
        if kind == "smaller":
            if a.ndim == 0 or a.shape[0] == 0:
                return Bad(np.zeros((0, 3)), kind)
            return Bad(a[:-1], kind) if a.shape[0] > 1 else Bad(a[:, None] if a.ndim else a, kind)
        if kind == "extra_dim":
            return Bad(a[..., None], kind)
        if kind == "bool":
            return Bad(a > 0, kind)
        if kind == "complex":
            return Bad(a + 0j, kind)
        if kind == "object":
            return Bad(a.astype(object), kind)
        if kind == "str":
            return Bad(a.astype(str), kind)
        if kind in ("nan", "inf"):
            if a.size == 0:
                return Bad(None, kind)
            b = a.copy()
            b.flat[data.draw(st.integers(0, a.size - 1))] = np.nan if kind == "nan" else np.inf
            return Bad(b, kind)
        if kind == "none":
            return Bad(None, kind)
        if kind == "string":
            return Bad("array", kind)
        if kind == "scalar":
            return Bad(1.0, kind) if a.ndim > 0 else a
        return Bad(np.zeros((0,) * max(1, a.ndim)), kind) if a.size else a

    # -- valid objects ---------------------------------------------------------------------

    @st.composite
    def gaussian_models(draw, max_D=3):
        D = draw(st.integers(1, max_D), label="D")
        n = D * (D + 1)
        rng = np.random.default_rng(draw(st.integers(0, 10 ** 6), label="seed"))
        kind = draw(st.sampled_from(["tasks", "arrays", "couplings"]))
        lam = draw(st.sampled_from([0.0, 1e-12, 1e-3, 0.1, 1.0, 10.0, 1e6]))
        if kind == "tasks":
            tasks = sgphys.sample_tasks(D, draw(st.integers(1, 5)), draw(st.integers(1, 2 * n + 3)),
                                        seed=int(rng.integers(100)))
            return sgphys.SpinModel.from_tasks(tasks, lam)
        if kind == "arrays":
            P = draw(st.integers(1, 2 * n + 3))
            scale = draw(st.sampled_from([1.0, 1.0, 1e-150, 1e100, 1e150]))
            H = rng.standard_normal((P, n)) * scale
            y = rng.standard_normal(P) * draw(st.sampled_from([1.0, 0.0, 1e150]))
            return sgphys.SpinModel.from_arrays(H, y, lam, D)
        J = rng.standard_normal((n, n)) * draw(st.sampled_from([0.1, 1.0, 1e150]))
        J = J + J.T
        np.fill_diagonal(J, 0.0)
        lam_k = np.abs(rng.standard_normal(n)) + draw(st.sampled_from([0.0, 1.0, 1e3]))
        return sgphys.SpinModel.from_couplings(J, rng.standard_normal(n), lam_k, D, lam=0.0)

    def safe_models(max_D=3):
        """Valid Gaussian models; a draw whose construction itself raises ValueError
        (overflowing features) is replaced by a plain one."""
        @st.composite
        def build(draw):
            try:
                return draw(gaussian_models(max_D))
            except ValueError:
                return sgphys.SpinModel.from_tasks(sgphys.sample_tasks(1, 2, 3, seed=0), 0.1)
        return build()

    def broken_model(data, model):
        """A SpinModel whose attributes were reassigned after construction."""
        import copy

        m = copy.copy(model)
        what = data.draw(st.sampled_from(["h_short", "Q_short", "Q_nan", "h_int", "D", "lam",
                                          "J_short", "Q_fortran"]))
        if what == "h_short":
            m.h = np.zeros(max(0, model.n_spins - 1))
        elif what == "Q_short":
            m.Q = np.zeros((model.n_spins - 1, model.n_spins - 1))
        elif what == "Q_nan":
            m.Q = model.Q.copy()
            m.Q[0, 0] = np.nan
        elif what == "h_int":
            m.h = np.zeros(model.n_spins, dtype=np.int64)
        elif what == "D":
            m.D = model.D + 1
        elif what == "lam":
            m.lam = float("nan")
        elif what == "J_short":
            m._J = np.zeros((1, 1))
        else:
            m.Q = np.asfortranarray(model.Q)  # right shape and values, wrong memory order
        return m

    def model_arg(max_D=3, gaussian=True):
        def draw_model(data):
            model = data.draw(safe_models(max_D), label="model")
            which = pick(data, ["ok"], ["junk", "broken", "broken", "tasks"]
                         + (["prior"] if gaussian else []))
            if which == "ok":
                return model
            if which == "junk":
                return Bad(data.draw(st.sampled_from(JUNK)), "junk model")
            if which == "tasks":
                return Bad(sgphys.sample_tasks(1, 2, 3), "Tasks as model")
            if which == "prior":
                return Bad(sgphys.SpinModel.from_arrays(np.eye(2), np.ones(2), 0.0, 1,
                                                        prior=sgphys.Binary(1.0)), "non-Gaussian")
            m = broken_model(data, model)
            return Bad(m, "broken model")
        return draw_model

    def prior_instances():
        return st.one_of(
            st.builds(sgphys.Binary, st.sampled_from([1.0, 0.5, 1e-3, 3.0])),
            st.builds(sgphys.Ternary, st.sampled_from([1.0, 0.2]), st.sampled_from([0.0, 0.3, 0.9])),
            st.builds(sgphys.Laplace, st.sampled_from([0.1, 1.0, 10.0])),
            st.builds(sgphys.Gaussian, st.sampled_from([0.1, 1.0])))

    @st.composite
    def prior_models(draw, discrete_only=False):
        D = draw(st.integers(1, 2))
        n = D * (D + 1)
        rng = np.random.default_rng(draw(st.integers(0, 10 ** 6)))
        P = draw(st.integers(n, 3 * n))
        H = rng.standard_normal((P, n)) * draw(st.sampled_from([1.0, 1e-3, 1e100]))
        y = rng.standard_normal(P)
        p = draw(st.builds(sgphys.Binary, st.sampled_from([1.0, 0.5, 3.0]))
                 | st.builds(sgphys.Ternary, st.sampled_from([1.0, 0.2]), st.sampled_from([0.0, 0.3]))
                 if discrete_only else prior_instances())
        lam = p.lam if isinstance(p, sgphys.Gaussian) else 0.0
        try:
            return sgphys.SpinModel.from_arrays(H, y, lam, D, prior=p)
        except ValueError:
            return sgphys.SpinModel.from_arrays(np.eye(n), np.ones(n), lam, D, prior=p)

    @st.composite
    def task_sets(draw, max_D=3, tokens=False):
        D = draw(st.integers(1, max_D))
        method = "tokens" if tokens else draw(st.sampled_from(["tokens", "statistics"]))
        corr = draw(st.sampled_from([0.0, 0.3])) if method == "tokens" else 0.0
        kind = draw(st.sampled_from(["sampled", "sampled", "arrays"]))
        tasks = sgphys.sample_tasks(D, draw(st.integers(1, 5)), draw(st.integers(1, 8)),
                                    seed=draw(st.integers(0, 99)), corr=corr, method=method,
                                    noise=draw(st.sampled_from([0.0, 0.1])))
        if kind == "arrays" and method == "tokens":
            return sgphys.Tasks.from_arrays(tasks.Z, tasks.y)
        return tasks

    def tasks_arg(max_D=3, tokens=False):
        def draw_tasks(data):
            if not keep(data):
                return Bad(data.draw(st.sampled_from(JUNK + [np.zeros((2, 3, 4))])), "junk tasks")
            return data.draw(task_sets(max_D, tokens), label="tasks")
        return draw_tasks

    # -- result checks ---------------------------------------------------------------------

    def check_result(value, path="result", allow_inf=False, allow_nan=False):
        """Every number reachable from ``value`` finite (unless allowed); Marginals either
        converged with finite, positive-variance marginals or flagged with a reason."""
        if value is None or isinstance(value, (str, bool, np.bool_)):
            return
        if isinstance(value, Marginals):
            assert value.reason in ("converged",) + BAD_REASONS, f"{path}.reason={value.reason!r}"
            if value.converged:
                assert value.reason == "converged", path
                assert np.all(np.isfinite(value.mean)), f"{path}: converged with non-finite mean"
                assert np.all(np.isfinite(value.var)) and np.all(value.var >= 0), \
                    f"{path}: converged with bad variances {value.var}"
                assert math.isfinite(value.residual), f"{path}: converged, residual {value.residual}"
                # a discrete marginal may be frozen (exactly one value): variance 0
                if value.solver not in ("enumerate", "gibbs") and "prior" not in (value.info or {}):
                    assert np.all(value.var > 0), f"{path}: converged with zero variance"
            else:
                assert value.reason in BAD_REASONS, f"{path}: not converged, reason {value.reason!r}"
            return
        if isinstance(value, numbers.Number):
            if isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
                raise AssertionError(f"{path} is complex: {value!r}")
            f = float(value)
            ok = math.isfinite(f) or (allow_inf and f == math.inf) or (allow_nan and math.isnan(f))
            assert ok, f"{path} = {value!r} (silent non-finite result)"
            return
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "biuf":
                a = value.astype(np.float64)
                bad = ~np.isfinite(a)
                if allow_inf:
                    bad &= ~(a == np.inf)
                if allow_nan:
                    bad &= ~np.isnan(a)
                assert not np.any(bad), f"{path} has non-finite entries: {_short(value)}"
            elif value.dtype.kind == "c":
                raise AssertionError(f"{path} is complex")
            return
        if isinstance(value, (tuple, list)):
            for i, v in enumerate(value):
                check_result(v, f"{path}[{i}]", allow_inf, allow_nan)
            return
        if isinstance(value, dict):
            for k, v in value.items():
                check_result(v, f"{path}[{k!r}]", allow_inf, allow_nan)
            return
        if dataclasses.is_dataclass(value):
            for f in dataclasses.fields(value):
                if f.name in ("history", "info", "prior"):
                    continue  # NaN test_loss without a test set, diagnostics
                # thermodynamics: NaN where a method has none, the reason in info
                nan_ok = allow_nan or (f.name in THERMO_FIELDS and "thermo_reason" in
                                       getattr(value, "info", {}))
                check_result(getattr(value, f.name), f"{path}.{f.name}", allow_inf, nan_ok)
            return
        # SpinModel, Tasks, priors, xarray objects: constructed objects, checked by use

    def damping_result(value):
        d, *arrays, info = value
        if d is None:
            assert info["variance_reason"] in BAD_REASONS, info
            return
        assert 0.0 <= d <= 0.95, d
        check_result(arrays)
        check_result({k: v for k, v in info.items() if k != "variance_reason"})

    # -- targets ----------------------------------------------------------------------------
    # each: name -> (n_examples, build(data) -> (function, kwargs), result check); kwargs
    # values may be Bad(...) (a bad value for that parameter, unwrapped before the call).

    TARGETS = {}

    def target(name, n, check=check_result):
        def deco(fn):
            TARGETS[name] = (n, fn, check)
            return fn
        return deco

    def one_bad(data, spec):
        """Draw kwargs from ``spec`` (name -> drawer(data), or a :func:`ctx` drawer(data,
        kwargs so far)), letting at most one drawn parameter be bad: every drawer consults
        ``ALLOW_JUNK`` and draws only valid values for the others."""
        names = list(spec)
        bad = data.draw(st.sampled_from([None] + names), label="bad parameter")
        kwargs = {}
        try:
            for name in names:
                drawer = spec[name]
                ALLOW_JUNK[0] = name == bad
                kwargs[name] = (drawer(data, kwargs) if getattr(drawer, "needs_ctx", False)
                                else drawer(data))
        finally:
            ALLOW_JUNK[0] = False
        return kwargs

    def ctx(fn):
        fn.needs_ctx = True
        return fn

    def model_array(shape_fn, scale=1.0, positive=False, optional=False):
        @ctx
        def draw(data, kw):
            model = kw.get("model")
            n = model.n_spins if isinstance(model, sgphys.SpinModel) else 2
            shape = shape_fn(n, model)
            rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
            a = rng.standard_normal(shape) * scale
            if positive:
                a = np.abs(a) + 0.01
            return array_variant(data, a, positive, optional=optional)
        return draw

    betas = real_arg(st.sampled_from([1e-300, 1e-3, 1.0, 10.0, 100.0, 1e6, 1e308]), lo=0.0)
    tols = real_arg(st.sampled_from([1e-10, 1e-6, 1e-2, 1.0, 1e308]), lo=0.0)
    def dampings(data):
        return scalar(data, st.sampled_from(["auto", 0.0, 0.5, 0.9, 0.999]),
                      lambda v: v == "auto" or is_real(v, 0.0, strict=False, hi=1.0))
    criteria = choice_arg(("strict", "paper"))

    @ctx
    def init_arg(data, kw):
        model = kw.get("model")
        n = model.n_spins if isinstance(model, sgphys.SpinModel) else 2
        rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
        which = pick(data, ["none", "pair"], ["m0", "v0", "junk", "neg"])
        m0, v0 = rng.standard_normal(n), np.abs(rng.standard_normal(n)) + 1e-3
        if which == "none":
            return None
        if which == "pair":
            return (m0, v0)
        if which == "m0":
            v = array_variant(data, m0)
            return Bad((v.value, v0), "init[0]") if isinstance(v, Bad) else (v, v0)
        if which == "v0":
            v = array_variant(data, v0, positive=True)
            return Bad((m0, v.value), "init[1]") if isinstance(v, Bad) else (m0, v)
        if which == "neg":
            return Bad((m0, -v0), "negative variances")
        return Bad(data.draw(st.sampled_from(JUNK + [(m0,), (m0, v0, v0)])), "junk init")

    @target("solve_exact", 120)
    def _(data):
        return sgphys.solve_exact, one_bad(data, {
            "model": model_arg(), "beta": betas,
            "method": choice_arg(("auto", "cholesky", "dual"))})

    for _name, _fn, _n in (("solve_amp", sgphys.solve_amp, 180), ("solve_rbp", sgphys.solve_rbp, 150)):
        def _make(fn):
            def draw(data):
                spec = {"model": model_arg(gaussian=False), "beta": betas, "damping": dampings,
                        "tol": tols,
                        "max_iter": int_arg(1, 60), "criterion": criteria, "init": init_arg,
                        "history": bool_arg(), "parallel": bool_arg(allow_none=True)}
                if fn is sgphys.solve_amp:
                    spec["variant"] = choice_arg(("tap", "paper"))
                return fn, one_bad(data, spec)
            return draw
        target(_name, _n)(_make(_fn))

    @target("solve_bp", 120)
    def _(data):
        return sgphys.solve_bp, one_bad(data, {
            "model": model_arg(max_D=2, gaussian=False), "beta": betas, "grid": int_arg(5, 15),
            "width": real_arg(st.sampled_from([1.0, 5.0, 10.0, 1e300]), lo=0.0),
            "damping": dampings, "tol": tols, "max_iter": int_arg(1, 20), "criterion": criteria,
            "init": init_arg, "history": bool_arg()})

    # the message-passing solvers with non-Gaussian priors
    for _name, _fn, _n in (("solve_amp[prior]", sgphys.solve_amp, 90),
                           ("solve_rbp[prior]", sgphys.solve_rbp, 90),
                           ("solve_bp[prior]", sgphys.solve_bp, 60)):
        def _make_prior(fn):
            def draw(data):
                model = data.draw(prior_models())
                spec = {"model": lambda d: model if keep(d) else Bad(
                            d.draw(st.sampled_from(JUNK[:14])), "junk"),
                        "beta": betas, "damping": dampings, "tol": tols,
                        "max_iter": int_arg(1, 60), "criterion": criteria}
                return fn, one_bad(data, spec)
            return draw
        target(_name, _n)(_make_prior(_fn))

    @target("auto_damping", 150, damping_result)
    def _(data):
        return solvers.auto_damping, one_bad(data, {
            "model": model_arg(), "beta": betas, "variant": choice_arg(("tap", "paper")),
            "v0": model_array(lambda n, m: (n,), positive=True, optional=True), "tol": tols,
            "max_iter": int_arg(1, 200), "parallel": bool_arg(allow_none=True)})

    @target("rbp_auto_damping", 120, damping_result)
    def _(data):
        return solvers.rbp_auto_damping, one_bad(data, {
            "model": model_arg(), "beta": betas,
            "v0": model_array(lambda n, m: (n,), positive=True, optional=True), "tol": tols,
            "max_iter": int_arg(1, 200), "parallel": bool_arg(allow_none=True)})

    # -- data --------------------------------------------------------------------------------

    @target("sample_tasks", 150)
    def _(data):
        def fn(**kw):
            t = sgphys.sample_tasks(**kw)
            return (t.features(), t.y, t.w) if kw.get("method") == "statistics" else (t.Z, t.y, t.w)
        return fn, one_bad(data, {
            "D": int_arg(1, 3), "N": int_arg(1, 4), "P": int_arg(1, 6), "seed": seed_arg,
            "corr": real_arg(st.sampled_from([0.0, 0.5, 0.999]), lo=0.0, strict=False, hi=1.0),
            "corr_mode": choice_arg(("equicorrelated", "paper")),
            "sigma_x": real_arg(st.sampled_from([1.0, 1e-3, 1e100]), lo=0.0),
            "sigma_w": real_arg(st.sampled_from([1.0, 1e-3, 1e100]), lo=0.0),
            "noise": real_arg(st.sampled_from([0.0, 0.5, 1e100]), lo=0.0, strict=False),
            "method": choice_arg(("tokens",))})

    def z_array(data, kw=None, D=None, P=None):
        D = D or data.draw(st.integers(1, 3))
        P = P or data.draw(st.integers(1, 5))
        N = data.draw(st.integers(1, 4))
        rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
        return rng.standard_normal((P, D + 1, N + 1))

    @target("features", 90)
    def _(data):
        Z = z_array(data)
        return sgphys.features, one_bad(data, {"Z": lambda d: array_variant(d, Z, free_rows=True)})

    @target("Tasks.from_arrays", 90)
    def _(data):
        Z = z_array(data)
        P, Dp1 = Z.shape[0], Z.shape[1]
        rng = np.random.default_rng(0)
        spec = {"Z": lambda d: array_variant(d, Z, free_rows=True), "y": lambda d: array_variant(d, rng.standard_normal(P)),
                "w": lambda d: None if d.draw(st.booleans()) else array_variant(d, rng.standard_normal((P, Dp1 - 1)))}

        def fn(**kw):
            t = sgphys.Tasks.from_arrays(**kw)
            return t.Z, t.y, t.features()
        return fn, one_bad(data, spec)

    @target("Tasks", 60)
    def _(data):
        Z = z_array(data)
        spec = {"sampler": lambda d: None if keep(d) else Bad(d.draw(st.sampled_from(JUNK[1:])), "junk"),
                "Z": lambda d: array_variant(d, Z, free_rows=True),
                "y": lambda d: array_variant(d, np.zeros(Z.shape[0]))}

        def fn(**kw):
            t = sgphys.Tasks(**kw)
            return t.features(), t.y
        return fn, one_bad(data, spec)

    @target("Tasks.test_set", 90)
    def _(data):
        tasks = data.draw(task_sets())

        def fn(**kw):
            t = tasks.test_set(**kw)
            return t.features(), t.y
        return fn, one_bad(data, {"P": int_arg(1, 6), "seed": opt(seed_arg)})

    # -- spin model ------------------------------------------------------------------------------

    @target("SpinModel.from_arrays", 150)
    def _(data):
        D = data.draw(st.integers(1, 3))
        n = D * (D + 1)
        P = data.draw(st.integers(1, 2 * n))
        rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
        H, y = rng.standard_normal((P, n)), rng.standard_normal(P)

        def fn(**kw):
            m = sgphys.SpinModel.from_arrays(**kw)
            return m.Q, m.h, m.J, m.lam_k, m.energy_offset
        return fn, one_bad(data, {
            "H": lambda d: array_variant(d, H), "y": lambda d: array_variant(d, y),
            "lam": real_arg(st.sampled_from([0.0, 0.1, 1e308]), lo=0.0, strict=False),
            "D": lambda d: scalar(d, st.just(D), lambda v: False),
            "prior": lambda d: None if keep(d) else Bad(d.draw(st.sampled_from(["foo", 3, {"name": "x"}, []])), "junk prior")})

    @target("SpinModel.from_couplings", 120)
    def _(data):
        D = data.draw(st.integers(1, 3))
        n = D * (D + 1)
        rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
        J = rng.standard_normal((n, n))
        J = J + J.T
        np.fill_diagonal(J, 0.0)

        def fn(**kw):
            m = sgphys.SpinModel.from_couplings(**kw)
            return m.Q, m.h, m.J, m.lam_k
        return fn, one_bad(data, {
            "J": lambda d: array_variant(d, J), "h": lambda d: array_variant(d, rng.standard_normal(n)),
            "lam_k": lambda d: array_variant(d, np.abs(rng.standard_normal(n)), positive=True),
            "D": lambda d: scalar(d, st.just(D), lambda v: False),
            "lam": real_arg(st.sampled_from([0.0, 0.1]), lo=0.0, strict=False)})

    @target("SpinModel", 90)
    def _(data):
        D = data.draw(st.integers(1, 2))
        n = D * (D + 1)
        rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
        Q = np.eye(n) + 0.1

        def fn(**kw):
            m = sgphys.SpinModel(**kw)
            return sgphys.solve_amp(m, 10.0, max_iter=20)
        return fn, one_bad(data, {
            "D": lambda d: scalar(d, st.just(D), lambda v: False),
            "lam": real_arg(st.sampled_from([0.1, 1.0]), lo=0.0),
            "h": lambda d: array_variant(d, rng.standard_normal(n)),
            "Q": lambda d: array_variant(d, Q)})

    @target("prefix_models", 40)
    def _(data):
        D = data.draw(st.integers(1, 2))
        n = D * (D + 1)
        rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
        P = data.draw(st.integers(1, 3 * n))
        H = rng.standard_normal((P, n)) * data.draw(st.sampled_from([1.0, 1e-3, 1e150]))
        y = rng.standard_normal(P)
        Ps = sorted(set(data.draw(st.lists(st.integers(1, P), min_size=1, max_size=4))))

        def fn(**kw):
            return [(Pk, m.Q, m.J, sgphys.solve_exact(m, 10.0).mean)
                    for Pk, m in sgphys.prefix_models(**kw)]

        def draw_Ps(d):
            if keep(d):
                return Ps
            bad = d.draw(st.sampled_from([[P + 1], Ps[::-1] + [Ps[0]], [0], [1.5], "x", None]))
            return Bad(bad, "junk Ps")
        return fn, one_bad(data, {
            "D": lambda d: scalar(d, st.just(D), lambda v: False),
            "lam": real_arg(st.sampled_from([0.1, 1.0]), lo=0.0, strict=False),
            "H": lambda d: array_variant(d, H, shapes=False),
            "y": lambda d: array_variant(d, y, shapes=False),
            "Ps": draw_Ps})

    def _model_method(method, shape_fn, n_examples):
        @target(f"SpinModel.{method}", n_examples)
        def _(data):
            model = data.draw(safe_models())

            def fn(x):
                return getattr(model, method)(x)
            rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
            a = rng.standard_normal(shape_fn(model))
            if method in ("loss", "to_spins"):
                a[:, -1] = 0.0
            return fn, one_bad(data, {"x": lambda d: array_variant(d, a)})

    _model_method("energy", lambda m: (m.n_spins,), 30)
    _model_method("to_weights", lambda m: (m.n_spins,), 20)
    _model_method("to_spins", lambda m: (m.D + 1, m.D + 1), 20)
    _model_method("loss", lambda m: (m.D + 1, m.D + 1), 30)

    @target("SpinModel.energy[2d]", 45)
    def _(data):
        model = data.draw(safe_models())
        S = np.random.default_rng(0).standard_normal((data.draw(st.integers(1, 4)), model.n_spins))
        return model.energy, one_bad(data, {"s": lambda d: array_variant(d, S, free_rows=True)})

    @target("SpinModel.from_tasks", 60)
    def _(data):
        return sgphys.SpinModel.from_tasks, one_bad(data, {
            "tasks": tasks_arg(), "lam": real_arg(st.sampled_from([0.0, 0.1, 1e308]), lo=0.0, strict=False)})

    # -- attention / training ----------------------------------------------------------------

    @target("predict_merged", 90)
    def _(data):
        Z = z_array(data)
        W = np.random.default_rng(1).standard_normal((Z.shape[1], Z.shape[1]))
        return sgphys.predict_merged, one_bad(data, {"W": lambda d: array_variant(d, W),
                                                    "Z": lambda d: array_variant(d, Z, free_rows=True)})

    ARCHS = ("sla", "fla", "sa", "tf", "mhla")

    @target("train", 120)
    def _(data):
        tasks = data.draw(task_sets(max_D=2, tokens=True))
        arch = data.draw(st.sampled_from(ARCHS))
        D = tasks.D
        ref = sgphys.attention.ARCHITECTURES[arch].init(D, np.random.default_rng(0))

        def init_draw(d):
            which = pick(d, ["none", "ok"], ["key", "shape", "value", "junk"])
            if which == "none":
                return None
            if which == "ok":
                return {k: v.copy() for k, v in ref.items()}
            if which == "key":
                return Bad({"foo": np.zeros(3)}, "unknown key")
            if which == "shape":
                k = d.draw(st.sampled_from(sorted(ref)))
                return Bad({**ref, k: np.zeros(np.shape(ref[k])[:-1] + (np.shape(ref[k])[-1] + 1,))}, "shape")
            if which == "value":
                k = d.draw(st.sampled_from(sorted(ref)))
                v = array_variant(d, ref[k])
                return Bad({**ref, k: v.value}, "value") if isinstance(v, Bad) else {**ref, k: v}
            return Bad(d.draw(st.sampled_from(JUNK)), "junk init")

        def fn(**kw):
            r = sgphys.train(tasks, arch=arch, **kw)
            return r.params, r.W, r.history["train_loss"].values
        return fn, one_bad(data, {
            "optimizer": choice_arg(("adam", "sgd")),
            "lam": real_arg(st.sampled_from([0.0, 0.1]), lo=0.0, strict=False),
            "lr": real_arg(st.sampled_from([1e-3, 1e-1, 1e6]), lo=0.0),
            "epochs": int_arg(1, 3), "seed": seed_arg,
            "batch_size": opt(int_arg(1, 1)),
            "progress": lambda d: scalar(d, st.sampled_from([False, None]),  # no bars
                                         lambda v: v is None or v is False),
            "init": init_draw})

    @target("predict", 90)
    def _(data):
        Z = z_array(data)
        arch = data.draw(st.sampled_from(ARCHS))
        D = Z.shape[1] - 1
        params = sgphys.attention.ARCHITECTURES[arch].init(D, np.random.default_rng(0))

        def params_draw(d):
            which = pick(d, ["ok"], ["key", "shape", "junk", "value"])
            if which == "ok":
                return params
            if which == "key":
                return Bad({"foo": np.zeros(3)}, "unknown key")
            if which == "shape":
                k = d.draw(st.sampled_from(sorted(params)))
                return Bad({**params, k: np.zeros(2)}, "shape")
            if which == "value":
                k = d.draw(st.sampled_from(sorted(params)))
                v = array_variant(d, params[k])
                return Bad({**params, k: v.value}, "value") if isinstance(v, Bad) else {**params, k: v}
            return Bad(d.draw(st.sampled_from(JUNK)), "junk params")
        return sgphys.predict, one_bad(data, {
            "params": params_draw, "Z": lambda d: array_variant(d, Z, free_rows=True),
            "arch": lambda d: scalar(d, st.just(arch), lambda v: v in ARCHS and v == arch)})

    # -- observables ---------------------------------------------------------------------------

    @target("contrast_ratio", 120)
    def _(data):
        D = data.draw(st.integers(1, 4))
        W = np.random.default_rng(data.draw(st.integers(0, 100))).standard_normal((D + 1, D + 1))
        W *= data.draw(st.sampled_from([1.0, 1e307, 1e-308, 5e-324]))
        return sgphys.contrast_ratio, one_bad(data, {"W": lambda d: array_variant(d, W),
                                                    "block": choice_arg(("full", "w11"))})

    @target("test_error", 90)
    def _(data):
        tasks = data.draw(task_sets())
        W = np.random.default_rng(0).standard_normal((tasks.D + 1, tasks.D + 1))
        return sgphys.test_error, one_bad(data, {"W": lambda d: array_variant(d, W),
                                                "tasks": lambda d: tasks if keep(d) else Bad("tasks", "junk")})

    @target("hessian_spectrum", 60)
    def _(data):
        return sgphys.hessian_spectrum, one_bad(data, {"model": model_arg(gaussian=False)})

    @target("observables.zero_mode_fraction", 90)
    def _(data):
        return sgphys.zero_mode_fraction, one_bad(data, {
            "model": model_arg(gaussian=False), "rtol": real_arg(st.sampled_from([1e-10, 0.5]), lo=0.0),
            "count": choice_arg(("active", "all")),
            "atol": opt(real_arg(st.sampled_from([1e-5, 1.0]), lo=0.0))})

    @target("spectral_density", 90)
    def _(data):
        eig = np.random.default_rng(0).standard_normal((data.draw(st.integers(1, 3)),
                                                        data.draw(st.integers(1, 8))))
        eig *= data.draw(st.sampled_from([1.0, 1e307, 0.0]))  # |z| < 17: finite

        def range_draw(d):
            which = pick(d, ["none", "ok"], ["bad", "bad"])
            if which == "none":
                return None
            if which == "ok":
                return (-1.0, 1.0)
            return Bad(d.draw(st.sampled_from([(1.0, -1.0), (np.nan, 1.0), "x", (1.0,), (0.0, np.inf), 3])), "range")
        return sgphys.spectral_density, one_bad(data, {
            "eigenvalues": lambda d: array_variant(d, eig, free_rows=True), "bins": int_arg(1, 30), "range": range_draw})

    @target("block_statistics", 75)
    def _(data):
        model = data.draw(safe_models(max_D=2))
        return sgphys.block_statistics, one_bad(data, {
            "models_or_model": lambda d: model if keep(d) else Bad(d.draw(st.sampled_from(JUNK[:14])), "junk"),
            "bins": int_arg(1, 20)})

    def _stats(data, D=None):
        D = D or data.draw(st.integers(2, 3))  # D = 2: J3's values are all equal
        tasks = sgphys.sample_tasks(D, 5, data.draw(st.integers(3, 12)), seed=data.draw(st.integers(0, 9)))
        return sgphys.block_statistics(sgphys.SpinModel.from_tasks(tasks, 0.1), bins=8)

    @target("fit_blocks", 60)
    def _(data):
        stats = _stats(data)
        return sgphys.fit_blocks, one_bad(data, {
            "stats": lambda d: stats if keep(d) else Bad(d.draw(st.sampled_from(JUNK[:14])), "junk"),
            "kind": choice_arg(("gaussian", "mixture")), "max_components": int_arg(1, 3)})

    @target("kl_divergence", 60, lambda v: check_result(v, allow_inf=True))  # alpha=0: inf
    def _(data):
        a = _stats(data)
        if data.draw(st.booleans()):  # the same edges: the divergence is defined
            tasks = sgphys.sample_tasks(a.D, 5, data.draw(st.integers(3, 12)), seed=100)
            b = sgphys.block_statistics(sgphys.SpinModel.from_tasks(tasks, 0.1),
                                        bins={k: v.copy() for k, v in a.edges.items()})
        else:
            b = _stats(data)
        return sgphys.kl_divergence, one_bad(data, {
            "stats_a": lambda d: a if keep(d) else Bad(d.draw(st.sampled_from(JUNK[:14])), "junk"),
            "stats_b": lambda d: b if keep(d) else Bad(d.draw(st.sampled_from(JUNK[:14])), "junk"),
            "alpha": real_arg(st.sampled_from([0.5, 0.0, 1e308]), lo=0.0, strict=False)})

    @target("resample_model", 60)
    def _(data):
        fit = sgphys.fit_blocks(_stats(data, D=3))
        return sgphys.resample_model, one_bad(data, {
            "model": model_arg(max_D=2, gaussian=False),
            "fit": lambda d: fit if keep(d) else Bad(d.draw(st.sampled_from([{}, {"J1": 3}, "x", None, {k: 1.0 for k in fit}])), "junk fit"),
            "seed": seed_arg,
            "lam_k": ctx(lambda d, kw: None if d.draw(st.booleans()) else array_variant(
                d, np.ones(kw["model"].n_spins if isinstance(kw.get("model"), sgphys.SpinModel) else 2), positive=True)),
            "split_h1": bool_arg()})

    @target("energy_landscape", 4)
    def _(data):
        return sgphys.energy_landscape, one_bad(data, {
            "model": model_arg(max_D=1, gaussian=False), "n_samples": int_arg(5, 8), "seed": seed_arg,
            "grid": int_arg(1, 3), "perplexity": real_arg(st.sampled_from([2.0, 30.0]), lo=0.0)})

    # -- theory -----------------------------------------------------------------------------------

    def theory_value(lo=0.0, strict=True, allow_inf=False):
        valid = st.sampled_from([0.5, 1.0, 2.0, 10.0, 1e-3, 1e6] + ([np.inf] if allow_inf else []))

        def ok(v):
            if isinstance(v, (bool, np.bool_, str, bytes)) or v is None:
                return False
            try:
                a = np.asarray(v)
            except Exception:  # noqa: BLE001 - whatever NumPy refuses is not a real array
                return False
            if a.dtype.kind not in "iuf":
                return False
            a = a.astype(float)
            if np.any(np.isnan(a)) or (np.any(np.isinf(a)) and not (allow_inf and np.all(a[np.isinf(a)] > 0))):
                return False
            return bool(np.all(a > lo) if strict else np.all(a >= lo))

        def draw(d):
            if d.draw(st.integers(0, 3)) == 0:  # an array of valid values
                return np.array(d.draw(st.lists(valid, min_size=1, max_size=3)))
            return scalar(d, valid, ok)
        return draw

    def theory_check(value):
        check_result(value, allow_inf=True, allow_nan=True)  # inf/NaN at tau == 1 (documented)

    for _name, _fn, _spec in (
            ("icl_error", theory.icl_error, dict(alpha=theory_value(), tau=theory_value(), kappa=theory_value(allow_inf=True),
                                                 rho=theory_value(strict=False), lam=theory_value(strict=False))),
            ("idg_error", theory.idg_error, dict(alpha=theory_value(), tau=theory_value(), kappa=theory_value(allow_inf=True),
                                                 rho=theory_value(strict=False))),
            ("task_diversity_gap", theory.task_diversity_gap, dict(alpha=theory_value(), tau=theory_value(),
                                                                   kappa=theory_value(allow_inf=True), rho=theory_value(strict=False))),
            ("m_kappa", theory.m_kappa, None), ("m_kappa_prime", theory.m_kappa_prime, None)):
        def _make(fn, spec):
            def draw(data):
                if spec is None:
                    import inspect

                    names = list(inspect.signature(fn).parameters)
                    s = {names[0]: theory_value(strict=False), names[1]: theory_value(allow_inf=True)}
                else:
                    s = spec
                return fn, one_bad(data, s)
            return draw
        target(_name, 90, theory_check)(_make(_fn, _spec))

    @target("theory_params", 90, lambda v: check_result(v, allow_inf=True))  # kappa = inf
    def _(data):
        return theory.theory_params, one_bad(data, {
            "D": int_arg(1, 5), "N": int_arg(1, 5), "P": int_arg(1, 50),
            "lam": real_arg(st.sampled_from([0.0, 0.1]), lo=0.0, strict=False),
            "noise": real_arg(st.sampled_from([0.0, 0.1]), lo=0.0, strict=False),
            "n_tasks": opt(int_arg(1, 5))})

    @target("theory.zero_mode_fraction", 90)
    def _(data):
        def p_ok(v):  # a positive integer, or an array of integral values >= 1
            if is_int(v):
                return True
            if isinstance(v, (bool, np.bool_, str, bytes)) or v is None:
                return False
            try:
                a = np.asarray(v)
            except Exception:  # noqa: BLE001
                return False
            if a.dtype.kind not in "iuf" or not np.all(np.isfinite(a)):
                return False
            return bool(np.all(a == np.round(a)) and np.all(a >= 1))
        return theory.zero_mode_fraction, one_bad(data, {
            "D": int_arg(1, 5), "P": lambda d: scalar(d, st.integers(1, 50), p_ok)})

    @target("theory_test_error", 90)
    def _(data):
        return sgphys.theory_test_error, one_bad(data, {"N": theory_value(lo=1.0, strict=False), "D": int_arg(1, 5)})

    # -- baselines --------------------------------------------------------------------------------

    @target("ridge_predict", 90)
    def _(data):
        Z = z_array(data)
        return baselines.ridge_predict, one_bad(data, {
            "prompts": lambda d: array_variant(d, Z, free_rows=True),
            "noise": opt(real_arg(st.sampled_from([0.0, 0.1, 1e308]), lo=0.0, strict=False)),
            "sigma_w": opt(real_arg(st.sampled_from([1.0, 1e-300]), lo=0.0)),
            "return_var": bool_arg()})

    @target("dmmse_predict", 90)
    def _(data):
        Z = z_array(data)
        pool = np.random.default_rng(0).standard_normal((data.draw(st.integers(1, 4)), Z.shape[1] - 1))
        return baselines.dmmse_predict, one_bad(data, {
            "prompts": lambda d: array_variant(d, Z, free_rows=True),
            "pool": lambda d: array_variant(d, pool, free_rows=True),
            "noise": real_arg(st.sampled_from([0.0, 0.1, 1e-300, 1e308]), lo=0.0, strict=False),
            "return_weights": bool_arg()})

    @target("mean_squared_error", 60)
    def _(data):
        p = np.random.default_rng(0).standard_normal(data.draw(st.integers(1, 5)))
        return baselines.mean_squared_error, one_bad(data, {
            "predictions": lambda d: array_variant(d, p), "targets": lambda d: array_variant(d, p + 1)})

    # -- priors --------------------------------------------------------------------------------------

    @target("prior constructors", 120)
    def _(data):
        cls = data.draw(st.sampled_from([sgphys.Gaussian, sgphys.Laplace, sgphys.Binary, sgphys.Ternary]))
        def fn(**kw):
            p = cls(**kw)
            out = p.to_attrs()
            if p.discrete:
                out = (out, p.support(), p.weights())
            return out
        spec = {sgphys.Gaussian: {"lam": real_arg(st.sampled_from([0.0, 1.0, 1e308]), lo=0.0, strict=False)},
                sgphys.Laplace: {"lam1": real_arg(st.sampled_from([0.1, 1e308]), lo=0.0)},
                sgphys.Binary: {"a": real_arg(st.sampled_from([1.0, 5e-324, 1e308]), lo=0.0)},
                sgphys.Ternary: {"a": real_arg(st.sampled_from([1.0, 1e308]), lo=0.0),
                                 "p0": real_arg(st.sampled_from([0.0, 0.5]), lo=0.0, strict=False, hi=1.0)}}[cls]
        return fn, one_bad(data, spec)

    @target("prior.denoise", 180)
    def _(data):
        p = data.draw(prior_instances())
        shape = data.draw(st.sampled_from([(), (3,), (2, 2)]))
        rng = np.random.default_rng(data.draw(st.integers(0, 100)))
        A = np.abs(rng.standard_normal(shape)) + 0.1
        B = rng.standard_normal(shape) * data.draw(st.sampled_from([1.0, 1e6, 1e300]))
        return p.denoise, one_bad(data, {"A": lambda d: array_variant(d, A, positive=True, shapes=False),
                                         "B": lambda d: array_variant(d, B, shapes=False), "beta": betas})

    @target("get_prior", 60)
    def _(data):
        spec = data.draw(st.sampled_from([None, "binary", "ternary", "gaussian", "laplace", "foo",
                                          {"name": "laplace", "lam1": 0.1}, {"name": "laplace"},
                                          {"prior": "binary", "prior_a": "x"}, {"name": "binary", "b": 1},
                                          3, [], sgphys.Binary(1.0)]))
        return priors.get_prior, {"spec": spec}

    # -- discrete ---------------------------------------------------------------------------------------

    @target("solve_enumerate", 120)
    def _(data):
        model = data.draw(prior_models(discrete_only=True))
        return discrete.solve_enumerate, one_bad(data, {
            "model": lambda d: model if keep(d) else Bad(d.draw(st.sampled_from(JUNK[:14])), "junk"),
            "beta": betas,
            "max_states": opt(int_arg(1, 10 ** 6))})

    @target("sample_gibbs", 120, lambda v: check_result(v, allow_inf=True))  # documented rhat inf
    def _(data):
        model = data.draw(prior_models())

        def betas_draw(d):
            which = pick(d, ["none", "ladder"], ["bad", "bad"])
            if which == "none":
                return None
            if which == "ladder":
                return ctx_ladder
            return Bad(d.draw(st.sampled_from(["x", [np.nan, 1.0], [[1.0]], [], [-1.0, 1.0], 3j])), "betas")
        ctx_ladder = "LADDER"
        kw = one_bad(data, {
            "model": lambda d: model if keep(d) else Bad(d.draw(st.sampled_from(JUNK[:14])), "junk"),
            "beta": real_arg(st.sampled_from([1.0, 10.0, 1e-3]), lo=0.0),
            "n_sweeps": int_arg(16, 40), "n_chains": int_arg(1, 3), "seed": seed_arg,
            "burn": opt(int_arg(0, 8, minimum=0)),
            "betas": betas_draw})
        if kw.get("betas") == ctx_ladder:
            b = kw["beta"]
            kw["betas"] = [0.5 * b, b] if is_real(b, 0.0) else None
        return discrete.sample_gibbs, kw

    @target("ess_rhat", 90, lambda v: check_result(v, allow_inf=True))  # rhat inf: documented
    def _(data):
        shape = data.draw(st.sampled_from([(2, 8, 1), (1, 9, 1), (3, 10, 2), (2, 16, 1)]))
        tr = np.random.default_rng(0).standard_normal(shape) * data.draw(st.sampled_from([1.0, 0.0, 1e308, 1e-300]))
        return discrete.ess_rhat, one_bad(data, {"trace": lambda d: array_variant(d, tr, free_rows=True)})

    @target("energy0", 60)
    def _(data):
        model = data.draw(safe_models())
        s = np.random.default_rng(0).standard_normal(model.n_spins)
        return discrete.energy0, one_bad(data, {"model": lambda d: model, "s": lambda d: array_variant(d, s)})

    def states_result(value):
        assert isinstance(value, list), type(value)
        for k, r in enumerate(value):
            assert r.converged, r
            check_result(r, f"result[{k}]")
        f = [r.free_energy for r in value if math.isfinite(r.free_energy)]
        assert f == sorted(f), f

    @target("find_states", 60, states_result)
    def _(data):
        model = data.draw(prior_models())
        return sgphys.find_states, one_bad(data, {
            "model": lambda d: model if keep(d) else Bad(d.draw(st.sampled_from(JUNK[:14])), "junk"),
            "beta": betas, "solver": choice_arg(("tap", "rbp")), "seed": seed_arg,
            "n_random": int_arg(0, 2, minimum=0), "max_iter": int_arg(1, 40),
            "distinct": real_arg(st.sampled_from([1e-6, 1e-2]), lo=0.0)})

    @target("FactoredModel", 90)
    def _(data):
        from sgphys.factored import task_factors

        D = data.draw(st.integers(1, 3), label="D")
        tasks = sgphys.sample_tasks(D, 6, data.draw(st.integers(1, 40), label="P"), seed=0)
        a, b, y = task_factors(tasks)
        return sgphys.FactoredModel.from_factors, one_bad(data, {
            "a": lambda d: array_variant(d, a, shapes=False),
            "b": lambda d: array_variant(d, b, shapes=False),
            "y": lambda d: array_variant(d, y, shapes=False),
            "lam": real_arg(st.sampled_from([0.0, 0.1, 1.0]), lo=0.0, strict=False)})

    @target("list_experiments", 1)
    def _(data):
        return sgphys.list_experiments, {}

    @target("warmup", 3)
    def _(data):
        return sgphys.warmup, one_bad(data, {"verbose": bool_arg()})

    # -- files and experiments: hostile paths, number types, memory, damaged files --------------

    import socket
    import stat
    import tempfile

    import xarray as xr

    from sgphys import _validate, io
    from sgphys.sweep import PointStore

    SANDBOX = tempfile.mkdtemp(prefix="sgphys-fuzz-")
    _SOCK = socket.socket(socket.AF_UNIX)
    _SOCK.bind(os.path.join(SANDBOX, "socket"))
    os.mkfifo(os.path.join(SANDBOX, "fifo"))
    os.mkdir(os.path.join(SANDBOX, "dir"))
    with open(os.path.join(SANDBOX, "regular.nc"), "wb") as _f:
        _f.write(b"old")
    for _name in ("fifo", "socket", "dir", "regular.nc", "nowhere"):
        os.symlink(os.path.join(SANDBOX, _name), os.path.join(SANDBOX, "link-" + _name))
    os.symlink(os.path.join(SANDBOX, "link-regular.nc"), os.path.join(SANDBOX, "link-link"))
    PATH_NAMES = ["fifo", "socket", "dir", "regular.nc", "new.nc", "sub/new.nc", "link-fifo",
                  "link-socket", "link-dir", "link-regular.nc", "link-nowhere", "link-link",
                  "regular.nc/x.nc", "dir/", "new/", "/dev/null", "/dev/zero", "/", ""]
    PATH_JUNK = [3, None, 2.5, True, b"", ["x.nc"], "a\0b", object()]

    def path_ok(p):
        """Independent judgement of an output path: str (or bytes/PathLike of one),
        non-empty, no NUL; it does not exist (its nearest existing ancestor a directory)
        or it is a regular file, or a link whose final target is one."""
        if isinstance(p, (bool, int, float)) or p is None:
            return False
        try:
            p = os.fsdecode(os.fspath(p))
        except TypeError:
            return False
        if not p or "\0" in p or p.endswith(os.sep):  # a file's path, not a folder's
            return False
        if not os.path.lexists(p):
            parent = os.path.dirname(os.path.abspath(p))
            while not os.path.lexists(parent):
                parent = os.path.dirname(parent)
            return os.path.isdir(parent)
        try:
            return stat.S_ISREG(os.stat(p).st_mode)  # follows links; dangling: OSError
        except OSError:
            return False

    def path_arg(data):
        if ALLOW_JUNK[0] and data.draw(st.booleans()):
            v = data.draw(st.sampled_from(PATH_JUNK))
        else:
            name = data.draw(st.sampled_from(PATH_NAMES if ALLOW_JUNK[0] else
                                             ["regular.nc", "new.nc", "sub/new.nc",
                                              "link-regular.nc", "link-link"]))
            v = name if name.startswith("/") or not name else os.path.join(SANDBOX, name)
            if data.draw(st.booleans()):
                from pathlib import Path

                v = Path(v) if v else v
        return v if path_ok(v) else Bad(v, "not a writable file path")

    def kinds():
        return {n: stat.S_IFMT(os.lstat(os.path.join(SANDBOX, n)).st_mode)
                for n in os.listdir(SANDBOX)}

    SPECIAL = kinds()

    def untouched_specials(value=None):
        """Nothing special in the sandbox was replaced or removed (a link stays a link)."""
        now = kinds()
        for n, k in SPECIAL.items():
            assert now.get(n) == k, f"{n} changed: {SPECIAL.get(n)} -> {now.get(n)}"

    @target("io.check_output_path", 150, untouched_specials)
    def _(data):
        def fn(out):
            got = io.check_output_path("out", out)
            assert isinstance(got, str) and (not os.path.lexists(got)
                                             or stat.S_ISREG(os.lstat(got).st_mode)), got
            return got
        return fn, one_bad(data, {"out": path_arg})

    SMALL = xr.Dataset({"x": (("a", "b"), np.arange(6.0).reshape(3, 2),
                              {"long_name": "x", "units": "1"}),
                        "s": ("a", np.array(["", "é", "abc"]),
                              {"long_name": "label", "units": "1"})},
                       coords={"a": ("a", np.arange(3), {"long_name": "a", "units": "1"}),
                               "b": ("b", ["u", "v"], {"long_name": "b", "units": "1"})},
                       attrs={"experiment": "fuzz", "parameters": "{}"})

    def saved_and_verified(path):
        back = io.load(path)
        assert io.verify(back) is None
        np.testing.assert_array_equal(back.x.values, SMALL.x.values)
        assert [str(v) for v in back.s.values] == ["", "é", "abc"]
        untouched_specials()

    @target("io.save", 60, lambda v: None)
    def _(data):
        def fn(path):
            written = io.save(SMALL, path)
            saved_and_verified(written)
            return written
        return fn, one_bad(data, {"path": path_arg})

    def number_variant(data, v, kind):
        """``v`` as a Python, NumPy or 0-d array number of the same value (all valid)."""
        conv = data.draw(st.sampled_from(["python", "numpy", "0d", "np32"]))
        if conv == "python":
            return v
        if kind == "i":
            return {"numpy": np.int64, "0d": lambda x: np.array(x, dtype=np.int16),
                    "np32": np.uint32}[conv](v)
        return {"numpy": np.float64, "0d": np.array, "np32": np.float32}[conv](v)

    def exp_int(lo, hi, big=()):
        """An integer parameter of an experiment: valid values in any number type; bad
        ones from the junk list or ``big`` (beyond the memory limit)."""
        def draw(d):
            if ALLOW_JUNK[0] and d.draw(st.booleans()):
                v = d.draw(st.sampled_from(list(big) + JUNK))
                return v if is_int(v) and v <= hi else Bad(v, "junk or too large")
            return number_variant(d, d.draw(st.integers(lo, hi)), "i")
        return draw

    def exp_list(lo, hi, big=()):
        def draw(d):
            if ALLOW_JUNK[0] and d.draw(st.booleans()):
                v = d.draw(st.sampled_from([[b] for b in big] + [[], [2, 2], ["2"], [2.5],
                                                                  [True], [-1], None]))
                return Bad(v, "bad list")
            vals = d.draw(st.lists(st.integers(lo, hi), min_size=1, max_size=2, unique=True))
            form = d.draw(st.sampled_from(["list", "array", "tuple", "scalar"]))
            if form == "array":
                return np.array(vals)
            if form == "tuple":
                return tuple(number_variant(d, v, "i") for v in vals)
            if form == "scalar":
                return number_variant(d, vals[0], "i")
            return [number_variant(d, v, "i") for v in vals]
        return draw

    def exp_real(lo, hi):
        def draw(d):
            if ALLOW_JUNK[0] and d.draw(st.booleans()):
                v = d.draw(st.sampled_from(JUNK))
                return v if is_real(v, lo, strict=False) else Bad(v, "junk")
            return number_variant(d, d.draw(st.sampled_from([lo, 0.5 * (lo + hi), hi])), "f")
        return draw

    LIMIT = 2 ** 30  # the memory limit of these targets (the machine's may be anything)

    def with_limit(fn):
        def call(**kw):
            old = _validate.MAX_MEMORY
            _validate.MAX_MEMORY = LIMIT
            try:
                return fn(**kw)
            finally:
                _validate.MAX_MEMORY = old
        return call

    def stored_values_right(ds):
        """A computed point stores n_spins = D(D+1) finite eigenvalues and NaN padding up to
        the largest D's; a failed one its message; the Dataset its valid checksum."""
        for D in ds.D.values:
            n = int(D) * (int(D) + 1)
            ok = ds.status.sel(D=D).values == 1
            eig = ds.eigenvalues.sel(D=D).values[ok]
            assert np.isfinite(eig[..., :n]).all() and np.isnan(eig[..., n:]).all()
            assert all(str(e) for e in ds.error.sel(D=D).values[~ok])
        assert io.verify(ds) is None

    @target("run_experiment[numbers, memory]", 60, stored_values_right)
    def _(data):
        return with_limit(lambda **kw: sgphys.run_experiment("hessian", **kw)), one_bad(data, {
            "D": exp_list(1, 3, big=[20000, 10 ** 5, 10 ** 7]), "P": exp_list(2, 6),
            "N": exp_int(2, 10, big=[10 ** 12]), "seeds": exp_int(1, 2, big=[10 ** 12]),
            "bins": exp_int(1, 10, big=[10 ** 11]), "lam": exp_real(0.0, 1.0),
            "workers": exp_int(1, 1)})

    @target("run_experiment[out]", 30, lambda ds: untouched_specials())
    def _(data):
        return (lambda **kw: sgphys.run_experiment("hessian", D=[2], P=[3], seeds=1, N=5, **kw),
                one_bad(data, {"out": lambda d: (lambda v: None if isinstance(v, Bad) and v.value
                                                 is None else v)(path_arg(d))}))  # None: no file

    def damaged_copy(data, raw, suffix):
        """``raw`` with 1 to 64 bytes flipped at a drawn offset, written to a fresh file."""
        offset = data.draw(st.integers(0, len(raw) - 1), label="offset")
        n = data.draw(st.integers(1, 64), label="bytes")
        mask = data.draw(st.sampled_from([0xFF, 0x01, 0x80]), label="mask")
        b = bytearray(raw)
        b[offset:offset + n] = bytes(x ^ mask for x in b[offset:offset + n])
        fd, path = tempfile.mkstemp(suffix=suffix, dir=SANDBOX)
        with os.fdopen(fd, "wb") as f:
            f.write(bytes(b))
        return path

    _NC = os.path.join(SANDBOX, "small.nc")
    io.save(SMALL, _NC)
    with open(_NC, "rb") as _f:
        NC_BYTES = _f.read()

    def damaged_netcdf_checked(value):
        """A damaged file either fails (ValueError: unreadable), fails its checksum, or
        reads back the original values: never different values with a valid checksum."""
        back, problem = value
        if problem is None:
            np.testing.assert_array_equal(back.x.values, SMALL.x.values)
            assert [str(v) for v in back.s.values] == ["", "é", "abc"]
            assert [str(v) for v in back.b.values] == ["u", "v"]
            np.testing.assert_array_equal(back.a.values, SMALL.a.values)
        else:
            assert problem == "checksum mismatch", problem

    @target("io.verify[damaged netCDF]", 120, damaged_netcdf_checked)
    def _(data):
        path = damaged_copy(data, NC_BYTES, ".nc")

        def fn():
            try:
                back = io.load(path)
                return back, io.verify(back)
            finally:
                os.unlink(path)
        return fn, {}

    _STORE = PointStore(os.path.join(SANDBOX, "store"))
    _RESULT = {"x": np.linspace(0.0, 1.0, 50), "r": np.asarray("converged"),
               "__status__": np.asarray(1)}
    _STORE.put("a" * 20, _RESULT)
    with open(os.path.join(SANDBOX, "store", "a" * 20 + ".npz"), "rb") as _f:
        NPZ_BYTES = _f.read()

    def point_file_checked(got):
        """A damaged point file is refused (None) or gives back exactly what was stored."""
        if got is not None:
            assert set(got) == set(_RESULT), set(got)
            for k, v in _RESULT.items():
                np.testing.assert_array_equal(got[k], v)

    @target("PointStore.get[damaged]", 120, point_file_checked)
    def _(data):
        path = os.path.join(SANDBOX, "store", "a" * 20 + ".npz")
        with open(path, "wb") as f:
            f.write(bytes(bytearray(NPZ_BYTES)))
        tmp = damaged_copy(data, NPZ_BYTES, ".npz")
        os.replace(tmp, path)

        def fn():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = _STORE.get("a" * 20)
            for leftover in os.listdir(os.path.join(SANDBOX, "store")):
                if leftover.endswith(".corrupt"):
                    os.unlink(os.path.join(SANDBOX, "store", leftover))
            return got
        return fn, {}

    import contextlib
    import io as _stdio

    from sgphys import cli

    def cli_checked(value):
        """Exit status 0, 1 or 2; an error (2) is one line on stderr, never a traceback
        (argparse's own usage errors print its usage line too)."""
        code, err, parse_error = value
        assert code in (0, 1, 2), (code, err)
        assert "Traceback" not in err, err
        if code == 2 and not parse_error:
            assert len(err.strip().splitlines()) == 1, err
        untouched_specials()

    SET_VALUES = ["D=[2]", "P=[3]", "seeds=1", "N=5", "D=[20000]", "D=[1e9]", "P=[3,3]",
                  "seeds=0", "lam=-1", "bins=1e12", "bins=100000000000", "D=", "=3", "D=[2",
                  "gamma=1", "N=\"x\"", "lam=NaN", "seeds=1.0", "N=[5]"]

    @target("cli.main", 40, cli_checked)
    def _(data):
        cmd = data.draw(st.sampled_from(["run", "info", "list"]))
        if cmd == "list":
            argv = ["list"] + data.draw(st.lists(st.sampled_from(
                ["hessian", "fig9", "phase_diagram", "--x", ""]), max_size=2))
        elif cmd == "info":
            name = data.draw(st.sampled_from(PATH_NAMES + ["small.nc"]))
            argv = ["info", name if name.startswith("/") or not name
                    else os.path.join(SANDBOX, name)]
        else:
            sets = ["D=[2]", "P=[3]", "seeds=1", "N=5"] + data.draw(
                st.lists(st.sampled_from(SET_VALUES), max_size=2))
            name = data.draw(st.sampled_from(PATH_NAMES))
            argv = ["run", "hessian", "--no-progress", "--out",
                    name if name.startswith("/") or not name else os.path.join(SANDBOX, name)]
            for item in sets:
                argv += ["--set", item]

        def fn():
            err = _stdio.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(_stdio.StringIO()):
                try:
                    code, parse_error = cli.main(argv), False
                except SystemExit as exc:  # argparse: usage errors
                    code, parse_error = exc.code, True
            return code, err.getvalue(), parse_error
        return fn, {}

    # -- the loop ------------------------------------------------------------------------------------------

    def bad_names(kwargs):
        """(parameter name, Bad) pairs; values unwrapped in place."""
        out = []
        for k, v in list(kwargs.items()):
            if isinstance(v, Bad):
                out.append((k, v))
                kwargs[k] = v.value
        return out

    ALIASES = {"x": ("s", "W"), "s": ("s",), "models_or_model": ("models_or_model", "model"),
               "stats": ("stats",), "prompts": ("prompts",), "sampler": ("sampler",),
               "tasks": ("tasks",), "trace": ("trace",)}

    def run_target(name):
        n, build, check = TARGETS[name]

        # no shrinking: the first failing input is reported as drawn (in the message)
        @settings(max_examples=n, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), print_blob=False,
                  phases=(Phase.explicit, Phase.generate), report_multiple_bugs=False)
        @given(st.data())
        def prop(data):
            built = build(data)
            if built is None:
                return
            fn, kwargs = built
            bad = bad_names(kwargs)
            COUNT[0] += 1
            tally = OUTCOMES.setdefault(name, [0, 0, 0])
            desc = f"{name}({', '.join(f'{k}={_short(v)}' for k, v in kwargs.items())})"
            try:
                result = fn(**kwargs)
            except (ValueError, TypeError) as exc:
                msg = str(exc)
                if bad:
                    pname, b = bad[0]
                    names = ALIASES.get(pname, (pname,))
                    assert any(nm in msg for nm in names), \
                        f"{desc}: bad {pname} ({b.why}) rejected without naming it: {type(exc).__name__}: {msg}"
                else:
                    assert isinstance(exc, ValueError), f"{desc}: valid input raised {type(exc).__name__}: {msg}"
                tally[2 if bad else 1] += 1
                return
            except Exception as exc:
                raise AssertionError(f"{desc}: raised {type(exc).__name__}: {exc}") from exc
            assert not bad, f"{desc}: bad {bad[0][0]} ({bad[0][1].why}) accepted"
            tally[0] += 1
            try:
                check(result)
            except AssertionError as exc:
                raise AssertionError(f"{desc}: {exc}") from None

        prop()

    def main(names):
        failures = []
        t0 = time.perf_counter()
        for name in names:
            t = time.perf_counter()
            before = COUNT[0]
            try:
                run_target(name)
                status = "ok"
            except Exception as exc:  # noqa: BLE001
                status = "FAILED"
                failures.append((name, exc))
            ok, raised, rejected = OUTCOMES.get(name, [0, 0, 0])
            print(f"{name}: {COUNT[0] - before} inputs ({ok} returned, {raised} valid raised, "
                  f"{rejected} bad rejected), {time.perf_counter() - t:.1f} s, {status}",
                  flush=True)
        print(f"fuzzed inputs: {COUNT[0]}")
        print(f"total time: {time.perf_counter() - t0:.1f} s")
        for name, exc in failures:
            print(f"\n=== {name} ===\n{type(exc).__name__}: {exc}")
        return 1 if failures else 0

    #: public names not fuzzed: a plain record the solvers fill (the experiment runner is
    #: fuzzed on its cheapest experiment, the Hessian spectrum of tiny models)
    NOT_FUZZED = {"Marginals"}
    ALSO_COVERED = {"zero_mode_fraction": "observables.zero_mode_fraction",
                    "run_experiment": "run_experiment[numbers, memory]"}
    public = {name for name in sgphys.__all__ if callable(getattr(sgphys, name))}
    missing = sorted(name for name in public - NOT_FUZZED
                     if name not in TARGETS and name not in ALSO_COVERED
                     and not (isinstance(getattr(sgphys, name), type)
                              and issubclass(getattr(sgphys, name), priors._Prior)))
    if missing:
        print(f"public functions without a fuzz target: {missing}")
        sys.exit(1)

    sgphys.solve_amp(sgphys.SpinModel.from_tasks(sgphys.sample_tasks(1, 2, 3), 0.5), 1.0)
    selected = sys.argv[1:] or list(TARGETS)
    sys.exit(main(selected))
