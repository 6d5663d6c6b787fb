"""Asynchronous SGD with a parameter server and bounded staleness (Downpour / SSP) on the async engine.

Topology: the **parameter-server graph**: one vertex per shard and one
server vertex (the last, ``S``) joined to every shard by one edge.  The
model lives on the server (field ``"w"``, with a version counter); each
vertex writes only its own fields, so under ``consistency="edge"`` every
round is serializable (a round holds either the server or shards, never
both: they are adjacent), and under ``"vertex"`` the server and the shards
run together and race (:mod:`algorithms.mechanisms.hogwild`).

A shard's update (``apply``; ``gather`` brought the server's ``w`` and version)
    *pull*: when it starts a gradient it copies the server's model and
    version (``"w_read"``, ``"read_version"``); it works on it for one turn
    (``straggler`` turns for shard 0), then *pushes*: it adds
    ``n_s/N`` times its mini-batch gradient at ``w_read`` to its cumulative
    field ``"gsum"`` and counts the push; it stays scheduled (``v.signal``)
    and signals the server.  **Bounded staleness** (stale synchronous
    parallel, Ho et al. 2013): a shard whose push count is more than
    ``staleness`` ahead of the slowest shard's (the ``"async_clock"`` sync
    operation, a minimum) waits instead (counted as a *wait*).
The server's update
    gathers every shard's cumulative ``gsum`` (and, per shard, its push
    count and the sum of the versions its gradients were computed from),
    applies what is new since its last update,
    ``w -= lr * (sum gsum - applied)`` (then the L1 proximal map in
    proportion to the new pushes, for the lasso), and advances its version.
    **Staleness** of a gradient = the server's version when it is applied
    minus the version it was computed from; the server keeps its sum and
    count (the mean is exact) and the largest per-shard mean of one update
    (the maximum, exactly, when a shard has at most one new gradient per
    server update, the usual case).

Cumulative sums make the protocol robust to races: a server that reads a
shard's ``gsum`` before the shard's concurrent push simply applies that
push at its next update; nothing is lost, only delayed.  The run ends after
``budget`` pushes (default ``epochs`` per shard) or when the objective
estimate (the ``"async_objective"`` sync operation: each shard's loss at
the model it last read) diverges.

Examples
--------
>>> import numpy as np
>>> from algorithms.mechanisms.problems import Problem, make_logistic, reference_solution
>>> X, y = make_logistic(200, 4)
>>> p = Problem("logistic", 0.01)
>>> r = async_sgd(p, X, y, num_shards=4, epochs=50)
>>> bool(r.gap(p.objective(reference_solution(p, X, y), X, y)) < 1e-2), r.staleness_max >= 0
(True, True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gasengine import ALL, Aggregator, VertexProgram, rank_zero

from .base import (
    DIVERGENCE_FACTOR,
    MechanismResult,
    check_positive,
    engine_bytes,
    shard_graph,
    timed_run,
)
from .problems import (
    DivergenceError,
    Problem,
    Shards,
    prepare,
    shard,
    shard_gradients,
    soft_threshold,
)

__all__ = ["AsyncSGDProgram", "async_sgd"]

CLOCK = "async_clock"
PROGRESS = "async_objective"
SERVER_MODEL = "async_server_model"


class AsyncSGDProgram(VertexProgram):
    """Shards push stale gradients to a server vertex; see the module docstring.

    Parameters
    ----------
    problem : Problem
    dim, num_rows, num_shards : int
    weights : ndarray (S,)
        ``n_s / N`` per shard.
    lr : float
        Server step per full sweep of pushes.
    staleness : int or None
        SSP bound on how many pushes a shard may be ahead of the slowest
        (None: unbounded, Downpour).
    batch_fraction : float
        Mini-batch share of a shard's rows per gradient.
    budget : int
        Total pushes after which the run ends.
    straggler : float
        Shard 0 needs this many turns per gradient.
    seed : int
    """

    gather_edges = ALL
    scatter_edges = ALL
    combine = np.add

    def __init__(
        self,
        problem: Problem,
        dim: int,
        num_rows: int,
        num_shards: int,
        weights: np.ndarray,
        lr: float,
        staleness: int | None = None,
        batch_fraction: float = 1.0,
        budget: int = 1000,
        straggler: float = 1.0,
        seed: int = 0,
    ):
        self.problem = problem
        self.dim, self.num_rows, self.S = int(dim), int(num_rows), int(num_shards)
        self.weights = np.append(np.asarray(weights, dtype=np.float64), 0.0)  # the server has no rows
        self.lr = check_positive("lr", lr)
        if staleness is not None and (isinstance(staleness, bool) or not isinstance(staleness, int) or staleness < 0):
            raise ValueError(f"staleness must be an integer >= 0 or None, got {staleness!r}")
        self.staleness = staleness
        self.batch_fraction = check_positive("batch_fraction", batch_fraction)
        self.budget = check_positive("budget", budget, integer=True)
        self.straggler = check_positive("straggler", straggler)
        if self.straggler < 1:
            raise ValueError(f"straggler must be a factor >= 1, got {straggler!r}")
        self.seed = int(seed)
        self.mask = problem.penalty_mask(self.dim)
        self.aggregators = (
            Aggregator(CLOCK, self._clock, combine=np.minimum),
            Aggregator(PROGRESS, self._progress, finalize=self._check),
            # the server's model after every round (only the server contributes): the trace's objective
            Aggregator(SERVER_MODEL, lambda v: v.data["w"] * self._is_server(v.ids)[:, None]),
        )

    # ------------------------------------------------------------ fields
    def init(self, v):
        n, D, S = len(v), self.dim, self.S
        for name, shape in [
            ("w", (n, D)),
            ("w_read", (n, D)),
            ("gsum", (n, D)),
            ("applied", (n, D)),
            ("consumed", (n, S)),
            ("consumed_vsum", (n, S)),
        ]:
            v.data[name] = np.zeros(shape)
        for name in (
            "version",
            "read_version",
            "npushed",
            "vsum",
            "work",
            "turns",
            "waits",
            "loss",
            "stale_sum",
            "stale_count",
            "stale_max",
            "busy",
        ):
            v.data[name] = np.zeros(n)

    def _is_server(self, ids: np.ndarray) -> np.ndarray:
        return ids == self.S

    # ------------------------------------------------------------ GAS
    def gather(self, e):
        D, S = self.dim, self.S
        out = np.zeros((len(e), D + 1 + 2 * S))
        at_server = self._is_server(e.vertex)
        nbr = e.nbr_data
        # a shard gathers the server's model and version; the server every shard's cumulative gradient
        out[:, :D] = np.where(at_server[:, None], nbr["gsum"], nbr["w"])
        out[:, D] = np.where(at_server, 0.0, nbr["version"])
        # and, in the shard's slot, its push count and the sum of the versions its pushes were computed from
        rows = np.flatnonzero(at_server)
        slot = e.nbr[rows]
        out[rows, D + 1 + slot] = nbr["npushed"][rows]
        out[rows, D + 1 + S + slot] = nbr["vsum"][rows]
        return out

    def apply(self, v, acc):
        server = self._is_server(v.ids)
        pushed = np.zeros(len(v), dtype=bool)
        if server.any():
            self._serve(v, acc, server)
        shards = ~server
        if shards.any():
            pushed = self._work(v, acc, shards)
        return pushed

    def _work(self, v, acc, mine: np.ndarray) -> np.ndarray:
        D = self.dim
        ids = v.ids
        d = {
            k: v.data[k].copy()
            for k in ("w_read", "read_version", "npushed", "vsum", "work", "turns", "waits", "gsum", "loss", "busy")
        }
        clock_min = v.globals[CLOCK]
        ahead = d["npushed"] - clock_min
        bound = math.inf if self.staleness is None else self.staleness
        idle = mine & (d["busy"] == 0)
        blocked = idle & (ahead > bound)
        start = idle & ~blocked
        # pull: copy the server's model when a new gradient starts
        d["w_read"] = np.where(start[:, None], acc[:, :D], d["w_read"])
        d["read_version"] = np.where(start, acc[:, D], d["read_version"])
        d["busy"] = np.where(start, 1.0, d["busy"])
        working = mine & (d["busy"] > 0)
        d["work"] = d["work"] + working * np.where(ids == 0, 1.0 / self.straggler, 1.0)
        done = working & (d["work"] >= 1.0 - 1e-12)
        d["turns"] = d["turns"] + mine
        d["waits"] = d["waits"] + blocked
        if done.any():
            rows = np.flatnonzero(done)
            sub = _subview(v.data, rows)
            batch = None
            if self.batch_fraction < 1:
                rng = np.random.default_rng([self.seed, v.superstep, int(ids[rows[0]])])
                batch = (rng.random(sub["y"].shape) < self.batch_fraction).astype(np.float64)
            W = d["w_read"][rows]
            g, loss, count = shard_gradients(sub, self.problem, W, batch)
            with np.errstate(over="ignore", invalid="ignore"):
                per = np.maximum(count, 1.0)
                grad = g / per[:, None] + self.problem.smooth_reg * self.mask * W
                share = self.weights[ids[rows]]
                d["gsum"][rows] += share[:, None] * grad
                d["loss"][rows] = share * (loss / per) + share * _penalties(self.problem, W)
            d["npushed"][rows] += 1
            d["vsum"][rows] += d["read_version"][rows]
            d["work"][rows] = 0.0
            d["busy"][rows] = 0.0
        for k, a in d.items():
            v.data[k] = a
        v.signal(mine)
        return done

    def _serve(self, v, acc, server: np.ndarray) -> None:
        D, S = self.dim, self.S
        rows = np.flatnonzero(server)
        base = D + 1
        total = acc[rows, :D]
        npushed = acc[rows, base : base + S]
        vsum = acc[rows, base + S : base + 2 * S]
        consumed = v.data["consumed"][rows]
        new_k = npushed - consumed
        new_v = vsum - v.data["consumed_vsum"][rows]
        version = v.data["version"][rows]
        step = total - v.data["applied"][rows]
        w = v.data["w"][rows] - self.lr * step
        if self.problem.l1:
            frac = (new_k * self.weights[None, :S]).sum(axis=1)  # share of a sweep that arrived
            w = np.where(self.mask > 0, soft_threshold(w, (self.lr * self.problem.l1 * frac)[:, None]), w)
        any_new = new_k.sum(axis=1) > 0
        stale = new_k * version[:, None] - new_v
        # per shard, the mean staleness of its new gradients (exact for the usual one per server update)
        stale_max = np.where(new_k > 0, version[:, None] - new_v / np.maximum(new_k, 1.0), 0.0).max(axis=1)

        def put(name, value):
            a = v.data[name].copy()
            a[rows] = value
            v.data[name] = a

        put("w", np.where(any_new[:, None], w, v.data["w"][rows]))
        put("applied", total)
        put("consumed", npushed)
        put("consumed_vsum", vsum)
        put("version", version + any_new)
        put("stale_sum", v.data["stale_sum"][rows] + stale.sum(axis=1))
        put("stale_count", v.data["stale_count"][rows] + new_k.sum(axis=1))
        put("stale_max", np.maximum(v.data["stale_max"][rows], stale_max))
        put("turns", v.data["turns"][rows] + 1)

    def scatter(self, e):
        return ~self._is_server(e.vertex) & self._is_server(e.nbr)  # a push signals the server

    # ------------------------------------------------------------ sync operations
    def _clock(self, v):
        return np.where(self._is_server(v.ids), np.inf, v.data["npushed"])

    def _progress(self, v):
        return np.column_stack([v.data["npushed"], v.data["loss"], v.data["npushed"] > 0])

    def _check(self, total: np.ndarray, previous: dict[str, Any] | None) -> dict[str, Any]:
        pushes, loss, started = float(total[0]), float(total[1]), float(total[2])
        round_ = 0 if previous is None else previous["round"] + 1
        first = math.nan if previous is None else previous["first"]
        if started == self.S and math.isnan(first):
            first = loss
        bad = not math.isfinite(loss) or (math.isfinite(first) and loss > DIVERGENCE_FACTOR * max(first, 1e-12))
        return {
            "pushes": pushes,
            "loss": loss,
            "first": first,
            "round": round_,
            "diverged": bad,
            "done": pushes >= self.budget or bad,
        }

    def converged(self, globals) -> bool:
        return bool(globals[PROGRESS]["done"])


def _trace(problem: Problem, X: Any, y: Any, result: Any) -> dict[str, np.ndarray]:
    """``F`` of the server's model after every round, evaluated afterwards on the whole data (numpy)."""
    points = [(st, val) for st, val in result.history.get(SERVER_MODEL, []) if st > 0]
    if not points:
        return {"round": np.zeros(0, dtype=np.int64), "objective": np.zeros(0)}
    W = np.array([val for _, val in points], dtype=np.float64)
    Xa, ys = prepare(X, y, problem)
    with np.errstate(over="ignore", invalid="ignore"):
        M = Xa @ W.T  # (N, rounds)
        loss = problem.loss(M, ys[:, None]).mean(axis=0)
        Wp = W * problem.penalty_mask(W.shape[1])
        pen = 0.5 * problem.reg * (Wp * Wp).sum(1) if problem.kind == "logistic" else problem.reg * np.abs(Wp).sum(1)
    return {"round": np.array([st for st, _ in points], dtype=np.int64), "objective": loss + pen}


