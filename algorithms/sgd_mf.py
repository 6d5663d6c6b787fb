"""Matrix factorisation by gradient steps on the ratings graph (SGD in GAS form), under every engine.

The model is that of :mod:`algorithms.als`,

    r_ui ~ mu + b_u + b_i + p_u . q_i

(``mu`` the mean training rating, ``b`` biases, ``p``/``q`` factors of
length ``rank``), and so is the objective: squared error plus the
weighted-lambda penalty ``n_v (reg |p_v|^2 + bias_reg b_v^2)`` of every
user and item ``v`` with ``n_v`` ratings.  Divided by ``n_v``, the part of
it that one vertex controls is its *mean* loss

    L_v = mean over its ratings of e^2 / 2  +  (reg |p_v|^2 + bias_reg b_v^2) / 2,
    e = r - mu - b_u - b_i - p_u . q_i       (the rating's residual),

so ALS (which minimises ``L_v`` exactly) and this program have the same
fixed points, and the same ``reg`` means the same thing in both.

The vertex update in gather-apply-scatter form
----------------------------------------------
Hogwild-style SGD updates both ends of one rating at a time.  A vertex
program updates a *vertex*, so here one update of ``v`` is one gradient
step on ``L_v`` using all its ratings:

gather (over ``ALL`` edges of ``v``)
    per rating edge, its residual ``e`` computed from **both** endpoints'
    current factors and biases, and the gradient contribution
    ``e * [q_w, 1]`` of the neighbour ``w``; also ``|q_w|^2 + 1`` and a
    count (``rank + 3`` numbers, folded by ``np.add``).  Held-out
    (validation) edges gather zeros: they never move the model.
apply
    ``x_v += rate / C_v * (mean(e [q_w, 1]) - [reg, ..., bias_reg] * x_v)``,
    with ``x_v = [p_v, b_v]`` (field ``"x"``, as in ALS) and
    ``C_v = mean(|q_w|^2 + 1) + max(reg, bias_reg)``, an upper bound on the
    curvature of ``L_v`` (the largest eigenvalue of its Hessian
    ``mean([q,1][q,1]^T) + reg I`` is at most its trace).  Dividing by it is
    the normalised-LMS step: the learning rate ``lr`` is *relative*, and
    any ``0 < lr < 2`` is a contraction for a vertex updated on its own,
    whatever the scale of the ratings (1..5 or 0..10) and of the factors.
    A vertex with one rating and ``lr = 1`` fits that rating exactly
    (up to the penalty), which is the classic SGD step taken to its limit.
    The schedule is ``rate = lr / (1 + decay * t)``, ``t`` the number of
    times this vertex has been updated (field ``"sgd_updates"``), so the
    schedule means the same on every engine.
scatter
    none: a vertex keeps itself scheduled (``v.signal``) until it has
    been updated ``epochs`` times, so every engine makes exactly
    ``epochs * num_vertices`` updates and the run ends by itself.

What the engines make of it
---------------------------
``engine="sync"``
    Every vertex steps from the previous superstep's values (Jacobi: one
    superstep is one full-batch, per-vertex preconditioned gradient step).
    A user and an item that share a rating both correct its residual at
    once, so their steps add up: stable for ``lr`` up to about 1, and on
    the real ratings it oscillates and diverges at 1.5 and above.
``engine="async", consistency="edge"`` (or ``"full"``, or the chromatic engine)
    No two neighbours run in the same round, so each round equals its
    vertices run one after another (serializable: Gauss-Seidel over vertex
    blocks, as true SGD is over ratings); stable up to ``lr < 2``.  Under
    ``"full"`` no two vertices of a round even share a neighbour: on a
    ratings graph (where users share items) very few run per round, so
    it is correct and slow.  With ``scheduler="fifo"`` the users run
    before the items (vertex order), an alternation much like ALS's;
    ``"random"`` (the default here) visits them in a seeded random order.
``engine="async", consistency="vertex"``
    Every candidate runs: a user and an item of one rating may update in
    the same round, both from the values before it (a Hogwild race,
    Jacobi on that edge); the engine counts these as *conflicts*
    (``Result.conflicts``).  On the MovieTweetings ratings about 10% of
    the updates race at the default batch size and cost nothing, even at
    ``lr = 1.8``; what costs is a round that is mostly races (a batch of
    half the vertices, or all of them: the sync engine's Jacobi step) at
    ``lr > 1`` (figures in ``docs/consistency.md``).

Sync operations
---------------
``"sgd_rmse"`` is an aggregator over *edges*: each rating edge's squared
residual from both endpoints' current values, folded into
``[train RMSE, validation RMSE]`` (NaN without held-out edges).  It runs
before the first step and then every ``rmse_every`` updates (default: the
number of vertices, once per epoch on every engine), so
``Result.history["sgd_rmse"]`` is the RMSE against the step, and
:attr:`SGDMFModel.history` adds the cumulative updates and engine seconds
of every point (and the finished model as the last point).

Examples
--------
>>> import numpy as np
>>> from gasengine import ratings
>>> rng = np.random.default_rng(0)
>>> u, i = np.divmod(np.arange(400), 20)  # 20 users x 20 items, all rated
>>> p, q = rng.normal(size=(20, 2)), rng.normal(size=(20, 2))
>>> g = ratings.from_arrays(u, i, 3.0 + (p[u] * q[i]).sum(1))
>>> m = sgd_mf(g, rank=2, lr=1.0, reg=1e-4, epochs=100, engine="async", consistency="edge")
>>> bool(m.history["train_rmse"][-1] < 0.05), int(m.history["updates"][-1])
(True, 4000)
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from gasengine import ALL, Aggregator, EdgeView, Graph, Result, VertexProgram, rank_zero, run
from gasengine import ratings as rt

from .als import (
    HELD_OUT,
    ALSModel,
    _check_int,
    _check_ratings_graph,
    _check_reg,
    _with_held_out,
    initial_factors,
)

__all__ = ["SGDMFModel", "SGDMFProgram", "sgd_mf"]

#: Largest relative learning rate: at 2 a vertex's own step stops being a contraction.
MAX_LR = 2.0


class SGDMFProgram(VertexProgram):
    """One gradient step on a vertex's mean loss per update (see the module docstring).

    Run it on a ratings graph (users ``0..U-1``, items after them, one edge
    user -> item per rating) with every vertex active, on any engine.

    Parameters
    ----------
    rank : int
        Length ``>= 1`` of the factor vectors.
    lr : float
        Relative learning rate, ``0 < lr < 2`` (the step is ``lr`` over a
        bound on the vertex's curvature).
    reg : float
        Weighted-lambda regularisation ``>= 0`` of the factors.
    global_mean : float
        ``mu``, the mean training rating.
    epochs : int
        Updates of every vertex.
    decay : float
        Schedule ``lr / (1 + decay * t)``, ``t`` the vertex's updates so far.
    bias_reg : float, optional
        Regularisation of the biases (default ``reg``).
    seed : int
        Seed of the initial factors (:func:`algorithms.als.initial_factors`).
    init_scale : float
        Standard deviation of the initial factors (biases start at 0).
    rating : str
        Edge field of the ratings.
    held_out : str, optional
        Bool edge field marking held-out ratings (validation RMSE only).
    rmse_every : int, optional
        Updates between runs of the ``"sgd_rmse"`` sync operation (default
        1: after every step).

    Examples
    --------
    >>> from gasengine import ratings, run
    >>> g = ratings.from_arrays([1, 1, 2], [10, 20, 10], [5.0, 3.0, 4.0])
    >>> r = run(SGDMFProgram(rank=1, lr=1.0, reg=0.0, global_mean=4.0, epochs=50), g,
    ...         engine="async", consistency="edge", batch_size=1)
    >>> round(float(r.aggregates["sgd_rmse"][0]), 6), r.field("sgd_updates").tolist()
    (0.0, [50, 50, 50, 50])
    """

    gather_edges = ALL
    combine = np.add
    master_fields = ("sgd_updates",)  # apply's step size counter: mirrors never read it

    # set in __init__ after checks type checkers cannot follow (numbers.Real)
    global_mean: float
    epochs: int
    decay: float
    seed: int
    init_scale: float
    rating: str
    held_out: str | None

    def __init__(
        self,
        rank: int,
        lr: float,
        reg: float,
        global_mean: float,
        epochs: int = 10,
        decay: float = 0.0,
        bias_reg: float | None = None,
        seed: int = 0,
        init_scale: float = 0.1,
        rating: str = rt.RATING,
        held_out: str | None = None,
        rmse_every: int | None = None,
    ):
        self.rank = _check_int("rank", rank, minimum=1)
        self.lr = _check_lr(lr)
        self.reg = _check_reg(reg)
        self.bias_reg = self.reg if bias_reg is None else _check_reg(bias_reg, "bias_reg")
        if isinstance(global_mean, bool) or not isinstance(global_mean, numbers.Real) or not math.isfinite(global_mean):
            raise ValueError(f"global_mean must be a finite number, got {global_mean!r}")
        self.global_mean = float(global_mean)
        self.epochs = _check_int("epochs", epochs, minimum=1)
        if isinstance(decay, bool) or not isinstance(decay, numbers.Real) or not (math.isfinite(decay) and decay >= 0):
            raise ValueError(f"decay must be a finite number >= 0, got {decay!r}")
        self.decay = float(decay)
        self.seed = _check_int("seed", seed, minimum=0)
        if (
            isinstance(init_scale, bool)
            or not isinstance(init_scale, numbers.Real)
            or not (math.isfinite(init_scale) and init_scale > 0)
        ):
            raise ValueError(f"init_scale must be a positive number, got {init_scale!r}")
        self.init_scale = float(init_scale)
        self.rating = rating
        self.held_out = held_out
        every = None if rmse_every is None else _check_int("rmse_every", rmse_every, minimum=1)
        # the penalty of each coordinate of x = [factors, bias]
        self._weights = np.append(np.full(self.rank, self.reg), self.bias_reg)
        self.aggregators = (
            Aggregator("sgd_rmse", self._edge_errors, finalize=_rmse_pair, over="edges", every_updates=every),
        )

    # ------------------------------------------------------------------ GAS
    def init(self, v):
        k = self.rank
        rated = (v.out_degree() + v.in_degree()) > 0
        x = np.zeros((len(v), k + 1))
        x[:, :k] = initial_factors(v.num_vertices, k, self.seed, self.init_scale)[v.ids] * rated[:, None]
        v.data["x"] = x
        v.data["sgd_updates"] = np.zeros(len(v), dtype=np.int64)

    def residual(self, a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
        """``r - mu - b_a - b_b - p_a . q_b`` per edge, from the two ends' ``x`` rows."""
        k = self.rank
        return r - self.global_mean - a[:, k] - b[:, k] - np.einsum("ek,ek->e", a[:, :k], b[:, :k])

    def gather(self, e: EdgeView) -> np.ndarray:
        k = self.rank
        y = e.nbr_data["x"]
        err = self.residual(e.vertex_data["x"], y, e.data[self.rating])
        out = np.empty((len(e), k + 3))
        if self.held_out is None:
            train: Any = 1.0
        else:
            train = ~e.data[self.held_out]
            err = err * train
        out[:, :k] = err[:, None] * y[:, :k]
        out[:, k] = err
        out[:, k + 1] = (np.einsum("ek,ek->e", y[:, :k], y[:, :k]) + 1.0) * train
        out[:, k + 2] = train
        return out

    def apply(self, v, acc):
        k = self.rank
        n = acc[:, k + 2]
        per = 1.0 / np.maximum(n, 1.0)
        x = v.data["x"]
        t = v.data["sgd_updates"]
        gradient = acc[:, : k + 1] * per[:, None] - self._weights * x  # minus the gradient of L_v
        curvature = acc[:, k + 1] * per + self._weights.max()
        rate = self.lr / (1.0 + self.decay * t) / curvature * (n > 0)  # no ratings: no step
        v.data["x"] = x + rate[:, None] * gradient
        v.data["sgd_updates"] = t + 1
        v.signal(t + 1 < self.epochs)

    # ------------------------------------------------------------------ sync operation
    def _edge_errors(self, e) -> np.ndarray:
        """Per edge ``[train SE, train count, validation SE, validation count]``."""
        err = self.residual(e.src_data["x"], e.dst_data["x"], e.data[self.rating])
        sq = err * err
        out = np.zeros((len(e), 4))
        if self.held_out is None:
            out[:, 0] = sq
            out[:, 1] = 1.0
        else:
            held = e.data[self.held_out]
            out[:, 0] = np.where(held, 0.0, sq)
            out[:, 1] = ~held
            out[:, 2] = np.where(held, sq, 0.0)
            out[:, 3] = held
        return out


def _rmse_pair(totals: np.ndarray) -> np.ndarray:
    """``[train RMSE, validation RMSE]`` from summed ``[SE, n, SE, n]`` (NaN where n = 0)."""
    sse, n = totals[[0, 2]], totals[[1, 3]]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return np.where(n > 0, np.sqrt(sse / np.maximum(n, 1)), np.nan)


def _check_lr(lr: Any) -> float:
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"lr must be a number, got {lr!r}")
    if not (math.isfinite(lr) and 0 < float(lr) < MAX_LR):
        raise ValueError(
            f"lr must be in (0, {MAX_LR:g}), got {lr}: it is relative to each vertex's curvature "
            "(1 fits a vertex with one rating exactly; keep it <= 1 on the sync engine)"
        )
    return float(lr)


