"""Weakly connected components against scipy.sparse.csgraph (identical labels).

Both programs are checked: pointer jumping (``connected_components``) and
min-label propagation (``min_label_components``), on real graphs, generated
ones (random multigraphs, grids, road-like, R-MAT), several parts and worker
processes.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components as scipy_components

from algorithms import connected_components, min_label_components
from gasengine import ConvergenceError, Graph
from gasengine.generators import grid, rmat, road_like
from tests.datasets import load, random_graph

BOTH = [connected_components, min_label_components]


def scipy_minima(g: Graph) -> np.ndarray:
    """Per vertex, the smallest vertex number of its weak component (scipy's partition)."""
    A = sp.csr_matrix((np.ones(g.num_edges), (g.src, g.dst)), shape=(g.num_vertices,) * 2)
    n, ref = scipy_components(A, directed=True, connection="weak")
    mins = np.full(n, g.num_vertices)
    np.minimum.at(mins, ref, np.arange(g.num_vertices))
    return mins[ref]


@pytest.mark.parametrize(
    "dataset, count",
    [
        ("snap/Wiki-Vote.txt", 24),
        ("snap/p2p-Gnutella31.txt", 12),
        ("snap/CA-GrQc.txt", 355),
        ("snap/email-Eu-core.txt", 20),
    ],
)
@pytest.mark.parametrize("parts", [1, 3])
def test_real_graphs_match_scipy(dataset, count, parts):
    g = load(dataset)
    labels = connected_components(g, partitions=parts)
    assert len(np.unique(labels)) == count
    np.testing.assert_array_equal(labels, scipy_minima(g))


@pytest.mark.parametrize("algorithm", BOTH)
@pytest.mark.parametrize("parts", [1, 2, 4])
def test_generated_graphs_with_many_components(algorithm, parts):
    g = random_graph(2000, 1500, seed=31)  # sparse: many components and isolated vertices
    np.testing.assert_array_equal(algorithm(g, partitions=parts), scipy_minima(g))


@pytest.mark.parametrize(
    "graph",
    [
        grid(40, 25),
        road_like(3000, seed=2),
        rmat(11, edge_factor=4, seed=5),
        Graph([0, 5, 7], [1, 5, 2], num_vertices=9),
    ],
    ids=["grid", "road-like", "rmat", "tiny-disconnected"],
)
@pytest.mark.parametrize("parts", [1, 3])
def test_high_diameter_and_skewed_graphs(graph, parts):
    expected = scipy_minima(graph)
    np.testing.assert_array_equal(connected_components(graph, partitions=parts), expected)


def test_two_workers_give_the_same_labels():
    g = road_like(2000, seed=7)
    expected = scipy_minima(g)
    np.testing.assert_array_equal(connected_components(g, workers=2, partitions=3), expected)
    np.testing.assert_array_equal(min_label_components(g, workers=2), expected)


def test_pointer_jumping_needs_log_diameter_supersteps():
    n = 512
    g = Graph(np.arange(1, n), np.arange(0, n - 1))  # path n-1 -> ... -> 0
    labels, jumping = connected_components(g, return_result=True, partitions=3)
    _, spreading = min_label_components(g, return_result=True, partitions=3)
    assert labels.tolist() == [0] * n
    assert spreading.supersteps == n - 1  # label 0 travels one hop per superstep
    assert jumping.supersteps <= 2 * np.log2(n)  # the distance it has left halves


@pytest.mark.parametrize("algorithm, needed", [(min_label_components, 9), (connected_components, 5)])
def test_superstep_budget_that_stops_early_raises_with_the_partial_result(algorithm, needed):
    n = 10
    g = Graph(np.arange(1, n), np.arange(0, n - 1))
    assert algorithm(g, max_supersteps=needed).tolist() == [0] * n  # just enough: no error
    name = algorithm.__name__
    with pytest.raises(ConvergenceError, match=rf"{name} did not converge within {needed - 1} supersteps") as info:
        algorithm(g, max_supersteps=needed - 1)
    assert info.value.result.supersteps == needed - 1


@pytest.mark.parametrize("consistency", ["vertex", "edge", "full"])
def test_async_engine_runs_min_label_propagation(consistency):
    g = random_graph(80, 1600, seed=5)
    labels = connected_components(g, engine="async", consistency=consistency)
    assert labels.tolist() == [0] * 80  # one component (the study found FastSV stopping after one round here)
    g = random_graph(300, 280, seed=6)
    np.testing.assert_array_equal(connected_components(g, engine="async", batch_size=16), connected_components(g))
