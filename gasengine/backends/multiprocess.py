"""Worker processes over shared memory (``backend="multiprocess"``).

The driver packs every part (edges, replicas, fields, mirror lists) into a
shared-memory segment and starts one process per worker with the
``multiprocess`` package (dill pickles lambdas and notebook-defined
programs).  Each worker maps its parts, runs the same :class:`SyncEngine`
loop as the local backend, and exchanges through :class:`MultiprocessBackend`:

* bulk arrays go into the sender's **mailbox** segment (two of them,
  alternating by round, because a fast worker can be at most one round ahead
  of a slow one), and only a small note — where the arrays are — travels
  through the receiver's queue;
* small values (allreduce scalars, signals of tiny graphs) ride inside the note.

The driver waits on the workers' result pipes *and* their process sentinels,
so a worker that dies is noticed at once; on any failure, on Ctrl-C and on
success alike it stops every worker and removes every segment of the run.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import multiprocess as mp
import numpy as np
from multiprocess.connection import wait

from ..errors import ProgramError, WorkerFailed
from ..parts import Allocate, Part
from ..shm import (
    ArraySpec,
    Segment,
    flatten_arrays,
    layout,
    new_run_prefix,
    remove_orphaned_segments,
    remove_segments,
    restore_arrays,
    unpack,
)
from .base import Backend

#: Arrays smaller than this travel inside the note instead of shared memory.
INLINE_BYTES = 4096
#: How often a blocked worker checks that its driver is still alive.
PARENT_CHECK_SECONDS = 1.0


class MultiprocessBackend(Backend):
    """Collectives among worker processes: notes through queues, arrays through shared memory."""

    def __init__(self, rank: int, size: int, inboxes: list[Any], prefix: str, parent_pid: int):
        self.rank = rank
        self.size = size
        self._inboxes = inboxes
        self._prefix = prefix
        self._parent = parent_pid
        self._round = 0
        self._pending: dict[tuple[int, int], Any] = {}
        self._mailbox: list[Segment | None] = [None, None]
        self._generation = 0
        self._attached: dict[str, Segment] = {}

    def alltoall(self, send: list[Any]) -> list[Any]:
        self._round += 1
        parity = self._round % 2
        arrays: list[list[np.ndarray]] = [[] for _ in range(self.size)]
        notes = [None if w == self.rank else flatten_arrays(send[w], arrays[w], INLINE_BYTES) for w in range(self.size)]
        specs = self._write_mailbox(parity, arrays)
        name = self._mailbox[parity].name if self._mailbox[parity] is not None else None
        for w in range(self.size):
            if w != self.rank:
                self._inboxes[w].put((self._round, self.rank, name, specs[w], notes[w]))
        received: list[Any] = [None] * self.size
        received[self.rank] = send[self.rank]
        for _ in range(self.size - 1):
            sender, seg_name, arr_specs, note = self._next_note()
            got = [self._segment(seg_name).array(s).copy() for s in arr_specs] if arr_specs else []
            received[sender] = restore_arrays(note, got)
        return received

    def allreduce(self, value: np.ndarray, op: np.ufunc) -> np.ndarray:
        values = self.alltoall([value] * self.size)
        total = np.asarray(values[0])
        for v in values[1:]:  # rank order: every worker folds identically
            total = op(total, v)
        return total

    def bcast(self, value: Any, root: int = 0) -> Any:
        return self.alltoall([value if self.rank == root else None] * self.size)[root]

    def barrier(self) -> None:
        self.alltoall([None] * self.size)

    # ------------------------------------------------------------ internals
    def _write_mailbox(self, parity: int, arrays: list[list[np.ndarray]]) -> list[list[ArraySpec]]:
        """Copy every outgoing array into this round's mailbox; returns where each went, per worker."""
        flat = {(w, i): a for w, group in enumerate(arrays) for i, a in enumerate(group)}
        where, need = layout(flat)
        if flat:
            seg = self._mailbox[parity]
            if seg is None or seg.size < need:
                if seg is not None:
                    seg.unlink()
                self._generation += 1
                capacity = max(need * 2, 1 << 16)
                seg = Segment.create(f"{self._prefix}mbox-{self.rank}-{parity}-{self._generation}", capacity)
                self._mailbox[parity] = seg
            for key, a in flat.items():
                seg.array(where[key])[...] = a
        return [[where[(w, i)] for i in range(len(group))] for w, group in enumerate(arrays)]

    def _next_note(self) -> tuple[int, str, list[ArraySpec], Any]:
        """The next note of the current round (notes of the next round are kept)."""
        for key in list(self._pending):
            if key[0] == self._round:
                return self._pending.pop(key)
        while True:
            try:
                rnd, sender, name, specs, note = self._inboxes[self.rank].get(timeout=PARENT_CHECK_SECONDS)
            except queue.Empty:
                if os.getppid() != self._parent:  # driver gone: do not linger as an orphan
                    os._exit(3)
                continue
            if rnd == self._round:
                return sender, name, specs, note
            self._pending[(rnd, sender)] = (sender, name, specs, note)

    def _segment(self, name: str) -> Segment:
        seg = self._attached.get(name)
        if seg is None:
            # a sender grows its mailbox under a new name; forget its older ones
            stem = name.rsplit("-", 1)[0]
            for old in [k for k in self._attached if k.rsplit("-", 1)[0] == stem]:
                del self._attached[old]
            seg = self._attached[name] = Segment.attach(name)
        return seg


