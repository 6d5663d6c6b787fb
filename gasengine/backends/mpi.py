"""The MPI backend (``backend="mpi"``): ranks started by ``mpiexec``, rank 0 the driver.

Start a script or the command line on P ranks, every rank running the same
code::

    mpiexec -n 4 python script.py            # the script calls run(..., backend="mpi")
    mpiexec -n 4 gasengine run pagerank --input web.txt --backend mpi

Roles (the launcher's part; the transport is
:mod:`gasengine.backends.mpi_transport`):

* **rank 0** is the driver and worker 0.  Its call of
  :func:`gasengine.run` loads nothing new: it initialises the fields,
  partitions the graph and builds every part, exactly as the other backends
  do, then starts the run on every rank (:func:`run_ranks`): the job (the
  program, pickled with dill as for worker processes, so lambdas and classes
  defined in the script travel too) goes to every rank, each rank's parts go
  to it, every rank runs the engine loop on its parts, and rank 0 collects
  the results and returns the :class:`~gasengine.Result`.
* **every other rank** takes part in runs rank 0 starts.  Its own call of
  ``run(..., backend="mpi")`` ignores its arguments (the graph and program
  may be ``None`` there), serves one run and returns ``None``
  (:func:`serve_one`); its call of an algorithm function (any function
  decorated with :func:`rank_zero`) serves every run of rank 0's call and
  returns ``None``.  Code that only rank 0 runs — an algorithm function
  and what is done with its answer, say — is served by :func:`serve` on the
  other ranks, which returns when rank 0's program ends; a rank that reaches
  the end of its script serves whatever rank 0 still runs before it exits.

Failures (DESIGN §6): a vertex program that raises on some rank makes every
rank leave the run in the same exchange round (see
:meth:`~gasengine.backends.mpi_transport.MPIBackend.fail`); rank 0 raises
:class:`~gasengine.launcher.WorkerProgramError` carrying that rank's
traceback, exactly as the multiprocess backend does, and the other ranks'
``run`` raises ``SystemExit(1)`` (silently).  An exception nobody catches
on rank 0 is printed there and the other ranks are told to end with status 1
(within :data:`END_WAIT_SECONDS`, else they are aborted); one nobody catches
on another rank, once it has used this module, is printed by that rank and
ends the whole job through ``MPI_Abort`` (left alone, the other ranks would
wait for it forever).  A rank killed outright (SIGKILL, out of memory) is
noticed by ``mpiexec`` (hydra), which ends every rank.
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ParamSpec, TypeVar

import dill
import numpy as np

from ..launcher import EngineJob, FailureReport, RunOutput, first_failure, run_engine
from ..parts import Part
from .mpi_transport import BrokenRound, MPIBackend, PeerFailed

P = ParamSpec("P")
R = TypeVar("R")

#: Longest sleep between polls while a rank waits for rank 0's next command (it may be loading a graph).
COMMAND_NAP_SECONDS = 0.02

#: How long rank 0, ending after an uncaught exception, waits for the other ranks before aborting them
#: (environment variable ``GASENGINE_MPI_END_WAIT_SECONDS``; default 10).
END_WAIT_SECONDS = float(os.environ.get("GASENGINE_MPI_END_WAIT_SECONDS", "10"))

#: Pause between printing an abort's reason and aborting (see :meth:`_World.abort`).
ABORT_GRACE_SECONDS = 0.3

#: Bytes each rank's transport sent while the engine ran, in the last run rank 0 drove (diagnostics:
#: ``{rank: bytes}``; what ``bytes_between_workers`` counts plus headers and metadata, plus aggregators
#: and the engine's other collectives).
last_bytes_sent: dict[int, int] = {}


class _World:
    """This process's view of the MPI job: set up once, on first use."""

    def __init__(self) -> None:
        try:
            from mpi4py import MPI
        except ImportError as exc:
            raise ImportError(
                "backend='mpi' needs mpi4py and an MPI library: pip install 'gasengine[mpi]' "
                "(mpi4py and MPICH from PyPI), then start the program with mpiexec -n P"
            ) from exc
        self.mpi = MPI
        self.rank: int = MPI.COMM_WORLD.Get_rank()
        self.size: int = MPI.COMM_WORLD.Get_size()
        self._comm: Any = None
        self.ended = False
        #: Rank 0 is in a call of run whose command the other ranks have not had yet.
        self.pending = False
        #: The status rank 0 tells the other ranks to end with (1 after an uncaught exception).
        self.exit_status = 0
        #: Calls of :func:`rank_zero` functions rank 0 is inside (only the outermost one says it is done).
        self.depth = 0
        if self.size > 1:
            # atexit runs handlers last-in first-out: this one runs before mpi4py finalises MPI
            atexit.register(self._at_exit)
            self._previous_hook = sys.excepthook
            sys.excepthook = self._excepthook
            _ = self.comm  # at once: it also removes MPICH's shared-memory name as early as is safe

    @property
    def comm(self) -> Any:
        """The job's own communicator (a duplicate of COMM_WORLD: a script's own MPI traffic never mixes with ours).

        Duplicating is collective: every rank does it once, when it first uses this module.
        """
        if self._comm is None:
            comm, request = self.mpi.COMM_WORLD.Idup()
            # polled with naps: a rank that waits here must leave its core to rank 0, still building the parts
            MPIBackend(self.mpi.COMM_WORLD, max_nap=COMMAND_NAP_SECONDS).wait(request)
            self._comm = comm
            # Every rank has initialised MPI (the duplicate is collective), so every rank of this machine
            # has mapped MPICH's shared memory: its name is needed no more, and removed now a killed or
            # aborted job leaves nothing in /dev/shm (MPICH only removes it in MPI_Finalize).
            forget_mpich_segments()
        return self._comm

    def control(self) -> MPIBackend:
        """The transport of command rounds (it naps longer: rank 0 may take minutes between runs)."""
        return MPIBackend(self.comm, max_nap=COMMAND_NAP_SECONDS)

    def abort(self, text: str) -> None:
        """Print ``text`` and end every rank of the job (when the ranks can no longer agree where they are)."""
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        sys.stderr.flush()
        sys.stdout.flush()
        # hydra ends every rank as soon as it hears of the abort, and may do so before its proxy has
        # forwarded what this rank just wrote: a moment's pause lets the message out.
        time.sleep(ABORT_GRACE_SECONDS)
        self.mpi.COMM_WORLD.Abort(1)

    def _excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        self._previous_hook(exc_type, exc, tb)
        if self.rank == 0 and not _out_of_step(exc):
            # Between runs the ranks are in step (a failed run ends on every rank in the same round):
            # the exit handler tells them to end with status 1, and nothing printed is lost to an abort.
            self.exit_status = 1
            return
        # The other ranks may be waiting for this one in a collective: without an abort they would wait forever.
        self.abort(f"gasengine: rank {self.rank} ended by an uncaught {exc_type.__name__}; ending every rank")

    def _at_exit(self) -> None:
        if self.ended:
            return
        try:
            if self.rank == 0:
                self.ended = True
                # After an error a rank busy in a script's own code (or a collective of its own) must not
                # keep rank 0 waiting: past the deadline, the abort ends it.
                wait = None if self.exit_status == 0 else END_WAIT_SECONDS
                MPIBackend(self.comm, max_nap=COMMAND_NAP_SECONDS, give_up_after=wait).bcast(("end", self.exit_status))
            else:
                serve()
        except BaseException as exc:  # noqa: BLE001 - at exit nothing else can report it
            self.abort(f"gasengine: rank {self.rank}: {type(exc).__name__}: {exc}")


