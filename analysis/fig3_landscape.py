"""Fig. 3: energy landscape over a t-SNE embedding of random weights, drawn as a surface (blue
= low energy) with its contours and the sampled weights on the floor; the title gives the
ground-state energy (the exact minimum of E) for comparison; one colour scale for all panels.

Usage: python analysis/fig3_landscape.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.fig3_landscape.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import fig3_landscape
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(fig3_landscape, root=Path(__file__).resolve().parents[1])
