import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


class QuickData:
    """Each experiment's quick preset, run at most once per test session (on first use) and
    stored as netCDF in a temporary folder: what ``sgphys reproduce --preset quick`` writes to
    ``data/``, which the repository does not track."""

    def __init__(self, folder):
        self.folder = folder
        self._datasets = {}

    def dataset(self, name):
        if name not in self._datasets:
            import sgphys

            self._datasets[name] = sgphys.run_experiment(name, preset="quick",
                                                         out=self.folder / f"{name}.nc",
                                                         progress=False)
        return self._datasets[name]

    def path(self, name):
        self.dataset(name)
        return self.folder / f"{name}.nc"


@pytest.fixture(scope="session")
def quick_data(tmp_path_factory):
    """:class:`QuickData` of the session: ``quick_data.path(name)``, ``.dataset(name)``."""
    return QuickData(tmp_path_factory.mktemp("quick_data"))
