"""The networkx functions the ``gasengine`` backend implements, on :mod:`algorithms`.

Each function has networkx's name, arguments and return type, takes the
backend's graph (:class:`~gasengine.nxbackend.graph.NxGraph`; networkx
converts a networkx graph before calling it), runs the matching vertex
program and returns what networkx returns: dicts keyed by the original
nodes with Python numbers, generators (or ``dict_values``) of sets.

Anything whose answer could differ from networkx's — an argument the
program does not have, negative weights, a self-loop that networkx's
colouring would count — is refused: ``can_run`` says no before the call
(:mod:`~gasengine.nxbackend.interface`), or the function raises
``NotImplementedError``, and networkx runs its own implementation (with
``nx.config.backend_priority``, and in networkx's own test suite with
``NETWORKX_FALLBACK_TO_NX``).  With ``backend="gasengine"`` given
explicitly, networkx does not fall back: the call raises
``NotImplementedError`` saying why.

Every function also takes the engine options ``workers``, ``partitions``
and ``engine_backend`` (``"local"``, ``"multiprocess"``, ``"mpi"``) as
keyword arguments; defaults come from ``nx.config.backends.gasengine``.

This module is, with the CLI's registry, the one place where the engine
package calls :mod:`algorithms` (it is imported only when networkx loads
the backend).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

import algorithms

from ..errors import ConvergenceError
from .graph import NxGraph, is_node, numeric_edge_values

__all__ = [
    "ENGINE_OPTIONS",
    "average_clustering",
    "calls",
    "clustering",
    "connected_components",
    "core_number",
    "is_connected",
    "is_weakly_connected",
    "label_propagation_communities",
    "number_connected_components",
    "number_weakly_connected_components",
    "pagerank",
    "single_source_dijkstra_path_length",
    "single_source_shortest_path_length",
    "triangles",
    "weakly_connected_components",
]

_logger = logging.getLogger("gasengine.nxbackend")

#: How many times each function ran on the backend (not counting calls networkx kept for itself).
calls: Counter[str] = Counter()

#: Engine options every function takes (keyword name -> :func:`gasengine.run` argument).
ENGINE_OPTIONS = {"workers": "workers", "partitions": "partitions", "engine_backend": "backend"}


def _engine_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """``run`` keyword arguments from ``nx.config.backends.gasengine`` and the call's own options."""
    unknown = set(options) - set(ENGINE_OPTIONS)
    if unknown:
        raise TypeError(
            f"{name}() got unexpected keyword argument(s) {sorted(unknown)}; the gasengine "
            f"backend takes {sorted(ENGINE_OPTIONS)}"
        )
    merged: dict[str, Any] = {}
    config = _config()
    for key, target in ENGINE_OPTIONS.items():
        value = options.get(key, getattr(config, key, None) if config is not None else None)
        if value is not None:
            merged[target] = value
    calls[name] += 1
    _logger.debug("gasengine runs %s (engine options %s)", name, merged)
    return merged


def _config() -> Any:
    import networkx as nx

    return getattr(nx.config.backends, "gasengine", None)


def _nodes_of(H: NxGraph, idx: np.ndarray) -> list[Any]:
    """The node objects of vertex numbers ``idx``."""
    return list(map(H.nodes.__getitem__, idx.tolist()))


def _sets(H: NxGraph, labels: np.ndarray) -> tuple[list[int], list[set]]:
    """The node sets of a labelling, in networkx's order (by first node), with their labels."""
    if labels.size == 0:
        return [], []
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    cuts = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    starts = np.r_[0, cuts]
    ends = np.r_[cuts, labels.size]
    by_first = np.argsort(order[starts], kind="stable")  # a group's first vertex is its smallest
    nodes = _nodes_of(H, order)
    slices = map(slice, starts[by_first].tolist(), ends[by_first].tolist())
    return ordered[starts[by_first]].tolist(), list(map(set, map(nodes.__getitem__, slices)))


def _generate(items: list[Any]) -> Iterator[Any]:
    """A generator over computed items (networkx's functions are generators)."""
    yield from items


