"""``python -m algorithms.mechanisms``: the comparison from the command line (issue 17, point 4)."""

from __future__ import annotations

import csv

import numpy as np

from algorithms.mechanisms import make_logistic
from algorithms.mechanisms.__main__ import main


def test_the_command_prints_the_table_and_writes_csv_and_plot(tmp_path, capsys):
    X, y = make_logistic(150, 3, seed=2)
    data = tmp_path / "d.csv"
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header="a,b,c,label")
    out_csv, out_png = tmp_path / "t.csv", tmp_path / "t.png"
    code = main(
        [
            "--input",
            str(data),
            "--workers",
            "3",
            "--budget",
            "20",
            "--reg",
            "0.01",
            "--mechanisms",
            "bsp_sgd,async_sgd",
            "--csv",
            str(out_csv),
            "--plot",
            str(out_png),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "150 rows, reg 0.01" in printed and "async_sgd" in printed
    with open(out_csv) as fh:
        rows = list(csv.DictReader(fh))
    assert [r["mechanism"] for r in rows] == ["bsp_sgd", "async_sgd"] and float(rows[0]["gap"]) < 0.1
    assert out_png.stat().st_size > 10_000


def test_the_command_reports_bad_input(tmp_path, capsys):
    data = tmp_path / "bad.csv"
    data.write_text("1,2,0\n3,4,1\n0,0,2\n")
    assert main(["--input", str(data)]) == 2
    assert "labels in {0, 1} or {-1, 1}" in capsys.readouterr().err
    assert main(["--input", str(tmp_path / "missing.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
