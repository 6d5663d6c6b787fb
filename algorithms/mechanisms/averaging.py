"""Model averaging (local SGD / FedAvg-style): local epochs at every shard, then an average.

Topology: one vertex per shard (field ``"w"``, its local model), no edges;
the average is the value of the sync operation ``"avg_model"``.  One
superstep is one round:

1. ``apply`` (every shard): start from the average ``w_bar`` of
   ``v.globals["avg_model"]`` and take ``local_steps`` proximal gradient
   steps (the last one's L1 proximal map is applied to the average
   instead) on the shard's own objective ``F_s(w) = 1/n_s sum_{i in s}
   loss_i(w) + penalty`` (full shard, or a ``batch_fraction`` mini-batch
   per step), batched over the shards of the apply;
2. the sync operation averages the local models weighted by ``n_s / N``
   (the weights that make ``sum_s n_s/N F_s = F``).

With ``local_steps=1`` a round is exactly one gradient step on ``F``
(full batches): the mechanism is gradient descent and reaches the optimum
(accelerated, with the default block momentum: the sync operation
extrapolates the averages as Nesterov does, and the shards start the next
round from there).
With more local steps each round communicates once per ``local_steps``
gradients, and the shards *drift* toward their own optima: the fixed point
is not the optimum of ``F`` unless the shards are alike or the step
decays (``decay``), so the objective gap it stops at is the price of
talking less; :func:`compare_mechanisms` reports it.

Examples
--------
>>> import numpy as np
>>> from algorithms.mechanisms.problems import Problem, make_logistic, reference_solution
>>> X, y = make_logistic(200, 4)
>>> p = Problem("logistic", 0.01)
>>> r = model_averaging(p, X, y, local_steps=1, max_rounds=3000)
>>> bool(r.gap(p.objective(reference_solution(p, X, y), X, y)) < 1e-6)
True
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
from .problems import Problem, Shards, prepare, shard, shard_gradients, soft_threshold

__all__ = ["ModelAveragingProgram", "local_gradient_steps", "model_averaging"]

MODEL = "avg_model"


def local_gradient_steps(
    F: Any,
    problem: Problem,
    W: np.ndarray,
    lr: float,
    steps: int,
    centre: np.ndarray | None = None,
    rho: float = 0.0,
    batch_fraction: float = 1.0,
    rng: np.random.Generator | None = None,
    prox_last: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """``steps`` proximal gradient steps on every shard's objective ``F_s`` (+ ``rho/2 |w - centre|^2``), together.

    With ``prox_last=False`` the last step stops before its proximal map
    (the L1 soft threshold), which the caller applies after averaging: the
    average of soft thresholds is not the soft threshold of the average.

    Returns the new models ``(b, D)``, the loss sums at the *starting*
    models ``(b,)`` and the row counts ``(b,)``.

    Examples
    --------
    >>> from algorithms.mechanisms.problems import shard
    >>> p = Problem("lasso", 0.0, fit_intercept=False)
    >>> s = shard(np.eye(2), np.array([1.0, 2.0]), p, 1, seed=None)
    >>> local_gradient_steps(s.fields, p, np.zeros((1, 2)), 2.0, 1)[0].tolist()
    [[1.0, 2.0]]
    """
    mask = problem.penalty_mask(W.shape[1])
    W = np.array(W, dtype=np.float64)
    start_loss = start_count = None
    for step in range(steps):  # a loop over local steps; each is vectorised over shards and rows
        rows = None
        if batch_fraction < 1 and rng is not None:
            rows = (rng.random(F["y"].shape) < batch_fraction).astype(np.float64)
        g, loss, count = shard_gradients(F, problem, W, rows)
        if start_loss is None:
            start_loss, start_count = loss, count
        with np.errstate(over="ignore", invalid="ignore"):
            grad = g / np.maximum(count, 1.0)[:, None] + problem.smooth_reg * mask * W
            if centre is not None and rho:
                grad = grad + rho * (W - centre)
            W = W - lr * grad
            if problem.l1 and (prox_last or step < steps - 1):
                W = np.where(mask > 0, soft_threshold(W, lr * problem.l1), W)
    return W, start_loss, start_count


class ModelAveragingProgram(VertexProgram):
    """Local proximal-gradient epochs at the shards, a weighted average in ``"avg_model"``.

    Parameters
    ----------
    problem : Problem
    dim, num_rows : int
    weights : ndarray (S,)
        ``n_s / N`` per shard (vertex).
    lr : float
        Local step size.
    local_steps : int
        Gradient steps per shard between two averages.
    batch_fraction : float
        Mini-batch share of a local step (1: the whole shard).
    decay : float
        Round-wise schedule ``lr / (1 + decay t)``.
    tol : float
        Stop when the average moves less than ``tol * lr * local_steps``.
    seed : int
    straggler : float
    momentum : bool
        Block momentum (Nesterov's extrapolation of successive averages,
        restarted when a round turns against it; Chen and Huo's BMUF): the
        shards start each round from the extrapolated point.
    """

    def __init__(
        self,
        problem: Problem,
        dim: int,
        num_rows: int,
        weights: np.ndarray,
        lr: float,
        local_steps: int = 5,
        batch_fraction: float = 1.0,
        decay: float = 0.0,
        tol: float = 1e-7,
        seed: int = 0,
        straggler: float = 1.0,
        momentum: bool = True,
    ):
        self.momentum = bool(momentum)
        self.problem = problem
        self.dim, self.num_rows = int(dim), int(num_rows)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.lr = check_positive("lr", lr)
        self.local_steps = check_positive("local_steps", local_steps, integer=True)
        self.batch_fraction = check_positive("batch_fraction", batch_fraction)
        self.decay = float(decay)
        self.tol = check_positive("tol", tol)
        self.seed = int(seed)
        self.straggler = Straggler(straggler)
        self.aggregators = (Aggregator(MODEL, self._push, finalize=self._average),)

    def init(self, v):
        v.data["w"] = np.zeros((len(v), self.dim))
        v.data["push"] = np.zeros((len(v), self.dim + 1))

    def apply(self, v, acc):
        started = self.straggler.start()
        st = v.globals[MODEL]
        lr = self.lr / (1.0 + self.decay * st["round"])
        rng = np.random.default_rng([self.seed, v.superstep, *v.ids[:1].tolist()])
        W0 = np.broadcast_to(st["y"], (len(v), self.dim))
        W, loss, _ = local_gradient_steps(
            v.data, self.problem, W0, lr, self.local_steps, batch_fraction=self.batch_fraction, rng=rng, prox_last=False
        )
        share = self.weights[v.ids]
        v.data["w"] = W
        v.data["push"] = np.column_stack([share[:, None] * W, loss])  # loss: sum at the average, for the trace
        v.signal()
        self.straggler.finish(v.ids, started)

    def _push(self, v):
        if v.superstep == 0:
            return np.zeros((len(v), self.dim + 1))
        return v.data["push"]

    def _average(self, total: np.ndarray, previous: dict[str, Any] | None) -> dict[str, Any]:
        D = self.dim
        if previous is None:
            return {
                "w": np.zeros(D),
                "y": np.zeros(D),
                "t": 1.0,
                "round": 0,
                "loss": math.nan,
                "start": math.nan,
                "done": False,
                "diverged": False,
            }
        rnd = previous["round"] + 1
        loss = float(total[D]) / self.num_rows + self.problem.penalty(previous["y"])
        start = loss if rnd == 1 else previous["start"]
        w = total[:D]
        if diverged(loss, start) or not np.all(np.isfinite(w)):
            return {**previous, "round": rnd, "loss": loss, "done": True, "diverged": True}
        lr = self.lr / (1.0 + self.decay * previous["round"])
        if self.problem.l1:  # the last local step's proximal map, on the average
            mask = self.problem.penalty_mask(D)
            w = np.where(mask > 0, soft_threshold(w, lr * self.problem.l1), w)
        y = previous["y"]
        moved = float(np.linalg.norm(w - y)) / (lr * self.local_steps)
        done = self.batch_fraction >= 1 and moved < self.tol
        t, t_next, y_next = previous["t"], 1.0, w
        if self.momentum:  # block momentum: Nesterov's extrapolation of the averages, with restarts
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
            if (y - w) @ (w - previous["w"]) > 0:
                t_next = 1.0
            y_next = w + (t - 1.0) / t_next * (w - previous["w"])
        return {
            "w": w,
            "y": y_next,
            "t": t_next,
            "round": rnd,
            "loss": loss,
            "start": start,
            "done": done,
            "diverged": False,
        }

    def converged(self, globals) -> bool:
        return bool(globals[MODEL]["done"])


@rank_zero
def model_averaging(
    problem: Problem,
    X: Any,
    y: Any,
    num_shards: int = 4,
    local_steps: int = 5,
    lr: float | None = None,
    batch_fraction: float = 1.0,
    decay: float = 0.0,
    max_rounds: int = 2000,
    tol: float = 1e-7,
    seed: int = 0,
    straggler: float = 1.0,
    shards: Shards | None = None,
    momentum: bool = True,
    **engine_options: Any,
) -> MechanismResult:
    """Model averaging on the sync engine; see the module docstring.

    Parameters
    ----------
    problem, X, y
        The problem and its data.
    num_shards : int
    local_steps : int
        Local gradient steps between averages (1: gradient descent).
    lr : float, optional
        Local step (default ``1 / L``).
    momentum : bool
        Block momentum on the averages (with ``local_steps=1`` the mechanism
        is then accelerated gradient descent, as :func:`bsp_sgd`).
    batch_fraction, decay, max_rounds, tol, seed, straggler, shards
        As for :func:`~algorithms.mechanisms.bsp_sgd.bsp_sgd`.
    **engine_options
        Passed to :func:`gasengine.run`.

    Returns
    -------
    MechanismResult

    Raises
    ------
    DivergenceError
        The objective grew a thousandfold or became NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from algorithms.mechanisms.problems import Problem, make_logistic
    >>> X, y = make_logistic(100, 3)
    >>> r = model_averaging(Problem("logistic", 0.01), X, y, local_steps=4)
    >>> r.gradients == 4 * 4 * r.rounds
    True
    """
    s = shards if shards is not None else shard(X, y, problem, num_shards, seed)
    L = problem.smoothness(prepare(X, y, problem)[0])
    lr = 1.0 / L if lr is None else lr
    program = ModelAveragingProgram(
        problem, s.dim, s.num_rows, s.weights, lr, local_steps, batch_fraction, decay, tol, seed, straggler, momentum
    )
    check_positive("max_rounds", max_rounds, integer=True)
    result, seconds = timed_run(program, shard_graph(s), max_supersteps=max_rounds, **engine_options)
    state = result.aggregates[MODEL]
    raise_if_diverged("model_averaging", state, f"lr={lr:.4g}; 1/L is {1 / L:.4g}")
    w = np.asarray(state["w"], dtype=np.float64)
    rounds = result.supersteps
    K = program.local_steps
    return MechanismResult(
        "model_averaging",
        problem,
        w,
        problem.objective(w, X, y),
        rounds,
        rounds * s.num_shards * K,
        seconds,
        engine_bytes(result),
        2 * 8 * s.dim * s.num_shards * rounds,
        sim_time=rounds * K * program.straggler.factor,
        converged=bool(state["done"]),
        history=history_of(result, MODEL),
        info={"lr": lr, "local_steps": K},
        result=result,
    )
