"""Vertex subsets (Ligra's frontier): sorted ids when few, a bool mask when many.

Every set of vertices the engine handles per superstep — the active
vertices, those that scatter, those signalled — is a :class:`Frontier` over
the local vertices of one part.  Its cost follows its size: a small set is a
sorted id array and every operation on it is O(its size), never O(vertices
of the part); a large one is a mask, for which O(vertices) is no worse than
the work its vertices bring.  Conversions happen on demand and are cached.

Messages between parts describe subsets of their *shared* vertex lists
(``Part.send``/``Part.recv``) the same way: ``None`` for the whole list (no
positions are sent at all), positions into the list when few, a mask when
many (see :func:`encode_positions`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .kernels import sorted_distinct

#: A subset holding more than this fraction of the vertices is kept as a mask
#: (read at every use, so tests can move the switch).
DENSE_FRACTION = 1 / 32


def is_small(count: int, size: int) -> bool:
    """Whether ``count`` of ``size`` vertices are few enough to be handled as an id list.

    Examples
    --------
    >>> is_small(10, 1000), is_small(500, 1000)
    (True, False)
    """
    return count <= size * DENSE_FRACTION


class Frontier:
    """A set of local vertices ``0..size-1`` of one part.

    Build it with :meth:`everything`, :meth:`nothing`, :meth:`of_ids` or
    :meth:`of_mask`; read it with :meth:`ids` (sorted), :meth:`mask`,
    :attr:`count` and :attr:`full`.  Instances are immutable.

    Examples
    --------
    >>> f = Frontier.of_ids(10, np.array([7, 2, 7]))
    >>> f.ids().tolist(), f.count, f.full
    ([2, 7], 2, False)
    >>> Frontier.of_mask(np.array([True, False, True])).ids().tolist()
    [0, 2]
    >>> f.union(Frontier.of_ids(10, np.array([3]))).ids().tolist()
    [2, 3, 7]
    """

    __slots__ = ("_ids", "_mask", "count", "size")

    def __init__(self, size: int, count: int, ids: np.ndarray | None, mask: np.ndarray | None):
        self.size = size
        self.count = count
        self._ids = ids
        self._mask = mask

    # ------------------------------------------------------------- build
    @classmethod
    def everything(cls, size: int) -> Frontier:
        """All ``size`` vertices (neither ids nor mask is stored until asked for)."""
        return cls(size, size, None, None)

    @classmethod
    def nothing(cls, size: int) -> Frontier:
        return cls(size, 0, np.zeros(0, dtype=np.intp), None)

    @classmethod
    def of_ids(cls, size: int, ids: np.ndarray, *, unique: bool = False) -> Frontier:
        """The vertices ``ids`` (any order, repeats allowed unless ``unique`` says they are sorted and distinct)."""
        ids = np.asarray(ids, dtype=np.intp)
        if not unique:
            ids = sorted_distinct(ids, size)
        if ids.size == size:
            return cls.everything(size)
        if not is_small(ids.size, size):
            mask = np.zeros(size, dtype=bool)
            mask[ids] = True
            return cls(size, int(ids.size), ids, mask)
        return cls(size, int(ids.size), ids, None)

    @classmethod
    def of_mask(cls, mask: np.ndarray) -> Frontier:
        """The vertices where ``mask`` is true (the mask is copied only if it is not already bool)."""
        mask = np.asarray(mask, dtype=bool)
        count = int(np.count_nonzero(mask))
        if count == mask.size:
            return cls.everything(mask.size)
        if is_small(count, mask.size):
            return cls(mask.size, count, np.flatnonzero(mask), None)
        return cls(mask.size, count, None, mask)

    # -------------------------------------------------------------- read
    @property
    def full(self) -> bool:
        """Whether every vertex is in the set."""
        return self.count == self.size

    @property
    def dense(self) -> bool:
        """Whether the set is kept as a mask (operations on it may cost O(size))."""
        return not is_small(self.count, self.size)

    def ids(self) -> np.ndarray:
        """The vertices, sorted (intp)."""
        if self._ids is None:
            # a frontier that is not full and has no id list has a mask
            self._ids = np.arange(self.size, dtype=np.intp) if self.full else np.flatnonzero(self._mask)  # type: ignore[arg-type]
        return self._ids

    def mask(self) -> np.ndarray:
        """A bool mask over all ``size`` vertices (do not modify it)."""
        if self._mask is None:
            mask = np.ones(self.size, dtype=bool) if self.full else np.zeros(self.size, dtype=bool)
            if not self.full:
                mask[self._ids] = True
            self._mask = mask
        return self._mask

    def below(self, limit: int) -> Frontier:
        """The vertices ``< limit`` (a part's masters are its vertices ``0..M-1``), as a set over ``limit``."""
        if limit == self.size:  # a part without mirrors: the same set (a colour step's most common case)
            return self
        if self.full:
            return Frontier.everything(limit)
        if self.dense:
            return Frontier.of_mask(self.mask()[:limit])
        ids = self.ids()
        return Frontier.of_ids(limit, ids[: np.searchsorted(ids, limit)], unique=True)

    def count_below(self, limit: int) -> int:
        """How many vertices are ``< limit``."""
        if limit >= self.size:
            return self.count
        if self.full:
            return min(limit, self.size)
        if self.dense:
            return int(np.count_nonzero(self.mask()[:limit]))
        return int(np.searchsorted(self.ids(), limit))

    def contains(self, local: np.ndarray) -> np.ndarray:
        """Per vertex of ``local``: whether it is in the set."""
        if self.full:
            return np.ones(len(local), dtype=bool)
        if self.dense:
            return self.mask()[local]
        ids = self.ids()
        pos = np.minimum(np.searchsorted(ids, local), max(ids.size - 1, 0))
        return (ids[pos] == local) if ids.size else np.zeros(len(local), dtype=bool)

    def positions(self, local: np.ndarray) -> np.ndarray:
        """Position in :meth:`ids` of each vertex of ``local`` (all must be in the set)."""
        if self.full:
            return np.asarray(local)
        return np.searchsorted(self.ids(), local)

    def union(self, other: Frontier) -> Frontier:
        """Both sets together."""
        if self.full or other.count == 0:
            return self
        if other.full or self.count == 0:
            return other
        if self.dense or other.dense:
            return Frontier.of_mask(self.mask() | other.mask())
        return Frontier.of_ids(self.size, np.concatenate([self.ids(), other.ids()]))

    def intersection(self, other: Frontier) -> Frontier:
        """The vertices in both sets.

        Examples
        --------
        >>> Frontier.of_ids(9, np.array([1, 4, 7])).intersection(Frontier.of_ids(9, np.array([4, 5, 7]))).ids().tolist()
        [4, 7]
        """
        if self.full:
            return other
        if other.full:
            return self
        if self.dense and other.dense:
            return Frontier.of_mask(self.mask() & other.mask())
        small, large = (self, other) if self.count <= other.count else (other, self)
        ids = small.ids()
        return Frontier.of_ids(self.size, ids[large.contains(ids)], unique=True)

    def __len__(self) -> int:
        return self.count

    def __repr__(self) -> str:
        kind = "full" if self.full else "mask" if self.dense else "ids"
        return f"Frontier({self.count} of {self.size}, {kind})"


def encode_positions(positions: np.ndarray, length: int) -> Any:
    """A subset of a shared list of ``length`` vertices, in its cheapest form.

    ``None`` when it is the whole list, a bool mask when positions would cost
    more (more than a quarter of the list), else the sorted int32 positions.
    :func:`decode_positions` inverts it.

    Examples
    --------
    >>> encode_positions(np.array([0, 1, 2]), 3) is None
    True
    >>> encode_positions(np.array([4]), 100).tolist()
    [4]
    >>> encode_positions(np.array([0, 1]), 4).tolist()
    [True, True, False, False]
    """
    if positions.size == length:
        return None
    if positions.size * 4 > length:
        mask = np.zeros(length, dtype=bool)
        mask[positions] = True
        return mask
    return positions.astype(np.int32)


def decode_positions(code: Any, length: int) -> np.ndarray:
    """The sorted positions :func:`encode_positions` encoded."""
    if code is None:
        return np.arange(length, dtype=np.intp)
    if code.dtype == bool:
        if code.size != length:
            raise ValueError(f"a subset mask of {code.size} for a list of {length}")
        return np.flatnonzero(code)
    return code.astype(np.intp)
