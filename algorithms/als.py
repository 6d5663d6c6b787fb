"""Alternating least squares (ALS) with biases on a bipartite ratings graph.

The model predicts the rating of user ``u`` for item ``i`` as

    r_ui ~ mu + b_u + b_i + p_u . q_i

with ``mu`` the global mean of the training ratings, ``b_u``/``b_i`` user
and item biases and ``p_u``/``q_i`` factor vectors of length ``rank``.  It
minimises the squared error plus the *weighted-lambda* penalty of Zhou et
al. (2008), ``n_u (reg |p_u|^2 + bias_reg b_u^2)`` for every user and
likewise for every item, where ``n_u`` counts the ratings of the vertex
(``bias_reg`` is ``reg`` unless given).

Biases ride in the factor vectors (the usual constant-1 trick): a user
vector is ``[p_u, b_u, 1]`` and an item vector ``[q_i, 1, b_i]``.  Each
vertex stores ``x = [factors, own bias]`` (field ``"x"``, shape
``(n, rank + 1)``); seen from the other side, a neighbour contributes the
*features* ``f = [factors, 1]`` and the *target* ``t = r - mu - its bias``,
so fixing one side turns the other side's update into an independent
ridge regression per vertex.

One ALS iteration is two supersteps of the synchronous engine: the users
run first (the initial active set), each solving its regression against the
item vectors, then signal their items, which solve against the new user
vectors and signal the users back.  Per edge the gather returns the outer
product ``z z^T`` of ``z = [f, t]``, packed: the ``(rank + 2)(rank + 3) / 2``
entries of its upper triangle (row by row, as ``np.triu_indices`` orders
them), written by one compiled pass over the chunk; the engine folds them
per vertex in bounded chunks, and ``apply`` unpacks the sums into the
symmetric ``(rank + 2, rank + 2)`` matrix.  Its blocks are everything a
vertex needs:

    A = sum f f^T,   b = sum t f,   tt = sum t^2,   n = A[rank, rank]

(the constant-1 feature counts the ratings), and ``apply`` solves the
systems ``(A + reg n I) x = b`` of the whole batch in one batched
``np.linalg.solve``.  The same blocks give the vertex's training error
after its update without another pass over its edges,
``sum (t - f.x)^2 = tt - 2 x.b + x^T A x``; summed by a sync operation over
the side that just moved, that is the training RMSE of the model after
every half-step.  Held-out (validation) ratings are extra edges with the
edge field ``"held_out"`` set: they are gathered into a second matrix that
enters no system, only the validation error.

The run's edge chunks default to :data:`CHUNK_BYTES` (8 MiB) instead of the
engine's 64 MiB: a rating's packed matrix is 78 numbers at rank 10, and on
1M ratings an iteration took about 1.3 times less CPU time with 4-16 MiB
chunks than with 64 MiB ones (whose buffers are fresh pages every time)
or 1-2 MiB ones (more chunks, each with a fixed cost in the fold).

Sync operations (readable as ``globals[...]`` by programs and in
``Result.aggregates``):

``"als_rmse"``
    ``[train RMSE, validation RMSE]`` after the last superstep's half-step
    (validation NaN without held-out edges);
``"als_history"``
    one row ``[train, validation]`` per iteration, filled one superstep late
    (an aggregator reads the other aggregators' values of the previous
    round); :meth:`ALSProgram.history` completes the last row from
    ``"als_rmse"``.

A vertex with no ratings keeps zero factors and bias (it predicts from the
other side's terms and ``mu`` alone).
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from gasengine import ALL, Aggregator, Graph, Result, VertexProgram, rank_zero, run
from gasengine import ratings as rt

__all__ = ["ALSModel", "ALSProgram", "als", "bias_baseline"]

#: Edge field that marks held-out (validation) ratings in the graph a run trains on.
HELD_OUT = "held_out"
#: Default ``chunk_bytes`` of :func:`als` and :func:`bias_baseline` runs (a cache-sized chunk of packed matrices).
CHUNK_BYTES = 8 << 20


class ALSProgram(VertexProgram):
    """The ALS vertex program: users and items solve their ridge regressions in turn.

    Run it on a ratings graph with the users active at the start
    (``active=~graph.vertex_data["is_item"]``) on the synchronous engine;
    superstep ``2 t - 1`` updates the users and ``2 t`` the items of
    iteration ``t``.

    Parameters
    ----------
    rank : int
        Length of the factor vectors (``0``: biases only).
    reg : float
        Weighted-lambda regularisation of the factors: vertex ``v`` is
        penalised by ``reg * n_v * |factors|^2``, ``n_v`` its number of ratings.
    global_mean : float
        ``mu``, subtracted from every rating (the mean training rating).
    iterations : int
        Rows of the ``"als_history"`` sync operation (the iterations the
        run will make; more supersteps than ``2 * iterations`` are not
        recorded there).
    seed : int
        Seed of the initial factors: ``init_scale`` times standard normal
        draws, one row per vertex number (the same on any partitioning).
    init_scale : float
        Scale of the initial factors (biases start at 0).
    rating : str
        Edge field of the ratings.
    held_out : str, optional
        Bool edge field marking held-out ratings (validation error only).
    bias_reg : float, optional
        The same for the biases: ``bias_reg * n_v * bias^2`` (default ``reg``).

    Examples
    --------
    >>> import numpy as np
    >>> from gasengine import ratings, run
    >>> g = ratings.from_arrays([1, 1, 2, 2], [10, 20, 10, 20], [5.0, 3.0, 4.0, 2.0])
    >>> users = ~g.vertex_data["is_item"]
    >>> r = run(ALSProgram(rank=0, reg=0.0, global_mean=3.5), g, active=users, max_supersteps=2)
    >>> np.round(r.field("x")[:, 0], 6).tolist()  # biases of users 1, 2 and items 10, 20
    [0.5, -0.5, 1.0, -1.0]
    >>> float(r.aggregates["als_rmse"][0])  # training RMSE: the biases fit exactly
    0.0
    """

    gather_edges = ALL
    scatter_edges = ALL
    combine = np.add
    master_fields = ("als_stats",)  # read by the sync operations only: the k x k blocks never go to mirrors

    def __init__(
        self,
        rank: int,
        reg: float,
        global_mean: float,
        iterations: int = 1,
        seed: int = 0,
        init_scale: float = 0.1,
        rating: str = rt.RATING,
        held_out: str | None = None,
        bias_reg: float | None = None,
    ):
        self.rank = _check_int("rank", rank, minimum=0)
        self.reg = _check_reg(reg)
        self.bias_reg = self.reg if bias_reg is None else _check_reg(bias_reg, "bias_reg")
        if not math.isfinite(global_mean):
            raise ValueError(f"global_mean must be a finite number, got {global_mean!r}")
        self.global_mean = float(global_mean)
        self.iterations = _check_int("iterations", iterations, minimum=1)
        self.seed = _check_int("seed", seed, minimum=0)
        if not (math.isfinite(init_scale) and init_scale > 0):
            raise ValueError(f"init_scale must be a positive number, got {init_scale!r}")
        self.init_scale = float(init_scale)
        self.rating = rating
        self.held_out = held_out
        self.aggregators = (
            Aggregator("als_rmse", self._stats_of_side, finalize=_rmse_pair),
            Aggregator("als_history", self._history_rows, combine=np.maximum),
        )

    # ------------------------------------------------------------------ GAS
    def init(self, v):
        n, k = v.num_vertices, self.rank
        rated = (v.out_degree() + v.in_degree()) > 0
        x = np.zeros((len(v), k + 1))
        x[:, :k] = initial_factors(n, k, self.seed, self.init_scale)[v.ids] * rated[:, None]
        v.data["x"] = x
        v.data["als_stats"] = np.zeros((len(v), 4))  # train SSE, train n, validation SSE, validation n

    def gather(self, e):
        held = None if self.held_out is None else e.data[self.held_out]
        return packed_outer(e.nbr_data["x"], e.data[self.rating], self.global_mean, held)

    def apply(self, v, acc):
        k = self.rank
        d = k + 2
        train = unpack_symmetric(acc if self.held_out is None else acc[:, 0], d)
        count = train[:, k, k]
        x = solve_normal_equations(train, self.reg, self.bias_reg)
        stats = np.zeros((len(v), 4))
        stats[:, 0] = squared_error(train, x)
        stats[:, 1] = count
        if self.held_out is not None:
            held = unpack_symmetric(acc[:, 1], d)
            stats[:, 2] = squared_error(held, x)
            stats[:, 3] = held[:, k, k]
        v.data["x"] = x
        v.data["als_stats"] = stats

    def signal_nbrs(self, v):
        return np.ones(len(v), dtype=bool)  # the other side runs next

    # ------------------------------------------------------------------ sync operations
    def _stats_of_side(self, v) -> np.ndarray:
        """``als_stats`` of the side that applied in the superstep just run (zeros elsewhere)."""
        moved = v.data["is_item"] == (v.superstep % 2 == 0)
        return v.data["als_stats"] * moved[:, None]

    def _history_rows(self, v) -> np.ndarray:
        """The history so far (the previous round's value) plus the iteration ``als_rmse`` closed
        in the previous superstep; the same rows for every vertex (a broadcast, folded by max)."""
        history = v.globals.get("als_history")
        rows = np.full((self.iterations, 2), np.nan) if history is None else np.array(history, dtype=np.float64)
        done = v.superstep - 1  # the superstep whose als_rmse is in the globals now
        if done >= 2 and done % 2 == 0 and done // 2 <= self.iterations:
            rows[done // 2 - 1] = v.globals["als_rmse"]
        return np.broadcast_to(rows, (len(v), *rows.shape))

    @staticmethod
    def history(aggregates: Mapping[str, Any], supersteps: int) -> np.ndarray:
        """Train and validation RMSE per iteration, ``(iterations, 2)``, from a run's aggregates.

        ``supersteps`` is the number the run made; the last iteration's row
        (which ``"als_history"`` records one superstep late) is taken from
        ``"als_rmse"``.  Rows of iterations not run are NaN.

        Examples
        --------
        >>> ALSProgram.history({"als_history": np.full((2, 2), np.nan), "als_rmse": np.array([0.5, np.nan])}, 2)
        array([[0.5, nan],
               [nan, nan]])
        """
        rows = np.array(aggregates["als_history"], dtype=np.float64)
        if supersteps >= 2 and supersteps % 2 == 0 and supersteps // 2 <= rows.shape[0]:
            rows[supersteps // 2 - 1] = aggregates["als_rmse"]
        return rows


def packed_size(d: int) -> int:
    """Entries of the upper triangle of a ``d x d`` matrix, ``d (d + 1) / 2``.

    Examples
    --------
    >>> packed_size(12)  # rank 10: z = [factors, 1, target]
    78
    """
    return d * (d + 1) // 2


def unpack_symmetric(packed: np.ndarray, d: int) -> np.ndarray:
    """The symmetric ``(B, d, d)`` matrices whose upper triangles ``packed`` holds, ``(B, d (d + 1) / 2)``.

    The entries are row by row, as ``np.triu_indices(d)`` orders them.

    Examples
    --------
    >>> unpack_symmetric(np.array([[1.0, 2.0, 3.0]]), 2).tolist()
    [[[1.0, 2.0], [2.0, 3.0]]]
    """
    return np.take(packed, _packed_tables(d)[2], axis=1).reshape(packed.shape[0], d, d)


@functools.cache
def _packed_tables(d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column of every packed entry, and the packed position of every ``(i, j)`` (row-major)."""
    rows, cols = np.triu_indices(d)
    position = np.empty((d, d), dtype=np.intp)
    position[rows, cols] = np.arange(rows.size)
    position[cols, rows] = np.arange(rows.size)
    return rows.astype(np.intp), cols.astype(np.intp), position.ravel()


def packed_outer(y: np.ndarray, rating: np.ndarray, mu: float, held: np.ndarray | None = None) -> np.ndarray:
    """Per rating the packed upper triangle of ``z z^T``, ``z = [y[:, :k], 1, rating - mu - y[:, k]]``.

    ``y`` holds the neighbours' ``[factors, bias]`` (``(m, k + 1)``).  With
    ``held`` (a bool per rating) the result is ``(m, 2, d (d + 1) / 2)``:
    slot 0 for training ratings, slot 1 for held-out ones, the other slot
    zero.  One compiled pass, no temporary per-edge matrix.

    Examples
    --------
    >>> packed_outer(np.array([[2.0, 0.5]]), np.array([4.0]), 3.0).tolist()  # z = [2, 1, 0.5]
    [[4.0, 2.0, 1.0, 1.0, 0.5, 0.25]]
    >>> packed_outer(np.array([[2.0, 0.5]]), np.array([4.0]), 3.0, np.array([True]))[0, 0].tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    rating = np.ascontiguousarray(rating, dtype=np.float64)
    rows, cols, _ = _packed_tables(y.shape[1] + 1)
    if held is None:
        out = np.empty((y.shape[0], rows.size))
        _packed_outer(y, rating, float(mu), rows, cols, out)
        return out
    out = np.empty((y.shape[0], 2, rows.size))
    _packed_outer_split(y, rating, float(mu), rows, cols, np.ascontiguousarray(held, dtype=np.bool_), out)
    return out


@njit(cache=True, nogil=True)
def _packed_outer(y, rating, mu, rows, cols, out):  # pragma: no cover - compiled
    """``out[e, p] = z[rows[p]] z[cols[p]]`` with ``z = [y[e, :k], 1, rating[e] - mu - y[e, k]]``."""
    m, width = y.shape
    k = width - 1
    z = np.empty(k + 2)
    for e in range(m):
        for a in range(k):
            z[a] = y[e, a]
        z[k] = 1.0
        z[k + 1] = rating[e] - mu - y[e, k]
        for p in range(rows.size):
            out[e, p] = z[rows[p]] * z[cols[p]]


@njit(cache=True, nogil=True)
def _packed_outer_split(y, rating, mu, rows, cols, held, out):  # pragma: no cover - compiled
    """As :func:`_packed_outer` into ``out[e, held[e]]``, zeros in ``out[e, 1 - held[e]]``."""
    m, width = y.shape
    k = width - 1
    z = np.empty(k + 2)
    for e in range(m):
        for a in range(k):
            z[a] = y[e, a]
        z[k] = 1.0
        z[k + 1] = rating[e] - mu - y[e, k]
        slot = 1 if held[e] else 0
        for p in range(rows.size):
            out[e, 1 - slot, p] = 0.0
            out[e, slot, p] = z[rows[p]] * z[cols[p]]


def initial_factors(num_vertices: int, rank: int, seed: int, scale: float) -> np.ndarray:
    """The starting factors of every vertex, ``(num_vertices, rank)``: ``scale`` times standard normals.

    Examples
    --------
    >>> initial_factors(3, 2, seed=0, scale=0.1).shape
    (3, 2)
    """
    return scale * np.random.default_rng(seed).standard_normal((num_vertices, rank))


def solve_normal_equations(stats: np.ndarray, reg: float, bias_reg: float | None = None) -> np.ndarray:
    """Every vertex's ``[factors, bias]`` from its gathered ``sum z z^T``, in one batched solve.

    ``stats`` has shape ``(B, d + 1, d + 1)`` with ``d = rank + 1``: the
    features ``f`` (factors and the constant 1) then the target ``t``.  Solves
    ``(A + n diag(reg, ..., reg, bias_reg)) x = b`` with ``A = sum f f^T``,
    ``b = sum t f`` and ``n`` the number of ratings (``A[rank, rank]``);
    ``bias_reg`` defaults to ``reg``.  A vertex with no ratings gets ``x = 0``.

    Raises
    ------
    ValueError
        When some system is singular (``reg = 0`` and a vertex with fewer
        than ``rank + 1`` ratings, or neighbours whose factors are collinear).

    Examples
    --------
    >>> z = np.array([[2.0, 1.0, 3.0], [1.0, 1.0, 1.0]])  # two ratings: f = (q, 1), t
    >>> solve_normal_equations((z[:, :, None] * z[:, None, :]).sum(0)[None], reg=0.0).round(6).tolist()
    [[2.0, -1.0]]
    """
    d = stats.shape[1] - 1
    A = stats[:, :d, :d]
    b = stats[:, :d, d]
    count = stats[:, d - 1, d - 1]
    weights = np.full(d, reg)
    weights[d - 1] = reg if bias_reg is None else bias_reg
    diagonal = count[:, None] * weights + (count == 0)[:, None]  # no ratings: the identity, so x = b = 0
    lhs = A + diagonal[:, :, None] * np.eye(d)
    try:
        return np.linalg.solve(lhs, b[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        raise ValueError(
            f"singular normal equations (reg={reg}, bias_reg={bias_reg}): with a zero regularisation every "
            f"user and item needs at least rank + 1 = {d} ratings whose neighbours' factors are independent; "
            "use reg > 0"
        ) from None


def squared_error(stats: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``sum (t - f.x)^2`` of each vertex from its ``sum z z^T`` (see :func:`solve_normal_equations`).

    Examples
    --------
    >>> z = np.array([[2.0, 1.0, 3.0], [1.0, 1.0, 2.0]])
    >>> squared_error((z[:, :, None] * z[:, None, :]).sum(0)[None], np.array([[1.0, 0.0]])).tolist()
    [2.0]
    """
    d = x.shape[1]
    A = stats[:, :d, :d]
    b = stats[:, :d, d]
    tt = stats[:, d, d]
    sse = tt - 2.0 * np.einsum("vi,vi->v", x, b) + np.einsum("vi,vij,vj->v", x, A, x)
    return np.maximum(sse, 0.0)  # rounding may leave a tiny negative for an exact fit


def _rmse_pair(totals: np.ndarray) -> np.ndarray:
    """``[train RMSE, validation RMSE]`` from summed ``[SSE, n, SSE, n]`` (NaN where n = 0)."""
    sse, n = totals[[0, 2]], totals[[1, 3]]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, np.sqrt(sse / np.maximum(n, 1)), np.nan)


