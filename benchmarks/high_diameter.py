"""Shortest paths and connected components against scipy.sparse.csgraph, on graphs of every diameter.

Issue 10, point 3.  In one run, on the same graphs held in memory:

* a 1000 x 1000 grid with weights uniform in [1, 2) (diameter 1,998);
* a road-like graph: 500,000 random points each joined to its 3 nearest
  neighbours, weighted by length;
* R-MAT scale 20 (components only; small diameter, skewed degrees).

Engine times are for a run whose cut and part layouts an earlier run on the
same graph already built (``gasengine.cache``); scipy's include nothing but
its call on a CSR matrix built beforehand.  Every answer is checked to be
identical to scipy's.  Medians of ``--repeat`` runs.

Usage::

    python benchmarks/high_diameter.py
    python benchmarks/high_diameter.py --grid 300 --road 50000 --scale 16   # a quick look
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse.csgraph as csg

from algorithms import connected_components, min_label_components, sssp
from gasengine import Graph
from gasengine.generators import grid, rmat, road_like


def median_seconds(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def component_minima(g: Graph, found: tuple[int, np.ndarray]) -> np.ndarray:
    """scipy's labelling as the engine's: the smallest vertex number of each component."""
    n, labels = found
    mins = np.full(n, g.num_vertices)
    np.minimum.at(mins, labels, np.arange(g.num_vertices))
    return mins[labels]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=1000)
    parser.add_argument("--road", type=int, default=500_000)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--min-label", action="store_true", help="also time min-label propagation (slow on the grid)")
    args = parser.parse_args()
    graphs = [
        (f"{args.grid} x {args.grid} weighted grid", grid(args.grid, weighted=True, seed=0), True),
        (f"road-like, {args.road} vertices (3 nearest)", road_like(args.road, seed=0), True),
        (f"R-MAT {args.scale}", rmat(args.scale), False),
    ]
    print("| graph | work | engine s | scipy s | ratio | supersteps | identical |")
    print("|---|---|---:|---:|---:|---:|:---:|")
    for name, g, weighted in graphs:
        A = g.to_scipy()
        if weighted:
            ref_t, ref = median_seconds(lambda: csg.dijkstra(A, indices=0), args.repeat)
            for label, delta in (("sssp (delta-stepping)", "auto"), ("sssp (Bellman-Ford order)", None)):
                sssp(g, 0, by_id=False, delta=delta)  # builds the cached structures
                t, (dist, result) = median_seconds(
                    lambda: sssp(g, 0, by_id=False, delta=delta, return_result=True), args.repeat
                )
                print(
                    f"| {name} | {label} | {t:.3f} | {ref_t:.3f} | {t / ref_t:.1f} | {result.supersteps} "
                    f"| {np.array_equal(dist, ref)} |"
                )
        ref_t, found = median_seconds(
            lambda: csg.connected_components(A, directed=True, connection="weak"), args.repeat
        )
        ref = component_minima(g, found)
        runs = [("components (pointer jumping)", connected_components)]
        if args.min_label:
            runs.append(("components (min-label)", min_label_components))
        for label, algorithm in runs:
            algorithm(g)
            t, (labels, result) = median_seconds(lambda: algorithm(g, return_result=True), args.repeat)
            print(
                f"| {name} | {label} | {t:.3f} | {ref_t:.3f} | {t / ref_t:.1f} | {result.supersteps} "
                f"| {np.array_equal(labels, ref)} |"
            )


if __name__ == "__main__":
    main()
