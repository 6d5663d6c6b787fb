"""The MPI backend under a real ``mpiexec`` on localhost: collectives, the ways to start it, failures.

Answers on every algorithm and engine are checked by the conformance suite
(``test_backend_conformance.py``); these tests start their own small jobs.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from tests.test_backend_conformance import REPO, mpi_env, need_mpi

pytestmark = pytest.mark.timeout(120)

PREAMBLE = f"import sys; sys.path.insert(0, {str(REPO)!r})\n"


def script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(PREAMBLE + textwrap.dedent(body))
    return path


def mpiexec(
    ranks: int, *command: str, timeout: float = 90, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [need_mpi(), "-n", str(ranks), *command],
        cwd=REPO,
        env={**mpi_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def leftovers(marker: str) -> list[psutil.Process]:
    """Live processes whose command line mentions ``marker`` (a script of this test)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and any(
                marker in part for part in proc.info["cmdline"] or ()
            ):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return found


def mpich_segments() -> set[str]:
    return {p.name for p in Path("/dev/shm").glob("mpich_shm_*")} if Path("/dev/shm").is_dir() else set()


def mapped_segments() -> set[str]:
    """MPICH segments some live process maps (those of MPI jobs still running, here or in other test runs)."""
    names = set()
    for maps in Path("/proc").glob("[0-9]*/maps"):
        try:
            names.update(re.findall(r"/dev/shm/(mpich_shm_\w+)", maps.read_text()))
        except OSError:
            pass
    return names


@pytest.fixture
def no_leftovers():
    """The test leaves no MPICH shared-memory segment in /dev/shm (a killed or aborted job too)."""
    before = mpich_segments()
    yield
    deadline = time.time() + 3
    while (left := mpich_segments() - before - mapped_segments()) and time.time() < deadline:
        time.sleep(0.1)
    assert left == set()


def assert_no_leftovers(marker: str) -> None:
    deadline = time.time() + 5
    while leftovers(marker) and time.time() < deadline:
        time.sleep(0.1)
    assert leftovers(marker) == []


# ============================================================ collectives
COLLECTIVES = """
    import numpy as np
    from mpi4py import MPI
    from gasengine.accumulators import KeyCounts
    from gasengine.backends.mpi_transport import MPIBackend
    from gasengine.ragged import Ragged

    b = MPIBackend(MPI.COMM_WORLD.Dup())
    me, size = b.rank, b.size
    for rnd in range(3):
        send = [{
            ("to", w): np.full(3000 * (rnd + 1), me * 10 + w, dtype=np.float64),   # bigger than a slot
            "small": np.arange(4) + me,
            "strided": np.arange(20)[::3] + me,                                   # not contiguous
            "flags": np.array([True, False, me % 2 == 0]),
            "counts": KeyCounts.from_pairs(np.array([0, 0, 1]), np.array([5, 3, 5]) + me, None, 2),
            "rows": Ragged.from_lists([[me], [], [w, me, 7]]),
            "many": [np.full(3, i) for i in range(500)],
            "none": None,
        } for w in range(size)]
        got = b.alltoall(send)
        for r in range(size):
            msg = got[r]
            assert np.array_equal(msg[("to", me)], np.full(3000 * (rnd + 1), r * 10 + me)), (rnd, r)
            assert msg["small"].tolist() == [r, r + 1, r + 2, r + 3]
            assert msg["strided"].tolist() == (np.arange(20)[::3] + r).tolist()
            assert msg["flags"].tolist() == [True, False, r % 2 == 0]
            assert msg["counts"].keys.tolist() == [3 + r, 5 + r, 5 + r] and msg["counts"].weights.tolist() == [1, 1, 1]
            assert msg["rows"].tolist() == [[r], [], [me, r, 7]]
            assert len(msg["many"]) == 500 and msg["many"][499].tolist() == [499] * 3 and msg["none"] is None
    assert b.allreduce(np.array([me + 1.0]), np.multiply).tolist() == [6.0]
    assert b.bcast({"n": 1j, "s": {"a"}} if me == 1 else None, root=1) == {"n": 1j, "s": {"a"}}
    if me == 0:   # data only: a lambda is refused before it leaves (test on one rank; no collective)
        from gasengine.messages import MessageRefused
        from gasengine.backends.mpi_transport import pack
        try:
            pack({"f": lambda x: x + 1})
            raise AssertionError("a lambda was packed")
        except MessageRefused:
            pass
    b.barrier()
    assert b.bytes_sent() > 3 * 3000 * 8 * (size - 1)
    open(f"{sys.argv[1]}/rank{me}.txt", "w").write("ok")
"""


