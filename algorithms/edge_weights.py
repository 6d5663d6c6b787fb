"""Validation of the edge weights an algorithm reads."""

from __future__ import annotations

import numpy as np

from gasengine import Graph


def check_nonnegative_weights(graph: Graph, field: str, algorithm: str, what: str = "weights") -> None:
    """Raise ``ValueError`` naming the first edge whose ``field`` is negative or not finite.

    Examples
    --------
    >>> g = Graph([0, 1], [1, 0], edge_data={"w": [1.0, -2.0]})
    >>> check_nonnegative_weights(g, "w", "sssp", "edge lengths")
    Traceback (most recent call last):
    ...
    ValueError: sssp needs finite non-negative edge lengths; edge 1->0 (edge #1) has w=-2.0
    """
    if field not in graph.edge_data:
        raise ValueError(f"no edge field {field!r}; fields are {sorted(graph.edge_data)}")
    w = graph.edge_data[field]
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        i = int(bad[0])
        ids = graph.original_ids()
        raise ValueError(
            f"{algorithm} needs finite non-negative {what}; edge {ids[graph.src[i]]}->{ids[graph.dst[i]]} "
            f"(edge #{i}) has {field}={w[i]}"
        )
