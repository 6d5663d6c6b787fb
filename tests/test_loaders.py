"""Tests of gasengine.loaders: real datasets, every format, bad input, round trips."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gasengine import Graph, GraphFormatError
from gasengine.loaders import EXTENSIONS, FORMATS, infer_format, load_graph, relabel_ids
from tests.datasets import DATA, data_file  # one place says where the shared data lives

needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"datasets not found in {DATA}")


def python_parse(path: Path, sep: str | None = None, columns=(0, 1), comment: str = "#"):
    """Reference parser: plain Python, one line at a time."""
    src, dst, weight = [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = line.strip()
            if not text or text.startswith(comment):
                continue
            parts = text.split(sep)
            src.append(int(parts[columns[0]]))
            dst.append(int(parts[columns[1]]))
            if len(columns) == 3:
                weight.append(float(parts[columns[2]]))
    return np.array(src), np.array(dst), np.array(weight)


def endpoints(g: Graph) -> tuple[np.ndarray, np.ndarray]:
    """Original ids of every edge's endpoints."""
    ids = g.original_ids()
    return ids[g.src], ids[g.dst]


# ------------------------------------------------------------- real datasets
REAL = [
    # file, options, |V|, |E|, reference-parser options
    ("snap/email-Eu-core.txt", {}, 1005, 25571, {}),
    ("snap/CA-GrQc.txt", {}, 5242, 28980, {}),
    ("snap/Wiki-Vote.txt", {}, 7115, 103689, {}),
    ("snap/facebook_combined.txt", {}, 4039, 88234, {}),
    ("snap/p2p-Gnutella08.txt", {}, 6301, 20777, {}),
    ("snap/p2p-Gnutella31.txt", {}, 62586, 147892, {}),
    (
        "snap/soc-sign-bitcoinalpha.csv",
        {"format": "csv", "columns": (0, 1, 2)},
        3783,
        24186,
        {"sep": ",", "columns": (0, 1, 2)},
    ),
    ("roads/cal.cedge", {"columns": (1, 2, 3)}, 21048, 21693, {"columns": (1, 2, 3)}),
]


@needs_data
@pytest.mark.parametrize("name, options, n, m, ref", REAL, ids=[r[0] for r in REAL])
def test_real_files_match_counts_and_python_parse(name, options, n, m, ref):
    path = DATA / name
    g = load_graph(path, **options)
    assert (g.num_vertices, g.num_edges) == (n, m)
    src, dst, weight = python_parse(path, **ref)
    got_src, got_dst = endpoints(g)
    np.testing.assert_array_equal(got_src, src)
    np.testing.assert_array_equal(got_dst, dst)
    assert g.ids.dtype == np.int64 and np.all(np.diff(g.ids) > 0)  # increasing id order
    assert g.src.dtype == np.int32
    if len(ref.get("columns", ())) == 3:
        assert g.edge_data["weight"].dtype == np.float64
        np.testing.assert_array_equal(g.edge_data["weight"], weight)  # bit-exact
    else:
        assert g.edge_data == {}


@needs_data
def test_email_eu_core_self_loops_and_undirected():
    path = DATA / "snap/email-Eu-core.txt"
    g = load_graph(path)
    loops = int(np.sum(g.src == g.dst))
    assert loops == 642
    u = load_graph(path, undirected=True)
    assert u.num_edges == 2 * 25571 - loops
    # the mirrored copies are exactly the reversed non-loop edges
    back = g.src != g.dst
    np.testing.assert_array_equal(u.src[g.num_edges :], g.dst[back])
    np.testing.assert_array_equal(u.dst[g.num_edges :], g.src[back])


@needs_data
def test_wiki_vote_ids_not_contiguous_and_relabel_false():
    path = DATA / "snap/Wiki-Vote.txt"
    g = load_graph(path)
    assert (int(g.ids[0]), int(g.ids[-1])) == (3, 8297)
    raw = load_graph(path, relabel=False)
    assert raw.ids is None and raw.num_vertices == 8298 and raw.num_edges == 103689
    np.testing.assert_array_equal(raw.src, g.ids[g.src])


@needs_data
def test_gnutella31_last_line_without_newline_is_read():
    path = DATA / "snap/p2p-Gnutella31.txt"
    assert not path.read_bytes().endswith(b"\n")
    last = path.read_bytes().splitlines()[-1].split()
    g = load_graph(path)
    src, dst = endpoints(g)
    assert (int(src[-1]), int(dst[-1])) == (int(last[0]), int(last[1]))


@needs_data
def test_bitcoin_weights():
    g = load_graph(DATA / "snap/soc-sign-bitcoinalpha.csv", format="csv", columns=(0, 1, 2))
    w = g.edge_data["weight"]
    assert int(np.sum(w < 0)) == 1536 and not np.any(w == 0)
    assert (w.min(), w.max()) == (-10.0, 10.0)
    assert (int(g.ids.min()), int(g.ids.max())) == (1, 7604)


