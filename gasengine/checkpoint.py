"""Checkpoints: the whole state of a run between two steps, on disk, and resuming from it.

``run(..., checkpoint_dir=PATH, checkpoint_every=k)`` writes a checkpoint
after every k-th superstep (sweep, round) that the run goes on from;
``resume=True`` starts from the newest valid checkpoint in ``PATH`` (and
from the beginning when there is none).  The engine loop is the same for
every engine and backend: worker 0 collects every worker's share and
writes it (:func:`save`); the driver reads it back (:func:`latest`) and
starts the run from it as from any initial state.

What a checkpoint holds, in global vertex and edge numbers (so a run may
resume on another number of parts or workers):

* every vertex field (masters' values; mirrors are copies) and edge field;
* the active set, and the scheduler's contents with their keys (the
  asynchronous engine; delta-stepping's waiting buckets);
* every aggregator's value and history, the updates counted so far, the
  step counter and the steps' statistics; the "random state" of the engine
  is its seed and the step counter (the random scheduler and this package's
  samplers draw from ``(seed, vertex, counter)`` hashes, no generator state);
* the partition assignment (one file per cut, beside the checkpoints).

The format executes no code when read: ``ckpt-<step>.npz`` (numpy arrays,
``allow_pickle=False``) and ``ckpt-<step>.json`` (format version, SHA-256 of
the npz, the identity of the run, the kinds of the aggregator values).
Both are written atomically (a temporary file opened ``O_EXCL |
O_NOFOLLOW`` with the user's umask, fsync, rename, fsync of the directory),
the npz first: a checkpoint without its JSON, or whose npz does not match
the JSON's hash, is half-written and ignored.  After each write only the
last :data:`KEEP` checkpoints remain.

Resume refuses, with :class:`CheckpointError`, a checkpoint of another
graph (arcs and fields), program (class and parameters), set of
aggregators, engine (name, consistency, scheduler, batch size, seed) or
format version.

Examples
--------
>>> import tempfile
>>> from algorithms import PageRankProgram
>>> from gasengine import Graph, run
>>> g = Graph([0, 0, 1, 2, 3], [1, 2, 2, 0, 0])
>>> folder = tempfile.mkdtemp()
>>> r = run(PageRankProgram(tol=1e-12), g, checkpoint_dir=folder, checkpoint_every=5, max_supersteps=12)
>>> sorted(p.name for p in Path(folder).glob("ckpt-*.json"))
['ckpt-000000005.json', 'ckpt-000000010.json']
>>> again = run(PageRankProgram(tol=1e-12), g, checkpoint_dir=folder, resume=True, max_supersteps=12)
>>> again.resumed_from, bool((again.field("rank") == r.field("rank")).all())
(10, True)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from .errors import GasEngineError
from .files import write_file_safely
from .ragged import Ragged
from .result import StepStats
from .shm import process_alive

#: Version of the on-disk format; a checkpoint of another version is refused.
FORMAT_VERSION = 1
#: Checkpoints kept in a directory after each write.
KEEP = 2

_NAME = re.compile(r"^ckpt-(\d{9})\.json$")


class CheckpointError(GasEngineError, ValueError):
    """A checkpoint cannot be resumed from (another graph, program, engine or format), or cannot be written."""


# ================================================================ identity
def digest(*chunks: bytes | str | np.ndarray) -> str:
    """A short hex digest of ``chunks`` (BLAKE2b, 16 bytes)."""
    h = hashlib.blake2b(digest_size=16)
    for chunk in chunks:
        # an ndarray is a buffer (numpy's stubs say so on Python 3.12+ only)
        h.update(chunk.encode() if isinstance(chunk, str) else chunk)  # type: ignore[arg-type]
    return h.hexdigest()


def _array_digest(values: Any) -> str:
    if isinstance(values, Ragged):
        return "ragged:" + digest(_array_digest(values.ptr), _array_digest(values.values))
    a = np.ascontiguousarray(values)
    return digest(str(a.dtype), str(a.shape), a.view(np.uint8).reshape(-1) if a.size else b"")


def describe(value: Any, depth: int = 0) -> str:
    """A canonical text of ``value`` (a program's or aggregator's parameters) that is the same in every process.

    Arrays are replaced by their digest, functions by their qualified name,
    objects by their class and attributes; memory addresses never appear.

    Examples
    --------
    >>> describe({"tol": 1e-10, "w": np.arange(3)}) == describe({"w": np.arange(3), "tol": 1e-10})
    True
    """
    if isinstance(value, (np.ndarray, Ragged)):
        return f"array({_array_digest(value)})"
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        return repr(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(map(describe, value)) if isinstance(value, (set, frozenset)) else map(describe, value)
        return f"{type(value).__name__}({', '.join(items)})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{describe(k)}: {describe(v, depth)}" for k, v in sorted(value.items(), key=str)) + "}"
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '?')}.{value.__qualname__}"
    if depth < 4 and hasattr(value, "__dict__"):
        return f"{type(value).__qualname__}({describe(vars(value), depth + 1)})"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def run_identity(graph: Any, program: Any, aggregators: tuple, engine: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint must share with the run that resumes from it (JSON-able).

    ``engine`` holds the engine's options (name, consistency, scheduler,
    batch size, seed).  The number of parts and workers are not part of it:
    a run may resume on others (its sums then differ only by rounding).
    """
    from .cache import arcs_fingerprint

    graph_fields = [f"v:{k}:{_array_digest(v)}" for k, v in sorted(graph.vertex_data.items())]
    graph_fields += [f"e:{k}:{_array_digest(v)}" for k, v in sorted(graph.edge_data.items())]
    params = describe(vars(program)) if hasattr(program, "__dict__") else ""
    cls = type(program)
    return {
        "graph": {
            "vertices": int(graph.num_vertices),
            "edges": int(graph.num_edges),
            "directed": bool(graph.directed),
            "digest": digest(str(arcs_fingerprint(graph)), str(graph.directed), *graph_fields),
        },
        "program": {"class": f"{cls.__module__}.{cls.__qualname__}", "digest": digest(params)},
        "aggregators": [f"{agg.name}:{digest(describe(vars(agg)))}" for agg in aggregators],
        "engine": dict(engine),
    }


