"""Weakly connected components against scipy.sparse.csgraph (identical partition)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components as scipy_components

from algorithms import connected_components
from gasengine import ConvergenceError, Graph
from tests.datasets import load, random_graph


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when two labelings group the vertices identically."""
    pairs = np.unique(np.stack([a, b], axis=1), axis=0)
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def scipy_labels(g: Graph) -> tuple[int, np.ndarray]:
    A = sp.csr_matrix((np.ones(g.num_edges), (g.src, g.dst)), shape=(g.num_vertices,) * 2)
    return scipy_components(A, directed=True, connection="weak")


@pytest.mark.parametrize(
    "dataset, count",
    [("snap/Wiki-Vote.txt", 24), ("snap/p2p-Gnutella31.txt", 12), ("snap/CA-GrQc.txt", 355), ("snap/email-Eu-core.txt", 20)],
)
@pytest.mark.parametrize("parts", [1, 2, 4])
def test_real_graphs_match_scipy(dataset, count, parts):
    g = load(dataset)
    labels = connected_components(g, partitions=parts)
    n, ref = scipy_labels(g)
    assert n == count == len(np.unique(labels))
    assert same_partition(labels, ref)


@pytest.mark.parametrize("parts", [1, 2, 4])
def test_generated_graph_labels_are_component_minima(parts):
    g = random_graph(2000, 1500, seed=31)  # sparse: many components and isolated vertices
    labels = connected_components(g, partitions=parts)
    n, ref = scipy_labels(g)
    assert same_partition(labels, ref)
    mins = np.full(n, g.num_vertices)
    np.minimum.at(mins, ref, np.arange(g.num_vertices))
    np.testing.assert_array_equal(labels, mins[ref])


def test_long_path_needs_diameter_supersteps():
    n = 50
    g = Graph(np.arange(1, n), np.arange(0, n - 1))  # path n-1 -> ... -> 0
    labels, result = connected_components(g, return_result=True, partitions=3)
    assert labels.tolist() == [0] * n
    assert result.supersteps == n - 1  # label 0 travels one hop per superstep


def test_superstep_budget_that_stops_early_raises_with_the_partial_result():
    n = 10
    g = Graph(np.arange(1, n), np.arange(0, n - 1))
    assert connected_components(g, max_supersteps=n - 1).tolist() == [0] * n  # just enough: no error
    with pytest.raises(ConvergenceError, match=rf"connected_components did not converge within {n - 2} supersteps") as info:
        connected_components(g, max_supersteps=n - 2)
    labels = info.value.result.field("component")
    assert labels[-1] == 1 and labels[:-1].tolist() == [0] * (n - 1)  # label 0 is one hop short of the end
