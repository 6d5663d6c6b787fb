"""The strategy registry and the ``partition`` / ``assign_edges`` entry points.

==================== ======================================================
name                 what decides the part of edge ``(u, v)``
==================== ======================================================
``random``           hash of the edge (endpoints and position)
``canonical-random`` hash of the unordered pair ``{u, v}``
``source``           hash of ``u`` (1D)
``destination``      hash of ``v`` (1D)
``grid``             column from ``u``, row from ``v`` (2D, GraphX)
``dbh``              hash of the endpoint of lower degree (Xie et al. 2014)
``greedy``           PowerGraph's streaming greedy (Gonzalez et al. 2012)
``hdrf``             High-Degree Replicated First (Petroni et al. 2015)
==================== ======================================================

The hashing strategies live in :mod:`partitioning.hashing`, the streaming
ones in :mod:`partitioning.streaming`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from .edges import check_edges, check_num_parts, check_seed, edges_of, part_dtype
from .hashing import canonical_random_cut, dbh_cut, destination_cut, grid_cut, random_cut, source_cut
from .streaming import greedy_cut, hdrf_cut
from .vertex_cut import VertexCut

#: A strategy: ``(src, dst, num_vertices, num_parts, seed=0, **params) -> part per edge``
#: (as :func:`~partitioning.edges.part_dtype`).
Strategy = Callable[..., np.ndarray]

#: Every strategy by name; :func:`assign_edges` and :func:`partition` accept these names.
STRATEGIES: dict[str, Strategy] = {
    "random": random_cut,
    "canonical-random": canonical_random_cut,
    "source": source_cut,
    "destination": destination_cut,
    "grid": grid_cut,
    "dbh": dbh_cut,
    "greedy": greedy_cut,
    "hdrf": hdrf_cut,
}

_FIXED_ARGS = {"src", "dst", "num_vertices", "num_parts", "seed"}


def strategy_params(strategy: str) -> dict[str, Any]:
    """The optional parameters a strategy accepts, with their defaults.

    Examples
    --------
    >>> strategy_params("hdrf")
    {'lam': 1.0, 'epsilon': 1.0, 'order': 'shuffle'}
    >>> strategy_params("random")
    {}
    """
    fn = _lookup(strategy)
    return {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if name not in _FIXED_ARGS and p.kind is p.POSITIONAL_OR_KEYWORD
    }


def _lookup(strategy: Any) -> Strategy:
    try:
        return STRATEGIES[strategy]
    except (KeyError, TypeError):
        raise ValueError(f"unknown partition strategy {strategy!r}; choose one of {sorted(STRATEGIES)}") from None


def assign_edges(
    src: Any,
    dst: Any,
    num_vertices: int,
    num_parts: int,
    strategy: str = "random",
    seed: int = 0,
    **params: Any,
) -> np.ndarray:
    """The part of every edge under ``strategy``.

    Parameters
    ----------
    src, dst : array_like of int, shape (m,)
        Edge endpoints in ``0..num_vertices-1``.
    num_vertices : int
        Number of vertices ``n >= 0``.
    num_parts : int
        Number of parts ``P >= 1``.  ``P`` may exceed the number of edges;
        some parts then get no edge.
    strategy : str
        A name from :data:`STRATEGIES`.
    seed : int
        Salt for hashing, stream shuffling and tie-breaking; equal seeds give
        equal assignments.
    **params
        Strategy parameters, see :func:`strategy_params` (e.g. ``lam``,
        ``epsilon`` and ``order`` for ``hdrf``; ``order`` for ``greedy``).

    Returns
    -------
    ndarray, shape (m,)
        Part of every edge, as :func:`~partitioning.edges.part_dtype`
        (int8 up to 128 parts).  Empty for a graph without edges.

    Raises
    ------
    ValueError
        For an unknown strategy or parameter, ``num_parts < 1``, a
        non-integer seed, or a malformed edge list (see
        :func:`partitioning.edges.check_edges`).

    Examples
    --------
    >>> assign_edges([0, 1, 2], [1, 2, 0], 3, 2, "source").dtype
    dtype('int8')
    >>> assign_edges([0], [1], 2, 2, "hdrf", lam=2.0).tolist() in ([0], [1])
    True
    """
    fn = _lookup(strategy)
    num_parts = check_num_parts(num_parts)
    seed = check_seed(seed)
    allowed = strategy_params(strategy)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        accepted = ", ".join(allowed) if allowed else "no parameters"
        raise ValueError(f"strategy {strategy!r} got unknown parameter(s) {', '.join(unknown)}; it accepts {accepted}")
    src, dst, n = check_edges(src, dst, num_vertices)
    if src.size == 0 or num_parts == 1:  # one part: nothing to decide, skip the work
        return np.zeros(src.size, dtype=part_dtype(num_parts))
    return fn(src, dst, n, num_parts, seed=seed, **params)


def partition(graph_or_edges: Any, num_parts: int, strategy: str = "random", seed: int = 0, **params: Any) -> VertexCut:
    """Cut a graph's edges into ``num_parts`` parts.

    Parameters
    ----------
    graph_or_edges : Graph, tuple or ndarray
        Anything with ``src``, ``dst`` and ``num_vertices`` attributes (a
        ``gasengine.Graph``), a tuple ``(src, dst)`` or ``(src, dst,
        num_vertices)``, or an ``(m, 2)`` integer edge array.
    num_parts : int
        Number of parts ``P >= 1``.
    strategy : str
        A name from :data:`STRATEGIES`.
    seed : int
        Salt for hashing and stream order; equal seeds give equal cuts.
    **params
        Strategy parameters, see :func:`assign_edges`.

    Returns
    -------
    VertexCut
        Edge parts, replicas, masters and mirrors.

    Raises
    ------
    ValueError
        See :func:`assign_edges`.

    Notes
    -----
    Bad and edge-case input:

    * ``num_parts < 1``, an unknown strategy or parameter: ``ValueError``.
    * ``num_parts`` larger than the number of edges: allowed; the extra parts
      hold no edge (``edge_balance`` is then ``P / m``) but may hold masters
      of isolated vertices.
    * a graph without edges: every vertex is isolated and gets a master,
      spread round-robin over parts; ``replication_factor`` and
      ``edge_balance`` are 1.0.

    Examples
    --------
    >>> cut = partition(([0, 1, 2, 3], [1, 2, 3, 0]), 2)
    >>> int(cut.edge_part.size)
    4
    >>> partition(([0, 1], [1, 2]), 2, "hdrf", order="file").num_parts
    2
    """
    src, dst, n = edges_of(graph_or_edges)
    parts = assign_edges(src, dst, n, num_parts, strategy, seed, **params)
    return VertexCut.from_assignment(src, dst, n, parts, num_parts, strategy)
