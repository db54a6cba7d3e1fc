"""The documentation builds with warnings as errors, and the tutorial notebook executes.

One Sphinx build (a few seconds, the notebook included) into a temporary directory; the
checks below read its HTML.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("myst_nb")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs") / "html"
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", str(DOCS), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        print("---- sphinx stdout ----\n" + proc.stdout[-20000:])
        print("---- sphinx stderr ----\n" + proc.stderr[-20000:])
    assert proc.returncode == 0, f"sphinx-build failed (exit {proc.returncode}); see the output above"
    return out


def test_pages_built(html):
    for page in ("index", "installation", "tutorial", "model", "experiments", "cluster",
                 "reliability", "benchmarks", "api"):
        assert (html / f"{page}.html").is_file(), page


def test_tutorial_executed(html):
    text = (html / "tutorial.html").read_text(encoding="utf-8")
    # printed by the notebook: only present if its cells ran
    assert "n_spins = 30" in text
    assert re.search(r"E\(s\) - \[L\(W\(s\)\) - offset\] = -?\d\.\de[-+]\d\d", text)
    assert re.search(r"converged: \d+ of \d+ solver runs", text)
    # the matplotlib figure of the sweep
    images = re.findall(r'<img[^>]+src="(_images/[^"]+\.png)"', text)
    assert images, "no image in the executed tutorial"
    assert all((html / src).is_file() for src in images)


def test_api_reference(html):
    api = (html / "api.html").read_text(encoding="utf-8")
    import sgphys

    for name in sgphys.__all__:
        if name.startswith("_"):
            continue
        assert f"sgphys.{name}.html" in api, name
        assert (html / "generated" / f"sgphys.{name}.html").is_file(), name
    for module in ("io", "sweep", "solvers", "experiments"):
        assert (html / "generated" / f"sgphys.{module}.html").is_file(), module
    amp = (html / "generated" / "sgphys.solve_amp.html").read_text(encoding="utf-8")
    assert "Onsager" in amp and "variant" in amp
