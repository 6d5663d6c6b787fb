"""Vertex-cut partitioning: assign every edge to one of P parts.

This package depends only on numpy/scipy/numba; it never imports the engine.

Examples
--------
>>> from partitioning import partition
>>> cut = partition(([0, 1, 2], [1, 2, 0]), 2, "random")
>>> cut.num_parts, cut.edge_part.shape
(2, (3,))
"""

from .strategies import STRATEGIES, assign_edges, partition
from .vertex_cut import VertexCut

__all__ = ["STRATEGIES", "VertexCut", "assign_edges", "partition"]
