"""The Graph core: construction, validation, degrees, transforms, ids."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gasengine import Graph, GraphFormatError


def test_construction_and_degrees():
    g = Graph([0, 0, 2], [1, 2, 2], num_vertices=4, vertex_data={"x": np.arange(4.0)}, edge_data={"w": [1, 2, 3]})
    assert (g.num_vertices, g.num_edges) == (4, 3)
    assert g.src.dtype == np.int32
    assert g.out_degree().tolist() == [2, 0, 1, 0]
    assert g.in_degree().tolist() == [0, 1, 2, 0]
    assert g.degree().tolist() == [2, 1, 3, 0]  # a self-loop counts twice, as in networkx


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(src=[0, 5], dst=[1, 1], num_vertices=3), r"src\[1\] = 5 is outside 0..2"),
        (dict(src=[0, -1], dst=[1, 1]), r"src\[1\] = -1 is outside"),
        (dict(src=[0, 1], dst=[1]), "same length"),
        (dict(src=[0.5], dst=[1]), "integer vertex numbers"),
        (dict(src=[0], dst=[1], vertex_data={"x": [1.0]}), "vertex field 'x' must have first dimension 2"),
        (dict(src=[0], dst=[1], edge_data={"w": [1.0, 2.0]}), "edge field 'w' must have first dimension 1"),
        (dict(src=[0], dst=[1], ids=[5]), r"ids must have shape \(2,\)"),
    ],
)
def test_bad_arrays_are_named(kwargs, message):
    with pytest.raises(GraphFormatError, match=message):
        Graph(**kwargs)


def test_reverse_and_to_undirected_match_networkx():
    g = Graph([0, 1, 1, 2, 2], [1, 0, 2, 2, 3], edge_data={"w": [1.0, 2.0, 3.0, 4.0, 5.0]})
    r = g.reverse()
    assert r.src.tolist() == g.dst.tolist() and r.dst.tolist() == g.src.tolist()
    u = g.to_undirected()
    G = nx.DiGraph(list(zip(g.src.tolist(), g.dst.tolist()))).to_undirected()
    pairs = sorted(zip(u.src.tolist(), u.dst.tolist()))
    want = sorted({(a, b) for a, b in G.edges()} | {(b, a) for a, b in G.edges()})
    assert pairs == want
    # the pair {0,1} keeps the data of its first edge
    i = pairs.index((0, 1))
    order = sorted(range(u.num_edges), key=lambda k: (u.src[k], u.dst[k]))
    assert u.edge_data["w"][order[i]] == 1.0


def test_vertex_index_for_int_and_object_ids():
    g = Graph([0], [1], ids=np.array([10, 20]))
    assert g.vertex_index(20) == 1
    with pytest.raises(KeyError):
        g.vertex_index(30)
    ids = np.empty(2, dtype=object)
    ids[:] = [(0, 1), (1, 1)]
    h = Graph([0], [1], ids=ids)
    assert h.vertex_index((1, 1)) == 1
    with pytest.raises(KeyError):
        h.vertex_index((2, 2))
    assert Graph([0], [1]).vertex_index(1) == 1


# ------------------------------------------------------------------- ids
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.float32])
def test_every_integer_dtype_is_accepted(dtype):
    g = Graph(np.array([0, 2, 1], dtype=dtype), np.array([1, 0, 2], dtype=dtype))
    assert g.num_vertices == 3 and g.src.tolist() == [0, 2, 1] and g.dst.tolist() == [1, 0, 2]
    assert g.out_degree().tolist() == [1, 1, 1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(src=np.array([0, 2**63], dtype=np.uint64), dst=np.array([1, 1], dtype=np.uint64)),
            r"^src\[1\] = 9223372036854775808 is outside 0..n-1",
        ),
        (
            dict(src=np.array([0, 1], dtype=np.uint64), dst=np.array([1, 2**64 - 1], dtype=np.uint64), num_vertices=4),
            r"^dst\[1\] = 18446744073709551615 is outside 0..3$",
        ),
        (dict(src=[1e20], dst=[0]), r"^src\[0\] = 1e\+20 is outside 0..n-1"),
        (dict(src=[0.0, 1e20], dst=[0, 1], num_vertices=3), r"^src\[1\] = 1e\+20 is outside 0..2$"),
        (dict(src=[0], dst=[-1e19]), r"^dst\[0\] = -1e\+19 is outside"),
        (dict(src=[0, 2**64], dst=[1, 1]), r"^src\[1\] = 18446744073709551616 is outside"),
        # a list mixing big ints and floats is judged on its Python numbers
        (dict(src=[0, 2**62 + 1, 0.5], dst=[1, 1, 1]), r"integer vertex numbers; src\[2\] = 0.5$"),
        (dict(src=[0, np.nan], dst=[1, 1]), r"src\[1\] = nan"),
        (dict(src=[0, np.inf], dst=[1, 1]), r"src\[1\] = inf"),
        (dict(src=[0, None], dst=[1, 1]), r"src\[1\] = None"),
        (dict(src=[True], dst=[False]), "integer vertex numbers"),
        (dict(src=["a"], dst=["b"]), "integer vertex numbers"),
        (dict(src=[[0, 1]], dst=[[1, 0]]), "one-dimensional"),
        (dict(src=[0], dst=[1], num_vertices=2.5), "num_vertices must be an integer"),
        (
            dict(src=[0], dst=[1], edge_data={"w": [1.0, 2.0]}, directed=False),
            "edge field 'w' must have first dimension 1",
        ),
    ],
)
def test_ids_are_exact_or_rejected(kwargs, message):
    with pytest.raises(GraphFormatError, match=message):
        Graph(**kwargs)


def test_large_ids_are_kept_exactly():
    big = 2**62 + 1  # float64 would round it to 2**62
    g = Graph([0, big], [1, 0.0])  # a list mixing ints and floats
    assert g.num_vertices == big + 1 and g.src.tolist() == [0, big] and g.src.dtype == np.int64
    top = np.array([2**63 - 2], dtype=np.uint64)
    h = Graph(top, np.array([0], dtype=np.uint64))
    assert int(h.src[0]) == 2**63 - 2 and h.num_vertices == 2**63 - 1
    assert Graph([0], [1], num_vertices=np.int64(5)).num_vertices == 5
    assert Graph([0], [1], num_vertices=5.0).num_vertices == 5


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 2**63 - 2), min_size=1, max_size=20),
    st.sampled_from(["list", "int64", "uint64", "object"]),
)
def test_any_int64_vertex_number_round_trips(values, kind):
    arr = {
        "list": values,
        "int64": np.array(values, np.int64),
        "uint64": np.array(values, np.uint64),
        "object": np.array(values, dtype=object),
    }[kind]
    g = Graph(arr, arr)
    assert g.src.tolist() == values and g.num_vertices == max(values) + 1


# ------------------------------------------------------------ undirected
def test_undirected_construction_mirrors_each_edge_once():
    g = Graph(
        [0, 2, 1, 0],
        [1, 2, 2, 1],
        num_vertices=4,
        edge_data={"w": [1.0, 2.0, 3.0, 4.0], "vec": np.arange(8.0).reshape(4, 2)},
        directed=False,
    )
    assert g.directed is False
    # given edges first, then the reversed copies of the non-loops, in order
    assert g.src.tolist() == [0, 2, 1, 0, 1, 2, 1]
    assert g.dst.tolist() == [1, 2, 2, 1, 0, 1, 0]
    assert g.edge_data["w"].tolist() == [1.0, 2.0, 3.0, 4.0, 1.0, 3.0, 4.0]
    assert g.edge_data["vec"][4:].tolist() == [[0.0, 1.0], [4.0, 5.0], [6.0, 7.0]]
    assert g.num_edges == 7 and g.num_undirected_edges == 4
    assert "directed=False" in repr(g) and "directed=True" in repr(Graph([0], [1]))
    with pytest.raises(ValueError, match="directed graph"):
        Graph([0], [1]).num_undirected_edges  # noqa: B018 - the property raises


def test_loader_networkx_and_constructor_build_the_same_undirected_graph(tmp_path):
    from gasengine.loaders import load_graph

    edges = [(0, 1, 0.5), (1, 1, 2.0), (3, 1, 1.5), (0, 1, 4.0)]
    path = tmp_path / "g.txt"
    path.write_text("".join(f"{u} {v} {w}\n" for u, v, w in edges))
    loaded = load_graph(path, undirected=True, relabel=False)
    G = nx.MultiGraph()
    G.add_nodes_from(range(4))
    G.add_weighted_edges_from(edges)
    converted = Graph.from_networkx(G)
    for g, listed in ((loaded, edges), (converted, list(G.edges(data="weight")))):  # nx has its own order
        built = Graph(
            [e[0] for e in listed],
            [e[1] for e in listed],
            num_vertices=4,
            edge_data={"weight": [e[2] for e in listed]},
            directed=False,
        )
        assert g.directed is False and built.num_edges == 7
        np.testing.assert_array_equal(g.src, built.src)
        np.testing.assert_array_equal(g.dst, built.dst)
        np.testing.assert_array_equal(g.edge_data["weight"], built.edge_data["weight"])
    assert loaded.src.tolist() == [0, 1, 3, 0, 1, 1, 1] and loaded.dst.tolist() == [1, 1, 1, 1, 0, 3, 0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)), max_size=30))
def test_undirected_degree_matches_networkx(edges):
    G = nx.MultiGraph()
    G.add_nodes_from(range(8))
    G.add_edges_from(edges)
    g = Graph([u for u, _ in edges], [v for _, v in edges], num_vertices=8, directed=False)
    assert g.degree().tolist() == [G.degree(v) for v in range(8)]  # a self-loop counts 2
    assert g.num_undirected_edges == G.number_of_edges()
    assert g.num_edges == 2 * G.number_of_edges() - nx.number_of_selfloops(G)
    D = nx.MultiDiGraph(edges)
    D.add_nodes_from(range(8))
    d = Graph([u for u, _ in edges], [v for _, v in edges], num_vertices=8)
    assert d.degree().tolist() == [D.degree(v) for v in range(8)]


def test_from_arcs_does_not_mirror_again():
    u = Graph([0, 1, 2], [1, 2, 2], edge_data={"w": [1.0, 2.0, 3.0]}, directed=False)
    v = Graph.from_arcs(
        u.src, u.dst, u.num_vertices, edge_data={"x": np.arange(u.num_edges)}, ids=[7, 8, 9], directed=u.directed
    )
    assert v.directed is False and v.num_edges == u.num_edges == 5
    np.testing.assert_array_equal(v.src, u.src)
    np.testing.assert_array_equal(v.dst, u.dst)
    assert v.num_undirected_edges == 3 and v.ids.tolist() == [7, 8, 9]
    assert v.degree().tolist() == u.degree().tolist() == [1, 2, 3]
    plain = Graph.from_arcs([0, 1], [1, 0])
    assert plain.directed and plain.num_edges == 2
    with pytest.raises(GraphFormatError, match="edge field 'x' must have first dimension 5"):
        Graph.from_arcs(u.src, u.dst, edge_data={"x": [1, 2, 3]}, directed=False)
    with pytest.raises(GraphFormatError, match=r"dst\[0\] = 9 is outside 0..2"):
        Graph.from_arcs([0], [9], num_vertices=3, directed=False)


def test_reverse_keeps_directedness():
    u = Graph([0, 1], [1, 2], directed=False)
    r = u.reverse()
    assert r.directed is False and r.num_undirected_edges == 2
    assert sorted(zip(r.src.tolist(), r.dst.tolist())) == sorted(zip(u.src.tolist(), u.dst.tolist()))
    assert Graph([0], [1]).reverse().directed is True


def test_to_undirected_is_undirected_and_matches_networkx():
    rng = np.random.default_rng(5)
    src, dst = rng.integers(0, 30, 200), rng.integers(0, 30, 200)
    g = Graph(src, dst, num_vertices=30, edge_data={"k": np.arange(200)})
    u = g.to_undirected()
    G = nx.DiGraph()
    G.add_nodes_from(range(30))
    for k in range(200):  # networkx keeps the last data of a repeated pair; use the first
        if not G.has_edge(src[k], dst[k]) and not G.has_edge(dst[k], src[k]):
            G.add_edge(int(src[k]), int(dst[k]), k=k)
    H = G.to_undirected()
    assert u.directed is False and u.num_undirected_edges == H.number_of_edges()
    assert u.degree().tolist() == [H.degree(v) for v in range(30)]
    back = u.to_networkx()
    assert type(back) is nx.Graph
    assert sorted((min(a, b), max(a, b), d["k"]) for a, b, d in back.edges(data=True)) == sorted(
        (min(a, b), max(a, b), d["k"]) for a, b, d in H.edges(data=True)
    )


def test_to_undirected_with_more_vertices_than_a_packed_key_allows():
    n = 2**40  # lo * n + hi would overflow int64
    g = Graph([0, n - 1, 5, 5], [n - 1, 0, 7, 7], num_vertices=n)
    u = g.to_undirected()
    assert u.num_undirected_edges == 2
    assert sorted(zip(u.src.tolist(), u.dst.tolist())) == [(0, n - 1), (5, 7), (7, 5), (n - 1, 0)]
