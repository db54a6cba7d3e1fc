"""Why an iterative solver stopped: the codes every kernel returns and their names.

Plain constants (no numba), so the API can name reasons without loading any kernel.
``REASONS[code]`` is the string stored in ``Marginals.reason`` and in the netCDF files.
"""

CONVERGED, MAX_ITER, NONPOSITIVE, BLOWUP = 0, 1, 2, 3
REASONS = ("converged", "max_iter", "nonpositive_precision", "blowup")