@needs_data
def test_rome99_dimacs():
    g = load_graph(DATA / "dimacs9/rome99.gr")
    assert (g.num_vertices, g.num_edges) == (3353, 8870)
    np.testing.assert_array_equal(g.ids, np.arange(1, 3354))
    w = g.edge_data["weight"]
    assert (w.min(), w.max()) == (1.0, 12711.0) and np.all(w == np.round(w))
    pairs = np.unique(g.src.astype(np.int64) * g.num_vertices + g.dst)
    assert pairs.size == 8859  # 11 parallel arcs
    src, dst, weight = [], [], []
    for line in (DATA / "dimacs9/rome99.gr").read_text().splitlines():
        if line.startswith("a "):
            _, u, v, c = line.split()
            src.append(int(u))
            dst.append(int(v))
            weight.append(float(c))
    got_src, got_dst = endpoints(g)
    np.testing.assert_array_equal(got_src, src)
    np.testing.assert_array_equal(got_dst, dst)
    np.testing.assert_array_equal(w, weight)
    raw = load_graph(DATA / "dimacs9/rome99.gr", relabel=False)
    assert raw.num_vertices == 3354 and raw.in_degree()[0] + raw.out_degree()[0] == 0


@needs_data
def test_cal_cedge_weights_range():
    g = load_graph(DATA / "roads/cal.cedge", columns=(1, 2, 3))
    np.testing.assert_array_equal(g.ids, np.arange(21048))
    w = g.edge_data["weight"]
    assert w.min() == pytest.approx(0.000502, abs=5e-7)
    assert w.max() == pytest.approx(0.299789, abs=5e-7)


@needs_data
def test_graph_load_delegates():
    g = Graph.load(str(DATA / "snap/email-Eu-core.txt"))
    assert (g.num_vertices, g.num_edges) == (1005, 25571)


# ------------------------------------------------------------------ formats
def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


@pytest.mark.parametrize("ext, fmt", sorted(EXTENSIONS.items()))
def test_format_inferred_from_extension(ext, fmt):
    assert infer_format(f"some/graph{ext}") == fmt
    assert infer_format(f"some/GRAPH{ext.upper()}") == fmt


def test_unknown_extension_lists_formats(tmp_path):
    path = write(tmp_path, "g.foo", "1 2\n")
    with pytest.raises(GraphFormatError) as info:
        load_graph(path)
    message = str(info.value)
    assert "'.foo'" in message and str(path) in message
    assert all(f in message for f in FORMATS)


def test_unknown_format_names_format_and_accepted_ones(tmp_path):
    path = write(tmp_path, "g.txt", "1 2\n")
    with pytest.raises(GraphFormatError) as info:
        load_graph(path, format="graphml")
    message = str(info.value)
    assert "'graphml'" in message and all(f in message for f in FORMATS)


def test_missing_file_names_path(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError) as info:
        load_graph(path)
    assert str(path) in str(info.value) and info.value.filename == str(path)


@pytest.mark.parametrize("text", ["", "# only\n# comments\n", "\n\n  \n", "# no newline"])
def test_empty_files(tmp_path, text):
    g = load_graph(write(tmp_path, "e.txt", text))
    assert (g.num_vertices, g.num_edges) == (0, 0)
    assert g.ids.size == 0


def test_edgelist_whitespace_variants(tmp_path):
    text = b"\xef\xbb\xbf# header\r\n10\t20\r\n  20   30  extra cols\r\n\r\n30 10 # trailing\r\n10\t\t40"
    g = load_graph(write(tmp_path, "g.edges", text))
    src, dst = endpoints(g)
    assert src.tolist() == [10, 20, 30, 10] and dst.tolist() == [20, 30, 10, 40]
    assert g.ids.tolist() == [10, 20, 30, 40]


def test_csv_tsv_header_and_spaces(tmp_path):
    csv = write(tmp_path, "g.csv", "src,dst,w\r\n 1 , 2 ,0.5\r\n2,3,1e-3,ignored\r\n")
    g = load_graph(csv, columns=(0, 1, 2), header=True)
    assert endpoints(g)[0].tolist() == [1, 2]
    assert g.edge_data["weight"].tolist() == [0.5, 0.001]
    tsv = write(tmp_path, "g.tsv", "# c\nA\tB\n5\t6\n")
    assert load_graph(tsv, header=True).ids.tolist() == [5, 6]


def test_columns_select_and_reorder(tmp_path):
    path = write(tmp_path, "g.txt", "7 100 200 2.5\n8 200 300 -1\n")
    g = load_graph(path, columns=(2, 1, 3))
    src, dst = endpoints(g)
    assert src.tolist() == [200, 300] and dst.tolist() == [100, 200]
    assert g.edge_data["weight"].tolist() == [2.5, -1.0]


def test_custom_comment_and_no_comment(tmp_path):
    path = write(tmp_path, "g.txt", "% comment\n1 2\n")
    assert load_graph(path, comment="%").num_edges == 1
    with pytest.raises(GraphFormatError, match=r":1: .*'%'"):
        load_graph(path, comment="")


