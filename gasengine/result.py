"""What a run returns: final fields, aggregates and per-superstep statistics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np

from partitioning.memory import human_bytes

if TYPE_CHECKING:
    from .graph import Graph


@dataclass
class StepStats:
    """Statistics of one superstep (or, for the chromatic engine, of one colour step of a sweep).

    ``bytes_exchanged`` counts the bytes of every message between two different
    parts (partial accumulators, vertex values, signals, activity), whether the
    parts live in one process or not; ``bytes_between_workers`` only those that
    crossed between worker processes.  ``color`` is the colour class the
    chromatic engine ran in this step (-1 for a whole superstep); its rows
    share the ``superstep`` number of their sweep.

    A row of the asynchronous engine is one *round*: ``candidates`` taken
    from the scheduler, ``losers`` of them denied a lock (they stay
    scheduled), ``active`` (= ``updates``) that ran, ``conflicts``: edges
    joining two vertices that ran in the round (the data races of vertex
    consistency; under edge and full there are none by construction, and
    they are counted only in debug mode, as a self-check), and ``lock_seconds``
    spent choosing and granting the candidates.
    """

    superstep: int
    active: int
    updates: int
    seconds: float
    compute_seconds: float
    exchange_seconds: float
    bytes_exchanged: int
    bytes_between_workers: int = 0
    color: int = -1
    candidates: int = 0
    losers: int = 0
    conflicts: int = 0
    lock_seconds: float = 0.0


class StepTable:
    """Per-superstep statistics; print it, or turn it into a DataFrame.

    Examples
    --------
    >>> t = StepTable([StepStats(1, 10, 10, 0.01, 0.008, 0.002, 640)])
    >>> t.column("active").tolist()
    [10]
    """

    columns = (
        "superstep",
        "active",
        "updates",
        "seconds",
        "compute_seconds",
        "exchange_seconds",
        "bytes_exchanged",
        "bytes_between_workers",
        "color",
        "candidates",
        "losers",
        "conflicts",
        "lock_seconds",
    )

    def __init__(self, rows: list[StepStats] | None = None):
        self.rows: list[StepStats] = list(rows or [])

    def append(self, row: StepStats) -> None:
        self.rows.append(row)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, i: int) -> StepStats:
        return self.rows[i]

    @property
    def supersteps(self) -> int:
        """Number of supersteps (sweeps, for the chromatic engine, whose rows are colour steps;
        rounds, for the asynchronous engine)."""
        return len({r.superstep for r in self.rows})

    @property
    def rounds(self) -> bool:
        """Whether the rows are rounds of the asynchronous engine."""
        return any(r.candidates for r in self.rows)

    @property
    def conflicts(self) -> int:
        """Data races over the run: edges joining two vertices updated in the same round."""
        return sum(r.conflicts for r in self.rows)

    def column(self, name: str) -> np.ndarray:
        """One statistic for every superstep, as an array."""
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; columns are {self.columns}")
        return np.array([getattr(r, name) for r in self.rows])

    def to_pandas(self) -> Any:
        """The table as a ``pandas.DataFrame``: one row per step, one column per statistic.

        The columns are :attr:`columns` (``superstep``, ``active``,
        ``updates``, ``seconds``, ..., ``lock_seconds``), with integer counts
        as int64 and times as float64 (pandas is a base dependency).

        Examples
        --------
        >>> t = StepTable([StepStats(1, 10, 10, 0.01, 0.008, 0.002, 640),
        ...                StepStats(2, 3, 3, 0.004, 0.003, 0.001, 192)])
        >>> df = t.to_pandas()
        >>> df[["superstep", "active", "bytes_exchanged"]].values.tolist()
        [[1, 10, 640], [2, 3, 192]]
        >>> str(df["seconds"].dtype), len(df.columns) == len(StepTable.columns)
        ('float64', True)
        """
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.rows], columns=list(self.columns))

    def plot(self, path: Any = None, *, title: str | None = None) -> Any:
        """A figure of the run, step by step: active vertices, updates, seconds and bytes exchanged.

        Four panels over the steps (supersteps; colour steps for the
        chromatic engine, with the sweeps marked; rounds for the
        asynchronous engine): active vertices (and, for rounds, the
        candidates offered), vertex updates, seconds split into compute and
        exchange (and lock) time, and bytes exchanged between parts (and
        between worker processes, when any were).  A count axis turns
        logarithmic when its values span more than two decades; bytes are
        labelled in KiB/MiB/GiB and times in ms or s.  Needs matplotlib
        (``pip install 'gasengine[plot]'``).

        Parameters
        ----------
        path : str, path-like or binary file, optional
            Where to save the figure as well; the format follows the
            extension (``.png``, ``.pdf``, ``.svg``, ...).
        title : str, optional
            Figure title; by default :meth:`summary`.

        Returns
        -------
        matplotlib.figure.Figure
            Not attached to pyplot (no window opens); Jupyter displays it.

        Raises
        ------
        ImportError
            If matplotlib is not installed, naming the ``plot`` extra.
        ValueError
            If the table has no rows.

        Examples
        --------
        >>> t = StepTable([StepStats(k, 10**4 // k**3, 10**4 // k**3, 0.01, 0.008, 0.002, 64 * 10**4 // k**3)
        ...                for k in range(1, 11)])
        >>> fig = t.plot()
        >>> [ax.get_ylabel() for ax in fig.axes]
        ['active vertices', 'vertex updates', 'milliseconds', 'exchanged (KiB)']
        >>> fig.axes[0].get_yscale(), fig.axes[0].get_xlabel(), fig.axes[2].get_xlabel()
        ('log', '', 'superstep')
        """
        return _plot_steps(self, path, title)

    def summary(self) -> str:
        """One line: supersteps, updates, time split and bytes exchanged."""
        total = sum(r.seconds for r in self.rows)
        comp = sum(r.compute_seconds for r in self.rows)
        exch = sum(r.exchange_seconds for r in self.rows)
        nbytes = sum(r.bytes_exchanged for r in self.rows)
        between = sum(r.bytes_between_workers for r in self.rows)
        updates = sum(r.updates for r in self.rows)
        workers = f" ({human_bytes(between)} between workers)" if between else ""
        steps = f"{self.supersteps} supersteps"
        if any(r.color >= 0 for r in self.rows):
            steps = f"{self.supersteps} sweeps ({len(self.rows)} colour steps)"
        if self.rounds:
            losers = sum(r.losers for r in self.rows)
            steps = f"{self.supersteps} rounds ({losers} lock losers, {self.conflicts} conflicts)"
        return (
            f"{steps}, {updates} updates, {total:.3f} s "
            f"(compute {comp:.3f} s, exchange {exch:.3f} s), {human_bytes(nbytes)} exchanged{workers}"
        )

    def __str__(self) -> str:
        colours = any(r.color >= 0 for r in self.rows)
        rounds = self.rounds
        header = [
            "step",
            *(["color"] if colours else []),
            *(["candidates", "losers", "conflicts"] if rounds else []),
            "active",
            "updates",
            "seconds",
            "compute",
            "exchange",
            "bytes",
        ]
        body = [
            [
                str(r.superstep),
                *([str(r.color)] if colours else []),
                *([str(r.candidates), str(r.losers), str(r.conflicts)] if rounds else []),
                str(r.active),
                str(r.updates),
                f"{r.seconds:.4f}",
                f"{r.compute_seconds:.4f}",
                f"{r.exchange_seconds:.4f}",
                str(r.bytes_exchanged),
            ]
            for r in self.rows
        ]
        widths = [max(len(h), *(len(row[i]) for row in body)) if body else len(h) for i, h in enumerate(header)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in body]
        return "\n".join(lines)

    __repr__ = __str__


@dataclass
class Result:
    """The outcome of :func:`gasengine.run`.

    Attributes
    ----------
    vertex_data : dict of str to ndarray
        Final vertex fields, indexed by vertex number ``0..n-1``.
    edge_data : dict of str to ndarray
        Final edge fields, in the graph's edge order.
    aggregates : dict
        Last value of every sync operation.
    history : dict
        Every value of every sync operation, as ``(step, value)`` pairs in
        order: step 0 is the value before the first superstep, then one pair
        per superstep (sweep, round) after which it ran.
    steps : StepTable
        Per-superstep statistics.
    converged : bool
        True if the run ended because no vertex was active or the program's
        ``converged`` said so; False if ``max_supersteps``, ``max_updates``
        or ``timeout`` stopped it.
    timed_out : bool
        True if ``timeout`` stopped the run (after the step in which it passed).
    resumed_from : int or None
        The step of the checkpoint the run resumed from (None: it started
        from the beginning).  ``steps`` and ``history`` include the steps
        before it.
    graph : Graph
        The input graph (for original ids).

    Examples
    --------
    >>> import numpy as np
    >>> from gasengine import Graph
    >>> r = Result({"x": np.array([1.0, 2.0])}, {}, {}, StepTable(), True, Graph([0], [1], ids=[7, 9]))
    >>> r.field("x", by_id=True)
    {7: 1.0, 9: 2.0}
    """

    vertex_data: dict[str, np.ndarray]
    edge_data: dict[str, np.ndarray]
    aggregates: dict[str, Any]
    steps: StepTable
    converged: bool
    graph: Graph = field(repr=False)
    engine: str = "sync"
    num_parts: int = 1
    workers: int = 1
    #: Colour classes the chromatic engine ran (0 for the other engines).
    colors: int = 0
    history: dict[str, list[tuple[int, Any]]] = field(default_factory=dict)
    timed_out: bool = False
    resumed_from: int | None = None

    @property
    def conflicts(self) -> int:
        """Data races of the run (asynchronous engine under vertex consistency; 0 otherwise)."""
        return self.steps.conflicts

    @property
    def supersteps(self) -> int:
        """Number of supersteps run (sweeps, for the chromatic engine)."""
        return self.steps.supersteps

    @overload
    def field(self, name: str, by_id: Literal[False] = False) -> Any: ...
    @overload
    def field(self, name: str, by_id: Literal[True]) -> dict[Any, Any]: ...
    @overload
    def field(self, name: str, by_id: bool) -> Any: ...

    def field(self, name: str, by_id: bool = False) -> Any:
        """A vertex field; ``by_id=True`` gives ``{original id: value}``.

        The field is an ndarray, or a :class:`~gasengine.Ragged` for a field of neighbour sets.
        """
        if name not in self.vertex_data:
            raise KeyError(f"no vertex field {name!r}; fields are {sorted(self.vertex_data)}")
        values = self.vertex_data[name]
        if not by_id:
            return values
        return dict(zip(self.graph.original_ids().tolist(), values.tolist()))

    def to_pandas(self, fields: Any = None) -> Any:
        """The final vertex fields as a DataFrame: one row per vertex, indexed by original id.

        The index is named ``"id"`` (the graph's original ids, or
        ``0..n-1``); one column per vertex field (``fields`` picks and orders
        them): scalars as columns of their dtype, vector fields as columns
        of arrays, :class:`~gasengine.ragged.Ragged` fields (neighbour sets)
        as columns of lists.  The step statistics are ``steps.to_pandas()``.

        Examples
        --------
        >>> import numpy as np
        >>> from gasengine import Graph
        >>> r = Result({"rank": np.array([0.25, 0.75])}, {}, {}, StepTable(), True, Graph([0], [1], ids=[7, 9]))
        >>> r.to_pandas()["rank"].to_dict()
        {7: 0.25, 9: 0.75}
        """
        from .frames import fields_frame

        return fields_frame(self.vertex_data, self.graph.original_ids(), fields)

    def to_networkx(self, **options: Any) -> Any:
        """The graph as networkx with the final fields as node and edge attributes."""
        from .graph import Graph

        g = Graph.from_arcs(
            self.graph.src,
            self.graph.dst,
            self.graph.num_vertices,
            vertex_data=self.vertex_data,
            edge_data=self.edge_data,
            ids=self.graph.ids,
            directed=self.graph.directed,
        )
        return g.to_networkx(**options)

    def __repr__(self) -> str:
        return (
            f"Result(engine={self.engine!r}, supersteps={self.supersteps}, converged={self.converged}, "
            f"vertex_fields={sorted(self.vertex_data)}, aggregates={sorted(self.aggregates)})"
        )


# ------------------------------------------------------------------ plotting
def _figure_class() -> Any:
    """matplotlib's Figure, or an ImportError naming the extra that installs it."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plotting needs matplotlib: pip install 'gasengine[plot]'") from None
    return Figure


def _log_if_wide(ax: Any, *series: np.ndarray) -> None:
    """A logarithmic y axis when the positive values span more than two decades."""
    values = np.concatenate([np.asarray(s, dtype=float).ravel() for s in series])
    positive = values[values > 0]
    if positive.size >= 2 and positive.max() / positive.min() > 100:
        ax.set_yscale("log", nonpositive="mask")


def _plot_steps(table: StepTable, path: Any, title: str | None) -> Any:
    """The body of :meth:`StepTable.plot`."""
    Figure = _figure_class()
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    if not table.rows:
        raise ValueError("no steps to plot: the table is empty")
    col = table.column
    x = np.arange(1, len(table) + 1)
    colours = bool(np.any(col("color") >= 0))
    rounds = table.rounds
    xlabel = "round" if rounds else ("colour step" if colours else "superstep")
    if not rounds and not colours:
        x = col("superstep")
    fig = Figure(figsize=(10, 6.4), layout="constrained")
    (ax_active, ax_updates), (ax_time, ax_bytes) = fig.subplots(2, 2, sharex=True)
    marker = "o" if len(x) <= 40 else None

    active = col("active")
    ax_active.plot(x, active, marker=marker, markersize=3, color="tab:blue", label="active")
    if rounds:
        ax_active.plot(
            x, col("candidates"), marker=marker, markersize=3, color="tab:gray", linestyle="--", label="candidates"
        )
        ax_active.legend(fontsize=8)
    ax_active.set_ylabel("active vertices")
    ax_active.set_title("active vertices per step", fontsize=10)
    _log_if_wide(ax_active, active, col("candidates") if rounds else active)

    updates = col("updates")
    ax_updates.plot(x, updates, marker=marker, markersize=3, color="tab:green")
    ax_updates.set_ylabel("vertex updates")
    ax_updates.set_title(f"vertex updates per step (total {int(updates.sum()):,})", fontsize=10)
    _log_if_wide(ax_updates, updates)

    parts = [("compute", col("compute_seconds"), "tab:blue"), ("exchange", col("exchange_seconds"), "tab:orange")]
    if rounds:
        parts.append(("locks", col("lock_seconds"), "tab:purple"))
    total = col("seconds")
    scale, unit = (1e3, "milliseconds") if total.max() < 1 else (1.0, "seconds")
    bottom = np.zeros(len(x))
    other = np.maximum(total - sum(values for _, values, _ in parts), 0)
    if other.max() > 0.05 * max(total.max(), 1e-12):
        parts.append(("other", other, "tab:gray"))
    for name, values, colour in parts:
        top = bottom + values * scale
        if len(x) <= 100:  # bars while they are wider than a hairline, stacked areas beyond
            ax_time.bar(x, values * scale, bottom=bottom, width=0.85, color=colour, label=name)
        else:
            ax_time.fill_between(x, bottom, top, step="mid", color=colour, linewidth=0, label=name)
        bottom = top
    ax_time.set_ylabel(unit)
    ax_time.set_title(f"time per step (total {total.sum():.3g} s)", fontsize=10)
    ax_time.legend(fontsize=8)

    exchanged = col("bytes_exchanged")
    between = col("bytes_between_workers")
    # in the binary unit of the largest value, so that the ticks are round numbers of it
    power = int(np.clip(np.floor(np.log2(max(exchanged.max(), 1)) / 10), 0, 4))
    unit = ("bytes", "KiB", "MiB", "GiB", "TiB")[power]
    ax_bytes.plot(x, exchanged / 1024**power, marker=marker, markersize=3, color="tab:red", label="between parts")
    if between.any():
        ax_bytes.plot(
            x,
            between / 1024**power,
            marker=marker,
            markersize=3,
            color="tab:brown",
            linestyle="--",
            label="between workers",
        )
        ax_bytes.legend(fontsize=8)
    ax_bytes.set_ylabel(f"exchanged ({unit})")
    ax_bytes.set_title(f"bytes exchanged per step (total {human_bytes(exchanged.sum())})", fontsize=10)
    _log_if_wide(ax_bytes, exchanged, between)
    if not exchanged.any():  # one part: nothing to draw but the fact
        ax_bytes.set_ylim(0, 1)
        ax_bytes.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax_bytes.text(
            0.5,
            0.5,
            "nothing exchanged (one part)",
            transform=ax_bytes.transAxes,
            ha="center",
            va="center",
            color="tab:gray",
        )

    counts = FuncFormatter(lambda v, _: f"{int(v):,}" if v == int(v) else f"{v:g}")
    for ax in (ax_active, ax_updates, ax_time, ax_bytes):
        ax.grid(True, alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if ax.get_yscale() == "linear":
            ax.set_ylim(bottom=0)
        if ax is not ax_time:  # 1, 10, 100 (and 1,000) rather than 10^k
            ax.yaxis.set_major_formatter(counts)
            if ax.get_yscale() == "log":
                ax.yaxis.set_minor_formatter(NullFormatter())
    if colours:  # the first colour step of every sweep
        sweep = col("superstep")
        for start in x[1:][sweep[1:] != sweep[:-1]]:
            for ax in (ax_active, ax_updates, ax_time, ax_bytes):
                ax.axvline(start - 0.5, color="black", alpha=0.15, linewidth=0.8)
    ax_time.set_xlabel(xlabel)
    ax_bytes.set_xlabel(xlabel)
    fig.suptitle(title if title is not None else table.summary(), fontsize=10)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
