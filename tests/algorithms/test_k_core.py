"""k-core decomposition: identical to networkx.core_number on every engine, part count and worker count."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algorithms.k_core import CoreNumberProgram, CorePeelingProgram, core_number, h_index, simple_arcs
from gasengine import ConvergenceError, Graph, KeyCounts, run
from tests.datasets import load, random_graph

ENGINES = [
    {"engine": "sync", "method": "peeling"},
    {"engine": "sync", "method": "h-index"},
    {"engine": "chromatic"},
    {"engine": "async"},
]
MORE_ENGINES = [
    *ENGINES,
    {"engine": "sync"},  # auto: h-index iterations on graphs this small
    {"engine": "chromatic", "consistency": "vertex"},
    {"engine": "async", "consistency": "vertex"},  # races: stale reads, still monotone
    {"engine": "async", "consistency": "full", "scheduler": "sweep"},
    {"engine": "async", "scheduler": "random", "batch_size": 1},
    {"engine": "async", "scheduler": "priority"},
]


def name_of(options: dict) -> str:
    return "-".join(map(str, options.values()))


def networkx_cores(g: Graph) -> np.ndarray:
    """networkx.core_number on the graph a networkx user builds from the same edges
    (nx.Graph or nx.DiGraph, so parallel edges collapse), self-loops removed (networkx refuses them)."""
    G = nx.Graph() if not g.directed else nx.DiGraph()
    G.add_nodes_from(range(g.num_vertices))
    G.add_edges_from(zip(g.src.tolist(), g.dst.tolist()))
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    cores = nx.core_number(G)
    return np.array([cores[v] for v in range(g.num_vertices)], dtype=np.int64)


# ------------------------------------------------------------------ real graphs
REAL = [
    ("snap/email-Eu-core.txt", False),  # directed, 642 self-loops, reciprocal arcs
    ("snap/CA-GrQc.txt", True),  # undirected with every edge on two lines: parallel edges to collapse, 12 loops
    ("snap/facebook_combined.txt", True),
    ("snap/p2p-Gnutella08.txt", False),
]


@pytest.fixture(scope="module")
def real_graphs() -> dict:
    cache: dict = {}

    def get(name: str, undirected: bool) -> tuple[Graph, np.ndarray]:
        if (name, undirected) not in cache:
            g = load(name, undirected=undirected)
            cache[name, undirected] = g, networkx_cores(g)
        return cache[name, undirected]

    return get


@pytest.mark.parametrize("options", ENGINES, ids=name_of)
@pytest.mark.parametrize("dataset, undirected", REAL, ids=[d.split("/")[1] for d, _ in REAL])
def test_identical_to_networkx_on_real_graphs(real_graphs, dataset, undirected, options):
    g, expected = real_graphs(dataset, undirected)
    core, result = core_number(g, return_result=True, **options)
    assert core.dtype == np.int64 and result.converged
    np.testing.assert_array_equal(core, expected)


@pytest.mark.parametrize("dataset", ["snap/email-Eu-core.txt", "snap/p2p-Gnutella08.txt"])
def test_directed_graphs_symmetrised_by_to_undirected(real_graphs, dataset):
    g, _ = real_graphs(dataset, False)
    und = g.to_undirected()
    np.testing.assert_array_equal(core_number(und), networkx_cores(und))


def test_an_undirected_dataset_loaded_either_way(real_graphs):
    _und, expected = real_graphs("snap/CA-GrQc.txt", True)
    arcs = load("snap/CA-GrQc.txt")  # directed: every edge is a reciprocal pair of arcs
    np.testing.assert_array_equal(core_number(arcs.to_undirected()), expected)
    # networkx's directed definition counts a reciprocated neighbour twice: every core number doubles
    np.testing.assert_array_equal(core_number(arcs), 2 * expected)
    np.testing.assert_array_equal(core_number(arcs), networkx_cores(arcs))


@pytest.mark.parametrize("method", ["peeling", "h-index"])
@pytest.mark.parametrize(
    "options", [{"partitions": 2}, {"partitions": 3}, {"partitions": 3, "workers": 2}], ids=name_of
)
def test_same_answer_on_any_number_of_parts_and_workers(real_graphs, options, method):
    g, expected = real_graphs("snap/email-Eu-core.txt", False)
    np.testing.assert_array_equal(core_number(g, method=method, **options), expected)


@pytest.mark.parametrize(
    "options",
    [{"engine": "chromatic", "partitions": 2, "workers": 2}, {"engine": "async", "partitions": 3, "workers": 2}],
    ids=name_of,
)
def test_other_engines_with_two_workers(real_graphs, options):
    g, expected = real_graphs("snap/p2p-Gnutella08.txt", False)
    np.testing.assert_array_equal(core_number(g, **options), expected)


def test_only_vertices_whose_value_dropped_run_again(real_graphs):
    g, expected = real_graphs("snap/facebook_combined.txt", True)
    _, result = core_number(g, method="h-index", return_result=True)
    active = result.steps.column("active")
    assert active[0] == g.num_vertices and active[-1] < g.num_vertices // 10
    assert active.sum() < result.supersteps * g.num_vertices * 0.7  # not every vertex every step
    assert result.supersteps < expected.max()  # far fewer steps than peeling's levels (max core 115)


def test_peeling_does_linear_work(real_graphs):
    """Each vertex decides a few times (its bucket, the removals next to it), never once per level."""
    g, expected = real_graphs("snap/facebook_combined.txt", True)
    core, result = core_number(g, method="peeling", return_result=True)
    np.testing.assert_array_equal(core, expected)
    updates = int(result.steps.column("updates").sum())
    edges = simple_arcs(g).num_edges
    assert updates <= 2 * edges + 2 * g.num_vertices  # at most a removal per arc end, and a wait per vertex
    assert len(np.unique(expected)) <= result.supersteps < g.num_vertices // 4  # a step per level and cascade


# ------------------------------------------------------------------ random graphs
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 40),
    m=st.integers(0, 160),
    seed=st.integers(0, 2**16),
    directed=st.booleans(),
    options=st.sampled_from(MORE_ENGINES),
    partitions=st.sampled_from([1, 2, 3]),
)
def test_identical_to_networkx_on_random_multigraphs(n, m, seed, directed, options, partitions):
    # random_graph: parallel edges, reciprocal arcs, self-loops and isolated vertices
    g = random_graph(n, m, seed)
    if not directed:
        g = Graph(g.src, g.dst, num_vertices=n, directed=False)
    np.testing.assert_array_equal(core_number(g, partitions=partitions, **options), networkx_cores(g))


def test_dense_random_graph_with_every_engine_and_part_count():
    g = Graph.from_networkx(nx.gnm_random_graph(300, 4000, seed=0))
    expected = networkx_cores(g)
    for options in MORE_ENGINES:
        # full consistency and batches of one run about one update per round here: keep them to one part
        for partitions in (
            (1, 2, 3) if options.get("batch_size") != 1 and options.get("consistency") != "full" else (1,)
        ):
            np.testing.assert_array_equal(
                core_number(g, partitions=partitions, **options), expected, err_msg=f"{options} partitions={partitions}"
            )


@pytest.mark.parametrize("method", ["peeling", "h-index"])
def test_two_workers_on_a_random_graph(method):
    g = random_graph(500, 3000, seed=7)
    np.testing.assert_array_equal(core_number(g, method=method, workers=2), networkx_cores(g))


def test_auto_peels_big_graphs_on_the_sync_engine(monkeypatch):
    from algorithms import k_core

    g = random_graph(300, 2000, seed=1)
    fields = lambda **options: set(core_number(g, return_result=True, **options)[1].vertex_data)  # noqa: E731
    assert "lost" not in fields()  # small: h-index iterations
    monkeypatch.setattr(k_core, "PEELING_FROM_EDGES", 1000)
    assert "lost" in fields()  # big enough: peeling
    assert "lost" not in fields(engine="async")  # peeling needs the sync engine's buckets
    np.testing.assert_array_equal(core_number(g), networkx_cores(g))


# ------------------------------------------------------------------ the program and its helpers
def test_program_on_an_undirected_simple_graph_directly():
    G = nx.karate_club_graph()
    g = Graph.from_networkx(G)
    assert not g.directed
    core = run(CoreNumberProgram(directed=False), g).field("core")
    np.testing.assert_array_equal(core, networkx_cores(g))


def multigraph_cores(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Reference peeling with multiplicities (degree counts parallel edges), no self-loops."""
    adj = np.zeros((n, n), dtype=np.int64)
    np.add.at(adj, (src, dst), 1)
    adj = adj + adj.T
    alive = np.ones(n, dtype=bool)
    core = np.zeros(n, dtype=np.int64)
    k = 0
    while alive.any():
        degree = adj[:, alive].sum(axis=1)
        low = alive & (degree <= k)
        if low.any():
            core[low] = k
            alive &= ~low
        else:
            k += 1
    return core


