"""The general gather/scatter path and small frontiers, against the same work written by hand.

Issue 10, points 1 and 2.  In one run on the same graphs:

* **general gather** — PageRank written with ``gather(e)`` (not the
  sum-product shortcut): one superstep with every vertex active, P=1,
  against the same step in numpy over destination-grouped edges (takes of
  the neighbour fields, the multiply, ``np.add.reduceat``, the apply
  arithmetic);
* **general scatter** — a scatter that computes a per-edge value from both
  ends, writes it to an edge field and signals where it is positive, against
  the same numpy by hand;
* **hot-first product** — the sparse product of an all-row sum-product
  gather over the part's hot-first renumbering (``Part.hot_first_gather_matrix``,
  the values permuted first) against the plain one, same part, alternated;
* **sorted distinct ids** — ``kernels.sorted_distinct`` (a bitmap read in
  order) against a sort and against a bool mask and ``np.flatnonzero``, the
  two ways the touched vertices of a push were listed before, for 1,000 to
  70,000 ids of 262,144;
* **small frontiers** — the cost of one superstep of shortest paths against
  the number of active vertices, on a 1000 x 1000 grid (1M vertices), from
  one active vertex up.

Usage::

    python benchmarks/kernels.py                # R-MAT 20 (16.7M edges) and the 1M grid
    python benchmarks/kernels.py --scale 16     # a quick look

Ratios are medians of paired runs (engine step, then the hand-written one),
with the spread; this machine's timings move by tens of percent.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from algorithms import SSSPProgram
from gasengine import IN, OUT, Graph, VertexProgram
from gasengine.backends import LocalBackend
from gasengine.execution import initial_fields, make_cut
from gasengine.frontier import Frontier
from gasengine.generators import grid, rmat
from gasengine.kernels import sorted_distinct, spmv
from gasengine.parts import build_parts
from gasengine.sync_engine import SyncEngine


class GeneralPageRank(VertexProgram):
    """PageRank with a general per-edge gather (no neighbour-only shortcut)."""

    gather_edges = IN

    def init(self, v):
        out = v.out_degree().astype(np.float64)
        v.data["inv_out"] = np.divide(1.0, out, out=np.zeros(len(v)), where=out != 0)
        v.data["rank"] = np.full(len(v), 1.0 / v.num_vertices)

    def gather(self, e):
        return e.nbr_data["rank"] * e.nbr_data["inv_out"]

    def apply(self, v, acc):
        v.data["rank"] = 0.85 * acc + 0.15 / v.num_vertices
        v.signal()


class EdgeScatter(VertexProgram):
    """A scatter reading both ends and writing an edge field."""

    scatter_edges = OUT

    def init(self, v):
        v.data["x"] = np.cos(v.ids.astype(np.float64))

    def init_edges(self, e):
        e.data["flow"] = np.zeros(len(e))

    def apply(self, v, acc):
        v.data["x"] = v.data["x"] * 0.5

    def scatter(self, e):
        flow = e.src_data["x"] - e.dst_data["x"]
        e.data["flow"] = flow
        return flow > 0


def engine_for(program: VertexProgram, g: Graph) -> SyncEngine:
    vf, ef = initial_fields(program, g)
    parts = build_parts(g, make_cut(g, "hdrf", 1, 0), vf, ef)
    n = g.num_vertices
    return SyncEngine(program, parts, np.zeros(1, dtype=np.int64), LocalBackend(), n, (), {0: np.ones(n, dtype=bool)})


def hand_gather(g: Graph) -> callable:
    """The PageRank step by hand over destination-grouped edges."""
    order = np.argsort(g.dst, kind="stable")
    src, dst = g.src[order], g.dst[order]
    n = g.num_vertices
    counts = np.bincount(dst, minlength=n)
    nonempty = np.flatnonzero(counts)
    starts = (np.cumsum(counts) - counts)[nonempty]
    out = np.bincount(g.src, minlength=n).astype(np.float64)
    inv_out = np.divide(1.0, out, out=np.zeros(n), where=out != 0)
    rank = np.full(n, 1.0 / n)

    def step():
        nonlocal rank
        values = rank[src] * inv_out[src]
        acc = np.zeros(n)
        acc[nonempty] = np.add.reduceat(values, starts)
        rank = 0.85 * acc + 0.15 / n

    return step


def hand_scatter(g: Graph) -> callable:
    x = np.cos(np.arange(g.num_vertices, dtype=np.float64))
    flow_field = np.zeros(g.num_edges)

    def step():
        nonlocal x
        x = x * 0.5
        flow = x[g.src] - x[g.dst]
        flow_field[:] = flow
        signalled = np.zeros(g.num_vertices, dtype=bool)
        signalled[g.dst[flow > 0]] = True

    return step


def paired(engine_step, hand_step, pairs: int) -> tuple[float, float, float, float]:
    """Median engine and hand seconds and the median and spread of their ratio."""
    engine_step(), hand_step()  # warm up (compilation, first-touch)
    e_times, h_times = [], []
    for _ in range(pairs):
        t = time.perf_counter()
        engine_step()
        e_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        hand_step()
        h_times.append(time.perf_counter() - t)
    ratios = np.array(e_times) / np.array(h_times)
    return (
        float(np.median(e_times)),
        float(np.median(h_times)),
        float(np.median(ratios)),
        float(ratios.max() - ratios.min()),
    )


def hot_first_pair(g: Graph) -> tuple[callable, callable]:
    """One part's all-row in-gather product over the hot-first renumbering, and the plain one."""
    part = build_parts(g, make_cut(g, "hdrf", 1, 0), {}, {})[0]
    x = np.random.default_rng(0).random(part.num_local)
    ptr, nbr, _ = part.gather_matrix(IN, None)
    _, hot, _, order = part.hot_first_gather_matrix(IN, None)
    assert np.array_equal(spmv(ptr, hot, None, x[order]), spmv(ptr, nbr, None, x))  # the same sums
    return (lambda: spmv(ptr, hot, None, x[order])), (lambda: spmv(ptr, nbr, None, x))


