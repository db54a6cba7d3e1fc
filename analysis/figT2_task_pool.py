"""Fig. T2: test error against the number of distinct pretraining tasks K on fresh tasks (ICL)
and pool tasks (IDG), with the Bayes baselines and the theory; W11 contrast ratio and
coupling kurtosis against K.

Usage: python analysis/figT2_task_pool.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.figT2_task_pool.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import figT2_task_pool
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(figT2_task_pool, root=Path(__file__).resolve().parents[1])
