"""Worker processes: PageRank supersteps with 1 and 2 workers against bare scipy.

Measures, in one run:

* seconds per PageRank superstep on R-MAT scale 20 (20 iterations): bare
  single-threaded scipy iteration, the engine with one worker in-process,
  with one worker process, and with two worker processes (``partitions`` =
  workers, HDRF cut);
* per-superstep overhead on a ~1000-vertex graph with two workers;
* peak memory of driver plus workers above what the driver held before the
  run (which includes the graph), against the bytes of the graph's ``src``
  and ``dst`` arrays; see :class:`PeakMemory` for how it is counted.

Usage::

    python benchmarks/workers.py             # scale 20
    python benchmarks/workers.py --scale 16  # quick look
"""

from __future__ import annotations

import argparse
import glob
import os
import threading
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
    """

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            before = {p.pid for p in me.children(recursive=True)}
            total = _private_pss(me)
            for pid in before:
                try:
                    total += _private_pss(psutil.Process(pid))
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            total += _segment_bytes()
            if {p.pid for p in me.children(recursive=True)} == before:
                self.peak = max(self.peak, total)
            time.sleep(0.02)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--iterations", type=int, default=20)
    args = parser.parse_args()

    g = rmat(args.scale, 16, seed=1)
    graph_bytes = g.src.nbytes + g.dst.nbytes
    base = _private_pss(psutil.Process())
    print(f"R-MAT {args.scale}: {g.num_vertices} vertices, {g.num_edges} edges; edge arrays {graph_bytes / 2**20:.0f} MiB; "
          f"{os.cpu_count()} cores")
    print()
    print("| run | s / superstep | exchange s | ratio to bare scipy | whole run s | peak PSS above start (MiB) | peak / graph arrays |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    bare_total, iters, _ = bare_scipy_pagerank(g, args.iterations)
    bare = bare_total / iters
    print(f"| bare scipy iteration (1 thread) | {bare:.4f} | | 1.00 | {bare_total:.2f} | | |", flush=True)
    for label, workers, backend in (
        ("engine, 1 worker in-process", 1, "local"),
        ("engine, 1 worker process", 1, "multiprocess"),
        ("engine, 2 worker processes", 2, "multiprocess"),
    ):
        # Timed without the sampler: reading /proc/*/smaps costs a core here.
        step, exch, total = superstep_seconds(g, args.iterations, workers, backend)
        with PeakMemory() as mem:
            superstep_seconds(g, 3, workers, backend)
        extra = (mem.peak - base) / 2**20
        print(f"| {label} | {step:.4f} | {exch:.4f} | {step / bare:.2f} | {total:.2f} | {extra:.0f} | "
              f"{(mem.peak - base) / graph_bytes:.2f} |", flush=True)

    small = rmat(10, 8, seed=3)
    print()
    print(f"Overhead on a small graph ({small.num_vertices} vertices, {small.num_edges} edges), 200 supersteps:")
    for label, workers, backend in (("1 worker in-process", 1, "local"), ("2 worker processes", 2, "multiprocess")):
        result = run(PageRankProgram(tol=0.0), small, workers=workers, backend=backend, max_supersteps=200)
        secs = result.steps.column("seconds")[5:]
        print(f"- {label}: median {np.median(secs) * 1e3:.2f} ms per superstep (mean {secs.mean() * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