# ---------------------------------------------------------------------- model
@dataclass(frozen=True, eq=False)
class SGDMFModel(ALSModel):
    """A factorisation fitted by :func:`sgd_mf`; predicts like :class:`~algorithms.als.ALSModel`.

    Attributes
    ----------
    rank, reg, bias_reg, global_mean, user_ids, item_ids : int, float, float, float, ndarray, ndarray
        As in :class:`~algorithms.als.ALSModel`.
    user_factors, item_factors, user_bias, item_bias, graph, result : ndarray, ndarray, ndarray, ndarray, Graph, Result
        As in :class:`~algorithms.als.ALSModel`.
    history : dict of str to ndarray
        One entry per run of the RMSE sync operation, starting with the
        initial factors and ending with the finished model: ``"step"``
        (superstep, sweep or round after which it ran; 0 before the
        first), ``"updates"`` (vertex updates so far), ``"seconds"``
        (engine time so far, from the step table), ``"train_rmse"`` and
        ``"validation_rmse"`` (NaN without a validation set);
        ``pandas.DataFrame(model.history)`` prints it.
    lr, decay, epochs : float, float, int
        The learning-rate schedule and the updates per vertex.
    engine, consistency, scheduler : str
        How it ran.
    conflicts : int
        Data races of the run (asynchronous engine under vertex consistency).

    Examples
    --------
    >>> from gasengine import ratings
    >>> g = ratings.from_arrays([1, 1, 2, 2], [10, 20, 10, 20], [5.0, 3.0, 4.0, 2.0])
    >>> m = sgd_mf(g, rank=1, reg=0.0, epochs=40)
    >>> round(float(m.predict(1, 10)), 3), sorted(m.history)
    (5.0, ['seconds', 'step', 'train_rmse', 'updates', 'validation_rmse'])
    """

    lr: float = 1.0
    decay: float = 0.0
    epochs: int = 1
    engine: str = "sync"
    consistency: str = "edge"
    scheduler: str = ""
    conflicts: int = 0