# ---------------------------------------------------------------------- model
@dataclass(frozen=True, eq=False)
class ALSModel:
    """A fitted factorisation ``r_ui ~ global_mean + user_bias[u] + item_bias[i] + user_factors[u] . item_factors[i]``.

    Row ``j`` of the user arrays belongs to the user with original id
    ``user_ids[j]`` (vertex ``j`` of the ratings graph), row ``j`` of the
    item arrays to item ``item_ids[j]`` (vertex ``U + j``).

    Attributes
    ----------
    rank, reg, bias_reg : int, float, float
        The rank and weighted-lambda regularisations it was fitted with.
    global_mean : float
    user_ids, item_ids : ndarray
        Original ids of the users and items.
    user_factors, item_factors : ndarray, shape (U, rank) and (I, rank)
    user_bias, item_bias : ndarray, shape (U,) and (I,)
    history : dict of str to ndarray
        ``"iteration"`` (1, 2, ...), ``"train_rmse"`` and
        ``"validation_rmse"`` (NaN without a validation set) per iteration;
        ``pandas.DataFrame(model.history)`` prints it.
    graph : Graph
        The ratings graph it was trained on (for id look-ups).
    result : Result, optional
        The engine's result (``als(..., return_result=True)``).
    """

    rank: int
    reg: float
    bias_reg: float
    global_mean: float
    user_ids: np.ndarray
    item_ids: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    user_bias: np.ndarray
    item_bias: np.ndarray
    history: dict[str, np.ndarray]
    graph: Graph = field(repr=False)
    result: Result | None = field(default=None, repr=False)

    def predict(self, user_ids: Any, item_ids: Any) -> np.ndarray | float:
        """Predicted ratings for (user, item) pairs given by original ids (broadcast together).

        Raises
        ------
        KeyError
            Naming the first id that is no user's (or no item's) of the
            training graph.

        Examples
        --------
        >>> from gasengine import ratings
        >>> g = ratings.from_arrays([1, 1, 2, 2], [10, 20, 10, 20], [5.0, 3.0, 4.0, 2.0])
        >>> m = bias_baseline(g, reg=0.0, iterations=1)
        >>> float(m.predict(1, 10)), m.predict([1, 2], 20).round(6).tolist()
        (5.0, [3.0, 2.0])
        >>> m.predict(3, 10)
        Traceback (most recent call last):
        ...
        KeyError: 'no user with id 3'
        """
        users = rt.user_vertices(self.graph, user_ids)
        items = rt.item_vertices(self.graph, item_ids)
        return self.predict_vertices(users, items)

    def predict_vertices(self, users: Any, items: Any) -> np.ndarray | float:
        """Predicted ratings for pairs given by vertex numbers (as a :class:`~gasengine.ratings.RatingSet` holds them).

        Examples
        --------
        >>> from gasengine import ratings
        >>> g = ratings.from_arrays([1, 1, 2, 2], [10, 20, 10, 20], [5.0, 3.0, 4.0, 2.0])
        >>> float(bias_baseline(g, reg=0.0, iterations=1).predict_vertices(1, 2))  # user 2, item 10
        4.0
        """
        u = np.asarray(users)
        i = np.asarray(items)
        U, I = self.user_bias.size, self.item_bias.size
        if u.dtype.kind not in "iu" or i.dtype.kind not in "iu":
            raise TypeError(f"users and items must be integer vertex numbers, got dtypes {u.dtype} and {i.dtype}")
        bad_u = (u < 0) | (u >= U)
        if bad_u.any():
            raise KeyError(f"vertex {int(u[bad_u].flat[0])} is not a user (users are vertices 0..{U - 1})")
        j = i - U
        bad_i = (j < 0) | (j >= I)
        if bad_i.any():
            raise KeyError(f"vertex {int(i[bad_i].flat[0])} is not an item (items are vertices {U}..{U + I - 1})")
        u, j = np.broadcast_arrays(u, j)
        dot = np.einsum("...k,...k->...", self.user_factors[u], self.item_factors[j])
        out = self.global_mean + self.user_bias[u] + self.item_bias[j] + dot
        return float(out) if out.ndim == 0 else out

    def rmse(self, held_out: rt.RatingSet) -> float:
        """Root mean squared error on held-out ratings (a split's ``validation`` or ``test``).

        Examples
        --------
        >>> from gasengine import ratings
        >>> g = ratings.from_arrays([1, 1, 2, 2], [10, 20, 10, 20], [5.0, 3.0, 4.0, 2.0])
        >>> s = ratings.split(g, (0.5, 0.0, 0.5), seed=0)
        >>> round(bias_baseline(s.train, reg=0.1).rmse(s.test), 3) >= 0
        True
        """
        if len(held_out) == 0:
            raise ValueError("rmse of an empty set of ratings")
        pred = self.predict_vertices(held_out.user, held_out.item)
        return float(np.sqrt(np.mean((held_out.rating - pred) ** 2)))


