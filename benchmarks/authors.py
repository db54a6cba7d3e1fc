"""The authors' AMP (torch) against sgphys's ``paper`` solver on Fig. 4a points, one thread
each, measured in one run. Optional, not in CI: it needs torch and a copy of the authors'
repository (github.com/yu-hao-Li/spin-glass-model-of-in-context-learning, the code of
arXiv:2408.02288; its ``src`` package is imported from that path, never copied here).

    python benchmarks/authors.py --authors PATH                  # 5 points of the grid
    python benchmarks/authors.py --authors PATH --points 50:500,100:1000 --repeat 1

Run it with an interpreter that has torch and sgphys, e.g. a venv outside the repository:
``python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 scikit-learn
-e .`` (a CPU build of torch is enough; measured with 2.13.0+cpu; an unpinned ``torch`` may
pull a CUDA build of several GB. Their ``src/utils.py`` also
imports scikit-learn, matplotlib and tqdm, the last two sgphys's own dependencies).

Per point (N, P) of the Fig. 4a grid (phase_diagram's paper preset: D = 20, lam = 1,
beta = 100; the ``paper`` solver's damping 0.9, tol 1e-6, at most 100 steps, their values):

- sgphys builds the spin model (``statistics`` sampler, seed ``--seed``) and solves it with
  the ``paper`` solver as the experiment calls it (``sgphys.registry.solve``);
- their ``src.theory.AMP_iteration`` gets the same couplings, fields and ridge (our J, h,
  lam_k as float32 tensors, the precision their code runs in) and the same settings; its
  start is its own (m, v ~ N(0, 1), torch seeded with ``--seed``), ours is m = 0,
  v = 1 / (beta lam_k), so the two stop at different points of the same iteration;
- "data + AMP" runs their Fig. 4a point as ``fig-4/data-a.py`` does: their own data
  (``Dataset("theory", ...).get_field(1)``, (D+1)^2 = 441 spins, their 1/(N+1)
  normalisation) and ``AMP_iteration`` on it; the sgphys counterpart times sampling, model
  and solve. Different random data: only the sizes and settings are shared.
- same start: sgphys's AMP kernel is run from their initial state (the same torch draws)
  on the same inputs; it must take their number of iterations and agree to float32
  rounding. Their loop goes on through non-positive precisions, which some random starts
  meet at the first step; sgphys stops there. The check therefore uses the first torch
  seed from ``--seed`` whose start has positive first-step precisions (printed), and, as
  their start has negative variances, which ``solve_amp(init=...)`` rejects, calls the
  kernel, ``sgphys.kernels.amp.amp_solve``, directly. The check is not timed.

Ratios: their AMP / sgphys's solve (each from its own start: theirs takes about 3 times
the iterations), the same per iteration, and their data + AMP / sgphys's data + solve.
Times are the best of ``--repeat`` calls. Where the authors' AMP diverges (small N or P)
it runs all 100 steps and sgphys stops at the first non-positive precision: such points
are flagged and left out of the medians. OMP/MKL/OpenBLAS/numba threads are set to 1
here, before numpy is imported, and torch to one thread.
"""

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
             "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")  # their utils import pyplot

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _util import table  # noqa: E402

DEFAULT_POINTS = "26:260,50:500,76:760,100:1000,26:1000"


def parse_points(text):
    points = []
    for item in text.split(","):
        try:
            N, P = (int(x) for x in item.split(":"))
        except ValueError:
            raise SystemExit(f"--points: expected N:P pairs separated by commas, got {item!r}")
        if N < 1 or P < 1:
            raise SystemExit(f"--points: N and P must be positive, got {item!r}")
        points.append((N, P))
    return points


def import_torch():
    try:
        import torch
    except ImportError:
        raise SystemExit(
            f"benchmarks/authors.py needs torch, which this interpreter ({sys.executable}) "
            "does not have. Use a separate environment, e.g.\n"
            "  python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch==2.13.0 "
            "scikit-learn matplotlib tqdm -e /path/to/sgphys\n"
            "  /tmp/torchvenv/bin/python benchmarks/authors.py --authors PATH") from None
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set (parallel work has started)
        pass
    return torch