# ---------------------------------------------------------------------- function
@rank_zero
def sgd_mf(
    graph: Graph | str | os.PathLike[str],
    rank: int = 10,
    lr: float = 1.0,
    reg: float = 0.05,
    epochs: int = 20,
    seed: int = 0,
    validation: rt.RatingSet | None = None,
    *,
    bias_reg: float | None = None,
    decay: float = 0.0,
    engine: str = "sync",
    consistency: str = "edge",
    scheduler: str = "random",
    init_scale: float = 0.1,
    rating: str = rt.RATING,
    rmse_every: int | None = None,
    return_result: bool = False,
    **engine_options: Any,
) -> SGDMFModel:
    """Fit ``r_ui ~ mu + b_u + b_i + p_u . q_i`` by gradient steps at the vertices, on any engine.

    Parameters
    ----------
    graph : Graph or path
        A ratings graph (:func:`gasengine.ratings.load_ratings`,
        :func:`~gasengine.ratings.from_arrays`, a split's ``train``), or
        the path of a ratings file, read by ``load_ratings``.
    rank : int
        Length ``k >= 1`` of the factor vectors.
    lr : float
        Relative learning rate, ``0 < lr < 2``: each step is ``lr`` over a
        bound on that vertex's curvature (see :mod:`algorithms.sgd_mf`),
        so it does not depend on the rating scale.  Serializable runs
        (``engine="async"`` with ``"edge"``/``"full"``, the chromatic
        engine under ``"edge"``) are stable up to 2; the sync engine's
        simultaneous steps want ``lr <= 1``.
    reg : float
        Weighted-lambda regularisation ``>= 0`` of the factors (the same
        objective as :func:`algorithms.als`: MovieTweetings fits best near
        0.5 with ``bias_reg=0.3``).
    epochs : int
        Updates of every vertex: the run makes ``epochs * num_vertices``.
    seed : int
        Seed of the initial factors and of the run (random scheduler,
        partitioner): the same seed gives the same model.
    validation : RatingSet, optional
        Held-out ratings (vertex numbers of ``graph``, from
        :func:`gasengine.ratings.split`) whose RMSE the history tracks;
        they do not influence the fit.  They become edges of the graph the
        engine runs on (flagged ``"held_out"``, gathering nothing), so under
        the asynchronous engine they still take part in the scope locks
        and count as conflicts.
    bias_reg : float, optional
        Regularisation of the biases (default ``reg``).
    decay : float
        Learning-rate schedule ``lr / (1 + decay * t)``, ``t`` the updates
        the vertex has had (0: constant).
    engine, consistency, scheduler : str
        As for :func:`gasengine.run`; ``scheduler`` (default ``"random"``,
        SGD's random order) matters for ``engine="async"`` only.
    init_scale : float
        Standard deviation of the initial factors.
    rating : str
        Edge field of the ratings.
    rmse_every : int, optional
        Vertex updates between RMSE measurements (default: the number of
        vertices, about once per epoch; 1: after every step).
    return_result : bool
        Keep the engine's :class:`~gasengine.Result` in ``model.result``.
    **engine_options
        Passed to :func:`gasengine.run` (``partitions``, ``partition``,
        ``workers``, ``batch_size``, ``max_updates``, ``aggregators``...).

    Returns
    -------
    SGDMFModel

    Raises
    ------
    ValueError
        Naming the argument: ``rank < 1``, ``lr`` outside ``(0, 2)``,
        ``reg``/``bias_reg`` negative or not finite, ``epochs < 1``,
        ``decay < 0``; also a graph that is not a ratings graph or a
        validation set outside its sides.
    TypeError
        For arguments of the wrong type or ``active=`` (every vertex starts
        active).

    Examples
    --------
    >>> import numpy as np
    >>> from gasengine import ratings
    >>> rng = np.random.default_rng(1)
    >>> u, i = np.divmod(np.arange(900), 30)  # 30 users x 30 items
    >>> p, q = rng.normal(size=(30, 2)), rng.normal(size=(30, 2))
    >>> s = ratings.split(ratings.from_arrays(u, i, 3.0 + (p[u] * q[i]).sum(1)), (0.8, 0.0, 0.2), seed=0)
    >>> m = sgd_mf(s.train, rank=2, reg=1e-3, epochs=60, engine="async", consistency="vertex")
    >>> bool(m.rmse(s.test) < 0.1), m.conflicts > 0
    (True, True)
    """
    if isinstance(graph, (str, os.PathLike)):
        graph = rt.load_ratings(graph)
    if "active" in engine_options:
        raise TypeError("sgd_mf sets active itself (every vertex starts active and runs epochs times)")
    # checks the parameters before anything is built
    program = SGDMFProgram(rank, lr, reg, 0.0, epochs, decay, bias_reg, seed, init_scale, rating, None, 1)
    U = _check_ratings_graph(graph, rating)
    values = graph.edge_data[rating]
    if values.size == 0:
        raise ValueError("the ratings graph has no ratings to fit")
    mu = float(values.mean())
    train_graph, held = graph, None
    if validation is not None:
        train_graph, held = _with_held_out(graph, validation, U, rating), HELD_OUT
    every = graph.num_vertices if rmse_every is None else rmse_every
    program = SGDMFProgram(
        program.rank,
        program.lr,
        program.reg,
        mu,
        program.epochs,
        program.decay,
        program.bias_reg,
        program.seed,
        program.init_scale,
        rating,
        held,
        max(1, every),
    )
    result = run(
        program, train_graph, engine=engine, consistency=consistency, scheduler=scheduler, seed=seed, **engine_options
    )
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    x = result.field("x")
    k = program.rank
    history = _history(result, program, graph, validation, x)
    return SGDMFModel(
        rank=k,
        reg=program.reg,
        bias_reg=program.bias_reg,
        global_mean=mu,
        user_ids=rt.user_ids(graph),
        item_ids=rt.item_ids(graph),
        user_factors=x[:U, :k],
        item_factors=x[U:, :k],
        user_bias=x[:U, k],
        item_bias=x[U:, k],
        history=history,
        graph=graph,
        result=result if return_result else None,
        lr=program.lr,
        decay=program.decay,
        epochs=program.epochs,
        engine=engine,
        consistency=consistency,
        scheduler=scheduler if engine == "async" else "",
        conflicts=result.conflicts,
    )


