"""The ``gasengine`` networkx backend: ``nx.pagerank(G, backend="gasengine")`` runs on the engine.

Registered through two entry points (``pyproject.toml``):

* ``networkx.backends``: ``gasengine = "gasengine.nxbackend:backend_interface"``,
  the object with the functions, the conversions and the ``can_run`` /
  ``should_run`` hooks (:mod:`gasengine.nxbackend.interface`);
* ``networkx.backend_info``: ``gasengine = "gasengine.nxbackend:get_info"``,
  what networkx lists in its docstrings and the backend's configuration
  (``nx.config.backends.gasengine``).

Use it per call (``backend="gasengine"``), for a whole program
(``NETWORKX_BACKEND_PRIORITY=gasengine``, or
``nx.config.backend_priority = ["gasengine"]``; networkx then runs its own
implementation wherever the backend declines), or on a converted graph
(``nx.pagerank(NxGraph.from_networkx(G))``).  See ``docs/networkx.md``.

Examples
--------
>>> import networkx as nx
>>> G = nx.karate_club_graph()
>>> a, b = nx.pagerank(G, backend="gasengine"), nx.pagerank(G)
>>> max(abs(a[v] - b[v]) for v in G) < 1e-9
True
"""

from __future__ import annotations

from typing import Any

__all__ = ["NxGraph", "backend_interface", "get_info"]

_ADDITIONAL_PARAMETERS = {
    "workers : int, optional": "Worker count for gasengine.run (default nx.config.backends.gasengine.workers).",
    "partitions : int, optional": "Number of edge partitions (default nx.config.backends.gasengine.partitions).",
    'engine_backend : {"local", "multiprocess", "mpi"}, optional': (
        "gasengine.run's backend (default nx.config.backends.gasengine.engine_backend)."
    ),
}

_DOCS = {
    "pagerank": "Power iteration as a vertex program: the same iterations and stopping rule as networkx. "
    "Falls back to networkx for negative or non-numeric weights and for negative (or, for nstart and "
    "dangling, zero-sum) personalization/nstart/dangling values.",
    "connected_components": "Hooking and pointer jumping (FastSV).",
    "number_connected_components": "Hooking and pointer jumping (FastSV).",
    "is_connected": "Hooking and pointer jumping (FastSV).",
    "weakly_connected_components": "Hooking and pointer jumping (FastSV).",
    "number_weakly_connected_components": "Hooking and pointer jumping (FastSV).",
    "is_weakly_connected": "Hooking and pointer jumping (FastSV).",
    "single_source_shortest_path_length": "Breadth-first supersteps from the source.",
    "single_source_dijkstra_path_length": "Delta-stepping. Falls back to networkx for weight functions "
    "and negative or infinite weights.",
    "label_propagation_communities": "Semi-synchronous label propagation on the chromatic engine, with "
    "networkx's colouring. Falls back to networkx for graphs with self-loops.",
    "triangles": "Neighbour sets, then one sorted-set intersection per degree-oriented edge.",
    "clustering": "From triangle counts. Unweighted, undirected, not multigraphs; otherwise networkx runs.",
    "average_clustering": "From triangle counts. Unweighted, undirected, not multigraphs; otherwise networkx runs.",
    "core_number": "peeling in degree buckets (h-index iterations for small graphs and the other engines).",
}


def get_info() -> dict[str, Any]:
    """What networkx needs to know about the backend (the ``networkx.backend_info`` entry point).

    Examples
    --------
    >>> info = get_info()
    >>> info["backend_name"], "pagerank" in info["functions"]
    ('gasengine', True)
    """
    return {
        "backend_name": "gasengine",
        "project": "gasengine",
        "package": "gasengine",
        "short_summary": "Graph-parallel gather-apply-scatter engine (GraphLab/PowerGraph style).",
        "functions": {
            name: {"additional_docs": doc, "additional_parameters": dict(_ADDITIONAL_PARAMETERS)}
            for name, doc in _DOCS.items()
        },
        "default_config": {"workers": None, "partitions": None, "engine_backend": None},
    }


def __getattr__(name: str) -> Any:
    # networkx imports backend_info while networkx itself is being imported: load the
    # interface (and algorithms) only when networkx loads the backend.
    if name == "backend_interface":
        from .interface import backend_interface

        return backend_interface
    if name == "NxGraph":
        from .graph import NxGraph

        return NxGraph
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
