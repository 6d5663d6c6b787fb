"""Approximate neighbourhood function and diameter with HyperLogLog counters (HyperANF).

The *neighbourhood function* of a graph is ``N(t)``, the number of ordered
pairs ``(x, y)`` with ``y`` at distance at most ``t`` from ``x`` (``N(0) = n``,
the pairs ``(x, x)``).  From it follow the diameter (the last ``t`` at which
``N`` grows), the *effective diameter* (the distance within which 90% of the
connected pairs lie) and the average distance.  Computing it exactly needs a
breadth-first search from every vertex; HyperANF (Boldi, Rosa and Vigna 2011,
"HyperANF: approximating the neighbourhood function of very large graphs on
a budget") estimates it in a few passes over the edges.

Method
------
Every vertex ``x`` holds a HyperLogLog counter (Flajolet, Fusy, Gandouet and
Meunier 2007) of its *ball* ``B(x, t)``, the vertices within distance ``t``:
``2**b`` one-byte registers, a vector vertex field of shape ``(n, 2**b)``.
At ``t = 0`` the counter holds ``x`` alone: a seeded 64-bit hash of the
vertex number picks one register (the top ``b`` bits) and a value (one plus
the trailing zeros of the other bits).  Since

    B(x, t + 1) = {x} ∪ ⋃ over arcs x -> y of B(y, t),

superstep ``t + 1`` of the synchronous engine gathers the out-neighbours'
counters with ``combine = np.maximum`` — the union of HyperLogLog counters
is their register-wise maximum — and folds in the vertex's own.  A sync
operation sums the per-vertex cardinality estimates after every superstep:
that sum is the estimate of ``N(t)``, recorded in ``Result.history``.

Only vertices whose counter changed signal (their in-neighbours, the
vertices that gather from them): a counter whose out-neighbours all kept
theirs cannot change, so the frontier holds exactly the vertices that may
still grow and late supersteps touch few of them.  The run ends when no
counter changes; the last superstep that changed one is a lower bound on the
diameter (a counter only changes when its ball grew, but a ball may grow
without its counter changing).

Accuracy
--------
A counter with ``m = 2**b`` registers estimates a cardinality with relative
standard error about ``1.04 / sqrt(m)`` (13% for ``b = 6``, 9.2% for 7,
6.5% for 8, 1.6% for 12), using the standard estimator with linear counting
for small cardinalities.  ``N(t)`` is a sum of such estimates, so its
relative standard error is at most the same (in practice well below it:
the errors of many counters partly cancel).  Memory and gather traffic grow
as ``m`` bytes per vertex and per edge.

Which distances
---------------
Counters follow **out-arcs**.  On an undirected :class:`~gasengine.Graph`
(every edge stored both ways) that is the usual undirected distance, and on
a connected graph the diameter lower bound estimates ``networkx.diameter``;
on a disconnected one, the largest distance within a component (``N`` only
counts pairs that are connected).  On a directed graph ``N(t)`` counts the
pairs ``(x, y)`` with a directed path of at most ``t`` arcs from ``x`` to
``y`` (HyperANF's definition), and the bound is on the largest finite
directed distance; pass ``graph.to_undirected()`` for the undirected one.

Engines
-------
``N(t)`` needs the balls of radius ``t`` after superstep ``t``, which only
the synchronous engine gives: :func:`approximate_diameter` refuses the
others.  :class:`HyperANFProgram` itself runs under every engine and ends
with the same counters (each is the counter of the set of vertices its vertex
reaches: maxima do not depend on order), only its per-step values differ.

The sums are exact: every per-vertex estimate is stored as a fixed-point
pair of integers (whole part, fraction in units of ``2**-32``) that the sync
operation adds up as ``int64``, so ``N(t)`` is the same bit for bit on any
number of parts and workers.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from gasengine import IN, OUT, Aggregator, Graph, Result, VertexProgram, VertexView, rank_zero, run

#: Vertex fields the program keeps.
REGISTERS = "hll"
ESTIMATE = "hll_estimate"  # fixed point, int64 (n, 2): whole part, fraction * 2**32
LAST_CHANGE = "last_change"
#: The sync operation whose history is N(t).
NEIGHBOURHOOD = "neighbourhood_function"

MIN_PRECISION, MAX_PRECISION = 4, 16
FRACTION_BITS = 32
DEFAULT_PRECISION = 6


# ------------------------------------------------------------------ HyperLogLog counters
def check_precision(precision: Any) -> int:
    """``precision`` as an int in ``4..16``, or a ValueError naming it.

    Examples
    --------
    >>> check_precision(7)
    7
    >>> check_precision(3)
    Traceback (most recent call last):
    ...
    ValueError: precision must be an integer in 4..16 (2**precision registers per counter), got 3
    """
    if (
        isinstance(precision, bool)
        or not isinstance(precision, numbers.Integral)
        or not MIN_PRECISION <= int(precision) <= MAX_PRECISION
    ):
        raise ValueError(
            f"precision must be an integer in {MIN_PRECISION}..{MAX_PRECISION} "
            f"(2**precision registers per counter), got {precision!r}"
        )
    return int(precision)


def relative_standard_error(precision: int) -> float:
    """The relative standard error ``1.04 / sqrt(2**precision)`` of one counter's estimate.

    Examples
    --------
    >>> round(relative_standard_error(6), 4), round(relative_standard_error(8), 4)
    (0.13, 0.065)
    """
    return 1.04 / 2.0 ** (check_precision(precision) / 2)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (Steele, Lea and Flood): a bijective 64-bit mix, vectorised.

    Examples
    --------
    >>> splitmix64(np.array([0, 1], dtype=np.uint64)).tolist()   # a bijection: 0 -> 0
    [0, 6238072747940578789]
    """
    z = np.asarray(x, dtype=np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)  # uint64 arrays wrap: that is the mix
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def vertex_hashes(ids: np.ndarray, seed: int) -> np.ndarray:
    """A seeded 64-bit hash of every vertex number: distinct numbers, distinct hashes.

    Examples
    --------
    >>> h = vertex_hashes(np.arange(4), seed=0)
    >>> h.dtype, len(set(h.tolist())), (h != vertex_hashes(np.arange(4), seed=1)).all()
    (dtype('uint64'), 4, np.True_)
    """
    # the seed moves the keys by a mixed offset, then the mix spreads them; both are bijections
    offset = splitmix64(np.array([int(seed) % 2**64], dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15))
    return splitmix64(np.asarray(ids).astype(np.uint64) + offset)


