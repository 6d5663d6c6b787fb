"""Bulk-synchronous mini-batch SGD: shards compute gradients, a sync operation steps the model.

Topology: one vertex per shard, no edges; the model is the **value of the
sync operation** ``"bsp_model"`` (a dict: the iterate ``w``, the point
``y`` where the next gradients are taken, momentum state, the round).  One
superstep of the synchronous engine is one SGD round:

1. ``apply`` (every shard): read ``y`` from ``v.globals["bsp_model"]``,
   draw this round's mini-batch (a ``batch_fraction`` of the shard's rows,
   seeded by the round), and store the sum of its loss gradients, its loss
   and its row count in field ``"push"``;
2. the sync operation sums the pushes over all shards (the all-reduce of a
   parameter server's gradients) and its ``finalize`` takes the step
   ``w = y - lr * (mean gradient + ridge)``, then the proximal step of the
   L1 penalty (lasso) and, with ``momentum=True``, Nesterov's extrapolation
   with gradient restarts (FISTA; O'Donoghue and Candes);
3. ``converged`` stops the run when the step moved less than ``tol`` (the
   gradient-mapping norm), or when the objective diverged.

With ``batch_fraction=1`` every round uses every row: this is
(accelerated) proximal gradient descent, which reaches the optimum; below
1 it is mini-batch SGD, whose constant step leaves a noise floor (``decay``
shrinks it as ``lr / (1 + decay t)``).  Every round waits for every shard:
a straggler slows every round (:class:`~algorithms.mechanisms.base.Straggler`).

Examples
--------
>>> import numpy as np
>>> from algorithms.mechanisms.problems import Problem, make_logistic, reference_solution
>>> X, y = make_logistic(200, 4)
>>> p = Problem("logistic", 0.01)
>>> r = bsp_sgd(p, X, y, num_shards=4)
>>> best = p.objective(reference_solution(p, X, y), X, y)
>>> r.converged, bool(r.gap(best) < 1e-6)
(True, True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gasengine import Aggregator, VertexProgram, rank_zero

from .base import (
    MechanismResult,
    Straggler,
    check_positive,
    diverged,
    engine_bytes,
    history_of,
    raise_if_diverged,
    shard_graph,
    timed_run,
)
from .problems import Problem, Shards, shard, shard_gradients, soft_threshold

__all__ = ["BSPSGDProgram", "bsp_sgd"]

MODEL = "bsp_model"


class BSPSGDProgram(VertexProgram):
    """Shards push mini-batch gradients; the ``"bsp_model"`` sync operation steps the model.

    Parameters
    ----------
    problem : Problem
    dim : int
        Model coordinates ``D``.
    num_rows : int
        ``N``.
    lr : float
        Step size (absolute; ``1 / L`` is the safe full-batch choice).
    batch_fraction : float
        Share ``(0, 1]`` of each shard's rows in a round's mini-batch.
    momentum : bool
        Nesterov extrapolation with restarts (meant for full batches).
    decay : float
        Step ``lr / (1 + decay t)``.
    tol : float
        Stop when ``|w_new - y| / lr < tol``.
    seed : int
        Seed of the mini-batches.
    straggler : float
        Slow-down factor of shard 0.

    Examples
    --------
    >>> from gasengine import run
    >>> from algorithms.mechanisms.problems import Problem, shard
    >>> p = Problem("lasso", 0.0, fit_intercept=False)
    >>> s = shard(np.eye(2), np.array([1.0, 2.0]), p, 2, seed=None)
    >>> r = run(BSPSGDProgram(p, 2, 2, lr=2.0, momentum=False), shard_graph(s), max_supersteps=5)
    >>> r.aggregates["bsp_model"]["w"].tolist()
    [1.0, 2.0]
    """

    def __init__(
        self,
        problem: Problem,
        dim: int,
        num_rows: int,
        lr: float,
        batch_fraction: float = 1.0,
        momentum: bool = True,
        decay: float = 0.0,
        tol: float = 1e-7,
        seed: int = 0,
        straggler: float = 1.0,
    ):
        self.problem = problem
        self.dim, self.num_rows = int(dim), int(num_rows)
        self.lr = check_positive("lr", lr)
        self.batch_fraction = check_positive("batch_fraction", batch_fraction)
        if self.batch_fraction > 1:
            raise ValueError(f"batch_fraction must be in (0, 1], got {batch_fraction!r}")
        self.momentum = bool(momentum)
        if not (decay >= 0 and math.isfinite(decay)):
            raise ValueError(f"decay must be a finite number >= 0, got {decay!r}")
        self.decay = float(decay)
        self.tol = check_positive("tol", tol)
        self.seed = int(seed)
        self.straggler = Straggler(straggler)
        self.mask = problem.penalty_mask(self.dim)
        self.aggregators = (Aggregator(MODEL, self._push, finalize=self._step),)

    def init(self, v):
        v.data["push"] = np.zeros((len(v), self.dim + 2))

    def apply(self, v, acc):
        started = self.straggler.start()
        state = v.globals[MODEL]
        rows = None
        if self.batch_fraction < 1:
            R = v.data["y"].shape[1]
            draw = np.random.default_rng([self.seed, v.superstep]).random((v.num_vertices, R))
            rows = (draw[v.ids] < self.batch_fraction).astype(np.float64)
        W = np.broadcast_to(state["y"], (len(v), self.dim))
        g, loss, count = shard_gradients(v.data, self.problem, W, rows)
        v.data["push"] = np.column_stack([g, loss, count])
        v.signal()
        self.straggler.finish(v.ids, started)

    def _push(self, v):
        if v.superstep == 0:
            return np.zeros((len(v), self.dim + 2))
        return v.data["push"]

    def _step(self, total: np.ndarray, previous: dict[str, Any] | None) -> dict[str, Any]:
        D, p = self.dim, self.problem
        if previous is None:
            zero = np.zeros(D)
            return {
                "w": zero,
                "y": zero,
                "t": 1.0,
                "round": 0,
                "loss": math.nan,
                "start": math.nan,
                "moved": math.inf,
                "done": False,
                "diverged": False,
            }
        y = previous["y"]
        count = max(total[D + 1], 1.0)
        with np.errstate(over="ignore", invalid="ignore"):
            grad = total[:D] / count + p.smooth_reg * self.mask * y
            loss = float(total[D] / count) + p.penalty(y)
        rnd = previous["round"] + 1
        start = loss if rnd == 1 else previous["start"]
        if diverged(loss, start) or not np.all(np.isfinite(grad)):
            return {**previous, "round": rnd, "loss": loss, "done": True, "diverged": True}
        lr = self.lr / (1.0 + self.decay * (rnd - 1))
        w = y - lr * grad
        if p.l1:
            w = np.where(self.mask > 0, soft_threshold(w, lr * p.l1), w)
        moved = float(np.linalg.norm(w - y)) / lr
        t = previous["t"]
        if self.momentum:
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
            if (y - w) @ (w - previous["w"]) > 0:  # the step turned against the momentum: restart
                t_next = 1.0
            y_next = w + (t - 1.0) / t_next * (w - previous["w"])
        else:
            t_next, y_next = 1.0, w
        done = self.batch_fraction == 1 and moved < self.tol
        return {
            "w": w,
            "y": y_next,
            "t": t_next,
            "round": rnd,
            "loss": loss,
            "start": start,
            "moved": moved,
            "done": done,
            "diverged": False,
        }

    def converged(self, globals) -> bool:
        return bool(globals[MODEL]["done"])


@rank_zero
def bsp_sgd(
    problem: Problem,
    X: Any,
    y: Any,
    num_shards: int = 4,
    lr: float | None = None,
    batch_fraction: float = 1.0,
    momentum: bool | None = None,
    decay: float = 0.0,
    max_rounds: int = 5000,
    tol: float = 1e-7,
    seed: int = 0,
    straggler: float = 1.0,
    shards: Shards | None = None,
    **engine_options: Any,
) -> MechanismResult:
    """Bulk-synchronous (mini-batch) SGD on the sync engine; see the module docstring.

    Parameters
    ----------
    problem : Problem
    X : ndarray (n, d) or scipy sparse matrix
    y : ndarray (n,)
    num_shards : int
        Shards (vertices), one per simulated worker.
    lr : float, optional
        Step size; default ``1 / L`` (:meth:`Problem.smoothness`), halved for mini-batches.
    batch_fraction : float
        Share of every shard's rows per round (1: full gradient).
    momentum : bool, optional
        Nesterov momentum with restarts; default on for full batches only.
    decay : float
        Step schedule ``lr / (1 + decay t)``.
    max_rounds : int
        Budget of supersteps.
    tol : float
        Stopping tolerance on the gradient mapping (full batches).
    seed : int
        Seed of the shard split and the mini-batches.
    straggler : float
        Shard 0 is this many times slower (>= 1).
    shards : Shards, optional
        A split made by :func:`~algorithms.mechanisms.problems.shard` (so
        several mechanisms share one).
    **engine_options
        Passed to :func:`gasengine.run` (``partitions``, ``workers``...).

    Returns
    -------
    MechanismResult

    Raises
    ------
    DivergenceError
        When the objective grew a thousandfold or became NaN (the message
        gives the round and the safe step ``1/L``).
    ValueError
        Bad data (see :func:`~algorithms.mechanisms.problems.prepare`) or parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from algorithms.mechanisms.problems import Problem, make_logistic, DivergenceError
    >>> X, y = make_logistic(100, 3)
    >>> try:
    ...     bsp_sgd(Problem("logistic", 0.01), X, y, lr=500.0)
    ... except DivergenceError as exc:
    ...     print(type(exc).__name__, exc.round > 0)
    DivergenceError True
    """
    s = shards if shards is not None else shard(X, y, problem, num_shards, seed)
    from .problems import prepare

    def smoothness() -> float:  # a top singular value: seconds to minutes on big data, so only when needed
        return problem.smoothness(prepare(X, y, problem)[0])

    L = None  # computed only to choose the step or to explain a divergence
    if lr is None:
        L = smoothness()
        lr = 1.0 / L if batch_fraction >= 1 else 0.5 / L
    if momentum is None:
        momentum = batch_fraction >= 1
    program = BSPSGDProgram(problem, s.dim, s.num_rows, lr, batch_fraction, momentum, decay, tol, seed, straggler)
    check_positive("max_rounds", max_rounds, integer=True)
    result, seconds = timed_run(program, shard_graph(s), max_supersteps=max_rounds, **engine_options)
    state = result.aggregates[MODEL]
    if state.get("diverged"):
        raise_if_diverged("bsp_sgd", state, f"lr={lr:.4g}; the safe full-batch step 1/L is {1 / smoothness():.4g}")
    w = np.asarray(state["w"], dtype=np.float64)
    rounds = result.supersteps
    return MechanismResult(
        "bsp_sgd",
        problem,
        w,
        problem.objective(w, X, y),
        rounds,
        rounds * s.num_shards,
        seconds,
        engine_bytes(result),
        2 * 8 * s.dim * s.num_shards * rounds,
        sim_time=rounds * program.straggler.factor,
        converged=bool(state["done"]),
        history=history_of(result, MODEL),
        info={"lr": lr, "L": L},  # L: None when lr was given
        result=result,
    )