def rank_files(folder: Path) -> dict[int, str]:
    """What each rank wrote to ``folder/rank<r>.txt`` (mpiexec merges the ranks' stdout as it comes,
    and may cut one rank's line with another's, so ranks that report write files)."""
    return {int(p.stem[4:]): p.read_text() for p in folder.glob("rank*.txt")}


def test_collectives_between_three_ranks(tmp_path):
    done = mpiexec(3, sys.executable, str(script(tmp_path, "collectives.py", COLLECTIVES)), str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert rank_files(tmp_path) == {0: "ok", 1: "ok", 2: "ok"}


# ==================================================== ways to start a run
SPMD = """
    import numpy as np
    from algorithms import PageRankProgram, connected_components, core_number
    from gasengine import run
    from gasengine.backends import mpi
    from tests.datasets import random_graph

    graph = random_graph(200, 900, seed=2) if mpi.rank() == 0 else None   # only rank 0 needs the graph
    report = open(f"{sys.argv[1]}/rank{mpi.rank()}.txt", "w")
    for _ in range(2):   # every rank calls run: rank 0 gets the result, the others None
        r = run(PageRankProgram(tol=1e-10), graph, backend="mpi")
        report.write(f"{None if r is None else r.supersteps} ")
    if mpi.rank() == 0:  # an algorithm function on rank 0 only: the other ranks serve it at exit
        ref = run(PageRankProgram(tol=1e-10), graph, partitions=mpi.size())
        assert np.allclose(r.field("rank"), ref.field("rank"), rtol=1e-12, atol=0)
        labels = connected_components(graph, backend="mpi")
        assert (labels == connected_components(graph)).all()
        # peeling: neighbour writes, priorities from apply and its buckets, across ranks
        assert (core_number(graph, backend="mpi", method="peeling") == core_number(graph)).all()
        report.write("checked")
    report.close()
"""


def test_every_rank_calls_run_and_rank_zero_alone_runs_an_algorithm(tmp_path):
    done = mpiexec(3, sys.executable, str(script(tmp_path, "spmd.py", SPMD)), str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    got = rank_files(tmp_path)
    assert got[1] == got[2] == "None None "
    steps = got[0].split()
    assert len(steps) == 3 and steps[0] == steps[1] != "None" and steps[2] == "checked"


EVERY_RANK = """
    import numpy as np
    from algorithms import average_clustering, core_number, pagerank, sssp
    from gasengine import ConvergenceError, Graph
    from gasengine.backends import mpi
    from tests.datasets import random_graph

    me = mpi.rank()
    graph = random_graph(200, 900, seed=2) if me == 0 else None   # only rank 0 needs the graph
    undirected = graph.to_undirected() if me == 0 else None
    got = [
        pagerank(graph, backend="mpi"),
        core_number(undirected, backend="mpi"),
        average_clustering(undirected, backend="mpi"),   # calls clustering: one function, one "done"
    ]
    try:   # a function that raises on rank 0 is done too: the other ranks return None and go on
        sssp(graph, 0, weight=None, backend="mpi", max_supersteps=1)
        failed = False
    except ConvergenceError:
        failed = True
    got.append(pagerank(graph, backend="mpi", tol=1e-3))
    if me == 0:
        assert np.allclose(got[0], pagerank(graph), rtol=1e-12, atol=0)
        assert (got[1] == core_number(undirected)).all()
        assert abs(got[2] - average_clustering(undirected)) < 1e-15 and failed
        assert np.allclose(got[3], pagerank(graph, tol=1e-3), rtol=1e-12, atol=0)
        report = "checked"
    else:
        report = " ".join(str(g) for g in got) + f" {failed}"
    open(f"{sys.argv[1]}/rank{me}.txt", "w").write(report)
"""


def test_every_rank_calls_the_algorithm_functions_and_the_others_get_none(tmp_path):
    done = mpiexec(3, sys.executable, str(script(tmp_path, "every_rank.py", EVERY_RANK)), str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert rank_files(tmp_path) == {0: "checked", 1: "None None None None False", 2: "None None None None False"}


def test_without_mpiexec_the_mpi_backend_runs_on_one_rank(tmp_path):
    body = """
        from algorithms import pagerank
        from tests.datasets import random_graph
        g = random_graph(100, 400, seed=1)
        print(abs(pagerank(g, backend="mpi") - pagerank(g)).max() < 1e-15)
    """
    need_mpi()
    done = subprocess.run(
        [sys.executable, str(script(tmp_path, "alone.py", body))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=mpi_env(),
    )
    assert (done.returncode, done.stdout.strip()) == (0, "True"), done.stderr


def test_command_line_writes_what_the_local_backend_writes(tmp_path):
    edges = tmp_path / "edges.txt"
    rng = np.random.default_rng(0)
    np.savetxt(edges, rng.integers(0, 300, (1500, 2)), fmt="%d")
    from gasengine.cli import main

    cli = ["run", "pagerank", "--input", str(edges), "--no-progress"]
    assert main([*cli, "-P", "2", "--output", str(tmp_path / "local.tsv")]) == 0
    done = mpiexec(
        2, sys.executable, "-m", "gasengine", *cli, "--backend", "mpi", "--output", str(tmp_path / "mpi.tsv")
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("loaded ") == 1  # rank 0 alone reads the input
    want = np.loadtxt(tmp_path / "local.tsv", skiprows=1)
    got = np.loadtxt(tmp_path / "mpi.tsv", skiprows=1)
    assert got.shape == want.shape == (300, 2)
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_command_line_error_on_rank_zero_ends_every_rank(tmp_path, no_leftovers):
    done = mpiexec(
        2,
        sys.executable,
        "-m",
        "gasengine",
        "run",
        "pagerank",
        "--input",
        str(tmp_path / "missing.txt"),
        "--backend",
        "mpi",
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("gasengine: error:") == 1 and "missing.txt" in done.stderr


# =============================================================== failures
BOOM = """
    import numpy as np
    from gasengine import VertexProgram, run
    from tests.datasets import random_graph

    class Boom(VertexProgram):
        def init(self, v):
            v.data["x"] = np.zeros(len(v))

        def apply(self, v, acc):
            if v.superstep == 3 and (v.ids == 7).any():
                raise RuntimeError("vertex 7 is cursed")
            v.data["x"] = v.data["x"] + 1
            v.signal()

    run(Boom(), random_graph(100, 400, seed=4), backend="mpi", max_supersteps=10)
    print("not reached", flush=True)
"""


def test_a_program_error_stops_every_rank_printed_once(tmp_path, no_leftovers):
    path = script(tmp_path, "boom.py", BOOM)
    start = time.time()
    done = mpiexec(3, sys.executable, str(path), timeout=60)
    assert done.returncode != 0
    assert time.time() - start < 30
    out = done.stdout + done.stderr
    assert "not reached" not in out
    # rank 0 raises the error of the rank that holds vertex 7, with that rank's traceback, once
    assert out.count("Boom.apply: RuntimeError: vertex 7 is cursed (in worker") == 1
    assert "--- worker" in out and 'raise RuntimeError("vertex 7 is cursed")' in out
    assert_no_leftovers(str(path))


BUSY = """
    import time
    from gasengine.backends import mpi

    mpi.rank()   # every rank joins the job's communicator
    if mpi.rank() == 0:
        raise RuntimeError("rank 0 gives up")
    time.sleep(60)   # busy in its own code: it never hears rank 0's end
"""


def test_an_error_on_rank_zero_ends_a_busy_rank_after_the_deadline(tmp_path, no_leftovers):
    path = script(tmp_path, "busy.py", BUSY)
    start = time.time()
    done = mpiexec(2, sys.executable, str(path), timeout=60, env={"GASENGINE_MPI_END_WAIT_SECONDS": "2"})
    took = time.time() - start
    assert done.returncode != 0
    assert 2 <= took < 30
    assert done.stderr.count("RuntimeError: rank 0 gives up") == 1, done.stderr
    assert_no_leftovers(str(path))


def test_a_program_error_is_an_exception_on_rank_zero(tmp_path):
    body = BOOM.replace(
        '    run(Boom(), random_graph(100, 400, seed=4), backend="mpi", max_supersteps=10)\n',
        """
    from gasengine import ProgramError, WorkerFailed
    from gasengine.backends import mpi
    try:
        run(Boom(), random_graph(100, 400, seed=4), backend="mpi", max_supersteps=10)
    except ProgramError as exc:
        assert isinstance(exc, WorkerFailed) and (exc.program_name, exc.method) == ("Boom", "apply")
        print("caught on rank", mpi.rank(), "from worker", exc.worker, flush=True)
    r = run(Boom(), random_graph(100, 400, seed=4), backend="mpi", max_supersteps=2)  # the ranks are still in step
    print("rank", mpi.rank(), "next run", None if r is None else r.supersteps, flush=True)
    raise SystemExit(0)
""",
    )
    done = mpiexec(2, sys.executable, str(script(tmp_path, "caught.py", body)), timeout=60)
    assert re.search(r"caught on rank 0 from worker \d", done.stdout), done.stdout + done.stderr
    assert "rank 0 next run 2" in done.stdout
    assert "rank 1" not in done.stdout  # rank 1's run raised SystemExit(1): it served the next run at exit
    assert done.returncode == 1


SLOW = """
    import os, time
    import numpy as np
    from gasengine import VertexProgram, run
    from gasengine.backends import mpi
    from tests.datasets import random_graph

    class Slow(VertexProgram):
        def init(self, v):
            v.data["x"] = np.zeros(len(v))

        def apply(self, v, acc):
            time.sleep(0.02)
            v.data["x"] = v.data["x"] + 1
            v.signal()

    with open(os.path.join(sys.argv[1], f"rank{mpi.rank()}.pid"), "w") as f:
        f.write(str(os.getpid()))
    run(Slow(), random_graph(100, 400, seed=5), backend="mpi", max_supersteps=100000)
"""


@pytest.mark.parametrize("victim", [0, 2])
def test_a_killed_rank_ends_the_job_within_seconds(tmp_path, victim, no_leftovers):
    path = script(tmp_path, f"slow{victim}.py", SLOW)
    proc = subprocess.Popen(
        [need_mpi(), "-n", "3", sys.executable, str(path), str(tmp_path)],
        cwd=REPO,
        env=mpi_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pids: dict[int, int] = {}
    try:
        deadline = time.time() + 60
        while len(pids) < 3 and time.time() < deadline:
            for rank in range(3):
                pid_file = tmp_path / f"rank{rank}.pid"
                if rank not in pids and pid_file.exists() and pid_file.read_text():
                    pids[rank] = int(pid_file.read_text())
            assert proc.poll() is None, "the job ended before the run started"
            time.sleep(0.05)
        assert len(pids) == 3
        time.sleep(1.5)  # the run is going
        assert proc.poll() is None
        os.kill(pids[victim], signal.SIGKILL)
        start = time.time()
        code = proc.wait(timeout=30)
        assert time.time() - start < 5
        assert code != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    for pid in pids.values():
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert_no_leftovers(str(path))


# ================================================================== docs
def test_the_script_in_the_docs_prints_what_they_say(tmp_path):
    import doctest

    page = (REPO / "docs" / "mpi.md").read_text(encoding="utf-8")
    found = re.search(r"```py\n(?P<code>.*?)```\s*```text\n(?P<output>.*?)```", page, flags=re.DOTALL)
    assert found, "docs/mpi.md has no script with its output"
    path = tmp_path / "docs_script.py"
    path.write_text(PREAMBLE + found["code"])
    done = mpiexec(2, sys.executable, str(path))
    assert done.returncode == 0, done.stderr
    checker, flags = doctest.OutputChecker(), doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    assert checker.check_output(found["output"], done.stdout, flags), done.stdout
