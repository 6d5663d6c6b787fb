"""Checkpoints and resume: every engine and scenario resumes to the uninterrupted answer; the files are safe.

The scenarios are the backend conformance suite's (every algorithm of
``algorithms/`` and a program of every engine feature).  A run is cut short
by an exception raised from its progress callback (after a step, as a Ctrl-C
or a dead driver would cut it), then resumed from its checkpoint directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from algorithms import PageRankProgram, pagerank
from gasengine import Aggregator, Graph, VertexProgram, run
from gasengine.checkpoint import (
    FORMAT_VERSION,
    KEEP,
    CheckpointError,
    latest,
    run_identity,
)
from tests.datasets import random_graph
from tests.test_backend_conformance import SCENARIOS

pytestmark = pytest.mark.timeout(300)


class Interrupted(Exception):
    """Raised by the progress callback to cut a run short."""


def stop_after(step: int):
    def progress(superstep: int, active: int) -> None:
        if superstep >= step:
            raise Interrupted(superstep)

    return progress


def interrupted_then_resumed(name: str, folder: Path, options: dict, stop: int = 5) -> dict:
    """Scenario ``name`` cut short after step ``stop`` with checkpoints every 2 steps, then resumed."""
    first = {**options, "checkpoint_dir": str(folder), "checkpoint_every": 2, "progress": stop_after(stop)}
    try:
        SCENARIOS[name](first)
    except Interrupted:
        pass
    return SCENARIOS[name]({**options, "checkpoint_dir": str(folder), "resume": True})


#: Scenarios that start several runs (one checkpoint directory holds one run's checkpoints).
SEVERAL_RUNS = {"kmeans_sync_operations", "als_ratings", "sgd_mf_async", "diameter_hyperanf"}
#: Statistics of steps before the checkpoint are kept; these outputs are per step and must match too.
EXACT = {"partitions": 2}


@pytest.mark.parametrize("name", sorted(set(SCENARIOS) - SEVERAL_RUNS))
def test_every_scenario_resumes_to_the_uninterrupted_answer(name, tmp_path):
    want = SCENARIOS[name](dict(EXACT))
    got = interrupted_then_resumed(name, tmp_path, dict(EXACT))
    for key, value in want.items():  # exactly, not to 1e-12: the same cut, the same sums in the same order
        if key != "bytes_between_workers":
            np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(value), err_msg=key)


@pytest.mark.parametrize(
    "name",
    ["pagerank_sync", "components_async", "label_propagation_chromatic", "sssp_delta_stepping", "triangles_collect"],
)
def test_worker_processes_resume_exactly_and_on_another_count_within_rounding(name, tmp_path):
    two = {"partitions": 2, "workers": 2, "backend": "multiprocess"}
    want = SCENARIOS[name](dict(two))
    got = interrupted_then_resumed(name, tmp_path / "same", dict(two))
    for key, value in want.items():
        if key != "bytes_between_workers":
            np.testing.assert_array_equal(np.asarray(got[key]), np.asarray(value), err_msg=key)
    # on one worker and three parts: another cut, so floating-point sums only agree to rounding
    other = interrupted_then_resumed(name, tmp_path / "other", dict(two), stop=3)
    got = SCENARIOS[name]({"partitions": 3, "checkpoint_dir": str(tmp_path / "other"), "resume": True})
    for key in other:
        if key in want and np.asarray(want[key]).dtype.kind == "f":
            np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-15, err_msg=key)
        elif key in ("label", "dist", "triangles", "core", "color"):
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)


def test_mpi_ranks_resume_exactly(tmp_path):
    from tests.test_backend_conformance import mpi_env, need_mpi

    body = f"""
        import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
        import numpy as np
        from algorithms import PageRankProgram
        from gasengine import run
        from gasengine.backends import mpi
        from tests.datasets import random_graph
        g = random_graph(300, 1500, seed=3) if mpi.rank() == 0 else None
        for engine in ("sync", "async"):
            d = sys.argv[1] + engine
            full = run(PageRankProgram(tol=1e-9), g, backend="mpi", engine=engine)
            run(PageRankProgram(tol=1e-9), g, backend="mpi", engine=engine, checkpoint_dir=d, checkpoint_every=3,
                max_supersteps=7)
            again = run(PageRankProgram(tol=1e-9), g, backend="mpi", engine=engine, checkpoint_dir=d, resume=True)
            if mpi.rank() == 0:
                print(engine, again.resumed_from, bool((again.field("rank") == full.field("rank")).all()), flush=True)
    """
    script = tmp_path / "resume.py"
    script.write_text(textwrap.dedent(body))
    done = subprocess.run(
        [need_mpi(), "-n", "2", sys.executable, str(script), str(tmp_path / "ck")],
        env=mpi_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["sync 6 True", "async 6 True"]


# ================================================================== files
def _pagerank_run(folder: Path, **options):
    return run(PageRankProgram(tol=1e-9), random_graph(200, 1000, seed=1), checkpoint_dir=folder, **options)


def test_only_the_last_two_are_kept_and_nothing_is_pickled(tmp_path):
    _pagerank_run(tmp_path, checkpoint_every=2, max_supersteps=9)
    assert sorted(p.name for p in tmp_path.glob("ckpt-*")) == [
        "ckpt-000000006.json",
        "ckpt-000000006.npz",
        "ckpt-000000008.json",
        "ckpt-000000008.npz",
    ]
    assert KEEP == 2 and len(list(tmp_path.glob("cut-*.npz"))) == 1
    assert not list(tmp_path.glob(".*"))  # no temporary file left
    meta = json.loads((tmp_path / "ckpt-000000008.json").read_text())
    assert meta["version"] == FORMAT_VERSION and meta["step"] == 8 and meta["npz"] == "ckpt-000000008.npz"
    with np.load(tmp_path / "ckpt-000000008.npz", allow_pickle=False) as data:  # loads without pickle
        assert data["vertex/rank"].shape == (200,) and data["state/active"].dtype == np.int64


def test_a_half_written_checkpoint_is_ignored(tmp_path):
    full = run(PageRankProgram(tol=1e-9), random_graph(200, 1000, seed=1))
    _pagerank_run(tmp_path, checkpoint_every=2, max_supersteps=9)
    newest = tmp_path / "ckpt-000000008.npz"
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])  # cut short: its hash no longer matches
    (tmp_path / "ckpt-000000010.npz").write_bytes(b"PK\x03\x04 half")  # an npz whose JSON was never written
    (tmp_path / ".ckpt-000000012.npz.999999999.ab12.tmp").write_bytes(b"partial")  # a dead writer's temp file
    again = _pagerank_run(tmp_path, resume=True)
    assert again.resumed_from == 6
    np.testing.assert_array_equal(again.field("rank"), full.field("rank"))
    assert not (tmp_path / ".ckpt-000000012.npz.999999999.ab12.tmp").exists()  # pruned with the old ones


def test_resume_refuses_another_graph_program_engine_or_format(tmp_path):
    g = random_graph(200, 1000, seed=1)
    run(PageRankProgram(tol=1e-9), g, checkpoint_dir=tmp_path, checkpoint_every=2, max_supersteps=4)
    with pytest.raises(CheckpointError, match="another graph"):
        run(PageRankProgram(tol=1e-9), random_graph(200, 1000, seed=2), checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(CheckpointError, match="PageRankProgram with other parameters"):
        run(PageRankProgram(tol=1e-8), g, checkpoint_dir=tmp_path, resume=True)
    with pytest.raises(CheckpointError, match="another engine: name='sync'"):
        run(PageRankProgram(tol=1e-9), g, engine="chromatic", checkpoint_dir=tmp_path, resume=True)
    g.edge_data["w"] = np.ones(g.num_edges)
    with pytest.raises(CheckpointError, match="another graph"):  # a new field is another graph
        run(PageRankProgram(tol=1e-9), g, checkpoint_dir=tmp_path, resume=True)
    del g.edge_data["w"]
    meta_path = tmp_path / "ckpt-000000004.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "version": FORMAT_VERSION + 1}))
    with pytest.raises(CheckpointError, match=f"format version {FORMAT_VERSION + 1}"):
        run(PageRankProgram(tol=1e-9), g, checkpoint_dir=tmp_path, resume=True)


def test_resume_without_a_checkpoint_starts_from_the_beginning(tmp_path):
    r = _pagerank_run(tmp_path / "new", resume=True)
    assert r.resumed_from is None and r.converged
    with pytest.raises(ValueError, match="resume=True needs checkpoint_dir"):
        run(PageRankProgram(), random_graph(20, 50, seed=1), resume=True)
    with pytest.raises(ValueError, match="checkpoint_every"):
        run(PageRankProgram(), random_graph(20, 50, seed=1), checkpoint_dir=tmp_path, checkpoint_every=0)


def test_planted_symlinks_are_never_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    folder = tmp_path / "ck"
    folder.mkdir()
    (folder / "ckpt-000000002.npz").symlink_to(outside)
    with pytest.raises(CheckpointError, match=r"ckpt-000000002\.npz: is a symbolic link"):
        _pagerank_run(folder, checkpoint_every=2, max_supersteps=3)
    assert outside.read_text() == "precious" and not list(folder.glob(".*.tmp"))
    (folder / "ckpt-000000002.npz").unlink()
    _pagerank_run(folder, checkpoint_every=2, max_supersteps=3)
    # a checkpoint whose JSON is a symlink is not read
    (folder / "ckpt-000000002.json").unlink()
    (folder / "ckpt-000000002.json").symlink_to(outside)
    assert _pagerank_run(folder, resume=True).resumed_from is None
    assert outside.read_text() == "precious"


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_files_get_the_users_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        _pagerank_run(tmp_path, checkpoint_every=2, max_supersteps=3)
    finally:
        os.umask(old)
    for path in tmp_path.iterdir():
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path.name


def test_an_aggregator_value_numpy_cannot_hold_is_a_clear_error(tmp_path):
    class Labels(VertexProgram):
        def init(self, v):
            v.data["x"] = np.zeros(len(v))

        def apply(self, v, acc):
            v.data["x"] = v.data["x"] + 1
            v.signal()

    agg = Aggregator("table", lambda v: v.data["x"], finalize=lambda total, g: {"sum": float(total)})
    with pytest.raises(CheckpointError, match="aggregator 'table': its value, a dict, cannot be checkpointed"):
        run(
            Labels(),
            random_graph(20, 50, seed=1),
            aggregators=[agg],
            checkpoint_dir=tmp_path,
            checkpoint_every=1,
            max_supersteps=3,
        )


def test_identity_ignores_memory_addresses_and_sees_parameters():
    g = random_graph(50, 100, seed=1)
    engine = {"name": "sync"}
    same = (
        run_identity(g, PageRankProgram(tol=1e-6), (), engine),
        run_identity(g, PageRankProgram(tol=1e-6), (), engine),
    )
    assert same[0] == same[1]
    assert run_identity(g, PageRankProgram(tol=1e-7), (), engine)["program"] != same[0]["program"]
    assert latest("/no/such/folder", same[0]) is None


# ================================================================ timeout
def test_timeout_stops_after_a_step_and_a_checkpoint_continues_it(tmp_path):
    g = random_graph(300, 1500, seed=3)
    full = run(PageRankProgram(tol=1e-12), g)

    class Slow(PageRankProgram):
        def apply(self, v, acc):  # 20 ms per superstep: the run takes ~1 s
            time.sleep(0.02)
            return super().apply(v, acc)

    cut = run(Slow(tol=1e-12), g, timeout=0.2, checkpoint_dir=tmp_path)
    assert cut.timed_out and not cut.converged and 1 <= cut.supersteps < full.supersteps
    engine = {"name": "sync", "consistency": "edge", "scheduler": "fifo", "batch_size": None, "seed": 0}
    program = Slow(tol=1e-12)
    assert latest(tmp_path, run_identity(g, program, tuple(program.aggregators), engine)).step == cut.supersteps
    again = run(Slow(tol=1e-12), g, checkpoint_dir=tmp_path, resume=True)
    assert again.resumed_from == cut.supersteps and not again.timed_out and again.converged
    np.testing.assert_array_equal(again.field("rank"), full.field("rank"))
    with pytest.raises(ValueError, match="timeout must be > 0"):
        run(Slow(), g, timeout=0)


def test_timeout_on_worker_processes_stops_every_worker_at_the_same_step():
    g = random_graph(300, 1500, seed=3)

    class Slow(PageRankProgram):
        def apply(self, v, acc):
            time.sleep(0.02)
            return super().apply(v, acc)

    r = run(Slow(tol=1e-12), g, workers=2, timeout=0.3)
    assert r.timed_out and not r.converged and r.supersteps >= 1


def test_algorithm_functions_say_the_timeout_stopped_them():
    from algorithms import sssp
    from gasengine import ConvergenceError

    n = 50_000  # a path: one superstep per vertex, far longer than the timeout
    path = Graph(np.arange(n - 1), np.arange(1, n))
    with pytest.raises(ConvergenceError, match="stopped at its timeout") as info:
        sssp(path, 0, weight=None, by_id=False, timeout=0.05)
    assert info.value.result.timed_out and 0 < info.value.result.supersteps < n - 1


# ======================================================= fault injection
KILLED_DRIVER = """
    import sys
    sys.path.insert(0, {repo!r})
    from algorithms import PageRankProgram
    from gasengine import run
    from tests.datasets import random_graph
    g = random_graph(3000, 30000, seed=5)
    print("started", flush=True)
    run(PageRankProgram(tol=1e-13), g, workers=2, checkpoint_dir={folder!r}, checkpoint_every=2)
    print("finished", flush=True)
