"""What every mechanism shares: the shard graph, the result record, the straggler, divergence checks.

Examples
--------
>>> import numpy as np
>>> from algorithms.mechanisms.problems import Problem, shard
>>> s = shard(np.eye(3), np.array([0, 1, 1]), Problem("logistic", 0.1), 3)
>>> g = shard_graph(s, server=True)
>>> g.num_vertices, g.num_edges   # three shards and the server, one edge per shard
(4, 3)
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gasengine import Graph, Result, run

from .problems import DivergenceError, Problem, Shards

__all__ = ["MechanismResult", "Straggler", "check_positive", "shard_graph"]

#: An objective estimate this many times the starting one (or not finite) is divergence.
DIVERGENCE_FACTOR = 1e3


def shard_graph(shards: Shards, server: bool = False) -> Graph:
    """The graph the mechanisms run on: one vertex per shard, optionally a server vertex joined to all.

    Without a server the graph has no edges (the model is a sync operation's
    value); with one, vertex ``S`` (the last) is the server and every shard
    has one edge shard -> server (the parameter-server topology).  The
    server's data fields are zero (a shard of no rows).
    """
    S = shards.num_shards
    fields = shards.fields
    if server:
        fields = {k: np.concatenate([a, np.zeros((1, *a.shape[1:]), dtype=a.dtype)]) for k, a in fields.items()}
        src = np.arange(S)
        dst = np.full(S, S)
        return Graph(src, dst, num_vertices=S + 1, vertex_data=fields)
    return Graph([], [], num_vertices=S, vertex_data=fields)


class Straggler:
    """One shard (vertex 0) slowed by ``factor``, as a synchronous engine sees it.

    The shard's ``apply`` measures its work and, when vertex 0 is in the
    batch, sleeps ``(factor - 1)`` times the work of one shard of the batch:
    the batch (and with it the superstep, which waits for every apply) takes
    as long as the slow shard.  Sleeps are per call, so per batch: this is
    what a bulk-synchronous round costs when one worker is ``factor`` times
    slower.  Asynchronous mechanisms model the straggler differently (its
    gradient takes ``factor`` turns; see :mod:`algorithms.mechanisms.async_sgd`).
    """

    factor: float

    def __init__(self, factor: float = 1.0):
        if (
            isinstance(factor, bool)
            or not isinstance(factor, numbers.Real)
            or not (math.isfinite(factor) and factor >= 1)
        ):
            raise ValueError(f"straggler must be a factor >= 1 (1: no straggler), got {factor!r}")
        self.factor = float(factor)

    def start(self) -> float:
        return time.perf_counter()

    def finish(self, ids: np.ndarray, started: float) -> None:
        if self.factor > 1 and len(ids) and (ids == 0).any():
            spent = time.perf_counter() - started
            time.sleep((self.factor - 1.0) * spent / len(ids))


def check_positive(name: str, value: Any, allow_none: bool = False, integer: bool = False) -> Any:
    """``value`` as a float (or int) > 0, else a ValueError naming ``name``.

    Examples
    --------
    >>> check_positive("rho", 0.0)
    Traceback (most recent call last):
    ...
    ValueError: rho must be a finite number > 0, got 0.0
    """
    if value is None and allow_none:
        return None
    if integer:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        return int(value)
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not (math.isfinite(value) and float(value) > 0)
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def diverged(value: float, start: float) -> bool:
    """Whether an objective estimate means divergence (not finite, or far above the start)."""
    return not math.isfinite(value) or value > DIVERGENCE_FACTOR * max(start, 1e-12)


@dataclass(eq=False)
class MechanismResult:
    """What every mechanism function returns.

    Attributes
    ----------
    mechanism : str
        Its name (``"bsp_sgd"``, ``"admm"`` ...).
    w : ndarray, shape (D,)
        The model (the intercept last when fitted).
    objective : float
        ``F(w)`` on the whole data, computed afterwards in numpy.
    rounds : int
        Supersteps (sync engine) or rounds (async engine) run.
    gradients : int
        Shard gradient evaluations (one shard's gradient over its rows or mini-batch).
    seconds : float
        Wall time of the engine run.
    bytes_engine : int
        Bytes the engine counted between parts (``Result.steps``): vertex
        values and signals; sync operations' traffic is not counted there.
    bytes_model : int
        Model traffic as a parameter-server implementation would send it:
        ``8 D`` bytes per model pushed or pulled by a shard.
    staleness_mean, staleness_max : float
        Versions the server's model advanced between a shard reading it and
        its gradient being applied (0 for synchronous mechanisms).
    conflicts : int
        Data races the asynchronous engine counted (vertex consistency).
    sim_time : float
        Time in units of one normal shard's gradient, with the straggler:
        a synchronous round costs the slowest shard's time, an asynchronous
        run the turns of its busiest worker.
    converged : bool
        Whether the mechanism's own stopping rule fired within the budget.
    history : dict of str to ndarray
        ``"round"`` and ``"objective"``: the objective per round as the
        mechanism's sync operation saw it (at the point the gradients were
        taken; mini-batch estimates for mini-batch SGD), or for the
        asynchronous mechanisms ``F`` of the server's model after each
        round (recorded by a sync operation, evaluated after the run).
    info : dict
        Mechanism-specific figures (ADMM: residuals and rho).
    result : Result
        The engine's result.
    """

    mechanism: str
    problem: Problem
    w: np.ndarray
    objective: float
    rounds: int
    gradients: int
    seconds: float
    bytes_engine: int
    bytes_model: int
    staleness_mean: float = 0.0
    staleness_max: float = 0.0
    conflicts: int = 0
    sim_time: float = 0.0
    converged: bool = False
    history: dict[str, np.ndarray] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    result: Result | None = field(default=None, repr=False)

    def gap(self, optimum: float) -> float:
        """Relative objective gap ``(F(w) - optimum) / |optimum|``."""
        return (self.objective - optimum) / abs(optimum)


def raise_if_diverged(name: str, state: dict[str, Any], hint: str) -> None:
    """Raise :class:`DivergenceError` if the final sync-operation state says the run diverged."""
    if state.get("diverged"):
        raise DivergenceError(name, int(state["round"]), float(state["loss"]), hint)


def timed_run(program: Any, graph: Graph, **options: Any) -> tuple[Result, float]:
    """``run(program, graph, **options)`` and its wall-clock seconds (the mechanisms' ``seconds``).

    Mechanism functions are :func:`gasengine.rank_zero`, so under MPI this runs on rank 0, which gets
    the :class:`~gasengine.Result`.
    """
    started = time.perf_counter()
    result = run(program, graph, **options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    return result, time.perf_counter() - started


def engine_bytes(result: Result) -> int:
    return int(result.steps.column("bytes_exchanged").sum()) if result.steps.rows else 0


def history_of(result: Result, name: str, key: str = "loss") -> dict[str, np.ndarray]:
    """Per-round ``key`` of a sync operation's dict states (skipping the state before the first round)."""
    points = [(s, v[key]) for s, v in result.history.get(name, []) if s > 0 and key in v]
    return {
        "round": np.array([s for s, _ in points], dtype=np.int64),
        "objective": np.array([x for _, x in points], dtype=np.float64),
    }
