"""Gibbs sampling of an Ising model against exact marginals (DESIGN §7: within sampling error).

Exact marginals come from enumerating all 2^n states of a small model.  The
sampling error is measured, not guessed: the graph holds K disjoint copies
of the model, each an independent chain (different vertex numbers, so
different hashed draws), so the K per-copy estimates of a vertex's marginal
are independent and identically distributed, and their spread gives an
honest standard error whatever the chain's autocorrelation.
"""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.gibbs import GibbsIsingProgram, counter_uniform, gibbs_ising
from gasengine import Graph, run

# A 3 x 3 grid with two diagonals (odd cycles: 3 colours, and a synchronous
# sampler that is biased), random couplings of both signs and random fields.
_IDX = np.arange(9).reshape(3, 3)
GRID_DIAG = np.array(
    [(_IDX[i, j], _IDX[i, j + 1]) for i in range(3) for j in range(2)]
    + [(_IDX[i, j], _IDX[i + 1, j]) for i in range(2) for j in range(3)]
    + [(0, 4), (4, 8)]
)
_RNG = np.random.default_rng(0)
J = _RNG.uniform(-1.0, 1.0, len(GRID_DIAG))
H = _RNG.uniform(-0.5, 0.5, 9)
BETA = 1.0
COPIES, SWEEPS, BURN_IN = 400, 300, 50


def spin_states(n: int) -> np.ndarray:
    """All 2^n spin configurations, one per row."""
    return (1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)).astype(np.float64)


def exact_marginals(n: int, edges: np.ndarray, coupling: np.ndarray, field: np.ndarray, beta: float) -> np.ndarray:
    """P(s_v = +1) by summing exp(beta * (sum J s_u s_v + sum h s_v)) over all states."""
    s = spin_states(n)
    energy = beta * ((s[:, edges[:, 0]] * s[:, edges[:, 1]] * coupling).sum(1) + s @ field)
    w = np.exp(energy - energy.max())
    return (s > 0).T @ (w / w.sum())


