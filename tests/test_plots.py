"""Plots: the step table of a run, a partitioning report, and ``gasengine run --plot``."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import partitioning
from gasengine import run
from gasengine.cli import main
from gasengine.result import StepStats, StepTable
from tests.datasets import data_file, load

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"


def _line(ax, label=None):
    lines = [line for line in ax.get_lines() if label is None or line.get_label() == label]
    assert lines, [line.get_label() for line in ax.get_lines()]
    return lines[0]


@pytest.fixture(scope="module")
def pagerank_result():
    import algorithms

    g = load("snap/p2p-Gnutella08.txt")
    _, result = algorithms.pagerank(g, return_result=True, partitions=3)
    return result


def test_steps_plot_of_a_real_run(pagerank_result, tmp_path):
    steps = pagerank_result.steps
    path = tmp_path / "steps.png"
    fig = steps.plot(path)
    assert path.read_bytes()[:8] == PNG and path.stat().st_size > 10_000
    active, updates, seconds, exchanged = fig.axes
    assert [ax.get_ylabel() for ax in (active, updates)] == ["active vertices", "vertex updates"]
    assert seconds.get_xlabel() == exchanged.get_xlabel() == "superstep"
    # the lines are the table's columns, step by step
    np.testing.assert_array_equal(_line(active).get_xdata(), steps.column("superstep"))
    np.testing.assert_array_equal(_line(active).get_ydata(), steps.column("active"))
    np.testing.assert_array_equal(_line(updates).get_ydata(), steps.column("updates"))
    unit = exchanged.get_ylabel()
    scale = {"exchanged (bytes)": 1, "exchanged (KiB)": 1024, "exchanged (MiB)": 1024**2}[unit]
    np.testing.assert_allclose(_line(exchanged, "between parts").get_ydata() * scale, steps.column("bytes_exchanged"))
    # stacked compute + exchange bars add up to (at most) each step's time, in the axis' unit
    factor = 1e3 if seconds.get_ylabel() == "milliseconds" else 1.0
    tops = np.array([p.get_y() + p.get_height() for p in seconds.patches]).reshape(-1, len(steps)).max(axis=0)
    np.testing.assert_allclose(tops, steps.column("seconds") * factor, rtol=0.06)
    assert fig._suptitle.get_text() == steps.summary()


def test_steps_plot_scales_and_rounds():
    wide = StepTable(
        [StepStats(k, 10**6 // 10**k, 10**6 // 10**k, 0.002, 0.0015, 0.0005, 8 * 10**6 // 10**k) for k in range(6)]
    )
    fig = wide.plot(title="decay")
    assert fig.axes[0].get_yscale() == "log" and fig.axes[3].get_yscale() == "log"
    assert fig.axes[3].get_ylabel() == "exchanged (MiB)" and fig._suptitle.get_text() == "decay"
    flat = StepTable([StepStats(k, 50, 50, 1.5, 1.0, 0.5, 0) for k in range(1, 4)])
    fig = flat.plot()
    assert fig.axes[0].get_yscale() == "linear" and fig.axes[2].get_ylabel() == "seconds"
    assert any("nothing exchanged" in t.get_text() for t in fig.axes[3].texts)
    rounds = StepTable(
        [StepStats(k, 5, 5, 0.01, 0.005, 0.002, 100, candidates=8, losers=3, lock_seconds=0.003) for k in range(1, 5)]
    )
    fig = rounds.plot()
    assert fig.axes[2].get_xlabel() == "round"
    np.testing.assert_array_equal(_line(fig.axes[0], "candidates").get_ydata(), [8, 8, 8, 8])
    assert "locks" in [t.get_text() for t in fig.axes[2].get_legend().get_texts()]
    with pytest.raises(ValueError, match="no steps to plot"):
        StepTable().plot()


def test_steps_plot_of_a_chromatic_run_marks_the_sweeps():
    from algorithms import PageRankProgram

    g = load("snap/email-Eu-core.txt")
    result = run(PageRankProgram(), g, engine="chromatic", consistency="edge", max_supersteps=3)
    fig = result.steps.plot()
    assert fig.axes[2].get_xlabel() == "colour step"
    rows = len(result.steps)
    np.testing.assert_array_equal(_line(fig.axes[0]).get_xdata(), np.arange(1, rows + 1))
    sweep_lines = [line for line in fig.axes[0].get_lines() if line is not _line(fig.axes[0])]
    assert len(sweep_lines) == result.supersteps - 1


def test_partition_report_plot(tmp_path):
    g = load("snap/Wiki-Vote.txt")
    strategies = ["random", "grid", "hdrf"]
    rep = partitioning.report((g.src, g.dst, g.num_vertices), num_parts=[4, 8], strategies=strategies)
    fig = rep.plot(tmp_path / "cuts.png")
    assert (tmp_path / "cuts.png").read_bytes()[:8] == PNG
    replication, edges, masters = fig.axes
    assert [t.get_text() for t in replication.get_xticklabels()] == strategies
    heights = np.array([p.get_height() for p in replication.patches]).reshape(2, 3)  # one row per part count
    for j, parts in enumerate([4, 8]):
        want = [r["replication_factor"] for r in rep.rows if r["parts"] == parts]
        np.testing.assert_allclose(heights[j], want)
    balance = np.array([p.get_height() for p in edges.patches]).reshape(2, 3)
    want = [[(r["edge_balance"] - 1) * 100 for r in rep.rows if r["parts"] == p] for p in (4, 8)]
    np.testing.assert_allclose(balance, want)
    assert edges.get_ylabel() == "% above the mean" and masters.get_ylim()[1] >= 5.0
    assert [t.get_text() for t in replication.get_legend().get_texts()] == ["4 parts", "8 parts"]
    with pytest.raises(ValueError, match="nothing to plot"):
        partitioning.PartitionReport([]).plot()


def test_missing_matplotlib_names_the_extra(monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    table = StepTable([StepStats(1, 1, 1, 0.1, 0.1, 0.0, 0)])
    with pytest.raises(ImportError, match=r"pip install 'gasengine\[plot\]'"):
        table.plot()
    with pytest.raises(ImportError, match=r"pip install 'gasengine\[plot\]'"):
        partitioning.PartitionReport([{"strategy": "x", "replication_factor": 1.0, "edge_balance": 1.0}]).plot()


def test_cli_run_plot(tmp_path, capsys, monkeypatch):
    path = tmp_path / "steps.png"
    source = str(data_file("snap/email-Eu-core.txt"))
    assert main(["run", "pagerank", "--input", source, "--top", "0", "--partitions", "2", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == PNG
    assert f"wrote the plot to {path}" in capsys.readouterr().err
    assert main(["run", "pagerank", "--input", source, "--plot", str(tmp_path / "steps.gif")]) == 2
    assert "unknown extension '.gif'; use .png, .pdf or .svg" in capsys.readouterr().err
    assert not (tmp_path / "steps.gif").exists()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert main(["run", "pagerank", "--input", source, "--plot", str(tmp_path / "again.png")]) == 2
    err = capsys.readouterr().err
    assert "--plot needs matplotlib: pip install 'gasengine[plot]'" in err and "loaded" not in err
