"""Bad and edge-case input: every problem gets a ValueError naming it, or a defined result."""

from __future__ import annotations

import numpy as np
import pytest

from gasengine import Graph
from partitioning import STRATEGIES, VertexCut, assign_edges, partition, strategy_params, stream_order

ALL = sorted(STRATEGIES)
SRC = np.array([0, 1, 2, 3, 0])
DST = np.array([1, 2, 3, 0, 2])


@pytest.mark.parametrize("bad", [0, -3])
def test_num_parts_below_one_is_rejected(bad):
    with pytest.raises(ValueError, match=r"num_parts must be an integer >= 1, got -?\d"):
        partition((SRC, DST), bad, "hdrf")
    with pytest.raises(ValueError, match="num_parts"):
        assign_edges(SRC, DST, 4, bad, "random")
    with pytest.raises(ValueError, match="num_parts"):
        VertexCut.from_assignment(SRC, DST, 4, np.zeros(5, dtype=int), bad)


@pytest.mark.parametrize("bad", [2.5, "4", None, True])
def test_num_parts_must_be_an_integer(bad):
    with pytest.raises(ValueError, match="num_parts must be an integer"):
        partition((SRC, DST), bad)


def test_numpy_integer_num_parts_and_seed_are_accepted():
    cut = partition((SRC, DST), np.int64(3), "greedy", seed=np.int32(2))
    assert cut.num_parts == 3 and isinstance(cut.num_parts, int)


def test_unknown_strategy_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown partition strategy 'metis'.*hdrf"):
        partition((SRC, DST), 2, "metis")
    with pytest.raises(ValueError, match="unknown partition strategy"):
        assign_edges(SRC, DST, 4, 2, None)


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match=r"'random' got unknown parameter\(s\) lam; it accepts no parameters"):
        partition((SRC, DST), 2, "random", lam=2.0)
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) lambda_; it accepts lam, epsilon, order"):
        partition((SRC, DST), 2, "hdrf", lambda_=2.0)


def test_strategy_params_lists_defaults():
    assert strategy_params("hdrf") == {"lam": 1.0, "epsilon": 1.0, "order": "shuffle"}
    assert strategy_params("greedy") == {"order": "shuffle"}
    assert all(strategy_params(s) == {} for s in ALL if s not in ("hdrf", "greedy"))


@pytest.mark.parametrize("strategy", ALL)
def test_more_parts_than_edges_is_a_defined_result(strategy):
    cut = partition((SRC, DST, 4), 12, strategy)
    assert cut.edge_part.shape == (5,)
    assert cut.edge_part.min() >= 0 and cut.edge_part.max() < 12
    assert cut.edges_per_part.sum() == 5
    assert (cut.edges_per_part == 0).sum() >= 7  # necessarily empty parts
    assert cut.edge_balance == pytest.approx(12 / 5 * cut.edges_per_part.max())
    _check_masters(cut)


@pytest.mark.parametrize("strategy", ALL)
def test_empty_graph_gives_isolated_masters(strategy):
    cut = partition((np.array([], dtype=np.int64), np.array([], dtype=np.int64), 5), 3, strategy)
    assert cut.edge_part.shape == (0,) and cut.edge_part.dtype == np.int8
    assert cut.num_replicas.tolist() == [1] * 5
    assert sorted(np.bincount(cut.master, minlength=3).tolist()) == [1, 2, 2]  # spread
    assert cut.replication_factor == 1.0 and cut.edge_balance == 1.0
    assert not cut.has_edges.any()
    assert cut.bytes_per_superstep(8) == 0
    _check_masters(cut)


@pytest.mark.parametrize("strategy", ["random", "hdrf"])
def test_graph_with_no_vertices(strategy):
    cut = partition(([], []), 4, strategy)
    assert cut.num_vertices == 0 and cut.num_edges == 0
    assert cut.replica_ptr.tolist() == [0]
    assert cut.part_vertices(2).size == 0 and cut.part_edges(3).size == 0
    ptr, verts = cut.mirrors(1)
    assert ptr.tolist() == [0] * 5 and verts.size == 0


def test_edge_lists_that_disagree_in_length():
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        partition(([0, 1, 2], [1, 2]), 2)


def test_ids_out_of_range_are_named():
    with pytest.raises(ValueError, match=r"dst\[1\] = 9 is outside the vertex range 0\.\.3"):
        partition(([0, 1], [1, 9], 4), 2)
    with pytest.raises(ValueError, match=r"src\[0\] = -1 is outside"):
        assign_edges([-1, 1], [1, 2], 3, 2)
    with pytest.raises(ValueError, match=r"src\[0\] = 0 is outside the vertex range \(empty"):
        assign_edges([0], [0], 0, 2)


