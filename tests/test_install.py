"""The package as a user gets it: a wheel installed away from the repository, ``python -m
sgphys``, and scripts that start worker processes without a ``__main__`` guard."""

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

import sgphys

REPO = Path(__file__).resolve().parents[1]
_SKIP_ANYWHERE = shutil.ignore_patterns("*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis")
_SKIP_TOP = {".git", ".venv", "data", "figures", "docs", "build", "dist"}


def SKIP(folder, names):
    """Copy the sources only: no checkout, outputs or caches."""
    skip = set(_SKIP_ANYWHERE(folder, names))
    return skip | (_SKIP_TOP & set(names) if Path(folder) == REPO else set())


def _run(args, cwd, env=None):
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "MPLBACKEND": "Agg", **(env or {})}, timeout=600)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A wheel built from a copy of the sources, installed into a folder of its own."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(REPO, src, ignore=SKIP)
    r = _run(["-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
              str(tmp / "dist"), str(src)], cwd=tmp)
    assert r.returncode == 0, r.stderr
    wheel = next((tmp / "dist").glob("sgphys-*.whl"))
    site = tmp / "site"
    r = _run(["-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
             cwd=tmp)
    assert r.returncode == 0, r.stderr
    empty = tmp / "elsewhere"
    empty.mkdir()
    return wheel, site, empty


def test_wheel_holds_the_package_data(installed):
    wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in sgphys.reference.names():
        assert f"sgphys/reference/{name}" in names
    assert "sgphys/reference/README.md" in names
    for module in sgphys.figures.FIGURES.values():
        assert f"sgphys/figures/{module}.py" in names


def test_installed_wheel_draws_a_figure_from_an_unrelated_folder(installed, quick_data):
    _, site, empty = installed
    env = {"PYTHONPATH": str(site)}
    r = _run(["-c", "import sgphys, sgphys.reference as r; print(sgphys.__file__); "
              "print(r.load('fig4/contrast.npy').shape)"], cwd=empty, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith(str(site)), r.stdout  # not the checkout
    assert "(50, 50)" in r.stdout
    out = empty / "fig.png"
    r = _run(["-m", "sgphys", "plot", "prompt_length", str(quick_data.path("prompt_length")),
              "--out", str(out), "--reference"], cwd=empty, env=env)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 10_000
    assert sorted(p.name for p in empty.iterdir()) == ["fig.png"]  # wrote nothing else


def test_python_dash_m_is_the_command_line(tmp_path):
    a = _run(["-m", "sgphys", "--help"], cwd=tmp_path)
    b = _run(["-m", "sgphys.cli", "--help"], cwd=tmp_path)
    assert a.returncode == 0 and a.stdout == b.stdout and "reproduce" in a.stdout
    r = _run(["-m", "sgphys", "list"], cwd=tmp_path)
    assert r.returncode == 0 and all(n in r.stdout for n in sgphys.list_experiments())


SCRIPT = """
import sgphys
{call}
"""
CALL = ('ds = sgphys.run_experiment("hessian", preset="quick", P=[10, 40], seeds=2, '
        'workers=2, out="h.nc", progress=False)\nprint("points", int(ds.status.sum()), ds.status.size)')


def test_unguarded_script_with_workers_stops_with_one_clear_error(tmp_path):
    (tmp_path / "noguard.py").write_text(SCRIPT.format(call=CALL))
    r = _run(["noguard.py"], cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.count("Traceback") == 1, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("sgphys.sweep.MainGuardError:"), last  # a RuntimeError subclass
    assert 'if __name__ == "__main__":' in last
    assert "noguard.py, line 3" in last and "BrokenProcessPool" not in r.stderr


def test_guarded_script_with_workers_runs(tmp_path):
    guarded = SCRIPT.format(call="if __name__ == '__main__':\n" + textwrap.indent(CALL, "    "))
    (tmp_path / "guard.py").write_text(guarded)
    r = _run(["guard.py"], cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    done, total = map(int, r.stdout.split()[-2:])
    assert done == total == 8  # two D values of the quick preset x two P x two seeds


def test_import_is_light_and_leaves_the_environment_alone(tmp_path):
    """``import sgphys`` loads neither numpy nor numba and sets no environment variable
    (the solvers' speed must not depend on the import order: sgphys._blas)."""
    code = ("import os, sys; before = dict(os.environ); import sgphys; "
            "print(dict(os.environ) == before, 'numpy' in sys.modules, 'numba' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False", "False"]
