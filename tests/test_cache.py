"""Build once, run many: cuts and part layouts kept with the graph, never reused once it changed."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms import connected_components, pagerank, sssp
from gasengine import Graph, cache
from tests.datasets import random_graph


def cuts(g: Graph) -> list:
    """The cached cuts and layouts (degrees are cached too)."""
    return [k for k in cache.entries(g) if k[0] in ("cut", "layouts")]


def test_a_second_run_reuses_the_cut_and_the_layouts():
    g = random_graph(300, 2000, seed=1, weighted=True)
    first = pagerank(g, tol=1e-10, partitions=3)
    keys = cache.entries(g)
    assert len(cuts(g)) == 2 and g.engine_cache_bytes() > 0  # the cut and its layouts
    assert ("degree", "out_degree") in keys  # PageRank's init asked for out-degrees
    # another program on the same cut: nothing new is built but the out-edge
    # grouping sssp scatters over, which stays with the layouts for later runs
    np.testing.assert_array_equal(sssp(g, 0, partitions=3), sssp(g, 0, partitions=3, cache=False))
    held = g.engine_cache_bytes()
    again = pagerank(g, tol=1e-10, partitions=3)
    assert cache.entries(g) == keys and g.engine_cache_bytes() == held
    np.testing.assert_array_equal(first, again)
    # another cut is another entry
    connected_components(g, partitions=2)
    assert len(cuts(g)) == 4


def test_a_changed_graph_never_reuses_the_cache():
    src = np.array([0, 1, 2, 3, 4], dtype=np.int64)
    dst = np.array([1, 2, 3, 4, 0], dtype=np.int64)
    g = Graph(src, dst, num_vertices=8)
    assert connected_components(g, partitions=2).tolist() == [0, 0, 0, 0, 0, 5, 6, 7]
    g.src[4] = 6  # edited in place: 6 -> 7 instead of 4 -> 0
    g.dst[4] = 7
    fresh = Graph(g.src.copy(), g.dst.copy(), num_vertices=8)
    assert (
        connected_components(g, partitions=2).tolist()
        == connected_components(fresh, partitions=2).tolist()
        == [0, 0, 0, 0, 0, 5, 6, 6]
    )


def test_cache_off_and_clear():
    g = random_graph(100, 400, seed=2)
    connected_components(g, cache=False)
    assert g.engine_cache_bytes() == 0 and cache.entries(g) == []
    connected_components(g)
    assert g.engine_cache_bytes() > 0
    g.clear_engine_cache()
    assert g.engine_cache_bytes() == 0 and cache.entries(g) == []


def test_given_assignments_are_keyed_by_content(tmp_path):
    g = random_graph(100, 400, seed=3)
    a = (np.arange(g.num_edges) % 3).astype(np.int8)
    first = connected_components(g, partition=a)
    a[:] = (np.arange(g.num_edges) % 2).astype(np.int8)  # same array object, new content
    second = connected_components(g, partition=a, return_result=True)[1]
    assert second.num_parts == 2
    np.testing.assert_array_equal(first, second.field("component"))


def test_worker_runs_reuse_the_cut():
    g = random_graph(200, 900, seed=4)
    local = connected_components(g, partitions=2)
    assert len(cuts(g)) == 2
    np.testing.assert_array_equal(connected_components(g, workers=2), local)
    assert len(cuts(g)) == 2  # the same cut: nothing new


@pytest.mark.parametrize("arrays", [(np.arange(5, dtype=np.int32),), (np.arange(5), np.arange(3))])
def test_fingerprint_follows_content(arrays):
    h = cache.fingerprint(*arrays)
    assert h == cache.fingerprint(*(a.copy() for a in arrays))
    changed = [a.copy() for a in arrays]
    changed[0][2] += 1
    assert h != cache.fingerprint(*changed)
