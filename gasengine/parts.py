"""One edge partition as the engine holds it: local edges, replicas, mirror lists.

Vertex numbers inside a part are *local*: ``0..L-1`` index the part's replica
list ``gid``, which holds the part's masters first (``0..M-1``) and then its
mirrors, each group sorted, so "all masters" is a slice and apply reads and
writes fields without copies.  Exchanges between parts never send vertex
numbers: both sides keep the same lists of shared vertices (``send`` on the
mirror side, ``recv`` on the master side, in global-id order), so a message is
just the values in that order, restricted to the active ones, which both
sides know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from .graph import index_dtype
from .kernels import group_by
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
        Global numbers of the vertices replicated here: masters first, then
        mirrors, each group sorted.
    num_masters : int
        Number of masters ``M`` (local vertices ``0..M-1``).
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
    num_masters: int
    vdata: dict[str, np.ndarray]
    esrc: np.ndarray
    edst: np.ndarray
    eid: np.ndarray
    edata: dict[str, np.ndarray]
    send: dict[int, np.ndarray]
    recv: dict[int, np.ndarray]
    _csr: dict[EdgeSet, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    _matrices: dict[tuple[EdgeSet, str | None], tuple[np.ndarray, np.ndarray, Any]] = field(default_factory=dict, repr=False)

    @property
    def num_local(self) -> int:
        """Number of replicas ``L``."""
        return int(self.gid.size)

    @property
    def masters(self) -> slice:
        """The local vertices mastered here (a slice: they come first)."""
        return slice(0, self.num_masters)

    def csr(self, direction: EdgeSet) -> tuple[np.ndarray, np.ndarray]:
        """``(ptr, order)``: edges grouped by their ``dst`` (IN) or ``src`` (OUT).

        The edges of local vertex ``i`` are ``order[ptr[i]:ptr[i+1]]``, sorted
        by the neighbour at their other end (compiled counting sorts, O(m)),
        so per-edge reads of neighbour fields walk memory in order.
        """
        if direction not in self._csr:
            self._csr[direction] = self._group(direction)
        return self._csr[direction]

    def _group(self, direction: EdgeSet) -> tuple[np.ndarray, np.ndarray]:
        key, nbr = (self.edst, self.esrc) if direction is IN else (self.esrc, self.edst)
        return group_by(key, self.num_local, then_by=nbr)

    def gather_matrix(self, direction: EdgeSet, weight_field: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(ptr, nbr, w)`` for :func:`~gasengine.kernels.spmv`: the neighbours
        (and the values of edge field ``weight_field``) of every local vertex's
        gather edges, grouped by vertex.  Cached until :meth:`edge_field_changed`.
        """
        key = (direction, weight_field)
        if key not in self._matrices:
            # Use the edge grouping without caching it: the product needs only
            # the neighbour list, and the grouping is as big as the edges.
            ptr, order = self._csr.get(direction) or self._group(direction)
            nbr = (self.esrc if direction is IN else self.edst)[order]
            data = None
            if weight_field is not None:
                data = np.ascontiguousarray(self.edata[weight_field][order], dtype=np.float64)
            self._matrices[key] = (ptr, nbr, data)
        return self._matrices[key]

    def edge_field_changed(self, name: str) -> None:
        """Forget cached products that multiply by edge field ``name`` (a scatter wrote it)."""
        self._matrices = {key: value for key, value in self._matrices.items() if key[1] != name}


def build_parts(graph: Graph, cut: VertexCut, vertex_fields: dict[str, np.ndarray],
                edge_fields: dict[str, np.ndarray]) -> list[Part]:
    """Split a graph and its initial fields into the parts of ``cut``.

    Runs on the driver: it needs every part's replica list to pair mirrors
    with masters.
    """
    return list(iter_parts(graph, cut, vertex_fields, edge_fields))


def iter_parts(graph: Graph, cut: VertexCut, vertex_fields: dict[str, np.ndarray],
               edge_fields: dict[str, np.ndarray]) -> Iterator[Part]:
    """The parts of ``cut`` one at a time, so a caller can ship each and let it go.

    Replica lists and mirror pairings (per-vertex sized) are computed first;
    the per-edge arrays of a part are built only when it is yielded.
    """
    n, P = graph.num_vertices, cut.num_parts
    if P == 1:  # one part: local numbers are global ones; share the graph's arrays
        yield _whole_graph_part(graph, vertex_fields, edge_fields)
        return
    gids, num_masters = [], []
    for p in range(P):
        replicas = cut.part_vertices(p)
        own = cut.master[replicas] == p
        gids.append(np.concatenate([replicas[own], replicas[~own]]).astype(index_dtype(max(n, 1))))
        num_masters.append(int(own.sum()))
    send: list[dict[int, np.ndarray]] = [{} for _ in range(P)]
    recv: list[dict[int, np.ndarray]] = [{} for _ in range(P)]
    for p in range(P):  # the mirror layout is the partitioner's: both ends use it
        ptr, verts = cut.mirrors(p)
        for q in np.flatnonzero(np.diff(ptr)):
            shared = verts[ptr[q] : ptr[q + 1]]
            send[p][int(q)] = _local_numbers(gids[p], shared)
            recv[q][p] = _local_numbers(gids[q], shared)
    bounds, by_part = group_by(cut.edge_part, P)
    # int32 when it fits, so gathering a part's endpoints makes no int64 temporaries
    local_of = np.full(n, -1, dtype=index_dtype(max(n, 1)))
    for p in range(P):
        gid = gids[p]
        ldt = index_dtype(max(gid.size, 1))
        local_of[gid] = np.arange(gid.size, dtype=local_of.dtype)
        eid = by_part[bounds[p] : bounds[p + 1]]
        yield Part(
            index=p,
            gid=gid,
            num_masters=num_masters[p],
            vdata={k: np.ascontiguousarray(v[gid]) for k, v in vertex_fields.items()},
            esrc=local_of[graph.src[eid]].astype(ldt),
            edst=local_of[graph.dst[eid]].astype(ldt),
            eid=eid,
            edata={k: np.ascontiguousarray(v[eid]) for k, v in edge_fields.items()},
            send=send[p],
            recv=recv[p],
        )
        local_of[gid] = -1


def _whole_graph_part(graph: Graph, vertex_fields: dict[str, np.ndarray], edge_fields: dict[str, np.ndarray]) -> Part:
    n = graph.num_vertices
    return Part(
        index=0,
        gid=np.arange(n, dtype=index_dtype(max(n, 1))),
        num_masters=n,
        vdata={k: np.array(v) for k, v in vertex_fields.items()},  # the run owns its copy
        esrc=graph.src,
        edst=graph.dst,
        eid=np.arange(graph.num_edges, dtype=index_dtype(max(graph.num_edges, 1))),
        edata={k: np.array(v) for k, v in edge_fields.items()},
        send={},
        recv={},
    )


def _local_numbers(gid: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Local numbers of global ``vertices`` in a part whose ``gid`` is masters-then-mirrors sorted."""
    order = np.argsort(gid, kind="stable")
    return order[np.searchsorted(gid, vertices, sorter=order)]
