"""Weakly connected components by min-label propagation: the textbook GraphLab program.

Each vertex starts with its own number as label.  An active vertex gathers
the minimum label over *all* its edges (direction ignored: weak
connectivity), keeps the smaller of that and its own, and — only if its
label dropped — signals the neighbours whose label is still larger.  When no
vertex is active every vertex carries the smallest vertex number of its
component.  Supersteps grow with the largest component's diameter, so on a
road network or a grid this takes thousands of supersteps: use
:func:`algorithms.connected_components` (pointer jumping, a few dozen) for
answers, and this program to learn from or to compare with.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gasengine import ALL, ConvergenceError, Graph, Result, VertexProgram, rank_zero  # noqa: F401 (ConvergenceError: the examples)


class MinLabelProgram(VertexProgram):
    """Min-label propagation; the label field is ``"component"``.

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> r = run(MinLabelProgram(), Graph([0, 3], [1, 2], num_vertices=5))
    >>> r.field("component").tolist()
    [0, 0, 2, 2, 4]
    """

    gather_edges = ALL
    scatter_edges = ALL
    combine = np.minimum

    def init(self, v):
        v.data["component"] = v.ids.astype(np.int64)

    def gather_nbr(self, u):
        return u.data["component"]

    def apply(self, v, acc):
        label = v.data["component"]
        smaller = np.minimum(label, acc)
        v.data["component"] = smaller
        return smaller < label  # only vertices whose label dropped scatter

    def scatter(self, e):
        return e.nbr_data["component"] > e.vertex_data["component"]


@rank_zero
def min_label_components(
    graph: Graph, *, return_result: bool = False, **engine_options: Any
) -> np.ndarray | tuple[np.ndarray, Result]:
    """Weakly connected component of every vertex, by min-label propagation.

    Parameters
    ----------
    graph : Graph
    return_result : bool
        Also return the engine's :class:`~gasengine.Result`.
    **engine_options
        Passed to :func:`gasengine.run` (``partitions``, ``workers``,
        ``max_supersteps``, ...).

    Returns
    -------
    ndarray of int64
        For every vertex, the smallest vertex number in its component (map it
        through ``graph.original_ids()`` for the original id).

    Raises
    ------
    ConvergenceError
        If ``max_supersteps`` stopped the run while labels were still
        spreading ("min_label_components did not converge within N
        supersteps"); its ``result`` holds the unfinished run, whose labels
        may split a component.

    See Also
    --------
    algorithms.connected_components : the same answer in far fewer supersteps.

    Examples
    --------
    >>> min_label_components(Graph([0, 2], [1, 1], num_vertices=4)).tolist()
    [0, 0, 0, 3]
    >>> try:
    ...     min_label_components(Graph([1, 2], [0, 1]), max_supersteps=1)
    ... except ConvergenceError as exc:
    ...     exc.result.field("component").tolist()  # the unfinished labels
    [0, 0, 1]
    """
    from .connected_components import run_components

    return run_components(
        MinLabelProgram(), graph, "min_label_components", "labels were still spreading", return_result, engine_options
    )
