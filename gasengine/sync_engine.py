"""The synchronous engine (PowerGraph's bulk-synchronous GAS) over vertex-cut parts.

One instance runs in every worker (SPMD) on the parts that worker holds.
Its policy is the simplest: every superstep is one
:class:`~gasengine.step.GASStep` over all active vertices, each reading the
values of the previous superstep; the masters signalled in it are the next
active set, which masters then announce to their mirrors.  That activity
round also carries every worker's aggregator partials and step counters, so
a superstep costs four collective rounds (three without scatter).

A superstep with few active vertices costs O(those vertices and their
edges), whatever the size of the graph: the active set is a
:class:`~gasengine.frontier.Frontier` (ids when small, a mask when large).
"""

from __future__ import annotations

import time
from collections.abc import Callable
import numpy as np

from .aggregators import Aggregator
from .backends.base import Backend
from .calls import call_program, debug_default
from .frontier import Frontier
from .parts import Part
from .program import VertexProgram
from .result import StepStats
from .step import DEFAULT_CHUNK_BYTES, GASStep, SignalBuilder

__all__ = ["DEFAULT_CHUNK_BYTES", "SyncEngine", "call_program", "debug_default"]

ProgressFn = Callable[[int, int], None]


class SyncEngine(GASStep):
    """Runs supersteps over the parts one worker holds.

    Parameters
    ----------
    program : VertexProgram
    parts : list of Part
        The parts this worker holds.
    part_owner : ndarray
        Worker rank of every part (length P).
    backend : Backend
    num_vertices : int
    aggregators : sequence of Aggregator
    active : dict of int to ndarray of bool
        Initial active replicas of each held part.
    chunk_bytes : int
        Memory bound for one chunk of gathered values.
    debug : bool, optional
        Send vertex numbers with every message and compare replicas after
        every superstep (default: the ``GASENGINE_DEBUG`` variable).
    master_of : ndarray, optional
        Part of every vertex's master (for ``pointer_reads``).
    """

    def __init__(
        self,
        program: VertexProgram,
        parts: list[Part],
        part_owner: np.ndarray,
        backend: Backend,
        num_vertices: int,
        aggregators: tuple[Aggregator, ...],
        active: dict[int, np.ndarray],
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        debug: bool | None = None,
        master_of: np.ndarray | None = None,
    ):
        super().__init__(program, parts, part_owner, backend, num_vertices, aggregators, chunk_bytes,
                         debug_default() if debug is None else bool(debug), master_of)
        self.active: dict[int, Frontier] = {p: Frontier.of_mask(mask) for p, mask in active.items()}
        if self.prioritized:
            # Signalled masters waiting for their bucket: sorted ids and their priorities
            # (the initial active set is the first batch).
            self.pending = {p: (np.zeros(0, dtype=np.intp), np.zeros(0)) for p in self.parts}

    def run(self, max_supersteps: int | None, progress: ProgressFn | None = None) -> tuple[list[StepStats], bool]:
        """Run supersteps until nothing is active, ``converged``, or the budget ends."""
        self.run_aggregators()
        stats: list[StepStats] = []
        active_count = self.count_active()
        converged = False
        while True:
            if active_count == 0:
                converged = True
                break
            if max_supersteps is not None and self.step >= max_supersteps:
                break
            row, active_count, halted = self.superstep(active_count)
            stats.append(row)
            if progress is not None:
                progress(self.step, active_count)
            if halted:
                converged = True
                break
        return stats, converged

    def superstep(self, active_count: int) -> tuple[StepStats, int, bool]:
        """One bulk-synchronous GAS step; returns stats, next active count, halted."""
        self.step += 1
        self.exchange.step = self.step
        self.exchange.reset()
        start = time.perf_counter()
        signalled, priorities, updates = self.run_batch(self.active)
        due = [agg for agg in self.aggregators if agg.due(self.step)]
        partials = self.aggregate_locally(due)
        if self.prioritized:
            signalled, waiting = self.next_bucket(signalled, priorities)
        else:
            waiting = sum(f.count for f in signalled.values())

        def counts_and_partials() -> tuple[np.ndarray, list[np.ndarray]]:  # called once this round's bytes are counted
            counts = np.array([waiting, updates, self.exchange.bytes, self.exchange.worker_bytes], dtype=np.int64)
            return counts, partials

        self.active, everyone = self.announce(signalled, counts_and_partials)
        if self.debug:
            self.check_replicas()
        totals = np.sum([counts for counts, _ in everyone], axis=0)
        next_count, updates, nbytes, worker_bytes = (int(x) for x in totals)
        self.publish_aggregates(due, [theirs for _, theirs in everyone])
        halted = bool(call_program(self.program, "converged", self.globals_view))
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

    def next_bucket(self, signalled: dict[int, Frontier], priorities: dict[int, np.ndarray]) -> tuple[dict[int, Frontier], int]:
        """Delta-stepping: add the signals to the waiting masters and take out the lowest bucket.

        Returns the next batch's masters per part and how many masters are
        waiting in all (this worker's count; the engine sums them).
        """
        width = float(self.program.bucket_width)
        for p, part in self.parts.items():
            ids, prio = self.pending[p]
            builder = SignalBuilder(part.num_masters, prioritized=True)
            builder.add_prioritized(ids, prio)
            builder.add_signals(signalled[p], priorities[p])
            f, merged = builder.result()
            self.pending[p] = (f.ids(), merged)
        lowest = min((float(prio.min()) for _, prio in self.pending.values() if prio.size), default=np.inf)
        lowest = float(self.backend.allreduce(np.array(lowest), np.minimum))
        if lowest == -np.inf:
            bound = -np.inf  # signals without a priority run at once, on their own
        else:
            bound = (np.floor(lowest / width) + 1) * width
        batch, waiting = {}, 0
        for p, part in self.parts.items():
            ids, prio = self.pending[p]
            now = (prio <= bound) if bound == -np.inf else (prio < bound)
            batch[p] = Frontier.of_ids(part.num_masters, ids[now], unique=True)
            self.pending[p] = (ids[~now], prio[~now])
            waiting += ids.size
        return batch, waiting
