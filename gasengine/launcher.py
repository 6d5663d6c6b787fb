"""What every multi-worker backend does outside the engine loop (DESIGN §4).

A backend's *transport* (:class:`~gasengine.backends.base.Backend`) only moves
data between workers.  Around it, a *launcher* places the parts on workers,
starts the workers, watches them, collects their results and reports their
failures.  How workers are started and watched differs — processes forked by
the driver (:mod:`gasengine.backends.processes`), ranks started by
``mpiexec`` (:mod:`gasengine.backends.mpi_launch`) — but these pieces are
the same for both:

* :func:`place_parts` — which worker holds which part;
* :class:`EngineJob` — everything a worker needs to build the same engine,
  small enough to pickle;
* :func:`run_engine` — the body every worker runs on the parts it holds;
* :class:`FailureReport` — a failure in a worker as plain data, turned back
  into an exception in the driver (:class:`WorkerProgramError` or
  :class:`~gasengine.errors.WorkerFailed`) whose message reads like the local
  backend's;
* :class:`RunOutput` — what the driver hands back to :func:`gasengine.run`.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backends.base import Backend
from .errors import GasEngineError, ProgramError, WorkerFailed
from .parts import Part
from .ragged import Ragged


def place_parts(num_parts: int, workers: int) -> np.ndarray:
    """The worker of every part: round robin, so workers hold equally many parts (±1).

    Examples
    --------
    >>> place_parts(5, 2).tolist()
    [0, 1, 0, 1, 0]
    """
    if workers < 1 or num_parts < workers:
        raise ValueError(f"cannot place {num_parts} parts on {workers} workers: every worker needs a part")
    return np.arange(num_parts, dtype=np.int64) % workers


@dataclass
class EngineJob:
    """Everything every worker needs to build the same engine (pickled with dill to reach it).

    Attributes
    ----------
    size : int
        Number of workers.
    part_owner : ndarray
        Worker of every part (:func:`place_parts`).
    program, aggregators
        The vertex program and every sync operation.
    num_vertices : int
    max_supersteps : int or None
    chunk_bytes : int
    report_progress : bool
        Whether worker 0 reports ``(superstep, active count)`` after each superstep.
    debug : bool
    master_of : ndarray or None
        Master part of every vertex (programs that read or write non-neighbours).
    engine : EngineSpec or None
        Which engine, with its options (None: the synchronous engine).
    checkpoints : CheckpointPlan or None
        Where and how often worker 0 writes checkpoints.
    resume : EngineState or None
        The state of the checkpoint the run resumes from (the parts already hold its fields).
    deadline : float or None
        ``time.time()`` after which the run stops at the end of a step (``timeout``).
    """

    size: int
    part_owner: np.ndarray
    program: Any
    aggregators: tuple
    num_vertices: int
    max_supersteps: int | None
    chunk_bytes: int
    report_progress: bool = False
    debug: bool = False
    master_of: np.ndarray | None = None
    engine: Any = None
    checkpoints: Any = None
    resume: Any = None
    deadline: float | None = None

    def parts_of(self, rank: int) -> list[int]:
        """The parts worker ``rank`` holds, in order."""
        return np.flatnonzero(self.part_owner == rank).tolist()


@dataclass
class WorkerOutcome:
    """What one worker's engine run produced, besides the fields of its parts."""

    stats: list
    converged: bool
    #: ``(globals, aggregator history)`` — worker 0 only (every worker holds the same).
    finals: tuple[dict, dict] | None
    #: Edge fields a scatter wrote in this worker's parts.
    edge_fields_written: set[str] = field(default_factory=set)
    #: Per part, its masters' rows of every ragged vertex field (no shared memory holds them).
    ragged: dict[int, dict[str, Any]] = field(default_factory=dict)
    timed_out: bool = False
    #: The compiled kernels the worker held at the end (:mod:`gasengine.compiled`), for the driver to load.
    kernels: list = field(default_factory=list)


