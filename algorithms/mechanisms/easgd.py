"""Elastic averaging SGD (Zhang, Choromanska and LeCun 2015), synchronous form.

Every shard keeps its own model ``x_s`` (field ``"x"``); the **centre
variable** ``x_c`` is the value of the sync operation ``"easgd_centre"``.
The problem EASGD solves is the penalised one

    min  sum_s n_s/N F_s(x_s) + rho/2 sum_s n_s/N |x_s - x_c|^2,

with the elastic force ``rho`` pulling each local model toward the centre
and the centre toward the models.  One superstep is one round:

1. ``apply``: ``local_steps`` (proximal) gradient steps on
   ``F_s(x) + rho/2 |x - x_c|^2`` from the shard's own ``x_s``, reading the
   centre of the previous round (``moving_rate`` = ``lr * rho``, the
   paper's ``alpha``);
2. the sync operation moves the centre toward the weighted mean of the
   models: ``x_c = x_c + beta (mean_s x_s - x_c)``, ``beta = S alpha``
   capped at 1 (the paper's symmetric choice ``beta = p alpha``).

The fixed point has ``x_c`` = the mean of the ``x_s`` and ``sum_s n_s/N
grad F_s(x_s) = 0``: it is the optimum of ``F`` only as ``rho`` grows, so
EASGD trades accuracy for looser coupling; a large ``rho`` (default
``L / 2``, :meth:`Problem.smoothness`) keeps the models close.  The objective
reported is ``F(x_c)``.

Examples
--------
>>> import numpy as np
>>> from algorithms.mechanisms.problems import Problem, make_logistic, reference_solution
>>> X, y = make_logistic(200, 4)
>>> p = Problem("logistic", 0.01)
>>> r = easgd(p, X, y)
>>> bool(r.gap(p.objective(reference_solution(p, X, y), X, y)) < 1e-3)
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gasengine import Aggregator, VertexProgram, rank_zero

from .averaging import local_gradient_steps
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
from .problems import Problem, Shards, loss_sums, prepare, shard

__all__ = ["EASGDProgram", "easgd"]

CENTRE = "easgd_centre"


class EASGDProgram(VertexProgram):
    """Local models pulled toward a centre variable held by the ``"easgd_centre"`` sync operation.

    Parameters
    ----------
    problem : Problem
    dim, num_rows, num_shards : int
    weights : ndarray (S,)
        ``n_s / N``.
    lr : float
        Local step.
    rho : float
        Elastic force, ``> 0``.
    local_steps : int
        Gradient steps per round (the paper's communication period ``tau``).
    tol : float
        Stop when the centre moves less than ``tol * lr``.
    straggler : float
    """

    def __init__(
        self,
        problem: Problem,
        dim: int,
        num_rows: int,
        num_shards: int,
        weights: np.ndarray,
        lr: float,
        rho: float,
        local_steps: int = 1,
        tol: float = 1e-7,
        straggler: float = 1.0,
    ):
        self.problem = problem
        self.dim, self.num_rows, self.num_shards = int(dim), int(num_rows), int(num_shards)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.lr = check_positive("lr", lr)
        self.rho = check_positive("rho", rho)
        self.local_steps = check_positive("local_steps", local_steps, integer=True)
        self.tol = check_positive("tol", tol)
        self.beta = min(1.0, self.num_shards * self.lr * self.rho)
        self.straggler = Straggler(straggler)
        self.aggregators = (Aggregator(CENTRE, self._push, finalize=self._centre),)

    def init(self, v):
        v.data["x"] = np.zeros((len(v), self.dim))
        v.data["push"] = np.zeros((len(v), self.dim + 1))

    def apply(self, v, acc):
        started = self.straggler.start()
        centre = v.globals[CENTRE]["x"]
        loss = loss_sums(v.data, self.problem, np.broadcast_to(centre, (len(v), self.dim)))
        X, _, _ = local_gradient_steps(
            v.data, self.problem, v.data["x"], self.lr, self.local_steps, centre=centre, rho=self.rho
        )
        v.data["x"] = X
        v.data["push"] = np.column_stack([self.weights[v.ids][:, None] * X, loss])
        v.signal()
        self.straggler.finish(v.ids, started)

    def _push(self, v):
        if v.superstep == 0:
            return np.zeros((len(v), self.dim + 1))
        return v.data["push"]

    def _centre(self, total: np.ndarray, previous: dict[str, Any] | None) -> dict[str, Any]:
        D = self.dim
        if previous is None:
            return {"x": np.zeros(D), "round": 0, "loss": math.nan, "start": math.nan, "done": False, "diverged": False}
        rnd = previous["round"] + 1
        loss = float(total[D]) / self.num_rows + self.problem.penalty(previous["x"])
        start = loss if rnd == 1 else previous["start"]
        mean = total[:D]
        if diverged(loss, start) or not np.all(np.isfinite(mean)):
            return {**previous, "round": rnd, "loss": loss, "done": True, "diverged": True}
        x = previous["x"] + self.beta * (mean - previous["x"])
        moved = float(np.linalg.norm(x - previous["x"])) / self.lr
        return {"x": x, "round": rnd, "loss": loss, "start": start, "done": moved < self.tol, "diverged": False}

    def converged(self, globals) -> bool:
        return bool(globals[CENTRE]["done"])


@rank_zero
def easgd(
    problem: Problem,
    X: Any,
    y: Any,
    num_shards: int = 4,
    rho: float | None = None,
    lr: float | None = None,
    local_steps: int = 1,
    max_rounds: int = 3000,
    tol: float = 1e-7,
    seed: int = 0,
    straggler: float = 1.0,
    shards: Shards | None = None,
    **engine_options: Any,
) -> MechanismResult:
    """Synchronous EASGD on the sync engine; see the module docstring.

    Parameters
    ----------
    problem, X, y
    num_shards : int
    rho : float, optional
        Elastic force ``> 0`` (default ``L / 2``).
    lr : float, optional
        Local step (default ``1.5 / (L + rho)``, i.e. ``1 / L``: the local
        objective is ``(L + rho)``-smooth, so any step below ``2 / (L + rho)`` is stable).
    local_steps : int
        Gradient steps between two centre updates.
    max_rounds, tol, seed, straggler, shards
        As for :func:`~algorithms.mechanisms.bsp_sgd.bsp_sgd`.

    Returns
    -------
    MechanismResult
        ``info["spread"]``: the largest distance of a local model from the centre.

    Raises
    ------
    ValueError
        ``rho <= 0`` or ``lr <= 0``.
    DivergenceError
        The objective grew a thousandfold or became NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from algorithms.mechanisms.problems import Problem, make_logistic
    >>> X, y = make_logistic(60, 3)
    >>> easgd(Problem("logistic", 0.01), X, y, rho=-1.0)
    Traceback (most recent call last):
    ...
    ValueError: rho must be a finite number > 0, got -1.0
    """
    if rho is not None:
        check_positive("rho", rho)
    s = shards if shards is not None else shard(X, y, problem, num_shards, seed)
    L = problem.smoothness(prepare(X, y, problem)[0])
    rho = L / 2 if rho is None else rho
    lr = 1.5 / (L + rho) if lr is None else lr
    program = EASGDProgram(problem, s.dim, s.num_rows, s.num_shards, s.weights, lr, rho, local_steps, tol, straggler)
    check_positive("max_rounds", max_rounds, integer=True)
    result, seconds = timed_run(program, shard_graph(s), max_supersteps=max_rounds, **engine_options)
    state = result.aggregates[CENTRE]
    raise_if_diverged("easgd", state, f"lr={lr:.4g}; 1/(L + rho) is {1 / (L + rho):.4g}")
    w = np.asarray(state["x"], dtype=np.float64)
    spread = float(np.linalg.norm(result.field("x") - w, axis=1).max())
    rounds = result.supersteps
    K = program.local_steps
    return MechanismResult(
        "easgd",
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
        history=history_of(result, CENTRE),
        info={"lr": lr, "rho": rho, "beta": program.beta, "spread": spread},
        result=result,
    )