def test_undirected_doubles_edges_and_weights(tmp_path):
    path = write(tmp_path, "g.txt", "1 2 0.5\n3 3 7\n2 3 1.5\n")
    g = load_graph(path, columns=(0, 1, 2), undirected=True)
    src, dst = endpoints(g)
    assert list(zip(src.tolist(), dst.tolist())) == [(1, 2), (3, 3), (2, 3), (2, 1), (3, 2)]
    assert g.edge_data["weight"].tolist() == [0.5, 7.0, 1.5, 0.5, 1.5]


def test_relabel_false_uses_ids_directly(tmp_path):
    g = load_graph(write(tmp_path, "g.txt", "5 2\n2 0\n"), relabel=False)
    assert g.ids is None and g.num_vertices == 6
    assert g.src.tolist() == [5, 2] and g.dst.tolist() == [2, 0]


def test_negative_and_huge_ids_with_relabel(tmp_path):
    big = 10**17  # beyond int32: parsed again into int64, relabelled by np.unique
    path = write(tmp_path, "g.txt", f"-5 {big}\n{big} 0\n0 -5\n")
    g = load_graph(path)
    assert g.ids.tolist() == [-5, 0, big]
    assert g.src.tolist() == [0, 2, 1] and g.dst.tolist() == [2, 1, 0]


def test_integral_decimal_ids_accepted(tmp_path):
    g = load_graph(write(tmp_path, "g.txt", "1.0 2.\n+3 2\n"))
    assert g.ids.tolist() == [1, 2, 3]


def test_weight_spellings(tmp_path):
    tokens = ["1", "-2.5", "+.5", "5.", "1e3", "2E-2", "inf", "-Infinity"]
    tokens += ["0.1234567890123456789", "1e400", "123456789012345678901", "4.9e-324"]
    path = write(tmp_path, "g.txt", "".join(f"1 2 {t}\n" for t in tokens))
    w = load_graph(path, columns=(0, 1, 2)).edge_data["weight"]
    np.testing.assert_array_equal(w, [float(t) for t in tokens])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 10**19), st.integers(-350, 330), st.booleans())
        | st.floats(allow_nan=False).map(lambda x: (repr(x),)),
        min_size=1,
        max_size=50,
    )
)
def test_weights_are_correctly_rounded(tmp_path_factory, numbers):
    # mantissa/exponent pairs cover the exact fast path, Eisel-Lemire and the
    # fallback (19+ digits, subnormals, overflow); reprs cover round-tripping
    tokens = [n[0] if len(n) == 1 else f"{'-' if n[2] else ''}{n[0]}e{n[1]}" for n in numbers]
    path = tmp_path_factory.mktemp("w") / "w.txt"
    path.write_text("".join(f"0 1 {t}\n" for t in tokens))
    w = load_graph(path, columns=(0, 1, 2)).edge_data["weight"]
    assert w.tolist() == [float(t) for t in tokens]
    assert np.signbit(w).tolist() == [np.signbit(float(t)) for t in tokens]


def test_weights_match_python_float_on_many_tokens(tmp_path):
    rng = np.random.default_rng(7)
    k = 40000
    doubles = rng.integers(0, 2**63, k, dtype=np.uint64).view(np.float64)  # any bits
    tokens = [repr(x) for x in doubles[np.isfinite(doubles)].tolist()]
    tokens += [repr(x) for x in (rng.random(k) * 10.0 ** rng.integers(-20, 20, k)).tolist()]
    mants = rng.integers(1, 10**18, k, dtype=np.int64).tolist()
    exps = rng.integers(-345, 310, k).tolist()
    tokens += [f"{m}e{e}" for m, e in zip(mants, exps)]
    tokens += [f"{x:.17g}" for x in rng.uniform(-1e6, 1e6, k).tolist()]
    path = tmp_path / "w.txt"
    path.write_text("".join(f"0 1 {t}\n" for t in tokens))
    w = load_graph(path, columns=(0, 1, 2)).edge_data["weight"]
    np.testing.assert_array_equal(w, np.array([float(t) for t in tokens]))


def test_mtx_general_symmetric_pattern(tmp_path):
    a = sp.coo_array(([1.5, -2.0, 3.0], ([0, 2, 3], [1, 0, 3])), shape=(4, 4))
    scipy.io.mmwrite(tmp_path / "a.mtx", a)
    g = load_graph(tmp_path / "a.mtx")
    assert g.num_vertices == 4 and g.ids.tolist() == [1, 2, 3, 4]
    assert sorted(zip(g.src.tolist(), g.dst.tolist(), g.edge_data["weight"].tolist())) == [
        (0, 1, 1.5),
        (2, 0, -2.0),
        (3, 3, 3.0),
    ]
    sym = sp.coo_array(([4.0, 5.0], ([1, 2], [0, 2])), shape=(3, 3))
    scipy.io.mmwrite(tmp_path / "s.mtx", sym, symmetry="symmetric")
    s = load_graph(tmp_path / "s.mtx")
    assert sorted(zip(s.src.tolist(), s.dst.tolist())) == [(0, 1), (1, 0), (2, 2)]
    pattern = sp.coo_array(([1], ([0], [1])), shape=(2, 2))
    scipy.io.mmwrite(tmp_path / "p.mtx", pattern, field="pattern")
    p = load_graph(tmp_path / "p.mtx")
    assert p.edge_data == {} and p.num_edges == 1