# ---------------------------------------------------------------------- functions
@rank_zero
def als(
    graph: Graph,
    rank: int = 10,
    reg: float = 0.05,
    iterations: int = 10,
    seed: int = 0,
    validation: rt.RatingSet | None = None,
    *,
    bias_reg: float | None = None,
    init_scale: float = 0.1,
    rating: str = rt.RATING,
    return_result: bool = False,
    **engine_options: Any,
) -> ALSModel:
    """Fit ``r_ui ~ mu + b_u + b_i + p_u . q_i`` by alternating least squares on the engine.

    Parameters
    ----------
    graph : Graph
        A ratings graph (:func:`gasengine.ratings.load_ratings`,
        :func:`~gasengine.ratings.from_arrays`, or a split's ``train``).
    rank : int
        Length ``k >= 1`` of the factor vectors (:func:`bias_baseline` fits
        the biases alone).
    reg : float
        Weighted-lambda regularisation ``>= 0`` (Zhou et al. 2008): each
        vertex's factors are penalised by ``reg`` times its number of
        ratings times their squared norm.  Sparse data wants more than
        dense: 0.5 (with ``bias_reg=0.3``) fits MovieTweetings' 0..10
        ratings best, 0.1 (rank 50, ``bias_reg=0.05``) MovieLens-100k's
        (``benchmarks/als_accuracy.py``).
    iterations : int
        ALS iterations (each updates the users, then the items).
    seed : int
        Seed of the initial item factors.
    validation : RatingSet, optional
        Held-out ratings (vertex numbers of ``graph``, as
        :func:`gasengine.ratings.split` returns them) whose RMSE is tracked
        every iteration; they do not influence the fit.
    bias_reg : float, optional
        The same penalty for the biases (default ``reg``); the best value
        is usually that of :func:`bias_baseline`.
    init_scale : float
        Standard deviation of the initial factors.
    rating : str
        Edge field of the ratings.
    return_result : bool
        Keep the engine's :class:`~gasengine.Result` in ``model.result``.
    **engine_options
        Passed to :func:`gasengine.run` (``partitions``, ``partition``,
        ``workers``, ``backend``, ``chunk_bytes``...).  ALS alternates the
        two sides superstep by superstep, so the engine is ``"sync"``;
        ``chunk_bytes`` defaults to :data:`CHUNK_BYTES`.

    Returns
    -------
    ALSModel

    Raises
    ------
    ValueError
        For ``rank < 1``, ``reg < 0`` or not finite, ``iterations < 1``, a
        graph that is not a ratings graph, non-finite ratings, a
        validation set that names vertices outside the graph's sides, or
        singular normal equations (``reg = 0`` with too few ratings).
    TypeError
        For non-integer ``rank``/``iterations``/``seed`` or engine options
        ALS sets itself (``max_supersteps``, ``active``).

    Examples
    --------
    >>> import numpy as np
    >>> from gasengine import ratings
    >>> rng = np.random.default_rng(0)
    >>> u, i = np.divmod(np.arange(400), 20)  # 20 users x 20 items, all rated
    >>> p, q = rng.normal(size=(20, 2)), rng.normal(size=(20, 2))
    >>> g = ratings.from_arrays(u, i, 3.0 + (p[u] * q[i]).sum(1))
    >>> m = als(g, rank=2, reg=1e-4, iterations=30)
    >>> bool(m.history["train_rmse"][-1] < 0.01), m.user_factors.shape
    (True, (20, 2))
    >>> round(float(m.predict(0, 0)), 1) == round(float(3.0 + p[0] @ q[0]), 1)
    True
    """
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral):
        raise TypeError(f"rank must be an integer, got {rank!r}")
    if rank < 1:
        raise ValueError(f"rank must be >= 1, got {rank} (bias_baseline fits the biases without factors)")
    return _fit(
        graph, rank, reg, bias_reg, iterations, seed, validation, init_scale, rating, return_result, engine_options
    )


