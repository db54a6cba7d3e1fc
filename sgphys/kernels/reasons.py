"""Why an iterative solver stopped: the codes every kernel returns and their names.

Plain constants (no numba), so the API can name reasons without loading any kernel.
``REASONS[code]`` is the string stored in ``Marginals.reason`` and in the netCDF files.
"""

CONVERGED, MAX_ITER, NONPOSITIVE, BLOWUP = 0, 1, 2, 3
#: full BP only: the grid cuts a marginal off, or cannot resolve a collapsed one
GRID_TRUNCATED, GRID_UNRESOLVED = 4, 5
REASONS = ("converged", "max_iter", "nonpositive_precision", "blowup", "grid_truncated",
           "grid_unresolved")
