"""Ragged arrays and the ``collect`` combine: sets per vertex, stored as fields, read at both ends of an edge."""

from __future__ import annotations

import pickle

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gasengine import (
    ALL,
    IN,
    Graph,
    ProgramError,
    Ragged,
    VertexProgram,
    collect,
    intersection_sizes,
    run,
)
from tests.datasets import load, random_graph


# ------------------------------------------------------------------ Ragged
def test_rows_views_and_writes():
    r = Ragged.from_lists([[1, 2], [], [3, 4, 5]])
    assert len(r) == 3 and r.sizes().tolist() == [2, 0, 3]
    view = r[[2, 0]]
    assert view.tolist() == [[3, 4, 5], [1, 2]] and not view.writable
    with pytest.raises(ValueError, match="read-only"):
        view[[0]] = Ragged.from_lists([[9]])
    with pytest.raises(ValueError, match="read-only"):
        r[0][0] = 7  # a row is a read-only array
    r[[1]] = Ragged.from_lists([[8, 9]])
    assert r.tolist() == [[1, 2], [8, 9], [3, 4, 5]]
    assert view.tolist() == [[3, 4, 5], [1, 2]]  # a view taken before keeps its values
    with pytest.raises(ValueError, match="cannot store 1 rows in 2"):
        r[[0, 1]] = Ragged.from_lists([[1]])
    with pytest.raises(TypeError, match="only a Ragged"):
        r[[0]] = np.array([1])


def test_take_shares_values_and_writes_stay_apart():
    r = Ragged.from_lists([[1], [2, 3], [4]])
    part = r.take([2, 1])
    part[[0]] = Ragged.from_lists([[7, 7]])
    assert part.tolist() == [[7, 7], [2, 3]] and r.tolist() == [[1], [2, 3], [4]]


def test_many_writes_compact_the_pool():
    r = Ragged.from_lists([[0, 1, 2]] * 4)
    for k in range(50):
        r[[k % 4]] = Ragged.from_lists([[k, k + 1, k + 2]])
    assert r._pool.size <= 2 * 12  # dead values were dropped, not kept for ever
    assert r.tolist()[1] == [49, 50, 51]


def test_pickle_sends_only_the_rows_values():
    big = Ragged.from_lists([list(range(1000)), [5]])
    small = pickle.loads(pickle.dumps(big[[1]]))
    assert small.tolist() == [[5]] and small.values.size == 1 and small.writable


def test_bad_ptr():
    with pytest.raises(ValueError, match="ptr must start at 0"):
        Ragged([0, 3], [1, 2])


