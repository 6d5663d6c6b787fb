"""SSSP against scipy.sparse.csgraph.dijkstra (identical distances)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from algorithms import sssp
from gasengine import ConvergenceError, Graph
from gasengine.generators import grid, road_like
from tests.datasets import load, random_graph


def scipy_distances(g: Graph, source: int, weight: str | None = "weight") -> np.ndarray:
    w = g.edge_data[weight] if weight else np.ones(g.num_edges)
    # csgraph sums parallel edges when building from COO; keep the minimum instead
    key = g.src.astype(np.int64) * g.num_vertices + g.dst
    order = np.lexsort((w, key))
    first = order[np.concatenate(([True], key[order][1:] != key[order][:-1]))]
    A = sp.csr_matrix((w[first], (g.src[first], g.dst[first])), shape=(g.num_vertices,) * 2)
    return dijkstra(A, indices=source)


@pytest.mark.parametrize("parts", [1, 2, 4])
def test_rome99_matches_dijkstra_and_published_sums(parts):
    g = load("dimacs9/rome99.gr")
    dist = sssp(g, 1, partitions=parts)
    np.testing.assert_array_equal(dist, scipy_distances(g, g.vertex_index(1)))
    assert dist.max() == 69102 and dist.sum() == 116006476  # shared/data/README.md


@pytest.mark.parametrize("parts", [1, 2, 4])
def test_california_roads_float_weights(parts):
    g = load("roads/cal.cedge", columns=(1, 2, 3), undirected=True)
    dist = sssp(g, 0, partitions=parts)
    np.testing.assert_array_equal(dist, scipy_distances(g, g.vertex_index(0)))
    assert abs(dist.max() - 14.836895) < 1e-6 and abs(dist.sum() - 154519.021678) < 1e-4


@pytest.mark.parametrize("parts", [1, 2, 4])
def test_generated_graph_with_unreachable_vertices(parts):
    g = random_graph(500, 1500, seed=41, weighted=True)
    dist = sssp(g, 3, by_id=False, partitions=parts)
    ref = scipy_distances(g, 3)
    np.testing.assert_array_equal(dist, ref)
    assert np.isinf(dist).any()


def test_hop_counts_without_weights():
    g = random_graph(300, 900, seed=42)
    np.testing.assert_array_equal(sssp(g, 0, weight=None, by_id=False, partitions=2), scipy_distances(g, 0, None))


def test_negative_weight_rejected_naming_the_edge():
    g = load("snap/soc-sign-bitcoinalpha.csv", format="csv", columns=(0, 1, 2))
    with pytest.raises(ValueError, match=r"non-negative edge lengths; edge \d+->\d+ \(edge #\d+\) has weight=-"):
        sssp(g, 1)


def test_missing_weight_field_and_bad_source():
    g = Graph([0, 1], [1, 2])
    with pytest.raises(ValueError, match="no edge field 'weight'"):
        sssp(g, 0)
    with pytest.raises(ValueError, match="source 7 is not a vertex"):
        sssp(g, 7, weight=None)


def test_superstep_budget_that_stops_early_raises_with_the_partial_result():
    path = Graph(np.arange(4), np.arange(1, 5))  # 0 -> 1 -> 2 -> 3 -> 4: five supersteps to settle
    assert sssp(path, 0, weight=None, max_supersteps=5).tolist() == [0, 1, 2, 3, 4]  # just enough: no error
    with pytest.raises(ConvergenceError, match=r"sssp did not converge within 4 supersteps") as info:
        sssp(path, 0, weight=None, max_supersteps=4)
    assert info.value.result.field("dist").tolist() == [0, 1, 2, 3, np.inf]


@pytest.mark.parametrize(
    "graph", [grid(30, 40, weighted=True, seed=3), road_like(4000, seed=4)], ids=["grid", "road-like"]
)
@pytest.mark.parametrize("delta", ["auto", None, 0.05, 1e9])
@pytest.mark.parametrize("parts", [1, 3])
def test_any_bucket_width_gives_dijkstras_distances(graph, delta, parts):
    np.testing.assert_array_equal(sssp(graph, 0, by_id=False, delta=delta, partitions=parts), scipy_distances(graph, 0))


def test_buckets_cut_the_work_on_road_like_graphs():
    g = road_like(20_000, seed=5)
    _, ordered = sssp(g, 0, by_id=False, return_result=True)
    _, bellman_ford = sssp(g, 0, by_id=False, delta=None, return_result=True)
    done_ordered = ordered.steps.column("updates").sum()
    done_bf = bellman_ford.steps.column("updates").sum()
    assert done_ordered < g.num_vertices * 1.5 < done_bf / 3  # most vertices improve once, not many times


def test_two_workers_with_buckets():
    g = road_like(3000, seed=6)
    np.testing.assert_array_equal(sssp(g, 0, by_id=False, workers=2, partitions=3), scipy_distances(g, 0))


def test_a_bad_bucket_width_is_refused():
    with pytest.raises(ValueError, match="delta must be a positive bucket width"):
        sssp(Graph([0], [1], edge_data={"weight": [1.0]}), 0, delta=-1)


@pytest.mark.parametrize("batch, parts, workers", [(1, 1, 1), (1, 3, 1), (64, 1, 1), (64, 3, 2)])
def test_async_priority_scheduler_is_exact(batch, parts, workers):
    g = load("dimacs9/rome99.gr")
    dist, result = sssp(g, 1, engine="async", batch_size=batch, partitions=parts, workers=workers, return_result=True)
    np.testing.assert_array_equal(dist, scipy_distances(g, g.vertex_index(1)))
    if batch == 1:  # Dijkstra's order: every reachable vertex improved exactly once
        assert result.steps.column("updates").sum() == np.isfinite(dist).sum()


def test_async_priority_relaxes_less_than_bellman_ford():
    g = road_like(20_000, 3, seed=3)
    _, bellman_ford = sssp(g, 0, delta=None, return_result=True)
    dist, priority = sssp(g, 0, engine="async", return_result=True)
    np.testing.assert_array_equal(dist, scipy_distances(g, 0))
    relaxed = lambda r: int(r.steps.column("updates").sum())  # noqa: E731
    assert relaxed(priority) < relaxed(bellman_ford) / 2
