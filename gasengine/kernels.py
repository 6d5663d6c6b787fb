"""Vectorised building blocks of the engine: edge chunks and segmented folds.

These are Ligra's edge-map primitives in numpy form: walk the edges of a set
of vertices in bounded chunks, and fold per-edge values into per-vertex
values.  No Python statement runs per edge.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class EdgeChunk(NamedTuple):
    """The edges of some vertices, as a program sees them and as they are folded.

    Attributes
    ----------
    edges : slice or ndarray
        Positions in the part's edge arrays: a slice when they are
        contiguous in storage (all vertices, storage grouping), so that every
        edge array is read as a view, not copied.
    rows : ndarray of intp
        For each vertex of the chunk (only vertices with edges), its row in
        the accumulator: its position in the frontier, or its local number
        when every vertex is active.
    starts : ndarray of intp
        Where each vertex's edges begin within the chunk (for ``ufunc.reduceat``).
    size : int
        Number of edges.
    csr : slice or ndarray, optional
        When the grouping is not the storage order (``order`` given): the
        same edges as positions in the grouping, where arrays kept in that
        order (:meth:`~gasengine.parts.Part.neighbours`) are read in runs
        instead of at scattered storage positions.
    verts : ndarray, optional
        With ``csr``: the local vertex of each row.
    """

    edges: slice | np.ndarray
    rows: np.ndarray
    starts: np.ndarray
    size: int
    csr: slice | np.ndarray | None = None
    verts: np.ndarray | None = None

    def ends(self, grouped: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(grouping end, other end)`` of every edge, from ``grouped`` (the other
        end in grouping order); needs ``csr``.

        Examples
        --------
        >>> ptr = np.array([0, 2, 2, 3]); order = np.array([1, 0, 2]); grouped = np.array([5, 6, 7])
        >>> [c.ends(grouped) for c in edge_chunks(ptr, order, np.array([0, 2]), 8)][0]
        (array([0, 0, 2]), array([5, 6, 7]))
        """
        counts = np.diff(self.starts, append=self.size)
        return np.repeat(self.verts, counts), grouped[self.csr]


def edge_chunks(ptr: np.ndarray, order: np.ndarray | None, act: np.ndarray | None, chunk: int) -> list[EdgeChunk]:
    """Split the edges of the vertices in ``act`` into chunks of whole vertices.

    Parameters
    ----------
    ptr, order : ndarray
        CSR grouping: the edges of local vertex ``i`` are ``order[ptr[i]:ptr[i+1]]``
        (``ptr[i]:ptr[i+1]`` when ``order`` is None: the edges are stored grouped).
    act : ndarray or None
        Local vertices whose edges are wanted (sorted); None means all.
    chunk : int
        Edges per chunk.  A chunk holds whole vertices, so it is larger only
        when one vertex alone has more edges.

    Returns
    -------
    list of EdgeChunk
        Cost O(vertices + chunks) for all vertices (no per-edge work: runs
        are located from ``ptr``), O(active vertices + their edges) otherwise.

    Examples
    --------
    >>> ptr = np.array([0, 2, 2, 3]); order = np.array([1, 0, 2])
    >>> [(c.edges.tolist(), c.rows.tolist(), c.starts.tolist()) for c in edge_chunks(ptr, order, np.array([0, 2]), 2)]
    [([1, 0], [0], [0]), ([2], [1], [0])]
    >>> [(c.edges, c.rows.tolist(), c.starts.tolist()) for c in edge_chunks(ptr, None, None, 8)]
    [(slice(0, 3, None), [0, 2], [0, 2])]
    """
    if act is not None:
        edges, rows, starts = _frontier_edges(ptr, act)
        if edges.size <= chunk:  # a small frontier: one chunk, built in one compiled pass
            if order is None:
                return [EdgeChunk(edges, rows, starts, int(edges.size))]
            return [EdgeChunk(order[edges], rows, starts, int(edges.size), edges, act[rows])]
        verts = act[rows]
    else:
        verts = np.flatnonzero(ptr[1:] != ptr[:-1])
        rows = verts
    first, last = ptr[verts], ptr[verts + 1]
    ends = np.cumsum(last - first)  # inclusive: edges of verts[:k+1]
    chunks = []
    lo = 0
    while lo < verts.size:
        base = ends[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(ends, base + chunk, side="right")), lo + 1)
        size = int(ends[hi - 1] - base)
        starts = (ends[lo:hi] - (last[lo:hi] - first[lo:hi]) - base).astype(np.intp)
        if act is None:  # consecutive vertices: their edges are one contiguous run
            edges = slice(int(first[lo]), int(first[lo]) + size)
        else:
            edges = _runs(first[lo:hi], last[lo:hi], size)
        rows_here = rows[lo:hi].astype(np.intp, copy=False)
        if order is not None:
            chunks.append(EdgeChunk(order[edges], rows_here, starts, size, edges, verts[lo:hi]))
        else:
            chunks.append(EdgeChunk(edges, rows_here, starts, size))
        lo = hi
    return chunks


