"""Semantics of the synchronous engine, independent of the number of parts."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gasengine import ALL, IN, OUT, Aggregator, Graph, VertexProgram, run
from partitioning import partition
from tests.datasets import WeightedOutSum, random_graph


class NeighbourSum(VertexProgram):
    """Sums in-neighbours' vectors (trailing shape (3,)) through a general gather."""

    gather_edges = IN

    def init(self, v):
        v.data["vec"] = np.stack([v.ids, v.ids * 2.0, np.ones(len(v))], axis=1).astype(np.float64)

    def gather(self, e):
        return e.nbr_data["vec"] * e.data["weight"][:, None]

    def apply(self, v, acc):
        v.data["vec"] = acc


class OuterProducts(VertexProgram):
    """Gathers k-by-k matrices, like ALS does."""

    gather_edges = ALL

    def init(self, v):
        v.data["f"] = np.stack([np.cos(v.ids), np.sin(v.ids)], axis=1)
        v.data["gram"] = np.zeros((len(v), 2, 2))

    def gather(self, e):
        f = e.nbr_data["f"]
        return f[:, :, None] * f[:, None, :]

    def apply(self, v, acc):
        v.data["gram"] = acc


def dense_reference_vec(g: Graph) -> np.ndarray:
    ids = np.arange(g.num_vertices, dtype=np.float64)
    vec = np.stack([ids, ids * 2, np.ones_like(ids)], axis=1)
    out = np.zeros_like(vec)
    np.add.at(out, g.dst, vec[g.src] * g.edge_data["weight"][:, None])
    return out


@pytest.mark.parametrize("parts", [1, 2, 3, 4, 7])
def test_vector_gather_matches_dense_reference(parts):
    g = random_graph(60, 300, seed=1, weighted=True)
    r = run(NeighbourSum(), g, partitions=parts, max_supersteps=1)
    np.testing.assert_allclose(r.field("vec"), dense_reference_vec(g), rtol=1e-12)


def test_matrix_valued_gather_over_all_edges():
    g = random_graph(40, 150, seed=2)
    r = run(OuterProducts(), g, partitions=3, max_supersteps=1)
    f = np.stack([np.cos(np.arange(40)), np.sin(np.arange(40))], axis=1)
    want = np.zeros((40, 2, 2))
    outer = f[:, :, None] * f[:, None, :]
    np.add.at(want, g.dst, outer[g.src])  # IN edges: neighbour is src
    np.add.at(want, g.src, outer[g.dst])  # OUT edges: neighbour is dst
    np.testing.assert_allclose(r.field("gram"), want, rtol=1e-12, atol=1e-12)


def test_small_chunks_give_the_same_answer():
    g = random_graph(50, 5000, seed=3, weighted=True)
    big = run(NeighbourSum(), g, partitions=2, max_supersteps=1)
    tiny = run(NeighbourSum(), g, partitions=2, max_supersteps=1, chunk_bytes=1)  # 1024-edge chunks
    np.testing.assert_allclose(tiny.field("vec"), big.field("vec"), rtol=1e-12)


class MinLabel(VertexProgram):
    """Min-label propagation with a general (per-edge) gather and scatter."""

    gather_edges = ALL
    scatter_edges = ALL
    combine = np.minimum

    def init(self, v):
        v.data["label"] = v.ids.astype(np.int64)

    def gather(self, e):
        return e.nbr_data["label"]

    def apply(self, v, acc):
        old = v.data["label"]
        v.data["label"] = np.minimum(old, acc)
        return v.data["label"] < old

    def scatter(self, e):
        return e.nbr_data["label"] > e.vertex_data["label"]


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 40),
    edges=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=80),
    parts=st.integers(1, 6),
)
def test_min_label_equals_networkx_components_for_any_p(n, edges, parts):
    edges = [(u % n, v % n) for u, v in edges]
    src = np.array([u for u, _ in edges], dtype=np.int64)
    dst = np.array([v for _, v in edges], dtype=np.int64)
    g = Graph(src, dst, num_vertices=n)
    labels = run(MinLabel(), g, partitions=parts).field("label")
    G = nx.Graph()
    G.add_nodes_from(range(n))
    G.add_edges_from(edges)
    want = np.empty(n, dtype=np.int64)
    for comp in nx.connected_components(G):
        want[list(comp)] = min(comp)
    np.testing.assert_array_equal(labels, want)


