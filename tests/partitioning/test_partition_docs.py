"""Every example in the partitioning package's docstrings runs and prints what it says."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "partitioning",
    "partitioning.edges",
    "partitioning.hashing",
    "partitioning.streaming",
    "partitioning.strategies",
    "partitioning.vertex_cut",
    "partitioning.metrics",
    "partitioning.reference",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_every_public_name_has_an_example():
    import partitioning

    for name in partitioning.__all__:
        obj = getattr(partitioning, name)
        if callable(obj):
            assert obj.__doc__ and ">>>" in obj.__doc__, name


def test_partitioning_does_not_import_the_engine():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, partitioning, partitioning.reference; "
        "print(any(m.split('.')[0] == 'gasengine' for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
