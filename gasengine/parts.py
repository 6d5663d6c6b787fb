"""One edge partition as the engine holds it: local edges, replicas, mirror lists.

Vertex numbers inside a part are *local*: ``0..L-1`` index the part's sorted
replica list ``gid``.  Exchanges between parts never send vertex numbers:
both sides keep the same sorted lists of shared vertices (``send`` on the
mirror side, ``recv`` on the master side), so a message is just the values in
that order, restricted to the active ones, which both sides know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .graph import index_dtype
from .program import IN, EdgeSet

if TYPE_CHECKING:
    from partitioning import VertexCut

    from .graph import Graph


@dataclass
class Part:
    """The edges of one part and the replicas of the vertices they touch.

    Attributes
    ----------
    index : int
        Part number.
    gid : ndarray, shape (L,)
        Sorted global numbers of the vertices replicated here.
    is_master : ndarray of bool, shape (L,)
        Whether this part holds the vertex's master.
    vdata : dict of str to ndarray
        Replica values of every vertex field, shape ``(L, ...)``.
    esrc, edst : ndarray
        Local endpoints of the part's edges.
    eid : ndarray
        Global edge numbers of the part's edges.
    edata : dict of str to ndarray
        Edge fields of the part's edges.
    send : dict of int to ndarray
        ``send[q]``: local indices of mirrors whose master is in part ``q``.
    recv : dict of int to ndarray
        ``recv[p]``: local indices of masters here that part ``p`` mirrors, in
        the same (global id) order as ``p``'s ``send[self.index]``.
    """

    index: int
    gid: np.ndarray
    is_master: np.ndarray
    vdata: dict[str, np.ndarray]
    esrc: np.ndarray
    edst: np.ndarray
    eid: np.ndarray
    edata: dict[str, np.ndarray]
    send: dict[int, np.ndarray]
    recv: dict[int, np.ndarray]
    _csr: dict[EdgeSet, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    _matrices: dict[Any, tuple[sp.csr_matrix, Any]] = field(default_factory=dict, repr=False)

    @property
    def num_local(self) -> int:
        """Number of replicas ``L``."""
        return int(self.gid.size)

    @property
    def masters(self) -> np.ndarray:
        """Local indices of the vertices mastered here."""
        return np.flatnonzero(self.is_master)

    def csr(self, direction: EdgeSet) -> tuple[np.ndarray, np.ndarray]:
        """``(ptr, order)``: edges grouped by their ``dst`` (IN) or ``src`` (OUT).

        The edges of local vertex ``i`` are ``order[ptr[i]:ptr[i+1]]``.
        """
        if direction not in self._csr:
            key = self.edst if direction is IN else self.esrc
            order = np.argsort(key, kind="stable").astype(index_dtype(key.size), copy=False)
            ptr = np.zeros(self.num_local + 1, dtype=np.int64)
            np.cumsum(np.bincount(key, minlength=self.num_local), out=ptr[1:])
            self._csr[direction] = (ptr, order)
        return self._csr[direction]

    def gather_matrix(self, direction: EdgeSet, weights: np.ndarray | None, dtype: np.dtype) -> sp.csr_matrix:
        """Sparse ``M`` with ``(M @ x)[i] = sum over gather edges of i of w * x[nbr]``.

        Cached per direction, weight array and dtype; a scatter that replaces
        the weight field gives a new array and so a new matrix.
        """
        key = (direction, id(weights) if weights is not None else None, np.dtype(dtype))
        cached = self._matrices.get(key)
        if cached is not None and cached[1] is weights:
            return cached[0]
        if direction is IN:
            rows, cols = self.edst, self.esrc
        else:
            rows, cols = self.esrc, self.edst
        data = np.ones(rows.size, dtype=dtype) if weights is None else np.asarray(weights, dtype=dtype)
        matrix = sp.csr_matrix((data, (rows, cols)), shape=(self.num_local, self.num_local))
        matrix.sum_duplicates()
        self._matrices = {k: v for k, v in self._matrices.items() if k[0] is not direction}
        self._matrices[key] = (matrix, weights)
        return matrix


def build_parts(graph: Graph, cut: VertexCut, vertex_fields: dict[str, np.ndarray],
                edge_fields: dict[str, np.ndarray]) -> list[Part]:
    """Split a graph and its initial fields into the parts of ``cut``.

    Runs on the driver: it needs every part's replica list to pair mirrors
    with masters.
    """
    n, P = graph.num_vertices, cut.num_parts
    by_part = np.argsort(cut.edge_part, kind="stable")
    bounds = np.zeros(P + 1, dtype=np.int64)
    np.cumsum(np.bincount(cut.edge_part, minlength=P), out=bounds[1:])
    local_of = np.full(n, -1, dtype=np.int64)
    parts: list[Part] = []
    for p in range(P):
        gid = cut.part_vertices(p)
        ldt = index_dtype(max(gid.size, 1))
        local_of[gid] = np.arange(gid.size)
        eid = by_part[bounds[p] : bounds[p + 1]]
        parts.append(
            Part(
                index=p,
                gid=gid.astype(index_dtype(max(n, 1)), copy=False),
                is_master=cut.master[gid] == p,
                vdata={k: np.ascontiguousarray(v[gid]) for k, v in vertex_fields.items()},
                esrc=local_of[graph.src[eid]].astype(ldt),
                edst=local_of[graph.dst[eid]].astype(ldt),
                eid=eid,
                edata={k: np.ascontiguousarray(v[eid]) for k, v in edge_fields.items()},
                send={},
                recv={},
            )
        )
        local_of[gid] = -1
    for part in parts:  # the mirror layout is the partitioner's: both ends use it
        ptr, verts = cut.mirrors(part.index)
        for q in np.flatnonzero(np.diff(ptr)):
            shared = verts[ptr[q] : ptr[q + 1]]
            part.send[int(q)] = np.searchsorted(part.gid, shared)
            parts[q].recv[part.index] = np.searchsorted(parts[q].gid, shared)
    return parts
