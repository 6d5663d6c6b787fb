"""Triangles, k-core and label propagation against igraph, networkit and networkx, in one run.

Issue 12, point 7.  On R-MAT scale 18 symmetrised (``--scale``), every
answer checked against the peer's where they must agree:

* triangle counting per vertex: the engine (1 and 2 workers) against
  igraph's ``transitivity_local_undirected`` (which counts the triangles of
  every vertex to divide them) and ``networkx.triangles``;
* core numbers: the engine against igraph's ``coreness`` (a sequential
  bucket peeling) and ``networkx.core_number``;
* label propagation: the engine's semi-synchronous variant against igraph's
  ``community_label_propagation`` and networkit's PLP (``pip install
  networkit``; the row is skipped without it) — different algorithms up to
  tie-breaking, so their modularity is printed beside the time.

networkx is timed on the smaller ``--nx-scale`` graph (it takes minutes at
scale 18) and compared with the engine on that same graph.  Peers' graphs
are built beforehand and not timed; the engine's times include its whole
call (parts, runs) after one untimed call of the same configuration, which
cut the graph (the cache) and, on 2 workers, taught the driver the compiled
kernels its workers load (:mod:`gasengine.compiled`).  Medians of
``--repeat`` runs.

Usage::

    python benchmarks/analytics.py              # R-MAT 18, networkx on R-MAT 15
    python benchmarks/analytics.py --scale 14 --nx-scale 12 --repeat 1   # a quick look
    python benchmarks/analytics.py --work triangles --nx-scale 18         # one algorithm's rows
"""

from __future__ import annotations

import argparse
from typing import Any

import networkx as nx
import numpy as np
from high_diameter import median_seconds  # benchmarks/ is the script's directory

from algorithms import core_number, label_propagation, triangles
from algorithms.k_core import simple_arcs
from gasengine import Graph
from gasengine.generators import rmat


def symmetrised(scale: int) -> tuple[Graph, np.ndarray]:
    """R-MAT ``scale`` as a simple undirected Graph, and its pairs (``u < v``, once each)."""
    pairs = simple_arcs(rmat(scale).to_undirected())
    edges = np.stack([pairs.src, pairs.dst], axis=1)
    return Graph(pairs.src, pairs.dst, num_vertices=pairs.num_vertices, directed=False), edges


def igraph_of(n: int, edges: np.ndarray) -> Any:
    import igraph

    return igraph.Graph(n=n, edges=edges.tolist())


def networkx_of(n: int, edges: np.ndarray) -> nx.Graph:
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(edges.tolist())
    return G