def synchronous_stationary_marginals(
    n: int, edges: np.ndarray, coupling: np.ndarray, field: np.ndarray, beta: float
) -> np.ndarray:
    """Marginals of the stationary law of the chain that redraws every spin at once.

    Its kernel is T[s, s'] = prod_v P(s'_v | neighbours in s); the law is
    T's left eigenvector of eigenvalue 1.
    """
    s = spin_states(n)
    a = np.zeros((n, n))
    np.add.at(a, (edges[:, 0], edges[:, 1]), coupling)
    np.add.at(a, (edges[:, 1], edges[:, 0]), coupling)
    p = 0.5 * (1 + np.tanh(beta * (s @ a + field)))  # P(s'_v = +1 | s), per state s
    plus = s > 0
    t = np.prod(np.where(plus[None, :, :], p[:, None, :], 1 - p[:, None, :]), axis=2)
    vals, vecs = np.linalg.eig(t.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    return plus.T @ (pi / pi.sum())


def copies(edges: np.ndarray, n: int, k: int, coupling: np.ndarray | None = None, directed: bool = False) -> Graph:
    """k disjoint copies of a model; vertex i of copy c is c * n + i."""
    offset = (np.arange(k) * n)[:, None]
    edge_data = None if coupling is None else {"J": np.tile(coupling, k)}
    return Graph(
        (edges[:, 0] + offset).ravel(),
        (edges[:, 1] + offset).ravel(),
        num_vertices=n * k,
        edge_data=edge_data,
        directed=directed,
    )


def per_vertex(estimates: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean over the copies and its standard error, for each vertex of the model."""
    by_copy = estimates.reshape(-1, n)
    return by_copy.mean(0), by_copy.std(0, ddof=1) / np.sqrt(by_copy.shape[0])


@pytest.fixture(scope="module")
def grid_model():
    g = copies(GRID_DIAG, 9, COPIES, J)
    exact = exact_marginals(9, GRID_DIAG, J, H, BETA)
    return g, np.tile(H, COPIES), exact


@pytest.fixture(scope="module")
def chromatic_estimates(grid_model):
    g, h, _ = grid_model
    p, result = gibbs_ising(g, BETA, "J", h, sweeps=SWEEPS, burn_in=BURN_IN, seed=1, return_result=True)
    return p, result


def test_chromatic_sampler_matches_exact_marginals(grid_model, chromatic_estimates):
    g, _, exact = grid_model
    p, result = chromatic_estimates
    assert result.colors == 3 and result.supersteps == SWEEPS
    assert result.field("updates").tolist() == [SWEEPS] * g.num_vertices
    mean, se = per_vertex(p, 9)
    assert np.all(np.abs(mean - exact) < 5 * se), (mean, exact, se)
    # The bound is tight enough to tell this model from the same fields without couplings ...
    no_coupling = 0.5 * (1 + np.tanh(BETA * H))
    assert np.max(np.abs(no_coupling - exact) / se) > 20
    # ... and a sampler that ignores J (exact for its own model) fails it.
    wrong = gibbs_ising(g, BETA, 0.0, grid_model[1], sweeps=SWEEPS, burn_in=BURN_IN, seed=1, engine="sync")
    wrong_mean, wrong_se = per_vertex(wrong, 9)
    assert np.all(np.abs(wrong_mean - no_coupling) < 5 * wrong_se)
    assert np.max(np.abs(wrong_mean - exact) / wrong_se) > 20


def test_synchronous_sampler_is_biased_where_the_graph_has_odd_cycles(grid_model, chromatic_estimates):
    g, h, exact = grid_model
    biased = synchronous_stationary_marginals(9, GRID_DIAG, J, H, BETA)
    assert np.abs(biased - exact).max() > 0.09  # the parallel chain's own law is far from the model
    p_sync = gibbs_ising(g, BETA, "J", h, sweeps=SWEEPS, burn_in=BURN_IN, seed=1, engine="sync")
    p_vertex = gibbs_ising(g, BETA, "J", h, sweeps=SWEEPS, burn_in=BURN_IN, seed=1, consistency="vertex")
    np.testing.assert_array_equal(p_vertex, p_sync)  # one colour: the same chain
    mean, se = per_vertex(p_sync, 9)
    assert np.all(np.abs(mean - biased) < 5 * se)  # it samples its own stationary law ...
    chromatic_mean, _ = per_vertex(chromatic_estimates[0], 9)
    sync_error, chromatic_error = np.abs(mean - exact).max(), np.abs(chromatic_mean - exact).max()
    assert sync_error > 0.07 and sync_error > 5 * chromatic_error  # ... which is the wrong one


def test_synchronous_marginals_are_right_on_a_bipartite_graph_but_not_the_joint():
    # 4-cycle with a pendant, strongly ferromagnetic: the model puts ~6e-6 on the
    # two checkerboards of the cycle; the parallel chain is two interleaved chains
    # that settle on their own, so half the time it alternates between checkerboards.
    edges = np.array([(0, 1), (1, 2), (2, 3), (3, 0), (0, 4)])
    k = 300
    g = copies(edges, 5, k)
    field = np.tile([0.1, 0.0, 0.0, 0.0, 0.0], k)
    share = {}
    for engine in ("chromatic", "sync"):
        _, result = gibbs_ising(g, 1.0, 1.5, field, sweeps=60, burn_in=30, engine=engine, return_result=True)
        s = result.field("spin").reshape(k, 5)
        share[engine] = np.mean((s[:, 0] == s[:, 2]) & (s[:, 1] == s[:, 3]) & (s[:, 0] != s[:, 1]))
    assert share["chromatic"] < 0.02 and share["sync"] > 0.3, share
    # With moderate coupling on the (bipartite) plain 3 x 3 grid the marginals agree.
    grid = GRID_DIAG[:-2]
    coupling = J[:-2]
    exact = exact_marginals(9, grid, coupling, H, BETA)
    p = gibbs_ising(
        copies(grid, 9, COPIES, coupling), BETA, "J", np.tile(H, COPIES), sweeps=200, burn_in=20, engine="sync"
    )
    mean, se = per_vertex(p, 9)
    assert np.all(np.abs(mean - exact) < 5 * se)


@pytest.mark.parametrize("engine", ["chromatic", "sync"])
def test_the_same_draws_on_any_number_of_parts_and_workers(engine):
    g = copies(GRID_DIAG, 9, 6, J)
    h = np.tile(H, 6)
    ref, ref_result = gibbs_ising(g, BETA, "J", h, sweeps=30, burn_in=5, seed=3, engine=engine, return_result=True)
    assert np.unique(ref).size > 5  # not a degenerate run
    for options in ({"partitions": 2}, {"partitions": 3}, {"workers": 2, "backend": "multiprocess"}):
        got, result = gibbs_ising(
            g, BETA, "J", h, sweeps=30, burn_in=5, seed=3, engine=engine, return_result=True, **options
        )
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(result.field("spin"), ref_result.field("spin"))
    other = gibbs_ising(g, BETA, "J", h, sweeps=30, burn_in=5, seed=4, engine=engine)
    assert not np.array_equal(other, ref)  # the seed matters


def test_a_directed_graph_is_one_coupling_per_arc():
    # One arc per edge (directed, gather over all arcs) is the same model as the
    # undirected graph (two arcs per edge, gather over in-arcs): the same draws.
    undirected = copies(GRID_DIAG, 9, 3, J)
    directed = copies(GRID_DIAG, 9, 3, J, directed=True)
    h = np.tile(H, 3)
    a = gibbs_ising(undirected, BETA, "J", h, sweeps=40, burn_in=0)
    b = gibbs_ising(directed, BETA, "J", h, sweeps=40, burn_in=0)
    np.testing.assert_array_equal(a, b)
    # both arcs of a pair in a directed graph are two terms: J/2 each way is J once
    both = Graph(
        np.r_[directed.src, directed.dst],
        np.r_[directed.dst, directed.src],
        num_vertices=27,
        edge_data={"J": np.tile(np.tile(J, 3) / 2, 2)},
    )
    c = gibbs_ising(both, BETA, "J", h, sweeps=40, burn_in=0)
    np.testing.assert_array_equal(c, a)


def test_self_loops_are_a_constant_and_change_nothing():
    g = copies(GRID_DIAG, 9, 2, J)
    loops = Graph(
        np.r_[g.src[: g.num_edges // 2], [0, 5]],
        np.r_[g.dst[: g.num_edges // 2], [0, 5]],
        num_vertices=18,
        edge_data={"J": np.r_[g.edge_data["J"][: g.num_edges // 2], [3.0, -2.0]]},
        directed=False,
    )
    h = np.tile(H, 2)
    np.testing.assert_array_equal(
        gibbs_ising(loops, BETA, "J", h, sweeps=30, burn_in=5), gibbs_ising(g, BETA, "J", h, sweeps=30, burn_in=5)
    )


def test_counter_uniform_is_uniform_and_unrelated_across_counters():
    ids = np.arange(200_000)
    u = counter_uniform(0, ids, 1)
    counts = np.histogram(u, bins=20, range=(0, 1))[0]
    expected = ids.size / 20
    assert ((counts - expected) ** 2 / expected).sum() < 60  # chi-square, 19 dof: p < 1e-5 above 50
    v = counter_uniform(0, ids, 2)
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01 and abs(np.corrcoef(u[1:], u[:-1])[0, 1]) < 0.01
    assert not np.array_equal(counter_uniform(1, ids[:10], 1), u[:10])


def test_zero_temperature_limit_and_program_run_directly():
    # beta = 0: every spin is a fair coin whatever J and h
    g = copies(GRID_DIAG, 9, 50, J)
    p = gibbs_ising(g, 0.0, "J", 5.0, sweeps=200, burn_in=0)
    assert abs(p.mean() - 0.5) < 0.01
    # The program with a per-vertex field runs under run() as well
    r = run(GibbsIsingProgram(beta=50.0, coupling=0.0, field=np.tile(np.sign(H), 50), sweeps=3), g)
    np.testing.assert_array_equal(r.field("spin"), np.tile(np.sign(H), 50).astype(np.int8))
    assert r.field("plus").tolist() == (3 * (np.tile(np.sign(H), 50) > 0)).tolist()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"beta": -1.0}, "beta must be"),
        ({"beta": float("nan")}, "beta must be"),
        ({"coupling": "weight"}, "coupling: no edge field 'weight'"),
        ({"coupling": "bad"}, "coupling: edge field 'bad' must hold"),
        ({"coupling": float("inf")}, "coupling must be"),
        ({"field": [1.0, 2.0]}, r"field must be .* per vertex \(3\)"),
        ({"field": [0.0, np.nan, 0.0]}, "field must be"),
        ({"sweeps": 0}, "sweeps must be an integer >= 1"),
        ({"sweeps": 10, "burn_in": 10}, r"burn_in \(10\) must be smaller than sweeps"),
        ({"burn_in": -1}, "burn_in must be"),
        ({"seed": 1.5}, "seed must be an integer"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    g = Graph([0, 1], [1, 2], directed=False, edge_data={"bad": [1.0, np.nan]})
    with pytest.raises(ValueError, match=message):
        gibbs_ising(g, **kwargs)


def test_max_supersteps_is_refused():
    with pytest.raises(TypeError, match="sweeps"):
        gibbs_ising(Graph([0], [1], directed=False), max_supersteps=3)
