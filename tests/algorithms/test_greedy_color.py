"""Greedy colouring: proper on every engine and model; races under vertex consistency counted and repaired."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms import greedy_color
from algorithms.greedy_color import conflicting_edges
from gasengine import ConvergenceError, Graph
from gasengine.generators import rmat
from tests.datasets import load, random_graph

ENGINES = [
    dict(engine="async", consistency="edge"),
    dict(engine="async", consistency="full", scheduler="sweep"),
    dict(engine="async", consistency="vertex"),
    dict(engine="async", consistency="edge", scheduler="random", batch_size=1),
    dict(engine="chromatic", consistency="edge"),
    dict(engine="sync"),
]


def max_degree(g: Graph) -> int:
    keep = g.src != g.dst
    pairs = np.unique(np.sort(np.stack([g.src[keep], g.dst[keep]], axis=1), axis=1), axis=0)
    return int(np.bincount(pairs.ravel(), minlength=g.num_vertices).max())


@pytest.mark.parametrize("options", ENGINES, ids=lambda o: "-".join(map(str, o.values())))
@pytest.mark.parametrize("dataset", ["snap/email-Eu-core.txt", "snap/CA-GrQc.txt"])
def test_proper_on_real_graphs_with_every_engine(dataset, options):
    g = load(dataset)
    color = greedy_color(g, **options)
    assert conflicting_edges(g, color) == 0
    assert color.min() == 0 and color.max() + 1 <= max_degree(g) + 1


def test_edge_consistency_updates_every_vertex_once_and_races_never():
    g = load("snap/email-Eu-core.txt")
    color, result = greedy_color(g, return_result=True, workers=2, partitions=3)
    assert conflicting_edges(g, color) == 0 and result.conflicts == 0
    assert result.steps.column("updates").sum() == g.num_vertices  # nobody ever had to look again


@pytest.mark.parametrize("workers", [1, 3])
def test_vertex_consistency_counts_its_races_and_repairs_them(workers):
    g = load("snap/email-Eu-core.txt")
    color, result = greedy_color(g, consistency="vertex", workers=workers, partitions=3, return_result=True)
    assert result.conflicts > 0 and f"{result.conflicts} conflicts" in result.steps.summary()
    assert conflicting_edges(g, color) == 0
    assert result.steps.column("updates").sum() > g.num_vertices  # the repairs


def test_more_than_64_colours_move_the_window():
    n = 80
    src, dst = np.triu_indices(n, 1)  # a clique needs n colours
    g = Graph(src, dst, num_vertices=n)
    color = greedy_color(g)
    assert sorted(color.tolist()) == list(range(n))


def test_a_stopped_run_with_conflicts_left_says_so():
    g = rmat(9, 8, seed=2)
    with pytest.raises(
        ConvergenceError, match=r"greedy_color stopped after 1 steps with \d+ conflicting edges"
    ) as info:
        greedy_color(g, engine="sync", max_supersteps=1)
    assert info.value.result is not None


def test_self_loops_and_isolated_vertices():
    g = Graph([0, 1, 1], [0, 2, 1], num_vertices=4)
    assert greedy_color(g).tolist() == [0, 0, 1, 0]


def test_same_colouring_for_any_number_of_parts_at_one_candidate_per_round():
    g = random_graph(120, 500, seed=31)
    reference = greedy_color(g, batch_size=1)
    for parts in (2, 4):
        np.testing.assert_array_equal(greedy_color(g, batch_size=1, partitions=parts), reference)
