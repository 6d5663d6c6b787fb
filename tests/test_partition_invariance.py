"""Property: a program's results do not depend on the number of parts or workers.

The README promises it; these tests try to break it with randomly generated
vertex programs on randomly generated graphs.  The programs use integer
arithmetic, so every combine is exact and any difference is a real bug, not
rounding.  They exercise what went wrong before: signals and scatter masks
that alias a field the same ``apply`` reassigns, fields copied into other
fields, scatters that write edge fields, aggregators read by ``apply``,
both gather paths (``gather`` and ``gather_nbr``), writes to neighbours
(``nbr_writes``, ``nbr_cond``), priorities chosen in ``apply`` and fields
kept at the masters (``master_fields``).  Every run is in debug
mode, so a master and a mirror that disagree raise instead of drifting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gasengine import (
    ALL,
    IN,
    NONE,
    OUT,
    Aggregator,
    Graph,
    KeyCounts,
    Ragged,
    VertexProgram,
    collect,
    count_by_key,
    run,
)

MOD = 1009  # keeps values small; every operation below is exact in int64
COMBINES = {
    "add": np.add,
    "min": np.minimum,
    "max": np.maximum,
    "or": np.bitwise_or,
    "keys": count_by_key,
    "collect": collect,
}
EDGE_SETS = {"none": NONE, "in": IN, "out": OUT, "all": ALL}


@pytest.fixture(autouse=True, scope="module")
def debug_checks():
    """Every run of this module checks message ids and replicas (workers inherit it)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GASENGINE_DEBUG", "1")
    yield
    mp.undo()


@dataclass(frozen=True)
class Spec:
    """The choices that make one random program."""

    gather_edges: str
    nbr_only: bool  # gather_nbr instead of gather
    combine: str
    coef: tuple[int, int, int]  # gathered = a*nbr.x + b*edge.w + c*vertex.x
    signal: str  # "none", "aliased field", "changed"
    mask: str  # "none", "aliased field", "changed"
    copy_field: str  # "no", or v.data["prev"] = (the old) v.data["x"] "before" or "after" x is reassigned
    scatter_edges: str
    scatter_writes: bool
    scatter_mask: str  # "none", "nbr flag", "edge parity", "per vertex" (signal_nbrs instead of scatter)
    aggregate_every: int  # 0: no aggregator
    buckets: float | None = None  # bucket_width: scatter returns priorities (delta-stepping order)
    pushes: str = "none"  # nbr_writes: "none", "field" (x, folded by max) or "constant" (1, added)
    cond: bool = False  # nbr_cond = "flag": only flagged neighbours hear signals and pushes
    own_priority: bool = False  # apply signals some vertices with a priority of its own
    masters_only: bool = False  # master_fields: "prev" and the pushed "got" never go to mirrors