def test_mtx_errors(tmp_path):
    scipy.io.mmwrite(tmp_path / "r.mtx", sp.coo_array(([1.0], ([0], [1])), shape=(2, 3)))
    with pytest.raises(GraphFormatError, match="square"):
        load_graph(tmp_path / "r.mtx")
    bad = "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 2 1.0\n3 x 2.0\n"
    with pytest.raises(GraphFormatError) as info:
        load_graph(write(tmp_path, "bad.mtx", bad))
    assert info.value.path == str(tmp_path / "bad.mtx") and info.value.line == 4


def test_dimacs_small_with_isolated_vertex(tmp_path):
    text = "c tiny\np sp 4 3\nc more\na 1 2 10\na 2 3 20\r\na 3 1 5"
    g = load_graph(write(tmp_path, "t.gr", text))
    assert g.num_vertices == 4 and g.ids.tolist() == [1, 2, 3, 4]
    assert g.src.tolist() == [0, 1, 2] and g.edge_data["weight"].tolist() == [10, 20, 5]


def test_columns_rejected_for_fixed_layouts(tmp_path):
    path = write(tmp_path, "t.gr", "p sp 2 1\na 1 2 3\n")
    with pytest.raises(ValueError, match="columns"):
        load_graph(path, columns=(1, 2, 3))


# ---------------------------------------------------------------- bad input
BAD = [
    # name, content, options, line, words in the message
    ("lone.txt", "1 2\n3 4\n5\n6 7\n", {}, 3, ["at least 2 columns", "found 1"]),
    ("alpha.txt", "# c\n1 2\nfoo 3\n", {}, 3, ["'foo'", "not a number"]),
    ("float.txt", "1 2\r\n3 1.5\r\n", {}, 2, ["'1.5'", "not an integer"]),
    ("sci.txt", "1 2\n2e3 1\n", {}, 2, ["'2e3'", "not an integer"]),
    ("long.txt", "1 9223372036854775808\n", {}, 1, ["'9223372036854775808'", "does not fit a 64-bit integer"]),
    ("longneg.txt", "1 2\n-9223372036854775808 1\n", {}, 2, ["does not fit a 64-bit integer"]),
    ("longer.txt", "1 2\n3 123456789012345678901234567890\n", {}, 2, ["does not fit a 64-bit"]),
    ("nanw.csv", "1,2,0.5\n2,3,NaN\n", {"columns": (0, 1, 2)}, 2, ["weight", "NaN"]),
    ("badw.csv", "1,2,0.5\n\n2,3,heavy\n", {"columns": (0, 1, 2)}, 3, ["'heavy'", "not a number"]),
    ("nowt.txt", "1 2 3\n1 2\n", {"columns": (0, 1, 2)}, 2, ["at least 3 columns"]),
    ("neg.txt", "0 1\n1 -2\n", {"relabel": False}, 2, ["'-2'", "negative", "relabel"]),
    ("header.csv", "SOURCE,TARGET\n1,2\n", {}, 1, ["'SOURCE'", "header=True"]),
    ("header.tsv", "# made by x\nfrom\tto\n1\t2\n", {}, 2, ["'from'", "header=True"]),
    ("empty.csv", "1,2\n3,,4\n", {}, 2, ["empty field in column 1"]),
    ("emptyw.tsv", "1\t2\t\n", {"columns": (0, 1, 2)}, 1, ["empty field in column 2"]),
    ("range.gr", "p sp 3 2\na 1 2 5\nc x\na 1 4 5\n", {}, 4, ["'4'", "outside 1..3"]),
    ("zero.gr", "p sp 3 1\na 0 2 5\n", {}, 2, ["'0'", "outside 1..3"]),
    ("arc.gr", "c x\na 1 2 5\np sp 2 1\n", {}, 2, ["before the problem line"]),
    ("tag.gr", "p sp 2 2\na 1 2 5\ne 2 1 5\n", {}, 3, ["'a u v w'", "'e'"]),
    ("badp.gr", "p sp two 1\n", {}, 1, ["problem line"]),
    ("noww.gr", "p sp 2 1\na 1 2\n", {}, 2, ["at least 4 columns"]),
]


