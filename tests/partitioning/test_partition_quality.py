"""Quality claims on power-law graphs (R-MAT and real SNAP graphs).

All cuts are deterministic for their seed, so these are exact regressions of
the properties the papers claim, not statistical tests.
"""

from __future__ import annotations

import math

import pytest

from partitioning import partition


@pytest.mark.parametrize("num_parts", [4, 9, 16, 25])
def test_grid_replication_is_below_two_sqrt_p_minus_one(num_parts, rmat16, wiki_vote):
    for graph in (rmat16, wiki_vote):
        cut = partition(graph, num_parts, "grid")
        bound = 2 * math.sqrt(num_parts) - 1
        assert cut.replication_factor <= bound
        assert cut.num_replicas.max() <= bound


@pytest.mark.parametrize("strategy", ["random", "canonical-random", "grid", "hdrf"])
def test_edge_balance_on_rmat(strategy, rmat16):
    # hdrf: default lambda = 1 and a shuffled stream
    cut = partition(rmat16, 4, strategy)
    assert cut.edge_balance <= 1.1


@pytest.mark.parametrize("num_parts", [8, 16, 32])
@pytest.mark.parametrize("strategy", ["random", "canonical-random", "hdrf"])
def test_edge_balance_holds_at_more_parts(strategy, num_parts, rmat16):
    assert partition(rmat16, num_parts, strategy).edge_balance <= 1.1


@pytest.mark.parametrize("num_parts", [4, 8, 16, 32])
def test_streaming_beats_random_on_rmat(num_parts, rmat16):
    random = partition(rmat16, num_parts, "random").replication_factor
    greedy = partition(rmat16, num_parts, "greedy").replication_factor
    hdrf = partition(rmat16, num_parts, "hdrf").replication_factor
    assert hdrf < greedy < random
    assert hdrf < 0.6 * random


@pytest.mark.parametrize("graph", ["wiki_vote", "email_eu"])
@pytest.mark.parametrize("num_parts", [8, 32])
def test_streaming_beats_random_on_real_graphs(graph, num_parts, request):
    edges = request.getfixturevalue(graph)
    random = partition(edges, num_parts, "random").replication_factor
    for strategy in ("greedy", "hdrf"):
        assert partition(edges, num_parts, strategy).replication_factor < 0.75 * random


def test_dbh_beats_random_on_power_law(rmat16):
    assert partition(rmat16, 16, "dbh").replication_factor < 0.6 * partition(rmat16, 16, "random").replication_factor
