"""networkx with and without the ``gasengine`` backend: ``nx.pagerank`` and ``nx.connected_components``.

On one R-MAT graph (``gasengine.generators.rmat``; scale 16 has 2**16
vertices and 1,048,576 generated arcs, fewer once networkx merges duplicates),
converted to a networkx ``DiGraph`` (PageRank) and ``Graph`` (components),
measures in one run:

* ``networkx``: networkx's own implementation;
* ``gasengine, conversion included``: ``backend="gasengine"`` on a graph with
  an empty conversion cache (networkx converts it, then the backend runs);
* ``conversion``: ``convert_from_nx`` alone (walking networkx's dicts);
* ``gasengine, conversion excluded``: the call again on the converted graph
  (networkx's cache, ``G.__networkx_cache__``, holds the conversion and the
  engine graph built from it).

Answers are checked against networkx's (PageRank L1 distance, identical
components).  Prints a markdown table; ratios are networkx's time over the
backend's.

Usage::

    python benchmarks/nx_backend.py                # scale 16 (>= 1M edges)
    python benchmarks/nx_backend.py --scale 10     # a smoke run
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings
from collections.abc import Callable
from typing import Any

import networkx as nx

from gasengine.generators import rmat_edges
from gasengine.nxbackend.graph import convert_from_nx


def seconds(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best of ``repeat`` wall times, and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def measure(name: str, G: Any, call: Callable[..., Any], edge_attrs: dict | None, repeat: int) -> dict[str, Any]:
    """The four timings of one function on one networkx graph."""
    t_nx, expected = seconds(lambda: call(G, backend="networkx"), repeat)

    def cold() -> Any:
        G.__networkx_cache__.clear()
        return call(G, backend="gasengine")

    t_cold, got_cold = seconds(cold, repeat)
    t_convert, _ = seconds(lambda: convert_from_nx(G, edge_attrs=edge_attrs), repeat)
    call(G, backend="gasengine")  # fill the cache
    t_warm, got = seconds(lambda: call(G, backend="gasengine"), repeat)
    return {
        "function": name,
        "networkx": t_nx,
        "cold": t_cold,
        "convert": t_convert,
        "warm": t_warm,
        "expected": expected,
        "got": got,
        "got_cold": got_cold,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=16, help="R-MAT scale: 2**scale vertices, 16x arcs (default 16)")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    args = parser.parse_args(argv)
    nx.config.warnings_to_ignore.add("cache")
    warnings.filterwarnings("ignore", message="Note: conversions to backend graphs")

    src, dst = rmat_edges(args.scale)
    edges = list(zip(src.tolist(), dst.tolist()))
    start = time.perf_counter()
    D = nx.DiGraph()
    D.add_nodes_from(range(1 << args.scale))
    D.add_edges_from(edges)
    U = nx.Graph(D)
    build = time.perf_counter() - start
    # warm up the compiled kernels on a tiny graph, so no row pays for compilation
    small = nx.gnp_random_graph(50, 0.1, seed=1, directed=True)
    nx.pagerank(small, backend="gasengine")
    list(nx.connected_components(small.to_undirected(), backend="gasengine"))

    rows = [
        measure("pagerank", D, nx.pagerank, {"weight": 1}, args.repeat),
        measure("connected_components", U, lambda G, **kw: list(nx.connected_components(G, **kw)), None, args.repeat),
    ]
    pr = rows[0]
    l1 = sum(abs(pr["got"][v] - pr["expected"][v]) for v in D)
    assert l1 < 1e-6, f"PageRank L1 distance {l1}"
    cc = rows[1]
    assert cc["got"] == cc["expected"] == cc["got_cold"], "components differ from networkx's"

    print(
        f"R-MAT scale {args.scale}: {D.number_of_nodes():,} nodes, {D.number_of_edges():,} DiGraph edges, "
        f"{U.number_of_edges():,} Graph edges (networkx build {build:.1f} s); best of {args.repeat}; "
        f"PageRank L1 distance to networkx {l1:.1e}, components identical"
    )
    print()
    print(
        "| function | networkx (s) | gasengine, conversion included (s) | conversion (s) "
        "| gasengine, conversion excluded (s) | speed-up incl. | speed-up excl. |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| `nx.{r['function']}` | {r['networkx']:.3f} | {r['cold']:.3f} | {r['convert']:.3f} | {r['warm']:.3f} "
            f"| {r['networkx'] / r['cold']:.2f}x | {r['networkx'] / r['warm']:.2f}x |"
        )


if __name__ == "__main__":
    main()