def singleton_registers(ids: np.ndarray, precision: int, seed: int) -> np.ndarray:
    """HyperLogLog counters of the sets ``{x}``, one row per vertex number ``x``, uint8.

    The top ``precision`` bits of the hash choose the register, the others
    its value: one plus their trailing zeros (a geometric variable, 1 with
    probability 1/2, 2 with 1/4 ...), at most ``64 - precision + 1``.

    Examples
    --------
    >>> r = singleton_registers(np.arange(3), precision=4, seed=0)
    >>> r.shape, r.dtype, (np.count_nonzero(r, axis=1) == 1).all()
    ((3, 16), dtype('uint8'), np.True_)
    """
    b = check_precision(precision)
    h = vertex_hashes(ids, seed)
    rest_bits = 64 - b
    index = (h >> np.uint64(rest_bits)).astype(np.intp)
    # a sentinel bit above the rest caps the value at rest_bits + 1 when the rest is all zeros
    rest = (h & np.uint64((1 << rest_bits) - 1)) | np.uint64(1 << rest_bits)
    lowest = rest & (~rest + np.uint64(1))  # the lowest set bit alone
    value = np.bitwise_count(lowest - np.uint64(1)) + 1  # trailing zeros + 1
    registers = np.zeros((h.size, 1 << b), dtype=np.uint8)
    registers[np.arange(h.size), index] = value.astype(np.uint8)
    return registers


def hll_alpha(m: int) -> float:
    """The bias correction ``alpha_m`` of the HyperLogLog estimator (Flajolet et al. 2007).

    Examples
    --------
    >>> hll_alpha(16), round(hll_alpha(1024), 4)
    (0.673, 0.7205)
    """
    return {16: 0.673, 32: 0.697, 64: 0.709}.get(m, 0.7213 / (1.0 + 1.079 / m))


def hll_cardinality(registers: np.ndarray) -> np.ndarray:
    """The estimated cardinality of every counter (row) of ``registers``.

    The raw estimate ``alpha_m m**2 / sum_j 2**-M_j`` and, below ``5 m / 2``
    when some register is zero, linear counting ``m ln(m / zeros)``; no
    large-range correction (the hashes have 64 bits).  One compiled pass,
    row by row, so a row's estimate does not depend on its batch.

    Parameters
    ----------
    registers : ndarray of uint8, shape (k, m)

    Returns
    -------
    ndarray of float64, shape (k,)

    Examples
    --------
    >>> empty = np.zeros((1, 64), dtype=np.uint8)
    >>> one = singleton_registers(np.array([5]), precision=6, seed=0)
    >>> hll_cardinality(np.vstack([empty, one])).round(3).tolist()
    [0.0, 1.008]
    """
    registers = np.asarray(registers)
    if registers.ndim != 2 or registers.dtype != np.uint8:
        raise TypeError(
            f"hll_cardinality needs uint8 registers of shape (k, m), got {registers.dtype} {registers.shape}"
        )
    m = registers.shape[1]
    return _cardinality(registers, hll_alpha(m) * m * m)


