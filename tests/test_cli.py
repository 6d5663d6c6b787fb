"""The gasengine command: run, info, help, errors, signals.

Exit codes and signals are checked on real ``python -m gasengine``
subprocesses; messages mostly through ``main`` in this process (faster).
"""

from __future__ import annotations

import ctypes
import io
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import psutil
import pytest

from gasengine.cli import main
from gasengine.shm import shm_dir
from tests.datasets import REPO, data_file

EXAMPLE = str(REPO / "examples" / "data" / "email-Eu-core.txt")


def error_line(capsys) -> str:
    """The one error line main printed on stderr (and that it printed no traceback)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("gasengine: error: ")]
    assert len(errors) == 1, err
    return errors[0]


def cli(*args: str, preexec_fn=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m gasengine ARGS`` in a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "gasengine", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        preexec_fn=preexec_fn,
        check=False,
    )


def without_root_override() -> None:
    """In the child before exec: drop root's right to ignore file permissions, so modes apply.

    Takes CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH out of the bounding set
    (prctl PR_CAPBSET_DROP); the exec'd Python cannot get them back.  A
    non-root user has neither, so nothing changes for them.
    """
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def assert_one_error_line(proc: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit 2, no traceback, and one error line, the last (progress lines may come before it)."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("gasengine: error: ")] == lines[-1:], proc.stderr
    for needle in needles:
        assert needle in lines[-1]
    return lines[-1]


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
    assert (
        main(["run", "sssp", "--input", cal, "--columns", "1,2,3", "--undirected", "--source", "0", "--top", "2"]) == 0
    )
    assert capsys.readouterr().out.splitlines()[1] == "0\t0"


def test_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert main(["run", "pagerank", "--input", str(tmp_path / "missing.txt")]) == 2
    assert "missing.txt" in error_line(capsys)
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2\n3 x\n")
    assert main(["info", "--input", str(bad)]) == 2
    assert "bad.txt:2" in error_line(capsys)
    assert main(["run", "sssp", "--input", EXAMPLE, "--source", "99999"]) == 2
    assert error_line(capsys) == "gasengine: error: --source '99999' is not a vertex id of the input"
    assert main(["run", "sssp", "--input", EXAMPLE, "--source", "abc"]) == 2
    assert error_line(capsys) == "gasengine: error: --source 'abc' is not a vertex id of the input"
    assert main(["info", "--input", EXAMPLE, "--columns", "0,x"]) == 2
    assert "--columns" in error_line(capsys)


def test_a_directory_as_input(tmp_path, capsys):
    assert main(["info", "--input", str(tmp_path)]) == 2
    assert "is a directory" in error_line(capsys)


def test_a_fifo_as_input_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "graph.txt"
    os.mkfifo(fifo)
    proc = cli("info", "--input", str(fifo), timeout=60)  # reading it would wait for a writer forever
    assert_one_error_line(proc, "FIFO", str(fifo))


def test_unreadable_input_and_unwritable_output_folder(tmp_path):
    """Real permission errors, also as root (whose file-permission override the child drops)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("1 2\n")
    secret.chmod(0)
    proc = cli("info", "--input", str(secret), preexec_fn=without_root_override)
    assert_one_error_line(proc, f"{secret}: Permission denied")

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    proc = cli("run", "pagerank", "--input", EXAMPLE, "-o", str(locked / "r.tsv"), preexec_fn=without_root_override)
    assert_one_error_line(proc, "not writable")
    assert "loaded" not in proc.stderr  # refused before the graph was read
    assert not (locked / "r.tsv").exists()


def test_output_checked_before_loading(tmp_path, capsys):
    for path, needle in (
        (tmp_path / "no" / "such" / "r.tsv", "does not exist"),
        (tmp_path / "r.json", "use .tsv, .csv or .npz"),
        (tmp_path, "is a directory"),
    ):
        assert main(["run", "pagerank", "--input", EXAMPLE, "-o", str(path)]) == 2
        err = capsys.readouterr().err
        assert needle in err and "loaded" not in err, err  # nothing was loaded or computed
    assert not (tmp_path / "r.json").exists()


