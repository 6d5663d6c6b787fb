"""k-means: one Lloyd iteration on the engine against the same iteration written directly in numpy.

On the same points (default 1,000,000 points in 8 dimensions around 16
Gaussian blobs, k = 16, the same k-means++ start) it measures, in one run:

* the engine: :func:`algorithms.kmeans.kmeans` (one process, one part);
  the seconds of its supersteps 2.. from ``Result.steps`` (each superstep
  is one Lloyd iteration: assign every point in ``apply``, then the keyed
  sync operation sums the points per cluster and ``finalize`` divides);
* numpy: the same iteration written directly — squared distances summed
  over the coordinates (the engine's :func:`~algorithms.kmeans.nearest_centre`
  formula, so both assign alike), ``argmin``, changed labels counted, sums
  per cluster by ``np.bincount`` per coordinate, empty clusters keeping
  their centre;

both run the same number of iterations from the same start and must end
with the same centres (rel 1e-9) and labels.  A second numpy row computes
the distances as ``|x|^2 - 2 x.c + |c|^2`` with one matrix product, the
fastest plain numpy (its labels may differ where rounding breaks a near-tie
the other way; the share that agrees is printed).  Each repetition times one
engine run and one numpy run; the ratio is taken per repetition and the
median printed.

Usage::

    python benchmarks/kmeans.py                 # 1M points, 5 repetitions
    python benchmarks/kmeans.py --points 200000 --repeat 3
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import gc
import time

import numpy as np

from algorithms.kmeans import kmeans, kmeans_plus_plus


def blobs(n: int, d: int, k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    means = rng.uniform(-10, 10, size=(k, d))
    return means[rng.integers(k, size=n)] + 1.5 * rng.standard_normal((n, d))


def numpy_lloyd(x: np.ndarray, centres: np.ndarray, iterations: int) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """``iterations`` Lloyd iterations; returns centres, labels and the seconds of each iteration."""
    k, d = centres.shape
    c = centres.copy()
    labels = np.full(len(x), -1)
    seconds = []
    for _ in range(iterations):
        t = time.perf_counter()
        dist = np.zeros((len(x), k))
        for j in range(d):  # as nearest_centre: one vectorised step per coordinate
            dist += (x[:, j, None] - c[None, :, j]) ** 2
        new = dist.argmin(axis=1)
        changed = int(np.count_nonzero(new != labels))  # what the engine's kmeans_changes counts
        labels = new
        count = np.bincount(labels, minlength=k).astype(np.float64)
        sums = np.stack([np.bincount(labels, weights=x[:, j], minlength=k) for j in range(d)], axis=1)
        c = np.where(count[:, None] > 0, sums / np.maximum(count, 1)[:, None], c)
        seconds.append(time.perf_counter() - t)
        if changed == 0:
            break
    return c, labels, seconds


def numpy_lloyd_blas(x: np.ndarray, centres: np.ndarray, iterations: int) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The same iterations with distances as ``|x|^2 - 2 x.c + |c|^2`` (one matrix product; rounding may
    break a near-tie differently, so its labels are compared, not required equal)."""
    k = len(centres)
    c = centres.copy()
    labels = np.full(len(x), -1)
    x2 = np.einsum("ij,ij->i", x, x)
    seconds = []
    for _ in range(iterations):
        t = time.perf_counter()
        dist = x2[:, None] - 2.0 * (x @ c.T) + np.einsum("ij,ij->i", c, c)[None, :]
        new = dist.argmin(axis=1)
        changed = int(np.count_nonzero(new != labels))
        labels = new
        count = np.bincount(labels, minlength=k).astype(np.float64)
        sums = np.stack([np.bincount(labels, weights=x[:, j], minlength=k) for j in range(x.shape[1])], axis=1)
        c = np.where(count[:, None] > 0, sums / np.maximum(count, 1)[:, None], c)
        seconds.append(time.perf_counter() - t)
        if changed == 0:
            break
    return c, labels, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, default=8)
    parser.add_argument("--clusters", type=int, default=16)
    parser.add_argument(
        "--iterations", type=int, default=6, help="Lloyd iterations per run (default 6; the first is not timed)"
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    x = blobs(args.points, args.dims, args.clusters)
    start = kmeans_plus_plus(x, args.clusters, np.random.default_rng(0))
    kmeans(x[:1000], args.clusters, init=start, max_iter=2)  # warm-up
    engine, bare, ratios, blas, blas_ratios, agree = [], [], [], [], [], []
    for _ in range(args.repeat):
        gc.collect()
        got = kmeans(x, args.clusters, init=start, max_iter=args.iterations)
        steps = got.result.steps.column("seconds")
        gc.collect()
        c, labels, seconds = numpy_lloyd(x, start, got.iterations)
        np.testing.assert_allclose(got.centres, c, rtol=1e-9, atol=0)
        np.testing.assert_array_equal(got.labels, labels)
        engine.append(float(np.median(steps[1:])))
        bare.append(float(np.median(seconds[1:])))
        ratios.append(engine[-1] / bare[-1])
        gc.collect()
        _, blas_labels, blas_seconds = numpy_lloyd_blas(x, start, got.iterations)
        agree.append(float(np.mean(blas_labels == labels)))
        blas.append(float(np.median(blas_seconds[1:])))
        blas_ratios.append(engine[-1] / blas[-1])
    print(
        f"# k-means, {args.points:,} points, d = {args.dims}, k = {args.clusters}, {got.iterations} iterations "
        f"per run, {args.repeat} paired repetitions; same centres and labels"
    )
    print(f"# 1-minute load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} cores)")
    print()
    print("| work | median s per iteration | ratio (median of per-repetition ratios) | ratios |")
    print("|---|---:|---:|---|")
    print(f"| numpy Lloyd iteration | {np.median(bare):.4f} | 1.00 | |")
    print(
        f"| engine superstep, 1 process, P=1 | {np.median(engine):.4f} | **{np.median(ratios):.2f}** | "
        f"{', '.join(f'{r:.2f}' for r in ratios)} |"
    )
    print(
        f"| numpy Lloyd iteration, distances by one matrix product (labels agree on {min(agree):.6f}) | "
        f"{np.median(blas):.4f} | engine / this: **{np.median(blas_ratios):.2f}** | "
        f"{', '.join(f'{r:.2f}' for r in blas_ratios)} |"
    )


if __name__ == "__main__":
    main()
