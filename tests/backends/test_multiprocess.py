"""The multiprocess backend: same answers as local, and failures that clean up.

These tests start real worker processes and use real shared memory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import psutil
import pytest

from algorithms import connected_components, pagerank, sssp
from gasengine import Aggregator, Graph, ProgramError, VertexProgram, WorkerFailed, run
from gasengine.shm import shm_dir
from partitioning import STRATEGIES
from tests.datasets import REPO, load, random_graph


def our_segments() -> set[str]:
    return {p.name for p in shm_dir().glob("gasengine-*")}


def worker_children() -> list[psutil.Process]:
    """Live child processes."""
    kids = []
    for c in psutil.Process().children(recursive=True):
        try:
            if c.status() != psutil.STATUS_ZOMBIE:
                kids.append(c)
        except psutil.NoSuchProcess:
            pass
    return kids


@pytest.fixture
def clean_run():
    """Asserts a test leaves no worker process and no shared-memory segment behind."""
    before = our_segments()
    yield
    deadline = time.time() + 5
    while worker_children() and time.time() < deadline:
        time.sleep(0.05)
    assert worker_children() == []
    assert our_segments() - before == set()


@pytest.fixture(scope="module")
def email():
    return load("snap/email-Eu-core.txt")


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_pagerank_same_as_local(email, workers, clean_run):
    local = pagerank(email, tol=1e-10, partitions=workers)
    multi, result = pagerank(email, tol=1e-10, workers=workers, backend="multiprocess", return_result=True)
    np.testing.assert_allclose(multi, local, rtol=1e-12, atol=0)
    assert result.workers == workers and result.supersteps > 10


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_strategy_same_answers_with_workers(email, strategy, clean_run):
    weighted = Graph(email.src, email.dst, email.num_vertices,
                     edge_data={"weight": np.linspace(1.0, 3.0, email.num_edges)}, ids=email.ids)
    for workers in (1, 2, 3, 4):
        opts = dict(workers=workers, backend="multiprocess", partition=strategy, partitions=4)
        np.testing.assert_array_equal(
            connected_components(email, **opts), connected_components(email, partition=strategy, partitions=4)
        )
        np.testing.assert_array_equal(sssp(weighted, 1, **opts), sssp(weighted, 1))
        np.testing.assert_allclose(pagerank(email, tol=1e-10, **opts), pagerank(email, tol=1e-10), rtol=1e-12)


def test_aggregators_and_max_supersteps_identical(clean_run):
    g = random_graph(300, 2000, seed=3)

    class Count(VertexProgram):
        def init(self, v):
            v.data["n"] = np.zeros(len(v), dtype=np.int64)

        def apply(self, v, acc):
            v.data["n"] = v.data["n"] + v.ids % 3
            v.signal()

    aggs = [Aggregator("total", lambda v: v.data["n"]),
            Aggregator("top", lambda v: v.data["n"], combine=np.maximum, every=2)]
    local = run(Count(), g, partitions=3, aggregators=aggs, max_supersteps=5)
    multi = run(Count(), g, workers=3, aggregators=aggs, max_supersteps=5)
    assert multi.supersteps == local.supersteps == 5 and not multi.converged
    assert multi.aggregates == local.aggregates
    np.testing.assert_array_equal(multi.field("n"), local.field("n"))
    assert multi.steps.column("updates").tolist() == local.steps.column("updates").tolist()
    assert multi.steps.column("bytes_exchanged").tolist() == local.steps.column("bytes_exchanged").tolist()
    assert multi.steps.column("bytes_between_workers").sum() > 0


def test_a_given_cut_needs_a_part_per_worker(email):
    with pytest.raises(ValueError, match=r"partitions \(1\) must be >= workers \(2\)"):
        run(Boom(), email, workers=2, partition=np.zeros(email.num_edges, dtype=np.int32))


def test_more_parts_than_workers(email, clean_run):
    a = connected_components(email, workers=2, partitions=5)
    np.testing.assert_array_equal(a, connected_components(email, partitions=5))


class Boom(VertexProgram):
    def init(self, v):
        v.data["x"] = np.zeros(len(v))

    def apply(self, v, acc):
        if v.superstep == 3 and (v.ids == 7).any():
            raise RuntimeError("vertex 7 is cursed")
        v.data["x"] = v.data["x"] + 1
        v.signal()


def test_program_error_in_worker_carries_traceback(clean_run):
    g = random_graph(100, 400, seed=4)
    with pytest.raises(WorkerFailed) as info:
        run(Boom(), g, workers=2, max_supersteps=10)
    err = info.value
    assert isinstance(err, ProgramError)
    assert "Boom.apply: RuntimeError: vertex 7 is cursed" in str(err)
    assert "Traceback (most recent call last)" in err.traceback_text
    assert "raise RuntimeError" in err.traceback_text


class Slow(VertexProgram):
    def init(self, v):
        v.data["x"] = np.zeros(len(v))

    def apply(self, v, acc):
        time.sleep(0.05)
        v.data["x"] = v.data["x"] + 1
        v.signal()


def test_sigkilled_worker_is_reported_within_5_seconds(clean_run):
    g = random_graph(100, 400, seed=5)
    victim: list[int] = []

    def kill_one():
        deadline = time.time() + 20
        while time.time() < deadline:
            kids = worker_children()
            if len(kids) >= 2:
                time.sleep(0.3)  # let the run get going
                victim.append(kids[-1].pid)
                os.kill(kids[-1].pid, signal.SIGKILL)
                return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_one)
    killer.start()
    start = time.time()
    with pytest.raises(WorkerFailed, match=r"worker \d failed: worker process killed by signal 9"):
        run(Slow(), g, workers=2, max_supersteps=10_000)
    elapsed = time.time() - start
    killer.join()
    assert victim, "no worker was started"
    assert elapsed - 0.3 < 5


DRIVER_SCRIPT = textwrap.dedent(
    """
    import sys, time, numpy as np
    sys.path.insert(0, {repo!r})
    from gasengine import VertexProgram, run
    from tests.datasets import random_graph

    class Slow(VertexProgram):
        def init(self, v):
            v.data["x"] = np.zeros(len(v))
        def apply(self, v, acc):
            time.sleep(0.05)
            v.data["x"] = v.data["x"] + 1
            v.signal()

    print("started", flush=True)
    try:
        run(Slow(), random_graph(100, 400, seed=6), workers=2, max_supersteps=100000)
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    """
)


def start_driver(tmp_path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """A driver process running a slow 2-worker job, once both workers exist."""
    script = tmp_path / "driver.py"
    script.write_text(DRIVER_SCRIPT.format(repo=str(REPO)))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    driver = psutil.Process(proc.pid)
    deadline = time.time() + 20
    while len(driver.children()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    workers = driver.children()
    assert len(workers) >= 2
    return proc, workers


def test_ctrl_c_in_driver_stops_all_workers(tmp_path):
    before = our_segments()
    proc, workers = start_driver(tmp_path)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 130
    assert "interrupted" in proc.stdout.read()
    gone, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []
    assert our_segments() - before == set()


def test_killed_driver_takes_its_workers_with_it(tmp_path):
    """A driver that dies without cleaning up (SIGKILL) leaves no orphaned worker."""
    proc, workers = start_driver(tmp_path)
    proc.kill()
    proc.wait(timeout=10)
    gone, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []
    # The killed driver could not unlink its segments; the next run sweeps them.
    leftover = {p for p in our_segments() if p.startswith(f"gasengine-{proc.pid}-")}
    assert leftover
    run(Slow(), random_graph(20, 40, seed=9), workers=2, max_supersteps=1)
    assert not {p for p in our_segments() if p.startswith(f"gasengine-{proc.pid}-")}


def test_fifty_runs_leave_nothing_behind():
    g = random_graph(200, 800, seed=7)
    me = psutil.Process()
    before_segments = our_segments()
    pagerank(g, workers=2)  # warm up lazily created resources
    fds = me.num_fds()
    for _ in range(50):
        connected_components(g, workers=2)
    assert worker_children() == []
    assert our_segments() - before_segments == set()
    assert me.num_fds() <= fds


@pytest.fixture
def spawn(monkeypatch):
    """Workers started with ``spawn``; afterwards, stop the resource tracker spawn starts.

    Left alone, the tracker outlives the test session by the second it takes
    to notice it, as a process with no parent.
    """
    from multiprocess import resource_tracker

    monkeypatch.setenv("GASENGINE_START_METHOD", "spawn")
    yield
    resource_tracker._resource_tracker._stop()


def test_lambdas_work_under_spawn(clean_run, spawn):  # spawn tears down first
    g = random_graph(50, 200, seed=8)

    class Lam(VertexProgram):
        def init(self, v):
            v.data["x"] = np.ones(len(v))

        def apply(self, v, acc):
            v.data["x"] = v.data["x"] * 2

    agg = Aggregator("sum", lambda v: v.data["x"] + 0)
    r = run(Lam(), g, workers=2, aggregators=[agg])
    assert r.aggregates["sum"] == 100.0


# ------------------------------------------------------------ the collectives
def _collectives(rank: int, size: int, peers, prefix: str, parent: int, out) -> None:
    """Body of a test worker: every collective with payloads of every kind; sends back what it got."""
    from gasengine.backends.multiprocess import MultiprocessBackend

    b = MultiprocessBackend(rank, size, peers, prefix, parent)
    got = []
    for rnd in range(3):  # several rounds: both mailboxes, and a mailbox that must grow
        send = [
            {
                "big": np.full(2000 * (rnd + 1), rank * 10 + w, dtype=np.float64),  # shared memory
                "small": np.arange(4) + rank,  # inline
                "many": [np.full(3, i) for i in range(2000)],  # a note far above NOTE_BYTES
                "none": None,
            }
            for w in range(size)
        ]
        got.append(b.alltoall(send))
    got.append(b.allreduce(np.array([rank + 1.0]), np.multiply))
    got.append(b.bcast({"root": rank, "f": (lambda x: x + 1)} if rank == 1 else None, root=1)["f"](1))
    b.barrier()
    out.send((rank, got))


def test_collectives_between_real_processes(clean_run):
    import multiprocess as mp

    from gasengine.backends.multiprocess import start_method
    from gasengine.shm import new_run_prefix, remove_segments

    size, prefix = 3, new_run_prefix()
    ctx = mp.get_context(start_method())
    links = {(i, j): ctx.Pipe() for i in range(size) for j in range(i + 1, size)}
    results, procs = [], []
    try:
        for r in range(size):
            peers = {j: link[0] for (i, j), link in links.items() if i == r}
            peers.update({i: link[1] for (i, j), link in links.items() if j == r})
            here, there = ctx.Pipe(duplex=False)
            procs.append(ctx.Process(target=_collectives, args=(r, size, peers, prefix, os.getpid(), there)))
            procs[-1].start()
            results.append(here)
        got = dict(conn.recv() for conn in results)
    finally:
        for p in procs:
            p.join(10)
        remove_segments(prefix)
    for rank in range(size):
        rounds, product, bcast = got[rank][:3], got[rank][3], got[rank][4]
        for rnd, received in enumerate(rounds):
            for sender in range(size):
                msg = received[sender]
                np.testing.assert_array_equal(msg["big"], np.full(2000 * (rnd + 1), sender * 10 + rank))
                np.testing.assert_array_equal(msg["small"], np.arange(4) + sender)
                assert len(msg["many"]) == 2000 and msg["many"][1999].tolist() == [1999] * 3
                assert msg["none"] is None
        assert product.tolist() == [6.0]
        assert bcast == 2  # a lambda from rank 1, pickled by the dill fallback


def test_notes_pickle_plainly_and_fall_back_to_dill():
    from gasengine.backends.multiprocess import dumps, loads

    assert dumps({"a": 1})[:1] == b"p"
    assert dumps(lambda x: x * 3)[:1] == b"d"
    assert loads(dumps(lambda x: x * 3))(2) == 6
