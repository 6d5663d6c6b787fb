"""The chromatic and asynchronous engines against the synchronous one (issue 11, point 8), in one run.

* a chromatic PageRank sweep (edge consistency: a distance-1 colouring)
  against a synchronous superstep, on R-MAT scale 20, in five alternated
  pairs of runs — each pair compares medians over sweeps and supersteps
  2..4 (the first sweep also copies each colour class's rows of the gather
  matrix out);
* asynchronous delta-PageRank (priority scheduler, edge consistency) on
  R-MAT scale 18: vertex updates per second over the rounds, with 1 and 2
  worker processes, and the share of a round spent choosing candidates and
  granting their locks, under ``edge`` and ``full``;
* the same program with ``batch_size=1`` (the sequential execution): the
  cost of one round, i.e. the engine's per-update overhead.

Usage::

    python benchmarks/consistency.py                 # R-MAT 20 and 18
    python benchmarks/consistency.py --chromatic-scale 16 --async-scale 14
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from algorithms import DeltaPageRankProgram, PageRankProgram
from gasengine import run
from gasengine.generators import rmat


def sweeps(g, engine: str, count: int = 4) -> tuple[list[float], int]:
    """Seconds of each superstep (sync) or sweep (chromatic) of ``count``, and the colours."""
    r = run(PageRankProgram(tol=1e-12), g, max_supersteps=count, engine=engine, consistency="edge")
    seconds, step = r.steps.column("seconds"), r.steps.column("superstep")
    return [float(seconds[step == k].sum()) for k in range(1, r.supersteps + 1)], r.colors


def chromatic_vs_sync(scale: int, pairs: int = 5) -> None:
    """Paired runs, alternated (this machine's speed drifts by tens of percent within minutes): in
    each pair the median of supersteps 2..4 against the median of sweeps 2..4 (the first sweep also
    copies each colour class's rows of the gather matrix out)."""
    g = rmat(scale, 16, seed=1)
    for engine in ("sync", "chromatic"):
        sweeps(g, engine, 1)  # compile, colour, cache the cut
    print(f"\nPageRank on R-MAT {scale} ({g.num_vertices} vertices, {g.num_edges} edges), edge consistency")
    print("  pair   sync superstep ms   chromatic sweep ms   ratio")
    ratios = []
    for i in range(pairs):
        sync, _ = sweeps(g, "sync")
        chromatic, colours = sweeps(g, "chromatic")
        s, c = float(np.median(sync[1:])), float(np.median(chromatic[1:]))
        ratios.append(c / s)
        print(f"  {i + 1:4d}   {s * 1e3:17.1f}   {c * 1e3:18.1f}   {c / s:5.2f}")
    print(
        f"  {colours} colours; ratio sweep / superstep: median {np.median(ratios):.2f} "
        f"(spread {min(ratios):.2f}-{max(ratios):.2f}; target <= 1.5)"
    )


def throughput(g, rounds: int, **options) -> dict[str, float]:
    r = run(DeltaPageRankProgram(tol=1e-10), g, engine="async", scheduler="priority", max_supersteps=rounds, **options)
    t = r.steps
    seconds = float(t.column("seconds").sum())
    updates = int(t.column("updates").sum())
    return dict(
        updates=updates,
        rounds=r.supersteps,
        seconds=seconds,
        per_second=updates / seconds,
        lock=float(t.column("lock_seconds").sum()) / seconds,
        exchange=float(t.column("exchange_seconds").sum()) / seconds,
        ran=updates / max(r.supersteps, 1),
        candidates=float(t.column("candidates").mean()),
    )


def async_delta_pagerank(scale: int, rounds: int) -> None:
    g = rmat(scale, 16, seed=1)
    n = g.num_vertices
    sync = run(PageRankProgram(tol=1e-12), g, max_supersteps=3)
    sync_rate = n / float(np.median(sync.steps.column("seconds")[1:]))
    throughput(g, 3, consistency="edge")  # compile
    print(
        f"\nAsynchronous delta-PageRank on R-MAT {scale} ({n} vertices, {g.num_edges} edges), priority "
        f"scheduler, {rounds} rounds from the start (tol 1e-10)"
    )
    print(f"  (a synchronous PageRank superstep updates {sync_rate / 1e6:.2f}M vertices per second here)")
    print("  setting                       updates/s   ran/round  candidates  lock share  exchange share")
    for label, options in [
        ("edge, 1 worker", dict(consistency="edge")),
        ("edge, 1 worker, B=32768", dict(consistency="edge", batch_size=32768)),
        ("edge, 2 workers", dict(consistency="edge", workers=2)),
        ("full, 1 worker", dict(consistency="full")),
        ("vertex, 1 worker", dict(consistency="vertex")),
    ]:
        m = throughput(g, rounds, **options)
        print(
            f"  {label:28s} {m['per_second'] / 1e6:7.3f}M  {m['ran']:10.0f}  {m['candidates']:10.0f}"
            f"  {m['lock']:10.0%}  {m['exchange']:13.0%}"
        )
    one = throughput(g, 2000, consistency="edge", batch_size=1)
    print(
        f"  batch_size=1 (sequential): {one['seconds'] / one['rounds'] * 1e6:.0f} us per round = per update "
        f"({one['per_second']:.0f} updates/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromatic-scale", type=int, default=20)
    parser.add_argument("--async-scale", type=int, default=18)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    start = time.perf_counter()
    chromatic_vs_sync(args.chromatic_scale)
    async_delta_pagerank(args.async_scale, args.rounds)
    print(f"\n(total {time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
