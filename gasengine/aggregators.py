"""Sync operations (GraphLab aggregators): global values computed from all vertices."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ProgramError
from .program import VertexView, check_combine


class Globals(Mapping):
    """The sync operations' values, read-only, as programs see them (``v.globals``, ``converged(globals)``).

    Besides the values by name it says where the run is: ``num_vertices``
    and ``step`` (the superstep, sweep or round just finished; 0 before the
    first), so that no program has to keep its own copy of either.

    Examples
    --------
    >>> g = Globals({"total": 3.0}, num_vertices=10)
    >>> g["total"], g.num_vertices, g.step
    (3.0, 10, 0)
    """

    def __init__(self, values: dict[str, Any], num_vertices: int, step: int = 0):
        self._values = values
        self.num_vertices = num_vertices
        #: Set by the engine as it advances (a plain value: a callback into the
        #: engine would make a reference cycle that keeps a finished run's
        #: arrays alive until the garbage collector happens to run).
        self.step = step

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Globals({self._values!r}, num_vertices={self.num_vertices}, step={self.step})"


@dataclass(frozen=True)
class Aggregator:
    """A global value folded over all vertices every ``every`` supersteps.

    The engine calls ``map(v)`` on batches of master vertices (``v`` is a
    :class:`VertexView`; it must return one value per vertex, with a trailing
    shape that does not depend on the batch: learnt from one call on an
    empty batch, so ``map`` must accept one), folds the values with ``combine`` across all batches and workers,
    and stores ``finalize(value)`` (or the value itself) under ``name``.  The
    result is readable as ``globals[name]`` in gather, apply, scatter and
    ``converged``, and is returned in ``Result.aggregates``.  Every aggregator
    also runs once before the first superstep so its value exists from the start.

    Parameters
    ----------
    name : str
        Key of the value in ``globals``.
    map : callable
        ``map(v) -> array`` with one value per vertex of the batch.
    combine : numpy ufunc
        Commutative, associative fold (default ``np.add``).
    finalize : callable, optional
        ``finalize(value) -> value`` applied to the folded value, or
        ``finalize(value, previous)`` (two parameters) to also receive the
        aggregator's previous value (None the first time) — an empty
        k-means cluster keeps its centre that way — or
        ``finalize(value, previous, globals)`` to read the run's
        :class:`Globals` too (``globals.step``, ``globals.num_vertices``,
        the other sync operations' values); see :meth:`finish`.
    every : int
        Run after every ``every``-th superstep (sweep, for the chromatic
        engine; round, for the asynchronous one; default 1).
    over : {"vertices", "edges"}
        What ``map`` receives: a :class:`VertexView` of master vertices, or
        an :class:`EdgeView` of edges (seen from their source: ``e.src_data``,
        ``e.dst_data``, ``e.data``), one value per edge — a training error
        per rating edge, say.
    num_keys : int, optional
        A *keyed* fold: ``map`` returns ``(keys, values)``, integer keys in
        ``0..num_keys-1`` each with a value (usually one pair per vertex or
        edge, but any number), and the aggregate has one folded value per
        key, shape ``(num_keys, ...)`` (per-cluster sums and counts, without
        a one-hot block per vertex).
    every_updates : int, optional
        Run instead after the superstep, sweep or round that brings the
        number of vertex updates since the last run to at least this many
        (the asynchronous engine's natural clock: ``every_updates=n`` is
        about once per pass over the graph).

    Examples
    --------
    >>> import numpy as np
    >>> total = Aggregator("total_rank", lambda v: v.data["rank"])
    >>> biggest = Aggregator("max_deg", lambda v: v.data["deg"], combine=np.maximum)
    >>> weight = Aggregator("total_weight", lambda e: e.data["w"], over="edges")
    >>> per_label = Aggregator("sizes", lambda v: (v.data["label"], np.ones(len(v))), num_keys=4)
    """

    name: str
    map: Callable[[VertexView], Any]
    combine: np.ufunc = np.add
    finalize: Callable[..., Any] | None = None
    every: int = 1
    every_updates: int | None = None
    over: str = "vertices"
    num_keys: int | None = None
    #: How many of (value, previous, globals) ``finalize`` takes (set from its signature).
    finalize_arity: int = field(default=0, init=False, repr=False, compare=False)
    finalize_takes_previous: bool = field(default=False, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"Aggregator: name must be a non-empty string, got {self.name!r}")
        if not callable(self.map):
            raise TypeError(f"Aggregator {self.name!r}: map must be callable, got {self.map!r}")
        try:
            check_combine(self.combine, f"Aggregator[{self.name}]")
        except ProgramError as exc:
            raise TypeError(str(exc)) from None
        every = self.every
        if isinstance(every, bool) or not isinstance(every, numbers.Integral) or every < 1:
            raise ValueError(f"Aggregator {self.name!r}: every must be an integer >= 1, got {every!r}")
        object.__setattr__(self, "every", int(every))
        keys = self.num_keys
        if keys is not None and (isinstance(keys, bool) or not isinstance(keys, numbers.Integral) or keys < 1):
            raise ValueError(f"Aggregator {self.name!r}: num_keys must be an integer >= 1 or None, got {keys!r}")
        if self.finalize is not None and not callable(self.finalize):
            raise TypeError(f"Aggregator {self.name!r}: finalize must be callable or None, got {self.finalize!r}")
        # read once here, not at every step: which of (value, previous, globals) finalize takes
        arity = 0 if self.finalize is None else finalize_parameters(self.finalize)
        if arity > 3:
            raise TypeError(
                f"Aggregator {self.name!r}: finalize takes 1 to 3 parameters (value, previous, globals), not {arity}"
            )
        object.__setattr__(self, "finalize_arity", arity)
        object.__setattr__(self, "finalize_takes_previous", arity >= 2)
        if self.over not in ("vertices", "edges"):
            raise ValueError(f"Aggregator {self.name!r}: over must be 'vertices' or 'edges', got {self.over!r}")
        clock = self.every_updates
        if clock is not None:
            if isinstance(clock, bool) or not isinstance(clock, numbers.Integral) or clock < 1:
                raise ValueError(
                    f"Aggregator {self.name!r}: every_updates must be an integer >= 1 or None, got {clock!r}"
                )
            object.__setattr__(self, "every_updates", int(clock))

    def due(self, superstep: int) -> bool:
        """Whether the aggregator runs after superstep ``superstep`` (1-based count)."""
        return superstep % self.every == 0

    def finish(self, value: Any, previous: Any, globals: Globals) -> Any:
        """The value stored under ``name``: the folded ``value`` passed through ``finalize``.

        ``finalize`` gets the parameters it declares, in order: the folded
        value, the aggregator's previous value (None the first time) and
        the :class:`Globals` of the run (``globals.step``, the superstep,
        sweep or round just finished, 0 before the first;
        ``globals.num_vertices``; the other sync operations' values).  An
        exception in ``finalize`` becomes a :class:`~gasengine.ProgramError`
        naming ``Aggregator[name].finalize``.

        Parameters
        ----------
        value : Any
            The value folded over all vertices (edges, keys) and workers.
        previous : Any
            The aggregator's value before this run of it, or None.
        globals : Globals
            What the run's programs see as ``globals``.

        Returns
        -------
        Any
            ``finalize(...)``, or ``value`` without a ``finalize``.

        Examples
        --------
        >>> mean = Aggregator("mean_x", lambda v: v.data["x"],
        ...                   finalize=lambda total, previous, globals: total / globals.num_vertices)
        >>> mean.finish(12.0, None, Globals({}, num_vertices=4, step=1))
        3.0
        """
        if self.finalize is None:
            return value
        args = (value, previous, globals)[: self.finalize_arity]
        try:
            return self.finalize(*args)
        except (ProgramError, KeyboardInterrupt):
            raise
        except BaseException as exc:
            raise ProgramError(f"Aggregator[{self.name}]", "finalize", f"{type(exc).__name__}: {exc}") from exc


def takes_previous(finalize: Callable[..., Any]) -> bool:
    """Whether ``finalize`` takes the previous value as a second parameter.

    Examples
    --------
    >>> takes_previous(lambda value: value), takes_previous(lambda value, previous: value)
    (False, True)
    """
    return finalize_parameters(finalize) >= 2


def finalize_parameters(finalize: Callable[..., Any]) -> int:
    """How many of ``(value, previous, globals)`` a ``finalize`` takes.

    Its positional parameters are counted (a builtin without a signature
    takes the value only); ``*args`` alone counts as two, as finalize
    functions were called before the globals were passed.

    Examples
    --------
    >>> finalize_parameters(float), finalize_parameters(lambda value, previous, globals: value)
    (1, 3)
    >>> finalize_parameters(lambda *args: args)
    2
    """
    import inspect

    try:
        params = [
            p
            for p in inspect.signature(finalize).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):  # builtins without a signature take the value only
        return 1
    named = sum(p.kind is not p.VAR_POSITIONAL for p in params)
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return max(named, 2)
    return named
