"""The Graph core: construction, validation, degrees, transforms, ids."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

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
