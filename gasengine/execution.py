"""``gasengine.run``: the one entry point that runs a vertex program on a graph."""

from __future__ import annotations

import difflib
import os
import time
import zipfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from partitioning import STRATEGIES, VertexCut
from partitioning import partition as cut_graph
from partitioning.memory import check_fits

from . import cache as engine_cache
from . import checkpoint
from .aggregators import Aggregator, Globals
from .backends import LocalBackend
from .calls import call_program, debug_default
from .coloring import greedy_coloring
from .engines import ENGINES, EngineSpec
from .graph import Graph
from .kernels import count_keys
from .launcher import EngineJob, RunOutput, place_parts, prepare_engine
from .parts import Part, assemble, build_layouts, copy_layout, iter_parts, with_fields
from .program import (
    IN,
    OUT,
    EdgeView,
    FieldMap,
    VertexProgram,
    VertexView,
    check_pointer_fields,
    check_program,
)
from .ragged import Ragged
from .result import Result, StepTable
from .scheduler import SCHEDULERS
from .step import directions, reads_hot_first
from .sync_engine import DEFAULT_CHUNK_BYTES, ProgressFn

#: Colouring distance the chromatic engine uses for each consistency model (0: one colour).
COLOURING_DISTANCE = {"vertex": 0, "edge": 1, "full": 2}
CONSISTENCY_MODELS = ("vertex", "edge", "full")
BACKENDS = ("local", "multiprocess", "mpi")
PLANNED_BACKENDS: tuple[str, ...] = ()