# ------------------------------------------------------------------ PageRank
def pagerank(
    G: NxGraph,
    alpha: float = 0.85,
    personalization: Mapping | None = None,
    max_iter: int = 100,
    tol: float = 1.0e-6,
    nstart: Mapping | None = None,
    weight: Any = "weight",
    dangling: Mapping | None = None,
    **engine_options: Any,
) -> dict[Any, float]:
    """``networkx.pagerank`` on the engine (:func:`algorithms.pagerank`).

    The same power iteration and stopping rule (L1 change below
    ``len(G) * tol``), so the same number of iterations and ranks equal to
    networkx's up to rounding.  Parallel edges add their weights; an edge
    without ``weight`` weighs 1.  Falls back to networkx (NotImplementedError)
    for negative or non-numeric weights and for personalization, nstart or
    dangling values that are negative, not finite or (nstart, dangling) sum
    to zero, whose results networkx defines by its arithmetic alone.

    Raises
    ------
    ZeroDivisionError
        If ``personalization`` is zero on every node (as networkx).
    networkx.PowerIterationFailedConvergence
        If ``max_iter`` iterations do not reach the tolerance.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "b")])
    >>> ranks = nx.pagerank(G, backend="gasengine")
    >>> {k: round(v, 4) for k, v in ranks.items()}
    {'a': 0.2148, 'b': 0.3974, 'c': 0.3878}
    """
    import networkx as nx

    n = len(G)
    if n == 0:
        _engine_options("pagerank", engine_options)
        return {}  # before any check, as networkx
    vectors = {}
    for label, given in (("personalization", personalization), ("nstart", nstart), ("dangling", dangling)):
        if given is None:
            vectors[label] = None
            continue
        try:
            values = G.values_of(given)
        except (TypeError, ValueError) as exc:
            raise NotImplementedError(f"gasengine needs numeric {label} values: {exc}") from None
        if label == "personalization" and values.sum() == 0:
            raise ZeroDivisionError  # networkx's own error for an all-zero personalization
        if not np.all(np.isfinite(values)) or values.min() < 0 or values.sum() <= 0:
            raise NotImplementedError(f"gasengine needs finite non-negative {label} values with a positive sum")
        vectors[label] = values
    field = None
    if weight is not None:
        w = numeric_edge_values(G, weight, "PageRank weights")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise NotImplementedError("gasengine needs finite non-negative PageRank weights")
        field = "weight"
    graph = G.engine_graph(weight)
    options = _engine_options("pagerank", engine_options)
    try:
        ranks = algorithms.pagerank(
            graph,
            alpha,
            vectors["personalization"],
            max_iter,
            tol,
            vectors["nstart"],
            field,
            vectors["dangling"],
            **options,
        )
    except ConvergenceError:
        raise nx.PowerIterationFailedConvergence(max_iter) from None
    return dict(zip(G.nodes, ranks.tolist()))


# ------------------------------------------------------------- components
def _component_labels(G: NxGraph, name: str, engine_options: Mapping[str, Any]) -> np.ndarray:
    options = _engine_options(name, engine_options)
    if len(G) == 0:
        return np.zeros(0, dtype=np.int64)
    return algorithms.connected_components(G.engine_graph(), **options)


def connected_components(G: NxGraph, **engine_options: Any) -> Iterator[set]:
    """``networkx.connected_components``: a generator of node sets (hooking and pointer jumping).

    The components come in networkx's order (that of their first node).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([(1, 2), (3, 4)]); G.add_node(5)
    >>> list(nx.connected_components(G, backend="gasengine"))
    [{1, 2}, {3, 4}, {5}]
    """
    return _generate(_sets(G, _component_labels(G, "connected_components", engine_options))[1])


def weakly_connected_components(G: NxGraph, **engine_options: Any) -> Iterator[set]:
    """``networkx.weakly_connected_components``: a generator of node sets.

    Examples
    --------
    >>> import networkx as nx
    >>> list(nx.weakly_connected_components(nx.DiGraph([(1, 2), (3, 2), (4, 5)]), backend="gasengine"))
    [{1, 2, 3}, {4, 5}]
    """
    return _generate(_sets(G, _component_labels(G, "weakly_connected_components", engine_options))[1])


def _count_components(labels: np.ndarray) -> int:
    # a component's label is its smallest vertex number: count the vertices that are their own label
    return int(np.count_nonzero(labels == np.arange(labels.size)))


