"""The multiprocess backend's launcher: worker processes started, watched and stopped by the driver.

The driver builds every part (edges, replicas, fields, mirror lists) straight
into a shared-memory segment of its own and starts one process per worker
with the ``multiprocess`` package (dill pickles lambdas and notebook-defined
programs).  Each worker maps its parts, runs the engine loop
(:func:`gasengine.launcher.run_engine`, the same body as on every backend)
and exchanges through :class:`~gasengine.backends.multiprocess.MultiprocessBackend`.

The driver waits on the workers' result pipes *and* their process sentinels,
so a worker that dies is noticed at once; on any failure, on Ctrl-C, on
SIGTERM and on success alike it stops every worker and removes every segment
of the run.  While the driver cleans up, a further Ctrl-C or SIGTERM waits
until the cleanup is done (see :class:`SignalGuard`).

Errors: a vertex program that raises inside a worker surfaces in the driver
as :class:`~gasengine.launcher.WorkerProgramError` — a
:class:`~gasengine.errors.ProgramError` whose message starts like the local
backend's (``Class.method: ...``) and a :class:`~gasengine.errors.WorkerFailed`
naming the worker and carrying its traceback; a worker that dies or breaks
outside the program is a plain :class:`~gasengine.errors.WorkerFailed`.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import multiprocess as mp
import numpy as np
from multiprocess.connection import wait

from ..compiled import load_kernels, loaded_kernels
from ..errors import WorkerFailed
from ..launcher import EngineJob, FailureReport, RunOutput, WorkerOutcome, run_engine
from ..messages import MessageRefused, dumps, loads
from ..parts import Allocate, Part
from ..ragged import Ragged
from ..shm import (
    ArraySpec,
    Segment,
    layout,
    new_run_prefix,
    remove_orphaned_segments,
    remove_segments,
    unpack,
)
from .multiprocess import MultiprocessBackend

#: Compiled kernels that workers of this process's earlier runs used: the driver loads them before
#: forking the next workers, so that those start with them (:mod:`gasengine.compiled`).
_WORKER_KERNELS: set[tuple[str, str, str]] = set()

#: File descriptors the driver keeps free beyond the pipes it counts: the
#: selector of ``wait``, files numpy or numba open on the way, a log file.
SPARE_FDS = 16


def publish(part: Part, arrays: dict[str, np.ndarray]) -> None:
    """Copy a part's final fields into its shared segment (apply may have swapped arrays)."""
    for name, values in part.vdata.items():
        target = arrays[f"v:{name}"]
        if isinstance(values, Ragged):  # not in the segment: its rows travel back in the outcome
            continue
        if values is not target:
            target[...] = values
    for name, values in part.edata.items():
        target = arrays[f"e:{name}"]
        if values is not target:
            target[...] = values


@dataclass
class WorkerJob:
    """What one worker process needs: the engine job, and where its parts are."""

    rank: int
    prefix: str
    parent_pid: int
    #: Per part, its segment's name and where each array sits in it.
    parts: dict[int, tuple[str, dict[str, ArraySpec]]]
    engine_job: EngineJob
    #: Per part, arrays the worker inherits from the driver (``fork`` only) instead of mapping them.
    inherited: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    #: Per part, its ragged vertex fields (no segment holds them: they travel with the job).
    ragged: dict[int, dict[str, Ragged]] = field(default_factory=dict)