def run(
    program: VertexProgram,
    graph: Graph,
    *,
    engine: str = "sync",
    consistency: str = "edge",
    scheduler: str = "fifo",
    batch_size: int | None = None,
    workers: int | None = None,
    backend: str | None = None,
    partitions: int | None = None,
    partition: str | np.ndarray | VertexCut | os.PathLike | Any = "hdrf",
    seed: int = 0,
    aggregators: Sequence[Aggregator] = (),
    max_supersteps: int | None = None,
    max_updates: int | None = None,
    active: Any = None,
    progress: ProgressFn | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    debug: bool | None = None,
    cache: bool = True,
    timeout: float | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
) -> Result | None:
    """Run a vertex program on a graph and return the final state.

    Parameters
    ----------
    program : VertexProgram
        The program (an instance).
    graph : Graph
        The data graph; it is not modified.
    engine : {"sync", "chromatic", "async"}
        ``"sync"``: bulk-synchronous GAS (PowerGraph's synchronous engine).
        ``"chromatic"``: colour classes one after another, each reading what
        the earlier ones wrote (Distributed GraphLab's chromatic engine; see
        :mod:`gasengine.chromatic_engine`); ``max_supersteps`` counts sweeps.
        ``"async"``: a scheduler and scope locks, rounds of up to
        ``batch_size`` updates (GraphLab's locking engine; see
        :mod:`gasengine.async_engine`); ``max_supersteps`` counts rounds.
    consistency : {"vertex", "edge", "full"}
        Consistency model.  The chromatic engine colours the graph for it:
        one colour (``"vertex"``), distance-1 (``"edge"``), distance-2
        (``"full"``); the asynchronous engine grants scope locks for it
        (``"vertex"``: none, races are counted as conflicts).  The
        synchronous engine reads the previous superstep's values
        everywhere, so every model behaves alike there.
    scheduler : {"fifo", "sweep", "priority", "random"}
        Order of the asynchronous engine's work (see
        :mod:`gasengine.scheduler`; ``"priority"``: lowest priority first,
        the priorities ``scatter`` returns); ignored by the other engines.
    batch_size : int, optional
        Candidates the asynchronous engine takes per round (>= 1; 1 is the
        sequential execution; default
        :func:`~gasengine.async_engine.default_batch_size`).
    workers : int, optional
        Number of workers (default 1; with ``backend="mpi"``, one per MPI
        rank, which is the only number allowed there).  Each holds some of
        the P parts.
    backend : {"local", "multiprocess", "mpi"}, optional
        How workers run and exchange data: ``"local"`` (every part in this
        process, the deterministic reference), ``"multiprocess"`` (one
        process per worker, bulk data in shared memory) or ``"mpi"`` (one
        worker per rank of a program started with ``mpiexec -n P``; rank 0
        builds the parts and returns the result, every other rank's call
        ignores its arguments, serves the run and returns ``None`` — see
        :mod:`gasengine.backends.mpi` and ``docs/mpi.md``).  Default: local
        for one worker, multiprocess for more.
    partitions : int, optional
        Number of edge partitions P (default: ``workers``, or the number a
        given assignment names).  Results do not depend on P (floating-point
        sums only up to rounding, since their order changes).
    partition : str, array, VertexCut or path
        Strategy name from :data:`partitioning.STRATEGIES` (default
        ``"hdrf"``; with one part no strategy runs), a precomputed
        part per edge (an array, or a path to an ``.npz`` file with an
        ``edge_part`` array and optionally ``num_parts``, as saved by
        ``gasengine partition --save``), or a :class:`partitioning.VertexCut`.
        A given assignment fixes P; ``partitions``, if also given, must agree.
    seed : int
        Seed of the partitioning strategy and of the random scheduler.
    aggregators : sequence of Aggregator
        Sync operations in addition to ``program.aggregators``.
    max_supersteps : int, optional
        Stop after this many supersteps (default: no limit).
    max_updates : int, optional
        Stop after the superstep, sweep or round that brings the number of
        vertex updates to at least this many (the natural budget of the
        asynchronous engine, whose rounds vary in size; default: no limit).
    active : array_like, optional
        Vertices active at the start (vertex numbers or a bool mask); default all.
    progress : callable, optional
        ``progress(superstep, active_count)`` after each superstep.
    chunk_bytes : int
        Memory bound for one chunk of gathered values.
    cache : bool
        Keep the cut and the parts' edge layout with the graph, so that a
        later run on the same cut skips building them (see
        :mod:`gasengine.cache`; ``graph.clear_engine_cache()`` drops them).
        The multiprocess backend copies the cached layouts into the shared
        memory of each run, so the driver then holds them twice during a
        run; ``cache=False`` builds them straight into shared memory.
    debug : bool, optional
        Thorough engine self-checks: messages carry vertex numbers that the
        receiver compares with its own, and mirrors are compared with their
        masters after every superstep (slower; default: the environment
        variable ``GASENGINE_DEBUG``).  A cheap check of message sizes is
        always on; either raises :class:`~gasengine.EngineError`.
    timeout : float, optional
        Seconds of wall-clock time from this call; the run stops cleanly at
        the end of the superstep (sweep, round) in which they passed and
        returns what it has, with ``converged`` and ``timed_out`` saying so
        (with checkpoints, it writes one first, so the run can resume).
    checkpoint_dir : path, optional
        Write checkpoints of the run into this directory (created if
        needed; see :mod:`gasengine.checkpoint`): after every
        ``checkpoint_every``-th superstep (sweep, round), keeping the last two.
    checkpoint_every : int, optional
        Supersteps between checkpoints (default 10 when ``checkpoint_dir`` is given).
    resume : bool
        Start from the newest valid checkpoint in ``checkpoint_dir`` (from
        the beginning if there is none; ``Result.resumed_from`` says which).
        The run must be the same one — graph, program and its parameters,
        aggregators, engine options — or :class:`~gasengine.checkpoint.CheckpointError`
        says what differs; the number of parts and workers may change (the
        checkpoint's cut is reused when the number of parts is the same).
        With the same cut the result equals the uninterrupted run's exactly.

    Returns
    -------
    Result
        ``None`` on the MPI ranks other than 0.

    Examples
    --------
    >>> import numpy as np
    >>> from gasengine import Graph, VertexProgram, IN, run
    >>> class InDegree(VertexProgram):
    ...     gather_edges = IN
    ...     def init(self, v): v.data["deg"] = np.zeros(len(v), dtype=np.int64)
    ...     def gather(self, e): return np.ones(len(e), dtype=np.int64)
    ...     def apply(self, v, acc): v.data["deg"] = acc
    >>> run(InDegree(), Graph([0, 1, 2], [2, 2, 0])).field("deg").tolist()
    [1, 0, 2]
    """
    options = dict(locals())  # the arguments, as given
    # from this call: a deadline every worker can compare its wall clock with
    options["timeout"] = None if timeout is None else time.time() + _seconds("timeout", timeout)
    if backend == "mpi":
        from .backends import mpi

        if mpi.rank() != 0:  # rank 0 drives the run; this rank takes part in it, whatever its arguments
            mpi.serve_one()
            return None
        with mpi.driving():  # the other ranks learn of a run that fails before it starts, too
            return _run(**options)
    return _run(**options)


