"""Vertex-cut partitioning: assign every edge to one of P parts.

This package depends only on numpy/scipy/numba; it never imports the engine.

* :func:`partition` cuts a graph and returns a :class:`VertexCut` (edge parts,
  replicas, masters, mirrors and quality metrics);
* :func:`assign_edges` returns only the part of every edge;
* :data:`STRATEGIES` maps each strategy name to its function;
* :func:`report` tabulates the metrics of one or several cuts.

Examples
--------
>>> from partitioning import partition
>>> cut = partition(([0, 1, 2], [1, 2, 0]), 2, "random")
>>> cut.num_parts, cut.edge_part.shape
(2, (3,))
>>> sorted(STRATEGIES)[:3]
['canonical-random', 'dbh', 'destination']
"""

from .metrics import PartitionReport, expected_random_replication, report
from .strategies import STRATEGIES, assign_edges, partition, strategy_params
from .streaming import stream_order
from .vertex_cut import VertexCut

__all__ = [
    "STRATEGIES",
    "PartitionReport",
    "VertexCut",
    "assign_edges",
    "expected_random_replication",
    "partition",
    "report",
    "strategy_params",
    "stream_order",
]
