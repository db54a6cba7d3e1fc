"""Fig. 2: test-loss curves of the trained transformer at several task diversities, the trained
weight matrices, and the AMP mean and variance matrices.

Usage: python analysis/fig2_weights.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.fig2_weights.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import fig2_weights
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(fig2_weights, root=Path(__file__).resolve().parents[1])
