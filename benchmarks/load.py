"""Benchmark: ``Graph.load`` against ``pandas.read_csv`` on a scale-20 R-MAT edge list.

Writes ``2**20`` vertices / ``16 * 2**20`` edges as ``"%d\\t%d\\n"`` text to a cache
file under the temp directory (once), then times, in the same run and best of
``--repeat`` each:

* ``pandas.read_csv(path, sep=r"\\s+", header=None, comment="#")`` -- the peer;
* ``Graph.load(path)`` -- parse, relabel to ``0..n-1`` and build the graph.

The ratio ``Graph.load / pandas`` is printed; the target is <= 1.5.

With ``--weighted`` the same edges with a third column of 17-digit weights
(``0.ddddddddddddddddd``, like ``repr`` of a random float) are timed as well.

Usage::

    python benchmarks/load.py [--scale 20] [--repeat 3] [--weighted]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gasengine import Graph
from gasengine.generators import rmat_edges


@numba.njit(cache=True)
def _format_edges(src: np.ndarray, dst: np.ndarray, frac: np.ndarray) -> np.ndarray:
    """``"%d\\t%d\\n"`` per edge, or ``"%d\\t%d\\t0.%017d\\n"`` if ``frac`` is given.

    A compiled writer: numpy.savetxt would loop in Python over 16.7M rows.
    """
    weighted = frac.size > 0
    out = np.empty(src.size * (44 if weighted else 24), dtype=np.uint8)
    digits = np.empty(20, dtype=np.uint8)
    pos = 0
    for i in range(src.size):
        for col in range(2):
            v = src[i] if col == 0 else dst[i]
            k = 0
            while True:  # digits in reverse order
                digits[k] = 48 + v % 10
                v //= 10
                k += 1
                if v == 0:
                    break
            while k > 0:
                k -= 1
                out[pos] = digits[k]
                pos += 1
            out[pos] = 10 if col == 1 and not weighted else 9
            pos += 1
        if weighted:  # a 17-digit fraction, like repr() of a random float
            out[pos] = 48
            out[pos + 1] = 46
            v = frac[i]
            for k in range(16, -1, -1):
                out[pos + 2 + k] = 48 + v % 10
                v //= 10
            out[pos + 19] = 10
            pos += 20
    return out[:pos]


def edge_list_file(scale: int, weighted: bool = False) -> Path:
    """Path of the cached R-MAT edge list of ``scale``, written on first use."""
    suffix = "-w" if weighted else ""
    path = Path(tempfile.gettempdir()) / f"gasengine-rmat{scale}{suffix}.tsv"
    if not path.exists():
        src, dst = rmat_edges(scale)
        frac = np.empty(0, np.int64)
        if weighted:
            frac = np.random.default_rng(0).integers(0, 10**17, src.size, dtype=np.int64)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        _format_edges(src.astype(np.int64), dst.astype(np.int64), frac).tofile(tmp)
        tmp.replace(path)  # atomic: a concurrent run never sees half a file
    return path


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Smallest wall time of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def compare(path: Path, columns: tuple[int, ...], repeat: int) -> None:
    """Time pandas and Graph.load on ``path`` and print the ratio."""
    import pandas as pd

    size_mb = path.stat().st_size / 2**20
    print(f"file: {path} ({size_mb:.0f} MiB), load average {os.getloadavg()[0]:.2f}")
    g = Graph.load(path, columns=columns)  # warm-up: numba cache load, page cache
    print(f"graph: {g.num_vertices} vertices, {g.num_edges} edges, fields {list(g.edge_data)}")
    t_pd = best_of(lambda: pd.read_csv(path, sep=r"\s+", header=None, comment="#"), repeat)
    t_gl = best_of(lambda: Graph.load(path, columns=columns), repeat)
    print(f"  pandas.read_csv(sep=r'\\s+'): {t_pd:.3f} s  (best of {repeat})")
    print(f"  Graph.load:                  {t_gl:.3f} s  (best of {repeat})")
    print(f"  ratio Graph.load / pandas:   {t_gl / t_pd:.2f}  (target <= 1.5)")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print the times and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--weighted", action="store_true", help="also a third column of 17-digit weights")
    args = parser.parse_args(argv)
    compare(edge_list_file(args.scale), (0, 1), args.repeat)
    if args.weighted:
        compare(edge_list_file(args.scale, weighted=True), (0, 1, 2), args.repeat)


if __name__ == "__main__":
    main()
