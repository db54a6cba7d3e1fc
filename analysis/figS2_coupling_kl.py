"""Fig. S2: KL divergence of each block's distribution between N and the next N.

Usage: python analysis/figS2_coupling_kl.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.figS2_coupling_kl.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import figS2_coupling_kl
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(figS2_coupling_kl, root=Path(__file__).resolve().parents[1])
