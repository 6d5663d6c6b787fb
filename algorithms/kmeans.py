"""k-means (Lloyd's algorithm) with the points as vertices and the centres as a sync operation.

Every point is a vertex with field ``"x"`` (shape ``(n, d)``); the graph
needs no edges.  The ``k`` centres are not stored on any vertex: they are
the value of the sync operation ``"kmeans_centres"``, which every program
method reads as ``v.globals["kmeans_centres"]`` (shape ``(k, d)``).

One superstep of the synchronous engine is exactly one Lloyd iteration:

1. ``apply`` (every vertex, every superstep) assigns each point to its
   nearest centre of ``v.globals["kmeans_centres"]`` (squared Euclidean
   distance; ties go to the lowest cluster index) and records whether its
   label changed;
2. after the apply the engine runs the sync operations:
   ``"kmeans_centres"`` is a *keyed* sync operation (``num_keys=k``): every
   point contributes ``[x, 1]`` (its coordinates and a count) under its
   label, the engine sums them per cluster, and ``finalize`` divides the
   sums by the counts, giving the new centres; ``"kmeans_changes"`` counts
   the changed labels.
3. ``converged`` ends the run when no label changed.

Before the first superstep the engine runs every sync operation once; no
point contributes then, and ``"kmeans_centres"`` yields the initial centres.

**Empty clusters keep their previous centre**: ``finalize`` receives the
previous centres as its second argument (None before the first superstep,
when it returns the initial ones).  Nothing is kept on the program between
calls, so the result does not depend on the number of parts or workers
(sums only up to rounding).

When ``max_iter`` stops the run first, the centres are those recomputed
from the last assignment, as after ``max_iter`` Lloyd iterations.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gasengine import Aggregator, Graph, Result, VertexProgram, rank_zero, run

CENTRES = "kmeans_centres"
CHANGES = "kmeans_changes"


class KMeansProgram(VertexProgram):
    """Lloyd's k-means as a vertex program: points are vertices, centres a sync operation.

    Vertex fields: ``"x"`` (the points, given in the graph, float ``(n, d)``),
    created here ``"label"`` (int64, -1 before the first assignment) and
    ``"changed"`` (int64, 1 where the last assignment changed the label).

    Parameters
    ----------
    initial_centres : array_like, shape (k, d)
        The starting centres (the value of ``"kmeans_centres"`` before the
        first superstep).

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> x = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> r = run(KMeansProgram([[0.0], [1.0]]), Graph([], [], num_vertices=4, vertex_data={"x": x}))
    >>> r.field("label").tolist(), r.aggregates["kmeans_centres"].ravel().tolist(), r.supersteps
    ([0, 0, 1, 1], [0.5, 10.5], 3)
    """

    def __init__(self, initial_centres: Any):
        c = np.array(initial_centres, dtype=np.float64)
        if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
            raise ValueError(f"initial_centres must have shape (k, d) with k, d >= 1, got {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ValueError("initial_centres must be finite (no NaN or infinity)")
        c.flags.writeable = False
        self.initial_centres = c
        self.k, self.d = c.shape
        self.aggregators = (
            Aggregator(CENTRES, self._cluster_sums, finalize=self._centres, num_keys=self.k),
            Aggregator(CHANGES, lambda v: v.data["changed"]),
        )

    def init(self, v):
        x = v.data["x"]
        if x.ndim != 2 or x.shape[1] != self.d:
            raise ValueError(f"vertex field 'x' must have shape (n, {self.d}) to match the centres, got {x.shape}")
        v.data["label"] = np.full(len(v), -1, dtype=np.int64)
        v.data["changed"] = np.zeros(len(v), dtype=np.int64)

    def apply(self, v, acc):
        labels = nearest_centre(v.data["x"], v.globals[CENTRES])
        v.data["changed"] = (labels != v.data["label"]).astype(np.int64)
        v.data["label"] = labels
        v.signal()  # every point is assigned again in the next iteration

    def converged(self, globals: Any) -> bool:  # a Globals: its step and the sync values
        return globals.step >= 1 and int(globals[CHANGES]) == 0

    def _cluster_sums(self, v) -> tuple[np.ndarray, np.ndarray]:
        """Per point its cluster and ``[x, 1]``, summed per cluster by the engine.

        No point before the first superstep.
        """
        if v.superstep == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.d + 1))
        return v.data["label"], np.column_stack([v.data["x"], np.ones(len(v))])

    def _centres(self, sums: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
        """The new centres from the summed ``(k, d + 1)`` ``[sums, count]``; the start before the first superstep."""
        if previous is None:
            return self.initial_centres
        return centres_from_block(np.concatenate([sums, previous], axis=1))


def centres_from_block(block: np.ndarray) -> np.ndarray:
    """New centres ``(k, d)`` from the summed ``(k, 2 d + 1)`` block.

    The mean of the points, or the previous centre if empty.

    Examples
    --------
    >>> b = np.array([[4.0, 2.0, 9.0], [0.0, 0.0, 7.0]])  # d = 1: [sum, count, previous]
    >>> centres_from_block(b).tolist()
    [[2.0], [7.0]]
    """
    d = (block.shape[1] - 1) // 2
    sums, count, previous = block[:, :d], block[:, d : d + 1], block[:, d + 1 :]
    return np.where(count > 0, sums / np.maximum(count, 1.0), previous)


def nearest_centre(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of every point (squared Euclidean distance; ties: lowest index).

    Computed as ``sum_j (x[:, j] - c[:, j]) ** 2`` over the ``d`` coordinates
    in order, so a point's distances do not depend on the batch it comes in.

    Examples
    --------
    >>> nearest_centre(np.array([[0.0], [2.0], [5.0]]), np.array([[0.0], [4.0]])).tolist()
    [0, 0, 1]
    """
    x = np.asarray(x)
    centres = np.asarray(centres)
    dist = np.zeros((len(x), len(centres)))
    for j in range(x.shape[1]):  # a loop over the d coordinates, each step vectorised over points and centres
        dist += (x[:, j, None] - centres[None, :, j]) ** 2
    return dist.argmin(axis=1).astype(np.int64)


