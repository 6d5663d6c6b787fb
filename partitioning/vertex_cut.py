"""The result of cutting a graph's edges into parts: replicas, masters, mirrors.

In a vertex cut every edge lives in exactly one part.  A vertex whose edges
fall into several parts is *replicated* in each of them; one replica is the
**master** (it runs ``apply`` and owns the authoritative value) and the others
are **mirrors** (they gather locally and receive the master's value).  This
module turns an edge -> part assignment into those structures and measures
their quality.  It knows nothing about the engine.

What a superstep exchanges, in these terms: every part ``p`` sends, for each
of its mirrors, a partial accumulator to the master's part ``q`` and receives
the new value back.  :meth:`VertexCut.mirrors` lists those vertices for each
``(p, q)`` pair in sorted order, so both sides agree on the buffer layout
without sending ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from .edges import check_edges, check_num_parts, part_dtype
from .memory import check_fits

#: Largest n * num_parts for which replicas are found with a dense bitmap
#: (fast, O(n * P) bytes); above it a sort-based path is used.
_DENSE_LIMIT = 1 << 28


@dataclass(frozen=True, eq=False)
class VertexCut:
    """Edges assigned to parts, with the replica and master of every vertex.

    Build it with :meth:`from_assignment` (or :func:`partitioning.partition`);
    the constructor takes the finished arrays as they are.

    Attributes
    ----------
    num_parts : int
        Number of parts ``P``.
    num_vertices : int
        Number of vertices ``n``.
    edge_part : ndarray, shape (m,)
        Part of every edge, in the narrowest type that holds ``P - 1``
        (:func:`~partitioning.edges.part_dtype`: int8 up to 128 parts).
    master : ndarray of int32, shape (n,)
        Part holding the master replica of every vertex.  Vertices without
        edges still get a master so that ``apply`` runs for them.
    replica_ptr, replica_parts : ndarray
        CSR lists: the parts holding a replica of vertex ``v`` are
        ``replica_parts[replica_ptr[v]:replica_ptr[v + 1]]`` (sorted; the
        master is among them).  ``replica_ptr`` is int64, ``replica_parts``
        int32.
    has_edges : ndarray of bool, shape (n,)
        Whether the vertex has at least one edge (isolated vertices have a
        master but count in no metric).
    strategy : str
        Name of the strategy that produced ``edge_part``.

    Examples
    --------
    >>> import numpy as np
    >>> cut = VertexCut.from_assignment([0, 1, 2], [1, 2, 0], 3, [0, 1, 1], 2)
    >>> cut.parts_of(1).tolist(), cut.replication_factor
    ([0, 1], 1.6666666666666667)
    """

    num_parts: int
    num_vertices: int
    edge_part: np.ndarray
    master: np.ndarray
    replica_ptr: np.ndarray
    replica_parts: np.ndarray
    has_edges: np.ndarray
    strategy: str = "custom"
    # lazily built indexes (None until first use)
    _part_ptr: Any = field(default=None, repr=False, compare=False)
    _part_vertex: Any = field(default=None, repr=False, compare=False)
    _edge_ptr: Any = field(default=None, repr=False, compare=False)
    _edge_index: Any = field(default=None, repr=False, compare=False)
    _master_ptr: Any = field(default=None, repr=False, compare=False)
    _master_vertex: Any = field(default=None, repr=False, compare=False)
    _mirror_pairs: Any = field(default=None, repr=False, compare=False)
    _mirror_ptr: Any = field(default=None, repr=False, compare=False)
    _mirror_vertex: Any = field(default=None, repr=False, compare=False)

    # ----------------------------------------------------------- building
    @classmethod
    def from_assignment(
        cls,
        src: Any,
        dst: Any,
        num_vertices: int,
        edge_part: Any,
        num_parts: int,
        strategy: str = "custom",
    ) -> VertexCut:
        """Derive replicas and masters from an edge -> part assignment.

        Masters are chosen among each vertex's replicas to balance the number
        of masters per part: vertices with one replica are fixed first, then
        the others in increasing number of replicas each take the replica
        part with the fewest masters so far (a compiled greedy pass), and
        isolated vertices finally go to the parts with the fewest masters.

        Parameters
        ----------
        src, dst : array_like of int
            Edge endpoints in ``0..num_vertices-1``.
        num_vertices : int
            Number of vertices.
        edge_part : array_like of int
            Part of every edge, in ``0..num_parts-1``.
        num_parts : int
            Number of parts.
        strategy : str
            Recorded in the result.

        Raises
        ------
        ValueError
            If the arrays disagree in length, an id or part is out of range,
            or ``num_parts < 1``.

        Examples
        --------
        >>> cut = VertexCut.from_assignment([0, 0], [1, 2], 4, [0, 1], 2)
        >>> cut.master.tolist(), cut.parts_of(3).tolist()
        ([0, 0, 1, 1], [1])
        """
        num_parts = check_num_parts(num_parts)
        src, dst, num_vertices = check_edges(src, dst, num_vertices)
        edge_part = np.asarray(edge_part)
        if edge_part.shape != src.shape:
            raise ValueError(f"edge_part must give one part per edge: {edge_part.shape} vs {src.shape}")
        if edge_part.size and edge_part.dtype.kind not in "iu":
            raise ValueError(f"edge_part must hold integer parts, got dtype {edge_part.dtype}")
        if edge_part.size and (edge_part.min() < 0 or edge_part.max() >= num_parts):
            bad = int(np.flatnonzero((edge_part < 0) | (edge_part >= num_parts))[0])
            raise ValueError(f"edge_part[{bad}] = {int(edge_part[bad])} is outside 0..{num_parts - 1}")
        edge_part = edge_part.astype(part_dtype(num_parts), copy=False)
        ptr, parts = _replicas(src, dst, num_vertices, edge_part, num_parts)
        counts = np.diff(ptr)
        has_edges = counts > 0
        master = choose_masters(ptr, parts, num_parts)
        isolated = np.flatnonzero(~has_edges)
        if isolated.size:
            # Isolated vertices: their master is their only replica.
            counts = counts.copy()
            counts[isolated] = 1
            new_ptr = np.zeros(num_vertices + 1, dtype=np.int64)
            np.cumsum(counts, out=new_ptr[1:])
            new_parts = np.empty(int(new_ptr[-1]), dtype=np.int32)
            old_counts = np.diff(ptr)[has_edges]
            old_pos = np.repeat(new_ptr[:-1][has_edges], old_counts) + _ramp(old_counts)
            new_parts[old_pos] = parts
            new_parts[new_ptr[isolated]] = master[isolated]
            ptr, parts = new_ptr, new_parts
        return cls(num_parts, num_vertices, edge_part, master, ptr, parts, has_edges, strategy)

    # ------------------------------------------------------------ queries
    @property
    def num_edges(self) -> int:
        """Number of edges ``m``.

        Examples
        --------
        >>> VertexCut.from_assignment([0], [1], 2, [0], 1).num_edges
        1
        """
        return int(self.edge_part.size)

    def parts_of(self, v: int) -> np.ndarray:
        """Parts that hold a replica of vertex ``v`` (sorted, master included).

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0], [1, 2], 3, [0, 1], 2).parts_of(0).tolist()
        [0, 1]
        """
        return self.replica_parts[self.replica_ptr[v] : self.replica_ptr[v + 1]]

    def part_vertices(self, p: int) -> np.ndarray:
        """Sorted vertex numbers replicated in part ``p`` (masters included).

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0], [1, 2], 3, [0, 1], 2).part_vertices(1).tolist()
        [0, 2]
        """
        if self._part_ptr is None:
            counts = np.diff(self.replica_ptr)
            vertex = np.repeat(np.arange(self.num_vertices, dtype=np.int64), counts)
            order = np.argsort(self.replica_parts, kind="stable")
            object.__setattr__(self, "_part_ptr", _ptr_of(self.replica_parts, self.num_parts))
            object.__setattr__(self, "_part_vertex", vertex[order])
        return self._part_vertex[self._part_ptr[p] : self._part_ptr[p + 1]]

    def part_edges(self, p: int) -> np.ndarray:
        """Indices of the edges assigned to part ``p``, in edge order.

        The first call sorts all edges by part once (a stable counting
        order); later calls are slices.

        Examples
        --------
        >>> VertexCut.from_assignment([0, 1, 2], [1, 2, 0], 3, [1, 0, 1], 2).part_edges(1).tolist()
        [0, 2]
        """
        if self._edge_ptr is None:
            object.__setattr__(self, "_edge_index", np.argsort(self.edge_part, kind="stable"))
            object.__setattr__(self, "_edge_ptr", _ptr_of(self.edge_part, self.num_parts))
        return self._edge_index[self._edge_ptr[p] : self._edge_ptr[p + 1]]

    def masters_in(self, p: int) -> np.ndarray:
        """Sorted vertex numbers whose master is in part ``p``.

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0], [1, 2], 3, [0, 1], 2).masters_in(0).tolist()
        [0, 1]
        """
        if self._master_ptr is None:
            object.__setattr__(self, "_master_vertex", np.argsort(self.master, kind="stable"))
            object.__setattr__(self, "_master_ptr", _ptr_of(self.master, self.num_parts))
        return self._master_vertex[self._master_ptr[p] : self._master_ptr[p + 1]]

    def mirrors(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        """The mirrors held by part ``p``, grouped by the part of their master.

        Returns CSR lists ``(ptr, vertices)``: ``vertices[ptr[q]:ptr[q + 1]]``
        are the sorted vertex numbers replicated in ``p`` whose master is in
        part ``q`` (empty for ``q == p``).  In a superstep ``p`` sends its
        partial accumulators for exactly these vertices, in this order, to
        ``q`` and receives their new values back in the same order; the same
        lists seen from ``q`` are ``mirrors(p)`` for every ``p``, so master
        and mirror agree on the layout without exchanging ids.

        Parameters
        ----------
        p : int
            The part holding the mirrors.

        Returns
        -------
        ptr : ndarray of int64, shape (P + 1,)
        vertices : ndarray of int64

        Examples
        --------
        >>> cut = VertexCut.from_assignment([0, 0, 1], [1, 2, 2], 3, [0, 1, 1], 2)
        >>> cut.master.tolist()
        [0, 0, 1]
        >>> ptr, verts = cut.mirrors(1)   # part 1 mirrors 0 and 1 (masters in 0)
        >>> verts[ptr[0]:ptr[1]].tolist(), verts[ptr[1]:ptr[2]].tolist()
        ([0, 1], [])
        """
        P = self.num_parts
        masters_in, ptr, vertices = self.mirror_groups(p)
        dense = np.zeros(P + 1, dtype=np.int64)
        dense[masters_in + 1] = np.diff(ptr)
        return np.cumsum(dense), vertices

    def mirror_groups(self, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The mirrors held by part ``p``, grouped by master part, listing only non-empty groups.

        The sparse form of :meth:`mirrors`: its size follows the number of
        mirrors, not the number of parts, so thousands of parts cost no
        ``P * P`` table.

        Returns
        -------
        master_parts : ndarray of int64
            The parts ``q`` (ascending) holding masters of some mirror in ``p``.
        ptr : ndarray of int64, shape (len(master_parts) + 1,)
        vertices : ndarray of int64
            ``vertices[ptr[k]:ptr[k + 1]]`` are the sorted mirrors in ``p``
            whose master is in ``master_parts[k]``.

        Examples
        --------
        >>> cut = VertexCut.from_assignment([0, 0, 1], [1, 2, 2], 3, [0, 1, 1], 2)
        >>> [a.tolist() for a in cut.mirror_groups(1)]
        [[0], [0, 2], [0, 1]]
        """
        self._build_mirrors()
        P = self.num_parts
        lo, hi = np.searchsorted(self._mirror_pairs, [p * P, (p + 1) * P])
        base = self._mirror_ptr[lo]
        ptr = self._mirror_ptr[lo : hi + 1] - base
        return self._mirror_pairs[lo:hi] - p * P, ptr, self._mirror_vertex[base : base + ptr[-1]]

    def mirror_counts(self) -> np.ndarray:
        """Matrix ``C`` with ``C[p, q]`` = number of mirrors in part ``p`` whose master is in ``q``.

        It is the number of values part ``p`` sends to part ``q`` (and gets
        back) in an all-active superstep; the diagonal is zero.

        Examples
        --------
        >>> cut = VertexCut.from_assignment([0, 0, 1], [1, 2, 2], 3, [0, 1, 1], 2)
        >>> cut.mirror_counts().tolist()
        [[0, 0], [2, 0]]
        """
        P = self.num_parts
        check_fits(8 * P * P, f"a {P} x {P} mirror-count matrix")
        self._build_mirrors()
        counts = np.zeros(P * P, dtype=np.int64)
        counts[self._mirror_pairs] = np.diff(self._mirror_ptr)
        return counts.reshape(P, P)

    def _build_mirrors(self) -> None:
        """Mirrors sorted by (mirror part, master part, vertex); only non-empty pairs are indexed."""
        if self._mirror_ptr is not None:
            return
        P = self.num_parts
        vertex = np.repeat(np.arange(self.num_vertices, dtype=np.int64), self.num_replicas)
        master = self.master[vertex]
        is_mirror = self.replica_parts != master
        vertex = vertex[is_mirror]
        key = self.replica_parts[is_mirror].astype(np.int64) * P + master[is_mirror]
        order = np.argsort(key, kind="stable")  # stable: vertices stay sorted in a group
        key = key[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, dtype=np.int64)
        object.__setattr__(self, "_mirror_vertex", vertex[order])
        object.__setattr__(self, "_mirror_pairs", key[starts])
        object.__setattr__(self, "_mirror_ptr", np.r_[starts, key.size].astype(np.int64))

    # ------------------------------------------------------------ metrics
    @property
    def num_replicas(self) -> np.ndarray:
        """Number of replicas of every vertex (1 for isolated vertices).

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0], [1, 2], 4, [0, 1], 2).num_replicas.tolist()
        [2, 1, 1, 1]
        """
        return np.diff(self.replica_ptr)

    @property
    def num_mirrors(self) -> int:
        """Total number of mirrors: replicas minus one master per vertex.

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0], [1, 2], 3, [0, 1], 2).num_mirrors
        1
        """
        return int(self.replica_parts.size - self.num_vertices)

    @property
    def replication_factor(self) -> float:
        """Replicas per vertex, over vertices that have at least one edge.

        Defined as 1.0 when no vertex has an edge (nothing is replicated).

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0], [1, 2], 3, [0, 1], 2).replication_factor
        1.3333333333333333
        """
        touched = self.has_edges
        count = int(touched.sum())
        if count == 0:
            return 1.0
        return float(self.num_replicas[touched].sum() / count)

    @property
    def edges_per_part(self) -> np.ndarray:
        """Number of edges in every part, shape ``(P,)``.

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0, 1], [1, 2, 2], 3, [0, 1, 1], 2).edges_per_part.tolist()
        [1, 2]
        """
        return _counts(self.edge_part, self.num_parts)

    @property
    def masters_per_part(self) -> np.ndarray:
        """Number of masters in every part, shape ``(P,)``.

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0, 1], [1, 2, 2], 3, [0, 1, 1], 2).masters_per_part.tolist()
        [2, 1]
        """
        return _counts(self.master, self.num_parts)

    @property
    def edge_balance(self) -> float:
        """Largest part's edge count over the mean edge count (1.0 is perfect).

        1.0 for a graph without edges.  When ``P`` exceeds the number of
        edges some parts are necessarily empty and this is ``P / m``.

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0, 1], [1, 2, 2], 3, [0, 1, 1], 2).edge_balance
        1.3333333333333333
        """
        return _balance(self.edges_per_part)

    @property
    def master_balance(self) -> float:
        """Largest part's master count over the mean master count (1.0 is perfect).

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0, 1], [1, 2, 2], 3, [0, 1, 1], 2).master_balance
        1.3333333333333333
        """
        return _balance(self.masters_per_part)

    def bytes_per_superstep(self, value_bytes: int = 8) -> int:
        """Bytes one all-active superstep moves between parts.

        Every mirror sends its partial accumulator to the master and receives
        the new value back: ``2 * mirrors * value_bytes`` (ids are not sent;
        see :meth:`mirrors`).

        Parameters
        ----------
        value_bytes : int
            Size of one vertex value (and of one accumulator), e.g. 8 for a
            float64 PageRank, ``8 * k`` for ALS factors of rank ``k``.

        Examples
        --------
        >>> VertexCut.from_assignment([0, 0], [1, 2], 3, [0, 1], 2).bytes_per_superstep(8)
        16
        """
        if value_bytes < 0:
            raise ValueError(f"value_bytes must be >= 0, got {value_bytes}")
        return 2 * self.num_mirrors * int(value_bytes)

    # ------------------------------------------------------------ dunders
    def __eq__(self, other: object) -> bool:
        """Cuts are equal when they assign the same edges and masters.

        Examples
        --------
        >>> a = VertexCut.from_assignment([0], [1], 2, [0], 2)
        >>> a == VertexCut.from_assignment([0], [1], 2, [0], 2)
        True
        """
        if not isinstance(other, VertexCut):
            return NotImplemented
        return (
            self.num_parts == other.num_parts
            and self.num_vertices == other.num_vertices
            and np.array_equal(self.edge_part, other.edge_part)
            and np.array_equal(self.master, other.master)
            and np.array_equal(self.replica_ptr, other.replica_ptr)
            and np.array_equal(self.replica_parts, other.replica_parts)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable arrays inside

    def __repr__(self) -> str:
        return (
            f"VertexCut(strategy={self.strategy!r}, num_parts={self.num_parts}, "
            f"num_vertices={self.num_vertices}, num_edges={self.num_edges}, "
            f"replication_factor={self.replication_factor:.3f}, "
            f"edge_balance={self.edge_balance:.3f})"
        )


def _balance(sizes: np.ndarray) -> float:
    mean = sizes.mean() if sizes.size else 0.0
    return float(sizes.max() / mean) if mean > 0 else 1.0


def _ptr_of(keys: np.ndarray, num_keys: int) -> np.ndarray:
    """CSR pointer for ``keys`` sorted by a counting order: ``ptr[k]`` = #keys < k."""
    ptr = np.zeros(num_keys + 1, dtype=np.int64)
    _count_into(keys, ptr[1:])
    np.cumsum(ptr, out=ptr)
    return ptr


def _counts(keys: np.ndarray, num_keys: int) -> np.ndarray:
    """How often each of ``0..num_keys-1`` occurs in ``keys``.

    ``np.bincount`` would first copy narrow keys (one byte per edge for edge
    parts) to int64: 8 bytes per edge of temporary memory.
    """
    counts = np.zeros(num_keys, dtype=np.int64)
    _count_into(keys, counts)
    return counts


@njit(cache=True)
def _count_into(keys, counts):  # pragma: no cover - compiled
    for k in keys:
        counts[k] += 1


def _ramp(counts: np.ndarray) -> np.ndarray:
    """``[0..c0-1, 0..c1-1, ...]`` for a list of counts, without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def _replicas(
    src: np.ndarray, dst: np.ndarray, n: int, edge_part: np.ndarray, num_parts: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR lists of the parts each vertex touches (sorted, unique)."""
    if n * num_parts <= _DENSE_LIMIT:
        present = np.zeros((n, num_parts), dtype=bool)
        present[src, edge_part] = True
        present[dst, edge_part] = True
        vertex, parts = np.nonzero(present)  # row-major: sorted by vertex, then part
    else:
        key = np.concatenate([src, dst]).astype(np.int64) * num_parts + np.concatenate([edge_part, edge_part])
        key = np.unique(key)
        vertex, parts = np.divmod(key, num_parts)
    return _ptr_of(vertex, n), parts.astype(np.int32)


@njit(cache=True)
def _greedy_masters(ptr, parts, visit, isolated, num_parts, master):  # pragma: no cover
    load = np.zeros(num_parts, dtype=np.int64)
    n = ptr.size - 1
    for v in range(n):  # one replica: no choice
        if ptr[v + 1] - ptr[v] == 1:
            master[v] = parts[ptr[v]]
            load[parts[ptr[v]]] += 1
    for v in visit:  # several replicas: the one with the fewest masters so far
        best = parts[ptr[v]]
        for j in range(ptr[v] + 1, ptr[v + 1]):
            if load[parts[j]] < load[best]:
                best = parts[j]
        master[v] = best
        load[best] += 1
    for v in isolated:  # no edge: any part, the one with the fewest masters
        best = 0
        for p in range(1, num_parts):
            if load[p] < load[best]:
                best = p
        master[v] = best
        load[best] += 1


def choose_masters(ptr: np.ndarray, parts: np.ndarray, num_parts: int) -> np.ndarray:
    """Pick one replica per vertex as master, balancing masters over parts.

    Vertices with a single replica are fixed first; the others, in increasing
    number of replicas (then by id), take the replica part with the fewest
    masters so far (lowest part number on ties); vertices with no replica
    (no edge) go, in id order, to the part with the fewest masters overall.
    Deterministic, one compiled pass.

    Parameters
    ----------
    ptr, parts : ndarray
        CSR replica lists as in :class:`VertexCut` (empty for isolated vertices).
    num_parts : int
        Number of parts.

    Returns
    -------
    ndarray of int32, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> # vertex 0 only in part 0; vertices 1, 2 in parts {0, 1}; vertex 3 isolated
    >>> ptr = np.array([0, 1, 3, 5, 5]); parts = np.array([0, 0, 1, 0, 1], dtype=np.int32)
    >>> choose_masters(ptr, parts, 2).tolist()
    [0, 1, 0, 1]
    """
    counts = np.diff(ptr)
    multi = np.flatnonzero(counts >= 2)
    visit = multi[np.argsort(counts[multi], kind="stable")]
    isolated = np.flatnonzero(counts == 0)
    master = np.zeros(counts.size, dtype=np.int32)
    _greedy_masters(ptr, parts, visit, isolated, int(num_parts), master)
    return master