@pytest.mark.parametrize("name, text, options, line, words", BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_file_and_line(tmp_path, name, text, options, line, words):
    path = write(tmp_path, name, text)
    with pytest.raises(GraphFormatError) as info:
        load_graph(path, **options)
    err = info.value
    assert err.path == str(path) and err.line == line
    assert str(err).startswith(f"{path}:{line}: ")
    for word in words:
        assert word in str(err)


def test_dimacs_arc_count_mismatch(tmp_path):
    path = write(tmp_path, "n.gr", "p sp 3 3\na 1 2 5\na 2 3 1\n")
    with pytest.raises(GraphFormatError, match="declares 3 arcs but the file has 2") as info:
        load_graph(path)
    assert info.value.path == str(path)
    with pytest.raises(GraphFormatError, match="no problem line"):
        load_graph(write(tmp_path, "c.gr", "c only comments\n"))


# ----------------------------------------------------------------- relabel
@settings(deadline=None)  # the first example may compile the numba kernels
@given(
    st.lists(st.tuples(st.integers(-(2**40), 2**40), st.integers(0, 3000)), max_size=60),
)
def test_relabel_ids_matches_unique(pairs):
    src = np.array([p[0] for p in pairs], dtype=np.int64)
    dst = np.array([p[1] for p in pairs], dtype=np.int64)
    for s, d in ((src, dst), (np.abs(src) % 5000, dst)):  # np.unique path, bitmap path
        new_src, new_dst, ids = relabel_ids(s, d)
        np.testing.assert_array_equal(ids, np.unique(np.concatenate([s, d])))
        np.testing.assert_array_equal(ids[new_src], s)
        np.testing.assert_array_equal(ids[new_dst], d)


# -------------------------------------------------------- text round trips
edge_lists = st.lists(
    st.tuples(
        st.integers(-(10**12), 10**12) | st.integers(0, 50),
        st.integers(-(10**12), 10**12) | st.integers(0, 50),
        st.floats(allow_nan=False, width=64) | st.integers(-1000, 1000).map(float),
    ),
    max_size=40,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edges=edge_lists,
    sep=st.sampled_from(["\t", " ", "  ", " \t"]),
    newline=st.sampled_from(["\n", "\r\n"]),
    final_newline=st.booleans(),
    comments=st.booleans(),
    fmt=st.sampled_from(["edgelist", "csv", "tsv"]),
)
def test_text_round_trip(tmp_path, edges, sep, newline, final_newline, comments, fmt):
    sep = {"csv": ",", "tsv": "\t"}.get(fmt, sep)
    lines = []
    for k, (u, v, w) in enumerate(edges):
        if comments and k % 3 == 0:
            lines.append(f"# comment {k}")
        lines.append(f"{u}{sep}{v}{sep}{w!r}")
    text = newline.join(lines) + (newline if final_newline and lines else "")
    path = write(tmp_path, "rt.dat", text)
    g = load_graph(path, format=fmt, columns=(0, 1, 2))
    src, dst = endpoints(g)
    assert src.tolist() == [e[0] for e in edges]
    assert dst.tolist() == [e[1] for e in edges]
    assert g.edge_data["weight"].tolist() == [e[2] for e in edges]
    assert g.ids.tolist() == sorted({e[0] for e in edges} | {e[1] for e in edges})


# ------------------------------------------------- default columns (weights)
def test_bitcoin_default_columns_give_the_ratings():
    path = data_file("snap/soc-sign-bitcoinalpha.csv")
    g = load_graph(path)  # SOURCE,TARGET,RATING,TIME: the rating is the weight
    src, dst, rating = python_parse(path, sep=",", columns=(0, 1, 2))
    got_src, got_dst = endpoints(g)
    np.testing.assert_array_equal(got_src, src)
    np.testing.assert_array_equal(got_dst, dst)
    np.testing.assert_array_equal(g.edge_data["weight"], rating)
    assert g.edge_data["weight"].dtype == np.float64
    assert int(np.sum(g.edge_data["weight"] < 0)) == 1536  # shared/data/README.md


def test_cal_cedge_defaults_to_columns_1_2_3():
    path = data_file("roads/cal.cedge")  # edge_id src dst length
    g = load_graph(path)
    explicit = load_graph(path, columns=(1, 2, 3))
    np.testing.assert_array_equal(g.src, explicit.src)
    np.testing.assert_array_equal(g.dst, explicit.dst)
    np.testing.assert_array_equal(g.edge_data["weight"], explicit.edge_data["weight"])
    assert (g.num_vertices, g.num_edges) == (21048, 21693)
    assert load_graph(path, columns=(1, 2)).edge_data == {}


@pytest.mark.parametrize("name", ["snap/email-Eu-core.txt", "snap/CA-GrQc.txt", "snap/Wiki-Vote.txt"])
def test_two_column_real_files_have_no_weight(name):
    assert load_graph(data_file(name)).edge_data == {}


def test_weighted_csv_gives_weighted_shortest_paths(tmp_path):
    # the bug behind the default: sssp on a weighted CSV used to count hops
    from scipy.sparse.csgraph import dijkstra

    from algorithms import sssp

    path = write(tmp_path, "roads.csv", "0,1,5.0\n1,2,1.5\n0,2,10\n")
    g = load_graph(path)
    dist = sssp(g, 0, by_id=False)
    ref = dijkstra(g.to_scipy(), indices=0)
    np.testing.assert_array_equal(dist, ref)
    assert dist.tolist() == [0.0, 5.0, 6.5]


DEFAULT_COLUMNS = [
    # name, content, options, (src ids, dst ids), weights or None
    ("w.txt", "1 2 0.5\n2 3 7\n", {}, ([1, 2], [2, 3]), [0.5, 7.0]),
    ("w.csv", "1,2,-1e3,x\n2,3,2,y\n", {}, ([1, 2], [2, 3]), [-1000.0, 2.0]),
    ("w.tsv", "1\t2\t3\n", {}, ([1], [2]), [3.0]),
    ("c.txt", "# c 1 2 3\n\n   \n1 2 3\n", {}, ([1], [2]), [3.0]),  # comments first
    ("h.csv", "src,dst,w\n1,2,0.25\n", {"header": True}, ([1], [2]), [0.25]),
    ("two.txt", "1 2\n2 3 7\n", {}, ([1, 2], [2, 3]), None),  # the first record decides
    ("word.txt", "1 2 x\n2 3 7\n", {}, ([1, 2], [2, 3]), None),
    ("emptyw.tsv", "1\t2\t\n2\t3\t4\n", {}, ([1, 2], [2, 3]), None),
    ("trail.txt", "1 2 # 3\n", {}, ([1], [2]), None),  # a comment is not a column
    ("given.txt", "1 2 0.5\n2 3\n", {"columns": (0, 1)}, ([1, 2], [2, 3]), None),
    ("three.cedge", "0 1 2\n1 2 3\n", {}, ([1, 2], [2, 3]), None),
    ("four.cedge", "0 1 2 0.5\n", {}, ([1], [2]), [0.5]),
    ("empty.txt", "# nothing\n", {}, ([], []), None),
]


@pytest.mark.parametrize("name, text, options, edges, weights", DEFAULT_COLUMNS, ids=[d[0] for d in DEFAULT_COLUMNS])
def test_default_columns_follow_the_first_record(tmp_path, name, text, options, edges, weights):
    g = load_graph(write(tmp_path, name, text), **options)
    src, dst = endpoints(g)
    assert (src.tolist(), dst.tolist()) == edges
    if weights is None:
        assert g.edge_data == {}
    else:
        assert g.edge_data["weight"].dtype == np.float64
        assert g.edge_data["weight"].tolist() == weights


INFERRED_BAD = [
    # name, content, line, words
    ("few.txt", "1 2 0.5\n2 3\n", 2, ["at least 3 columns", "inferred from line 1", "columns=(0, 1)"]),
    ("word.csv", "# c\n1,2,0.5\n2,3,heavy\n", 3, ["'heavy'", "not a number", "inferred from line 2"]),
    ("emptyw.csv", "1,2,0.5\n2,3,\n", 2, ["empty field in column 2", "inferred from line 1"]),
    ("nanfirst.txt", "1 2 NaN\n", 1, ["weight 'NaN' in column 2 is NaN"]),
    ("few.cedge", "0 1 2 0.5\n1 2 3\n", 2, ["at least 4 columns", "columns=(1, 2)"]),
]


@pytest.mark.parametrize("name, text, line, words", INFERRED_BAD, ids=[b[0] for b in INFERRED_BAD])
def test_inferred_weight_column_errors_name_the_line(tmp_path, name, text, line, words):
    path = write(tmp_path, name, text)
    with pytest.raises(GraphFormatError) as info:
        load_graph(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    for word in words:
        assert word in str(info.value)


def test_inferred_nan_weight_is_the_same_error_as_explicit_columns(tmp_path):
    path = write(tmp_path, "nan.csv", "1,2,0.5\n2,3,nan\n")
    with pytest.raises(GraphFormatError) as inferred:
        load_graph(path)
    with pytest.raises(GraphFormatError) as explicit:
        load_graph(path, columns=(0, 1, 2))
    assert str(inferred.value) == str(explicit.value) == f"{path}:2: weight 'nan' in column 2 is NaN"


# ------------------------------------------------------------ 64-bit ids
def test_every_int64_id_is_accepted(tmp_path):
    top = 2**63 - 1
    text = f"{top} {-top}\n+{top} 0\n0000000000000000000000000042 {10**18}\n"
    g = load_graph(write(tmp_path, "ids.txt", text))
    assert g.ids.tolist() == [-top, 0, 42, 10**18, top]
    src, dst = endpoints(g)
    assert src.tolist() == [top, top, 42] and dst.tolist() == [-top, 0, 10**18]
    assert g.src.dtype == np.int32  # five vertices: the numbers are small


@pytest.mark.parametrize("token", [str(2**63), str(-(2**63)), "99999999999999999999", "1" + "0" * 40])
def test_ids_beyond_int64_are_rejected(tmp_path, token):
    path = write(tmp_path, "big.txt", f"1 2\n3 {token}\n")
    with pytest.raises(GraphFormatError) as info:
        load_graph(path)
    assert str(info.value).startswith(f"{path}:2: vertex id {token[:40]!r} in column 1 ")
    assert "does not fit a 64-bit integer" in str(info.value)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-(2**63) + 1, 2**63 - 1), st.integers(-(2**63) + 1, 2**63 - 1)), min_size=1, max_size=30
    )
)
def test_int64_ids_round_trip_through_text_and_relabel(tmp_path_factory, pairs):
    path = tmp_path_factory.mktemp("ids") / "ids.txt"
    path.write_text("".join(f"{u}\t{v}\n" for u, v in pairs))
    g = load_graph(path)
    src, dst = endpoints(g)
    assert src.tolist() == [u for u, _ in pairs] and dst.tolist() == [v for _, v in pairs]
    s, d, ids = relabel_ids([u for u, _ in pairs], [v for _, v in pairs])
    np.testing.assert_array_equal(ids, g.ids)
    np.testing.assert_array_equal(s, g.src)
    np.testing.assert_array_equal(d, g.dst)


