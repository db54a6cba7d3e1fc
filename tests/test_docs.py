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
    for page in ("index", "installation", "tutorial", "model", "methods", "experiments",
                 "results", "accuracy", "benchmarks", "cluster", "reliability", "guarantees",
                 "api", "changelog"):
        assert (html / f"{page}.html").is_file(), page


def test_pages_need_no_network(html):
    """Every script a page loads is shipped with the build (MathJax included): no src or
    stylesheet from another host, and the math of the model page is typeset by the local
    MathJax."""
    external = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?//', re.I)
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|img)\b[^>]*>|<link\b[^>]*stylesheet[^>]*>", text):
            assert not external.search(tag), (page.name, tag)
    model = (html / "model.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', model)
    mathjax = [src for src in scripts if "mathjax" in src.lower()]
    assert mathjax, scripts
    for src in mathjax:
        assert (html / src.split("?")[0]).is_file(), src
    assert '<div class="math' in model or 'class="math' in model  # math rendered by MathJax


def test_labels_of_the_model_page(html):
    """The sections the docstrings cite (docs/model.rst, section ...) have their anchors."""
    model = (html / "model.html").read_text(encoding="utf-8")
    for label in ("data", "transformer", "spin-mapping", "priors", "solvers", "full-bp", "rbp",
                  "amp", "exact", "observables", "trainers", "thermodynamics", "matrix-free",
                  "departures"):
        assert f'id="{label}"' in model, label


README = ROOT / "README.md"
SETUP = ('python3 -m venv .venv && .venv/bin/pip install -q -e ".[all]" && '
         ".venv/bin/sgphys reproduce --preset quick")
TESTS = ('python3 -m venv .venv && .venv/bin/pip install -q -e ".[test]" && '
         ".venv/bin/python -m pytest -q")


def test_readme_is_a_front_door():
    """The README holds the two set-up commands verbatim (.ci/run runs the second), stays
    short, and every file it links to exists."""
    text = README.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) <= 150, len(lines)
    assert f"    {SETUP}" in lines and f"    {TESTS}" in lines
    assert TESTS in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert local, links
    for link in local:
        assert (ROOT / link).exists(), link


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
