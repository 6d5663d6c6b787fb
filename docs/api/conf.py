"""Sphinx configuration of the API reference, built from the numpy-style docstrings.

Build it with ``sphinx-build -W --keep-going -b html docs/api /tmp/api`` (``tests/test_api_docs.py``
does, with warnings as errors).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the checkout's packages, installed or not

project = "gasengine"
author = "the gasengine authors"
copyright = "the gasengine authors"
release = version = "0.1.0"

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc"]

# Only the pages listed in index.rst; autosummary makes tables, never files in the checkout.
autosummary_generate = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # the signatures show them; numpydoc's Parameters sections say the rest
autodoc_inherit_docstrings = False  # a subclass's method without a docstring is not the base's

numpydoc_show_class_members = False  # members are documented by autodoc's :members:
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = "gasengine API reference"
exclude_patterns = ["_build"]


def _skip_ufuncs(app, what, name, obj, skip, options):
    """A class attribute holding a numpy ufunc (``combine = np.minimum``) is configuration, not API to document."""
    import numpy as np

    return True if isinstance(obj, np.ufunc) else skip


def setup(app):
    app.connect("autodoc-skip-member", _skip_ufuncs)
