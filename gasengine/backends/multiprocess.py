"""Worker processes over shared memory (``backend="multiprocess"``).

The driver builds every part (edges, replicas, fields, mirror lists) straight
into a shared-memory segment of its own and starts one process per worker with the
``multiprocess`` package (dill pickles lambdas and notebook-defined
programs).  Each worker maps its parts, runs the same :class:`SyncEngine`
loop as the local backend, and exchanges through :class:`MultiprocessBackend`:

* bulk arrays go into the sender's **mailbox** segment (two of them,
  alternating by round, because a fast worker can be at most one round ahead
  of a slow one), and only a small note — where the arrays are — travels
  through the pipe between the two workers, pickled with plain ``pickle``
  (``dill``, which the ``multiprocess`` package uses, costs ten times more
  per message, and a superstep's latency is mostly these messages);
* small values (allreduce scalars, signals of tiny graphs) ride inside the note.

The driver waits on the workers' result pipes *and* their process sentinels,
so a worker that dies is noticed at once; on any failure, on Ctrl-C, on
SIGTERM and on success alike it stops every worker and removes every segment
of the run.  While the driver cleans up, a further Ctrl-C or SIGTERM waits
until the cleanup is done (see :class:`SignalGuard`).

Errors: a vertex program that raises inside a worker surfaces in the driver
as :class:`WorkerProgramError` — a :class:`~gasengine.errors.ProgramError`
whose message starts like the local backend's (``Class.method: ...``) and a
:class:`~gasengine.errors.WorkerFailed` naming the worker and carrying its
traceback; a worker that dies or breaks outside the program is a plain
:class:`~gasengine.errors.WorkerFailed`.
"""

from __future__ import annotations

import math
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dill
import multiprocess as mp
import numpy as np
from multiprocess.connection import wait

from ..errors import GasEngineError, ProgramError, WorkerFailed
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
#: Notes larger than this (pickled) travel through shared memory too; two of
#: them must fit in a pipe's buffer (64 KiB on Linux) so that sends never block.
NOTE_BYTES = 16384
#: How often a blocked worker checks that its driver is still alive.
PARENT_CHECK_SECONDS = 1.0
#: File descriptors the driver keeps free beyond the pipes it counts: the
#: selector of ``wait``, files numpy or numba open on the way, a log file.
SPARE_FDS = 16


class MultiprocessBackend(Backend):
    """Collectives among worker processes: notes through pipes, arrays through shared memory.

    Every pair of workers shares one duplex pipe.  A worker can be at most one
    round ahead of a peer, so a pipe never holds more than two notes, and a
    note is kept under :data:`NOTE_BYTES` (a bigger one travels through the
    mailbox): sends never block, whatever order workers reach a round in.
    """

    def __init__(self, rank: int, size: int, peers: dict[int, Any], prefix: str, parent_pid: int):
        self.rank = rank
        self.size = size
        self._peers = peers
        self._prefix = prefix
        self._parent = parent_pid
        self._round = 0
        self._mailbox: list[Segment | None] = [None, None]
        self._generation = 0
        self._attached: dict[str, Segment] = {}

    def alltoall(self, send: list[Any]) -> list[Any]:
        self._round += 1
        parity = self._round % 2
        arrays: list[list[np.ndarray]] = [[] for _ in range(self.size)]
        notes: dict[int, bytes | None] = {}
        for w in self._peers:
            note = dumps(flatten_arrays(send[w], arrays[w], INLINE_BYTES))
            if len(note) > NOTE_BYTES:  # keep pipes from filling up: the note rides in the mailbox
                arrays[w].append(np.frombuffer(note, dtype=np.uint8))
                note = None
            notes[w] = note
        specs = self._write_mailbox(parity, arrays)
        name = self._mailbox[parity].name if self._mailbox[parity] is not None else None
        for w, conn in self._peers.items():
            conn.send_bytes(dumps((name, specs[w], notes[w])))
        received: list[Any] = [None] * self.size
        received[self.rank] = send[self.rank]
        for sender, (seg_name, arr_specs, note) in self._receive_round().items():
            got = [self._segment(seg_name).array(s).copy() for s in arr_specs] if arr_specs else []
            if note is None:
                note = got.pop().tobytes()
            received[sender] = restore_arrays(loads(note), got)
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

    def _receive_round(self) -> dict[int, tuple]:
        """This round's note from every peer.

        A pipe is FIFO and a peer is at most one round ahead, so the first
        unread note on each pipe belongs to this round.
        """
        waiting = {id(conn): w for w, conn in self._peers.items()}
        got: dict[int, tuple] = {}
        while waiting:
            ready = wait([self._peers[w] for w in waiting.values()], PARENT_CHECK_SECONDS)
            if not ready and os.getppid() != self._parent:  # driver gone: do not linger as an orphan
                os._exit(3)
            for conn in ready:
                try:
                    got[waiting.pop(id(conn))] = loads(conn.recv_bytes())
                except EOFError:  # the peer died; its driver reports that and stops us
                    _wait_to_be_stopped(self._parent)
        return got

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
    debug: bool = False
    master_of: np.ndarray | None = None
    #: Per part, arrays the worker inherits from the driver (``fork`` only) instead of mapping them.
    inherited: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    #: Which engine, with its options (None: the synchronous engine).
    engine: Any = None