def _mismatch(found: dict[str, Any], want: dict[str, Any]) -> str | None:
    """What differs between a checkpoint's identity and the run's, in words (None: nothing)."""
    if found["graph"] != want["graph"]:
        g = found["graph"]
        return (
            f"another graph ({g['vertices']} vertices, {g['edges']} edges{'' if g['directed'] else ', undirected'}"
            f"; this run's has {want['graph']['vertices']} and {want['graph']['edges']}, or other arcs or fields)"
        )
    if found["program"]["class"] != want["program"]["class"]:
        return f"another program ({found['program']['class']}; this run's is {want['program']['class']})"
    if found["program"] != want["program"]:
        return f"{want['program']['class']} with other parameters"
    if found["aggregators"] != want["aggregators"]:
        return "other aggregators (names or parameters)"
    if found["engine"] != want["engine"]:
        diff = [
            f"{k}={found['engine'][k]!r} (now {want['engine'][k]!r})"
            for k in want["engine"]
            if found["engine"].get(k) != want["engine"][k]
        ]
        return "another engine: " + ", ".join(diff)
    return None


# =================================================================== state
@dataclass
class EngineState:
    """What an engine holds besides the fields, over all workers (global vertex numbers)."""

    step: int = 0
    total_updates: int = 0
    globals: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    last_aggregated: dict[str, int] = field(default_factory=dict)
    #: Masters that are active (will run in the next step).
    active: np.ndarray | None = None
    #: Masters waiting in a scheduler or a delta-stepping bucket, and their keys.
    waiting: np.ndarray | None = None
    keys: np.ndarray | None = None
    #: The sweep scheduler's position.
    cursor: float = -1.0
    edge_fields_written: set[str] = field(default_factory=set)
    stats: list[StepStats] = field(default_factory=list)
    #: The engine's count of vertices still to run (what its loop goes on with).
    next_count: int = 0


@dataclass
class Checkpoint:
    """A checkpoint read back from disk."""

    path: Path
    step: int
    vertex_fields: dict[str, Any]
    edge_fields: dict[str, np.ndarray]
    state: EngineState
    #: The part of every edge and the number of parts of the cut it ran on.
    edge_part: np.ndarray
    num_parts: int


@dataclass(frozen=True)
class CheckpointPlan:
    """Where and how often a run writes checkpoints (it travels to worker 0 in the job).

    ``cut_file`` is the name, in ``directory``, of the run's partition
    assignment (written by the driver before the run starts).
    """

    directory: str
    every: int
    identity: dict[str, Any]
    num_edges: int
    num_parts: int
    cut_file: str

    def due(self, step: int) -> bool:
        """Whether a checkpoint is written after ``step``."""
        return step > 0 and step % self.every == 0