SET_SIZE = 1 << 18  # R-MAT 18's vertices: an asynchronous round's pushes touch thousands to tens of thousands


def sorted_distinct_trio(k: int) -> tuple[callable, callable, callable]:
    """``sorted_distinct`` of ``k`` distinct ids, and the two ways it replaced: a sort, a mask and a scan."""
    ids = np.random.default_rng(k).choice(SET_SIZE, k, replace=False).astype(np.intp)

    def by_mask() -> np.ndarray:
        mask = np.zeros(SET_SIZE, dtype=bool)
        mask[ids] = True
        return np.flatnonzero(mask)

    assert np.array_equal(sorted_distinct(ids, SET_SIZE), by_mask())
    return (lambda: sorted_distinct(ids, SET_SIZE)), (lambda: np.sort(ids)), by_mask


def frontier_table(k: int, reps: int) -> list[tuple[int, float, float]]:
    """Median and min seconds of one shortest-path superstep against the number of active vertices."""
    g = grid(k, weighted=True, seed=0)
    engine = engine_for(SSSPProgram(0, "weight"), g)
    part = engine.parts[0]
    n = g.num_vertices
    rng = np.random.default_rng(1)
    part.csr(OUT)
    rows = []
    for active in [a for a in (1, 10, 100, 1000, 10_000, 100_000) if a < n] + [n]:
        times = []
        for _ in range(reps):
            part.vdata["dist"][:] = np.inf
            ids = rng.choice(n, active, replace=False)
            part.vdata["dist"][ids] = rng.uniform(0, 10, active)  # the frontier improves its neighbours
            engine.active = {0: Frontier.of_ids(n, ids)}
            t = time.perf_counter()
            engine.superstep(active)
            times.append(time.perf_counter() - t)
        rows.append((active, float(np.median(times)), float(np.min(times))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20, help="R-MAT scale for the gather and scatter (default 20)")
    parser.add_argument("--grid", type=int, default=1000, help="side of the grid for the frontier table (default 1000)")
    parser.add_argument("--pairs", type=int, default=7, help="paired runs per ratio (default 7)")
    args = parser.parse_args()

    g = rmat(args.scale)
    print(f"R-MAT {args.scale}: {g.num_vertices} vertices, {g.num_edges} edges\n")
    print("| work | engine s | by hand s | ratio (median) | spread |")
    print("|---|---:|---:|---:|---:|")
    gather_engine = engine_for(GeneralPageRank(), g)
    e, h, r, spread = paired(lambda: gather_engine.superstep(g.num_vertices), hand_gather(g), args.pairs)
    print(f"| general gather superstep (PageRank with `gather(e)`), P=1 | {e:.4f} | {h:.4f} | {r:.2f} | {spread:.2f} |")
    scatter_engine = engine_for(EdgeScatter(), g)

    def scatter_step():
        scatter_engine.active = {0: Frontier.everything(g.num_vertices)}
        scatter_engine.superstep(g.num_vertices)

    e, h, r, spread = paired(scatter_step, hand_scatter(g), args.pairs)
    print(
        f"| general scatter superstep (edge field written, signals), P=1 | {e:.4f} | {h:.4f} | {r:.2f} | {spread:.2f} |"
    )

    hot, plain = hot_first_pair(g)
    e, h, r, spread = paired(hot, plain, 2 * args.pairs + 1)
    print(f"| hot-first product (permutation included) vs plain, P=1 | {e:.4f} | {h:.4f} | {r:.2f} | {spread:.2f} |")

    print(f"\nSorted distinct ids (`kernels.sorted_distinct`) of {SET_SIZE} vertices, {4 * args.pairs + 1} pairs:\n")
    print("| ids | bitmap us | sort us | ratio | mask + flatnonzero us | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for k in (1_000, 4_000, 20_000, 70_000):
        bitmap, sort, mask = sorted_distinct_trio(k)
        b, s_, r1, _ = paired(bitmap, sort, 4 * args.pairs + 1)
        _, m, r2, _ = paired(bitmap, mask, 4 * args.pairs + 1)
        print(f"| {k} | {b * 1e6:.0f} | {s_ * 1e6:.0f} | {r1:.2f} | {m * 1e6:.0f} | {r2:.2f} |")

    print(f"\nShortest-path superstep on a {args.grid} x {args.grid} grid against the frontier size:\n")
    print("| active vertices | median ms | min ms |")
    print("|---:|---:|---:|")
    for active, med, low in frontier_table(args.grid, reps=15):
        print(f"| {active} | {med * 1e3:.3f} | {low * 1e3:.3f} |")


if __name__ == "__main__":
    main()