def worker_main(job: WorkerJob, peers: dict[int, Any], conn: Any) -> None:
    """Body of a worker process: map parts, run the engine, publish, report."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    # A forked worker inherits the driver's SIGTERM handler (SignalGuard); the
    # driver stops workers with SIGTERM and they should simply end.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(job.parent_pid)
    try:
        segments = {p: Segment.attach(name) for p, (name, _) in job.parts.items()}
        arrays = {
            p: {**job.inherited.get(p, {}), **job.ragged.get(p, {}), **unpack(segments[p], specs)}
            for p, (_, specs) in job.parts.items()
        }
        parts = [Part.from_arrays(p, arrays[p]) for p in job.parts]
        backend = MultiprocessBackend(job.rank, job.engine_job.size, peers, job.prefix, job.parent_pid)
        active = {p: arrays[p]["active"].copy() for p in job.parts}
        progress = None
        if job.engine_job.report_progress and job.rank == 0:

            def progress(step: int, count: int) -> None:
                conn.send_bytes(dumps(("progress", step, count)))

        outcome = run_engine(job.engine_job, job.rank, parts, active, backend, progress)
        outcome.kernels = sorted(loaded_kernels())
        for part in parts:
            publish(part, arrays[part.index])
        conn.send_bytes(dumps(("done", job.rank, outcome)))
    except BaseException as exc:  # noqa: BLE001 - report everything, including SystemExit
        try:
            conn.send_bytes(dumps(("error", FailureReport.of(job.rank, exc))))
        except Exception:  # noqa: BLE001 - the driver is gone or the pipe broke: it sees the exit
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


def start_method() -> str:
    """``fork`` where available (fast start; workers still map data by name), else ``spawn``.

    Override with the environment variable ``GASENGINE_START_METHOD``.
    """
    wanted = os.environ.get("GASENGINE_START_METHOD")
    if wanted:
        return wanted
    return "fork" if sys.platform.startswith("linux") else "spawn"


def run_workers(
    job: EngineJob,
    make_parts: Callable[[Allocate], Iterable[Part]],
    active: np.ndarray,
    progress: Any = None,
    inherit: bool = False,
) -> RunOutput:
    """Run ``job`` in ``job.size`` worker processes; returns what they computed.

    ``make_parts(allocate)`` builds the parts into memory from ``allocate``
    (:func:`gasengine.parts.iter_parts`); here that memory is one shared
    segment per part, so the driver never holds a private copy of a part.
    With ``inherit`` (only honoured when workers are forked), arrays of a
    built part that are *not* in its segment — the per-edge arrays of a
    cached layout, see :func:`~gasengine.parts.copy_layout` — reach the
    workers through the fork itself: they are read, never written, so the
    pages stay shared and nothing is copied.  ``active`` is the initial
    active flag of every vertex.

    Whatever ends the run — success, a failed worker, Ctrl-C or SIGTERM
    (turned into ``SystemExit(143)`` for the duration of the run, see
    :class:`SignalGuard`) — every worker is stopped and every segment of the
    run removed before this returns or raises.

    Raises
    ------
    ValueError
        If the file-descriptor limit cannot hold the pipes the workers need
        (checked before anything is started).
    WorkerProgramError
        If the vertex program raised in a worker.
    WorkerFailed
        If a worker died or failed outside the program.
    """
    workers = job.size
    check_fd_limit(workers)
    remove_orphaned_segments()  # left by a driver that was killed outright
    ctx = mp.get_context(start_method())
    run = _RunResources(new_run_prefix())
    part_owner = job.part_owner
    packed: dict[int, tuple[Segment, dict[str, ArraySpec]]] = {}
    inherited: dict[int, dict[str, np.ndarray]] = {}
    ragged: dict[int, dict[str, Ragged]] = {}

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
                ragged[part.index] = {k: outside.pop(k) for k in list(outside) if isinstance(outside[k], Ragged)}
                if outside:
                    if not (inherit and ctx.get_start_method() == "fork"):
                        raise ValueError("parts with arrays outside shared memory need forked workers")
                    inherited[part.index] = outside
                del part
            if ctx.get_start_method() == "fork":  # the workers inherit what the driver has loaded (and found)
                load_kernels(_WORKER_KERNELS)
                loaded_kernels()
            # A signal raised between fork and run.procs.append would leave a
            # worker nobody stops: signals wait until every worker is on the list.
            with guard.deferred():
                for rank in range(workers):
                    worker_job = WorkerJob(
                        rank,
                        run.prefix,
                        os.getpid(),
                        {p: (packed[p][0].name, packed[p][1]) for p in packed if part_owner[p] == rank},
                        job,
                        {p: inherited[p] for p in inherited if part_owner[p] == rank},
                        {p: ragged[p] for p in ragged if part_owner[p] == rank},
                    )
                    here, there = ctx.Pipe(duplex=False)
                    run.conns.append(here)
                    peers = {j: link[0] for (i, j), link in run.links.items() if i == rank}
                    peers.update({i: link[1] for (i, j), link in run.links.items() if j == rank})
                    proc = ctx.Process(
                        target=worker_main,
                        args=(worker_job, peers, there),
                        name=f"gasengine-worker-{rank}",
                        daemon=True,
                    )
                    try:
                        proc.start()
                        run.procs.append(proc)
                    finally:
                        there.close()
            done = _watch(run.procs, run.conns, progress)
            for outcome in done.values():
                _WORKER_KERNELS.update(map(tuple, outcome.kernels))
            rows = {p: r for outcome in done.values() for p, r in outcome.ragged.items()}
            vertex, edge = {}, {}
            for p, (seg, specs) in packed.items():
                vertex[p], edges = Part.from_arrays(p, {**inherited.get(p, {}), **unpack(seg, specs)}).results()
                vertex[p].update(rows.get(p, {}))  # the masters' rows of ragged fields, from the workers
                if edges is not None:
                    edge[p] = edges
            first = done[0]
            written = set().union(*(o.edge_fields_written for o in done.values()))
            return RunOutput(
                first.stats, first.converged, first.finals, vertex, edge, written, timed_out=first.timed_out
            )
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

    def __enter__(self) -> Self:
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

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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


def _watch(procs: list[Any], conns: list[Any], progress: Any) -> dict[int, WorkerOutcome]:
    """Wait for every worker's result; raise WorkerFailed as soon as one fails or dies."""
    done: dict[int, WorkerOutcome] = {}
    rank_of_conn = {id(c): r for r, c in enumerate(conns)}
    rank_of_sentinel = {p.sentinel: r for r, p in enumerate(procs)}
    while len(done) < len(procs):
        ready = wait(
            [c for r, c in enumerate(conns) if r not in done]
            + [p.sentinel for r, p in enumerate(procs) if r not in done]
        )
        for obj in ready:
            if obj in rank_of_sentinel:
                rank = rank_of_sentinel[obj]
                if rank in done or conns[rank].poll():
                    continue  # its last message is waiting in the pipe; read that instead
                raise _died(rank, procs[rank])
            rank = rank_of_conn[id(obj)]
            try:
                msg = loads(obj.recv_bytes())  # data only (gasengine.messages): never code from a worker
            except EOFError:  # the pipe closed first; the sentinel tells why
                raise _died(rank, procs[rank]) from None
            except MessageRefused as exc:
                raise WorkerFailed(rank, f"its report could not be read: {exc}") from None
            if msg[0] == "progress":
                progress(msg[1], msg[2])
            elif msg[0] == "done":
                done[rank] = msg[2]
            else:
                raise msg[1].error()  # ("error", FailureReport)
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
