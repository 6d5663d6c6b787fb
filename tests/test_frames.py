"""pandas and Arrow tables in and out: edge lists, vertex tables, results, Parquet and Arrow IPC files."""

from __future__ import annotations

import sys

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from gasengine import Graph, GraphFormatError, Ragged
from gasengine.frames import relabel_chunks, relabel_values, undirected_arcs
from gasengine.loaders import relabel_ids
from gasengine.result import Result, StepStats, StepTable
from tests.datasets import data_file, load

try:
    import pyarrow as pa
    from pyarrow import feather
    from pyarrow import parquet as pq
except ImportError:  # the optional extra ``arrow``: only the file tests need it
    pa = feather = pq = None

needs_arrow = pytest.mark.skipif(pa is None, reason="pyarrow (pip install 'gasengine[arrow]') is not installed")


@pytest.fixture(scope="module")
def wiki_frame() -> pd.DataFrame:
    """Wiki-Vote as a DataFrame with a weight, a cost, a string column and repeated pairs (both ways)."""
    g = load("snap/Wiki-Vote.txt")
    src, dst = g.ids[g.src], g.ids[g.dst]
    rng = np.random.default_rng(1)
    extra = rng.integers(0, src.size, 500)
    src = np.concatenate([src, src[extra], dst[extra[:200]]])  # repeats, and 200 reversed repeats
    dst = np.concatenate([dst, dst[extra], src[extra[:200]]])
    m = src.size
    return pd.DataFrame(
        {
            "voter": src,
            "votee": dst,
            "weight": rng.uniform(0.1, 2.0, m),
            "cost": rng.integers(0, 9, m),
            "label": rng.choice(["a", "b"], m),
        }
    )


def _rows(df: pd.DataFrame, directed: bool, attrs: tuple[str, ...]) -> list:
    """The rows of an edge list, comparable across representations (undirected: endpoints sorted)."""
    ends = df[["source", "target"]].to_numpy()
    if not directed:
        ends = np.sort(ends, axis=1)
    values = df[list(attrs)].to_numpy(dtype=float).round(12)
    return sorted(map(tuple, np.column_stack([ends, values]).tolist()))


# ----------------------------------------------------------- from_pandas_edgelist
@pytest.mark.parametrize("create_using", [None, nx.DiGraph, nx.MultiGraph, nx.MultiDiGraph()])
def test_from_pandas_edgelist_builds_what_networkx_builds(wiki_frame, create_using):
    df = wiki_frame
    g = Graph.from_pandas_edgelist(df, "voter", "votee", ["weight", "cost"], create_using=create_using)
    G = nx.from_pandas_edgelist(df, "voter", "votee", ["weight", "cost"], create_using=create_using)
    assert g.directed == G.is_directed()
    assert g.num_vertices == G.number_of_nodes()
    assert sorted(g.ids.tolist()) == sorted(G.nodes) and g.ids.tolist() == sorted(g.ids.tolist())
    m = g.num_edges if g.directed else g.num_undirected_edges
    assert m == G.number_of_edges()
    # the same edges with the same (for simple graphs: the last row's) attributes
    ours = g.to_pandas_edgelist("source", "target")
    theirs = nx.to_pandas_edgelist(G, "source", "target")
    assert _rows(ours, g.directed, ("weight", "cost")) == _rows(theirs, g.directed, ("weight", "cost"))
    assert g.edge_data["cost"].dtype == np.int64 and g.edge_data["weight"].dtype == np.float64