def _runs(first: np.ndarray, last: np.ndarray, size: int) -> np.ndarray:
    """The positions ``first[k]..last[k]-1`` of every run, concatenated."""
    out = np.empty(size, dtype=np.intp)
    _fill_runs(first, last, out)
    return out


def fold_chunk(ufunc: np.ufunc, acc: np.ndarray, chunk: EdgeChunk, values: np.ndarray) -> None:
    """``acc[row] = ufunc(acc[row], fold of the chunk's values of that row)`` for every row.

    Examples
    --------
    >>> acc = np.zeros(3)
    >>> c = EdgeChunk(slice(0, 3), np.array([0, 2]), np.array([0, 2]), 3)
    >>> fold_chunk(np.add, acc, c, np.array([1.0, 2.0, 5.0]))
    >>> acc.tolist()
    [3.0, 0.0, 5.0]
    """
    if chunk.size == 0:
        return
    if ufunc is np.add and values.ndim > 1 and values.dtype.kind == "f" and acc.dtype == values.dtype:
        # vectors or matrices per edge (ALS's k x k): summed per row and added in one compiled pass;
        # reduceat walks the trailing axes element by element, a sparse indicator product per chunk
        # cost 19% of an ALS superstep in building the matrix
        flat = np.ascontiguousarray(values).reshape(values.shape[0], -1)
        _add_segments(acc.reshape(acc.shape[0], -1), chunk.rows.astype(np.int64), chunk.starts.astype(np.int64), flat)
        return
    if ufunc is np.add and values.ndim > 1 and values.dtype.kind == "f":
        folded = _segment_sums(values, chunk.starts)
    elif ufunc in (np.maximum, np.minimum) and values.ndim > 1 and values.dtype.kind in "iu":
        # reduceat walks trailing axes element by element, one vertex's column at a time:
        # 10-100x slower than one compiled pass (HyperLogLog registers, 64-128 per edge)
        flat = np.ascontiguousarray(values).reshape(values.shape[0], -1)
        folded = _segment_extreme(flat, chunk.starts.astype(np.int64), ufunc is np.maximum)
        folded = folded.reshape(chunk.starts.size, *values.shape[1:])
    else:
        folded = ufunc.reduceat(values, chunk.starts, axis=0)
    acc[chunk.rows] = ufunc(acc[chunk.rows], folded)


def _segment_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """``np.add.reduceat(values, starts, axis=0)`` for vectors or matrices per edge, as one sparse product.

    ``reduceat`` walks the trailing axes element by element (about 5 ns per
    value); a CSR indicator matrix times the values flattened to rows does
    the same sums about 40 times faster (ALS's (k+2) x (k+2) gathers).
    """
    import scipy.sparse as sp

    size = values.shape[0]
    ptr = np.append(starts, size).astype(np.int64)
    indicator = sp.csr_matrix((np.ones(size, dtype=values.dtype), np.arange(size), ptr), shape=(starts.size, size))
    return (indicator @ values.reshape(size, -1)).reshape(starts.size, *values.shape[1:])


# ---------------------------------------------------------------- compiled
# Sequential loops over edges are compiled: a counting sort that groups edges
# by vertex (stable, O(m), no argsort temporaries) and a sparse
# matrix-vector product over those groups.
from numba import njit  # noqa: E402
from numba.cpython.unsafe.numbers import trailing_zeros  # noqa: E402  (LLVM's cttz)