def _run(
    program: VertexProgram,
    graph: Graph,
    *,
    engine: str,
    consistency: str,
    scheduler: str,
    batch_size: int | None,
    workers: int | None,
    backend: str | None,
    partitions: int | None,
    partition: Any,
    seed: int,
    aggregators: Sequence[Aggregator],
    max_supersteps: int | None,
    max_updates: int | None,
    active: Any,
    progress: ProgressFn | None,
    chunk_bytes: int,
    debug: bool | None,
    cache: bool,
    timeout: float | None,
    checkpoint_dir: Any,
    checkpoint_every: int | None,
    resume: bool,
) -> Result:
    """:func:`run` on this process (on MPI rank 0, the driver's side of the run); ``timeout`` is a deadline."""
    if backend == "mpi":
        from .backends import mpi

        workers = _mpi_workers(workers, mpi.size())
    check_program(program)
    workers = _count("workers", 1 if workers is None else workers, minimum=1)
    _check_choices(engine, consistency, scheduler)
    if batch_size is not None:
        batch_size = _count("batch_size", batch_size, minimum=1)
    backend = backend or ("local" if workers == 1 else "multiprocess")
    _choose("backend", backend, BACKENDS, PLANNED_BACKENDS)
    if backend == "local" and workers != 1:
        raise ValueError(f"the local backend runs one worker; use backend='multiprocess' for workers={workers}")
    if max_supersteps is not None:
        max_supersteps = _count("max_supersteps", max_supersteps, minimum=0)
    if max_updates is not None:
        max_updates = _count("max_updates", max_updates, minimum=0)
    if partitions is not None:
        partitions = _count("partitions", partitions, minimum=1)
    debug = debug_default() if debug is None else bool(debug)
    every = _checkpoint_options(checkpoint_dir, checkpoint_every, resume)

    store = engine_cache.open_cache(graph) if cache else None
    all_aggs = tuple(program.aggregators) + tuple(aggregators)
    _check_unique_names(all_aggs)
    identity = None
    if checkpoint_dir is not None:  # before init: what it sets on the program is not a parameter
        identity = checkpoint.run_identity(
            graph,
            program,
            all_aggs,
            {
                "name": engine,
                "consistency": consistency,
                "scheduler": scheduler,
                "batch_size": batch_size,
                "seed": int(seed),
            },
        )
    # resume needs a checkpoint_dir (checked above), so the identity is there
    restored = checkpoint.latest(checkpoint_dir, identity) if resume and identity is not None else None
    # init runs on a resumed run too (the program may keep what it learns there), its fields then replaced
    vertex_fields, edge_fields = initial_fields(program, graph, store)
    start_active = initial_active(graph, active)
    if restored is not None:
        vertex_fields, edge_fields = restored.vertex_fields, restored.edge_fields
        start_active = restored.state.active  # type: ignore[assignment]  # every checkpoint saves the active set
        if _same_parts(partition, partitions, workers, restored.num_parts):
            partition = restored.edge_part  # the very cut it ran on: the same sums, in the same order
    check_pointer_fields(program, vertex_fields)
    cut, cut_key = cached_cut(graph, partition, partitions, seed, workers, store)
    check_run_memory(graph, cut.num_parts, vertex_fields, edge_fields)
    if cut.num_parts < workers:  # checked on the cut: a given assignment fixes its own P
        raise ValueError(
            f"partitions ({cut.num_parts}) must be >= workers ({workers}): every worker holds at least one part"
        )
    colour = coloring_for(graph, consistency, store) if engine == "chromatic" else None
    spec = EngineSpec(engine, consistency, colour, scheduler, batch_size, int(seed), cut.num_parts, max_updates)
    plan = (
        None if identity is None else checkpoint.prepare(checkpoint_dir, every, identity, cut.edge_part, cut.num_parts)
    )
    resume_state = None if restored is None else restored.state
    master_of = cut.master if program.pointer_reads or program.pointer_writes else None
    if backend == "local":
        layouts = cached_layouts(graph, cut, store, cut_key)
        owned = frozenset(k for k, v in vertex_fields.items() if graph.vertex_data.get(k) is not v)  # made by init
        parts = [with_fields(layout, vertex_fields, edge_fields, owned) for layout in layouts]
        part_active = {p.index: start_active[p.gid] for p in parts}
        engine_ = spec.build(
            program,
            parts,
            np.zeros(cut.num_parts, dtype=np.int64),
            LocalBackend(),
            graph.num_vertices,
            all_aggs,
            part_active,
            chunk_bytes,
            debug,
            cut.master,
        )
        prepare_engine(engine_, plan, resume_state, timeout)
        stats, converged = engine_.run(max_supersteps, progress)
        vertex_parts, edge_parts = engine_.collect()
        out = RunOutput(
            stats,
            converged,
            (engine_.globals, engine_.history),
            vertex_parts,
            edge_parts,
            engine_.edge_fields_written,
            timed_out=engine_.timed_out,
        )
    else:
        job = EngineJob(
            workers,
            place_parts(cut.num_parts, workers),
            program,
            all_aggs,
            graph.num_vertices,
            max_supersteps,
            chunk_bytes,
            progress is not None,
            debug,
            master_of,
            spec,
            plan,
            resume_state,
            timeout,
        )
        if backend == "multiprocess":
            out = _run_multiprocess(
                job, program, graph, cut, cut_key, store, vertex_fields, edge_fields, start_active, progress
            )
        else:
            from .backends import mpi

            layouts = _grouped_layouts(program, graph, cut, store, cut_key)
            parts = [with_fields(layout, vertex_fields, edge_fields) for layout in layouts]
            out = mpi.run_ranks(job, parts, start_active, progress)
    vertex_parts, edge_parts = out.vertex, out.edge
    stats, converged, globals_ = out.stats, out.converged, out.globals_
    changed_edges = out.edge_fields_written
    return Result(
        vertex_data=assemble(
            vertex_parts, "\0gid", graph.num_vertices, vertex_fields, in_order=backend == "local" and cut.num_parts == 1
        ),
        edge_data=final_edge_fields(edge_parts, graph.num_edges, edge_fields, changed_edges),
        aggregates=dict(globals_[0]),
        history={name: list(values) for name, values in globals_[1].items()},
        steps=StepTable(stats),
        converged=converged,
        graph=graph,
        engine=engine,
        num_parts=cut.num_parts,
        workers=workers,
        colors=int(colour.max()) + 1 if colour is not None and colour.size else (1 if colour is not None else 0),
        timed_out=out.timed_out,
        resumed_from=None if restored is None else restored.step,
    )