def worker_main(job: WorkerJob, peers: dict[int, Any], conn: Any) -> None:
    """Body of a worker process: map parts, run the engine, publish, report."""
    from ..engines import EngineSpec

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    # A forked worker inherits the driver's SIGTERM handler (SignalGuard); the
    # driver stops workers with SIGTERM and they should simply end.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(job.parent_pid)
    try:
        segments = {p: Segment.attach(name) for p, (name, _) in job.parts.items()}
        arrays = {p: {**job.inherited.get(p, {}), **unpack(segments[p], specs)} for p, (_, specs) in job.parts.items()}
        parts = [Part.from_arrays(p, arrays[p]) for p in job.parts]
        backend = MultiprocessBackend(job.rank, job.size, peers, job.prefix, job.parent_pid)
        active = {p: arrays[p]["active"].copy() for p in job.parts}
        engine = (job.engine or EngineSpec()).build(job.program, parts, job.part_owner, backend, job.num_vertices,
                                                    job.aggregators, active, job.chunk_bytes, job.debug, job.master_of)
        progress = None
        if job.report_progress and job.rank == 0:
            progress = lambda step, count: conn.send(("progress", step, count))  # noqa: E731
        stats, converged = engine.run(job.max_supersteps, progress)
        for part in parts:
            publish(part, arrays[part.index])
        finals = (dict(engine.globals), engine.history) if job.rank == 0 else None
        conn.send(("done", job.rank, stats, converged, finals))
    except BaseException as exc:  # report everything, including SystemExit
        if isinstance(exc, ProgramError):
            # the parts the driver needs to rebuild the error as the local backend words it
            what: Any = (exc.program_name, exc.method, _program_message(exc))
            kind = "program"
        else:
            what, kind = f"{type(exc).__name__}: {exc}", "crash"
        try:
            conn.send(("error", job.rank, kind, what, traceback.format_exc()))
        except Exception:
            pass
    finally:
        conn.close()


