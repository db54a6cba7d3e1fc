"""Fig. S1: merged vs separated training: learning curves at the smallest and largest data
density and the test error against alpha = P/D^2 (double descent); below, the trained
weight matrices of both schemes at the end of (a) and (c).

Usage: python analysis/figS1_separated.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.figS1_separated.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import figS1_separated
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(figS1_separated, root=Path(__file__).resolve().parents[1])