def test_from_pandas_edgelist_simple_graph_keeps_last_row_of_each_pair():
    df = pd.DataFrame({"source": [1, 2, 1, 3], "target": [2, 1, 2, 3], "w": [1.0, 2.0, 3.0, 4.0]})
    u = Graph.from_pandas_edgelist(df, edge_attr="w")
    assert (u.num_undirected_edges, sorted(u.edge_data["w"][:2].tolist())) == (2, [3.0, 4.0])
    d = Graph.from_pandas_edgelist(df, edge_attr="w", create_using=nx.DiGraph)
    assert sorted(zip(d.ids[d.src].tolist(), d.ids[d.dst].tolist(), d.edge_data["w"].tolist())) == [
        (1, 2, 3.0),
        (2, 1, 2.0),
        (3, 3, 4.0),
    ]
    m = Graph.from_pandas_edgelist(df, edge_attr="w", create_using=nx.MultiDiGraph)
    assert m.edge_data["w"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_edge_attr_none_true_string_and_list(wiki_frame):
    df = wiki_frame.iloc[:1000]
    kinds = nx.MultiDiGraph
    assert Graph.from_pandas_edgelist(df, "voter", "votee", create_using=kinds).edge_data == {}
    every = Graph.from_pandas_edgelist(df, "voter", "votee", True, create_using=kinds)
    assert sorted(every.edge_data) == ["cost", "weight"]  # the string column is skipped
    one = Graph.from_pandas_edgelist(df, "voter", "votee", "cost", create_using=kinds)
    assert list(one.edge_data) == ["cost"] and one.edge_data["cost"].tolist() == df["cost"].tolist()
    both = Graph.from_pandas_edgelist(df, "voter", "votee", ["weight", "cost"], create_using=kinds)
    np.testing.assert_array_equal(both.edge_data["weight"], df["weight"].to_numpy())
    df.loc[df.index[0], "weight"] = -5.0  # the graph holds a copy, not the caller's column
    assert both.edge_data["weight"][0] != -5.0


def test_string_ids_and_mixed_ids():
    df = pd.DataFrame({"source": ["x", "b", "a"], "target": ["b", "a", "zz"]})
    g = Graph.from_pandas_edgelist(df, create_using=nx.DiGraph)
    assert g.ids.tolist() == ["a", "b", "x", "zz"]
    assert g.ids[g.src].tolist() == ["x", "b", "a"] and g.ids[g.dst].tolist() == ["b", "a", "zz"]
    mixed = Graph.from_pandas_edgelist(pd.DataFrame({"source": [1, "a"], "target": ["a", 2]}), create_using=nx.DiGraph)
    assert mixed.ids.tolist() == [1, 2, "a"]  # sorted as pandas sorts mixed values: numbers first
    assert mixed.vertex_index("a") == 2 and mixed.ids[mixed.src].tolist() == [1, "a"]


@needs_arrow
def test_nullable_and_arrow_backed_columns():
    df = pd.DataFrame(
        {
            "source": pd.array([5, 6, 7], dtype="Int64"),
            "target": pd.array([6, 7, 5], dtype="Int64"),
            "w": pd.array([1, None, 3], dtype="Int64"),
        }
    )
    g = Graph.from_pandas_edgelist(df, edge_attr="w", create_using=nx.MultiDiGraph)
    assert g.ids.tolist() == [5, 6, 7] and g.ids.dtype == np.int64
    np.testing.assert_array_equal(g.edge_data["w"], [1.0, np.nan, 3.0])
    arrow = df.astype({"source": "int64[pyarrow]", "target": "int64[pyarrow]"})
    h = Graph.from_pandas_edgelist(arrow, create_using=nx.MultiDiGraph)
    assert h.src.tolist() == g.src.tolist() and h.ids.tolist() == [5, 6, 7]


def test_missing_source_values_name_the_column_and_row():
    df = pd.DataFrame({"from": [1.0, np.nan, 3.0], "to": [2, 3, 1]}, index=[10, 11, 12])
    with pytest.raises(
        GraphFormatError,
        match=r"column 'from' \(source=\) has 1 missing value\(s\), the first in "
        r"row 1 \(index 11\)",
    ):
        Graph.from_pandas_edgelist(df, "from", "to")
    df = pd.DataFrame({"source": ["a", "b"], "target": ["b", None]})
    with pytest.raises(GraphFormatError, match=r"column 'target' \(target=\) has 1 missing"):
        Graph.from_pandas_edgelist(df)


def test_bad_columns_are_named():
    df = pd.DataFrame({"source": [1], "target": [2], "colour": ["red"], "w": [1.0]})
    with pytest.raises(GraphFormatError, match=r"no column 'sorce' for source='sorce' \(did you mean 'source'\?\)"):
        Graph.from_pandas_edgelist(df, source="sorce")
    with pytest.raises(GraphFormatError, match=r"no column 'weight' for edge_attr='weight'"):
        Graph.from_pandas_edgelist(df, edge_attr="weight")
    with pytest.raises(
        GraphFormatError, match=r"column 'colour' \(edge_attr=\) holds (object|str|string) values, not numbers"
    ):
        Graph.from_pandas_edgelist(df, edge_attr=["w", "colour"])
    with pytest.raises(GraphFormatError, match="empty list"):
        Graph.from_pandas_edgelist(df, edge_attr=[])
    with pytest.raises(TypeError, match="create_using must be a networkx graph"):
        Graph.from_pandas_edgelist(df, create_using="digraph")


def test_edge_key_is_kept_for_multigraphs_only():
    df = pd.DataFrame({"source": [0, 0], "target": [1, 1], "k": [7, 9], "w": [1.0, 2.0]})
    m = Graph.from_pandas_edgelist(df, edge_attr="w", create_using=nx.MultiDiGraph, edge_key="k")
    assert m.edge_data["k"].tolist() == [7, 9]
    assert m.to_pandas_edgelist(edge_key="k")["k"].tolist() == [7, 9]
    s = Graph.from_pandas_edgelist(df, edge_attr="w", create_using=nx.DiGraph, edge_key="k")
    assert "k" not in s.edge_data and s.num_edges == 1


# ------------------------------------------------------------- to_pandas_edgelist
def test_to_pandas_edgelist_round_trips_and_matches_networkx():
    g = load("snap/soc-sign-bitcoinalpha.csv")
    df = g.to_pandas_edgelist()
    assert list(df.columns) == ["source", "target", "weight"] and len(df) == g.num_edges
    again = Graph.from_pandas_edgelist(df, edge_attr=True, create_using=nx.MultiDiGraph)
    for name in ("src", "dst", "ids"):
        np.testing.assert_array_equal(getattr(again, name), getattr(g, name))
    np.testing.assert_array_equal(again.edge_data["weight"], g.edge_data["weight"])
    theirs = nx.to_pandas_edgelist(g.to_networkx())
    assert sorted(map(tuple, theirs[["source", "target", "weight"]].to_numpy().tolist())) == sorted(
        map(tuple, df.to_numpy().tolist())
    )


def test_to_pandas_edgelist_undirected_one_row_per_edge():
    g = load("snap/facebook_combined.txt", undirected=True)
    df = g.to_pandas_edgelist("u", "v")
    assert len(df) == g.num_undirected_edges == 88234
    G = g.to_networkx()
    assert nx.utils.edges_equal(G.edges(), list(zip(df["u"], df["v"])))
    # arcs stored in another order are paired all the same
    order = np.random.default_rng(0).permutation(g.num_edges)
    shuffled = Graph.from_arcs(g.src[order], g.dst[order], g.num_vertices, ids=g.ids, directed=False)
    rows = undirected_arcs(shuffled)
    assert rows.size == g.num_undirected_edges
    assert len(shuffled.to_pandas_edgelist()) == g.num_undirected_edges


def test_to_pandas_edgelist_nodelist_dtype_and_keys():
    g = Graph([0, 0, 1, 2, 0], [1, 1, 2, 0, 1], ids=[10, 20, 30], edge_data={"w": [1, 2, 3, 4, 5]})
    df = g.to_pandas_edgelist(nodelist=[10, 99], edge_key="key")
    G = nx.MultiDiGraph(g.to_networkx(multigraph=True))
    theirs = nx.to_pandas_edgelist(G, edge_key="key")  # (networkx's nodelist= with edge_key= fails)
    theirs = theirs[theirs["source"] == 10]
    assert df[["source", "target", "key"]].values.tolist() == theirs[["source", "target", "key"]].values.tolist()
    assert df["w"].tolist() == [1, 2, 5]
    assert g.to_pandas_edgelist(dtype=float)["w"].dtype == np.float64
    u = Graph([0, 1], [1, 2], ids=["a", "b", "c"], directed=False)
    assert u.to_pandas_edgelist(nodelist=["c"]).values.tolist() == [["c", "b"]]  # from the listed vertex
    with pytest.raises(GraphFormatError, match="source name 'w' is also the name of an edge field"):
        g.to_pandas_edgelist(source="w")


# ------------------------------------------------------------------ vertex tables
def test_vertex_frame_round_trip_with_vector_and_ragged_fields():
    g = load("snap/email-Eu-core.txt")
    n = g.num_vertices
    rng = np.random.default_rng(3)
    g.set_vertex_field("x", rng.random(n))
    g.set_vertex_field("f", rng.random((n, 3)))
    sizes = rng.integers(0, 4, n)
    g.set_vertex_field("nbrs", Ragged(np.r_[0, np.cumsum(sizes)], rng.integers(0, 100, sizes.sum())))
    df = g.vertex_frame()
    assert df.index.name == "id" and df.index.tolist() == g.ids.tolist() and list(df.columns) == ["x", "f", "nbrs"]
    assert df["nbrs"].map(len).tolist() == sizes.tolist() and isinstance(df["nbrs"].iloc[0], list)
    h = Graph(g.src, g.dst, n, ids=g.ids)
    h.set_vertex_frame(df.sample(frac=1.0, random_state=0))  # row order does not matter
    np.testing.assert_array_equal(h.vertex_data["x"], g.vertex_data["x"])
    np.testing.assert_array_equal(h.vertex_data["f"], g.vertex_data["f"])
    assert isinstance(h.vertex_data["nbrs"], Ragged) and h.vertex_data["nbrs"].equals(g.vertex_data["nbrs"])
    assert list(g.vertex_frame(["f", "x"]).columns) == ["f", "x"]


def test_set_vertex_frame_real_labels_and_errors():
    g = load("snap/email-Eu-core.txt")
    labels = pd.read_csv(
        data_file("snap/email-Eu-core-department-labels.txt"), sep=" ", header=None, names=["node", "dept"]
    ).set_index("node")
    g.set_vertex_frame(labels)
    assert g.vertex_data["dept"].tolist() == labels.loc[g.ids, "dept"].tolist()
    g.set_vertex_frame(pd.concat([labels, pd.DataFrame({"dept": [1]}, index=[10**9])]))  # extra ids: ignored
    with pytest.raises(GraphFormatError, match=r"no row for 1 of the 1005 vertices, e\.g\. id 0"):
        g.set_vertex_frame(labels.iloc[1:])
    with pytest.raises(GraphFormatError, match="repeats id"):
        g.set_vertex_frame(pd.concat([labels, labels.iloc[:1]]))
    bad = labels.assign(name="x")
    with pytest.raises(GraphFormatError, match=r"column 'name' holds (object|str|string) values, not numbers"):
        g.set_vertex_frame(bad)
    assert "name" not in g.vertex_data  # nothing stored when a column is bad
    nullable = labels["dept"].astype("Int64").rename("d2")
    nullable.iloc[0] = pd.NA
    g.set_vertex_frame(nullable)
    assert np.isnan(g.vertex_data["d2"][g.vertex_index(labels.index[0])])


# ----------------------------------------------------------------------- results
def test_result_to_pandas_and_steps_frame():
    import algorithms

    g = load("snap/email-Eu-core.txt")
    ranks, result = algorithms.pagerank(g, return_result=True, partitions=2)
    df = result.to_pandas()
    assert df.index.name == "id" and df.index.tolist() == g.ids.tolist()
    assert list(df.columns) == list(result.vertex_data)
    np.testing.assert_array_equal(df["rank"].to_numpy(), ranks)
    assert df["rank"].idxmax() == max(result.field("rank", by_id=True).items(), key=lambda kv: kv[1])[0]
    assert list(result.to_pandas(["rank"]).columns) == ["rank"]
    steps = result.steps.to_pandas()
    assert len(steps) == len(result.steps) and steps["updates"].sum() == sum(r.updates for r in result.steps)
    assert steps["bytes_exchanged"].gt(0).all()  # two parts exchange


def test_result_to_pandas_ragged_as_lists():
    g = Graph([0, 1], [1, 2], ids=["a", "b", "c"])
    r = Result(
        {"n": Ragged.from_lists([[1, 2], [], [0]]), "k": np.array([2, 0, 1])},
        {},
        {},
        StepTable([StepStats(1, 3, 3, 0.1, 0.1, 0.0, 0)]),
        True,
        g,
    )
    df = r.to_pandas()
    assert df.to_dict("index") == {"a": {"n": [1, 2], "k": 2}, "b": {"n": [], "k": 0}, "c": {"n": [0], "k": 1}}


# ---------------------------------------------------------------- relabelling
def test_relabel_chunks_agrees_with_relabel_ids():
    rng = np.random.default_rng(5)
    s, d = rng.integers(-50, 5000, 20000), rng.integers(-50, 5000, 20000)
    ref = relabel_ids(s, d)
    out = relabel_chunks([s[:7000], s[7000:]], [d[:100], d[100:]])
    assert out is not None
    for a, b in zip(out, ref):
        np.testing.assert_array_equal(a, b)
    assert relabel_chunks([np.array([0, 10**15])], [np.array([1, 2])]) is None  # too spread: the caller sorts
    s2, _, ids2 = relabel_values(np.array([0, 10**15]), np.array([1, 2]))
    assert ids2.tolist() == [0, 1, 2, 10**15] and s2.tolist() == [0, 3]


# ------------------------------------------------------------ Parquet and Arrow
@pytest.fixture(scope="module")
def wiki_tables(tmp_path_factory, wiki_frame):
    folder = tmp_path_factory.mktemp("tables")
    df = wiki_frame[["voter", "votee", "weight", "label"]]
    paths = {
        "parquet": folder / "wiki.parquet",
        "arrow": folder / "wiki.arrow",
        "feather": folder / "wiki.feather",
        "stream": folder / "wiki-stream.arrow",
    }
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, paths["parquet"], row_group_size=30000)  # several chunks per column
    feather.write_feather(df, paths["arrow"], chunksize=40000)
    feather.write_feather(df, paths["feather"])
    with pa.ipc.new_stream(paths["stream"], table.schema) as writer:  # the IPC stream format
        writer.write_table(table, max_chunksize=50000)
    return df, paths


