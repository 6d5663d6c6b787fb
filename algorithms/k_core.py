"""k-core decomposition: the core number of every vertex, by peeling or by h-index iterations.

The *k-core* of a graph is its largest subgraph in which every vertex has
degree at least ``k``; the *core number* of a vertex is the largest ``k``
whose k-core holds it.  :func:`core_number` returns what
``networkx.core_number`` returns.

Two methods
-----------
**Peeling** (the default on the ``sync`` engine for graphs of 300,000
edges or more) is Batagelj and
Zaversnik's algorithm — what networkx and igraph run — in rounds, as
Julienne (Dhulipala, Blelloch and Shun 2017) runs it in parallel: the
vertices of the lowest remaining degree ``k`` are removed together, their
removal lowers their neighbours' degrees, and a neighbour left with degree
``<= k`` goes at the same level; the core number of a vertex is the level
that removes it.  As a vertex program (:class:`CorePeelingProgram`):

* every vertex waits in the engine's priority buckets (``bucket_width = 1``)
  at its remaining degree, so each superstep of a *level* runs the lowest
  bucket — no global counter, no scan of the graph for it;
* a vertex that goes pushes to its neighbours through ``nbr_writes``: one
  lost neighbour (``lost += 1``) and its level (``floor = max(floor,
  level)``), folded by the engine over its own edges only, and signals them;
* a signalled vertex runs at once (a *cascade* step): it goes if its
  remaining degree is ``<= floor`` — a neighbour just removed at level
  ``floor`` left it there, so it belongs to that level — else it waits at
  its new degree.  A vertex whose bucket comes up goes at level
  ``max(degree, floor)``.

Each edge carries at most one push (from whichever end goes first) and each
vertex decides a handful of times, so the work is O(m) plus one superstep per level and
cascade: on R-MAT 18 (3.8M edges, largest core 373) 548 supersteps, 1.5M
vertex updates and at most one push per edge (``nbr_cond`` stops the pushes
to vertices already removed).

**h-index iterations** (``method="h-index"``, and on the ``chromatic``
and ``async`` engines): every vertex starts with its degree and repeatedly
replaces its value by the *h-index* of its neighbours' values: the largest
``h`` such that at least ``h`` neighbours have a value ``>= h`` (Lü, Zhou,
Zhang and Stanley 2016; Montresor, De Pellegrini and Miorandi 2013).
Values never rise and never fall below the core number (the core number is
a lower fixed point of the operator and the operator is monotone), and at
the fixed point the vertices of value ``>= k`` form a subgraph of minimum
degree ``k``, so the values end exactly at the core numbers.  A vertex
whose value dropped from ``old`` to ``new`` signals the neighbours it
stopped supporting — those holding a value ``c`` with ``new < c <= old``,
the only ones whose count of neighbours ``>= c`` fell — and the run ends
when no value drops.  A vertex gathers its neighbours' values with
``combine = count_by_key`` and takes the h-index of its
:class:`~gasengine.KeyCounts` row in one compiled pass (:func:`h_index`).

Why two?  The h-index rule is local and monotone, correct however updates
are ordered and whichever stale values they read, so it runs unchanged
under every engine and consistency model; peeling needs the buckets' order,
which only the synchronous engine keeps.  But every signalled vertex
re-gathers its whole neighbourhood, and a hub's value falls a little per
step: on R-MAT 18 the h-index run gathers 66M arcs (8.7 times the graph)
in 34 supersteps and takes 3 to 4 times as long as peeling.

Which graph
-----------
The core numbers are those of the *simple* graph networkx would build from
the same edges, with self-loops dropped:

* **undirected** :class:`~gasengine.Graph` (``directed=False``): parallel
  edges count once, as in ``nx.Graph``.  (``networkx.core_number`` refuses
  multigraphs; the answer here is that of ``nx.Graph(edges)``.)
* **directed** Graph: networkx's directed definition — the degree is
  in-degree plus out-degree of the simple ``nx.DiGraph`` (parallel arcs
  ``u -> v`` count once), so a neighbour joined by both ``u -> v`` and
  ``v -> u`` counts twice.  For the cores of the undirected graph the arcs
  describe (arcs symmetrised, as for triangle counting), pass
  ``graph.to_undirected()``: an undirected data set stored with every edge
  both ways (SNAP's CA-GrQc) loaded as directed would otherwise get every
  core number doubled — exactly what networkx says for that DiGraph.
* **self-loops** are ignored (``networkx.core_number`` raises on them; the
  answer here is networkx's after ``G.remove_edges_from(nx.selfloop_edges(G))``).

:func:`core_number` therefore first rewrites the graph, once and vectorised
(one ``np.unique`` over packed pairs), into :func:`simple_arcs`: one arc per
distinct pair (ordered pairs for a directed graph, unordered for an
undirected one), no loops.  The program then gathers over all edges of that
arc list, so every arc counts once at each end.

Either program run directly on a multigraph computes the *multigraph*
core numbers (degree with multiplicity: a neighbour counts once per edge).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from gasengine import (
    ALL,
    IN,
    OUT,
    ConvergenceError,
    EdgeView,
    Graph,
    KeyCounts,
    Result,
    VertexProgram,
    VertexView,
    count_by_key,
    rank_zero,
    run,
)
from gasengine import cache as engine_cache
from gasengine.execution import did_you_mean
from gasengine.graph import first_of_each_pair


class CoreNumberProgram(VertexProgram):
    """h-index iterations to the core number; the field is ``"core"`` (int64).

    Parameters
    ----------
    directed : bool
        True (default): every stored arc counts once at each of its ends
        (gather and signal over ``ALL`` edges; the start value is in-degree
        plus out-degree) — right for a directed graph and for the arc list
        :func:`simple_arcs` builds.  False: the graph is an undirected
        :class:`~gasengine.Graph`, whose every edge is stored as two arcs,
        so in-edges alone reach each neighbour once (``IN``/``OUT``).  Pass
        ``directed=graph.directed``.  Self-loops are not special-cased: run
        on a graph without them (:func:`simple_arcs`).

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> g = Graph([0, 1, 2, 2], [1, 2, 0, 3], directed=False)   # a triangle and a pendant vertex
    >>> run(CoreNumberProgram(directed=False), g).field("core").tolist()
    [2, 2, 2, 1]
    """

    combine = count_by_key

    def __init__(self, directed: bool = True) -> None:
        self.directed = bool(directed)
        self.gather_edges = ALL if directed else IN
        self.scatter_edges = ALL if directed else OUT

    def init(self, v: VertexView) -> None:
        degree = v.in_degree() + v.out_degree() if self.directed else v.in_degree()
        v.data["core"] = degree.astype(np.int64)
        v.data["was"] = v.data["core"]  # the value before the last drop

    def gather_nbr(self, u: VertexView) -> np.ndarray:
        return u.data["core"]

    def apply(self, v: VertexView, acc: KeyCounts) -> np.ndarray:
        old = v.data["core"]
        new = np.minimum(h_index(acc), old)  # a guard: the iteration never rises anyway
        v.data["was"] = old
        v.data["core"] = new
        return new < old  # only a drop tells the neighbours

    def scatter(self, e: EdgeView) -> np.ndarray:
        # A neighbour holding c counts this vertex among its support (neighbours with a value >= c)
        # only while the value is >= c: only a drop from >= c to < c can lower it.  Signalling just
        # those neighbours, not all, cut the updates of a run on R-MAT 16 from 640k to 114k.
        c = e.nbr_data["core"]
        return (e.vertex_data["core"] < c) & (c <= e.vertex_data["was"])


class CorePeelingProgram(VertexProgram):
    """Peeling by levels to the core number; the field is ``"core"`` (int64, -1 until removed).

    Runs on the ``sync`` engine, whose priority buckets give the order (see
    the module docstring); every stored arc counts once at each of its ends,
    as for :class:`CoreNumberProgram` with ``directed=True`` — run it on
    :func:`simple_arcs` of a graph for networkx's answer.

    Fields: ``degree`` (in plus out), ``lost`` (neighbours removed so far,
    pushed by them), ``floor`` (the highest level among them, pushed too),
    ``sched`` (the degree the vertex last waited at, -1 before), ``alive``
    (not removed yet: only those hear a removal), ``core``.

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> g = Graph([0, 1, 2, 2], [1, 2, 0, 3])   # a triangle and a pendant vertex, one arc per edge
    >>> run(CorePeelingProgram(), g).field("core").tolist()
    [2, 2, 2, 1]
    """

    scatter_edges = ALL
    bucket_width = 1.0  # a bucket per degree: the lowest remaining degree runs first
    # what a removed vertex tells every neighbour still there, folded over its own edges by the engine
    nbr_writes = {"lost": (1, np.add), "floor": ("core", np.maximum)}
    nbr_cond = "alive"  # the neighbours removed before it hear nothing: half the pushes, and no wasted updates
    # only apply reads these: mirrors never get them (nor the round that would tell them the folds)
    master_fields = ("sched", "lost", "floor")

    def init(self, v: VertexView) -> None:
        n = len(v)
        v.data["degree"] = (v.in_degree() + v.out_degree()).astype(np.int64)
        v.data["lost"] = np.zeros(n, dtype=np.int64)
        v.data["floor"] = np.zeros(n, dtype=np.int64)  # 0: an isolated vertex goes at level 0 at once
        v.data["core"] = np.full(n, -1, dtype=np.int64)
        v.data["sched"] = np.full(n, -1, dtype=np.int64)
        v.data["alive"] = np.ones(n, dtype=bool)

    def apply(self, v: VertexView, acc: None) -> np.ndarray:
        core = v.data["core"]
        alive = core < 0
        degree = v.data["degree"] - v.data["lost"]
        floor = v.data["floor"]
        # Its bucket came up (nothing changed since it waited there): no lower degree is left anywhere,
        # so it goes at the level that is its degree, or the higher level a neighbour already went at.
        bucket = alive & (degree == v.data["sched"])
        # Signalled by a removal: it goes at that level if the removals left it at most that many neighbours.
        cascade = alive & ~bucket & (degree <= floor)
        v.data["core"] = np.where(bucket, np.maximum(degree, floor), np.where(cascade, floor, core))
        wait = alive & ~bucket & ~cascade
        v.data["sched"] = np.where(wait, degree, v.data["sched"])
        v.signal(wait, priority=degree)
        removed = bucket | cascade
        v.data["alive"] = alive & ~removed
        return removed  # those removed push to their neighbours and signal them

    def signal_nbrs(self, v: VertexView) -> np.ndarray:
        return np.ones(len(v), dtype=bool)  # a removal changes every neighbour's degree


def h_index(counts: KeyCounts) -> np.ndarray:
    """Per row of ``counts``, the largest ``h`` with total weight ``>= h`` on keys ``>= h``.

    With the keys the neighbours' values and the weights how many neighbours
    hold each, this is the h-index of the neighbours' values (0 for a row
    without keys).  One compiled pass walking each row's keys from the
    largest down, stopping as soon as the count reaches the key.

    Parameters
    ----------
    counts : KeyCounts
        Integer weights; negative keys count as 0.

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> from gasengine import KeyCounts
    >>> rows, keys = np.array([0, 0, 0, 0, 0, 1, 1]), np.array([5, 3, 3, 1, 4, 9, 9])
    >>> h_index(KeyCounts.from_pairs(rows, keys, None, 3)).tolist()   # row 0: values 5, 4, 3, 3, 1
    [3, 2, 0]
    """
    weights = counts.weights
    if weights.dtype.kind not in "iu":
        raise TypeError(f"h_index needs integer weights (neighbour counts), got dtype {weights.dtype}")
    return _h_index(counts.ptr, counts.keys, weights.astype(np.int64, copy=False))


@njit(cache=True)
def _h_index(ptr, keys, weights):  # pragma: no cover - compiled
    out = np.zeros(ptr.size - 1, dtype=np.int64)
    for r in range(ptr.size - 1):
        h = 0
        seen = 0  # weight on keys >= the current key
        for j in range(ptr[r + 1] - 1, ptr[r] - 1, -1):  # keys ascend within a row
            seen += weights[j]
            key = max(keys[j], 0)
            if seen >= key:  # every smaller key gives at most itself: done
                h = max(h, key)
                break
            h = max(h, seen)
        out[r] = h
    return out


def simple_arcs(graph: Graph) -> Graph:
    """The graph k-core runs on: one arc per distinct pair, self-loops dropped.

    For an undirected graph, one arc ``min(u, v) -> max(u, v)`` per edge
    (parallel edges merged); for a directed one, one arc per distinct
    ``u -> v`` (so reciprocal arcs stay two arcs, as in ``nx.DiGraph``).
    The result is a directed :class:`~gasengine.Graph` without fields,
    keeping the original ids; :class:`CoreNumberProgram` with
    ``directed=True`` counts each arc at both ends.

    Parameters
    ----------
    graph : Graph

    Returns
    -------
    Graph

    Examples
    --------
    >>> g = simple_arcs(Graph([0, 1, 1, 2], [1, 0, 1, 0], directed=False))  # 0-1 twice, a loop, 2-0
    >>> g.directed, sorted(zip(g.src.tolist(), g.dst.tolist()))
    (True, [(0, 1), (0, 2)])
    >>> d = simple_arcs(Graph([0, 1, 0], [1, 0, 1]))  # directed: 0->1 twice, 1->0
    >>> sorted(zip(d.src.tolist(), d.dst.tolist()))
    [(0, 1), (1, 0)]
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"expected a gasengine.Graph, got {type(graph).__name__} (Graph.from_networkx converts)")
    src, dst = graph.src.astype(np.int64), graph.dst.astype(np.int64)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    if not graph.directed:  # both stored arcs of an edge become one unordered pair
        src, dst = np.minimum(src, dst), np.maximum(src, dst)
    first = first_of_each_pair(src, dst, graph.num_vertices)
    dtype = graph.src.dtype
    return Graph(
        src[first].astype(dtype),
        dst[first].astype(dtype),
        num_vertices=graph.num_vertices,
        ids=graph.ids,
        directed=True,
    )