# =================================================================== write
def prepare(
    directory: os.PathLike | str, every: int, identity: dict[str, Any], edge_part: np.ndarray, num_parts: int
) -> CheckpointPlan:
    """The plan of a run that writes checkpoints: creates ``directory`` and writes the cut's assignment once."""
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CheckpointError(f"cannot create the checkpoint directory {folder}: {exc.strerror or exc}") from None
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint_dir {folder} is not a directory")
    part = np.ascontiguousarray(edge_part)
    name = f"cut-{digest(part.view(np.uint8).reshape(-1) if part.size else b'', str(num_parts))}.npz"
    if not _is_regular(folder / name):
        buffer = io.BytesIO()
        np.savez(buffer, edge_part=part, num_parts=np.array(num_parts))
        write_atomically(folder / name, buffer.getvalue())
    return CheckpointPlan(str(folder), int(every), identity, int(part.size), int(num_parts), name)


def save(plan: CheckpointPlan, shares: list[tuple], state: EngineState, num_vertices: int) -> Path:
    """Write one checkpoint (npz, then its JSON) and prune the directory to the last :data:`KEEP`.

    ``shares`` hold, per part, ``(vertex results, edge results or None,
    active masters, waiting masters and their keys or None)`` as
    :meth:`~gasengine.step.GASStep.write_checkpoint` collects them (global
    numbers); ``state`` the rest.  Returns the JSON's path.
    """
    from .parts import assemble

    vertex_fields = assemble({i: s[0] for i, s in enumerate(shares)}, "\0gid", num_vertices, {})
    edge_fields = assemble({i: s[1] for i, s in enumerate(shares) if s[1] is not None}, "\0eid", plan.num_edges, {})
    state.active = np.zeros(num_vertices, dtype=bool)
    for share in shares:
        state.active[share[2]] = True
    if any(share[3] is not None for share in shares):
        state.waiting, state.keys = np.zeros(num_vertices, dtype=bool), np.zeros(num_vertices)
        for share in shares:
            if share[3] is not None:
                state.waiting[share[3][0]] = True
                state.keys[share[3][0]] = share[3][1]
    folder = Path(plan.directory)
    arrays, meta = _encode(vertex_fields, edge_fields, state)
    stem = f"ckpt-{state.step:09d}"
    npz = folder / f"{stem}.npz"
    sha = _write_npz(npz, arrays)
    meta.update(
        {
            "format": "gasengine-checkpoint",
            "version": FORMAT_VERSION,
            "step": state.step,
            "npz": npz.name,
            "sha256": sha,
            "cut": plan.cut_file,
            "num_parts": plan.num_parts,
            "num_vertices": num_vertices,
            "identity": plan.identity,
        }
    )
    path = folder / f"{stem}.json"
    write_atomically(path, json.dumps(meta, indent=1, sort_keys=True).encode())
    prune(folder, KEEP)
    return path


def _write_npz(path: Path, arrays: dict[str, Any]) -> str:
    """Write ``arrays`` as an npz at ``path`` atomically; returns the file's SHA-256."""

    def fill(f: Any) -> None:
        np.savez(f, **arrays)

    write_atomically(path, fill)
    h = hashlib.sha256()
    with _open_regular(path) as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def write_atomically(path: Path, data: bytes | Any) -> None:
    """Make ``path`` hold ``data`` (bytes, or a function writing to a binary file) all at once.

    Through :func:`gasengine.files.write_file_safely`: a temporary file
    beside ``path`` (``O_EXCL | O_NOFOLLOW``, mode 0666 less the umask),
    synced and renamed over it; a ``path`` that is a symlink is refused.
    Errors become a :class:`CheckpointError` naming the file.
    """
    try:
        write_file_safely(path, data if callable(data) else lambda f: f.write(data))
    except OSError as exc:
        raise CheckpointError(f"cannot write the checkpoint file {path}: {exc.strerror or exc}") from None


