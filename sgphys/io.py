"""netCDF storage of experiment Datasets (SPEC section 7).

Files are written with ``engine="netcdf4"`` to a temporary file in the destination
directory, flushed to disk and renamed over the target, so a reader never sees a partial
file and an interrupted write leaves the previous file intact.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile

import numpy as np

from ._version import __version__

__all__ = ["save", "load", "provenance", "check_labels", "json_default"]

REFERENCES = "arXiv:2408.02288 (Li, Bai, Huang, Spin glass model of in-context learning, Phys. Rev. E 2025)"


def check_labels(ds):
    """Raise ValueError unless every variable and coordinate has long_name and units."""
    missing = [name for name in list(ds.data_vars) + list(ds.coords)
               if not {"long_name", "units"} <= set(ds[name].attrs)]
    if missing:
        raise ValueError(f"variables without long_name/units: {missing}")


def provenance(experiment, preset, params, solvers=(), seeds=None, title=None, extra=None):
    """Global attributes: title, source, history, references, experiment, preset, solver
    variants, the parameters as JSON and the seeds."""
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    attrs = {
        "title": title or f"sgphys experiment {experiment}",
        "source": f"sgphys {__version__}",
        "history": f"{now} created by sgphys.run_experiment({experiment!r}, preset={preset!r})",
        "references": REFERENCES,
        "experiment": experiment,
        "preset": preset,
        "solvers": ",".join(solvers),
        "parameters": json.dumps(params, sort_keys=True, default=json_default),
        "seeds": int(seeds) if seeds is not None else -1,
    }
    if extra:
        attrs.update(extra)
    return attrs


def json_default(x):
    """``json.dumps`` fallback for numpy scalars and arrays (TypeError for anything else)."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _encodable(ds):
    """Booleans as int8; attributes as str/number/array (dicts and lists as JSON)."""
    ds = ds.copy()
    for name in list(ds.data_vars) + list(ds.coords):
        if ds[name].dtype == bool:
            ds[name] = ds[name].astype(np.int8)
    for obj in [ds] + [ds[n] for n in list(ds.data_vars) + list(ds.coords)]:
        for k, v in list(obj.attrs.items()):
            if isinstance(v, bool):
                obj.attrs[k] = int(v)
            elif isinstance(v, (dict, list, tuple)) or v is None:
                obj.attrs[k] = json.dumps(v, default=json_default)
    return ds


def save(ds, path):
    """Write ``ds`` to netCDF atomically (temporary file in the same directory, then
    rename). Every variable and coordinate must carry ``long_name`` and ``units``."""
    check_labels(ds)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    os.close(fd)
    try:
        _encodable(ds).to_netcdf(tmp, engine="netcdf4")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the file normal rights
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load(path):
    """Read a netCDF file fully into memory (the file is closed on return)."""
    import xarray as xr

    path = os.fspath(path)
    if not os.path.exists(path):
        raise ValueError(f"path {path!r} does not exist")
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return ds.load()
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path!r} as netCDF: {exc}") from None
