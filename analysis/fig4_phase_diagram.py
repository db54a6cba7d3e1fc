"""Fig. 4a: contrast ratio of the AMP weights over task diversity P and prompt length N, non-
converged cells marked and the converged fraction shown; optionally the published grid.

Usage: python analysis/fig4_phase_diagram.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.fig4_phase_diagram.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import fig4_phase_diagram
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(fig4_phase_diagram, root=Path(__file__).resolve().parents[1])
