"""Vectorised building blocks of the engine: edge chunks and segmented folds.

These are Ligra's edge-map primitives in numpy form: walk the edges of a set
of vertices in bounded chunks, and fold per-edge values into per-vertex
values.  No Python statement runs per edge.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


def edge_chunks(
    ptr: np.ndarray, order: np.ndarray | None, act: np.ndarray | None, chunk: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(rows, eidx)`` covering the edges of the vertices in ``act``.

    Parameters
    ----------
    ptr, order : ndarray
        CSR grouping: the edges of local vertex ``i`` are ``order[ptr[i]:ptr[i+1]]``
        (``ptr[i]:ptr[i+1]`` when ``order`` is None: the edges are stored grouped).
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
            yield rows, np.arange(lo, hi) if order is None else order[lo:hi]
        return
    counts = ptr[act + 1] - ptr[act]
    ends = np.cumsum(counts)
    total = int(ends[-1]) if ends.size else 0
    starts = ends - counts
    for lo in range(0, total, chunk):
        k = np.arange(lo, min(lo + chunk, total))
        rows = np.searchsorted(ends, k, side="right")
        pos = ptr[act[rows]] + (k - starts[rows])
        yield rows, pos if order is None else order[pos]


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


# ---------------------------------------------------------------- compiled
# Sequential loops over edges are compiled: a counting sort that groups edges
# by vertex (stable, O(m), no argsort temporaries) and a sparse
# matrix-vector product over those groups.
from numba import njit  # noqa: E402


@njit(cache=True)
def _counting_sort(keys, ptr, order):  # pragma: no cover - compiled
    fill = ptr[:-1].copy()
    for e in range(keys.size):
        k = keys[e]
        order[fill[k]] = e
        fill[k] += 1


@njit(cache=True)
def _counting_sort_of(keys, within, ptr, order):  # pragma: no cover - compiled
    fill = ptr[:-1].copy()
    for e in within:
        k = keys[e]
        order[fill[k]] = e
        fill[k] += 1


def group_by(keys: np.ndarray, num_keys: int, then_by: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(ptr, order)`` with ``order[ptr[k]:ptr[k+1]]`` the positions holding key ``k``.

    Within a key, positions keep their order, or are sorted by ``then_by``
    (values in ``0..num_keys-1``) when given: two stable counting-sort passes,
    O(m).  Sorting a vertex's neighbours this way makes a sparse product read
    the neighbour values in memory order.

    Examples
    --------
    >>> ptr, order = group_by(np.array([2, 0, 2, 1], dtype=np.int32), 3)
    >>> ptr.tolist(), order.tolist()
    ([0, 1, 2, 4], [1, 3, 0, 2])
    >>> group_by(np.array([1, 1, 1]), 2, then_by=np.array([1, 0, 1]))[1].tolist()
    [1, 0, 2]
    """
    index_type = np.int32 if keys.size < 2**31 else np.int64
    ptr = bounds(keys, num_keys)
    order = np.empty(keys.size, dtype=index_type)
    if then_by is None:
        _counting_sort(keys, ptr, order)
        return ptr, order
    first = np.empty(keys.size, dtype=index_type)
    _counting_sort(then_by, bounds(then_by, num_keys), first)
    _counting_sort_of(keys, first, ptr, order)
    return ptr, order


def bounds(keys: np.ndarray, num_keys: int) -> np.ndarray:
    """CSR pointers of ``keys`` in ``0..num_keys-1``: ``ptr[k+1] - ptr[k]`` counts key ``k``.

    For sorted ``keys``, the positions holding ``k`` are ``ptr[k]:ptr[k+1]``.

    Examples
    --------
    >>> bounds(np.array([0, 0, 2]), 3).tolist()
    [0, 2, 2, 3]
    """
    ptr = np.zeros(num_keys + 1, dtype=np.int64)
    _count_keys(keys, ptr)  # np.bincount would first copy int32 keys to int64
    np.cumsum(ptr, out=ptr)
    return ptr


@njit(cache=True)
def _count_keys(keys, ptr):  # pragma: no cover - compiled
    for k in keys:
        ptr[k + 1] += 1


def fill_part_edges(
    src: np.ndarray,
    dst: np.ndarray,
    edge_part: np.ndarray | None,
    part: int,
    local_of: np.ndarray,
    num_local: int,
    out_src: np.ndarray,
    out_dst: np.ndarray,
    out_eid: np.ndarray | None,
) -> None:
    """Write the edges of one part, in local numbers, grouped by destination.

    Edge ``e`` belongs to the part when ``edge_part[e] == part`` (every edge
    when ``edge_part`` is None).  Its endpoints ``local_of[src[e]]`` and
    ``local_of[dst[e]]`` go to ``out_src``/``out_dst``, ordered by
    destination and then source (ties in edge order), and ``e`` to
    ``out_eid`` if given.  Two compiled scans of the edge list and a sort of
    each destination's few sources: no per-edge temporary.

    Examples
    --------
    >>> src, dst = np.array([2, 0, 1, 0]), np.array([1, 1, 0, 1])
    >>> out_src, out_dst, out_eid = (np.empty(4, dtype=np.int64) for _ in range(3))
    >>> fill_part_edges(src, dst, None, 0, np.arange(3), 3, out_src, out_dst, out_eid)
    >>> out_dst.tolist(), out_src.tolist(), out_eid.tolist()
    ([0, 1, 1, 1], [1, 0, 0, 2], [2, 1, 3, 0])
    """
    every = edge_part is None
    part_of = np.zeros(0, dtype=np.int32) if every else edge_part
    with_eid = out_eid is not None
    eid = out_eid if with_eid else np.zeros(0, dtype=np.int64)
    ptr = np.zeros(num_local + 1, dtype=np.int64)
    _count_part_edges(dst, part_of, every, part, local_of, ptr)
    np.cumsum(ptr, out=ptr)
    _place_part_edges(src, dst, part_of, every, part, local_of, ptr, out_src, out_dst, eid, with_eid)


