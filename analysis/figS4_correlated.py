"""Fig. S4: test error against token correlation c for the spin solvers and the trained
transformer, the variance of the query labels (the error of predicting 0) for scale (a);
the standardised distributions of the coupling and field blocks per c (b).

Usage: python analysis/figS4_correlated.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.figS4_correlated.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import figS4_correlated
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(figS4_correlated, root=Path(__file__).resolve().parents[1])
