"""Quality tables for vertex cuts, and the analytic expectation for random cuts.

:func:`report` measures one cut, several cuts, or every strategy on one
graph, and returns a :class:`PartitionReport`: printable as an aligned text
table, available as ``rows`` (a list of dicts) or as a pandas DataFrame.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .edges import check_num_parts, edges_of
from .strategies import STRATEGIES, assign_edges
from .vertex_cut import VertexCut

#: Columns of every report, in display order (``seconds`` only when timed).
COLUMNS = (
    "strategy",
    "parts",
    "vertices",
    "edges",
    "replication_factor",
    "edge_balance",
    "master_balance",
    "mirrors",
    "bytes_per_superstep",
    "seconds",
)


class PartitionReport:
    """A table of cut-quality metrics, one row per cut.

    Parameters
    ----------
    rows : list of dict
        One mapping per cut with the keys in :data:`COLUMNS` (``seconds``
        optional).

    Attributes
    ----------
    rows : list of dict
        The rows as given.
    columns : tuple of str
        The columns present, in display order.

    Examples
    --------
    >>> r = PartitionReport([{"strategy": "x", "parts": 2, "replication_factor": 1.5}])
    >>> print(r)
    strategy  parts  replication_factor
    x             2               1.500
    >>> r.rows[0]["parts"]
    2
    """

    def __init__(self, rows: Sequence[Mapping[str, Any]]):
        self.rows: list[dict[str, Any]] = [dict(r) for r in rows]
        present = {k for r in self.rows for k in r}
        known = [c for c in COLUMNS if c in present]
        extra = sorted(present - set(COLUMNS))
        self.columns: tuple[str, ...] = tuple(known + extra)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __str__(self) -> str:
        cells = [[_fmt(r.get(c)) for c in self.columns] for r in self.rows]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(self.columns)]
        numeric = [
            all(isinstance(r.get(c), (int, float, np.number)) or r.get(c) is None for r in self.rows)
            for c in self.columns
        ]

        def line(values: Sequence[str]) -> str:
            out = []
            for v, w, num in zip(values, widths, numeric):
                out.append(v.rjust(w) if num else v.ljust(w))
            return "  ".join(out).rstrip()

        header = line([c.rjust(w) if num else c.ljust(w) for c, w, num in zip(self.columns, widths, numeric)])
        return "\n".join([header] + [line(row) for row in cells])

    def __repr__(self) -> str:
        return f"PartitionReport({len(self.rows)} rows)\n{self}"

    def to_pandas(self):
        """The table as a ``pandas.DataFrame`` (pandas is imported on demand).

        Examples
        --------
        >>> PartitionReport([{"strategy": "x", "parts": 2}]).to_pandas().shape
        (1, 2)
        """
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(self.columns))


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3f}"
    return str(value)


def cut_row(cut: VertexCut, value_bytes: int = 8, label: str | None = None) -> dict[str, Any]:
    """The metrics of one cut as a report row.

    Examples
    --------
    >>> cut = VertexCut.from_assignment([0, 0], [1, 2], 3, [0, 1], 2, "demo")
    >>> row = cut_row(cut)
    >>> row["strategy"], row["replication_factor"], row["mirrors"]
    ('demo', 1.3333333333333333, 1)
    """
    return {
        "strategy": label if label is not None else cut.strategy,
        "parts": cut.num_parts,
        "vertices": int(cut.has_edges.sum()),
        "edges": cut.num_edges,
        "replication_factor": cut.replication_factor,
        "edge_balance": cut.edge_balance,
        "master_balance": cut.master_balance,
        "mirrors": cut.num_mirrors,
        "bytes_per_superstep": cut.bytes_per_superstep(value_bytes),
    }


def report(
    cuts_or_graph: Any,
    num_parts: int | Iterable[int] | None = None,
    strategies: Iterable[str] | Mapping[str, Mapping[str, Any]] | None = None,
    *,
    seed: int = 0,
    value_bytes: int = 8,
) -> PartitionReport:
    """Replication factor, edge balance, master balance and traffic of cuts.

    Parameters
    ----------
    cuts_or_graph : VertexCut, sequence/mapping of VertexCut, or a graph
        A cut or several (a mapping's keys label its rows); or a graph in any
        form :func:`partitioning.partition` accepts, which is then cut with
        every strategy in ``strategies`` for every part count in
        ``num_parts``, and each row also reports the seconds the assignment
        took.
    num_parts : int or iterable of int, optional
        Required when a graph is given.
    strategies : iterable of str or mapping of str to dict, optional
        Strategies to run on a graph (default: all of :data:`STRATEGIES`);
        a mapping gives each strategy its parameters, e.g.
        ``{"hdrf": {"lam": 2.0}, "random": {}}``.
    seed : int
        Seed passed to every strategy.
    value_bytes : int
        Vertex-value size for the ``bytes_per_superstep`` column.

    Returns
    -------
    PartitionReport
        One row per cut, with columns :data:`COLUMNS`.

    Raises
    ------
    ValueError
        If a graph is given without ``num_parts``, or for an unknown strategy.

    Examples
    --------
    >>> from partitioning import partition
    >>> edges = ([0, 0, 0, 1, 2], [1, 2, 3, 2, 3])
    >>> r = report(edges, num_parts=2, strategies=["random", "hdrf"])
    >>> [row["strategy"] for row in r.rows]
    ['random', 'hdrf']
    >>> r2 = report(partition(edges, 2, "grid"))
    >>> r2.rows[0]["edges"]
    5
    """
    if isinstance(cuts_or_graph, VertexCut):
        return PartitionReport([cut_row(cuts_or_graph, value_bytes)])
    if isinstance(cuts_or_graph, Mapping) and all(isinstance(c, VertexCut) for c in cuts_or_graph.values()):
        return PartitionReport([cut_row(c, value_bytes, str(k)) for k, c in cuts_or_graph.items()])
    if (
        isinstance(cuts_or_graph, (list, tuple))
        and cuts_or_graph
        and all(isinstance(c, VertexCut) for c in cuts_or_graph)
    ):
        return PartitionReport([cut_row(c, value_bytes) for c in cuts_or_graph])

    if num_parts is None:
        raise ValueError("report() on a graph needs num_parts (an int or a list of ints)")
    part_counts = [num_parts] if np.isscalar(num_parts) else list(num_parts)
    part_counts = [check_num_parts(p) for p in part_counts]
    if strategies is None:
        plan: dict[str, dict[str, Any]] = {name: {} for name in STRATEGIES}
    elif isinstance(strategies, Mapping):
        plan = {name: dict(params) for name, params in strategies.items()}
    elif isinstance(strategies, str):
        plan = {strategies: {}}
    else:
        plan = {name: {} for name in strategies}
    src, dst, n = edges_of(cuts_or_graph)
    rows = []
    for p in part_counts:
        for name, params in plan.items():
            start = time.perf_counter()
            parts = assign_edges(src, dst, n, p, name, seed, **params)
            seconds = time.perf_counter() - start
            cut = VertexCut.from_assignment(src, dst, n, parts, p, name)
            row = cut_row(cut, value_bytes)
            row["seconds"] = seconds
            rows.append(row)
    return PartitionReport(rows)


def expected_random_replication(graph_or_edges: Any, num_parts: int) -> float:
    """Expected replication factor of a uniformly random vertex cut.

    PowerGraph (Gonzalez et al. 2012, Theorem 5.2): placing every edge in a
    uniformly random part gives a vertex with ``D`` incident edges
    ``P * (1 - (1 - 1/P) ** D)`` replicas in expectation; this averages it
    over vertices with at least one edge (a self-loop counts once).  The
    ``random`` strategy should match it closely; comparing other strategies
    with it shows what they gain.

    Parameters
    ----------
    graph_or_edges : Graph, tuple or ndarray
        As for :func:`partitioning.partition`.
    num_parts : int
        Number of parts ``P``.

    Returns
    -------
    float

    Examples
    --------
    >>> # a star with 4 leaves, P = 2: hub 2*(1 - 1/16), leaves 1 each
    >>> round(expected_random_replication(([0, 0, 0, 0], [1, 2, 3, 4]), 2), 4)
    1.175
    """
    p = check_num_parts(num_parts)
    src, dst, n = edges_of(graph_or_edges)
    loops = src == dst
    incident = np.bincount(src, minlength=n) + np.bincount(dst[~loops], minlength=n)
    touched = incident > 0
    if not touched.any():
        return 1.0
    d = incident[touched].astype(np.float64)
    return float(np.mean(p * -np.expm1(d * np.log1p(-1.0 / p)))) if p > 1 else 1.0
