"""The chromatic engine: colour steps are serializable, and results do not depend on P or workers."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms import min_label_components
from gasengine import IN, Aggregator, Graph, VertexProgram, run
from gasengine.coloring import greedy_coloring
from gasengine.generators import grid
from tests.datasets import WeightedOutSum, load, random_graph

MOD = 1009


class Mix(VertexProgram):
    """x[v] <- (x[v] + 3 * sum of in-neighbours' x + 1) mod MOD: the order of updates shows in x."""

    gather_edges = IN

    def init(self, v):
        v.data["x"] = (v.ids * 7 + 1) % MOD

    def gather(self, e):
        return e.nbr_data["x"]

    def apply(self, v, acc):
        v.data["x"] = (v.data["x"] + 3 * acc + 1) % MOD
        v.signal()


def sequential(g: Graph, order: np.ndarray, sweeps: int) -> np.ndarray:
    """Mix run one vertex at a time, in ``order``, ``sweeps`` times (the serial reference)."""
    x = (np.arange(g.num_vertices) * 7 + 1) % MOD
    sources = [g.src[g.dst == v] for v in range(g.num_vertices)]
    for _ in range(sweeps):
        for v in order:
            x[v] = (x[v] + 3 * int(x[sources[v]].sum()) + 1) % MOD
    return x


@pytest.mark.parametrize("consistency, distance", [("edge", 1), ("full", 2)])
@pytest.mark.parametrize("parts", [1, 3])
def test_a_sweep_equals_running_the_vertices_one_by_one(consistency, distance, parts):
    g = random_graph(60, 200, seed=13)
    colour = greedy_coloring(g.src, g.dst, g.num_vertices, distance)
    order = np.lexsort((np.arange(g.num_vertices), colour))  # colour by colour, ids ascending
    result = run(Mix(), g, engine="chromatic", consistency=consistency, partitions=parts, max_supersteps=3)
    np.testing.assert_array_equal(result.field("x"), sequential(g, order, 3))
    assert result.colors == colour.max() + 1 and result.supersteps == 3
    assert result.steps.column("color").tolist() == list(range(result.colors)) * 3
    assert result.steps.column("updates").sum() == 3 * g.num_vertices


def test_vertex_consistency_is_one_colour_like_the_synchronous_engine():
    g = random_graph(80, 300, seed=14)
    chromatic = run(Mix(), g, engine="chromatic", consistency="vertex", max_supersteps=4)
    sync = run(Mix(), g, max_supersteps=4)
    assert chromatic.colors == 1
    np.testing.assert_array_equal(chromatic.field("x"), sync.field("x"))


@pytest.mark.parametrize("consistency", ["vertex", "edge", "full"])
def test_the_same_answer_on_any_number_of_parts_and_workers(consistency):
    g = load("snap/email-Eu-core.txt")
    ref = run(Mix(), g, engine="chromatic", consistency=consistency, max_supersteps=2)
    for options in ({"partitions": 4}, {"workers": 2, "partitions": 3}):
        got = run(Mix(), g, engine="chromatic", consistency=consistency, max_supersteps=2, debug=True, **options)
        np.testing.assert_array_equal(got.field("x"), ref.field("x"))
        assert got.steps.column("updates").tolist() == ref.steps.column("updates").tolist()


def test_labels_travel_further_per_sweep_than_per_superstep():
    g = grid(40)
    labels, sync = min_label_components(g, return_result=True)
    chromatic_labels, chromatic = min_label_components(g, engine="chromatic", return_result=True, partitions=2)
    np.testing.assert_array_equal(labels, chromatic_labels)
    assert chromatic.colors == 2 and chromatic.supersteps < 0.6 * sync.supersteps  # 40 sweeps vs 78 supersteps


def test_aggregators_run_every_k_sweeps_and_the_budget_counts_sweeps():
    g = random_graph(50, 150, seed=15)
    seen = []

    class Watch(Mix):
        aggregators = (Aggregator("total", lambda v: v.data["x"], every=2),)

        def apply(self, v, acc):
            seen.append((v.superstep, v.globals["total"]))
            super().apply(v, acc)

    result = run(Watch(), g, engine="chromatic", consistency="edge", max_supersteps=5)
    assert result.supersteps == 5 and not result.converged
    totals = {step: total for step, total in seen}
    assert totals[2] == totals[1] and totals[3] != totals[2]  # refreshed after sweeps 2 and 4 only
    assert totals[4] == totals[3] and totals[5] != totals[4]


def test_signals_travel_once_per_sweep_and_empty_colour_steps_exchange_nothing(monkeypatch):
    """Mirrors keep a sweep's signals and send them in one round at its end; a colour step with no
    active vertex on any worker is skipped by every worker, without a round."""
    from gasengine.step import GASStep

    rounds = []
    send = GASStep.send_signals_to_masters
    monkeypatch.setattr(GASStep, "send_signals_to_masters", lambda self, *a: rounds.append(self.step) or send(self, *a))
    g = random_graph(300, 600, seed=21)
    _, result = min_label_components(g, engine="chromatic", consistency="edge", partitions=3, return_result=True)
    sweeps = result.supersteps
    assert sorted(set(rounds)) == list(range(1, sweeps + 1)) and len(rounds) == sweeps  # one per sweep
    t = result.steps
    idle = t.column("active") == 0
    assert idle.any() and (t.column("bytes_exchanged")[idle] == 0).all()
    assert (t.column("seconds")[idle] == 0).all() and (t.column("updates")[idle] == 0).all()
    labels, one_part = min_label_components(g, engine="chromatic", consistency="edge", return_result=True)
    np.testing.assert_array_equal(result.field("component"), labels)
    assert one_part.supersteps == sweeps


@pytest.mark.parametrize("parts", [1, 3])
def test_colour_steps_with_pointer_reads_are_never_skipped(parts):
    """Pointer reads refresh the targets of every vertex at each step: skipping idle colour steps
    would leave them reading an older value (found in review)."""
    from gasengine import OUT

    class Pointer(VertexProgram):
        pointer_reads = {"seen": ("points_at", "value")}
        scatter_edges = OUT

        def init(self, v):
            v.data["points_at"] = np.zeros(len(v), dtype=np.int64)
            v.data["value"] = np.zeros(len(v), dtype=np.int64)
            v.data["seen"] = np.full(len(v), -1, dtype=np.int64)

        def apply(self, v, acc):
            v.data["value"] = v.data["value"] + 1

    g = random_graph(50, 150, seed=1)
    active = np.zeros(50, bool)
    active[0] = True
    r = run(Pointer(), g, engine="chromatic", consistency="edge", partitions=parts, active=active)
    assert r.field("value")[0] == 1 and (r.field("seen") == 1).all()  # every vertex read vertex 0's new value


@pytest.mark.parametrize("options", [{}, {"partitions": 3}, {"backend": "multiprocess", "workers": 2, "partitions": 2}])
def test_hot_first_class_products_give_the_same_values_bit_for_bit(monkeypatch, options):
    """Colour classes of a large part gather through hot-first rows and a permuted copy of the
    neighbour values kept through the sweep; forced on for a small graph (also weighted, over
    out-edges, with classes small and large), every value is the plain products' one."""
    import gasengine.chromatic_engine as chromatic_module
    import gasengine.step as step_module
    from algorithms import PageRankProgram

    used = []
    hot_rows = chromatic_module.ChromaticEngine._hot_rows

    def counting(self, part, act):
        found = hot_rows(self, part, act)
        used.append(found is not None)
        return found

    monkeypatch.setattr(chromatic_module.ChromaticEngine, "_hot_rows", counting)
    from gasengine.generators import rmat

    skewed = rmat(11, 8, seed=5)  # a few large classes and many of a few hubs: the kept copy is refreshed
    rng = np.random.default_rng(31)
    g = Graph(
        skewed.src,
        skewed.dst,
        num_vertices=skewed.num_vertices,
        edge_data={"weight": rng.uniform(0.1, 10.0, skewed.num_edges)},
    )
    refreshed = []
    refresh = step_module.GASStep._refresh_nbr_table
    monkeypatch.setattr(
        step_module.GASStep,
        "_refresh_nbr_table",
        lambda self, batch: refreshed.append(bool(self._hot_tables)) or refresh(self, batch),
    )
    runs = []
    for threshold in (step_module.HOT_FIRST_FROM, 0):  # parts here are far below the real threshold
        monkeypatch.setattr(step_module, "HOT_FIRST_FROM", threshold)
        common = dict(engine="chromatic", consistency="edge", **options)
        ranks = run(PageRankProgram(tol=1e-12), g, max_supersteps=8, **common).field("rank")
        runs.append((ranks, run(WeightedOutSum(rest_every_third=True), g, max_supersteps=5, **common).field("x")))
    (plain, plain_x), (hot, hot_x) = runs
    assert "backend" in options or (any(used) and any(refreshed))  # the hot rows ran, their copy was refreshed
    assert np.array_equal(plain, hot) and np.array_equal(plain_x, hot_x)
