"""The soak: many consecutive runs in one process, and what each leaves behind.

Shared by ``tests/test_soak.py`` (a short soak in the test suite) and
``benchmarks/soak.py`` (200 runs, a table and a verdict).  One *cycle* is
:data:`CYCLE` — algorithms from ``algorithms/`` on every engine and
consistency model, on the local backend and on two worker processes, runs
whose vertex program raises on purpose (in ``gather``, ``apply`` or
``scatter``), runs whose worker process is SIGKILLed mid-run and a run that
runs out of its superstep budget — and run ``i`` of a soak is
``CYCLE[i % len(CYCLE)]``.  After every run :func:`probe` records what this
process holds: open file descriptors, live child processes, its own
shared-memory segments and its resident memory.

Every run is checked too: a run that should succeed gives the same answer
as the first run of the same algorithm and engine (on either backend), a
run that should fail fails with the expected error — a killed worker is a
:class:`~gasengine.WorkerFailed` naming signal 9 — so a soak that "leaks
nothing" because nothing ran cannot pass.

Examples
--------
>>> from tests.soak_mix import soak
>>> rows = soak(3)  # doctest: +SKIP
>>> rows[-1].fds - rows[0].fds  # doctest: +SKIP
0
"""

from __future__ import annotations

import gc
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from algorithms import (
    als,
    connected_components,
    core_number,
    label_propagation,
    pagerank,
    sssp,
    triangles,
)
from gasengine import (
    IN,
    OUT,
    ConvergenceError,
    Graph,
    ProgramError,
    VertexProgram,
    WorkerFailed,
    ratings,
    run,
)
from gasengine.shm import shm_dir

REPO = Path(__file__).resolve().parents[1]
#: The real graph every graph algorithm runs on (1005 vertices, 25,571 arcs; it ships with the repository).
EMAIL = REPO / "examples" / "data" / "email-Eu-core.txt"
#: Worker processes of a multiprocess run.
WORKERS = 2


# ------------------------------------------------------------------ what a run leaves behind
@dataclass(frozen=True)
class Probe:
    """What this process holds after one run (see :func:`probe`)."""

    run: int
    case: str
    outcome: str
    seconds: float
    fds: int
    children: int
    segments: int
    rss_mb: float
    threads: int


def open_fds() -> int:
    """Open file descriptors of this process (``/proc/self/fd``, less the one listing it opens)."""
    return len(os.listdir("/proc/self/fd")) - 1


def live_children() -> list[psutil.Process]:
    """Child processes of this process (any depth) that are still running (zombies excluded)."""
    kids = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                kids.append(child)
        except psutil.NoSuchProcess:
            pass
    return kids


def our_segments() -> list[Path]:
    """Shared-memory segments of runs this process drove.

    Every segment is named ``gasengine-<driver pid>-<run token>-...``
    (:func:`gasengine.shm.new_run_prefix`); other processes' runs are not
    ours to count.
    """
    return sorted(shm_dir().glob(f"gasengine-{os.getpid()}-*"))


def probe(run_index: int, case: str, outcome: str, seconds: float) -> Probe:
    """Measure this process now, after a full garbage collection."""
    gc.collect()
    me = psutil.Process()
    return Probe(
        run_index,
        case,
        outcome,
        round(seconds, 3),
        open_fds(),
        len(live_children()),
        len(our_segments()),
        round(me.memory_info().rss / 2**20, 1),
        me.num_threads(),
    )


def as_dict(row: Probe) -> dict[str, Any]:
    """A probe as plain data (for JSON)."""
    return asdict(row)


# ------------------------------------------------------------------ programs that fail on purpose
class FailsAt(VertexProgram):
    """Counts supersteps in field ``x``; raises ``RuntimeError`` in ``where`` at superstep ``step``.

    Only the batch holding vertex 7 raises, so on two workers one of them
    fails and the other waits in an exchange for a peer that never comes:
    the driver must stop it.
    """

    gather_edges = IN
    combine = np.add
    scatter_edges = OUT

    def __init__(self, where: str, step: int):
        self.where, self.step = where, step

    def _maybe_raise(self, where: str, superstep: int, ids: np.ndarray) -> None:
        if where == self.where and superstep >= self.step and (ids == 7).any():
            raise RuntimeError(f"planned failure in {where} at superstep {superstep}")

    def init(self, v):
        v.data["x"] = np.zeros(len(v))

    def gather(self, e):
        self._maybe_raise("gather", e.superstep, e.vertex)
        return e.nbr_data["x"]

    def apply(self, v, acc):
        self._maybe_raise("apply", v.superstep, v.ids)
        v.data["x"] = v.data["x"] + 1 + 0 * acc
        v.signal()

    def scatter(self, e):
        self._maybe_raise("scatter", e.superstep, e.vertex)