def run_engine(
    job: EngineJob, rank: int, parts: list[Part], active: dict[int, np.ndarray], backend: Backend, progress: Any = None
) -> WorkerOutcome:
    """The body of every worker: build the job's engine over ``parts`` and run it.

    ``active[p]`` is part ``p``'s initial active flag per local vertex;
    ``progress(step, count)`` is called on worker 0 only.
    """
    from .engines import EngineSpec

    engine = (job.engine or EngineSpec()).build(
        job.program,
        parts,
        job.part_owner,
        backend,
        job.num_vertices,
        job.aggregators,
        active,
        job.chunk_bytes,
        job.debug,
        job.master_of,
    )
    prepare_engine(engine, job.checkpoints, job.resume, job.deadline)
    stats, converged = engine.run(job.max_supersteps, progress if rank == 0 else None)
    finals = (dict(engine.globals), engine.history) if rank == 0 else None
    ragged = {
        part.index: {k: v[part.masters] for k, v in part.vdata.items() if isinstance(v, Ragged)} for part in parts
    }
    return WorkerOutcome(stats, converged, finals, set(engine.edge_fields_written), ragged, engine.timed_out)


def prepare_engine(engine: Any, checkpoints: Any, resume: Any, deadline: float | None) -> None:
    """Give a built engine the run's checkpoint plan, the state it resumes from and its deadline."""
    engine.checkpoints = checkpoints
    engine.deadline = deadline
    if resume is not None:
        engine.resume_from(resume)


@dataclass
class RunOutput:
    """A finished multi-worker run, as the driver returns it to :func:`gasengine.run`.

    ``vertex[p]`` / ``edge[p]`` are part ``p``'s results (:meth:`Part.results`).
    """

    stats: list
    converged: bool
    globals_: tuple[dict, dict]
    vertex: dict[int, dict[str, np.ndarray]]
    edge: dict[int, dict[str, np.ndarray]]
    edge_fields_written: set[str]
    #: Bytes the workers' transports really sent (headers and metadata included; 0 when not counted).
    bytes_sent: int = 0
    timed_out: bool = False


@dataclass(frozen=True)
class FailureReport:
    """A worker's failure as plain data (it travels to the driver as a message).

    ``kind`` is ``"program"`` (the vertex program raised: ``what`` is
    ``(program name, method, message)``) or ``"crash"`` (anything else:
    ``what`` is ``"Type: message"``).

    Examples
    --------
    >>> try:
    ...     raise ProgramError("Boom", "apply", "RuntimeError: cursed")
    ... except ProgramError as exc:
    ...     report = FailureReport.of(1, exc)
    >>> str(report.error()).splitlines()[0]
    'Boom.apply: RuntimeError: cursed (in worker 1)'
    """

    rank: int
    kind: str
    what: Any
    traceback_text: str = ""

    @classmethod
    def of(cls, rank: int, exc: BaseException) -> FailureReport:
        """The report of ``exc``, raised in worker ``rank``.

        Call it in the ``except`` block: it reads the traceback.
        """
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if isinstance(exc, ProgramError):
            # the parts the driver needs to rebuild the error as the local backend words it
            return cls(rank, "program", (exc.program_name, exc.method, program_message(exc)), tb)
        return cls(rank, "crash", f"{type(exc).__name__}: {exc}", tb)

    def error(self) -> GasEngineError:
        """The exception the driver raises for this failure."""
        if self.kind == "program":
            return WorkerProgramError(self.rank, *self.what, self.traceback_text)
        return WorkerFailed(self.rank, self.what, self.traceback_text)


def first_failure(reports: list[FailureReport]) -> FailureReport:
    """The report the driver raises when several workers failed at once: the lowest rank's program error,
    else the lowest rank's crash (a program error is the cause; a crash may be its consequence)."""
    return min(reports, key=lambda r: (r.kind != "program", r.rank))


def program_message(exc: ProgramError) -> str:
    """A ProgramError's message without its ``Class.method: `` prefix."""
    text = str(exc)
    prefix = f"{exc.program_name}.{exc.method}: "
    return text.removeprefix(prefix)


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