#: The methods :func:`core_number` knows.
METHODS = ("auto", "peeling", "h-index")
#: ``method="auto"`` peels graphs of at least this many stored edges (on the sync engine).  Below it the
#: h-index run's few supersteps cost less than peeling's hundreds (R-MAT 10: 6 ms against 15 ms; the
#: two met near 300k edges on R-MAT 14 and p2p-Gnutella31; R-MAT 16: 0.35 s against 0.15 s).
PEELING_FROM_EDGES = 300_000


@rank_zero
def core_number(
    graph: Graph, *, method: str = "auto", return_result: bool = False, **engine_options: Any
) -> np.ndarray | tuple[np.ndarray, Result]:
    """The core number of every vertex, as ``networkx.core_number`` (see the module docstring).

    Parameters
    ----------
    graph : Graph
        Undirected: the cores of the simple graph (parallel edges once).
        Directed: networkx's directed cores (degree = in + out of the simple
        DiGraph; a reciprocated neighbour counts twice) — pass
        ``graph.to_undirected()`` for the cores of the symmetrised graph.
        Self-loops are ignored either way (networkx raises on them).
    method : {"auto", "peeling", "h-index"}
        ``"peeling"`` (:class:`CorePeelingProgram`: O(m) work, one superstep
        per level and cascade) needs the ``sync`` engine; ``"h-index"``
        (:class:`CoreNumberProgram`) runs on every engine and consistency
        model.  ``"auto"`` (default): peeling on the ``sync`` engine for a
        graph of :data:`PEELING_FROM_EDGES` stored edges or more, h-index
        iterations otherwise.  Both give the same answer.
    return_result : bool
        Also return the engine's :class:`~gasengine.Result` (of the run on
        :func:`simple_arcs` of the graph; original ids are kept, so
        ``result.field("core", by_id=True)`` is keyed by them).
    **engine_options
        Passed to :func:`gasengine.run` (default ``engine="sync"``).  Every
        engine, consistency model, number of parts and workers gives the
        same answer.

    Returns
    -------
    ndarray of int64
        The core number of every vertex (0 for isolated vertices).

    Raises
    ------
    TypeError
        If ``graph`` is not a :class:`~gasengine.Graph`.
    ValueError
        For an unknown ``method``, or ``"peeling"`` on another engine than ``sync``.
    ConvergenceError
        If ``max_supersteps`` or ``max_updates`` stopped the run before the
        end; its ``result`` holds what is known: with peeling, the final
        core numbers of the vertices removed so far and -1 for the others;
        with h-index iterations, upper bounds of every core number.

    Examples
    --------
    >>> from gasengine import Graph
    >>> g = Graph([0, 0, 1, 1, 2, 3, 4], [1, 2, 2, 3, 3, 4, 4], directed=False)  # K4 minus 0-3, a tail, a loop
    >>> core_number(g).tolist()
    [2, 2, 2, 2, 1]
    >>> core_number(g, method="h-index").tolist()
    [2, 2, 2, 2, 1]
    >>> core_number(Graph([1, 2, 2, 2, 3, 4], [2, 1, 3, 4, 4, 3])).tolist()    # networkx's DiGraph example
    [0, 2, 2, 2, 2]
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"expected a gasengine.Graph, got {type(graph).__name__} (Graph.from_networkx converts)")
    engine = engine_options.setdefault("engine", "sync")
    program = _program_for(method, engine, graph.num_edges)
    # the simple arc list is structure, like a cut: kept with the graph (and its own cut and layouts
    # with it) for the next run, unless the caller turned the engine's cache off
    if engine_options.get("cache", True):
        simple = engine_cache.open_cache(graph).get(("k-core", "simple_arcs"), lambda: simple_arcs(graph))
    else:
        simple = simple_arcs(graph)
    result = run(program, simple, **engine_options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    if not result.converged:
        left = (
            "vertices were still to be removed"
            if isinstance(program, CorePeelingProgram)
            else "core values were still dropping"
        )
        raise ConvergenceError(
            f"core_number did not converge within {result.supersteps} supersteps ({left})", result=result
        )
    core = result.field("core")
    return (core, result) if return_result else core


def _program_for(method: str, engine: Any, num_edges: int) -> VertexProgram:
    """The program ``method`` names for ``engine`` ("auto": peeling on the sync engine, for big graphs)."""
    if method not in METHODS:
        raise ValueError(
            f"unknown method {method!r}{did_you_mean(method, METHODS)}; choose one of {', '.join(METHODS)}"
        )
    if method == "auto":
        method = "peeling" if engine == "sync" and num_edges >= PEELING_FROM_EDGES else "h-index"
    if method == "peeling":
        if engine != "sync":
            raise ValueError(
                f"method='peeling' needs engine='sync' (its priority buckets order the levels), not {engine!r}; "
                "method='h-index' runs on every engine"
            )
        return CorePeelingProgram()
    return CoreNumberProgram(directed=True)
