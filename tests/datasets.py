"""Test helpers: where the real datasets live, small graph builders, and a program the engines' tests share."""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from gasengine import OUT, Graph, VertexProgram

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("GASENGINE_DATA", REPO.parent / "shared" / "data"))


def data_file(relative: str) -> Path:
    """Path of a file in the shared datasets folder (skips the test if absent)."""
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"dataset {path} not available (set GASENGINE_DATA)")
    return path


def load(relative: str, **options) -> Graph:
    """Load a real graph from the shared datasets folder."""
    return Graph.load(str(data_file(relative)), **options)


def to_nx_multidigraph(g: Graph) -> nx.MultiDiGraph:
    """networkx view of a Graph with vertex numbers as nodes (multiplicity kept)."""
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(g.num_vertices))
    G.add_edges_from(zip(g.src.tolist(), g.dst.tolist()))
    return G


def random_graph(n: int, m: int, seed: int, weighted: bool = False) -> Graph:
    """A random directed multigraph with self-loops, isolated vertices and weights."""
    rng = np.random.default_rng(seed)
    edge_data = {"weight": rng.uniform(0.1, 10.0, m)} if weighted else None
    return Graph(rng.integers(0, n, m), rng.integers(0, n, m), num_vertices=n, edge_data=edge_data)


class WeightedOutSum(VertexProgram):
    """A float sum-product gather over weighted out-edges (the products' other direction and a weight),
    ``x <- tanh(sum of w * x over out-neighbours)``; ``rest_every_third`` leaves every third vertex
    unsignalled, so that later steps run partial batches."""

    gather_edges = OUT
    gather_edge_field = "weight"

    def __init__(self, rest_every_third: bool = False):
        self.rest_every_third = rest_every_third

    def init(self, v):
        v.data["x"] = np.sin(v.ids + 1.0)

    def gather_nbr(self, u):
        return u.data["x"]

    def apply(self, v, acc):
        v.data["x"] = np.tanh(acc)
        v.signal(v.ids % 3 != 0 if self.rest_every_third else True)
