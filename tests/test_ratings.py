"""Ratings as a bipartite graph: loading (every layout, bad input), id spaces, the split."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gasengine import Graph, GraphFormatError
from gasengine import ratings as R
from tests.datasets import data_file

MOVIETWEETINGS = "ratings/movietweetings-snapshot-100K-ratings.dat"
# /work/shared/data/README.md: counts of ratings 0..10 and the mean
README_COUNTS = [12, 1212, 1124, 1844, 3367, 6726, 12944, 22229, 24145, 14005, 12392]
README_MEAN = 7.3248


@pytest.fixture(scope="module")
def movietweetings() -> tuple[Graph, pd.DataFrame]:
    """The real ratings as a graph, and as pandas reads them (the independent reference)."""
    path = data_file(MOVIETWEETINGS)
    df = pd.read_csv(path, sep="::", engine="python", header=None, names=["user", "item", "rating", "time"], dtype=str)
    return Graph.load_ratings(path), df


# ------------------------------------------------------------- real data
def test_movietweetings_counts_match_readme_and_pandas(movietweetings):
    g, df = movietweetings
    assert g.num_edges == len(df) == 100_000
    users, items = R.user_ids(g), R.item_ids(g)
    assert users.size == df["user"].nunique() == 16554
    assert items.size == df["item"].nunique() == 10506
    assert g.num_vertices == 16554 + 10506
    rating = g.edge_data["rating"]
    assert rating.dtype == np.float64
    assert rating.mean() == pytest.approx(README_MEAN, abs=5e-5)
    assert np.bincount(rating.astype(np.int64), minlength=11).tolist() == README_COUNTS
    assert (rating == np.round(rating)).all()
    side = g.vertex_data["is_item"]
    assert side.dtype == bool and not side[:16554].any() and side[16554:].all()


def test_movietweetings_every_rating_matches_pandas_row(movietweetings):
    g, df = movietweetings
    ids = g.original_ids()
    # edge k is line k: user -> item, with the ids as written (leading zeros kept)
    assert (ids[g.src] == df["user"].to_numpy(str)).all()
    assert (ids[g.dst] == df["item"].to_numpy(str)).all()
    assert (g.edge_data["rating"] == df["rating"].astype(float).to_numpy()).all()
    assert g.edge_data["timestamp"].dtype == np.int64
    assert (g.edge_data["timestamp"] == df["time"].astype(np.int64).to_numpy()).all()
    assert (g.vertex_data["is_item"][g.dst]).all() and not g.vertex_data["is_item"][g.src].any()


def test_movietweetings_ids_keep_both_id_spaces(movietweetings):
    g, _ = movietweetings
    users, items = R.user_ids(g), R.item_ids(g)
    # users 1..16554 are contiguous and sorted numerically (not as text: "10" after "9")
    assert users.tolist() == [str(u) for u in range(1, 16555)]
    assert all(len(i) == 7 for i in items[:50].tolist()) and items[0] == "0002844"
    assert (items[1:] > items[:-1]).all()
    assert R.item_vertices(g, "0002844") == 16554
    assert R.user_vertices(g, 7) == R.user_vertices(g, "7") == 6
    with pytest.raises(KeyError, match="no item with id 2844"):
        R.item_vertices(g, 2844)  # the item is "0002844": leading zeros are part of the id
    # no duplicate (user, item) pairs, as the README says
    assert np.unique(g.src.astype(np.int64) * g.num_vertices + g.dst).size == g.num_edges


def test_movietweetings_from_arrays_gives_the_same_graph(movietweetings):
    g, df = movietweetings
    h = R.from_arrays(
        df["user"].astype(int), df["item"].to_numpy(str), df["rating"].astype(float), df["time"].astype(np.int64)
    )
    assert (h.src == g.src).all() and (h.dst == g.dst).all()
    assert (h.ids == g.ids).all()
    for name in ("rating", "timestamp"):
        assert (h.edge_data[name] == g.edge_data[name]).all()


# ------------------------------------------------------------- layouts
ROWS = [("7", "0000008", "7"), ("7", "0114508", "10"), ("12", "0000008", "2.5"), ("3", "7", "0")]


def write_layout(path, rows, sep, *, header=None, crlf=False, bom=False, final_newline=True, comment=False):
    """A ratings file in one layout (``sep=None``: blanks)."""
    lines = [] if header is None else [header]
    if comment:
        lines += ["# ratings exported today", ""]
    lines += [(sep or "  \t").join(r) for r in rows]
    text = ("\r\n" if crlf else "\n").join(lines) + (("\r\n" if crlf else "\n") if final_newline else "")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


@pytest.mark.parametrize(
    "name, sep, options",
    [
        ("r.dat", "::", {}),
        ("r.txt", None, {}),
        ("r.csv", ",", {}),
        ("r.tsv", "\t", {}),
        ("r.data", "\t", {}),  # MovieLens-100k u.data: tabs, sniffed
        ("r.ratings", ",", {}),  # sniffed from the first line
        ("r.dat", "::", {"crlf": True, "bom": True, "final_newline": False, "comment": True}),
        ("r.csv", ",", {"header": "userId,movieId,rating"}),
        ("r.dat", " :: ", {}),  # blanks around the separator are stripped
    ],
)
def test_every_layout_gives_the_same_graph(tmp_path, name, sep, options):
    g = Graph.load_ratings(write_layout(tmp_path / name, ROWS, sep, **options))
    # users 3 < 7 < 12 numerically; items as strings: "0000008" < "0114508" < "7"
    assert R.user_ids(g).tolist() == ["3", "7", "12"]
    assert R.item_ids(g).tolist() == ["0000008", "0114508", "7"]
    assert g.src.tolist() == [1, 1, 2, 0]
    assert g.dst.tolist() == [3, 4, 3, 5]
    assert g.edge_data["rating"].tolist() == [7.0, 10.0, 2.5, 0.0]
    assert "timestamp" not in g.edge_data
    assert g.directed


def test_user_7_and_item_7_are_different_vertices(tmp_path):
    g = Graph.load_ratings(write_layout(tmp_path / "r.txt", [("7", "7", "1"), ("8", "7", "2")], None))
    assert g.ids.dtype == np.int64 and g.ids.tolist() == [7, 8, 7]
    assert R.user_vertices(g, 7) == 0 and R.item_vertices(g, 7) == 2
    assert R.user_vertices(g, np.array([[8, 7]])).tolist() == [[1, 0]]
    with pytest.raises(KeyError, match="no user with id 9"):
        R.user_vertices(g, [7, 9])
    with pytest.raises(KeyError, match="no item with id 'x'"):
        R.item_vertices(g, "x")


@pytest.mark.parametrize(
    "tokens, expected",
    [
        (["5", "-3", "0", "40"], [-3, 0, 5, 40]),  # canonical integers: int64, numeric order
        (["05", "5"], ["05", "5"]),  # a leading zero makes them strings, kept as written
        (["+5", "6"], ["+5", "6"]),
        (["-0", "1"], ["-0", "1"]),
        (["1234567890123456789", "2"], ["1234567890123456789", "2"]),  # beyond 18 digits
        (["tt0000008", "ä-film"], ["tt0000008", "ä-film"]),
    ],
)
def test_id_types_follow_the_tokens(tmp_path, tokens, expected):
    rows = [(t, "9", "1") for t in tokens]
    g = Graph.load_ratings(write_layout(tmp_path / "r.csv", rows, ","))
    assert R.user_ids(g).tolist() == expected
    # ids are int64 only when both sides are integers; else strings on both sides
    as_ints = isinstance(expected[0], int)
    assert g.ids.dtype.kind == ("i" if as_ints else "U")
    assert R.item_ids(g).tolist() == ([9] if as_ints else ["9"])
    rows = [(t, "i", "1") for t in tokens]
    h = Graph.load_ratings(write_layout(tmp_path / "s.csv", rows, ","))
    assert R.user_ids(h).tolist() == [str(t) for t in expected]


def test_timestamps_and_columns(tmp_path):
    path = write_layout(tmp_path / "r.dat", [("1", "10", "3", "1365029107"), ("2", "10", "4", "-5")], "::")
    g = Graph.load_ratings(path)
    assert g.edge_data["timestamp"].tolist() == [1365029107, -5]
    # reorder: rating first, item, user; the timestamp column is then ignored
    h = Graph.load_ratings(path, columns=(2, 1, 0))
    assert R.user_ids(h).tolist() == [3, 4] and h.edge_data["rating"].tolist() == [1.0, 2.0]
    assert "timestamp" not in h.edge_data
    with pytest.raises(ValueError, match="columns must be 3 or 4 distinct"):
        Graph.load_ratings(path, columns=(0, 0, 1))


def test_format_option(tmp_path):
    path = write_layout(tmp_path / "r.txt", [("1", "2", "3")], ",")
    assert Graph.load_ratings(path, format="csv").num_edges == 1
    with pytest.raises(GraphFormatError, match=r"unknown ratings format 'whitespace'; did you mean 'edgelist'"):
        Graph.load_ratings(path, format="whitespace")
    with pytest.raises(GraphFormatError, match=r"expected 3 or 4 fields .* found 1"):
        Graph.load_ratings(path, format="movielens")


def test_comment_option_and_trailing_comments(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("% exported\n1 2 3 % first\n1 3 4\n")
    g = Graph.load_ratings(path, comment="%")
    assert g.edge_data["rating"].tolist() == [3.0, 4.0]


def test_duplicates_are_kept_as_parallel_edges(tmp_path):
    g = Graph.load_ratings(write_layout(tmp_path / "r.txt", [("1", "2", "3"), ("1", "2", "5")], None))
    assert g.num_edges == 2 and g.src.tolist() == [0, 0] and g.dst.tolist() == [1, 1]


# one rating per line in every layout: the loader agrees with a plain Python parse
ids = st.one_of(st.integers(0, 10**6).map(str), st.from_regex(r"0[0-9]{1,6}|[a-z]{1,5}", fullmatch=True))
ratings_rows = st.lists(st.tuples(ids, ids, st.integers(-10, 10), st.integers(0, 2**40)), min_size=1, max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ratings_rows, sep=st.sampled_from(["::", ",", "\t", " "]))
def test_loader_matches_python_parse(tmp_path, rows, sep):
    text = "".join(f"{u}{sep}{i}{sep}{r / 2}{sep}{t}\n" for u, i, r, t in rows)
    path = tmp_path / "r.dat"
    path.write_text(text)
    g = Graph.load_ratings(path)
    ids_ = g.original_ids().astype(str)
    ref = [line.split(None if sep == " " else sep) for line in text.splitlines()]
    assert ids_[g.src].tolist() == [r[0] for r in ref]
    assert ids_[g.dst].tolist() == [r[1] for r in ref]
    assert g.edge_data["rating"].tolist() == [float(r[2]) for r in ref]
    assert g.edge_data["timestamp"].tolist() == [int(r[3]) for r in ref]
    assert R.user_ids(g).size == len({r[0] for r in ref}) and R.item_ids(g).size == len({r[1] for r in ref})


# ------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "text, line, message",
    [
        ("1::10::7::5\n2::10::8\n", 2, r"expected 4 fields \(user item rating timestamp\) as line 1 has, found 3"),
        ("1::10::7\n2::10::8::9\n", 2, r"expected 3 fields \(user item rating\) as line 1 has, found 4"),
        ("1::10\n", 1, r"expected 3 or 4 fields .* found 2"),
        ("1::10::7::1::2\n", 1, r"found 5.*pass columns="),
        ("1::10::7\n2::10::nan\n", 2, r"rating 'nan' in column 2 is NaN"),
        ("1::10::7\n\n2::10::inf\n", 3, r"rating 'inf' in column 2 is infinite"),
        ("1::10::-Infinity\n", 1, r"rating '-Infinity' in column 2 is infinite"),
        ("1::10::7\n2::10::1e999\n", 2, r"rating '1e999' .* overflows to infinity"),
        ("1::10::7\n2::10::seven\n", 2, r"rating 'seven' in column 2 is not a number"),
        ("1::10::7x\n", 1, r"rating '7x' in column 2 is not a number \(if the first line is a header"),
        ("1::10::7::5\n2::10::8::1.5\n", 2, r"timestamp '1.5' in column 3 is not an integer"),
        ("1::10::7::5\n2::10::8::soon\n", 2, r"timestamp 'soon' in column 3 is not a number"),
        ("1::10::7\n::10::8\n", 2, r"empty user id in column 0"),
        ("1::10::7\n1::::8\n", 2, r"empty item id in column 1"),
        ("1::10::7\n1::10::\n", 2, r"empty rating in column 2"),
        ("1 10 7\n1 1\x00 8\n", 2, r"binary data"),
    ],
)
def test_bad_lines_are_named(tmp_path, text, line, message):
    path = tmp_path / "bad.dat"
    path.write_bytes(text.encode())
    with pytest.raises(GraphFormatError, match=message) as info:
        Graph.load_ratings(path)
    assert info.value.line == line and info.value.path == str(path)
    assert str(info.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize("name, sep", [("bad.csv", ","), ("bad.tsv", "\t"), ("bad.txt", " "), ("bad.dat", "::")])
@pytest.mark.parametrize(
    "rows, line, message",
    [
        (
            [["1", "10", "7"], ["2", "10", "8"], ["3", "10"]],
            3,
            r"expected 3 fields \(user item rating\) as line 2 has, found 2",
        ),
        (
            [["1", "10", "7", "5"], ["2", "10", "8", "6", "9"]],
            2,
            r"expected 4 fields \(user item rating timestamp\) as line 2 has, found 5",
        ),
        ([["1", "10", "7"], ["2", "10", "NaN"]], 2, r"rating 'NaN' in column 2 is NaN"),
        ([["1", "10", "-inf"]], 1, r"rating '-inf' in column 2 is infinite"),
    ],
    ids=["too-few", "too-many", "nan", "inf"],
)
def test_bad_lines_are_named_in_every_layout(tmp_path, name, sep, rows, line, message):
    """Point 8 of issue 13: the file and the line, whatever the separator; and no graph at all."""
    path = tmp_path / name
    path.write_text("# a comment line first\n" + "".join(sep.join(r) + "\n" for r in rows))
    with pytest.raises(GraphFormatError, match=message) as info:
        Graph.load_ratings(path)
    assert (info.value.path, info.value.line) == (str(path), line + 1)  # the comment is line 1
    assert str(info.value).startswith(f"{path}:{line + 1}: ")


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no ratings: the file is empty"),
        ("# only a comment\n\n   \n", "no ratings: the file is empty"),
        ("user,item,rating\n", r"only a header line \(line 1: 'user,item,rating'\)"),
    ],
)
def test_empty_files(tmp_path, text, message):
    path = tmp_path / "empty.csv"
    path.write_text(text)
    with pytest.raises(GraphFormatError, match=message) as info:
        Graph.load_ratings(path)
    assert info.value.path == str(path)


def test_compressed_and_missing_files(tmp_path):
    path = tmp_path / "r.dat"
    path.write_bytes(gzip.compress(b"1::2::3\n"))
    with pytest.raises(GraphFormatError, match="gzip"):
        Graph.load_ratings(path)
    with pytest.raises(FileNotFoundError):
        Graph.load_ratings(tmp_path / "missing.dat")


@pytest.mark.parametrize(
    "args, message",
    [
        (([1, 2], [1], [1.0]), "got lengths users=2, items=1, ratings=1"),
        (([1], [1], [np.inf]), r"ratings\[0\] = inf is not a finite number"),
        (([1, 2], [1, 1], [1.0, np.nan]), r"ratings\[1\] = nan"),
        (([1], [1], ["good"]), "ratings must be numbers"),
        (([[1]], [1], [1.0]), "users must be one-dimensional"),
        (([1.5], [1], [1.0]), r"users must hold integer vertex numbers; users\[0\] = 1.5"),
        (([1], [1], [1.0], [0.5]), r"timestamps\[0\] = 0.5"),
    ],
)
def test_from_arrays_errors(args, message):
    with pytest.raises(GraphFormatError, match=message):
        R.from_arrays(*args)


def test_from_arrays_id_types():
    g = R.from_arrays(np.array([3, 1], np.uint16), ["b", "a"], [1, 2])
    assert R.user_ids(g).tolist() == ["1", "3"] and R.item_ids(g).tolist() == ["a", "b"]
    assert g.edge_data["rating"].dtype == np.float64
    assert R.from_arrays([1], [2.0], [1]).ids.tolist() == [1, 2]
    with pytest.raises(ValueError, match="not a ratings graph"):
        R.user_ids(Graph([0], [1]))


# ------------------------------------------------------------- split
def check_split(g: Graph, s: R.Split, fractions) -> None:
    """Every invariant of a split, checked against the graph that was split."""
    m = g.num_edges
    parts = [s.train_edges, s.validation.edges, s.test.edges]
    everything = np.concatenate(parts)
    assert np.sort(everything).tolist() == list(range(m))  # disjoint, and nothing lost
    for p in parts:
        assert (np.diff(p) > 0).all()
    # the training graph: same vertices, only the training edges, all their fields
    t = s.train
    assert t.num_vertices == g.num_vertices and t.num_edges == s.train_edges.size
    assert (t.ids == g.ids).all() and (t.vertex_data["is_item"] == g.vertex_data["is_item"]).all()
    assert (t.src == g.src[s.train_edges]).all() and (t.dst == g.dst[s.train_edges]).all()
    assert sorted(t.edge_data) == sorted(g.edge_data)
    assert (t.edge_data["rating"] == g.edge_data["rating"][s.train_edges]).all()
    for held in (s.validation, s.test):
        assert (held.user == g.src[held.edges]).all() and (held.item == g.dst[held.edges]).all()
        assert (held.rating == g.edge_data["rating"][held.edges]).all()
        # the promise: every held-out user and item has training ratings (counted by pandas)
        train = pd.DataFrame({"u": t.src, "i": t.dst})
        assert pd.Series(held.user).isin(train["u"]).all()
        assert pd.Series(held.item).isin(train["i"]).all()
    # sizes: the drawn counts, less what had to move to training
    n_val, n_test = round(fractions[1] * m), round(fractions[2] * m)
    assert len(s.validation) + len(s.test) + s.moved == n_val + n_test
    assert s.train_edges.size == m - n_val - n_test + s.moved


def test_split_real_ratings(movietweetings):
    g, _ = movietweetings
    s = R.split(g, (0.8, 0.1, 0.1), seed=0)
    check_split(g, s, (0.8, 0.1, 0.1))
    # a third of the users rated once, so some held-out ratings must move; not many
    once = np.bincount(g.src, minlength=g.num_vertices)[:16554] == 1
    assert once.sum() > 1000
    assert 0 < s.moved < 0.05 * g.num_edges
    assert 0.08 * g.num_edges < len(s.test) <= 0.1 * g.num_edges
    again = R.split(g, (0.8, 0.1, 0.1), seed=0)
    assert (again.test.edges == s.test.edges).all() and again.moved == s.moved
    other = R.split(g, (0.8, 0.1, 0.1), seed=1)
    assert not np.array_equal(other.test.edges, s.test.edges)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    graph_seed=st.integers(0, 1000),
    fractions=st.sampled_from([(0.8, 0.1, 0.1), (0.5, 0.25, 0.25), (0.0, 0.0, 1.0), (1.0, 0.0, 0.0), (0.3, 0.7, 0.0)]),
)
def test_split_invariants_on_random_ratings(seed, graph_seed, fractions):
    rng = np.random.default_rng(graph_seed)
    m = int(rng.integers(1, 60))
    g = R.from_arrays(rng.integers(0, 15, m), rng.integers(0, 15, m), rng.integers(1, 6, m))
    check_split(g, R.split(g, fractions, seed=seed), fractions)


def test_split_moves_only_what_it_must():
    # two users, three items; user 2 and item 12 have a single rating
    g = R.from_arrays([1, 1, 1, 2], [10, 11, 12, 10], [1.0, 2.0, 3.0, 4.0])
    s = R.split(g, (0.0, 0.0, 1.0), seed=3)
    check_split(g, s, (0.0, 0.0, 1.0))
    # everything was drawn for test: user 1 and user 2 need one each, the items
    # 10, 11, 12 need one each; the moves for users serve their items when they can
    assert 3 <= s.moved <= 4
    assert R.split(g, (1.0, 0.0, 0.0)).moved == 0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"fractions": (0.8, 0.1)}, ValueError, "three numbers"),
        ({"fractions": (0.8, 0.1, 0.2)}, ValueError, "sum to 1"),
        ({"fractions": (1.2, -0.1, -0.1)}, ValueError, "non-negative"),
        ({"fractions": "abc"}, ValueError, "three numbers"),
        ({"seed": 1.5}, TypeError, "seed must be an integer"),
        ({"rating": "stars"}, ValueError, "no edge field 'stars'"),
    ],
)
def test_split_bad_arguments(kwargs, error, message):
    g = R.from_arrays([1, 2], [1, 1], [1.0, 2.0])
    with pytest.raises(error, match=message):
        R.split(g, **kwargs)


def test_split_refuses_undirected_graphs():
    with pytest.raises(ValueError, match="directed ratings graph"):
        R.split(Graph([0], [1], edge_data={"rating": [1.0]}, directed=False))
