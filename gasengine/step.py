"""One gather-apply-scatter step over a batch of vertices, on the parts one worker holds.

Every engine is a policy choosing batches; this module is what they share
(DESIGN §4).  A step over a batch — a :class:`~gasengine.frontier.Frontier`
of local vertices per part, masters and their mirrors alike — is:

1. **gather** locally over each part's edges of the batch's vertices;
2. **partials -> masters**: mirrors send partial accumulators, masters fold them;
3. **apply** on the batch's masters;
4. **values -> mirrors**: masters send the fields apply assigned, and which
   vertices scatter;
5. **scatter** locally, collecting signals;
6. **signals -> masters**: mirrors forward the signals their edges raised.

Its cost follows the batch: O(batch vertices + their edges) plus a constant
per part and peer, never O(all vertices) for a small batch (Ligra's rule).
Exchanges go through :class:`~gasengine.exchange.Exchange`, so the step is
the same on every backend; every message is checked on arrival (see there).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .accumulators import KeyCounts, collect, count_by_key
from .aggregators import Aggregator, Globals
from .backends.base import Backend
from .calls import call_program, debug_default, probe_empty
from .checkpoint import CheckpointPlan, EngineState, save
from .errors import EngineError, ProgramError
from .exchange import Exchange, pick, subset_of
from .frontier import Frontier, is_small
from .kernels import (
    SEMIRING_COMBINES,
    SEMIRING_OPS,
    EdgeChunk,
    combine_at,
    distinct,
    edge_chunks,
    fold_chunk,
    lowest_by_id,
    push_combine,
    push_lowest,
    semiring_gather,
    spmv,
    take_into,
)
from .parts import Part
from .program import (
    ALL,
    IN,
    NONE,
    OUT,
    EdgeSet,
    EdgeView,
    FieldMap,
    VertexProgram,
    VertexView,
    converged_flag,
    fold_identity,
    neutral_element,
)
from .ragged import Ragged, shares_memory
from .result import StepStats

#: Bytes of gathered values one chunk may hold; bounds gather memory.
DEFAULT_CHUNK_BYTES = 64 << 20

#: Key of the scatter flags riding with the values masters send to mirrors.
SCATTER_KEY = "\0scatter"


def directions(edges: EdgeSet) -> tuple[EdgeSet, ...]:
    """The single-direction passes an edge set needs."""
    return {NONE: (), IN: (IN,), OUT: (OUT,), ALL: (IN, OUT)}[edges]


@dataclass
class Applied:
    """What apply did on one part."""

    masters: Frontier  # the masters that applied, as a set over the part's masters
    written: tuple[str, ...]  # fields assigned
    scatter: Frontier  # of those, the ones that scatter
    signalled: Frontier  # of those, the ones that signalled themselves
    priorities: np.ndarray | None = None  # their priorities (aligned with signalled's ids), if signal() gave any


class VertexSetBuilder:
    """Collects local vertices (ids or sets) into a :class:`Frontier`, switching to a mask when large.

    Examples
    --------
    >>> b = VertexSetBuilder(10)
    >>> b.add(np.array([3, 1, 3])); b.add(np.array([7]))
    >>> b.frontier().ids().tolist()
    [1, 3, 7]
    >>> b = VertexSetBuilder(4)
    >>> b.add_frontier(Frontier.of_mask(np.array([1, 1, 0, 0], bool)))
    >>> b.add_frontier(Frontier.of_mask(np.array([0, 0, 1, 0], bool)))
    >>> b.frontier().ids().tolist()
    [0, 1, 2]
    """

    def __init__(self, size: int):
        self.size = size
        self._ids: list[np.ndarray] = []
        self._count = 0
        self._mask: np.ndarray | None = None
        self._only: Frontier | None = None  # the one set added so far, reused as it is

    def add(self, ids: np.ndarray) -> None:
        if ids.size == 0:
            return
        self._only = None
        if self._mask is not None:
            self._mask[ids] = True
            return
        self._ids.append(ids)
        self._count += ids.size
        if not is_small(self._count, self.size):
            self._to_mask()

    def add_frontier(self, f: Frontier) -> None:
        if f.count == 0:
            return
        first = self._mask is None and not self._ids and self._only is None
        self._only = None
        if f.dense:
            self._to_mask()
            self._mask[: f.size] |= f.mask()
        else:
            self.add(f.ids())
        if first and f.size == self.size:
            self._only = f

    def _to_mask(self) -> None:
        if self._mask is None:
            self._mask = np.zeros(self.size, dtype=bool)
            for chunk in self._ids:
                self._mask[chunk] = True
            self._ids = []

    def frontier(self) -> Frontier:
        if self._only is not None:
            return self._only
        if self._mask is not None:
            return Frontier.of_mask(self._mask)
        if not self._ids:
            return Frontier.nothing(self.size)
        return Frontier.of_ids(self.size, self._ids[0] if len(self._ids) == 1 else np.concatenate(self._ids))


class SignalBuilder(VertexSetBuilder):
    """Signalled vertices with optional priorities: a vertex signalled several times keeps the lowest.

    Without priorities it is a :class:`VertexSetBuilder`; with them,
    :meth:`result` also returns one priority per vertex of the set, in id
    order.  A signal without a priority counts as ``-inf`` (run as soon as
    possible).

    Examples
    --------
    >>> b = SignalBuilder(10, prioritized=True)
    >>> b.add_prioritized(np.array([4, 2, 4]), np.array([3.0, 1.0, 0.5]))
    >>> f, prio = b.result()
    >>> f.ids().tolist(), prio.tolist()
    ([2, 4], [1.0, 0.5])
    """

    def __init__(self, size: int, prioritized: bool, scratch: np.ndarray | None = None):
        super().__init__(size)
        self.prioritized = prioritized
        self.scratch = scratch  # NaN per vertex: merges priorities in O(signals) (see kernels.lowest_by_id)
        self._pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self._sorted = False  # the one pair so far has sorted distinct ids (it came from a set)

    def add_prioritized(self, ids: np.ndarray, priorities: np.ndarray) -> None:
        if not self.prioritized:
            self.add(ids)
        elif ids.size:
            self._sorted = False
            self._pairs.append((ids, priorities))

    def add_signals(self, f: Frontier, priorities: np.ndarray | None) -> None:
        """Add a set (with its priorities, aligned with its ids, if any)."""
        if not self.prioritized:
            self.add_frontier(f)
        elif f.count:
            self._sorted = not self._pairs
            self._pairs.append((f.ids(), np.full(f.count, -np.inf) if priorities is None else priorities))

    def add(self, ids: np.ndarray) -> None:
        if not self.prioritized:
            super().add(ids)
        elif ids.size:
            self._sorted = False
            self._pairs.append((ids, np.full(ids.size, -np.inf)))

    def result(self) -> tuple[Frontier, np.ndarray | None]:
        if not self.prioritized:
            return self.frontier(), None
        if not self._pairs:
            return Frontier.nothing(self.size), np.zeros(0)
        if self._sorted:  # one set: already sorted and distinct
            ids, prio = self._pairs[0]
            return Frontier.of_ids(self.size, ids, unique=True), np.asarray(prio, dtype=np.float64)
        ids = np.concatenate([i for i, _ in self._pairs]).astype(np.intp, copy=False)
        prio = np.concatenate([np.asarray(p, dtype=np.float64) for _, p in self._pairs])
        if self.scratch is not None:
            ids, low = lowest_by_id(ids, prio, self.scratch)
            return Frontier.of_ids(self.size, ids, unique=True), low
        order = np.argsort(ids, kind="stable")
        ids, prio = ids[order], prio[order]
        first = np.empty(ids.size, dtype=bool)
        first[0] = True
        np.not_equal(ids[1:], ids[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        return Frontier.of_ids(self.size, ids[starts], unique=True), np.minimum.reduceat(prio, starts)


#: Parts with at least this many edges gather all rows over a hot-first renumbering of the neighbours
#: (:meth:`~gasengine.parts.Part.hot_first_gather_matrix`); below it the vector fits in cache anyway.
HOT_FIRST_FROM = 1 << 20


def reads_hot_first(program: VertexProgram, part: Part) -> bool:
    """Whether ``program``'s gathers over all of ``part`` use its hot-first renumbering: a float
    sum-product ``gather_nbr`` over one direction (checked again on the values) and a large part."""
    return (
        program.uses_nbr_gather()
        and program.combine is np.add
        and program.gather_edge_op in (None, np.multiply)
        and program.gather_edges in (IN, OUT)
        and part.esrc.size >= HOT_FIRST_FROM
    )


class GASStep:
    """GAS steps over batches of the parts one worker holds.

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
        Initial active replicas of each held part (default: all).
    chunk_bytes : int
        Memory bound for one chunk of gathered values.
    debug : bool, optional
        Send vertex numbers with every message and compare replicas after
        every superstep (default: the ``GASENGINE_DEBUG`` variable).
    master_of : ndarray, optional
        Part of every vertex's master; needed by programs with ``pointer_reads``
        or ``pointer_writes``.

    An engine subclasses it and defines :meth:`advance` (one superstep, or one
    sweep); :meth:`run` and :meth:`close_step` are shared.
    """

    def __init__(
        self,
        program: VertexProgram,
        parts: list[Part],
        part_owner: np.ndarray,
        backend: Backend,
        num_vertices: int,
        aggregators: tuple[Aggregator, ...],
        active: dict[int, np.ndarray] | None = None,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        debug: bool | None = None,
        master_of: np.ndarray | None = None,
    ):
        self.program = program
        self.master_of = master_of
        self.parts = {p.index: p for p in parts}
        self.backend = backend
        self.n = num_vertices
        self.aggregators = aggregators
        self.chunk_bytes = chunk_bytes
        self.debug = debug_default() if debug is None else bool(debug)
        self.exchange = Exchange(self.parts, part_owner, backend, self.debug)
        self.active: dict[int, Frontier] = {
            p: Frontier.everything(part.num_local) if active is None else Frontier.of_mask(active[p])
            for p, part in self.parts.items()
        }
        self.globals: dict[str, Any] = {}
        #: Every value each aggregator took: ``(step, value)``, step 0 before the first.
        self.history: dict[str, list[tuple[int, Any]]] = {agg.name: [] for agg in aggregators}
        self.globals_view = Globals(self.globals, num_vertices)
        self.step = 0
        self._gather_spec: tuple[tuple[int, ...], np.dtype] | None = None
        self._map_shapes: dict[str, tuple[int, ...]] = {}
        self._plans: dict[tuple[int, EdgeSet, int], list[EdgeChunk]] = {}
        self._scratch: np.ndarray | None = None  # for pointer reads: one slot per vertex
        self._local_maps: dict[int, np.ndarray] = {}  # global -> local numbers, per part (pointer reads)
        self._push_scratches: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}  # nbr_writes
        #: Fields mirrors do not have: unreadable in the views mirrors serve.
        self._masters_only = frozenset(program.master_fields)
        self._nan_scratch: dict[int, np.ndarray] = {}  # NaN per local vertex, per part (merging priorities)
        #: ``gather_nbr`` of every local vertex, per part, while it is known (see _nbr_values_of_all).
        self._nbr_table: dict[int, np.ndarray] = {}
        #: per part: (the gather_nbr values it was taken from, their hot-first copy), see _kept_hot_values
        self._hot_tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._hot_ranks: dict[int, np.ndarray] = {}
        #: Edge fields some scatter assigned (the others keep their initial values).
        self.edge_fields_written: set[str] = set()
        #: Mirrors' signals not sent yet, per part (None: each step sends its own).  An engine whose
        #: signals only matter from the next sweep on keeps them here (:meth:`send_kept_signals`):
        #: one round per sweep instead of one per step.
        self.kept_signals: dict[int, VertexSetBuilder] | None = None
        #: Whether mirrors know each batch before it runs (announced by the masters); an engine whose
        #: program gathers nothing may leave them to learn it from the masters' values after apply.
        self._mirrors_know_batch = True
        #: The smallest ``lowest`` any worker sent at the last :meth:`close_step` that carried one.
        self.lowest = np.inf
        #: Whether signals carry priorities that order the work (the synchronous and
        #: chromatic engines: the program sets ``bucket_width``; the asynchronous
        #: engine: its priority scheduler).  Otherwise a priority is a plain signal.
        self.prioritized = program.bucket_width is not None
        #: Updates applied so far, over all workers (for ``Aggregator.every_updates``).
        self.total_updates = 0
        #: Stop once this many updates were applied (over all workers; None: no budget).
        self.max_updates: int | None = None
        self._last_aggregated: dict[str, int] = {}
        #: Where and how often worker 0 writes checkpoints (None: never).
        self.checkpoints: CheckpointPlan | None = None
        #: Wall-clock time (``time.time()``) after which the run stops at the end of a step (None: never).
        self.deadline: float | None = None
        #: Whether the run stopped because its deadline passed.
        self.timed_out = False
        #: Statistics of the steps before the checkpoint this run resumed from.
        self._prior_stats: list[StepStats] = []
        #: The active count the run resumed with (None: a fresh run, counted and aggregated first).
        self._resumed_count: int | None = None

    @property
    def step(self) -> int:
        """Supersteps (sweeps, rounds) run so far; programs read it as ``globals.step``."""
        return self.globals_view.step

    @step.setter
    def step(self, value: int) -> None:
        self.globals_view.step = value

    # ================================================================ step
    def run_batch(self, batch: dict[int, Frontier]) -> tuple[dict[int, Frontier], dict[int, np.ndarray | None], int]:
        """One GAS step over ``batch``.

        Returns the masters signalled (per part, a set over its masters),
        their priorities (aligned with the set's ids; None unless the program
        is prioritized, see ``bucket_width``) and how many vertices applied.
        """
        if self.program.pointer_reads:
            self.read_pointers()
            self._nbr_table.clear()  # fields of every vertex may have changed
        acc = self.gather(batch)
        applied = self.apply(batch, acc)
        if self.program.pointer_writes:
            self.write_pointers(applied)
            self._nbr_table.clear()
        scatter = self.sync_values(batch, applied)
        writes = None  # mirrors' folds that travel with the signals (see write_neighbours)
        if self.program.nbr_writes:
            writes = self.write_neighbours(scatter)
            self._nbr_table.clear()
        if self._nbr_table:
            self._refresh_nbr_table(batch)
        signals = self.scatter(scatter)
        if self.program.scatter_edges is not NONE and self.kept_signals is not None:
            self._keep_signals(signals)  # the masters hear them at the end of the sweep
        elif self.program.scatter_edges is not NONE:  # otherwise mirrors have nothing to say
            signals = self.send_signals_to_masters(signals, writes)
        signalled, priorities = {}, {}
        for p, part in self.parts.items():
            f, prio = signals[p]
            M = part.num_masters
            builder = SignalBuilder(M, self.prioritized, self._priority_scratch(p))
            if prio is None:
                builder.add_signals(f.below(M), None)
            else:
                k = f.count_below(M)
                builder.add_signals(Frontier.of_ids(M, f.ids()[:k], unique=True), prio[:k])
            builder.add_signals(applied[p].signalled, applied[p].priorities)
            signalled[p], priorities[p] = builder.result()
        return signalled, priorities, sum(a.masters.count for a in applied.values())

    # ============================================================== engine loop
    def run(self, max_supersteps: int | None, progress: Any = None) -> tuple[list[StepStats], bool]:
        """Advance until nothing is active, ``converged`` says so, or ``max_supersteps`` (supersteps or sweeps) ends.

        Also stops after the step in which :attr:`deadline` passed (then
        :attr:`timed_out`), and writes the checkpoints :attr:`checkpoints`
        asks for.  Returns the statistics rows (those before a checkpoint
        resumed from included) and whether the run converged.
        """
        stats: list[StepStats] = list(self._prior_stats)
        if self._resumed_count is None:
            self.run_aggregators()
            active_count = self.count_active()
        else:
            active_count = self._resumed_count
        while active_count:
            if max_supersteps is not None and self.step >= max_supersteps:
                return stats, False
            if self.max_updates is not None and self.total_updates >= self.max_updates:
                return stats, False
            rows, active_count, halted = self.advance(active_count)
            stats.extend(rows)
            if progress is not None:
                progress(self.step, active_count)
            if halted:
                break
            plan = self.checkpoints
            if active_count and plan is not None and (plan.due(self.step) or self.timed_out):
                self.write_checkpoint(stats, active_count)
            if self.timed_out:
                return stats, False
        return stats, True

    # ============================================================= checkpoints
    def write_checkpoint(self, stats: list[StepStats], active_count: int) -> None:
        """Every worker sends its share of the run's state to worker 0, which writes the checkpoint."""
        share = []
        for p, part in self.parts.items():
            M = part.num_masters
            gids = part.gid[:M]
            waiting = self.schedule_of(p)
            vertex, edge = part.results()
            share.append(
                (
                    vertex,
                    edge,
                    gids[self.active[p].below(M).ids()],
                    None if waiting is None else (gids[waiting[0]], waiting[1]),
                )
            )
        everyone = self.backend.alltoall([share if w == 0 else None for w in range(self.backend.size)])
        if self.backend.rank != 0:
            return
        shares = [s for theirs in everyone for s in theirs]
        state = EngineState(
            self.step,
            self.total_updates,
            dict(self.globals),
            self.history,
            dict(self._last_aggregated),
            cursor=self.cursor_of(),
            edge_fields_written=set(self.edge_fields_written),
            stats=stats,
            next_count=active_count,
        )
        save(self.checkpoints, shares, state, self.n)

    def resume_from(self, state: EngineState) -> None:
        """Continue the run a checkpoint's ``state`` describes (the fields and active set are already in the parts)."""
        self.step = state.step
        self.total_updates = state.total_updates
        self.globals.update(state.globals)
        self.history = {name: list(state.history.get(name, [])) for name in self.history}
        self._last_aggregated = dict(state.last_aggregated)
        self.edge_fields_written = set(state.edge_fields_written)
        self._prior_stats = list(state.stats)
        self._resumed_count = state.next_count
        if state.waiting is not None:
            for p, part in self.parts.items():
                gids = part.gid[: part.num_masters]
                local = np.flatnonzero(state.waiting[gids])
                self.restore_schedule(p, local, state.keys[gids[local]])
        self.restore_cursor(state.cursor)

    def schedule_of(self, p: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Masters of part ``p`` waiting in the engine's own schedule, with their keys (None: no schedule)."""
        return None

    def restore_schedule(self, p: int, local: np.ndarray, keys: np.ndarray) -> None:
        """Put masters ``local`` of part ``p`` back in the engine's schedule, with ``keys``."""
        raise EngineError(f"{type(self).__name__} keeps no schedule; the checkpoint has one")

    def cursor_of(self) -> float:
        """The engine's position in its schedule (the sweep scheduler's), for a checkpoint."""
        return -1.0

    def restore_cursor(self, cursor: float) -> None:
        """Continue from the position :meth:`cursor_of` returned."""

    def advance(self, active_count: int) -> tuple[list[StepStats], int, bool]:
        """One superstep (or sweep) of the engine: its stats rows, the next active count, halted."""
        raise NotImplementedError

    def close_step(
        self, masters: dict[int, Frontier] | None, counts: Any, lowest: float | None = None
    ) -> tuple[np.ndarray, bool]:
        """The end of a superstep, sweep or round, the same for every engine.

        Runs the aggregators due, announces the next active ``masters`` to
        their mirrors (None: the engine keeps its own schedule at the
        masters, nothing to announce) together with every worker's
        ``counts()`` (an int64 vector ``[waiting, updates, ...]``, read once
        this round's bytes are counted) and aggregator partials, checks
        replicas in debug mode, publishes the aggregates and asks
        ``converged``.  Returns the counts summed over workers and whether
        the program halted.  A ``lowest`` number travels too: the smallest
        over all workers is then :attr:`lowest`.
        """
        due = [agg for agg in self.aggregators if agg.every_updates is None and agg.due(self.step)]
        partials = self.aggregate_locally(due)
        # Worker 0's clock alone decides whether the deadline passed, so that every worker stops after the same step.
        late = self.deadline is not None and self.backend.rank == 0 and time.time() >= self.deadline

        def shared() -> tuple[np.ndarray, list[np.ndarray], float | None]:
            return np.append(counts(), np.int64(late)), partials, lowest

        if masters is None:
            everyone = self.backend.alltoall([shared()] * self.backend.size)
        else:
            self.active, everyone = self.announce(masters, shared)
        if self.debug:
            self.check_replicas()
        totals = np.sum([mine for mine, _, _ in everyone], axis=0)
        self.timed_out = bool(totals[-1])
        totals = totals[:-1]
        if lowest is not None:
            self.lowest = min(float(theirs) for _, _, theirs in everyone)
        self.publish_aggregates(due, [theirs for _, theirs, _ in everyone])
        self.total_updates += int(totals[1])
        self.run_update_aggregators()
        return totals, converged_flag(self.program, call_program(self.program, "converged", self.globals_view))

    def run_update_aggregators(self) -> None:
        """Aggregators with ``every_updates``, if that many updates were applied since they last ran."""
        due = [
            agg
            for agg in self.aggregators
            if agg.every_updates is not None
            and self.total_updates - self._last_aggregated.get(agg.name, 0) >= agg.every_updates
        ]
        if due:
            partials = self.aggregate_locally(due)
            self.publish_aggregates(due, self.backend.alltoall([partials] * self.backend.size))
            for agg in due:
                self._last_aggregated[agg.name] = self.total_updates

    def count_active(self) -> int:
        """Active vertices over all workers, each counted at its master."""
        mine = sum(self.active[p].count_below(part.num_masters) for p, part in self.parts.items())
        return int(self.backend.allreduce(np.array(mine, dtype=np.int64), np.add))

    def announce(self, masters: dict[int, Frontier], shared: Any = None) -> tuple[dict[int, Frontier], list[Any]]:
        """Masters tell their mirrors which of them are in ``masters``; returns each part's
        whole set (masters and mirrors) and every worker's ``shared`` value (see :meth:`Exchange.send`)."""
        outbox = {}
        for q, part in self.parts.items():
            for p, shared_list in part.recv.items():
                outbox[(q, p)] = self.exchange.message(part, shared_list, subset_of(masters[q], shared_list), None)
        inbox, everyone = self.exchange.send(outbox, shared or (lambda: None))
        whole = {}
        for p, part in self.parts.items():
            if part.num_local == part.num_masters:  # no mirrors
                whole[p] = masters[p]
                continue
            builder = VertexSetBuilder(part.num_local)
            builder.add_frontier(masters[p])
            for q, msg in inbox.get(p, ()):
                builder.add(self.exchange.open(msg, part, part.send[q], "activity -> mirrors", q).local)
            whole[p] = builder.frontier()
        return whole, everyone

    def _priority_scratch(self, p: int) -> np.ndarray | None:
        """NaN per local vertex of part ``p`` (prioritized engines only), for :class:`SignalBuilder`."""
        return self._nan_array(p) if self.prioritized else None

    def _nan_array(self, p: int) -> np.ndarray:
        """NaN per local vertex of part ``p``: scratch for merging priorities (left as NaN after each use)."""
        if p not in self._nan_scratch:
            self._nan_scratch[p] = np.full(self.parts[p].num_local, np.nan)
        return self._nan_scratch[p]

    def _local_of(self, p: int) -> np.ndarray:
        """For every global vertex, its local number in part ``p`` (-1: no replica there); built once.

        Also how a message naming masters by id finds them: masters are local
        ``0..M-1``, and one lookup here beats a binary search over them (that
        search was 8 % of a worker's time in components on R-MAT 20).
        """
        if p not in self._local_maps:
            part = self.parts[p]
            local = np.full(self.n, -1, dtype=np.int32 if part.num_local < 2**31 else np.int64)
            local[part.gid] = np.arange(part.num_local, dtype=local.dtype)
            self._local_maps[p] = local
        return self._local_maps[p]

    def _check_vertex_numbers(self, ids: np.ndarray, attr: str, what: str, purpose: str) -> None:
        """A ProgramError unless every value of ``ids`` is a vertex number."""
        if ids.size and (ids.min() < 0 or ids.max() >= self.n):
            bad = ids[(ids < 0) | (ids >= self.n)][:3]
            raise ProgramError(
                self.program, attr, f"{what} must hold vertex numbers 0..{self.n - 1} to {purpose}; found {bad!r}"
            )

    def _by_owner(self, ids: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """``(part, selection)`` for every part holding the masters of some of ``ids``."""
        owner = self.master_of[ids]
        return [(q, owner == q) for q in np.unique(owner).tolist()]

    # ====================================================== pointer reads
    def read_pointers(self) -> None:
        """``pointer_reads``: on every replica, ``target = source`` of the vertex named by ``ids``.

        The one way a vertex reads a vertex that is not its neighbour (its
        parent, in pointer jumping).  Each part asks the masters of the
        vertices it names for their values (one round of requests, one of
        replies) and stores them; values are those at the start of the step.
        """
        program = self.program
        for target, (id_field, source) in program.pointer_reads.items():
            for part in self.parts.values():
                self._check_vertex_numbers(
                    part.vdata[id_field], "pointer_reads", f"field {id_field!r}", f"read {source!r} from"
                )
            if len(self.parts) == 1 and self.backend.size == 1:  # one part: local numbers are global ones
                part = next(iter(self.parts.values()))
                np.take(part.vdata[source], part.vdata[id_field], axis=0, out=part.vdata[target])
                continue
            if self._scratch is None:
                self._scratch = np.full(self.n, -1, dtype=np.int64)
            wanted = {p: distinct(part.vdata[id_field], self._scratch) for p, part in self.parts.items()}
            # A named vertex replicated in the part is read right there (its
            # replica is current at the start of a superstep); only the
            # others are asked of their masters.
            here = {p: self._local_of(p)[wanted[p][0]] for p in self.parts}
            outbox = {}
            for p in self.parts:
                uniq = wanted[p][0]
                away = uniq[here[p] < 0]
                for q, sel in self._by_owner(away):
                    outbox[(p, q)] = (None, away[sel])
            replies = {}
            for q, messages in self.exchange.send(outbox).items():
                part = self.parts[q]
                for p, msg in messages:
                    replies[(q, p)] = (None, part.vdata[source][self._local_of(q)[msg[1]]])
            answers = self.exchange.send(replies)
            for p, part in self.parts.items():
                uniq, inverse = wanted[p]
                loc = here[p]
                found = loc >= 0
                values = np.empty((uniq.size, *part.vdata[source].shape[1:]), dtype=part.vdata[source].dtype)
                values[found] = part.vdata[source][loc[found]]
                owner = self.master_of[uniq[~found]]
                away = np.flatnonzero(~found)
                for q, msg in answers.get(p, ()):
                    values[away[owner == q]] = msg[1]
                part.vdata[target][...] = values[inverse]

    def write_pointers(self, applied: dict[int, Applied]) -> None:
        """``pointer_writes``: every vertex that applied folds ``value`` into ``target`` of the vertex named by ``ids``.

        After apply, through the masters of the named vertices (requests
        there, then their new values out to their mirrors); what apply
        stored comes first, then every offer, folded with the entry's
        commutative ufunc, so the order of offers does not matter.  Offers
        equal to the ufunc's neutral element are dropped before they travel
        (a program says "no offer" that way).
        """
        program = self.program
        for target, (id_field, value_field, combine) in program.pointer_writes.items():
            offers = {}
            for p, part in self.parts.items():
                masters = applied[p].masters
                index = masters.ids() if not masters.full else slice(None)
                ids = part.vdata[id_field][: part.num_masters][index]
                self._check_vertex_numbers(ids, "pointer_writes", f"field {id_field!r}", f"write {target!r} of")
                values = part.vdata[value_field][: part.num_masters][index]
                if values.ndim == 1:  # an offer equal to the combine's neutral element changes nothing
                    useful = values != neutral_element(combine, values.dtype)
                    if not useful.all():
                        ids, values = ids[useful], values[useful]
                offers[p] = (ids, values)
            if len(self.parts) == 1 and self.backend.size == 1:  # one part: local numbers are global ones
                part = next(iter(self.parts.values()))
                ids, values = next(iter(offers.values()))
                combine_at(combine, part.vdata[target], ids, values)
                continue
            self._fold_at_masters(target, combine, offers, "pointer writes")

    def _fold_at_masters(
        self, target: str, combine: np.ufunc, offers: dict[int, tuple[np.ndarray, np.ndarray]], what: str
    ) -> None:
        """Every part's offers ``(global ids, values)`` folded into field ``target`` of the masters of
        those ids (one exchange round), then the masters written tell their mirrors."""
        outbox = {}
        for p, (ids, values) in offers.items():
            for q, sel in self._by_owner(ids):
                outbox[(p, q)] = (None, (ids[sel], values[sel]))
        touched = {}
        for q, messages in self.exchange.send(outbox).items():
            part = self.parts[q]
            hit = []
            for _p, msg in messages:
                ids, values = msg[1]
                local = self._local_of(q)[ids]  # masters: their local numbers are 0..M-1
                combine_at(combine, part.vdata[target], local, values)
                hit.append(local)
            touched[q] = Frontier.of_ids(part.num_masters, np.concatenate(hit))
        self._tell_mirrors([target], touched, what)

    def _tell_mirrors(self, targets: list[str], touched: dict[int, Frontier], what: str) -> None:
        """The masters ``touched`` (per part) send their new ``targets`` fields to their mirrors (one round)."""
        outbox = {}
        for q, part in self.parts.items():
            done = touched.get(q, Frontier.nothing(part.num_masters))
            for p, shared in part.recv.items():
                pos = subset_of(done, shared)
                payload = {name: pick(part.vdata[name], shared, pos) for name in targets}
                outbox[(q, p)] = self.exchange.message(part, shared, pos, payload)
        for p, messages in self.exchange.send(outbox).items():
            part = self.parts[p]
            for q, msg in messages:
                got = self.exchange.open(msg, part, part.send[q], f"{what} -> mirrors", q)
                for name, values in got.payload.items():
                    part.vdata[name][got.local] = values

    # ==================================================== neighbour writes
    def write_neighbours(self, scatter: dict[int, Frontier]) -> dict[tuple[int, int], tuple] | None:
        """``nbr_writes``: the vertices that scatter fold ``value`` into ``target`` of their neighbours.

        One compiled push per part and target over the part's own edges of
        those vertices (each edge lives in one part, so every offer is made
        once), folded per receiving replica; with several parts, each
        mirror's folds (all targets in one message) then go to its master,
        as gather partials do, and the masters written tell their mirrors —
        unless every target is a master field: then nothing before the next
        apply reads them, and the folds are returned, to travel with the
        step's signals (:meth:`send_signals_to_masters`).
        """
        if len(self.parts) == 1 and self.backend.size == 1:  # one part: fold straight into the fields
            part = next(iter(self.parts.values()))
            grouped, cond = self._push_edges(part), self._nbr_cond(part)
            for target, (value, combine) in self.program.nbr_writes.items():
                field = part.vdata[target]
                who, values = self._offers(part, scatter[part.index].ids(), value, combine, field.dtype)
                push_combine(grouped, who, values, field, combine, cond=cond)
            return None
        outbox, hit = {}, {}
        for p, part in self.parts.items():
            touched, folds = self._push_into_scratch(part, scatter[p].ids())
            mine = touched.below(part.num_masters).ids()
            for target, (out, combine) in folds.items():  # the part's own masters fold at once
                field = part.vdata[target]
                field[mine] = combine(field[mine], out[mine])
            hit[p] = [mine]
            for q, shared in part.send.items():  # mirrors' folds, to their masters
                pos = subset_of(touched, shared)
                payload = {target: pick(out, shared, pos) for target, (out, _) in folds.items()}
                outbox[(p, q)] = self.exchange.message(part, shared, pos, payload)
            for out, combine in folds.values():
                out[touched.ids()] = neutral_element(combine, out.dtype)  # the scratch is neutral again
        told = [t for t in self.program.nbr_writes if t not in self._masters_only]  # the others stay at masters
        if not told and self.kept_signals is None:
            # Only apply reads the targets (scatter and signal_nbrs may not: they are master fields),
            # and the signals go to the masters in this very step: the folds ride in that round.
            return outbox
        self._fold_neighbour_writes(self.exchange.send(outbox), hit)
        if told:
            done = {q: Frontier.of_ids(self.parts[q].num_masters, np.concatenate(h)) for q, h in hit.items()}
            self._tell_mirrors(told, done, "neighbour writes")
        return None

    def _fold_neighbour_writes(self, inbox: dict[int, list], hit: dict[int, list] | None = None) -> None:
        """Mirrors' folds of ``nbr_writes`` received at their masters, folded in (and their local numbers
        added to ``hit``, per part)."""
        for q, messages in inbox.items():
            part = self.parts[q]
            for p, msg in messages:
                got = self.exchange.open(msg, part, part.recv[p], "neighbour writes -> masters", p)
                for target, values in got.payload.items():  # one offer per master, part and target
                    field = part.vdata[target]
                    field[got.local] = self.program.nbr_writes[target][1](field[got.local], values)
                if hit is not None:
                    hit[q].append(got.local)

    def _push_into_scratch(
        self, part: Part, everyone: np.ndarray
    ) -> tuple[Frontier, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Every target's offers from ``everyone`` (who scatters) folded into the part's scratch arrays:
        the replicas reached, and per target ``(scratch, combine)``."""
        grouped, cond = self._push_edges(part), self._nbr_cond(part)
        reached: list[np.ndarray] = []
        filtered = False  # whether some target's offers left out vertices (then its reach may differ)
        folds = {}
        for target, (value, combine) in self.program.nbr_writes.items():
            dtype = part.vdata[target].dtype
            who, values = self._offers(part, everyone, value, combine, dtype)
            out, mark = self._push_scratch(part.index, target, combine, dtype)
            # offered by all who scatter, a target reaches what the first one reached: mark once
            track = not reached or filtered or who.size < everyone.size
            got = push_combine(grouped, who, values, out, combine, mark if track else None, cond)
            if got is not None:
                reached.append(got)
            filtered = filtered or who.size < everyone.size
            folds[target] = (out, combine)
        if len(reached) == 1:
            return Frontier.of_ids(part.num_local, reached[0], unique=True), folds
        return Frontier.of_ids(part.num_local, np.concatenate(reached)), folds

    def _push_edges(self, part: Part) -> list[tuple[np.ndarray, np.ndarray]]:
        """The part's groupings ``(ptr, nbr)`` over ``scatter_edges``, for the compiled pushes."""
        return [(part.csr(d)[0], part.neighbours(d)) for d in directions(self.program.scatter_edges)]

    @staticmethod
    def _offers(
        part: Part, who: np.ndarray, value: Any, combine: np.ufunc, dtype: np.dtype
    ) -> tuple[np.ndarray, np.ndarray]:
        """The vertices of ``who`` with an offer for a target of ``dtype``, and their offers (a field's
        values, or the number ``value`` from each); an offer equal to the combine's neutral element
        changes nothing and is left out."""
        if not isinstance(value, str):
            return who, np.full(who.size, value, dtype=dtype)
        values = part.vdata[value][who]
        useful = values != neutral_element(combine, dtype)
        return (who, values) if useful.all() else (who[useful], values[useful])

    def _nbr_cond(self, part: Part) -> np.ndarray | None:
        """The part's ``nbr_cond`` field (None: every neighbour hears)."""
        name = self.program.nbr_cond
        return None if name is None else part.vdata[name]

    def _push_scratch(self, p: int, target: str, combine: np.ufunc, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        """Per part and target: the combine's neutral element and a False mark per local vertex, kept
        between steps (each push leaves them so), so that a small push costs its own edges only."""
        key = (p, target)
        if key not in self._push_scratches:
            n = self.parts[p].num_local
            self._push_scratches[key] = (np.full(n, neutral_element(combine, dtype), dtype=dtype), np.zeros(n, bool))
        return self._push_scratches[key]

    # ============================================================== gather
    def gather(self, batch: dict[int, Frontier]) -> dict[int, np.ndarray | None]:
        """Local gathers, then partial accumulators folded at the masters.

        ``acc[p]`` has one row per vertex of ``batch[p]`` in id order (its
        local number when the batch is the whole part).
        """
        if self.program.gather_edges is NONE:
            return {p: None for p in self.parts}
        if self.program.combine is count_by_key:
            return self._gather_key_counts(batch)
        if self.program.combine is collect:  # the distinct keys, without their counts
            return {p: Ragged.of_sorted_rows(kc.ptr, kc.keys) for p, kc in self._gather_key_counts(batch).items()}
        acc = {p: self._gather_part(self.parts[p], batch[p]) for p in self.parts}
        combine = self.program.combine
        outbox = {}
        for p, part in self.parts.items():
            for q, shared in part.send.items():
                pos = subset_of(batch[p], shared)
                rows = batch[p].positions(shared if pos is None else shared[pos])
                outbox[(p, q)] = self.exchange.message(part, shared, pos, acc[p][rows])
        for q, messages in self.exchange.send(outbox).items():
            part = self.parts[q]
            for p, msg in messages:
                shared = part.recv[p]
                got = self.exchange.open(msg, part, shared, "partials -> masters", p, subset_of(batch[q], shared))
                rows = batch[q].positions(got.local)
                acc[q][rows] = combine(acc[q][rows], got.payload)
        return acc

    def _gather_key_counts(self, batch: dict[int, Frontier]) -> dict[int, KeyCounts]:
        """``combine = count_by_key``: local counts per vertex, then merged at the masters."""
        acc = {p: self._count_part(self.parts[p], batch[p]) for p in self.parts}
        outbox = {}
        for p, part in self.parts.items():
            for q, shared in part.send.items():
                pos = subset_of(batch[p], shared)
                rows = batch[p].positions(shared if pos is None else shared[pos])
                outbox[(p, q)] = self.exchange.message(part, shared, pos, acc[p].take(rows))
        received: dict[int, list[tuple[np.ndarray, KeyCounts]]] = {q: [] for q in self.parts}
        for q, messages in self.exchange.send(outbox).items():
            part = self.parts[q]
            for p, msg in messages:
                shared = part.recv[p]
                got = self.exchange.open(msg, part, shared, "partials -> masters", p, subset_of(batch[q], shared))
                received[q].append((batch[q].positions(got.local), got.payload))
        return {q: acc[q].merged(received[q]) for q in self.parts}

    def _count_part(self, part: Part, batch: Frontier) -> KeyCounts:
        """The keys (and weights) the batch's edges in this part bring, counted per vertex."""
        program = self.program
        what = f"combine={program.combine.__name__}"
        act = None if batch.full else batch.ids()
        if program.uses_nbr_gather() and not program.gather_edge_field:
            return self._count_neighbours(part, batch, act, what)
        counted = [self._count_direction(part, batch, act, d, what) for d in directions(program.gather_edges)]
        counted = [c for c in counted if c is not None]
        if not counted:
            return KeyCounts.empty(batch.count)
        if any(c[2] is None for c in counted) and not all(c[2] is None for c in counted):
            raise ProgramError(
                program, "gather", "with combine=count_by_key must return weights for every chunk or none"
            )
        # each direction's chunks bring every row's edges together, in row order: grouped without a
        # counting sort, then the directions merged row by row
        total = None
        for rows, keys, weight in counted:
            if program.combine is collect:  # no counts are kept: weights of one byte, all zero, move least
                weight = np.zeros(keys.size, dtype=np.uint8)
            counts = KeyCounts.from_pairs(rows, keys, weight, batch.count)
            total = counts if total is None else total.plus(counts)
        return total

    def _count_neighbours(self, part: Part, batch: Frontier, act: np.ndarray | None, what: str) -> KeyCounts:
        """``gather_nbr`` keys counted straight from the part's groupings: the values of every local
        vertex (kept between small batches, as for ufunc gathers) read through each row's neighbours
        in one compiled pass, with no per-edge array of rows or keys."""
        program = self.program
        x = self._nbr_values_of_all(part, keep=act is not None and is_small(act.size, part.num_local))
        if x.size and x.dtype.kind not in "iu":
            raise ProgramError(program, "gather_nbr", f"with {what} must return integer keys, got dtype {x.dtype}")
        if x.ndim != 1:
            raise ProgramError(
                program, "gather_nbr", f"with {what} must return one key per vertex, got shape {x.shape}"
            )
        groupings = [self._gather_matrix(part, d, act) for d in directions(program.gather_edges)]
        (ptr, nbr, _, rows), *more = groupings
        if more and more[0][3] is rows:  # in- and out-edges of the same rows: one pass over both
            return KeyCounts.of_neighbours(ptr, nbr, x, rows, also=(more[0][0], more[0][1]))
        total = KeyCounts.of_neighbours(ptr, nbr, x, rows)
        for ptr, nbr, _, rows in more:
            total = total.plus(KeyCounts.of_neighbours(ptr, nbr, x, rows))
        return total

    def _count_direction(
        self, part: Part, batch: Frontier, act: np.ndarray | None, direction: EdgeSet, what: str
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        """``(rows, keys, weights or None)`` the batch's edges of one direction bring, rows in order."""
        program = self.program
        rows, keys, weights = [], [], []
        for c in self._chunks(part, direction, act, self._chunk_edges((2,), np.dtype(np.int64))):
            if program.uses_nbr_gather():
                values = self._nbr_values(part, self._chunk_nbrs(part, c, direction), c.size)
                method = "gather_nbr"
            else:
                view = self._edge_view(part, c, direction, "gather", writable=False)
                values, method = call_program(program, "gather", view), "gather"
            k, w = values if isinstance(values, tuple) and program.combine is count_by_key else (values, None)
            k = np.asarray(k)
            if k.shape != (c.size,) or (w is not None and np.shape(w) != (c.size,)):
                raise ProgramError(
                    program,
                    method,
                    f"with {what} must return one key per edge ({c.size})"
                    f"{', or (keys, weights)' if program.combine is count_by_key else ''}; got shape {k.shape}",
                )
            if k.size and k.dtype.kind not in "iu":
                raise ProgramError(program, method, f"with {what} must return integer keys, got dtype {k.dtype}")
            rows.append(np.repeat(c.rows, np.diff(c.starts, append=c.size)))
            keys.append(k)
            weights.append(None if w is None else np.asarray(w))
        if any(w is not None for w in weights) and not all(w is not None for w in weights):
            raise ProgramError(
                program, "gather", "with combine=count_by_key must return weights for every chunk or none"
            )
        if not keys:
            return None
        return np.concatenate(rows), np.concatenate(keys), None if weights[0] is None else np.concatenate(weights)

    def _gather_part(self, part: Part, batch: Frontier) -> np.ndarray:
        program = self.program
        act = None if batch.full else batch.ids()
        if program.uses_nbr_gather():
            return self._gather_nbr(part, act, batch.count)
        shape, dtype = self._gather_value_spec(part)
        acc = np.full((batch.count, *shape), fold_identity(program, dtype), dtype=dtype)
        chunk = self._chunk_edges(shape, dtype)
        for direction in directions(program.gather_edges):
            for c in self._chunks(part, direction, act, chunk):
                view = self._edge_view(part, c, direction, "gather", writable=False)
                values = call_program(program, "gather", view)
                fold_chunk(program.combine, acc, c, self._check_gathered(values, c.size, shape, dtype))
        return acc

    def _gather_nbr(self, part: Part, act: np.ndarray | None, count: int) -> np.ndarray:
        """The neighbour-only gather: per-vertex values, then SpMV or a segmented fold.

        A small batch evaluates ``gather_nbr`` only on its neighbours, so the
        step stays O(batch edges) instead of O(part vertices).
        """
        program = self.program
        weights = self._gather_weights(part)
        op = program.gather_edge_op or np.multiply
        if act is not None and part.index not in self._nbr_table and self._few_gather_edges(part, act):
            return self._gather_nbr_sparse(part, act, weights, op)
        x = self._nbr_values_of_all(part, keep=act is not None and is_small(act.size, part.num_local))
        dtype = x.dtype if weights is None else op(x[:0], _lift(weights[:0], x.ndim)).dtype
        sum_product = program.combine is np.add and op is np.multiply and dtype.kind == "f"
        if sum_product and program.gather_edges in (IN, OUT):  # one product is the whole gather
            if act is None and reads_hot_first(program, part):  # all rows: read x in hot-first order
                ptr, nbr, data, _ = part.hot_first_gather_matrix(program.gather_edges, program.gather_edge_field)
                return spmv(ptr, nbr, data, self._kept_hot_values(part, x)).astype(dtype, copy=False)
            hot = self._hot_rows(part, act) if act is not None else None
            if hot is not None:  # an engine's batch with hot-first rows of its own (a colour class)
                return spmv(*hot, self._kept_hot_values(part, x)).astype(dtype, copy=False)
            ptr, nbr, data, rows = self._gather_matrix(part, program.gather_edges, act)
            return spmv(ptr, nbr, data, x, rows).astype(dtype, copy=False)
        compiled = (
            x.ndim == 1
            and dtype.kind in "iuf"
            and program.combine in SEMIRING_COMBINES
            and (weights is None or op in SEMIRING_OPS)
        )
        acc = np.full((count, *x.shape[1:]), fold_identity(program, dtype, "gather_nbr"), dtype=dtype)
        for direction in directions(program.gather_edges):
            if sum_product:
                ptr, nbr, data, rows = self._gather_matrix(part, direction, act)
                acc += spmv(ptr, nbr, data, x, rows)
                continue
            if compiled:  # min-plus, max-times ...: one compiled pass over the grouped edges
                ptr, nbr, data, rows = self._gather_matrix(part, direction, act)
                folded = semiring_gather(ptr, nbr, data, x, rows, program.combine, op, dtype)
                acc = program.combine(acc, folded, out=acc)
                continue
            for c in self._chunks(part, direction, act, self._chunk_edges(x.shape[1:], dtype)):
                values = x[self._chunk_nbrs(part, c, direction)]
                if weights is not None:
                    values = op(values, _lift(weights[c.edges], values.ndim))
                fold_chunk(program.combine, acc, c, values)
        return acc

    def edge_field_changed(self, part: Part, name: str) -> None:
        """A scatter assigned edge field ``name`` of ``part``: products cached over it are stale."""
        part.edge_field_changed(name)

    def _gather_matrix(
        self, part: Part, direction: EdgeSet, act: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``(ptr, nbr, data, rows)`` for the compiled gathers of the vertices ``act``: the part's
        :meth:`~gasengine.parts.Part.gather_matrix` and ``rows=act`` (an engine may have better)."""
        return (*part.gather_matrix(direction, self.program.gather_edge_field), act)

    def _hot_rows(self, part: Part, act: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        """``(ptr, nbr, data)`` of the batch ``act``'s rows with hot-first neighbours, for a product over
        :meth:`_kept_hot_values`, when an engine keeps such rows for its batches (None: it does not)."""
        return None

    def _kept_hot_values(self, part: Part, x: np.ndarray) -> np.ndarray:
        """``x[order]`` of the part's hot-first renumbering, kept while ``x`` is: taken again (into the
        same buffer, no fresh array to page-fault in) only for a new ``x``, and brought up to date by
        :meth:`_refresh_nbr_table` when ``x`` is (O(batch)).  A vector per vertex is taken plainly."""
        _, order = part.hot_first(self.program.gather_edges)
        if x.ndim != 1:
            return x[order]
        kept = self._hot_tables.get(part.index)
        if kept is not None and kept[0] is x:
            return kept[1]
        out = kept[1] if kept is not None and kept[1].dtype == x.dtype and kept[1].size == order.size else None
        out = take_into(x, order, np.empty(order.size, dtype=x.dtype) if out is None else out)
        self._hot_tables[part.index] = (x, out)
        return out

    def _hot_rank(self, part: Part) -> np.ndarray:
        """Where each local vertex sits in the part's hot-first order (the inverse of ``order``)."""
        rank = self._hot_ranks.get(part.index)
        if rank is None:
            _, order = part.hot_first(self.program.gather_edges)
            rank = np.empty(order.size, dtype=np.intp)
            rank[order] = np.arange(order.size)
            self._hot_ranks[part.index] = rank
        return rank

    def _nbr_values_of_all(self, part: Part, keep: bool) -> np.ndarray:
        """``gather_nbr`` of every local vertex of ``part``; with ``keep`` (a small batch, so the next
        steps will reuse most of it) kept until fields change (:meth:`_refresh_nbr_table`).

        A large batch changes most fields anyway: keeping its values would
        only cost a copy that the refresh then drops.
        """
        x = self._nbr_table.get(part.index)
        if x is None:
            x = self._nbr_values(part, None, part.num_local)
            if keep:
                if any(shares_memory(x, field) for field in part.vdata.values()):
                    x = x.copy()  # a field itself (``return u.data["dist"]``): the table must not move with it
                self._nbr_table[part.index] = x
        return x

    def _refresh_nbr_table(self, batch: dict[int, Frontier]) -> None:
        """After a step: the kept ``gather_nbr`` values of the batch's vertices (whose fields changed) are
        recomputed; a large batch drops the table instead (recomputing it all at the next gather is cheaper)."""
        for p, f in batch.items():
            x = self._nbr_table.get(p)
            if x is None or f.count == 0:
                continue
            if not is_small(f.count, f.size):
                del self._nbr_table[p]
                continue
            ids = f.ids()
            x[ids] = self._nbr_values(self.parts[p], ids, ids.size)
            kept = self._hot_tables.get(p)
            if kept is not None and kept[0] is x:  # its hot-first copy too, where those vertices sit in it
                kept[1][self._hot_rank(self.parts[p])[ids]] = x[ids]

    def _few_gather_edges(self, part: Part, act: np.ndarray) -> bool:
        """Whether ``gather_nbr`` should run on the batch's neighbours only, not on every vertex.

        Per edge, the neighbour-only path pays numpy takes (about 20 ns an
        edge here) where the all-vertex path pays one vectorised pass over
        the part's vertices (about 1.5 ns each) and a compiled fold: the
        first wins below about one edge per 16 vertices.
        """
        if not is_small(act.size, part.num_local):
            return False
        edges = 0
        for direction in directions(self.program.gather_edges):
            ptr = part.csr(direction)[0]
            edges += int((ptr[act + 1] - ptr[act]).sum())
        return edges * 16 < part.num_local

    def _gather_nbr_sparse(self, part: Part, act: np.ndarray, weights: np.ndarray | None, op: np.ufunc) -> np.ndarray:
        """``gather_nbr`` over the neighbours of a few vertices only (one call per chunk of edges;
        a neighbour of several of them appears once per edge, which a per-vertex function allows)."""
        program = self.program
        chunks = [
            (c, d)
            for d in directions(program.gather_edges)
            for c in self._chunks(part, d, act, self._chunk_edges((), np.dtype(np.float64)))
        ]
        acc = None
        for c, d in chunks or [(None, None)]:  # no edge at all: an empty call gives shape and dtype
            edges = slice(0, 0) if c is None else c.edges
            nbrs = np.zeros(0, dtype=np.intp) if c is None else self._chunk_nbrs(part, c, d)
            values = self._nbr_values(part, nbrs, 0 if c is None else c.size)
            if weights is not None:
                values = op(values, _lift(weights[edges], values.ndim))
            if acc is None:
                neutral = fold_identity(program, values.dtype, "gather_nbr")
                acc = np.full((act.size, *values.shape[1:]), neutral, dtype=values.dtype)
            if c is not None:
                fold_chunk(program.combine, acc, c, values)
        return acc

    def _nbr_values(self, part: Part, index: np.ndarray | None, count: int) -> np.ndarray:
        """``program.gather_nbr`` on the local vertices ``index`` (all when None), checked."""
        program = self.program
        view = VertexView(
            (lambda: part.gid) if index is None else (lambda: part.gid[index]),
            FieldMap(
                part.vdata, index, count, (program, "gather_nbr"), "vertex", writable=False, hidden=self._masters_only
            ),
            self.globals_view,
            self.n,
            self.step,
        )
        x = np.asarray(call_program(program, "gather_nbr", view))
        if x.ndim == 0 or x.shape[0] != count:
            raise ProgramError(
                program, "gather_nbr", f"must return one value per vertex ({count}), got shape {x.shape}"
            )
        return x

    def _gather_weights(self, part: Part) -> np.ndarray | None:
        name = self.program.gather_edge_field
        if not name:
            return None
        if name not in part.edata:
            raise ProgramError(
                self.program, "gather_edge_field", f"no edge field {name!r}; fields are {sorted(part.edata)}"
            )
        return part.edata[name]

    def _gather_value_spec(self, part: Part) -> tuple[tuple[int, ...], np.dtype]:
        """Shape and dtype of one gathered value, from a call on an empty batch.

        Every part must fold values of one shape, including parts with no
        edges to gather, so the shape is learnt the same way on every part.
        """
        if self._gather_spec is None:
            empty = np.zeros(0, dtype=np.intp)
            view = self._edge_view(part, EdgeChunk(empty, empty, empty, 0), IN, "gather", writable=False)
            probe = np.asarray(probe_empty(self.program, "gather", view, "edges"))
            if probe.ndim == 0 or probe.shape[0] != 0:
                raise ProgramError(
                    self.program, "gather", f"must return one value per edge; for 0 edges got shape {probe.shape}"
                )
            self._gather_spec = (probe.shape[1:], probe.dtype)
        return self._gather_spec

    def _check_gathered(self, values: Any, count: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        values = np.asarray(values)
        if values.shape != (count, *shape):
            raise ProgramError(
                self.program, "gather", f"must return shape {(count, *shape)} for {count} edges, got {values.shape}"
            )
        if values.dtype != dtype:
            if not np.can_cast(values.dtype, dtype, casting="same_kind"):
                raise ProgramError(
                    self.program, "gather", f"returned dtype {values.dtype}, expected {dtype} (as for an empty batch)"
                )
            values = values.astype(dtype)
        return values

    def _chunk_edges(self, shape: tuple[int, ...], dtype: np.dtype) -> int:
        """Edges per chunk so that one chunk of values of ``shape`` and ``dtype`` fits ``chunk_bytes``."""
        per_edge = np.dtype(dtype).itemsize
        for d in shape:
            per_edge *= d
        return max(self.chunk_bytes // max(per_edge, 1), 1024)

    # =============================================================== apply
    def apply(self, batch: dict[int, Frontier], acc: dict[int, np.ndarray | None]) -> dict[int, Applied]:
        """Apply on the batch's masters of every part."""
        return {p: self._apply_part(part, batch[p], acc[p]) for p, part in self.parts.items()}

    def _apply_part(self, part: Part, batch: Frontier, acc: np.ndarray | None) -> Applied:
        program = self.program
        M = part.num_masters
        masters = batch.below(M)
        k = masters.count
        if k == 0:
            return Applied(masters, (), masters, masters)
        # The batch's masters come first in id order (masters are local 0..M-1):
        # all of them are a slice (views, no copies), or the whole store.
        if k == M:
            index = None if part.num_local == M else slice(0, M)
        else:
            index = masters.ids()
        view = VertexView(
            (lambda: part.gid) if index is None else (lambda: part.gid[index]),
            FieldMap(part.vdata, index, k, (program, "apply"), "vertex"),
            self.globals_view,
            self.n,
            self.step,
        )
        part_acc = None
        if isinstance(acc, KeyCounts):
            part_acc = acc if len(acc) == k else acc.head(k)
        elif isinstance(acc, Ragged):
            part_acc = acc if len(acc) == k else acc[:k]
        elif acc is not None:
            part_acc = acc if acc.shape[0] == k else acc[:k]
            part_acc.flags.writeable = False
        ret = self._call_apply(view, part_acc)
        # Read the returned mask and the signals before storing any field:
        # either may be (a view of) a field that apply just assigned.
        scatter = masters
        if ret is not None:
            flags = np.asarray(ret)
            if flags.dtype != bool or flags.shape not in ((), (k,)):
                raise ProgramError(
                    program, "apply", f"may return None or a bool array of length {k}; got {flags.dtype} {flags.shape}"
                )
            if flags.ndim == 0:
                scatter = masters if flags else Frontier.nothing(M)
            else:
                scatter = Frontier.of_ids(M, masters.ids()[flags], unique=True)
        signalled, priorities = Frontier.nothing(M), None
        if view.signalled is not None:
            if view.signalled.all():
                signalled = masters  # the common "stay active": no ids to list
            elif view.signalled.any():
                signalled = Frontier.of_ids(M, masters.ids()[view.signalled], unique=True)
            if view.signal_priority is not None and signalled.count:
                priorities = view.signal_priority[view.signalled]
        store_fields(part.vdata, index, view.data.written)
        return Applied(masters, tuple(view.data.written), scatter, signalled, priorities)

    def _call_apply(self, view: VertexView, acc: np.ndarray | None) -> Any:
        """``program.apply``; a shape error caused by a vector gather says so."""
        try:
            return call_program(self.program, "apply", view, acc)
        except ProgramError as exc:
            text = str(exc).split(": ", 1)[-1]
            if not isinstance(acc, np.ndarray) or acc.ndim < 2 or not ("shape" in text or "broadcast" in text):
                raise
            trailing = acc.shape[1:]
            hint = (
                f" (acc has shape {acc.shape} because gather returns values of shape {trailing} per edge, "
                f"i.e. shape (len(e), {', '.join(map(str, trailing))}); for one number per vertex, "
                "gather must return shape (len(e),))"
            )
            raise ProgramError(self.program, "apply", text + hint) from exc

    def sync_values(self, batch: dict[int, Frontier], applied: dict[int, Applied]) -> dict[int, Frontier]:
        """Masters send assigned fields and scatter flags to mirrors; returns who scatters, per part."""
        need_flags = self.program.scatter_edges is not NONE
        hidden = self._masters_only  # mirrors never read these: they stay at the masters
        outbox = {}
        for q, part in self.parts.items():
            a = applied[q]
            for p, shared in part.recv.items():
                pos = subset_of(a.masters, shared)
                payload = {name: pick(part.vdata[name], shared, pos) for name in a.written if name not in hidden}
                if need_flags:
                    payload[SCATTER_KEY] = a.scatter.contains(shared if pos is None else shared[pos])
                outbox[(q, p)] = self.exchange.message(part, shared, pos, payload)
        scatter = {}
        inbox = self.exchange.send(outbox)
        for p, part in self.parts.items():
            builder = VertexSetBuilder(part.num_local) if need_flags else None
            if need_flags:
                builder.add_frontier(applied[p].scatter)
            for q, msg in inbox.get(p, ()):
                shared = part.send[q]
                expected = subset_of(batch[p], shared) if self._mirrors_know_batch else False
                got = self.exchange.open(msg, part, shared, "values -> mirrors", q, expected)
                for name, values in got.payload.items():
                    if name == SCATTER_KEY:
                        builder.add(got.local[values])
                    else:
                        part.vdata[name][got.local] = values
            scatter[p] = builder.frontier() if need_flags else Frontier.nothing(part.num_local)
        return scatter

    # ============================================================= scatter
    def scatter(self, scatter: dict[int, Frontier]) -> dict[int, tuple[Frontier, np.ndarray | None]]:
        """Local scatters over the edges of the vertices in ``scatter``; returns who was signalled
        (and with which priorities, for prioritized programs)."""
        signals = {}
        for p, part in self.parts.items():
            who = scatter[p]
            builder = SignalBuilder(part.num_local, self.prioritized, self._priority_scratch(p))
            if who.count and self.program.scatter_edges is not NONE and self.program.uses_nbr_signals():
                builder.add_signals(*self._signal_nbrs(part, who))
            elif who.count and self.program.scatter_edges is not NONE:
                cond = self._nbr_cond(part)
                for direction in directions(self.program.scatter_edges):
                    for c in self._scatter_chunks(part, direction, who):
                        flags = self._scatter_chunk(part, c, direction)
                        if flags is None:
                            continue
                        nbrs = self._chunk_nbrs(part, c, direction)
                        if cond is not None:  # neighbours that may not hear: no signal
                            heard = cond[nbrs]
                            flags = flags & heard if flags.dtype == bool else np.where(heard, flags, np.inf)
                        if flags.dtype == bool:
                            builder.add(nbrs[flags] if flags.ndim else nbrs if flags else nbrs[:0])
                        else:  # priorities: +inf means no signal
                            prio = flags if flags.ndim else np.broadcast_to(flags, nbrs.shape)
                            hit = prio < np.inf
                            builder.add_prioritized(nbrs[hit], prio[hit])
            signals[p] = builder.result()
        return signals

    def _signal_nbrs(self, part: Part, who: Frontier) -> tuple[Frontier, np.ndarray | None]:
        """``signal_nbrs`` on the vertices ``who``, pushed to their neighbours in one compiled pass:
        the local vertices signalled and (prioritized engines) their lowest priorities."""
        program = self.program
        ids = np.arange(part.num_local) if who.full else who.ids()
        view = VertexView(
            lambda: part.gid[ids],
            FieldMap(
                part.vdata,
                None if who.full else ids,
                ids.size,
                (program, "signal_nbrs"),
                "vertex",
                writable=False,
                hidden=self._masters_only,
            ),
            self.globals_view,
            self.n,
            self.step,
        )
        values = np.asarray(call_program(program, "signal_nbrs", view))
        if values.shape not in ((), (ids.size,)) or not (values.dtype == bool or values.dtype.kind == "f"):
            raise ProgramError(
                program,
                "signal_nbrs",
                f"must return a bool or float per vertex ({ids.size}); got {values.dtype} {values.shape}",
            )
        if values.dtype == bool:
            prio = np.where(np.broadcast_to(values, ids.shape), -np.inf, np.inf)
        else:
            prio = self._no_nan(np.broadcast_to(values, ids.shape), "signal_nbrs")
        grouped = self._push_edges(part)
        got, low = push_lowest(grouped, ids, prio, self._nan_array(part.index), self._nbr_cond(part))
        return Frontier.of_ids(part.num_local, got, unique=True), (low if self.prioritized else None)

    def _scatter_chunks(self, part: Part, direction: EdgeSet, who: Frontier) -> list[EdgeChunk]:
        """The edges a scatter of the vertices ``who`` runs over, in chunks.

        A scatter folds nothing, so the edges need no grouping by vertex:
        when many vertices scatter they are taken in storage order (slices,
        or ascending positions selected by a mask), which reads every edge
        array as it lies; only a few scattering vertices are looked up
        through the grouping, at the cost of their own edges.
        """
        chunk = self._chunk_edges((), np.dtype(np.float64))
        m = part.esrc.size
        if who.full:
            key = (part.index, "storage", chunk)
            if key not in self._plans:
                self._plans[key] = [
                    EdgeChunk(slice(lo, min(lo + chunk, m)), _NO_ROWS, _NO_ROWS, min(lo + chunk, m) - lo)
                    for lo in range(0, m, chunk)
                ]
            return self._plans[key]
        if who.dense:
            ends = part.edst if direction is IN else part.esrc  # the scattering end of every edge
            edges = np.flatnonzero(who.mask()[ends])
            return [
                EdgeChunk(edges[lo : lo + chunk], _NO_ROWS, _NO_ROWS, min(chunk, edges.size - lo))
                for lo in range(0, edges.size, chunk)
            ]
        return self._chunks(part, direction, who.ids(), chunk)

    def _scatter_chunk(self, part: Part, c: EdgeChunk, direction: EdgeSet) -> np.ndarray | None:
        view = self._edge_view(part, c, direction, "scatter", writable=True)
        ret = call_program(self.program, "scatter", view)
        store_fields(part.edata, c.edges, view.data.written)
        for name in view.data.written:
            self.edge_field_changed(part, name)
            self.edge_fields_written.add(name)
        if ret is None:
            return None
        flags = np.asarray(ret)
        if (flags.dtype != bool and flags.dtype.kind != "f") or flags.shape not in ((), (c.size,)):
            raise ProgramError(
                self.program,
                "scatter",
                f"may return None, a bool array or float priorities of length {c.size}; "
                f"got {flags.dtype} {flags.shape}",
            )
        return self._no_nan(flags, "scatter") if flags.dtype.kind == "f" else flags

    def _no_nan(self, priorities: np.ndarray, method: str) -> np.ndarray:
        """``priorities``, unless one is NaN (which orders nothing): then a ProgramError naming ``method``."""
        if np.isnan(priorities).any():
            raise ProgramError(self.program, method, "returned a NaN priority (np.inf means no signal)")
        return priorities

    def send_signals_to_masters(
        self,
        signals: dict[int, tuple[Frontier, np.ndarray | None]],
        writes: dict[tuple[int, int], tuple] | None = None,
    ) -> dict[int, tuple[Frontier, np.ndarray | None]]:
        """Mirrors' signals (and their priorities) are added to their masters'; ``writes`` (from
        :meth:`write_neighbours`) travel in the same round and are folded at the masters."""
        outbox = {}
        for p, part in self.parts.items():
            f, prio = signals[p]
            for q, shared in part.send.items():
                pos = _positions_of(f, shared)
                payload = None if prio is None else prio[f.positions(shared[pos])]
                outbox[(p, q)] = self.exchange.message(part, shared, pos, payload)
        if writes is None:
            inbox = self.exchange.send(outbox)
        else:  # this step's neighbour writes travel in the same round (see write_neighbours)
            inbox, folds = self.exchange.send_together([outbox, writes])
            self._fold_neighbour_writes(folds)
        merged = {}
        for q, part in self.parts.items():
            if q not in inbox:
                merged[q] = signals[q]
                continue
            builder = SignalBuilder(part.num_local, self.prioritized, self._priority_scratch(q))
            builder.add_signals(*signals[q])
            for p, msg in inbox[q]:
                got = self.exchange.open(msg, part, part.recv[p], "signals -> masters", p)
                if got.payload is None:
                    builder.add(got.local)
                else:
                    builder.add_prioritized(got.local, got.payload)
            merged[q] = builder.result()
        return merged

    def keep_signals_for_later(self) -> None:
        """From now on mirrors keep their signals until :meth:`send_kept_signals` (for engines whose
        signals take effect only once a sweep is over, as the chromatic engine's)."""
        self.kept_signals = {p: VertexSetBuilder(part.num_local) for p, part in self.parts.items()}

    def _keep_signals(self, signals: dict[int, tuple[Frontier, np.ndarray | None]]) -> None:
        for p, part in self.parts.items():
            f, M = signals[p][0], part.num_masters
            if part.send and f.count > f.count_below(M):  # only mirrors' signals wait (masters' count at once)
                ids = f.ids()
                self.kept_signals[p].add(ids[np.searchsorted(ids, M) :])

    def send_kept_signals(self) -> dict[int, Frontier]:
        """The signals mirrors kept, sent to their masters in one round: per part, the masters signalled."""
        if self.program.scatter_edges is NONE:
            return {p: Frontier.nothing(part.num_masters) for p, part in self.parts.items()}
        kept = {p: (b.frontier(), None) for p, b in self.kept_signals.items()}
        self.keep_signals_for_later()
        merged = self.send_signals_to_masters(kept)
        return {p: merged[p][0].below(part.num_masters) for p, part in self.parts.items()}

    def check_replicas(self) -> None:
        """Debug mode: every mirror's fields must equal its master's (NaN equals NaN)."""
        outbox = {
            (q, p): self.exchange.message(
                part,
                shared,
                None,
                {name: values[shared] for name, values in part.vdata.items() if name not in self._masters_only},
            )
            for q, part in self.parts.items()
            for p, shared in part.recv.items()
        }
        for p, messages in self.exchange.send(outbox).items():
            part = self.parts[p]
            for q, msg in messages:
                got = self.exchange.open(msg, part, part.send[q], "replica check", q, None)
                for name, values in got.payload.items():
                    mine = part.vdata[name][got.local]
                    if isinstance(values, Ragged):
                        same = _same_rows(mine, values)
                    else:
                        same = (mine == values) | ((mine != mine) & (values != values))
                    if not np.all(same):
                        k = int(np.flatnonzero(~same.reshape(same.shape[0], -1).all(axis=1))[0])
                        raise EngineError(
                            f"superstep {self.step}, replica check: field {name!r} "
                            f"of vertex {int(part.gid[got.local[k]])} "
                            f"is {mine[k]!r} on its mirror in part {p} but {values[k]!r} on its master in part {q}"
                        )

    # ========================================================= aggregators
    def run_aggregators(self) -> None:
        """Run every aggregator now (before the first superstep)."""
        aggs = list(self.aggregators)
        self.publish_aggregates(aggs, self.backend.alltoall([self.aggregate_locally(aggs)] * self.backend.size))

    def aggregate_locally(self, aggs: list[Aggregator]) -> list[np.ndarray]:
        """Each aggregator folded over the masters this worker holds."""
        partials = []
        for agg in aggs:
            shape = self._map_shape(agg)
            kind = "edge" if agg.over == "edges" else "vertex"
            total = None
            for part in self.parts.values():
                # every edge lives in one part and every vertex has one master: each counts once
                batches = (
                    [(self._master_view(part, part.masters, part.num_masters, agg), part.num_masters)]
                    if kind == "vertex"
                    else self._edge_batches(part, agg)
                )
                for view, count in batches:
                    keys, values = self._map_values(agg, call_program(agg, "map", view))
                    if keys is not None:  # a keyed map may bring any number of (key, value) pairs
                        count = values.shape[0]
                    if values.shape != (count, *shape):
                        raise ProgramError(
                            f"Aggregator[{agg.name}]",
                            "map",
                            f"must return one value per {kind}, each of the shape it has for an empty batch {shape}: "
                            f"{(count, *shape)} for {count} {_plural(kind)}, got {values.shape}",
                        )
                    folded = self._fold_values(agg, keys, values)
                    total = folded if total is None else agg.combine(total, folded)
            partials.append(np.asarray(total))
        return partials

    def _map_values(self, agg: Aggregator, returned: Any) -> tuple[np.ndarray | None, np.ndarray]:
        """``(keys, values)`` of a keyed aggregator's map (checked), or ``(None, values)``."""
        if agg.num_keys is None:
            return None, np.asarray(returned)
        if not (isinstance(returned, tuple) and len(returned) == 2):
            raise ProgramError(
                f"Aggregator[{agg.name}]",
                "map",
                f"with num_keys={agg.num_keys} must return (keys, values); got {type(returned).__name__}",
            )
        keys, values = np.asarray(returned[0]), np.asarray(returned[1])
        if keys.shape != values.shape[:1] or (
            keys.size and (keys.dtype.kind not in "iu" or keys.min() < 0 or keys.max() >= agg.num_keys)
        ):
            raise ProgramError(
                f"Aggregator[{agg.name}]",
                "map",
                f"keys must be integers 0..{agg.num_keys - 1}, one per value; got {keys.dtype} "
                f"{keys.shape} for values of shape {values.shape}",
            )
        return keys, values

    def _fold_values(self, agg: Aggregator, keys: np.ndarray | None, values: np.ndarray) -> np.ndarray:
        """One batch's values folded: over all of them, or per key (sums as one sparse product)."""
        neutral = neutral_element(agg.combine, values.dtype)
        if keys is None:
            return agg.combine.reduce(values, axis=0, initial=neutral)
        if agg.combine is np.add and values.dtype.kind in "fiu":
            import scipy.sparse as sp

            flat = values.reshape(values.shape[0], int(np.prod(values.shape[1:], dtype=np.int64)))
            by_key = sp.csr_matrix(
                (
                    np.ones(keys.size, dtype=flat.dtype if flat.dtype.kind == "f" else np.float64),
                    (keys, np.arange(keys.size)),
                ),
                shape=(agg.num_keys, keys.size),
            )
            folded = np.asarray(by_key @ flat).astype(values.dtype, copy=False)
            return folded.reshape(agg.num_keys, *values.shape[1:])
        folded = np.full((agg.num_keys, *values.shape[1:]), neutral, dtype=values.dtype)
        agg.combine.at(folded, keys, values)
        return folded

    def _edge_batches(self, part: Part, agg: Aggregator) -> list[tuple[EdgeView, int]]:
        """Read-only views of all the part's edges, in storage-order chunks, for an edge aggregator."""
        chunk = self._chunk_edges((), np.dtype(np.float64))
        m = part.esrc.size
        views = []
        for lo in range(0, m, chunk):
            c = EdgeChunk(slice(lo, min(lo + chunk, m)), _NO_ROWS, _NO_ROWS, min(lo + chunk, m) - lo)
            views.append((self._aggregator_edge_view(part, c, agg), c.size))
        return views

    def _aggregator_edge_view(self, part: Part, c: EdgeChunk, agg: Aggregator) -> EdgeView:
        src_l, dst_l = part.esrc[c.edges], part.edst[c.edges]
        owner = (f"Aggregator[{agg.name}]", "map")
        return EdgeView(
            lambda: part.gid[src_l],
            lambda: part.gid[dst_l],
            FieldMap(part.edata, c.edges, c.size, owner, "edge", writable=False),
            FieldMap(part.vdata, src_l, c.size, owner, "vertex", writable=False, hidden=self._masters_only),
            FieldMap(part.vdata, dst_l, c.size, owner, "vertex", writable=False, hidden=self._masters_only),
            OUT,
            self.globals_view,
            self.n,
            self.step,
        )

    def _map_shape(self, agg: Aggregator) -> tuple[int, ...]:
        """Trailing shape of ``agg.map``'s values, from a call on an empty batch.

        The rule is one value per vertex with a fixed trailing shape; learning
        that shape from an empty batch catches a map whose shape follows the
        batch (``(len(v), len(v))``) on one part as on many.
        """
        if agg.name not in self._map_shapes:
            part = next(iter(self.parts.values()))
            empty = np.zeros(0, dtype=np.intp)
            if agg.over == "edges":
                view = self._aggregator_edge_view(part, EdgeChunk(empty, empty, empty, 0), agg)
            else:
                view = self._master_view(part, empty, 0, agg)
            kind = "edge" if agg.over == "edges" else "vertex"
            _, probe = self._map_values(agg, probe_empty(agg, "map", view, _plural(kind)))
            if probe.ndim == 0 or probe.shape[0] != 0:
                raise ProgramError(
                    f"Aggregator[{agg.name}]",
                    "map",
                    f"must return one value per {kind}; for 0 {_plural(kind)} got shape {probe.shape}",
                )
            self._map_shapes[agg.name] = probe.shape[1:]
        return self._map_shapes[agg.name]

    def _master_view(self, part: Part, index: Any, count: int, agg: Aggregator) -> VertexView:
        """A read-only view of some masters of ``part`` for ``agg.map``."""
        return VertexView(
            lambda: part.gid[index],
            FieldMap(part.vdata, index, count, (f"Aggregator[{agg.name}]", "map"), "vertex", writable=False),
            self.globals_view,
            self.n,
            self.step,
        )

    def publish_aggregates(self, aggs: list[Aggregator], per_worker: list[list[np.ndarray]]) -> None:
        """Fold the workers' partials in rank order (identical everywhere) into globals."""
        if aggs:
            self._nbr_table.clear()  # gather_nbr may read the globals
        for i, agg in enumerate(aggs):
            total = per_worker[0][i]
            for partials in per_worker[1:]:
                total = agg.combine(total, partials[i])
            value = total[()] if total.ndim == 0 else total
            value = agg.finish(value, self.globals.get(agg.name), self.globals_view)
            self.globals[agg.name] = value
            self.history[agg.name].append((self.step, value))

    # ============================================================= helpers
    def _chunks(self, part: Part, direction: EdgeSet, act: np.ndarray | None, chunk: int) -> list[EdgeChunk]:
        """The edge chunks of the vertices ``act`` (all: cached, the plan only depends on the part)."""
        ptr, order = part.csr(direction)
        if act is not None:
            return edge_chunks(ptr, order, act, chunk)
        key = (part.index, direction, chunk)
        if key not in self._plans:
            self._plans[key] = edge_chunks(ptr, order, None, chunk)
        return self._plans[key]

    def _edge_view(self, part: Part, c: EdgeChunk, direction: EdgeSet, method: str, writable: bool) -> EdgeView:
        """The view a program gets of the edges of chunk ``c`` (a slice: every array is read as a view)."""
        eidx, size = c.edges, c.size
        src_l, dst_l = self._chunk_ends(part, c, direction)
        owner = (self.program, method)
        return EdgeView(
            lambda: part.gid[src_l],
            lambda: part.gid[dst_l],
            FieldMap(part.edata, eidx, size, owner, "edge", writable=writable),
            FieldMap(part.vdata, src_l, size, owner, "vertex", writable=False, hidden=self._masters_only),
            FieldMap(part.vdata, dst_l, size, owner, "vertex", writable=False, hidden=self._masters_only),
            direction,
            self.globals_view,
            self.n,
            self.step,
        )

    def _chunk_ends(self, part: Part, c: EdgeChunk, direction: EdgeSet) -> tuple[np.ndarray, np.ndarray]:
        """Local ``(src, dst)`` of the chunk's edges, read in grouping order when the chunk has it
        (the storage positions of a few vertices' out-edges are scattered: reading the endpoints
        there cost a scatter of 70k edges as much as the rest of it)."""
        if c.csr is None:
            return part.esrc[c.edges], part.edst[c.edges]
        vertex, nbr = c.ends(part.neighbours(direction))
        return (nbr, vertex) if direction is IN else (vertex, nbr)

    def _chunk_nbrs(self, part: Part, c: EdgeChunk, direction: EdgeSet) -> np.ndarray:
        """The other end (local) of each edge of chunk ``c``."""
        if c.csr is None:
            return (part.esrc if direction is IN else part.edst)[c.edges]
        return part.neighbours(direction)[c.csr]

    def collect(self) -> tuple[dict[int, dict[str, np.ndarray]], dict[int, dict[str, np.ndarray]]]:
        """Master values and edge fields of every held part, for the driver to assemble."""
        vertex = {}
        edge = {}
        for p, part in self.parts.items():
            vertex[p], edges = part.results()
            if edges is not None:
                edge[p] = edges
        return vertex, edge


_NO_ROWS = np.zeros(0, dtype=np.intp)  # scatter chunks fold nothing


def _positions_of(f: Frontier, shared: np.ndarray) -> np.ndarray:
    """Positions in ``shared`` of the vertices in ``f`` (explicitly, even for all)."""
    pos = subset_of(f, shared)
    return np.arange(shared.size, dtype=np.intp) if pos is None else pos


def _lift(values: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape per-edge scalars to broadcast against per-edge values of ``ndim`` dims."""
    return values.reshape(values.shape + (1,) * (ndim - values.ndim)) if values.ndim < ndim else values


def store_fields(store: dict[str, np.ndarray], index: Any, written: dict[str, np.ndarray]) -> None:
    """Write the fields a program assigned into a part's store, in place.

    The program's call has returned, so nothing it read can change under it;
    the one hazard left is a value that is a view of *another* field stored
    in the same batch (``v.data["prev"] = v.data["x"]; v.data["x"] = new``
    in either order): such a value is copied before anything is written.
    """
    safe = {}
    for name, values in written.items():
        owns = isinstance(values, np.ndarray) and values.base is None  # fresh memory: no field's view
        if not owns and any(shares_memory(values, store[other]) for other in written if other != name):
            values = values.compact() if isinstance(values, Ragged) else np.array(values)
        safe[name] = values
    for name, values in safe.items():
        store[name][slice(None) if index is None else index] = values


def _same_rows(a: Ragged, b: Ragged) -> np.ndarray:
    """Per row, whether two Raggeds of as many rows hold the same values (for the replica check)."""
    same = a.sizes() == b.sizes()
    if same.all():
        same[a.rows()[a.values != b.values]] = False
    return same


def _plural(kind: str) -> str:
    """``"vertices"`` or ``"edges"``, for messages."""
    return "vertices" if kind == "vertex" else f"{kind}s"
