"""The consistency study: one algorithm under every engine, consistency model and scheduler.

:func:`consistency` runs an algorithm on one graph under the synchronous
engine, the chromatic engine under each consistency model, and the
asynchronous engine under each consistency model with each scheduler that
makes sense for the algorithm, and tabulates what each configuration cost
(time, vertex updates, steps, parallelism), how many data races it had
(conflicts: the asynchronous engine under ``"vertex"``) and how good its
answer is against an exact reference computed once with scipy::

    >>> from gasengine import Graph
    >>> from gasengine.study import consistency
    >>> g = Graph([0, 1, 2, 2], [1, 2, 0, 3])
    >>> table = consistency("sssp", g, progress=False, source=0)
    >>> {row.configuration: row.quality for row in table.rows}["async/vertex/fifo"]
    0.0

Each algorithm is an entry of :data:`ALGORITHMS`, a :class:`StudyAlgorithm`:
the function to call, the vertex field that holds its answer, the reference,
the quality measure, the schedulers worth trying and default options.
Adding one is a few lines (see :class:`StudyAlgorithm`).

Quality traces.  With one worker (the local backend) the study adds a sync
operation to every run that copies the answer field of all vertices into an
array of the study every ``trace_every`` updates, so each configuration also
gets its quality against cumulative updates and against time (the time the
copying and measuring take is subtracted).  With ``workers > 1`` sync
operations run inside the worker processes, where the study cannot see
them: the trace is then only the final point.
"""

from __future__ import annotations

import difflib
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np

from .aggregators import Aggregator
from .errors import ConvergenceError
from .graph import Graph
from .result import Result

#: Consistency models, in the order the table lists them.
MODELS = ("vertex", "edge", "full")
#: Schedulers of the asynchronous engine, in the order the table lists them.
ALL_SCHEDULERS = ("fifo", "sweep", "priority", "random")


# ====================================================================== configurations
@dataclass(frozen=True)
class Configuration:
    """One way to run: engine, consistency model and (asynchronous engine) scheduler.

    Examples
    --------
    >>> Configuration("async", "edge", "fifo").name
    'async/edge/fifo'
    >>> Configuration.parse("chromatic/full")
    Configuration(engine='chromatic', consistency='full', scheduler=None)
    >>> Configuration.parse("sync").name
    'sync'
    """

    engine: str
    consistency: str = "edge"
    scheduler: str | None = None

    def __post_init__(self) -> None:
        if self.engine not in ("sync", "chromatic", "async"):
            raise ValueError(f"unknown engine {self.engine!r} in a configuration; choose sync, chromatic or async")
        if self.consistency not in MODELS:
            raise ValueError(
                f"unknown consistency {self.consistency!r} in a configuration; choose one of {', '.join(MODELS)}"
            )
        if self.engine == "async":
            if self.scheduler not in ALL_SCHEDULERS:
                raise ValueError(
                    f"configuration async/{self.consistency} needs a scheduler, one of "
                    f"{', '.join(ALL_SCHEDULERS)}; got {self.scheduler!r}"
                )
        elif self.scheduler is not None:
            raise ValueError(f"only the async engine takes a scheduler; got {self.engine} with {self.scheduler!r}")

    @property
    def name(self) -> str:
        """``sync``, ``chromatic/MODEL`` or ``async/MODEL/SCHEDULER``."""
        if self.engine == "sync":
            return "sync"  # the synchronous engine behaves alike under every model
        if self.engine == "chromatic":
            return f"chromatic/{self.consistency}"
        return f"async/{self.consistency}/{self.scheduler}"

    @classmethod
    def parse(cls, text: str) -> Configuration:
        """A configuration from its name (``sync``, ``chromatic/edge``, ``async/vertex/fifo``)."""
        parts = str(text).strip().lower().split("/")
        shapes = {"sync": 1, "chromatic": 2, "async": 3}
        if parts[0] not in shapes or len(parts) != shapes[parts[0]]:
            raise ValueError(
                f"bad configuration {text!r}: write sync, chromatic/MODEL or async/MODEL/SCHEDULER "
                f"(MODEL: {', '.join(MODELS)}; SCHEDULER: {', '.join(ALL_SCHEDULERS)})"
            )
        if parts[0] == "sync":
            return cls("sync")
        return cls(parts[0], parts[1], parts[2] if parts[0] == "async" else None)

    def run_options(self) -> dict[str, Any]:
        """The options of :func:`gasengine.run` that select this configuration."""
        options: dict[str, Any] = {"engine": self.engine, "consistency": self.consistency}
        if self.scheduler is not None:
            options["scheduler"] = self.scheduler
        return options


def configurations_for(algorithm: str | StudyAlgorithm, schedulers: Sequence[str] | None = None) -> list[Configuration]:
    """The default configurations of a study: sync, chromatic x models, async x models x schedulers.

    Parameters
    ----------
    algorithm : str or StudyAlgorithm
    schedulers : sequence of str, optional
        Schedulers of the asynchronous configurations (default: those the
        algorithm's entry lists as making sense for it).

    Examples
    --------
    >>> [c.name for c in configurations_for("connected-components")][:5]
    ['sync', 'chromatic/vertex', 'chromatic/edge', 'chromatic/full', 'async/vertex/fifo']
    >>> len(configurations_for("pagerank")), len(configurations_for("pagerank", ["fifo"]))
    (13, 7)
    """
    entry = study_algorithm(algorithm)
    chosen = tuple(entry.schedulers if schedulers is None else schedulers)
    for s in chosen:
        if s not in ALL_SCHEDULERS:
            raise ValueError(
                f"unknown scheduler {s!r}{_did_you_mean(s, ALL_SCHEDULERS)}; choose from {', '.join(ALL_SCHEDULERS)}"
            )
    return [
        Configuration("sync"),
        *(Configuration("chromatic", m) for m in MODELS),
        *(Configuration("async", m, s) for m in MODELS for s in chosen),
    ]