def number_connected_components(G: NxGraph, **engine_options: Any) -> int:
    """``networkx.number_connected_components``.

    Examples
    --------
    >>> import networkx as nx
    >>> nx.number_connected_components(nx.Graph([(1, 2), (3, 4)]), backend="gasengine")
    2
    """
    return _count_components(_component_labels(G, "number_connected_components", engine_options))


def number_weakly_connected_components(G: NxGraph, **engine_options: Any) -> int:
    """``networkx.number_weakly_connected_components``.

    Examples
    --------
    >>> import networkx as nx
    >>> nx.number_weakly_connected_components(nx.DiGraph([(1, 2), (3, 2)]), backend="gasengine")
    1
    """
    return _count_components(_component_labels(G, "number_weakly_connected_components", engine_options))


def _is_one_component(G: NxGraph, name: str, engine_options: Mapping[str, Any]) -> bool:
    import networkx as nx

    if len(G) == 0:
        raise nx.NetworkXPointlessConcept("Connectivity is undefined for the null graph.")
    return _count_components(_component_labels(G, name, engine_options)) == 1


def is_connected(G: NxGraph, **engine_options: Any) -> bool:
    """``networkx.is_connected``.

    Examples
    --------
    >>> import networkx as nx
    >>> nx.is_connected(nx.path_graph(4), backend="gasengine")
    True
    """
    return _is_one_component(G, "is_connected", engine_options)


def is_weakly_connected(G: NxGraph, **engine_options: Any) -> bool:
    """``networkx.is_weakly_connected``.

    Examples
    --------
    >>> import networkx as nx
    >>> nx.is_weakly_connected(nx.DiGraph([(1, 2), (3, 4)]), backend="gasengine")
    False
    """
    return _is_one_component(G, "is_weakly_connected", engine_options)


# --------------------------------------------------------- shortest paths
def _distances_dict(G: NxGraph, dist: np.ndarray, keep: np.ndarray, start: int, integral: bool) -> dict[Any, Any]:
    """``{node: distance}`` for the kept vertices, nearest first (networkx's order up to ties).

    The source comes first with the int 0, as networkx's (whatever the weights).
    """
    keep[start] = False
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(dist[idx], kind="stable")]
    values = dist[idx]
    out = {G.nodes[start]: 0}
    out.update(zip(_nodes_of(G, idx), (values.astype(np.int64) if integral else values).tolist()))
    return out


def single_source_shortest_path_length(
    G: NxGraph, source: Any, cutoff: float | None = None, **engine_options: Any
) -> dict[Any, int]:
    """``networkx.single_source_shortest_path_length``: hop counts, following edge directions.

    ``cutoff`` as networkx: levels ``L`` with ``L - 1 < cutoff`` (all
    levels ``<= cutoff`` for an integer cutoff); the source is always there.

    Examples
    --------
    >>> import networkx as nx
    >>> nx.single_source_shortest_path_length(nx.path_graph(4), 1, backend="gasengine")
    {1: 0, 0: 1, 2: 1, 3: 2}
    """
    import networkx as nx

    if not is_node(G, source):
        raise nx.NodeNotFound(f"Source {source} is not in G")
    options = _engine_options("single_source_shortest_path_length", engine_options)
    start = G.vertex(source)
    dist = algorithms.sssp(G.engine_graph(), start, weight=None, by_id=False, **options)
    keep = np.isfinite(dist)
    if cutoff is not None:
        keep &= dist - 1 < cutoff
    return _distances_dict(G, dist, keep, start, integral=True)


