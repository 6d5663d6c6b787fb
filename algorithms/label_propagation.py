"""Label propagation communities: every vertex takes the label most frequent among its neighbours.

Each vertex starts with its own number as label.  An update counts its
neighbours' labels (``combine = count_by_key``) and applies the *Prec-Max*
rule of Cordasco and Gargano, as ``networkx.label_propagation_communities``
does: a vertex keeps its label if it is among the most frequent ones, and
otherwise takes the largest of the most frequent.  A vertex whose label
changed signals its neighbours; the run ends when no label changes — every
vertex then holds one of its most frequent labels, networkx's stopping rule.

Two variants, chosen by the engine:

* **semi-synchronous** (the default: ``engine="chromatic"``,
  ``consistency="edge"``): the colour classes of a distance-1 colouring
  update in turn, so neighbours never update together.  This is networkx's
  algorithm (its colouring is a different greedy one, so its communities
  can differ in detail) and it always terminates (Cordasco and Gargano);
* **synchronous** (``engine="sync"``): every vertex updates at once from the
  previous labels — the original algorithm of Raghavan et al., which can
  oscillate (two neighbours swapping labels for ever, on a bipartite graph),
  so ``max_iter`` bounds it and the last labels are returned.

The graph is read as undirected: edges count in both directions, parallel
edges with their multiplicity and self-loops as a vertex's own vote (networkx
reads a simple graph; on the ones without parallel edges or loops the counts
are the same up to a factor two, which changes no decision).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gasengine import (
    ALL,
    IN,
    OUT,
    ConvergenceError,
    Graph,
    Result,
    VertexProgram,
    count_by_key,
    rank_zero,
    run,
)


class LabelPropagationProgram(VertexProgram):
    """Label propagation with the Prec-Max rule; the label field is ``"label"``.

    Parameters
    ----------
    directed : bool
        True (default): edges count in both directions (``ALL``), right for
        any graph.  False: the graph is an undirected Graph (each edge stored
        both ways), so in-edges reach every neighbour once (``IN``/``OUT``):
        the same labels for half the work.  :func:`label_propagation` passes
        ``graph.directed``.

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> two_triangles = Graph([0, 1, 2, 3, 4, 5, 2], [1, 2, 0, 4, 5, 3, 3], directed=False)
    >>> labels = run(LabelPropagationProgram(), two_triangles, engine="chromatic").field("label")
    >>> bool(labels[0] == labels[1] == labels[2] != labels[3] == labels[4] == labels[5])
    True
    """

    combine = count_by_key

    def __init__(self, directed: bool = True) -> None:
        # An undirected Graph stores every edge as two arcs: in-edges alone reach each neighbour
        # once, half the keys to count (the counts of every label halve, so no decision changes).
        self.directed = bool(directed)
        self.gather_edges = ALL if directed else IN
        self.scatter_edges = ALL if directed else OUT

    def init(self, v):
        v.data["label"] = v.ids.astype(np.int64)

    def gather_nbr(self, u):
        return u.data["label"]

    def apply(self, v, acc):
        own = v.data["label"]
        keep = (acc.sizes() == 0) | (acc.weight_of(own) == acc.max_weight())  # Prec: own label if among the top
        label = np.where(keep, own, acc.argmax(default=own, tie="largest"))  # ... else Max
        v.data["label"] = label
        return label != own  # only a change tells the neighbours

    def signal_nbrs(self, v):
        return np.ones(len(v), dtype=bool)


@rank_zero
def label_propagation(
    graph: Graph, *, max_iter: int = 1000, return_result: bool = False, **engine_options: Any
) -> np.ndarray | tuple[np.ndarray, Result]:
    """Community label of every vertex by label propagation (see the module docstring).

    Parameters
    ----------
    graph : Graph
        Read as undirected.
    max_iter : int
        Budget of sweeps (semi-synchronous) or supersteps (synchronous).
    return_result : bool
        Also return the engine's :class:`~gasengine.Result`.
    **engine_options
        Passed to :func:`gasengine.run`; default ``engine="chromatic"``,
        ``consistency="edge"`` (the semi-synchronous variant).

    Returns
    -------
    ndarray of int64
        For every vertex, the vertex number whose label its community
        carries (``communities(labels)`` gives the sets).

    Raises
    ------
    ConvergenceError
        If the semi-synchronous run did not settle within ``max_iter``
        sweeps.  The synchronous variant may oscillate for ever, so it
        returns its last labels instead (``result.converged`` says which).

    Examples
    --------
    >>> g = Graph([0, 1, 2, 3, 4, 5, 2], [1, 2, 0, 4, 5, 3, 3], directed=False)
    >>> sorted(map(sorted, communities(label_propagation(g))))
    [[0, 1, 2], [3, 4, 5]]
    """
    engine_options.setdefault("engine", "chromatic")
    if engine_options["engine"] == "chromatic":
        engine_options.setdefault("consistency", "edge")
    result = run(LabelPropagationProgram(directed=graph.directed), graph, max_supersteps=max_iter, **engine_options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    if not result.converged and engine_options["engine"] != "sync" and graph.num_vertices:
        raise ConvergenceError(f"label_propagation did not settle within {max_iter} steps", result=result)
    labels = result.field("label")
    return (labels, result) if return_result else labels


def communities(labels: np.ndarray) -> list[set[int]]:
    """The communities of a labelling, as networkx returns them: a set of vertex numbers per label.

    Examples
    --------
    >>> communities(np.array([5, 5, 2]))
    [{2}, {0, 1}]
    """
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return [set(group.tolist()) for group in np.split(order, bounds)] if labels.size else []