def prune(folder: Path, keep: int) -> None:
    """Remove all but the newest ``keep`` checkpoints, their orphaned npz files, leftover temporary
    files of dead writers, and cut files no kept checkpoint names."""
    found = sorted(_steps(folder), reverse=True)
    kept = found[:keep]
    for step in found[keep:]:
        for suffix in (".json", ".npz"):  # the JSON first: without it the npz is never read
            (folder / f"ckpt-{step:09d}{suffix}").unlink(missing_ok=True)
    names = {f"ckpt-{s:09d}.npz" for s in kept}
    cuts = set()
    for step in kept:
        meta = _read_json(folder / f"ckpt-{step:09d}.json")
        if meta is not None:
            cuts.add(meta.get("cut"))
    newest = max(kept, default=-1)
    for entry in folder.iterdir():
        name = entry.name
        if name.startswith("ckpt-") and name.endswith(".npz") and name not in names:
            step = int(name[5:14]) if name[5:14].isdigit() else -1
            if step < newest:  # newer ones may be a checkpoint being written
                entry.unlink(missing_ok=True)
        elif name.startswith(".") and name.endswith(".tmp") and not _writer_alive(name):
            entry.unlink(missing_ok=True)
        elif (
            name.startswith("cut-")
            and name.endswith(".npz")
            and kept
            and name not in cuts
            and entry.stat().st_mtime < (folder / f"ckpt-{newest:09d}.json").stat().st_mtime
        ):
            entry.unlink(missing_ok=True)  # a newer one may be the cut of a run that has not written yet


def _writer_alive(tmp_name: str) -> bool:
    """Whether the process that named a temporary file ``.<name>.<pid>.<random>.tmp`` is still writing it."""
    try:
        pid = int(tmp_name.split(".")[-3])
    except (IndexError, ValueError):
        return False
    return pid != os.getpid() and process_alive(pid)


# ==================================================================== read
def latest(directory: os.PathLike | str, identity: dict[str, Any]) -> Checkpoint | None:
    """The newest valid checkpoint in ``directory`` (None if there is none).

    Half-written or corrupt checkpoints are skipped (an older one is used);
    a whole checkpoint of another run raises :class:`CheckpointError`.
    """
    folder = Path(directory)
    if not folder.is_dir():
        return None
    for step in sorted(_steps(folder), reverse=True):
        path = folder / f"ckpt-{step:09d}.json"
        meta = _read_json(path)
        if meta is None or meta.get("format") != "gasengine-checkpoint":
            continue
        if meta.get("version") != FORMAT_VERSION:
            raise CheckpointError(
                f"{path}: format version {meta.get('version')!r}; this gasengine reads version "
                f"{FORMAT_VERSION} (resume with the version that wrote it, or remove the directory)"
            )
        why = _mismatch(meta["identity"], identity)
        if why is not None:
            raise CheckpointError(
                f"{path} is a checkpoint of {why}: refusing to resume from it "
                "(use another checkpoint_dir, or remove this one)"
            )
        loaded = _load(folder, meta)
        if loaded is not None:
            return loaded
    return None


def _steps(folder: Path) -> list[int]:
    return [int(m.group(1)) for entry in folder.iterdir() if (m := _NAME.match(entry.name))]


def _is_regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _open_regular(path: Path) -> Any:
    """``path`` opened for reading, refusing symlinks (``O_NOFOLLOW``)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    return os.fdopen(fd, "rb")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        with _open_regular(path) as f:
            meta = json.loads(f.read().decode())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("identity"), dict) else None


def _load(folder: Path, meta: dict[str, Any]) -> Checkpoint | None:
    """The checkpoint ``meta`` describes, or None when its files are missing, altered or unreadable."""
    try:
        with _open_regular(folder / meta["npz"]) as f:
            blob = f.read()
        if hashlib.sha256(blob).hexdigest() != meta["sha256"]:
            return None
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        with _open_regular(folder / meta["cut"]) as f, np.load(io.BytesIO(f.read()), allow_pickle=False) as cut:
            edge_part, num_parts = cut["edge_part"], int(cut["num_parts"])
        vertex_fields, edge_fields, state = _decode(arrays, meta)
    except (OSError, KeyError, ValueError, TypeError):
        return None
    return Checkpoint(
        folder / f"ckpt-{meta['step']:09d}.json",
        int(meta["step"]),
        vertex_fields,
        edge_fields,
        state,
        edge_part,
        num_parts,
    )


# ================================================================ encoding
_STAT_FIELDS = [f.name for f in fields(StepStats)]


def _encode(
    vertex_fields: dict[str, Any], edge_fields: dict[str, np.ndarray], state: EngineState
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Arrays for the npz and metadata for the JSON of one checkpoint."""
    arrays: dict[str, np.ndarray] = {}
    ragged = []
    for name, values in vertex_fields.items():
        if isinstance(values, Ragged):
            arrays[f"vertex_ptr/{name}"], arrays[f"vertex/{name}"] = values.ptr, values.values
            ragged.append(name)
        else:
            arrays[f"vertex/{name}"] = np.asarray(values)
    arrays.update({f"edge/{name}": np.asarray(values) for name, values in edge_fields.items()})
    for name, mask in (("active", state.active), ("waiting", state.waiting)):
        if mask is not None:
            arrays[f"state/{name}"] = np.flatnonzero(mask).astype(np.int64)
    if state.keys is not None:
        arrays["state/keys"] = state.keys[state.waiting]
    kinds: dict[str, str] = {}
    for name, value in state.globals.items():
        kinds[name] = _put_value(arrays, f"global/{name}", value, name)
    history: dict[str, list] = {}
    for name, entries in state.history.items():
        history[name] = []
        for i, (step, value) in enumerate(entries):
            history[name].append([int(step), _put_value(arrays, f"history/{name}/{i}", value, name)])
    for column in _STAT_FIELDS:
        arrays[f"stats/{column}"] = np.array([getattr(row, column) for row in state.stats])
    meta = {
        "ragged": ragged,
        "globals": kinds,
        "history": history,
        "total_updates": int(state.total_updates),
        "last_aggregated": {k: int(v) for k, v in state.last_aggregated.items()},
        "cursor": float(state.cursor),
        "edge_fields_written": sorted(state.edge_fields_written),
        "has_active": state.active is not None,
        "has_waiting": state.waiting is not None,
        "next_count": int(state.next_count),
    }
    return arrays, meta