def single_source_dijkstra_path_length(
    G: NxGraph, source: Any, cutoff: float | None = None, weight: Any = "weight", **engine_options: Any
) -> dict[Any, float]:
    """``networkx.single_source_dijkstra_path_length`` (delta-stepping on the engine).

    Edges without ``weight`` weigh 1; parallel edges count with their
    smallest weight; nodes farther than ``cutoff`` are left out (the source
    never is).  Integer weights give integer distances, as networkx's sums.
    Falls back (NotImplementedError) for callable, negative, infinite or
    non-numeric weights (networkx's answer, or error, there is its own).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph(); G.add_weighted_edges_from([("a", "b", 2), ("b", "c", 1), ("a", "c", 5)])
    >>> nx.single_source_dijkstra_path_length(G, "a", backend="gasengine")
    {'a': 0, 'b': 2, 'c': 3}
    """
    import networkx as nx

    if not is_node(G, source):
        raise nx.NodeNotFound(f"Node {source} not found in graph")
    integral = True
    field = None
    if weight is not None:
        raw = G.edge_values(weight)
        w = numeric_edge_values(G, weight, "edge lengths")
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            raise NotImplementedError(
                "gasengine needs finite non-negative edge lengths (networkx decides what negative ones give)"
            )
        integral = raw.dtype.kind in "biu"
        field = "weight"
    options = _engine_options("single_source_dijkstra_path_length", engine_options)
    start = G.vertex(source)
    dist = algorithms.sssp(G.engine_graph(weight), start, weight=field, by_id=False, **options)
    keep = np.isfinite(dist)
    if cutoff is not None:
        keep &= dist <= cutoff
    return _distances_dict(G, dist, keep, start, integral)


# ------------------------------------------------------ label propagation
def label_propagation_communities(G: NxGraph, **engine_options: Any) -> Any:
    """``networkx.community.label_propagation_communities``: semi-synchronous label propagation.

    Runs on the chromatic engine with networkx's colouring (greedy, largest
    degree first, ties in node order) and its Prec-Max rule and labels, so
    the communities are networkx's.  Returns, as networkx, the
    ``dict_values`` of ``{label: set of nodes}``.  Parallel edges count
    once.  Falls back to networkx (NotImplementedError) where its colouring
    cannot be reproduced: graphs with self-loops, and multigraphs whose
    parallel edges change the largest-degree-first order (networkx counts
    both in the degrees that order its colouring).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph([(1, 2), (2, 3), (3, 1), (4, 5), (5, 6), (6, 4), (3, 4)])
    >>> list(nx.community.label_propagation_communities(G, backend="gasengine"))
    [{1, 2, 3}, {4, 5, 6}]
    """
    if G.has_self_loops():
        raise NotImplementedError(
            "gasengine's label propagation does not take self-loops (networkx counts "
            "them in the degrees that order its colouring)"
        )
    simple = G.simple_graph()
    if G.multigraph:
        # networkx colours largest degree first counting parallel edges, but counts each neighbour's
        # label once: the simple graph gives networkx's colouring only if both degrees order alike
        n = len(G)
        multi_degree = np.bincount(G.src, minlength=n)
        simple_degree = np.bincount(simple.src, minlength=n)
        if not np.array_equal(np.argsort(-multi_degree, kind="stable"), np.argsort(-simple_degree, kind="stable")):
            raise NotImplementedError(
                "gasengine's label propagation of this multigraph would colour it unlike "
                "networkx (parallel edges change the largest-first order)"
            )
    options = _engine_options("label_propagation_communities", engine_options)
    if len(G) == 0:
        return {}.values()
    try:
        labels = algorithms.label_propagation(simple, **options)
    except ConvergenceError as exc:
        raise NotImplementedError(f"gasengine: {exc}") from None
    keys, sets = _sets(G, labels)
    return dict(zip(keys, sets)).values()


# ------------------------------------------------- triangles, clustering
def _selection(G: NxGraph, nodes: Any) -> tuple[str, Any]:
    """networkx's ``nodes`` argument, checked before any work: ``("all", None)``,
    ``("one", vertex)`` or ``("some", (nodes in the graph, their numbers))``."""
    if nodes is None:
        return "all", None
    if is_node(G, nodes):
        return "one", G.vertex(nodes)
    try:
        return "some", G.subset(nodes)
    except TypeError as exc:  # not a container of (hashable) nodes: networkx's error, not ours
        raise NotImplementedError(f"gasengine: nodes={nodes!r} is not a node or a container of nodes") from exc


def _select(G: NxGraph, selection: tuple[str, Any], values: list[Any]) -> Any:
    """The values networkx returns for a selection: a dict over all nodes or some, or one value."""
    kind, which = selection
    if kind == "all":
        return dict(zip(G.nodes, values))
    if kind == "one":
        return values[which]
    kept, idx = which
    return dict(zip(kept, map(values.__getitem__, idx.tolist())))