def test_results_do_not_depend_on_p_or_strategy_seed():
    g = random_graph(200, 1500, seed=4)
    base = run(MinLabel(), g, partitions=1)
    for parts, seed in [(2, 0), (4, 1), (5, 2)]:
        r = run(MinLabel(), g, partitions=parts, seed=seed)
        np.testing.assert_array_equal(r.field("label"), base.field("label"))
        assert r.supersteps == base.supersteps
        assert r.steps.column("updates").tolist() == base.steps.column("updates").tolist()


class Counter(VertexProgram):
    """Counts supersteps in a field; stays active by signalling itself."""

    def init(self, v):
        v.data["n"] = np.zeros(len(v), dtype=np.int64)

    def apply(self, v, acc):
        assert acc is None  # gather_edges is NONE
        v.data["n"] = v.data["n"] + 1
        v.signal()


def test_max_supersteps_stops_and_reports_not_converged():
    r = run(Counter(), random_graph(10, 20, seed=5), max_supersteps=4)
    assert r.supersteps == 4 and not r.converged
    assert r.field("n").tolist() == [4] * 10


def test_no_signal_means_one_superstep_and_converged():
    class Once(Counter):
        def apply(self, v, acc):
            v.data["n"] = v.data["n"] + 1

    r = run(Once(), random_graph(10, 20, seed=5), partitions=3)
    assert r.supersteps == 1 and r.converged


def test_aggregator_every_k_and_converged_hook():
    class Stop(Counter):
        def converged(self, g):
            return g["total"] >= 30

    total = Aggregator("total", lambda v: v.data["n"], every=1)
    biggest = Aggregator("biggest", lambda v: v.data["n"], combine=np.maximum, every=2, finalize=float)
    r = run(Stop(), random_graph(10, 20, seed=6), partitions=2, aggregators=[total, biggest])
    assert r.supersteps == 3 and r.converged  # totals 10, 20, 30
    assert r.aggregates["total"] == 30
    assert r.aggregates["biggest"] == 2.0  # last ran after superstep 2


def test_aggregator_value_visible_in_apply():
    class UsesGlobal(Counter):
        def apply(self, v, acc):
            v.data["n"] = np.full(len(v), v.globals["count"])

    count = Aggregator("count", lambda v: np.ones(len(v), dtype=np.int64))
    r = run(UsesGlobal(), random_graph(13, 30, seed=7), partitions=4, aggregators=[count])
    assert r.field("n").tolist() == [13] * 13


def test_vector_aggregator():
    agg = Aggregator("colsum", lambda v: np.stack([v.ids, np.ones(len(v))], axis=1).astype(float))
    r = run(Counter(), random_graph(6, 10, seed=8), partitions=2, max_supersteps=1, aggregators=[agg])
    assert r.aggregates["colsum"].tolist() == [15.0, 6.0]


class EdgeMark(VertexProgram):
    """Scatter writes an edge field; signals nobody."""

    scatter_edges = OUT

    def init_edges(self, e):
        e.data["seen"] = np.zeros(len(e), dtype=np.int64)

    def apply(self, v, acc):
        return v.ids % 2 == 0  # only even vertices scatter

    def scatter(self, e):
        e.data["seen"] = e.data["seen"] + e.src + 1


@pytest.mark.parametrize("parts", [1, 3])
def test_scatter_writes_edge_fields_of_scattering_vertices_only(parts):
    g = random_graph(30, 120, seed=9)
    r = run(EdgeMark(), g, partitions=parts)
    want = np.where(g.src % 2 == 0, g.src + 1, 0)
    np.testing.assert_array_equal(r.edge_data["seen"], want)


def test_initial_active_set_and_signals():
    # a path 0->1->2->3; push a token from 0 along out-edges
    class Token(VertexProgram):
        scatter_edges = OUT

        def init(self, v):
            v.data["hit"] = np.zeros(len(v), dtype=np.int64)

        def apply(self, v, acc):
            v.data["hit"] = v.data["hit"] + 1

        def scatter(self, e):
            return np.ones(len(e), dtype=bool)

    g = Graph([0, 1, 2], [1, 2, 3], num_vertices=5)
    r = run(Token(), g, active=[0], partitions=2)
    assert r.field("hit").tolist() == [1, 1, 1, 1, 0]
    assert r.supersteps == 4
    assert r.steps.column("active").tolist() == [1, 1, 1, 1]