def _checkpoint_options(directory: Any, every: int | None, resume: bool) -> int:
    """The checkpoint interval, once the checkpoint options are checked against each other."""
    if directory is None:
        if every is not None or resume:
            raise ValueError(
                f"{'resume=True' if resume else 'checkpoint_every'} needs checkpoint_dir "
                "(the directory the checkpoints are in)"
            )
        return 0
    if not isinstance(resume, bool):
        raise TypeError(f"resume must be True or False, got {resume!r}")
    return 10 if every is None else _count("checkpoint_every", every, minimum=1)


def _same_parts(partition: Any, partitions: int | None, workers: int, saved: int) -> bool:
    """Whether a resumed run asks for as many parts as its checkpoint's cut has (and names no cut of its own)."""
    if not isinstance(partition, str):
        return False  # the run gives its own assignment
    return (partitions if partitions is not None else workers) == saved


def _seconds(option: str, value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{option} must be a number of seconds, got {value!r}") from None
    if not seconds > 0:
        raise ValueError(f"{option} must be > 0 seconds, got {value!r}")
    return seconds


def _mpi_workers(workers: int | None, ranks: int) -> int:
    """The number of workers of an MPI run: one per rank, whatever else was asked is an error."""
    if workers is not None and workers != ranks:
        raise ValueError(
            f"backend='mpi' runs one worker per MPI rank: this program runs on {ranks} ranks "
            f"(mpiexec -n {ranks}), but workers={workers} was asked for; leave workers out "
            "or start mpiexec with that many ranks"
        )
    return ranks


def _grouped_layouts(
    program: VertexProgram, graph: Graph, cut: VertexCut, store: engine_cache.GraphCache | None, cut_key: tuple | None
) -> list[Part]:
    """The parts' layouts, with the groupings the program needs built once here (and cached with the
    layouts), not by every worker on every run."""
    layouts = cached_layouts(graph, cut, store, cut_key)
    for layout in layouts:
        layout.csr(IN)
        if OUT in directions(program.gather_edges) + directions(program.scatter_edges):
            layout.neighbours(OUT)
        if reads_hot_first(program, layout):
            layout.hot_first(program.gather_edges)
    return layouts


def _run_multiprocess(
    job: EngineJob,
    program: VertexProgram,
    graph: Graph,
    cut: VertexCut,
    cut_key: tuple | None,
    store: engine_cache.GraphCache | None,
    vertex_fields: dict[str, np.ndarray],
    edge_fields: dict[str, np.ndarray],
    start_active: np.ndarray,
    progress: ProgressFn | None,
) -> RunOutput:
    """The multiprocess backend: parts built into shared memory, then worker processes."""
    from .backends.processes import run_workers, start_method

    if store is not None:  # copying cached layouts into shared memory beats building them there
        layouts = _grouped_layouts(program, graph, cut, store, cut_key)
        fork = start_method() == "fork"  # forked workers read the layouts' edges in place

        def make_parts(allocate):
            return (copy_layout(lay, vertex_fields, edge_fields, allocate, keep_edges=fork) for lay in layouts)
    else:

        def make_parts(allocate):
            return iter_parts(graph, cut, vertex_fields, edge_fields, allocate)

    return run_workers(job, make_parts, start_active, progress, inherit=store is not None)


def coloring_for(graph: Graph, consistency: str, store: engine_cache.GraphCache | None) -> np.ndarray:
    """The colour of every vertex the chromatic engine uses under ``consistency`` (kept in ``store``)."""
    distance = COLOURING_DISTANCE[consistency]
    if distance == 0:
        return np.zeros(graph.num_vertices, dtype=np.int32)

    def colour() -> np.ndarray:
        return greedy_coloring(graph.src, graph.dst, graph.num_vertices, distance)

    return colour() if store is None else store.get(("colouring", distance), colour)


def _check_choices(engine: str, consistency: str, scheduler: str) -> None:
    _choose("engine", engine, ENGINES)
    _choose("consistency", consistency, CONSISTENCY_MODELS)
    _choose("scheduler", scheduler, SCHEDULERS)


def _choose(option: str, value: Any, choices: Sequence[str], planned: Sequence[str] = ()) -> None:
    """Raise unless ``value`` is one of ``choices``; suggest the closest name."""
    if value in choices:
        return
    if value in planned:
        raise NotImplementedError(f"{option} {value!r} is not available yet; available: {', '.join(choices)}")
    raise ValueError(
        f"unknown {option} {value!r}{did_you_mean(value, [*choices, *planned])}; choose one of {', '.join(choices)}"
    )


def did_you_mean(value: Any, choices: Sequence[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or ``""``.

    Examples
    --------
    >>> did_you_mean("chromatc", ["sync", "chromatic", "async"])
    " (did you mean 'chromatic'?)"
    """
    close = difflib.get_close_matches(str(value).lower(), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _count(option: str, value: Any, minimum: int) -> int:
    """An integer option, checked (``2.0`` or ``"3"`` are not counts)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{option} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_unique_names(aggs: tuple[Aggregator, ...]) -> None:
    names = [a.name for a in aggs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"aggregator names must be unique; repeated: {dupes}")


def initial_fields(
    program: VertexProgram, graph: Graph, store: engine_cache.GraphCache | None = None
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run ``program.init`` (and ``init_edges`` if defined) over the whole graph.

    Unweighted degrees asked for in ``init`` are kept in ``store`` (they
    depend on the arcs only).
    """
    n, m = graph.num_vertices, graph.num_edges
    vdata = FieldMap(graph.vertex_data, None, n, (program, "init"), "vertex", creatable=True)
    degrees = None
    if store is not None:

        def degrees(which: str) -> np.ndarray:
            ends = graph.src if which == "out_degree" else graph.dst
            return store.get(("degree", which), lambda: count_keys(ends, n)).copy()

    no_globals = Globals({}, num_vertices=n, step=0)  # no sync operation has run yet; step and n are known
    view = VertexView(lambda: np.arange(n), vdata, no_globals, n, 0, graph=graph, degrees=degrees)
    call_program(program, "init", view)
    vertex_fields: dict[str, Any] = dict(graph.vertex_data)  # arrays, and Ragged fields
    for name, values in vdata.written.items():
        want = graph.vertex_data.get(name)
        if isinstance(values, Ragged):  # FieldMap checked its rows; the run owns a compact copy
            vertex_fields[name] = values.compact()
            continue
        vertex_fields[name] = np.array(
            np.broadcast_to(values, (n, *values.shape[1:])), dtype=values.dtype if want is None else want.dtype
        )
    edge_fields = dict(graph.edge_data)
    owner = (program, "init_edges")
    edata = FieldMap(graph.edge_data, None, m, owner, "edge", creatable=True)
    e = EdgeView(
        graph.src,
        graph.dst,
        edata,
        FieldMap(vertex_fields, graph.src, m, owner, "vertex", writable=False),
        FieldMap(vertex_fields, graph.dst, m, owner, "vertex", writable=False),
        OUT,  # seen from the source: e.vertex is src, e.nbr is dst
        no_globals,
        n,
        0,
    )
    call_program(program, "init_edges", e)
    for name, values in edata.written.items():
        edge_fields[name] = np.array(np.broadcast_to(values, (m, *values.shape[1:])))
    return vertex_fields, edge_fields


def cached_cut(
    graph: Graph,
    partition: Any,
    partitions: int | None,
    seed: int,
    default_parts: int,
    store: engine_cache.GraphCache | None,
) -> tuple[VertexCut, tuple | None]:
    """:func:`make_cut`, kept in the graph's cache ``store`` (see :mod:`gasengine.cache`) when given.

    Returns the cut and the key it is cached under (None when it is not).
    """
    key = _cut_key(partition, partitions, seed, default_parts) if store is not None else None
    if key is None or store is None:  # no store, no key
        return make_cut(graph, partition, partitions, seed, default_parts), None
    return store.get(("cut", *key), lambda: make_cut(graph, partition, partitions, seed, default_parts)), key


def cached_layouts(
    graph: Graph, cut: VertexCut, store: engine_cache.GraphCache | None, cut_key: tuple | None = None
) -> list[Part]:
    """The parts' layouts of ``cut`` (:func:`~gasengine.parts.build_layouts`), kept in ``store`` when given.

    A cut cached under ``cut_key`` keys its layouts too; another cut is
    known by a fingerprint of its assignment and masters.
    """
    if store is None:
        return build_layouts(graph, cut)
    if cut_key is not None:
        key = ("layouts", *cut_key)
    else:
        key = ("layouts", engine_cache.fingerprint(cut.edge_part, cut.master), cut.num_parts)
    return store.get(key, lambda: build_layouts(graph, cut))


def _cut_key(partition: Any, partitions: int | None, seed: int, default_parts: int) -> tuple | None:
    """What identifies a cut request; None when it cannot be told cheaply (it is then not cached)."""
    if isinstance(partition, VertexCut):
        return (
            "given",
            engine_cache.fingerprint(partition.edge_part, partition.master),
            partition.num_parts,
            partitions,
        )
    if isinstance(partition, str) and not _names_file(partition):
        return ("strategy", partition, partitions or default_parts, int(seed))
    if isinstance(partition, (str, os.PathLike)):
        try:
            info = os.stat(partition)
        except OSError:
            return None  # make_cut reports it
        return ("file", os.path.realpath(partition), info.st_mtime_ns, info.st_size, partitions)
    arr = np.asarray(partition)
    if arr.dtype.kind not in "iu":
        return None
    return ("array", engine_cache.fingerprint(arr), arr.shape, partitions)


def make_cut(graph: Graph, partition: Any, partitions: int | None, seed: int, default_parts: int = 1) -> VertexCut:
    """A VertexCut from a strategy name, an assignment array, an ``.npz`` file or a cut.

    ``partitions`` is the number of parts asked for (None: ``default_parts``
    for a strategy, the assignment's own number otherwise); a given
    assignment that disagrees with it is an error, never silently preferred.
    """
    if isinstance(partition, VertexCut):
        if partition.edge_part.size != graph.num_edges or partition.num_vertices != graph.num_vertices:
            raise ValueError("the given VertexCut was made for a different graph")
        _agree(partitions, partition.num_parts, "the given VertexCut")
        return partition
    if isinstance(partition, str) and not _names_file(partition):
        if partition not in STRATEGIES:
            raise ValueError(
                f"unknown partition strategy {partition!r}{did_you_mean(partition, list(STRATEGIES))}; "
                f"choose one of {', '.join(sorted(STRATEGIES))}, or give the path of an assignment saved "
                "by 'gasengine partition --save'"
            )
        return cut_graph(graph, partitions or default_parts, partition, seed=seed)
    stored_parts = None
    where = "the partition array"
    if isinstance(partition, (str, os.PathLike)):
        where = os.fspath(partition)
        partition, stored_parts = load_assignment(where)
    assignment = np.asarray(partition)
    if assignment.shape != (graph.num_edges,):
        raise ValueError(
            f"{where}: a partition needs one part per edge ({graph.num_edges}), got shape {assignment.shape}"
        )
    if assignment.size and assignment.dtype.kind not in "iu":
        raise ValueError(f"{where}: parts must be integers, got dtype {assignment.dtype}")
    named = int(assignment.max()) + 1 if assignment.size else 1
    if stored_parts is not None:
        _agree(partitions, stored_parts, where)
        num_parts = stored_parts
    else:
        num_parts = partitions or named
    if named > num_parts:
        raise ValueError(f"{where} names part {named - 1}, but there are only {num_parts} parts")
    return VertexCut.from_assignment(graph.src, graph.dst, graph.num_vertices, assignment, num_parts, "given")


def _names_file(text: str) -> bool:
    """Whether a ``partition=`` string is a path rather than a strategy name."""
    return text.lower().endswith(".npz") or (text not in STRATEGIES and os.path.isfile(text))


def _agree(partitions: int | None, num_parts: int, where: str) -> None:
    if partitions is not None and partitions != num_parts:
        raise ValueError(f"{where} has {num_parts} parts but partitions={partitions} was asked for")


def load_assignment(path: str) -> tuple[np.ndarray, int | None]:
    """``(edge_part, num_parts or None)`` from an ``.npz`` saved by ``gasengine partition --save``.

    Reads without unpickling anything; a file that is not an ``.npz``
    archive is refused by its first bytes, not reported as "pickled data".
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such partition file")
    if not os.path.isfile(path) or not zipfile.is_zipfile(path):
        raise ValueError(f"{path}: not an .npz archive (expected a file saved by 'gasengine partition --save')")
    try:
        with np.load(path, allow_pickle=False) as data:
            if "edge_part" not in data:
                raise ValueError(f"{path}: no 'edge_part' array in the file (found {list(data)})")
            parts = data["edge_part"]
            stored = int(data["num_parts"]) if "num_parts" in data else None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{path}: unreadable .npz archive: {exc}") from None
    return parts, stored


def check_run_memory(
    graph: Graph, num_parts: int, vertex_fields: dict[str, np.ndarray], edge_fields: dict[str, np.ndarray]
) -> None:
    """Refuse a run whose parts would not fit in memory, before building them.

    The estimate is an upper bound from sizes alone: every vertex field once
    per replica (at most ``n + 2m`` replicas in all), each edge's local
    endpoints, number and fields, and per-part bookkeeping.
    """
    n, m = graph.num_vertices, graph.num_edges
    replicas = n + min(2 * m, n * max(num_parts - 1, 0))
    fixed = [v for v in vertex_fields.values() if not isinstance(v, Ragged)]
    per_replica = 8 + 1 + sum(v.itemsize * int(np.prod(v.shape[1:], dtype=np.int64)) for v in fixed)
    # a ragged field: its row bounds per replica; its values at most once per replica of their row
    per_replica += 16 * (len(vertex_fields) - len(fixed))
    ragged_values = sum(v.nbytes for v in vertex_fields.values() if isinstance(v, Ragged))
    per_edge = 16 + sum(v.itemsize * int(np.prod(v.shape[1:], dtype=np.int64)) for v in edge_fields.values())
    # Python objects of a part at rest measured about 3.6 KiB (30000 parts of a
    # 4-edge graph); doubled for the messages of a superstep.
    per_part = 8192
    total = (
        replicas * per_replica
        + m * per_edge
        + per_part * num_parts
        + ragged_values * min(num_parts, 2 * m // max(n, 1) + 1)
    )
    check_fits(total, f"a run on {num_parts} parts of this graph")


def initial_active(graph: Graph, active: Any) -> np.ndarray:
    """The initial active set as a bool mask over all vertices."""
    n = graph.num_vertices
    if active is None:
        return np.ones(n, dtype=bool)
    arr = np.asarray(active)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"an active mask needs shape ({n},), got {arr.shape}")
        return arr.copy()
    if arr.dtype.kind not in "iu" or (arr.size and (arr.min() < 0 or arr.max() >= n)):
        raise ValueError(f"active must be vertex numbers in 0..{n - 1} or a bool mask")
    mask = np.zeros(n, dtype=bool)
    mask[arr] = True
    return mask


def final_edge_fields(
    pieces: dict[int, dict[str, np.ndarray]], m: int, initial: dict[str, np.ndarray], changed: set[str]
) -> dict[str, np.ndarray]:
    """The edge fields of a result: only those a scatter wrote are put back together from the parts;
    the others are copies of their initial values (a copy, not a scatter through edge numbers)."""
    if not changed:
        return {name: values.copy() for name, values in initial.items()}
    kept = {p: {k: v for k, v in piece.items() if k == "\0eid" or k in changed} for p, piece in pieces.items()}
    out = assemble(kept, "\0eid", m, {k: v for k, v in initial.items() if k in changed})
    out.update({name: values.copy() for name, values in initial.items() if name not in changed})
    return {name: out[name] for name in initial}
