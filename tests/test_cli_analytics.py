"""The analytics commands write results keyed by original ids.

``gasengine run triangles`` and the other graph-analytics entries.
"""

from __future__ import annotations

import networkx as nx
import pandas as pd

from gasengine.cli import main
from tests.datasets import REPO

EXAMPLE = str(REPO / "examples" / "data" / "email-Eu-core.txt")


def test_triangles_writes_counts_by_id_and_prints_the_total(tmp_path, capsys):
    out = tmp_path / "t.tsv"
    assert main(["run", "triangles", "--input", EXAMPLE, "--top", "0", "-o", str(out), "-P", "2"]) == 0
    err = capsys.readouterr().err
    G = nx.Graph(nx.read_edgelist(EXAMPLE, nodetype=int))
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    assert "105461 in all" in err and f"average clustering {nx.average_clustering(G):.6f}" in err
    table = pd.read_csv(out, sep="\t")
    assert list(table.columns) == ["id", "triangles"]
    want = nx.triangles(G)
    assert dict(zip(table["id"], table["triangles"])) == {v: want.get(v, 0) for v in table["id"]}


def test_triangles_refuses_a_superstep_budget(capsys):
    assert main(["run", "triangles", "--input", EXAMPLE, "--max-supersteps", "2"]) == 2
    assert "takes no --max-supersteps" in capsys.readouterr().err


def test_k_core_methods_agree_and_peeling_wants_the_sync_engine(tmp_path, capsys):
    G = nx.Graph(nx.read_edgelist(EXAMPLE, nodetype=int))
    G.remove_edges_from(list(nx.selfloop_edges(G)))
    want = nx.core_number(G)
    for method in ("peeling", "h-index"):
        out = tmp_path / f"{method}.tsv"
        args = ["run", "k-core", "--input", EXAMPLE, "--undirected", "--method", method, "-o", str(out)]
        assert main([*args, "--top", "0", "--no-progress"]) == 0
        table = pd.read_csv(out, sep="\t")
        assert dict(zip(table["id"], table["core"])) == want, method
    capsys.readouterr()
    assert main(["run", "k-core", "--input", EXAMPLE, "--method", "peeling", "--engine", "async"]) == 2
    assert "method='peeling' needs engine='sync'" in capsys.readouterr().err


def test_diameter_prints_the_neighbourhood_function(tmp_path, capsys):
    out = tmp_path / "ecc.tsv"
    assert main(["run", "diameter", "--input", EXAMPLE, "--undirected", "--top", "0", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    bound = int(err.split("diameter: at least ")[1].split(",")[0])
    assert bound in (6, 7)  # the largest component's diameter is 7; HyperANF's bound is never above it
    assert "\n0\t" in err and f"\n{bound}\t" in err
    table = pd.read_csv(out, sep="\t")
    assert list(table.columns) == ["id", "eccentricity"] and table["eccentricity"].max() == bound


def test_diameter_precision_is_checked(capsys):
    assert main(["run", "diameter", "--input", EXAMPLE, "--precision", "20"]) == 2
    assert "--precision must be in 4..16" in capsys.readouterr().err


def test_study_reads_a_ratings_file_for_sgd(capsys):
    from tests.datasets import data_file

    ratings = str(data_file("ratings/movietweetings-snapshot-100K-ratings.dat"))
    assert (
        main(["study", "consistency", "-a", "sgd-mf", "--input", ratings, "--configurations", "sync,async/edge/fifo"])
        == 0
    )
    out = capsys.readouterr().out
    assert "test RMSE" in out and "async" in out


def test_study_mechanisms_runs_every_mechanism(capsys):
    assert (
        main(
            [
                "study",
                "mechanisms",
                "--input",
                "breast_cancer",
                "--workers",
                "2",
                "--budget",
                "30",
                "--mechanisms",
                "bsp_sgd,admm,hogwild",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "bsp_sgd" in out and "admm" in out and "hogwild" in out and "conflicts" in out


def test_study_mechanisms_errors_are_one_line(capsys):
    assert main(["study", "mechanisms", "--input", "/no/such.csv"]) == 2
    assert "gasengine: error: /no/such.csv: no such file" in capsys.readouterr().err


def test_a_failed_write_leaves_the_old_output_whole(tmp_path):
    from gasengine.cli import CommandError, write_safely

    out = tmp_path / "old.tsv"
    out.write_text("the old table\n")

    def half(f):
        f.write(b"half a new ")
        raise OSError(28, "No space left on device")

    import pytest

    with pytest.raises(CommandError, match=r"cannot write .*old.tsv: No space left on device"):
        write_safely(str(out), half)
    assert out.read_text() == "the old table\n" and [p.name for p in tmp_path.iterdir()] == ["old.tsv"]
    write_safely(str(out), lambda f: f.write(b"new\n"))
    assert out.read_text() == "new\n"
