"""Fig. Th: thermodynamics of the ICL state: free energy, energy and entropy per spin of the
TAP branches (ICL and other), of replica-exchange Gibbs sampling and of the exact Gaussian
solution against P / n_spins, for the Gaussian, ternary and binary priors; and the phase
diagram in (P / n_spins, beta) with the spinodals, the thermodynamic transition and the ICL
onsets.

Usage: python analysis/figTh_thermodynamics.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.figTh_thermodynamics.plot(ds, out, reference, pdf)`; to
change the figure, copy this script and call your own function on `sgphys.io.load(path)`
instead.
"""

from pathlib import Path

from sgphys.figures import figTh_thermodynamics
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(figTh_thermodynamics, root=Path(__file__).resolve().parents[1])
