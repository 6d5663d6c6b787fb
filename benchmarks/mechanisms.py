"""One BSP gradient step on the engine vs the same step in numpy; 1 vs 2 workers (issue 17, point 5).

The step: every shard's logistic-loss gradient at the current model, summed
(the all-reduce of the ``"bsp_model"`` sync operation) and a gradient step,
i.e. one superstep of :func:`algorithms.mechanisms.bsp_sgd`.  The reference
is the same arithmetic in numpy on the unsharded matrix:
``X.T @ (-y * expit(-y * (X @ w))) / n + reg * w``.

Usage::

    python benchmarks/mechanisms.py                 # 1,000,000 x 1,000 dense (8 GB: needs the memory)
    python benchmarks/mechanisms.py --rows 20000 --cols 100 --rounds 5   # smoke size

Prints the median seconds per step of each and their ratios, measured in
one run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from scipy.special import expit

from algorithms.mechanisms import Problem, bsp_sgd, shard


def numpy_step(Xa: np.ndarray, ys: np.ndarray, w: np.ndarray, reg: float, lr: float) -> np.ndarray:
    g = Xa.T @ (-ys * expit(-ys * (Xa @ w))) / len(ys) + reg * w
    return w - lr * g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--cols", type=int, default=1_000)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.rows, args.cols))
    y = (rng.random(args.rows) < expit(X[:, 0])).astype(np.int64)
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