@njit(cache=True)
def _add_segments(acc, rows, starts, values):  # pragma: no cover - compiled
    """``acc[rows[i]] += sum of values[starts[i]:starts[i+1]]`` (2-D), each segment summed in order first."""
    size, width = values.shape
    total = np.empty(width, dtype=values.dtype)
    for i in range(starts.size):
        lo = starts[i]
        hi = starts[i + 1] if i + 1 < starts.size else size
        if hi <= lo:
            continue
        total[:] = values[lo]
        for j in range(lo + 1, hi):
            for k in range(width):
                total[k] += values[j, k]
        r = rows[i]
        for k in range(width):
            acc[r, k] += total[k]


@njit(cache=True)
def _segment_extreme(values, starts, largest):  # pragma: no cover - compiled
    """Per segment ``starts[i]:starts[i+1]`` of the rows of ``values`` (2-D), the column-wise max (or min)."""
    size, width = values.shape
    out = np.empty((starts.size, width), dtype=values.dtype)
    for i in range(starts.size):
        lo = starts[i]
        hi = starts[i + 1] if i + 1 < starts.size else size
        out[i, :] = values[lo]
        for j in range(lo + 1, hi):
            for k in range(width):
                v = values[j, k]
                if (v > out[i, k]) if largest else (v < out[i, k]):
                    out[i, k] = v
    return out


@njit(cache=True)
def _frontier_edges(ptr, act):  # pragma: no cover - compiled
    """Edges of the vertices ``act``: (positions, row in act of each vertex with edges, its start)."""
    total = 0
    with_edges = 0
    for r in range(act.size):
        d = ptr[act[r] + 1] - ptr[act[r]]
        total += d
        with_edges += d > 0
    edges = np.empty(total, dtype=np.intp)
    rows = np.empty(with_edges, dtype=np.intp)
    starts = np.empty(with_edges, dtype=np.intp)
    k = 0
    j = 0
    for r in range(act.size):
        lo, hi = ptr[act[r]], ptr[act[r] + 1]
        if hi > lo:
            rows[j] = r
            starts[j] = k
            j += 1
            for e in range(lo, hi):
                edges[k] = e
                k += 1
    return edges, rows, starts


@njit(cache=True)
def _fill_runs(first, last, out):  # pragma: no cover - compiled
    k = 0
    for r in range(first.size):
        for e in range(first[r], last[r]):
            out[k] = e
            k += 1


@njit(cache=True)
def _counting_sort(keys, ptr, order):  # pragma: no cover - compiled
    fill = ptr[:-1].copy()
    for e in range(keys.size):
        k = keys[e]
        order[fill[k]] = e
        fill[k] += 1