def program_of(spec: Spec) -> VertexProgram:
    """A vertex program behaving as ``spec`` says."""
    a, b, c = spec.coef

    pushing = spec.pushes != "none" and spec.scatter_edges != "none"

    class Random(VertexProgram):
        bucket_width = spec.buckets
        nbr_writes = {"got": ("x", np.maximum) if spec.pushes == "field" else (1, np.add)} if pushing else {}
        nbr_cond = "flag" if spec.cond else None
        master_fields = ("prev", "got") if spec.masters_only else ()
        gather_edges = EDGE_SETS[spec.gather_edges]
        scatter_edges = EDGE_SETS[spec.scatter_edges]
        combine = COMBINES[spec.combine]
        aggregators = (
            (Aggregator("total", lambda v: v.data["x"] % MOD, every=spec.aggregate_every),)
            if spec.aggregate_every
            else ()
        )

        def init(self, v):
            v.data["x"] = (v.ids * 7 + 3) % MOD
            v.data["prev"] = np.zeros(len(v), dtype=np.int64)
            v.data["flag"] = v.ids % 2 == 0
            v.data["got"] = np.zeros(len(v), dtype=np.int64)
            if spec.combine == "collect":
                v.data["set"] = Ragged.empty(len(v))  # a ragged field: stored by apply, compared in the outcome

        def init_edges(self, e):
            e.data["w"] = (e.src * 3 + e.dst * 5) % 11

        def apply(self, v, acc):
            old_flag = v.data["flag"]  # a view of the store when all vertices are active
            old_x = v.data["x"]
            if spec.copy_field == "before":
                v.data["prev"] = old_x
            if acc is None:
                step = 0
            elif isinstance(acc, KeyCounts):  # count_by_key: the most frequent key and the count
                step = (acc.argmax(default=0, tie="largest") + 3 * acc.totals()) % MOD
            elif isinstance(acc, Ragged):  # collect: the distinct keys, summed, and how many
                sums = np.bincount(acc.rows(), weights=acc.values, minlength=len(acc)).astype(np.int64)
                step = (sums + 3 * acc.sizes()) % MOD
                v.data["set"] = acc
            else:
                step = acc % MOD
            bonus = v.globals["total"] % 5 if spec.aggregate_every else 0
            new_x = (old_x * 3 + step + bonus + v.superstep + v.data["got"]) % MOD
            if spec.signal == "aliased field":
                v.signal(old_flag)
            v.data["x"] = new_x
            if spec.copy_field == "after":
                v.data["prev"] = old_x  # a view of x's store, which is written in the same batch
            v.data["flag"] = new_x % 3 == 0
            if spec.signal == "changed":
                v.signal((new_x % 4 == 0) & (new_x != old_x))
            if spec.own_priority:
                v.signal(new_x % 5 == 0, priority=(new_x % 7).astype(float))
            if spec.mask == "aliased field":
                return old_flag
            if spec.mask == "changed":
                return new_x % 2 == 1
            return None

    def scatter(self, e):
        if spec.scatter_writes:
            e.data["w"] = (e.data["w"] + e.src_data["x"] + 2 * e.dst_data["x"]) % 11
        mask = None
        if spec.scatter_mask == "nbr flag":
            mask = e.nbr_data["flag"]
        elif spec.scatter_mask == "edge parity":
            mask = e.data["w"] % 2 == 0
        if mask is None or spec.buckets is None:
            return mask
        return np.where(mask, (e.vertex_data["x"] % 7).astype(float), np.inf)  # priorities

    def signal_nbrs(self, v):  # every neighbour over scatter_edges, with the vertex's priority if any
        if spec.buckets is None:
            return v.data["flag"]
        return np.where(v.data["flag"], (v.data["x"] % 7).astype(float), np.inf)

    if spec.scatter_mask == "per vertex":
        Random.signal_nbrs = signal_nbrs
    else:
        Random.scatter = scatter
    if spec.gather_edges != "none":
        if spec.nbr_only:
            Random.gather_nbr = lambda self, u: (a * u.data["x"]) % MOD
        else:
            Random.gather = lambda self, e: (a * e.nbr_data["x"] + b * e.data["w"] + c * e.vertex_data["x"]) % MOD
    return Random()


specs = st.builds(
    Spec,
    gather_edges=st.sampled_from(sorted(EDGE_SETS)),
    nbr_only=st.booleans(),
    combine=st.sampled_from(sorted(COMBINES)),
    coef=st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)),
    signal=st.sampled_from(["none", "aliased field", "changed"]),
    mask=st.sampled_from(["none", "aliased field", "changed"]),
    copy_field=st.sampled_from(["no", "before", "after"]),
    scatter_edges=st.sampled_from(sorted(EDGE_SETS)),
    scatter_writes=st.booleans(),
    scatter_mask=st.sampled_from(["none", "nbr flag", "edge parity", "per vertex"]),
    aggregate_every=st.integers(0, 3),
    buckets=st.sampled_from([None, None, 2.0, 0.5]),
    pushes=st.sampled_from(["none", "none", "field", "constant"]),
    cond=st.booleans(),
    own_priority=st.booleans(),
    masters_only=st.booleans(),
)


@st.composite
def graphs(draw) -> Graph:
    """Small directed multigraphs with self-loops and isolated vertices."""
    n = draw(st.integers(1, 24))
    m = draw(st.integers(0, 60))
    ends = st.lists(st.integers(0, n - 1), min_size=m, max_size=m)
    return Graph(np.array(draw(ends), dtype=np.int64), np.array(draw(ends), dtype=np.int64), num_vertices=n)


def outcome(result) -> dict:
    """Everything a run's answer consists of."""
    return {
        "vertex": {k: v.tolist() for k, v in sorted(result.vertex_data.items())},
        "edge": {k: v.tolist() for k, v in sorted(result.edge_data.items())},
        "steps": result.supersteps,
        "updates": result.steps.column("updates").tolist(),
        "active": result.steps.column("active").tolist(),
        "aggregates": {k: int(v) for k, v in result.aggregates.items()},
        "converged": result.converged,
    }


SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: A program with scatter_edges NONE still defines scatter; the engine's warning about that is expected.
expected_warning = pytest.mark.filterwarnings("ignore:.*never runs:UserWarning")