def bias_baseline(
    graph: Graph,
    reg: float = 0.05,
    iterations: int = 10,
    validation: rt.RatingSet | None = None,
    *,
    rating: str = rt.RATING,
    return_result: bool = False,
    **engine_options: Any,
) -> ALSModel:
    """The bias-only baseline ``r_ui ~ mu + b_u + b_i``, fitted by the same regularised ALS (rank 0).

    Parameters are those of :func:`als` without the factors; the model's
    factor arrays have zero columns.

    Examples
    --------
    >>> from gasengine import ratings
    >>> g = ratings.from_arrays([1, 1, 2, 2], [10, 20, 10, 20], [5.0, 3.0, 4.0, 2.0])
    >>> m = bias_baseline(g, reg=0.0, iterations=1)
    >>> m.global_mean, m.user_bias.round(6).tolist(), m.item_bias.round(6).tolist()
    (3.5, [0.5, -0.5], [1.0, -1.0])
    """
    return _fit(graph, 0, reg, None, iterations, 0, validation, 0.1, rating, return_result, engine_options)


def _fit(
    graph: Graph,
    rank: int,
    reg: float,
    bias_reg: float | None,
    iterations: int,
    seed: int,
    validation: rt.RatingSet | None,
    init_scale: float,
    rating: str,
    return_result: bool,
    engine_options: dict[str, Any],
) -> ALSModel:
    reg = _check_reg(reg)
    bias_reg = reg if bias_reg is None else _check_reg(bias_reg, "bias_reg")
    iterations = _check_int("iterations", iterations, minimum=1)
    seed = _check_int("seed", seed, minimum=0)
    for name in ("max_supersteps", "active", "max_updates"):
        if name in engine_options:
            raise TypeError(
                f"ALS sets {name} itself (2 supersteps per iteration, users first); pass iterations instead"
            )
    engine = engine_options.pop("engine", "sync")
    if engine != "sync":
        raise ValueError(
            f"ALS alternates users and items superstep by superstep and runs on engine='sync', not {engine!r}"
        )
    U = _check_ratings_graph(graph, rating)
    values = graph.edge_data[rating]
    if values.size == 0:
        raise ValueError("the ratings graph has no ratings to fit")
    mu = float(values.mean())
    train_graph, held = graph, None
    if validation is not None:
        train_graph, held = _with_held_out(graph, validation, U, rating), HELD_OUT
    program = ALSProgram(rank, reg, mu, iterations, seed, init_scale, rating, held, bias_reg)
    engine_options.setdefault("chunk_bytes", CHUNK_BYTES)
    result = run(
        program, train_graph, active=~graph.vertex_data[rt.IS_ITEM], max_supersteps=2 * iterations, **engine_options
    )
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    x = result.field("x")
    rows = ALSProgram.history(result.aggregates, result.supersteps)
    history = {
        "iteration": np.arange(1, iterations + 1),
        "train_rmse": rows[:, 0],
        "validation_rmse": rows[:, 1],
    }
    return ALSModel(
        rank=rank,
        reg=reg,
        bias_reg=bias_reg,
        global_mean=mu,
        user_ids=rt.user_ids(graph),
        item_ids=rt.item_ids(graph),
        user_factors=x[:U, :rank],
        item_factors=x[U:, :rank],
        user_bias=x[:U, rank],
        item_bias=x[U:, rank],
        history=history,
        graph=graph,
        result=result if return_result else None,
    )