def kmeans_plus_plus(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ starting centres (Arthur and Vassilvitskii): ``k`` distinct-as-possible points.

    The first centre is a uniformly drawn point, each next one a point drawn
    with probability proportional to its squared distance to the nearest
    centre chosen so far (uniformly if all those distances are 0).

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [10.0]])
    >>> sorted(kmeans_plus_plus(x, 2, np.random.default_rng(0)).ravel().tolist())[-1]
    10.0
    """
    n = len(points)
    chosen = np.empty(k, dtype=np.intp)
    chosen[0] = rng.integers(n)
    d2 = ((points - points[chosen[0]]) ** 2).sum(axis=1)
    for i in range(1, k):
        total = d2.sum()
        chosen[i] = rng.choice(n, p=d2 / total) if total > 0 else rng.integers(n)
        d2 = np.minimum(d2, ((points - points[chosen[i]]) ** 2).sum(axis=1))
    return points[chosen].copy()


@dataclass(frozen=True, eq=False)
class KMeansResult:
    """What :func:`kmeans` returns.

    Attributes
    ----------
    centres : ndarray, shape (k, d)
    labels : ndarray of int64, shape (n,)
        Cluster of every point.
    inertia : float
        Sum of squared distances of the points to the centres of their clusters.
    iterations : int
        Lloyd iterations (supersteps) run, the last one included (which,
        when converged, changed no label).
    converged : bool
        Whether an iteration changed no label within ``max_iter``.
    initial_centres : ndarray, shape (k, d)
    result : Result
        The engine's result.
    """

    centres: np.ndarray
    labels: np.ndarray
    inertia: float
    iterations: int
    converged: bool
    initial_centres: np.ndarray
    result: Result | None = field(default=None, repr=False)

    def __iter__(self):  # ``centres, labels = kmeans(...)``
        return iter((self.centres, self.labels))


@rank_zero
def kmeans(
    points: Any,
    k: int,
    init: str | Any = "k-means++",
    max_iter: int = 300,
    seed: int = 0,
    **engine_options: Any,
) -> KMeansResult:
    """k-means clustering by Lloyd's iterations on the gasengine (see the module docstring).

    Parameters
    ----------
    points : array_like, shape (n, d)
        Finite points.
    k : int
        Number of clusters, ``1 <= k <= n``.
    init : {"k-means++", "random"} or array_like of shape (k, d)
        Starting centres: k-means++ seeding, ``k`` distinct points drawn
        uniformly, or the given centres.
    max_iter : int
        Most Lloyd iterations (supersteps).
    seed : int
        Seed of the initialisation (``numpy.random.default_rng(seed)``).
    **engine_options
        Passed to :func:`gasengine.run` (``partitions``, ``workers``, ...).

    Returns
    -------
    KMeansResult
        ``.centres``, ``.labels``, ``.inertia``, ``.iterations``; unpacks as
        ``centres, labels``.

    Raises
    ------
    ValueError
        For points that are not a finite ``(n, d)`` array, ``k`` outside
        ``1..n``, an unknown ``init`` or centres of the wrong shape, and
        ``max_iter < 1``; the message names the argument.

    Examples
    --------
    >>> x = np.array([[0.0, 0.0], [0.0, 1.0], [9.0, 9.0], [9.0, 10.0]])
    >>> centres, labels = kmeans(x, 2, init=x[[0, 2]])
    >>> centres.tolist(), labels.tolist()
    ([[0.0, 0.5], [9.0, 9.5]], [0, 0, 1, 1])
    >>> kmeans(x, 5)
    Traceback (most recent call last):
    ...
    ValueError: k must be an integer with 1 <= k <= n = 4 (the number of points), got 5
    """
    x = _check_points(points)
    n = len(x)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n:
        raise ValueError(f"k must be an integer with 1 <= k <= n = {n} (the number of points), got {k!r}")
    k = int(k)
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if "max_supersteps" in engine_options:
        raise TypeError("kmeans takes max_iter (its iteration budget), not max_supersteps")
    start = _initial_centres(x, k, init, seed)
    graph = Graph([], [], num_vertices=n, vertex_data={"x": x})
    result = run(KMeansProgram(start), graph, max_supersteps=int(max_iter), **engine_options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    centres = np.asarray(result.aggregates[CENTRES], dtype=np.float64)
    labels = result.field("label")
    inertia = float(((x - centres[labels]) ** 2).sum())
    return KMeansResult(centres, labels, inertia, result.supersteps, bool(result.converged), start, result)


def _check_points(points: Any) -> np.ndarray:
    try:
        x = np.array(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"points must be a numeric array of shape (n, d): {exc}") from None
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ValueError(f"points must have shape (n, d) with n, d >= 1, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.isfinite(x).all(axis=1))[0])
        raise ValueError(f"points must be finite; point {bad} is {x[bad].tolist()}")
    return x


def _initial_centres(x: np.ndarray, k: int, init: Any, seed: int) -> np.ndarray:
    if isinstance(init, str):
        rng = np.random.default_rng(seed)
        if init == "k-means++":
            return kmeans_plus_plus(x, k, rng)
        if init == "random":
            return x[rng.choice(len(x), size=k, replace=False)].copy()
        raise ValueError(f"init must be 'k-means++', 'random' or an array of shape (k, d); got {init!r}")
    try:
        c = np.array(init, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"init must be 'k-means++', 'random' or an array of shape (k, d): {exc}") from None
    if c.shape != (k, x.shape[1]):
        raise ValueError(f"init centres must have shape (k, d) = {(k, x.shape[1])}, got {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("init centres must be finite (no NaN or infinity)")
    return c
