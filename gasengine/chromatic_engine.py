"""The chromatic engine (Distributed GraphLab's): colour classes one after another.

A *sweep* runs, for every colour ``c`` in order, one
:class:`~gasengine.step.GASStep` over the active vertices of colour ``c``.
Each step reads the latest values — those the earlier colours of this very
sweep just wrote — so information travels further in a sweep than in a
bulk-synchronous superstep.  Vertices signalled during a sweep are the
active set of the next one, so the exchanges about it happen once per
sweep: mirrors keep their signals until the sweep ends and send them to
their masters in one round, and masters announce the next active set to
their mirrors with the aggregator partials and counters — among them how
many vertices of each colour are active, so that every worker skips the
colour steps with nothing to do without a single exchange (label
propagation on R-MAT 18 has 93 such steps of 615) — except for programs with
``pointer_reads``, whose every step refreshes the targets of all vertices.

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
from typing import Any

import numpy as np

from .frontier import Frontier
from .kernels import _frontier_edges
from .result import StepStats
from .step import GASStep, VertexSetBuilder, reads_hot_first


class ChromaticEngine(GASStep):
    """Sweeps of colour steps over the parts one worker holds.

    Takes the parameters of :class:`~gasengine.step.GASStep`, and
    ``colour``: the colour of every vertex (global numbering), ``0..C-1``
    (default: one colour).
    """

    def __init__(self, *args: Any, colour: np.ndarray | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        colour = np.zeros(self.n, dtype=np.int32) if colour is None else np.asarray(colour)
        self.num_colours = int(colour.max()) + 1 if colour.size else 1
        self.classes: dict[int, list[Frontier]] = {}
        self._colour_now: int | None = None  # the colour of the step running
        self._class_matrices: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray | None]] = {}
        self._master_colour = {p: colour[part.gid[: part.num_masters]] for p, part in self.parts.items()}
        #: Active vertices of each colour in the coming sweep, over all workers (None: not known yet).
        self._coming: np.ndarray | None = None
        self.keep_signals_for_later()  # a signal takes effect in the next sweep: send them once per sweep
        for p, part in self.parts.items():
            local = colour[part.gid]
            order = np.argsort(local, kind="stable")  # local ids grouped by colour, ascending within
            bounds = np.searchsorted(local[order], np.arange(self.num_colours + 1))
            self.classes[p] = [
                Frontier.of_ids(part.num_local, order[bounds[c] : bounds[c + 1]], unique=True)
                for c in range(self.num_colours)
            ]

    def edge_field_changed(self, part, name):
        super().edge_field_changed(part, name)
        self._class_matrices = {k: v for k, v in self._class_matrices.items() if k[0] != part.index or k[2] != name}

    def _gather_matrix(self, part, direction, act):
        """A whole colour class gathers from its own rows of the gather matrix, copied out once
        (contiguous: walking a class's rows where they lie in the part's matrix cost 2.6 times a
        full product at R-MAT 18, for a sixth of its rows)."""
        rows = self._class_rows(part, direction, act, hot=False)
        return super()._gather_matrix(part, direction, act) if rows is None else (*rows, None)

    def _hot_rows(self, part, act):
        """A whole colour class of a large part gathers from its rows with hot-first neighbours: a
        class's rows are scattered over the part, and read in vertex order their neighbours' values
        miss the cache about twice as often as in one product over all rows (R-MAT 20, 185 classes
        alone: 267 -> 160 ms a sweep of products).  The permuted values are kept through the sweep
        and updated for each class's vertices (:meth:`_kept_hot_values`)."""
        if not reads_hot_first(self.program, part):
            return None
        return self._class_rows(part, self.program.gather_edges, act, hot=True)

    def _class_rows(self, part, direction, act, hot: bool):
        """``(ptr, nbr, data)`` of the running colour class's rows, copied out once (neighbours
        renumbered hot-first with ``hot``); None unless ``act`` is that whole class."""
        c = self._colour_now
        if act is None or c is None or not act.size or act.size != self.classes[part.index][c].count:
            return None
        field = self.program.gather_edge_field
        key = (part.index, direction, field, c, hot)
        if key not in self._class_matrices:
            ptr, nbr, data = part.gather_matrix(direction, field)
            if hot:
                nbr, _ = part.hot_first(direction)
            edges, _, _ = _frontier_edges(ptr, act)
            sub_ptr = np.zeros(act.size + 1, dtype=np.int64)
            np.cumsum(ptr[act + 1] - ptr[act], out=sub_ptr[1:])
            self._class_matrices[key] = (sub_ptr, nbr[edges], None if data is None else data[edges])
        return self._class_matrices[key]

    def advance(self, active_count: int) -> tuple[list[StepStats], int, bool]:
        """One sweep over the colours; returns its colour steps' stats, the next active count, halted."""
        self.step += 1
        self.exchange.step = self.step
        rows: list[list] = []  # colour, active, updates, seconds, exchange seconds, bytes, bytes between workers
        signalled = {p: VertexSetBuilder(part.num_masters) for p, part in self.parts.items()}
        if self._coming is None:  # the first sweep (of a run, or after resuming): one round to count
            counted = self._colour_counts({p: self.active[p].below(part.num_masters) for p, part in self.parts.items()})
            self._coming = self.backend.allreduce(counted, np.add)
        for c in range(self.num_colours):
            self.exchange.reset()
            if not self._coming[c] and not self.program.pointer_reads:  # every worker knows: no rounds
                # (a step with pointer reads refreshes them on every vertex, batch or not: it runs)
                rows.append([c, 0, 0, 0.0, 0.0, 0, 0])
                continue
            start = time.perf_counter()
            batch = {p: self.active[p].intersection(self.classes[p][c]) for p in self.parts}
            mine = sum(batch[p].count_below(part.num_masters) for p, part in self.parts.items())
            self._colour_now = c
            got, _, updates = self.run_batch(batch)
            self._colour_now = None
            for p, f in got.items():
                signalled[p].add_frontier(f)
            rows.append(
                [
                    c,
                    mine,
                    updates,
                    time.perf_counter() - start,
                    self.exchange.seconds,
                    self.exchange.bytes,
                    self.exchange.worker_bytes,
                ]
            )
        for p, f in self.send_kept_signals().items():  # mirrors' signals of the whole sweep, in one round
            signalled[p].add_frontier(f)
        masters = {p: b.frontier() for p, b in signalled.items()}
        waiting = sum(f.count for f in masters.values())
        coming = self._colour_counts(masters)

        def counts() -> np.ndarray:  # per colour step; the last one also pays the activity round
            rows[-1][5:] = [self.exchange.bytes, self.exchange.worker_bytes]
            per_colour = (x for row in rows for x in (row[1], row[2], row[5], row[6]))
            return np.array([waiting, sum(row[2] for row in rows), *coming, *per_colour], dtype=np.int64)

        totals, halted = self.close_step(masters, counts)
        C = self.num_colours
        self._coming = totals[2 : 2 + C]
        per_colour = totals[2 + C :].reshape(len(rows), 4)
        stats = [
            StepStats(
                superstep=self.step,
                active=int(active),
                updates=int(updates),
                seconds=row[3],
                compute_seconds=row[3] - row[4],
                exchange_seconds=row[4],
                bytes_exchanged=int(nbytes),
                bytes_between_workers=int(between),
                color=row[0],
            )
            for row, (active, updates, nbytes, between) in zip(rows, per_colour)
        ]
        return stats, int(totals[0]), halted

    def _colour_counts(self, masters: dict[int, Frontier]) -> np.ndarray:
        """How many of this worker's ``masters`` (per part, a set over its masters) have each colour."""
        return sum(
            (np.bincount(self._master_colour[p][f.ids()], minlength=self.num_colours) for p, f in masters.items()),
            np.zeros(self.num_colours, dtype=np.int64),
        )
