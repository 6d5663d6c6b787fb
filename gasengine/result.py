"""What a run returns: final fields, aggregates and per-superstep statistics."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

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
        """The table as a ``pandas.DataFrame`` (pandas is a base dependency)."""
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.rows], columns=list(self.columns))

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
        header = ["step", *(["color"] if colours else []), *(["candidates", "losers", "conflicts"] if rounds else []),
                  "active", "updates", "seconds", "compute", "exchange", "bytes"]
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
        ``converged`` said so; False if ``max_supersteps`` stopped it.
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

    @property
    def conflicts(self) -> int:
        """Data races of the run (asynchronous engine under vertex consistency; 0 otherwise)."""
        return self.steps.conflicts

    @property
    def supersteps(self) -> int:
        """Number of supersteps run (sweeps, for the chromatic engine)."""
        return self.steps.supersteps

    def field(self, name: str, by_id: bool = False) -> np.ndarray | dict[Any, Any]:
        """A vertex field; ``by_id=True`` gives ``{original id: value}``."""
        if name not in self.vertex_data:
            raise KeyError(f"no vertex field {name!r}; fields are {sorted(self.vertex_data)}")
        values = self.vertex_data[name]
        if not by_id:
            return values
        return dict(zip(self.graph.original_ids().tolist(), values.tolist()))

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
