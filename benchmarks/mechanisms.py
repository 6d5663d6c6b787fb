"""One BSP gradient step on the engine vs the same step in numpy; 1 vs 2 workers (issue 17, point 5).

The step: every shard's logistic-loss gradient at the current model, summed
(the all-reduce of the ``"bsp_model"`` sync operation) and a gradient step,
i.e. one superstep of :func:`algorithms.mechanisms.bsp_sgd`.  The reference
is the same arithmetic in numpy on the unsharded matrix:
``X.T @ (-y * expit(-y * (X @ w))) / n + reg * w``.

Usage::

    python benchmarks/mechanisms.py                 # 1,000,000 x 1,000 dense (8 GB: needs the memory)
    python benchmarks/mechanisms.py --cols 100000 --density 0.001   # 1M x 100k sparse, 0.1% dense (1.2 GB)
    python benchmarks/mechanisms.py --rows 20000 --cols 100 --rounds 5   # smoke size
    OPENBLAS_NUM_THREADS=1 python benchmarks/mechanisms.py ...   # one BLAS thread per process

numpy's BLAS already runs a dense step on every core, so compare 1 and 2
workers with one BLAS thread per process (the line printed first says how
many threads BLAS uses).

Prints the median seconds per step of each and their ratios, measured in
one run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from algorithms.mechanisms import Problem, bsp_sgd, shard


def numpy_step(Xa: np.ndarray, ys: np.ndarray, w: np.ndarray, reg: float, lr: float) -> np.ndarray:
    g = Xa.T @ (-ys * expit(-ys * (Xa @ w))) / len(ys) + reg * w
    return w - lr * g


def dense(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    return rng.standard_normal((rows, cols))


def sparse(rng: np.random.Generator, rows: int, cols: int, density: float) -> sp.csr_matrix:
    """``density * cols`` nonzeros in every row (columns drawn with replacement, duplicates summed)."""
    per_row = max(1, round(density * cols))
    indptr = np.arange(rows + 1, dtype=np.int64) * per_row
    indices = np.sort(rng.integers(0, cols, (rows, per_row), dtype=np.int32), axis=1).ravel()
    X = sp.csr_matrix((rng.standard_normal(rows * per_row), indices, indptr), shape=(rows, cols))
    X.sum_duplicates()
    return X


def blas() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS threads unknown (threadpoolctl not installed)"
    pools = [f"{p['internal_api']} {p['num_threads']} threads" for p in threadpool_info() if p["user_api"] == "blas"]
    return "BLAS: " + (", ".join(pools) or "none found")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=1_000)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--density", type=float, help="a sparse CSR matrix with this share of nonzeros per row")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    X = dense(rng, args.rows, args.cols) if args.density is None else sparse(rng, args.rows, args.cols, args.density)
    first = np.asarray(X[:, 0].todense()).ravel() if args.density is not None else X[:, 0]
    y = (rng.random(args.rows) < expit(first)).astype(np.int64)
    print(f"{args.rows:,} x {args.cols:,} {'dense' if args.density is None else f'CSR, {X.nnz:,} nonzeros'}; {blas()}")
    p = Problem("logistic", 1e-3, fit_intercept=False)
    s = shard(X, y, p, args.shards, seed=None)
    ys = np.where(y > 0, 1.0, -1.0)
    w = np.zeros(args.cols)
    times = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        w = numpy_step(X, ys, w, p.reg, 0.1)
        times.append(time.perf_counter() - start)
    bare = statistics.median(times)
    print(f"numpy step               {bare:.4f} s")
    for workers in (1, 2):
        opts = {"workers": workers} if workers > 1 else {}
        r = bsp_sgd(p, X, y, shards=s, lr=0.1, momentum=False, max_rounds=args.rounds, tol=1e-300, **opts)
        per = statistics.median(r.result.steps.column("seconds").tolist())
        print(
            f"engine step, {workers} worker{'s' if workers > 1 else ' '}  {per:.4f} s   ratio to numpy {per / bare:.2f}"
        )


if __name__ == "__main__":
    main()
