"""Edge-assignment strategies and the ``partition`` entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .vertex_cut import VertexCut

Strategy = Callable[..., np.ndarray]


def _mix(x: np.ndarray, seed: int) -> np.ndarray:
    """A 64-bit integer hash (splitmix64 finaliser) of ``x`` salted with ``seed``."""
    z = x.astype(np.uint64) + np.uint64((0x9E3779B97F4A7C15 * (seed + 1)) % (1 << 64))
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def random_cut(src: np.ndarray, dst: np.ndarray, num_vertices: int, num_parts: int, seed: int = 0) -> np.ndarray:
    """Assign each edge to a part by a hash of the edge (its position and endpoints)."""
    edge = np.arange(src.size, dtype=np.uint64)
    key = _mix(src, seed) ^ _mix(dst.astype(np.uint64) + np.uint64(0x1F), seed) ^ _mix(edge, seed + 7)
    return (key % np.uint64(num_parts)).astype(np.int32)


STRATEGIES: dict[str, Strategy] = {"random": random_cut}


def assign_edges(src: Any, dst: Any, num_vertices: int, num_parts: int, strategy: str = "random", seed: int = 0, **params: Any) -> np.ndarray:
    """The part of every edge under ``strategy``."""
    try:
        fn = STRATEGIES[strategy]
    except KeyError:
        raise ValueError(f"unknown partition strategy {strategy!r}; choose one of {sorted(STRATEGIES)}") from None
    return fn(np.asarray(src), np.asarray(dst), int(num_vertices), int(num_parts), seed=seed, **params)


def partition(graph_or_edges: Any, num_parts: int, strategy: str = "random", seed: int = 0, **params: Any) -> VertexCut:
    """Cut a graph's edges into ``num_parts`` parts.

    Parameters
    ----------
    graph_or_edges : Graph or (src, dst) or (src, dst, num_vertices)
        Anything with ``src``, ``dst`` and ``num_vertices`` attributes, or a tuple.
    num_parts : int
        Number of parts ``P >= 1``.
    strategy : str
        A name from ``STRATEGIES``.
    seed : int
        Salt for hashing and stream order; equal seeds give equal cuts.

    Examples
    --------
    >>> cut = partition(([0, 1, 2, 3], [1, 2, 3, 0]), 2)
    >>> int(cut.edge_part.size)
    4
    """
    src, dst, n = _edges_of(graph_or_edges)
    if num_parts < 1:
        raise ValueError(f"num_parts must be >= 1, got {num_parts}")
    parts = assign_edges(src, dst, n, num_parts, strategy, seed, **params)
    return VertexCut.from_assignment(src, dst, n, parts, num_parts, strategy)


def _edges_of(obj: Any) -> tuple[np.ndarray, np.ndarray, int]:
    if hasattr(obj, "src") and hasattr(obj, "dst"):
        return np.asarray(obj.src), np.asarray(obj.dst), int(obj.num_vertices)
    src, dst, *rest = obj
    src, dst = np.asarray(src), np.asarray(dst)
    n = int(rest[0]) if rest else int(max(src.max(initial=-1), dst.max(initial=-1))) + 1
    return src, dst, n