@njit(cache=True)
def _cardinality(registers, alpha_mm):  # pragma: no cover - compiled
    k, m = registers.shape
    out = np.empty(k, dtype=np.float64)
    for r in range(k):
        z = 0.0
        zeros = 0
        for j in range(m):
            value = registers[r, j]
            z += 2.0 ** -np.float64(value)  # exact: powers of two, summed in register order
            zeros += value == 0
        estimate = alpha_mm / z
        if estimate <= 2.5 * m and zeros > 0:
            estimate = m * np.log(m / zeros)
        out[r] = estimate
    return out


def to_fixed(estimates: np.ndarray) -> np.ndarray:
    """Estimates as fixed-point ``int64`` pairs ``(whole, fraction * 2**32)`` that add up exactly.

    Examples
    --------
    >>> to_fixed(np.array([1.5, 2.0])).tolist()
    [[1, 2147483648], [2, 0]]
    >>> float(from_fixed(to_fixed(np.array([1.25, 0.5])).sum(axis=0)))
    1.75
    """
    whole = np.floor(estimates)
    fraction = np.rint((estimates - whole) * 2.0**FRACTION_BITS)
    return np.column_stack([whole, fraction]).astype(np.int64)


def from_fixed(pair: np.ndarray) -> np.ndarray:
    """The float value of fixed-point pairs from :func:`to_fixed` (or of their sum).

    Examples
    --------
    >>> from_fixed(np.array([[3, 2**31]])).tolist()
    [3.5]
    """
    pair = np.asarray(pair)
    return pair[..., 0] + pair[..., 1] / 2.0**FRACTION_BITS


# ------------------------------------------------------------------ the vertex program
class HyperANFProgram(VertexProgram):
    """HyperANF: every vertex's HyperLogLog counter of its ball, grown one hop per superstep.

    Vertex fields: ``"hll"`` (uint8, ``(n, 2**precision)``: the registers),
    ``"hll_estimate"`` (int64 ``(n, 2)``: the counter's cardinality estimate
    in fixed point, see :func:`from_fixed`) and ``"last_change"`` (int64: the
    last superstep that changed the counter, a lower bound on the vertex's
    eccentricity).  The sync operation ``"neighbourhood_function"`` is the
    sum of the estimates, ``N(t)`` after superstep ``t`` under the sync
    engine.  Counters gather over out-arcs and signal over in-arcs (see the
    module docstring).

    Parameters
    ----------
    precision : int
        ``b``: ``2**b`` registers per counter, ``4 <= b <= 16`` (default 6);
        relative standard error ``1.04 / sqrt(2**b)``.
    seed : int
        Seed of the vertex hash.

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> path = Graph([0, 1, 2], [1, 2, 3], directed=False)        # 0 - 1 - 2 - 3
    >>> r = run(HyperANFProgram(precision=8), path)
    >>> r.field("last_change").tolist()                           # eccentricities 3 2 2 3
    [3, 2, 2, 3]
    >>> [round(n) for _, n in r.history["neighbourhood_function"]]  # exact: 4, 10, 14, 16, 16
    [4, 10, 14, 16, 16]
    """

    gather_edges = OUT  # B(x, t + 1) takes the balls of the vertices x points to ...
    scatter_edges = IN  # ... so a changed counter tells the vertices pointing to it
    combine = np.maximum  # the union of HyperLogLog counters: register-wise maximum

    seed: int  # set in __init__ after a numbers.Integral check type checkers cannot follow

    def __init__(self, precision: int = DEFAULT_PRECISION, seed: int = 0) -> None:
        self.precision = check_precision(precision)
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"seed must be an integer, got {seed!r}")
        self.seed = int(seed)
        # int64 sums of fixed-point estimates: exact, so N(t) does not depend on parts or workers
        self.aggregators = (Aggregator(NEIGHBOURHOOD, lambda v: v.data[ESTIMATE], finalize=_sum_value),)

    def init(self, v: VertexView) -> None:
        registers = singleton_registers(v.ids, self.precision, self.seed)
        v.data[REGISTERS] = registers
        v.data[ESTIMATE] = to_fixed(hll_cardinality(registers))
        v.data[LAST_CHANGE] = np.zeros(len(v), dtype=np.int64)

    def gather_nbr(self, u: VertexView) -> np.ndarray:
        return u.data[REGISTERS]

    def apply(self, v: VertexView, acc: np.ndarray) -> np.ndarray:
        old = v.data[REGISTERS]
        changed = (acc > old).any(axis=1)
        v.data[REGISTERS] = np.maximum(old, acc)
        if changed.any():  # estimates only for the counters that changed
            estimate = v.data[ESTIMATE].copy()
            estimate[changed] = to_fixed(hll_cardinality(np.maximum(old[changed], acc[changed])))
            v.data[ESTIMATE] = estimate
            v.data[LAST_CHANGE] = np.where(changed, v.superstep, v.data[LAST_CHANGE])
        return np.asarray(changed)  # only a changed counter signals

    def signal_nbrs(self, v: VertexView) -> np.ndarray:
        return np.ones(len(v), dtype=bool)