def test_relabel_ids_rejects_values_beyond_int64():
    ok = np.array([2**63 - 1, 5], dtype=np.uint64)
    s, _, ids = relabel_ids(ok, np.array([5, 5], dtype=np.uint64))
    assert ids.tolist() == [5, 2**63 - 1] and s.tolist() == [1, 0]
    with pytest.raises(GraphFormatError, match=r"dst\[1\] = 9223372036854775808 does not fit a 64-bit"):
        relabel_ids([1, 2], np.array([3, 2**63], dtype=np.uint64))
    with pytest.raises(GraphFormatError, match=r"src\[0\] = 1e\+20"):
        relabel_ids([1e20], [0])


# --------------------------------------------------- memory before allocating
@pytest.fixture
def one_mib(monkeypatch):
    monkeypatch.setenv("GASENGINE_MEMORY_LIMIT", str(2**20))


def _peak_allocation(f, *args, **kwargs) -> tuple[BaseException | None, int]:
    """The exception ``f`` raises (or None) and the peak bytes traced meanwhile."""
    import tracemalloc

    tracemalloc.start()
    try:
        f(*args, **kwargs)
        error = None
    except BaseException as exc:  # noqa: BLE001 - returned to the caller
        error = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return error, peak


HUGE_HEADERS = [
    # name, content, options, line, words
    ("big.gr", "c four billion\np sp 4000000000 1\na 1 2 3\n", {}, 2, ["4000000000 vertices", "problem line"]),
    ("big0.gr", "p sp 4000000000 1\na 1 2 3\n", {"relabel": False}, 1, ["4000000000 vertices"]),
    (
        "big.mtx",
        "%%MatrixMarket matrix coordinate real general\n% c\n4000000000 4000000000 1\n1 2 1.0\n",
        {},
        3,
        ["4000000000 vertices", "size line"],
    ),
    (
        "entries.mtx",
        "%%MatrixMarket matrix coordinate real general\n4 4 2000000000000\n1 2 1.0\n",
        {},
        2,
        ["declares 2000000000000 entries", "holds at most"],
    ),
    (
        "dense.mtx",
        "%%MatrixMarket matrix array real general\n100000 100000\n1\n",
        {},
        2,
        ["declares 10000000000 entries"],
    ),
    ("wide.mtx", "%%MatrixMarket matrix array real general\n3 100000000000\n1\n", {}, 2, ["must be square"]),
    ("id.txt", f"1 2\n3 {10**15}\n4 5\n", {"relabel": False}, 2, [f"{10**15 + 1} vertices", "relabel=True"]),
]


