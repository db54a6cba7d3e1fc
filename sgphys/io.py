"""netCDF storage of experiment Datasets (docs/experiments.rst, section Experiments).

Files are written with ``engine="netcdf4"`` to a temporary file in the destination
directory (``.<name>.<8 random characters>.tmp``), flushed to disk and renamed over the
target, so a reader never sees a partial file and an interrupted write leaves the previous
file intact (:func:`remove_leftovers` removes the temporary file a killed write leaves).

File rules (docs/reliability.rst):

* every path the package writes must be a regular file or not exist
  (:func:`check_output_path`); a directory, FIFO, socket or device is refused before any
  work. A symbolic link is followed to its final target, which must be a regular file:
  the target is replaced atomically and the link kept (a dangling link, or one to anything
  but a regular file, is refused);
* files follow the CF-1.11 conventions (``Conventions`` attribute, ``long_name`` and
  ``units`` on every variable, no ``_FillValue`` on coordinates, strings as UTF-8 character
  arrays) and carry a SHA-256 :func:`checksum` of their values and key attributes (global
  attribute ``checksum``), checked by :func:`verify` before a file is reused.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import stat
import tempfile

import numpy as np

from ._version import __version__

__all__ = ["save", "load", "provenance", "check_labels", "json_default", "check_output_path",
           "check_output_dir", "checksum", "verify", "stamp", "remove_leftovers", "CONVENTIONS",
           "KEY_ATTRS"]

REFERENCES = "arXiv:2408.02288 (Li, Bai, Huang, Spin glass model of in-context learning, Phys. Rev. E 2025)"

#: the CF version the files declare in their ``Conventions`` attribute
CONVENTIONS = "CF-1.11"

#: global attributes hashed with the values (:func:`checksum`): a file's own key
KEY_ATTRS = ("experiment", "parameters", "experiment_seed", "code_version", "preset", "seeds")

_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)",
          stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device"}


def _as_path(name, path) -> str:
    """``path`` as a non-empty str (str, bytes or os.PathLike), else ValueError naming
    ``name``."""
    if isinstance(path, (bool, int, float)) or path is None:
        raise ValueError(f"{name} must be a file path (str or os.PathLike), got "
                         f"{type(path).__name__} {path!r}")
    try:
        path = os.fsdecode(os.fspath(path))
    except TypeError:
        raise ValueError(f"{name} must be a file path (str or os.PathLike), got "
                         f"{type(path).__name__}") from None
    if not path or "\0" in path:
        raise ValueError(f"{name} must be a non-empty file path without NUL characters, "
                         f"got {path[:80]!r}")
    return path


def _kind(mode) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _check_ancestor(name, path):
    """The nearest existing ancestor directory of ``path`` must be a directory."""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise ValueError(f"{name}={path!r}: {parent!r} is not a directory")


def check_output_path(name, path) -> str:
    """The path to write for the output parameter ``name`` (ValueError naming it else).

    ``path`` must be a regular file or not exist. A directory, FIFO, socket or device is
    refused (without opening it: nothing is read or written). A symbolic link is followed
    to its final target, which must be an existing regular file; the target's path is
    returned, so writers replace the target atomically and keep the link. A dangling link
    or a link to anything else is refused.

    Parameters
    ----------
    name : str
        Parameter name for the error message (``out``, ``--data``, ...).
    path : str or os.PathLike
        The output path.

    Returns
    -------
    str
        The path to write: ``path`` itself, or the target of a symbolic link.
    """
    path = _as_path(name, path)
    if path.endswith(tuple(sep for sep in (os.sep, os.altsep) if sep)):
        raise ValueError(f"{name}={path!r} ends with a path separator; give a file's path")
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        _check_ancestor(name, path)
        return path
    except OSError as exc:
        raise ValueError(f"{name}={path!r} cannot be inspected ({exc.strerror})") from None
    if stat.S_ISLNK(st.st_mode):
        target = os.path.realpath(path)
        try:
            tst = os.stat(target)
        except OSError:
            raise ValueError(f"{name}={path!r} is a dangling symbolic link (to {target!r}); "
                             "give a regular file's path") from None
        if not stat.S_ISREG(tst.st_mode):
            raise ValueError(f"{name}={path!r} is a symbolic link to {_kind(tst.st_mode)} "
                             f"({target!r}); give a regular file's path")
        return target
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"{name}={path!r} is {_kind(st.st_mode)}; give a regular file's "
                         "path (or one that does not exist)")
    return path


def check_output_dir(name, path) -> str:
    """``path`` if it is a directory (a symbolic link to one included) or does not exist
    (its nearest existing ancestor being a directory), else ValueError naming ``name``."""
    path = _as_path(name, path)
    if os.path.lexists(path):
        if not os.path.isdir(path):
            try:
                kind = _kind(os.stat(path).st_mode)
            except OSError:
                kind = "a dangling symbolic link"
            raise ValueError(f"{name}={path!r} is {kind}, not a directory")
    else:
        _check_ancestor(name, path)
    return path


def _tmp_pattern(path):
    """Names of the temporary files :func:`save` makes for ``path`` (mkstemp's 8
    characters between the prefix and the suffix)."""
    return re.compile(r"\." + re.escape(os.path.basename(path)) + r"\.[a-z0-9_]{8}\.tmp")


def remove_leftovers(path) -> list:
    """Remove the temporary files an interrupted :func:`save` of ``path`` left beside it
    (``.<name>.XXXXXXXX.tmp``, regular files only; nothing else is touched). Call it only
    while holding the output's lock (:class:`sgphys.sweep.OutputLock`): another writer's
    temporary file has the same pattern. Returns the removed paths."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    pattern = _tmp_pattern(path)
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for entry in names:
        if pattern.fullmatch(entry):
            full = os.path.join(directory, entry)
            try:
                if stat.S_ISREG(os.lstat(full).st_mode):
                    os.unlink(full)
                    removed.append(full)
            except OSError:
                pass
    return removed


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


