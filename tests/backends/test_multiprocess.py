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


def our_segments(pid: int | None = None) -> set[str]:
    """Segments of the driver ``pid`` (default: this test process); other processes' runs are not ours to count.

    Segment names are ``gasengine-<driver pid>-<token>-...``.
    """
    return {p.name for p in shm_dir().glob(f"gasengine-{os.getpid() if pid is None else pid}-*")}


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
    assert result.supersteps > 10
    # values really crossed between worker processes (none can with one worker)
    between = result.steps.column("bytes_between_workers").sum()
    assert between > 0 if workers > 1 else between == 0


@pytest.fixture(scope="module")
def weighted_email(email):
    return Graph(
        email.src,
        email.dst,
        email.num_vertices,
        edge_data={"weight": np.linspace(1.0, 3.0, email.num_edges)},
        ids=email.ids,
    )


@pytest.fixture(scope="module")
def local_answers(email, weighted_email):
    """The local backend's answers, computed once: they do not depend on the cut (tested elsewhere)."""
    return {
        "components": connected_components(email),
        "sssp": sssp(weighted_email, 1),
        "pagerank": pagerank(email, tol=1e-10),
    }


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_strategy_same_answers_with_workers(email, weighted_email, local_answers, strategy, clean_run):
    for workers in (1, 2, 3, 4):
        opts = dict(workers=workers, backend="multiprocess", partition=strategy, partitions=4)
        np.testing.assert_array_equal(connected_components(email, **opts), local_answers["components"])
        np.testing.assert_array_equal(sssp(weighted_email, 1, **opts), local_answers["sssp"])
        np.testing.assert_allclose(pagerank(email, tol=1e-10, **opts), local_answers["pagerank"], rtol=1e-12)


def test_aggregators_and_max_supersteps_identical(clean_run):
    g = random_graph(300, 2000, seed=3)

    class Count(VertexProgram):
        def init(self, v):
            v.data["n"] = np.zeros(len(v), dtype=np.int64)

        def apply(self, v, acc):
            v.data["n"] = v.data["n"] + v.ids % 3
            v.signal()

    aggs = [
        Aggregator("total", lambda v: v.data["n"]),
        Aggregator("top", lambda v: v.data["n"], combine=np.maximum, every=2),
    ]
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


def test_program_error_in_worker_reads_like_the_local_one_and_carries_traceback(clean_run):
    g = random_graph(100, 400, seed=4)
    with pytest.raises(ProgramError) as local:
        run(Boom(), g, partitions=2, max_supersteps=10)
    with pytest.raises(WorkerFailed) as info:
        run(Boom(), g, workers=2, max_supersteps=10)
    err = info.value
    assert isinstance(err, ProgramError)
    assert str(local.value) == "Boom.apply: RuntimeError: vertex 7 is cursed"
    first = str(err).splitlines()[0]
    assert first == f"{local.value} (in worker {err.worker})" and err.worker in (0, 1)
    assert (err.program_name, err.method) == ("Boom", "apply")
    assert "Traceback (most recent call last)" in err.traceback_text
    assert "raise RuntimeError" in err.traceback_text
    assert err.traceback_text.rstrip() in str(err)  # the traceback follows the message


class Quits(VertexProgram):
    def init(self, v):
        v.data["x"] = np.zeros(len(v))

    def apply(self, v, acc):
        if v.superstep == 2:
            sys.exit(3)  # a program must not end a worker (or the caller) silently
        v.data["x"] = v.data["x"] + 1
        v.signal()


def test_system_exit_in_a_worker_program_is_a_program_error(clean_run):
    g = random_graph(100, 400, seed=4)
    with pytest.raises(ProgramError) as local:
        run(Quits(), g, partitions=2, max_supersteps=10)
    with pytest.raises(ProgramError) as info:
        run(Quits(), g, workers=2, max_supersteps=10)
    assert isinstance(info.value, WorkerFailed)
    assert str(local.value) == "Quits.apply: SystemExit: 3"
    assert str(info.value).startswith(f"{local.value} (in worker ")


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
    except SystemExit as exc:
        print("exit", exc.code, flush=True)
        raise
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
    proc, workers = start_driver(tmp_path)
    assert our_segments(proc.pid)  # the run's parts exist while it runs
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 130
    assert "interrupted" in proc.stdout.read()
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []
    assert our_segments(proc.pid) == set()


def test_sigterm_in_driver_cleans_up_like_ctrl_c(tmp_path):
    proc, workers = start_driver(tmp_path)
    assert our_segments(proc.pid)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 143  # SystemExit(128 + SIGTERM), unwound through the cleanup
    assert "exit 143" in proc.stdout.read()
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []
    assert our_segments(proc.pid) == set()


def test_signals_during_cleanup_do_not_cut_it_short(tmp_path):
    """A burst of SIGTERM and SIGINT after the first SIGTERM: the cleanup still finishes."""
    proc, workers = start_driver(tmp_path)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    deadline = time.time() + 2
    i = 0
    while proc.poll() is None and time.time() < deadline:  # signals all through the cleanup
        try:
            proc.send_signal(signal.SIGINT if i % 2 else signal.SIGTERM)
        except ProcessLookupError:
            break
        i += 1
        time.sleep(0.0002)
    proc.wait(timeout=10)
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []
    assert our_segments(proc.pid) == set()