@needs_arrow
@pytest.mark.parametrize("kind", ["parquet", "arrow", "feather", "stream"])
def test_load_table_matches_from_pandas_edgelist(wiki_tables, kind):
    df, paths = wiki_tables
    g = Graph.load(paths[kind])
    ref = Graph.from_pandas_edgelist(df, "voter", "votee", "weight", create_using=nx.MultiDiGraph)
    for name in ("src", "dst", "ids"):
        np.testing.assert_array_equal(getattr(g, name), getattr(ref, name))
    np.testing.assert_array_equal(g.edge_data["weight"], df["weight"].to_numpy())
    g.edge_data["weight"][0] = 1.0  # writable, as every field is


@needs_arrow
def test_load_table_matches_the_text_file(tmp_path):
    text = load("snap/Wiki-Vote.txt")
    path = tmp_path / "wiki.parquet"
    pd.DataFrame({"s": text.ids[text.src], "t": text.ids[text.dst]}).to_parquet(path)
    g = Graph.load(str(path))
    for name in ("src", "dst", "ids"):
        np.testing.assert_array_equal(getattr(g, name), getattr(text, name))
    assert g.src.dtype == text.src.dtype == np.int32 and g.edge_data == {}
    u = Graph.load(path, undirected=True)
    assert not u.directed and u.num_edges == 2 * text.num_edges - int((text.src == text.dst).sum())
    raw = Graph.load(path, relabel=False)
    assert raw.ids is None and raw.num_vertices == int(text.ids.max()) + 1


