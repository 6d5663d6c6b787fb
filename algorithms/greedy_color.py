"""Greedy graph colouring (GraphLab's colouring program): the consistency study's textbook case.

Every vertex starts with colour 0.  An update gathers, over all its edges,
which colours its neighbours hold, and whether a neighbour shares its own
colour; a vertex that shares its colour with a *smaller-numbered* neighbour
moves to the smallest colour no neighbour holds, and a vertex that moved
(or still shares its colour with a larger neighbour) signals the neighbours
that share its colour, so they look again.

Under edge (or full) consistency an update sees its neighbours as they are
and no neighbour changes meanwhile, so a vertex only ever moves to a free
colour: the colouring is proper when the scheduler runs dry, and each
vertex runs about once.  Under vertex consistency two neighbours updated in
the same round can both take the same free colour — a data race, counted
as a conflict — and both then signal each other; the smaller-number rule
makes the pair settle (only the larger moves), so the program repairs its
own races and ends with a proper colouring too, after more updates.  The
function checks the final colouring edge by edge and raises if it is not
proper (it is only when ``max_supersteps`` stopped the run early).

Colours are found 64 at a time: a neighbour's colour is one bit of a
64-bit word relative to the vertex's ``base``; a vertex whose 64 colours
are all taken moves its window up (``base += 64``) and tries again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gasengine import ALL, ConvergenceError, Graph, Result, VertexProgram, rank_zero, run

_ONE = np.uint64(1)


class GreedyColorProgram(VertexProgram):
    """Greedy colouring by local repair; fields ``color`` (int64) and ``base`` (its 64-colour window).

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> r = run(GreedyColorProgram(), Graph([0, 1, 2], [1, 2, 0]), engine="async", consistency="edge")
    >>> sorted(r.field("color").tolist())
    [0, 1, 2]
    """

    gather_edges = ALL
    scatter_edges = ALL
    combine = np.bitwise_or

    def init(self, v):
        v.data["color"] = np.zeros(len(v), dtype=np.int64)
        v.data["base"] = np.zeros(len(v), dtype=np.int64)

    def gather(self, e):
        mine, theirs = e.vertex_data["color"], e.nbr_data["color"]
        other = e.nbr != e.vertex  # a self-loop is no neighbour
        offset = theirs - e.vertex_data["base"]
        inside = other & (offset >= 0) & (offset < 64)
        taken = np.where(inside, _ONE << np.clip(offset, 0, 63).astype(np.uint64), np.uint64(0))
        same = other & (theirs == mine)
        flags = (same & (e.nbr < e.vertex)).astype(np.uint64) | ((same & (e.nbr > e.vertex)).astype(np.uint64) << _ONE)
        return np.stack([taken, flags], axis=1)

    def apply(self, v, acc):
        taken, flags = acc[:, 0], acc[:, 1]
        move = (flags & _ONE) != 0  # shares its colour with a smaller neighbour
        free = ~taken
        lowest = free & (~free + _ONE)  # the lowest free colour of the window, as a bit
        slot = np.log2(np.where(lowest == 0, _ONE, lowest).astype(np.float64)).astype(np.int64)
        color, base = v.data["color"], v.data["base"]
        full = move & (free == 0)
        moved = move & ~full
        v.data["color"] = np.where(moved, base + slot, color)
        v.data["base"] = np.where(full, base + 64, base)
        v.signal(full)  # every colour of the window is taken: look again, 64 colours up
        return moved | ((flags & (_ONE << _ONE)) != 0)

    def scatter(self, e):
        return (e.vertex_data["color"] == e.nbr_data["color"]) & (e.nbr != e.vertex)


def conflicting_edges(graph: Graph, color: np.ndarray) -> int:
    """Edges (self-loops excluded) whose two ends share a colour.

    Examples
    --------
    >>> conflicting_edges(Graph([0, 1], [1, 2]), np.array([0, 0, 1]))
    1
    """
    return int(np.count_nonzero((color[graph.src] == color[graph.dst]) & (graph.src != graph.dst)))


@rank_zero
def greedy_color(
    graph: Graph, *, return_result: bool = False, **engine_options: Any
) -> np.ndarray | tuple[np.ndarray, Result]:
    """A proper vertex colouring, found by local repair (like ``networkx.greedy_color``'s answer:
    adjacent vertices differ; the number of colours is at most the largest degree + 1).

    Parameters
    ----------
    graph : Graph
        Edges count in both directions; self-loops are ignored.
    return_result : bool
        Also return the engine's :class:`~gasengine.Result` (its ``conflicts``
        count the races of a ``consistency="vertex"`` run).
    **engine_options
        Passed to :func:`gasengine.run`; the default is the asynchronous
        engine under edge consistency (``engine="async"``,
        ``consistency="edge"``, ``scheduler="fifo"``).  Every engine and
        model gives a proper colouring; ``"vertex"`` and the synchronous
        engine get there through repaired races.

    Returns
    -------
    ndarray of int64
        The colour of every vertex, ``0..C-1``.

    Raises
    ------
    ConvergenceError
        If ``max_supersteps`` stopped the run with conflicting edges left
        (the message counts them; ``result`` holds the run).

    Examples
    --------
    >>> from gasengine import Graph
    >>> cycle = Graph([0, 1, 2, 3, 4], [1, 2, 3, 4, 0])
    >>> color = greedy_color(cycle)
    >>> conflicting_edges(cycle, color), int(color.max()) + 1
    (0, 3)
    """
    engine_options.setdefault("engine", "async")
    if engine_options["engine"] == "async":
        engine_options.setdefault("consistency", "edge")
    result = run(GreedyColorProgram(), graph, **engine_options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    color = result.field("color")
    bad = conflicting_edges(graph, color)
    if bad:
        raise ConvergenceError(
            f"greedy_color stopped after {result.supersteps} steps with {bad} conflicting edges", result=result
        )
    return (color, result) if return_result else color