def _check_ratings_graph(graph: Graph, rating: str) -> int:
    """U of a ratings graph whose edges all run user -> item with finite ratings."""
    if not isinstance(graph, Graph):
        raise TypeError(f"ALS takes a ratings Graph, got {type(graph).__name__}")
    U = rt._num_users(graph)  # raises ValueError for a graph without the is_item layout
    if not graph.directed:
        raise ValueError("ALS needs a directed ratings graph (one edge user -> item per rating)")
    if rating not in graph.edge_data:
        raise ValueError(f"no edge field {rating!r} holding the ratings; edge fields are {sorted(graph.edge_data)}")
    if graph.num_edges and (int(graph.src.max()) >= U or int(graph.dst.min()) < U):
        raise ValueError("not a ratings graph: every edge must run from a user (vertices 0..U-1) to an item")
    values = np.asarray(graph.edge_data[rating])
    if values.ndim != 1 or values.dtype.kind not in "iuf":
        raise ValueError(
            f"edge field {rating!r} must hold one number per rating, got dtype {values.dtype} and shape {values.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        e = int(bad[0])
        ids = graph.original_ids()
        user, item = ids[int(graph.src[e])], ids[int(graph.dst[e])]
        raise ValueError(
            f"rating of edge {e} (user {_shown(user)}, item {_shown(item)}) is {float(values[e])!r}; "
            f"ratings must be finite ({bad.size} of {values.size} are NaN or infinite)"
        )
    return U


def _shown(original_id: Any) -> str:
    """An original id as error messages write it (``7``, ``'0000008'``)."""
    return repr(original_id.item() if isinstance(original_id, np.generic) else original_id)


def _with_held_out(graph: Graph, held: rt.RatingSet, U: int, rating: str) -> Graph:
    """The training edges plus the held-out ratings as edges flagged ``held_out``."""
    if not isinstance(held, rt.RatingSet):
        raise TypeError(f"validation must be a RatingSet (from ratings.split), got {type(held).__name__}")
    n = graph.num_vertices
    user, item, value = np.asarray(held.user), np.asarray(held.item), np.asarray(held.rating, dtype=np.float64)
    if user.size and (user.min() < 0 or user.max() >= U or item.min() < U or item.max() >= n):
        raise ValueError(
            f"validation ratings must pair users (vertices 0..{U - 1}) with items "
            f"(vertices {U}..{n - 1}) of the training graph"
        )
    if not np.isfinite(value).all():
        raise ValueError("validation ratings must be finite")
    flags = np.zeros(graph.num_edges + user.size, dtype=bool)
    flags[graph.num_edges :] = True
    dtype = graph.src.dtype
    return Graph.from_arcs(
        np.concatenate([graph.src, user.astype(dtype)]),
        np.concatenate([graph.dst, item.astype(dtype)]),
        n,
        vertex_data=graph.vertex_data,
        edge_data={rating: np.concatenate([graph.edge_data[rating], value]), HELD_OUT: flags},
        ids=graph.ids,
        directed=True,
    )


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_reg(reg: Any, name: str = "reg") -> float:
    if isinstance(reg, bool) or not isinstance(reg, numbers.Real):
        raise TypeError(f"{name} must be a number, got {reg!r}")
    if not (math.isfinite(reg) and float(reg) >= 0):
        raise ValueError(f"{name} (lambda) must be a finite number >= 0, got {reg}")
    return float(reg)
