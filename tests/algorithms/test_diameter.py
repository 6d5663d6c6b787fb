"""HyperANF: the estimated neighbourhood function against exact breadth-first distances.

Exact ``N(t)`` comes from ``scipy.sparse.csgraph.shortest_path`` (all pairs,
unweighted, along the arcs), exact diameters from ``networkx.diameter``.  The
estimates are random only through the hash seed, so every test is
deterministic; bounds are stated in units of one counter's relative standard
error ``sigma = 1.04 / sqrt(2**b)``, which also bounds ``N(t)``'s.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csgraph

from algorithms.diameter import (
    DiameterEstimate,
    HyperANFProgram,
    approximate_diameter,
    average_distance,
    effective_diameter,
    hll_cardinality,
    neighbourhood_function,
    relative_standard_error,
    singleton_registers,
    to_fixed,
    vertex_hashes,
)
from gasengine import Graph, run
from tests.datasets import load


# ------------------------------------------------------------------ exact references
def distances(g: Graph) -> np.ndarray:
    """All-pairs hop distances along the arcs (inf: unreachable)."""
    return csgraph.shortest_path(g.to_scipy(), unweighted=True, directed=True)


def exact_nf(d: np.ndarray) -> np.ndarray:
    """N(0..D) from a distance matrix: pairs within distance t, (x, x) included."""
    return np.cumsum(np.bincount(d[np.isfinite(d)].astype(np.int64)))


def padded(nf: np.ndarray, length: int) -> np.ndarray:
    """``nf`` extended to ``length`` by its last value (N stays constant past the bound)."""
    return np.concatenate([nf, np.full(max(length - nf.size, 0), nf[-1])])[: max(length, nf.size)]


def max_error_in_sigmas(est: DiameterEstimate, exact: np.ndarray) -> float:
    """Largest relative error of N(t) over every t, in units of sigma."""
    got = padded(est.neighbourhood_function, exact.size)
    want = padded(exact, got.size)
    return float(np.abs(got / want - 1).max() / est.relative_standard_error)


@pytest.fixture(scope="module")
def email():
    """email-Eu-core as directed arcs and undirected, with exact distances (1005 vertices)."""
    out = {}
    for undirected in (False, True):
        g = load("snap/email-Eu-core.txt", undirected=undirected)
        out[undirected] = g, distances(g)
    return out


SMALL_GRAPHS = {
    "path": nx.path_graph(40),
    "grid": nx.grid_2d_graph(15, 15),
    "karate": nx.karate_club_graph(),
    "gnp": nx.gnp_random_graph(300, 0.02, seed=1),  # a few isolated vertices and small pieces
    "tree": nx.balanced_tree(3, 5),
}


# ------------------------------------------------------------------ accuracy on graphs
@pytest.mark.parametrize("precision", [6, 8])
@pytest.mark.parametrize("name", SMALL_GRAPHS)
def test_neighbourhood_function_within_three_sigma_and_diameter_within_one(name, precision):
    G = SMALL_GRAPHS[name]
    g = Graph.from_networkx(G)
    exact = exact_nf(distances(g))
    largest = G.subgraph(max(nx.connected_components(G), key=len))
    diameter = nx.diameter(largest)
    assert exact.size - 1 == diameter  # the reference itself: every other piece of gnp is smaller
    est = approximate_diameter(g, precision=precision, seed=0)
    assert max_error_in_sigmas(est, exact) < 3
    assert diameter - 1 <= est.diameter_lower_bound <= diameter  # never above: a counter grows only if its ball does
    assert est.converged and est.neighbourhood_function.size == est.diameter_lower_bound + 1


@pytest.mark.parametrize("undirected", [False, True], ids=["directed", "undirected"])
def test_real_graph_email_eu_core(email, undirected):
    g, d = email[undirected]
    exact = exact_nf(d)
    est = approximate_diameter(g)
    assert max_error_in_sigmas(est, exact) < 3
    assert exact.size - 2 <= est.diameter_lower_bound <= exact.size - 1  # exact: 7 (largest finite distance)
    # the interpolated effective diameter (2.99 directed, 2.95 undirected) and the average distance
    assert est.effective_diameter == pytest.approx(effective_diameter(exact), rel=0.05)
    assert est.average_distance == pytest.approx(average_distance(exact), rel=0.05)


def test_directed_graphs_follow_out_arcs():
    g = Graph([0, 1, 2], [1, 2, 3])  # 0 -> 1 -> 2 -> 3
    est = approximate_diameter(g, precision=10)
    assert est.eccentricity.tolist() == [3, 2, 1, 0]
    assert np.round(est.reachable).tolist() == [4, 3, 2, 1]  # itself and what its arcs lead to
    assert est.neighbourhood_function.round().tolist() == [4, 7, 9, 10]
    back = approximate_diameter(g.reverse(), precision=10)
    assert back.eccentricity.tolist() == [0, 1, 2, 3]


def test_per_vertex_reachability_and_eccentricity_bounds(email):
    g, d = email[False]
    est = approximate_diameter(g, precision=8)
    reach = np.isfinite(d).sum(axis=1)
    ecc = np.where(np.isfinite(d), d, 0).max(axis=1).astype(np.int64)
    assert (est.eccentricity <= ecc).all()  # a lower bound at every vertex ...
    assert (est.eccentricity >= ecc - 1).mean() > 0.95  # ... and nearly always tight within one
    error = np.abs(est.reachable / reach - 1) / est.relative_standard_error
    assert (error < 3).mean() > 0.99 and error.max() < 5  # per counter: sigma is its standard error


def test_precision_buys_accuracy():
    g = Graph.from_networkx(nx.grid_2d_graph(15, 15))
    exact = exact_nf(distances(g))
    errors = [
        np.abs(padded(approximate_diameter(g, precision=b).neighbourhood_function, exact.size) / exact - 1).max()
        for b in (4, 12)
    ]
    assert errors[1] < errors[0] / 4 and errors[1] < 3 * relative_standard_error(12)


# ------------------------------------------------------------------ the counters
@pytest.mark.parametrize("precision", [6, 8])
def test_estimator_on_known_cardinalities(precision):
    sigma = relative_standard_error(precision)
    for k in (1, 10, 100, 1000, 10_000, 100_000):
        union = np.stack([singleton_registers(np.arange(k), precision, seed).max(axis=0) for seed in range(30)])
        rel = hll_cardinality(union) / k - 1
        assert np.abs(rel).max() < 4 * sigma, k
        assert abs(rel.mean()) < 0.6 * sigma, k  # unbiased: the mean of 30 has standard error 0.18 sigma
    one = singleton_registers(np.arange(50), precision, 0)
    np.testing.assert_allclose(hll_cardinality(one), 1.0, rtol=0.01)  # linear counting for small sets


def test_registers_are_geometric_and_uniform():
    r = singleton_registers(np.arange(200_000), precision=6, seed=3)
    assert (np.count_nonzero(r, axis=1) == 1).all()
    values = r.max(axis=1)
    share = np.bincount(values, minlength=5)[1:5] / values.size
    np.testing.assert_allclose(share, [1 / 2, 1 / 4, 1 / 8, 1 / 16], rtol=0.03)
    per_register = np.count_nonzero(r, axis=0)
    expected = values.size / 64
    assert np.abs(per_register - expected).max() < 5 * np.sqrt(expected)


def test_hashes_are_seeded_and_collision_free():
    ids = np.arange(200_000)
    h = vertex_hashes(ids, seed=0)
    assert np.unique(h).size == ids.size
    assert (h != vertex_hashes(ids, seed=1)).mean() > 0.999
    np.testing.assert_array_equal(h, vertex_hashes(ids, seed=0))


def test_fixed_point_sums_are_exact():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1e6, 10_000)
    total = to_fixed(x).sum(axis=0)
    shuffled = to_fixed(x[rng.permutation(x.size)]).sum(axis=0)
    np.testing.assert_array_equal(total, shuffled)  # order does not matter: integers
    assert total[0] + total[1] / 2**32 == pytest.approx(x.sum(), rel=1e-12)


# ------------------------------------------------------------------ statistics of N(t)
def test_effective_diameter_interpolates():
    nf = [4, 10, 14, 16]
    assert effective_diameter(nf) == pytest.approx(2.2)
    assert effective_diameter(nf, alpha=1.0) == 3.0
    assert effective_diameter(nf, alpha=0.25) == 0.0  # N(0) is already a quarter
    assert effective_diameter(nf, alpha=0.5) == pytest.approx(1 - 1 + (8 - 4) / 6 + 0)  # between N(0) and N(1)
    assert effective_diameter([5.0]) == 0.0 and effective_diameter([0.0]) == 0.0
    with pytest.raises(ValueError, match="alpha"):
        effective_diameter(nf, alpha=0.0)


def test_average_distance_against_networkx():
    G = nx.karate_club_graph()
    exact = exact_nf(distances(Graph.from_networkx(G)))
    assert average_distance(exact) == pytest.approx(nx.average_shortest_path_length(G))


# ------------------------------------------------------------------ parts, workers, engines
@pytest.mark.parametrize(
    "options",
    [
        {"partitions": 2},
        {"partitions": 3},
        {"partitions": 4},
        {"partitions": 4, "partition": "random"},
        {"workers": 2},
        {"partitions": 3, "workers": 2},
    ],
    ids=lambda o: "-".join(f"{k}{v}" for k, v in o.items()),
)
def test_identical_on_any_number_of_parts_and_workers(email, options):
    g, _ = email[False]
    base = approximate_diameter(g, seed=5)
    got = approximate_diameter(g, seed=5, **options)
    np.testing.assert_array_equal(got.neighbourhood_function, base.neighbourhood_function)
    np.testing.assert_array_equal(got.eccentricity, base.eccentricity)
    np.testing.assert_array_equal(got.reachable, base.reachable)
    assert got.effective_diameter == base.effective_diameter


def test_identical_sums_on_a_larger_graph():
    # 6301 vertices: float sums of the estimates would differ in the last bits between 1, 2 and 4 parts
    g = load("snap/p2p-Gnutella08.txt")
    base = approximate_diameter(g)
    for partitions in (2, 4):
        np.testing.assert_array_equal(
            approximate_diameter(g, partitions=partitions).neighbourhood_function, base.neighbourhood_function
        )


@pytest.mark.parametrize("engine", ["chromatic", "async"])
def test_other_engines_end_with_the_same_counters(email, engine):
    g, _ = email[True]
    sync = run(HyperANFProgram(seed=2), g)
    other = run(HyperANFProgram(seed=2), g, engine=engine, partitions=2)
    np.testing.assert_array_equal(other.field("hll"), sync.field("hll"))  # the fixed point: counters of reachable sets
    assert other.aggregates["neighbourhood_function"] == sync.aggregates["neighbourhood_function"]
    with pytest.raises(ValueError, match="sync engine only"):
        approximate_diameter(g, engine=engine)


def test_only_changed_counters_signal(email):
    # 300 triangles settle after one hop; then only the 60-vertex path runs, one hop per superstep
    G = nx.disjoint_union(nx.disjoint_union_all([nx.complete_graph(3)] * 300), nx.path_graph(60))
    est = approximate_diameter(Graph.from_networkx(G), precision=6)
    active = est.result.steps.column("active")
    assert active[0] == 960 and active[1] <= 960 and active[2:].max() <= 60
    assert est.diameter_lower_bound >= 58 and active.sum() < 960 * 2 + 60 * est.result.supersteps
    # a real graph: the frontier shrinks to the few vertices whose balls still grow
    g, _ = email[True]
    active = approximate_diameter(g).result.steps.column("active")
    assert active[0] == g.num_vertices and active[-1] < g.num_vertices // 20


def test_max_supersteps_gives_a_valid_prefix():
    g = Graph.from_networkx(nx.path_graph(30))
    full = approximate_diameter(g)
    cut = approximate_diameter(g, max_supersteps=4)
    assert not cut.converged and cut.diameter_lower_bound == 4
    np.testing.assert_array_equal(cut.neighbourhood_function, full.neighbourhood_function[:5])


def test_seed_changes_the_estimate_but_not_its_quality():
    g = Graph.from_networkx(nx.karate_club_graph())
    a, b = (neighbourhood_function(g, seed=s) for s in (0, 1))
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, neighbourhood_function(g, seed=0))


# ------------------------------------------------------------------ edge cases and bad input
def test_empty_edgeless_and_looped_graphs():
    empty = approximate_diameter(Graph([], [], num_vertices=0))
    assert empty.neighbourhood_function.tolist() == [0.0] and empty.diameter_lower_bound == 0
    for g in (Graph([], [], num_vertices=3), Graph([0, 1], [0, 1], num_vertices=3)):
        est = approximate_diameter(g, precision=10)
        assert est.diameter_lower_bound == 0 and est.effective_diameter == 0.0 and est.average_distance == 0.0
        assert est.neighbourhood_function.round().tolist() == [3.0]


@pytest.mark.parametrize("precision", [3, 17, 0, -1, 6.5, True, "6", None])
def test_precision_out_of_range_is_named(precision):
    with pytest.raises(ValueError, match=r"precision must be an integer in 4\.\.16"):
        approximate_diameter(Graph([0], [1]), precision=precision)
    with pytest.raises(ValueError, match="precision"):
        HyperANFProgram(precision=precision)


def test_other_bad_input():
    with pytest.raises(TypeError, match=r"expected a gasengine.Graph, got Graph .*from_networkx"):
        approximate_diameter(nx.path_graph(3))
    with pytest.raises(TypeError, match="seed must be an integer"):
        approximate_diameter(Graph([0], [1]), seed="x")
    with pytest.raises(ValueError, match="alpha"):
        approximate_diameter(Graph([0], [1]), alpha=1.5)
    with pytest.raises(TypeError, match="uint8 registers"):
        hll_cardinality(np.zeros((2, 16)))
