"""``Graph.load`` of a Parquet / Arrow edge table against ``pandas.read_parquet`` + ``Graph.from_pandas_edgelist``.

Issue 16, point 2: reading a table directly must be at least as fast as
going through pandas.  Writes a table of ``--edges`` rows (two int64 id
columns over ``--ids`` distinct ids and a float weight) once under the temp
directory, then times in one run, best of ``--repeat``:

* ``Graph.load("edges.parquet")`` and ``Graph.load("edges.arrow")``;
* ``pandas.read_parquet`` followed by ``Graph.from_pandas_edgelist(...,
  edge_attr="weight", create_using=nx.MultiDiGraph)`` — the same graph
  (every row an arc, original ids kept).

Usage::

    python benchmarks/parquet.py [--edges 1000000] [--ids 200000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from gasengine import Graph


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def tables(edges: int, ids: int) -> tuple[Path, Path]:
    """The Parquet and Arrow IPC files (written once per size)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyarrow import feather

    folder = Path(tempfile.gettempdir()) / "gasengine-bench"
    folder.mkdir(exist_ok=True)
    parquet, arrow = folder / f"edges-{edges}-{ids}.parquet", folder / f"edges-{edges}-{ids}.arrow"
    if not (parquet.exists() and arrow.exists()):
        rng = np.random.default_rng(0)
        table = pa.table(
            {"source": rng.integers(0, ids, edges), "target": rng.integers(0, ids, edges), "weight": rng.random(edges)}
        )
        pq.write_table(table, parquet)
        feather.write_feather(table, arrow, compression="uncompressed")
    return parquet, arrow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--ids", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    parquet, arrow = tables(args.edges, args.ids)
    Graph.load(str(parquet))  # compile the kernels outside the timings
    via_pandas, ref = best(
        lambda: Graph.from_pandas_edgelist(pd.read_parquet(parquet), edge_attr="weight", create_using=nx.MultiDiGraph),
        args.repeat,
    )
    direct, got = best(lambda: Graph.load(str(parquet)), args.repeat)
    ipc, got_ipc = best(lambda: Graph.load(str(arrow)), args.repeat)
    for g in (got, got_ipc):  # the same graph both ways
        assert np.array_equal(g.original_ids()[g.src], ref.original_ids()[ref.src])
        assert np.array_equal(g.original_ids()[g.dst], ref.original_ids()[ref.dst])
        assert np.array_equal(g.edge_data["weight"], ref.edge_data["weight"])
    print(f"{args.edges:,} rows, {args.ids:,} ids; best of {args.repeat}\n")
    print("| read | seconds | / pandas route |")
    print("|---|---:|---:|")
    print(f"| `pd.read_parquet` + `Graph.from_pandas_edgelist` | {via_pandas:.3f} | 1.00 |")
    print(f"| `Graph.load(edges.parquet)` | {direct:.3f} | {direct / via_pandas:.2f} |")
    print(f"| `Graph.load(edges.arrow)` | {ipc:.3f} | {ipc / via_pandas:.2f} |")


if __name__ == "__main__":
    main()
