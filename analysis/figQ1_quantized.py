"""Fig. Q1: the ICL phase diagram of quantised weights: W11 contrast ratio and test error
against P for the Gaussian, ternary and binary priors, AMP (TAP) and Gibbs sampling at a
moderate and a large beta (the ground state), the mean weights at the largest P, and the
ICL onset P against N.

Usage: python analysis/figQ1_quantized.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.figQ1_quantized.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import figQ1_quantized
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(figQ1_quantized, root=Path(__file__).resolve().parents[1])
