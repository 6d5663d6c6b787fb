"""The synchronous engine (PowerGraph's bulk-synchronous GAS) over vertex-cut parts.

One instance runs in every worker (SPMD) on the parts that worker holds.
Its policy is the simplest: every superstep is one
:class:`~gasengine.step.GASStep` over all active vertices, each reading the
values of the previous superstep; the masters signalled in it are the next
active set, which masters then announce to their mirrors.  That activity
round also carries every worker's aggregator partials and step counters, so
a superstep costs four collective rounds (three without scatter).  With
``bucket_width`` the next batch is the lowest bucket over all workers: one
more round for its bound — unless the program gathers nothing, when mirrors
need no announced batch (the masters' values after apply say who ran) and
the bound rides in the closing round instead.  The loop and that closing
round are the ones every engine shares
(:meth:`~gasengine.step.GASStep.run`, :meth:`~gasengine.step.GASStep.close_step`).

A superstep with few active vertices costs O(those vertices and their
edges), whatever the size of the graph: the active set is a
:class:`~gasengine.frontier.Frontier` (ids when small, a mask when large).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .frontier import Frontier
from .kernels import merge_lowest, split_below
from .program import NONE
from .result import StepStats
from .step import DEFAULT_CHUNK_BYTES, GASStep

__all__ = ["DEFAULT_CHUNK_BYTES", "SyncEngine"]

ProgressFn = Callable[[int, int], None]


class SyncEngine(GASStep):
    """Runs supersteps over the parts one worker holds.

    Takes the parameters of :class:`~gasengine.step.GASStep`.  A program
    with ``bucket_width`` runs in delta-stepping order (:meth:`take_bucket`).
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if self.prioritized:
            # Signalled masters waiting for their bucket: sorted ids and their priorities
            # (the initial active set is the first batch).
            self.pending = {p: (np.zeros(0, dtype=np.intp), np.zeros(0)) for p in self.parts}
            # A program that gathers nothing needs no batch announced to the mirrors: they learn who
            # applied from the masters' values, so the bucket's bound rides in the closing round and a
            # superstep saves one round (k-core's peeling: 548 of them at R-MAT 18).
            program = self.program
            self._mirrors_know_batch = bool(
                program.gather_edges is not NONE or program.pointer_reads or program.pointer_writes
            )

    def schedule_of(self, p: int) -> tuple[np.ndarray, np.ndarray] | None:
        return self.pending[p] if self.prioritized else None

    def restore_schedule(self, p: int, local: np.ndarray, keys: np.ndarray) -> None:
        self.pending[p] = (local.astype(np.intp), np.asarray(keys, dtype=np.float64))

    def advance(self, active_count: int) -> tuple[list[StepStats], int, bool]:
        row, next_count, halted = self.superstep(active_count)
        return [row], next_count, halted

    def superstep(self, active_count: int) -> tuple[StepStats, int, bool]:
        """One bulk-synchronous GAS step; returns stats, next active count, halted."""
        self.step += 1
        self.exchange.step = self.step
        self.exchange.reset()
        start = time.perf_counter()
        signalled, priorities, updates = self.run_batch(self.active)
        batch: dict[int, Frontier] | None = signalled  # the next one, announced to the mirrors
        lowest = None  # this worker's lowest waiting priority, when it rides in the closing round
        if not self.prioritized:
            waiting = sum(f.count for f in signalled.values())
        elif self._mirrors_know_batch:  # the bucket's bound first (one round), then announce the batch
            bound = self.backend.allreduce(np.array(self.wait_in_buckets(signalled, priorities)), np.minimum)
            batch, waiting = self.take_bucket(float(bound))
        else:  # mirrors learn the batch from the masters' values: the bound rides in the closing round
            lowest = self.wait_in_buckets(signalled, priorities)
            batch, waiting = None, sum(ids.size for ids, _ in self.pending.values())

        def counts() -> np.ndarray:
            return np.array([waiting, updates, self.exchange.bytes, self.exchange.worker_bytes], dtype=np.int64)

        totals, halted = self.close_step(batch, counts, lowest)
        if lowest is not None:
            self.active, _ = self.take_bucket(self.lowest)
        next_count, updates, nbytes, worker_bytes = (int(x) for x in totals)
        seconds = time.perf_counter() - start
        row = StepStats(
            superstep=self.step,
            active=active_count,
            updates=updates,
            seconds=seconds,
            compute_seconds=seconds - self.exchange.seconds,
            exchange_seconds=self.exchange.seconds,
            bytes_exchanged=nbytes,
            bytes_between_workers=worker_bytes,
        )
        return row, next_count, halted

    def wait_in_buckets(self, signalled: dict[int, Frontier], priorities: dict[int, np.ndarray]) -> float:
        """Delta-stepping: the signalled masters join the waiting ones; returns the lowest priority
        waiting on this worker (inf: none)."""
        for p in self.parts:  # both lists are sorted by id: one linear merge (an argsort cost k-core a fifth)
            if signalled[p].count:
                prio = np.full(signalled[p].count, -np.inf) if priorities[p] is None else priorities[p]
                self.pending[p] = merge_lowest(*self.pending[p], signalled[p].ids(), prio)
        return min((float(prio.min()) for _, prio in self.pending.values() if prio.size), default=np.inf)

    def take_bucket(self, lowest: float) -> tuple[dict[int, Frontier], int]:
        """The waiting masters of the bucket of ``lowest`` (the lowest priority waiting on any worker)
        taken out: per part, the next batch (over its local vertices); and how many were waiting here."""
        width = float(self.program.bucket_width)
        if lowest == -np.inf:
            bound = -np.inf  # signals without a priority run at once, on their own
        else:
            bound = (np.floor(lowest / width) + 1) * width
        batch, waiting = {}, 0
        for p, part in self.parts.items():
            ids, prio = self.pending[p]
            now, rest, rest_prio = split_below(ids, prio, bound)  # one pass: the pending list is long
            self.pending[p] = (rest, rest_prio)
            batch[p] = Frontier.of_ids(part.num_local, now, unique=True)
            waiting += ids.size
        return batch, waiting