def _subview(data: Any, rows: np.ndarray) -> dict[str, np.ndarray]:
    keys = ("X", "Xval", "Xcol", "Xrow", "y", "wt")
    return {k: data[k][rows] for k in keys if k in data}


def _penalties(problem: Problem, W: np.ndarray) -> np.ndarray:
    """``problem.penalty`` of every row of ``W``, vectorised."""
    Wp = W * problem.penalty_mask(W.shape[1])
    if problem.kind == "logistic":
        return 0.5 * problem.reg * (Wp * Wp).sum(axis=1)
    return problem.reg * np.abs(Wp).sum(axis=1)


@rank_zero
def async_sgd(
    problem: Problem,
    X: Any,
    y: Any,
    num_shards: int = 4,
    lr: float | None = None,
    staleness: int | None = 4,
    batch_fraction: float = 1.0,
    epochs: int = 500,
    straggler: float = 1.0,
    consistency: str = "edge",
    scheduler: str = "fifo",
    seed: int = 0,
    shards: Shards | None = None,
    name: str = "async_sgd",
    max_rounds: int | None = None,
    **engine_options: Any,
) -> MechanismResult:
    """Asynchronous parameter-server SGD with bounded staleness on the async engine.

    Parameters
    ----------
    problem, X, y
    num_shards : int
    lr : float, optional
        Server step per sweep of pushes (default ``1 / L``).
    staleness : int or None
        SSP bound (pushes a shard may lead the slowest by); None: unbounded.
    batch_fraction : float
        Mini-batch share per gradient (1: a shard's full gradient).
    epochs : int
        Pushes per shard in the budget (``epochs * num_shards`` in all).
    straggler : float
        Shard 0 takes this many turns per gradient.
    consistency, scheduler : str
        For :func:`gasengine.run` (``"edge"``: the server's updates and the
        shards' reads never overlap; ``"vertex"``: Hogwild).
    seed : int
    shards : Shards, optional
    name : str
        The mechanism's name in the result.
    max_rounds : int, optional
        Round limit (default ``10 * epochs * straggler + 100``).
    **engine_options
        Passed to :func:`gasengine.run` (``batch_size``, ``partitions``...).

    Returns
    -------
    MechanismResult
        ``staleness_mean``/``staleness_max`` as measured at the server;
        ``info["waits"]``: turns shards spent blocked by the staleness bound.

    Raises
    ------
    DivergenceError
        The objective estimate grew a thousandfold or became NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from algorithms.mechanisms.problems import Problem, make_logistic
    >>> X, y = make_logistic(100, 3)
    >>> r = async_sgd(Problem("logistic", 0.01), X, y, epochs=50, straggler=4.0, staleness=2)
    >>> r.gradients >= 200, r.info["waits"] > 0   # the budget: 50 pushes per shard (the last round may overshoot)
    (True, True)
    """
    s = shards if shards is not None else shard(X, y, problem, num_shards, seed)
    L = problem.smoothness(prepare(X, y, problem)[0])
    lr = 1.0 / L if lr is None else lr
    check_positive("epochs", epochs, integer=True)
    program = AsyncSGDProgram(
        problem,
        s.dim,
        s.num_rows,
        s.num_shards,
        s.weights,
        lr,
        staleness,
        batch_fraction,
        epochs * s.num_shards,
        straggler,
        seed,
    )
    limit = max_rounds if max_rounds is not None else int(10 * epochs * max(straggler, 1.0)) + 100
    result, seconds = timed_run(
        program,
        shard_graph(s, server=True),
        engine="async",
        consistency=consistency,
        scheduler=scheduler,
        seed=seed,
        max_supersteps=limit,
        **engine_options,
    )
    prog = result.aggregates[PROGRESS]
    if prog["diverged"]:
        raise DivergenceError(name, int(prog["round"]), float(prog["loss"]), f"lr={lr:.4g}; 1/L is {1 / L:.4g}")
    S = s.num_shards
    w = np.asarray(result.field("w")[S], dtype=np.float64)
    pushes = result.field("npushed")[:S]
    turns = result.field("turns")
    count = float(result.field("stale_count")[S])
    objective = problem.objective(w, X, y)
    if not math.isfinite(objective):
        raise DivergenceError(name, result.supersteps, objective, f"lr={lr:.4g}; 1/L is {1 / L:.4g}")
    return MechanismResult(
        name,
        problem,
        w,
        objective,
        result.supersteps,
        int(pushes.sum()),
        seconds,
        engine_bytes(result),
        2 * 8 * s.dim * int(pushes.sum()),
        staleness_mean=float(result.field("stale_sum")[S]) / max(count, 1.0),
        staleness_max=float(result.field("stale_max")[S]),
        conflicts=result.conflicts,
        sim_time=float(turns[:S].max()),
        converged=bool(prog["pushes"] >= program.budget),
        history=_trace(problem, X, y, result),
        info={
            "lr": lr,
            "waits": int(result.field("waits")[:S].sum()),
            "server_updates": int(turns[S]),
            "pushes_per_shard": pushes.astype(int).tolist(),
            "staleness_bound": staleness,
        },
        result=result,
    )