def _canonical_bytes(values) -> bytes:
    """Bytes of an array in a canonical dtype: integers and booleans as little-endian int64,
    floats as little-endian float64 (every NaN as the same NaN), dates as int64, strings as
    length-prefixed UTF-8; so the bytes are the same before writing and after reading."""
    a = np.asarray(values)
    kind = a.dtype.kind
    if kind in "biu":
        return np.ascontiguousarray(a, dtype="<i8").tobytes()
    if kind == "f":
        a = np.array(a, dtype="<f8", order="C")
        a[np.isnan(a)] = np.nan
        return a.tobytes()
    if kind == "c":
        a = np.array(a, dtype="<c16", order="C")
        return a.tobytes()
    if kind in "mM":
        return np.ascontiguousarray(a).view("<i8").tobytes()
    out = []
    for x in a.ravel():  # str and bytes differ (a tag), so undecoded text does not pass
        b = b"b" + x if isinstance(x, bytes) else b"s" + str(x).encode("utf-8",
                                                                      "surrogatepass")
        out.append(len(b).to_bytes(8, "little") + b)
    return b"".join(out)


def checksum(ds) -> str:
    """``"sha256:<hex>"`` of a Dataset's key attributes (:data:`KEY_ATTRS`, as canonical
    JSON) and the values of its variables and coordinates (by name; each variable's name,
    dims, shape and canonical bytes, :func:`_canonical_bytes`). Variable attributes and the
    other global attributes (history, title, ...) are not covered."""
    h = hashlib.sha256()
    for key in KEY_ATTRS:
        if key in ds.attrs:
            h.update(f"{key}=".encode() + json.dumps(ds.attrs[key], sort_keys=True,
                                                     default=json_default).encode() + b"\0")
    for name in sorted(str(n) for n in list(ds.data_vars) + list(ds.coords)):
        var = ds[name]
        h.update(json.dumps([name, list(var.dims), list(var.shape)]).encode() + b"\0")
        h.update(_canonical_bytes(var.values))
    return "sha256:" + h.hexdigest()


def verify(ds):
    """None if ``ds`` carries a ``checksum`` attribute equal to :func:`checksum` of its
    contents, else the reason (``"no checksum"`` or ``"checksum mismatch"``)."""
    stored = ds.attrs.get("checksum")
    if not isinstance(stored, str) or not stored.startswith("sha256:"):
        return "no checksum"
    return None if stored == checksum(ds) else "checksum mismatch"


def stamp(ds):
    """A shallow copy of ``ds`` with the attributes :func:`save` writes: ``Conventions``
    and ``checksum`` (of the values as stored, :func:`_encodable`)."""
    ds = ds.copy()
    ds.attrs["Conventions"] = CONVENTIONS
    ds.attrs.pop("checksum", None)
    ds.attrs["checksum"] = checksum(_encodable(ds))
    return ds


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


def _encoding(ds):
    """netCDF encodings: no ``_FillValue`` on coordinates (CF), strings as UTF-8 character
    arrays (NC_CHAR with a string-length dimension; CF checkers read these, and xarray
    decodes them back to str)."""
    enc = {}
    for name in list(ds.data_vars) + list(ds.coords):
        e = {}
        if name in ds.coords:
            e["_FillValue"] = None
        if ds[name].dtype.kind in "USO":
            e["dtype"] = "S1"
        if e:
            enc[name] = e
    return enc


def save(ds, path):
    """Write ``ds`` to netCDF atomically (temporary file in the same directory, then
    rename) and return the path written.

    Every variable and coordinate must carry ``long_name`` and ``units``. The file declares
    ``Conventions = "CF-1.11"`` and carries :func:`checksum` as the global attribute
    ``checksum``. ``path`` must be a regular file or not exist; a symbolic link to a regular
    file is followed and its target replaced (:func:`check_output_path`).

    Raises
    ------
    ValueError
        ``path`` is not a writable file path, or a variable lacks ``long_name``/``units``
        (checked before anything is written).
    """
    path = check_output_path("path", path)
    check_labels(ds)
    ds = stamp(ds)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    os.close(fd)
    try:
        enc = _encodable(ds)
        enc.to_netcdf(tmp, engine="netcdf4", encoding=_encoding(enc))
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
    """Read a netCDF file fully into memory (the file is closed on return).

    Raises ValueError when ``path`` does not exist, is not a regular file (a FIFO is never
    opened) or is not readable netCDF. The checksum is not checked here (:func:`verify`).
    """
    import xarray as xr

    path = _as_path("path", path)
    if not os.path.exists(path):
        raise ValueError(f"path {path!r} does not exist")
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        raise ValueError(f"path {path!r} is {_kind(mode)}, not a netCDF file")
    try:
        with xr.open_dataset(path, engine="netcdf4") as ds:
            return ds.load()
    except Exception as exc:  # noqa: BLE001 - a damaged file may fail anywhere in the reader
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ValueError(f"cannot read {path!r} as netCDF: {type(exc).__name__}: "
                         f"{msg[:200]}") from None
