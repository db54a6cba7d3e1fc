"""Fig. T1: exact test error against 1/D at fixed (alpha, tau, lambda), its least-squares
line to 1/D = 0 and the asymptotic theory (Lu et al. PNAS 2025) marked there.

Usage: python analysis/figT1_finite_size.py [DATA.nc] [--out PNG] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.figT1_finite_size.plot(ds, out, reference, pdf)`; to change
the figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import figT1_finite_size
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(figT1_finite_size, root=Path(__file__).resolve().parents[1])
