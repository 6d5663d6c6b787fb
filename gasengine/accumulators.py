"""Accumulators beyond ufuncs: counting keys per vertex.

A program whose ``combine`` is :data:`count_by_key` gathers, per edge, an
integer *key* (and optionally a weight): ``gather(e)`` returns the keys, or
a ``(keys, weights)`` pair (``gather_nbr(u)`` works too: one key per
neighbour).  ``apply(v, acc)`` then receives a :class:`KeyCounts`: for every
vertex of the batch, the distinct keys its edges brought, sorted, each with
its summed weight (its count, without weights).  Partial counts from the
parts holding a vertex's edges are merged at its master, so the counts are
the same for every number of parts and workers.

Label propagation is the example: every vertex takes the label most
frequent among its neighbours,

>>> import numpy as np
>>> from gasengine import ALL, Graph, VertexProgram, count_by_key, run
>>> class Majority(VertexProgram):
...     gather_edges = ALL
...     combine = count_by_key
...     def init(self, v): v.data["label"] = v.ids % 2
...     def gather_nbr(self, u): return u.data["label"]
...     def apply(self, v, acc): v.data["label"] = acc.argmax(default=v.data["label"])
>>> run(Majority(), Graph([0, 0, 0, 1], [1, 2, 3, 2]), max_supersteps=1).field("label").tolist()
[1, 0, 0, 0]

(vertex 2 sees one neighbour of each label: ties go to the smallest key).

Everything is vectorised: counts are grouped by a compiled counting sort
over the batch's vertices, then keys are sorted within each vertex
(O(edges x log degree)), never one Python statement per edge.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit


class KeyedCombine:
    """A ``combine`` that groups keys per vertex instead of folding with a ufunc; one instance of each
    subclass exists, under the module-level name ``__name__``."""

    __name__ = ""

    def __repr__(self) -> str:
        return f"gasengine.{self.__name__}"

    def __reduce__(self) -> str:  # the one instance, also in worker processes
        return self.__name__


class CountByKey(KeyedCombine):
    """The ``combine`` that counts keys per vertex (see the module docstring); use :data:`count_by_key`."""

    __name__ = "count_by_key"


#: Set ``combine = count_by_key`` to receive a :class:`KeyCounts` in ``apply``.
count_by_key = CountByKey()


class Collect(KeyedCombine):
    """The ``combine`` that collects the distinct values gathered per vertex; use :data:`collect`.

    ``gather(e)`` (or ``gather_nbr(u)``) returns one integer per edge — an
    id, a label; ``apply(v, acc)`` receives a :class:`~gasengine.Ragged`:
    row ``i`` holds the sorted distinct values the edges of the batch's
    ``i``-th vertex brought, merged over every part holding them.  Store it
    as a vertex field (``v.data["nbrs"] = acc``) and read it at either end
    of an edge in a later ``gather`` or ``scatter``; the compiled
    :func:`~gasengine.intersection_sizes` intersects such rows per edge.

    >>> import numpy as np
    >>> from gasengine import ALL, Graph, Ragged, VertexProgram, collect, run
    >>> class Neighbours(VertexProgram):
    ...     gather_edges = ALL
    ...     combine = collect
    ...     def init(self, v): v.data["nbrs"] = Ragged.empty(len(v))
    ...     def gather_nbr(self, u): return u.ids
    ...     def apply(self, v, acc): v.data["nbrs"] = acc
    >>> run(Neighbours(), Graph([0, 0, 2], [1, 2, 1]), max_supersteps=1).field("nbrs").tolist()
    [[1, 2], [0, 2], [0, 1]]
    """

    __name__ = "collect"


#: Set ``combine = collect`` to receive a :class:`~gasengine.Ragged` of distinct values in ``apply``.
collect = Collect()

#: The combines that group keys per vertex instead of folding values with a ufunc.
KEYED_COMBINES = (count_by_key, collect)


class KeyCounts:
    """Per vertex of a batch, the sorted distinct keys gathered and their summed weights.

    Row ``i`` (the batch's ``i``-th vertex) holds ``keys[ptr[i]:ptr[i+1]]``
    (ascending) with ``weights[ptr[i]:ptr[i+1]]``.  Read-only.

    Examples
    --------
    >>> kc = KeyCounts.from_pairs(np.array([0, 0, 0, 2]), np.array([5, 3, 5, 7]), None, 3)
    >>> kc.ptr.tolist(), kc.keys.tolist(), kc.weights.tolist()
    ([0, 2, 2, 3], [3, 5, 7], [1, 2, 1])
    >>> kc.argmax(default=-1).tolist(), kc.sizes().tolist()
    ([5, -1, 7], [2, 0, 1])
    """

    __slots__ = ("keys", "ptr", "weights")

    def __init__(self, ptr: np.ndarray, keys: np.ndarray, weights: np.ndarray):
        self.ptr, self.keys, self.weights = ptr, keys, weights
        for array in (ptr, keys, weights):
            array.flags.writeable = False

    # ----------------------------------------------------------- building
    @classmethod
    def from_pairs(cls, rows: np.ndarray, keys: np.ndarray, weights: np.ndarray | None, num_rows: int) -> KeyCounts:
        """Group ``(row, key, weight)`` triples (weights 1 when None) and sum equal ``(row, key)``."""
        keys = np.asarray(keys)
        if keys.size and keys.dtype.kind not in "iu":
            raise TypeError(f"count_by_key needs integer keys, got dtype {keys.dtype}")
        keys = keys.astype(np.int64, copy=False)
        if weights is None:
            weights = np.ones(keys.size, dtype=np.int64)
        weights = np.asarray(weights)
        if weights.dtype.kind not in "iuf":
            raise TypeError(f"count_by_key weights must be numbers, got dtype {weights.dtype}")
        if weights.dtype.kind != "f":
            weights = weights.astype(np.int64, copy=False)
        ptr, out_keys, out_weights = _group(np.asarray(rows, dtype=np.int64), keys, weights, num_rows)
        return cls(ptr, out_keys, out_weights)

    @classmethod
    def empty(cls, num_rows: int, weight_dtype: Any = np.int64) -> KeyCounts:
        return cls(np.zeros(num_rows + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=weight_dtype))

    def rows(self) -> np.ndarray:
        """The row of every entry."""
        return np.repeat(np.arange(len(self)), self.sizes())

    def take(self, rows: np.ndarray) -> KeyCounts:
        """The rows ``rows`` (in that order) as a new KeyCounts."""
        rows = np.asarray(rows, dtype=np.int64)
        sizes = self.sizes()[rows]
        ptr = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        index = _positions(self.ptr, rows, int(ptr[-1]))
        return KeyCounts(ptr, self.keys[index], self.weights[index])

    def head(self, count: int) -> KeyCounts:
        """The first ``count`` rows (a view)."""
        end = int(self.ptr[count])
        return KeyCounts(self.ptr[: count + 1], self.keys[:end], self.weights[:end])

    def plus(self, other: KeyCounts) -> KeyCounts:
        """Row by row, the keys of both with their weights summed (rows sorted, so one linear merge).

        Examples
        --------
        >>> a = KeyCounts.from_pairs(np.array([0, 0, 1]), np.array([1, 3, 2]), None, 2)
        >>> b = KeyCounts.from_pairs(np.array([0, 1]), np.array([3, 5]), None, 2)
        >>> c = a.plus(b); c.ptr.tolist(), c.keys.tolist(), c.weights.tolist()
        ([0, 2, 4], [1, 3, 2, 5], [1, 2, 1, 1])
        """
        weight = np.result_type(self.weights, other.weights)
        ptr, keys, weights = _merge_some_rows(
            self.ptr,
            self.keys,
            self.weights.astype(weight, copy=False),
            np.arange(len(self), dtype=np.int64),  # every row of one with the same row of the other
            other.ptr,
            other.keys,
            other.weights.astype(weight, copy=False),
        )
        return KeyCounts(ptr, keys, weights)

    def merged(self, parts: list[tuple[np.ndarray, KeyCounts]]) -> KeyCounts:
        """These counts plus ``(rows, counts)`` of other parts, summed per row and key.

        Row ``i`` of ``counts`` adds to row ``rows[i]`` of these.  Ascending
        ``rows`` (what the exchange delivers) are merged in one linear pass
        over both, which copies the other rows as they are; any other order
        regroups everything.

        Examples
        --------
        >>> a = KeyCounts.from_pairs(np.array([0, 1, 2]), np.array([5, 6, 7]), None, 3)
        >>> b = KeyCounts.from_pairs(np.array([0, 1]), np.array([7, 1]), None, 2)
        >>> m = a.merged([(np.array([2, 1]), b)]); m.keys.tolist(), m.weights.tolist()
        ([5, 1, 6, 7], [1, 1, 1, 2])
        """
        if not parts:
            return self
        if all(rows.size == len(c) and (rows.size < 2 or bool((np.diff(rows) > 0).all())) for rows, c in parts):
            out = self
            for at, counts in parts:
                wtype = np.result_type(out.weights, counts.weights)
                merged = _merge_some_rows(
                    out.ptr,
                    out.keys,
                    out.weights.astype(wtype, copy=False),
                    np.asarray(at, dtype=np.int64),
                    counts.ptr,
                    counts.keys,
                    counts.weights.astype(wtype, copy=False),
                )
                out = KeyCounts(*merged)
            return out
        rows = [self.rows()] + [r[c.rows()] for r, c in parts]
        keys = [self.keys] + [c.keys for _, c in parts]
        weights = [self.weights] + [c.weights for _, c in parts]
        weight = np.result_type(*weights)
        return KeyCounts.from_pairs(
            np.concatenate(rows),
            np.concatenate(keys),
            np.concatenate([w.astype(weight, copy=False) for w in weights]),
            len(self),
        )

    @classmethod
    def of_neighbours(
        cls,
        ptr: np.ndarray,
        nbr: np.ndarray,
        x: np.ndarray,
        rows: np.ndarray | None,
        also: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> KeyCounts:
        """Per row ``r`` (``rows``, or every row), the values ``x[nbr[j]]`` of its neighbours ``j`` in
        ``ptr[r]:ptr[r+1]`` counted by key, in one compiled pass over the grouping (no per-edge array).

        ``also=(ptr2, nbr2)``: a second grouping of the same rows (a vertex's
        out-edges beside its in-edges), counted in the same pass — cheaper
        than counting each and merging the two.

        Examples
        --------
        >>> ptr, nbr = np.array([0, 3, 3, 4]), np.array([1, 2, 2, 0])
        >>> kc = KeyCounts.of_neighbours(ptr, nbr, np.array([7, 5, 9]), None)
        >>> kc.ptr.tolist(), kc.keys.tolist(), kc.weights.tolist()
        ([0, 2, 2, 3], [5, 9, 7], [1, 2, 1])
        >>> both = KeyCounts.of_neighbours(ptr, nbr, np.array([7, 5, 9]), None, also=(np.array([0, 1, 1, 1]), [2]))
        >>> both.keys.tolist(), both.weights.tolist()
        ([5, 9, 7], [1, 3, 1])
        """
        rows = np.arange(ptr.size - 1) if rows is None else np.asarray(rows, dtype=np.int64)
        ptr, nbr = np.asarray(ptr), np.asarray(nbr)
        if also is None:  # an empty second grouping: no row has edges there
            ptr2, nbr2 = np.zeros(ptr.size, dtype=ptr.dtype), np.zeros(0, dtype=nbr.dtype)
        else:  # of the first one's types: the compiled pass takes either through one variable
            ptr2 = np.asarray(also[0]).astype(ptr.dtype, copy=False)
            nbr2 = np.asarray(also[1]).astype(nbr.dtype, copy=False)
            if ptr2.size != ptr.size:
                raise ValueError(f"of_neighbours: the second grouping has {ptr2.size - 1} rows, not {ptr.size - 1}")
        x = x.astype(np.int64, copy=False)
        total, lo, hi = _key_bounds(ptr, nbr, ptr2, nbr2, x, rows)
        span = int(hi) - int(lo) + 1
        slot = _slot_table(span) if 0 < span <= 4 * x.size + 65536 else _SLOTS[0][:0]
        out_ptr, keys, weights = _count_neighbours(ptr, nbr, ptr2, nbr2, x, rows, total, lo, slot)
        return cls(out_ptr, keys, weights)

    # ------------------------------------------------------------ reading
    def __len__(self) -> int:
        return self.ptr.size - 1

    @property
    def nbytes(self) -> int:
        """Bytes of its arrays (what a message of these counts carries)."""
        return self.ptr.nbytes + self.keys.nbytes + self.weights.nbytes

    def sizes(self) -> np.ndarray:
        """Number of distinct keys of every row."""
        return np.diff(self.ptr)

    def totals(self) -> np.ndarray:
        """Summed weight of every row."""
        return _segment_sum(self.ptr, self.weights)

    def argmax(self, default: Any = -1, tie: str = "smallest") -> np.ndarray:
        """Per row, the key of the largest weight; ties go to the ``"smallest"`` (or ``"largest"``)
        key; ``default`` (a scalar or one value per row) for rows without keys.

        Examples
        --------
        >>> kc = KeyCounts.from_pairs(np.array([0, 0, 1, 1]), np.array([4, 2, 9, 9]), None, 2)
        >>> kc.argmax().tolist(), kc.argmax(tie="largest").tolist()
        ([2, 9], [4, 9])
        """
        if tie not in ("smallest", "largest"):
            raise ValueError(f"tie must be 'smallest' or 'largest', got {tie!r}")
        best = _segment_argmax(self.ptr, self.keys, self.weights.astype(np.float64), tie == "largest")
        out = np.broadcast_to(np.asarray(default), (len(self),)).astype(np.int64, copy=True)
        has = best >= 0
        out[has] = self.keys[best[has]]
        return out

    def max_weight(self) -> np.ndarray:
        """Per row, the largest weight (0 for rows without keys).

        Examples
        --------
        >>> KeyCounts.from_pairs(np.array([0, 0, 0]), np.array([4, 2, 4]), None, 2).max_weight().tolist()
        [2, 0]
        """
        return _segment_max(self.ptr, self.weights)

    def weight_of(self, keys: np.ndarray) -> np.ndarray:
        """Per row ``i``, the weight of key ``keys[i]`` there (0 if absent); a binary search per row.

        Examples
        --------
        >>> kc = KeyCounts.from_pairs(np.array([0, 0, 0, 1]), np.array([4, 2, 4, 7]), None, 2)
        >>> kc.weight_of(np.array([4, 3])).tolist()
        [2, 0]
        """
        keys = np.broadcast_to(np.asarray(keys, dtype=np.int64), (len(self),))
        return _weight_of(self.ptr, self.keys, self.weights, np.ascontiguousarray(keys))

    def __repr__(self) -> str:
        return f"KeyCounts({len(self)} rows, {self.keys.size} keys)"


# ---------------------------------------------------------------- compiled
@njit(cache=True)
def _group(rows, keys, weights, num_rows):  # pragma: no cover - compiled
    """Counting sort by row, sort keys within each row, sum equal keys.

    Rows are sorted in place in one buffer: short rows (most of them) by
    insertion sort, long ones through an argsort of their slice — no array
    made per row, which cost most of a k-core run.
    """
    counts = np.zeros(num_rows + 1, dtype=np.int64)
    in_order = True  # a gather's chunks bring each row's edges together: no scatter into buffers needed
    for i in range(rows.size):
        counts[rows[i] + 1] += 1
        if i and rows[i] < rows[i - 1]:
            in_order = False
    for r in range(num_rows):
        counts[r + 1] += counts[r]
    if in_order:
        bk = keys.copy()
        bw = weights.copy()
    else:
        fill = counts[:-1].copy()
        bk = np.empty(rows.size, dtype=np.int64)
        bw = np.empty(rows.size, dtype=weights.dtype)
        for i in range(rows.size):
            j = fill[rows[i]]
            bk[j], bw[j] = keys[i], weights[i]
            fill[rows[i]] += 1
    # Keys in a small range (labels, core values: vertex numbers at most) are first summed per row in
    # a table indexed by key, in O(entries); only the distinct keys are then sorted.  Sorting every
    # entry cost most of a label propagation or k-core run on graphs with hubs.
    lo_key, hi_key = 0, -1
    if keys.size:
        lo_key, hi_key = keys.min(), keys.max()
    span = hi_key - lo_key + 1
    use_table = keys.size > 0 and span <= max(4 * keys.size, 1 << 16)
    slot = np.full(span if use_table else 0, -1, dtype=np.int64)
    out_ptr = np.zeros(num_rows + 1, dtype=np.int64)
    k = 0
    for r in range(num_rows):
        lo, hi = counts[r], counts[r + 1]
        if use_table and hi - lo > 32:
            start = k  # k <= lo: the distinct keys are written over entries already read
            for i in range(lo, hi):
                key = bk[i]
                at = slot[key - lo_key]
                if at < start:  # first time in this row (slots of earlier rows point below start)
                    slot[key - lo_key] = k
                    bk[k], bw[k] = key, bw[i]
                    k += 1
                else:
                    bw[at] += bw[i]
            _sort_pairs(bk, bw, start, k)
            out_ptr[r + 1] = k
            continue
        _sort_pairs(bk, bw, lo, hi)
        k = _sum_equal_keys(bk, bw, lo, hi, k)
        out_ptr[r + 1] = k
    return out_ptr, bk[:k].copy(), bw[:k].copy()


@njit(cache=True)
def _sum_equal_keys(bk, bw, lo, hi, k):  # pragma: no cover - compiled
    """Sum the weights of equal keys of the sorted ``bk[lo:hi]``, writing the distinct keys from
    ``k <= lo`` on (never ahead of the reads); returns the position after the last one."""
    j = lo
    while j < hi:
        key, total = bk[j], bw[j]
        j += 1
        while j < hi and bk[j] == key:
            total += bw[j]
            j += 1
        bk[k], bw[k] = key, total
        k += 1
    return k


@njit(cache=True)
def _sort_pairs(bk, bw, lo, hi):  # pragma: no cover - compiled
    """Sort ``bk[lo:hi]`` ascending, carrying ``bw`` along (insertion sort when short, stable)."""
    if hi - lo <= 32:
        for i in range(lo + 1, hi):
            key, w = bk[i], bw[i]
            j = i - 1
            while j >= lo and bk[j] > key:
                bk[j + 1], bw[j + 1] = bk[j], bw[j]
                j -= 1
            bk[j + 1], bw[j + 1] = key, w
    else:
        order = np.argsort(bk[lo:hi], kind="mergesort")
        sk, sw = bk[lo:hi][order], bw[lo:hi][order]
        bk[lo:hi], bw[lo:hi] = sk, sw


@njit(cache=True)
def _key_bounds(ptr, nbr, ptr2, nbr2, x, rows):  # pragma: no cover - compiled
    """``(edges, lowest key, highest key)`` of the rows' neighbours in both groupings (keys ``x[nbr[j]]``).

    A few rows read their own neighbours' keys; rows with many edges read all
    of ``x`` once instead (fewer reads, in order).
    """
    total = 0
    for r in rows:
        total += ptr[r + 1] - ptr[r] + ptr2[r + 1] - ptr2[r]
    if total == 0:
        return 0, 0, -1
    if 4 * total >= x.size:
        return total, x.min(), x.max()
    lo, hi = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    for r in rows:
        for grouping in range(2):
            p, q = (ptr, nbr) if grouping == 0 else (ptr2, nbr2)
            for j in range(p[r], p[r + 1]):
                key = x[q[j]]
                lo, hi = min(lo, key), max(hi, key)
    return total, lo, hi


@njit(cache=True)
def _count_neighbours(ptr, nbr, ptr2, nbr2, x, rows, total, lo_key, slot):  # pragma: no cover - compiled
    """KeyCounts of ``x[nbr[j]]`` over each row's neighbours in both groupings.

    With a table ``slot`` (all -1, at least the span of the keys, from
    ``lo_key``) keys are summed in it, and it is left all -1 again;
    without one (empty) each row's keys are sorted and equal ones summed.
    """
    keys = np.empty(total, dtype=np.int64)
    weights = np.empty(total, dtype=np.int64)
    out_ptr = np.zeros(rows.size + 1, dtype=np.int64)
    use_table = slot.size > 0
    k = 0
    for i in range(rows.size):
        r = rows[i]
        start = k
        for grouping in range(2):
            p, q = (ptr, nbr) if grouping == 0 else (ptr2, nbr2)
            if use_table:
                for j in range(p[r], p[r + 1]):
                    key = x[q[j]]
                    at = slot[key - lo_key]
                    if at < start:  # first time in this row (slots of earlier rows point below start)
                        slot[key - lo_key] = k
                        keys[k], weights[k] = key, 1
                        k += 1
                    else:
                        weights[at] += 1
            else:
                for j in range(p[r], p[r + 1]):
                    keys[k], weights[k] = x[q[j]], 1
                    k += 1
        _sort_pairs(keys, weights, start, k)
        if not use_table:
            k = _sum_equal_keys(keys, weights, start, k, start)
        out_ptr[i + 1] = k
    if use_table:
        for i in range(k):
            slot[keys[i] - lo_key] = -1
    return out_ptr, keys[:k].copy(), weights[:k].copy()


#: The key table of :func:`_count_neighbours`, kept all -1 between calls (a fresh one per call was
#: O(vertices) for a colour class of a few hubs: half of label propagation's time on R-MAT 18).
_SLOTS = [np.empty(0, dtype=np.int64)]


def _slot_table(span: int) -> np.ndarray:
    """A table of at least ``span`` slots, all -1 (grown, never shrunk)."""
    if _SLOTS[0].size < span:
        _SLOTS[0] = np.full(span, -1, dtype=np.int64)
    return _SLOTS[0]


@njit(cache=True)
def _merge_some_rows(pa, ka, wa, rows, pb, kb, wb):  # pragma: no cover - compiled
    """Row ``i`` of b merged into row ``rows[i]`` of a (``rows`` ascending; keys ascend within rows),
    equal keys summed; a's other rows copied."""
    n = pa.size - 1
    ptr = np.zeros(n + 1, dtype=np.int64)
    keys = np.empty(ka.size + kb.size, dtype=np.int64)
    weights = np.empty(ka.size + kb.size, dtype=wa.dtype)
    k = 0
    j = 0  # the next row of b
    for r in range(n):
        i, end = pa[r], pa[r + 1]
        if j < rows.size and rows[j] == r:
            m, mend = pb[j], pb[j + 1]
            while i < end or m < mend:
                if m == mend or (i < end and ka[i] < kb[m]):
                    keys[k], weights[k] = ka[i], wa[i]
                    i += 1
                elif i == end or kb[m] < ka[i]:
                    keys[k], weights[k] = kb[m], wb[m]
                    m += 1
                else:
                    keys[k], weights[k] = ka[i], wa[i] + wb[m]
                    i += 1
                    m += 1
                k += 1
            j += 1
        else:
            size = end - i
            keys[k : k + size] = ka[i:end]
            weights[k : k + size] = wa[i:end]
            k += size
        ptr[r + 1] = k
    return ptr, keys[:k].copy(), weights[:k].copy()


@njit(cache=True)
def _positions(ptr, rows, total):  # pragma: no cover - compiled
    out = np.empty(total, dtype=np.int64)
    k = 0
    for r in rows:
        for j in range(ptr[r], ptr[r + 1]):
            out[k] = j
            k += 1
    return out


@njit(cache=True)
def _segment_sum(ptr, values):  # pragma: no cover - compiled
    out = np.zeros(ptr.size - 1, dtype=values.dtype)
    for r in range(ptr.size - 1):
        for j in range(ptr[r], ptr[r + 1]):
            out[r] += values[j]
    return out


@njit(cache=True)
def _segment_argmax(ptr, keys, weights, largest_key):  # pragma: no cover - compiled
    out = np.full(ptr.size - 1, -1, dtype=np.int64)
    for r in range(ptr.size - 1):
        for j in range(ptr[r], ptr[r + 1]):  # keys ascend within a row
            b = out[r]
            if b < 0 or weights[j] > weights[b] or (largest_key and weights[j] == weights[b]):
                out[r] = j
    return out


@njit(cache=True)
def _segment_max(ptr, values):  # pragma: no cover - compiled
    out = np.zeros(ptr.size - 1, dtype=values.dtype)
    for r in range(ptr.size - 1):
        for j in range(ptr[r], ptr[r + 1]):
            if j == ptr[r] or values[j] > out[r]:
                out[r] = values[j]
    return out


@njit(cache=True)
def _weight_of(ptr, keys, weights, wanted):  # pragma: no cover - compiled
    out = np.zeros(ptr.size - 1, dtype=weights.dtype)
    for r in range(ptr.size - 1):
        lo, hi = ptr[r], ptr[r + 1]
        while lo < hi:
            mid = (lo + hi) // 2
            if keys[mid] < wanted[r]:
                lo = mid + 1
            else:
                hi = mid
        if lo < ptr[r + 1] and keys[lo] == wanted[r]:
            out[r] = weights[lo]
    return out
