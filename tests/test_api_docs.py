"""The API reference builds from the docstrings with no warning, and type checkers see the public names.

``docs/api`` is a Sphinx project (autodoc and numpydoc); the build below is
the one CI runs, with warnings as errors, so a docstring that numpydoc or
reStructuredText cannot read fails the tests.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys

import pytest

from tests.datasets import REPO

HAVE_SPHINX = all(importlib.util.find_spec(m) is not None for m in ("sphinx", "numpydoc"))


@pytest.mark.skipif(not HAVE_SPHINX, reason="sphinx and numpydoc are not installed (pip install -e '.[test]')")
def test_the_api_reference_builds_without_warnings(tmp_path):
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-j", "1", "-q", "-b", "html"]
    cmd += ["-d", str(tmp_path / "doctrees"), str(REPO / "docs" / "api"), str(tmp_path / "html")]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    for page in ("running", "programs", "engines", "checkpoint", "partitioning", "algorithms"):
        html = (tmp_path / "html" / f"{page}.html").read_text(encoding="utf-8")
        assert 'class="sig sig-object py"' in html, f"{page}.html documents nothing"
    assert "gasengine.run" in (tmp_path / "html" / "running.html").read_text(encoding="utf-8")


def test_type_checkers_see_every_lazily_loaded_name():
    """``gasengine/__init__.py`` loads its names on first use; its TYPE_CHECKING imports must list the same ones."""
    import gasengine

    tree = ast.parse((REPO / "gasengine" / "__init__.py").read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    seen = {alias.asname or alias.name for node in block.body for alias in node.names}  # type: ignore[attr-defined]
    assert seen == set(gasengine.__all__)
