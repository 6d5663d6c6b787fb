"""Tests of gasengine.convert: networkx and scipy.sparse in both directions."""

from __future__ import annotations

from collections import Counter

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gasengine import Graph, GraphFormatError
from gasengine.convert import from_networkx, from_scipy, to_networkx, to_scipy


def edge_multiset(G) -> Counter:
    """Edges with their attributes, as a multiset (orientation-free if undirected)."""
    items = []
    for u, v, d in G.edges(data=True):
        key = (u, v) if G.is_directed() else tuple(sorted((u, v), key=repr))
        items.append((key, tuple(sorted((k, _plain(x)) for k, x in d.items()))))
    return Counter(items)


def _plain(x):
    return tuple(np.ravel(x).tolist()) if isinstance(x, np.ndarray) else x


def same_graph(G, H) -> bool:
    """Same class kind, nodes with attributes, and edges with attributes."""
    if G.is_directed() != H.is_directed() or G.is_multigraph() != H.is_multigraph():
        return False
    return node_table(G) == node_table(H) and edge_multiset(G) == edge_multiset(H)


def node_table(G) -> dict:
    """Node -> its attributes as a sorted tuple of (name, plain value)."""
    return {n: tuple(sorted((k, _plain(x)) for k, x in d.items())) for n, d in G.nodes(data=True)}


# ---------------------------------------------------------- from networkx
def test_karate_undirected_both_directions():
    G = nx.karate_club_graph()
    g = from_networkx(G)
    assert (g.num_vertices, g.num_edges) == (34, 156)
    assert g.ids.dtype == np.int64 and g.ids.tolist() == list(range(34))
    assert "club" not in g.vertex_data  # strings are not a numeric field
    w = g.edge_data["weight"]
    for k, (u, v, d) in enumerate(G.edges(data=True)):
        assert (g.src[k], g.dst[k], w[k]) == (u, v, d["weight"])
        assert (g.src[78 + k], g.dst[78 + k], w[78 + k]) == (v, u, d["weight"])
    np.testing.assert_array_equal(g.out_degree(), [G.degree(v) for v in G])


def test_undirected_self_loop_stored_once():
    G = nx.Graph([(0, 0), (0, 1)])
    g = from_networkx(G)
    assert sorted(zip(g.src.tolist(), g.dst.tolist())) == [(0, 0), (0, 1), (1, 0)]


def test_node_order_and_object_ids():
    G = nx.DiGraph()
    G.add_nodes_from(["z", "a"])
    G.add_edge("a", "z")
    g = from_networkx(G)
    assert g.ids.dtype == object and g.ids.tolist() == ["z", "a"]
    assert (g.src.tolist(), g.dst.tolist()) == ([1], [0])
    grid = from_networkx(nx.grid_2d_graph(2, 3))
    assert grid.ids.shape == (6,) and grid.ids[0] == (0, 0)
    assert grid.ids.tolist().index((1, 2)) == 5


def test_fields_present_everywhere_and_numeric_only():
    G = nx.DiGraph()
    G.add_node(0, x=1, vec=[1.0, 2.0], name="a", partial=1.0)
    G.add_node(1, x=2.5, vec=[3.0, 4.0], name="b")
    G.add_node(2, x=3, vec=[5.0, 6.0], name="c")
    G.add_edge(0, 1, w=1, flag=True, ragged=[1, 2], some=1)
    G.add_edge(1, 2, w=2, flag=False, ragged=[1])
    g = from_networkx(G)
    assert set(g.vertex_data) == {"x", "vec"}
    assert g.vertex_data["x"].dtype == np.float64 and g.vertex_data["x"].tolist() == [1.0, 2.5, 3.0]
    assert g.vertex_data["vec"].shape == (3, 2)
    assert set(g.edge_data) == {"w", "flag"}  # ragged: unequal shapes, some: missing
    assert g.edge_data["flag"].dtype == bool


def test_weight_option_defaults_to_one():
    G = nx.DiGraph()
    G.add_edge("a", "b", cost=2.5)
    G.add_edge("b", "c")
    g = from_networkx(G, weight="cost")
    assert g.edge_data["weight"].tolist() == [2.5, 1.0]
    assert "cost" not in g.edge_data
    G.add_edge("c", "a", cost="high")
    with pytest.raises(GraphFormatError, match="'cost'"):
        from_networkx(G, weight="cost")