def _put_value(arrays: dict[str, np.ndarray], key: str, value: Any, name: str) -> str:
    """Store an aggregator value as an array; returns its kind (how to turn the array back into it)."""
    if isinstance(value, np.ndarray):
        kind = "array"
    elif isinstance(value, np.generic):
        kind = "numpy"
    elif isinstance(value, (bool, int, float, complex, str, list, tuple)):
        kind = type(value).__name__
    elif value is None:
        kind = "none"
    else:
        raise CheckpointError(
            f"aggregator {name!r}: its value, a {type(value).__name__}, cannot be checkpointed "
            "(checkpoints hold numbers, strings and arrays of them, never pickles)"
        )
    array = np.asarray(0 if value is None else value)
    if array.dtype == object:
        raise CheckpointError(
            f"aggregator {name!r}: its value mixes types numpy cannot hold in one array; "
            "it cannot be checkpointed without pickling"
        )
    arrays[key] = array
    return kind


def _get_value(array: np.ndarray, kind: str) -> Any:
    if kind == "array":
        return array
    if kind == "numpy":
        return array[()]
    if kind == "none":
        return None
    if kind in ("list", "tuple"):
        return array.tolist() if kind == "list" else tuple(array.tolist())
    return {"bool": bool, "int": int, "float": float, "complex": complex, "str": str}[kind](array[()])


def _decode(
    arrays: dict[str, np.ndarray], meta: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, np.ndarray], EngineState]:
    ragged = set(meta["ragged"])
    vertex_fields: dict[str, Any] = {}
    for key, values in arrays.items():
        if key.startswith("vertex/"):
            name = key[len("vertex/") :]
            vertex_fields[name] = Ragged(arrays[f"vertex_ptr/{name}"], values) if name in ragged else values
    edge_fields = {key[len("edge/") :]: v for key, v in arrays.items() if key.startswith("edge/")}
    n = int(meta["num_vertices"])

    def mask(name: str) -> np.ndarray | None:
        if not meta[f"has_{name}"]:
            return None
        out = np.zeros(n, dtype=bool)
        out[arrays[f"state/{name}"]] = True
        return out

    waiting = mask("waiting")
    keys = None
    if waiting is not None:
        keys = np.zeros(n)
        keys[arrays["state/waiting"]] = arrays["state/keys"]
    columns = {c: arrays[f"stats/{c}"].tolist() for c in _STAT_FIELDS}
    stats = [StepStats(**{c: columns[c][i] for c in _STAT_FIELDS}) for i in range(len(columns["superstep"]))]
    state = EngineState(
        step=int(meta["step"]),
        total_updates=int(meta["total_updates"]),
        globals={name: _get_value(arrays[f"global/{name}"], kind) for name, kind in meta["globals"].items()},
        history={
            name: [(step, _get_value(arrays[f"history/{name}/{i}"], kind)) for i, (step, kind) in enumerate(rows)]
            for name, rows in meta["history"].items()
        },
        last_aggregated=dict(meta["last_aggregated"]),
        active=mask("active"),
        waiting=waiting,
        keys=keys,
        cursor=float(meta["cursor"]),
        edge_fields_written=set(meta["edge_fields_written"]),
        stats=stats,
        next_count=int(meta["next_count"]),
    )
    return vertex_fields, edge_fields, state
