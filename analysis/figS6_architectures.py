"""Fig. S6: test error against prompt length for several attention architectures, with the spin
solvers' prediction.

Usage: python analysis/figS6_architectures.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.figS6_architectures.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import figS6_architectures
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(figS6_architectures, root=Path(__file__).resolve().parents[1])