def _sum_value(total: np.ndarray) -> float:
    """The summed fixed-point estimates as a float (the value of ``N(t)``)."""
    return float(from_fixed(total))


# ------------------------------------------------------------------ statistics of N(t)
def effective_diameter(nf: Sequence[float] | np.ndarray, alpha: float = 0.9) -> float:
    """The interpolated effective diameter of a neighbourhood function (as WebGraph's HyperANF).

    With ``N(T)`` the last value, the smallest ``t`` with ``N(t) >= alpha N(T)``,
    linearly interpolated between ``t - 1`` and ``t``:
    ``t - 1 + (alpha N(T) - N(t - 1)) / (N(t) - N(t - 1))`` (0 if ``t = 0``).
    ``N(0)`` counts the pairs ``(x, x)``, as in Boldi, Rosa and Vigna.

    Parameters
    ----------
    nf : sequence of float
        ``N(0), N(1), ...``, non-decreasing.
    alpha : float
        The fraction of pairs, in ``(0, 1]``.

    Examples
    --------
    >>> effective_diameter([4, 10, 14, 16])   # 0.9 * 16 = 14.4 lies between N(2) and N(3)
    2.2
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    nf = np.asarray(nf, dtype=np.float64)
    if nf.size == 0 or nf[-1] <= 0:
        return 0.0
    target = alpha * nf[-1]
    t = int(np.argmax(nf >= target * (1 - 1e-12)))  # the tolerance: alpha = 1 must reach the last value
    if t == 0:
        return 0.0
    return float(t - 1 + min((target - nf[t - 1]) / (nf[t] - nf[t - 1]), 1.0))


def average_distance(nf: Sequence[float] | np.ndarray) -> float:
    """The average distance over the pairs of distinct connected vertices, from ``N(t)``.

    ``sum_t t (N(t) - N(t - 1)) / (N(T) - N(0))``; 0 when no two vertices connect.

    Examples
    --------
    >>> average_distance([4, 10, 14, 16])   # 6 pairs at 1, 4 at 2, 2 at 3
    1.6666666666666667
    """
    nf = np.asarray(nf, dtype=np.float64)
    if nf.size < 2 or nf[-1] <= nf[0]:
        return 0.0
    grown = np.diff(nf)
    return float((np.arange(1, nf.size) * grown).sum() / grown.sum())


# ------------------------------------------------------------------ the functions
@dataclass(frozen=True, eq=False)
class DiameterEstimate:
    """What :func:`approximate_diameter` returns.

    Attributes
    ----------
    neighbourhood_function : ndarray of float64
        Estimated ``N(0), ..., N(T)``, ``T`` the diameter lower bound
        (``N(t) = N(T)`` beyond it).
    diameter_lower_bound : int
        The last superstep that changed a counter: a lower bound on the
        diameter (the largest finite distance), usually equal to it or one less.
    effective_diameter : float
        Interpolated distance within which ``alpha`` of the connected pairs
        lie (:func:`effective_diameter`).
    average_distance : float
        Over pairs of distinct connected vertices (:func:`average_distance`).
    eccentricity : ndarray of int64
        Per vertex, the last superstep that changed its counter: a lower
        bound on its (out-)eccentricity.
    reachable : ndarray of float64
        Per vertex, the estimated number of vertices it reaches, itself included.
    precision : int
    relative_standard_error : float
        ``1.04 / sqrt(2**precision)`` of one counter (and a bound for ``N(t)``).
    converged : bool
        False if ``max_supersteps`` stopped the run while counters still
        changed: then ``N`` is exact up to that step and the bounds hold.
    result : Result
        The engine's result.
    """

    neighbourhood_function: np.ndarray
    diameter_lower_bound: int
    effective_diameter: float
    average_distance: float
    eccentricity: np.ndarray
    reachable: np.ndarray
    precision: int
    relative_standard_error: float
    converged: bool
    result: Result | None = field(default=None, repr=False)


@rank_zero
def approximate_diameter(
    graph: Graph, *, precision: int = DEFAULT_PRECISION, seed: int = 0, alpha: float = 0.9, **engine_options: Any
) -> DiameterEstimate:
    """Estimated neighbourhood function, diameter and effective diameter by HyperANF.

    See the module docstring for the method and for which distances count.

    Parameters
    ----------
    graph : Graph
        Undirected: the usual distances.  Directed: distances along the arcs
        (``N(t)`` counts pairs ``x -> y`` within ``t`` arcs); pass
        ``graph.to_undirected()`` to ignore directions.
    precision : int
        ``b`` in ``4..16``: ``2**b`` registers (bytes) per vertex.  One
        counter's relative standard error is ``1.04 / sqrt(2**b)``: 13% for
        the default 6, 9.2% for 7, 6.5% for 8, 1.6% for 12; ``N(t)``'s is at
        most that (on real graphs a few percent at the default).
    seed : int
        Seed of the vertex hash; the same seed gives the same answer.
    alpha : float
        Fraction of connected pairs for the effective diameter (default 0.9).
    **engine_options
        Passed to :func:`gasengine.run`: ``partitions``, ``partition``,
        ``workers``, ``backend``, ``max_supersteps`` ...  The answer is the
        same, bit for bit, on every number of parts and workers.  The engine
        must be ``"sync"`` (the default): ``N(t)`` needs every ball of
        radius ``t`` after superstep ``t``.

    Returns
    -------
    DiameterEstimate

    Raises
    ------
    TypeError
        If ``graph`` is not a :class:`~gasengine.Graph` or ``seed`` not an integer.
    ValueError
        For ``precision`` outside ``4..16``, ``alpha`` outside ``(0, 1]`` or
        an engine other than ``"sync"``; the message names the argument.

    Examples
    --------
    >>> import networkx as nx
    >>> from gasengine import Graph
    >>> est = approximate_diameter(Graph.from_networkx(nx.path_graph(6)), precision=8)
    >>> est.diameter_lower_bound, est.neighbourhood_function.round().tolist()   # exact: 6 16 24 30 34 36
    (5, [6.0, 16.0, 24.0, 30.0, 34.0, 36.0])
    >>> approximate_diameter(Graph([0], [1]), precision=20)
    Traceback (most recent call last):
    ...
    ValueError: precision must be an integer in 4..16 (2**precision registers per counter), got 20
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"expected a gasengine.Graph, got {type(graph).__name__} (Graph.from_networkx converts)")
    program = HyperANFProgram(precision, seed)
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
    engine = engine_options.setdefault("engine", "sync")
    if engine != "sync":
        raise ValueError(
            f"approximate_diameter runs on the sync engine only (engine={engine!r} given): N(t) needs every "
            "ball of radius t after superstep t; run HyperANFProgram directly for the final counters on other engines"
        )
    result = run(program, graph, **engine_options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    eccentricity = result.field(LAST_CHANGE)
    bound = int(eccentricity.max(initial=0))
    values = np.array([value for _, value in sorted(result.history[NEIGHBOURHOOD])], dtype=np.float64)
    nf = values[: bound + 1]
    return DiameterEstimate(
        neighbourhood_function=nf,
        diameter_lower_bound=bound,
        effective_diameter=effective_diameter(nf, alpha),
        average_distance=average_distance(nf),
        eccentricity=eccentricity,
        reachable=from_fixed(result.field(ESTIMATE)),
        precision=program.precision,
        relative_standard_error=relative_standard_error(program.precision),
        converged=result.converged,
        result=result,
    )


@rank_zero
def neighbourhood_function(
    graph: Graph, *, precision: int = DEFAULT_PRECISION, seed: int = 0, **engine_options: Any
) -> np.ndarray:
    """Estimated ``N(t)`` for ``t = 0, 1, ...`` up to the diameter lower bound (HyperANF).

    ``N(t)`` is the number of ordered pairs ``(x, y)`` with ``y`` within
    distance ``t`` of ``x``, ``(x, x)`` included; parameters as for
    :func:`approximate_diameter`, which also gives the diameters.

    Examples
    --------
    >>> from gasengine import Graph
    >>> neighbourhood_function(Graph([0, 1], [1, 2], directed=False), precision=8).round().tolist()  # 3 7 9
    [3.0, 7.0, 9.0]
    """
    return approximate_diameter(graph, precision=precision, seed=seed, **engine_options).neighbourhood_function