@njit(cache=True)
def _count_part_edges(dst, part_of, every, part, local_of, ptr):  # pragma: no cover - compiled
    for e in range(dst.size):
        if every or part_of[e] == part:
            ptr[local_of[dst[e]] + 1] += 1


@njit(cache=True)
def _place_part_edges(src, dst, part_of, every, part, local_of, ptr,  # pragma: no cover - compiled
                      out_src, out_dst, eid, with_eid):
    fill = ptr[:-1].copy()
    for e in range(dst.size):
        if every or part_of[e] == part:
            d = local_of[dst[e]]
            k = fill[d]
            fill[d] += 1
            out_src[k] = local_of[src[e]]
            out_dst[k] = d
            if with_eid:
                eid[k] = e
    for v in range(ptr.size - 1):
        lo, hi = ptr[v], ptr[v + 1]
        if hi - lo <= 32:  # most groups are short: a stable insertion sort, no allocation
            for i in range(lo + 1, hi):
                s = out_src[i]
                x = eid[i] if with_eid else 0
                j = i - 1
                while j >= lo and out_src[j] > s:
                    out_src[j + 1] = out_src[j]
                    if with_eid:
                        eid[j + 1] = eid[j]
                    j -= 1
                out_src[j + 1] = s
                if with_eid:
                    eid[j + 1] = x
        elif with_eid:
            idx = np.argsort(out_src[lo:hi], kind="mergesort")
            out_src[lo:hi] = out_src[lo:hi][idx]
            eid[lo:hi] = eid[lo:hi][idx]
        else:
            out_src[lo:hi].sort()


@njit(cache=True)
def _spmv_vec(ptr, indices, x, rows, all_rows, out):  # pragma: no cover - compiled
    for r in range(out.shape[0]):
        i = r if all_rows else rows[r]
        acc = 0.0
        for j in range(ptr[i], ptr[i + 1]):
            acc += x[indices[j]]
        out[r] = acc


@njit(cache=True)
def _spmv_vec_weighted(ptr, indices, data, x, rows, all_rows, out):  # pragma: no cover - compiled
    for r in range(out.shape[0]):
        i = r if all_rows else rows[r]
        acc = 0.0
        for j in range(ptr[i], ptr[i + 1]):
            acc += data[j] * x[indices[j]]
        out[r] = acc


@njit(cache=True)
def _spmv_mat(ptr, indices, data, weighted, x, rows, all_rows, out):  # pragma: no cover - compiled
    for r in range(out.shape[0]):
        i = r if all_rows else rows[r]
        for j in range(ptr[i], ptr[i + 1]):
            w = data[j] if weighted else 1.0
            for c in range(x.shape[1]):
                out[r, c] += w * x[indices[j], c]


def spmv(
    ptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray | None,
    x: np.ndarray,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """``out[r] = sum_j data[j] * x[indices[j]]`` over the row ``rows[r]`` (all rows if None).

    ``x`` may be 1-D or 2-D (a vector per vertex).  With ``data=None`` every
    edge weighs 1, so no per-edge float array is ever stored.

    Examples
    --------
    >>> ptr = np.array([0, 2, 3]); idx = np.array([0, 1, 1], dtype=np.int32)
    >>> spmv(ptr, idx, None, np.array([1.0, 10.0])).tolist()
    [11.0, 10.0]
    """
    count = ptr.size - 1 if rows is None else rows.size
    dtype = np.result_type(x.dtype, np.float64 if data is None else data.dtype)
    all_rows = rows is None
    rows = np.zeros(0, dtype=np.int64) if rows is None else rows
    x = np.ascontiguousarray(x, dtype=dtype)
    if x.ndim == 1:
        out = np.empty(count, dtype=dtype)
        if data is None:
            _spmv_vec(ptr, indices, x, rows, all_rows, out)
        else:
            _spmv_vec_weighted(ptr, indices, data, x, rows, all_rows, out)
        return out
    # explicit width: reshape(0, -1) is ambiguous for an empty part
    x2 = x.reshape(x.shape[0], int(np.prod(x.shape[1:], dtype=np.int64)))
    out = np.zeros((count, x2.shape[1]), dtype=dtype)
    weights = data if data is not None else np.zeros(1, dtype=dtype)
    _spmv_mat(ptr, indices, weights, data is not None, x2, rows, all_rows, out)
    return out.reshape((count, *x.shape[1:]))