def test_multidigraph_keeps_parallel_edges():
    G = nx.MultiDiGraph()
    G.add_edge(1, 2, w=1.0)
    G.add_edge(1, 2, w=2.0)
    G.add_edge(2, 1, w=3.0)
    g = from_networkx(G)
    assert g.num_edges == 3
    assert sorted(zip(g.src.tolist(), g.dst.tolist(), g.edge_data["w"].tolist())) == [
        (0, 1, 1.0),
        (0, 1, 2.0),
        (1, 0, 3.0),
    ]


def test_pagerank_on_undirected_matches_networkx():
    G = nx.les_miserables_graph()
    g = from_networkx(G)
    A = to_scipy(g, weight="weight").astype(float)
    out = np.asarray(A.sum(axis=1)).ravel()
    P = sp.diags_array(1.0 / out) @ A  # row-stochastic: every node has an edge
    x = np.full(g.num_vertices, 1.0 / g.num_vertices)
    for _ in range(200):
        x = 0.15 / g.num_vertices + 0.85 * (P.T @ x)
    ref = nx.pagerank(G, alpha=0.85, tol=1e-12, weight="weight")
    np.testing.assert_allclose(x, [ref[v] for v in g.ids], atol=1e-9)


def test_from_networkx_of_a_large_graph_keeps_every_edge():
    # 100k edges go through one list pass (no per-edge graph lookups)
    G = nx.gnm_random_graph(20000, 100000, seed=3, directed=True)
    g = from_networkx(G)
    assert g.num_edges == 100000 and g.src.dtype == np.int32
    np.testing.assert_array_equal(g.out_degree(), [G.out_degree(v) for v in G])


# ------------------------------------------------------------ to networkx
def test_to_networkx_types_and_attributes():
    g = Graph(
        [0, 1],
        [1, 2],
        vertex_data={"rank": np.array([0.5, 0.25, 0.25]), "vec": np.arange(6.0).reshape(3, 2)},
        edge_data={"w": np.array([1, 2], dtype=np.int64)},
        ids=np.array([10, 20, 30]),
    )
    H = to_networkx(g)
    assert type(H) is nx.DiGraph and list(H.nodes) == [10, 20, 30]
    assert type(next(iter(H.nodes))) is int
    assert type(H.nodes[10]["rank"]) is float and H.nodes[10]["rank"] == 0.5
    assert type(H.edges[20, 30]["w"]) is int and H.edges[20, 30]["w"] == 2
    vec = H.nodes[30]["vec"]
    assert isinstance(vec, np.ndarray) and vec.tolist() == [4.0, 5.0]
    vec[0] = -1  # a copy: the graph's field is untouched
    assert g.vertex_data["vec"][2, 0] == 4.0


def test_to_networkx_multigraph_choice():
    g = Graph([0, 0, 1], [1, 1, 0], edge_data={"w": [1.0, 2.0, 3.0]})
    assert type(to_networkx(g)) is nx.MultiDiGraph
    simple = to_networkx(g, multigraph=False)
    assert type(simple) is nx.DiGraph and simple.edges[0, 1]["w"] == 1.0  # first edge kept
    assert type(to_networkx(Graph([0], [1]), multigraph=True)) is nx.MultiDiGraph
    und = to_networkx(g, directed=False)
    # 0->1 twice and 1->0 once pair up into two undirected edges
    assert type(und) is nx.MultiGraph and und.number_of_edges() == 2
    assert sorted(w for _, _, w in und.edges(data="w")) == [1.0, 2.0]
    und_simple = to_networkx(g, directed=False, multigraph=False)
    assert type(und_simple) is nx.Graph and und_simple.edges[0, 1]["w"] == 1.0


def test_to_networkx_undirected_one_way_edges():
    g = Graph([0, 1, 2], [1, 2, 2])
    H = to_networkx(g, directed=False)
    assert type(H) is nx.Graph and sorted(H.edges()) == [(0, 1), (1, 2), (2, 2)]


ROUND_TRIP = [
    nx.les_miserables_graph(),
    nx.florentine_families_graph(),
    nx.davis_southern_women_graph(),
    nx.gnp_random_graph(60, 0.1, seed=1, directed=True),
    nx.MultiGraph([(0, 1), (0, 1), (1, 1), (1, 1), (2, 0)]),
    nx.MultiDiGraph([("a", "b"), ("a", "b"), ("b", "a"), ("c", "c")]),
]


