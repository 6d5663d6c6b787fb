"""Benchmark: replication factor, edge balance and speed of every vertex-cut strategy.

For every real graph in the shared SNAP folder and for an R-MAT graph, and for
4, 8, 16 and 32 parts, prints the replication factor and the edge balance of
every strategy in :data:`partitioning.STRATEGIES`, the streaming strategies
both on a shuffled stream (default) and in file order, and the expected
replication factor of a uniformly random cut (PowerGraph, Theorem 5.2) as a
check of the ``random`` row.  Then times every strategy on R-MAT scale 20
(16.7M edges) with 8 parts.

Output is Markdown, ready for ``benchmarks/README.md``.

Usage::

    python benchmarks/partition_quality.py --quick        # R-MAT scale 16 quality rows
    python benchmarks/partition_quality.py                # R-MAT scale 20 quality rows too
    python benchmarks/partition_quality.py --no-speed     # skip the scale-20 timings
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gasengine.generators import rmat_edges
from partitioning import STRATEGIES, VertexCut, assign_edges, expected_random_replication

DATA = Path(os.environ.get("GASENGINE_DATA", "/work/shared/data")) / "snap"
PARTS = (4, 8, 16, 32)

#: (row label, strategy, parameters)
VARIANTS: list[tuple[str, str, dict]] = [(name, name, {}) for name in STRATEGIES] + [
    ("greedy (file order)", "greedy", {"order": "file"}),
    ("hdrf (file order)", "hdrf", {"order": "file"}),
]


def load_edge_list(path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    """A SNAP edge list (or SNAP CSV) with ids relabelled to ``0..n-1``, file order kept."""
    delimiter = "," if path.suffix == ".csv" else None
    edges = np.loadtxt(path, comments="#", dtype=np.int64, usecols=(0, 1), delimiter=delimiter)
    ids, flat = np.unique(edges.ravel(), return_inverse=True)
    flat = flat.reshape(edges.shape)
    return flat[:, 0].copy(), flat[:, 1].copy(), int(ids.size)


def real_graphs() -> dict[str, tuple[np.ndarray, np.ndarray, int]]:
    """Every two-column edge list in the SNAP folder (label files are skipped)."""
    graphs = {}
    for path in sorted(DATA.glob("*")):
        if path.suffix not in (".txt", ".csv") or "labels" in path.name:
            continue
        graphs[path.stem] = load_edge_list(path)
    return graphs


def quality_table(name: str, graph: tuple[np.ndarray, np.ndarray, int], seed: int) -> str:
    """Markdown table: one row per strategy, one ``RF / balance`` cell per part count."""
    src, dst, n = graph
    touched = int(np.count_nonzero(np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)))
    lines = [
        f"**{name}** ({touched:,} vertices with edges, {src.size:,} edges) — replication factor / edge balance",
        "",
        "| strategy | " + " | ".join(f"P={p}" for p in PARTS) + " |",
        "|---|" + "---:|" * len(PARTS),
    ]
    for label, strategy, params in VARIANTS:
        cells = []
        for p in PARTS:
            parts = assign_edges(src, dst, n, p, strategy, seed, **params)
            cut = VertexCut.from_assignment(src, dst, n, parts, p, strategy)
            cells.append(f"{cut.replication_factor:.2f} / {cut.edge_balance:.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    theory = [f"{expected_random_replication(graph, p):.2f}" for p in PARTS]
    lines.append("| *random, expected (PowerGraph Thm 5.2)* | " + " | ".join(theory) + " |")
    return "\n".join(lines)


def speed_table(scale: int, num_parts: int, seed: int) -> str:
    """Markdown table of seconds per strategy on R-MAT ``scale`` with ``num_parts`` parts."""
    src, dst = rmat_edges(scale)
    n = 1 << scale
    for _, strategy, params in VARIANTS:  # compile (or load the numba cache) outside the timing
        assign_edges(src[:1000], dst[:1000], n, num_parts, strategy, seed, **params)
    load_before = os.getloadavg()[0]
    lines = [
        f"R-MAT scale {scale} ({src.size:,} edges, {n:,} vertices), {num_parts} parts; "
        f"seconds are wall time of one run on this machine",
        "",
        "| strategy | assign edges (s) | build VertexCut (s) | replication factor | edge balance | master balance |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, strategy, params in VARIANTS:
        t0 = time.perf_counter()
        parts = assign_edges(src, dst, n, num_parts, strategy, seed, **params)
        t1 = time.perf_counter()
        cut = VertexCut.from_assignment(src, dst, n, parts, num_parts, strategy)
        t2 = time.perf_counter()
        lines.append(
            f"| {label} | {t1 - t0:.2f} | {t2 - t1:.2f} | {cut.replication_factor:.2f} | "
            f"{cut.edge_balance:.3f} | {cut.master_balance:.3f} |"
        )
        print(f"  timed {label}: {t1 - t0:.2f} s", file=sys.stderr, flush=True)
    load_after = os.getloadavg()[0]
    lines.append("")
    lines.append(
        f"1-minute load average {load_before:.2f} before, {load_after:.2f} after "
        f"({os.cpu_count()} cores; other jobs share this machine)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="R-MAT scale 16 for the quality rows (default 20)")
    parser.add_argument("--no-speed", action="store_true", help="skip the scale-20 timing table")
    parser.add_argument("--speed-scale", type=int, default=20)
    parser.add_argument("--speed-parts", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    scale = 16 if args.quick else 20
    print(f"<!-- python benchmarks/partition_quality.py {' '.join(argv if argv is not None else sys.argv[1:])} -->")
    print()
    for name, graph in real_graphs().items():
        print(quality_table(name, graph, args.seed), end="\n\n", flush=True)
    src, dst = rmat_edges(scale)
    print(quality_table(f"R-MAT scale {scale}", (src, dst, 1 << scale), args.seed), end="\n\n", flush=True)
    if not args.no_speed:
        print(speed_table(args.speed_scale, args.speed_parts, args.seed), flush=True)


if __name__ == "__main__":
    main()