@needs_arrow
def test_table_column_selection_by_position_and_name(wiki_tables):
    df, paths = wiki_tables
    by_name = Graph.load(paths["parquet"], columns=("votee", "voter"))
    by_position = Graph.load(paths["parquet"], columns=(1, 0))
    np.testing.assert_array_equal(by_name.src, by_position.src)
    assert by_name.edge_data == {}
    ref = Graph.from_pandas_edgelist(df, "votee", "voter", create_using=nx.MultiDiGraph)
    np.testing.assert_array_equal(by_name.src, ref.src)
    with_weight = Graph.load(paths["arrow"], columns=("voter", "votee", "weight"))
    np.testing.assert_array_equal(with_weight.edge_data["weight"], df["weight"].to_numpy())


@needs_arrow
def test_table_wrong_columns_are_named(wiki_tables, tmp_path):
    _, paths = wiki_tables
    path = str(paths["parquet"])
    with pytest.raises(
        GraphFormatError,
        match=r"wiki\.parquet: no column 'votr' for the source \(did you mean "
        r"'voter'\?\); the table's columns are \['voter', 'votee', 'weight', "
        r"'label'\]",
    ):
        Graph.load(path, columns=("votr", "votee"))
    with pytest.raises(GraphFormatError, match=r"no column 7 for the target: the table has 4 columns"):
        Graph.load(path, columns=(0, 7))
    with pytest.raises(
        GraphFormatError, match=r"weight column 'label' holds (string|large_string) values, not numbers"
    ):
        Graph.load(path, columns=("voter", "votee", "label"))
    with pytest.raises(ValueError, match="header= does not apply"):
        Graph.load(path, header=True)
    with pytest.raises(ValueError, match="distinct"):
        Graph.load(path, columns=("voter", 0))