@pytest.mark.parametrize("name, text, options, line, words", HUGE_HEADERS, ids=[h[0] for h in HUGE_HEADERS])
def test_huge_declared_sizes_are_refused_before_allocating(tmp_path, one_mib, name, text, options, line, words):
    path = write(tmp_path, name, text)
    error, peak = _peak_allocation(load_graph, path, **options)
    assert isinstance(error, GraphFormatError), error
    assert str(error).startswith(f"{path}:{line}: ")
    for word in words:
        assert word in str(error)
    assert peak < 2**20  # nothing sized by the header was allocated


def test_memory_refusal_carries_the_estimate(tmp_path, one_mib):
    from partitioning.memory import InsufficientMemoryError

    path = write(tmp_path, "big.gr", "p sp 4000000000 1\na 1 2 3\n")
    with pytest.raises(GraphFormatError, match=r"needs about 59\.6 GiB of memory, more than the 1\.0 MiB") as info:
        load_graph(path)
    cause = info.value.__cause__
    assert isinstance(cause, InsufficientMemoryError)
    assert cause.needed == 4_000_000_000 * 16 and cause.available == 2**20


def test_small_files_still_load_under_a_small_limit(tmp_path, one_mib):
    assert load_graph(write(tmp_path, "ok.gr", "p sp 1000 1\na 1 2 3\n")).num_vertices == 1000
    assert load_graph(write(tmp_path, "ok.txt", "1 2\n3 5000\n"), relabel=False).num_vertices == 5001
    mtx = "%%MatrixMarket matrix coordinate real general\n1000 1000 1\n1 2 1.0\n"
    assert load_graph(write(tmp_path, "ok.mtx", mtx)).num_vertices == 1000


# ------------------------------------------- input that is not a text graph
def test_directory_is_refused(tmp_path):
    folder = tmp_path / "graph.txt"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        load_graph(folder)
    assert info.value.filename == str(folder) and info.value.errno == errno.EISDIR
    assert info.value.strerror == "Is a directory, not a graph file"


def test_fifo_is_refused_without_blocking(tmp_path):
    import threading

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_peak_allocation(load_graph, fifo)[0]), daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "load_graph blocked on a FIFO"
    assert isinstance(outcome[0], GraphFormatError)
    assert str(outcome[0]) == (
        f"{fifo}: is a FIFO (named pipe), not a regular file; graphs are read from "
        "regular files only (save the data to a file first)"
    )


def test_character_device_is_refused():
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    with pytest.raises(GraphFormatError, match="/dev/null: is a character device, not a regular file"):
        load_graph("/dev/null", format="edgelist")


