"""The synchronous engine (PowerGraph's bulk-synchronous GAS) over vertex-cut parts.

One instance runs in every worker (SPMD) on the parts that worker holds.  A
superstep is:

1. **gather** locally over each part's edges of active vertices;
2. **partials -> masters**: mirrors send partial accumulators, masters fold them;
3. **apply** on active masters;
4. **values -> mirrors**: masters send the fields apply assigned (and which
   vertices scatter);
5. **scatter** locally, collecting signals;
6. **signals -> masters**, then sync operations (aggregators) on masters;
7. **activity -> mirrors**: masters send the next active set.

Exchanges go through :class:`~gasengine.backends.Backend`, so this loop is the
same on every backend.  Exchange messages carry no vertex numbers: both ends
hold the same sorted mirror list and the same active set (see ``parts.py``).
Every received message is checked to hold as many values as the receiver
expects, so a disagreement is an :class:`~gasengine.errors.EngineError`
naming the superstep, the exchange and both parts, never a silently wrong
value.  In debug mode (``run(..., debug=True)`` or ``GASENGINE_DEBUG=1``)
messages also carry the vertex numbers, which the receiver compares with
its own, and after every superstep each mirror's fields are compared with
its master's.
"""

from __future__ import annotations

import os
import time
import types
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .aggregators import Aggregator
from .backends.base import Backend
from .errors import EngineError, ProgramError
from .kernels import edge_chunks, fold_segments, spmv
from .parts import Part
from .program import ALL, IN, NONE, OUT, EdgeSet, EdgeView, FieldMap, VertexProgram, VertexView, neutral_element
from .result import StepStats

#: Bytes of gathered values one chunk may hold; bounds gather memory.
DEFAULT_CHUNK_BYTES = 64 << 20

ProgressFn = Callable[[int, int], None]


def directions(edges: EdgeSet) -> tuple[EdgeSet, ...]:
    """The single-direction passes an edge set needs."""
    return {NONE: (), IN: (IN,), OUT: (OUT,), ALL: (IN, OUT)}[edges]


