"""partitioning.report: table rows, text layout and DataFrame."""

from __future__ import annotations

import numpy as np
import pytest

from partitioning import STRATEGIES, PartitionReport, partition, report


def test_report_on_a_graph_runs_every_strategy(rmat12):
    import time

    start = time.perf_counter()
    r = report(rmat12, num_parts=[4, 8])
    elapsed = time.perf_counter() - start
    assert len(r) == 2 * len(STRATEGIES)
    assert [row["strategy"] for row in r.rows[: len(STRATEGIES)]] == list(STRATEGIES)
    assert {row["parts"] for row in r.rows} == {4, 8}
    for row in r.rows:
        cut = partition(rmat12, row["parts"], row["strategy"])
        assert row["replication_factor"] == cut.replication_factor
        assert row["edge_balance"] == cut.edge_balance
        assert row["master_balance"] == cut.master_balance
        assert row["mirrors"] == cut.num_mirrors
        assert row["bytes_per_superstep"] == cut.bytes_per_superstep(8)
        assert isinstance(row["seconds"], float)
        assert row["edges"] == rmat12[0].size
    # each row times its own strategy: together they fit in the report's wall time
    assert 0 < sum(row["seconds"] for row in r.rows) <= elapsed


def test_report_text_is_an_aligned_table(rmat12):
    r = report(rmat12, 4, strategies=["random", "hdrf"])
    lines = str(r).splitlines()
    assert len(lines) == 3
    assert lines[0].split() == list(r.columns)
    assert lines[1].split()[0] == "random" and lines[2].split()[0] == "hdrf"
    # numbers are right-aligned: every column ends at the same offset
    ends = {line.index(word) + len(word) for line in lines for word in [line.split()[4]]}
    assert len(ends) == 1
    assert f"{r.rows[1]['replication_factor']:.3f}" in lines[2]


def test_report_of_cuts_and_labelled_cuts(rmat12):
    a = partition(rmat12, 8, "grid")
    b = partition(rmat12, 8, "hdrf", lam=2.0)
    one = report(a)
    assert len(one) == 1 and "seconds" not in one.columns
    many = report({"grid": a, "hdrf λ=2": b}, value_bytes=16)
    assert [row["strategy"] for row in many.rows] == ["grid", "hdrf λ=2"]
    assert many.rows[1]["bytes_per_superstep"] == b.bytes_per_superstep(16)
    assert len(report([a, b])) == 2


def test_report_strategy_parameters(rmat12):
    r = report(rmat12, 8, {"hdrf": {"lam": 4.0, "order": "file"}})
    assert r.rows[0]["replication_factor"] == partition(rmat12, 8, "hdrf", lam=4.0, order="file").replication_factor


def test_to_pandas(rmat12):
    df = report(rmat12, 4, ["random", "dbh"]).to_pandas()
    assert list(df.columns)[:2] == ["strategy", "parts"]
    assert df.shape == (2, 10)
    assert df["replication_factor"].dtype == np.float64


def test_report_errors():
    with pytest.raises(ValueError, match="needs num_parts"):
        report(([0, 1], [1, 2]))
    with pytest.raises(ValueError, match="unknown partition strategy"):
        report(([0, 1], [1, 2]), 2, ["nope"])
    with pytest.raises(ValueError, match="num_parts"):
        report(([0, 1], [1, 2]), [2, 0])


def test_partition_report_with_missing_values():
    r = PartitionReport([{"strategy": "a", "parts": 2}, {"strategy": "bb", "parts": 4, "seconds": 0.5}])
    text = str(r)
    assert text.splitlines()[1].endswith("-")
    assert "0.500" in text
