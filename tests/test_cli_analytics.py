"""The analytics commands: ``gasengine run triangles`` (and the other graph-analytics entries) write results keyed by original ids."""

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
