"""Map-reduce on a graph between runs: map_reduce_vertices, map_reduce_edges, transform_vertices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gasengine import IN, Graph, ProgramError, VertexProgram, cache, run
from gasengine import ratings as R
from tests.datasets import data_file, random_graph

README_COUNTS = [12, 1212, 1124, 1844, 3367, 6726, 12944, 22229, 24145, 14005, 12392]


def fields_graph(n: int = 50, m: int = 200, seed: int = 0) -> Graph:
    g = random_graph(n, m, seed, weighted=True)
    rng = np.random.default_rng(seed)
    g.set_vertex_field("x", rng.normal(size=n))
    g.set_vertex_field("f", rng.normal(size=(n, 3)))
    g.set_vertex_field("label", rng.integers(0, 5, n))
    return g


# ------------------------------------------------------------ vertices
def test_map_reduce_vertices_matches_numpy():
    g = fields_graph()
    x, f = g.vertex_data["x"], g.vertex_data["f"]
    assert g.map_reduce_vertices(lambda v: v.data["x"]) == pytest.approx(x.sum(), rel=1e-12)
    assert g.map_reduce_vertices(lambda v: v.data["x"], np.minimum) == x.min()
    assert g.map_reduce_vertices(lambda v: v.data["x"], np.maximum) == x.max()
    assert g.map_reduce_vertices(lambda v: v.data["x"] > 0, np.logical_or)
    assert g.map_reduce_vertices(lambda v: v.ids, np.add) == sum(range(g.num_vertices))
    # matrices per vertex (ALS's regularisation statistics): the sum of outer products
    gram = g.map_reduce_vertices(lambda v: v.data["f"][:, :, None] * v.data["f"][:, None, :])
    np.testing.assert_allclose(gram, f.T @ f, rtol=1e-12)
    # a histogram as a one-hot vector per vertex
    hist = g.map_reduce_vertices(lambda v: v.data["label"][:, None] == np.arange(5))
    assert hist.tolist() == np.bincount(g.vertex_data["label"], minlength=5).tolist()


def test_map_reduce_vertices_where_and_empty():
    g = fields_graph()
    mask = g.vertex_data["x"] > 0
    seen = []

    def mapped(v):
        seen.append(v.ids.copy())
        return v.data["x"]

    assert g.map_reduce_vertices(mapped, where=mask) == pytest.approx(g.vertex_data["x"][mask].sum())
    assert np.concatenate(seen).tolist() == np.flatnonzero(mask).tolist()
    none = np.zeros(g.num_vertices, bool)
    assert g.map_reduce_vertices(lambda v: v.data["x"], where=none) == 0.0
    assert g.map_reduce_vertices(lambda v: v.data["x"], np.minimum, where=none) == np.inf
    empty = g.map_reduce_vertices(lambda v: v.data["f"], where=none)
    assert empty.shape == (3,) and (empty == 0).all()
    assert Graph([], [], num_vertices=0).map_reduce_vertices(lambda v: np.ones(len(v), np.int64)) == 0


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5000), chunk=st.integers(1, 20000), seed=st.integers(0, 100))
def test_batches_do_not_change_the_result(n, chunk, seed):
    rng = np.random.default_rng(seed)
    g = Graph([], [], num_vertices=n, vertex_data={"k": rng.integers(-1000, 1000, (n, 2))})
    calls = []

    def mapped(v):
        calls.append(len(v))
        return v.data["k"]

    total = g.map_reduce_vertices(mapped, chunk_bytes=chunk)
    assert total.tolist() == g.vertex_data["k"].sum(axis=0).tolist()  # integers: exact
    assert sum(calls) == n
    assert max(calls) <= max(1024, chunk // 16)  # 16 bytes per vertex, at least 1024 per batch
    lo = g.map_reduce_vertices(lambda v: v.data["k"], np.minimum, chunk_bytes=chunk)
    assert lo.tolist() == g.vertex_data["k"].min(axis=0).tolist()


def test_map_reduce_contract_errors():
    g = fields_graph()
    with pytest.raises(TypeError, match=r"np.subtract is not commutative"):
        g.map_reduce_vertices(lambda v: v.data["x"], np.subtract)
    with pytest.raises(TypeError, match="binary numpy ufunc"):
        g.map_reduce_vertices(lambda v: v.data["x"], sum)
    with pytest.raises(TypeError, match="map must be callable"):
        g.map_reduce_vertices("x")
    with pytest.raises(
        ProgramError,
        match=r"Graph.map_reduce_vertices: map must return one value per item of the batch "
        r"\(first dimension 50\), got shape \(3,\)",
    ):
        g.map_reduce_vertices(lambda v: v.data["x"][:3])
    with pytest.raises(ProgramError, match=r"Graph.map_reduce_vertices: map must return one value per item"):
        g.map_reduce_vertices(lambda v: 1.0)
    with pytest.raises(ProgramError, match=r"Graph.map_reduce_vertices: no vertex field 'y'"):
        g.map_reduce_vertices(lambda v: v.data["y"])
    with pytest.raises(ProgramError, match="read-only"):
        g.map_reduce_vertices(lambda v: v.data.update(x=0.0))
    with pytest.raises(ValueError, match="read-only"):  # the arrays themselves too
        g.map_reduce_vertices(lambda v: v.data["x"].__iadd__(1))
    with pytest.raises(ValueError, match=r"where must be a bool mask with one entry per vertex \(shape \(50,\)\)"):
        g.map_reduce_vertices(lambda v: v.data["x"], where=[0, 1])
    with pytest.raises(ProgramError, match="per-item shape must not depend on the batch"):
        big = Graph([], [], num_vertices=3000)
        big.map_reduce_vertices(lambda v: np.ones((len(v), 1 if v.ids[0] == 0 else 2)), chunk_bytes=1)
    assert (g.vertex_data["x"] == fields_graph().vertex_data["x"]).all()  # nothing was written


# ------------------------------------------------------------ edges
def test_map_reduce_edges_matches_numpy():
    g = fields_graph()
    w, x = g.edge_data["weight"], g.vertex_data["x"]
    got = g.map_reduce_edges(lambda e: e.data["weight"] * e.dst_data["x"] - e.src_data["x"])
    assert got == pytest.approx((w * x[g.dst] - x[g.src]).sum(), rel=1e-12)
    # seen from the source: vertex is src, nbr is dst
    assert g.map_reduce_edges(lambda e: (e.vertex == e.src) & (e.nbr == e.dst), np.logical_and)
    loops = g.map_reduce_edges(lambda e: e.src == e.dst)
    assert loops == np.count_nonzero(g.src == g.dst)
    mask = w > 5
    assert g.map_reduce_edges(lambda e: e.data["weight"], np.minimum, where=mask) == w[mask].min()
    assert g.map_reduce_edges(lambda e: e.data["weight"], np.maximum, where=np.zeros(g.num_edges, bool)) == -np.inf
    with pytest.raises(ProgramError, match=r"Graph.map_reduce_edges: no edge field 'w'"):
        g.map_reduce_edges(lambda e: e.data["w"])
    with pytest.raises(ProgramError, match=r"Graph.map_reduce_edges: .* read-only"):
        g.map_reduce_edges(lambda e: e.data.update(weight=0.0))
    with pytest.raises(ValueError, match=r"one entry per edge \(shape \(200,\)\)"):
        g.map_reduce_edges(lambda e: e.data["weight"], where=np.ones(3, bool))


def test_map_reduce_edges_in_batches_and_undirected():
    g = Graph([0, 1, 2], [1, 2, 2], vertex_data={"x": [1.0, 10.0, 100.0]}, directed=False)
    # an undirected edge is seen as both of its arcs (the self-loop once)
    assert g.map_reduce_edges(lambda e: e.src_data["x"]) == 1 + 10 + 100 + 10 + 100
    h = random_graph(100, 5000, seed=3, weighted=True)
    batches = []

    def mapped(e):
        batches.append(len(e))
        return e.data["weight"][:, None] * np.array([1.0, -1.0])

    got = h.map_reduce_edges(mapped, chunk_bytes=1)
    assert len(batches) == 5 and sum(batches) == 5000  # 1024 arcs per batch at least
    np.testing.assert_allclose(got, [h.edge_data["weight"].sum(), -h.edge_data["weight"].sum()], rtol=1e-12)


def test_map_reduce_on_real_ratings():
    g = Graph.load_ratings(data_file("ratings/movietweetings-snapshot-100K-ratings.dat"))
    assert g.map_reduce_vertices(lambda v: v.data["is_item"]) == 10506
    mean = g.map_reduce_edges(lambda e: e.data["rating"]) / g.num_edges
    assert mean == pytest.approx(7.3248, abs=5e-5)
    hist = g.map_reduce_edges(lambda e: e.data["rating"][:, None] == np.arange(11), chunk_bytes=1 << 16)
    assert hist.tolist() == README_COUNTS
    # every edge goes from a user to an item
    assert g.map_reduce_edges(lambda e: ~e.src_data["is_item"] & e.dst_data["is_item"], np.logical_and)


# ------------------------------------------------------------ transform
def test_transform_vertices_returns_a_new_graph():
    g = fields_graph()
    before = {k: v.copy() for k, v in g.vertex_data.items()}

    def fn(v):
        v.data["x"] = v.data["x"] * 2
        v.data["deg"] = np.bincount(g.src, minlength=g.num_vertices)[v.ids]
        v.data["label"] = 7  # a scalar fills an existing field

    h = g.transform_vertices(fn)
    assert (h.vertex_data["x"] == 2 * before["x"]).all()
    assert (h.vertex_data["deg"] == g.out_degree()).all()
    assert h.vertex_data["label"].tolist() == [7] * g.num_vertices
    assert h.vertex_data["label"].dtype == before["label"].dtype and h.vertex_data["label"].flags.writeable
    assert (h.vertex_data["f"] is g.vertex_data["f"]) and h.src is g.src and h.ids is g.ids
    h.set_edge_field("new", np.zeros(h.num_edges))
    assert "new" not in g.edge_data and "deg" not in g.vertex_data  # g is not modified
    for k, v in before.items():
        assert (g.vertex_data[k] == v).all()


def test_transform_vertices_where_and_dtypes():
    g = Graph([0], [1], num_vertices=4, vertex_data={"x": np.arange(4, dtype=np.float32)})
    mask = np.array([True, False, True, False])
    h = g.transform_vertices(lambda v: v.data.update(x=v.data["x"] + v.ids), where=mask)
    assert h.vertex_data["x"].tolist() == [0.0, 1.0, 4.0, 3.0]
    assert h.vertex_data["x"].dtype == np.float32
    assert g.vertex_data["x"].tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(ProgramError, match=r"Graph.transform_vertices: no vertex field 'y' to write"):
        g.transform_vertices(lambda v: v.data.update(y=1.0), where=mask)
    with pytest.raises(ProgramError, match=r"vertex field 'x' must have shape \(2,\)"):
        g.transform_vertices(lambda v: v.data.update(x=np.zeros(3)), where=mask)
    with pytest.raises(ProgramError, match="has dtype float32; cannot store"):
        g.transform_vertices(lambda v: v.data.update(x=np.array(["a"] * 4)))
    with pytest.raises(ProgramError, match="needs first dimension 4"):
        g.transform_vertices(lambda v: v.data.update(y=np.zeros(3)))
    with pytest.raises(TypeError, match=r"fn must assign fields .* it returned ndarray"):
        g.transform_vertices(lambda v: v.data["x"] * 2)


class NeighbourX(VertexProgram):
    """Sums the in-neighbours' field ``x`` into ``s`` (reads what transform_vertices set)."""

    gather_edges = IN

    def init(self, v):
        v.data["s"] = np.zeros(len(v))

    def gather(self, e):
        return e.nbr_data["x"]

    def apply(self, v, acc):
        v.data["s"] = acc


