"""ALS: one iteration on the engine against the same iteration written directly in numpy.

Measures, in one run on the same synthetic ratings (default 1,000,000
distinct (user, item) cells of 20,000 users x 5,000 items, rating 1..5 from a
rank-5 model with biases and noise; rank k = 10):

* **engine vs numpy**: seconds per ALS iteration (users' half-step, then the
  items') of :func:`algorithms.als.als` (one process, one part; the
  iteration's two supersteps from ``Result.steps``, so partitioning and
  ``init`` are not counted) against the same iteration written directly in
  numpy: each side's edges grouped by vertex once beforehand (as the
  engine's layouts are), then per block of vertices their neighbours'
  ``z = [factors, 1, rating - mu - bias]`` padded into a ``(B, D, k + 2)``
  stack, one batched ``einsum`` for every vertex's ``sum z z^T``, the
  regularised ``(k + 1) x (k + 1)`` systems solved in one ``np.linalg.solve``
  on the stack, and the training error from the same sums (the engine's
  sync operation computes it too).  Both start from the same factors and
  must agree to 1e-9; each repetition times one numpy iteration and one
  engine run, and the ratio is taken per repetition (medians printed);
* **workers**: seconds per iteration with ``backend="multiprocess",
  workers=2`` (two parts, one per worker) against one worker in-process and
  one worker process, again per repetition; and the CPU seconds per
  iteration of all processes together (driver and finished workers, by
  the difference between a run of 1 + N iterations and one of 1), which
  says whether two workers split the work or add to it, whatever the load.

A second numpy variant, per-edge outer products folded with
``np.add.reduceat``, is printed for reference: it is what the engine's
general gather path does, without the engine.

Usage::

    python benchmarks/als.py                      # 1M ratings, 5 repetitions
    python benchmarks/als.py --ratings 200000 --repeat 3   # quick look

BLAS runs single-threaded (``OPENBLAS_NUM_THREADS=1`` unless set), so that
one process uses one core on every side and two workers use two.  Prints a
markdown table and the 1-minute load average before and after.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import gc
import time

import numpy as np

from algorithms.als import als, initial_factors
from gasengine import Graph, ratings

SEED = 0
REG = 0.05


def synthetic_ratings(num_users: int, num_items: int, num_ratings: int, seed: int = 1) -> Graph:
    """``num_ratings`` distinct cells, ratings ``clip(round(3 + b_u + b_i + p.q + noise), 1, 5)`` (rank 5)."""
    rng = np.random.default_rng(seed)
    cells = rng.choice(num_users * num_items, size=num_ratings, replace=False)
    u, i = np.divmod(cells, num_items)
    p, q = rng.normal(0, 0.5, (num_users, 5)), rng.normal(0, 0.5, (num_items, 5))
    bu, bi = rng.normal(0, 0.4, num_users), rng.normal(0, 0.4, num_items)
    r = 3.0 + bu[u] + bi[i] + (p[u] * q[i]).sum(1) + rng.normal(0, 0.5, num_ratings)
    return ratings.from_arrays(u, i, np.clip(np.round(r), 1, 5))


# ---------------------------------------------------------------- numpy
class Side:
    """One side's edges grouped by vertex, with the padded positions of every vertex block.

    Built once before timing, like the engine's per-part layouts.
    """

    def __init__(self, me: np.ndarray, other: np.ndarray, rating: np.ndarray, lo: int, hi: int, budget: int):
        order = np.argsort(me, kind="stable")
        self.lo, self.hi = lo, hi
        self.other = other[order]
        self.rating = rating[order]
        local = me[order] - lo
        self.counts = np.bincount(local, minlength=hi - lo)
        self.ptr = np.concatenate([[0], np.cumsum(self.counts)])
        pos = np.arange(local.size) - self.ptr[local]
        # blocks of consecutive vertices whose padded stacks hold about `budget` rows at the side's
        # largest degree (a loop over blocks, not vertices)
        n = hi - lo
        per_block = max(1, budget // max(int(self.counts.max(initial=1)), 1))
        self.blocks = []
        for a in range(0, n, per_block):
            b = min(a + per_block, n)
            e0, e1 = int(self.ptr[a]), int(self.ptr[b])
            width = max(int(self.counts[a:b].max()), 1)
            self.blocks.append((a, b, width, e0, e1, local[e0:e1] - a, pos[e0:e1]))


def numpy_half_step(x: np.ndarray, side: Side, k: int, reg: float, mu: float) -> tuple[np.ndarray, float, float]:
    """One side's ALS update written directly in numpy; returns the new ``x`` rows, SSE and count."""
    d = k + 2
    n = side.hi - side.lo
    stats = np.empty((n, d, d))
    for a, b, width, e0, e1, row, pos in side.blocks:
        y = x[side.other[e0:e1]]
        Z = np.zeros((b - a, width, d))
        Z[row, pos, :k] = y[:, :k]
        Z[row, pos, k] = 1.0
        Z[row, pos, k + 1] = side.rating[e0:e1] - mu - y[:, k]
        stats[a:b] = np.einsum("vei,vej->vij", Z, Z, optimize=True)
    return _solve(stats, k, reg)


