"""Fig. S5: spectral density of the Hessian (log10 eigenvalues) for a few P (a), and the
fraction of zero modes over (D, P) (b; the paper's inset, drawn as a panel so it hides no
data; stars: the cases of panel a). Zero modes counted over all (D+1)^2 weights in both.

Usage: python analysis/figS5_hessian.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.figS5_hessian.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import figS5_hessian
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(figS5_hessian, root=Path(__file__).resolve().parents[1])
