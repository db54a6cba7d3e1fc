"""Fig. 1: the field and coupling matrices and the per-block distributions (log scale) with
Gaussian and Gaussian-mixture fits.

Usage: python analysis/fig1_couplings.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.fig1_couplings.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import fig1_couplings
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(fig1_couplings, root=Path(__file__).resolve().parents[1])