@pytest.mark.parametrize("seed", range(5))
def test_program_on_a_multigraph_gives_multigraph_cores(seed):
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, 15, 60), rng.integers(0, 15, 60)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    g = Graph(src, dst, num_vertices=15)
    core = run(CoreNumberProgram(), g, engine="async").field("core")
    np.testing.assert_array_equal(core, multigraph_cores(15, src, dst))
    peeled = run(CorePeelingProgram(), g, partitions=1 + seed % 3).field("core")
    np.testing.assert_array_equal(peeled, multigraph_cores(15, src, dst))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(-2, 30), max_size=25), min_size=1, max_size=8))
def test_h_index_is_the_definition(values):
    rows = np.repeat(np.arange(len(values)), [len(v) for v in values])
    keys = np.array([x for v in values for x in v], dtype=np.int64)
    counts = KeyCounts.from_pairs(rows, keys, None, len(values))
    expected = [max([h for h in range(len(v) + 1) if sum(x >= h for x in v) >= h]) for v in values]
    assert h_index(counts).tolist() == expected


def test_h_index_with_weights_and_bad_weights():
    counts = KeyCounts.from_pairs(np.array([0, 0, 1]), np.array([4, 1, 7]), np.array([3, 5, 2]), 2)
    assert h_index(counts).tolist() == [3, 2]  # row 0: 4,4,4,1,1,1,1,1; row 1: 7,7
    floats = KeyCounts.from_pairs(np.array([0]), np.array([4]), np.array([0.5]), 1)
    with pytest.raises(TypeError, match="integer weights"):
        h_index(floats)