def outcome(body) -> BaseException | None:
    """What ``body()`` raised, KeyboardInterrupt and SystemExit included (they must not end the test session)."""
    try:
        body()
    except (KeyboardInterrupt, SystemExit) as exc:
        return exc
    return None


def test_signal_guard_holds_signals_until_cleanup_is_done():
    """In this process: a second signal arrives inside the cleanup and waits for its end."""
    from gasengine.backends.multiprocess import SignalGuard

    steps = []

    def cleanup():
        steps.append("start")
        os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C while cleaning up
        time.sleep(0.05)  # the handler runs during this call; it must not raise here
        steps.append("end")

    def terminated_run():
        with SignalGuard(cleanup):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # cut short by the handler's SystemExit

    exc = outcome(terminated_run)
    assert isinstance(exc, SystemExit) and exc.code == 143
    assert steps == ["start", "end"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    def finished_run():
        with SignalGuard(cleanup) as guard:
            guard.hold()

    steps.clear()
    exc = outcome(finished_run)  # no error in flight: the held Ctrl-C is raised once the cleanup is done
    assert isinstance(exc, KeyboardInterrupt)
    assert steps == ["start", "end"]


def test_signals_wait_while_workers_start():
    from gasengine.backends.multiprocess import SignalGuard

    reached = []

    def starting():
        with SignalGuard(lambda: None) as guard:
            with guard.deferred():
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(0.05)
                reached.append("block finished")
            reached.append("after the block")

    exc = outcome(starting)
    assert isinstance(exc, SystemExit) and exc.code == 143
    assert reached == ["block finished"]


def test_worker_count_is_checked_against_the_fd_limit(clean_run):
    """The limit allows exactly the workers pipe_fds says fit: one more is refused, that many really run."""
    import resource

    from gasengine.backends.multiprocess import SPARE_FDS, _open_fds, pipe_fds

    g = random_graph(60, 240, seed=10)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (_open_fds() + SPARE_FDS + pipe_fds(3), hard))
    try:
        with pytest.raises(ValueError, match=r"RLIMIT_NOFILE.*at most 3 workers"):
            connected_components(g, workers=4)
        np.testing.assert_array_equal(connected_components(g, workers=3), connected_components(g))
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_thousand_workers_are_refused_before_any_pipe(clean_run):
    g = random_graph(60, 240, seed=10)
    fds = psutil.Process().num_fds()
    with pytest.raises(ValueError, match=r"workers=1000 needs 1002003 file descriptors.*at most \d+ workers"):
        run(Slow(), g, workers=1000)
    # no pipe was opened (other files, numba's cache say, may have closed meanwhile)
    assert psutil.Process().num_fds() <= fds


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
    got.append(b.bcast({"root": rank, "n": 1j} if rank == 1 else None, root=1))
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
        assert bcast == {"root": 1, "n": 1j}


def test_notes_carry_data_never_code():
    from gasengine.messages import MessageRefused, dumps, loads

    assert loads(dumps({"a": 1, "b": np.arange(3)}))["b"].tolist() == [0, 1, 2]
    with pytest.raises(MessageRefused, match="cannot send a function"):
        dumps(lambda x: x * 3)


class LateBoom(Boom):
    def apply(self, v, acc):
        if v.superstep >= 3 and (v.ids == 7).any():  # whichever round vertex 7 runs in, from the third on
            raise RuntimeError("vertex 7 is cursed")
        v.data["x"] = v.data["x"] + 1
        v.signal()


@pytest.mark.parametrize("engine", ["chromatic", "async"])
def test_a_program_error_under_the_other_engines_stops_every_worker(engine, clean_run):
    g = random_graph(100, 400, seed=4)
    with pytest.raises(WorkerFailed) as info:
        run(LateBoom(), g, workers=2, engine=engine, batch_size=8 if engine == "async" else None, max_supersteps=50)
    assert (info.value.program_name, info.value.method) == ("LateBoom", "apply")
    assert "vertex 7 is cursed" in str(info.value)


def test_workers_of_a_later_run_start_with_the_kernels_earlier_workers_loaded(email, clean_run):
    """Forked workers inherit the driver's compiled kernels; the driver loads what earlier workers used."""
    from gasengine.backends import processes
    from gasengine.compiled import loaded_kernels

    if processes.start_method() != "fork":
        pytest.skip("only forked workers inherit the driver's kernels")
    first = connected_components(email, workers=2)  # its workers report the kernels they held
    assert any(module == "gasengine.kernels" for module, _, _ in processes._WORKER_KERNELS)
    again = connected_components(email, workers=2)  # the driver loads them, then forks
    np.testing.assert_array_equal(first, again)
    # whatever a worker of either run held, the driver holds now: the second run's workers loaded none
    assert processes._WORKER_KERNELS - loaded_kernels() == set()


def test_loading_kernels_skips_what_is_not_there():
    from gasengine.compiled import load_kernels

    wanted = [("gasengine.kernels", "no_such_kernel", "(int64,)"), ("no.such.module", "f", "()")]
    assert load_kernels(wanted) == 0
    assert load_kernels([("gasengine.kernels", "_take_into", "(no such signature)")]) == 0
