"""PageRank against networkx.pagerank (DESIGN §7: L1 <= 1e-6 at tol 1e-10)."""

from __future__ import annotations

import functools

import networkx as nx
import numpy as np
import pytest

from algorithms import PageRankProgram, pagerank
from gasengine import ConvergenceError, Graph, run
from tests.datasets import load, random_graph, to_nx_multidigraph


def nx_ranks(g: Graph, **kwargs) -> np.ndarray:
    ref = nx.pagerank(to_nx_multidigraph(g), tol=1e-10, **kwargs)
    return np.array([ref[i] for i in range(g.num_vertices)])


@functools.cache
def real_graph(dataset: str) -> tuple[Graph, nx.MultiDiGraph, np.ndarray]:
    """A dataset, its networkx view and networkx's ranks (tol 1e-10), built once for every test here."""
    g = load(dataset)
    G = to_nx_multidigraph(g)
    ref = nx.pagerank(G, tol=1e-10)
    return g, G, np.array([ref[i] for i in range(g.num_vertices)])


@pytest.mark.parametrize("dataset", ["snap/email-Eu-core.txt", "snap/Wiki-Vote.txt", "snap/p2p-Gnutella08.txt"])
@pytest.mark.parametrize("parts", [1, 2, 4])
def test_real_graphs_match_networkx(dataset, parts):
    g, _, ref = real_graph(dataset)
    ranks = pagerank(g, tol=1e-10, partitions=parts)
    assert np.abs(ranks - ref).sum() <= 1e-6


def test_top_five_match_published_reference():
    # /work/shared/data/README.md: nx.pagerank(alpha=0.85, tol=1e-10) top 5 of email-Eu-core
    g, _, _ = real_graph("snap/email-Eu-core.txt")
    ranks = pagerank(g, tol=1e-10, partitions=2)
    top = np.argsort(-ranks)[:5]
    assert g.original_ids()[top].tolist() == [1, 130, 160, 62, 86]
    np.testing.assert_allclose(ranks[top], [0.009981, 0.007297, 0.006738, 0.005305, 0.005114], atol=5e-7)


@pytest.mark.parametrize("parts", [1, 3])
def test_generated_graph_with_dangling_and_isolated_vertices(parts):
    g = random_graph(300, 900, seed=21)  # many vertices without out-edges
    assert (g.out_degree() == 0).sum() > 10
    ranks = pagerank(g, tol=1e-10, partitions=parts)
    assert np.abs(ranks - nx_ranks(g)).sum() <= 1e-6
    assert abs(ranks.sum() - 1) < 1e-12


def test_personalised_and_weighted():
    g = random_graph(200, 1200, seed=22, weighted=True)
    rng = np.random.default_rng(0)
    p = rng.random(g.num_vertices)
    ranks = pagerank(g, tol=1e-10, weight="weight", personalization=p, partitions=3)
    G = nx.MultiDiGraph()
    G.add_nodes_from(range(g.num_vertices))
    for i, (u, v) in enumerate(zip(g.src.tolist(), g.dst.tolist())):
        G.add_edge(u, v, weight=float(g.edge_data["weight"][i]))
    ref = nx.pagerank(G, tol=1e-10, weight="weight", personalization=dict(enumerate(p)))
    assert np.abs(ranks - np.array([ref[i] for i in range(g.num_vertices)])).sum() <= 1e-6


def test_personalisation_by_original_id():
    g = Graph([0, 1, 2], [1, 2, 0], ids=np.array([100, 200, 300]))
    ranks = pagerank(g, personalization={100: 1.0}, tol=1e-12, max_iter=500)
    G = nx.DiGraph([(100, 200), (200, 300), (300, 100)])
    ref = nx.pagerank(G, personalization={100: 1}, tol=1e-12, max_iter=500)
    np.testing.assert_allclose(ranks, [ref[100], ref[200], ref[300]], atol=1e-9)


