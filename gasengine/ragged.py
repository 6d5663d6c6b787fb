"""Ragged arrays: one variable-length row of values per vertex.

A :class:`Ragged` is what ``combine = collect`` hands to ``apply`` (the
sorted distinct values every vertex gathered) and what a vertex field may
hold instead of a fixed-shape array: a neighbour list, a set of labels.
Row ``i`` is ``values[starts[i]:ends[i]]`` of a shared *pool*, so taking
rows (``r[ids]``, what every read of a field for a batch or for the
endpoints of a chunk of edges does) copies two index arrays and never the
values: reading the neighbour sets at both ends of every edge costs
O(edges), not O(sum of degrees).

Rows written into some rows of a stored field are appended to a new pool
(the old one may be shared with other Raggeds, so it is never written):
each such write costs O(values held + values written), and when more than
half of the pool is dead the field is compacted.  Writing every row at once
(what ``apply`` on a whole part does) replaces the pool.  Fields written
once (neighbour sets) pay this once; a field rewritten row by row every
superstep would pay it every superstep.

Examples
--------
>>> r = Ragged.from_lists([[1, 2], [], [0, 4, 5]])
>>> len(r), r.sizes().tolist(), r[2].tolist()
(3, [2, 0, 3], [0, 4, 5])
>>> r[[2, 0]].tolist()
[[0, 4, 5], [1, 2]]
>>> r[1:2] = Ragged.from_lists([[7]]); r.tolist()
[[1, 2], [7], [0, 4, 5]]
>>> intersection_sizes(r[[0, 2]], Ragged.from_lists([[2, 3], [4, 5, 6]])).tolist()
[1, 2]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from numba import njit


class Ragged:
    """Rows of different lengths over one flat array of values (see the module docstring).

    Parameters
    ----------
    ptr : array_like of int, length ``rows + 1``
        Row ``i`` is ``values[ptr[i]:ptr[i+1]]`` (CSR offsets, non-decreasing).
    values : array_like
        The values of every row, one after another.

    Examples
    --------
    >>> r = Ragged([0, 2, 3], [10, 11, 12])
    >>> r.tolist(), r.ptr.tolist(), r.values.tolist()
    ([[10, 11], [12]], [0, 2, 3], [10, 11, 12])
    """

    __slots__ = ("_ends", "_pool", "_starts", "writable")
    ndim = 1

    def __init__(self, ptr: Any, values: Any):
        ptr = np.asarray(ptr, dtype=np.int64)
        values = np.asarray(values)
        if ptr.ndim != 1 or ptr.size == 0 or ptr[0] != 0 or ptr[-1] != values.shape[0] or np.any(np.diff(ptr) < 0):
            raise ValueError(f"Ragged: ptr must start at 0, never decrease and end at len(values) ({values.shape[0]})")
        self._starts, self._ends, self._pool = ptr[:-1].copy(), ptr[1:].copy(), values
        self.writable = True

    @classmethod
    def _of(cls, starts: np.ndarray, ends: np.ndarray, pool: np.ndarray, writable: bool) -> Ragged:
        r = cls.__new__(cls)
        r._starts, r._ends, r._pool, r.writable = starts, ends, pool, writable
        return r

    @classmethod
    def of_sorted_rows(cls, ptr: np.ndarray, values: np.ndarray) -> Ragged:
        """A read-only Ragged over CSR arrays, taken as they are (no checks, no copies)."""
        return cls._of(ptr[:-1], ptr[1:], values, False)

    @classmethod
    def from_lists(cls, rows: Iterable[Iterable[Any]], dtype: Any = np.int64) -> Ragged:
        """A Ragged from Python lists (for tests and small inputs)."""
        arrays = [np.asarray(list(r), dtype=dtype) for r in rows]
        ptr = np.zeros(len(arrays) + 1, dtype=np.int64)
        np.cumsum([a.size for a in arrays], out=ptr[1:])
        return cls(ptr, np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype))

    @classmethod
    def empty(cls, rows: int, dtype: Any = np.int64) -> Ragged:
        """``rows`` empty rows of ``dtype`` (what ``init`` stores before a collect fills them)."""
        return cls(np.zeros(rows + 1, dtype=np.int64), np.zeros(0, dtype=dtype))

    # ------------------------------------------------------------ reading
    def __len__(self) -> int:
        return self._starts.size

    @property
    def shape(self) -> tuple[int]:
        return (self._starts.size,)

    @property
    def dtype(self) -> np.dtype:
        return self._pool.dtype

    @property
    def nbytes(self) -> int:
        """Bytes of the compact form (what a message carrying these rows sends)."""
        return int(self.sizes().sum()) * self._pool.dtype.itemsize + 8 * (len(self) + 1)

    def sizes(self) -> np.ndarray:
        """The length of every row."""
        return self._ends - self._starts

    @property
    def ptr(self) -> np.ndarray:
        """CSR offsets of the compact form: row ``i`` is ``values[ptr[i]:ptr[i+1]]``."""
        ptr = np.zeros(len(self) + 1, dtype=np.int64)
        np.cumsum(self.sizes(), out=ptr[1:])
        return ptr

    @property
    def values(self) -> np.ndarray:
        """Every row's values one after another (a read-only view when they already lie so)."""
        if self._is_compact():
            out = self._pool[int(self._starts[0]) if len(self) else 0 : int(self._ends[-1]) if len(self) else 0]
        else:
            out = self._pool[_positions(self._starts, self._ends)]
        out = out.view()
        out.flags.writeable = False
        return out

    def rows(self) -> np.ndarray:
        """The row of every value of :attr:`values`."""
        return np.repeat(np.arange(len(self)), self.sizes())

    def __getitem__(self, index: Any) -> Any:
        """An int gives one row (a read-only array); a slice, an index array or a mask gives a Ragged view."""
        if isinstance(index, (int, np.integer)):
            row = self._pool[int(self._starts[index]) : int(self._ends[index])].view()
            row.flags.writeable = False
            return row
        return Ragged._of(self._starts[index], self._ends[index], self._pool, False)

    def __setitem__(self, index: Any, rows: Ragged) -> None:
        """Replace rows ``index`` by the rows of ``rows`` (in this Ragged only: views are read-only)."""
        if not self.writable:
            raise ValueError("assignment destination is read-only (a Ragged view; store a new Ragged instead)")
        if not isinstance(rows, Ragged):
            raise TypeError(f"only a Ragged can be stored in ragged rows, got {type(rows).__name__}")
        target = np.arange(len(self))[index]
        if np.ndim(target) == 0:
            raise TypeError("assign one row as a Ragged of one row: r[i:i+1] = ...")
        if len(rows) != target.size:
            raise ValueError(f"cannot store {len(rows)} rows in {target.size}")
        if target.size == len(self) and np.array_equal(target, np.arange(len(self))):
            ptr = rows.ptr
            self._starts, self._ends = ptr[:-1].copy(), ptr[1:].copy()
            self._pool = np.array(rows.values, dtype=self._pool.dtype)  # the field keeps its dtype
            return
        new = rows.values.astype(self._pool.dtype, copy=False)
        base = self._pool.shape[0]
        sizes = rows.sizes()
        starts = base + np.concatenate(([0], np.cumsum(sizes)[:-1])) if sizes.size else sizes
        self._pool = np.concatenate([self._pool, new])
        self._starts[target], self._ends[target] = starts, starts + sizes
        if 2 * int(self.sizes().sum()) < self._pool.shape[0]:  # mostly dead values: compact
            compact = self.compact()
            self._starts, self._ends, self._pool = compact._starts, compact._ends, compact._pool

    def take(self, index: Any) -> Ragged:
        """Rows ``index`` as a writable Ragged sharing this one's values (never written in place:
        storing rows appends to a new pool), e.g. a part's rows of a field."""
        return Ragged._of(np.array(self._starts[index]), np.array(self._ends[index]), self._pool, True)

    def compact(self) -> Ragged:
        """A writable copy holding only these rows' values, in row order."""
        ptr = self.ptr
        return Ragged._of(ptr[:-1].copy(), ptr[1:].copy(), np.array(self.values), True)

    copy = compact

    def tolist(self) -> list[list[Any]]:
        ptr, values = self.ptr, self.values.tolist()
        return [values[a:b] for a, b in zip(ptr[:-1].tolist(), ptr[1:].tolist())]

    def equals(self, other: Ragged) -> bool:
        """Whether both have the same rows."""
        return (
            len(self) == len(other)
            and np.array_equal(self.sizes(), other.sizes())
            and np.array_equal(self.values, other.values)
        )

    def _is_compact(self) -> bool:
        if len(self) == 0:
            return True
        return bool(np.array_equal(self._starts[1:], self._ends[:-1]))

    def __reduce__(self) -> tuple:  # pickles (to workers, in messages) only the rows' own values
        return (Ragged, (self.ptr, np.array(self.values)))

    def __repr__(self) -> str:
        rows = self.tolist() if len(self) <= 6 else [*self[:3].tolist(), "...", *self[len(self) - 2 :].tolist()]
        return f"Ragged({rows}, dtype={self.dtype})"