def test_bytes_exchanged_zero_for_one_part_and_grow_with_replication():
    g = random_graph(300, 3000, seed=10, weighted=True)
    one = run(NeighbourSum(), g, partitions=1, max_supersteps=1)
    assert one.steps[0].bytes_exchanged == 0
    cut = partition(g, 4, "random")
    four = run(NeighbourSum(), g, partition=cut, max_supersteps=1)
    mirrors = int((cut.num_replicas - 1).sum())
    # partial accumulators (3 floats) up and new values (3 floats) down, for
    # every mirror (all active: no positions sent); no signal round, since the
    # program never scatters, and an empty activity round: nothing stays active
    assert four.steps[0].bytes_exchanged == mirrors * (24 + 24)


def test_precomputed_assignment_array_and_npz(tmp_path):
    g = random_graph(50, 200, seed=11)
    assignment = (np.arange(g.num_edges) % 3).astype(np.int32)
    a = run(MinLabel(), g, partition=assignment)
    path = tmp_path / "cut.npz"
    np.savez(path, edge_part=assignment)
    b = run(MinLabel(), g, partition=str(path))
    assert a.num_parts == b.num_parts == 3
    np.testing.assert_array_equal(a.field("label"), b.field("label"))
    with pytest.raises(ValueError, match="one part per edge"):
        run(MinLabel(), g, partition=assignment[:-1])


def test_result_by_original_id_and_networkx_export():
    g = Graph([0, 1], [1, 2], ids=np.array([10, 20, 30]))
    r = run(MinLabel(), g)
    assert r.field("label", by_id=True) == {10: 0, 20: 0, 30: 0}
    G = r.to_networkx()
    assert set(G.nodes) == {10, 20, 30}
    assert G.nodes[30]["label"] == 0


def test_step_table_prints_and_converts():
    r = run(MinLabel(), random_graph(20, 40, seed=12), partitions=2)
    text = str(r.steps)
    assert "active" in text and len(text.splitlines()) == r.supersteps + 1
    df = r.steps.to_pandas()
    assert list(df["superstep"]) == list(range(1, r.supersteps + 1))
    assert "supersteps" in r.steps.summary()


def test_empty_graph_runs():
    r = run(MinLabel(), Graph([], [], num_vertices=0))
    assert r.supersteps == 0 and r.converged
    r = run(MinLabel(), Graph([], [], num_vertices=3), partitions=2)
    assert r.field("label").tolist() == [0, 1, 2]


def test_input_graph_is_not_modified():
    g = random_graph(20, 50, seed=13, weighted=True)
    before = g.edge_data["weight"].copy()
    run(EdgeMark(), g, partitions=2)
    run(MinLabel(), g)
    assert "label" not in g.vertex_data and "seen" not in g.edge_data
    np.testing.assert_array_equal(g.edge_data["weight"], before)


def test_bytes_exchanged_follow_replication_factor():
    """PowerGraph's point: the cut decides the traffic.  HDRF replicates less than random."""
    from algorithms import pagerank
    from tests.datasets import load

    g = load("snap/Wiki-Vote.txt")
    traffic = {}
    for strategy in ("random", "hdrf"):
        cut = partition(g, 8, strategy)
        _, result = pagerank(g, partition=cut, return_result=True)
        per_step = result.steps.column("bytes_exchanged")
        assert np.all(per_step == per_step[0])  # all-active supersteps move the same bytes
        traffic[strategy] = (per_step[0], cut.replication_factor)
        # per mirror: the partial sum up (8 bytes) and the rank apply assigns down
        # (its change is one of master_fields: it stays at the master); every
        # vertex stays active, which the activity round says without a byte per
        # vertex (PageRank never scatters)
        assert per_step[0] == int((cut.num_replicas - 1).sum()) * (8 + 8)
    assert traffic["hdrf"][1] < traffic["random"][1]
    assert traffic["hdrf"][0] < traffic["random"][0]