# ====================================================================== algorithms
@dataclass(frozen=True)
class Quality:
    """A quality figure: its name and how to compute it.

    ``measure(values, reference)`` gets the answer field of every vertex
    (first axis: vertex number) and the study's reference, and returns one
    number, lower is better (an error).  ``digits`` are the significant
    digits the printed table shows (an RMSE whose configurations differ in
    the fourth digit wants 5).

    Examples
    --------
    >>> q = Quality("max abs error", lambda values, ref: float(np.abs(values - ref).max()))
    >>> q.measure(np.array([1.0, 2.5]), np.array([1.0, 2.0]))
    0.5
    """

    name: str
    measure: Callable[[np.ndarray, Any], float]
    digits: int = 3


@dataclass(frozen=True)
class StudyAlgorithm:
    """An algorithm the study knows: how to run it and how to judge its answer.

    Attributes
    ----------
    name : str
        Registry key (the CLI's algorithm name).
    run : callable
        ``run(graph, **options) -> (answer, Result)``; ``options`` are the
        study's algorithm options plus the engine options of a
        configuration (``engine``, ``consistency``, ``scheduler``,
        ``workers``, ``aggregators``), all passed on to :func:`gasengine.run`.
        May raise :class:`~gasengine.ConvergenceError` carrying its result.
    field : str
        Vertex field holding the answer, read from the run's result (and,
        for the trace, from the vertices while it runs).
    reference : callable
        ``reference(graph, options) -> object``: the exact answer, computed
        once per study, passed to ``quality.measure``.
    quality : Quality
        The figure of the table.
    trace : Quality, optional
        The figure of the trace, when another one shows progress better
        (default: ``quality``).
    schedulers : tuple of str
        Schedulers of the asynchronous configurations that make sense for
        the algorithm (``priority`` only where its scatter gives priorities).
    defaults : mapping
        Options passed to ``run`` unless the caller gives them.
    resolve : callable, optional
        ``resolve(graph, options) -> options``: fills options that depend
        on the graph (a default source vertex, a weight field if present).
    input : {"graph", "ratings"}
        What the study's input file is: a graph (``Graph.load``) or a
        ratings file (``Graph.load_ratings``: users and items in separate
        id spaces), for the command line to load it the right way.

    Examples
    --------
    A registry entry is a few lines; this one judges min-label components
    like connected components:

    >>> from algorithms import min_label_components
    >>> entry = StudyAlgorithm(
    ...     "min-label", lambda g, **o: min_label_components(g, return_result=True, **o),
    ...     "component", components_reference, MISLABELLED)
    >>> table = consistency(entry, Graph([0, 2], [1, 3]), progress=False,
    ...                     configurations=["sync", "async/edge/fifo"])
    >>> [row.quality for row in table.rows]
    [0.0, 0.0]
    """

    name: str
    run: Callable[..., tuple[Any, Result]]
    field: str
    reference: Callable[[Graph, dict[str, Any]], Any]
    quality: Quality
    trace: Quality | None = None
    schedulers: tuple[str, ...] = ("fifo", "sweep")
    defaults: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    resolve: Callable[[Graph, dict[str, Any]], dict[str, Any]] | None = None
    input: str = "graph"

    @property
    def trace_quality(self) -> Quality:
        """The quality figure of the trace."""
        return self.trace or self.quality


# ---------------------------------------------------------------- pagerank
def pagerank_reference(graph: Graph, options: Mapping[str, Any]) -> np.ndarray:
    """Exact PageRank (networkx's conventions) by power iteration with scipy to an L1 change below 1e-13.

    Follows ``options``' ``alpha`` (default 0.85), ``weight``,
    ``personalization`` and ``dangling`` (arrays or dicts by original id).
    The error left after the last iteration is at most
    ``1e-13 * alpha / (1 - alpha)``, far below any tolerance a run uses.

    Examples
    --------
    >>> import networkx as nx
    >>> g = Graph([0, 0, 1, 2], [1, 2, 2, 3])
    >>> nxr = nx.pagerank(nx.DiGraph([(0, 1), (0, 2), (1, 2), (2, 3)]), tol=1e-14)
    >>> bool(np.abs(pagerank_reference(g, {}) - [nxr[i] for i in range(4)]).sum() < 1e-9)
    True
    """
    import scipy.sparse as sp

    n = graph.num_vertices
    if n == 0:
        return np.zeros(0)
    alpha = float(options.get("alpha", 0.85))
    weight = options.get("weight")
    w = np.ones(graph.num_edges) if weight is None else np.asarray(graph.edge_data[weight], dtype=np.float64)
    out = np.bincount(graph.src, weights=w, minlength=n)
    inv = np.divide(1.0, out, out=np.zeros(n), where=out != 0)
    # duplicates are summed: parallel edges count with their multiplicity, as networkx's MultiDiGraph
    step = sp.csr_matrix((w * inv[graph.src], (graph.dst, graph.src)), shape=(n, n))
    teleport = _vector(graph, options.get("personalization"), n)
    dangling_share = _vector(graph, options.get("dangling"), n) if options.get("dangling") is not None else teleport
    dangling = out == 0
    rank = np.full(n, 1.0 / n)
    for _ in range(100_000):  # iterations, not vertices: each is one sparse product
        new = alpha * (step @ rank + rank[dangling].sum() * dangling_share) + (1 - alpha) * teleport
        change = np.abs(new - rank).sum()
        rank = new
        if change < 1e-13:
            return rank
    raise RuntimeError(f"the PageRank reference did not converge (alpha={alpha}); last L1 change {change:.3g}")


def _vector(graph: Graph, values: Any, n: int) -> np.ndarray:
    """A distribution over vertices: uniform for None; arrays or dicts by original id, normalised."""
    if values is None:
        return np.full(n, 1.0 / n)
    if isinstance(values, Mapping):
        arr = np.zeros(n)
        keys = np.array([graph.vertex_index(k) for k in values])  # a loop over the caller's dict, like pagerank's
        arr[keys] = np.fromiter(values.values(), dtype=np.float64, count=len(values))
    else:
        arr = np.asarray(values, dtype=np.float64)
    return arr / arr.sum()


