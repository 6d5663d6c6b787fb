"""Converting a :class:`~gasengine.graph.Graph` to and from networkx and scipy.sparse.

networkx
    Nodes become vertices ``0..n-1`` in ``G.nodes`` order and the node objects
    are kept in ``Graph.ids``.  The graph remembers whether it is directed:
    an undirected networkx graph gives ``Graph(..., directed=False)``, whose
    edges are stored in both directions (a self-loop once) so that every
    algorithm sees them from both ends, and converts back to an undirected
    networkx graph.  Numeric attributes present on *every* node (edge)
    become vertex (edge) fields; attributes that are missing somewhere,
    non-numeric, or arrays of unequal shapes are skipped.
scipy.sparse
    Entry ``(i, j)`` of a square matrix is an edge ``i -> j``; every stored
    entry is one edge (explicit zeros and duplicate coordinates included),
    its value the edge field ``"weight"``, which :func:`to_scipy` reads back
    by default, so ``to_scipy(from_scipy(A))`` equals ``A``.
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np
import scipy.sparse as sp

from .errors import GraphFormatError
from .graph import Graph, index_dtype

__all__ = ["from_networkx", "from_scipy", "to_networkx", "to_scipy"]


# ------------------------------------------------------------------ networkx
def from_networkx(G: Any, *, weight: str | None = None) -> Graph:
    """Build a :class:`Graph` from any networkx graph.

    Parameters
    ----------
    G : networkx.Graph, DiGraph, MultiGraph or MultiDiGraph
        The graph.  Parallel edges of multigraphs become parallel edges.
    weight : str, optional
        Name of an edge attribute to store as the float64 edge field
        ``"weight"``; edges without it get 1.0 (networkx's convention).  The
        attribute is then not also stored under its own name.

    Returns
    -------
    Graph
        Vertex ``i`` is ``list(G.nodes)[i]``; ``graph.ids`` holds the nodes
        (int64 if all are integers, else an object array).
        ``graph.directed`` is ``G.is_directed()``; an undirected graph is
        built by ``Graph(..., directed=False)``: its edges appear as ``u->v``
        followed, after all edges, by the ``v->u`` copies (self-loops once).
        Vertex/edge fields: every attribute present on all nodes/edges whose
        values are numbers (or numeric arrays of one shape); other attributes
        are skipped.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_edge("a", "b", weight=2.0)
    >>> g = from_networkx(G)
    >>> g.ids.tolist(), g.src.tolist(), g.dst.tolist(), g.edge_data["weight"].tolist()
    (['a', 'b'], [0, 1], [1, 0], [2.0, 2.0])
    >>> g.directed, g.num_undirected_edges
    (False, 1)
    """
    nodes = list(G.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    node_attrs = [d for _, d in G.nodes(data=True)]
    if G.is_multigraph():
        edges = list(G.edges(keys=False, data=True))
    else:
        edges = list(G.edges(data=True))
    m = len(edges)
    dtype = index_dtype(max(len(nodes), 1))
    src = np.fromiter(map(index.__getitem__, map(itemgetter(0), edges)), dtype, count=m)
    dst = np.fromiter(map(index.__getitem__, map(itemgetter(1), edges)), dtype, count=m)
    edge_attrs = list(map(itemgetter(2), edges))
    edge_data = _common_numeric_fields(edge_attrs, exclude=weight)
    if weight is not None:
        edge_data["weight"] = _weights_of(edges, edge_attrs, weight)
    # an undirected graph: Graph mirrors every edge (fields copied), as the loader does
    return Graph(
        src,
        dst,
        num_vertices=len(nodes),
        vertex_data=_common_numeric_fields(node_attrs),
        edge_data=edge_data,
        ids=_id_array(nodes),
        directed=G.is_directed(),
    )


def _weights_of(edges: Sequence[tuple], attrs: Sequence[dict[str, Any]], weight: str) -> np.ndarray:
    """The ``weight`` attribute of every edge as float64 (1.0 where absent), or an error naming the edge.

    Only numbers are weights: a string (even ``"2.5"``), None, a list is
    reported with the first edge that holds one, not converted.
    """
    values = [d.get(weight, 1.0) for d in attrs]
    try:
        arr = np.asarray(values) if values else np.zeros(0)
    except ValueError:  # sequences of unequal lengths
        arr = np.zeros(0, dtype=object)
    if arr.ndim == 1 and arr.dtype.kind in "biuf" and arr.size == len(values):
        return arr.astype(np.float64)
    # error path only: find the first value that is not a real number
    is_number = np.fromiter((isinstance(v, numbers.Real) for v in values), dtype=bool, count=len(values))
    if is_number.all():  # Python ints beyond int64 among them: floats are fine as weights
        return np.array(values, dtype=np.float64)
    bad = int(np.flatnonzero(~is_number)[0])
    value = values[bad]
    u, v = edges[bad][0], edges[bad][1]
    raise GraphFormatError(
        f"edge attribute {weight!r} of edge ({u!r}, {v!r}) is {value!r} "
        f"({type(value).__name__}), not a number; weights must be int, float or bool "
        f"(convert them first, or pass weight=None to ignore the attribute)"
    )


def _id_array(nodes: Sequence[Any]) -> np.ndarray:
    """Nodes as int64 when all are (non-bool) integers, else as objects."""
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in nodes):
        try:
            return np.fromiter(nodes, np.int64, count=len(nodes))
        except OverflowError:  # ints beyond int64 stay Python objects
            pass
    # fromiter never unpacks tuples/arrays into extra dimensions
    return np.fromiter(nodes, object, count=len(nodes))


def _common_numeric_fields(attrs: Sequence[dict[str, Any]], exclude: str | None = None) -> dict[str, np.ndarray]:
    """Attributes present in every dict whose values form a numeric array."""
    if not attrs:
        return {}
    counts = Counter(chain.from_iterable(attrs))
    fields = {}
    for name, count in counts.items():
        if count != len(attrs) or name == exclude or not isinstance(name, str):
            continue
        values = list(map(itemgetter(name), attrs))
        try:
            arr = np.asarray(values)
        except ValueError:  # arrays of unequal shapes
            continue
        if arr.dtype.kind in "biufc":
            fields[name] = arr
    return fields


def to_networkx(graph: Graph, *, directed: bool | None = None, multigraph: bool | None = None) -> Any:
    """Build a networkx graph with the original ids as nodes.

    Parameters
    ----------
    graph : Graph
        The graph.
    directed : bool, optional
        Default: ``graph.directed``, so an undirected networkx graph comes
        back undirected with the same edges and attributes.
        ``True``: a DiGraph/MultiDiGraph with one edge per stored arc (for an
        undirected graph, both arcs of every edge, as ``G.to_directed()``).
        ``False``: a Graph/MultiGraph in which ``u->v`` and ``v->u`` collapse:
        the k-th ``u->v`` arc and the k-th ``v->u`` arc are one undirected
        edge, carrying the fields of whichever comes first in edge order (for
        an undirected graph: the edge as given); a one-way arc of a directed
        graph becomes an undirected edge too.
    multigraph : bool, optional
        Default: a multigraph only if there are parallel edges (after
        collapsing, when undirected).  ``False`` with parallel edges keeps the
        first edge of each group.

    Returns
    -------
    networkx graph
        Vertex fields and edge fields become attributes: scalars as Python
        ``int``/``float``/``bool``, vector fields as numpy arrays (rows).

    Examples
    --------
    >>> g = Graph([0, 1, 1], [1, 0, 2], edge_data={"w": [1.0, 1.0, 3.0]}, ids=[10, 20, 30])
    >>> type(to_networkx(g)).__name__
    'DiGraph'
    >>> H = to_networkx(g, directed=False)
    >>> type(H).__name__, sorted(H.edges(data="w"))
    ('Graph', [(10, 20, 1.0), (20, 30, 3.0)])
    >>> u = Graph([0, 1], [1, 2], ids=[10, 20, 30], directed=False)
    >>> type(to_networkx(u)).__name__, sorted(to_networkx(u).edges())
    ('Graph', [(10, 20), (20, 30)])
    """
    import networkx as nx

    if directed is None:
        directed = graph.directed

    src = graph.src.astype(np.int64)
    dst = graph.dst.astype(np.int64)
    n = max(graph.num_vertices, 1)
    if directed:
        keep, parallel = _first_of_groups(src * n + dst, multigraph)
        cls = nx.MultiDiGraph if parallel else nx.DiGraph
    else:
        keep, parallel = _undirected_edges(src, dst, n, multigraph)
        cls = nx.MultiGraph if parallel else nx.Graph
    H = cls()
    nodes = graph.original_ids().tolist()
    if graph.vertex_data:
        H.add_nodes_from(zip(nodes, _attribute_dicts(graph.vertex_data, None)))
    else:
        H.add_nodes_from(nodes)
    us = list(map(nodes.__getitem__, src[keep].tolist()))
    vs = list(map(nodes.__getitem__, dst[keep].tolist()))
    if graph.edge_data:
        H.add_edges_from(zip(us, vs, _attribute_dicts(graph.edge_data, keep)))
    else:
        H.add_edges_from(zip(us, vs))
    return H


def _first_of_groups(key: np.ndarray, multigraph: bool | None) -> tuple[np.ndarray, bool]:
    """Edges to emit and whether the result is a multigraph."""
    all_edges = np.arange(key.size)
    if multigraph is True:
        return all_edges, True
    _, first = np.unique(key, return_index=True)
    if first.size == key.size or multigraph is None:
        return all_edges, first.size != key.size
    return np.sort(first), False


def _undirected_edges(src: np.ndarray, dst: np.ndarray, n: int, multigraph: bool | None) -> tuple[np.ndarray, bool]:
    """Representatives of undirected edges: pair the k-th u->v with the k-th v->u."""
    m = src.size
    order = np.lexsort((dst, src))  # stable: edge order within each (u, v)
    directed_key = src[order] * n + dst[order]
    starts = np.flatnonzero(np.r_[True, directed_key[1:] != directed_key[:-1]])
    lengths = np.diff(np.r_[starts, m])
    rank = np.empty(m, np.int64)
    rank[order] = np.arange(m) - np.repeat(starts, lengths)  # k of the k-th u->v
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    pair = lo * n + hi
    key = pair * (m + 1) + rank if m * n * n < 2**62 else None
    if key is None:  # huge: unique rows instead of one packed integer key
        _, first = np.unique(np.stack([pair, rank], 1), axis=0, return_index=True)
    else:
        _, first = np.unique(key, return_index=True)
    first.sort()
    parallel = bool(np.any(rank[first] > 0))
    if multigraph is False or (multigraph is None and not parallel):
        first = first[rank[first] == 0]
        parallel = False
    elif multigraph:
        parallel = True
    return first, parallel


def _attribute_dicts(fields: dict[str, np.ndarray], rows: np.ndarray | None) -> list[dict]:
    """One ``{field: value}`` dict per vertex (``rows=None``) or per kept edge."""
    names = list(fields)
    columns = [_python_values(v if rows is None else v[rows]) for v in fields.values()]
    return [dict(zip(names, values)) for values in zip(*columns)]


def _python_values(values: np.ndarray) -> list[Any]:
    """Scalars as Python numbers; vector/matrix fields as one array per row."""
    if values.ndim == 1:
        return values.tolist()
    return list(np.array(values))  # a copy, so nothing aliases the graph's fields


# --------------------------------------------------------------------- scipy
def from_scipy(matrix: Any, *, weight: str | None = "weight") -> Graph:
    """Build a :class:`Graph` from a square sparse (or dense) matrix.

    Parameters
    ----------
    matrix : scipy.sparse array/matrix or 2-d array_like
        Entry ``(i, j)`` is the edge ``i -> j``.  Every stored entry becomes an
        edge, explicit zeros and duplicate coordinates included; a dense array
        contributes its non-zero entries.  Edges follow the matrix's COO order
        (row-major for CSR).
    weight : str or None
        Name of the edge field receiving the entries (dtype kept); ``None``
        stores no field.

    Returns
    -------
    Graph
        ``n`` = the matrix's side; ``graph.ids`` is None (vertex ``i`` is row ``i``).

    Raises
    ------
    GraphFormatError
        If the matrix is not square (or not 2-d).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> g = from_scipy(sp.csr_array([[0, 2.5], [1.0, 0]]))
    >>> g.src.tolist(), g.dst.tolist(), g.edge_data["weight"].tolist()
    ([0, 1], [1, 0], [2.5, 1.0])
    """
    coo = matrix.tocoo() if sp.issparse(matrix) else sp.coo_array(np.asarray(matrix))
    if len(coo.shape) != 2 or coo.shape[0] != coo.shape[1]:
        raise GraphFormatError(f"an adjacency matrix must be square, got shape {tuple(coo.shape)}")
    n = int(coo.shape[0])
    edge_data = {} if weight is None else {weight: np.array(coo.data)}
    # copies: the graph must not share (and later mutate) the caller's arrays
    return Graph(np.array(coo.row), np.array(coo.col), num_vertices=n, edge_data=edge_data)


def to_scipy(graph: Graph, *, weight: str | None = "weight", format: str = "csr") -> Any:
    """The ``n x n`` adjacency matrix as a scipy sparse array.

    Entry ``(u, v)`` sums the weights of the ``u -> v`` arcs, as
    ``networkx.to_scipy_sparse_array(G, weight="weight")`` does; an
    undirected graph gives a symmetric matrix with each self-loop once.

    Parameters
    ----------
    graph : Graph
        The graph.
    weight : str or None
        Edge field to sum over parallel arcs (its dtype is kept).  Default
        ``"weight"``: that field when the graph has it, else counts (networkx
        gives a missing weight the value 1), so
        ``to_scipy(from_scipy(A))`` equals ``A``.  Another name must be an
        existing field.  ``None``: entry ``(u, v)`` is the number of
        ``u -> v`` arcs (int64), whatever the fields.
    format : str
        Any scipy sparse format name: ``"csr"``, ``"csc"``, ``"coo"`` (with
        duplicates summed), ``"lil"``, ``"dok"``, ``"bsr"``, ``"dia"``.

    Returns
    -------
    scipy.sparse sparse array
        Indices are int32 whenever they fit.

    Examples
    --------
    >>> g = Graph([0, 0, 1], [1, 1, 0], edge_data={"w": [1.0, 2.0, 4.0]})
    >>> to_scipy(g).toarray().tolist(), to_scipy(g, weight="w").toarray().tolist()
    ([[0, 2], [1, 0]], [[0.0, 3.0], [4.0, 0.0]])
    >>> g.set_edge_field("weight", [0.5, 0.5, 2.0])
    >>> to_scipy(g).toarray().tolist(), to_scipy(g, weight=None).toarray().tolist()
    ([[0.0, 1.0], [2.0, 0.0]], [[0, 2], [1, 0]])
    """
    n = graph.num_vertices
    if weight == "weight" and weight not in graph.edge_data:
        weight = None  # networkx: a missing weight attribute counts as 1
    if weight is None:
        data = np.ones(graph.num_edges, dtype=np.int64)
    else:
        if weight not in graph.edge_data:
            raise KeyError(f"no edge field {weight!r}; the graph has {sorted(graph.edge_data) or 'none'}")
        data = graph.edge_data[weight]
        if data.ndim != 1 or data.dtype.kind not in "biufc":
            raise GraphFormatError(
                f"edge field {weight!r} must hold one number per edge, got shape {data.shape} dtype {data.dtype}"
            )
    idx = index_dtype(max(n, graph.num_edges, 1))
    coo = sp.coo_array(
        (data, (graph.src.astype(idx, copy=False), graph.dst.astype(idx, copy=False))),
        shape=(n, n),
    )
    coo.sum_duplicates()
    return coo if format == "coo" else coo.asformat(format)