def group_by(keys: np.ndarray, num_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """``(ptr, order)`` with ``order[ptr[k]:ptr[k+1]]`` the positions holding key ``k``, in order.

    A stable counting sort, O(m) and no argsort temporaries.

    Examples
    --------
    >>> ptr, order = group_by(np.array([2, 0, 2, 1], dtype=np.int32), 3)
    >>> ptr.tolist(), order.tolist()
    ([0, 1, 2, 4], [1, 3, 0, 2])
    """
    index_type = np.int32 if keys.size < 2**31 else np.int64
    ptr = bounds(keys, num_keys)
    order = np.empty(keys.size, dtype=index_type)
    _counting_sort(keys, ptr, order)
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


def sorted_distinct(ids: np.ndarray, size: int, k: int | None = None, *, repeats: bool = True) -> np.ndarray:
    """The distinct values of ``ids[:k]`` (all of ``ids`` if ``k`` is None), integers in
    ``[0, size)``, sorted (intp); ``repeats=False`` promises they are distinct already.

    Few ids are sorted; many are set as bits of a bitmap of ``size`` bits,
    which is then read in order: O(k + size / 64), and the bitmap (a 64th of
    a bool mask: 32 KiB for 262,144 vertices) stays in cache while the ids
    are set: 4,000 to
    70,000 ids of 262,144 take 0.20-0.39x a sort, and 0.14-0.54x a bool mask
    and ``np.flatnonzero`` (``benchmarks/kernels.py``).

    Examples
    --------
    >>> sorted_distinct(np.array([5, 1, 5, 3]), 8).tolist()
    [1, 3, 5]
    >>> sorted_distinct(np.array([9, 2, 7, 0]), 10, k=3).tolist()
    [2, 7, 9]
    """
    k = ids.size if k is None else k
    words = (size + 63) >> 6
    if k * 8 <= words:  # a scan of the whole bitmap would cost more than sorting so few
        out = np.sort(ids[:k]).astype(np.intp, copy=False)
        if out.size < 2 or not repeats:
            return out
        keep = np.empty(out.size, dtype=bool)
        keep[0] = True
        np.not_equal(out[1:], out[:-1], out=keep[1:])
        return out if keep.all() else out[keep]
    out = np.empty(k, dtype=np.intp)
    m = _sorted_by_bitmap(ids, k, size, np.zeros(words, dtype=np.uint64), out)
    if m < 0:  # unchecked, a bad id would have written outside the bitmap
        raise IndexError(f"sorted_distinct: an id outside [0, {size})")
    return out[:m]


@njit(cache=True)
def _sorted_by_bitmap(ids, k, size, words, out):  # pragma: no cover - compiled
    one = np.uint64(1)
    for i in range(k):
        v = ids[i]
        if v < 0 or v >= size:
            return -1
        words[v >> 6] |= one << np.uint64(v & 63)
    m = 0
    for w in range(words.size):
        x = words[w]
        base = w << 6
        while x:  # one set bit at a time, lowest first
            out[m] = base + np.int64(trailing_zeros(x))
            m += 1
            x &= x - one
    return m


@njit(cache=True)
def _sum_by_key(keys, weights, out):  # pragma: no cover - compiled
    for e in range(keys.size):
        out[keys[e]] += weights[e]


def count_keys(keys: np.ndarray, num_keys: int, weights: np.ndarray | None = None) -> np.ndarray:
    """``np.bincount(keys, weights, minlength=num_keys)`` without copying the keys to int64.

    Degrees are counts of edge endpoints: on 16.7M int32 endpoints this is a
    tenth of ``np.bincount``'s time, which first converts them.

    Examples
    --------
    >>> count_keys(np.array([2, 0, 2], dtype=np.int32), 4).tolist()
    [1, 0, 2, 0]
    >>> count_keys(np.array([1, 1]), 2, np.array([0.5, 2.0])).tolist()
    [0.0, 2.5]
    """
    if weights is None:
        ptr = np.zeros(num_keys + 1, dtype=np.int64)
        _count_keys(keys, ptr)
        return ptr[1:]
    out = np.zeros(num_keys, dtype=np.float64)
    _sum_by_key(keys, np.asarray(weights, dtype=np.float64), out)
    return out


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
    when ``edge_part`` is None, and then ``local_of`` is not read: local
    numbers are global ones).  Its endpoints ``local_of[src[e]]`` and
    ``local_of[dst[e]]`` go to ``out_src``/``out_dst``, grouped by
    destination, in edge order within a group (a stable counting sort, as
    scipy builds CSR), and ``e`` to ``out_eid`` if given.  Two compiled scans
    of the edge list and no per-edge temporary.  (Sorting each group by
    source as well was measured to cost 1.1 s at 16.7M edges and to win
    nothing in the sparse products.)

    Examples
    --------
    >>> src, dst = np.array([2, 0, 1, 0]), np.array([1, 1, 0, 1])
    >>> out_src, out_dst, out_eid = (np.empty(4, dtype=np.int64) for _ in range(3))
    >>> fill_part_edges(src, dst, None, 0, np.arange(3), 3, out_src, out_dst, out_eid)
    >>> out_dst.tolist(), out_src.tolist(), out_eid.tolist()
    ([0, 1, 1, 1], [1, 2, 0, 0], [2, 0, 1, 3])
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
    if every:
        for e in range(dst.size):
            ptr[dst[e] + 1] += 1
        return
    for e in range(dst.size):
        if part_of[e] == part:
            ptr[local_of[dst[e]] + 1] += 1


@njit(cache=True)
def _place_part_edges(
    src,
    dst,
    part_of,
    every,
    part,
    local_of,
    ptr,  # pragma: no cover - compiled
    out_src,
    out_dst,
    eid,
    with_eid,
):
    fill = ptr[:-1].copy()
    for e in range(dst.size):
        if every:
            d = dst[e]
            s = src[e]
        elif part_of[e] == part:
            d = local_of[dst[e]]
            s = local_of[src[e]]
        else:
            continue
        k = fill[d]
        fill[d] = k + 1
        out_src[k] = s
        out_dst[k] = d
        if with_eid:
            eid[k] = e