def engine_seconds(fn, repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` calls of ``fn`` after one untimed call (the cut, the workers' kernels)."""
    fn()
    return median_seconds(fn, repeat)


def row(work: str, who: str, seconds: float, base: float, note: str = "") -> None:
    print(f"| {work} | {who} | {seconds:.3f} | {seconds / base:.2f} | {note} |")


def triangle_rows(g: Graph, ig: Any, repeat: int) -> None:
    ours, counts = engine_seconds(lambda: triangles(g), repeat)
    two, counts2 = engine_seconds(lambda: triangles(g, backend="multiprocess", workers=2, partitions=2), repeat)
    peer, local = median_seconds(lambda: ig.transitivity_local_undirected(mode="zero"), repeat)
    degree = np.asarray(ig.degree(), dtype=np.float64)
    from_igraph = np.rint(np.asarray(local) * degree * (degree - 1) / 2).astype(np.int64)
    assert np.array_equal(counts, from_igraph) and np.array_equal(counts2, counts), "triangle counts differ"
    row("triangles", "engine, 1 worker", ours, peer, f"{int(counts.sum()) // 3:,} triangles")
    row("triangles", "engine, 2 workers", two, peer)
    row("triangles", "igraph transitivity_local_undirected", peer, peer)


def core_rows(g: Graph, ig: Any, repeat: int) -> None:
    peer, want = median_seconds(ig.coreness, repeat)
    two = {"backend": "multiprocess", "workers": 2, "partitions": 2}
    for method in ("peeling", "h-index"):
        ours, cores = engine_seconds(lambda: core_number(g, method=method), repeat)
        ours2, cores2 = engine_seconds(lambda: core_number(g, method=method, **two), repeat)
        assert np.array_equal(cores, want) and np.array_equal(cores2, want), f"core numbers differ ({method})"
        note = f"max core {int(cores.max())}" if method == "peeling" else ""
        row("k-core", f"engine {method}, 1 worker", ours, peer, note)
        row("k-core", f"engine {method}, 2 workers", ours2, peer)
    row("k-core", "igraph coreness", peer, peer)


def modularity(ig: Any, labels: np.ndarray) -> float:
    return float(ig.modularity(np.unique(labels, return_inverse=True)[1].tolist()))


def label_rows(g: Graph, ig: Any, n: int, edges: np.ndarray, repeat: int) -> None:
    ours, labels = engine_seconds(lambda: label_propagation(g), repeat)
    two, labels2 = engine_seconds(lambda: label_propagation(g, backend="multiprocess", workers=2, partitions=2), repeat)
    assert np.array_equal(labels, labels2), "label propagation differs with 2 workers"
    peer, found = median_seconds(ig.community_label_propagation, repeat)
    row("label propagation", "engine, 1 worker", ours, peer, f"modularity {modularity(ig, labels):.4f}")
    row("label propagation", "engine, 2 workers", two, peer)
    row(
        "label propagation",
        "igraph community_label_propagation",
        peer,
        peer,
        f"modularity {modularity(ig, np.asarray(found.membership)):.4f}",
    )
    try:
        import networkit as nk
    except ImportError:
        print("| label propagation | networkit PLP | - | - | not installed (pip install networkit) |")
        return
    nk.setNumberOfThreads(1)  # one core, as the 1-worker engine
    pairs = edges.astype(np.uint64)
    G = nk.GraphFromCoo((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), n=n, weighted=False, directed=False)

    def plp() -> np.ndarray:
        algo = nk.community.PLP(G)
        algo.run()
        return np.asarray(algo.getPartition().getVector())

    seconds, parts = median_seconds(plp, repeat)
    row(
        "label propagation",
        "networkit PLP, 1 thread",
        seconds,
        peer,
        f"modularity {modularity(ig, parts):.4f}; engine / PLP = {ours / seconds:.2f}",
    )


def networkx_rows(scale: int, repeat: int, works: set[str]) -> None:
    g, edges = symmetrised(scale)
    G = networkx_of(g.num_vertices, edges)
    for work, ours_fn, nx_fn in [
        ("triangles", lambda: triangles(g), lambda: nx.triangles(G)),
        ("k-core", lambda: core_number(g), lambda: nx.core_number(G)),
    ]:
        if work not in works:
            continue
        ours, _ = engine_seconds(ours_fn, repeat)
        theirs, _ = median_seconds(nx_fn, 1)
        print(
            f"| {work}, R-MAT {scale} | engine {ours:.3f} s | networkx {theirs:.3f} s | networkx / engine "
            f"= {theirs / ours:.0f}x |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=18)
    parser.add_argument("--nx-scale", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--work", default="triangles,k-core,label-propagation", help="which rows, comma-separated (default all)"
    )
    args = parser.parse_args()
    works = set(args.work.split(","))
    small, _ = symmetrised(8)
    triangles(small), core_number(small), label_propagation(small)  # compile the kernels outside the timings
    g, edges = symmetrised(args.scale)
    ig = igraph_of(g.num_vertices, edges)
    triangles(g), core_number(g)  # the cut and layouts, cached as a second call finds them
    print(f"R-MAT {args.scale} symmetrised: {g.num_vertices:,} vertices, {len(edges):,} edges\n")
    print("| work | who | seconds | / peer | note |")
    print("|---|---|---:|---:|---|")
    if "triangles" in works:
        triangle_rows(g, ig, args.repeat)
    if "k-core" in works:
        core_rows(g, ig, args.repeat)
    if "label-propagation" in works:
        label_rows(g, ig, g.num_vertices, edges, args.repeat)
    print()
    networkx_rows(args.nx_scale, args.repeat, works)


if __name__ == "__main__":
    main()