@expected_warning
@settings(max_examples=120, **SETTINGS)
@given(spec=specs, graph=graphs(), strategy=st.sampled_from(["random", "hdrf", "grid", "source"]))
def test_results_do_not_depend_on_the_number_of_parts(spec, graph, strategy):
    reference = outcome(run(program_of(spec), graph, max_supersteps=6))
    for parts in (2, 3, 4):
        got = outcome(run(program_of(spec), graph, max_supersteps=6, partitions=parts, partition=strategy))
        assert got == reference, f"P={parts} {strategy}"


@expected_warning
@settings(max_examples=20, **SETTINGS)
@given(spec=specs, graph=graphs())
def test_results_do_not_depend_on_worker_processes(spec, graph):
    reference = outcome(run(program_of(spec), graph, max_supersteps=6))
    got = outcome(run(program_of(spec), graph, max_supersteps=6, workers=2, partitions=3))
    assert got == reference


def test_aliased_signal_is_the_old_flag_on_any_p():
    """The case found by hand: one part re-activated every vertex, several parts none."""
    import networkx as nx

    g = Graph.from_networkx(nx.karate_club_graph())

    class Flag(VertexProgram):
        def init(self, v):
            v.data["flag"] = np.ones(len(v), dtype=bool)

        def apply(self, v, acc):
            old = v.data["flag"]
            v.signal(old)
            v.data["flag"] = np.zeros(len(v), dtype=bool)
            return old

    runs = [run(Flag(), g, partitions=p) for p in (1, 2, 4)] + [run(Flag(), g, workers=2)]
    assert [r.supersteps for r in runs] == [2, 2, 2, 2]
    assert [r.steps.column("updates").tolist() for r in runs] == [[34, 34]] * 4


@expected_warning
@settings(max_examples=60, **SETTINGS)
@given(spec=specs, graph=graphs(), fraction=st.sampled_from([0.0, 0.2, 1.0]))
def test_results_do_not_depend_on_the_frontier_representation(spec, graph, fraction):
    """Frontiers as masks or as id lists (the switch moved) give the same run, on 1 and 3 parts."""
    import gasengine.frontier as frontier_module

    reference = [outcome(run(program_of(spec), graph, max_supersteps=6, partitions=p)) for p in (1, 3)]
    saved = frontier_module.DENSE_FRACTION
    frontier_module.DENSE_FRACTION = fraction
    try:
        got = [outcome(run(program_of(spec), graph, max_supersteps=6, partitions=p)) for p in (1, 3)]
    finally:
        frontier_module.DENSE_FRACTION = saved
    assert got == reference


@expected_warning
@settings(max_examples=60, **SETTINGS)
@given(spec=specs, graph=graphs(), consistency=st.sampled_from(["vertex", "edge", "full"]))
def test_chromatic_results_do_not_depend_on_the_number_of_parts(spec, graph, consistency):
    options = dict(engine="chromatic", consistency=consistency, max_supersteps=4)
    reference = outcome(run(program_of(spec), graph, **options))
    for parts in (2, 3, 4):
        assert outcome(run(program_of(spec), graph, partitions=parts, partition="random", **options)) == reference


@expected_warning
@settings(max_examples=60, **SETTINGS)
@given(
    spec=specs,
    graph=graphs(),
    scheduler=st.sampled_from(["fifo", "sweep", "priority", "random"]),
    consistency=st.sampled_from(["vertex", "edge", "full"]),
)
def test_async_results_at_one_candidate_per_round_do_not_depend_on_the_number_of_parts(
    spec, graph, scheduler, consistency
):
    options = dict(engine="async", scheduler=scheduler, consistency=consistency, batch_size=1, max_supersteps=40)
    reference = outcome(run(program_of(spec), graph, **options))
    for parts in (2, 3, 4):
        assert outcome(run(program_of(spec), graph, partitions=parts, partition="random", **options)) == reference


@expected_warning
@settings(max_examples=12, **SETTINGS)
@given(
    spec=specs,
    graph=graphs(),
    engine=st.sampled_from(["chromatic", "async"]),
    consistency=st.sampled_from(["vertex", "edge", "full"]),
)
def test_chromatic_and_async_results_do_not_depend_on_worker_processes(spec, graph, engine, consistency):
    options = dict(engine=engine, consistency=consistency, max_supersteps=4 if engine == "chromatic" else 40)
    if engine == "async":
        options["batch_size"] = 1
    reference = outcome(run(program_of(spec), graph, **options))
    assert outcome(run(program_of(spec), graph, workers=2, partitions=3, **options)) == reference