def test_same_superstep_count_as_networkx_iterations():
    g, G, _ = real_graph("snap/email-Eu-core.txt")
    _, result = pagerank(g, tol=1e-10, return_result=True)
    steps = result.supersteps
    # networkx stops after the first iteration whose L1 change < n * tol: with
    # the same rule it converges within exactly as many iterations, not one fewer
    nx.pagerank(G, tol=1e-10, max_iter=steps)
    with pytest.raises(nx.PowerIterationFailedConvergence):
        nx.pagerank(G, tol=1e-10, max_iter=steps - 1)


def test_no_convergence_raises_with_the_unfinished_result():
    g, _, _ = real_graph("snap/email-Eu-core.txt")
    with pytest.raises(ConvergenceError, match="did not converge within 3 supersteps") as info:
        pagerank(g, max_iter=3, tol=1e-12)
    partial = info.value.result
    assert partial.supersteps == 3 and not partial.converged
    assert abs(partial.field("rank").sum() - 1) < 1e-9  # three iterations' ranks, still a distribution


def test_bad_inputs():
    g = Graph([0, 1], [1, 0], edge_data={"weight": [1.0, -2.0]})
    with pytest.raises(ValueError, match="non-negative weights; edge 1->0"):
        pagerank(g, weight="weight")
    with pytest.raises(ValueError, match="no edge field 'w'"):
        pagerank(g, weight="w")
    with pytest.raises(ValueError, match="personalization must have one value per vertex"):
        pagerank(g, personalization=[1.0])
    with pytest.raises(ValueError, match="alpha"):
        PageRankProgram(alpha=1.5)


def test_program_is_usable_directly_with_run():
    g = load("snap/email-Eu-core.txt")
    r = run(PageRankProgram(tol=1e-10), g, partitions=2, max_supersteps=100)
    assert r.converged and "dangling_mass" in r.aggregates
    assert abs(r.field("rank").sum() - 1) < 1e-9


def test_the_budget_is_called_max_iter():
    with pytest.raises(TypeError, match="pagerank takes max_iter"):
        pagerank(Graph([0, 1], [1, 0]), max_supersteps=3)


@pytest.mark.parametrize("dataset", ["snap/email-Eu-core.txt", "snap/Wiki-Vote.txt", "snap/p2p-Gnutella08.txt"])
@pytest.mark.parametrize("consistency", ["edge", "vertex"])
def test_async_delta_pagerank_matches_networkx(dataset, consistency):
    g, _, ref = real_graph(dataset)
    ranks = pagerank(g, tol=1e-10, engine="async", scheduler="priority", consistency=consistency)
    assert np.abs(ranks - ref).sum() <= 1e-6


@pytest.mark.parametrize("parts, workers", [(3, 1), (2, 2)])
def test_async_delta_pagerank_on_parts_and_workers(parts, workers):
    g, _, ref = real_graph("snap/email-Eu-core.txt")
    ranks = pagerank(g, tol=1e-10, engine="async", batch_size=512, partitions=parts, workers=workers)
    assert np.abs(ranks - ref).sum() <= 1e-6


def test_async_delta_pagerank_updates_fewer_vertices_than_sync_on_a_road_graph():
    g = load("dimacs9/rome99.gr")
    ref = nx_ranks(g)
    sync, synchronous = pagerank(g, tol=1e-10, return_result=True)
    ranks, delta = pagerank(g, tol=1e-10, engine="async", return_result=True)
    assert np.abs(ranks - ref).sum() <= 1e-6 and np.abs(sync - ref).sum() <= 1e-6
    updates = lambda r: int(r.steps.column("updates").sum())  # noqa: E731
    assert updates(delta) < 0.75 * updates(synchronous)


def test_async_pagerank_refuses_a_separate_dangling_distribution():
    g = Graph([0, 1], [1, 2])
    with pytest.raises(ValueError, match="dangling"):
        pagerank(g, engine="async", dangling=[1, 0, 0])


def test_async_pagerank_budget_counts_passes_over_the_graph():
    g, _, _ = real_graph("snap/email-Eu-core.txt")
    with pytest.raises(ConvergenceError, match=r"pagerank did not converge within 1005 updates \(1 passes over 1005"):
        pagerank(g, tol=1e-12, max_iter=1, engine="async")
