"""Triangles and clustering: identical to networkx on real and generated graphs, for every number of parts."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algorithms.triangles import average_clustering, by_degree, clustering, triangles
from gasengine import Graph
from tests.datasets import load, random_graph

# totals from ../shared/data/README.md (simple undirected graph, arcs symmetrised, loops dropped)
TOTALS = [
    ("snap/email-Eu-core.txt", 105461),
    ("snap/CA-GrQc.txt", 48260),
    ("snap/Wiki-Vote.txt", 608389),
    ("snap/facebook_combined.txt", 1612010),
    ("snap/p2p-Gnutella08.txt", 2383),
    ("snap/soc-sign-bitcoinalpha.csv", 22153),
]


def simple_nx(g: Graph) -> nx.Graph:
    """The graph a networkx user counts triangles on: nx.Graph of the arcs, self-loops removed."""
    G = nx.Graph()
    G.add_nodes_from(range(g.num_vertices))
    G.add_edges_from(zip(g.src.tolist(), g.dst.tolist()))
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    return G


def by_vertex(values: dict, n: int) -> np.ndarray:
    return np.array([values[v] for v in range(n)])


@pytest.mark.parametrize("path, total", TOTALS)
def test_totals_of_the_real_graphs(path, total):
    assert int(triangles(load(path)).sum()) == 3 * total


@pytest.mark.parametrize("path", ["snap/email-Eu-core.txt", "snap/CA-GrQc.txt"])
def test_per_vertex_counts_and_clustering_equal_networkx(path):
    g = load(path)
    G = simple_nx(g)
    assert np.array_equal(triangles(g), by_vertex(nx.triangles(G), g.num_vertices))
    u = g.to_undirected()
    np.testing.assert_allclose(clustering(u), by_vertex(nx.clustering(G), g.num_vertices), rtol=0, atol=1e-15)
    assert average_clustering(u) == pytest.approx(nx.average_clustering(G), abs=1e-15)
    assert average_clustering(u, count_zeros=False) == pytest.approx(
        nx.average_clustering(G, count_zeros=False), abs=1e-15
    )


@pytest.mark.parametrize(
    "options",
    [
        {"partitions": 2},
        {"partitions": 3, "partition": "grid"},
        {"partitions": 4, "partition": "hdrf", "debug": True},
        {"engine": "chromatic", "partitions": 2},
        {"engine": "async", "partitions": 3},
        {"backend": "multiprocess", "workers": 2, "partitions": 3},
    ],
)
def test_same_counts_for_every_cut_and_engine(options):
    g = load("snap/facebook_combined.txt")
    assert np.array_equal(triangles(g, **options), triangles(g))


def test_a_hub_costs_no_quadratic_memory():
    # a wheel of 60,000 spokes: the hub is in 60,000 triangles, every rim vertex in 2
    k = 60_000
    rim = np.arange(1, k + 1)
    src = np.concatenate([np.zeros(k, dtype=np.int64), rim])
    dst = np.concatenate([rim, rim % k + 1])
    t = triangles(Graph(src, dst, directed=False), partitions=3)
    assert t[0] == k and np.all(t[1:] == 2)


def test_directed_input_is_symmetrised_and_multi_edges_count_once():
    g = Graph([0, 1, 1, 2, 0, 2, 3, 3], [1, 0, 2, 0, 2, 0, 3, 0])  # reciprocal arcs, a loop, a pendant
    assert triangles(g).tolist() == [1, 1, 1, 0]


def test_isolated_vertices_and_empty_graphs():
    assert triangles(Graph([0], [1], num_vertices=4)).tolist() == [0, 0, 0, 0]
    assert clustering(Graph([0], [1], num_vertices=3, directed=False)).tolist() == [0.0, 0.0, 0.0]


def test_clustering_refuses_a_directed_graph():
    with pytest.raises(ValueError, match=r"directed.*graph.to_undirected\(\)"):
        clustering(Graph([0, 1, 2], [1, 2, 0]))


def test_fixed_step_options_are_refused():
    with pytest.raises(TypeError, match="max_supersteps"):
        triangles(Graph([0], [1]), max_supersteps=3)


def test_not_a_graph():
    with pytest.raises(TypeError, match=r"expected a gasengine.Graph"):
        triangles(nx.karate_club_graph())


def test_by_degree_keeps_original_ids():
    g = Graph([0, 0, 0], [1, 2, 3], ids=["a", "b", "c", "d"])
    ranked, order = by_degree(g)
    assert ranked.original_ids()[-1] == "a" and order[-1] == 0
    assert triangles(g, return_result=True)[1].field("triangles", by_id=True)["a"] == 0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(0, 250), st.integers(0, 2**31 - 1), st.integers(1, 4))
def test_random_multigraphs_equal_networkx(n, m, seed, parts):
    g = random_graph(n, m, seed)
    want = by_vertex(nx.triangles(simple_nx(g)), n)
    assert np.array_equal(triangles(g, partitions=min(parts, max(m, 1))), want)