def test_gather_sees_edge_weights_written_by_scatter():
    """Scatter rewrites the weight field the sparse gather multiplies by."""

    class Reweight(VertexProgram):
        gather_edges = IN
        scatter_edges = OUT
        gather_edge_field = "w"

        def init(self, v):
            v.data["x"] = np.ones(len(v))

        def gather_nbr(self, u):
            return u.data["x"]

        def apply(self, v, acc):
            v.data["x"] = acc
            v.signal(v.superstep < 2)

        def scatter(self, e):
            e.data["w"] = e.data["w"] * 10.0

    g = Graph([0, 1, 2], [1, 2, 0], edge_data={"w": [1.0, 2.0, 3.0]})
    for parts in (1, 2):
        r = run(Reweight(), g, partitions=parts)
        # step 1: x = w (1, 2, 3 into 1, 2, 0) -> x = [3, 1, 2]; weights become 10x
        # step 2: x[dst] = 10 * w * x[src] -> x = [30*2, 10*3, 20*1]
        assert r.field("x").tolist() == [60.0, 30.0, 20.0]
        assert r.edge_data["w"].tolist() == [100.0, 200.0, 300.0]


# ----------------------------------------------------------- engine self-checks
class InSum(VertexProgram):
    """Sums in-neighbours' values once."""

    gather_edges = IN

    def init(self, v):
        v.data["x"] = v.ids.astype(np.float64) + 1

    def gather(self, e):
        return e.nbr_data["x"]

    def apply(self, v, acc):
        v.data["x"] = acc


def engine_with_mirror(debug: bool):
    """A SyncEngine on 3 parts of a small graph, half the vertices active, and one
    ``(part, mirror local index, master part)`` whose vertex is active and has in-edges there."""
    from gasengine.backends import LocalBackend
    from gasengine.execution import initial_fields, make_cut
    from gasengine.parts import build_parts
    from gasengine.sync_engine import SyncEngine

    g = random_graph(40, 200, seed=5)
    program = InSum()
    vf, ef = initial_fields(program, g)
    cut = make_cut(g, "random", 3, seed=0)
    parts = build_parts(g, cut, vf, ef)
    start = np.arange(g.num_vertices) % 2 == 0
    active = {p.index: start[p.gid] for p in parts}
    engine = SyncEngine(
        program, parts, np.zeros(3, dtype=np.int64), LocalBackend(), g.num_vertices, (), active, debug=debug
    )
    for part in parts:
        indeg = np.bincount(part.edst, minlength=part.num_local)
        for q, idx in part.send.items():
            on = idx[active[part.index][idx] & (indeg[idx] > 0)]
            off = idx[~active[part.index][idx]]
            if on.size and off.size:
                return engine, part.index, int(on[0]), int(off[0]), q
    raise AssertionError("no suitable mirror")


def set_active(engine, p: int, local: int, value: bool) -> None:
    """Make part ``p`` believe vertex ``local`` is (in)active, whatever its master thinks."""
    from gasengine.frontier import Frontier

    mask = engine.active[p].mask().copy()
    mask[local] = value
    engine.active[p] = Frontier.of_mask(mask)


@pytest.mark.parametrize("debug", [False, True])
def test_a_mirror_that_disagrees_on_the_active_set_is_an_engine_error(debug):
    from gasengine import EngineError

    engine, p, on, _, q = engine_with_mirror(debug)
    set_active(engine, p, on, False)  # this mirror now thinks its vertex is inactive; the master does not
    with pytest.raises(
        EngineError,
        match=rf"superstep 1, partials -> masters \(part {p} -> part {q}\): .* expected, not sent.*disagree",
    ):
        engine.superstep(engine.count_active())


def test_a_disagreement_with_equal_counts_is_caught_too():
    # Swapping which mirror is active keeps every count right; the check compares the subsets.
    from gasengine import EngineError

    engine, p, on, off, q = engine_with_mirror(debug=False)
    set_active(engine, p, on, False)
    set_active(engine, p, off, True)
    with pytest.raises(
        EngineError,
        match=rf"part {p} -> part {q}\): part {p} sent values for \d+ of their \d+ shared vertices, "
        rf"but part {q} expected .*first difference",
    ):
        engine.superstep(engine.count_active())


