"""PageRank (and personalised PageRank) with networkx's conventions.

Every superstep each vertex gathers ``rank / out_strength`` from its
in-neighbours (a neighbour-only gather, so the engine runs it as one sparse
matrix-vector product) and applies

    rank' = alpha * (acc + dangling_mass * d) + (1 - alpha) * p

where ``p`` is the personalisation (teleport) distribution, ``d`` the
distribution dangling vertices (no out-edges) spread their rank over (``p``
by default), and ``dangling_mass`` the total rank on dangling vertices — a
sync operation recomputed after every superstep.  A second sync operation
sums ``|rank' - rank|``; the run stops when it falls below ``n * tol``,
exactly networkx's stopping rule, so both take the same number of steps.

Parallel edges count with their multiplicity (as ``networkx.pagerank`` on a
MultiDiGraph); a weighted run divides by out-strength.

Under the asynchronous engine (``pagerank(g, engine="async")``) the program
is :class:`DeltaPageRankProgram`, GraphLab's dynamic PageRank: a vertex runs
only when an in-neighbour's rank moved by more than ``tol``, the largest
moves first (``scheduler="priority"``, the default there).  It solves the
same linear system without the global dangling sum, which no vertex can
wait for: with the dangling distribution equal to the teleport one (the
default), the ranks of networkx's formulation are the solution of
``y = alpha A' y + (1 - alpha) n p`` (``A'`` the out-degree-normalised
adjacency, dangling mass simply lost) scaled to sum 1 — the scale is the
only thing the dangling sum changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from gasengine import (
    IN,
    OUT,
    Aggregator,
    ConvergenceError,
    Graph,
    Result,
    VertexProgram,
    rank_zero,
    run,
)

from .edge_weights import check_nonnegative_weights


class PageRankProgram(VertexProgram):
    """The PageRank vertex program.

    Parameters
    ----------
    alpha : float
        Damping factor (probability of following an edge).
    tol : float
        Stop when the L1 change of a superstep is below ``n * tol``.
    weight : str, optional
        Edge field holding edge weights; None treats every edge as weight 1.
    personalization, dangling : array_like, optional
        Per-vertex teleport / dangling distributions (normalised here);
        None means uniform (dangling defaults to ``personalization``).
    nstart : array_like, optional
        Starting ranks (normalised here); uniform by default.

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> r = run(PageRankProgram(), Graph([0, 1, 2], [1, 2, 0]))
    >>> np.round(r.field("rank"), 4).tolist()
    [0.3333, 0.3333, 0.3333]
    """

    gather_edges = IN
    combine = np.add
    gather_edge_op = np.multiply
    master_fields: tuple[str, ...] = ("change",)  # read by the l1_change aggregator only: never shipped to mirrors

    def __init__(
        self,
        alpha: float = 0.85,
        tol: float = 1e-6,
        weight: str | None = None,
        personalization: Any = None,
        dangling: Any = None,
        nstart: Any = None,
    ):
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.alpha = float(alpha)
        self.tol = float(tol)
        self.weight = weight
        self.gather_edge_field = weight
        self.personalization = personalization
        self.dangling = dangling
        self.nstart = nstart
        self.num_vertices = 0
        self.aggregators = (
            Aggregator("dangling_mass", lambda v: v.data["rank"] * (v.data["inv_out"] == 0)),
            Aggregator("l1_change", lambda v: v.data["change"]),
        )

    def init(self, v):
        n = v.num_vertices
        self.num_vertices = n
        v.data["inv_out"] = _inverse_out_degree(v, self.weight)
        # Uniform distributions are the scalar 1/n, not a stored field: on a
        # big graph each field costs 8 bytes per replica of every vertex.
        dangling = self.dangling if self.dangling is not None else self.personalization
        for field, given, label in (
            ("teleport", self.personalization, "personalization"),
            ("dangling_share", dangling, "dangling"),
        ):
            if given is not None:
                v.data[field] = _distribution(given, n, label)
        v.data["rank"] = _distribution(self.nstart, n, "nstart")
        v.data["change"] = np.zeros(n)

    def gather_nbr(self, u):
        return u.data["rank"] * u.data["inv_out"]

    def apply(self, v, acc):
        a = self.alpha
        share, teleport = self._distribution(v, "dangling_share"), self._distribution(v, "teleport")
        rank = a * (acc + v.globals["dangling_mass"] * share) + (1 - a) * teleport
        v.data["change"] = np.abs(rank - v.data["rank"])
        v.data["rank"] = rank
        v.signal()  # every rank depends on the global dangling mass: stay active

    def _distribution(self, v, field: str) -> np.ndarray | float:
        """A stored distribution, or the uniform ``1/n`` that is not stored."""
        return v.data[field] if field in v.data else 1.0 / self.num_vertices

    def converged(self, globals: Mapping[str, Any]) -> bool:
        return bool(globals["l1_change"] < self.num_vertices * self.tol)


class DeltaPageRankProgram(PageRankProgram):
    """Dynamic (delta) PageRank for the asynchronous engine: work only where ranks move.

    A vertex recomputes ``y = (1 - alpha) n p + alpha * sum(y_u / out_u)``
    over its in-neighbours; if its rank moved by more than ``tol`` (``y``
    by more than ``n * tol``) it signals its out-neighbours with priority
    ``-alpha |change| / out`` (the change each of them sees; lower runs
    first, so the biggest changes run first).  The ranks are ``y / sum(y)``
    (see the module docstring for why that equals networkx's answer).
    networkx stops when the moves of a whole iteration *sum* to ``n * tol``;
    here every vertex stops on its own when its move is below ``tol``, so
    both end about as close to the fixed point.

    Parameters
    ----------
    alpha, tol, weight, personalization, nstart
        As for :class:`PageRankProgram`; ``nstart`` only sets the start.

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> r = run(DeltaPageRankProgram(tol=1e-10), Graph([0, 1, 2], [1, 2, 0]), engine="async", scheduler="priority")
    >>> y = r.field("rank"); np.round(y / y.sum(), 4).tolist()
    [0.3333, 0.3333, 0.3333]
    """

    scatter_edges = OUT
    master_fields = ()  # signal_nbrs reads the change at every replica

    def __init__(
        self,
        alpha: float = 0.85,
        tol: float = 1e-6,
        weight: str | None = None,
        personalization: Any = None,
        nstart: Any = None,
    ):
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"alpha must be in [0, 1) for the asynchronous PageRank, got {alpha}")
        super().__init__(alpha, tol, weight, personalization, None, nstart)
        self.aggregators = ()  # no global sum to wait for
        self.threshold = 0.0  # on y, set by init: n * tol

    def init(self, v):
        n = v.num_vertices
        self.threshold = self.tol * n
        v.data["inv_out"] = _inverse_out_degree(v, self.weight)
        if self.personalization is not None:
            v.data["teleport"] = _distribution(self.personalization, n, "personalization") * n
        v.data["rank"] = _distribution(self.nstart, n, "nstart") * n
        v.data["change"] = np.zeros(n)

    def apply(self, v, acc):
        teleport = v.data.get("teleport", 1.0)
        rank = (1 - self.alpha) * teleport + self.alpha * acc
        change = np.abs(rank - v.data["rank"])
        v.data["change"] = change
        v.data["rank"] = rank
        return change > self.threshold  # only real moves tell the neighbours

    def signal_nbrs(self, v):  # what every out-neighbour is told: the change it will see
        return -self.alpha * v.data["change"] * v.data["inv_out"]

    def converged(self, globals: Mapping[str, Any]) -> bool:
        return False  # the run ends when no vertex is scheduled


@rank_zero
def pagerank(
    graph: Graph,
    alpha: float = 0.85,
    personalization: Any = None,
    max_iter: int = 100,
    tol: float = 1e-6,
    nstart: Any = None,
    weight: str | None = None,
    dangling: Any = None,
    *,
    return_result: bool = False,
    **engine_options: Any,
) -> np.ndarray | tuple[np.ndarray, Result]:
    """PageRank of every vertex, like ``networkx.pagerank``.

    Parameters
    ----------
    graph : Graph
    alpha, max_iter, tol : float, int, float
        Damping, superstep budget and tolerance (networkx's meanings).
    personalization, nstart, dangling : array_like or dict, optional
        Per-vertex arrays (length n), or dicts keyed by original vertex id.
    weight : str, optional
        Edge field of edge weights.
    return_result : bool
        Also return the engine's :class:`~gasengine.Result`.
    **engine_options
        Passed to :func:`gasengine.run` (``partitions``, ``partition``,
        ``engine``, ...).  With ``engine="async"`` the program is
        :class:`DeltaPageRankProgram` (scheduler ``"priority"`` unless
        given): it runs until no rank moves by more than ``tol`` (networkx's
        ``tol`` bounds the average move, so both end about as close to the
        answer), ``max_iter`` counts passes over the graph (a budget of
        ``max_iter * n`` vertex updates), and ``dangling`` must be left to
        default.

    Returns
    -------
    ndarray
        Ranks indexed by vertex number (use ``graph.ids`` for original ids).

    Raises
    ------
    ConvergenceError
        If the tolerance is not reached within ``max_iter`` supersteps
        ("pagerank did not converge within N supersteps"); its ``result``
        holds the unfinished run (ranks after ``max_iter`` iterations).

    Examples
    --------
    >>> from gasengine import Graph
    >>> ranks = pagerank(Graph([0, 0, 1], [1, 2, 2]))
    >>> int(ranks.argmax()), round(float(ranks.sum()), 6)
    (2, 1.0)
    """
    if weight is not None:
        check_nonnegative_weights(graph, weight, "pagerank")
    n = graph.num_vertices
    # Normalise here so bad vectors fail before any work, as plain ValueErrors.
    vectors = {
        name: None if values is None else _distribution(_by_vertex(graph, values), n, name)
        for name, values in (("personalization", personalization), ("dangling", dangling), ("nstart", nstart))
    }
    if "max_supersteps" in engine_options:
        raise TypeError("pagerank takes max_iter (networkx's name for its superstep budget), not max_supersteps")
    if engine_options.get("engine") == "async":
        return _delta_pagerank(graph, alpha, tol, weight, vectors, max_iter, return_result, engine_options)
    program = PageRankProgram(alpha, tol, weight, **vectors)
    result = run(program, graph, max_supersteps=max_iter, **engine_options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    if not result.converged and graph.num_vertices:
        raise ConvergenceError(f"pagerank did not converge within {max_iter} supersteps (tol={tol})", result=result)
    ranks = result.field("rank")
    return (ranks, result) if return_result else ranks


def _delta_pagerank(
    graph: Graph,
    alpha: float,
    tol: float,
    weight: str | None,
    vectors: dict[str, Any],
    max_iter: int,
    return_result: bool,
    engine_options: dict[str, Any],
) -> np.ndarray | tuple[np.ndarray, Result]:
    """:func:`pagerank` on the asynchronous engine (:class:`DeltaPageRankProgram`)."""
    if vectors["dangling"] is not None:
        raise ValueError(
            "pagerank with engine='async' spreads dangling rank like the teleport (personalization); "
            "a separate dangling distribution needs engine='sync' or 'chromatic'"
        )
    engine_options.setdefault("scheduler", "priority")
    program = DeltaPageRankProgram(alpha, tol, weight, vectors["personalization"], vectors["nstart"])
    n = graph.num_vertices
    result = run(program, graph, max_updates=max_iter * n, **engine_options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    if not result.converged and n:
        raise ConvergenceError(
            f"pagerank did not converge within {max_iter * n} updates ({max_iter} passes over {n} vertices; tol={tol})",
            result=result,
        )
    y = result.field("rank")
    total = y.sum()
    ranks = y / total if total > 0 else y
    return (ranks, result) if return_result else ranks


def _inverse_out_degree(v: Any, weight: str | None) -> np.ndarray:
    """``1 / out-degree`` (or out-strength) of every vertex; 0 marks a dangling vertex."""
    out = v.out_degree(weight).astype(np.float64)
    return np.divide(1.0, out, out=np.zeros(len(out)), where=out != 0)


def _distribution(values: Any, n: int, name: str) -> np.ndarray:
    """A probability vector: uniform when None, else ``values`` normalised."""
    if values is None:
        return np.full(n, 1.0 / n) if n else np.zeros(0)
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{name} must have one value per vertex ({n}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.min(initial=0) < 0:
        raise ValueError(f"{name} must hold finite non-negative values")
    total = arr.sum()
    if total == 0:
        raise ValueError(f"{name} must not sum to zero")
    return arr / total


def _by_vertex(graph: Graph, values: Any) -> Any:
    """Turn a dict keyed by original id into a per-vertex array (0 where absent)."""
    if not isinstance(values, Mapping):
        return values
    arr = np.zeros(graph.num_vertices)
    for key, value in values.items():
        arr[graph.vertex_index(key)] = value
    return arr