def test_simple_arcs_collapses_and_keeps_ids():
    g = Graph([0, 1, 1, 2, 2], [1, 0, 1, 0, 0], ids=[10, 20, 30], directed=False)
    s = simple_arcs(g)
    assert s.directed and s.num_vertices == 3 and s.ids.tolist() == [10, 20, 30]
    assert sorted(zip(s.src.tolist(), s.dst.tolist())) == [(0, 1), (0, 2)]
    d = simple_arcs(Graph([0, 1, 0, 2], [1, 0, 1, 2]))
    assert sorted(zip(d.src.tolist(), d.dst.tolist())) == [(0, 1), (1, 0)]


def test_results_by_original_id():
    g = Graph.from_networkx(nx.relabel_nodes(nx.complete_graph(4), {i: f"v{i}" for i in range(4)}))
    _, result = core_number(g, return_result=True)
    assert result.field("core", by_id=True) == {"v0": 3, "v1": 3, "v2": 3, "v3": 3}


# ------------------------------------------------------------------ edge cases and bad input
def test_empty_and_edgeless_graphs():
    assert core_number(Graph([], [], num_vertices=0)).tolist() == []
    assert core_number(Graph([], [], num_vertices=3)).tolist() == [0, 0, 0]
    assert core_number(Graph([0, 1], [0, 1], num_vertices=3, directed=False)).tolist() == [0, 0, 0]  # loops only


def test_not_a_graph_is_a_clear_error():
    with pytest.raises(TypeError, match=r"expected a gasengine.Graph, got Graph .*from_networkx"):
        core_number(nx.path_graph(3))
    with pytest.raises(TypeError, match="got ndarray"):
        core_number(np.array([[0, 1]]))


def test_a_stopped_run_says_so():
    g = Graph.from_networkx(nx.gnm_random_graph(100, 600, seed=3))
    with pytest.raises(ConvergenceError, match=r"did not converge within 1 supersteps .core values") as info:
        core_number(g, method="h-index", max_supersteps=1)
    partial = info.value.result.field("core")
    assert (partial >= networkx_cores(g)).all()  # an upper bound on the way down


def test_a_stopped_peeling_keeps_the_levels_it_finished():
    g = Graph.from_networkx(nx.gnm_random_graph(100, 600, seed=3))
    expected = networkx_cores(g)
    with pytest.raises(ConvergenceError, match=r"did not converge within 8 supersteps .vertices were still") as info:
        core_number(g, method="peeling", max_supersteps=8)
    partial = info.value.result.field("core")
    done = partial >= 0
    assert done.any() and not done.all()
    np.testing.assert_array_equal(partial[done], expected[done])  # removed: final
    assert expected[~done].min() >= partial[done].max()  # the rest come at the same level or later


def test_unknown_or_unfit_method_is_refused():
    g = Graph([0], [1])
    with pytest.raises(ValueError, match=r"unknown method 'peel' \(did you mean 'peeling'\?\)"):
        core_number(g, method="peel")
    with pytest.raises(ValueError, match="method='peeling' needs engine='sync'"):
        core_number(g, method="peeling", engine="async")


def test_unknown_engine_option_is_refused():
    with pytest.raises((TypeError, ValueError)):
        core_number(Graph([0], [1]), engine="nope")


def test_a_drop_signals_only_the_neighbours_it_stopped_supporting():
    """The selective scatter gives the same cores as signalling every neighbour, for far fewer updates."""
    from gasengine import EdgeView

    class SignalAll(CoreNumberProgram):
        def scatter(self, e: EdgeView) -> np.ndarray:
            return np.ones(len(e), dtype=bool)

    simple = simple_arcs(load("snap/CA-GrQc.txt"))
    few, many = run(CoreNumberProgram(), simple), run(SignalAll(), simple)
    assert np.array_equal(few.field("core"), many.field("core"))
    assert few.steps.column("updates").sum() * 2 < many.steps.column("updates").sum()
