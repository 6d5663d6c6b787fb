"""Every Python block in the README and docs runs as written and prints what the docs say.

A ```` ```python ```` block that prints must be followed by a ```` ```text ````
block holding its output; the two are compared as doctest compares output,
with ``...`` matching anything (timings) and runs of whitespace equal.
"""

from __future__ import annotations

import contextlib
import doctest
import io
import os
import re
from pathlib import Path

import pytest

from tests.datasets import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(?P<code>.*?)```(?:\s*```text\n(?P<output>.*?)```)?", flags=re.S)
CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def examples(path: Path) -> list[tuple[str, str | None]]:
    """``(code, expected output or None)`` for every Python block of a page."""
    return [(m["code"], m["output"]) for m in BLOCK.finditer(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("path", [p for p in DOCS if examples(p)], ids=lambda p: p.name)
def test_python_blocks_print_what_the_docs_say(path):
    os.chdir(REPO)  # the examples use paths relative to the repository
    namespace: dict = {}
    checked = 0
    for number, (code, expected) in enumerate(examples(path), 1):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{path.name} block {number}", "exec"), namespace)
        got = out.getvalue()
        if expected is None:
            assert not got, f"{path.name} block {number} prints but no ```text block follows it:\n{got}"
            continue
        assert CHECKER.check_output(expected, got, FLAGS), (
            f"{path.name} block {number} printed\n{got}\nbut the docs say\n{expected}"
        )
        checked += 1
    assert checked, f"{path.name}: no example output is checked"


def test_a_wrong_expected_output_is_caught():
    assert not CHECKER.check_output("20 components\n", "21 components\n", FLAGS)
    assert CHECKER.check_output("7 ... s\n", "7 0.0123 s\n", FLAGS)