def test_debug_mode_catches_shared_lists_that_differ():
    # Messages carry no vertex ids: if the two ends' lists differ, only debug mode can tell.
    from gasengine import EngineError

    engine, p, _on, _off, q = engine_with_mirror(debug=True)
    part = engine.parts[p]
    shared = part.send[q]
    others = np.setdiff1d(np.arange(part.num_masters, part.num_local), shared)
    k = int(np.searchsorted(shared, others[0]))  # put another mirror in its sorted place
    shared[min(k, shared.size - 1)] = others[0]
    shared.sort()
    from gasengine.frontier import Frontier

    engine.active = {i: Frontier.everything(pt.num_local) for i, pt in engine.parts.items()}  # subsets agree
    with pytest.raises(EngineError, match=r"the shared vertex lists differ"):
        for _ in range(3):
            engine.superstep(engine.count_active())


def test_debug_mode_compares_mirrors_with_masters():
    from gasengine import EngineError

    engine, p, on, _, _q = engine_with_mirror(debug=True)
    engine.superstep(engine.count_active())
    part = engine.parts[p]
    x = part.vdata["x"].copy()
    x[on] += 1  # a stale mirror
    part.vdata["x"] = x
    with pytest.raises(
        EngineError, match=rf"replica check: field 'x' of vertex {int(part.gid[on])} .* mirror in part {p}"
    ):
        engine.superstep(engine.count_active())


def test_debug_mode_gives_the_same_answers_and_statistics():
    g = random_graph(80, 400, seed=8)
    plain = run(MinLabel(), g, partitions=3)
    checked = run(MinLabel(), g, partitions=3, debug=True)
    np.testing.assert_array_equal(plain.field("label"), checked.field("label"))
    assert plain.steps.column("bytes_exchanged").tolist() == checked.steps.column("bytes_exchanged").tolist()


# ------------------------------------------------------------ degenerate cuts
class NeighbourVectors(VertexProgram):
    """A neighbour-only gather of vectors (shape (2,)) and matrices (shape (2, 2))."""

    gather_edges = IN

    def init(self, v):
        v.data["vec"] = np.stack([v.ids, np.ones(len(v))], axis=1).astype(np.float64)
        v.data["mat"] = np.zeros((len(v), 2, 2))

    def gather_nbr(self, u):
        return u.data["vec"]

    def apply(self, v, acc):
        v.data["vec"] = acc
        v.data["mat"] = acc[:, :, None] * acc[:, None, :]


def test_vector_nbr_gather_on_parts_without_edges():
    # A 40-vertex path has 39 edges: with 40 parts at least one part is empty.
    path = Graph(np.arange(39), np.arange(1, 40))
    one = run(NeighbourVectors(), path)
    many = run(NeighbourVectors(), path, partitions=40)
    np.testing.assert_array_equal(many.field("vec"), one.field("vec"))
    np.testing.assert_array_equal(many.field("mat"), one.field("mat"))
    expected = np.zeros((40, 2))
    expected[1:, 0] = np.arange(39)  # one superstep (nothing signals): vertex i holds vertex i-1's
    expected[1:, 1] = 1.0
    np.testing.assert_array_equal(one.field("vec"), expected)


def test_many_more_parts_than_edges_costs_no_p_squared_table():
    from algorithms import connected_components

    ring = Graph([0, 1, 2, 3], [1, 2, 3, 0])
    labels, result = connected_components(ring, partitions=3000, return_result=True)
    assert labels.tolist() == [0, 0, 0, 0] and result.num_parts == 3000


def test_a_run_that_cannot_fit_is_refused_before_allocating(monkeypatch):
    from partitioning.memory import InsufficientMemoryError

    monkeypatch.setenv("GASENGINE_MEMORY_LIMIT", str(64 << 20))
    ring = Graph([0, 1, 2, 3], [1, 2, 3, 0])
    huge = np.array([0, 0, 0, 5_000_000], dtype=np.int64)  # names part 5,000,000
    with pytest.raises(
        InsufficientMemoryError,
        match=r"a run on 5000001 parts of this graph needs about .* more than the 64.0 MiB available",
    ):
        run(MinLabel(), ring, partition=huge)