def l1_error(values: np.ndarray, reference: np.ndarray) -> float:
    """L1 distance between the ranks, normalised to sum 1, and the reference.

    Normalising lets the measure read the asynchronous program's
    unnormalised ranks mid-run as well as a finished run's.

    Examples
    --------
    >>> l1_error(np.array([2.0, 2.0]), np.array([0.25, 0.75]))
    0.5
    """
    total = values.sum()
    return float(np.abs((values / total if total > 0 else values) - reference).sum())


L1_ERROR = Quality("L1 error", l1_error)


def _run_pagerank(graph: Graph, **options: Any) -> tuple[Any, Result]:
    from algorithms import pagerank

    return pagerank(graph, return_result=True, **options)


# -------------------------------------------------------------------- sssp
def _sssp_options(graph: Graph, options: dict[str, Any]) -> dict[str, Any]:
    """Source: vertex 0 unless given; weights: the ``weight`` field when the graph has one, else hops."""
    options = dict(options)
    if "source" not in options:
        options["source"] = 0 if not options.get("by_id", True) else graph.original_ids()[0].item()
    options.setdefault("weight", "weight" if "weight" in graph.edge_data else None)
    return options


def sssp_reference(graph: Graph, options: Mapping[str, Any]) -> np.ndarray:
    """Exact distances from ``options["source"]`` by ``scipy.sparse.csgraph.dijkstra``.

    Parallel edges keep their shortest length (a sparse matrix would add
    them); ``weight=None`` counts hops.

    Examples
    --------
    >>> g = Graph([0, 0, 1], [1, 1, 2], edge_data={"weight": [5.0, 2.0, 1.0]})
    >>> sssp_reference(g, {"source": 0, "weight": "weight"}).tolist()
    [0.0, 2.0, 3.0]
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    n = graph.num_vertices
    source = options.get("source", 0)
    start = graph.vertex_index(source) if options.get("by_id", True) else int(source)
    weight = options.get("weight")
    w = np.ones(graph.num_edges) if weight is None else np.asarray(graph.edge_data[weight], dtype=np.float64)
    src, dst = graph.src.astype(np.int64), graph.dst.astype(np.int64)
    order = np.lexsort((w, dst, src))  # shortest first within each (src, dst) pair
    src, dst, w = src[order], dst[order], w[order]
    first = np.ones(src.size, dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    # explicit zero lengths stay edges in scipy's csgraph
    matrix = sp.csr_matrix((w[first], (src[first], dst[first])), shape=(n, n))
    return dijkstra(matrix, directed=True, indices=start)


def max_abs_error(values: np.ndarray, reference: np.ndarray) -> float:
    """Largest ``|dist - exact|``; equal infinities count as 0, a finite-infinite pair as inf.

    Examples
    --------
    >>> max_abs_error(np.array([0.0, 2.0, np.inf]), np.array([0.0, 1.5, np.inf]))
    0.5
    """
    wrong = values != reference  # inf == inf: unreachable on both sides is right
    return float(np.abs(values[wrong] - reference[wrong]).max(initial=0.0))


def wrong_count(values: np.ndarray, reference: np.ndarray) -> float:
    """Vertices whose value differs from the reference (a distance not yet final, say).

    Examples
    --------
    >>> wrong_count(np.array([0.0, np.inf, 3.0]), np.array([0.0, 1.0, 3.0]))
    1.0
    """
    return float(np.count_nonzero(values != reference))


MAX_ABS_ERROR = Quality("max abs error", max_abs_error)
WRONG_DISTANCES = Quality("wrong distances", wrong_count)


def _run_sssp(graph: Graph, **options: Any) -> tuple[Any, Result]:
    from algorithms import sssp

    return sssp(graph, options.pop("source"), return_result=True, **options)


# ------------------------------------------------------ connected components
def canonical_labels(labels: np.ndarray) -> np.ndarray:
    """Relabel a partition so that every class is named by its smallest vertex number.

    Examples
    --------
    >>> canonical_labels(np.array([7, 3, 7, 3, 9])).tolist()
    [0, 1, 0, 1, 4]
    """
    n = labels.shape[0]
    _, cls = np.unique(labels, return_inverse=True)
    smallest = np.full(cls.max(initial=-1) + 1, n, dtype=np.int64)
    np.minimum.at(smallest, cls, np.arange(n))
    return smallest[cls]


def components_reference(graph: Graph, options: Mapping[str, Any]) -> np.ndarray:
    """Weakly connected components by ``scipy.sparse.csgraph``, canonically labelled.

    Examples
    --------
    >>> components_reference(Graph([0, 3], [1, 2], num_vertices=5), {}).tolist()
    [0, 0, 2, 2, 4]
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components as scipy_components

    n = graph.num_vertices
    matrix = sp.csr_matrix((np.ones(graph.num_edges), (graph.src, graph.dst)), shape=(n, n))
    _, labels = scipy_components(matrix, directed=True, connection="weak")
    return canonical_labels(labels)


def mislabelled(values: np.ndarray, reference: np.ndarray) -> float:
    """Vertices whose component, canonically labelled, differs from the reference's.

    Examples
    --------
    >>> mislabelled(np.array([5, 5, 2, 2]), np.array([0, 0, 0, 3]))
    2.0
    """
    return float(np.count_nonzero(canonical_labels(values) != reference))


MISLABELLED = Quality("mislabelled vertices", mislabelled)


def _run_components(graph: Graph, **options: Any) -> tuple[Any, Result]:
    from algorithms import connected_components

    return connected_components(graph, return_result=True, **options)


