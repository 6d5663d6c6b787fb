"""The asynchronous engine (GraphLab's): a scheduler, scope locks, rounds of updates.

Signalled vertices wait in a :class:`~gasengine.scheduler.Scheduler` (one
per part, over its masters).  Each **round**:

1. takes the first ``batch_size`` candidates in the scheduler's order —
   every part offers its own first ones, and the offers are merged into one
   global order (one small all-to-all of keys and vertex numbers);
2. grants their scope locks in that order (:mod:`gasengine.locks`): under
   ``"edge"`` a candidate runs only if no candidate granted before it is
   adjacent, under ``"full"`` none within distance 2, under ``"vertex"``
   everyone runs, and the adjacent pairs that ran together are counted as
   **conflicts**.  Every part grants over its own edges and a candidate runs
   if all parts holding it agree (one all-reduce of one flag per
   candidate; ``"full"`` with several parts adds a round of claims);
3. runs one :class:`~gasengine.step.GASStep` over the granted vertices,
   reading the latest values everywhere;
4. removes them from the scheduler and schedules what they signalled (a
   vertex that ran and was signalled again in its own round waits again).
   The candidates that lost a lock stay, with their keys, for later rounds.

Under ``"edge"`` and ``"full"`` a round is therefore equivalent to running
its vertices one after another in scheduler order — serializable — and the
run is one of the executions GraphLab's locking engine could produce.  With
``batch_size=1`` it is the sequential execution itself, the same for every
number of parts and workers.  The run ends when the scheduler is empty,
``converged`` says so, or ``max_supersteps`` rounds have run.  Aggregators
run every ``every`` rounds, or every ``every_updates`` updates.

Priorities are keys: lower runs first (delta-stepping's and Dijkstra's
convention; GraphLab's own scheduler runs the highest first, so a program
ported from it negates its priorities).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numba import njit

from .errors import EngineError
from .frontier import Frontier
from .locks import (
    LOCK_DISTANCE,
    blocked_by_fixed,
    claims,
    count_conflicts,
    grant_in_order,
    keep_claimed,
)
from .parts import Part
from .program import IN, OUT
from .result import StepStats
from .scheduler import SCHEDULERS, Scheduler, random_keys, sweep_keys
from .step import GASStep


def default_batch_size(num_vertices: int) -> int:
    """Candidates per round when ``batch_size`` is not given.

    A thirty-second of the vertices, between 256 and 8192: large enough
    that a round's fixed Python cost (about half a millisecond) is spread
    over many updates, small enough that the scheduler's order still means
    something — a round that takes a large share of the waiting vertices is
    close to a synchronous superstep, and priority order stops saving work
    (``benchmarks/async_engine.py`` measures both sides).

    Examples
    --------
    >>> default_batch_size(100), default_batch_size(20_000), default_batch_size(10**6)
    (100, 625, 8192)
    """
    return int(min(max(num_vertices, 1), max(256, min(num_vertices // 32, 8192))))


class AsyncEngine(GASStep):
    """Rounds of scheduled, lock-granted updates over the parts one worker holds.

    Takes the parameters of :class:`~gasengine.step.GASStep`, and
    ``scheduler`` (one of :data:`~gasengine.scheduler.SCHEDULERS`),
    ``consistency`` (``"vertex"``, ``"edge"`` or ``"full"``),
    ``batch_size`` (candidates per round, >= 1; default
    :func:`default_batch_size`), ``seed`` (of the random scheduler) and
    ``num_parts`` (over all workers).
    """

    def __init__(
        self,
        *args: Any,
        scheduler: str = "fifo",
        consistency: str = "edge",
        batch_size: int | None = None,
        seed: int = 0,
        num_parts: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        if scheduler not in SCHEDULERS:
            raise ValueError(f"unknown scheduler {scheduler!r}; choose one of {', '.join(SCHEDULERS)}")
        self.kind = scheduler
        self.distance = LOCK_DISTANCE[consistency]
        self.prioritized = scheduler == "priority"
        self.seed = int(seed)
        self.batch_size = int(batch_size) if batch_size is not None else default_batch_size(self.n)
        self.num_parts = num_parts if num_parts is not None else len(self.parts)
        self.cursor = -1.0  # sweep: key of the last candidate taken
        self.queues = {p: Scheduler(part.gid[: part.num_masters]) for p, part in self.parts.items()}
        # int32 stamps: the marks of a pass are random writes all over the part; half the bytes, fewer cache misses
        self._scratch_marks = {p: np.zeros(part.num_local, dtype=np.int32) for p, part in self.parts.items()}
        self._claim = {p: np.full(part.num_local, -1, dtype=np.int64) for p, part in self.parts.items()}
        self._running = {p: np.zeros(part.num_local, dtype=bool) for p, part in self.parts.items()}
        self._stamp = 0
        for p, part in self.parts.items():
            first = self.active[p].below(part.num_masters).ids()
            self.queues[p].schedule(first, self.keys(part.gid[first], None), self.prioritized)

    # ====================================================== checkpoints
    def schedule_of(self, p: int) -> tuple[np.ndarray, np.ndarray]:
        q = self.queues[p]
        local = np.flatnonzero(q.waiting)
        return local, q.key[local]

    def restore_schedule(self, p: int, local: np.ndarray, keys: np.ndarray) -> None:
        self.queues[p] = Scheduler(self.queues[p].gids)
        self.queues[p].schedule(local, keys, keep_lowest=False)

    def cursor_of(self) -> float:
        return self.cursor

    def restore_cursor(self, cursor: float) -> None:
        self.cursor = cursor

    # ============================================================== a round
    def advance(self, active_count: int) -> tuple[list[StepStats], int, bool]:
        """One round; returns its stats row, the number of vertices waiting, halted."""
        self.step += 1
        self.exchange.step = self.step
        self.exchange.reset()
        start = time.perf_counter()
        keys, cand, popped = self.candidates()
        ran = cand[self.grant(cand)]
        batch = self.take(ran, popped)
        conflicts = self.count_conflicts(batch)
        grant_seconds = time.perf_counter() - start
        signalled, priorities, _ = self.run_batch(batch)
        if self.kind == "sweep" and keys.size:
            self.cursor = float(keys[-1])
        for p, part in self.parts.items():
            ids = signalled[p].ids()
            self.queues[p].schedule(ids, self.keys(part.gid[ids], priorities[p]), self.prioritized)
        waiting = sum(q.count for q in self.queues.values())
        mine = sum(batch[p].count_below(part.num_masters) for p, part in self.parts.items())  # summed over workers
        totals, halted = self.close_step(
            None,
            lambda: np.array(
                [waiting, mine, conflicts, self.exchange.bytes, self.exchange.worker_bytes], dtype=np.int64
            ),
        )
        waiting, _, conflicts, nbytes, worker_bytes = (int(x) for x in totals)
        seconds = time.perf_counter() - start
        row = StepStats(
            superstep=self.step,
            active=int(ran.size),
            updates=int(ran.size),
            seconds=seconds,
            compute_seconds=seconds - self.exchange.seconds,
            exchange_seconds=self.exchange.seconds,
            bytes_exchanged=nbytes,
            bytes_between_workers=worker_bytes,
            candidates=int(cand.size),
            losers=int(cand.size - ran.size),
            conflicts=conflicts,
            lock_seconds=grant_seconds,
        )
        return [row], waiting, halted

    def keys(self, gids: np.ndarray, priorities: np.ndarray | None) -> np.ndarray:
        """Scheduler keys of vertices signalled in this round (see :mod:`gasengine.scheduler`)."""
        if self.kind == "priority":
            return np.full(gids.size, -np.inf) if priorities is None else priorities  # scatter refuses NaN
        if self.kind == "fifo":
            return np.full(gids.size, float(self.step))
        if self.kind == "random":
            return self.step + random_keys(gids, self.seed, self.step)
        return sweep_keys(gids, self.cursor, self.n)

    def candidates(self) -> tuple[np.ndarray, np.ndarray, dict[int, tuple]]:
        """The round's candidates, ``(keys, vertex numbers)`` in global order, and what each part popped."""
        self._new_stamp()
        B = self.batch_size
        popped = {p: q.pop(B, self._stamp) for p, q in self.queues.items()}
        keys, gids = _first([(k, g) for k, g, _ in popped.values()], B)
        if self.backend.size > 1:
            keys, gids = _first(self.backend.alltoall([(keys, gids)] * self.backend.size), B)
        return keys, gids, popped

    def grant(self, cand: np.ndarray) -> np.ndarray:
        """Which candidates (global numbers, in order) run this round."""
        granted = np.ones(cand.size, dtype=bool)
        if self.distance == 0 or cand.size <= 1:
            return granted
        local = {p: self._local_of(p)[cand] for p in self.parts}
        granted[:] = False
        for second in range(1 if self.num_parts == 1 else 2):  # see gasengine.locks: the second pass
            offer = ~granted
            if second:
                dead = np.zeros(cand.size, dtype=bool)
                for p, part in self.parts.items():
                    blocked_by_fixed(
                        local[p], self.adjacency(part), self._next_marks(p), self._stamp, self.distance, granted, dead
                    )
                offer &= ~self._anywhere(dead)
            won = offer.copy()
            for p, part in self.parts.items():
                mine = offer.copy()  # each part on its own: grants depend on the cut, not on workers
                grant_in_order(
                    local[p], self.adjacency(part), self._next_marks(p), self._stamp, self.distance, mine, fixed=granted
                )
                won &= mine
            granted |= self._everywhere(won)
        if self.distance == 2 and self.num_parts > 1:
            granted = self.resolve_claims(cand, local, granted)
        return granted

    def resolve_claims(self, cand: np.ndarray, local: dict[int, np.ndarray], granted: np.ndarray) -> np.ndarray:
        """``full`` across parts: keep the candidates that own their whole closed neighbourhood."""
        pairs = []
        for p, part in self.parts.items():
            touched, first = claims(local[p], granted, self.adjacency(part), self._claim[p])
            pairs.append((part.gid[touched], first))
        if self.backend.size > 1:
            pairs = [pair for theirs in self.backend.alltoall([pairs] * self.backend.size) for pair in theirs]
        gids = np.concatenate([g for g, _ in pairs])
        first = np.concatenate([f for _, f in pairs])
        order = np.lexsort((first, gids))
        gids, first = gids[order], first[order]
        lead = np.ones(gids.size, dtype=bool)
        lead[1:] = gids[1:] != gids[:-1]
        gids, owner = gids[lead], first[lead]  # the first claim on every vertex touched
        for p, part in self.parts.items():
            loc = self._local_of(p)[gids]
            here = loc >= 0
            scratch = self._claim[p]
            scratch[loc[here]] = owner[here]
            keep_claimed(local[p], granted, self.adjacency(part), scratch)
            scratch[loc[here]] = -1
        return self._everywhere(granted)

    def take(self, ran: np.ndarray, popped: dict[int, tuple]) -> dict[int, Frontier]:
        """The round's batch per part (every replica of the vertices that run); the scheduler lets them go
        and takes back the candidates that did not run."""
        batch = {}
        for p, part in self.parts.items():
            loc = self._local_of(p)[ran]
            loc = np.sort(loc[loc >= 0])
            batch[p] = Frontier.of_ids(part.num_local, loc, unique=True)
            keys, _, mine = popped[p]
            runs = self._running[p]
            runs[loc] = True
            went = runs[mine]
            runs[loc] = False
            self.queues[p].done(mine[went])
            self.queues[p].put_back(keys[~went], mine[~went])
        return batch

    def count_conflicts(self, batch: dict[int, Frontier]) -> int:
        """Edges of this worker's parts joining two vertices of the batch: the races of ``vertex``
        consistency.  Under ``edge`` and ``full`` there are none by construction, so they are only
        counted in debug mode, where one is an :class:`~gasengine.EngineError`."""
        if self.distance and not self.debug:
            return 0
        count = sum(
            count_conflicts(batch[p].ids(), *self.adjacency(part)[2:], self._next_marks(p), self._stamp)
            for p, part in self.parts.items()
        )
        if count and self.distance:
            raise EngineError(
                f"round {self.step}: {count} edges join two vertices granted together under "
                f"{'edge' if self.distance == 1 else 'full'} consistency"
            )
        return count

    # ============================================================= helpers
    def adjacency(self, part: Part) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(ptr_in, nbr_in, ptr_out, nbr_out)`` of the part's local vertices (both directions)."""
        return part.csr(IN)[0], part.neighbours(IN), part.csr(OUT)[0], part.neighbours(OUT)

    def _next_marks(self, p: int) -> np.ndarray:
        """Per-vertex scratch of part ``p`` for a pass stamped ``self._stamp + 1`` (stamps only grow)."""
        self._new_stamp()
        return self._scratch_marks[p]

    def _new_stamp(self) -> None:
        self._stamp += 1
        if self._stamp >= 2**31 - 1:  # int32 stamps: start again from clean scratch (after ~400M rounds)
            for scratch in [*self._scratch_marks.values(), *(q.taken for q in self.queues.values())]:
                scratch[:] = 0
            self._stamp = 1

    def _anywhere(self, flags: np.ndarray) -> np.ndarray:
        """A flag set by any worker's parts."""
        if self.backend.size == 1:
            return flags
        return self.backend.allreduce(flags.astype(np.uint8), np.maximum).astype(bool)

    def _everywhere(self, granted: np.ndarray) -> np.ndarray:
        """A grant holds only if every worker's parts granted it."""
        if self.backend.size == 1:
            return granted
        return self.backend.allreduce(granted.astype(np.uint8), np.minimum).astype(bool)


def _first(runs: list[tuple[np.ndarray, np.ndarray]], limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``limit`` smallest ``(key, vertex)`` pairs of sorted ``runs``, in order (compiled merges)."""
    keys, gids = runs[0]
    for more_keys, more_gids in runs[1:]:
        size = min(limit, keys.size + more_keys.size)
        out_keys, out_gids = np.empty(size), np.empty(size, dtype=np.int64)
        _merge_first(keys, gids, more_keys, more_gids, out_keys, out_gids)
        keys, gids = out_keys, out_gids
    return keys[:limit], gids[:limit]


@njit(cache=True)
def _merge_first(ak, ag, bk, bg, out_k, out_g):  # pragma: no cover - compiled
    i = j = 0
    for k in range(out_k.size):
        if j >= bk.size or (i < ak.size and (ak[i] < bk[j] or (ak[i] == bk[j] and ag[i] < bg[j]))):
            out_k[k], out_g[k] = ak[i], ag[i]
            i += 1
        else:
            out_k[k], out_g[k] = bk[j], bg[j]
            j += 1