def _program_message(exc: ProgramError) -> str:
    """A ProgramError's message without its ``Class.method: `` prefix."""
    text = str(exc)
    prefix = f"{exc.program_name}.{exc.method}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _wait_to_be_stopped(parent_pid: int) -> None:
    """Block until the driver stops this worker (or exit if the driver is gone)."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(3)


def dumps(obj: Any) -> bytes:
    """Pickle a note: plain pickle (fast: notes are plain data), dill for what only dill handles."""
    try:
        return b"p" + pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        return b"d" + dill.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def loads(data: bytes) -> Any:
    """Inverse of :func:`dumps`."""
    return (pickle if data[:1] == b"p" else dill).loads(memoryview(data)[1:])


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
    """A vertex program raised inside a worker.

    Both a :class:`~gasengine.errors.ProgramError` (the message starts as the
    local backend's does, ``Class.method: ...``) and a
    :class:`~gasengine.errors.WorkerFailed` (``worker`` and
    ``traceback_text`` say where it happened).

    Examples
    --------
    >>> err = WorkerProgramError(1, "Boom", "apply", "RuntimeError: cursed", "Traceback ...")
    >>> str(err).splitlines()[0]
    'Boom.apply: RuntimeError: cursed (in worker 1)'
    >>> isinstance(err, ProgramError) and isinstance(err, WorkerFailed)
    True
    """

    def __init__(self, worker: int, program_name: str, method: str, message: str, traceback_text: str = ""):
        self.worker = worker
        self.traceback_text = traceback_text
        self.program_name = program_name
        self.method = method
        text = f"{program_name}.{method}: {message} (in worker {worker})"
        if traceback_text:
            text += f"\n--- worker {worker} traceback ---\n" + traceback_text.rstrip()
        # Neither base's constructor: each words the message its own way.
        GasEngineError.__init__(self, text)


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
    debug: bool = False,
    master_of: np.ndarray | None = None,
    inherit: bool = False,
    engine: Any = None,
) -> tuple[list, bool, dict, dict[int, dict[str, np.ndarray]], dict[int, dict[str, np.ndarray]]]:
    """Run the engine in ``workers`` processes; returns stats, converged, (globals, aggregator history) and per-part results.

    ``make_parts(allocate)`` builds the parts into memory from ``allocate``
    (:func:`gasengine.parts.iter_parts`); here that memory is one shared
    segment per part, so the driver never holds a private copy of a part.
    With ``inherit`` (only honoured when workers are forked), arrays of a
    built part that are *not* in its segment — the per-edge arrays of a
    cached layout, see :func:`~gasengine.parts.copy_layout` — reach the
    workers through the fork itself: they are read, never written, so the
    pages stay shared and nothing is copied.

    Whatever ends the run — success, a failed worker, Ctrl-C or SIGTERM
    (turned into ``SystemExit(143)`` for the duration of the run, see
    :class:`SignalGuard`) — every worker is stopped and every segment of the
    run removed before this returns or raises.

    Raises
    ------
    ValueError
        If the file-descriptor limit cannot hold the pipes ``workers`` need
        (checked before anything is started).
    WorkerProgramError
        If the vertex program raised in a worker.
    WorkerFailed
        If a worker died or failed outside the program.
    """
    check_fd_limit(workers)
    remove_orphaned_segments()  # left by a driver that was killed outright
    ctx = mp.get_context(start_method())
    run = _RunResources(new_run_prefix())
    part_owner = np.arange(num_parts, dtype=np.int64) % workers
    packed: dict[int, tuple[Segment, dict[str, ArraySpec]]] = {}
    inherited: dict[int, dict[str, np.ndarray]] = {}

    def allocate(index: int, shapes: dict[str, tuple[tuple[int, ...], np.dtype]]) -> dict[str, np.ndarray]:
        specs, size = layout({**shapes, "active": (shapes["gid"][0], np.dtype(bool))})
        seg = Segment.create(f"{run.prefix}part-{index}", size)
        packed[index] = (seg, specs)
        return unpack(seg, specs)

    with SignalGuard(run.release) as guard:
        try:
            # one duplex pipe per pair of workers: links[(i, j)] = (i's end, j's end)
            for i in range(workers):
                for j in range(i + 1, workers):
                    run.links[(i, j)] = ctx.Pipe(duplex=True)
            for part in make_parts(allocate):
                unpack(*packed[part.index])["active"][:] = active[part.gid]
                in_segment = packed[part.index][1]
                outside = {k: v for k, v in part.arrays().items() if k not in in_segment}
                if outside:
                    if not (inherit and ctx.get_start_method() == "fork"):
                        raise ValueError("parts with arrays outside shared memory need forked workers")
                    inherited[part.index] = outside
                del part
            # A signal raised between fork and run.procs.append would leave a
            # worker nobody stops: signals wait until every worker is on the list.
            with guard.deferred():
                for rank in range(workers):
                    job = WorkerJob(
                        rank, workers, run.prefix, os.getpid(),
                        {p: (packed[p][0].name, packed[p][1]) for p in packed if part_owner[p] == rank},
                        part_owner, program, aggregators, num_vertices, max_supersteps, chunk_bytes, progress is not None,
                        debug, master_of, {p: inherited[p] for p in inherited if part_owner[p] == rank}, engine,
                    )
                    here, there = ctx.Pipe(duplex=False)
                    run.conns.append(here)
                    peers = {j: link[0] for (i, j), link in run.links.items() if i == rank}
                    peers.update({i: link[1] for (i, j), link in run.links.items() if j == rank})
                    proc = ctx.Process(target=worker_main, args=(job, peers, there), name=f"gasengine-worker-{rank}", daemon=True)
                    try:
                        proc.start()
                        run.procs.append(proc)
                    finally:
                        there.close()
            done = _watch(run.procs, run.conns, progress)
            stats, converged, globals_ = done[0][0], done[0][1], done[0][2]
            vertex, edge = {}, {}
            for p, (seg, specs) in packed.items():
                vertex[p], edges = Part.from_arrays(p, {**inherited.get(p, {}), **unpack(seg, specs)}).results()
                if edges is not None:
                    edge[p] = edges
            return stats, converged, globals_, vertex, edge
        finally:
            guard.hold()  # a signal from here on waits until the cleanup is done
            run.release()


class _RunResources:
    """The processes, pipes and segments of one run, released once, in any state."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        self.links: dict[tuple[int, int], tuple[Any, Any]] = {}

    def release(self) -> None:
        """Stop every worker, close every pipe, remove every segment; safe to call again."""
        procs, self.procs = self.procs, []
        _stop(procs)
        while self.conns:
            self.conns.pop().close()
        while self.links:
            for end in self.links.popitem()[1]:
                end.close()
        remove_segments(self.prefix)


class SignalGuard:
    """For the duration of a run: SIGTERM unwinds like Ctrl-C, and no signal cuts the cleanup short.

    In the main thread (the only one where Python runs signal handlers),
    SIGTERM raises ``SystemExit(143)`` (128 + 15, the shell's code for it)
    and SIGINT ``KeyboardInterrupt``, as usual — unless the program already
    has its own handler for them, which is left alone.  The first signal
    switches the guard to *holding* before it raises, as does :meth:`hold`:
    from then on a signal is only recorded, and re-raised by ``__exit__``
    once ``cleanup`` has run (a second Ctrl-C during the cleanup would
    otherwise abort it and leave segments behind).  ``__exit__`` calls
    ``cleanup`` again, for the case where a signal interrupted the caller's
    own cleanup before it could call :meth:`hold`; so ``cleanup`` must be
    safe to call twice.  The previous handlers are restored on exit.

    Examples
    --------
    >>> done = []
    >>> with SignalGuard(lambda: done.append(1)) as guard:
    ...     guard.hold()
    >>> done
    [1]
    """

    def __init__(self, cleanup: Callable[[], None]):
        self._cleanup = cleanup
        self._previous: dict[int, Any] = {}
        self._holding = False
        self._pending: int | None = None

    def __enter__(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for sig, default in ((signal.SIGTERM, signal.SIG_DFL), (signal.SIGINT, signal.default_int_handler)):
                if signal.getsignal(sig) is default:
                    self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def hold(self) -> None:
        """From now on, record signals instead of raising them."""
        self._holding = True

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Record signals while the block runs; raise the first one, if any, once it is done."""
        if self._holding:
            yield
            return
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            if self._pending is not None:
                signum, self._pending = self._pending, None
                self._holding = True  # as in _handle: the unwinding this starts runs the cleanup
                raise _signal_exception(signum)

    def _handle(self, signum: int, frame: Any) -> None:
        if self._holding:
            if self._pending is None:
                self._pending = signum
            return
        self._holding = True  # before raising: the unwinding this starts runs the cleanup
        raise _signal_exception(signum)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._holding = True
        try:
            self._cleanup()
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
            self._previous.clear()
        if self._pending is not None and not isinstance(exc, (KeyboardInterrupt, SystemExit)):
            # the user asked to stop while we cleaned up: that wins over any result or error
            raise _signal_exception(self._pending) from exc


def _signal_exception(signum: int) -> BaseException:
    """What a signal raises in the driver: KeyboardInterrupt for SIGINT, else ``SystemExit(128 + signum)``."""
    if signum == signal.SIGINT:
        return KeyboardInterrupt()
    return SystemExit(128 + signum)


def pipe_fds(workers: int) -> int:
    """File descriptors the driver holds at most while starting ``workers`` workers.

    Both ends of one duplex pipe per pair of workers (the driver keeps them
    until the end), the driver's end of one result pipe per worker and the
    two descriptors ``multiprocess`` keeps per process (its sentinel pipe);
    plus, while a worker starts, the worker's end of its result pipe and the
    two ends ``fork`` closes after it.

    Examples
    --------
    >>> pipe_fds(1), pipe_fds(4)
    (6, 27)
    """
    return workers * (workers - 1) + 3 * workers + 3


def check_fd_limit(workers: int) -> None:
    """Raise ValueError if this process's RLIMIT_NOFILE cannot hold the pipes of ``workers`` workers.

    Checked before any pipe exists: past the limit, creating pipes fails
    half-way with "Too many open files" (the pipes grow with ``workers**2``).

    Examples
    --------
    >>> check_fd_limit(2)
    """
    try:
        import resource
    except ImportError:  # not a POSIX system: no such limit to check
        return
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return
    free = soft - _open_fds() - SPARE_FDS
    if pipe_fds(workers) <= free:
        return
    # the largest w with pipe_fds(w) = (w + 1)**2 + 2 <= free
    fit = max(math.isqrt(max(free - 2, 0)) - 1, 0)
    raise ValueError(
        f"workers={workers} needs {pipe_fds(workers)} file descriptors for its pipes, but this process may open "
        f"{soft} (RLIMIT_NOFILE) and already has {_open_fds()} open: the limit allows at most {fit} workers "
        "(raise it with 'ulimit -n')"
    )


def _open_fds() -> int:
    """How many file descriptors this process has open (0 where that cannot be listed)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return max(len(os.listdir(folder)) - 1, 0)  # listing the folder opens one more
        except OSError:
            continue
    return 0


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
                _, rank, kind, what, tb = msg
                if kind == "program":
                    raise WorkerProgramError(rank, *what, tb)
                raise WorkerFailed(rank, what, tb)
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
