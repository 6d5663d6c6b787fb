"""combine = count_by_key: per-vertex key counts, merged across parts and workers."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gasengine import ALL, IN, Graph, KeyCounts, ProgramError, VertexProgram, count_by_key, run
from tests.datasets import random_graph


class Counts(VertexProgram):
    """Stores, per vertex, the most frequent key among its in-edges (weighted by the edge's ``w``), the
    number of distinct keys and the total weight: enough to check every count."""

    gather_edges = IN
    combine = count_by_key

    def __init__(self, weighted: bool, nbr: bool = False):
        self.weighted = weighted
        if nbr:  # the neighbour-only form
            self.gather_nbr = lambda u: u.data["key"]

    def init(self, v):
        v.data["key"] = (v.ids * 7) % 5
        v.data["best"] = np.zeros(len(v), dtype=np.int64)
        v.data["distinct"] = np.zeros(len(v), dtype=np.int64)
        v.data["total"] = np.zeros(len(v))

    def gather(self, e):
        keys = e.nbr_data["key"]
        return (keys, e.data["w"]) if self.weighted else keys

    def apply(self, v, acc):
        assert isinstance(acc, KeyCounts) and len(acc) == len(v)
        v.data["best"] = acc.argmax(default=-1)
        v.data["distinct"] = acc.sizes()
        v.data["total"] = acc.totals().astype(np.float64)


def reference(g: Graph, weighted: bool) -> tuple[list[int], list[int], list[float]]:
    key = (np.arange(g.num_vertices) * 7) % 5
    w = g.edge_data["w"] if weighted else np.ones(g.num_edges)
    best, distinct, total = [], [], []
    for v in range(g.num_vertices):
        counts: Counter = Counter()
        for e in np.flatnonzero(g.dst == v):
            counts[int(key[g.src[e]])] += float(w[e])
        top = max(counts.values(), default=None)
        best.append(min(k for k, c in counts.items() if c == top) if counts else -1)
        distinct.append(len(counts))
        total.append(sum(counts.values()))
    return best, distinct, total


def weighted_graph(seed: int) -> Graph:
    g = random_graph(70, 400, seed=seed)
    w = np.random.default_rng(seed).integers(1, 4, g.num_edges).astype(float)
    return Graph.from_arcs(g.src, g.dst, g.num_vertices, edge_data={"w": w})


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("parts", [1, 2, 4])
def test_counts_match_a_python_count(weighted, parts):
    g = weighted_graph(41)
    r = run(Counts(weighted), g, partitions=parts, max_supersteps=1)
    best, distinct, total = reference(g, weighted)
    assert r.field("best").tolist() == best
    assert r.field("distinct").tolist() == distinct
    np.testing.assert_allclose(r.field("total"), total)


def test_neighbour_only_form_and_two_workers():
    g = weighted_graph(42)
    best, distinct, _ = reference(g, weighted=False)
    for options in (dict(), dict(workers=2, partitions=3)):
        r = run(Counts(False, nbr=True), g, max_supersteps=1, **options)
        assert r.field("best").tolist() == best and r.field("distinct").tolist() == distinct


@pytest.mark.parametrize("engine", ["chromatic", "async"])
def test_counts_on_the_other_engines(engine):
    g = weighted_graph(43)
    best, _, _ = reference(g, weighted=True)
    r = run(Counts(True), g, engine=engine, consistency="edge", max_supersteps=1 if engine == "chromatic" else None)
    assert r.field("best").tolist() == best


def test_keys_must_be_integers():
    class FloatKeys(Counts):
        def gather(self, e):
            return e.nbr_data["total"]

    with pytest.raises(ProgramError, match=r"FloatKeys\.gather: with combine=count_by_key must return integer keys"):
        run(FloatKeys(False), random_graph(10, 30, seed=1), max_supersteps=1)


def test_key_counts_helpers():
    kc = KeyCounts.from_pairs(
        np.array([2, 0, 2, 2, 0]), np.array([8, 1, 3, 8, 1]), np.array([1.0, 2.0, 5.0, 1.0, 1.0]), 3
    )
    assert kc.ptr.tolist() == [0, 1, 1, 3] and kc.keys.tolist() == [1, 3, 8]
    assert kc.weights.tolist() == [3.0, 5.0, 2.0] and kc.totals().tolist() == [3.0, 0.0, 7.0]
    assert kc.argmax(default=np.array([9, 9, 9])).tolist() == [1, 9, 3]
    sub = kc.take(np.array([2, 0]))
    assert sub.ptr.tolist() == [0, 2, 3] and sub.keys.tolist() == [3, 8, 1]
    other = KeyCounts.from_pairs(np.array([0, 1]), np.array([4, 8]), np.array([1.0, 4.0]), 2)
    merged = kc.merged([(np.array([1, 2]), other)])
    assert merged.keys.tolist() == [1, 4, 3, 8] and merged.weights.tolist() == [3.0, 1.0, 5.0, 6.0]
    with pytest.raises(TypeError, match="integer keys"):
        KeyCounts.from_pairs(np.array([0]), np.array([0.5]), None, 1)
    with pytest.raises(ValueError, match="tie"):
        kc.argmax(tie="random")


def test_label_propagation_style_program_is_the_same_on_any_number_of_parts():
    class Majority(VertexProgram):
        gather_edges = ALL
        combine = count_by_key

        def init(self, v):
            v.data["label"] = v.ids.astype(np.int64)

        def gather_nbr(self, u):
            return u.data["label"]

        def apply(self, v, acc):
            v.data["label"] = acc.argmax(default=v.data["label"])

    g = random_graph(200, 600, seed=44)
    reference_labels = run(Majority(), g, max_supersteps=5).field("label")
    for options in (dict(partitions=3), dict(partitions=4, workers=2)):
        np.testing.assert_array_equal(run(Majority(), g, max_supersteps=5, **options).field("label"), reference_labels)


@pytest.mark.parametrize("span", [10, 2**40])  # keys summed through a table, or sorted per row
def test_counting_through_the_grouping_equals_counting_pairs(span):
    rng = np.random.default_rng(0)
    ptr = np.concatenate([[0], np.cumsum(rng.integers(0, 80, 50))])
    nbr = rng.integers(0, 40, ptr[-1])
    x = rng.integers(0, span, 40)
    got = KeyCounts.of_neighbours(ptr, nbr, x, None)
    want = KeyCounts.from_pairs(np.repeat(np.arange(50), np.diff(ptr)), x[nbr], None, 50)
    for a, b in ((got.ptr, want.ptr), (got.keys, want.keys), (got.weights, want.weights)):
        np.testing.assert_array_equal(a, b)
    some = np.array([3, 7, 7, 49])
    part = KeyCounts.of_neighbours(ptr, nbr, x, some)
    np.testing.assert_array_equal(part.keys, want.take(some).keys)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32), st.lists(st.tuples(st.integers(-(2**20), 2**20), st.integers(1, 3000)), max_size=6))
def test_counting_calls_one_after_another_leave_their_table_clean(seed, calls):
    """The key table is kept between calls: every call, whatever its keys' offset and span and
    however few rows it counts, equals counting the pairs afresh."""
    from gasengine.accumulators import _SLOTS

    rng = np.random.default_rng(seed)
    ptr = np.concatenate([[0], np.cumsum(rng.integers(0, 30, 60))])
    nbr = rng.integers(0, 50, ptr[-1])
    for offset, span in calls:
        x = offset + rng.integers(0, span, 50)
        rows = None if rng.random() < 0.3 else np.unique(rng.integers(0, 60, int(rng.integers(1, 5))))
        got = KeyCounts.of_neighbours(ptr, nbr, x, rows)
        want = KeyCounts.from_pairs(np.repeat(np.arange(60), np.diff(ptr)), x[nbr], None, 60)
        if rows is not None:
            want = want.take(rows)
        for a, b in ((got.ptr, want.ptr), (got.keys, want.keys), (got.weights, want.weights)):
            np.testing.assert_array_equal(a, b)
        assert (_SLOTS[0] == -1).all()


@pytest.mark.parametrize("seed", range(20))
def test_merging_partials_row_by_row_equals_regrouping_everything(seed):
    """The linear merge of partials for ascending rows gives what counting every pair again gives."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 30))
    base = KeyCounts.from_pairs(rng.integers(0, n, 80), rng.integers(0, 12, 80), rng.integers(1, 4, 80), n)
    parts = []
    for _ in range(int(rng.integers(1, 4))):
        rows = np.sort(rng.choice(n, size=int(rng.integers(0, n + 1)), replace=False))
        size = int(rng.integers(0, 40))
        local = rng.integers(0, max(rows.size, 1), size) if rows.size else np.zeros(0, int)
        parts.append((rows, KeyCounts.from_pairs(local, rng.integers(0, 12, local.size), None, rows.size)))
    fast = base.merged(parts)
    everything = KeyCounts.from_pairs(
        np.concatenate([base.rows()] + [r[c.rows()] for r, c in parts]),
        np.concatenate([base.keys] + [c.keys for _, c in parts]),
        np.concatenate([base.weights] + [c.weights for _, c in parts]),
        n,
    )
    for name in ("ptr", "keys", "weights"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(everything, name), err_msg=name)