def take_into(x: np.ndarray, index: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[:] = x[index]`` for 1-D arrays, compiled, into a buffer the caller keeps.

    ``x[index]`` allocates its result every time, and a fresh array of
    megabytes is page-faulted in as it is written: for the hot-first
    permutation of a superstep's neighbour values that was half its cost.
    (``np.take(x, index, out=out)`` first converts an int32 index to intp,
    a fresh array again: 9-10 ms against 2.6-4.3 ms, 700,000 values.)
    ``index`` must lie in ``[0, x.size)`` (it is the engine's own
    permutation; the compiled loop does not check, and checking would cost
    a pass of its own).

    Examples
    --------
    >>> out = np.empty(3)
    >>> take_into(np.array([5.0, 6.0, 7.0]), np.array([2, 0, 1]), out).tolist()
    [7.0, 5.0, 6.0]
    """
    if index.size != out.size or x.dtype != out.dtype:
        raise ValueError(f"take_into: {index.size} indices into an out of {out.size} {out.dtype} for {x.dtype} values")
    _take_into(x, index, out)
    return out


@njit(cache=True)
def _take_into(x, index, out):  # pragma: no cover - compiled
    for i in range(index.size):
        out[i] = x[index[i]]


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


# ------------------------------------------------------- semiring gathers
#: Combines and edge operations the compiled neighbour gather handles.
SEMIRING_COMBINES = {np.add: 0, np.minimum: 1, np.maximum: 2}
SEMIRING_OPS = {None: 0, np.add: 1, np.multiply: 2}


@njit(cache=True)
def _semiring(ptr, nbr, data, x, rows, all_rows, combine, op, neutral, out):  # pragma: no cover - compiled
    for r in range(out.size):
        i = r if all_rows else rows[r]
        acc = neutral
        for j in range(ptr[i], ptr[i + 1]):
            v = x[nbr[j]]
            if op == 1:
                v = v + data[j]
            elif op == 2:
                v = v * data[j]
            if combine == 0:
                acc += v
            elif combine == 1:
                if v < acc or v != v:  # NaN wins, as in np.minimum
                    acc = v
            elif v > acc or v != v:
                acc = v
        out[r] = acc


def semiring_gather(
    ptr: np.ndarray,
    nbr: np.ndarray,
    data: np.ndarray | None,
    x: np.ndarray,
    rows: np.ndarray | None,
    combine: np.ufunc,
    op: np.ufunc | None,
    dtype: np.dtype,
) -> np.ndarray:
    """``out[r] = combine over the row's edges j of op(x[nbr[j]], data[j])``, compiled.

    The neighbour-only gather of :class:`~gasengine.VertexProgram` for
    ``combine`` in ``np.add``, ``np.minimum``, ``np.maximum`` and ``op`` in
    ``None`` (no edge field), ``np.add`` (min-plus: shortest paths),
    ``np.multiply``; ``x`` one scalar per vertex.  An empty row gets the
    combine's neutral element; NaN propagates as with the ufuncs.

    Examples
    --------
    >>> ptr = np.array([0, 2, 2, 3]); nbr = np.array([1, 2, 0], dtype=np.int32)
    >>> x = np.array([5.0, 1.0, 3.0]); w = np.array([1.0, 1.0, 2.0])
    >>> semiring_gather(ptr, nbr, w, x, None, np.minimum, np.add, np.dtype(float)).tolist()
    [2.0, inf, 7.0]
    """
    from .program import neutral_element

    count = ptr.size - 1 if rows is None else rows.size
    out = np.empty(count, dtype=dtype)
    neutral = dtype.type(neutral_element(combine, dtype))
    weights = data if data is not None else np.zeros(1, dtype=dtype)
    x = np.ascontiguousarray(x, dtype=dtype)
    _semiring(
        ptr,
        nbr,
        weights,
        x,
        np.zeros(0, np.int64) if rows is None else rows,
        rows is None,
        SEMIRING_COMBINES[combine],
        SEMIRING_OPS[op if data is not None else None],
        neutral,
        out,
    )
    return out


@njit(cache=True)
def _first_occurrences(ids, mark, uniq, inverse):  # pragma: no cover - compiled
    k = 0
    for i in range(ids.size):
        v = ids[i]
        if mark[v] < 0:
            mark[v] = k
            uniq[k] = v
            k += 1
        inverse[i] = mark[v]
    for j in range(k):  # leave the scratch array as it was
        mark[uniq[j]] = -1
    return k


def distinct(ids: np.ndarray, scratch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``ids`` in order of first occurrence, and where each value of ``ids`` went.

    ``scratch`` is an int array of -1 covering every possible value (it is
    left as it was); O(len(ids)), no sort: ``uniq[inverse] == ids``.

    Examples
    --------
    >>> scratch = np.full(10, -1, dtype=np.int64)
    >>> u, inv = distinct(np.array([7, 3, 7, 1]), scratch)
    >>> u.tolist(), inv.tolist(), bool((scratch == -1).all())
    ([7, 3, 1], [0, 1, 0, 2], True)
    """
    uniq = np.empty(ids.size, dtype=ids.dtype)
    inverse = np.empty(ids.size, dtype=np.intp)
    k = _first_occurrences(ids, scratch, uniq, inverse)
    return uniq[:k], inverse


@njit(cache=True)
def _lowest_by_id(ids, prio, best, touched):  # pragma: no cover - compiled
    k = 0
    for i in range(ids.size):
        v = ids[i]
        b = best[v]
        if b != b:  # NaN: first time this id is seen
            touched[k] = v
            k += 1
            best[v] = prio[i]
        elif prio[i] < b:
            best[v] = prio[i]
    return k


@njit(cache=True)
def _push_lowest(ptr, nbr, who, prio, best, touched, k, cond):  # pragma: no cover - compiled
    check = cond.size > 0
    for i in range(who.size):
        p = prio[i]
        if not p < np.inf:
            continue
        v = who[i]
        for j in range(ptr[v], ptr[v + 1]):
            u = nbr[j]
            if check and not cond[u]:
                continue
            b = best[u]
            if b != b:
                touched[k] = u
                k += 1
                best[u] = p
            elif p < b:
                best[u] = p
    return k


def push_lowest(
    grouped: list[tuple[np.ndarray, np.ndarray]],
    who: np.ndarray,
    priorities: np.ndarray,
    scratch: np.ndarray,
    cond: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every neighbour of the vertices ``who`` over the groupings ``(ptr, nbr)``, sorted, each with the
    lowest priority of its neighbours in ``who`` (``np.inf``: that vertex signals nobody).

    ``scratch`` is a float array of NaN covering every vertex (left as it was);
    ``cond`` (a bool per vertex) leaves out the neighbours where it is False.

    Examples
    --------
    >>> ptr, nbr = np.array([0, 2, 3, 3]), np.array([1, 2, 2])  # 0 -> 1, 0 -> 2, 1 -> 2
    >>> ids, low = push_lowest([(ptr, nbr)], np.array([0, 1]), np.array([5.0, 1.0]), np.full(3, np.nan))
    >>> ids.tolist(), low.tolist()
    ([1, 2], [5.0, 1.0])
    """
    who = np.asarray(who, dtype=np.int64)
    priorities = np.asarray(priorities, dtype=np.float64)
    touched = np.empty(_edge_count(grouped, who), dtype=np.intp)
    k = 0
    flags = _NO_COND if cond is None else cond
    for ptr, nbr in grouped:
        k = _push_lowest(ptr, nbr, who, priorities, scratch, touched, k, flags)
    return _sorted_lowest(touched, k, scratch)


_NO_COND = np.zeros(0, dtype=np.bool_)  # "no condition" for the compiled pushes


def _edge_count(grouped: list[tuple[np.ndarray, np.ndarray]], who: np.ndarray) -> int:
    """How many edges the vertices ``who`` have over all the groupings (what a push may touch)."""
    return sum(int((ptr[who + 1] - ptr[who]).sum()) for ptr, _ in grouped)


def _sorted_lowest(touched: np.ndarray, k: int, scratch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` ids touched, sorted, with their values in ``scratch``, which is reset to NaN."""
    touched = sorted_distinct(touched, scratch.size, k, repeats=False)
    low = scratch[touched]
    scratch[touched] = np.nan
    return touched, low


def lowest_by_id(ids: np.ndarray, priorities: np.ndarray, scratch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct ``ids``, sorted, each with the lowest of its priorities.

    ``scratch`` is a float array of NaN covering every possible id (left as
    it was).  O(len(ids)) plus a sort of the distinct ids; priorities must
    not be NaN.

    Examples
    --------
    >>> scratch = np.full(10, np.nan)
    >>> ids, low = lowest_by_id(np.array([4, 2, 4]), np.array([3.0, 1.0, 0.5]), scratch)
    >>> ids.tolist(), low.tolist(), bool(np.isnan(scratch).all())
    ([2, 4], [1.0, 0.5], True)
    """
    touched = np.empty(ids.size, dtype=np.intp)
    k = _lowest_by_id(ids, np.asarray(priorities, dtype=np.float64), scratch, touched)
    return _sorted_lowest(touched, k, scratch)


@njit(cache=True)
def _scatter_combine(target, index, values, combine):  # pragma: no cover - compiled
    for i in range(index.size):
        k = index[i]
        v = values[i]
        if combine == 0:
            target[k] += v
        elif combine == 1:
            if v < target[k]:
                target[k] = v
        elif v > target[k]:
            target[k] = v


def combine_at(ufunc: np.ufunc, target: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``ufunc.at(target, index, values)``: compiled for add, minimum and maximum of scalars.

    Examples
    --------
    >>> t = np.array([5, 5, 5])
    >>> combine_at(np.minimum, t, np.array([0, 2, 0]), np.array([3, 9, 1]))
    >>> t.tolist()
    [1, 5, 5]
    """
    if ufunc in SEMIRING_COMBINES and target.ndim == 1 and target.dtype.kind in "iuf":
        _scatter_combine(target, index, values.astype(target.dtype, copy=False), SEMIRING_COMBINES[ufunc])
    else:
        ufunc.at(target, index, values)


# ------------------------------------------------------- writes to neighbours
@njit(cache=True)
def _push_combine(ptr, nbr, who, values, out, combine, mark, touched, k, cond):  # pragma: no cover - compiled
    track = mark.size > 0
    check = cond.size > 0
    for i in range(who.size):
        x = values[i]
        v = who[i]
        for j in range(ptr[v], ptr[v + 1]):
            u = nbr[j]
            if check and not cond[u]:
                continue
            if combine == 0:
                out[u] += x
            elif combine == 1:
                if x < out[u]:
                    out[u] = x
            elif x > out[u]:
                out[u] = x
            if track and not mark[u]:
                mark[u] = True
                touched[k] = u
                k += 1
    return k


def push_combine(
    grouped: list[tuple[np.ndarray, np.ndarray]],
    who: np.ndarray,
    values: np.ndarray,
    out: np.ndarray,
    ufunc: np.ufunc,
    mark: np.ndarray | None = None,
    cond: np.ndarray | None = None,
) -> np.ndarray | None:
    """``ufunc.at(out, n, values[i])`` for every neighbour ``n`` of every ``who[i]`` over the
    groupings ``(ptr, nbr)``: a vertex's value folded into all its neighbours, with no per-edge array
    (compiled for add, minimum and maximum on a 1-D numeric ``out``).

    With ``mark`` (a bool per vertex, all False; left so) it also returns
    the neighbours touched, sorted; ``cond`` (a bool per vertex) leaves out
    the neighbours where it is False.

    Examples
    --------
    >>> ptr, nbr = np.array([0, 2, 3, 3]), np.array([1, 2, 2])  # 0 -> 1, 0 -> 2, 1 -> 2
    >>> out = np.zeros(3, dtype=np.int64)
    >>> push_combine([(ptr, nbr)], np.array([0, 1]), np.array([5, 1]), out, np.add, np.zeros(3, bool)).tolist()
    [1, 2]
    >>> out.tolist()
    [0, 5, 6]
    """
    who = np.asarray(who, dtype=np.int64)
    values = np.asarray(values).astype(out.dtype, copy=False)
    if ufunc not in SEMIRING_COMBINES or out.ndim != 1 or out.dtype.kind not in "iuf":
        # a ufunc the compiled pass does not know: each grouping's edges of ``who`` as arrays, then ufunc.at
        index = []
        for ptr, nbr in grouped:
            edges, _, _ = _frontier_edges(ptr, who)
            ends = nbr[edges]
            vals = np.repeat(values, (ptr[who + 1] - ptr[who]).astype(np.int64), axis=0)
            if cond is not None:
                ends, vals = ends[cond[ends]], vals[cond[ends]]
            index.append(ends)
            ufunc.at(out, ends, vals)
        return None if mark is None else np.unique(np.concatenate(index)).astype(np.intp)
    touched = np.empty(_edge_count(grouped, who) if mark is not None else 0, dtype=np.intp)
    flags = _NO_COND if mark is None else mark  # an empty mark: nothing tracked
    k = 0
    check = _NO_COND if cond is None else cond
    for ptr, nbr in grouped:
        k = _push_combine(ptr, nbr, who, values, out, SEMIRING_COMBINES[ufunc], flags, touched, k, check)
    if mark is None:
        return None
    touched = sorted_distinct(touched, mark.size, k, repeats=False)
    mark[touched] = False
    return touched


def split_below(ids: np.ndarray, prio: np.ndarray, bound: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ids[prio < bound], ids[prio >= bound], prio[prio >= bound])`` in one compiled pass; with
    ``bound = -inf``, the ids at ``-inf`` are taken (a delta-stepping bucket's vertices, and the rest).

    Examples
    --------
    >>> taken, rest, rest_prio = split_below(np.array([1, 4, 6]), np.array([5.0, 2.0, 1.0]), 3.0)
    >>> taken.tolist(), rest.tolist(), rest_prio.tolist()
    ([4, 6], [1], [5.0])
    """
    ids = np.asarray(ids, dtype=np.intp)
    prio = np.asarray(prio, dtype=np.float64)
    taken, rest, rest_prio, k = _split_below(ids, prio, float(bound), bound == -np.inf)
    return taken[:k], rest[: ids.size - k], rest_prio[: ids.size - k]


@njit(cache=True)
def _split_below(ids, prio, bound, at_bound):  # pragma: no cover - compiled
    taken = np.empty(ids.size, dtype=np.intp)
    rest = np.empty(ids.size, dtype=np.intp)
    rest_prio = np.empty(ids.size, dtype=np.float64)
    k = r = 0
    for i in range(ids.size):
        if prio[i] < bound or (at_bound and prio[i] == bound):
            taken[k] = ids[i]
            k += 1
        else:
            rest[r], rest_prio[r] = ids[i], prio[i]
            r += 1
    return taken, rest, rest_prio, k


@njit(cache=True)
def _merge_lowest(ids_a, prio_a, ids_b, prio_b):  # pragma: no cover - compiled
    ids = np.empty(ids_a.size + ids_b.size, dtype=np.intp)
    prio = np.empty(ids_a.size + ids_b.size, dtype=np.float64)
    i = j = k = 0
    while i < ids_a.size or j < ids_b.size:
        if j == ids_b.size or (i < ids_a.size and ids_a[i] < ids_b[j]):
            ids[k], prio[k] = ids_a[i], prio_a[i]
            i += 1
        elif i == ids_a.size or ids_b[j] < ids_a[i]:
            ids[k], prio[k] = ids_b[j], prio_b[j]
            j += 1
        else:
            ids[k], prio[k] = ids_a[i], min(prio_a[i], prio_b[j])
            i += 1
            j += 1
        k += 1
    return ids[:k], prio[:k]


def merge_lowest(
    ids_a: np.ndarray, prio_a: np.ndarray, ids_b: np.ndarray, prio_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted lists of distinct ids with priorities merged into one, a shared id keeping the lower
    priority: one linear pass (a waiting list and a step's signals, in delta-stepping).

    Examples
    --------
    >>> ids, prio = merge_lowest(np.array([1, 4]), np.array([5.0, 2.0]), np.array([4, 6]), np.array([3.0, 1.0]))
    >>> ids.tolist(), prio.tolist()
    ([1, 4, 6], [5.0, 2.0, 1.0])
    """
    return _merge_lowest(
        np.asarray(ids_a, dtype=np.intp),
        np.asarray(prio_a, dtype=np.float64),
        np.asarray(ids_b, dtype=np.intp),
        np.asarray(prio_b, dtype=np.float64),
    )
