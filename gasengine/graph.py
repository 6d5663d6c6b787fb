"""The data graph: a multigraph, directed or undirected, with named vertex and edge fields.

Vertices are numbered ``0..n-1``; when the graph came from a file or from
networkx with other ids, ``Graph.ids[i]`` is the original id of vertex ``i``
and every output can be written with those ids.  Fields are numpy arrays
whose first axis is the vertex (``(n, ...)``) or the edge (``(m, ...)``), so a
vertex can carry a scalar, a vector (ALS latent factors) or a matrix.

A graph is stored as *arcs* (``src[k] -> dst[k]``) either way.  An
undirected graph (``Graph.directed`` False, as networkx remembers it) stores
every undirected edge ``{u, v}`` as the two arcs ``u->v`` and ``v->u`` (a
self-loop as one arc), so that every algorithm sees the edge from both ends;
``num_edges`` counts the stored arcs and ``num_undirected_edges`` the edges.
"""

from __future__ import annotations

import copy
import math
import numbers
import operator
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from .errors import GraphFormatError
from .kernels import count_keys

if TYPE_CHECKING:
    from .program import EdgeView, VertexView

INT32_MAX = np.iinfo(np.int32).max
INT64_MAX = np.iinfo(np.int64).max

# Above this many vertices, ``lo * n + hi`` can overflow int64, so unordered
# pairs are told apart by unique rows instead of one packed key.

# The (empty) globals seen by map-reduce views: no run, no sync operations.
_NO_GLOBALS: Mapping[str, Any] = types.MappingProxyType({})


def index_dtype(n: int) -> np.dtype:
    """The smallest of int32/int64 that can index ``n`` items.

    Examples
    --------
    >>> index_dtype(10), index_dtype(2**31)
    (dtype('int32'), dtype('int64'))
    """
    return np.dtype(np.int32) if n <= INT32_MAX else np.dtype(np.int64)


