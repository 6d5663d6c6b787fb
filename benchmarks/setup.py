"""Whole runs, set-up included: the first run, a second one on cached structures, and worker processes.

Issue 10, points 4 and 5, in one run on R-MAT scale 20 (16.7M edges):

* PageRank to tol 1e-8, end to end: the engine's first run (cut, part
  layout, fields, supersteps) against the same solve in scipy *including its
  CSR build*, and against igraph's ``Graph.pagerank`` (the igraph graph is
  built beforehand and not timed);
* the engine's second run on the same graph, which reuses the cached cut and
  layouts: its set-up (everything but the supersteps) as a fraction of the
  first run's;
* connected components with 1 and 2 worker processes, both on cached structures;
* a PageRank superstep with 2 worker processes against the bare
  single-threaded scipy iteration, in five paired runs (bare, then 2 workers).

Usage::

    python benchmarks/setup.py            # R-MAT 20
    python benchmarks/setup.py --scale 16
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp

from algorithms import PageRankProgram, connected_components, pagerank
from gasengine import Graph, run
from gasengine.generators import rmat

from pagerank import bare_scipy_pagerank  # benchmarks/ is the script's directory


def scipy_pagerank(g: Graph, tol: float) -> tuple[float, np.ndarray]:
    """networkx's iteration and stopping rule, CSR build included in the time."""
    start = time.perf_counter()
    n = g.num_vertices
    A = sp.csr_matrix((np.ones(g.num_edges), (g.dst, g.src)), shape=(n, n))
    out = np.asarray(A.sum(axis=0)).ravel()
    inv_out = np.divide(1.0, out, out=np.zeros(n), where=out != 0)
    dangling = out == 0
    rank = np.full(n, 1.0 / n)
    for _ in range(100):
        new = 0.85 * (A @ (rank * inv_out) + rank[dangling].sum() / n) + 0.15 / n
        err = np.abs(new - rank).sum()
        rank = new
        if err < n * tol:
            break
    return time.perf_counter() - start, rank


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--tol", type=float, default=1e-8)
    args = parser.parse_args()
    pagerank(rmat(8), tol=args.tol)  # compile and load the kernels outside the timings
    g = rmat(args.scale)
    print(f"R-MAT {args.scale}: {g.num_vertices} vertices, {g.num_edges} edges\n")
    print("| run | seconds | set-up s | ratio |")
    print("|---|---:|---:|---:|")
    scipy_s, scipy_rank = scipy_pagerank(g, args.tol)
    first_s, (ranks, first) = timed(lambda: pagerank(g, tol=args.tol, return_result=True))
    first_setup = first_s - first.steps.column("seconds").sum()
    second_s, (_, second) = timed(lambda: pagerank(g, tol=args.tol, return_result=True))
    second_setup = second_s - second.steps.column("seconds").sum()
    print(f"| scipy PageRank, CSR build included | {scipy_s:.3f} | | 1.00 |")
    print(
        f"| engine PageRank, first run (cut, layout, fields) | {first_s:.3f} | {first_setup:.3f} "
        f"| {first_s / scipy_s:.2f} |"
    )
    print(
        f"| engine PageRank, second run (cached cut and layout) | {second_s:.3f} | {second_setup:.3f} "
        f"| {second_s / scipy_s:.2f} |"
    )
    try:
        import igraph

        ig = igraph.Graph(n=g.num_vertices, edges=np.stack([g.src, g.dst], axis=1).tolist(), directed=True)
        igraph_s, igraph_rank = timed(ig.pagerank)
        print(f"| igraph `Graph.pagerank` (graph built beforehand) | {igraph_s:.3f} | | {igraph_s / scipy_s:.2f} |")
        print(
            f"\nL1(engine, igraph) = {np.abs(ranks - np.asarray(igraph_rank)).sum():.2e}; "
            f"L1(engine, scipy) = {np.abs(ranks - scipy_rank).sum():.2e}"
        )
    except ImportError:
        print("| igraph | not installed | | |")
    print(
        f"\nsecond run's set-up / first run's: {second_setup / first_setup:.1%}; "
        f"engine cache holds {g.engine_cache_bytes() / 2**20:.0f} MiB\n"
    )

    print("| connected components | seconds | supersteps s |")
    print("|---|---:|---:|")
    for workers in (1, 2):
        connected_components(g, workers=workers)  # cut and layouts for this many parts
        rows = [timed(lambda: connected_components(g, workers=workers, return_result=True)) for _ in range(3)]
        s = float(np.median([r[0] for r in rows]))
        steps = float(np.median([r[1][1].steps.column("seconds").sum() for r in rows]))
        print(f"| {workers} worker{'s' if workers > 1 else ''} (median of 3, cached) | {s:.3f} | {steps:.3f} |")

    print("\n| pair | bare scipy iteration ms | 2-worker superstep ms | ratio |")
    print("|---:|---:|---:|---:|")
    run(PageRankProgram(tol=0), g, workers=2, max_supersteps=2)  # cut and layouts for 2 parts
    ratios = []
    for i in range(5):
        bare_s, iterations, _ = bare_scipy_pagerank(g, 10)
        bare = bare_s / iterations
        steps = run(PageRankProgram(tol=0), g, workers=2, max_supersteps=11).steps.column("seconds")[1:]
        engine = float(np.median(steps))
        ratios.append(engine / bare)
        print(f"| {i + 1} | {bare * 1e3:.1f} | {engine * 1e3:.1f} | {engine / bare:.2f} |")
    print(f"\nmedian ratio {np.median(ratios):.2f} (spread {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