def _history(
    result: Result, program: SGDMFProgram, graph: Graph, validation: rt.RatingSet | None, x: np.ndarray
) -> dict[str, np.ndarray]:
    """The ``sgd_rmse`` points with cumulative updates and seconds, ending with the finished model."""
    points = list(result.history.get("sgd_rmse", []))
    rows = result.steps
    row_step = np.array([r.superstep for r in rows], dtype=np.int64)
    done = np.cumsum([r.updates for r in rows], dtype=np.int64)
    spent = np.cumsum([r.seconds for r in rows], dtype=np.float64)
    if not points or points[-1][0] < result.supersteps:  # the last step did not bring rmse_every updates
        points.append((result.supersteps, _final_rmse(program, graph, validation, x)))
    step = np.array([s for s, _ in points], dtype=np.int64)
    values = np.array([np.asarray(v, dtype=np.float64) for _, v in points]).reshape(len(points), 2)
    last = np.searchsorted(row_step, step, side="right") - 1  # rows through step s (chromatic: a sweep's rows)
    safe = np.maximum(last, 0)
    updates = np.where(last >= 0, done[safe] if done.size else 0, 0)
    seconds = np.where(last >= 0, spent[safe] if spent.size else 0.0, 0.0)
    return {
        "step": step,
        "updates": updates,
        "seconds": seconds,
        "train_rmse": values[:, 0],
        "validation_rmse": values[:, 1],
    }


def _final_rmse(program: SGDMFProgram, graph: Graph, validation: rt.RatingSet | None, x: np.ndarray) -> np.ndarray:
    """``[train, validation]`` RMSE of the finished model, as the sync operation computes it."""
    src, dst = graph.src.astype(np.intp), graph.dst.astype(np.intp)
    with np.errstate(over="ignore", invalid="ignore"):
        train = program.residual(x[src], x[dst], graph.edge_data[program.rating])
        out = [float(np.sqrt(np.mean(train * train)))]
        if validation is None or len(validation) == 0:
            out.append(math.nan)
        else:
            u, i = np.asarray(validation.user, dtype=np.intp), np.asarray(validation.item, dtype=np.intp)
            held = program.residual(x[u], x[i], np.asarray(validation.rating, dtype=np.float64))
            out.append(float(np.sqrt(np.mean(held * held))))
    return np.array(out)