@pytest.mark.parametrize("G", ROUND_TRIP, ids=lambda G: f"{type(G).__name__}{len(G)}")
def test_networkx_round_trip(G):
    G = G.copy()
    for k, (_u, _v, d) in enumerate(G.edges(data=True)):
        d["weight"] = float(d.get("weight", k))
        d["hops"] = k % 3
    for k, (_v, d) in enumerate(G.nodes(data=True)):
        d.clear()  # e.g. davis' "bipartite" strings would be skipped
        d["score"] = k / 7
        d["pos"] = np.array([k, -k], dtype=float)
    H = to_networkx(from_networkx(G), directed=G.is_directed(), multigraph=G.is_multigraph())
    assert same_graph(G, H)
    assert nx.is_isomorphic(G, H, node_match=lambda a, b: a["score"] == b["score"], edge_match=lambda a, b: a == b)


def test_round_trip_default_multigraph_choice():
    G = nx.karate_club_graph()
    for v in G:
        del G.nodes[v]["club"]
    H = to_networkx(from_networkx(G), directed=False)
    assert type(H) is nx.Graph and same_graph(G, H)


# ------------------------------------------------------------------ scipy
def test_from_scipy_entries_become_edges():
    A = sp.coo_array(([2.0, 0.0, 1.0, 3.0], ([0, 1, 0, 0], [1, 1, 1, 2])), shape=(4, 4))
    g = from_scipy(A)
    assert g.num_vertices == 4 and g.num_edges == 4  # explicit zero and duplicate kept
    assert g.ids is None
    assert list(zip(g.src.tolist(), g.dst.tolist(), g.edge_data["weight"].tolist())) == [
        (0, 1, 2.0),
        (1, 1, 0.0),
        (0, 1, 1.0),
        (0, 2, 3.0),
    ]
    B = to_scipy(g, weight="weight", format="coo")
    assert B.nnz == 3 and B.toarray()[0, 1] == 3.0  # duplicates summed
    assert from_scipy(A, weight=None).edge_data == {}
    assert from_scipy(A, weight="w").edge_data["w"].size == 4


def test_from_scipy_does_not_share_memory():
    A = sp.coo_array(([1.0], ([0], [1])), shape=(2, 2))
    g = from_scipy(A)
    g.src[0] = 1
    g.edge_data["weight"][0] = 9.0
    assert A.row[0] == 0 and A.data[0] == 1.0


def test_from_scipy_dense_and_errors():
    g = from_scipy(np.array([[0, 5], [0, 0]]))
    assert (g.src.tolist(), g.dst.tolist(), g.edge_data["weight"].tolist()) == ([0], [1], [5])
    with pytest.raises(GraphFormatError, match="square"):
        from_scipy(sp.csr_array((3, 4)))


def test_to_scipy_counts_weights_and_index_dtype():
    G = nx.MultiDiGraph([(0, 1), (0, 1), (2, 0), (2, 2)])
    g = from_networkx(G)
    A = to_scipy(g)
    assert A.format == "csr" and A.dtype == np.int64
    assert A.indices.dtype == np.int32 and A.indptr.dtype == np.int32
    ref = nx.to_scipy_sparse_array(G, weight=None)
    assert (ref != A).nnz == 0
    g.set_edge_field("w", np.array([0.5, 0.25, 2.0, 1.0]))
    W = to_scipy(g, weight="w", format="csc")
    assert W.format == "csc" and W[0, 1] == 0.75 and W[2, 0] == 2.0
    with pytest.raises(KeyError, match="'nope'"):
        to_scipy(g, weight="nope")
    g.set_edge_field("vec", np.ones((4, 2)))
    with pytest.raises(GraphFormatError, match="'vec'"):
        to_scipy(g, weight="vec")


def test_to_scipy_empty_graph():
    A = to_scipy(Graph([], [], num_vertices=3))
    assert A.shape == (3, 3) and A.nnz == 0


@settings(max_examples=50, deadline=None)
@given(
    n=st.integers(1, 30),
    density=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**16),
    fmt=st.sampled_from(["csr", "csc", "coo"]),
)
def test_scipy_round_trip(n, density, seed, fmt):
    A = sp.random_array((n, n), density=density, random_state=seed, format=fmt)
    g = from_scipy(A)
    assert g.num_edges == A.nnz
    B = to_scipy(g, weight="weight", format=fmt)
    assert B.shape == A.shape and B.format == fmt
    assert (A != B).nnz == 0
    np.testing.assert_array_equal(B.toarray(), A.toarray())