# ====================================================================== parts
def publish(part: Part, arrays: dict[str, np.ndarray]) -> None:
    """Copy a part's final fields into its shared segment (apply may have swapped arrays)."""
    for name, values in part.vdata.items():
        target = arrays[f"v:{name}"]
        if values is not target:
            target[...] = values
    for name, values in part.edata.items():
        target = arrays[f"e:{name}"]
        if values is not target:
            target[...] = values


@dataclass
class WorkerJob:
    """Everything a worker needs, small enough to pickle."""

    rank: int
    size: int
    prefix: str
    parent_pid: int
    parts: dict[int, tuple[str, dict[str, ArraySpec]]]
    part_owner: np.ndarray
    program: Any
    aggregators: tuple
    num_vertices: int
    max_supersteps: int | None
    chunk_bytes: int
    report_progress: bool


def worker_main(job: WorkerJob, inboxes: list[Any], conn: Any) -> None:
    """Body of a worker process: map parts, run the engine, publish, report."""
    from ..sync_engine import SyncEngine

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    _die_with_parent(job.parent_pid)
    try:
        segments = {p: Segment.attach(name) for p, (name, _) in job.parts.items()}
        arrays = {p: unpack(segments[p], specs) for p, (_, specs) in job.parts.items()}
        parts = [Part.from_arrays(p, arrays[p]) for p in job.parts]
        backend = MultiprocessBackend(job.rank, job.size, inboxes, job.prefix, job.parent_pid)
        active = {p: arrays[p]["active"].copy() for p in job.parts}
        engine = SyncEngine(job.program, parts, job.part_owner, backend, job.num_vertices, job.aggregators, active, job.chunk_bytes)
        progress = None
        if job.report_progress and job.rank == 0:
            progress = lambda step, count: conn.send(("progress", step, count))  # noqa: E731
        stats, converged = engine.run(job.max_supersteps, progress)
        for part in parts:
            publish(part, arrays[part.index])
        # Peers may still be reading our last notes: flush them before saying done
        # (a queue's feeder thread would otherwise die with this process).
        for q in inboxes:
            q.close()
            q.join_thread()
        conn.send(("done", job.rank, stats, converged, dict(engine.globals) if job.rank == 0 else None))
    except BaseException as exc:  # report everything, including SystemExit
        for q in inboxes:
            q.cancel_join_thread()  # the run is over for everyone; exit promptly
        kind = "program" if isinstance(exc, ProgramError) else "crash"
        try:
            conn.send(("error", job.rank, kind, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        except Exception:
            pass
    finally:
        conn.close()


def _die_with_parent(parent_pid: int) -> None:
    """Have the kernel kill this worker when its driver dies, whatever the worker is doing.

    Linux only (``prctl(PR_SET_PDEATHSIG)``); elsewhere a blocked worker still
    notices a dead driver within ``PARENT_CHECK_SECONDS`` while waiting for notes.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:  # the driver died before prctl took effect
        os._exit(3)


class WorkerProgramError(WorkerFailed, ProgramError):
    """A vertex program raised inside a worker; the message carries its traceback."""

    def __init__(self, worker: int, message: str, traceback_text: str):
        WorkerFailed.__init__(self, worker, message, traceback_text)


def start_method() -> str:
    """``fork`` where available (fast start; workers still map data by name), else ``spawn``.

    Override with the environment variable ``GASENGINE_START_METHOD``.
    """
    wanted = os.environ.get("GASENGINE_START_METHOD")
    if wanted:
        return wanted
    return "fork" if sys.platform.startswith("linux") else "spawn"


def run_workers(
    program: Any,
    make_parts: Callable[[Allocate], Iterable[Part]],
    num_parts: int,
    active: np.ndarray,
    workers: int,
    num_vertices: int,
    aggregators: tuple,
    max_supersteps: int | None,
    chunk_bytes: int,
    progress: Any = None,
) -> tuple[list, bool, dict, dict[int, dict[str, np.ndarray]], dict[int, dict[str, np.ndarray]]]:
    """Run the engine in ``workers`` processes; returns stats, converged, globals and per-part results.

    ``make_parts(allocate)`` builds the parts into memory from ``allocate``
    (:func:`gasengine.parts.iter_parts`); here that memory is one shared
    segment per part, so the driver never holds a private copy of a part.
    """
    remove_orphaned_segments()  # left by a driver that was killed outright
    ctx = mp.get_context(start_method())
    prefix = new_run_prefix()
    part_owner = np.arange(num_parts, dtype=np.int64) % workers
    procs: list[Any] = []
    conns: list[Any] = []
    inboxes = [ctx.Queue() for _ in range(workers)]
    packed: dict[int, tuple[Segment, dict[str, ArraySpec]]] = {}

    def allocate(index: int, shapes: dict[str, tuple[tuple[int, ...], np.dtype]]) -> dict[str, np.ndarray]:
        specs, size = layout({**shapes, "active": (shapes["gid"][0], np.dtype(bool))})
        seg = Segment.create(f"{prefix}part-{index}", size)
        packed[index] = (seg, specs)
        return unpack(seg, specs)

    try:
        for part in make_parts(allocate):
            unpack(*packed[part.index])["active"][:] = active[part.gid]
            del part
        for rank in range(workers):
            job = WorkerJob(
                rank, workers, prefix, os.getpid(),
                {p: (packed[p][0].name, packed[p][1]) for p in packed if part_owner[p] == rank},
                part_owner, program, aggregators, num_vertices, max_supersteps, chunk_bytes, progress is not None,
            )
            here, there = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=worker_main, args=(job, inboxes, there), name=f"gasengine-worker-{rank}", daemon=True)
            proc.start()
            there.close()
            procs.append(proc)
            conns.append(here)
        done = _watch(procs, conns, progress)
        stats, converged, globals_ = done[0][0], done[0][1], done[0][2]
        vertex, edge = {}, {}
        for p, (seg, specs) in packed.items():
            vertex[p], edges = Part.from_arrays(p, unpack(seg, specs)).results()
            if edges is not None:
                edge[p] = edges
        return stats, converged, globals_, vertex, edge
    finally:
        _stop(procs)
        for c in conns:
            c.close()
        for q in inboxes:
            q.close()
            q.join_thread()
        remove_segments(prefix)


def _watch(procs: list[Any], conns: list[Any], progress: Any) -> dict[int, tuple]:
    """Wait for every worker's result; raise WorkerFailed as soon as one fails or dies."""
    done: dict[int, tuple] = {}
    rank_of_conn = {id(c): r for r, c in enumerate(conns)}
    rank_of_sentinel = {p.sentinel: r for r, p in enumerate(procs)}
    while len(done) < len(procs):
        ready = wait([c for r, c in enumerate(conns) if r not in done] + [p.sentinel for r, p in enumerate(procs) if r not in done])
        for obj in ready:
            if obj in rank_of_sentinel:
                rank = rank_of_sentinel[obj]
                if rank in done or conns[rank].poll():
                    continue  # its last message is waiting in the pipe; read that instead
                raise _died(rank, procs[rank])
            rank = rank_of_conn[id(obj)]
            try:
                msg = obj.recv()
            except EOFError:  # the pipe closed first; the sentinel tells why
                raise _died(rank, procs[rank]) from None
            if msg[0] == "progress":
                progress(msg[1], msg[2])
            elif msg[0] == "done":
                done[rank] = msg[2:]
            else:
                _, rank, kind, text, tb = msg
                if kind == "program":
                    raise WorkerProgramError(rank, text, tb)
                raise WorkerFailed(rank, text, tb)
    return done


def _died(rank: int, proc: Any) -> WorkerFailed:
    """The error for a worker that ended without reporting."""
    proc.join(timeout=1)  # reap it, so its exit code is known
    code = proc.exitcode
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
    return WorkerFailed(rank, f"worker process {how} before finishing")


def _stop(procs: list[Any]) -> None:
    """Terminate, then kill, every worker still running; reap all of them."""
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=2)
        if p.is_alive():
            p.kill()
            p.join(timeout=2)
        try:
            p.close()
        except ValueError:
            pass