def call_program(program: VertexProgram, method: str, *args: Any) -> Any:
    """Call a program method; turn any failure into a ProgramError naming it."""
    try:
        return getattr(program, method)(*args)
    except (ProgramError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # SystemExit too: a program must not end the run silently
        hint = ""
        if "read-only" in str(exc):
            hint = " (fields read from a view are read-only: assign a new array, e.g. v.data['x'] = v.data['x'] + 1)"
        raise ProgramError(owner_name(program), method, f"{type(exc).__name__}: {exc}{hint}") from exc


def owner_name(obj: Any) -> Any:
    """What errors call ``obj``: ``Aggregator[name]`` for a sync operation, else the object."""
    return f"Aggregator[{obj.name}]" if isinstance(obj, Aggregator) else obj


def _probe_empty(obj: Any, method: str, view: Any, what: str) -> Any:
    """Call ``obj.method`` on an empty batch to learn the shape of its values.

    A :class:`ProgramError` (a misspelt field, say) passes through as it is;
    any other failure is reported as itself, with a note on why the engine
    made this call.
    """
    try:
        return getattr(obj, method)(view)
    except (ProgramError, KeyboardInterrupt):
        raise
    except BaseException as exc:
        raise ProgramError(
            owner_name(obj), method,
            f"{type(exc).__name__}: {exc} (raised for an empty batch of 0 {what}: the engine calls "
            f"{method} once with no {what} to learn the shape of its values, so it must accept one)",
        ) from exc


def debug_default() -> bool:
    """Whether debug checks are on when ``run`` is not told: the ``GASENGINE_DEBUG`` variable."""
    return os.environ.get("GASENGINE_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def payload_bytes(payload: Any) -> int:
    """Bytes of the arrays in a message (nested dicts/lists/tuples)."""
    if isinstance(payload, np.ndarray):
        return payload.nbytes
    if isinstance(payload, dict):
        return sum(payload_bytes(v) for v in payload.values())
    if isinstance(payload, (list, tuple)):
        return sum(payload_bytes(v) for v in payload)
    return 0


class SyncEngine:
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
    ):
        self.program = program
        self.debug = debug_default() if debug is None else bool(debug)
        self.parts = {p.index: p for p in parts}
        self.part_owner = part_owner
        self.backend = backend
        self.n = num_vertices
        self.aggregators = aggregators
        self.active = active
        self.chunk_bytes = chunk_bytes
        self.globals: dict[str, Any] = {}
        self.globals_view: Mapping[str, Any] = types.MappingProxyType(self.globals)
        self.step = 0
        self._bytes = 0
        self._worker_bytes = 0
        self._exchange_seconds = 0.0
        self._gather_spec: tuple[tuple[int, ...], np.dtype] | None = None
        self._map_shapes: dict[str, tuple[int, ...]] = {}

    # ============================================================== driver
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
        self._bytes = self._worker_bytes = 0
        self._exchange_seconds = 0.0
        start = time.perf_counter()
        act = {p: self._active_list(p) for p in self.parts}
        acc = self.gather(act)
        scat, self_sig, written, updates = self.apply(act, acc)
        self.sync_values(written, scat)
        signals = self.scatter(scat)
        if self.program.scatter_edges is not NONE:  # otherwise mirrors have nothing to say
            self.send_signals_to_masters(signals)
        for p, sig in self_sig.items():
            signals[p] |= sig
        for p in self.parts:
            self.active[p] = signals[p]  # masters decide; mirrors learn below
        # The activity round also carries every worker's aggregator partials and
        # step counters, so a superstep costs 3 collective rounds, not 7.
        due = [agg for agg in self.aggregators if agg.due(self.step)]
        partials = self.aggregate_locally(due)

        def counts_and_partials() -> tuple[np.ndarray, list[np.ndarray]]:  # called once this round's bytes are counted
            counts = np.array([self._local_active(), updates, self._bytes, self._worker_bytes], dtype=np.int64)
            return counts, partials

        everyone = self.send_activity_to_mirrors(counts_and_partials)
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
            compute_seconds=seconds - self._exchange_seconds,
            exchange_seconds=self._exchange_seconds,
            bytes_exchanged=nbytes,
            bytes_between_workers=worker_bytes,
        )
        return row, next_count, halted

    # ============================================================== gather
    def gather(self, act: dict[int, np.ndarray | None]) -> dict[int, np.ndarray | None]:
        """Local gathers, then partial accumulators folded at the masters."""
        if self.program.gather_edges is NONE:
            return {p: None for p in self.parts}
        acc = {p: self._gather_part(self.parts[p], act[p]) for p in self.parts}
        combine = self.program.combine
        outbox = {}
        for p, part in self.parts.items():
            for q, idx in part.send.items():
                pos, local = _active_among(act[p], idx)
                outbox[(p, q)] = (acc[p][pos], local)
        for q, messages in self.exchange(outbox).items():
            part = self.parts[q]
            for p, msg in messages:
                pos, local = _active_among(act[q], part.recv[p])
                values = self._received(msg, part, local, "partials -> masters", p)
                acc[q][pos] = combine(acc[q][pos], values)
        return acc

    def _gather_part(self, part: Part, act: np.ndarray | None) -> np.ndarray:
        program = self.program
        count = part.num_local if act is None else act.size
        if program.uses_nbr_gather():
            return self._gather_nbr(part, act, count)
        shape, dtype = self._gather_value_spec(part)
        acc = np.full((count, *shape), neutral_element(program.combine, dtype), dtype=dtype)
        chunk = self._chunk_edges(shape, dtype)
        for direction in directions(program.gather_edges):
            ptr, order = part.csr(direction)
            for rows, eidx in edge_chunks(ptr, order, act, chunk):
                view = self._edge_view(part, eidx, direction, "gather", writable=False)
                values = call_program(program, "gather", view)
                fold_segments(program.combine, acc, rows, self._check_gathered(values, eidx.size, shape, dtype))
        return acc

    def _gather_nbr(self, part: Part, act: np.ndarray | None, count: int) -> np.ndarray:
        """The neighbour-only gather: per-vertex values, then SpMV or a segmented fold."""
        program = self.program
        view = VertexView(
            lambda: part.gid,
            FieldMap(part.vdata, None, part.num_local, (program, "gather_nbr"), "vertex", writable=False),
            self.globals_view,
            self.n,
            self.step,
        )
        x = np.asarray(call_program(program, "gather_nbr", view))
        if x.ndim == 0 or x.shape[0] != part.num_local:
            raise ProgramError(
                program, "gather_nbr", f"must return one value per vertex ({part.num_local}), got shape {x.shape}"
            )
        weights = None
        if program.gather_edge_field:
            weights = part.edata.get(program.gather_edge_field)
            if weights is None:
                raise ProgramError(
                    program, "gather_edge_field",
                    f"no edge field {program.gather_edge_field!r}; fields are {sorted(part.edata)}",
                )
        op = program.gather_edge_op or np.multiply
        dtype = x.dtype if weights is None else op(x[:0], _lift(weights[:0], x.ndim)).dtype
        sum_product = program.combine is np.add and op is np.multiply and dtype.kind == "f"
        if sum_product and program.gather_edges in (IN, OUT):  # one product is the whole gather
            ptr, nbr, data = part.gather_matrix(program.gather_edges, program.gather_edge_field)
            return spmv(ptr, nbr, data, x, act).astype(dtype, copy=False)
        acc = np.full((count, *x.shape[1:]), neutral_element(program.combine, dtype), dtype=dtype)
        for direction in directions(program.gather_edges):
            if sum_product:
                ptr, nbr, data = part.gather_matrix(direction, program.gather_edge_field)
                acc += spmv(ptr, nbr, data, x, act)
                continue
            ptr, order = part.csr(direction)
            nbr_of = part.esrc if direction is IN else part.edst
            for rows, eidx in edge_chunks(ptr, order, act, self._chunk_edges(x.shape[1:], dtype)):
                values = x[nbr_of[eidx]]
                if weights is not None:
                    values = op(values, _lift(weights[eidx], values.ndim))
                fold_segments(program.combine, acc, rows, values)
        return acc

    def _gather_value_spec(self, part: Part) -> tuple[tuple[int, ...], np.dtype]:
        """Shape and dtype of one gathered value, from a call on an empty batch.

        Every part must fold values of one shape, including parts with no
        edges to gather, so the shape is learnt the same way on every part.
        """
        if self._gather_spec is None:
            empty = np.zeros(0, dtype=np.int64)
            view = self._edge_view(part, empty, IN, "gather", writable=False)
            probe = np.asarray(_probe_empty(self.program, "gather", view, "edges"))
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
        per_edge = max(int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize, 1)
        return max(self.chunk_bytes // per_edge, 1024)

    # =============================================================== apply
    def apply(self, act, acc):
        """Apply on active masters; returns scatter flags, self signals, fields written, count."""
        program = self.program
        scat: dict[int, np.ndarray] = {}
        self_sig: dict[int, np.ndarray] = {}
        written: dict[int, tuple[str, ...]] = {}
        updates = 0
        for p, part in self.parts.items():
            active = self.active[p]
            scat[p] = active.copy()
            self_sig[p] = np.zeros(part.num_local, dtype=bool)
            # Masters are local vertices 0..M-1: with all active they are a slice
            # (views, no copies), or the whole store when the part has no mirrors.
            if act[p] is None:
                masters = None if part.num_masters == part.num_local else part.masters
                count = part.num_masters
            else:
                masters = np.flatnonzero(active[: part.num_masters])
                count = masters.size
            updates += count
            if count == 0:
                written[p] = ()
                continue
            view = VertexView(
                (lambda: part.gid) if masters is None else (lambda m=masters, g=part.gid: g[m]),
                FieldMap(part.vdata, masters, count, (program, "apply"), "vertex"),
                self.globals_view,
                self.n,
                self.step,
            )
            part_acc = None
            if acc[p] is not None:
                if act[p] is None:
                    part_acc = acc[p] if masters is None else acc[p][masters]
                else:
                    part_acc = acc[p][_active_among(act[p], masters)[0]]
                part_acc.flags.writeable = False
            ret = self._call_apply(view, part_acc)
            # Read the returned mask and the signals before storing any field:
            # either may be (a view of) a field that apply just assigned.
            where = slice(None) if masters is None else masters
            if ret is not None:
                flags = np.asarray(ret)
                if flags.dtype != bool or flags.shape not in ((), (count,)):
                    raise ProgramError(
                        program, "apply", f"may return None or a bool array of length {count}; got {flags.dtype} {flags.shape}"
                    )
                scat[p][where] = flags
            if view.signalled is not None:
                self_sig[p][where] = view.signalled
            store_fields(part.vdata, masters, view.data.written)
            written[p] = tuple(view.data.written)
        return scat, self_sig, written, updates

    def _call_apply(self, view: VertexView, acc: np.ndarray | None) -> Any:
        """``program.apply``; a shape error caused by a vector gather says so."""
        try:
            return call_program(self.program, "apply", view, acc)
        except ProgramError as exc:
            text = str(exc).split(": ", 1)[-1]
            if acc is None or acc.ndim < 2 or not ("shape" in text or "broadcast" in text):
                raise
            trailing = acc.shape[1:]
            hint = (
                f" (acc has shape {acc.shape} because gather returns values of shape {trailing} per edge, "
                f"i.e. shape (len(e), {', '.join(map(str, trailing))}); for one number per vertex, "
                "gather must return shape (len(e),))"
            )
            raise ProgramError(self.program, "apply", text + hint) from exc

    def sync_values(self, written: dict[int, tuple[str, ...]], scat: dict[int, np.ndarray]) -> None:
        """Masters send assigned fields and scatter flags of active vertices to mirrors."""
        need_flags = self.program.scatter_edges is not NONE
        outbox = {}
        for q, part in self.parts.items():
            for p, idx in part.recv.items():
                sel = idx[self.active[q][idx]]
                msg = {name: part.vdata[name][sel] for name in written[q]}
                if need_flags:
                    msg["\0scatter"] = scat[q][sel]
                outbox[(q, p)] = (msg, sel)
        for p, messages in self.exchange(outbox).items():
            part = self.parts[p]
            for q, msg in messages:
                idx = part.send[q]
                sel = idx[self.active[p][idx]]
                for name, values in self._received(msg, part, sel, "values -> mirrors", q).items():
                    if name == "\0scatter":
                        scat[p][sel] = values
                    else:
                        part.vdata[name][sel] = values

    # ============================================================= scatter
    def scatter(self, scat: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
        """Local scatters; returns per part which replicas were signalled."""
        signals = {p: np.zeros(part.num_local, dtype=bool) for p, part in self.parts.items()}
        if self.program.scatter_edges is NONE:
            return signals
        for p, part in self.parts.items():
            mask = self.active[p] & scat[p]
            act = None if mask.all() else np.flatnonzero(mask)
            if act is not None and act.size == 0:
                continue
            for direction in directions(self.program.scatter_edges):
                ptr, order = part.csr(direction)
                nbr_of = part.esrc if direction is IN else part.edst
                for _, eidx in edge_chunks(ptr, order, act, self._chunk_edges((), np.dtype(np.float64))):
                    view = self._edge_view(part, eidx, direction, "scatter", writable=True)
                    ret = call_program(self.program, "scatter", view)
                    store_fields(part.edata, eidx, view.data.written)
                    for name in view.data.written:
                        part.edge_field_changed(name)
                    if ret is not None:
                        flags = np.asarray(ret)
                        if flags.dtype != bool or flags.shape not in ((), (eidx.size,)):
                            raise ProgramError(
                                self.program,
                                "scatter",
                                f"may return None or a bool array of length {eidx.size}; got {flags.dtype} {flags.shape}",
                            )
                        signals[p][nbr_of[eidx][np.broadcast_to(flags, eidx.shape)]] = True
        return signals

    def send_signals_to_masters(self, signals: dict[int, np.ndarray]) -> None:
        """Mirrors' signals are OR-ed into their masters'."""
        outbox = {(p, q): (signals[p][idx], idx) for p, part in self.parts.items() for q, idx in part.send.items()}
        for q, messages in self.exchange(outbox).items():
            part = self.parts[q]
            for p, msg in messages:
                idx = part.recv[p]
                signals[q][idx] |= self._received(msg, part, idx, "signals -> masters", p)

    def send_activity_to_mirrors(self, shared: Callable[[], Any]) -> list[Any]:
        """Masters tell mirrors the next active set; returns every worker's ``shared``."""
        outbox = {(q, p): (self.active[q][idx], idx) for q, part in self.parts.items() for p, idx in part.recv.items()}
        inbox, everyone = self.exchange(outbox, shared)
        for p, messages in inbox.items():
            part = self.parts[p]
            for q, msg in messages:
                idx = part.send[q]
                self.active[p][idx] = self._received(msg, part, idx, "activity -> mirrors", q)
        return everyone

    def check_replicas(self) -> None:
        """Debug mode: every mirror's fields must equal its master's (NaN equals NaN)."""
        outbox = {
            (q, p): ({name: values[idx] for name, values in part.vdata.items()}, idx)
            for q, part in self.parts.items() for p, idx in part.recv.items()
        }
        for p, messages in self.exchange(outbox).items():
            part = self.parts[p]
            for q, msg in messages:
                idx = part.send[q]
                for name, values in self._received(msg, part, idx, "replica check", q).items():
                    mine = part.vdata[name][idx]
                    same = (mine == values) | ((mine != mine) & (values != values))
                    if not np.all(same):
                        k = int(np.flatnonzero(~same.reshape(same.shape[0], -1).all(axis=1))[0])
                        raise EngineError(
                            f"superstep {self.step}, replica check: field {name!r} of vertex {int(part.gid[idx[k]])} "
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
            total = None
            for part in self.parts.values():
                view = self._master_view(part, part.masters, part.num_masters, agg)
                values = np.asarray(call_program(agg, "map", view))
                if values.shape != (part.num_masters, *shape):
                    raise ProgramError(
                        f"Aggregator[{agg.name}]", "map",
                        f"must return one value per vertex, each of the shape it has for an empty batch {shape}: "
                        f"{(part.num_masters, *shape)} for {part.num_masters} vertices, got {values.shape}",
                    )
                folded = agg.combine.reduce(values, axis=0, initial=neutral_element(agg.combine, values.dtype))
                total = folded if total is None else agg.combine(total, folded)
            partials.append(np.asarray(total))
        return partials

    def _map_shape(self, agg: Aggregator) -> tuple[int, ...]:
        """Trailing shape of ``agg.map``'s values, from a call on an empty batch.

        The rule is one value per vertex with a fixed trailing shape; learning
        that shape from an empty batch catches a map whose shape follows the
        batch (``(len(v), len(v))``) on one part as on many.
        """
        if agg.name not in self._map_shapes:
            part = next(iter(self.parts.values()))
            view = self._master_view(part, np.zeros(0, dtype=np.int64), 0, agg)
            probe = np.asarray(_probe_empty(agg, "map", view, "vertices"))
            if probe.ndim == 0 or probe.shape[0] != 0:
                raise ProgramError(
                    f"Aggregator[{agg.name}]", "map",
                    f"must return one value per vertex; for 0 vertices got shape {probe.shape}",
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
        for i, agg in enumerate(aggs):
            total = per_worker[0][i]
            for partials in per_worker[1:]:
                total = agg.combine(total, partials[i])
            value = total[()] if total.ndim == 0 else total
            self.globals[agg.name] = agg.finalize(value) if agg.finalize else value

    # ============================================================ exchange
    def exchange(self, outbox: dict[tuple[int, int], tuple[Any, np.ndarray]], shared: Callable[[], Any] | None = None) -> Any:
        """Deliver messages between parts.

        ``outbox[(p, q)]`` is ``(payload, local)``: the payload for part ``q``
        and the local numbers (in ``p``) of the vertices it describes.
        Returns, per receiving part, ``(sender part, message)`` sorted by
        sender; pass each message to :meth:`_received`.  When ``shared`` is
        given, the value it returns (called after this round's bytes are
        counted) travels to every worker in the same round, and ``(inbox,
        [value of worker 0, 1, ...])`` is returned.
        """
        start = time.perf_counter()
        self._bytes += sum(payload_bytes(v) for (p, q), (v, _) in outbox.items() if p != q)
        wire = {
            key: (payload, self.parts[key[0]].gid[local]) if self.debug else payload
            for key, (payload, local) in outbox.items()
        }
        if self.backend.size > 1:
            per_worker: list[dict] = [{} for _ in range(self.backend.size)]
            for (p, q), message in wire.items():
                per_worker[int(self.part_owner[q])][(p, q)] = message
            me = self.backend.rank
            self._worker_bytes += sum(
                payload_bytes(outbox[key][0]) for w, d in enumerate(per_worker) if w != me for key in d
            )
            value = shared() if shared is not None else None
            for d in per_worker:
                d["\0shared"] = value
            batches = self.backend.alltoall(per_worker)
            everyone = [batch.pop("\0shared") for batch in batches]
            received: dict = {}
            for batch in batches:
                received.update(batch)
        else:
            received, everyone = wire, [shared() if shared is not None else None]
        inbox: dict[int, list[tuple[int, Any]]] = defaultdict(list)
        for (p, q) in sorted(received):
            inbox[q].append((p, received[(p, q)]))
        self._exchange_seconds += time.perf_counter() - start
        return inbox if shared is None else (inbox, everyone)

    def _received(self, message: Any, part: Part, local: np.ndarray, stage: str, sender: int) -> Any:
        """The payload of ``message``, checked against the vertices ``local`` the receiver expects.

        Always: every array holds one value per expected vertex.  In debug
        mode: the sender's vertex numbers equal the receiver's.  Either
        failure means master and mirrors disagree (on the active set or the
        mirror lists), an engine bug that must not give a silently wrong value.
        """
        if self.debug:
            message, gids = message
            mine = part.gid[local]
            if gids.shape != mine.shape or not np.array_equal(gids, mine):
                differ = _first_difference(gids, mine)
                raise EngineError(
                    f"superstep {self.step}, {stage}: part {sender} sent values for vertices "
                    f"{_preview(gids)} but part {part.index} expected {_preview(mine)}{differ}"
                )
        arrays = message.values() if isinstance(message, dict) else (message,)
        for values in arrays:
            if len(values) != local.size:
                raise EngineError(
                    f"superstep {self.step}, {stage}: part {sender} sent {len(values)} values to part "
                    f"{part.index}, which expected {local.size}; the two parts disagree on which of "
                    "their shared vertices are active (run with debug=True to see which)"
                )
        return message

    # ============================================================= helpers
    def count_active(self) -> int:
        """Active vertices over all workers (each counted at its master)."""
        return int(self.backend.allreduce(np.array(self._local_active(), dtype=np.int64), np.add))

    def _local_active(self) -> int:
        return sum(int(np.count_nonzero(self.active[p][: part.num_masters])) for p, part in self.parts.items())

    def _active_list(self, p: int) -> np.ndarray | None:
        """Active local vertices of part p, or None when all are active."""
        active = self.active[p]
        return None if active.all() else np.flatnonzero(active)

    def _edge_view(self, part: Part, eidx: np.ndarray, direction: EdgeSet, method: str, writable: bool) -> EdgeView:
        src_l, dst_l = part.esrc[eidx], part.edst[eidx]
        owner = (self.program, method)
        return EdgeView(
            lambda: part.gid[src_l],
            lambda: part.gid[dst_l],
            FieldMap(part.edata, eidx, eidx.size, owner, "edge", writable=writable),
            FieldMap(part.vdata, src_l, eidx.size, owner, "vertex", writable=False),
            FieldMap(part.vdata, dst_l, eidx.size, owner, "vertex", writable=False),
            direction,
            self.globals_view,
            self.n,
            self.step,
        )

    # ============================================================= results
    def collect(self) -> tuple[dict[int, dict[str, np.ndarray]], dict[int, dict[str, np.ndarray]]]:
        """Master values and edge fields of every held part, for the driver to assemble."""
        vertex = {}
        edge = {}
        for p, part in self.parts.items():
            vertex[p], edges = part.results()
            if edges is not None:
                edge[p] = edges
        return vertex, edge


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
        if any(np.may_share_memory(values, store[other]) for other in written if other != name):
            values = np.array(values)
        safe[name] = values
    for name, values in safe.items():
        store[name][slice(None) if index is None else index] = values


def _active_among(act: np.ndarray | None, local: Any) -> tuple[Any, Any]:
    """Where the *active* vertices among ``local`` sit in the active list ``act``, and which they are.

    Returns ``(positions in act, local numbers)``; with everything active
    (``act`` None) both are ``local`` itself.
    """
    if act is None:
        return local, local
    pos = np.searchsorted(act, local)
    pos = np.minimum(pos, max(act.size - 1, 0))
    hit = act[pos] == local if act.size else np.zeros(local.size, dtype=bool)
    return pos[hit], local[hit]


def _preview(ids: np.ndarray, k: int = 8) -> str:
    """The first ``k`` ids of a list, for messages."""
    shown = ", ".join(str(int(i)) for i in ids[:k])
    return f"[{shown}{', ...' if ids.size > k else ''}] ({ids.size})"


def _first_difference(a: np.ndarray, b: np.ndarray) -> str:
    """Where two id lists first differ, for messages."""
    n = min(a.size, b.size)
    diff = np.flatnonzero(a[:n] != b[:n])
    k = int(diff[0]) if diff.size else n
    got = int(a[k]) if k < a.size else "nothing"
    want = int(b[k]) if k < b.size else "nothing"
    return f"; first difference at position {k}: {got} sent, {want} expected"
