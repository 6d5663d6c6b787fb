"""The backend's graph: a networkx graph as arrays, and the conversions both ways.

:class:`NxGraph` holds what the backend's functions read: the nodes (the
original node objects, in ``G`` order), one arc per networkx adjacency entry
(``src``, ``dst``) and the edge attributes networkx asked for, one array per
attribute.  It builds the :class:`~gasengine.Graph` an algorithm runs on the
first time it is needed, and keeps it: a converted graph that networkx
caches (``G.__networkx_cache__``) carries its engine graphs along, so a
second call on the same graph neither converts nor rebuilds anything.

Which arcs
----------
The arcs are the entries of ``G._adj``: for a directed graph every edge
``u -> v`` once; for an undirected graph every edge both ways, a self-loop
once — exactly what :meth:`Graph.from_arcs` takes with ``directed=False``.
A multigraph's parallel edges are parallel arcs.  The adjacency is walked by
``map``/``numpy.fromiter`` over networkx's dictionaries; no Python statement
runs per edge.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from itertools import chain, repeat
from operator import is_, methodcaller
from typing import Any

import numpy as np

from ..graph import Graph, first_of_each_pair, index_dtype

__all__ = ["MISSING", "NxGraph", "convert_from_nx", "convert_to_nx", "numeric_edge_values"]


class NxGraph:
    """A networkx graph converted for the ``gasengine`` networkx backend.

    Build one with :func:`convert_from_nx` (networkx does, when a function
    dispatches to the backend) or :meth:`from_networkx`; pass it to any
    networkx function and it runs on the backend (networkx dispatches on
    ``__networkx_backend__``).

    Parameters
    ----------
    nodes : list
        The node objects, in networkx's node order; vertex ``i`` is ``nodes[i]``.
    src, dst : ndarray of int
        The arcs (see the module docstring): vertex numbers.
    directed, multigraph : bool
        What ``G.is_directed()`` and ``G.is_multigraph()`` said.
    edge_attrs : dict of str to ndarray, optional
        Per-arc values of edge attributes (numeric arrays, or object arrays
        for attributes that were not numbers everywhere; :data:`MISSING`
        marks an edge without the attribute).
    all_edge_attrs : bool
        Whether ``edge_attrs`` holds every attribute of the graph's edges,
        so that an attribute absent from it is on no edge (and a function
        uses its default, as networkx does).
    graph_attrs : dict, optional
        ``G.graph``.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([("a", "b"), ("b", "c")])
    >>> H = NxGraph.from_networkx(G)
    >>> H, H.number_of_edges(), H.src.tolist(), H.dst.tolist()
    (NxGraph(3 nodes, 2 edges, undirected), 2, [0, 1, 1, 2], [1, 0, 2, 1])
    >>> nx.pagerank(H) == nx.pagerank(G, backend="gasengine")   # H dispatches to the backend itself
    True
    """

    __networkx_backend__ = "gasengine"

    def __init__(
        self,
        nodes: list[Any],
        src: np.ndarray,
        dst: np.ndarray,
        *,
        directed: bool,
        multigraph: bool,
        edge_attrs: Mapping[Any, np.ndarray] | None = None,
        all_edge_attrs: bool = False,
        graph_attrs: Mapping[Any, Any] | None = None,
    ) -> None:
        self.nodes = nodes
        self.src = src
        self.dst = dst
        self.directed = bool(directed)
        self.multigraph = bool(multigraph)
        self.edge_attrs: dict[Any, np.ndarray] = dict(edge_attrs or {})
        self.all_edge_attrs = bool(all_edge_attrs)
        self.graph: dict[Any, Any] = dict(graph_attrs or {})
        self._index: dict[Any, int] | None = None
        self._engine_graphs: dict[Any, Graph] = {}

    # ------------------------------------------------ what networkx calls
    def is_directed(self) -> bool:
        """Whether the graph is directed (networkx's ``G.is_directed()``)."""
        return self.directed

    def is_multigraph(self) -> bool:
        """Whether the graph is a multigraph (networkx's ``G.is_multigraph()``)."""
        return self.multigraph

    def number_of_nodes(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    def number_of_edges(self) -> int:
        """Number of edges as networkx counts them (an undirected edge once)."""
        if self.directed:
            return int(self.src.size)
        return int(np.count_nonzero(self.src <= self.dst))

    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes)

    def __contains__(self, node: Any) -> bool:
        try:
            return node in self.index
        except TypeError:  # unhashable: not a node, as networkx says
            return False

    def __repr__(self) -> str:
        kind = ("multi" if self.multigraph else "") + ("directed" if self.directed else "undirected")
        return f"NxGraph({len(self.nodes)} nodes, {self.number_of_edges()} edges, {kind})"

    # ----------------------------------------------------------- lookups
    @property
    def index(self) -> dict[Any, int]:
        """``{node: vertex number}``."""
        if self._index is None:
            self._index = dict(zip(self.nodes, range(len(self.nodes))))
        return self._index

    def vertex(self, node: Any) -> int:
        """The vertex number of ``node`` (KeyError if absent)."""
        return self.index[node]

    def values_of(self, mapping: Mapping[Any, Any], default: Any = 0) -> np.ndarray:
        """A float64 array of ``mapping[node]`` per vertex, ``default`` where absent.

        Raises ``TypeError``/``ValueError`` when a value is not a number.
        """
        n = len(self.nodes)
        return np.fromiter(map(mapping.get, self.nodes, repeat(default, n)), np.float64, count=n)

    def subset(self, nodes: Iterable[Any]) -> tuple[list[Any], np.ndarray]:
        """The nodes of ``nodes`` that are in the graph (in order, duplicates once) and their numbers.

        networkx's ``G.nbunch_iter(nodes)`` for a container of nodes; an
        unhashable item raises ``TypeError``.
        """
        index = self.index
        kept = list(dict.fromkeys(filter(index.__contains__, nodes)))
        return kept, np.fromiter(map(index.__getitem__, kept), np.int64, count=len(kept))

    def has_self_loops(self) -> bool:
        """Whether any edge joins a node to itself."""
        return bool(np.any(self.src == self.dst))

    # ---------------------------------------------------- engine graphs
    def edge_values(self, name: Any, default: Any = 1) -> np.ndarray:
        """The values of edge attribute ``name`` per arc, ``default`` on edges without it.

        Raises
        ------
        KeyError
            If the attribute was not converted (and the graph does not hold all of them).
        """
        values = self.edge_attrs.get(name)
        if values is None:
            if not self.all_edge_attrs:
                raise KeyError(
                    f"edge attribute {name!r} was not converted; build the graph with "
                    f"NxGraph.from_networkx(G) (all attributes) or NxGraph.from_networkx(G, {{{name!r}: 1}})"
                )
            return np.full(self.src.size, default)
        if values.dtype == object:
            missing = np.fromiter(map(is_, values.tolist(), repeat(MISSING)), bool, count=values.size)
            if missing.any():
                filled = values.copy()
                filled[missing] = default
                return _as_array(filled.tolist())
        return values

    def engine_graph(self, weight: Any = None) -> Graph:
        """The :class:`~gasengine.Graph` of the arcs, with ``weight`` as the float64 edge field ``"weight"``.

        Built once per ``weight`` and kept.  ``weight=None``: no field.
        Edges without the attribute weigh 1 (networkx's default).  Raises
        ``NotImplementedError`` if a weight is not a number (networkx then
        decides what it means) and ``KeyError`` if ``weight`` was not converted.
        """
        key = ("arcs", weight)
        if key not in self._engine_graphs:
            edge_data = None
            if weight is not None:
                edge_data = {"weight": numeric_edge_values(self, weight, "weights")}
            self._engine_graphs[key] = Graph.from_arcs(
                self.src, self.dst, len(self.nodes), edge_data=edge_data, directed=self.directed
            )
        return self._engine_graphs[key]

    def simple_graph(self) -> Graph:
        """The arcs with parallel ones merged (one arc per ordered pair), as a :class:`~gasengine.Graph`."""
        if not self.multigraph:
            return self.engine_graph()
        key = ("simple", None)
        if key not in self._engine_graphs:
            first = first_of_each_pair(self.src.astype(np.int64), self.dst.astype(np.int64), len(self.nodes))
            self._engine_graphs[key] = Graph.from_arcs(
                self.src[first], self.dst[first], len(self.nodes), directed=self.directed
            )
        return self._engine_graphs[key]

    # ---------------------------------------------------------- convert
    @classmethod
    def from_networkx(
        cls,
        G: Any,
        edge_attrs: Mapping[Any, Any] | str | None = "all",
        *,
        preserve_graph_attrs: bool = True,
    ) -> NxGraph:
        """Convert a networkx graph (networkx itself calls :func:`convert_from_nx`).

        Parameters
        ----------
        G : networkx.Graph, DiGraph, MultiGraph or MultiDiGraph
        edge_attrs : "all", dict or None
            ``"all"`` (default): every edge attribute, each function then
            reads the one it is asked for with its own default (networkx's
            convention: 1 for weights).  A dict ``{attribute: default}``:
            those attributes, ``default`` on edges without one.  None: no
            attributes.
        preserve_graph_attrs : bool
            Copy ``G.graph``.

        Examples
        --------
        >>> import networkx as nx
        >>> G = nx.MultiDiGraph([(1, 2), (1, 2), (2, 1)])
        >>> G.add_edge(2, 3, weight=2.5)
        0
        >>> H = NxGraph.from_networkx(G)
        >>> H.src.tolist(), H.dst.tolist(), H.edge_values("weight").tolist()
        ([0, 0, 1, 1], [1, 1, 0, 2], [1.0, 1.0, 1.0, 2.5])
        """
        if isinstance(G, NxGraph):
            return G
        adj = G._adj
        nodes = list(adj)
        n = len(nodes)
        index = dict(zip(nodes, range(n)))
        dtype = index_dtype(max(n, 1))
        nbr_dicts = list(adj.values())
        degree = np.fromiter(map(len, nbr_dicts), np.int64, count=n)
        heads = np.fromiter(map(index.__getitem__, chain.from_iterable(nbr_dicts)), dtype, count=int(degree.sum()))
        tails = np.repeat(np.arange(n, dtype=dtype), degree)
        values = list(chain.from_iterable(map(methodcaller("values"), nbr_dicts)))  # edge dicts (key dicts)
        multigraph = bool(G.is_multigraph())
        if multigraph:
            multiplicity = np.fromiter(map(len, values), np.int64, count=len(values))
            tails, heads = np.repeat(tails, multiplicity), np.repeat(heads, multiplicity)
            values = list(chain.from_iterable(map(methodcaller("values"), values)))
        every = isinstance(edge_attrs, str) and edge_attrs == "all"
        if every:
            edge_attrs = dict.fromkeys(set().union(*values) if values else (), MISSING)
        elif isinstance(edge_attrs, str):
            raise ValueError(f"edge_attrs must be 'all', a dict {{attribute: default}} or None, got {edge_attrs!r}")
        attrs = {name: _attribute_array(values, name, default) for name, default in (edge_attrs or {}).items()}
        return cls(
            nodes,
            tails,
            heads,
            directed=bool(G.is_directed()),
            multigraph=multigraph,
            edge_attrs=attrs,
            all_edge_attrs=every,
            graph_attrs=G.graph if preserve_graph_attrs else None,
        )

    def to_networkx(self) -> Any:
        """A networkx graph of the same kind with the same nodes, edges and converted attributes.

        Examples
        --------
        >>> import networkx as nx
        >>> G = nx.Graph([(0, 1, {"weight": 3})])
        >>> H = NxGraph.from_networkx(G).to_networkx()
        >>> type(H).__name__, list(H.edges(data=True))
        ('Graph', [(0, 1, {'weight': 3})])
        """
        import networkx as nx

        cls = {
            (False, False): nx.Graph,
            (True, False): nx.DiGraph,
            (False, True): nx.MultiGraph,
            (True, True): nx.MultiDiGraph,
        }[(self.directed, self.multigraph)]
        H = cls()
        H.graph.update(self.graph)
        H.add_nodes_from(self.nodes)
        keep = np.arange(self.src.size) if self.directed else np.flatnonzero(self.src <= self.dst)
        us = list(map(self.nodes.__getitem__, self.src[keep].tolist()))
        vs = list(map(self.nodes.__getitem__, self.dst[keep].tolist()))
        if self.edge_attrs:
            names = list(self.edge_attrs)
            columns = [self.edge_attrs[name][keep].tolist() for name in names]
            dicts = [{k: v for k, v in zip(names, row) if v is not MISSING} for row in zip(*columns)]
            H.add_edges_from(zip(us, vs, dicts))
        else:
            H.add_edges_from(zip(us, vs))
        return H


class _Missing:
    """The value of an attribute on an edge that does not have it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"


#: Marks an edge without the attribute in an attribute array.
MISSING = _Missing()


def _as_array(column: list[Any]) -> np.ndarray:
    """A numeric array of the values if they are numbers, else an object array of them."""
    try:
        arr = np.array(column)
    except (TypeError, ValueError):  # ragged sequences and the like
        arr = None
    if arr is not None and arr.ndim == 1 and arr.dtype.kind in "biuf":
        return arr
    if arr is not None and arr.size == 0:
        return np.zeros(0)
    out = np.empty(len(column), dtype=object)
    out[:] = column
    return out


def _attribute_array(values: list[dict], name: Any, default: Any) -> np.ndarray:
    """One value of edge attribute ``name`` per edge dict (``default`` where absent)."""
    return _as_array(list(map(methodcaller("get", name, default), values)))


def numeric_edge_values(H: NxGraph, name: Any, what: str, default: Any = 1) -> np.ndarray:
    """Edge attribute ``name`` of ``H`` as float64 (``default`` where absent); ``NotImplementedError`` if not numbers.

    The error lets networkx run its own implementation, which decides what
    a non-numeric value means there (``None`` hides an edge from
    Dijkstra, a string is an error).
    """
    values = H.edge_values(name, default)
    if values.dtype == object:
        bad = next(
            i
            for i, v in enumerate(values.tolist())
            if not isinstance(v, (int, float, np.number)) or isinstance(v, bool)
        )
        u, v = H.nodes[int(H.src[bad])], H.nodes[int(H.dst[bad])]
        raise NotImplementedError(
            f"gasengine needs numeric {what}: edge attribute {name!r} of edge ({u!r}, {v!r}) is {values[bad]!r}"
        )
    return values.astype(np.float64, copy=False)


def convert_from_nx(
    graph: Any,
    edge_attrs: Mapping[Any, Any] | None = None,
    node_attrs: Mapping[Any, Any] | None = None,
    preserve_edge_attrs: bool = False,
    preserve_node_attrs: bool = False,
    preserve_graph_attrs: bool = False,
    name: str | None = None,
    graph_name: str | None = None,
) -> NxGraph:
    """networkx's conversion hook: a networkx graph as an :class:`NxGraph`.

    Deterministic (same graph and arguments, same result), so networkx may
    cache the result in ``G.__networkx_cache__``.  Node attributes are not
    kept: no function of the backend reads one.

    Examples
    --------
    >>> import networkx as nx
    >>> convert_from_nx(nx.path_graph(3), edge_attrs={"weight": 1})
    NxGraph(3 nodes, 2 edges, undirected)
    """
    if isinstance(graph, NxGraph):
        return graph
    return NxGraph.from_networkx(
        graph,
        "all" if preserve_edge_attrs is True else edge_attrs,
        preserve_graph_attrs=bool(preserve_graph_attrs),
    )


def convert_to_nx(obj: Any, *, name: str | None = None) -> Any:
    """networkx's conversion hook back: an :class:`NxGraph` as a networkx graph; anything else as it is.

    Examples
    --------
    >>> import networkx as nx
    >>> convert_to_nx({"a": 1.0})
    {'a': 1.0}
    >>> sorted(convert_to_nx(convert_from_nx(nx.path_graph(3))).edges())
    [(0, 1), (1, 2)]
    """
    if isinstance(obj, NxGraph):
        return obj.to_networkx()
    return obj


def is_node(H: Any, node: Any) -> bool:
    """``node in H`` that is False (not an error) for unhashable objects, as networkx's ``in``."""
    if not isinstance(node, Hashable):
        return False
    try:
        return node in H
    except TypeError:
        return False
