"""Triangle counting and clustering coefficients, as two vertex programs over neighbour sets.

A *triangle* is three vertices joined pairwise.  :func:`triangles` returns,
per vertex, the number of triangles it belongs to (``networkx.triangles``);
:func:`clustering` and :func:`average_clustering` the share of a vertex's
neighbour pairs that are joined (``networkx.clustering`` and
``networkx.average_clustering``).

Method: neighbour sets, then one intersection per edge
------------------------------------------------------
PowerGraph's own program, in two runs, with the degree ordering of the fast
sequential algorithms (Schank and Wagner's *forward* algorithm):

1. :class:`NeighbourSets` — every vertex *collects* its neighbours' ids
   (``combine = collect``) and stores the sorted set as a ragged vertex
   field ``"nbrs"`` (a :class:`~gasengine.Ragged`).  The sets give the
   simple graph directly (parallel edges and both directions of an arc
   collapse in a set; self-loops are dropped from it), so no sort of the
   edge list is needed.
2. Vertices are ranked by degree (:func:`by_degree` numbers them so before
   step 1) and every edge becomes one arc from its lower-ranked end to its
   higher-ranked one (:func:`oriented_graph`);
   ``"up"`` is the set of a vertex's higher-ranked neighbours, of at most
   ``sqrt(2m)`` values whatever the degree.
3. :class:`TriangleCount` — every arc ``x -> v`` scans ``up(x)`` once
   against ``nbrs(v)``: the hits above ``v`` are the triangles where ``x``
   is the lowest and ``v`` the middle (``|up(x) ∩ up(v)|``), all hits the
   triangles where ``v`` is not the lowest (``|up(x) ∩ nbrs(v)|``); a
   vertex then sums the first over its out-arcs and the second over its
   in-arcs, which counts each of its triangles exactly once.

Cost.  A set is stored once per replica of its vertex and read at the ends
of a chunk of edges by row index, never copied per edge, so memory is
O(edges x replication factor).  :func:`~gasengine.intersection_sizes` marks
the head's set once for all of its in-arcs in a table of flags and scans the
tail's ``up`` set against it: an arc costs the ``up``-degree of its tail (at
most ``sqrt(2m)``), never the degree of a hub, and the whole count costs
``O(m sqrt(m))`` at worst, far less on real graphs (413 million flag reads
on R-MAT scale 18, whose hub has degree 25,152).

Which graph
-----------
Triangles are those of the *simple undirected* graph, as
``../shared/data/README.md`` defines them: arcs are symmetrised (``u -> v``
and ``v -> u`` are one edge), parallel edges count once and self-loops are
dropped.  ``networkx.triangles`` refuses directed graphs; here a directed
:class:`~gasengine.Graph` is symmetrised, the documented conversion, and its
answer is ``networkx.triangles(nx.Graph(G.to_undirected()))``.  The
clustering coefficient of a directed graph is a different quantity in
networkx (Fagiolo's), so :func:`clustering` refuses a directed graph rather
than answer another question: pass ``graph.to_undirected()``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gasengine import (
    ALL,
    IN,
    OUT,
    Graph,
    Ragged,
    Result,
    VertexProgram,
    VertexView,
    collect,
    intersection_sizes,
    rank_zero,
    run,
)
from gasengine import cache as engine_cache
from gasengine.graph import index_dtype
from gasengine.program import EdgeView


class NeighbourSets(VertexProgram):
    """Every vertex stores the sorted set of its neighbours (global numbers) in the field ``"nbrs"``.

    It signals nobody, so a run is one pass over the vertices.  Edges count
    in both directions (``directed=True``, any graph; ``directed=False`` for
    an undirected Graph, whose in-edges already reach every neighbour) and a
    neighbour joined by several edges appears once; a self-loop puts the
    vertex in its own set (:func:`oriented_graph` drops it).

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> run(NeighbourSets(), Graph([0, 0, 1, 1], [1, 2, 2, 0]), max_supersteps=1).field("nbrs").tolist()
    [[1, 2], [0, 2], [0, 1]]
    """

    combine = collect

    def __init__(self, directed: bool = True) -> None:
        # an undirected Graph stores each edge both ways: its in-edges alone reach every neighbour,
        # half the ids to sort
        self.gather_edges = ALL if directed else IN

    def init(self, v: VertexView) -> None:
        # vertex numbers fit 32 bits (Graph's own index type): half the bytes every intersection reads
        v.data["nbrs"] = Ragged.empty(len(v), dtype=index_dtype(v.num_vertices))

    def gather_nbr(self, u: VertexView) -> np.ndarray:
        return u.ids

    def apply(self, v: VertexView, acc: Ragged) -> None:
        v.data["nbrs"] = acc


class TriangleCount(VertexProgram):
    """Per vertex, the triangles it is in (field ``"triangles"``), on :func:`oriented_graph`.

    Reads the ragged fields ``"nbrs"`` (all neighbours) and ``"up"``
    (higher-ranked neighbours).  Two supersteps of the ``sync`` engine (the
    second must see every count of the first):

    1. every arc ``x -> v`` scans ``up(x)`` once against ``nbrs(v)``,
       marked with ``up(v)`` told apart (:func:`~gasengine.intersection_sizes`
       with ``inner=``): the third vertices above both ends are the
       triangles where ``x`` is the lowest (edge field ``"low"``); all third
       vertices are the triangles where ``v`` is not the lowest (``"rest"``).
       A scatter over in-arcs, so one vertex's arcs come together and its
       set is marked once for all of them;
    2. a vertex sums ``"low"`` over its out-arcs and ``"rest"`` over its
       in-arcs: each of its triangles exactly once.

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> g = Graph([0, 0, 1, 2], [1, 2, 2, 3])          # a triangle and a tail
    >>> sets = run(NeighbourSets(), g).field("nbrs")   # any numbering orients correctly
    >>> run(TriangleCount(), oriented_graph(g, sets)).field("triangles").tolist()
    [1, 1, 1, 0]
    """

    gather_edges = ALL
    scatter_edges = IN
    master_fields = ("triangles",)  # the answer: read from the masters only

    def init(self, v: VertexView) -> None:
        v.data["triangles"] = np.zeros(len(v), dtype=np.int64)

    def init_edges(self, e: EdgeView) -> None:
        e.data["low"] = np.zeros(len(e), dtype=np.int64)
        e.data["rest"] = np.zeros(len(e), dtype=np.int64)

    def gather(self, e: EdgeView) -> np.ndarray:
        if e.superstep == 1:  # the first superstep: nothing counted yet
            return np.zeros(len(e), dtype=np.int64)
        return e.data["low" if e.direction is OUT else "rest"]

    def apply(self, v: VertexView, acc: np.ndarray) -> np.ndarray:
        if v.superstep == 1:
            v.signal(np.ones(len(v), dtype=bool))  # every vertex sums its arcs' counts next
            return np.ones(len(v), dtype=bool)
        v.data["triangles"] = acc
        return np.zeros(len(v), dtype=bool)

    def scatter(self, e: EdgeView) -> None:  # over in-arcs x -> v: e.vertex is v, e.nbr is x
        rest, low = intersection_sizes(
            e.vertex_data["nbrs"], e.nbr_data["up"], bound=e.num_vertices, inner=e.vertex_data["up"]
        )
        e.data["low"], e.data["rest"] = low, rest


def by_degree(graph: Graph) -> tuple[Graph, np.ndarray]:
    """``graph``'s arcs, without fields, with vertices renumbered by ascending degree (ties by number).

    Returns the renumbered graph (original ids kept, in the new order) and
    ``order``: new vertex ``i`` is old vertex ``order[i]``.  Numbering by
    degree makes "higher-ranked" mean "higher number", so the sets are
    oriented by one comparison, and the few high-degree vertices that most
    ``up`` sets hold sit together in the marking table.

    Examples
    --------
    >>> g, order = by_degree(Graph([0, 0, 0, 1], [1, 2, 3, 2]))
    >>> order.tolist(), sorted(zip(g.src.tolist(), g.dst.tolist()))
    ([3, 1, 2, 0], [(1, 2), (3, 0), (3, 1), (3, 2)])
    """
    n = graph.num_vertices
    degree = np.bincount(graph.src, minlength=n) + np.bincount(graph.dst, minlength=n)
    order = np.argsort(degree, kind="stable")
    new = np.empty(n, dtype=graph.src.dtype)
    new[order] = np.arange(n, dtype=graph.src.dtype)
    ids = graph.original_ids()[order]
    return Graph.from_arcs(new[graph.src], new[graph.dst], n, ids=ids, directed=graph.directed), order


def oriented_graph(graph: Graph, sets: Ragged) -> Graph:
    """The simple graph of ``sets`` (neighbour sets), one arc per edge from the lower-ranked end.

    Vertices rank by number (:func:`by_degree` numbers them by degree), so
    every edge becomes the arc from its lower number to its higher one.  The
    result keeps ``graph``'s vertices and ids and carries the ragged vertex
    fields ``"nbrs"`` (the sets without self-loops) and ``"up"`` (each
    vertex's arc heads, sorted).  Arcs are stored grouped by their head, so
    a scatter over in-arcs in storage order meets each vertex's arcs
    together.  Vectorised: one pass over the sets.

    Examples
    --------
    >>> g = Graph([0, 1, 1, 2], [1, 0, 1, 0])          # 0->1, 1->0, a loop at 1, 2->0
    >>> o = oriented_graph(g, Ragged.from_lists([[1, 2], [0, 1], [0]]))
    >>> list(zip(o.src.tolist(), o.dst.tolist())), o.vertex_data["up"].tolist()
    ([(0, 1), (0, 2)], [[1, 2], [], []])
    """
    n = graph.num_vertices
    rows, values = sets.rows(), sets.values
    keep = values != rows
    full = _rows_of(rows[keep], values[keep], n)
    rows, values = rows[keep], values[keep]
    up, down = values > rows, values < rows
    dtype = graph.src.dtype
    out = Graph(values[down].astype(dtype), rows[down].astype(dtype), num_vertices=n, ids=graph.ids, directed=True)
    out.set_vertex_field("nbrs", full)
    out.set_vertex_field("up", _rows_of(rows[up], values[up], n))
    return out


def _rows_of(rows: np.ndarray, values: np.ndarray, n: int) -> Ragged:
    """A Ragged of ``n`` rows from values already grouped by ascending row."""
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=ptr[1:])
    return Ragged(ptr, values)


@rank_zero
def triangles(
    graph: Graph, *, return_result: bool = False, **engine_options: Any
) -> np.ndarray | tuple[np.ndarray, Result]:
    """The number of triangles at every vertex, as ``networkx.triangles``.

    Parameters
    ----------
    graph : Graph
        Read as the simple undirected graph (see the module docstring): a
        directed graph is symmetrised, parallel edges count once, self-loops
        are dropped.
    return_result : bool
        Also return the :class:`~gasengine.Result` of the counting run.  It
        runs on the graph renumbered by degree (:func:`by_degree`), so use
        ``result.field("triangles", by_id=True)`` (keyed by original ids);
        the ragged fields ``"nbrs"`` and ``"up"`` hold the neighbour sets.
    **engine_options
        Passed to both :func:`gasengine.run` calls (``partitions``,
        ``workers``, ``backend``, ``engine`` ...).  Every number of parts and
        workers gives the same counts.  The oriented graph the neighbour
        sets give is kept in the graph's engine cache, like a cut, so a
        later count of the same graph runs the counting program alone
        (``cache=False`` builds it again).

    Returns
    -------
    ndarray of int64
        Triangles per vertex; ``triangles(g).sum() // 3`` is the total.

    Examples
    --------
    >>> from gasengine import Graph
    >>> k4 = Graph([0, 0, 0, 1, 1, 2], [1, 2, 3, 2, 3, 3], directed=False)
    >>> triangles(k4).tolist()
    [3, 3, 3, 3]
    >>> triangles(Graph([0, 1, 2, 1], [1, 2, 0, 0])).tolist()   # directed arcs, symmetrised
    [1, 1, 1]
    """
    counts, _, result = _count(graph, engine_options)
    return (counts, result) if return_result else counts


def _count(graph: Graph, engine_options: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, Result]:
    """Triangles and simple-graph degree of every vertex (in ``graph``'s numbering), and the counting run."""
    if not isinstance(graph, Graph):
        raise TypeError(f"expected a gasengine.Graph, got {type(graph).__name__} (Graph.from_networkx converts)")
    for option in ("max_supersteps", "max_updates", "active"):
        if option in engine_options:
            raise TypeError(f"triangle counting runs a fixed number of supersteps; it takes no {option!r}")

    def oriented() -> tuple[Graph, np.ndarray]:
        ranked, order = by_degree(graph)
        # neither program signals, so each updates every vertex once, on every engine
        collected = run(NeighbourSets(directed=graph.directed), ranked, **engine_options)
        assert collected is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
        return oriented_graph(ranked, collected.field("nbrs")), order

    # the oriented graph (renumbered by degree, its neighbour sets as fields) is structure, like a cut:
    # kept with the graph, its own cut and layouts with it, for the next count, unless the caller
    # turned the engine's cache off
    if engine_options.get("cache", True):
        counted_on, order = engine_cache.open_cache(graph).get(("triangles", "oriented"), oriented)
    else:
        counted_on, order = oriented()
    # the counting run's two supersteps are phases: synchronous whatever engine collected the sets
    counting = {
        k: v for k, v in engine_options.items() if k not in ("engine", "consistency", "scheduler", "batch_size")
    }
    result = run(TriangleCount(), counted_on, engine="sync", **counting)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    counts, degree = np.empty(graph.num_vertices, dtype=np.int64), np.empty(graph.num_vertices, dtype=np.int64)
    counts[order] = result.field("triangles")
    degree[order] = result.field("nbrs").sizes()
    return counts, degree, result


@rank_zero
def clustering(graph: Graph, **engine_options: Any) -> np.ndarray:
    """The clustering coefficient of every vertex, as ``networkx.clustering`` (unweighted).

    ``c(v) = 2 T(v) / (deg(v) (deg(v) - 1))`` with ``T(v)`` the triangles at
    ``v`` and ``deg`` the degree in the simple graph; 0 where ``deg < 2``.

    Parameters
    ----------
    graph : Graph
        Undirected (``directed=False``); parallel edges count once and
        self-loops are ignored, as in ``networkx.clustering``.
    **engine_options
        As for :func:`triangles`.

    Returns
    -------
    ndarray of float64

    Raises
    ------
    ValueError
        For a directed graph: networkx's directed clustering is another
        measure; pass ``graph.to_undirected()`` for the undirected one.

    Examples
    --------
    >>> from gasengine import Graph
    >>> g = Graph([0, 0, 0, 1], [1, 2, 3, 2], directed=False)   # a triangle with a pendant at 0
    >>> clustering(g).round(4).tolist()
    [0.3333, 1.0, 1.0, 0.0]
    """
    if isinstance(graph, Graph) and graph.directed:
        raise ValueError(
            "clustering: the graph is directed; networkx's clustering of a directed graph is "
            "another measure (Fagiolo's). Pass graph.to_undirected() for the undirected coefficient"
        )
    counts, degree, _ = _count(graph, engine_options)
    degree = degree.astype(np.float64)
    pairs = degree * (degree - 1)
    out = np.zeros(counts.size, dtype=np.float64)
    np.divide(2.0 * counts, pairs, out=out, where=pairs > 0)
    return out


@rank_zero
def average_clustering(graph: Graph, *, count_zeros: bool = True, **engine_options: Any) -> float:
    """The mean clustering coefficient, as ``networkx.average_clustering``.

    Parameters
    ----------
    graph : Graph
        Undirected (see :func:`clustering`).
    count_zeros : bool
        False: average only over vertices with a nonzero coefficient.

    Examples
    --------
    >>> from gasengine import Graph
    >>> g = Graph([0, 0, 0, 1], [1, 2, 3, 2], directed=False)
    >>> round(average_clustering(g), 4), round(average_clustering(g, count_zeros=False), 4)
    (0.5833, 0.7778)
    """
    c = clustering(graph, **engine_options)
    if not count_zeros:
        c = c[c > 0]
    return float(c.mean()) if c.size else 0.0
