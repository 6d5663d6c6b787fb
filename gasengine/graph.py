"""The data graph: a directed multigraph with named vertex and edge fields.

Vertices are numbered ``0..n-1``; when the graph came from a file or from
networkx with other ids, ``Graph.ids[i]`` is the original id of vertex ``i``
and every output can be written with those ids.  Fields are numpy arrays
whose first axis is the vertex (``(n, ...)``) or the edge (``(m, ...)``), so a
vertex can carry a scalar, a vector (ALS latent factors) or a matrix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .errors import GraphFormatError

INT32_MAX = np.iinfo(np.int32).max


def index_dtype(n: int) -> np.dtype:
    """The smallest of int32/int64 that can index ``n`` items."""
    return np.dtype(np.int32) if n <= INT32_MAX else np.dtype(np.int64)


class Graph:
    """A directed multigraph with vertex fields and edge fields.

    Parameters
    ----------
    src, dst : array_like of int
        Endpoints of each edge, as vertex numbers in ``0..num_vertices-1``.
    num_vertices : int, optional
        Number of vertices; defaults to ``max(src, dst) + 1`` (0 if no edges).
    vertex_data : mapping of str to array_like, optional
        Vertex fields, each of shape ``(num_vertices, ...)``.
    edge_data : mapping of str to array_like, optional
        Edge fields, each of shape ``(num_edges, ...)``.
    ids : array_like, optional
        Original id of every vertex (shape ``(num_vertices,)``), used in output.

    Examples
    --------
    >>> g = Graph([0, 1, 2], [1, 2, 0], edge_data={"weight": [1.0, 2.0, 0.5]})
    >>> g.num_vertices, g.num_edges
    (3, 3)
    >>> g.out_degree().tolist()
    [1, 1, 1]
    """

    def __init__(
        self,
        src: Any,
        dst: Any,
        num_vertices: int | None = None,
        vertex_data: Mapping[str, Any] | None = None,
        edge_data: Mapping[str, Any] | None = None,
        ids: Any = None,
    ):
        src_a = _as_index_array(src, "src")
        dst_a = _as_index_array(dst, "dst")
        if src_a.shape != dst_a.shape:
            raise GraphFormatError(
                f"src and dst must have the same length, got {src_a.size} and {dst_a.size}"
            )
        if num_vertices is None:
            num_vertices = int(max(src_a.max(initial=-1), dst_a.max(initial=-1))) + 1
        num_vertices = int(num_vertices)
        if num_vertices < 0:
            raise GraphFormatError(f"num_vertices must be >= 0, got {num_vertices}")
        for name, arr in (("src", src_a), ("dst", dst_a)):
            if arr.size and (arr.min() < 0 or arr.max() >= num_vertices):
                bad = int(np.flatnonzero((arr < 0) | (arr >= num_vertices))[0])
                raise GraphFormatError(
                    f"{name}[{bad}] = {int(arr[bad])} is outside 0..{num_vertices - 1}"
                )
        dtype = index_dtype(max(num_vertices, 1))
        self.src: np.ndarray = src_a.astype(dtype, copy=False)
        self.dst: np.ndarray = dst_a.astype(dtype, copy=False)
        self.num_vertices: int = num_vertices
        self.vertex_data: dict[str, np.ndarray] = {}
        self.edge_data: dict[str, np.ndarray] = {}
        for name, values in (vertex_data or {}).items():
            self.set_vertex_field(name, values)
        for name, values in (edge_data or {}).items():
            self.set_edge_field(name, values)
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
        """Number of edges (parallel edges and self-loops count)."""
        return int(self.src.size)

    def __repr__(self) -> str:
        return (
            f"Graph(num_vertices={self.num_vertices}, num_edges={self.num_edges}, "
            f"vertex_fields={sorted(self.vertex_data)}, edge_fields={sorted(self.edge_data)})"
        )

    # ---------------------------------------------------------------- fields
    def set_vertex_field(self, name: str, values: Any) -> None:
        """Add or replace a vertex field (first axis must be the vertex)."""
        self.vertex_data[name] = _field_array(values, self.num_vertices, "vertex", name)

    def set_edge_field(self, name: str, values: Any) -> None:
        """Add or replace an edge field (first axis must be the edge)."""
        self.edge_data[name] = _field_array(values, self.num_edges, "edge", name)

    # --------------------------------------------------------------- degrees
    def out_degree(self) -> np.ndarray:
        """Number of out-edges of every vertex (int64, shape ``(n,)``)."""
        return np.bincount(self.src, minlength=self.num_vertices)

    def in_degree(self) -> np.ndarray:
        """Number of in-edges of every vertex (int64, shape ``(n,)``)."""
        return np.bincount(self.dst, minlength=self.num_vertices)

    def degree(self) -> np.ndarray:
        """In-degree plus out-degree (a self-loop counts twice, as in networkx)."""
        return self.out_degree() + self.in_degree()

    # ------------------------------------------------------------ ids
    def original_ids(self) -> np.ndarray:
        """The original id of every vertex (``arange(n)`` when none were given)."""
        return self.ids if self.ids is not None else np.arange(self.num_vertices)

    def vertex_index(self, original_id: Any) -> int:
        """The vertex number ``0..n-1`` of an original id.

        Raises
        ------
        KeyError
            If no vertex has that id.
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
        except (TypeError, ValueError):
            raise KeyError(f"no vertex with id {original_id!r}") from None
        hits = np.flatnonzero(self.ids == key)
        if hits.size == 0:
            raise KeyError(f"no vertex with id {original_id!r}")
        return int(hits[0])

    # ---------------------------------------------------------- transforms
    def reverse(self) -> Graph:
        """The same graph with every edge turned around (fields are shared)."""
        g = Graph.__new__(Graph)
        g.src, g.dst = self.dst, self.src
        g.num_vertices = self.num_vertices
        g.vertex_data = dict(self.vertex_data)
        g.edge_data = dict(self.edge_data)
        g.ids = self.ids
        return g

    def to_undirected(self) -> Graph:
        """Symmetric simple version: ``u->v`` and ``v->u`` for every connected pair.

        Parallel edges (in either direction) collapse into one pair and keep the
        edge fields of the first edge that connected the pair; a self-loop is kept
        once.  This is what ``networkx.DiGraph.to_undirected`` means, stored with
        both directions so that every algorithm sees the pair from both ends.

        Examples
        --------
        >>> g = Graph([0, 1, 1], [1, 0, 2]).to_undirected()
        >>> sorted(zip(g.src.tolist(), g.dst.tolist()))
        [(0, 1), (1, 0), (1, 2), (2, 1)]
        """
        lo = np.minimum(self.src, self.dst).astype(np.int64)
        hi = np.maximum(self.src, self.dst).astype(np.int64)
        key = lo * max(self.num_vertices, 1) + hi
        _, first = np.unique(key, return_index=True)  # first edge of each pair
        first.sort()
        loops = lo[first] == hi[first]
        fwd_src, fwd_dst = self.src[first], self.dst[first]
        back = first[~loops]
        src = np.concatenate([fwd_src, self.dst[back]])
        dst = np.concatenate([fwd_dst, self.src[back]])
        edge_data = {
            name: np.concatenate([values[first], values[back]])
            for name, values in self.edge_data.items()
        }
        return Graph(src, dst, self.num_vertices, self.vertex_data, edge_data, self.ids)

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
        """Build from a networkx graph; see :func:`gasengine.convert.from_networkx`."""
        from .convert import from_networkx

        return from_networkx(G, **options)

    @classmethod
    def from_scipy(cls, matrix: Any, **options: Any) -> Graph:
        """Build from a scipy.sparse matrix; see :func:`gasengine.convert.from_scipy`."""
        from .convert import from_scipy

        return from_scipy(matrix, **options)

    def to_networkx(self, **options: Any) -> Any:
        """Convert to networkx; see :func:`gasengine.convert.to_networkx`."""
        from .convert import to_networkx

        return to_networkx(self, **options)

    def to_scipy(self, **options: Any) -> Any:
        """Convert to a scipy.sparse matrix; see :func:`gasengine.convert.to_scipy`."""
        from .convert import to_scipy

        return to_scipy(self, **options)


def _as_index_array(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise GraphFormatError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            return arr.astype(np.int64)
        bad = 0
        if arr.dtype.kind == "f":
            bad = int(np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))[0])
        raise GraphFormatError(
            f"{name} must hold integer vertex numbers; {name}[{bad}] = {arr[bad]!r}"
        )
    return arr


def _field_array(values: Any, length: int, kind: str, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim == 0 or arr.shape[0] != length:
        raise GraphFormatError(
            f"{kind} field {name!r} must have first dimension {length}, got shape {arr.shape}"
        )
    return arr
