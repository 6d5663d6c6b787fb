"""Worker processes: PageRank supersteps with 1 and 2 workers against bare scipy.

Measures, in one run:

* seconds per PageRank superstep on R-MAT scale 20 (20 iterations): bare
  single-threaded scipy iteration, the engine with one worker in-process,
  with one worker process, and with two worker processes (``partitions`` =
  workers, HDRF cut);
* per-superstep overhead on a ~1000-vertex graph with two workers;
* peak memory of driver plus workers above what the driver held before the
  run (which includes the graph), in a fresh process per configuration,
  against the bytes of the graph's ``src`` and ``dst`` arrays; see
  :class:`PeakMemory` for how it is counted.

Usage::

    python benchmarks/workers.py             # scale 20
    python benchmarks/workers.py --scale 16  # quick look
"""

from __future__ import annotations

import argparse
import glob
import os
import select
import subprocess
import sys
import time

import numpy as np
import psutil

from algorithms import PageRankProgram
from gasengine import Graph, run
from gasengine.generators import rmat
from gasengine.shm import shm_dir

from pagerank import bare_scipy_pagerank  # benchmarks/ is the script's directory

SEGMENTS = str(shm_dir() / "gasengine-")


class PeakMemory:
    """Peak memory of this process, its worker processes and the run's shared memory.

    A sample adds, over the processes, the PSS of every mapping except the
    run's ``/dev/shm`` segments (PSS splits a page shared after ``fork``
    among the processes that share it, so it counts once), and then the
    segments' own size, mapped or not.  A sample is kept only when the set
    of children is the same before and after it: a parent read before a
    fork and its children read after would count the shared pages twice.

    The sampler is a process of its own: a thread here could not run while
    a compiled kernel holds the GIL, and would miss the peaks inside it.
    """

    def __init__(self) -> None:
        self.peak = 0

    def __enter__(self) -> PeakMemory:
        self._sampler = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--sample-pid", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._sampler.stdout.readline()  # "ready": it has taken its first sample
        return self

    def __exit__(self, *exc) -> None:
        out, _ = self._sampler.communicate("")  # closing stdin stops it
        self.peak = int(out.split()[-1])


def sample_until_stdin_closes(pid: int) -> None:
    """The sampler's loop (see :class:`PeakMemory`); prints the peak in bytes."""
    target, me, peak = psutil.Process(pid), os.getpid(), 0
    while True:
        before = {p.pid for p in target.children(recursive=True)} - {me}
        total = _private_pss(target) + _segment_bytes()
        for child in before:
            try:
                total += _private_pss(psutil.Process(child))
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        if {p.pid for p in target.children(recursive=True)} - {me} == before:
            if peak == 0:
                print("ready", flush=True)
            peak = max(peak, total)
        if select.select([sys.stdin], [], [], 0.02)[0]:
            break
    print(peak, flush=True)


def _private_pss(proc: psutil.Process) -> int:
    """PSS of a process's mappings other than gasengine segments (counted by :func:`_segment_bytes`)."""
    return sum(m.pss for m in proc.memory_maps(grouped=True) if not m.path.startswith(SEGMENTS))


def _segment_bytes() -> int:
    """Bytes of RAM held by gasengine's shared-memory files."""
    total = 0
    for path in glob.glob(SEGMENTS + "*"):
        try:
            total += os.stat(path).st_blocks * 512
        except FileNotFoundError:
            pass
    return total


def superstep_seconds(g: Graph, iterations: int, workers: int, backend: str) -> tuple[float, float, float]:
    """Median superstep seconds, median exchange seconds, and total seconds of one run."""
    start = time.perf_counter()
    result = run(PageRankProgram(tol=0.0), g, workers=workers, backend=backend, max_supersteps=iterations)
    total = time.perf_counter() - start
    steps = result.steps
    return float(np.median(steps.column("seconds")[1:])), float(np.median(steps.column("exchange_seconds")[1:])), total


def peak_memory(scale: int, workers: int, backend: str) -> int:
    """Peak bytes a 3-superstep run adds to a fresh process that holds the graph.

    Run in a child process of its own, so nothing an earlier run freed but
    the allocator kept (and would reuse) makes this run look cheaper.
    """
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import workers; "
        "print(workers.measure_memory(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]))"
    )
    here = os.path.dirname(os.path.abspath(__file__))
    out = subprocess.run(
        [sys.executable, "-c", code, here, str(scale), str(workers), backend],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(out.split()[-1])


def measure_memory(scale: int, workers: int, backend: str) -> int:
    """In this process: peak memory of a run above what the process held before it."""
    g = rmat(scale, 16, seed=1)
    superstep_seconds(rmat(8, 8, seed=1), 2, workers, backend)  # load compiled kernels
    base = _private_pss(psutil.Process())
    with PeakMemory() as mem:
        superstep_seconds(g, 3, workers, backend)
    return mem.peak - base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args()

    g = rmat(args.scale, 16, seed=1)
    graph_bytes = g.src.nbytes + g.dst.nbytes
    print(
        f"R-MAT {args.scale}: {g.num_vertices} vertices, {g.num_edges} edges; "
        f"edge arrays {graph_bytes / 2**20:.0f} MiB; "
        f"{os.cpu_count()} cores"
    )
    print()
    print(
        "| run | s / superstep | exchange s | ratio to bare scipy | whole run s "
        "| peak memory above start (MiB) | peak / graph arrays |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    bare_total, iters, _ = bare_scipy_pagerank(g, args.iterations)
    bare = bare_total / iters
    print(f"| bare scipy iteration (1 thread) | {bare:.4f} | | 1.00 | {bare_total:.2f} | | |", flush=True)
    for label, workers, backend in (
        ("engine, 1 worker in-process", 1, "local"),
        ("engine, 1 worker process", 1, "multiprocess"),
        ("engine, 2 worker processes", 2, "multiprocess"),
    ):
        step, exch, total = superstep_seconds(g, args.iterations, workers, backend)
        # Measured apart from the timing: reading /proc/*/smaps costs a core here.
        extra = peak_memory(args.scale, workers, backend)
        print(
            f"| {label} | {step:.4f} | {exch:.4f} | {step / bare:.2f} | {total:.2f} | {extra / 2**20:.0f} | "
            f"{extra / graph_bytes:.2f} |",
            flush=True,
        )

    small = rmat(10, 8, seed=3)
    print()
    print(f"Overhead on a small graph ({small.num_vertices} vertices, {small.num_edges} edges), 200 supersteps:")
    for label, workers, backend in (("1 worker in-process", 1, "local"), ("2 worker processes", 2, "multiprocess")):
        result = run(PageRankProgram(tol=0.0), small, workers=workers, backend=backend, max_supersteps=200)
        secs = result.steps.column("seconds")[5:]
        print(f"- {label}: median {np.median(secs) * 1e3:.2f} ms per superstep (mean {secs.mean() * 1e3:.2f} ms)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sample-pid"]:
        sample_until_stdin_closes(int(sys.argv[2]))
    else:
        main()
