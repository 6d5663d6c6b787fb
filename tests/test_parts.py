"""How a graph is split into parts: local edges grouped by destination, replicas, mirror lists."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from gasengine import IN, OUT, Graph
from gasengine.kernels import spmv
from gasengine.parts import Part, build_parts
from partitioning import partition


def _graph(seed: int = 0, n: int = 300, m: int = 5000) -> Graph:
    rng = np.random.default_rng(seed)
    # a few hubs with far more than 32 in-edges exercise the long-group sort
    dst = np.where(rng.random(m) < 0.3, rng.integers(0, 3, m), rng.integers(0, n, m))
    return Graph(rng.integers(0, n, m), dst, num_vertices=n)


@pytest.mark.parametrize("parts", [1, 2, 5])
@pytest.mark.parametrize("with_edge_field", [False, True])
def test_parts_hold_every_edge_once_grouped_by_destination(parts, with_edge_field):
    g = _graph()
    cut = partition(g, parts, "random")
    weight = np.arange(g.num_edges, dtype=np.float64)
    built = build_parts(g, cut, {"x": np.arange(g.num_vertices) * 2.0}, {"w": weight} if with_edge_field else {})
    seen = []
    for part in built:
        assert np.all(np.diff(part.edst) >= 0), "edges must be grouped by destination"
        if with_edge_field:  # within a group, in the graph's edge order
            same_group = np.diff(part.edst) == 0
            assert np.all(np.diff(part.eid)[same_group] > 0)
        assert np.all(part.vdata["x"] == part.gid * 2.0)
        assert np.all(cut.master[part.gid[part.masters]] == part.index)
        assert np.all(cut.master[part.gid[part.num_masters :]] != part.index)
        seen.append(np.stack([part.gid[part.esrc], part.gid[part.edst]], axis=1))
        if with_edge_field:
            assert np.all(cut.edge_part[part.eid] == part.index)
            assert np.array_equal(g.src[part.eid], part.gid[part.esrc])
            assert np.array_equal(part.edata["w"], weight[part.eid])
        else:
            assert part.eid.size == 0
    edges = np.concatenate(seen)
    expect = np.stack([g.src, g.dst], axis=1)
    assert np.array_equal(edges[np.lexsort(edges.T[::-1])], expect[np.lexsort(expect.T[::-1])])


def test_mirror_lists_pair_up():
    g = _graph(1)
    built = build_parts(g, partition(g, 4, "random"), {}, {})
    for p in built:
        for q, idx in p.send.items():
            assert np.array_equal(p.gid[idx], built[q].gid[built[q].recv[p.index]])
            assert np.all(idx >= p.num_masters)  # only mirrors send


@pytest.mark.parametrize("direction", [IN, OUT])
def test_gather_matrix_is_the_adjacency_product(direction):
    g = _graph(2)
    x = np.random.default_rng(0).random(g.num_vertices)
    adj = sp.csr_matrix((np.ones(g.num_edges), (g.dst, g.src)), shape=(g.num_vertices,) * 2)
    want = (adj if direction is IN else adj.T) @ x
    got = np.zeros(g.num_vertices)
    for part in build_parts(g, partition(g, 3, "hdrf"), {}, {}):
        ptr, nbr, _ = part.gather_matrix(direction, None)
        got[part.gid] += spmv(ptr, nbr, None, x[part.gid])
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("direction", [IN, OUT])
@pytest.mark.parametrize("weighted", [False, True])
def test_hot_first_matrix_gives_the_same_product_bit_for_bit(direction, weighted):
    g = _graph(4)
    x = np.random.default_rng(1).random(g.num_vertices)
    edge = {"w": np.random.default_rng(2).random(g.num_edges)} if weighted else {}
    for part in build_parts(g, partition(g, 3, "hdrf"), {}, edge):
        ptr, nbr, data = part.gather_matrix(direction, "w" if weighted else None)
        hot_ptr, hot, hot_data, order = part.hot_first_gather_matrix(direction, "w" if weighted else None)
        local = x[part.gid]
        assert np.array_equal(spmv(hot_ptr, hot, hot_data, local[order]), spmv(ptr, nbr, data, local))
        uses = np.bincount(hot, minlength=part.num_local)
        assert (np.diff(uses) <= 0).all()  # the most read vertices are numbered first
        assert np.array_equal(np.sort(order), np.arange(part.num_local))
        again = Part.from_arrays(part.index, part.arrays())  # kept with the structure, as the groupings are
        assert np.array_equal(again.hot_first_gather_matrix(direction, "w" if weighted else None)[1], hot)


def test_flat_arrays_round_trip():
    g = _graph(3)
    part = build_parts(g, partition(g, 2, "random"), {"x": np.ones(g.num_vertices)}, {"w": np.ones(g.num_edges)})[1]
    again = Part.from_arrays(part.index, part.arrays())
    assert again.num_masters == part.num_masters
    for name, arr in part.arrays().items():
        assert np.array_equal(again.arrays()[name], arr), name


def test_parts_are_built_into_the_given_memory():
    g = _graph(4)
    made = {}

    def allocate(index, shapes):
        made[index] = {k: np.full(shape, -1, dtype) for k, (shape, dtype) in shapes.items()}
        return made[index]

    from gasengine.parts import iter_parts

    for part in iter_parts(g, partition(g, 3, "random"), {}, {}, allocate):
        assert part.esrc is made[part.index]["esrc"] and part.gid is made[part.index]["gid"]
        assert part.esrc.min() >= 0  # every slot was written