"""


def test_a_killed_driver_resumes_to_the_uninterrupted_answer(tmp_path):
    """SIGKILL of the driver of a multiprocess run once a checkpoint exists: its workers die with it, and a new
    run resumes from the checkpoint to the uninterrupted answer, leaving no process or segment behind."""
    import psutil

    from gasengine.shm import shm_dir

    script = tmp_path / "driver.py"
    folder = tmp_path / "ck"
    script.write_text(
        textwrap.dedent(KILLED_DRIVER.format(repo=str(Path(__file__).resolve().parents[1]), folder=str(folder)))
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not list(folder.glob("ckpt-*.json")) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        children = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    psutil.wait_procs(children, timeout=10)
    assert not any(c.is_running() and c.status() != psutil.STATUS_ZOMBIE for c in children)
    g = random_graph(3000, 30000, seed=5)
    again = run(PageRankProgram(tol=1e-13), g, workers=2, checkpoint_dir=folder, resume=True)
    assert again.resumed_from is not None and again.resumed_from >= 2
    full = run(PageRankProgram(tol=1e-13), g, workers=2)
    np.testing.assert_array_equal(again.field("rank"), full.field("rank"))
    assert not [p for p in shm_dir().glob(f"gasengine-{proc.pid}-*")]  # the dead driver's segments are gone


def test_a_killed_worker_resumes_to_the_uninterrupted_answer(tmp_path):
    """SIGKILL of a worker process: the run fails with WorkerFailed; resuming gives the uninterrupted answer."""
    from gasengine import WorkerFailed

    class Fragile(PageRankProgram):
        marker = str(tmp_path / "killed")

        def apply(self, v, acc):
            if v.superstep == 7 and not os.path.exists(self.marker) and os.getpid() != DRIVER:
                Path(self.marker).touch()
                os.kill(os.getpid(), signal.SIGKILL)
            return super().apply(v, acc)

    g = random_graph(500, 3000, seed=4)
    with pytest.raises(WorkerFailed):
        run(Fragile(tol=1e-12), g, workers=2, checkpoint_dir=tmp_path / "ck", checkpoint_every=3)
    again = run(Fragile(tol=1e-12), g, workers=2, checkpoint_dir=tmp_path / "ck", resume=True)
    assert again.resumed_from == 6
    np.testing.assert_array_equal(again.field("rank"), run(PageRankProgram(tol=1e-12), g, workers=2).field("rank"))


DRIVER = os.getpid()


def test_cli_checkpoint_options(tmp_path, capsys):
    from gasengine.cli import main

    edges = tmp_path / "edges.txt"
    np.savetxt(edges, np.random.default_rng(0).integers(0, 300, (1500, 2)), fmt="%d")
    base = ["run", "pagerank", "--input", str(edges), "--no-progress", "--checkpoint-dir", str(tmp_path / "ck")]
    assert main([*base, "--checkpoint-every", "3", "--max-supersteps", "7"]) == 2  # did not converge in 7
    assert main([*base, "--resume", "--output", str(tmp_path / "out.tsv")]) == 0
    assert "resumed from the checkpoint of step 6" in capsys.readouterr().err
    assert main(["run", "pagerank", "--input", str(edges), "--resume"]) == 2
    assert "--resume needs --checkpoint-dir" in capsys.readouterr().err
    want = pagerank(Graph.load(str(edges)), tol=1e-6)
    got = np.loadtxt(tmp_path / "out.tsv", skiprows=1)
    np.testing.assert_allclose(
        got[np.argsort(got[:, 0]), 1], want[np.argsort(Graph.load(str(edges)).original_ids())], rtol=1e-9
    )
