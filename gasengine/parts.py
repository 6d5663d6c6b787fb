"""One edge partition as the engine holds it: local edges, replicas, mirror lists.

Vertex numbers inside a part are *local*: ``0..L-1`` index the part's replica
list ``gid``, which holds the part's masters first (``0..M-1``) and then its
mirrors, each group sorted, so "all masters" is a slice and apply reads and
writes fields without copies.  Exchanges between parts never send vertex
numbers: both sides keep the same lists of shared vertices (``send`` on the
mirror side, ``recv`` on the master side, in global-id order, which is also
local order), so a message is the values of a subset of that list — all of
it, or positions into it (see ``exchange.py``).

A part's edges are stored **grouped by destination**, in edge order within a
group — the CSR layout of the in-edges.  An in-gather, the common case,
therefore reads the edge arrays as they are: no grouping, no neighbour-list
copy.  The arrays are built
straight into memory the caller allocates (shared memory, for worker
processes), so a part never exists twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .graph import index_dtype
from .kernels import bounds, fill_part_edges, group_by
from .program import IN, OUT, EdgeSet
from .ragged import Ragged, assemble_rows

if TYPE_CHECKING:
    from partitioning import VertexCut

    from .graph import Graph

#: ``allocate(part_index, {name: (shape, dtype)})`` returns an empty array per name.
Allocate = Callable[[int, dict[str, tuple[tuple[int, ...], np.dtype]]], dict[str, np.ndarray]]


def private_arrays(index: int, shapes: dict[str, tuple[tuple[int, ...], np.dtype]]) -> dict[str, np.ndarray]:
    """The default :data:`Allocate`: ordinary arrays of this process."""
    return {name: np.empty(shape, dtype) for name, (shape, dtype) in shapes.items()}


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
        Local endpoints of the part's edges, grouped by ``edst`` (edge order within a group).
    eid : ndarray
        Global numbers of the part's edges (empty when the graph has no edge
        fields: they are only needed to put edge fields back in order).
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
    _csr: dict[EdgeSet, tuple[np.ndarray, np.ndarray | None]] = field(default_factory=dict, repr=False)
    _matrices: dict[tuple[EdgeSet, str | None], tuple] = field(default_factory=dict, repr=False)

    @property
    def num_local(self) -> int:
        """Number of replicas ``L``."""
        return int(self.gid.size)

    @property
    def masters(self) -> slice:
        """The local vertices mastered here (a slice: they come first)."""
        return slice(0, self.num_masters)

    def csr(self, direction: EdgeSet) -> tuple[np.ndarray, np.ndarray | None]:
        """``(ptr, order)``: edges grouped by their ``dst`` (IN) or ``src`` (OUT).

        The edges of local vertex ``i`` are ``order[ptr[i]:ptr[i+1]]``;
        ``order`` is ``None`` for IN,
        where the storage order already is the grouping.  OUT is built on
        first use by compiled counting sorts, O(m).
        """
        if direction not in self._csr:
            if direction is IN:
                self._csr[IN] = (bounds(self.edst, self.num_local), None)
            else:
                self._csr[direction] = group_by(self.esrc, self.num_local)
        return self._csr[direction]

    def neighbours(self, direction: EdgeSet) -> np.ndarray:
        """The other end of every edge, in the order of :meth:`csr` ``(direction)``.

        Structure only, so it lives with the grouping and is shared by every
        run on a cached layout.
        """
        if ("nbr", direction) not in self._csr:
            _, order = self.csr(direction)
            self._csr[("nbr", direction)] = self.esrc if order is None else self.edst[order]
        return self._csr[("nbr", direction)]

    def gather_matrix(
        self, direction: EdgeSet, weight_field: str | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(ptr, nbr, w)`` for :func:`~gasengine.kernels.spmv`: the neighbours
        (and the values of edge field ``weight_field``) of every local vertex's
        gather edges, grouped by vertex.  Cached until :meth:`edge_field_changed`.
        """
        key = (direction, weight_field)
        if key not in self._matrices:
            ptr, order = self.csr(direction)
            nbr = self.neighbours(direction)
            data = None
            if weight_field is not None:
                weights = self.edata[weight_field]
                data = np.ascontiguousarray(weights if order is None else weights[order])
            self._matrices[key] = (ptr, nbr, data)
        return self._matrices[key]

    def hot_first_gather_matrix(
        self, direction: EdgeSet, weight_field: str | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        """``(ptr, nbr, w, order)``: :meth:`gather_matrix` with its neighbours renumbered so that the
        most read come first — ``spmv(ptr, nbr, w, x[order])`` equals ``spmv`` of the plain matrix on ``x``,
        bit for bit (every row sums the same terms in the same order).

        A product over all rows reads ``x`` at random, one read per edge; on
        a power-law graph most reads go to a few hubs, and numbered first
        their values share cache lines instead of being spread over the
        whole vector (R-MAT 20, one product against the plain one alternated,
        ``benchmarks/kernels.py``: 0.77-0.88x, the permutation of ``x``
        included).  The renumbering
        is structure, kept with the grouping (and so with a cached layout):
        built once, O(m) plus a sort of the vertices by use, and held at 4
        bytes per edge (R-MAT 20: 64 MiB; the in-process peak 2.2x -> 2.7x
        the graph's ``src`` + ``dst``).
        """
        ptr, _, data = self.gather_matrix(direction, weight_field)
        nbr, order = self.hot_first(direction)
        return ptr, nbr, data, order

    def hot_first(self, direction: EdgeSet) -> tuple[np.ndarray, np.ndarray]:
        """``(nbr, order)`` of :meth:`hot_first_gather_matrix`: the renumbered neighbours, and the
        local vertex behind each new number (most read first)."""
        key = ("hot first", direction)
        if key not in self._csr:
            nbr = self.neighbours(direction)
            uses = np.diff(bounds(nbr, self.num_local))  # a compiled count: bincount copies int32 ids to int64
            order = np.argsort(-uses, kind="stable").astype(nbr.dtype, copy=False)
            rank = np.empty(self.num_local, dtype=nbr.dtype)
            rank[order] = np.arange(self.num_local, dtype=nbr.dtype)
            self._csr[key] = (rank[nbr], order)
        return self._csr[key]

    def edge_field_changed(self, name: str) -> None:
        """Forget cached products that multiply by edge field ``name`` (a scatter wrote it)."""
        self._matrices = {key: value for key, value in self._matrices.items() if key[1] != name}

    def results(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
        """Master values (with their global numbers under ``"\\0gid"``) and, if
        the part has edge fields, its edge values (global numbers under ``"\\0eid"``)."""
        m = self.masters
        vertex = {"\0gid": self.gid[m], **{k: v[m] for k, v in self.vdata.items()}}
        return vertex, ({"\0eid": self.eid, **self.edata} if self.edata else None)

    # ------------------------------------------------------ flat form
    def arrays(self) -> dict[str, np.ndarray]:
        """Every array of the part under a flat name (the form shared memory holds)."""
        arrays = {
            "gid": self.gid,
            "num_masters": np.array([self.num_masters]),
            "esrc": self.esrc,
            "edst": self.edst,
            "eid": self.eid,
        }
        arrays.update({f"v:{k}": v for k, v in self.vdata.items()})
        arrays.update({f"e:{k}": v for k, v in self.edata.items()})
        arrays.update({f"send:{q}": v for q, v in self.send.items()})
        arrays.update({f"recv:{p}": v for p, v in self.recv.items()})
        if IN in self._csr:  # groupings built earlier travel with the part
            arrays["csr:in:ptr"] = self._csr[IN][0]
        if OUT in self._csr:
            arrays["csr:out:ptr"], arrays["csr:out:order"] = self._csr[OUT]
            if ("nbr", OUT) in self._csr:
                arrays["nbr:out"] = self._csr[("nbr", OUT)]
        for direction, name in ((IN, "in"), (OUT, "out")):
            if ("hot first", direction) in self._csr:
                arrays[f"hot:{name}:nbr"], arrays[f"hot:{name}:order"] = self._csr[("hot first", direction)]
        return arrays

    @classmethod
    def from_arrays(cls, index: int, arrays: dict[str, np.ndarray]) -> Part:
        """The part whose arrays are ``arrays`` (as :meth:`arrays` names them; no copies)."""

        def prefixed(prefix: str) -> dict[str, np.ndarray]:
            return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}

        groupings: dict = {}
        if "csr:in:ptr" in arrays:
            groupings[IN] = (arrays["csr:in:ptr"], None)
        if "csr:out:ptr" in arrays:
            groupings[OUT] = (arrays["csr:out:ptr"], arrays["csr:out:order"])
        if "nbr:out" in arrays:
            groupings[("nbr", OUT)] = arrays["nbr:out"]
        for direction, name in ((IN, "in"), (OUT, "out")):
            if f"hot:{name}:nbr" in arrays:
                groupings[("hot first", direction)] = (arrays[f"hot:{name}:nbr"], arrays[f"hot:{name}:order"])
        return cls(
            index=index,
            gid=arrays["gid"],
            num_masters=int(arrays["num_masters"][0]),
            vdata=prefixed("v:"),
            esrc=arrays["esrc"],
            edst=arrays["edst"],
            eid=arrays["eid"],
            edata=prefixed("e:"),
            send={int(q): v for q, v in prefixed("send:").items()},
            recv={int(p): v for p, v in prefixed("recv:").items()},
            _csr=groupings,
        )


def split_ragged(fields: dict[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, Ragged]]:
    """``fields`` as ``(arrays, ragged fields)``: only arrays have a shape memory can be laid out for."""
    ragged = {k: v for k, v in fields.items() if isinstance(v, Ragged)}
    return {k: v for k, v in fields.items() if k not in ragged}, ragged


def build_parts(
    graph: Graph, cut: VertexCut, vertex_fields: dict[str, np.ndarray], edge_fields: dict[str, np.ndarray]
) -> list[Part]:
    """Split a graph and its initial fields into the parts of ``cut``.

    Runs on the driver: it needs every part's replica list to pair mirrors
    with masters.
    """
    return list(iter_parts(graph, cut, vertex_fields, edge_fields))


def build_layouts(graph: Graph, cut: VertexCut) -> list[Part]:
    """Every part of ``cut`` without fields: its edges (with their numbers), replicas and mirror lists.

    This is what :mod:`gasengine.cache` keeps between runs; :func:`with_fields`
    and :func:`copy_layout` turn a layout into a part of one run.
    """
    return list(iter_parts(graph, cut, {}, {}, keep_eid=True))


def with_fields(
    layout: Part,
    vertex_fields: dict[str, np.ndarray],
    edge_fields: dict[str, np.ndarray],
    owned: frozenset[str] = frozenset(),
) -> Part:
    """A part sharing ``layout``'s arrays and cached groupings, with fields of its own.

    The layout's arrays are never written by the engine, so every run can
    share them; the fields are copies taken for this run — except, in a part
    holding every vertex in order (one part), the vertex fields named in
    ``owned``, which belong to this run already and are used as they are.
    """
    whole = layout.gid.size == layout.num_masters and (
        layout.gid.size == 0 or int(layout.gid[-1]) == layout.gid.size - 1
    )

    def vertex_values(name: str, values: np.ndarray | Ragged) -> np.ndarray | Ragged:
        if whole and values.shape[0] == layout.gid.size:  # local numbers are global ones
            return values if name in owned else values.copy()
        if isinstance(values, Ragged):  # the part's rows, sharing the values (never written in place)
            return values.take(layout.gid)
        return np.take(values, layout.gid, axis=0)

    return Part(
        index=layout.index,
        gid=layout.gid,
        num_masters=layout.num_masters,
        vdata={k: vertex_values(k, v) for k, v in vertex_fields.items()},
        esrc=layout.esrc,
        edst=layout.edst,
        eid=layout.eid,
        edata={k: np.take(v, layout.eid, axis=0) for k, v in edge_fields.items()},
        send=layout.send,
        recv=layout.recv,
        _csr=layout._csr,
    )


#: Arrays of a layout that always go into the allocated memory (the launcher sizes a part by ``gid``).
ALLOCATED_ALWAYS = ("gid", "num_masters")


def copy_layout(
    layout: Part,
    vertex_fields: dict[str, np.ndarray],
    edge_fields: dict[str, np.ndarray],
    allocate: Allocate,
    keep_edges: bool = False,
) -> Part:
    """A part built into memory from ``allocate`` (shared memory, for workers) from a cached layout.

    With ``keep_edges`` the structure — edges, groupings, mirror lists, all
    read and never written — is not copied: the part uses the layout's own
    arrays, for workers that inherit the driver's memory (``fork``); only
    the fields (and ``gid``) go into the allocated memory.  (Copying the
    per-vertex structure too cost components on R-MAT 20 about 40 ms a run
    with 2 workers.)
    """
    known = {k: v for k, v in layout.arrays().items() if not k.startswith(("v:", "e:"))}
    if not edge_fields:
        known["eid"] = known["eid"][:0]
    kept = {k: known.pop(k) for k in list(known) if keep_edges and k not in ALLOCATED_ALWAYS}
    fixed, ragged = split_ragged(vertex_fields)
    shapes = {k: (v.shape, v.dtype) for k, v in known.items()}
    shapes.update({f"v:{k}": ((layout.gid.size, *v.shape[1:]), v.dtype) for k, v in fixed.items()})
    shapes.update({f"e:{k}": ((layout.esrc.size, *v.shape[1:]), v.dtype) for k, v in edge_fields.items()})
    out = allocate(layout.index, shapes)
    for k, v in known.items():
        out[k][...] = v
    for k, v in fixed.items():
        np.take(v, layout.gid, axis=0, out=out[f"v:{k}"])
    out.update({f"v:{k}": v.take(layout.gid) for k, v in ragged.items()})  # private rows, outside ``allocate``
    for k, v in edge_fields.items():
        np.take(v, layout.eid, axis=0, out=out[f"e:{k}"])
    return Part.from_arrays(layout.index, {**out, **kept})


def iter_parts(
    graph: Graph,
    cut: VertexCut,
    vertex_fields: dict[str, np.ndarray],
    edge_fields: dict[str, np.ndarray],
    allocate: Allocate = private_arrays,
    keep_eid: bool = False,
) -> Iterator[Part]:
    """The parts of ``cut`` one at a time, each built into memory from ``allocate``.

    Replica lists and mirror pairings (per-vertex sized) are computed first.
    A part's edges are then placed by a compiled scan of the edge list, so no
    per-edge temporary is made: memory beyond the parts themselves is O(n).
    Edge numbers (``eid``) are kept when there are edge fields or ``keep_eid``.
    """
    n, P = graph.num_vertices, cut.num_parts
    fixed, ragged = split_ragged(vertex_fields)
    vdt, edt = index_dtype(max(n, 1)), index_dtype(max(graph.num_edges, 1))
    gids, num_masters = _replica_lists(cut, vdt)
    send, recv = _mirror_lists(cut, gids)
    edges_per_part = cut.edges_per_part if P > 1 else [graph.num_edges]
    local_of = np.full(n, -1, dtype=vdt)
    for p in range(P):
        gid, m_p = gids[p], int(edges_per_part[p])
        ldt = index_dtype(max(gid.size, 1))
        known = {
            "gid": gid,
            "num_masters": np.array([num_masters[p]], dtype=np.int64),
            **{f"send:{q}": v for q, v in send[p].items()},
            **{f"recv:{q}": v for q, v in recv[p].items()},
        }
        shapes = {k: (v.shape, v.dtype) for k, v in known.items()}
        with_eid = bool(edge_fields) or keep_eid
        shapes.update(esrc=((m_p,), ldt), edst=((m_p,), ldt), eid=((m_p if with_eid else 0,), edt))
        shapes.update({f"v:{k}": ((gid.size, *v.shape[1:]), v.dtype) for k, v in fixed.items()})
        shapes.update({f"e:{k}": ((m_p, *v.shape[1:]), v.dtype) for k, v in edge_fields.items()})
        out = allocate(p, shapes)
        for k, v in known.items():
            out[k][...] = v
        for k, v in fixed.items():
            np.take(v, gid, axis=0, out=out[f"v:{k}"])
        out.update({f"v:{k}": v.take(gid) for k, v in ragged.items()})  # private rows, outside ``allocate``
        local_of[gid] = np.arange(gid.size, dtype=vdt)
        fill_part_edges(
            graph.src,
            graph.dst,
            cut.edge_part if P > 1 else None,
            p,
            local_of,
            gid.size,
            out["esrc"],
            out["edst"],
            out["eid"] if with_eid else None,
        )
        local_of[gid] = -1
        for k, v in edge_fields.items():
            np.take(v, out["eid"], axis=0, out=out[f"e:{k}"])
        yield Part.from_arrays(p, out)


def _replica_lists(cut: VertexCut, dtype: np.dtype) -> tuple[list[np.ndarray], list[int]]:
    """Every part's ``gid`` (its masters, then its mirrors, each sorted) and its number of masters."""
    if cut.num_parts == 1:  # local numbers are global ones
        return [np.arange(cut.num_vertices, dtype=dtype)], [cut.num_vertices]
    gids, num_masters = [], []
    for p in range(cut.num_parts):
        replicas = cut.part_vertices(p)
        own = cut.master[replicas] == p
        gids.append(np.concatenate([replicas[own], replicas[~own]]).astype(dtype))
        num_masters.append(int(own.sum()))
    return gids, num_masters


def _mirror_lists(cut: VertexCut, gids: list[np.ndarray]) -> tuple[list[dict], list[dict]]:
    """``send[p][q]`` and ``recv[q][p]``: local numbers of the vertices mirrored in p, mastered in q.

    The layout is the partitioner's (:meth:`VertexCut.mirror_groups`), so both ends agree.
    """
    P = len(gids)
    send: list[dict[int, np.ndarray]] = [{} for _ in range(P)]
    recv: list[dict[int, np.ndarray]] = [{} for _ in range(P)]
    if P == 1:
        return send, recv
    for p in range(P):
        masters_in, ptr, verts = cut.mirror_groups(p)
        for k, q in enumerate(masters_in.tolist()):
            shared = verts[ptr[k] : ptr[k + 1]]
            send[p][q] = _local_numbers(gids[p], shared)
            recv[q][p] = _local_numbers(gids[q], shared)
    return send, recv


def _local_numbers(gid: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Local numbers of global ``vertices`` in a part whose ``gid`` is masters-then-mirrors sorted."""
    order = np.argsort(gid, kind="stable")
    return order[np.searchsorted(gid, vertices, sorter=order)]


def assemble(
    pieces: dict[int, dict[str, np.ndarray]], key: str, size: int, like: dict[str, np.ndarray], in_order: bool = False
) -> dict[str, np.ndarray]:
    """Put per-part arrays back in global order (``key`` holds the global index).

    ``in_order``: the arrays belong to the caller and one piece already
    holds every item in order (one part, in this process), so they are the
    result as they are, not copied.
    """
    out: dict[str, np.ndarray] = {}
    if in_order and len(pieces) == 1:
        piece = next(iter(pieces.values()))
        if piece[key].size == size:
            out = {name: values for name, values in piece.items() if name != key}
            for name, values in like.items():
                out.setdefault(name, values.copy())
            return out
    ragged: dict[str, list[tuple[np.ndarray, Ragged]]] = {}
    for piece in pieces.values():
        index = piece[key]
        for name, values in piece.items():
            if name == key:
                continue
            if isinstance(values, Ragged):
                ragged.setdefault(name, []).append((index, values))
                continue
            if name not in out:
                out[name] = np.empty((size, *values.shape[1:]), dtype=values.dtype)
            out[name][index] = values
    out.update({name: assemble_rows(rows, size) for name, rows in ragged.items()})
    for name, values in like.items():  # fields of an empty graph
        out.setdefault(name, values.copy())
    return out
