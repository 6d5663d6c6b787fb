"""The object networkx loads for the ``gasengine`` backend: functions, conversions, ``can_run``, ``should_run``.

networkx asks ``can_run(name, args, kwargs)`` before converting a graph;
a ``False`` or a string (the reason) makes it use its own implementation
when it may (``nx.config.backend_priority``, ``fallback_to_nx``), or raise
``NotImplementedError`` with that reason when ``backend="gasengine"`` was
given.  The rule here: the backend runs only what it answers exactly as
networkx does.  ``should_run`` declines single-node queries of
``triangles`` and ``clustering``, which networkx answers from that node's
neighbourhood alone.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

from . import functions
from .graph import NxGraph, convert_from_nx, convert_to_nx, is_node

__all__ = ["BackendInterface", "backend_interface"]

#: Functions the backend implements (networkx dispatch names).
FUNCTIONS = (
    "average_clustering",
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
)

_UNDIRECTED_ONLY = {
    "connected_components",
    "number_connected_components",
    "is_connected",
    "label_propagation_communities",
    "triangles",
    "clustering",
    "average_clustering",
}
_DIRECTED_ONLY = {"weakly_connected_components", "number_weakly_connected_components", "is_weakly_connected"}
_NO_MULTIGRAPH = {"core_number", "clustering", "average_clustering"}


def _is_real(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _nodes_argument(G: Any, nodes: Any) -> str | None:
    """Why ``nodes`` cannot be served (None if it can): a node, a re-iterable container, or None."""
    if nodes is None:
        return None
    if isinstance(nodes, Hashable):
        try:
            if nodes in G:
                return None
        except TypeError:
            pass
    if isinstance(nodes, Iterator):
        return "nodes is an iterator (networkx must consume it itself)"
    try:
        iter(nodes)
    except TypeError:
        return f"nodes={nodes!r} is neither a node nor a container of nodes"
    return None


def _check_pagerank(G: Any, a: Mapping[str, Any]) -> str | None:
    for name in ("personalization", "nstart", "dangling"):
        if a[name] is not None and not isinstance(a[name], Mapping):
            return f"{name} must be a dict keyed by node"
    if not _is_real(a["alpha"]) or not 0.0 <= a["alpha"] <= 1.0:
        return "alpha must be a number in [0, 1]"
    if not isinstance(a["max_iter"], numbers.Integral) or isinstance(a["max_iter"], bool) or a["max_iter"] < 0:
        return "max_iter must be a non-negative int"
    if not _is_real(a["tol"]):
        return "tol must be a number"
    return _check_weight(a["weight"])


def _check_weight(weight: Any) -> str | None:
    if weight is None:
        return None
    if callable(weight):
        return "weight functions are not supported (only edge attribute names)"
    if not isinstance(weight, Hashable):
        return "weight must be an edge attribute name"
    return None


def _check_cutoff(a: Mapping[str, Any]) -> str | None:
    if a["cutoff"] is not None and not _is_real(a["cutoff"]):
        return "cutoff must be a number"
    if not isinstance(a["source"], Hashable):
        return "source is not hashable"
    return None


def _check_dijkstra(G: Any, a: Mapping[str, Any]) -> str | None:
    return _check_cutoff(a) or _check_weight(a["weight"])


def _check_triangles(G: Any, a: Mapping[str, Any]) -> str | None:
    if a["nodes"] is not None and G.is_multigraph():
        return "networkx refuses nodes= on a multigraph"
    return _nodes_argument(G, a["nodes"])


def _check_clustering(G: Any, a: Mapping[str, Any]) -> str | None:
    if a["weight"] is not None:
        return "weighted clustering is not implemented (only unweighted)"
    return _nodes_argument(G, a["nodes"])


def _check_average_clustering(G: Any, a: Mapping[str, Any]) -> str | None:
    reason = _check_clustering(G, a)
    if reason is None and a["nodes"] is not None and is_node(G, a["nodes"]):
        return "nodes is a single node (networkx's average_clustering takes a container)"
    return reason


_CHECKS: dict[str, Callable[[Any, Mapping[str, Any]], str | None]] = {
    "pagerank": _check_pagerank,
    "single_source_dijkstra_path_length": _check_dijkstra,
    "single_source_shortest_path_length": lambda G, a: _check_cutoff(a),
    "triangles": _check_triangles,
    "clustering": _check_clustering,
    "average_clustering": _check_average_clustering,
}


class BackendInterface:
    """The ``gasengine`` networkx backend (what the ``networkx.backends`` entry point names).

    Attributes are the implemented functions (see ``FUNCTIONS``), the
    conversion hooks ``convert_from_nx`` / ``convert_to_nx``, the graph
    class ``Graph`` (:class:`~gasengine.nxbackend.graph.NxGraph`) and the
    hooks ``can_run`` / ``should_run``.

    Examples
    --------
    >>> import networkx as nx
    >>> backend_interface.can_run("clustering", (nx.path_graph(3),), {"weight": "w"})
    'weighted clustering is not implemented (only unweighted)'
    """

    Graph = NxGraph
    convert_from_nx = staticmethod(convert_from_nx)
    convert_to_nx = staticmethod(convert_to_nx)

    def __init__(self) -> None:
        for name in FUNCTIONS:
            setattr(self, name, getattr(functions, name))
        self._signatures = {name: inspect.signature(getattr(functions, name)) for name in FUNCTIONS}

    def can_run(self, name: str, args: tuple, kwargs: dict) -> bool | str:
        """Whether the backend answers ``name(*args, **kwargs)`` exactly as networkx; else the reason.

        Examples
        --------
        >>> import networkx as nx
        >>> backend_interface.can_run("pagerank", (nx.path_graph(3),), {"alpha": 0.9})
        True
        >>> backend_interface.can_run("pagerank", (nx.path_graph(3),), {"weight": len})
        'weight functions are not supported (only edge attribute names)'
        """
        if name not in self._signatures:
            return f"gasengine does not implement {name}"
        try:
            bound = self._signatures[name].bind(*args, **kwargs)
        except TypeError as exc:
            return f"arguments do not match {name}{self._signatures[name]}: {exc}"
        bound.apply_defaults()
        a = bound.arguments
        unknown = set(a.get("engine_options", {})) - set(functions.ENGINE_OPTIONS)
        if unknown:
            return f"unknown keyword argument(s) {sorted(unknown)}"
        G = a["G"]
        if not hasattr(G, "is_directed") or not hasattr(G, "is_multigraph"):
            return "G is not a graph"
        if name in _UNDIRECTED_ONLY and G.is_directed():
            return f"networkx's {name} of a directed graph is not implemented here"
        if name in _DIRECTED_ONLY and not G.is_directed():
            return f"{name} needs a directed graph (networkx raises)"
        if name in _NO_MULTIGRAPH and G.is_multigraph():
            return f"networkx's {name} refuses multigraphs"
        check = _CHECKS.get(name)
        reason = check(G, a) if check is not None else None
        return True if reason is None else reason

    def should_run(self, name: str, args: tuple, kwargs: dict) -> bool | str:
        """Whether running here is worth it (``can_run`` already said it is possible).

        Examples
        --------
        >>> import networkx as nx
        >>> backend_interface.should_run("triangles", (nx.path_graph(3), 1), {})
        'networkx counts the triangles of one node from its neighbourhood alone'
        """
        if name in ("triangles", "clustering"):
            try:
                bound = self._signatures[name].bind(*args, **kwargs)
            except TypeError:
                return True
            nodes = bound.arguments.get("nodes")
            if nodes is not None and is_node(bound.arguments["G"], nodes):
                return "networkx counts the triangles of one node from its neighbourhood alone"
        return True


backend_interface = BackendInterface()
