"""Vertex subsets (frontiers) and the messages describing them: both representations agree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gasengine.frontier as frontier_module
from algorithms import connected_components, sssp
from gasengine.exchange import subset_of
from gasengine.frontier import Frontier, decode_positions, encode_positions
from gasengine.kernels import sorted_distinct
from gasengine.step import VertexSetBuilder
from tests.datasets import random_graph

sets = st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.integers(0, n - 1), max_size=2 * n)))


@settings(max_examples=200, deadline=None)
@given(sets, st.sampled_from([0.0, 1 / 32, 0.5, 1.0]))
def test_every_operation_agrees_with_a_python_set(case, fraction):
    n, members = case
    frontier_module.DENSE_FRACTION, saved = fraction, frontier_module.DENSE_FRACTION
    try:
        want = sorted(set(members))
        for f in (
            Frontier.of_ids(n, np.array(members, dtype=np.intp)),
            Frontier.of_mask(np.isin(np.arange(n), members)),
        ):
            assert f.ids().tolist() == want and f.count == len(want) and f.full == (len(want) == n)
            assert np.flatnonzero(f.mask()).tolist() == want
            probe = np.arange(n)
            assert f.contains(probe).tolist() == [v in set(members) for v in range(n)]
            assert f.positions(np.array(want, dtype=np.intp)).tolist() == list(range(len(want)))
            half = n // 2
            assert f.below(half).ids().tolist() == [v for v in want if v < half] and f.count_below(half) == sum(
                v < half for v in want
            )
            other = Frontier.of_ids(n, np.arange(0, n, 3))
            assert f.union(other).ids().tolist() == sorted(set(want) | set(range(0, n, 3)))
            shared = np.arange(0, n, 2)
            pos = subset_of(f, shared)
            got = shared.tolist() if pos is None else shared[pos].tolist()
            assert got == [v for v in shared.tolist() if v in set(members)]
    finally:
        frontier_module.DENSE_FRACTION = saved


@given(
    st.integers(0, 200).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.integers(0, max(n - 1, 0)), max_size=n, unique=True))
    )
)
def test_positions_encode_and_decode(case):
    length, chosen = case
    positions = np.array(sorted(chosen), dtype=np.intp)
    code = encode_positions(positions, length)
    assert decode_positions(code, length).tolist() == positions.tolist()
    if positions.size == length:
        assert code is None  # the whole list costs nothing to describe
    elif code.dtype == bool:
        assert positions.size * 4 > length  # a mask only when positions would cost more


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 5000).flatmap(
        lambda size: st.tuples(st.just(size), st.lists(st.integers(0, size - 1), max_size=3000), st.integers(0, 3000))
    )
)
def test_sorted_distinct_equals_np_unique(case):
    """Both sides of the sort / bitmap switch (few ids of a large range, many of a small one), with a prefix ``k``."""
    size, values, k = case
    ids = np.array(values, dtype=np.intp)
    k = min(k, ids.size)
    got = sorted_distinct(ids, size, k)
    assert got.dtype == np.intp
    assert got.tolist() == np.unique(ids[:k]).tolist()
    assert sorted_distinct(ids.astype(np.int32), size).tolist() == np.unique(ids).tolist()
    distinct = np.unique(ids)[::-1].copy()
    assert sorted_distinct(distinct, size, repeats=False).tolist() == np.unique(ids).tolist()


def test_sorted_distinct_refuses_ids_outside_the_range():
    with pytest.raises(IndexError, match=r"outside \[0, 64\)"):
        sorted_distinct(np.arange(40) * 2, 64)  # 40 ids of 64: the bitmap side, which would write past its end


def test_unique_ids_and_builder():
    assert sorted_distinct(np.array([4, 4, 1, 9, 1]), 10).tolist() == [1, 4, 9]
    assert sorted_distinct(np.array([64, 63, 0, 127, 128, 64]), 129).tolist() == [0, 63, 64, 127, 128]  # word edges
    b = VertexSetBuilder(1000)
    for chunk in (np.array([5, 3]), np.arange(100, 200), np.array([3])):  # crosses the mask switch
        b.add(chunk)
    assert b.frontier().ids().tolist() == [3, 5, *range(100, 200)]


@pytest.mark.parametrize("fraction", [0.0, 1.0])
def test_results_do_not_depend_on_the_representation(monkeypatch, fraction):
    """Always masks (0.0) or always id lists (1.0): the same answers and step statistics as the default."""
    g = random_graph(400, 1600, seed=21, weighted=True)
    default = [connected_components(g, partitions=3, return_result=True), sssp(g, 0, partitions=3, return_result=True)]
    monkeypatch.setattr(frontier_module, "DENSE_FRACTION", fraction)
    forced = [connected_components(g, partitions=3, return_result=True), sssp(g, 0, partitions=3, return_result=True)]
    for (a, ra), (b, rb) in zip(default, forced):
        np.testing.assert_array_equal(a, b)
        assert ra.steps.column("active").tolist() == rb.steps.column("active").tolist()
        assert ra.steps.column("updates").tolist() == rb.steps.column("updates").tolist()


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 20_000),
    seed=st.integers(0, 2**16),
    shared_fraction=st.floats(0.0, 1.0),
    count=st.integers(0, 200),
)
def test_subset_positions_through_the_table_equal_the_binary_search(size, seed, shared_fraction, count):
    """Frontiers of TABLE_FROM ids or more look positions up in a table: the same answer as searching."""
    rng = np.random.default_rng(seed)
    shared = np.flatnonzero(rng.random(size) < shared_fraction)
    ids = np.unique(rng.integers(0, size, count))
    f = Frontier.of_ids(size, ids, unique=True)
    got = subset_of(f, shared)
    want = None if f.full else np.flatnonzero(np.isin(shared, f.ids()))
    if want is None:
        assert got is None
    else:
        np.testing.assert_array_equal(got, want)
