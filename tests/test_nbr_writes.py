"""Writes to neighbours (``nbr_writes``) and priorities given in apply (``v.signal(mask, priority=...)``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gasengine import ALL, IN, OUT, Graph, ProgramError, VertexProgram, run
from gasengine.kernels import merge_lowest, push_combine, split_below
from tests.datasets import random_graph


class Push(VertexProgram):
    """Vertices whose id is even scatter in every superstep; their neighbours count and fold what they get."""

    nbr_writes = {
        "total": ("value", np.add),
        "low": ("value", np.minimum),
        "high": ("value", np.maximum),
        "count": (1, np.add),
        "any": (True, np.logical_or),  # not compiled: the ufunc.at path
    }

    def __init__(self, edges=OUT, steps=3):
        self.scatter_edges = edges
        self.steps = steps

    def init(self, v):
        n = len(v)
        v.data["value"] = ((v.ids * 5) % 11 + 1).astype(np.int64)
        for name, fill in (("total", 0), ("count", 0), ("low", 10**6), ("high", -1)):
            v.data[name] = np.full(n, fill, dtype=np.int64)
        v.data["any"] = np.zeros(n, dtype=bool)

    def apply(self, v, acc):
        v.signal(v.superstep < self.steps)
        return v.ids % 2 == 0


def expected(g: Graph, edges, steps: int) -> dict[str, np.ndarray]:
    n = g.num_vertices
    value = (np.arange(n) * 5) % 11 + 1
    pairs = []  # (pusher, receiver) per edge and direction
    if edges in (OUT, ALL):
        pairs.append((g.src, g.dst))
    if edges in (IN, ALL):
        pairs.append((g.dst, g.src))
    out = {"total": np.zeros(n, np.int64), "count": np.zeros(n, np.int64)}
    out["low"], out["high"] = np.full(n, 10**6), np.full(n, -1)
    out["any"] = np.zeros(n, bool)
    for _ in range(steps):
        for a, b in pairs:
            keep = a % 2 == 0
            a, b = a[keep], b[keep]
            np.add.at(out["total"], b, value[a])
            np.add.at(out["count"], b, 1)
            np.minimum.at(out["low"], b, value[a])
            np.maximum.at(out["high"], b, value[a])
            out["any"][b] = True
    return out


@pytest.mark.parametrize("edges", [OUT, IN, ALL], ids=["out", "in", "all"])
@pytest.mark.parametrize("partitions", [1, 2, 4])
def test_offers_folded_into_every_neighbour_on_any_number_of_parts(edges, partitions):
    g = random_graph(60, 400, seed=3)  # parallel edges, self-loops and isolated vertices
    result = run(Push(edges), g, partitions=partitions)
    want = expected(g, edges, 3)
    for name, values in want.items():
        np.testing.assert_array_equal(result.field(name), values, err_msg=name)


@pytest.mark.parametrize("options", [{"workers": 2, "partitions": 2}, {"workers": 2, "partitions": 3}])
def test_offers_cross_worker_processes(options):
    g = random_graph(80, 600, seed=5)
    result = run(Push(ALL), g, backend="multiprocess", **options)
    for name, values in expected(g, ALL, 3).items():
        np.testing.assert_array_equal(result.field(name), values, err_msg=name)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 30), m=st.integers(0, 120), seed=st.integers(0, 2**16), partitions=st.integers(1, 4))
def test_offers_do_not_depend_on_the_cut(n, m, seed, partitions):
    g = random_graph(n, m, seed)
    one, many = run(Push(ALL, steps=2), g), run(Push(ALL, steps=2), g, partitions=partitions)
    for name in expected(g, ALL, 2):
        np.testing.assert_array_equal(one.field(name), many.field(name), err_msg=name)


def test_mirrors_see_the_folded_value_in_the_next_superstep():
    """A gather in the superstep after the offers reads the folded field at every replica."""

    class PushThenRead(VertexProgram):
        scatter_edges = OUT
        gather_edges = IN
        nbr_writes = {"got": (1, np.add)}

        def init(self, v):
            v.data["got"] = np.zeros(len(v), dtype=np.int64)
            v.data["seen"] = np.zeros(len(v), dtype=np.int64)

        def gather_nbr(self, u):
            return u.data["got"]

        def apply(self, v, acc):
            v.data["seen"] = acc
            v.signal(v.superstep < 2)
            return v.superstep == 1  # push in the first superstep only

    g = random_graph(50, 300, seed=9)
    indegree = np.bincount(g.dst, minlength=50)
    seen = np.zeros(50, np.int64)
    np.add.at(seen, g.dst, indegree[g.src])  # step 2 gathers what step 1 pushed
    for partitions in (1, 3):
        np.testing.assert_array_equal(run(PushThenRead(), g, partitions=partitions).field("seen"), seen)


def test_neutral_offers_are_dropped_and_cost_nothing():
    class MaybePush(VertexProgram):
        scatter_edges = OUT
        nbr_writes = {"best": ("offer", np.maximum)}

        def init(self, v):
            v.data["offer"] = np.where(v.ids % 3 == 0, v.ids, np.iinfo(np.int64).min)  # max's neutral: no offer
            v.data["best"] = np.full(len(v), -1, dtype=np.int64)

    g = random_graph(40, 200, seed=1)
    best = np.full(40, -1)
    keep = g.src % 3 == 0
    np.maximum.at(best, g.dst[keep], g.src[keep])
    for partitions in (1, 2):
        np.testing.assert_array_equal(run(MaybePush(), g, partitions=partitions).field("best"), best)


@pytest.mark.parametrize(
    "writes, message",
    [
        ({"x": "value"}, "must map a field name to .value field or number, combine ufunc."),
        ({"x": ("value", np.subtract)}, "np.subtract is not commutative"),
        ({"nope": ("value", np.add)}, "no vertex field 'nope'"),
        ({"x": ("missing", np.add)}, "no vertex field 'missing'"),
        ({"flag": (2.5, np.add)}, "field 'flag' .bool.* cannot take offers of 2.5"),
    ],
)
def test_bad_declarations_are_named(writes, message):
    class Bad(VertexProgram):
        scatter_edges = OUT
        nbr_writes = writes

        def init(self, v):
            v.data["value"] = np.ones(len(v))
            v.data["x"] = np.zeros(len(v))
            v.data["flag"] = np.zeros(len(v), dtype=bool)

    with pytest.raises(ProgramError, match=r"Bad\.nbr_writes: " + message):
        run(Bad(), Graph([0], [1]))


def test_writes_need_scatter_edges():
    class NoEdges(VertexProgram):
        nbr_writes = {"x": (1, np.add)}

    with pytest.raises(ProgramError, match=r"NoEdges\.nbr_writes: pushes over scatter_edges, which is NONE"):
        run(NoEdges(), Graph([0], [1]))


# ------------------------------------------------------------------ priorities from apply
class Countdown(VertexProgram):
    """Every vertex waits at a priority it chooses; the buckets must run them lowest first."""

    bucket_width = 1.0

    def init(self, v):
        v.data["wait"] = ((v.ids * 7) % 5).astype(np.int64)
        v.data["ran_at"] = np.full(len(v), -1, dtype=np.int64)
        v.data["first"] = np.ones(len(v), dtype=bool)

    def apply(self, v, acc):
        first = v.data["first"]
        v.data["ran_at"] = np.where(first, v.data["ran_at"], v.superstep)
        v.signal(first, priority=v.data["wait"])  # the first run chooses the bucket of the second
        v.data["first"] = np.zeros(len(v), dtype=bool)


@pytest.mark.parametrize("options", [{}, {"partitions": 3}, {"backend": "multiprocess", "workers": 2}])
def test_apply_chooses_its_bucket(options):
    g = random_graph(30, 60, seed=2)
    result = run(Countdown(), g, **options)
    wait = (np.arange(30) * 7) % 5
    # superstep 1 runs everyone; then one superstep per distinct priority, lowest first
    order = {w: 2 + i for i, w in enumerate(sorted(set(wait.tolist())))}
    np.testing.assert_array_equal(result.field("ran_at"), [order[w] for w in wait])
    assert result.supersteps == 1 + len(order)


def test_a_bad_priority_is_named():
    class NaNPriority(Countdown):
        def apply(self, v, acc):
            v.signal(True, priority=np.nan)

    with pytest.raises(ProgramError, match=r"NaNPriority\.apply: signal\(mask, priority\) got a NaN priority"):
        run(NaNPriority(), Graph([0], [1]))

    class Infinite(Countdown):
        def apply(self, v, acc):
            v.signal(True, priority=np.inf)  # no signal, as from scatter

    assert run(Infinite(), Graph([0], [1])).supersteps == 1


# ------------------------------------------------------------------ kernels
@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 20),
    m=st.integers(0, 60),
    seed=st.integers(0, 2**16),
    op=st.sampled_from([np.add, np.minimum, np.maximum]),
)
def test_push_combine_is_ufunc_at_over_the_edges(n, m, seed, op):
    rng = np.random.default_rng(seed)
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    order = np.argsort(src, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=ptr[1:])
    nbr = dst[order]
    who = np.unique(rng.integers(0, n, max(n // 2, 1)))
    values = rng.integers(-50, 50, who.size)
    out, want = np.zeros(n, np.int64), np.zeros(n, np.int64)
    touched = push_combine([(ptr, nbr)], who, values, out, op, np.zeros(n, bool))
    edge = np.isin(src, who)
    lookup = dict(zip(who.tolist(), values.tolist()))
    op.at(want, dst[edge], np.array([lookup[s] for s in src[edge].tolist()], dtype=np.int64))
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(touched, np.unique(dst[edge]))


def test_merge_lowest_keeps_the_lower_priority():
    ids, prio = merge_lowest(np.array([0, 3, 5]), np.array([1.0, 9.0, 2.0]), np.array([3, 4]), np.array([4.0, -np.inf]))
    assert ids.tolist() == [0, 3, 4, 5] and prio.tolist() == [1.0, 4.0, -np.inf, 2.0]
    ids, prio = merge_lowest(np.zeros(0, int), np.zeros(0), np.array([2]), np.array([1.0]))
    assert ids.tolist() == [2] and prio.tolist() == [1.0]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.sampled_from([-np.inf, -2.5, 0.0, 1.0, 1.5, 3.0, 7.25]), max_size=40),
    st.sampled_from([-np.inf, -2.5, 0.0, 1.5, 2.0, 8.0, np.inf]),
)
def test_split_below_is_the_mask_in_one_pass(prio, bound):
    prio = np.array(prio, dtype=np.float64)
    ids = np.arange(prio.size) * 3
    taken, rest, rest_prio = split_below(ids, prio, bound)
    now = (prio <= bound) if bound == -np.inf else (prio < bound)  # a bucket at -inf takes -inf
    assert taken.tolist() == ids[now].tolist() and rest.tolist() == ids[~now].tolist()
    assert rest_prio.tolist() == prio[~now].tolist()


# ------------------------------------------------------------------ the receiving end's condition
class Guarded(Push):
    """Push, but only vertices divisible by 3 hear (writes and signals); a scatter or signal_nbrs signals."""

    nbr_cond = "hears"

    def __init__(self, edges=OUT, steps=1, per_edge=False):
        super().__init__(edges, steps)
        self.per_edge = per_edge

    def init(self, v):
        super().init(v)
        v.data["hears"] = v.ids % 3 == 0
        v.data["woken"] = np.zeros(len(v), dtype=bool)

    def apply(self, v, acc):
        v.data["woken"] = v.data["woken"] | (v.superstep > 1)  # ran after the first step: was signalled
        return (v.ids % 2 == 0) & (v.superstep == 1)


class GuardedNbrSignals(Guarded):
    def signal_nbrs(self, v):
        return np.ones(len(v), dtype=bool)


class GuardedScatter(Guarded):
    def scatter(self, e):
        return np.ones(len(e), dtype=bool)


@pytest.mark.parametrize("program", [GuardedNbrSignals, GuardedScatter], ids=["signal_nbrs", "scatter"])
@pytest.mark.parametrize("options", [{}, {"partitions": 3}, {"backend": "multiprocess", "workers": 2}], ids=str)
def test_neighbours_failing_the_condition_hear_nothing(program, options):
    g = random_graph(60, 400, seed=4)
    result = run(program(ALL), g, **options)
    want = expected(g, ALL, 1)
    hears = np.arange(60) % 3 == 0
    for name in ("total", "count", "low", "high"):
        ref = np.where(hears, want[name], {"total": 0, "count": 0, "low": 10**6, "high": -1}[name])
        np.testing.assert_array_equal(result.field(name), ref, err_msg=name)
    reached = want["count"] > 0
    np.testing.assert_array_equal(result.field("woken"), reached & hears)


def test_a_condition_that_is_not_a_bool_field_is_named():
    class BadCond(Push):
        nbr_cond = "value"

    with pytest.raises(ProgramError, match=r"BadCond\.nbr_cond: must name a bool vertex field.*'value' is a int64"):
        run(BadCond(), Graph([0], [1]))


class PushOnce(Push):
    """Every vertex runs once (the initial active set) and the even ones push: the same on every engine."""

    def apply(self, v, acc):
        return v.ids % 2 == 0


@pytest.mark.parametrize(
    "options",
    [
        {"engine": "chromatic"},
        {"engine": "chromatic", "partitions": 3},
        {"engine": "async", "consistency": "edge"},
        {"engine": "async", "consistency": "vertex", "partitions": 2, "backend": "multiprocess", "workers": 2},
    ],
    ids=str,
)
def test_offers_on_the_other_engines(options):
    g = random_graph(50, 300, seed=6)
    result = run(PushOnce(ALL), g, **options)
    for name, values in expected(g, ALL, 1).items():
        np.testing.assert_array_equal(result.field(name), values, err_msg=name)
