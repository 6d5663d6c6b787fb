"""Sync operations (GraphLab aggregators): global values computed from all vertices."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .program import VertexView


@dataclass(frozen=True)
class Aggregator:
    """A global value folded over all vertices every ``every`` supersteps.

    The engine calls ``map(v)`` on batches of master vertices (``v`` is a
    :class:`VertexView`; it must return one value per vertex, any trailing
    shape), folds the values with ``combine`` across all batches and workers,
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
        ``finalize(value) -> value`` applied to the folded value.
    every : int
        Run after every ``every``-th superstep (default 1).

    Examples
    --------
    >>> import numpy as np
    >>> total = Aggregator("total_rank", lambda v: v.data["rank"])
    >>> biggest = Aggregator("max_deg", lambda v: v.data["deg"], combine=np.maximum)
    """

    name: str
    map: Callable[[VertexView], Any]
    combine: np.ufunc = np.add
    finalize: Callable[[Any], Any] | None = None
    every: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.combine, np.ufunc) or self.combine.nin != 2:
            raise TypeError(
                f"Aggregator {self.name!r}: combine must be a binary numpy ufunc, got {self.combine!r}"
            )
        if int(self.every) < 1:
            raise ValueError(f"Aggregator {self.name!r}: every must be >= 1, got {self.every}")

    def due(self, superstep: int) -> bool:
        """Whether the aggregator runs after superstep ``superstep`` (1-based count)."""
        return superstep % self.every == 0
