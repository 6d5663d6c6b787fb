"""Fault injection: SIGKILL a worker, or the whole driver, at random moments of checkpointed runs; resume.

Each trial runs a job on worker processes with checkpoints, kills it at a
random moment (a random worker process, or the driver process itself, which
runs in a child of this script), resumes it from its checkpoint directory
(again and again if a resumed run is killed too) and compares the final
answer with an uninterrupted run: exactly with the same number of workers,
and within 1e-12 after resuming on another number.  Jobs alternate between
PageRank on the synchronous engine and on the asynchronous engine (same
seed and batch size), so both engines' checkpoints are exercised.

    python benchmarks/fault_injection.py                 # 20 worker kills and 20 driver kills
    python benchmarks/fault_injection.py --trials 3 --json out.json

Exits non-zero if any trial's answer differs or a process or shared-memory
segment is left behind.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from algorithms import pagerank
from gasengine import WorkerFailed
from gasengine.shm import shm_dir
from tests.datasets import random_graph

JOBS = {
    "sync": {"engine": "sync"},
    "async": {"engine": "async", "scheduler": "priority", "batch_size": 2048, "seed": 3},  # delta PageRank
}
#: n, m, seed of each job's graph: runs of about a second on two workers, most of it in the engine
#: (sync PageRank converges in few supersteps, so it gets the bigger graph)
GRAPHS = {"sync": (200_000, 2_000_000, 7), "async": (20_000, 200_000, 7)}
WORKERS = 2


def graph(job: str):
    return random_graph(*GRAPHS[job])


def solve(job: str, **options) -> np.ndarray:
    """PageRank of the job's graph on the job's engine (``options``: workers, checkpoints)."""
    return pagerank(graph(job), tol=1e-10, **JOBS[job], **options)


def resume_until_done(job: str, folder: Path, workers: int, kill_after: float | None = None) -> tuple[np.ndarray, int]:
    """Resume the run in ``folder`` until it finishes (a worker is killed ``kill_after`` s into the first try)."""
    tries = 0
    while True:
        tries += 1
        killer = None
        if kill_after is not None and tries == 1:
            killer = threading.Thread(target=_kill_a_worker, args=(kill_after,), daemon=True)
            killer.start()
        try:
            return solve(job, workers=workers, checkpoint_dir=folder, checkpoint_every=3, resume=True), tries
        except WorkerFailed:
            continue
        finally:
            if killer is not None:
                killer.join()


def _kill_a_worker(after: float) -> None:
    """Once the run's worker processes are up, wait ``after`` seconds and SIGKILL one of them."""
    deadline = time.time() + 60
    while not (workers := psutil.Process().children()) and time.time() < deadline:
        time.sleep(0.001)
    time.sleep(after)
    workers = psutil.Process().children() or workers
    try:
        random.choice(workers).send_signal(signal.SIGKILL)
    except psutil.NoSuchProcess:  # the run ended first: that trial kills nothing
        pass


DRIVER = """
    import sys
    sys.path.insert(0, {repo!r})
    sys.path.insert(0, {here!r})
    from fault_injection import solve
    solve({job!r}, workers={workers}, checkpoint_dir={folder!r}, checkpoint_every=3, resume=True)
"""


def kill_the_driver(job: str, folder: Path, after: float) -> int:
    """Start the run in a driver process of its own and SIGKILL it ``after`` seconds later; its pid."""
    code = textwrap.dedent(
        DRIVER.format(repo=str(REPO), here=str(Path(__file__).parent), workers=WORKERS, folder=str(folder), job=job)
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(after)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    psutil.wait_procs(children, timeout=10)
    return proc.pid


def leftovers(pids: list[int]) -> dict[str, int]:
    alive = [c for c in psutil.Process().children(recursive=True) if c.status() != psutil.STATUS_ZOMBIE]
    segments = [p for p in shm_dir().glob("gasengine-*") if any(p.name.startswith(f"gasengine-{pid}-") for pid in pids)]
    return {"processes": len(alive), "segments": len(segments)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20, help="kills of each kind (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the trials as JSON")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    seconds, engine_seconds, reference = {}, {}, {}
    for job in JOBS:  # moments are drawn over a whole run (the driver) or over the workers' part of it
        start = time.perf_counter()
        reference[job], result = solve(job, workers=WORKERS, return_result=True)
        seconds[job] = time.perf_counter() - start
        engine_seconds[job] = float(sum(row.seconds for row in result.steps))
    print(
        "uninterrupted runs: "
        + ", ".join(f"{job} {seconds[job]:.2f} s ({engine_seconds[job]:.2f} s in the engine)" for job in JOBS),
        flush=True,
    )
    rows = []
    for kind in ("worker", "driver"):
        for trial in range(args.trials):
            job = list(JOBS)[trial % len(JOBS)]
            moment = rng.uniform(0.05, 0.9) * (engine_seconds[job] if kind == "worker" else seconds[job])
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                pids = [os.getpid()]
                if kind == "worker":
                    ranks, tries = resume_until_done(job, folder, WORKERS, kill_after=moment)
                else:
                    pids.append(kill_the_driver(job, folder, moment))
                    ranks, tries = resume_until_done(job, folder, WORKERS)
                    tries += 1
                steps = sorted(int(p.name[5:14]) for p in folder.glob("ckpt-*.json"))
                exact = bool(np.array_equal(ranks, reference[job]))
                # and once more on another worker count, from the newest checkpoint
                other = solve(job, workers=1, checkpoint_dir=folder, resume=True)
                gap = float(np.max(np.abs(other - reference[job]) / np.abs(reference[job])))
                left = leftovers(pids)
            rows.append(
                {
                    "kill": kind,
                    "job": job,
                    "moment": round(moment, 3),
                    "tries": tries,
                    "exact": exact,
                    "other_workers_rel_gap": gap,
                    "checkpoints_left": steps,
                    **left,
                }
            )
            print(
                f"{kind:6} {job:5} kill at {moment:5.2f} s  tries {tries}  exact {exact}  "
                f"1-worker gap {gap:.1e}  left: {left['processes']} processes, {left['segments']} segments",
                flush=True,
            )
    bad = [r for r in rows if not r["exact"] or r["other_workers_rel_gap"] > 1e-12 or r["processes"] or r["segments"]]
    summary = {kind: sum(r["exact"] for r in rows if r["kill"] == kind) for kind in ("worker", "driver")}
    print(
        f"exact after resume: {summary['worker']}/{args.trials} worker kills, {summary['driver']}/{args.trials} "
        f"driver kills; largest gap on 1 worker {max(r['other_workers_rel_gap'] for r in rows):.1e}; "
        f"{len(bad)} bad trials"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"uninterrupted_seconds": seconds, "trials": rows}, indent=1))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