class Graph:
    """A directed or undirected multigraph with vertex fields and edge fields.

    Parameters
    ----------
    src, dst : array_like of int
        Endpoints of each edge, as vertex numbers in ``0..num_vertices-1``.
        Any integer or integral float dtype is accepted; a value that cannot
        be represented exactly as a vertex number (``1e20``, ``2**64``,
        ``0.5``, NaN) is rejected with a :class:`GraphFormatError` naming the
        array and the index.
    num_vertices : int, optional
        Number of vertices; defaults to ``max(src, dst) + 1`` (0 if no edges).
    vertex_data : mapping of str to array_like, optional
        Vertex fields, each of shape ``(num_vertices, ...)``.
    edge_data : mapping of str to array_like, optional
        Edge fields, each of shape ``(len(src), ...)``: one row per *given*
        edge, also when ``directed=False``.
    ids : array_like, optional
        Original id of every vertex (shape ``(num_vertices,)``), used in output.
    directed : bool
        ``True`` (default): every pair is one arc ``src[k] -> dst[k]``.
        ``False``: every pair is one undirected edge, stored as the arc
        ``src[k] -> dst[k]`` and, after all given edges, the reversed arc
        ``dst[k] -> src[k]`` with a copy of the edge's fields (a self-loop is
        stored once).  This is what ``load_graph(..., undirected=True)`` and
        ``from_networkx`` of an undirected graph build.  To wrap arcs that
        are already stored both ways, use :meth:`from_arcs`.

    Attributes
    ----------
    src, dst : ndarray
        The stored arcs (int32 when the vertex numbers fit, else int64).
    num_vertices : int
    directed : bool
        Whether the graph is directed (networkx's ``G.is_directed()``).
    vertex_data, edge_data : dict of str to ndarray
        The fields; edge fields have one row per stored arc.
    ids : ndarray or None
        Original vertex ids.

    Examples
    --------
    >>> g = Graph([0, 1, 2], [1, 2, 0], edge_data={"weight": [1.0, 2.0, 0.5]})
    >>> g.num_vertices, g.num_edges
    (3, 3)
    >>> g.out_degree().tolist()
    [1, 1, 1]
    >>> u = Graph([0, 1], [1, 1], edge_data={"w": [5.0, 7.0]}, directed=False)
    >>> u.src.tolist(), u.dst.tolist(), u.edge_data["w"].tolist()
    ([0, 1, 1], [1, 1, 0], [5.0, 7.0, 5.0])
    >>> u.num_edges, u.num_undirected_edges, u.degree().tolist()
    (3, 2, [1, 3])
    """

    def __init__(
        self,
        src: Any,
        dst: Any,
        num_vertices: int | None = None,
        vertex_data: Mapping[str, Any] | None = None,
        edge_data: Mapping[str, Any] | None = None,
        ids: Any = None,
        *,
        directed: bool = True,
    ):
        self._build(src, dst, num_vertices, vertex_data, edge_data, ids, directed, mirror=not directed)

    @classmethod
    def from_arcs(
        cls,
        src: Any,
        dst: Any,
        num_vertices: int | None = None,
        vertex_data: Mapping[str, Any] | None = None,
        edge_data: Mapping[str, Any] | None = None,
        ids: Any = None,
        *,
        directed: bool = True,
    ) -> Graph:
        """A graph whose stored arcs are exactly ``src[k] -> dst[k]``: nothing is mirrored.

        Use it to rebuild a graph from the arcs of another one (for example
        with new fields) without mirroring an undirected graph's arcs a second
        time.  With ``directed=False`` the caller guarantees that the arcs
        are symmetric: every non-loop arc ``u->v`` has a matching ``v->u``
        (as the arcs of any undirected :class:`Graph` have); this is not
        checked.  Edge fields have one row per arc.  With ``directed=True``
        this is the same as ``Graph(src, dst, ...)``.

        Examples
        --------
        >>> u = Graph([0, 1], [1, 2], directed=False)
        >>> v = Graph.from_arcs(u.src, u.dst, u.num_vertices, edge_data={"w": [1, 2, 3, 4]},
        ...                     directed=u.directed)
        >>> v.num_edges, v.directed, v.num_undirected_edges
        (4, False, 2)
        """
        g = cls.__new__(cls)
        g._build(src, dst, num_vertices, vertex_data, edge_data, ids, directed, mirror=False)
        return g

    def _build(
        self,
        src: Any,
        dst: Any,
        num_vertices: Any,
        vertex_data: Mapping[str, Any] | None,
        edge_data: Mapping[str, Any] | None,
        ids: Any,
        directed: bool,
        mirror: bool,
    ) -> None:
        """Validate, optionally mirror (undirected input edges) and store."""
        if num_vertices is not None:
            num_vertices = _as_count(num_vertices)
            outside = f"0..{num_vertices - 1}"
        else:
            outside = "0..n-1: vertex numbers must fit a 64-bit integer"
        src_a = exact_int64(src, "src", outside)
        dst_a = exact_int64(dst, "dst", outside)
        if src_a.shape != dst_a.shape:
            raise GraphFormatError(f"src and dst must have the same length, got {src_a.size} and {dst_a.size}")
        if num_vertices is None:
            num_vertices = int(max(src_a.max(initial=-1), dst_a.max(initial=-1))) + 1
        if num_vertices < 0:
            raise GraphFormatError(f"num_vertices must be >= 0, got {num_vertices}")
        for name, arr in (("src", src_a), ("dst", dst_a)):
            if arr.size and (arr.min() < 0 or arr.max() >= num_vertices):
                bad = int(np.flatnonzero((arr < 0) | (arr >= num_vertices))[0])
                raise GraphFormatError(f"{name}[{bad}] = {int(arr[bad])} is outside 0..{num_vertices - 1}")
        dtype = index_dtype(max(num_vertices, 1))
        src_a = src_a.astype(dtype, copy=False)
        dst_a = dst_a.astype(dtype, copy=False)
        # edge fields are checked against the edges as given, before mirroring,
        # so that an error speaks of the caller's arrays
        fields = {name: _field_array(values, src_a.size, "edge", name) for name, values in (edge_data or {}).items()}
        if mirror:
            back = np.flatnonzero(src_a != dst_a)  # a self-loop is one arc
            src_a, dst_a = (
                np.concatenate([src_a, dst_a[back]]),
                np.concatenate([dst_a, src_a[back]]),
            )
            fields = {name: np.concatenate([v, v[back]]) for name, v in fields.items()}
        self.src: np.ndarray = src_a
        self.dst: np.ndarray = dst_a
        self.num_vertices: int = num_vertices
        self.directed: bool = bool(directed)
        self.vertex_data: dict[str, np.ndarray] = {}
        self.edge_data: dict[str, np.ndarray] = fields
        for name, values in (vertex_data or {}).items():
            self.set_vertex_field(name, values)
        self.ids: np.ndarray | None = None
        if ids is not None:
            ids_a = np.asarray(ids)
            if ids_a.shape != (num_vertices,):
                raise GraphFormatError(f"ids must have shape ({num_vertices},), got {ids_a.shape}")
            self.ids = ids_a

    # ------------------------------------------------------------------ size
    @property
    def num_edges(self) -> int:
        """Number of stored arcs (parallel edges and self-loops count).

        For an undirected graph every non-loop edge is stored as two arcs, so
        this is ``2 * num_undirected_edges - self_loops``; it is the length
        of ``src``, ``dst`` and every edge field.

        Examples
        --------
        >>> Graph([0, 1], [1, 1], directed=False).num_edges
        3
        """
        return int(self.src.size)

    @property
    def num_undirected_edges(self) -> int:
        """Number of undirected edges of an undirected graph (networkx's ``number_of_edges()``).

        Raises
        ------
        ValueError
            For a directed graph, whose edges ``num_edges`` counts.

        Examples
        --------
        >>> Graph([0, 1, 2], [1, 2, 2], directed=False).num_undirected_edges
        3
        """
        if self.directed:
            raise ValueError("a directed graph has no undirected edges; num_edges counts its edges")
        loops = int(np.count_nonzero(self.src == self.dst))
        return (self.num_edges + loops) // 2

    def __repr__(self) -> str:
        return (
            f"Graph(num_vertices={self.num_vertices}, num_edges={self.num_edges}, "
            f"directed={self.directed}, "
            f"vertex_fields={sorted(self.vertex_data)}, edge_fields={sorted(self.edge_data)})"
        )

    # ---------------------------------------------------------- engine cache
    def engine_cache_bytes(self) -> int:
        """Bytes held by the engine structures cached with this graph (see :mod:`gasengine.cache`).

        Examples
        --------
        >>> Graph([0], [1]).engine_cache_bytes()
        0
        """
        from .cache import cache_bytes

        return cache_bytes(self)

    def clear_engine_cache(self) -> None:
        """Drop the cuts and part layouts that runs on this graph keep (see :mod:`gasengine.cache`)."""
        from .cache import clear

        clear(self)

    # ---------------------------------------------------------------- fields
    def set_vertex_field(self, name: str, values: Any) -> None:
        """Add or replace a vertex field (first axis must be the vertex).

        Examples
        --------
        >>> g = Graph([0], [1])
        >>> g.set_vertex_field("x", [0.5, 1.5]); g.vertex_data["x"].tolist()
        [0.5, 1.5]
        """
        self.vertex_data[name] = _field_array(values, self.num_vertices, "vertex", name)

    def set_edge_field(self, name: str, values: Any) -> None:
        """Add or replace an edge field (first axis must be the stored arc).

        Examples
        --------
        >>> g = Graph([0], [1])
        >>> g.set_edge_field("w", [2.0]); g.edge_data["w"].tolist()
        [2.0]
        """
        self.edge_data[name] = _field_array(values, self.num_edges, "edge", name)

    # --------------------------------------------------------------- degrees
    def out_degree(self) -> np.ndarray:
        """Number of stored arcs leaving every vertex (int64, shape ``(n,)``).

        For an undirected graph this counts a self-loop once; see :meth:`degree`.

        Examples
        --------
        >>> Graph([0, 0, 1], [1, 2, 2]).out_degree().tolist()
        [2, 1, 0]
        """
        return count_keys(self.src, self.num_vertices)

    def in_degree(self) -> np.ndarray:
        """Number of stored arcs entering every vertex (int64, shape ``(n,)``).

        Examples
        --------
        >>> Graph([0, 0, 1], [1, 2, 2]).in_degree().tolist()
        [0, 1, 2]
        """
        return count_keys(self.dst, self.num_vertices)

    def degree(self) -> np.ndarray:
        """Edge ends at every vertex, as networkx's ``G.degree`` counts them.

        Directed: in-degree plus out-degree.  Undirected: the number of
        incident edges, a self-loop counting twice.

        Examples
        --------
        >>> Graph([0, 1], [1, 1]).degree().tolist()
        [1, 3]
        >>> Graph([0, 1], [1, 1], directed=False).degree().tolist()
        [1, 3]
        """
        if self.directed:
            return self.out_degree() + self.in_degree()
        # each non-loop edge has one arc leaving each end; a self-loop is one
        # arc but two ends, so it is added once more
        loops = self.src[self.src == self.dst]
        return self.out_degree() + np.bincount(loops, minlength=self.num_vertices)

    # ------------------------------------------------------------ ids
    def original_ids(self) -> np.ndarray:
        """The original id of every vertex (``arange(n)`` when none were given).

        Examples
        --------
        >>> Graph([0], [1], ids=[10, 20]).original_ids().tolist()
        [10, 20]
        """
        return self.ids if self.ids is not None else np.arange(self.num_vertices)

    def vertex_index(self, original_id: Any) -> int:
        """The vertex number ``0..n-1`` of an original id.

        Raises
        ------
        KeyError
            If no vertex has that id.

        Examples
        --------
        >>> Graph([0], [1], ids=[10, 20]).vertex_index(20)
        1
        """
        if self.ids is None:
            i = int(original_id)
            if 0 <= i < self.num_vertices and i == original_id:
                return i
            raise KeyError(f"no vertex with id {original_id!r}")
        if self.ids.dtype == object:  # e.g. tuples from networkx: compare elementwise, not broadcast
            for i, value in enumerate(self.ids.tolist()):
                if value == original_id:
                    return i
            raise KeyError(f"no vertex with id {original_id!r}")
        try:
            key = np.asarray(original_id, dtype=self.ids.dtype)
        except (TypeError, ValueError, OverflowError):
            raise KeyError(f"no vertex with id {original_id!r}") from None
        hits = np.flatnonzero(self.ids == key)
        if hits.size == 0:
            raise KeyError(f"no vertex with id {original_id!r}")
        return int(hits[0])

    # ---------------------------------------------------------- transforms
    def reverse(self) -> Graph:
        """The same graph with every arc turned around (fields are shared).

        An undirected graph stays undirected (its arcs are the same set,
        in another order).

        Examples
        --------
        >>> r = Graph([0, 0], [1, 2]).reverse()
        >>> r.src.tolist(), r.dst.tolist()
        ([1, 2], [0, 0])
        """
        g = Graph.__new__(Graph)
        g.src, g.dst = self.dst, self.src
        g.num_vertices = self.num_vertices
        g.directed = self.directed
        g.vertex_data = dict(self.vertex_data)
        g.edge_data = dict(self.edge_data)
        g.ids = self.ids
        return g

    def to_undirected(self) -> Graph:
        """Simple undirected version: one edge for every connected pair.

        Parallel edges (in either direction) collapse into one undirected
        edge that keeps the orientation and edge fields of the first edge
        connecting the pair; a self-loop is kept once.  This is what
        ``networkx.DiGraph.to_undirected`` means.  The result has
        ``directed=False`` and is stored as every :class:`Graph` with
        ``directed=False`` is: the kept edges in edge order, then their
        reversed copies.

        Examples
        --------
        >>> g = Graph([0, 1, 1], [1, 0, 2]).to_undirected()
        >>> g.directed, g.num_undirected_edges
        (False, 2)
        >>> sorted(zip(g.src.tolist(), g.dst.tolist()))
        [(0, 1), (1, 0), (1, 2), (2, 1)]
        """
        lo = np.minimum(self.src, self.dst).astype(np.int64)
        hi = np.maximum(self.src, self.dst).astype(np.int64)
        first = first_of_each_pair(lo, hi, self.num_vertices)
        edge_data = {name: values[first] for name, values in self.edge_data.items()}
        return Graph(
            self.src[first],
            self.dst[first],
            self.num_vertices,
            self.vertex_data,
            edge_data,
            self.ids,
            directed=False,
        )

    # ------------------------------------------------- map-reduce between runs
    def map_reduce_vertices(
        self,
        map: Callable[[VertexView], Any],
        combine: np.ufunc = np.add,
        *,
        where: Any = None,
        chunk_bytes: int | None = None,
    ) -> Any:
        """Fold one value per vertex into one value (PowerGraph's ``map_reduce_vertices``).

        ``map(v)`` receives a read-only :class:`~gasengine.program.VertexView`
        of a batch of vertices (``v.ids``, ``v.data[name]``,
        ``v.num_vertices``; ``v.globals`` is empty) and returns one value per
        vertex of the batch, with any trailing shape (a vector, a ``k x k``
        matrix); the values are folded with ``combine`` as
        ``combine.reduce(values, axis=0)`` would fold them.  The vertices are
        passed in batches of whole arrays (one batch unless the values of
        all vertices would exceed ``chunk_bytes``), never one by one.

        Parameters
        ----------
        map : callable
            ``map(v) -> array`` with first dimension ``len(v)``.
        combine : numpy ufunc
            A commutative, associative ufunc (``np.add``, ``np.minimum``,
            ``np.maximum``, ``np.logical_or``, ...), as for a program's combine.
        where : array_like of bool, optional
            Shape ``(num_vertices,)``: map only these vertices.  With no
            vertex to map, the result is the combine's neutral element (0
            for ``np.add``, ``inf`` for ``np.minimum`` ...) in the shape and
            dtype ``map`` returns for an empty batch.
        chunk_bytes : int, optional
            Memory bound for one batch of mapped values (default: the
            engine's gather chunk, 64 MiB).

        Returns
        -------
        numpy scalar or ndarray
            The folded value (trailing shape of ``map``'s values).

        Raises
        ------
        TypeError
            If ``combine`` is not a commutative, associative ufunc.
        ValueError
            For a ``where`` that is not a bool mask of the vertices.
        ProgramError
            Naming ``Graph.map_reduce_vertices``, when ``map`` returns the
            wrong number of values or a shape that changes between batches,
            or reads a field that does not exist or tries to write one.

        Examples
        --------
        >>> g = Graph([0, 1], [1, 2], vertex_data={"x": [1.0, 2.0, 4.0]})
        >>> float(g.map_reduce_vertices(lambda v: v.data["x"]))
        7.0
        >>> float(g.map_reduce_vertices(lambda v: v.data["x"], np.maximum, where=[True, True, False]))
        2.0
        >>> g.map_reduce_vertices(lambda v: np.outer(v.data["x"], [1, 10]).reshape(-1, 2)).tolist()
        [7.0, 70.0]
        """
        from .program import FieldMap, VertexView

        index = self._where(where, self.num_vertices, "vertex")

        def view(select: Any, size: int) -> VertexView:
            ids = np.arange(self.num_vertices) if select is None else np.arange(self.num_vertices)[select]
            data = FieldMap(self.vertex_data, select, size, ("Graph", "map_reduce_vertices"), "vertex", writable=False)
            return VertexView(ids, data, _NO_GLOBALS, self.num_vertices)

        return self._map_reduce("map_reduce_vertices", view, index, self.num_vertices, map, combine, chunk_bytes)

    def map_reduce_edges(
        self,
        map: Callable[[EdgeView], Any],
        combine: np.ufunc = np.add,
        *,
        where: Any = None,
        chunk_bytes: int | None = None,
    ) -> Any:
        """Fold one value per stored arc into one value (PowerGraph's ``map_reduce_edges``).

        ``map(e)`` receives a read-only :class:`~gasengine.program.EdgeView`
        of a batch of arcs: ``e.src``, ``e.dst``, the edge fields
        ``e.data[name]`` and the endpoints' vertex fields ``e.src_data`` /
        ``e.dst_data``; it is seen from the source (``e.direction`` is
        ``OUT``, so ``e.vertex`` is ``e.src`` and ``e.nbr`` is ``e.dst``).
        It returns one value per arc, folded with ``combine`` as
        ``combine.reduce(values, axis=0)`` would fold them.  The arcs are
        passed in batches bounded by ``chunk_bytes``, as the engine's gathers
        are, never one by one; an undirected graph's edges are seen as both
        of their arcs.

        Parameters
        ----------
        map : callable
            ``map(e) -> array`` with first dimension ``len(e)``.
        combine : numpy ufunc
            A commutative, associative ufunc, as for a program's combine.
        where : array_like of bool, optional
            Shape ``(num_edges,)``: map only these arcs (no arc: the
            combine's neutral element, as in :meth:`map_reduce_vertices`).
        chunk_bytes : int, optional
            Memory bound for one batch of mapped values (default 64 MiB).

        Returns
        -------
        numpy scalar or ndarray

        Raises
        ------
        TypeError, ValueError, ProgramError
            As :meth:`map_reduce_vertices` raises them (naming
            ``Graph.map_reduce_edges``).

        Examples
        --------
        >>> g = Graph([0, 1, 1], [1, 2, 0], vertex_data={"x": [1.0, 2.0, 4.0]},
        ...           edge_data={"w": [0.5, 1.0, 2.0]})
        >>> float(g.map_reduce_edges(lambda e: e.data["w"] * e.dst_data["x"]))  # 0.5*2 + 1*4 + 2*1
        7.0
        >>> int(g.map_reduce_edges(lambda e: e.src == 1))  # arcs leaving vertex 1
        2
        """
        from .program import OUT, EdgeView, FieldMap

        index = self._where(where, self.num_edges, "edge")
        src, dst = self.src.view(), self.dst.view()
        src.flags.writeable = dst.flags.writeable = False

        def view(select: Any, size: int) -> EdgeView:
            owner = ("Graph", "map_reduce_edges")
            s, d = (src, dst) if select is None else (src[select], dst[select])
            return EdgeView(
                s,
                d,
                FieldMap(self.edge_data, select, size, owner, "edge", writable=False),
                FieldMap(self.vertex_data, s, size, owner, "vertex", writable=False),
                FieldMap(self.vertex_data, d, size, owner, "vertex", writable=False),
                OUT,
                _NO_GLOBALS,
                self.num_vertices,
                0,
            )

        return self._map_reduce("map_reduce_edges", view, index, self.num_edges, map, combine, chunk_bytes)

    def transform_vertices(self, fn: Callable[[VertexView], None], *, where: Any = None) -> Graph:
        """A new graph whose vertex fields ``fn`` set (PowerGraph's ``transform_vertices``).

        ``fn(v)`` receives a :class:`~gasengine.program.VertexView` of all
        vertices (or of those in ``where``) in one batch and assigns fields
        as a program's ``init`` or ``apply`` does: ``v.data["x"] = ...``
        (whole arrays; a scalar is broadcast to an existing field).  It
        returns None.  This graph is not modified: the result has the
        assigned fields and shares everything else (arcs, edge fields, ids,
        the other vertex fields, and the engine's cached cuts) with it.

        Parameters
        ----------
        fn : callable
            ``fn(v) -> None``, assigning ``v.data[name]``.
        where : array_like of bool, optional
            Shape ``(num_vertices,)``: only these vertices are passed and
            changed; the other vertices keep their values.  New fields can
            only be created without ``where`` (the others would have no value).

        Returns
        -------
        Graph

        Raises
        ------
        TypeError
            If ``fn`` returns something (it must assign fields instead).
        ValueError
            For a ``where`` that is not a bool mask of the vertices.
        ProgramError
            Naming ``Graph.transform_vertices``, for a field of the wrong
            shape or dtype, or a new field under ``where``.

        Examples
        --------
        >>> g = Graph([0, 1], [1, 2], vertex_data={"x": [1.0, 2.0, 4.0]})
        >>> def double(v):
        ...     v.data["x"] = v.data["x"] * 2
        ...     v.data["big"] = v.data["x"] > 2
        >>> h = g.transform_vertices(double)
        >>> h.vertex_data["x"].tolist(), h.vertex_data["big"].tolist(), g.vertex_data["x"].tolist()
        ([2.0, 4.0, 8.0], [False, True, True], [1.0, 2.0, 4.0])
        >>> g.transform_vertices(lambda v: v.data.update(x=0.0), where=[False, True, False]).vertex_data["x"].tolist()
        [1.0, 0.0, 4.0]
        """
        from .program import FieldMap, VertexView

        n = self.num_vertices
        index = self._where(where, n, "vertex")
        select = None if index is None else index
        size = n if index is None else int(index.size)
        data = FieldMap(
            self.vertex_data,
            select,
            size,
            ("Graph", "transform_vertices"),
            "vertex",
            creatable=index is None,
            writable=True,
        )
        ids = np.arange(n) if index is None else index
        returned = fn(VertexView(ids, data, _NO_GLOBALS, n))
        if returned is not None:
            raise TypeError(
                f"transform_vertices: fn must assign fields (v.data[name] = ...) and return None; "
                f"it returned {type(returned).__name__}"
            )
        fields = dict(self.vertex_data)
        for name, values in data.written.items():
            old = self.vertex_data.get(name)
            if old is None:
                fields[name] = np.array(values)  # a copy: the caller may keep using the array
            elif index is None:
                fields[name] = np.array(values, dtype=old.dtype)
            else:
                new = old.copy()
                new[index] = values
                fields[name] = new
        g = copy.copy(self)  # shares the arcs, ids and the engine cache (see gasengine.cache)
        g.vertex_data = fields
        g.edge_data = dict(self.edge_data)
        return g

    def _where(self, where: Any, size: int, what: str) -> np.ndarray | None:
        """Positions selected by a bool mask of ``size`` items (None: all)."""
        if where is None:
            return None
        mask = np.asarray(where)
        if mask.dtype != bool or mask.shape != (size,):
            raise ValueError(
                f"where must be a bool mask with one entry per {what} (shape ({size},)), "
                f"got dtype {mask.dtype} and shape {mask.shape}"
            )
        return np.flatnonzero(mask)

    def _map_reduce(
        self,
        method: str,
        view: Callable[[Any, int], Any],
        index: np.ndarray | None,
        total: int,
        map: Callable[[Any], Any],
        combine: np.ufunc,
        chunk_bytes: int | None,
    ) -> Any:
        """Map batches of ``view(select, size)`` and fold the values with ``combine``."""
        from .program import ProgramError, check_combine, neutral_element
        from .step import DEFAULT_CHUNK_BYTES

        try:
            check_combine(combine, method)
        except ProgramError as exc:
            raise TypeError(str(exc)) from None
        if not callable(map):
            raise TypeError(f"{method}: map must be callable, got {map!r}")
        limit = DEFAULT_CHUNK_BYTES if chunk_bytes is None else int(chunk_bytes)
        if limit < 1:
            raise ValueError(f"{method}: chunk_bytes must be >= 1, got {chunk_bytes!r}")
        count = total if index is None else int(index.size)

        def values_of(start: int, stop: int) -> np.ndarray:
            if index is None:
                select: Any = slice(start, stop) if (start, stop) != (0, total) else None
            else:
                select = index[start:stop]
            out = np.asarray(map(view(select, stop - start)))
            if out.ndim == 0 or out.shape[0] != stop - start:
                raise ProgramError(
                    "Graph",
                    method,
                    f"map must return one value per item of the batch "
                    f"(first dimension {stop - start}), got shape {out.shape}",
                )
            return out

        if count == 0:
            empty = values_of(0, 0)
            return combine.reduce(empty, axis=0, initial=neutral_element(combine, empty.dtype))
        probe = min(count, 1024)
        first = values_of(0, probe)
        per_item = max(first[:1].nbytes, 1)
        step = max(limit // per_item, 1024)
        acc = combine.reduce(first, axis=0)
        start = probe
        while start < count:
            stop = min(start + step, count)
            values = values_of(start, stop)
            if values.shape[1:] != first.shape[1:]:
                raise ProgramError(
                    "Graph",
                    method,
                    f"map returned values of shape {values.shape[1:]} for one batch "
                    f"and {first.shape[1:]} for another; the per-item shape must not depend on the batch",
                )
            acc = combine(acc, combine.reduce(values, axis=0))
            start = stop
        return acc

    # ------------------------------------------------------- pandas tables
    @classmethod
    def from_pandas_edgelist(
        cls,
        df: Any,
        source: Any = "source",
        target: Any = "target",
        edge_attr: Any = None,
        create_using: Any = None,
        edge_key: Any = None,
    ) -> Graph:
        """Build from a DataFrame edge list, with networkx's arguments and semantics.

        ``create_using`` decides directed or not and simple or multigraph as
        for ``networkx.from_pandas_edgelist`` (default: undirected, repeated
        pairs one edge); the endpoints become the original ids.  See
        :func:`gasengine.frames.from_pandas_edgelist`.

        Examples
        --------
        >>> import pandas as pd, networkx as nx
        >>> df = pd.DataFrame({"source": [3, 1], "target": [1, 2], "weight": [0.5, 2.0]})
        >>> g = Graph.from_pandas_edgelist(df, edge_attr="weight", create_using=nx.DiGraph)
        >>> g.ids.tolist(), g.src.tolist(), g.dst.tolist(), g.edge_data["weight"].tolist()
        ([1, 2, 3], [2, 0], [0, 1], [0.5, 2.0])
        """
        from .frames import from_pandas_edgelist

        return from_pandas_edgelist(df, source, target, edge_attr, create_using, edge_key)

    def to_pandas_edgelist(
        self,
        source: Any = "source",
        target: Any = "target",
        nodelist: Any = None,
        dtype: Any = None,
        edge_key: Any = None,
    ) -> Any:
        """The edges as a DataFrame by original id, as ``networkx.to_pandas_edgelist``.

        One row per arc (directed) or per undirected edge, then one column per
        edge field; see :func:`gasengine.frames.to_pandas_edgelist`.

        Examples
        --------
        >>> Graph([0], [1], edge_data={"w": [2.5]}, ids=["a", "b"]).to_pandas_edgelist().to_dict("list")
        {'source': ['a'], 'target': ['b'], 'w': [2.5]}
        """
        from .frames import to_pandas_edgelist

        return to_pandas_edgelist(self, source, target, nodelist, dtype, edge_key)

    def vertex_frame(self, fields: Any = None) -> Any:
        """The vertex fields as a DataFrame: one row per vertex, indexed by original id.

        The index is named ``"id"``; a scalar field is a column of its
        dtype, a vector field (``(n, k)``) a column of arrays, a
        :class:`~gasengine.ragged.Ragged` field a column of lists.
        ``fields`` picks and orders the columns (default: every field).
        :meth:`set_vertex_frame` reads such a frame back.

        Examples
        --------
        >>> g = Graph([0], [1], vertex_data={"x": [0.5, 1.5]}, ids=["a", "b"])
        >>> g.vertex_frame()["x"].to_dict()
        {'a': 0.5, 'b': 1.5}
        """
        from .frames import vertex_frame

        return vertex_frame(self, fields)

    def set_vertex_frame(self, frame: Any) -> None:
        """Add or replace one vertex field per column of a DataFrame indexed by original id.

        Rows are matched to vertices by the frame's index (the ids, as
        :meth:`vertex_frame` writes them), so the row order does not matter;
        rows for ids that are not vertices are ignored (as
        ``networkx.set_node_attributes`` ignores them) and every vertex needs
        a row.  Numeric columns become fields of their dtype (missing values
        of nullable integer columns NaN), columns of equal-length arrays
        vector fields, columns of lists :class:`~gasengine.ragged.Ragged`
        fields.  A ``Series`` is one column, named by its name.  Every column
        is checked before any field is stored.

        Raises
        ------
        GraphFormatError
            For a vertex without a row, a repeated id, or a column that does
            not hold numbers (naming it).

        Examples
        --------
        >>> import pandas as pd
        >>> g = Graph([0], [1], ids=["a", "b"])
        >>> g.set_vertex_frame(pd.DataFrame({"dept": [4, 7]}, index=["b", "a"]))
        >>> g.vertex_data["dept"].tolist()
        [7, 4]
        """
        from .frames import set_vertex_frame

        set_vertex_frame(self, frame)

    # ------------------------------------------------------------- loading
    @classmethod
    def load(cls, path: str, format: str | None = None, **options: Any) -> Graph:
        """Read a graph file; see :func:`gasengine.loaders.load_graph` for formats.

        Examples
        --------
        >>> g = Graph.load("examples/data/email-Eu-core.txt")  # doctest: +SKIP
        """
        from .loaders import load_graph

        return load_graph(path, format=format, **options)

    @classmethod
    def load_ratings(cls, path: str, format: str | None = None, **options: Any) -> Graph:
        """Read a ``user item rating [timestamp]`` file as a bipartite ratings graph.

        Users are vertices ``0..U-1``, items ``U..U+I-1`` (vertex field
        ``"is_item"``), one edge user -> item per rating with the edge field
        ``"rating"`` (and ``"timestamp"``); see
        :func:`gasengine.ratings.load_ratings` for the layout and options
        (whitespace, CSV/TSV and ``::``-separated MovieLens files).

        Examples
        --------
        >>> g = Graph.load_ratings("ratings/movietweetings-snapshot-100K-ratings.dat")  # doctest: +SKIP
        >>> g.edge_data["rating"].mean()  # doctest: +SKIP
        np.float64(7.3248)
        """
        from .ratings import load_ratings

        return load_ratings(path, format=format, **options)

    @classmethod
    def from_networkx(cls, G: Any, **options: Any) -> Graph:
        """Build from a networkx graph; see :func:`gasengine.convert.from_networkx`.

        Examples
        --------
        >>> import networkx as nx
        >>> Graph.from_networkx(nx.path_graph(3)).directed
        False
        """
        from .convert import from_networkx

        return from_networkx(G, **options)

    @classmethod
    def from_scipy(cls, matrix: Any, **options: Any) -> Graph:
        """Build from a scipy.sparse matrix; see :func:`gasengine.convert.from_scipy`.

        Examples
        --------
        >>> import scipy.sparse as sp
        >>> Graph.from_scipy(sp.csr_array([[0, 1], [0, 0]])).num_edges
        1
        """
        from .convert import from_scipy

        return from_scipy(matrix, **options)

    def to_networkx(self, **options: Any) -> Any:
        """Convert to networkx; see :func:`gasengine.convert.to_networkx`.

        Examples
        --------
        >>> type(Graph([0], [1], directed=False).to_networkx()).__name__
        'Graph'
        """
        from .convert import to_networkx

        return to_networkx(self, **options)

    def to_scipy(self, **options: Any) -> Any:
        """Convert to a scipy.sparse matrix; see :func:`gasengine.convert.to_scipy`.

        Examples
        --------
        >>> Graph([0], [1], edge_data={"weight": [2.5]}).to_scipy().toarray().tolist()
        [[0.0, 2.5], [0.0, 0.0]]
        """
        from .convert import to_scipy

        return to_scipy(self, **options)


# ------------------------------------------------------------------ helpers
def exact_int64(values: Any, name: str, outside: str | None = None) -> np.ndarray:
    """``values`` as a 1-d integer array, represented exactly, or a GraphFormatError.

    Integer arrays are returned as they are (signed) or as int64 (unsigned,
    once every value is known to fit); integral floats are converted.
    Anything that is not an integer, or does not fit int64 (uint64 values
    from ``2**63``, floats like ``1e20``, Python ints beyond 64 bits), is
    rejected with an error naming ``name`` and the first bad index, instead
    of wrapping around or being rounded.

    Parameters
    ----------
    values : array_like
        The numbers.
    name : str
        What they are, for the message (``"src"``).
    outside : str, optional
        The accepted range to name when a value is too large
        (``"0..9"``); by default the message says it does not fit a 64-bit
        integer.

    Examples
    --------
    >>> exact_int64(np.array([2**63], dtype=np.uint64), "ids")
    Traceback (most recent call last):
    ...
    gasengine.errors.GraphFormatError: ids[0] = 9223372036854775808 does not fit a 64-bit integer
    >>> exact_int64([3.0, -1.0], "src").tolist()
    [3, -1]
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise GraphFormatError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return np.empty(0, np.int64)
    kind = arr.dtype.kind
    if kind == "i":
        return arr
    if kind == "u":
        if arr.dtype.itemsize == 8:
            too_big = arr > np.uint64(INT64_MAX)
            if too_big.any():
                i = int(np.flatnonzero(too_big)[0])
                raise GraphFormatError(_too_big(name, i, arr[i], outside))
        return arr.astype(np.int64)
    if kind == "f":
        if not isinstance(values, np.ndarray) and np.any(np.abs(arr) > 2.0**53):
            # a list mixing big ints and floats became float64, possibly
            # rounded: judge the original Python numbers instead
            return _exact_from_objects(np.array(values, dtype=object), name, outside)
        integral = np.isfinite(arr) & (arr == np.round(arr))
        if not integral.all():
            i = int(np.flatnonzero(~integral)[0])
            raise GraphFormatError(f"{name} must hold integer vertex numbers; {name}[{i}] = {arr[i].item()!r}")
        # every float below 2**63 in magnitude converts exactly
        too_big = np.abs(arr) >= 2.0**63
        if too_big.any():
            i = int(np.flatnonzero(too_big)[0])
            raise GraphFormatError(_too_big(name, i, arr[i], outside))
        return arr.astype(np.int64)
    if kind == "O":
        return _exact_from_objects(arr, name, outside)
    raise GraphFormatError(
        f"{name} must hold integer vertex numbers; {name}[0] = {arr[0].item()!r} (dtype {arr.dtype})"
    )


def _exact_from_objects(arr: np.ndarray, name: str, outside: str | None) -> np.ndarray:
    """Python numbers (an object array) as int64, if every one is an exact int64."""
    try:
        as_int = arr.astype(np.int64)
        # object comparison is Python's: exact between ints and floats
        exact = np.asarray(as_int == arr, dtype=bool)
    except (TypeError, ValueError, OverflowError):
        exact = None
    if exact is not None and exact.all():
        return as_int
    # error path only: find the first offending element in Python
    for i, x in enumerate(arr.tolist()):
        integral = isinstance(x, numbers.Integral) or (
            isinstance(x, numbers.Real) and math.isfinite(x) and float(x).is_integer()
        )
        if not integral:
            raise GraphFormatError(f"{name} must hold integer vertex numbers; {name}[{i}] = {x!r}")
        if not -INT64_MAX - 1 <= int(x) <= INT64_MAX:
            raise GraphFormatError(_too_big(name, i, x, outside))
    # every element is an exact int64 after all, yet numpy could not convert them
    raise GraphFormatError(f"{name} must hold integer vertex numbers")  # pragma: no cover


def _too_big(name: str, i: int, value: Any, outside: str | None) -> str:
    shown = value.item() if isinstance(value, np.generic) else value
    if outside is None:
        return f"{name}[{i}] = {shown!r} does not fit a 64-bit integer"
    return f"{name}[{i}] = {shown!r} is outside {outside}"


def _as_count(value: Any) -> int:
    """A vertex count as an exact int (``3`` or ``3.0``, not ``2.5``)."""
    try:
        return operator.index(value)
    except TypeError:
        if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
            return int(value)
    raise GraphFormatError(f"num_vertices must be an integer, got {value!r}")


def first_of_each_pair(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray:
    """Indices (in edge order) of the first edge of every distinct pair ``(lo[k], hi[k])``.

    Pass ordered endpoints for unordered pairs.  One packed int64 key while
    ``n * n`` fits, unique rows beyond.

    Examples
    --------
    >>> first_of_each_pair(np.array([0, 1, 0]), np.array([1, 2, 1]), 3).tolist()
    [0, 1]
    """
    lo, hi = np.asarray(lo), np.asarray(hi)
    if lo.size and (lo.min() < 0 or hi.min() < 0 or max(lo.max(), hi.max()) >= n):
        raise ValueError(f"first_of_each_pair: endpoints must be in 0..{n - 1}")
    if n <= 4 * lo.size + 4096:
        # O(m + n), compiled: edges bucketed by ``lo`` (a counting sort), then in each bucket the first
        # edge to each ``hi`` kept by a table of the bucket last seen per ``hi``.  np.unique's sort of
        # packed pairs took 0.5-0.8 s on 1.8M edges.
        return _first_of_each_pair(lo.astype(np.int64, copy=False), hi.astype(np.int64, copy=False), max(n, 1))
    if n <= math.isqrt(INT64_MAX):  # far more vertices than edges: tables of n would dwarf the edges
        _, first = np.unique(lo.astype(np.int64) * n + hi, return_index=True)
    else:  # lo * n + hi would overflow int64
        _, first = np.unique(np.stack([lo, hi], axis=1), axis=0, return_index=True)
    first.sort()
    return first


@njit(cache=True)
def _first_of_each_pair(lo, hi, n):  # pragma: no cover - compiled
    counts = np.zeros(n + 1, dtype=np.int64)
    for v in lo:
        counts[v + 1] += 1
    for v in range(n):
        counts[v + 1] += counts[v]
    order = np.empty(lo.size, dtype=np.int64)
    fill = counts[:-1].copy()
    for k in range(lo.size):  # stable: each bucket keeps edge order
        order[fill[lo[k]]] = k
        fill[lo[k]] += 1
    seen = np.full(n, -1, dtype=np.int64)
    keep = np.zeros(lo.size, dtype=np.bool_)
    for v in range(n):
        for j in range(counts[v], counts[v + 1]):
            k = order[j]
            if seen[hi[k]] != v:
                seen[hi[k]] = v
                keep[k] = True
    return np.flatnonzero(keep)


def _field_array(values: Any, length: int, kind: str, name: str) -> np.ndarray:
    from .ragged import Ragged

    if isinstance(values, Ragged):  # one row per vertex (a neighbour set, say); edge fields are arrays
        if kind != "vertex" or len(values) != length:
            raise GraphFormatError(
                f"{kind} field {name!r}: a Ragged must be a vertex field of {length} rows, got {len(values)} rows"
            )
        return values
    arr = np.asarray(values)
    if arr.ndim == 0 or arr.shape[0] != length:
        raise GraphFormatError(f"{kind} field {name!r} must have first dimension {length}, got shape {arr.shape}")
    return arr