def test_output_extension_in_any_case(tmp_path):
    out = tmp_path / "r.CSV"
    assert main(["run", "connected-components", "--input", EXAMPLE, "--top", "0", "-o", str(out)]) == 0
    table = pd.read_csv(out)  # comma-separated, not the TSV default
    assert list(table.columns) == ["id", "component"] and len(table) == 1005
    npz = tmp_path / "r.NPZ"
    assert main(["run", "connected-components", "--input", EXAMPLE, "--top", "0", "-o", str(npz)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.CSV", "r.NPZ"]  # numpy did not append .npz
    with np.load(npz) as data:
        assert data["component"].size == 1005


def test_output_dash_writes_the_rows_to_standard_output_and_ends_quietly_in_a_closed_pipe(tmp_path):
    full = cli("run", "pagerank", "--input", str(EXAMPLE), "--output", "-")
    assert full.returncode == 0, full.stderr
    table = pd.read_csv(io.StringIO(full.stdout), sep="\t")  # the rows alone: no --top list among them
    assert list(table.columns) == ["id", "rank"] and len(table) == 1005
    assert abs(table["rank"].sum() - 1) < 1e-9 and "wrote 1005 rows to standard output" in full.stderr
    # a reader that stops early (| head -1): the writer ends quietly, status 141 as for SIGPIPE
    # (50,000 rows: far more than a pipe holds, so the writer is still writing when the reader goes)
    big = tmp_path / "ring.txt"
    big.write_text("".join(f"{i} {(i + 1) % 50_000}\n" for i in range(50_000)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gasengine", "run", "pagerank", "--input", str(big), "-o", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    assert proc.stdout.readline() == b"id\trank\n"
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 141 and b"Traceback" not in err and b"error" not in err, err


def test_a_symlinked_output_is_refused_before_the_run_and_left_alone(tmp_path, capsys):
    out = tmp_path / "out.tsv"
    out.symlink_to("/dev/full")  # a planted link: writing through it would write wherever it points
    assert main(["run", "pagerank", "--input", EXAMPLE, "--top", "0", "-o", str(out)]) == 2
    line = error_line(capsys)
    assert line == f"gasengine: error: --output {out}: is a symbolic link (to /dev/full); give the file's own path"
    assert out.is_symlink()  # it existed before: not ours to remove


def test_a_failed_write_removes_the_partial_file(tmp_path):
    """The file size limit stops the write half-way (EFBIG); the half-written new file is removed."""
    import resource

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # Python ignores SIGXFSZ: writes fail instead

    out = tmp_path / "ranks.tsv"
    proc = cli("run", "pagerank", "--input", EXAMPLE, "--top", "0", "-o", str(out), preexec_fn=small_files)
    assert_one_error_line(proc, f"cannot write {out}: File too large")
    assert not out.exists()


def test_top_must_not_be_negative(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "pagerank", "--input", EXAMPLE, "--top", "-5"])
    assert info.value.code == 2
    assert "argument --top: must be at least 0, got -5" in capsys.readouterr().err


def test_a_thousand_workers_one_line(tmp_path, capsys):
    small = tmp_path / "small.txt"
    small.write_text("".join(f"{i} {(i * 7 + 1) % 50}\n" for i in range(50)))
    assert main(["run", "connected-components", "--input", str(small), "--workers", "1000"]) == 2
    line = error_line(capsys)
    assert "workers=1000" in line and "RLIMIT_NOFILE" in line and "at most" in line


@pytest.mark.parametrize(
    "algorithm, extra",
    [
        ("sssp", ["--input", str(REPO / "examples" / "data" / "email-Eu-core.txt"), "--source", "0", "--hops"]),
        ("connected-components", ["--input", str(REPO / "examples" / "data" / "email-Eu-core.txt")]),
        ("pagerank", ["--input", str(REPO / "examples" / "data" / "email-Eu-core.txt")]),
    ],
)
def test_superstep_budget_too_small_is_an_error(algorithm, extra, tmp_path, capsys):
    out = tmp_path / "out.tsv"
    assert main(["run", algorithm, *extra, "--max-supersteps", "1", "-o", str(out)]) == 2
    assert "did not converge within 1 supersteps" in error_line(capsys)
    assert not out.exists()  # unfinished values are not written as if they were the answer


def test_sssp_says_when_it_counts_hops(capsys):
    assert main(["run", "sssp", "--input", EXAMPLE, "--source", "0", "--top", "2"]) == 0
    err = capsys.readouterr().err
    assert "has no edge weights, so distances count hops" in err
    assert main(["run", "sssp", "--input", EXAMPLE, "--source", "0", "--top", "2", "--hops"]) == 0
    printed = capsys.readouterr()
    assert "hops" not in printed.err
    assert printed.out.splitlines()[1:] == ["0\t0", "1\t1"]  # vertex 0 -> 1 is an edge of the file
    rome = str(data_file("dimacs9/rome99.gr"))
    assert main(["run", "sssp", "--input", rome, "--source", "1", "--top", "0"]) == 0
    assert "hops" not in capsys.readouterr().err  # weighted: nothing to say


def running_cli(*args: str) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """A CLI subprocess once its 2 workers run."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gasengine", *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    driver = psutil.Process(proc.pid)
    deadline = time.time() + 60
    while len(driver.children()) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    workers = driver.children()
    assert len(workers) == 2, proc.stderr.read() if proc.poll() is not None else "workers did not start"
    time.sleep(0.3)  # into the supersteps
    return proc, workers


def test_a_killed_worker_is_one_line():
    proc, workers = running_cli(
        "run",
        "pagerank",
        "--input",
        EXAMPLE,
        "--workers",
        "2",
        "--tol",
        "0",
        "--max-supersteps",
        "1000000",
        "--no-progress",
        "--top",
        "0",
    )
    workers[-1].kill()
    out, err = proc.communicate(timeout=30)
    assert_one_error_line(
        subprocess.CompletedProcess(proc.args, proc.returncode, out, err), "failed: worker process killed by signal 9"
    )
    assert not {p.name for p in shm_dir().glob(f"gasengine-{proc.pid}-*")}


def test_worker_program_errors_print_without_the_worker_traceback():
    from gasengine.backends.multiprocess import WorkerProgramError
    from gasengine.cli import describe

    err = WorkerProgramError(
        1, "Boom", "apply", "RuntimeError: cursed", 'Traceback (most recent call last):\n  File "x"'
    )
    assert describe(err) == "Boom.apply: RuntimeError: cursed (in worker 1)"


@pytest.mark.parametrize(
    "sig, code, last_line", [(signal.SIGINT, 130, "gasengine: interrupted"), (signal.SIGTERM, 143, None)]
)
def test_signals_end_the_command_quietly_and_clean_up(sig, code, last_line):
    proc, workers = running_cli(
        "run",
        "pagerank",
        "--input",
        EXAMPLE,
        "--workers",
        "2",
        "--tol",
        "0",
        "--max-supersteps",
        "1000000",
        "--no-progress",
        "--top",
        "0",
    )
    assert {p.name for p in shm_dir().glob(f"gasengine-{proc.pid}-*")}  # its parts exist while it runs
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[0].startswith("loaded ")
    assert lines[1:] == ([last_line] if last_line else [])
    _, alive = psutil.wait_procs(workers, timeout=5)
    assert alive == []
    assert not {p.name for p in shm_dir().glob(f"gasengine-{proc.pid}-*")}


def test_help_everywhere():
    for argv in (
        ["--help"],
        ["run", "--help"],
        ["run", "pagerank", "--help"],
        ["info", "--help"],
        ["study", "--help"],
        ["study", "consistency", "--help"],
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 0


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "gasengine", "run", "pagerank", "--input", EXAMPLE, "--top", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
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
        assert data["num_parts"].dtype == np.int64 and int(data["num_parts"]) == 3
    capsys.readouterr()
    assert main(["run", "connected-components", "--input", EXAMPLE, "--partition", str(saved), "--top", "1"]) == 0
    assert capsys.readouterr().out.startswith("20 groups")


def test_partition_save_writes_the_path_it_reports(tmp_path, capsys):
    tiny = tmp_path / "tiny.txt"
    tiny.write_text("0 1\n1 2\n2 0\n")
    saved = tmp_path / "cut_noext"
    assert main(["partition", "--input", str(tiny), "-P", "64", "--strategy", "random", "--save", str(saved)]) == 0
    assert f"to {saved}" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("cut")] == ["cut_noext"]  # no .npz appended
    with np.load(saved) as data:
        # three edges leave the last parts empty: only num_parts says there were 64
        assert data["edge_part"].max() + 1 < 64 and int(data["num_parts"]) == 64
    assert main(["run", "connected-components", "--input", str(tiny), "--partition", str(saved), "--top", "1"]) == 0
    assert capsys.readouterr().out.startswith("1 groups")  # the file was read as a cut, not a strategy name
    assert main(["run", "connected-components", "--input", str(tiny), "--partition", str(saved), "-P", "63"]) == 2
    assert "64 parts but partitions=63" in error_line(capsys)


def test_partition_save_is_checked_before_partitioning(tmp_path, capsys):
    assert (
        main(["partition", "--input", EXAMPLE, "-P", "2", "--strategy", "all", "--save", str(tmp_path / "c.npz")]) == 2
    )
    assert "--save needs a single --strategy" in error_line(capsys)
    assert main(["partition", "--input", EXAMPLE, "-P", "2", "--save", str(tmp_path / "no" / "c.npz")]) == 2
    assert "does not exist" in error_line(capsys)


def test_run_with_workers_prints_worker_traffic(capsys):
    assert main(["run", "pagerank", "--input", EXAMPLE, "--workers", "2", "--top", "1"]) == 0
    err = capsys.readouterr().err
    assert "between workers" in err and "exchange" in err


def test_bad_strategy_and_parts(capsys):
    assert main(["run", "pagerank", "--input", EXAMPLE, "--partition", "bogus", "-P", "2"]) == 2
    assert "unknown partition strategy 'bogus'" in error_line(capsys)
    for argv in (
        ["partition", "--input", EXAMPLE, "--parts", "0"],
        ["run", "pagerank", "--input", EXAMPLE, "--workers", "0"],
        ["run", "pagerank", "--input", EXAMPLE, "--partitions", "-1"],
    ):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        assert "must be at least 1" in capsys.readouterr().err


def test_chromatic_engine_from_the_command_line(capsys):
    wiki = str(data_file("snap/Wiki-Vote.txt"))
    assert (
        main(
            [
                "run",
                "connected-components",
                "--input",
                wiki,
                "--top",
                "1",
                "--engine",
                "chromatic",
                "--consistency",
                "edge",
                "--no-progress",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert captured.out.splitlines()[:2] == ["24 groups; largest (component\tsize):", "3\t7066"]
    assert "sweeps (" in captured.err and "colour steps)" in captured.err


def test_async_engine_from_the_command_line(capsys):
    rome = str(data_file("dimacs9/rome99.gr"))
    assert (
        main(
            [
                "run",
                "sssp",
                "--input",
                rome,
                "--source",
                "1",
                "--top",
                "0",
                "--engine",
                "async",
                "--scheduler",
                "priority",
                "--batch-size",
                "64",
                "--no-progress",
            ]
        )
        == 0
    )
    summary = capsys.readouterr().err.splitlines()[-1]
    assert summary.startswith("sssp: ") and " rounds (" in summary and "lock losers, 0 conflicts)" in summary
    assert (
        main(
            [
                "run",
                "connected-components",
                "--input",
                EXAMPLE,
                "--top",
                "1",
                "--engine",
                "async",
                "--consistency",
                "vertex",
                "--no-progress",
            ]
        )
        == 0
    )
    printed = capsys.readouterr()
    assert printed.out.startswith("20 groups")
    conflicts = int(printed.err.split(" conflicts)")[0].rsplit(" ", 1)[1])
    assert conflicts > 0  # no locks under vertex consistency: the races are counted and shown


def test_scheduler_and_batch_size_need_the_async_engine(capsys):
    assert main(["run", "pagerank", "--input", EXAMPLE, "--scheduler", "priority"]) == 2
    assert error_line(capsys) == (
        "gasengine: error: --scheduler applies to --engine async only (this run uses --engine sync)"
    )
    assert main(["run", "pagerank", "--input", EXAMPLE, "--engine", "chromatic", "--batch-size", "8"]) == 2
    assert "--batch-size applies to --engine async only" in error_line(capsys)
    # async pagerank: --max-supersteps counts passes over the graph; one pass cannot reach the tolerance
    assert main(["run", "pagerank", "--input", EXAMPLE, "--engine", "async", "--max-supersteps", "1"]) == 2
    assert "pagerank did not converge within" in error_line(capsys)
    for argv, needle in (
        (["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
        (["--scheduler", "lifo"], "argument --scheduler: invalid choice: 'lifo'"),
    ):
        with pytest.raises(SystemExit) as info:
            main(["run", "pagerank", "--input", EXAMPLE, "--engine", "async", *argv])
        assert info.value.code == 2
        assert needle in capsys.readouterr().err


def test_study_consistency_prints_the_table_and_writes_csv(tmp_path, capsys):
    rome = str(data_file("dimacs9/rome99.gr"))
    out = tmp_path / "study.csv"
    assert (
        main(
            [
                "study",
                "consistency",
                "--algorithm",
                "sssp",
                "--input",
                rome,
                "--source",
                "1",
                "--csv",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("consistency study: sssp on 3353 vertices, 8870 edges, 1 worker")
    assert lines[1].split()[:3] == ["engine", "consistency", "scheduler"] and "max abs error" in lines[1]
    assert len(lines) == 2 + 13
    table = pd.read_csv(out, keep_default_na=False)
    assert len(table) == 13 and (table["quality"] == 0).all() and table["converged"].all()
    assert (table.loc[table["consistency"] != "vertex", "conflicts"] == 0).all()


def test_study_consistency_plot_and_traces(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    plot, traces = tmp_path / "study.png", tmp_path / "traces.csv"
    assert (
        main(
            [
                "study",
                "consistency",
                "-a",
                "connected-components",
                "--input",
                EXAMPLE,
                "--no-progress",
                "--configurations",
                "sync,chromatic/edge,async/edge/fifo",
                "--plot",
                str(plot),
                "--traces",
                str(traces),
            ]
        )
        == 0
    )
    assert len(capsys.readouterr().out.splitlines()) == 2 + 3
    assert plot.read_bytes()[:4] == b"\x89PNG"
    trace = pd.read_csv(traces)
    assert set(trace["configuration"]) == {"sync", "chromatic/edge", "async/edge/fifo"}
    assert (trace.groupby("configuration")["quality"].last() == 0).all()


def test_study_consistency_bad_input_is_one_line(tmp_path, capsys):
    for argv, needle in (
        (["-a", "pagerrank", "--input", EXAMPLE], "unknown algorithm 'pagerrank' (did you mean 'pagerank'?)"),
        (["-a", "pagerank", "--input", str(tmp_path / "missing.txt")], "missing.txt"),
        (["-a", "pagerank", "--input", EXAMPLE, "--source", "1"], "--source is an option of sssp, not of pagerank"),
        (["-a", "sssp", "--input", EXAMPLE, "--configurations", "async/edge"], "bad configuration 'async/edge'"),
        (["-a", "sssp", "--input", EXAMPLE, "--schedulers", "fido"], "unknown scheduler 'fido'"),
        (["-a", "sssp", "--input", EXAMPLE, "--source", "99999"], "--source '99999' is not a vertex id"),
        (["-a", "sssp", "--input", EXAMPLE, "--plot", str(tmp_path / "p.gif")], "use .png, .pdf or .svg"),
        (["-a", "sssp", "--input", EXAMPLE, "--csv", str(tmp_path / "no" / "s.csv")], "does not exist"),
    ):
        assert main(["study", "consistency", *argv]) == 2, argv
        assert needle in error_line(capsys), argv
    with pytest.raises(SystemExit) as info:
        main(["study", "consistency", "-a", "sssp", "--input", EXAMPLE, "--time-limit", "0"])
    assert info.value.code == 2 and "must be a positive number of seconds" in capsys.readouterr().err


@pytest.mark.parametrize("algorithm, field", [("label-propagation", "label"), ("greedy-color", "color")])
def test_community_and_colouring_algorithms(algorithm, field, tmp_path, capsys):
    out = tmp_path / "out.tsv"
    assert main(["run", algorithm, "--input", EXAMPLE, "--output", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"{algorithm}: " in err and ("sweeps" in err if algorithm == "label-propagation" else "rounds" in err)
    header, *rows = out.read_text().splitlines()
    assert header.split("\t")[-1] == field and len(rows) > 100
    assert main(["run", "greedy-color", "--input", EXAMPLE, "--scheduler", "sweep"]) == 0  # async by default


def test_als_fits_a_ratings_file_and_writes_factors_by_side_and_id(tmp_path, capsys):
    ratings_file = tmp_path / "ratings.dat"
    rng = np.random.default_rng(3)
    users, items = rng.integers(1, 60, 1500), rng.integers(1, 40, 1500)
    pairs = np.unique(np.stack([users, items], axis=1), axis=0)
    lines = [f"{u}::{i:07d}::{(u * 7 + i) % 11}::1367000000" for u, i in pairs]
    ratings_file.write_text("\n".join(lines) + "\n")
    out = tmp_path / "factors.tsv"
    assert (
        main(
            [
                "run",
                "als",
                "--input",
                str(ratings_file),
                "--rank",
                "3",
                "--iterations",
                "4",
                "--test-fraction",
                "0.1",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "als: training RMSE" in err and "held-out RMSE" in err
    header, *rows = out.read_text().splitlines()
    assert header.split("\t")[:3] == ["side", "id", "bias"] and len(header.split("\t")) == 6
    sides = [r.split("\t")[0] for r in rows]
    assert sides.count("user") == np.unique(pairs[:, 0]).size and sides.count("item") == np.unique(pairs[:, 1]).size
    assert "0000001" in out.read_text()  # item ids as written
    assert main(["run", "als", "--input", str(ratings_file), "--engine", "async"]) == 2
    assert "als runs on the sync engine" in error_line(capsys)


def test_an_unexpected_exception_is_one_line_and_debug_shows_its_traceback(tmp_path, capsys):
    path = tmp_path / "g.txt"
    path.write_text("1 2\n2 3\n")
    # a handler that fails the way a bug of ours would (no real input reaches this path any more)
    from gasengine import cli

    def broken(args):
        raise RuntimeError("a bug")

    parser = cli.build_parser()
    args = parser.parse_args(["info", "--input", str(path)])
    args.handler = broken
    original = cli.build_parser

    class Parser:
        def parse_args(self, argv):
            return args

    cli.build_parser = Parser
    try:
        assert cli.main(["info", "--input", str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [
            "gasengine: error: internal error: RuntimeError: a bug (run gasengine --debug ... for the traceback)"
        ]
        assert cli.main(["--debug", "info", "--input", str(path)]) == 2
        err = capsys.readouterr().err
        assert "Traceback (most recent call last)" in err and err.strip().endswith("RuntimeError: a bug")
    finally:
        cli.build_parser = original
