"""Every Python block in the README and docs runs as written."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.datasets import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("path", [p for p in DOCS if python_blocks(p)], ids=lambda p: p.name)
def test_python_blocks_run(path, capsys):
    os.chdir(REPO)  # the examples use paths relative to the repository
    namespace: dict = {}
    for block in python_blocks(path):
        exec(compile(block, str(path), "exec"), namespace)
    assert capsys.readouterr().out  # the examples print what they computed
