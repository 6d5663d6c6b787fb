"""Fixtures for the partitioning tests: small R-MAT graphs and real SNAP graphs.

Real graphs are read straight from the shared data folder with numpy (nothing
is copied into the repository) and relabelled to ``0..n-1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from gasengine.generators import rmat_edges

SNAP = Path(os.environ.get("GASENGINE_DATA", "/work/shared/data")) / "snap"


def load_snap(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """``(src, dst, n)`` of a SNAP edge list, ids relabelled to ``0..n-1``."""
    path = SNAP / name
    if not path.exists():
        pytest.skip(f"dataset {path} not available")
    edges = np.loadtxt(
        path, comments="#", dtype=np.int64, usecols=(0, 1), delimiter="," if name.endswith(".csv") else None
    )
    ids, flat = np.unique(edges.ravel(), return_inverse=True)
    flat = flat.reshape(edges.shape)
    return flat[:, 0].copy(), flat[:, 1].copy(), int(ids.size)


@pytest.fixture(scope="session")
def rmat16() -> tuple[np.ndarray, np.ndarray, int]:
    """R-MAT scale 16: 65 536 vertices, 1 048 576 edges (Graph500 parameters)."""
    src, dst = rmat_edges(16)
    return src, dst, 1 << 16


@pytest.fixture(scope="session")
def rmat12() -> tuple[np.ndarray, np.ndarray, int]:
    """R-MAT scale 12: 4 096 vertices, 65 536 edges."""
    src, dst = rmat_edges(12)
    return src, dst, 1 << 12


@pytest.fixture(scope="session")
def wiki_vote() -> tuple[np.ndarray, np.ndarray, int]:
    return load_snap("Wiki-Vote.txt")


@pytest.fixture(scope="session")
def email_eu() -> tuple[np.ndarray, np.ndarray, int]:
    return load_snap("email-Eu-core.txt")