def test_a_run_reads_transformed_fields_and_reuses_the_cut():
    g = random_graph(40, 300, seed=5)
    g.set_vertex_field("x", np.zeros(40))
    first = run(NeighbourX(), g, max_supersteps=1, workers=1)
    assert (first.vertex_data["s"] == 0).all()
    h = g.transform_vertices(lambda v: v.data.update(x=v.ids * 1.0))
    assert cache.entries(h) == cache.entries(g) != []  # the cut made for g serves h
    result = run(NeighbourX(), h, max_supersteps=1, workers=1)
    want = np.bincount(g.dst, weights=g.src.astype(float), minlength=40)
    np.testing.assert_allclose(result.vertex_data["s"], want)
    assert (g.vertex_data["x"] == 0).all()


def test_transform_then_reduce_on_a_ratings_graph():
    g = R.from_arrays([1, 1, 2], ["a", "b", "a"], [4.0, 2.0, 5.0])
    deg = g.degree()
    h = g.transform_vertices(lambda v: v.data.update(bias=np.where(v.data["is_item"], 1.0, -1.0) * deg[v.ids]))
    assert h.vertex_data["bias"].tolist() == [-2.0, -1.0, 2.0, 1.0]
    items = h.map_reduce_vertices(lambda v: v.data["bias"], where=h.vertex_data["is_item"])
    assert items == 3.0