def test_non_integer_ids_are_rejected_but_integral_floats_accepted():
    with pytest.raises(ValueError, match=r"src\[1\] = 1.5 is not an integer vertex id"):
        partition(([0.0, 1.5], [1.0, 2.0]), 2)
    with pytest.raises(ValueError, match="dtype bool"):
        partition(([True, False], [0, 1]), 2)
    loaded = np.array([[0.0, 1.0], [1.0, 2.0]])  # np.loadtxt without dtype
    assert partition(loaded, 2, "dbh").num_vertices == 3


def test_negative_num_vertices_and_bad_seed():
    with pytest.raises(ValueError, match="num_vertices must be an integer >= 0, got -1"):
        assign_edges([], [], -1, 2)
    with pytest.raises(ValueError, match="seed must be an integer"):
        partition((SRC, DST), 2, seed=1.5)


def test_wrong_shapes():
    with pytest.raises(ValueError, match="one-dimensional"):
        assign_edges(np.zeros((2, 2), dtype=int), np.zeros((2, 2), dtype=int), 2, 2)
    with pytest.raises(ValueError, match=r"shape \(m, 2\)"):
        partition(np.zeros((3, 3), dtype=int), 2)
    with pytest.raises(TypeError, match="expected a graph"):
        partition(42, 2)


@pytest.mark.parametrize("lam, eps, match", [(-1.0, 1.0, "lam"), (float("nan"), 1.0, "lam"), (1.0, 0.0, "epsilon")])
def test_hdrf_parameters_are_checked(lam, eps, match):
    with pytest.raises(ValueError, match=match):
        partition((SRC, DST), 2, "hdrf", lam=lam, epsilon=eps)


def test_bad_stream_orders():
    with pytest.raises(ValueError, match=r"unknown stream order 'sorted'"):
        partition((SRC, DST), 2, "greedy", order="sorted")
    with pytest.raises(ValueError, match="repeats or misses"):
        partition((SRC, DST), 2, "hdrf", order=[0, 0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"shape \(5,\)"):
        partition((SRC, DST), 2, "hdrf", order=[0, 1])
    assert stream_order(0, "shuffle").size == 0


def test_from_assignment_rejects_bad_parts():
    with pytest.raises(ValueError, match=r"edge_part\[2\] = 5 is outside 0\.\.1"):
        VertexCut.from_assignment(SRC, DST, 4, [0, 1, 5, 0, 1], 2)
    with pytest.raises(ValueError, match="one part per edge"):
        VertexCut.from_assignment(SRC, DST, 4, [0, 1], 2)
    with pytest.raises(ValueError, match="integer parts"):
        VertexCut.from_assignment(SRC, DST, 4, [0.0, 1.0, 0.0, 0.0, 1.0], 2)


def test_accepts_a_gasengine_graph_and_keeps_its_vertex_count():
    g = Graph(SRC, DST, num_vertices=7)  # vertices 4..6 isolated
    cut = partition(g, 3, "hdrf")
    assert cut.num_vertices == 7
    assert cut.has_edges.tolist() == [True] * 4 + [False] * 3
    _check_masters(cut)


def _check_masters(cut: VertexCut) -> None:
    for v in range(cut.num_vertices):
        assert cut.master[v] in cut.parts_of(v).tolist()


@pytest.mark.parametrize("strategy", ALL)
@pytest.mark.parametrize(("parts", "dtype"), [(1, np.int8), (128, np.int8), (129, np.int16), (300, np.int16)])
def test_edge_parts_use_the_narrowest_type(strategy, parts, dtype):
    # One byte per edge up to 128 parts: the assignment lives as long as the run.
    rng = np.random.default_rng(5)
    src, dst = rng.integers(0, 500, 4000), rng.integers(0, 500, 4000)
    cut = partition((src, dst, 500), parts, strategy)
    assert cut.edge_part.dtype == dtype
    assert cut.edge_part.min() >= 0 and cut.edge_part.max() < parts
    if parts > 1:  # the wide type changes nothing but the storage
        wide = VertexCut.from_assignment(src, dst, 500, cut.edge_part.astype(np.int64), parts)
        assert np.array_equal(wide.edge_part, cut.edge_part) and wide.edge_part.dtype == dtype