sorted_sets = st.lists(st.lists(st.integers(0, 60), max_size=40).map(lambda x: sorted(set(x))), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(sorted_sets, st.data())
def test_intersection_sizes_match_python_sets(rows_a, data):
    rows_b = data.draw(
        st.lists(
            st.lists(st.integers(0, 60), max_size=40).map(lambda x: sorted(set(x))),
            min_size=len(rows_a),
            max_size=len(rows_a),
        )
    )
    # repeated rows of ``a`` (one vertex's edges) exercise the marking path's reuse
    repeat = data.draw(st.lists(st.integers(0, len(rows_a) - 1), min_size=len(rows_a), max_size=len(rows_a)))
    a = Ragged.from_lists(rows_a)[sorted(repeat)]
    b = Ragged.from_lists(rows_b)
    want = [len(set(x) & set(y)) for x, y in zip(a.tolist(), b.tolist())]
    assert intersection_sizes(a, b).tolist() == want
    assert intersection_sizes(a, b, bound=61).tolist() == want
    # inner= counts, in the same scan, the hits that also lie in a subset of each a row
    inner = Ragged.from_lists([[x for x in row if x % 3 == 0] for row in a.tolist()])
    both, sub = intersection_sizes(a, b, bound=61, inner=inner)
    assert both.tolist() == want
    assert sub.tolist() == [len(set(x) & set(y)) for x, y in zip(inner.tolist(), b.tolist())]


def test_intersection_of_a_hub_and_a_small_set():
    hub = Ragged.from_lists([list(range(0, 200_000, 2))])
    few = Ragged.from_lists([[3, 4, 10, 199_998]])
    assert intersection_sizes(hub, few).tolist() == [3] == intersection_sizes(few, hub).tolist()
    with pytest.raises(ValueError, match=r"outside 0..99"):
        intersection_sizes(hub, few, bound=100)
    with pytest.raises(ValueError, match="inner= needs bound="):
        intersection_sizes(hub, few, inner=hub)
    with pytest.raises(ValueError, match="first \\(or inner\\) rows"):  # inner values outside a's rows
        intersection_sizes(few, few, bound=200_000, inner=Ragged.from_lists([[5]]))


# ------------------------------------------------------------------ collect
class Neighbours(VertexProgram):
    gather_edges = ALL
    combine = collect

    def init(self, v):
        v.data["nbrs"] = Ragged.empty(len(v))

    def gather_nbr(self, u):
        return u.ids

    def apply(self, v, acc):
        v.data["nbrs"] = acc


class EdgeNeighbours(Neighbours):
    """The same sets through gather(e) (edge views) instead of gather_nbr."""

    gather_nbr = None

    def gather(self, e):
        return e.nbr


class CommonNeighbours(VertexProgram):
    """Reads the stored sets at both ends of every edge: the triangles at each vertex, twice."""

    gather_edges = ALL

    def init(self, v):
        v.data["twice"] = np.zeros(len(v), dtype=np.int64)

    def gather(self, e):
        return intersection_sizes(e.src_data["nbrs"], e.dst_data["nbrs"])

    def apply(self, v, acc):
        v.data["twice"] = acc


def reference_sets(g: Graph) -> list[list[int]]:
    G = nx.Graph()
    G.add_nodes_from(range(g.num_vertices))
    G.add_edges_from(zip(g.src.tolist(), g.dst.tolist()))
    return [sorted(G[v]) for v in range(g.num_vertices)]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"partitions": 2},
        {"partitions": 3, "debug": True},
        {"partitions": 4, "engine": "chromatic"},
        {"partitions": 3, "engine": "async", "batch_size": 7},
    ],
)
@pytest.mark.parametrize("program", [Neighbours, EdgeNeighbours])
def test_collect_gives_the_neighbour_sets(options, program):
    g = random_graph(120, 700, seed=3)
    sets = run(program(), g, **options).field("nbrs")  # nobody signals: every vertex updates once
    assert isinstance(sets, Ragged) and sets.tolist() == reference_sets(g)


def test_stored_sets_are_read_at_both_ends_of_an_edge():
    g = load("snap/email-Eu-core.txt")
    simple = Graph(*np.unique(np.sort(np.stack([g.src, g.dst], 1), axis=1), axis=0).T, num_vertices=g.num_vertices)
    simple = Graph(
        simple.src[simple.src != simple.dst], simple.dst[simple.src != simple.dst], num_vertices=g.num_vertices
    )
    sets = run(Neighbours(), simple, max_supersteps=1).field("nbrs")
    simple.set_vertex_field("nbrs", Ragged(sets.ptr, sets.values))
    G = nx.Graph(list(zip(simple.src.tolist(), simple.dst.tolist())))
    want = nx.triangles(G)
    for P in (1, 3):
        twice = run(CommonNeighbours(), simple, max_supersteps=1, partitions=P, debug=True).field("twice")
        assert all(twice[v] == 2 * want.get(v, 0) for v in range(simple.num_vertices))


def test_result_field_by_id_gives_lists():
    g = Graph([0, 0], [1, 2], ids=[10, 20, 30])
    got = run(Neighbours(), g, max_supersteps=1).field("nbrs", by_id=True)
    assert got == {10: [1, 2], 20: [0], 30: [0]}


class FloatKeys(Neighbours):
    def gather_nbr(self, u):
        return u.ids * 0.5


class StoresArray(Neighbours):
    def apply(self, v, acc):
        v.data["nbrs"] = np.zeros(len(v))


class Weighted(EdgeNeighbours):
    def gather(self, e):
        return e.nbr, np.ones(len(e))


class WrongRows(Neighbours):
    def apply(self, v, acc):
        v.data["nbrs"] = acc[:0]


