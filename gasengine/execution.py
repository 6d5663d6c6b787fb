"""``gasengine.run``: the one entry point that runs a vertex program on a graph."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from partitioning import VertexCut, partition as cut_graph

from .aggregators import Aggregator
from .backends import LocalBackend
from .graph import Graph
from .parts import build_parts, iter_parts
from .program import OUT, EdgeView, FieldMap, VertexProgram, VertexView, check_program
from .result import Result, StepTable
from .sync_engine import DEFAULT_CHUNK_BYTES, ProgressFn, SyncEngine, call_program

ENGINES = ("sync",)
PLANNED_ENGINES = ("chromatic", "async")
CONSISTENCY_MODELS = ("vertex", "edge", "full")
SCHEDULERS = ("fifo", "priority", "sweep", "random")
BACKENDS = ("local", "multiprocess")
PLANNED_BACKENDS = ("mpi",)


def run(
    program: VertexProgram,
    graph: Graph,
    *,
    engine: str = "sync",
    consistency: str = "edge",
    scheduler: str = "fifo",
    workers: int = 1,
    backend: str | None = None,
    partitions: int | None = None,
    partition: str | np.ndarray | VertexCut | os.PathLike | Any = "hdrf",
    seed: int = 0,
    aggregators: Sequence[Aggregator] = (),
    max_supersteps: int | None = None,
    active: Any = None,
    progress: ProgressFn | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> Result:
    """Run a vertex program on a graph and return the final state.

    Parameters
    ----------
    program : VertexProgram
        The program (an instance).
    graph : Graph
        The data graph; it is not modified.
    engine : {"sync"}
        ``"sync"``: bulk-synchronous GAS (PowerGraph's synchronous engine).
    consistency : {"vertex", "edge", "full"}
        Consistency model; the synchronous engine reads the previous
        superstep's values everywhere, so every model behaves alike there.
    scheduler : {"fifo", "priority", "sweep", "random"}
        Scheduler of the asynchronous engine; ignored by ``"sync"``.
    workers : int
        Number of workers.  Each holds some of the P parts.
    backend : {"local", "multiprocess"}, optional
        How workers run and exchange data: ``"local"`` (every part in this
        process, the deterministic reference) or ``"multiprocess"`` (one
        process per worker, bulk data in shared memory).  Default: local for
        one worker, multiprocess for more.
    partitions : int, optional
        Number of edge partitions P (default: ``workers``).  Results do not
        depend on P.
    partition : str, array, VertexCut or path
        Strategy name from :data:`partitioning.STRATEGIES` (default
        ``"hdrf"``; with one part no strategy runs), a precomputed
        part per edge (array, or ``.npz`` file with an ``edge_part`` array),
        or a :class:`partitioning.VertexCut`.
    seed : int
        Seed of the partitioning strategy.
    aggregators : sequence of Aggregator
        Sync operations in addition to ``program.aggregators``.
    max_supersteps : int, optional
        Stop after this many supersteps (default: no limit).
    active : array_like, optional
        Vertices active at the start (vertex numbers or a bool mask); default all.
    progress : callable, optional
        ``progress(superstep, active_count)`` after each superstep.
    chunk_bytes : int
        Memory bound for one chunk of gathered values.

    Returns
    -------
    Result

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
    _check_choices(engine, consistency, scheduler, workers)
    backend = backend or ("local" if workers == 1 else "multiprocess")
    if backend not in BACKENDS:
        if backend in PLANNED_BACKENDS:
            raise NotImplementedError(f"backend {backend!r} is not available yet; available: {BACKENDS}")
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    if backend == "local" and workers != 1:
        raise ValueError(f"the local backend runs one worker; use backend='multiprocess' for workers={workers}")
    check_program(program)
    if max_supersteps is not None and int(max_supersteps) < 0:
        raise ValueError(f"max_supersteps must be >= 0, got {max_supersteps}")
    num_parts = int(partitions) if partitions is not None else workers
    if num_parts < 1:
        raise ValueError(f"partitions must be >= 1, got {partitions}")

    vertex_fields, edge_fields = initial_fields(program, graph)
    all_aggs = tuple(program.aggregators) + tuple(aggregators)
    _check_unique_names(all_aggs)
    cut = make_cut(graph, partition, num_parts, seed)
    if cut.num_parts < workers:  # checked on the cut: a given assignment fixes its own P
        raise ValueError(f"partitions ({cut.num_parts}) must be >= workers ({workers}): every worker holds at least one part")
    start_active = initial_active(graph, active)
    if backend == "multiprocess":
        from .backends.multiprocess import run_workers

        stats, converged, globals_, vertex_parts, edge_parts = run_workers(
            program, lambda allocate: iter_parts(graph, cut, vertex_fields, edge_fields, allocate),
            cut.num_parts, start_active, workers,
            graph.num_vertices, all_aggs, max_supersteps, chunk_bytes, progress,
        )
    else:
        parts = build_parts(graph, cut, vertex_fields, edge_fields)
        part_active = {p.index: start_active[p.gid] for p in parts}
        engine_ = SyncEngine(
            program,
            parts,
            np.zeros(cut.num_parts, dtype=np.int64),
            LocalBackend(),
            graph.num_vertices,
            all_aggs,
            part_active,
            chunk_bytes,
        )
        stats, converged = engine_.run(max_supersteps, progress)
        vertex_parts, edge_parts = engine_.collect()
        globals_ = engine_.globals
    return Result(
        vertex_data=assemble(vertex_parts, "\0gid", graph.num_vertices, vertex_fields),
        edge_data=assemble(edge_parts, "\0eid", graph.num_edges, edge_fields),
        aggregates=dict(globals_),
        steps=StepTable(stats),
        converged=converged,
        graph=graph,
        engine=engine,
        num_parts=cut.num_parts,
        workers=workers,
    )


def _check_choices(engine: str, consistency: str, scheduler: str, workers: int) -> None:
    if engine not in ENGINES:
        if engine in PLANNED_ENGINES:
            raise NotImplementedError(f"engine {engine!r} is not available yet; available: {ENGINES}")
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    if consistency not in CONSISTENCY_MODELS:
        raise ValueError(f"unknown consistency {consistency!r}; choose one of {CONSISTENCY_MODELS}")
    if scheduler not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {scheduler!r}; choose one of {SCHEDULERS}")
    if int(workers) < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")


def _check_unique_names(aggs: tuple[Aggregator, ...]) -> None:
    names = [a.name for a in aggs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"aggregator names must be unique; repeated: {dupes}")


def initial_fields(program: VertexProgram, graph: Graph) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Run ``program.init`` (and ``init_edges`` if defined) over the whole graph."""
    n, m = graph.num_vertices, graph.num_edges
    vdata = FieldMap(graph.vertex_data, None, n, (program, "init"), "vertex", creatable=True)
    view = VertexView(lambda: np.arange(n), vdata, {}, n, 0, graph=graph)
    call_program(program, "init", view)
    vertex_fields = dict(graph.vertex_data)
    for name, values in vdata.written.items():
        want = graph.vertex_data.get(name)
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
        {},
        n,
        0,
    )
    call_program(program, "init_edges", e)
    for name, values in edata.written.items():
        edge_fields[name] = np.array(np.broadcast_to(values, (m, *values.shape[1:])))
    return vertex_fields, edge_fields


def make_cut(graph: Graph, partition: Any, num_parts: int, seed: int) -> VertexCut:
    """A VertexCut from a strategy name, an assignment array, an ``.npz`` file or a cut."""
    if isinstance(partition, VertexCut):
        if partition.edge_part.size != graph.num_edges or partition.num_vertices != graph.num_vertices:
            raise ValueError("the given VertexCut was made for a different graph")
        return partition
    if isinstance(partition, str) and not partition.endswith(".npz"):
        return cut_graph(graph, num_parts, partition, seed=seed)
    if isinstance(partition, (str, os.PathLike)):
        with np.load(partition, allow_pickle=False) as data:
            if "edge_part" not in data:
                raise ValueError(f"{partition}: no 'edge_part' array in the file (found {list(data)})")
            partition = data["edge_part"]
    assignment = np.asarray(partition)
    if assignment.shape != (graph.num_edges,):
        raise ValueError(f"a partition array needs one part per edge ({graph.num_edges}), got shape {assignment.shape}")
    parts = int(assignment.max()) + 1 if assignment.size else num_parts
    return VertexCut.from_assignment(graph.src, graph.dst, graph.num_vertices, assignment, max(parts, 1), "given")


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


def assemble(pieces: dict[int, dict[str, np.ndarray]], key: str, size: int, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Put per-part arrays back in global order (``key`` holds the global index)."""
    out: dict[str, np.ndarray] = {}
    for piece in pieces.values():
        index = piece[key]
        for name, values in piece.items():
            if name == key:
                continue
            if name not in out:
                out[name] = np.empty((size, *values.shape[1:]), dtype=values.dtype)
            out[name][index] = values
    for name, values in like.items():  # fields of an empty graph
        out.setdefault(name, values.copy())
    return out