def shares_memory(a: Any, b: Any) -> bool:
    """``np.may_share_memory`` that also sees the values and row bounds of Raggeds."""

    def arrays(x: Any) -> tuple:
        return (x._pool, x._starts, x._ends) if isinstance(x, Ragged) else (x,)

    return any(np.may_share_memory(p, q) for p in arrays(a) for q in arrays(b))


def assemble_rows(pieces: list[tuple[np.ndarray, Ragged]], size: int) -> Ragged:
    """One Ragged of ``size`` rows from ``(rows, values)`` pieces that together cover each row once."""
    if not pieces:
        return Ragged.empty(size)
    index = np.concatenate([rows for rows, _ in pieces])
    order = np.empty(size, dtype=np.int64)
    order[index] = np.arange(index.size)
    values = [r.values for _, r in pieces]
    sizes = np.concatenate([r.sizes() for _, r in pieces])
    ptr = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    joined = Ragged.of_sorted_rows(ptr, np.concatenate(values))
    return joined[order].compact()


@njit(cache=True)
def _positions(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    total = 0
    for i in range(starts.size):
        total += ends[i] - starts[i]
    out = np.empty(total, dtype=np.int64)
    k = 0
    for i in range(starts.size):
        for j in range(starts[i], ends[i]):
            out[k] = j
            k += 1
    return out


def intersection_sizes(
    a: Ragged, b: Ragged, bound: int | None = None, inner: Ragged | None = None
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """``|a[i] ∩ b[i]|`` for every row ``i``, for rows that are sorted and distinct.

    One compiled pass, in one of two ways:

    * ``bound=None``: a merge of the two rows when their lengths are alike,
      a binary search of the shorter row's values in the longer one when
      one is more than 16 times longer — ``O(min * log(max))`` a row at
      worst, so a vertex of high degree costs each of its edges the degree
      of the *other* end (the bound behind Chiba and Nishizeki's
      O(m * arboricity) triangle counting);
    * ``bound=n`` (every value in ``0..n-1``, e.g. vertex numbers): each
      run of equal consecutive ``a`` rows — the rows of one vertex, which a
      gather's chunk brings together — is marked once in a table of ``n``
      flags and every ``b`` row is scanned against it: ``O(len(b[i]))`` a
      row, whatever the length of ``a[i]``.  Pass the short side as ``b``.
      With ``inner`` (rows that are subsets of ``a``'s), the same scan also
      counts ``|inner[i] ∩ b[i]|``: both counts are returned.

    Examples
    --------
    >>> a = Ragged.from_lists([[1, 3, 5], [2], []])
    >>> b = Ragged.from_lists([[3, 4, 5], [1, 2, 3], [1]])
    >>> intersection_sizes(a, b).tolist(), intersection_sizes(a, b, bound=6).tolist()
    ([2, 1, 0], [2, 1, 0])
    >>> both, inner = intersection_sizes(a, b, bound=6, inner=Ragged.from_lists([[5], [], []]))
    >>> both.tolist(), inner.tolist()
    ([2, 1, 0], [1, 0, 0])
    """
    if len(a) != len(b):
        raise ValueError(f"intersection_sizes: {len(a)} rows and {len(b)} rows")
    pool_a, pool_b = a._pool, b._pool
    if pool_a.dtype.kind not in "iu" or pool_b.dtype.kind not in "iu":
        raise TypeError(f"intersection_sizes needs integer values, got {pool_a.dtype} and {pool_b.dtype}")
    if pool_a.dtype != pool_b.dtype:
        common = np.promote_types(pool_a.dtype, pool_b.dtype)
        pool_a, pool_b = pool_a.astype(common), pool_b.astype(common)
    if bound is None:
        if inner is not None:
            raise ValueError("intersection_sizes: inner= needs bound= (it is counted by marking)")
        return _intersect(a._starts, a._ends, pool_a, b._starts, b._ends, pool_b)
    if pool_b.size and (pool_b.min() < 0 or pool_b.max() >= bound):
        raise ValueError(
            f"intersection_sizes: a value of the second rows is outside 0..{int(bound) - 1} (bound={bound})"
        )
    if inner is not None and len(inner) != len(a):
        raise ValueError(f"intersection_sizes: {len(a)} rows and {len(inner)} inner rows")
    sub = inner if inner is not None else Ragged.empty(len(a), pool_a.dtype)
    out, out_inner, bad = _intersect_marked(
        a._starts,
        a._ends,
        pool_a,
        sub._starts,
        sub._ends,
        sub._pool.astype(pool_a.dtype, copy=False),
        b._starts,
        b._ends,
        pool_b,
        int(bound),
    )
    if bad:
        raise ValueError(
            f"intersection_sizes: a value of the first (or inner) rows is outside 0..{int(bound) - 1} (bound={bound})"
        )
    return out if inner is None else (out, out_inner)


@njit(cache=True)
def _intersect_marked(sa, ea, pa, si, ei, pi, sb, eb, pb, bound):  # pragma: no cover - compiled
    out = np.zeros(sa.size, dtype=np.int64)
    out_inner = np.zeros(sa.size, dtype=np.int64)
    marks = np.zeros(bound, dtype=np.uint8)  # 1: in a's row; 2: in its inner row too
    lo, hi, ilo, ihi = -1, -1, -1, -1  # the rows marked now
    for i in range(sa.size):
        if sa[i] != lo or ea[i] != hi or si[i] != ilo or ei[i] != ihi:
            for j in range(lo, hi):
                marks[pa[j]] = 0
            lo, hi, ilo, ihi = sa[i], ea[i], si[i], ei[i]
            for j in range(lo, hi):
                x = pa[j]
                if x < 0 or x >= bound:
                    return out, out_inner, True
                marks[x] = 1
            for j in range(ilo, ihi):
                x = pi[j]
                if x < 0 or x >= bound or marks[x] == 0:  # inner values must lie in a's row
                    return out, out_inner, True
                marks[x] = 2
        count = 0
        both = 0
        for j in range(sb[i], eb[i]):  # b's values were checked against the bound: no branch here
            m = marks[pb[j]]
            count += m > 0
            both += m >> 1
        out[i] = count
        out_inner[i] = both
    return out, out_inner, False


@njit(cache=True)
def _intersect(
    sa: np.ndarray, ea: np.ndarray, pa: np.ndarray, sb: np.ndarray, eb: np.ndarray, pb: np.ndarray
) -> np.ndarray:
    out = np.zeros(sa.size, dtype=np.int64)
    for i in range(sa.size):
        lo_a, hi_a, lo_b, hi_b = sa[i], ea[i], sb[i], eb[i]
        na, nb = hi_a - lo_a, hi_b - lo_b
        if na == 0 or nb == 0:
            continue
        if na > nb:  # a is the shorter row
            lo_a, hi_a, lo_b, hi_b, na, nb = lo_b, hi_b, lo_a, hi_a, nb, na
            short, long_ = pb, pa
        else:
            short, long_ = pa, pb
        count = 0
        if nb > 16 * na:
            lo = lo_b
            for j in range(lo_a, hi_a):
                x = short[j]
                hi = hi_b
                while lo < hi:  # first position in long_[lo:hi_b] >= x
                    mid = (lo + hi) >> 1
                    if long_[mid] < x:
                        lo = mid + 1
                    else:
                        hi = mid
                if lo == hi_b:
                    break
                if long_[lo] == x:
                    count += 1
        else:
            j, k = lo_a, lo_b
            while j < hi_a and k < hi_b:
                x, y = short[j], long_[k]
                if x < y:
                    j += 1
                elif y < x:
                    k += 1
                else:
                    count += 1
                    j += 1
                    k += 1
        out[i] = count
    return out