class KillsItsWorker(FailsAt):
    """Like :class:`FailsAt`, but the worker holding vertex 7 SIGKILLs *itself* at superstep ``step``.

    The driver's pid is recorded when the program is made (in the driver);
    the kill happens only in a process whose pid differs from it and whose
    parent it is — a worker — and anywhere else ``apply`` raises instead,
    so a mistake can never kill the driver (the test process).
    """

    def __init__(self, step: int):
        super().__init__("apply", step)
        self.driver = os.getpid()

    def apply(self, v, acc):
        if v.superstep >= self.step and (v.ids == 7).any():
            if os.getpid() == self.driver or os.getppid() != self.driver:
                raise RuntimeError("KillsItsWorker runs in the driver: refusing to kill it")
            os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(5)  # never reached: SIGKILL cannot be caught
        v.data["x"] = v.data["x"] + 1
        v.signal()


# ------------------------------------------------------------------ the inputs, built once
@cache
def email() -> Graph:
    """The email graph, directed."""
    return Graph.load(str(EMAIL))


@cache
def email_undirected() -> Graph:
    """The email graph as an undirected graph."""
    return email().to_undirected()


@cache
def email_weighted() -> Graph:
    """The email graph with reproducible positive weights (for shortest paths)."""
    g = email()
    rng = np.random.default_rng(11)
    return Graph(g.src, g.dst, num_vertices=g.num_vertices, edge_data={"weight": rng.uniform(0.5, 4.0, g.num_edges)})


@cache
def small_ratings() -> Graph:
    """300 users x 200 items, 10% observed, rank-3 ratings plus noise."""
    rng = np.random.default_rng(5)
    users, items = 300, 200
    cells = rng.random((users, items)) < 0.1
    u, i = np.nonzero(cells)
    p, q = rng.normal(size=(users, 3)), rng.normal(size=(items, 3))
    return ratings.from_arrays(u, i, 3 + np.einsum("ij,ij->i", p[u], q[i]) + 0.1 * rng.normal(size=u.size))


# ------------------------------------------------------------------ the cycle
@dataclass(frozen=True)
class Case:
    """One kind of run: ``call(options)`` runs it with the backend options, ``expect`` is how it ends."""

    name: str
    call: Callable[[dict[str, Any]], Any]
    #: "ok", "error" (ProgramError), "killed" (a worker SIGKILLed) or "budget" (ConvergenceError).
    expect: str
    multiprocess: bool
    #: Runs with the same key give the same answer (checked; None: not compared).
    key: str | None = None


def _options(multiprocess: bool) -> dict[str, Any]:
    # the same cut either way (two parts), so both backends run exactly the same supersteps
    return {"workers": WORKERS, "backend": "multiprocess"} if multiprocess else {"partitions": WORKERS}


