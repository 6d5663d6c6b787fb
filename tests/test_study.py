"""The consistency study: rows for every configuration, quality figures, failures as rows, CSV, traces, plot."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest

from gasengine import Graph
from gasengine.study import (
    ALGORITHMS,
    Configuration,
    StudyTable,
    canonical_labels,
    configurations_for,
    consistency,
    pagerank_reference,
    sssp_reference,
    study_algorithm,
)
from tests.datasets import random_graph, to_nx_multidigraph


@pytest.fixture(scope="module")
def weighted() -> Graph:
    """A small weighted multigraph with self-loops, isolated vertices and several components."""
    return random_graph(120, 400, seed=3, weighted=True)


@pytest.fixture(scope="module")
def pagerank_table(weighted) -> StudyTable:
    return consistency("pagerank", weighted, progress=False, tol=1e-10)


def names(table: StudyTable) -> list[str]:
    return [row.configuration for row in table.rows]


def test_every_configuration_has_a_row(pagerank_table, weighted):
    expected = [
        "sync",
        "chromatic/vertex",
        "chromatic/edge",
        "chromatic/full",
        *(f"async/{m}/{s}" for m in ("vertex", "edge", "full") for s in ("fifo", "sweep", "priority")),
    ]
    assert names(pagerank_table) == expected == [c.name for c in configurations_for("pagerank")]
    for row in pagerank_table.rows:
        assert row.error == "" and row.converged, row
        assert row.updates > 0 and row.steps > 0 and row.seconds > 0
        assert row.parallelism == pytest.approx(row.updates / max(row.steps, 1)) or row.engine == "chromatic"
        assert row.quality_name == "L1 error"
    # components have no priorities: no priority scheduler by default; random only when asked for
    assert [c.scheduler for c in configurations_for("connected-components") if c.engine == "async"] == [
        "fifo",
        "sweep",
    ] * 3
    assert "async/edge/random" in [c.name for c in configurations_for("sssp", ["fifo", "random"])]


def test_pagerank_errors_against_the_exact_answer(pagerank_table, weighted):
    sync = pagerank_table["sync"]
    assert sync.quality < 1e-6
    # every configuration solves the same system to about its tolerance
    assert max(row.quality for row in pagerank_table.rows) < 1e-5
    # chromatic under vertex consistency is the synchronous superstep, to the bit
    assert pagerank_table["chromatic/vertex"].quality == sync.quality
    assert pagerank_table["chromatic/vertex"].updates == sync.updates


def test_the_pagerank_reference_is_networkx_at_a_tight_tolerance(weighted):
    exact = nx.pagerank(to_nx_multidigraph(weighted), tol=1e-14, max_iter=10_000)
    want = np.array([exact[i] for i in range(weighted.num_vertices)])
    assert np.abs(pagerank_reference(weighted, {}) - want).sum() < 1e-10
    exact = nx.pagerank(to_nx_multidigraph(weighted), alpha=0.5, tol=1e-14, max_iter=10_000)
    want = np.array([exact[i] for i in range(weighted.num_vertices)])
    assert np.abs(pagerank_reference(weighted, {"alpha": 0.5}) - want).sum() < 1e-10


def test_sssp_is_exact_under_every_configuration(weighted):
    table = consistency("sssp", weighted, progress=False, source=0)
    assert len(table) == 13
    assert all(row.converged and row.quality == 0.0 for row in table.rows), str(table)
    assert table.quality_name == "max abs error"
    # the reference keeps the shortest of parallel edges and counts unreachable as inf
    dist = sssp_reference(weighted, {"source": 0, "weight": "weight"})
    G = nx.DiGraph()
    G.add_nodes_from(range(weighted.num_vertices))
    for u, v, w in zip(weighted.src.tolist(), weighted.dst.tolist(), weighted.edge_data["weight"].tolist()):
        if not G.has_edge(u, v) or G[u][v]["weight"] > w:
            G.add_edge(u, v, weight=w)
    exact = nx.single_source_dijkstra_path_length(G, 0)
    want = np.array([exact.get(i, np.inf) for i in range(weighted.num_vertices)])
    assert np.array_equal(dist, want) and np.isinf(dist).any()


def test_components_are_exact_under_every_configuration(weighted):
    table = consistency("connected_components", weighted, progress=False)
    assert names(table) == [c.name for c in configurations_for("connected-components")]
    assert all(row.converged and row.quality == 0 for row in table.rows), str(table)


def test_conflicts_only_without_locks():
    dense = random_graph(80, 1600, seed=5)
    table = consistency(
        "connected-components",
        dense,
        progress=False,
        batch_size=80,
        configurations=["sync", "chromatic/vertex", "async/vertex/fifo", "async/edge/fifo", "async/full/sweep"],
    )
    conflicts = {row.configuration: row.conflicts for row in table.rows}
    assert conflicts["async/vertex/fifo"] > 0
    assert conflicts["sync"] == conflicts["chromatic/vertex"] == 0
    assert conflicts["async/edge/fifo"] == conflicts["async/full/sweep"] == 0
    assert table["async/vertex/fifo"].quality == table["async/edge/fifo"].quality == 0  # min labels survive races


def test_a_failing_configuration_is_a_row_and_the_study_goes_on(weighted):
    plain = ALGORITHMS["sssp"]

    def refuse_chromatic(graph, **options):
        if options["engine"] == "chromatic":
            raise NotImplementedError("not on the chromatic engine")
        return plain.run(graph, **options)

    entry = dataclasses.replace(plain, run=refuse_chromatic)
    table = consistency(
        entry, weighted, progress=False, source=0, configurations=["sync", "chromatic/edge", "async/edge/fifo"]
    )
    assert names(table) == ["sync", "chromatic/edge", "async/edge/fifo"]
    failed = table["chromatic/edge"]
    assert failed.error == "not on the chromatic engine" and not failed.converged
    assert failed.updates is None and failed.quality is None
    assert table["async/edge/fifo"].quality == 0.0
    assert "not on the chromatic engine" in str(table)


def test_an_unfinished_run_reports_its_quality_so_far(weighted):
    table = consistency(
        "connected-components", weighted, progress=False, max_supersteps=1, configurations=["sync", "async/edge/fifo"]
    )
    for row in table.rows:
        assert not row.converged and "did not converge within 1 supersteps" in row.error
        assert row.steps == 1 and row.updates > 0
        assert row.quality > 0  # one step does not finish components on this graph


def test_the_time_limit_stops_a_configuration(weighted):
    # tol=0: the synchronous program never meets its stopping rule
    table = consistency(
        "pagerank",
        weighted,
        progress=False,
        tol=0.0,
        time_limit=0.2,
        max_iter=10**9,
        configurations=["sync", "chromatic/edge"],
    )
    for row in table.rows:
        assert row.error == "stopped by the study's time limit of 0.2 s", row
        assert row.steps > 0 and row.updates is None  # no result to count updates from
        assert 0 < row.quality < 1  # the last trace point
        assert row.seconds < 5


def test_traces_start_at_zero_and_end_at_the_answer(pagerank_table, weighted):
    for row in pagerank_table.rows:
        t = row.trace
        assert len(t) >= 2 and t.name == "L1 error"
        assert t.updates[0] == 0 and t.updates[-1] == row.updates
        assert np.all(np.diff(t.updates) >= 0) and np.all(np.diff(t.seconds) >= 0)
        assert t.quality[-1] == pytest.approx(row.quality)
        assert t.quality[0] > 0.01 > t.quality[-1]
    traces = pagerank_table.traces()
    assert list(traces.columns) == ["configuration", "updates", "seconds", "quality"]
    assert set(traces["configuration"]) == set(names(pagerank_table))


def test_two_workers_trace_only_the_final_point(weighted):
    table = consistency(
        "sssp", weighted, workers=2, progress=False, source=0, configurations=["sync", "async/edge/priority"]
    )
    for row in table.rows:
        assert row.quality == 0.0 and row.converged, row
        assert len(row.trace) == 1 and row.trace.updates[0] == row.updates and row.trace.quality[0] == 0


def test_csv_round_trip(tmp_path, weighted):
    plain = ALGORITHMS["connected-components"]

    def refuse(graph, **options):
        if options["engine"] == "async":
            raise NotImplementedError("no")
        return plain.run(graph, **options)

    table = consistency(
        dataclasses.replace(plain, run=refuse),
        weighted,
        progress=False,
        configurations=["sync", "chromatic/full", "async/vertex/sweep"],
    )
    path = tmp_path / "study.csv"
    table.to_csv(path)
    back = StudyTable.from_csv(path)
    assert back.rows == table.rows
    assert back["async/vertex/sweep"].updates is None and back["sync"].scheduler == ""
    assert table.to_pandas()["updates"].isna().tolist() == [False, False, True]


def test_plot_is_written(tmp_path, pagerank_table):
    pytest.importorskip("matplotlib")
    path = tmp_path / "study.png"
    pagerank_table.plot(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_bad_names_are_errors_that_say_what_to_write():
    with pytest.raises(ValueError, match=r"unknown algorithm 'sspp' \(did you mean 'sssp'\?\)"):
        study_algorithm("sspp")
    with pytest.raises(ValueError, match="bad configuration 'async/edge'"):
        Configuration.parse("async/edge")
    with pytest.raises(ValueError, match="unknown scheduler 'fido' \\(did you mean 'fifo'\\?\\)"):
        configurations_for("sssp", ["fido"])
    with pytest.raises(ValueError, match="only the async engine takes a scheduler"):
        Configuration("sync", "edge", "fifo")


def test_canonical_labels_name_each_class_by_its_smallest_vertex():
    labels = np.array([4, 4, 1, 9, 1, 4])
    assert canonical_labels(labels).tolist() == [0, 0, 2, 3, 2, 0]
    assert np.array_equal(canonical_labels(canonical_labels(labels)), canonical_labels(labels))


def test_a_faulty_quality_measure_is_reported_in_the_row(weighted):
    broken = dataclasses.replace(ALGORITHMS["sssp"], field="no_such_field")
    table = consistency(broken, weighted, progress=False, source=0, configurations=["sync"])
    row = table["sync"]  # the trace reads the field during the run: the run fails, the study goes on
    assert row.quality is None and not row.converged and "no_such_field" in row.error
    # after the run, with no trace to fail first
    table = consistency(broken, weighted, progress=False, source=0, configurations=["sync"], workers=2)
    row = table["sync"]
    assert row.quality is None and row.updates > 0
    assert row.error.startswith("quality not measured: KeyError: ") and "no_such_field" in row.error


# ------------------------------------------------------------------ sgd-mf
def low_rank_ratings(num_users: int = 60, num_items: int = 40, seed: int = 0) -> Graph:
    """Rank-3 ratings with biases and noise 0.1 on 40% of the cells."""
    from gasengine import ratings

    rng = np.random.default_rng(seed)
    P, Q = rng.normal(size=(num_users, 3)), rng.normal(size=(num_items, 3))
    u, i = np.nonzero(rng.random((num_users, num_items)) < 0.4)
    values = 3.0 + rng.normal(size=num_users)[u] + rng.normal(size=num_items)[i] + (P[u] * Q[i]).sum(1)
    return ratings.from_arrays(u, i, values + 0.1 * rng.normal(size=u.size))


@pytest.fixture(scope="module")
def sgd_table() -> StudyTable:
    return consistency(
        "sgd-mf", low_rank_ratings(), progress=False, reg=1e-3, bias_reg=1e-3, rank=3, epochs=30, batch_size=25
    )


def test_sgd_mf_runs_every_engine_and_model(sgd_table):
    n = 100
    expected = [
        "sync",
        "chromatic/vertex",
        "chromatic/edge",
        "chromatic/full",
        *(f"async/{m}/{s}" for m in ("vertex", "edge", "full") for s in ("fifo", "random")),
    ]
    assert names(sgd_table) == expected == [c.name for c in configurations_for("sgd-mf")]
    assert sgd_table.quality_name == "test RMSE" and ALGORITHMS["sgd-mf"].input == "ratings"
    for row in sgd_table.rows:
        assert row.converged and row.error == "", row
        assert row.updates == 30 * n  # every vertex updates `epochs` times, whatever the engine
        # the noise (0.1) plus the estimation error of 16-24 ratings per vertex: 0.17-0.19 here, alike
        assert 0.1 <= row.quality < 0.25 and row.quality == pytest.approx(sgd_table["sync"].quality, rel=0.15), row
    # races only where nothing locks: a dense graph makes them under the random order
    conflicts = {row.configuration: row.conflicts for row in sgd_table.rows}
    assert conflicts["async/vertex/random"] > 0
    assert all(c == 0 for name, c in conflicts.items() if not name.startswith("async/vertex"))
    # the chromatic engine under vertex consistency is the synchronous superstep, to the bit
    assert sgd_table["chromatic/vertex"].quality == sgd_table["sync"].quality
    # five significant digits in the printed table: RMSEs differ in the fourth
    assert f"{sgd_table['sync'].quality:.5g}" in str(sgd_table)


def test_sgd_mf_traces_are_test_rmse_against_updates(sgd_table):
    for row in sgd_table.rows:
        t = row.trace
        assert t.name == "test RMSE" and len(t) >= 10  # a point every tenth of an epoch (n // 10 updates)
        assert t.updates[0] == 0 and t.updates[-1] == row.updates
        assert t.quality[0] > 1.0 and t.quality[-1] < 0.25  # from the initial factors down to near the noise
        assert t.quality[-1] == pytest.approx(row.quality)


def test_sgd_mf_quality_is_the_model_rmse_on_the_held_out_ratings():
    from algorithms.sgd_mf import sgd_mf
    from gasengine import ratings
    from gasengine.study import held_out_rmse, sgd_reference

    g = low_rank_ratings(seed=1)
    table = consistency(
        "sgd-mf", g, progress=False, configurations=["async/edge/random"], epochs=5, seed=3, test_fraction=0.2
    )
    split = ratings.split(g, (0.8, 0.0, 0.2), seed=0)
    model = sgd_mf(
        split.train,
        rank=10,
        lr=1.0,
        reg=0.5,
        bias_reg=0.3,
        epochs=5,
        seed=3,
        engine="async",
        consistency="edge",
        scheduler="random",
    )
    assert table["async/edge/random"].quality == pytest.approx(model.rmse(split.test), abs=1e-12)
    ref = sgd_reference(g, {"split": split, "rank": 10})
    x = np.column_stack(
        [np.vstack([model.user_factors, model.item_factors]), np.concatenate([model.user_bias, model.item_bias])]
    )
    assert held_out_rmse(x, ref) == pytest.approx(model.rmse(split.test), abs=1e-12)


def test_sgd_mf_needs_a_ratings_graph(weighted):
    with pytest.raises(ValueError, match=r"sgd-mf needs a ratings graph.*load_ratings"):
        consistency("sgd-mf", weighted, progress=False)
    with pytest.raises(ValueError, match="test_fraction must be in"):
        consistency("sgd-mf", low_rank_ratings(), progress=False, test_fraction=1.0)