@needs_arrow
def test_table_missing_values_nan_and_string_ids(tmp_path):
    path = tmp_path / "e.parquet"
    pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"), "b": [2, 3, 1]}).to_parquet(path)
    with pytest.raises(
        GraphFormatError,
        match=r"e\.parquet: column 'a' \(the source\) has 1 missing value\(s\), "
        r"the first in row 1",
    ):
        Graph.load(path)
    pd.DataFrame({"a": [1, 2], "b": [2, 3], "w": [0.5, np.nan]}).to_parquet(path)  # pandas writes NaN as null
    with pytest.raises(GraphFormatError, match=r"weight column 'w' has 1 missing value\(s\), the first in row 1"):
        Graph.load(path)
    pq.write_table(pa.table({"a": [1, 2], "b": [2, 3], "w": pa.array([0.5, np.nan], from_pandas=False)}), path)
    with pytest.raises(GraphFormatError, match=r"weight column 'w' has NaN in row 1"):
        Graph.load(path)
    pd.DataFrame({"a": [1, -2], "b": [2, 3]}).to_parquet(path)
    with pytest.raises(GraphFormatError, match=r"negative id -2 in row 1"):
        Graph.load(path, relabel=False)
    pd.DataFrame({"a": ["bob", "al"], "b": pd.Categorical(["al", "cy"]), "w": [1, 2]}).to_parquet(path)
    g = Graph.load(path)
    assert (
        g.ids.tolist() == ["al", "bob", "cy"]
        and g.src.tolist() == [1, 0]
        and g.edge_data["weight"].tolist() == [1.0, 2.0]
    )
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(GraphFormatError, match=r"junk.parquet: not a readable Parquet file"):
        Graph.load(tmp_path / "junk.parquet")


