"""Fig. 4b: test error against prompt length N: AMP, exact ridge, trained transformer and the
large-P theory (D+1)/(N+D+1); optionally the published points.

Usage: python analysis/fig4b_prompt_length.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.fig4b_prompt_length.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import fig4b_prompt_length
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(fig4b_prompt_length, root=Path(__file__).resolve().parents[1])