# ------------------------------------------------------------ partition files
def test_partition_files_are_recognised_by_content(tmp_path):
    g = random_graph(50, 200, seed=11)
    assignment = (np.arange(g.num_edges) % 3).astype(np.int32)
    upper = tmp_path / "cut.NPZ"
    with open(upper, "wb") as f:
        np.savez(f, edge_part=assignment, num_parts=np.int64(5))
    r = run(MinLabel(), g, partition=str(upper))
    assert r.num_parts == 5  # the stored count, though the last two parts are empty
    with pytest.raises(ValueError, match=r"cut\.NPZ has 5 parts but partitions=7 was asked for"):
        run(MinLabel(), g, partition=str(upper), partitions=7)
    text = tmp_path / "text.npz"
    text.write_text("0 1\n1 2\n")
    with pytest.raises(ValueError, match=r"text\.npz: not an \.npz archive"):
        run(MinLabel(), g, partition=str(text))
    with pytest.raises(FileNotFoundError, match="no such partition file"):
        run(MinLabel(), g, partition=str(tmp_path / "missing.npz"))


def test_an_assignment_array_and_partitions_must_agree():
    g = random_graph(30, 90, seed=2)
    assignment = (np.arange(g.num_edges) % 3).astype(np.int8)
    assert run(MinLabel(), g, partition=assignment, partitions=6).num_parts == 6  # parts 3..5 empty
    with pytest.raises(ValueError, match=r"names part 2, but there are only 2 parts"):
        run(MinLabel(), g, partition=assignment, partitions=2)
    cut = partition(g, 4, "random")
    with pytest.raises(ValueError, match=r"VertexCut has 4 parts but partitions=3"):
        run(MinLabel(), g, partition=cut, partitions=3)


def test_debug_mode_reaches_worker_processes(monkeypatch, tmp_path):
    # debug=True must reach the workers, not only the environment variable;
    # forked workers inherit the spy, which leaves a file per check it sees.
    from gasengine import sync_engine

    monkeypatch.delenv("GASENGINE_DEBUG", raising=False)
    original = sync_engine.SyncEngine.check_replicas

    def spy(self):
        (tmp_path / f"rank{self.backend.rank}-step{self.step}").touch()
        return original(self)

    monkeypatch.setattr(sync_engine.SyncEngine, "check_replicas", spy)
    g = random_graph(40, 160, seed=4)
    result = run(MinLabel(), g, workers=2, debug=True)
    assert {f"rank{r}-step{s}" for r in (0, 1) for s in range(1, result.supersteps + 1)} == {
        p.name for p in tmp_path.iterdir()
    }
    for p in tmp_path.iterdir():
        p.unlink()
    run(MinLabel(), g, workers=2)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "options", [dict(), dict(workers=2), dict(engine="chromatic"), dict(engine="async", batch_size=64)]
)
def test_every_aggregate_value_is_kept_in_the_history(options):
    from gasengine import Aggregator

    total = Aggregator("total", lambda v: v.data["x"], every=2)

    class Count(VertexProgram):
        def init(self, v):
            v.data["x"] = np.zeros(len(v), dtype=np.int64)

        def apply(self, v, acc):
            v.data["x"] = v.data["x"] + 1
            v.signal()

    g = Graph([0, 1, 2], [1, 2, 3])
    r = run(Count(), g, aggregators=[total], max_supersteps=5, **options)
    steps = [s for s, _ in r.history["total"]]
    assert steps == [0, 2, 4] and r.history["total"][-1][1] == r.aggregates["total"]
    if options.get("engine") != "async":  # every vertex runs once per step
        assert [value for _, value in r.history["total"]] == [0, 8, 16]


@pytest.mark.parametrize("options", [dict(), dict(partitions=3), dict(workers=2, partitions=3)])
def test_edge_aggregators_fold_every_edge_once_and_globals_say_where_the_run_is(options):
    from gasengine import Aggregator

    g = random_graph(50, 300, seed=12)
    w = np.arange(g.num_edges, dtype=np.float64)
    g = Graph.from_arcs(g.src, g.dst, g.num_vertices, edge_data={"w": w})
    weights = Aggregator("w", lambda e: e.data["w"] * (e.src_data["x"] + 1), over="edges")
    seen = []

    class Steps(VertexProgram):
        def init(self, v):
            v.data["x"] = np.zeros(len(v))

        def apply(self, v, acc):
            v.data["x"] = v.data["x"] + 1
            v.signal()

        def converged(self, globals):
            seen.append((globals.step, globals.num_vertices))
            return globals.step == 3  # stop on the step count, kept by the engine, not by the program

    r = run(Steps(), g, aggregators=[weights], **options)
    assert r.supersteps == 3 and r.history["w"][-1][1] == pytest.approx(w.sum() * 4)
    assert [v for _, v in r.history["w"]] == pytest.approx([w.sum() * k for k in (1, 2, 3, 4)])
    if "workers" not in options:
        assert seen == [(1, 50), (2, 50), (3, 50)]


