"""The stateless strategies: determinism, their defining properties, and the grid bound."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from partitioning import STRATEGIES, assign_edges, expected_random_replication, partition
from partitioning.hashing import grid_shape, mix64

HASHING = ["random", "canonical-random", "source", "destination", "grid", "dbh"]


def _random_edges(seed: int, n: int = 200, m: int = 3000):
    rng = np.random.default_rng(seed)
    return rng.integers(0, n, m), rng.integers(0, n, m), n


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_every_strategy_is_deterministic_and_seeded(strategy):
    src, dst, n = _random_edges(1)
    a = assign_edges(src, dst, n, 8, strategy, seed=3)
    b = assign_edges(src, dst, n, 8, strategy, seed=3)
    c = assign_edges(src, dst, n, 8, strategy, seed=4)
    assert a.dtype == np.int8 and a.shape == src.shape  # the narrowest type that holds 8 parts
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= 0 and a.max() < 8


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_int32_and_int64_ids_give_the_same_parts(strategy):
    src, dst, n = _random_edges(2)
    a = assign_edges(src.astype(np.int64), dst.astype(np.int64), n, 5, strategy)
    b = assign_edges(src.astype(np.int32), dst.astype(np.int32), n, 5, strategy)
    assert np.array_equal(a, b)


def test_compiled_hash_matches_numpy_statement():
    v = np.arange(1000)
    for seed in (0, 5, -2):
        src = v
        parts = assign_edges(src, np.zeros_like(src), 1000, 7, "source", seed=seed)
        assert np.array_equal(parts, (mix64(v, seed) % np.uint64(7)).astype(np.int32))


def test_random_spreads_parallel_edges_but_canonical_keeps_pairs_together():
    src = np.array([3] * 40 + [7] * 40)
    dst = np.array([7] * 40 + [3] * 40)  # 40 copies of 3->7 and 40 of 7->3
    rand = assign_edges(src, dst, 8, 8, "random")
    canon = assign_edges(src, dst, 8, 8, "canonical-random")
    assert len(set(rand.tolist())) > 4
    assert len(set(canon.tolist())) == 1


@given(st.integers(0, 2**31), st.integers(1, 40))
@settings(max_examples=30, deadline=None)
def test_canonical_random_is_symmetric(seed, num_parts):
    src, dst, n = _random_edges(seed % 1000, n=50, m=200)
    a = assign_edges(src, dst, n, num_parts, "canonical-random", seed=seed)
    b = assign_edges(dst, src, n, num_parts, "canonical-random", seed=seed)
    assert np.array_equal(a, b)


def test_one_dimensional_cuts_keep_a_vertex_side_in_one_part():
    src, dst, n = _random_edges(3)
    by_src = assign_edges(src, dst, n, 6, "source")
    by_dst = assign_edges(src, dst, n, 6, "destination")
    for v in range(n):
        assert len(set(by_src[src == v].tolist())) <= 1
        assert len(set(by_dst[dst == v].tolist())) <= 1
    # and the home part of a vertex is the same in both
    home = {int(s): int(p) for s, p in zip(src, by_src)}
    assert all(home.get(int(d), int(p)) == int(p) for d, p in zip(dst, by_dst))


def test_dbh_hashes_the_lower_degree_endpoint():
    src, dst, n = _random_edges(4)
    deg = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    parts = assign_edges(src, dst, n, 9, "dbh", seed=2)
    low = np.where(deg[src] < deg[dst], src, np.where(deg[dst] < deg[src], dst, np.minimum(src, dst)))
    home = (mix64(np.arange(n), 2) % np.uint64(9)).astype(np.int32)
    assert np.array_equal(parts, home[low])


def test_dbh_keeps_star_leaves_whole_and_cuts_the_hub():
    hub_edges = np.arange(1, 301)
    cut = partition((np.zeros(300, dtype=np.int64), hub_edges, 301), 8, "dbh")
    assert cut.num_replicas[0] == 8
    assert (cut.num_replicas[1:] == 1).all()


@pytest.mark.parametrize("num_parts", range(1, 130))
def test_grid_shape_covers_every_part(num_parts):
    rows, cols, last = grid_shape(num_parts)
    assert 1 <= last <= rows
    assert rows * (cols - 1) + last == num_parts
    assert rows + cols - 1 <= 2 * math.ceil(math.sqrt(num_parts)) - 1
    if math.isqrt(num_parts) ** 2 == num_parts:
        assert rows == cols == last == math.isqrt(num_parts)


@pytest.mark.parametrize("num_parts", [1, 2, 3, 4, 5, 8, 9, 12, 16, 17, 32, 64, 100])
def test_grid_replicas_are_bounded_and_every_part_is_used(num_parts, rmat12):
    cut = partition(rmat12, num_parts, "grid")
    rows, cols, _ = grid_shape(num_parts)
    assert cut.num_replicas.max() <= rows + cols - 1
    assert (cut.edges_per_part > 0).all()
    if math.isqrt(num_parts) ** 2 == num_parts:
        assert cut.replication_factor <= 2 * math.sqrt(num_parts) - 1
        assert cut.num_replicas.max() <= 2 * math.sqrt(num_parts) - 1


def test_grid_keeps_a_sources_edges_in_one_column():
    src, dst, n = _random_edges(5, n=100, m=5000)
    parts = assign_edges(src, dst, n, 12, "grid")
    rows, _, _ = grid_shape(12)
    for v in range(n):
        assert len(set((parts[src == v] // rows).tolist())) <= 1


@pytest.mark.parametrize("num_parts", [2, 8, 32])
def test_random_matches_powergraph_expected_replication(num_parts, rmat12):
    measured = partition(rmat12, num_parts, "random").replication_factor
    expected = expected_random_replication(rmat12, num_parts)
    assert measured == pytest.approx(expected, rel=0.01)


def test_canonical_random_replicates_less_than_random_on_reciprocal_graphs():
    src, dst, n = _random_edges(6, n=300, m=2000)
    src2, dst2 = np.concatenate([src, dst]), np.concatenate([dst, src])  # every edge both ways
    rand = partition((src2, dst2, n), 16, "random").replication_factor
    canon = partition((src2, dst2, n), 16, "canonical-random").replication_factor
    assert canon < rand
