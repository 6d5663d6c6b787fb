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

import math
import numbers
import operator
from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import GraphFormatError
from .kernels import count_keys

INT32_MAX = np.iinfo(np.int32).max
INT64_MAX = np.iinfo(np.int64).max

# Above this many vertices, ``lo * n + hi`` can overflow int64, so unordered
# pairs are told apart by unique rows instead of one packed key.
_PACKED_PAIR_LIMIT = math.isqrt(INT64_MAX)


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
            raise GraphFormatError(
                f"src and dst must have the same length, got {src_a.size} and {dst_a.size}"
            )
        if num_vertices is None:
            num_vertices = int(max(src_a.max(initial=-1), dst_a.max(initial=-1))) + 1
        if num_vertices < 0:
            raise GraphFormatError(f"num_vertices must be >= 0, got {num_vertices}")
        for name, arr in (("src", src_a), ("dst", dst_a)):
            if arr.size and (arr.min() < 0 or arr.max() >= num_vertices):
                bad = int(np.flatnonzero((arr < 0) | (arr >= num_vertices))[0])
                raise GraphFormatError(
                    f"{name}[{bad}] = {int(arr[bad])} is outside 0..{num_vertices - 1}"
                )
        dtype = index_dtype(max(num_vertices, 1))
        src_a = src_a.astype(dtype, copy=False)
        dst_a = dst_a.astype(dtype, copy=False)
        # edge fields are checked against the edges as given, before mirroring,
        # so that an error speaks of the caller's arrays
        fields = {
            name: _field_array(values, src_a.size, "edge", name)
            for name, values in (edge_data or {}).items()
        }
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
                raise GraphFormatError(
                    f"ids must have shape ({num_vertices},), got {ids_a.shape}"
                )
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
            raise ValueError(
                "a directed graph has no undirected edges; num_edges counts its edges"
            )
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
            self.src[first], self.dst[first], self.num_vertices, self.vertex_data,
            edge_data, self.ids, directed=False,
        )

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
            raise GraphFormatError(
                f"{name} must hold integer vertex numbers; {name}[{i}] = {arr[i].item()!r}"
            )
        # every float below 2**63 in magnitude converts exactly
        too_big = np.abs(arr) >= 2.0**63
        if too_big.any():
            i = int(np.flatnonzero(too_big)[0])
            raise GraphFormatError(_too_big(name, i, arr[i], outside))
        return arr.astype(np.int64)
    if kind == "O":
        return _exact_from_objects(arr, name, outside)
    raise GraphFormatError(
        f"{name} must hold integer vertex numbers; {name}[0] = {arr[0].item()!r} "
        f"(dtype {arr.dtype})"
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
            raise GraphFormatError(
                f"{name} must hold integer vertex numbers; {name}[{i}] = {x!r}"
            )
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
    if n <= _PACKED_PAIR_LIMIT:
        _, first = np.unique(lo * max(n, 1) + hi, return_index=True)
    else:  # lo * n + hi would overflow int64
        _, first = np.unique(np.stack([lo, hi], axis=1), axis=0, return_index=True)
    first.sort()
    return first


def _field_array(values: Any, length: int, kind: str, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 0 or arr.shape[0] != length:
        raise GraphFormatError(
            f"{kind} field {name!r} must have first dimension {length}, got shape {arr.shape}"
        )
    return arr