def test_an_edge_aggregator_map_of_the_wrong_shape_is_named():
    from gasengine import Aggregator, ProgramError

    bad = Aggregator("bad", lambda e: np.ones(3), over="edges")
    with pytest.raises(ProgramError, match=r"Aggregator\[bad\]\.map"):
        run(VertexProgram(), random_graph(10, 30, seed=1), aggregators=[bad])
    with pytest.raises(ValueError, match="over must be 'vertices' or 'edges'"):
        Aggregator("x", lambda v: v.ids, over="vertex")


@pytest.mark.parametrize("options", [dict(), dict(partitions=3), dict(workers=2, partitions=3)])
def test_keyed_aggregators_fold_per_key_and_finalize_sees_the_previous_value(options):
    from gasengine import Aggregator

    g = random_graph(60, 200, seed=13)
    labels = np.arange(60) % 4
    g = Graph.from_arcs(g.src, g.dst, 60, vertex_data={"label": labels, "w": np.arange(60.0)})
    calls = []

    def running_total(value, previous):  # the previous value arrives as the second argument
        calls.append(previous is None)
        return value if previous is None else value + previous

    sizes = Aggregator("sizes", lambda v: (v.data["label"], np.ones(len(v))), num_keys=4)
    weights = Aggregator("weights", lambda v: (v.data["label"], v.data["w"]), num_keys=4, finalize=running_total)
    r = run(VertexProgram(), g, aggregators=[sizes, weights], **options)
    assert r.aggregates["sizes"].tolist() == [15.0] * 4
    per_label = np.bincount(labels, weights=np.arange(60.0), minlength=4)
    assert r.supersteps == 1  # aggregators ran before the start and after the one superstep
    np.testing.assert_allclose(r.aggregates["weights"], 2 * per_label)
    if "workers" not in options:
        assert calls == [True, False]  # no previous value the first time


def test_a_finished_run_leaves_no_engine_alive_without_the_garbage_collector():
    """No reference cycle holds a run's engine (and its arrays) after run() returns."""
    import gc

    import gasengine.step as step_module

    g = random_graph(50, 200, seed=14)
    gc.collect()
    gc.disable()
    try:
        for engine in ("sync", "chromatic", "async"):
            run(VertexProgram(), g, engine=engine)
        alive = sum(isinstance(o, step_module.GASStep) for o in gc.get_objects())
    finally:
        gc.enable()
    assert alive == 0


@pytest.mark.parametrize("options", [{}, {"partitions": 3}, {"backend": "multiprocess", "workers": 2, "partitions": 2}])
def test_the_hot_first_product_gives_the_same_pagerank_bit_for_bit(monkeypatch, options):
    """Large parts gather all rows through a hot-first renumbering of the neighbours; forced on for a
    small graph (also weighted, over out-edges), every value is the one the plain product gives."""
    import gasengine.step as step_module
    from algorithms import PageRankProgram
    from gasengine.parts import Part

    calls = []
    hot_first = Part.hot_first_gather_matrix
    monkeypatch.setattr(Part, "hot_first_gather_matrix", lambda self, *a: calls.append(a) or hot_first(self, *a))
    g = random_graph(400, 3000, seed=31, weighted=True)
    runs = []
    for threshold in (step_module.HOT_FIRST_FROM, 0):  # parts here are far below the real threshold
        monkeypatch.setattr(step_module, "HOT_FIRST_FROM", threshold)
        ranks = run(PageRankProgram(tol=1e-12), g, max_supersteps=15, **options).field("rank")
        runs.append((ranks, run(WeightedOutSum(), g, max_supersteps=6, **options).field("x")))
    (plain, plain_x), (hot, hot_x) = runs
    assert "backend" in options or {(IN, None), (OUT, "weight")} <= set(calls)  # the hot path ran
    assert np.array_equal(plain, hot) and np.array_equal(plain_x, hot_x)
