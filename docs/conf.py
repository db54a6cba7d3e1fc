"""Sphinx configuration of the sgphys documentation.

Build with warnings as errors (the tutorial notebook is executed during the build):

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Nothing here reads outside the repository or needs network access.
"""

from __future__ import annotations

import os
import sys

# The package is normally installed (editable or not); fall back to the repository root so
# that a plain checkout builds too.
_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
try:
    import sgphys  # noqa: F401
except ImportError:  # pragma: no cover - only without an installed sgphys
    sys.path.insert(0, _ROOT)
    import sgphys  # noqa: F401

# The notebook and the API pages import matplotlib: never open a window.
os.environ.setdefault("MPLBACKEND", "Agg")

project = "sgphys"
author = "sgphys developers"
copyright = "2026, sgphys developers"
version = release = sgphys.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_nb",
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints", "jupyter_execute"]

# -- autodoc / autosummary -----------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autosummary_ignore_module_all = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc sections state types and shapes
autodoc_inherit_docstrings = False

# autosummary cuts a summary at the first ". "; the docstrings cite "Eq. 5", "Eqs. 8a-8b",
# "Fig. 4a" in their first sentences, which must not end it.
import sphinx.ext.autosummary as _autosummary  # noqa: E402

_autosummary.WELL_KNOWN_ABBREVIATIONS = tuple(_autosummary.WELL_KNOWN_ABBREVIATIONS) + (
    "Eq.", "Eqs.", "Fig.", "Figs.")

# Names exported lazily by ``sgphys`` (``sgphys.__all__``): the module pages of the API
# reference link to their top-level pages instead of documenting them a second time.
autosummary_context = {"toplevel": dict(sgphys._EXPORTS)}

# -- numpydoc ------------------------------------------------------------------------------
numpydoc_show_class_members = False
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
numpydoc_validation_checks: set = set()  # style checks are not enforced on the docstrings

# -- intersphinx: no network on the build machines, so no inventories are fetched ------------
intersphinx_mapping: dict = {}
intersphinx_disabled_reftypes = ["*"]

# -- myst-nb: execute the tutorial on every build, fail the build if a cell raises ----------
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 300
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]

# -- math: MathJax from a local copy, never a CDN -----------------------------------------------
# The docs extra installs MathJax 3 (the package django-static-mathjax ships its unmodified es5
# distribution, Apache-2.0); the build copies the parts the pages use into _static/mathjax/,
# so the pages render their math offline.
_MATHJAX_PARTS = ("tex-mml-chtml.js", "input", "output", "ui", "a11y")


def _mathjax_source() -> str:
    from importlib import metadata

    try:
        dist = metadata.distribution("django-static-mathjax")
    except metadata.PackageNotFoundError:
        raise RuntimeError("the documentation needs a local MathJax: pip install -e '.[docs]' "
                           "(the package django-static-mathjax)") from None
    es5 = os.path.join(str(dist.locate_file("mathjax")), "static", "mathjax", "es5")
    if not os.path.isfile(os.path.join(es5, "tex-mml-chtml.js")):
        raise RuntimeError(f"no MathJax in {es5}: reinstall django-static-mathjax")
    return es5


_MATHJAX_ES5 = _mathjax_source()
mathjax_path = "mathjax/tex-mml-chtml.js"  # relative to _static/


def _copy_mathjax(app, exception):
    import shutil

    if exception is not None or app.builder.format != "html":
        return
    target = os.path.join(app.outdir, "_static", "mathjax")
    os.makedirs(target, exist_ok=True)
    for part in _MATHJAX_PARTS:
        src = os.path.join(_MATHJAX_ES5, part)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(target, part), dirs_exist_ok=True)
        elif os.path.isfile(src):
            shutil.copy2(src, target)
        elif part == "tex-mml-chtml.js":
            raise RuntimeError(f"MathJax: {src} is missing")
    notice = os.path.join(os.path.dirname(_MATHJAX_ES5), "LICENSE")
    if os.path.isfile(notice):
        shutil.copy2(notice, target)


# -- HTML ----------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"sgphys {release}"
html_static_path: list = []
html_theme_options = {
    "description": "Spin-glass model of in-context learning",
    "fixed_sidebar": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}


# -- signatures of dataclasses ---------------------------------------------------------------
# A dataclass whose default is a function (sgphys.experiments.Experiment.coords) would show
# "<function ... at 0x...>", different on every build (numpydoc reads it from the docstring
# dataclasses generate); rebuild such signatures from the fields, before numpydoc's handler.
def _dataclass_signature(app, what, name, obj, options, signature, return_annotation):
    import dataclasses

    if what != "class" or not dataclasses.is_dataclass(obj) or not signature:
        return None
    if "<function" not in signature:
        return None
    parts = []
    for f in dataclasses.fields(obj):
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            d = f.default
            text = "<function>" if callable(d) else repr(d)
            parts.append(f"{f.name}={text}")
        elif f.default_factory is not dataclasses.MISSING:
            parts.append(f"{f.name}=<factory>")
        else:
            parts.append(f.name)
    return "(" + ", ".join(parts) + ")", return_annotation


def setup(app):
    app.connect("autodoc-process-signature", _dataclass_signature, priority=100)
    app.connect("build-finished", _copy_mathjax)