# ------------------------------------------------------ faithful round trips
@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 25),
    density=st.floats(0.0, 0.6),
    seed=st.integers(0, 2**16),
    dtype=st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.int8, np.uint16, np.complex128]),
    fmt=st.sampled_from(["csr", "csc", "coo"]),
)
def test_from_scipy_to_scipy_is_the_identity(n, density, seed, dtype, fmt):
    rng = np.random.default_rng(seed)
    A = sp.random_array(
        (n, n), density=density, rng=rng, format=fmt, data_sampler=lambda size: rng.integers(1, 100, size)
    ).astype(dtype)
    B = Graph.from_scipy(A).to_scipy()  # no options: the entries come back as they went in
    assert B.dtype == A.dtype and B.shape == A.shape
    np.testing.assert_array_equal(B.toarray(), A.toarray())
    assert B.nnz == A.nnz


def test_round_trip_keeps_explicit_zeros_bools_and_sums_duplicates():
    A = sp.coo_array((np.array([0.0, 2.5, 1.0, 3.0]), ([0, 1, 1, 2], [0, 2, 2, 1])), shape=(3, 3))
    B = Graph.from_scipy(A).to_scipy()
    assert B.nnz == 3 and B[0, 0] == 0.0 and B[1, 2] == 3.5  # a stored zero stays stored
    M = sp.csr_array(np.array([[False, True], [True, False]]))
    assert Graph.from_scipy(M).to_scipy().dtype == bool


def test_to_scipy_weight_default_none_and_missing():
    g = Graph([0, 0, 1], [1, 1, 0], edge_data={"weight": np.array([0.5, 0.25, 3.0], np.float32)})
    assert to_scipy(g).dtype == np.float32 and to_scipy(g)[0, 1] == 0.75
    counts = to_scipy(g, weight=None)
    assert counts.dtype == np.int64 and counts.toarray().tolist() == [[0, 2], [1, 0]]
    unweighted = Graph([0, 0], [1, 1])
    assert to_scipy(unweighted).toarray().tolist() == [[0, 2], [0, 0]]  # networkx: missing weight = 1
    with pytest.raises(KeyError, match="'cost'"):
        to_scipy(unweighted, weight="cost")


@pytest.mark.parametrize("directed", [True, False])
def test_to_scipy_matches_networkx_weighted(directed):
    G = nx.gnm_random_graph(40, 120, seed=4, directed=directed)
    G.add_edge(3, 3)
    G.add_edge(7, 7)
    rng = np.random.default_rng(1)
    for _u, _v, d in G.edges(data=True):
        d["weight"] = float(rng.uniform(0.5, 5))
    g = from_networkx(G)
    assert g.directed is directed
    ref = nx.to_scipy_sparse_array(G, nodelist=list(G), weight="weight")
    np.testing.assert_array_equal(to_scipy(g).toarray(), ref.toarray())  # self-loops once, symmetric
    np.testing.assert_array_equal(
        to_scipy(g, weight=None).toarray(), nx.to_scipy_sparse_array(G, nodelist=list(G), weight=None).toarray()
    )


@pytest.mark.parametrize("G", ROUND_TRIP, ids=lambda G: f"{type(G).__name__}{len(G)}")
def test_networkx_round_trip_by_default(G):
    G = G.copy()
    for k, (_u, _v, d) in enumerate(G.edges(data=True)):
        d.clear()
        d["weight"] = float(k)
    for _v, d in G.nodes(data=True):
        d.clear()
    g = from_networkx(G)
    assert g.directed == G.is_directed()
    H = to_networkx(g, multigraph=G.is_multigraph())  # directedness from the graph itself
    assert same_graph(G, H)
    assert g.to_networkx(multigraph=G.is_multigraph()).is_directed() == G.is_directed()


def test_undirected_graph_round_trip_keeps_attributes_and_self_loops():
    G = nx.Graph()
    G.add_edge("a", "b", weight=1.5, hops=1)
    G.add_edge("b", "b", weight=2.0, hops=2)
    G.add_edge("c", "a", weight=0.5, hops=3)
    g = from_networkx(G)
    assert (g.num_edges, g.num_undirected_edges) == (5, 3)
    assert g.degree().tolist() == [G.degree(v) for v in G]
    H = to_networkx(g)
    assert type(H) is nx.Graph and same_graph(G, H)
    D = to_networkx(g, directed=True)  # the explicit override: both arcs of every edge
    assert type(D) is nx.DiGraph and same_graph(G.to_directed(), D)


def test_directed_default_and_undirected_override():
    g = Graph([0, 1], [1, 0], edge_data={"w": [1.0, 2.0]})
    assert type(to_networkx(g)) is nx.DiGraph
    H = to_networkx(g, directed=False)
    assert type(H) is nx.Graph and H.number_of_edges() == 1 and H.edges[0, 1]["w"] == 1.0