@pytest.mark.parametrize(
    "program, message",
    [
        (FloatKeys, r"FloatKeys.gather_nbr: with combine=collect must return integer keys, got dtype float64"),
        (StoresArray, r"StoresArray.apply: vertex field 'nbrs' holds ragged rows \(a Ragged\); cannot store ndarray"),
        (Weighted, r"Weighted.gather: with combine=collect must return one key per edge"),
        (WrongRows, r"WrongRows.apply: vertex field 'nbrs' needs \d+ rows, got a Ragged of 0"),
    ],
)
def test_bad_collect_programs_are_named(program, message):
    with pytest.raises(ProgramError, match=message):
        run(program(), Graph([0, 1], [1, 2]), max_supersteps=1)


def test_array_field_refuses_a_ragged():
    class Overwrite(Neighbours):
        def init(self, v):
            v.data["nbrs"] = np.zeros(len(v))

    with pytest.raises(
        ProgramError, match=r"Overwrite.apply: vertex field 'nbrs' is an array of shape \(3,\); cannot store a Ragged"
    ):
        run(Overwrite(), Graph([0, 1], [1, 2]), max_supersteps=1)


def test_graph_field_must_have_one_row_per_vertex():
    from gasengine import GraphFormatError

    with pytest.raises(GraphFormatError, match="a Ragged must be a vertex field of 3 rows, got 2"):
        Graph([0, 1], [1, 2]).set_vertex_field("s", Ragged.from_lists([[0], [1]]))


def test_in_edges_only():
    class InNeighbours(Neighbours):
        gather_edges = IN

    got = run(InNeighbours(), Graph([0, 0, 1], [1, 2, 2]), max_supersteps=1).field("nbrs").tolist()
    assert got == [[], [0], [0, 1]]


@pytest.mark.parametrize(
    "options", [{"partitions": 2}, {"partitions": 3, "cache": False}, {"partitions": 4, "engine": "async"}]
)
def test_ragged_fields_cross_worker_processes(options):
    """Sets collected in two worker processes, stored, read again at both ends of edges there."""
    g = load("snap/email-Eu-core.txt")
    keep = g.src != g.dst
    simple = Graph(g.src[keep], g.dst[keep], num_vertices=g.num_vertices)
    sets = run(Neighbours(), simple, backend="multiprocess", workers=2, **options).field("nbrs")
    assert sets.tolist() == reference_sets(simple)
    simple.set_vertex_field("nbrs", sets)
    want = run(CommonNeighbours(), simple).field("twice")
    got = run(CommonNeighbours(), simple, backend="multiprocess", workers=2, **options).field("twice")
    assert np.array_equal(got, want)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 30),
    st.integers(0, 120),
    st.integers(0, 2**31 - 1),
    st.integers(1, 4),
    st.sampled_from(["sync", "chromatic", "async"]),
    st.booleans(),
)
def test_collected_sets_never_depend_on_parts_or_engine(n, m, seed, parts, engine, nbr_gather):
    g = random_graph(n, m, seed)
    program = Neighbours() if nbr_gather else EdgeNeighbours()
    sets = run(program, g, partitions=min(parts, max(m, 1)), engine=engine, seed=seed).field("nbrs")
    assert sets.tolist() == reference_sets(g)


def test_key_counts_and_ragged_rows_travel_as_arrays():
    """Worker messages move big arrays through shared memory: those inside KeyCounts and Ragged too."""
    from gasengine import KeyCounts
    from gasengine.shm import flatten_arrays, restore_arrays

    counts = KeyCounts.from_pairs(np.repeat(np.arange(500), 4), np.arange(2000) % 7, None, 500)
    rows = Ragged.from_lists([list(range(k)) for k in range(60)])[::2]
    out: list[np.ndarray] = []
    note = flatten_arrays({"a": counts, "b": [rows]}, out, threshold=64)
    assert len(out) >= 4 and not any(
        isinstance(x, np.ndarray) and x.nbytes >= 64
        for x in pickle.loads(pickle.dumps(note)).values()
        if isinstance(x, np.ndarray)
    )
    back = restore_arrays(pickle.loads(pickle.dumps(note)), [a.copy() for a in out])
    assert np.array_equal(back["a"].keys, counts.keys) and np.array_equal(back["a"].ptr, counts.ptr)
    assert back["b"][0].tolist() == rows.tolist()
