"""The result of cutting a graph's edges into parts: replicas, masters, mirrors.

In a vertex cut every edge lives in exactly one part.  A vertex whose edges
fall into several parts is *replicated* in each of them; one replica is the
**master** (it runs ``apply`` and owns the authoritative value) and the others
are **mirrors** (they gather locally and receive the master's value).  This
module turns an edge -> part assignment into those structures and measures
their quality.  It knows nothing about the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Largest n * num_parts for which replicas are found with a dense bitmap
#: (fast, O(n * P) bytes); above it a sort-based path is used.
_DENSE_LIMIT = 1 << 28


@dataclass(frozen=True)
class VertexCut:
    """Edges assigned to parts, with the replica and master of every vertex.

    Attributes
    ----------
    num_parts : int
        Number of parts ``P``.
    num_vertices : int
        Number of vertices ``n``.
    edge_part : ndarray of int32, shape (m,)
        Part of every edge.
    master : ndarray of int32, shape (n,)
        Part holding the master replica of every vertex.  Vertices without
        edges still get a master so that ``apply`` runs for them.
    replica_ptr, replica_parts : ndarray
        CSR lists: the parts holding a replica of vertex ``v`` are
        ``replica_parts[replica_ptr[v]:replica_ptr[v + 1]]`` (sorted; the
        master is among them).
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
    _part_ptr: np.ndarray = field(default=None, repr=False, compare=False)
    _part_vertex: np.ndarray = field(default=None, repr=False, compare=False)

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

        Parameters
        ----------
        src, dst : array_like of int
            Edge endpoints.
        num_vertices : int
            Number of vertices.
        edge_part : array_like of int
            Part of every edge, in ``0..num_parts-1``.
        num_parts : int
            Number of parts.
        strategy : str
            Recorded in the result.
        """
        src = np.asarray(src)
        dst = np.asarray(dst)
        edge_part = np.asarray(edge_part)
        if edge_part.shape != src.shape:
            raise ValueError(
                f"edge_part must give one part per edge: {edge_part.shape} vs {src.shape}"
            )
        if num_parts < 1:
            raise ValueError(f"num_parts must be >= 1, got {num_parts}")
        if edge_part.size and (edge_part.min() < 0 or edge_part.max() >= num_parts):
            bad = int(np.flatnonzero((edge_part < 0) | (edge_part >= num_parts))[0])
            raise ValueError(
                f"edge_part[{bad}] = {int(edge_part[bad])} is outside 0..{num_parts - 1}"
            )
        edge_part = edge_part.astype(np.int32, copy=False)
        ptr, parts = _replicas(src, dst, num_vertices, edge_part, num_parts)
        master = _choose_masters(ptr, parts, num_parts)
        # Vertices without edges: give each a master (and its only replica) in a
        # round-robin over parts so apply still runs for them.
        counts = np.diff(ptr)
        has_edges = counts > 0
        isolated = np.flatnonzero(~has_edges)
        if isolated.size:
            master[isolated] = (np.arange(isolated.size) % num_parts).astype(np.int32)
            counts = counts.copy()
            counts[isolated] = 1
            new_ptr = np.zeros(num_vertices + 1, dtype=np.int64)
            np.cumsum(counts, out=new_ptr[1:])
            new_parts = np.empty(int(new_ptr[-1]), dtype=np.int32)
            has = np.diff(ptr) > 0
            # copy existing lists, then the isolated vertices' single part
            old_pos = np.repeat(new_ptr[:-1][has], np.diff(ptr)[has]) + _ramp(np.diff(ptr)[has])
            new_parts[old_pos] = parts
            new_parts[new_ptr[isolated]] = master[isolated]
            ptr, parts = new_ptr, new_parts
        return cls(num_parts, int(num_vertices), edge_part, master, ptr, parts, has_edges, strategy)

    # ------------------------------------------------------------ queries
    def parts_of(self, v: int) -> np.ndarray:
        """Parts that hold a replica of vertex ``v``."""
        return self.replica_parts[self.replica_ptr[v] : self.replica_ptr[v + 1]]

    def part_vertices(self, p: int) -> np.ndarray:
        """Sorted vertex numbers replicated in part ``p`` (masters included)."""
        if self._part_ptr is None:
            counts = np.diff(self.replica_ptr)
            vertex = np.repeat(np.arange(self.num_vertices, dtype=np.int64), counts)
            order = np.argsort(self.replica_parts, kind="stable")
            part_ptr = np.zeros(self.num_parts + 1, dtype=np.int64)
            np.cumsum(np.bincount(self.replica_parts, minlength=self.num_parts), out=part_ptr[1:])
            object.__setattr__(self, "_part_ptr", part_ptr)
            object.__setattr__(self, "_part_vertex", vertex[order])
        return self._part_vertex[self._part_ptr[p] : self._part_ptr[p + 1]]

    def part_edges(self, p: int) -> np.ndarray:
        """Indices of the edges assigned to part ``p``, in edge order."""
        return np.flatnonzero(self.edge_part == p)

    # ------------------------------------------------------------ metrics
    @property
    def num_replicas(self) -> np.ndarray:
        """Number of replicas of every vertex (1 for isolated vertices)."""
        return np.diff(self.replica_ptr)

    @property
    def replication_factor(self) -> float:
        """Replicas per vertex, over vertices that have at least one edge."""
        touched = self.has_edges
        return float(self.num_replicas[touched].sum() / max(int(touched.sum()), 1))

    @property
    def edge_balance(self) -> float:
        """Largest part's edge count over the mean edge count (1.0 is perfect)."""
        sizes = np.bincount(self.edge_part, minlength=self.num_parts)
        mean = sizes.mean() if sizes.size else 0.0
        return float(sizes.max() / mean) if mean > 0 else 1.0

    @property
    def master_balance(self) -> float:
        """Largest part's master count over the mean master count."""
        sizes = np.bincount(self.master, minlength=self.num_parts)
        mean = sizes.mean() if sizes.size else 0.0
        return float(sizes.max() / mean) if mean > 0 else 1.0

    def bytes_per_superstep(self, value_bytes: int = 8) -> int:
        """Bytes one all-active superstep moves between parts.

        Every mirror sends its partial accumulator to the master and receives
        the new value back: ``2 * mirrors * value_bytes``.
        """
        mirrors = int((self.num_replicas - 1).sum())
        return 2 * mirrors * int(value_bytes)


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
        key = np.concatenate([src, dst]).astype(np.int64) * num_parts + np.concatenate(
            [edge_part, edge_part]
        )
        key = np.unique(key)
        vertex, parts = np.divmod(key, num_parts)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(vertex, minlength=n), out=ptr[1:])
    return ptr, parts.astype(np.int32)


def _choose_masters(ptr: np.ndarray, parts: np.ndarray, num_parts: int) -> np.ndarray:
    """Pick one replica per vertex as master, spreading masters over parts.

    A multiplicative hash of the vertex number picks among its replicas, so the
    choice is deterministic, independent of P's processing order, and spreads
    masters evenly when replicas are spread evenly.
    """
    n = ptr.size - 1
    counts = np.diff(ptr)
    master = np.zeros(n, dtype=np.int32)
    has = counts > 0
    v = np.flatnonzero(has).astype(np.uint64)
    h = (v * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(33)
    pick = (h % counts[has].astype(np.uint64)).astype(np.int64)
    master[has] = parts[ptr[:-1][has] + pick]
    return master