def numpy_half_step_per_edge(
    x: np.ndarray, side: Side, k: int, reg: float, mu: float, chunk: int = 4096
) -> tuple[np.ndarray, float, float]:
    """The same update with per-edge outer products folded by ``np.add.reduceat`` (the engine's way)."""
    d = k + 2
    n = side.hi - side.lo
    stats = np.zeros((n, d, d))
    ends = side.ptr[1:]
    a = 0
    while a < n:
        base = int(side.ptr[a])
        b = max(int(np.searchsorted(ends, base + chunk, side="right")), a + 1)
        e0, e1 = base, int(side.ptr[b])
        if e1 > e0:
            y = x[side.other[e0:e1]]
            z = np.empty((e1 - e0, d))
            z[:, :k] = y[:, :k]
            z[:, k] = 1.0
            z[:, k + 1] = side.rating[e0:e1] - mu - y[:, k]
            has = side.counts[a:b] > 0
            starts = side.ptr[a:b][has] - e0
            stats[a:b][has] = np.add.reduceat(np.einsum("ei,ej->eij", z, z), starts, axis=0)
        a = b
    return _solve(stats, k, reg)


def _solve(stats: np.ndarray, k: int, reg: float) -> tuple[np.ndarray, float, float]:
    d = k + 1
    A, rhs, tt = stats[:, :d, :d], stats[:, :d, d], stats[:, d, d]
    count = A[:, k, k]
    lhs = A + (reg * count + (count == 0))[:, None, None] * np.eye(d)
    new = np.linalg.solve(lhs, rhs[:, :, None])[:, :, 0]
    sse = tt - 2 * np.einsum("vi,vi->v", new, rhs) + np.einsum("vi,vij,vj->v", new, A, new)
    return new, float(np.maximum(sse, 0).sum()), float(count.sum())


def numpy_iteration(
    x: np.ndarray, users: Side, items: Side, k: int, reg: float, mu: float, half=numpy_half_step
) -> tuple[np.ndarray, float]:
    """Users then items; returns the new factors of every vertex and the training RMSE after the items."""
    x = x.copy()
    x[users.lo : users.hi], _, _ = half(x, users, k, reg, mu)
    x[items.lo : items.hi], sse, count = half(x, items, k, reg, mu)
    return x, float(np.sqrt(sse / count))


# ---------------------------------------------------------------- engine
def engine_iteration_seconds(g: Graph, k: int, iterations: int, **options) -> tuple[float, float, object]:
    """Median seconds of iterations 2.. of one ``als`` run (supersteps 2t-1 and 2t), the run's wall
    seconds, and the model."""
    start = time.perf_counter()
    model = als(g, rank=k, reg=REG, iterations=iterations, seed=SEED, return_result=True, **options)
    wall = time.perf_counter() - start
    s = model.result.steps.column("seconds")
    per_iteration = s[0::2] + s[1::2]
    return float(np.median(per_iteration[1:] if per_iteration.size > 1 else per_iteration)), wall, model


