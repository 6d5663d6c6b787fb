"""The chromatic engine (Distributed GraphLab's): colour classes one after another.

A *sweep* runs, for every colour ``c`` in order, one
:class:`~gasengine.step.GASStep` over the active vertices of colour ``c``.
Each step reads the latest values — those the earlier colours of this very
sweep just wrote — so information travels further in a sweep than in a
bulk-synchronous superstep.  Vertices signalled during a sweep are the
active set of the next one (masters announce it to their mirrors once per
sweep, with the aggregator partials and counters).

The colouring decides what is safe (``run(consistency=...)``):

* ``"vertex"``: one colour — every active vertex at once, as the synchronous
  engine, but each sweep reads the previous sweep's values like it;
* ``"edge"``: a distance-1 colouring — no two vertices of a step are
  adjacent, so a step equals running its vertices one after another in any
  order, for every program that writes only its own vertex and edges;
* ``"full"``: a distance-2 colouring — no two vertices of a step share a
  neighbour either.

Colours and the active set are known on every replica, so each part finds
its batch for a colour without any exchange; the step itself exchanges as
the synchronous engine's does.  ``max_supersteps`` counts sweeps, and the
statistics have one row per colour step (``color`` column).  Priorities
(``bucket_width``) do not reorder anything here: the colours do.
"""

from __future__ import annotations

import time

import numpy as np

from .aggregators import Aggregator
from .backends.base import Backend
from .calls import call_program
from .frontier import Frontier
from .parts import Part
from .program import VertexProgram
from .result import StepStats
from .step import DEFAULT_CHUNK_BYTES, GASStep, VertexSetBuilder
from .sync_engine import ProgressFn


class ChromaticEngine(GASStep):
    """Sweeps of colour steps over the parts one worker holds.

    Parameters
    ----------
    program, parts, part_owner, backend, num_vertices, aggregators, active, chunk_bytes, debug, master_of
        As for :class:`~gasengine.sync_engine.SyncEngine`.
    colour : ndarray
        Colour of every vertex (global numbering), ``0..C-1``.
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
        debug: bool = False,
        master_of: np.ndarray | None = None,
        colour: np.ndarray | None = None,
    ):
        super().__init__(program, parts, part_owner, backend, num_vertices, aggregators, chunk_bytes, debug, master_of)
        colour = np.zeros(num_vertices, dtype=np.int32) if colour is None else np.asarray(colour)
        self.num_colours = int(colour.max()) + 1 if colour.size else 1
        self.active: dict[int, Frontier] = {p: Frontier.of_mask(mask) for p, mask in active.items()}
        self.classes: dict[int, list[Frontier]] = {}
        for p, part in self.parts.items():
            local = colour[part.gid]
            order = np.argsort(local, kind="stable")  # local ids grouped by colour, ascending within
            bounds = np.searchsorted(local[order], np.arange(self.num_colours + 1))
            self.classes[p] = [
                Frontier.of_ids(part.num_local, np.sort(order[bounds[c] : bounds[c + 1]]), unique=True)
                for c in range(self.num_colours)
            ]

    def run(self, max_supersteps: int | None, progress: ProgressFn | None = None) -> tuple[list[StepStats], bool]:
        """Run sweeps until nothing is active, ``converged``, or the budget (in sweeps) ends."""
        self.run_aggregators()
        stats: list[StepStats] = []
        active_count = self.count_active()
        while True:
            if active_count == 0:
                return stats, True
            if max_supersteps is not None and self.step >= max_supersteps:
                return stats, False
            rows, active_count, halted = self.sweep()
            stats.extend(rows)
            if progress is not None:
                progress(self.step, active_count)
            if halted:
                return stats, True

    def sweep(self) -> tuple[list[StepStats], int, bool]:
        """One sweep over the colours; returns its colour steps' stats, the next active count, halted."""
        self.step += 1
        self.exchange.step = self.step
        rows: list[tuple] = []
        signalled = {p: VertexSetBuilder(part.num_masters) for p, part in self.parts.items()}
        for c in range(self.num_colours):
            self.exchange.reset()
            start = time.perf_counter()
            batch = {p: self.active[p].intersection(self.classes[p][c]) for p in self.parts}
            mine = sum(batch[p].count_below(part.num_masters) for p, part in self.parts.items())
            got, _, updates = self.run_batch(batch)
            for p, f in got.items():
                signalled[p].add_frontier(f)
            seconds = time.perf_counter() - start
            rows.append((c, mine, updates, seconds, self.exchange.seconds, self.exchange.bytes, self.exchange.worker_bytes))
        due = [agg for agg in self.aggregators if agg.due(self.step)]
        partials = self.aggregate_locally(due)
        masters = {p: b.frontier() for p, b in signalled.items()}
        waiting = sum(f.count for f in masters.values())

        def counts_and_partials():  # every worker's counters per colour step, and its aggregator partials
            return np.array([waiting, *(x for row in rows for x in row[1:3]), *(row[5] for row in rows),
                             *(row[6] for row in rows)], dtype=np.int64), partials

        self.active, everyone = self.announce(masters, counts_and_partials)
        if self.debug:
            self.check_replicas()
        totals = np.sum([counts for counts, _ in everyone], axis=0)
        C = len(rows)
        next_count = int(totals[0])
        per_colour = totals[1 : 1 + 2 * C].reshape(C, 2)
        nbytes, between = totals[1 + 2 * C : 1 + 3 * C], totals[1 + 3 * C : 1 + 4 * C]
        self.publish_aggregates(due, [theirs for _, theirs in everyone])
        halted = bool(call_program(self.program, "converged", self.globals_view))
        stats = [
            StepStats(
                superstep=self.step,
                active=int(per_colour[i, 0]),
                updates=int(per_colour[i, 1]),
                seconds=row[3],
                compute_seconds=row[3] - row[4],
                exchange_seconds=row[4],
                bytes_exchanged=int(nbytes[i]),
                bytes_between_workers=int(between[i]),
                color=row[0],
            )
            for i, row in enumerate(rows)
        ]
        return stats, next_count, halted