# ---------------------------------------------------------------- colouring
def coloring_reference(graph: Graph, options: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """No answer to compare with: a colouring is right when no edge joins two equal colours, so the
    "reference" is the edges themselves (self-loops dropped).

    Examples
    --------
    >>> src, dst = coloring_reference(Graph([0, 1], [1, 1]), {})
    >>> src.tolist(), dst.tolist()
    ([0], [1])
    """
    keep = graph.src != graph.dst
    return graph.src[keep], graph.dst[keep]


def conflicting(values: np.ndarray, edges: tuple[np.ndarray, np.ndarray]) -> float:
    """Edges whose two ends share a colour.

    Examples
    --------
    >>> conflicting(np.array([0, 0, 1]), (np.array([0, 1]), np.array([1, 2])))
    1.0
    """
    src, dst = edges
    return float(np.count_nonzero(values[src] == values[dst]))


CONFLICTING_EDGES = Quality("conflicting edges", conflicting)


def _run_coloring(graph: Graph, **options: Any) -> tuple[Any, Result]:
    from algorithms import greedy_color

    return greedy_color(graph, return_result=True, **options)


# ------------------------------------------------------ SGD matrix factorisation
@dataclass(frozen=True, eq=False)
class HeldOutRatings:
    """The reference of the ``sgd-mf`` entry: held-out ratings and what a prediction needs besides the factors.

    ``user`` and ``item`` are vertex numbers of the ratings graph (and of
    its training split, which has the same vertices); a model's answer is
    its field ``"x"``, one row ``[factors (rank), bias]`` per vertex, and
    predicts ``global_mean + b_u + b_i + p_u . q_i``.
    """

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    global_mean: float
    rank: int


def _sgd_options(graph: Graph, options: dict[str, Any]) -> dict[str, Any]:
    """Hold out ``test_fraction`` (default 0.1) of the ratings by a seeded split, once per study (option ``split``)."""
    from . import ratings

    if ratings.IS_ITEM not in graph.vertex_data:
        raise ValueError(
            "sgd-mf needs a ratings graph (users and items in separate id spaces): load the input with "
            "Graph.load_ratings or build it with gasengine.ratings.from_arrays"
        )
    options = dict(options)
    fraction = float(options.pop("test_fraction", 0.1))
    split_seed = options.pop("split_seed", 0)
    if "split" not in options:
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"sgd-mf: test_fraction must be in (0, 1), got {fraction}")
        options["split"] = ratings.split(graph, (1.0 - fraction, 0.0, fraction), seed=split_seed)
    return options


def sgd_reference(graph: Graph, options: Mapping[str, Any]) -> HeldOutRatings:
    """The test ratings of ``options["split"]``, the training mean and the rank: what :func:`held_out_rmse` needs.

    Examples
    --------
    >>> from gasengine import ratings
    >>> g = ratings.from_arrays([1, 1, 2, 2], [10, 20, 10, 20], [5.0, 3.0, 4.0, 2.0])
    >>> ref = sgd_reference(g, _sgd_options(g, {"test_fraction": 0.25, "rank": 2}))
    >>> len(ref.rating), ref.rank
    (1, 2)
    """
    split = options["split"]
    train = split.train.edge_data["rating"]
    return HeldOutRatings(
        np.asarray(split.test.user, dtype=np.intp),
        np.asarray(split.test.item, dtype=np.intp),
        np.asarray(split.test.rating, dtype=np.float64),
        float(train.mean()),
        int(options.get("rank", 10)),
    )


def held_out_rmse(values: np.ndarray, reference: HeldOutRatings) -> float:
    """RMSE on the held-out ratings of the model whose ``x`` rows (``[factors, bias]`` per vertex) are ``values``.

    Examples
    --------
    >>> x = np.array([[1.0, 0.5], [2.0, -0.5]])  # rank 1: a user (vertex 0) and an item (vertex 1)
    >>> ref = HeldOutRatings(np.array([0]), np.array([1]), np.array([5.0]), 3.0, 1)
    >>> held_out_rmse(x, ref)  # predicts 3 + 0.5 - 0.5 + 1 * 2 = 5
    0.0
    """
    k = reference.rank
    u, i = values[reference.user], values[reference.item]
    with np.errstate(over="ignore", invalid="ignore"):
        pred = reference.global_mean + u[:, k] + i[:, k] + np.einsum("ek,ek->e", u[:, :k], i[:, :k])
        return float(np.sqrt(np.mean((reference.rating - pred) ** 2)))


HELD_OUT_RMSE = Quality("test RMSE", held_out_rmse, digits=5)


def _run_sgd(graph: Graph, **options: Any) -> tuple[Any, Result]:
    from algorithms.sgd_mf import sgd_mf

    split = options.pop("split")
    model = sgd_mf(split.train, return_result=True, **options)
    return model, model.result


#: The algorithms the study knows, by name (the CLI's names).
ALGORITHMS: dict[str, StudyAlgorithm] = {
    "pagerank": StudyAlgorithm(
        "pagerank", _run_pagerank, "rank", pagerank_reference, L1_ERROR, schedulers=("fifo", "sweep", "priority")
    ),
    "sssp": StudyAlgorithm(
        "sssp",
        _run_sssp,
        "dist",
        sssp_reference,
        MAX_ABS_ERROR,
        trace=WRONG_DISTANCES,
        schedulers=("fifo", "sweep", "priority"),
        resolve=_sssp_options,
    ),
    "connected-components": StudyAlgorithm(
        "connected-components", _run_components, "component", components_reference, MISLABELLED
    ),
    "greedy-color": StudyAlgorithm(
        "greedy-color",
        _run_coloring,
        "color",
        coloring_reference,
        CONFLICTING_EDGES,
        schedulers=("fifo", "sweep", "random"),
    ),
    # fifo runs the users, then the items (vertex order); random is SGD's random order
    "sgd-mf": StudyAlgorithm(
        "sgd-mf",
        _run_sgd,
        "x",
        sgd_reference,
        HELD_OUT_RMSE,
        schedulers=("fifo", "random"),
        defaults=MappingProxyType({"rank": 10, "lr": 1.0, "reg": 0.5, "bias_reg": 0.3, "epochs": 10}),
        resolve=_sgd_options,
        input="ratings",
    ),
}