def _cases() -> list[Case]:
    mp, local = True, False
    every: list[Case] = []

    def ok(name: str, key: str, call: Callable[[dict[str, Any]], Any], where: bool) -> None:
        every.append(Case(f"{name} [{'mp' if where else 'local'}]", call, "ok", where, key))

    ok("pagerank sync", "pagerank-sync", lambda o: pagerank(email(), tol=1e-8, **o), mp)
    ok("connected_components sync", "cc", lambda o: connected_components(email_undirected(), **o), local)
    ok("sssp sync", "sssp", lambda o: sssp(email_weighted(), 0, **o), mp)
    ok("label_propagation sync", "lp", lambda o: label_propagation(email_undirected(), **o), mp)
    ok(
        "k-core chromatic/edge",
        "kcore-chromatic",
        lambda o: core_number(email_undirected(), engine="chromatic", consistency="edge", **o),
        mp,
    )
    ok("triangles sync", "triangles", lambda o: triangles(email_undirected(), **o), mp)
    ok("als sync", "als", lambda o: als(small_ratings(), rank=3, iterations=3, **o).user_factors, mp)
    ok(
        "pagerank async/edge fifo",
        "pagerank-async",
        lambda o: pagerank(email(), tol=1e-6, engine="async", consistency="edge", scheduler="fifo", **o),
        mp,
    )
    ok(
        "sssp async/full priority",
        "sssp-async",
        lambda o: sssp(email_weighted(), 0, engine="async", consistency="full", scheduler="priority", **o),
        local,
    )
    ok(
        "pagerank chromatic/vertex",
        "pagerank-chromatic",
        lambda o: pagerank(email(), tol=1e-8, engine="chromatic", consistency="vertex", **o),
        mp,
    )
    ok("connected_components sync", "cc", lambda o: connected_components(email_undirected(), **o), mp)
    ok("k-core sync", "kcore-sync", lambda o: core_number(email_undirected(), **o), local)
    ok(
        "label_propagation chromatic/full",
        "lp-chromatic",
        lambda o: label_propagation(email_undirected(), engine="chromatic", consistency="full", **o),
        mp,
    )

    def fails(where: str, engine: str, consistency: str, multiprocess: bool) -> None:
        def call(o: dict[str, Any]) -> Any:
            extra = {"batch_size": 64} if engine == "async" else {}
            return run(
                FailsAt(where, 2), email(), engine=engine, consistency=consistency, max_supersteps=50, **extra, **o
            )

        every.append(
            Case(
                f"raises in {where} {engine}/{consistency} [{'mp' if multiprocess else 'local'}]",
                call,
                "error",
                multiprocess,
            )
        )

    fails("apply", "sync", "edge", mp)
    fails("scatter", "chromatic", "edge", mp)
    fails("gather", "async", "full", mp)
    fails("apply", "sync", "edge", local)

    def killed(engine: str) -> None:
        def call(o: dict[str, Any]) -> Any:
            extra = {"batch_size": 64} if engine == "async" else {}
            return run(KillsItsWorker(2), email(), engine=engine, max_supersteps=50, **extra, **o)

        every.append(Case(f"worker SIGKILLed {engine} [mp]", call, "killed", mp))

    killed("sync")
    killed("async")

    every.append(
        Case("sssp out of budget [mp]", lambda o: sssp(email_weighted(), 0, max_supersteps=2, **o), "budget", mp)
    )
    return every


#: One cycle of the soak, in order.
CYCLE: list[Case] = _cases()


# ------------------------------------------------------------------ running it
class SoakFailure(AssertionError):
    """A run of the soak ended otherwise than its case expects."""


def _answer(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=float)


def run_case(case: Case, answers: dict[str, np.ndarray]) -> str:
    """Run one case; returns how it ended ("ok", "error", "killed", "budget") after checking it.

    Raises
    ------
    SoakFailure
        If the run ended otherwise than expected, or a successful run's
        answer differs from an earlier run with the same key.
    """
    try:
        value = case.call(_options(case.multiprocess))
        outcome = "ok"
    except ConvergenceError:
        outcome = "budget"
    except WorkerFailed as exc:
        if isinstance(exc, ProgramError):
            outcome = "error" if "planned failure" in str(exc) else f"unexpected program error: {exc}"
        else:
            outcome = "killed" if "killed by signal 9" in str(exc) else f"unexpected worker failure: {exc}"
    except ProgramError as exc:
        outcome = "error" if "planned failure" in str(exc) else f"unexpected program error: {exc}"
    if outcome != case.expect:
        raise SoakFailure(f"{case.name}: expected {case.expect}, got {outcome}")
    if outcome == "ok" and case.key is not None:
        got = _answer(value)
        first = answers.setdefault(case.key, got)
        if first.shape != got.shape or not np.allclose(first, got, rtol=1e-9, atol=1e-12, equal_nan=True):
            raise SoakFailure(f"{case.name}: a different answer than the first {case.key} run")
    return outcome


def soak(runs: int, on_run: Callable[[Probe], None] | None = None) -> list[Probe]:
    """Run ``runs`` cases of :data:`CYCLE` in turn in this process; a :class:`Probe` after each.

    ``on_run(probe)`` is called after every run (to print a row as it comes).

    Raises
    ------
    SoakFailure
        As :func:`run_case`.
    """
    answers: dict[str, np.ndarray] = {}
    rows = []
    for index in range(runs):
        case = CYCLE[index % len(CYCLE)]
        start = time.perf_counter()
        outcome = run_case(case, answers)
        row = probe(index + 1, case.name, outcome, time.perf_counter() - start)
        rows.append(row)
        if on_run is not None:
            on_run(row)
    return rows


def wait_for_children(seconds: float = 5.0) -> int:
    """Live children after waiting up to ``seconds`` for them to go; returns how many are left."""
    deadline = time.monotonic() + seconds
    while live_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(live_children())
