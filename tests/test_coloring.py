"""Greedy colourings: the defining property on real and random graphs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gasengine.coloring import greedy_coloring, is_proper
from gasengine.generators import grid, rmat
from tests.datasets import load


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=120))
    ),
    st.sampled_from([1, 2]),
)
def test_random_graphs_get_proper_colourings(case, distance):
    n, edges = case
    src = np.array([e[0] for e in edges], dtype=np.int64)
    dst = np.array([e[1] for e in edges], dtype=np.int64)
    colour = greedy_coloring(src, dst, n, distance)
    assert colour.shape == (n,) and colour.min(initial=0) >= 0
    assert is_proper(src, dst, n, colour, distance)
    assert is_proper(src, dst, n, colour, 1)  # distance 2 is also distance 1


@pytest.mark.parametrize("dataset", ["snap/email-Eu-core.txt", "snap/CA-GrQc.txt", "dimacs9/rome99.gr"])
def test_real_graphs(dataset):
    g = load(dataset)
    one = greedy_coloring(g.src, g.dst, g.num_vertices)
    two = greedy_coloring(g.src, g.dst, g.num_vertices, distance=2)
    assert is_proper(g.src, g.dst, g.num_vertices, one)
    assert is_proper(g.src, g.dst, g.num_vertices, two, distance=2)
    degree = np.bincount(np.r_[g.src, g.dst], minlength=g.num_vertices)
    assert one.max() + 1 <= degree.max() + 1  # greedy never needs more than max degree + 1
    assert two.max() >= one.max()


def test_textbook_counts():
    g = grid(10, 10)
    assert greedy_coloring(g.src, g.dst, g.num_vertices).max() + 1 == 2  # a grid is bipartite
    two = greedy_coloring(g.src, g.dst, g.num_vertices, distance=2)
    assert 5 <= two.max() + 1 <= 13  # a vertex and its 4 neighbours differ; greedy stays under 1 + 4 + 8
    odd = np.arange(5)
    assert greedy_coloring(odd, (odd + 1) % 5, 5).max() + 1 == 3  # an odd cycle needs three


def test_bad_distance():
    with pytest.raises(ValueError, match="distance must be 1 or 2"):
        greedy_coloring(np.array([0]), np.array([1]), 2, distance=3)


def test_a_skewed_graph():
    g = rmat(14)  # 262k edges with hubs
    colour = greedy_coloring(g.src, g.dst, g.num_vertices)
    assert is_proper(g.src, g.dst, g.num_vertices, colour)