def study_algorithm(algorithm: str | StudyAlgorithm) -> StudyAlgorithm:
    """The registry entry of ``algorithm`` (``_`` and ``-`` alike), or the entry itself.

    Examples
    --------
    >>> study_algorithm("connected_components").name
    'connected-components'
    >>> study_algorithm("pagrank")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: unknown algorithm 'pagrank' (did you mean 'pagerank'?);
    the study knows connected-components, greedy-color, pagerank, sgd-mf, sssp
    """
    if isinstance(algorithm, StudyAlgorithm):
        return algorithm
    key = str(algorithm).strip().lower().replace("_", "-")
    if key not in ALGORITHMS:
        raise ValueError(
            f"unknown algorithm {algorithm!r}{_did_you_mean(key, list(ALGORITHMS))}; "
            f"the study knows {', '.join(sorted(ALGORITHMS))}"
        )
    return ALGORITHMS[key]


def _did_you_mean(value: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(value).lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ====================================================================== the table
@dataclass
class Trace:
    """Quality of one configuration along its run.

    ``updates`` are cumulative vertex updates (NaN when the run ended
    without a result to count them), ``seconds`` the time since the
    configuration's call started, less the study's own measuring.

    Examples
    --------
    >>> t = Trace("L1 error", np.array([0.0, 100.0]), np.array([0.01, 0.02]), np.array([0.5, 0.001]))
    >>> len(t), t.name
    (2, 'L1 error')
    """

    name: str
    updates: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seconds: np.ndarray = field(default_factory=lambda: np.zeros(0))
    quality: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return int(self.quality.size)


@dataclass
class StudyRow:
    """One configuration of a study.

    Attributes
    ----------
    configuration, engine, consistency, scheduler : str
        What ran (``scheduler`` is ``""`` for the sync and chromatic engines).
    seconds : float
        Wall time of the call (setup such as partitioning and colouring
        included: the first configuration needing a colouring computes it,
        later ones find it cached with the graph), less the study's own
        measuring.
    step_seconds : float
        Time in the engine's steps alone (supersteps, colour steps, rounds).
    updates : int
        Vertex updates (sum of the steps' updates).
    steps : int
        Supersteps, sweeps or rounds.
    parallelism : float
        Average updates per step row (superstep, colour step or round): how
        many vertices ran at once.
    conflicts : int
        Data races (the asynchronous engine under ``"vertex"``).
    quality : float
        The algorithm's quality figure (``quality_name``; an error, lower
        is better) of the run's answer, also of an unfinished one.
    converged : bool
        Whether the run finished.
    error : str
        Why it did not ("" when it did).
    trace : Trace
        Quality along the run (not written to CSV).
    """

    configuration: str
    engine: str
    consistency: str
    scheduler: str
    seconds: float | None
    step_seconds: float | None
    updates: int | None
    steps: int | None
    parallelism: float | None
    conflicts: int | None
    quality: float | None
    quality_name: str
    converged: bool
    error: str = ""
    trace: Trace = field(default_factory=lambda: Trace(""), repr=False, compare=False)


#: Columns of a row, in order, as written to CSV (the trace is not).
ROW_COLUMNS = tuple(f.name for f in fields(StudyRow) if f.name != "trace")


class StudyTable:
    """The rows of a consistency study; print it, write it, plot it.

    Examples
    --------
    >>> row = StudyRow("sync", "sync", "edge", "", 0.01, 0.008, 30, 3, 10.0, 0, 0.0, "max abs error", True)
    >>> print(StudyTable([row], title="sssp on a toy graph"))
    sssp on a toy graph
    engine  consistency  scheduler  seconds  updates  steps  parallelism  conflicts  max abs error  note
      sync            -               0.010       30      3         10.0          0              0
    """

    def __init__(self, rows: Iterable[StudyRow], title: str = "", algorithm: str = "", digits: int = 3):
        self.rows: list[StudyRow] = list(rows)
        self.title = title
        self.algorithm = algorithm
        #: Significant digits of the printed quality column (the entry's ``Quality.digits``).
        self.digits = digits

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, key: int | str) -> StudyRow:
        """A row by position or by configuration name."""
        if isinstance(key, str):
            for row in self.rows:
                if row.configuration == key:
                    return row
            raise KeyError(f"no configuration {key!r}; the table has {', '.join(r.configuration for r in self.rows)}")
        return self.rows[key]

    @property
    def quality_name(self) -> str:
        """Name of the quality column."""
        return next((r.quality_name for r in self.rows if r.quality_name), "quality")

    def __str__(self) -> str:
        header = [
            "engine",
            "consistency",
            "scheduler",
            "seconds",
            "updates",
            "steps",
            "parallelism",
            "conflicts",
            self.quality_name,
            "note",
        ]
        body = [
            [
                r.engine,
                r.consistency if r.engine != "sync" else "-",
                r.scheduler,
                _num(r.seconds, ".3f"),
                _num(r.updates),
                _num(r.steps),
                _num(r.parallelism, ".1f"),
                _num(r.conflicts),
                _quality(r.quality, self.digits),
                r.error,
            ]
            for r in self.rows
        ]
        widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h) for i, h in enumerate(header)]
        # text columns left-aligned reads worse next to numbers: everything right-aligned but the note
        lines = ["  ".join(h.rjust(w) if i < len(header) - 1 else h for i, (h, w) in enumerate(zip(header, widths)))]
        lines += [
            "  ".join(c.rjust(w) if i < len(header) - 1 else c for i, (c, w) in enumerate(zip(row, widths))).rstrip()
            for row in body
        ]
        return "\n".join(([self.title] if self.title else []) + lines)

    __repr__ = __str__

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (one column per :class:`StudyRow` field but the trace)."""
        import pandas as pd

        frame = pd.DataFrame([{c: getattr(r, c) for c in ROW_COLUMNS} for r in self.rows], columns=list(ROW_COLUMNS))
        for c in ("updates", "steps", "conflicts"):
            frame[c] = frame[c].astype("Int64")  # missing for a run that ended without a result
        return frame

    def traces(self) -> Any:
        """Every trace as one long ``pandas.DataFrame``: configuration, updates, seconds, quality."""
        import pandas as pd

        frames = [
            pd.DataFrame(
                {
                    "configuration": r.configuration,
                    "updates": r.trace.updates,
                    "seconds": r.trace.seconds,
                    "quality": r.trace.quality,
                }
            )
            for r in self.rows
            if len(r.trace)
        ]
        if not frames:
            return pd.DataFrame(columns=["configuration", "updates", "seconds", "quality"])
        return pd.concat(frames, ignore_index=True)

    def to_csv(self, path: Any) -> None:
        """Write the rows (not the traces: see :meth:`traces`) as CSV; :meth:`from_csv` reads them back."""
        self.to_pandas().to_csv(path, index=False, float_format="%.17g")

    @classmethod
    def from_csv(cls, path: Any) -> StudyTable:
        """Read a table written by :meth:`to_csv` (its traces are empty)."""
        import pandas as pd

        frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"scheduler": str, "error": str})
        missing = [c for c in ROW_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{path}: not a study table; missing columns {missing}")
        rows = []
        for record in frame.to_dict("records"):  # one per configuration
            values = {c: _from_cell(record[c], f.type) for c, f in zip(ROW_COLUMNS, fields(StudyRow))}
            rows.append(StudyRow(**values))
        return cls(rows)

    def plot(self, path: Any, title: str | None = None, format: str | None = None) -> None:
        """Save a figure of the traces: quality against updates and against time, one line per configuration.

        Needs matplotlib (``pip install 'gasengine[plot]'``).  The y axis is
        logarithmic when the quality spans more than two decades
        (symmetric-logarithmic when it reaches 0).  ``format`` (``"png"``,
        ``"pdf"``, ``"svg"``, ...) defaults to the extension of ``path``;
        ``path`` may be a binary file.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("StudyTable.plot needs matplotlib: pip install 'gasengine[plot]'") from None
        traced = [r for r in self.rows if len(r.trace)]
        if not traced:
            raise ValueError("no configuration has a trace to plot")
        fig = Figure(figsize=(14, 5.5), layout="constrained")
        axes = fig.subplots(1, 2)
        name = traced[0].trace.name or self.quality_name
        styles = _styles([r.configuration for r in traced])
        for ax, x_of, label in (
            (axes[0], lambda t: t.updates, "vertex updates"),
            (axes[1], lambda t: t.seconds, "seconds"),
        ):
            for row in traced:
                x, y = x_of(row.trace), row.trace.quality
                keep = np.isfinite(x) & np.isfinite(y)
                color, dash, marker = styles[row.configuration]
                ax.plot(
                    x[keep],
                    y[keep],
                    color=color,
                    linestyle=dash,
                    marker=marker,
                    markersize=4,
                    markevery=max(1, int(keep.sum()) // 8),
                    linewidth=1.4,
                    label=_legend_label(row),
                )
            ax.set_xlabel(label)
            ax.set_ylabel(name)
            ax.grid(True, alpha=0.3)
            _scale(ax, "x", np.concatenate([x_of(r.trace) for r in traced]))
            _scale(ax, "y", np.concatenate([r.trace.quality for r in traced]))
        axes[0].set_title(f"{name} against vertex updates")
        axes[1].set_title(f"{name} against time")
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right center", fontsize=8, title="configuration")
        heading = title if title is not None else self.title
        if heading:
            fig.suptitle(heading)
        fig.savefig(path, dpi=110, format=format)


def _legend_label(row: StudyRow) -> str:
    if row.error:
        return f"{row.configuration} (unfinished)"
    if len(row.trace) == 1:
        return f"{row.configuration} (final point only)"
    return row.configuration


def _styles(names: Sequence[str]) -> dict[str, tuple[Any, str, str]]:
    """Colour by consistency model, line style by engine, marker by scheduler: 13 lines told apart."""
    colour = {"vertex": "tab:red", "edge": "tab:blue", "full": "tab:green"}
    marker = {"fifo": "o", "sweep": "s", "priority": "^", "random": "x"}
    out = {}
    for name in names:
        parts = name.split("/")
        if parts[0] == "sync":
            out[name] = ("black", "-", "")
        elif parts[0] == "chromatic":
            out[name] = (colour[parts[1]], ":", "D")
        else:
            out[name] = (colour[parts[1]], "-", marker[parts[2]])
    return out


def _scale(ax: Any, axis: str, values: np.ndarray) -> None:
    """Logarithmic when the positive values span more than two decades; symlog when zeros are among them."""
    values = values[np.isfinite(values)]
    positive = values[values > 0]
    if positive.size < 2 or positive.max() / positive.min() < 100:
        return
    setter = ax.set_xscale if axis == "x" else ax.set_yscale
    if positive.size < values.size:  # zeros: a log axis would drop them (a final 0 error is the point)
        setter("symlog", linthresh=float(positive.min()))
        if values.min() >= 0:  # no negative decades in the margin below 0
            (ax.set_xlim if axis == "x" else ax.set_ylim)(0, float(positive.max()) * 1.5)
    else:
        setter("log")


def _num(value: float | None, spec: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def _quality(value: float | None, digits: int = 3) -> str:
    if value is None or math.isnan(value):
        return "-"
    if math.isfinite(value) and value == int(value):  # counts and exact zeros print as integers
        return str(int(value))
    return f"{value:.{digits}g}"


def _from_cell(value: Any, annotation: Any) -> Any:
    """A CSV cell back as the row field's type (missing: None)."""
    text = str(annotation)
    if isinstance(value, float) and math.isnan(value) and "None" in text:
        return None
    if text.startswith("bool"):
        return bool(value) if not isinstance(value, str) else value == "True"
    if text.startswith("int"):
        return int(value)
    if text.startswith("float"):
        return float(value)
    if text == "str":
        return "" if isinstance(value, float) and math.isnan(value) else str(value)
    return value


# ====================================================================== running a study
class StudyTimeLimit(Exception):
    """A configuration ran past the study's time limit (raised inside the run, by the study's sync operation)."""


class _Recorder:
    """The study's sync operations for one configuration: the quality trace and the time limit.

    ``trace_aggregator`` copies the answer field of the batch's vertices
    into :attr:`snapshot` (every part's masters: all vertices once) and, on
    finalize, measures it; ``watchdog`` runs after every step and raises
    :class:`StudyTimeLimit` past ``time_limit``.  Only when sync operations
    run in this process (one worker) do the points reach the study.
    """

    def __init__(self, entry: StudyAlgorithm, reference: Any, n: int, time_limit: float | None):
        self.field = entry.field
        self.measure = entry.trace_quality.measure
        self.reference = reference
        self.n = n
        self.time_limit = time_limit
        self.start = time.monotonic()  # monotonic is system-wide: valid in forked workers too
        self.snapshot: np.ndarray | None = None
        self.step = 0
        self.last_step: int | None = None
        self.points: list[tuple[int, float, float]] = []  # (superstep, seconds, quality)
        self.overhead = 0.0  # seconds spent measuring, subtracted from every time
        self.step_overhead = 0.0  # of it, inside steps (not before the first)

    def aggregators(self, trace_every: int | None) -> list[Aggregator]:
        aggs = [Aggregator("study_watchdog", self._tick, finalize=self._check)]
        if trace_every is not None:
            aggs.append(Aggregator("study_trace", self._copy, finalize=self._measure, every_updates=trace_every))
        return aggs

    def _tick(self, v: Any) -> np.ndarray:
        self.last_step = v.superstep  # a run stopped here has no result to count its steps
        return np.zeros(len(v))

    def _check(self, value: Any) -> Any:
        if self.time_limit is not None and time.monotonic() - self.start > self.time_limit:
            raise StudyTimeLimit(f"stopped by the study's time limit of {self.time_limit:g} s")
        return value

    def _copy(self, v: Any) -> np.ndarray:
        began = time.monotonic()
        values = np.asarray(v.data[self.field])
        if self.snapshot is None or self.snapshot.shape[1:] != values.shape[1:] or self.snapshot.dtype != values.dtype:
            self.snapshot = np.zeros((self.n, *values.shape[1:]), dtype=values.dtype)
        self.snapshot[v.ids] = values
        self.step = v.superstep
        self._spent(time.monotonic() - began)
        return np.zeros(len(v))

    def _measure(self, value: Any) -> Any:
        began = time.monotonic()
        if self.snapshot is not None:
            quality = float(self.measure(self.snapshot, self.reference))
            self.points.append((self.step, began - self.start - self.overhead, quality))
        self._spent(time.monotonic() - began)
        return value

    def _spent(self, seconds: float) -> None:
        self.overhead += seconds
        if self.step > 0:
            self.step_overhead += seconds


def consistency(
    algorithm: str | StudyAlgorithm,
    graph: Graph,
    workers: int = 1,
    configurations: Sequence[Configuration | str] | None = None,
    progress: bool = True,
    *,
    schedulers: Sequence[str] | None = None,
    time_limit: float | None = 60.0,
    trace_every: int | None = None,
    warmup: bool = True,
    **algorithm_options: Any,
) -> StudyTable:
    """Run ``algorithm`` on ``graph`` under every engine, consistency model and scheduler; one row each.

    Parameters
    ----------
    algorithm : str or StudyAlgorithm
        A name from :data:`ALGORITHMS` (``"pagerank"``, ``"sssp"``,
        ``"connected-components"``) or an entry of your own.
    graph : Graph
    workers : int
        Workers of every run (more than one: the multiprocess backend, and
        traces of the final point only).
    configurations : sequence of Configuration or str, optional
        What to run (names like ``"async/edge/fifo"``); default
        :func:`configurations_for` the algorithm.
    progress : bool
        A tqdm bar over the configurations (on stderr).
    schedulers : sequence of str, optional
        Schedulers of the default asynchronous configurations (default:
        those that make sense for the algorithm; add ``"random"`` here).
    time_limit : float, optional
        Seconds one configuration may run before it is stopped and
        reported as such (checked after every step; None: no limit).
    trace_every : int, optional
        Vertex updates between trace points (default ``n // 10``; with
        one worker only).
    warmup : bool
        First run the synchronous configuration once, untimed, so that the
        first configuration does not pay alone for what every later one
        finds ready: compiled kernels loaded, the cut and its layouts
        cached with the graph.  (Colourings are not warmed: each chromatic
        model's colouring is part of what that configuration costs, and
        its row's ``seconds``, unlike ``step_seconds``, include it.)
    **algorithm_options
        Passed to the algorithm and on to :func:`gasengine.run`: its own
        options (``tol``, ``source``, ``weight``, ...) and engine options
        (``batch_size``, ``partitions``, ``seed``, ...).

    Returns
    -------
    StudyTable
        One :class:`StudyRow` per configuration, in order.  A configuration
        that fails (not implemented, not converged, stopped by the time
        limit, any error) gets a row saying why; the study goes on.

    Examples
    --------
    >>> g = Graph([0, 1, 2, 3, 0], [1, 2, 3, 0, 2])
    >>> table = consistency("pagerank", g, progress=False, tol=1e-12,
    ...                     configurations=["sync", "chromatic/edge", "async/vertex/fifo"])
    >>> [round(row.quality, 9) for row in table.rows]
    [0.0, 0.0, 0.0]
    """
    from tqdm import tqdm

    entry = study_algorithm(algorithm)
    if configurations is None:
        chosen = configurations_for(entry, schedulers)
    else:
        if schedulers is not None:
            raise ValueError("give schedulers or configurations, not both")
        chosen = [c if isinstance(c, Configuration) else Configuration.parse(c) for c in configurations]
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"time_limit must be a positive number of seconds or None, got {time_limit!r}")
    n = graph.num_vertices
    if trace_every is None:
        trace_every = max(1, n // 10)
    elif isinstance(trace_every, bool) or not isinstance(trace_every, (int, np.integer)) or trace_every < 1:
        raise ValueError(f"trace_every must be an integer >= 1, got {trace_every!r}")
    options = {**entry.defaults, **algorithm_options}
    if entry.resolve is not None:
        options = entry.resolve(graph, options)
    reference = entry.reference(graph, options)
    # sync operations run in this process only on the local backend, one worker
    in_process = workers == 1 and options.get("backend") in (None, "local")
    bar = tqdm(
        chosen,
        desc=f"consistency study: {entry.name}",
        unit="config",
        file=sys.stderr,
        disable=not progress,
        leave=False,
    )
    if warmup:
        _run_one(entry, graph, Configuration("sync"), workers, options, reference, time_limit, None)
    rows = []
    try:
        for config in bar:
            bar.set_postfix_str(config.name, refresh=True)
            rows.append(
                _run_one(
                    entry,
                    graph,
                    config,
                    workers,
                    options,
                    reference,
                    time_limit,
                    int(trace_every) if in_process else None,
                )
            )
    finally:
        bar.close()
    title = (
        f"consistency study: {entry.name} on {n} vertices, {graph.num_edges} edges, "
        f"{workers} worker{'s' if workers != 1 else ''}; errors against the exact answer"
    )
    return StudyTable(rows, title=title, algorithm=entry.name, digits=entry.quality.digits)


def _run_one(
    entry: StudyAlgorithm,
    graph: Graph,
    config: Configuration,
    workers: int,
    options: dict[str, Any],
    reference: Any,
    time_limit: float | None,
    trace_every: int | None,
) -> StudyRow:
    """One configuration's row; failures become rows, never exceptions."""
    recorder = _Recorder(entry, reference, graph.num_vertices, time_limit)
    call = {**options, **config.run_options(), "workers": workers}
    call["aggregators"] = [*options.get("aggregators", ()), *recorder.aggregators(trace_every)]
    result: Result | None = None
    error = ""
    began = recorder.start = time.monotonic()
    try:
        _, result = entry.run(graph, **call)
    except ConvergenceError as exc:
        result = exc.result if isinstance(exc.result, Result) else None
        error = _one_line(exc)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - a study reports every failure in its row and goes on
        error = f"stopped by the study's time limit of {time_limit:g} s" if _is_time_limit(exc) else _one_line(exc)
    wall = time.monotonic() - began - recorder.overhead
    base = {
        "configuration": config.name,
        "engine": config.engine,
        "consistency": config.consistency,
        "scheduler": config.scheduler or "",
        "quality_name": entry.quality.name,
    }
    if result is None:
        trace = _trace(entry, recorder, None, None, None)
        steps_seen = recorder.last_step if trace_every is not None else None  # from this process only
        return StudyRow(
            **base,
            seconds=wall,
            step_seconds=None,
            updates=None,
            steps=steps_seen,
            parallelism=None,
            conflicts=None,
            quality=trace.quality[-1] if len(trace) and entry.trace is None else None,
            converged=False,
            error=error,
            trace=trace,
        )
    steps = result.steps
    updates = int(sum(r.updates for r in steps))
    finished = not error and result.converged
    quality = final = None
    try:
        answer = np.asarray(result.field(entry.field))
        quality = float(entry.quality.measure(answer, reference))
        final = float(entry.trace_quality.measure(answer, reference))
    except Exception as exc:  # noqa: BLE001 - a faulty measure is the entry's problem, reported in its row
        error = "; ".join(filter(None, [error, f"quality not measured: {_one_line(exc)}"]))
    return StudyRow(
        **base,
        seconds=wall,
        step_seconds=float(sum(r.seconds for r in steps)) - recorder.step_overhead,
        updates=updates,
        steps=result.supersteps,
        parallelism=updates / len(steps) if len(steps) else 0.0,
        conflicts=result.conflicts,
        quality=quality,
        converged=finished,
        error=error,
        trace=_trace(entry, recorder, result, wall, final),
    )


def _trace(
    entry: StudyAlgorithm, recorder: _Recorder, result: Result | None, wall: float | None, final: float | None
) -> Trace:
    """The recorded points with cumulative updates (from the result's steps), ending at the final answer."""
    name = entry.trace_quality.name
    if not recorder.points and (result is None or final is None or wall is None):
        return Trace(name)
    step = np.array([p[0] for p in recorder.points], dtype=np.int64)
    seconds = np.array([p[1] for p in recorder.points])
    quality = np.array([p[2] for p in recorder.points])
    if result is None:
        return Trace(name, np.full(step.size, np.nan), seconds, quality)
    rows = np.array([r.superstep for r in result.steps], dtype=np.int64)
    done = np.cumsum([r.updates for r in result.steps], dtype=np.float64)
    # updates through superstep s: every row of the sweeps and rounds up to s (rows are in step order)
    last = np.searchsorted(rows, step, side="right") - 1
    updates = np.where(last >= 0, done[np.maximum(last, 0)] if done.size else 0.0, 0.0)
    total = float(done[-1]) if done.size else 0.0
    if not recorder.points or updates[-1] < total or step[-1] < result.supersteps:
        # the last point is the finished run (the final answer), whether or not a trace point fell there
        updates = np.append(updates, total)
        seconds = np.append(seconds, wall)
        quality = np.append(quality, final)
    return Trace(name, updates, seconds, quality)


def _is_time_limit(exc: BaseException) -> bool:
    """Whether ``exc`` is, wraps or reports (from a worker) the study's time limit."""
    seen = exc
    while seen is not None:
        if isinstance(seen, StudyTimeLimit) or "study's time limit" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _one_line(exc: BaseException) -> str:
    """The first line of an error, with its type when the message alone would not say what failed."""
    text = str(exc).split("\n--- worker", 1)[0].strip()
    text = " ".join(text.split("\n"))
    if not text:
        return type(exc).__name__
    if isinstance(exc, (NotImplementedError, ConvergenceError)):
        return text
    return f"{type(exc).__name__}: {text}"
