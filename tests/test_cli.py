"""The gasengine command: run, info, help, errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from gasengine.cli import main
from tests.datasets import REPO, data_file

EXAMPLE = str(REPO / "examples" / "data" / "email-Eu-core.txt")


def test_pagerank_prints_top_vertices_and_writes_tsv(tmp_path, capsys):
    out = tmp_path / "ranks.tsv"
    assert main(["run", "pagerank", "--input", EXAMPLE, "--tol", "1e-10", "-P", "2", "--top", "3", "-o", str(out)]) == 0
    printed = capsys.readouterr()
    top = [line.split("\t") for line in printed.out.splitlines()[1:4]]
    assert [int(i) for i, _ in top] == [1, 130, 160]  # shared/data/README.md reference
    np.testing.assert_allclose([float(r) for _, r in top], [0.009981, 0.007297, 0.006738], atol=5e-7)
    assert "supersteps" in printed.err
    table = pd.read_csv(out, sep="\t")
    assert list(table.columns) == ["id", "rank"] and len(table) == 1005
    assert table.loc[table["rank"].idxmax(), "id"] == 1
    assert abs(table["rank"].sum() - 1) < 1e-9


def test_sssp_with_original_ids_csv_output(tmp_path, capsys):
    out = tmp_path / "dist.csv"
    rome = str(data_file("dimacs9/rome99.gr"))
    assert main(["run", "sssp", "--input", rome, "--source", "1", "--top", "0", "-o", str(out)]) == 0
    table = pd.read_csv(out)
    assert table["dist"].max() == 69102 and table["dist"].sum() == 116006476
    assert table.loc[table["id"] == 1, "dist"].item() == 0


def test_components_reports_group_sizes(capsys):
    wiki = str(data_file("snap/Wiki-Vote.txt"))
    assert main(["run", "connected-components", "--input", wiki, "--top", "1", "--partitions", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("24 groups") and lines[1] == "3\t7066"


def test_npz_output(tmp_path):
    out = tmp_path / "cc.npz"
    assert main(["run", "connected-components", "--input", EXAMPLE, "--top", "0", "-o", str(out)]) == 0
    with np.load(out) as data:
        assert data["id"].size == data["component"].size == 1005
        assert np.unique(data["component"]).size == 20


def test_info(capsys):
    assert main(["info", "--input", EXAMPLE]) == 0
    out = capsys.readouterr().out
    assert "vertices                  1005" in out
    assert "self-loops                642" in out


def test_undirected_and_columns_options(capsys):
    cal = str(data_file("roads/cal.cedge"))
    assert main(["run", "sssp", "--input", cal, "--columns", "1,2,3", "--undirected", "--source", "0", "--top", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "0\t0"


def test_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert main(["run", "pagerank", "--input", str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt" in capsys.readouterr().err
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2\n3 x\n")
    assert main(["info", "--input", str(bad)]) == 2
    assert "bad.txt:2" in capsys.readouterr().err
    assert main(["run", "sssp", "--input", EXAMPLE, "--source", "99999"]) == 2
    assert "99999" in capsys.readouterr().err


def test_help_everywhere():
    for argv in (["--help"], ["run", "--help"], ["run", "pagerank", "--help"], ["info", "--help"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "gasengine", "run", "pagerank", "--input", EXAMPLE, "--top", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].startswith("1\t")


def test_partition_all_prints_one_row_per_strategy(capsys):
    from partitioning import STRATEGIES

    assert main(["partition", "--input", EXAMPLE, "--parts", "4", "--strategy", "all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["strategy", "parts"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == set(STRATEGIES)
    rf = lines[0].split().index("replication_factor")
    assert float(rows["hdrf"][rf]) < float(rows["random"][rf])


def test_partition_save_then_run_with_it(tmp_path, capsys):
    saved = tmp_path / "cut.npz"
    assert main(["partition", "--input", EXAMPLE, "-P", "3", "--strategy", "grid", "--save", str(saved)]) == 0
    with np.load(saved) as data:
        assert data["edge_part"].shape == (25571,) and data["edge_part"].max() == 2
    capsys.readouterr()
    assert main(["run", "connected-components", "--input", EXAMPLE, "--partition", str(saved), "--top", "1"]) == 0
    assert capsys.readouterr().out.startswith("20 groups")


def test_run_with_workers_prints_worker_traffic(capsys):
    assert main(["run", "pagerank", "--input", EXAMPLE, "--workers", "2", "--top", "1"]) == 0
    err = capsys.readouterr().err
    assert "between workers" in err and "exchange" in err


def test_bad_strategy_and_parts(capsys):
    assert main(["run", "pagerank", "--input", EXAMPLE, "--partition", "bogus", "-P", "2"]) == 2
    assert "unknown partition strategy 'bogus'" in capsys.readouterr().err
    assert main(["partition", "--input", EXAMPLE, "--parts", "0"]) == 2
    assert "num_parts" in capsys.readouterr().err
