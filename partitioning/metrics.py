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

    def plot(self, path: Any = None, *, title: str | None = None) -> Any:
        """A figure of the cut quality per strategy: replication factor, edge balance and master balance.

        Three panels of bars, one group per strategy (in the order of the
        rows) and one bar per part count when the report covers several:
        the replication factor (labelled with its value; the dashed line at
        1 is a cut without mirrors), and the edge and master balance drawn
        as how far the largest part is above the mean, in percent
        (``(max / mean - 1) * 100``; 0 is perfectly even).
        Needs matplotlib (``pip install 'gasengine[plot]'``).

        Parameters
        ----------
        path : str, path-like or binary file, optional
            Where to save the figure as well (format from the extension).
        title : str, optional
            Figure title; by default the graph's size.

        Returns
        -------
        matplotlib.figure.Figure

        Raises
        ------
        ImportError
            If matplotlib is not installed, naming the ``plot`` extra.
        ValueError
            If the report has no rows or lacks the metrics.

        Examples
        --------
        >>> edges = ([0, 0, 0, 1, 2, 3], [1, 2, 3, 2, 3, 4])
        >>> fig = report(edges, num_parts=[2, 4], strategies=["random", "hdrf"]).plot()
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['replicas per vertex', '% above the mean', '% above the mean']
        >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
        ['random', 'hdrf']
        """
        return _plot_report(self, path, title)


def _plot_report(table: PartitionReport, path: Any, title: str | None) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'gasengine[plot]'") from None
    # balance = max / mean; drawn as how far the largest part is above the mean, so bars start at 0 = even
    metrics = [
        ("replication_factor", "replication factor (replicas per vertex; 1 = no mirrors)", "replicas per vertex"),
        ("edge_balance", "edge balance: largest part above the mean", "% above the mean"),
        ("master_balance", "master balance: most masters above the mean", "% above the mean"),
    ]
    if not table.rows or any(key not in table.columns for key, _, _ in metrics[:2]):
        raise ValueError("nothing to plot: the report needs rows with replication_factor and edge_balance")
    metrics = [m for m in metrics if m[0] in table.columns]
    strategies = list(dict.fromkeys(str(r.get("strategy")) for r in table.rows))
    parts = sorted({r.get("parts") for r in table.rows}, key=lambda p: (p is None, p))
    value = {(str(r.get("strategy")), r.get("parts"), key): r.get(key) for r in table.rows for key, _, _ in metrics}
    fig = Figure(figsize=(max(8.0, 0.5 * len(strategies) * len(parts) + 4), 7.0), layout="constrained")
    grid = fig.add_gridspec(2, 2)
    axes = [fig.add_subplot(grid[0, :]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])][: len(metrics)]
    x = np.arange(len(strategies))
    width = 0.8 / len(parts)
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:gray"]
    tilt = len(strategies) > 4
    for ax, (key, heading, unit) in zip(axes, metrics):
        top = 0.0
        for j, p in enumerate(parts):
            heights = np.array([np.nan if (got := value.get((s, p, key))) is None else float(got) for s in strategies])
            if key != "replication_factor":
                heights = (heights - 1.0) * 100.0
            top = max(top, float(np.nanmax(heights, initial=0.0)))
            bars = ax.bar(
                x + (j - (len(parts) - 1) / 2) * width,
                np.nan_to_num(heights),
                width * 0.95,
                color=colours[j % len(colours)],
                label=f"{p} parts",
            )
            if key == "replication_factor" and len(strategies) * len(parts) <= 32:
                ax.bar_label(
                    bars, labels=[f"{h:.2f}" if np.isfinite(h) else "" for h in heights], fontsize=7, padding=1
                )
        if key == "replication_factor":
            ax.axhline(1.0, color="black", linestyle="--", linewidth=0.8, alpha=0.6)
        ax.set_xticks(x, strategies, rotation=30 if tilt else 0, ha="right" if tilt else "center")
        ax.set_title(heading, fontsize=10)
        ax.set_ylabel(unit)
        # room for the labels; a balance axis spans at least 5% so that near-even parts look even
        ax.set_ylim(0, max(top * 1.15, 5.0 if key != "replication_factor" else 1.2))
        ax.grid(True, axis="y", alpha=0.3)
    if len(parts) > 1:
        axes[0].legend(fontsize=8)
    if title is None:
        first = table.rows[0]
        size = ", ".join(
            f"{first[k]:,} {k}" for k in ("vertices", "edges") if isinstance(first.get(k), (int, np.integer))
        )
        into = ", ".join(str(p) for p in parts) + " parts"
        title = f"vertex cuts of a graph of {size} into {into}" if size else f"vertex cuts into {into}"
    fig.suptitle(title, fontsize=10)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


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
    part_counts = [num_parts] if isinstance(num_parts, int) or np.isscalar(num_parts) else list(num_parts)
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