def all_cpu() -> float:
    """CPU seconds of this process and of its finished children (the worker processes of past runs)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def load_average() -> float:
    return os.getloadavg()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=5_000)
    parser.add_argument("--ratings", type=int, default=1_000_000)
    parser.add_argument("--rank", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5, help="paired repetitions (default 5)")
    parser.add_argument(
        "--iterations", type=int, default=3, help="ALS iterations per engine run (default 3; the first is not timed)"
    )
    parser.add_argument("--no-workers", action="store_true", help="skip the worker-process rows")
    args = parser.parse_args()
    k = args.rank
    load_before = load_average()
    g = synthetic_ratings(args.users, args.items, args.ratings)
    U = int(np.count_nonzero(~g.vertex_data["is_item"]))
    n = g.num_vertices
    src, dst = g.src.astype(np.int64), g.dst.astype(np.int64)
    r = g.edge_data["rating"]
    mu = float(r.mean())
    users = Side(src, dst, r, 0, U, budget=32_768)
    items = Side(dst, src, r, U, n, budget=32_768)
    x0 = np.zeros((n, k + 1))
    x0[:, :k] = initial_factors(n, k, SEED, 0.1)

    # correctness: one iteration on both sides from the same start
    want, want_rmse = numpy_iteration(x0, users, items, k, REG, mu)
    other, _ = numpy_iteration(x0, users, items, k, REG, mu, half=numpy_half_step_per_edge)
    model = als(g, rank=k, reg=REG, iterations=1, seed=SEED, return_result=True)
    got = np.concatenate(
        [np.column_stack([model.user_factors, model.user_bias]), np.column_stack([model.item_factors, model.item_bias])]
    )
    diff = float(np.abs(got - want).max())
    assert diff < 1e-9 and float(np.abs(other - want).max()) < 1e-9, f"engine and numpy disagree by {diff}"
    assert abs(model.history["train_rmse"][0] - want_rmse) < 1e-9

    rows: dict[str, list[float]] = {
        name: []
        for name in (
            "numpy",
            "numpy_cpu",
            "numpy_edge",
            "numpy_edge_cpu",
            "engine",
            "engine_cpu",
            "numpy_total",
            "engine_total",
            "w1",
            "mp1",
            "mp2",
            "w1_cpu",
            "mp1_cpu",
            "mp2_cpu",
        )
    }
    extra = max(args.iterations - 1, 1)
    for _ in range(args.repeat):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        numpy_iteration(x0, users, items, k, REG, mu)
        rows["numpy"].append(time.perf_counter() - t)
        rows["numpy_cpu"].append(time.process_time() - c)
        # the engine: one run of 1 iteration (the whole call) and one of 1 + extra; the supersteps of
        # iterations 2.. give the wall time, the difference of the two runs' CPU time the CPU time
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        als(g, rank=k, reg=REG, iterations=1, seed=SEED)
        rows["engine_total"].append(time.perf_counter() - t)
        short_cpu = time.process_time() - c
        gc.collect()
        c = time.process_time()
        step, _, _ = engine_iteration_seconds(g, k, 1 + extra)
        rows["engine_cpu"].append((time.process_time() - c - short_cpu) / extra)
        rows["engine"].append(step)
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        numpy_iteration(x0, users, items, k, REG, mu, half=numpy_half_step_per_edge)
        rows["numpy_edge"].append(time.perf_counter() - t)
        rows["numpy_edge_cpu"].append(time.process_time() - c)
        gc.collect()
        t = time.perf_counter()
        Side(src, dst, r, 0, U, 32_768), Side(dst, src, r, U, n, 32_768)
        numpy_iteration(x0, users, items, k, REG, mu)
        rows["numpy_total"].append(time.perf_counter() - t)
        if not args.no_workers:
            fitted = {}
            for name, options in (
                ("w1", {}),
                ("mp1", {"backend": "multiprocess", "workers": 1}),
                ("mp2", {"backend": "multiprocess", "workers": 2}),
            ):
                gc.collect()
                c = all_cpu()
                als(g, rank=k, reg=REG, iterations=1, seed=SEED, **options)
                short_cpu = all_cpu() - c
                c = all_cpu()
                step, _, fitted[name] = engine_iteration_seconds(g, k, 1 + extra, **options)
                rows[name + "_cpu"].append((all_cpu() - c - short_cpu) / extra)
                rows[name].append(step)
            worst = float(np.abs(fitted["mp2"].item_factors - fitted["w1"].item_factors).max())
            assert worst < 1e-9, f"2 workers and 1 disagree by {worst}"
    load_after = load_average()

    def row(label: str, name: str, base: str, bold: bool = False) -> str:
        ratios = np.array(rows[name]) / np.array(rows[base])
        mid = f"{np.median(ratios):.2f}"
        return (
            f"| {label} | {np.median(rows[name]):.3f} | {'**' + mid + '**' if bold else mid} | "
            f"{', '.join(f'{x:.2f}' for x in ratios)} |"
        )

    print(
        f"# ALS, {args.ratings:,} ratings, {args.users:,} users x {args.items:,} items, k = {k}; "
        f"{args.repeat} paired repetitions; engine and numpy agree to {diff:.1e}"
    )
    print(f"# 1-minute load average {load_before:.2f} before, {load_after:.2f} after ({os.cpu_count()} cores)")
    print()
    print("| work | median s per iteration | ratio to numpy (median of the per-repetition ratios) | ratios |")
    print("|---|---:|---:|---|")
    print(row("numpy: padded batched einsum + stacked solve, wall", "numpy", "numpy"))
    print(row("engine, 1 process, P=1 (2 supersteps), wall", "engine", "numpy", bold=True))
    print(row("numpy, CPU", "numpy_cpu", "numpy_cpu"))
    print(row("engine, CPU", "engine_cpu", "numpy_cpu", bold=True))
    print(row("numpy: per-edge outer products + reduceat, wall", "numpy_edge", "numpy"))
    print(row("numpy: per-edge outer products + reduceat, CPU", "numpy_edge_cpu", "numpy_cpu"))
    print(row("whole call `als(iterations=1)` vs grouping + 1 numpy iteration, wall", "engine_total", "numpy_total"))
    if not args.no_workers:
        print()
        print("| workers | median s per iteration (wall) | vs 1 worker in-process (median of ratios) | ratios |")
        print("|---|---:|---:|---|")
        for name, label in (
            ("w1", "1 worker, in-process (local), P=1"),
            ("mp1", "1 worker process (multiprocess), P=1"),
            ("mp2", "2 worker processes (multiprocess), P=2"),
        ):
            print(row(label, name, "w1", bold=name == "mp2"))
        print()
        print("| workers | median CPU s per iteration, all processes | vs 1 worker in-process | ratios |")
        print("|---|---:|---:|---|")
        for name, label in (
            ("w1", "1 worker, in-process"),
            ("mp1", "1 worker process"),
            ("mp2", "2 worker processes (sum of both)"),
        ):
            print(row(label, name + "_cpu", "w1_cpu"))


if __name__ == "__main__":
    main()