def _out_of_step(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) cut an exchange short, leaving the ranks out of step."""
    while exc is not None:
        if isinstance(exc, BrokenRound):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


_world: _World | None = None


def forget_mpich_segments() -> int:
    """Unlink the ``/dev/shm`` names of the MPICH segments this process has mapped; returns how many.

    The memory stays mapped in every rank that has it and is freed when the
    last of them ends, however it ends.
    """
    try:
        with open("/proc/self/maps") as maps:
            names = {line.split()[-1] for line in maps if "/dev/shm/mpich_shm_" in line and "(deleted)" not in line}
    except OSError:  # not Linux: nothing to do
        return 0
    removed = 0
    for name in names:
        try:
            os.unlink(name)
            removed += 1
        except FileNotFoundError:  # another rank of this machine was first
            pass
    return removed


def world() -> _World:
    """The MPI job this process belongs to (MPI is initialised on first use)."""
    global _world  # noqa: PLW0603 - one MPI world per process, made on first use
    if _world is None:
        _world = _World()
    return _world


def rank() -> int:
    """This process's rank (0: the driver).  Without ``mpiexec``, 0.

    The first use of this module on a rank (this call, :func:`serve` or a
    run) initialises MPI and waits until every rank has made its own first
    use: call it early on every rank.

    Examples
    --------
    >>> from gasengine.backends import mpi
    >>> if mpi.rank() == 0:  # doctest: +SKIP
    ...     print(pagerank(graph, backend="mpi")[:5])  # the other ranks serve this run
    """
    return world().rank


def size() -> int:
    """Number of ranks (workers) of the job.  Without ``mpiexec``, 1."""
    return world().size


# ================================================================== rank 0
def run_ranks(job: EngineJob, parts: list[Part], active: np.ndarray, progress: Any = None) -> RunOutput:
    """On rank 0: run ``job`` on every rank of the job; returns what they computed.

    ``parts`` are every part of the run (built by rank 0); each goes to the
    rank ``job.part_owner`` names.  ``active`` is the initial active flag of
    every vertex.

    Raises
    ------
    WorkerProgramError
        If the vertex program raised on some rank (the lowest such rank's error).
    WorkerFailed
        If a rank failed outside the program.
    ValueError
        If the job's program or aggregators cannot be pickled.
    """
    w = world()
    if w.rank != 0:
        raise RuntimeError("run_ranks runs on rank 0 only; other ranks serve (gasengine.backends.mpi.serve)")
    if job.size != w.size:
        raise ValueError(f"the job needs {job.size} workers but mpiexec started {w.size} ranks")
    by_part = {p.index: p for p in parts}
    if w.size > 1:
        command = _command(job)
        w.pending = False
        w.control().bcast(command)
    send = [{p: (by_part[p].arrays(), active[by_part[p].gid]) for p in job.parts_of(r)} for r in range(w.size)]
    result, failures = _session(MPIBackend(w.comm), job, send, progress)
    if failures:
        raise first_failure(failures).error()
    return result


@contextmanager
def driving() -> Iterator[None]:
    """On rank 0, around one call of :func:`gasengine.run`: if the call fails before the run starts on the
    other ranks (a bad option, a graph that does not fit), they are told, so that their own call of
    ``run`` ends too (``SystemExit(1)``) instead of serving the next run in its place."""
    w = world()
    w.pending = True
    try:
        yield
    except BaseException as exc:
        if w.pending and w.size > 1:
            w.pending = False
            w.control().bcast(("abandoned", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        w.pending = False


def _command(job: EngineJob) -> tuple:
    """The message that starts a run: the job pickled with dill, its per-vertex arrays beside it (out of band)."""
    spec = job.engine
    arrays = {"part_owner": job.part_owner, "master_of": job.master_of, "colour": None if spec is None else spec.colour}
    light = replace(job, part_owner=None, master_of=None, engine=None if spec is None else replace(spec, colour=None))
    try:
        pickled = dill.dumps(light, protocol=5)
    except Exception as exc:  # dill raises many kinds
        raise ValueError(
            f"the program {type(job.program).__name__} (or an aggregator) cannot be sent to the other ranks: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return ("run", pickled, arrays)


def _job_of(command: tuple) -> EngineJob:
    _, pickled, arrays = command
    job = dill.loads(pickled)
    engine = None if job.engine is None else replace(job.engine, colour=arrays["colour"])
    return replace(job, part_owner=arrays["part_owner"], master_of=arrays["master_of"], engine=engine)


# ============================================================ every rank
def _session(
    backend: MPIBackend, job: EngineJob | tuple, send: list | None = None, progress: Any = None
) -> tuple[RunOutput | None, list[FailureReport]]:
    """One run, on every rank in step: parts out from rank 0, the engine, results back to rank 0.

    ``job`` is the job itself on rank 0 and the command that carries it
    elsewhere (it is unpickled here, so that a failure to unpickle it is
    reported like any other); ``send`` (rank 0 only) holds every rank's parts.
    Returns rank 0's :class:`RunOutput` (None elsewhere) and the failures
    reported in the run (empty if none).  A failure anywhere ends the run
    on every rank in the same exchange round.
    """
    me, size = backend.rank, backend.size
    try:
        if not isinstance(job, EngineJob):
            job = _job_of(job)
        got = backend.alltoall(send if send is not None else [None] * size)[0]
        parts = [Part.from_arrays(p, arrays) for p, (arrays, _) in got.items()]
        active = {p: flags for p, (_, flags) in got.items()}
        del got
        before = backend.bytes_sent()
        outcome = run_engine(job, me, parts, active, backend, progress)
        engine_bytes = backend.bytes_sent() - before
        outcome.ragged = {}  # ragged rows travel with the results below, not twice
        results = {part.index: part.results() for part in parts}
        back = backend.alltoall([(outcome, results, engine_bytes) if w == 0 else None for w in range(size)])
    except PeerFailed as exc:
        return None, exc.reports
    except BrokenRound:
        world().abort(f"gasengine: rank {me}: {traceback.format_exc()}")
        raise
    except BaseException as exc:  # noqa: BLE001 - a program may raise anything; every rank must hear of it
        return None, backend.fail(FailureReport.of(me, exc))
    if me != 0:
        return None, []
    vertex, edge = {}, {}
    for _, results, _ in back:
        for p, (v, e) in results.items():
            vertex[p] = v
            if e is not None:
                edge[p] = e
    last_bytes_sent.clear()
    last_bytes_sent.update({r: sent for r, (_, _, sent) in enumerate(back)})
    written = set().union(*(o.edge_fields_written for o, _, _ in back))
    return RunOutput(
        outcome.stats,
        outcome.converged,
        outcome.finals,
        vertex,
        edge,
        written,
        sum(last_bytes_sent.values()),
        outcome.timed_out,
    ), []


# ====================================================== the other ranks
def _warm_up() -> None:
    """Load numba's machinery (about a second, once per process) while rank 0 is still building the parts,
    instead of in the first superstep, where every other rank would wait for this one."""
    from ..kernels import count_keys

    count_keys(np.zeros(1, dtype=np.int32), 1)


def serve_one() -> None:
    """On a rank other than 0: take part in the next run rank 0 starts (what ``run`` does there).

    Raises ``SystemExit(1)`` if the run failed (rank 0 reports the error) or
    if rank 0's program ended without starting one.
    """
    w = world()
    _warm_up()
    command = w.control().bcast(None)
    while command[0] == "done":  # rank 0 finished a rank_zero function this rank did not call
        command = w.control().bcast(None)
    if command[0] == "end":
        w.ended = True
        print(f"gasengine: rank {w.rank}: rank 0's program ended without starting this run", file=sys.stderr)
        raise SystemExit(1)
    if command[0] == "abandoned":  # rank 0 raised before the run started, and reports it
        raise SystemExit(1)
    _, failures = _session(MPIBackend(w.comm), command, None)
    if failures:
        raise SystemExit(1)


def serve() -> int:
    """On a rank other than 0: take part in every run rank 0 starts, until rank 0's program ends.

    Returns the exit status rank 0 ended with.  On rank 0 (or without
    ``mpiexec``) it returns 0 at once.

    Examples
    --------
    >>> from gasengine.backends import mpi
    >>> if mpi.rank() == 0:  # doctest: +SKIP
    ...     ranks = pagerank(Graph.load("web.txt"), backend="mpi")
    ... else:
    ...     mpi.serve()
    """
    w = world()
    if w.rank == 0 or w.size == 1 or w.ended:
        return 0
    return int(_serve_runs(w, until_done=False)[1])


def _serve_runs(w: _World, until_done: bool) -> tuple:
    """On a rank other than 0: take part in every run rank 0 starts until its program ends (returns
    ``("end", status)``) or, with ``until_done``, until its call of a :func:`rank_zero` function is done
    (returns ``("done", name)``); a failed run is rank 0's to report."""
    _warm_up()
    control = w.control()
    while True:
        command = control.bcast(None)
        if command[0] == "end":
            w.ended = True
            return command
        if command[0] == "done" and until_done:
            return command
        if command[0] in ("abandoned", "done"):  # a run rank 0 could not start; a function it called alone
            continue
        _session(MPIBackend(w.comm), command, None)


def rank_zero(function: Callable[P, R]) -> Callable[P, R]:
    """Make ``function`` (one that calls :func:`gasengine.run`) callable on every MPI rank alike.

    With ``backend="mpi"`` among its keyword arguments, under ``mpiexec``,
    the body runs on rank 0 only; every other rank takes part in the runs
    it starts and returns ``None`` when it ends — so a script can call the
    function on every rank, passing ``None`` for the graph where it has
    none.  Without ``backend="mpi"`` (or on one rank) it is ``function``
    unchanged.  Every algorithm function of :mod:`algorithms` is one.

    On rank 0 the call tells the other ranks it is done when it returns or
    raises; calls nested inside it (an algorithm function calling another)
    tell nobody.  Every rank must call the same functions in the same order,
    as with :func:`gasengine.run`; a rank that calls none (it only serves,
    at the end of its script, say) lets rank 0's calls go by.

    Examples
    --------
    >>> from gasengine.backends import mpi
    >>> @mpi.rank_zero
    ... def two_runs(graph, **options):
    ...     return run(PageRankProgram(), graph, **options), run(PageRankProgram(tol=1e-3), graph, **options)
    >>> graph = Graph.load("web.txt") if mpi.rank() == 0 else None  # doctest: +SKIP
    >>> answers = two_runs(graph, backend="mpi")  # doctest: +SKIP
    """

    @functools.wraps(function)
    def on_every_rank(*args: P.args, **kwargs: P.kwargs) -> R:
        if kwargs.get("backend") != "mpi":
            return function(*args, **kwargs)
        w = world()
        if w.size == 1:
            return function(*args, **kwargs)
        if w.rank != 0:
            return _serve_function(w, function.__qualname__)  # type: ignore[return-value]
        w.depth += 1
        try:
            return function(*args, **kwargs)
        finally:
            w.depth -= 1
            if w.depth == 0 and not w.ended and not _out_of_step(sys.exc_info()[1]):
                w.control().bcast(("done", function.__qualname__))

    return on_every_rank


def _serve_function(w: _World, name: str) -> None:
    """On a rank other than 0: serve the runs of rank 0's call of a :func:`rank_zero` function, until it is done."""
    command = _serve_runs(w, until_done=True)
    if command[0] == "end":  # rank 0's program ended without that call
        if int(command[1]) == 0:
            print(f"gasengine: rank {w.rank}: rank 0's program ended without calling {name}", file=sys.stderr)
        raise SystemExit(int(command[1]) or 1)