def _triangle_counts(G: NxGraph, name: str, engine_options: Mapping[str, Any]) -> np.ndarray:
    options = _engine_options(name, engine_options)
    return algorithms.triangles(G.engine_graph(), **options) if len(G) else np.zeros(0, np.int64)


def triangles(G: NxGraph, nodes: Any = None, **engine_options: Any) -> Any:
    """``networkx.triangles``: triangles at every node (or at ``nodes``).

    Self-loops are ignored and parallel edges count once.  A single node
    gives an int, a container of nodes a dict over those in the graph.

    Examples
    --------
    >>> import networkx as nx
    >>> nx.triangles(nx.complete_graph(4), backend="gasengine")
    {0: 3, 1: 3, 2: 3, 3: 3}
    >>> nx.triangles(nx.complete_graph(4), 0, backend="gasengine")
    3
    """
    selection = _selection(G, nodes)
    return _select(G, selection, _triangle_counts(G, "triangles", engine_options).tolist())


def _clustering_values(G: NxGraph, name: str, engine_options: Mapping[str, Any]) -> list[Any]:
    """networkx's clustering of every node: ``2T / (d (d - 1))``, the int 0 where there is no triangle."""
    counts = _triangle_counts(G, name, engine_options)
    loops = G.src == G.dst  # a simple undirected graph: every neighbour is one arc out
    d = np.bincount(G.src[~loops], minlength=len(G)).astype(np.float64)
    c = np.zeros(len(G), dtype=np.float64)
    np.divide(2.0 * counts, d * (d - 1), out=c, where=counts > 0)
    out = c.astype(object)  # Python floats ...
    out[counts == 0] = 0  # ... and networkx's int 0
    return out.tolist()


def clustering(G: NxGraph, nodes: Any = None, weight: Any = None, **engine_options: Any) -> Any:
    """``networkx.clustering`` of an undirected simple graph, unweighted.

    Values are networkx's: ``2 T / (d (d - 1))`` as a float, or the int 0
    for a node in no triangle.  Directed graphs, multigraphs and ``weight``
    are left to networkx (``can_run`` says no).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.complete_graph(4); G.add_edge(0, 9)
    >>> nx.clustering(G, backend="gasengine")
    {0: 0.5, 1: 1.0, 2: 1.0, 3: 1.0, 9: 0}
    """
    selection = _selection(G, nodes)
    return _select(G, selection, _clustering_values(G, "clustering", engine_options))


def average_clustering(
    G: NxGraph, nodes: Any = None, weight: Any = None, count_zeros: bool = True, **engine_options: Any
) -> float:
    """``networkx.average_clustering`` of an undirected simple graph, unweighted.

    The same sum in the same order as networkx (so the same float); an
    empty selection raises ``ZeroDivisionError`` as there.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.cycle_graph(3); G.add_edge(2, 3)
    >>> nx.average_clustering(G, backend="gasengine") == (1 + 1 + 1 / 3) / 4
    True
    """
    selection = _selection(G, nodes)
    values = _clustering_values(G, "average_clustering", engine_options)
    c = values if nodes is None else list(_select(G, selection, values).values())
    if not count_zeros:
        c = [v for v in c if v]  # the values that are not (int) zero
    return sum(c) / len(c)


# ------------------------------------------------------------------ cores
def core_number(G: NxGraph, **engine_options: Any) -> dict[Any, int]:
    """``networkx.core_number`` by peeling or h-index iterations (:func:`algorithms.core_number`).

    Directed graphs use in- plus out-degree, as networkx.

    Raises
    ------
    networkx.NetworkXNotImplemented
        If the graph has self-loops (networkx's error).

    Examples
    --------
    >>> import networkx as nx
    >>> nx.core_number(nx.DiGraph([(1, 2), (2, 1), (2, 3), (2, 4), (3, 4), (4, 3)]), backend="gasengine")
    {1: 2, 2: 2, 3: 2, 4: 2}
    """
    import networkx as nx

    if G.has_self_loops():
        raise nx.NetworkXNotImplemented(
            "Input graph has self loops which is not permitted; "
            "Consider using G.remove_edges_from(nx.selfloop_edges(G))."
        )
    options = _engine_options("core_number", engine_options)
    if len(G) == 0:
        return {}
    return dict(zip(G.nodes, algorithms.core_number(G.engine_graph(), **options).tolist()))