def test_unreadable_file_is_a_permission_error(tmp_path, monkeypatch):
    from gasengine import loaders

    path = write(tmp_path, "secret.txt", "1 2\n")
    monkeypatch.setattr(loaders.os, "access", lambda p, mode: False)  # as for a non-root user
    with pytest.raises(PermissionError) as info:
        load_graph(path)
    assert info.value.filename == str(path) and info.value.errno == errno.EACCES
    assert info.value.strerror == "Permission denied: the graph file is not readable"


def _without_root_override() -> None:
    """In a child process: drop root's right to read any file (CAP_DAC_OVERRIDE/READ_SEARCH)."""
    import ctypes

    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_unreadable_file_for_real(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, "secret.txt", "1 2\n")
    path.chmod(0)
    code = (
        "import sys\nfrom gasengine.loaders import load_graph\n"
        "try:\n    load_graph(sys.argv[1])\n"
        "except PermissionError as e:\n    print(e.errno, e.filename, e.strerror)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_without_root_override,
        cwd=Path(__file__).parents[1],
        check=False,
    )
    assert proc.stdout.strip() == f"{errno.EACCES} {path} Permission denied: the graph file is not readable", (
        proc.stderr
    )


def _compressed(kind: str) -> bytes:
    import bz2
    import gzip
    import io
    import lzma
    import zipfile

    text = b"1 2\n2 3\n"
    if kind == "gzip":
        return gzip.compress(text)
    if kind == "bzip2":
        return bz2.compress(text)
    if kind == "xz":
        return lzma.compress(text)
    if kind == "zstd":  # frame magic, then whatever: only the magic is read
        return b"\x28\xb5\x2f\xfd" + b"\x00" * 16
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("g.txt", text)
    return out.getvalue()


@pytest.mark.parametrize(
    "kind, words",
    [
        ("gzip", "looks gzip-compressed; decompress it first"),
        ("bzip2", "looks bzip2-compressed; decompress it first"),
        ("xz", "looks xz-compressed; decompress it first"),
        ("zstd", "looks zstd-compressed; decompress it first"),
        ("zip", "looks like a zip archive; extract the graph file first"),
    ],
)
@pytest.mark.parametrize(
    "name, options",
    [("g.txt", {}), ("g.csv", {"header": True}), ("g.mtx", {}), ("g.gz", {"format": "edgelist"}), ("g.gz", {})],
)
def test_compressed_input_says_so(tmp_path, kind, words, name, options):
    path = write(tmp_path, name, _compressed(kind))
    with pytest.raises(GraphFormatError) as info:
        load_graph(path, **options)
    assert str(info.value).startswith(f"{path}: {words}")
    assert "header=True" not in str(info.value)


def test_utf16_text_says_convert_to_utf8(tmp_path):
    path = write(tmp_path, "g.txt", "1 2\n".encode("utf-16"))
    with pytest.raises(GraphFormatError, match="UTF-16 text; convert it to UTF-8"):
        load_graph(path)


@pytest.mark.parametrize(
    "content, line, shown",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "bytes that are not UTF-8 text"),
        (b"1 2\n3\x004 5\n", 2, "NUL bytes"),
        (b"# ok\n1 2\n\xff\xfe\xfd 3\n", 3, "not UTF-8"),
        (b"1 2\n\x00\x00\x00\x00\n", 2, "NUL bytes"),  # one lone column
    ],
)
def test_binary_data_is_not_a_text_graph(tmp_path, content, line, shown):
    path = write(tmp_path, "b.txt", content)
    with pytest.raises(GraphFormatError) as info:
        load_graph(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: binary data, not a text graph file")
    assert shown in message and "header=True" not in message


def test_header_hint_only_for_words_on_the_first_record(tmp_path):
    with pytest.raises(GraphFormatError, match="pass header=True"):
        load_graph(write(tmp_path, "h.csv", "from,to\n1,2\n"))
    with pytest.raises(GraphFormatError) as info:
        load_graph(write(tmp_path, "n.txt", "-- 2\n"))
    assert "not a number" in str(info.value) and "header=True" not in str(info.value)


@pytest.mark.parametrize(
    "given, suggested",
    [
        ("cvs", "csv"),
        ("edgelst", "edgelist"),
        ("gr", "dimacs"),
        ("matrixmarket", "mtx"),
        ("TSV ", "tsv"),
        ("txt", "edgelist"),
        ("dimac", "dimacs"),
    ],
)
def test_unknown_format_suggests_the_nearest(tmp_path, given, suggested):
    path = write(tmp_path, "g.txt", "1 2\n")
    with pytest.raises(GraphFormatError) as info:
        load_graph(path, format=given)
    message = str(info.value)
    assert f"unknown format {given!r}; did you mean {suggested!r}?" in message
    assert all(f in message for f in FORMATS)


def test_unknown_format_without_a_near_name_has_no_suggestion(tmp_path):
    with pytest.raises(GraphFormatError) as info:
        load_graph(write(tmp_path, "g.txt", "1 2\n"), format="graphml")
    assert "did you mean" not in str(info.value)
