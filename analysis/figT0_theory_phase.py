"""Fig. T0: the asymptotic test error e_ICL of Lu et al. (PNAS 2025) over alpha = N/D and
tau = P/D^2, interpolation peak tau = 1 marked; theory only (no data file).

Usage: python analysis/figT0_theory_phase.py [--out PNG] [--kappa K] [--rho R] [--lam L] [--pdf]
(default output: this repository's figures/ folder).

The drawing code is `sgphys.figures.figT0_theory_phase.plot_theory(out, kappa, rho, lam, ...)`;
to change the figure, copy this script and call your own function instead.
"""

import argparse
from pathlib import Path

from sgphys.figures import figT0_theory_phase

if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    p = argparse.ArgumentParser(description=figT0_theory_phase.__doc__.strip(),
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", default=str(root / "figures" / "figT0_theory_phase.png"),
                   help="PNG path")
    p.add_argument("--kappa", type=float, default=float("inf"),
                   help="tasks per dimension (inf: a fresh task per prompt)")
    p.add_argument("--rho", type=float, default=0.0, help="label-noise variance")
    p.add_argument("--lam", type=float, default=0.0, help="the theory's ridge lambda")
    p.add_argument("--pdf", action="store_true", help="also write a PDF")
    a = p.parse_args()
    print(figT0_theory_phase.plot_theory(a.out, kappa=a.kappa, rho=a.rho, lam=a.lam,
                                         pdf=a.pdf))
