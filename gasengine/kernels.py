"""Vectorised building blocks of the engine: edge chunks and segmented folds.

These are Ligra's edge-map primitives in numpy form: walk the edges of a set
of vertices in bounded chunks, and fold per-edge values into per-vertex
values.  No Python statement runs per edge.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def edge_chunks(
    ptr: np.ndarray, order: np.ndarray, act: np.ndarray | None, chunk: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(rows, eidx)`` covering the edges of the vertices in ``act``.

    Parameters
    ----------
    ptr, order : ndarray
        CSR grouping: the edges of local vertex ``i`` are ``order[ptr[i]:ptr[i+1]]``.
    act : ndarray or None
        Local vertices whose edges are wanted (sorted); None means all.
    chunk : int
        Maximum number of edges per yielded chunk.

    Yields
    ------
    rows : ndarray
        For each edge, the position of its vertex in ``act`` (its local index
        when ``act`` is None); non-decreasing within a chunk.
    eidx : ndarray
        The edges (indices into the part's edge arrays).

    Examples
    --------
    >>> ptr = np.array([0, 2, 2, 3]); order = np.array([1, 0, 2])
    >>> [(r.tolist(), e.tolist()) for r, e in edge_chunks(ptr, order, np.array([0, 2]), 2)]
    [([0, 0], [1, 0]), ([1], [2])]
    """
    if act is None:
        total = int(ptr[-1])
        for lo in range(0, total, chunk):
            hi = min(lo + chunk, total)
            rows = np.searchsorted(ptr, np.arange(lo, hi), side="right") - 1
            yield rows, order[lo:hi]
        return
    counts = ptr[act + 1] - ptr[act]
    ends = np.cumsum(counts)
    total = int(ends[-1]) if ends.size else 0
    starts = ends - counts
    for lo in range(0, total, chunk):
        k = np.arange(lo, min(lo + chunk, total))
        rows = np.searchsorted(ends, k, side="right")
        yield rows, order[ptr[act[rows]] + (k - starts[rows])]


def fold_segments(ufunc: np.ufunc, acc: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``acc[r] = ufunc(acc[r], fold of values whose row is r)`` for sorted ``rows``.

    Examples
    --------
    >>> acc = np.zeros(3)
    >>> fold_segments(np.add, acc, np.array([0, 0, 2]), np.array([1.0, 2.0, 5.0]))
    >>> acc.tolist()
    [3.0, 0.0, 5.0]
    """
    if rows.size == 0:
        return
    starts = np.flatnonzero(np.concatenate(([True], rows[1:] != rows[:-1])))
    folded = ufunc.reduceat(values, starts, axis=0)
    targets = rows[starts]
    acc[targets] = ufunc(acc[targets], folded)