def import_authors(path):
    """``AMP_iteration`` and ``Dataset`` from the authors' ``src`` package at ``path``."""
    path = os.path.abspath(os.path.expanduser(path))
    theory = os.path.join(path, "src", "theory.py")
    if not os.path.isdir(path):
        raise SystemExit(f"--authors: no directory {path}")
    if not (os.path.isfile(theory) and os.path.isfile(os.path.join(path, "src", "dataset.py"))):
        raise SystemExit(f"--authors: {path} is not the authors' repository (no src/theory.py "
                         "and src/dataset.py); give the folder that holds their src/ and fig-4/")
    if "src" in sys.modules:
        raise SystemExit("a module named 'src' is already imported; cannot import the "
                         "authors' src package")
    sys.path.insert(0, path)
    try:
        from src.dataset import Dataset
        from src.theory import AMP_iteration
    except ImportError as exc:
        raise SystemExit(f"importing the authors' code from {path} failed: {exc}\n"
                         "their src/utils.py imports torch, numpy, scipy, scikit-learn, "
                         "matplotlib and tqdm; install the missing one") from None
    finally:
        sys.path.remove(path)
    return AMP_iteration, Dataset


def best(fn, repeat):
    """Best wall time of ``repeat`` calls and the last call's result."""
    t_best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        t_best = min(t_best, time.perf_counter() - t0)
    return t_best, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--authors", required=True, metavar="PATH",
                    help="the authors' repository (the folder holding src/ and fig-4/)")
    ap.add_argument("--points", default=DEFAULT_POINTS, metavar="N:P,...",
                    help=f"(N, P) points of the Fig. 4a grid (default {DEFAULT_POINTS})")
    ap.add_argument("--seed", type=int, default=0, help="data seed (sgphys) and torch seed")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many calls (default 3)")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        raise SystemExit("--repeat must be at least 1")
    points = parse_points(args.points)

    torch = import_torch()
    AMP_iteration, Dataset = import_authors(args.authors)

    import numba

    import sgphys
    from sgphys.experiments.phase_diagram import PAPER
    from sgphys.kernels import amp as K
    from sgphys.registry import solve, solver_kwargs

    numba.set_num_threads(1)
    sgphys.warmup()
    D, lam, beta = PAPER["D"], PAPER["lam"], PAPER["beta"]
    kw = solver_kwargs("paper", PAPER)
    damping, tol, steps = kw["damping"], kw["tol"], kw["max_iter"]
    if tol != 1e-6:  # their loop has 1e-6 built in
        raise SystemExit(f"the paper solver's tol is {tol}, the authors' code has 1e-6")
    cpu = torch.device("cpu")
    grid_N, grid_P = set(PAPER["N"]), set(PAPER["P"])

    def ours_data(N, P):
        model = sgphys.SpinModel.from_tasks(
            sgphys.sample_tasks(D, N, P, seed=args.seed, method=PAPER["sampler"]), lam)
        _ = model.J  # the couplings, built lazily: in the timed part
        return model

    def theirs(J, h, lam_k, seed=args.seed):
        torch.manual_seed(seed)
        return AMP_iteration(J, h, lam_k, beta, damping, steps, cpu, False)

    def initial_state(n, seed):  # AMP_iteration's start: its first two draws after seeding
        torch.manual_seed(seed)
        m0 = torch.normal(0, 1, size=(n,)).double().numpy()
        return m0, torch.normal(0, 1, size=(n,)).double().numpy()

    def same_start_seed(model, tries=100):
        """The first torch seed from --seed whose start has positive first-step
        precisions (sgphys's kernel stops at a non-positive one; their loop goes on)."""
        JJ = model.J * model.J
        for seed in range(args.seed, args.seed + tries):
            _, v0 = initial_state(model.n_spins, seed)
            if np.all(beta * model.lam_k - beta ** 2 * (JJ @ v0) > 0):
                return seed
        return None

    def theirs_point(N, P):  # fig-4/data-a.py's body for one repeat
        torch.manual_seed(args.seed)
        ds = Dataset("theory", cpu, P, D, N, 1.0, 1.0)
        ds.get_field(lam)
        return AMP_iteration(ds.J, ds.h, ds.λ, beta, damping, steps, cpu, False)

    timing, agree, ok = [], [], []
    for N, P in points:
        t_data, model = best(lambda N=N, P=P: ours_data(N, P), args.repeat)
        t_solve, r = best(lambda m=model: solve(m, "paper", PAPER), args.repeat)
        t_all = t_data + t_solve
        n = model.n_spins
        Jt, ht, lt = (torch.tensor(a, dtype=torch.float32)
                      for a in (model.J, model.h, model.lam_k))
        t_th, (m_th, _, it_th, err_th) = best(lambda a=(Jt, ht, lt): theirs(*a), args.repeat)
        m_th = m_th.double().numpy()
        conv_th = err_th <= tol
        t_thp, (_, _, it_thp, err_thp) = best(lambda N=N, P=P: theirs_point(N, P),
                                              args.repeat)

        # sgphys's kernel from their initial state (their first two draws after seeding)
        s_ss, m_ss_th, it_ss_th, conv_ss_th = same_start_seed(model), None, None, None
        if s_ss is not None:
            if s_ss == args.seed:
                m_ss_th, it_ss_th, conv_ss_th = m_th, it_th, conv_th
            else:
                m_, _, it_ss_th, e_ = theirs(Jt, ht, lt, s_ss)
                m_ss_th, conv_ss_th = m_.double().numpy(), e_ <= tol
            m_ss, v_ss = initial_state(n, s_ss)  # iterated in place
            it_ss, _, code_ss = K.amp_solve(model.J, model.h, model.lam_k, beta, m_ss, v_ss,
                                            False, float(damping), tol, steps, True,
                                            np.empty(0), False)
            conv_ss = code_ss == K.CONVERGED

        good = r.converged and conv_th and err_thp <= tol
        per_it = (t_th / it_th) / (t_solve / max(r.n_iter, 1))
        if good:
            ok.append((t_th / t_solve, t_thp / t_all, per_it))
        flag = "" if (N in grid_N and P in grid_P) else " (off grid)"
        if not good:
            flag += " (not converged)"

        def diff(a, b):
            return f"{np.max(np.abs(a - b)):.1e}" if np.all(np.isfinite(a - b)) else "nan"
        timing.append((f"{N}{flag}", P, f"{t_th:.3f} ({it_th} it.)",
                       f"{t_solve * 1e3:.2f} ({r.n_iter} it.)", f"{t_th / t_solve:.0f}",
                       f"{per_it:.0f}", f"{t_thp:.3f} ({it_thp} it.)", f"{t_all * 1e3:.2f}",
                       f"{t_thp / t_all:.0f}"))
        same = (("none in 100 seeds",) + ("-",) * 3 if s_ss is None else
                (s_ss, f"{it_ss_th} / {it_ss}", f"{conv_ss_th} / {conv_ss}",
                 diff(m_ss_th, m_ss)))
        agree.append((N, P, f"{it_th} / {r.n_iter}", f"{conv_th} / {r.converged}",
                      diff(m_th, r.mean), f"{np.max(np.abs(r.mean)):.3f}") + same)

    print(f"D = {D}, lam = {lam}, beta = {beta}; paper solver {kw}; seed {args.seed}; "
          f"best of {args.repeat}; torch {torch.__version__}, {torch.get_num_threads()} "
          f"thread; numba {numba.get_num_threads()} thread\n")
    print("Time per point (their AMP gets sgphys's J, h, lam_k; 'data + AMP' is their "
          "Fig. 4a point on their own data):\n")
    print(table(["N", "P", "their AMP (s)", "sgphys paper solve (ms)", "ratio",
                 "ratio per iteration", "their data + AMP (s)", "sgphys data + solve (ms)",
                 "ratio"], timing))
    print("\nSame inputs (sgphys's J, h, lam_k): their AMP from its own random start and "
          "sgphys's from m = 0, v = 1/(beta lam_k); and sgphys's kernel from their start:\n")
    print(table(["N", "P", "iterations (theirs / sgphys)", "converged (theirs / sgphys)",
                 "max abs mean difference", "max abs mean", "same start: torch seed",
                 "same start: iterations", "same start: converged",
                 "same start: max abs mean difference"], agree))
    if ok:
        med = np.median(np.array(ok), axis=0)
        print(f"\nmedian ratio over the {len(ok)} converged points: AMP {med[0]:.0f}x, "
              f"data + AMP {med[1]:.0f}x, per iteration {med[2]:.0f}x")
    else:
        print("\nno point converged for both codes: no median")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _machine import yardsticks  # noqa: E402

    print(yardsticks(), flush=True)  # the machine beside the times
    main()
