"""Weakly connected components by hooking and pointer jumping (FastSV).

Every vertex keeps a *parent*, a vertex number; at first its own.  Parents
only ever decrease.  Every superstep, with ``m`` the smallest grandparent
among a vertex's neighbours,

* the vertex hooks its parent onto that tree: the parent's parent becomes at
  most ``m`` (stochastic hooking — a write to a vertex that is not a
  neighbour);
* the vertex itself takes the smallest of its parent, ``m`` (aggressive
  hooking) and its own grandparent (pointer jumping, or shortcutting);

until a superstep changes no parent.  Then parents are constant on each
component and equal to its smallest vertex number: the minimum is its own
parent for ever, and at the fixed point a vertex's parent equals its
neighbours' and its own grandparent.  This is FastSV (Zhang, Azad and Hu,
2020), after Shiloach and Vishkin.

The grandparent is read, and the parent written, although the parent is not
a neighbour: the program declares them as ``pointer_reads`` and
``pointer_writes``, which the engine serves on every backend.  Hooking
whole trees and pointer jumping let labels cross the graph in a number of
supersteps that follows the logarithm of the diameter, not the diameter
(min-label propagation, kept as :func:`algorithms.min_label_components`,
needs 1,999 supersteps on a 1000 x 1000 grid; this needs about a dozen).
Without the hooking of parents a label still crosses a large tree one hop
per superstep: on a 500,000-vertex road-like graph that took 532 supersteps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gasengine import ALL, IN, Aggregator, ConvergenceError, Graph, Result, VertexProgram, rank_zero, run


class ConnectedComponentsProgram(VertexProgram):
    """Hooking and pointer jumping; the label field is ``"component"`` (the parent).

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> r = run(ConnectedComponentsProgram(), Graph([0, 3], [1, 2], num_vertices=5))
    >>> r.field("component").tolist()
    [0, 0, 2, 2, 4]
    """

    gather_edges = ALL
    combine = np.minimum
    master_fields = ("changed",)  # the sync operation's input: masters only
    pointer_reads = {"grandparent": ("component", "component")}
    pointer_writes = {"component": ("hook_to", "offer", np.minimum)}  # hooking: my parent's parent <= offer
    aggregators = (Aggregator("changed", lambda v: v.data["changed"]),)

    def __init__(self, directed: bool = True):
        # An undirected graph stores each edge both ways, so its in-edges
        # already reach every neighbour: one pass over the edges, not two.
        self.gather_edges = ALL if directed else IN

    def init(self, v):
        labels = np.dtype(np.int32) if v.num_vertices <= np.iinfo(np.int32).max else np.dtype(np.int64)
        v.data["component"] = v.ids.astype(labels)  # int32 when it fits: half the memory traffic
        v.data["grandparent"] = v.ids.astype(labels)
        v.data["hook_to"] = v.ids.astype(labels)
        v.data["offer"] = v.ids.astype(labels)
        v.data["changed"] = np.zeros(len(v), dtype=np.int64)

    def gather_nbr(self, u):
        return u.data["grandparent"]  # hook onto the smallest tree next door

    def apply(self, v, acc):
        parent, grandparent = v.data["component"], v.data["grandparent"]
        v.data["hook_to"] = parent  # after this step, the old parent takes ...
        # ... at most the smallest grandparent next door, if that is smaller
        # than its own parent (the largest label is no offer: nothing travels)
        v.data["offer"] = np.where(acc < grandparent, acc, np.iinfo(parent.dtype).max)
        best = np.minimum(np.minimum(parent, acc), grandparent)
        v.data["changed"] = best != parent
        v.data["component"] = best
        v.signal()  # a vertex may change again whenever a neighbour's tree does

    def converged(self, globals: Mapping[str, Any]) -> bool:
        return globals["changed"] == 0


@rank_zero
def connected_components(
    graph: Graph, *, return_result: bool = False, **engine_options: Any
) -> np.ndarray | tuple[np.ndarray, Result]:
    """Weakly connected component of every vertex.

    Parameters
    ----------
    graph : Graph
    return_result : bool
        Also return the engine's :class:`~gasengine.Result`.
    **engine_options
        Passed to :func:`gasengine.run` (``partitions``, ``workers``,
        ``max_supersteps``, ``engine``, ...).  Pointer jumping needs every
        vertex to take every step, so with ``engine="async"`` the program is
        min-label propagation (:class:`~algorithms.MinLabelProgram`), whose
        vertices only run when a neighbour's label dropped.

    Returns
    -------
    ndarray of int32 (int64 beyond 2**31 vertices)
        For every vertex, the smallest vertex number in its component (map it
        through ``graph.original_ids()`` for the original id): the same
        labels as :func:`algorithms.min_label_components`, in far fewer
        supersteps.

    Raises
    ------
    ConvergenceError
        If ``max_supersteps`` stopped the run while parents were still
        changing ("connected_components did not converge within N
        supersteps"); its ``result`` holds the unfinished run, whose labels
        may split a component.

    Examples
    --------
    >>> connected_components(Graph([0, 2], [1, 1], num_vertices=4)).tolist()
    [0, 0, 0, 3]
    >>> path = Graph(range(1, 64), range(63))            # 63 -> 62 -> ... -> 0
    >>> labels, result = connected_components(path, return_result=True)
    >>> int(labels.max()), result.supersteps              # min-label needs 63
    (0, 7)
    """
    if engine_options.get("engine") == "async":
        from .min_label import MinLabelProgram

        return run_components(
            MinLabelProgram(),
            graph,
            "connected_components",
            "labels were still spreading",
            return_result,
            engine_options,
        )
    return run_components(
        ConnectedComponentsProgram(directed=graph.directed),
        graph,
        "connected_components",
        "parents were still changing",
        return_result,
        engine_options,
    )


def run_components(
    program: VertexProgram,
    graph: Graph,
    name: str,
    unfinished: str,
    return_result: bool,
    engine_options: dict[str, Any],
) -> np.ndarray | tuple[np.ndarray, Result]:
    """Run a components program; its labels (and the Result), or ConvergenceError saying ``unfinished``."""
    result = run(program, graph, **engine_options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    if not result.converged:
        raise ConvergenceError(
            f"{name} did not converge within {result.supersteps} supersteps ({unfinished})", result=result
        )
    labels = result.field("component")
    return (labels, result) if return_result else labels
