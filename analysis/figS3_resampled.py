"""Fig. S3: couplings and fields resampled from fitted distributions, and AMP's mean and
variance matrices on the resampled model. Top: one fit per block (the diagonal structure of
h1 is lost, and with it that of W). Bottom: the same couplings, with the W11-diagonal fields
of h1 fitted apart, which the paper's 'AMP still captures the diagonal structure' needs;
left, the data-built model's AMP mean for comparison. rho11: W11 contrast ratio.

Usage: python analysis/figS3_resampled.py [DATA.nc] [--out PNG] [--reference] [--pdf]
(defaults: this repository's data/ and figures/ folders).

The drawing code is `sgphys.figures.figS3_resampled.plot(ds, out, reference, pdf)`; to change the
figure, copy this script and call your own function on `sgphys.io.load(path)` instead.
"""

from pathlib import Path

from sgphys.figures import figS3_resampled
from sgphys.figures._style import script_main

if __name__ == "__main__":
    script_main(figS3_resampled, root=Path(__file__).resolve().parents[1])