@needs_arrow
def test_missing_pyarrow_names_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "e.parquet"
    pd.DataFrame({"a": [1], "b": [2]}).to_parquet(path)
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"needs pyarrow: pip install 'gasengine\[arrow\]'"):
        Graph.load(path)


# ----------------------------------------------------------------- networkx input
@pytest.mark.parametrize("value", ["heavy", "2.5", None, [1, 2]])
def test_from_networkx_non_numeric_weight_names_edge_and_attribute(value):
    G = nx.karate_club_graph()
    u, v = list(G.edges())[17]
    G[u][v]["weight"] = value
    with pytest.raises(GraphFormatError, match=rf"edge attribute 'weight' of edge \({u}, {v}\) is "):
        Graph.from_networkx(G, weight="weight")
    Graph.from_networkx(G)  # without weight=, the attribute is skipped, as every non-numeric one


def test_tuple_ids_stay_tuples():
    G = nx.grid_2d_graph(2, 3)
    g = Graph.from_networkx(G)
    g.set_vertex_field("x", np.arange(6.0))
    df = g.vertex_frame()
    assert not isinstance(df.index, pd.MultiIndex) and df.loc[[(1, 2)], "x"].tolist() == [5.0]
    g.set_vertex_frame(df.rename(columns={"x": "y"}).iloc[::-1])
    np.testing.assert_array_equal(g.vertex_data["y"], g.vertex_data["x"])
    edges = g.to_pandas_edgelist(nodelist=[(0, 0)])
    assert sorted(edges["target"].tolist()) == [(0, 1), (1, 0)] and set(edges["source"]) == {(0, 0)}
    assert len(g.to_pandas_edgelist(nodelist="nope")) == 0
    back = Graph.from_pandas_edgelist(g.to_pandas_edgelist())
    assert back.num_undirected_edges == G.number_of_edges() and sorted(back.ids.tolist()) == sorted(G.nodes)
