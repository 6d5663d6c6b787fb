"""Ratings as a bipartite graph: loading, id look-ups and a train/validation/test split.

A ratings graph holds users and items as vertices in **separate id spaces**
(user 7 and item 7 are two vertices) and one **edge per rating, from the
user to the item**:

- vertices ``0..U-1`` are the users, in increasing id order, and
  ``U..U+I-1`` the items, in increasing id order;
- the bool vertex field ``"is_item"`` (:data:`IS_ITEM`) says which side a
  vertex is on (False for users); it travels with the graph through every
  transform and into every run, so a program reads it as
  ``v.data["is_item"]`` (ALS alternates the two sides with it);
- ``Graph.ids`` keeps the original ids of both sides: int64 when the ids of
  both sides are all integers, otherwise strings exactly as written in the
  file (IMDb item ids like ``"0000008"`` keep their leading zeros, and the
  integer ids of the other side are written in decimal).
  :func:`user_ids`/:func:`item_ids` give one side, and
  :func:`user_vertices`/:func:`item_vertices` turn original ids into vertex
  numbers (``Graph.vertex_index`` cannot tell user 7 from item 7);
- the graph is directed (``src`` is always the user, ``dst`` the item);
  edges are in file order, so edge ``k`` is the ``k``-th rating, with the
  float64 edge field ``"rating"`` (:data:`RATING`) and, when the file has a
  fourth column, the int64 edge field ``"timestamp"`` (:data:`TIMESTAMP`);
- a user who rated an item twice has two parallel edges (nothing is
  merged or dropped).

Build one with :func:`load_ratings` (also ``Graph.load_ratings``) from a
file or :func:`from_arrays` from arrays, and hold ratings out with
:func:`split`.

Examples
--------
>>> from gasengine import ratings
>>> g = ratings.from_arrays([7, 7, 9], ["0000008", "0000010", "0000008"], [8.0, 6.0, 10.0])
>>> g.num_vertices, g.vertex_data["is_item"].tolist()
(4, [False, False, True, True])
>>> ratings.user_ids(g).tolist(), ratings.item_ids(g).tolist()
(['7', '9'], ['0000008', '0000010'])
>>> g.src.tolist(), g.dst.tolist(), g.edge_data["rating"].tolist()
([0, 0, 1], [2, 3, 2], [8.0, 6.0, 10.0])
"""

from __future__ import annotations

import numbers
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import GraphFormatError
from .graph import Graph, exact_int64, index_dtype

__all__ = [
    "IS_ITEM",
    "RATING",
    "TIMESTAMP",
    "RatingSet",
    "Split",
    "from_arrays",
    "item_ids",
    "item_vertices",
    "load_ratings",
    "split",
    "user_ids",
    "user_vertices",
]

#: Vertex field telling items (True) from users (False).
IS_ITEM = "is_item"
#: Edge field holding the rating (float64).
RATING = "rating"
#: Edge field holding the timestamp (int64), when the input has one.
TIMESTAMP = "timestamp"

# Ids longer than this many digits stay strings (18 digits always fit int64).
_MAX_INT_DIGITS = 18


# ------------------------------------------------------------------ building
def load_ratings(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    columns: tuple[int, ...] | None = None,
    comment: str = "#",
    header: bool | None = None,
) -> Graph:
    """Read a ``user item rating [timestamp]`` file into a bipartite ratings graph.

    The layout of the result is described in :mod:`gasengine.ratings`:
    users ``0..U-1`` and items ``U..U+I-1`` (each side in increasing id
    order), vertex field ``"is_item"``, one edge per line from the user to
    the item with the float64 edge field ``"rating"`` and, for four
    columns, the int64 edge field ``"timestamp"``.  The file is parsed by
    the compiled scanner of :func:`gasengine.loaders.load_graph` (no Python
    runs per line).

    Parameters
    ----------
    path : str or path-like
        A regular, readable, uncompressed text file (LF or CRLF line
        endings -- a carriage return anywhere else is an error --, optional
        UTF-8 byte-order mark and final newline).
    format : {"edgelist", "csv", "tsv", "movielens"}, optional
        ``edgelist``: fields separated by blanks (spaces and/or tabs);
        ``csv`` / ``tsv``: split at every ``,`` / tab, surrounding blanks
        stripped, no quoting; ``movielens``: split at every ``::``
        (MovieLens ``ratings.dat``, MovieTweetings).  By default ``.csv``
        and ``.tsv`` files are csv/tsv and any other file takes its layout
        from its first data line: ``::`` present → movielens, else a tab →
        tsv, else a comma → csv, else edgelist.
    columns : tuple of int, optional
        ``(user, item, rating)`` or ``(user, item, rating, timestamp)``
        column indices, 0-based; other columns are ignored.  By default the
        first data line decides: 3 fields are ``user item rating``, 4 are
        ``user item rating timestamp``; any other count is an error.
        Either way **every** line must have as many fields as the first one.
    comment : str
        One-character comment marker (``""`` for none); blank lines and
        comment lines are skipped, and a comment may end a line.  Not a
        letter, digit, ``+``, ``-``, ``.``, blank or the delimiter (``,``,
        tab, ``:``), which could be part of a field or separate fields.
    header : bool, optional
        Skip the first non-comment line.  By default (None) it is skipped
        when its rating field is a word (``userId,movieId,rating,...``).

    Returns
    -------
    Graph
        The ratings graph.

    Raises
    ------
    GraphFormatError
        Naming the file and line (``path:line: ...``): a line with the
        wrong number of fields, an empty field, a rating that is not a
        number, NaN or infinite, a timestamp that is not an integer, an
        empty file (or one with only comments and a header), binary
        content (NUL bytes anywhere, ids that are not UTF-8 text), a
        carriage return inside a line, an unknown format (with a
        suggestion).  When several lines are bad, the first is named.
    FileNotFoundError, IsADirectoryError, PermissionError
        As :func:`gasengine.loaders.load_graph` raises them.
    ValueError
        For bad ``columns`` or ``comment``.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "ratings.dat")
    >>> _ = open(f, "w").write("1::0000008::7::1365029107\\n2::0000008::10::1365029108\\n"
    ...                        "2::0114508::8::1365029109\\n")
    >>> g = load_ratings(f)
    >>> user_ids(g).tolist(), item_ids(g).tolist()
    (['1', '2'], ['0000008', '0114508'])
    >>> g.src.tolist(), g.dst.tolist(), g.edge_data["rating"].tolist()
    ([0, 1, 1], [2, 2, 3], [7.0, 10.0, 8.0])
    >>> g.edge_data["timestamp"].tolist()
    [1365029107, 1365029108, 1365029109]
    >>> _ = open(f, "w").write("1::0000008::7\\n2::0000008\\n")
    >>> load_ratings(f)
    Traceback (most recent call last):
    ...
    gasengine.errors.GraphFormatError: ...ratings.dat:2: expected 3 fields (user item rating) ...
    """
    from .loaders import read_rating_columns

    path = os.fspath(path)
    cols = read_rating_columns(path, format, columns=columns, comment=comment, header=header)
    users, user_of = _side_from_tokens(cols.user)  # read_rating_columns checked that the ids are UTF-8
    items, item_of = _side_from_tokens(cols.item)
    return _assemble(users, user_of, items, item_of, cols.rating, cols.timestamp)


def from_arrays(users: Any, items: Any, ratings: Any, timestamps: Any = None) -> Graph:
    """A ratings graph from one user id, item id and rating per rating.

    Parameters
    ----------
    users, items : array_like
        Original ids, one per rating: integers (any integer dtype, or
        integral floats) or strings; the two sides may differ.
    ratings : array_like of float
        Finite ratings (float64 edge field ``"rating"``).
    timestamps : array_like of int, optional
        Integer timestamps (int64 edge field ``"timestamp"``).

    Returns
    -------
    Graph
        The ratings graph laid out as :mod:`gasengine.ratings` describes;
        edge ``k`` is rating ``k``.  ``ids`` are int64 when both sides are
        integers, else strings.

    Raises
    ------
    GraphFormatError
        For arrays of different lengths or that are not one-dimensional, a
        rating that is NaN or infinite, or ids or timestamps of an
        unsupported type, naming the argument and the first bad index.

    Examples
    --------
    >>> g = from_arrays([3, 1, 3], [10, 10, 20], [4.0, 5.0, 1.0])
    >>> g.ids.tolist(), g.src.tolist(), g.dst.tolist()
    ([1, 3, 10, 20], [1, 0, 1], [2, 2, 3])
    >>> from_arrays([1], [2], [float("nan")])
    Traceback (most recent call last):
    ...
    gasengine.errors.GraphFormatError: ratings[0] = nan is not a finite number
    """
    users_a = _id_values(users, "users")
    items_a = _id_values(items, "items")
    rating = np.asarray(ratings)
    if rating.ndim != 1:
        raise GraphFormatError(f"ratings must be one-dimensional, got shape {rating.shape}")
    if rating.dtype.kind not in "iuf":
        raise GraphFormatError(f"ratings must be numbers, got dtype {rating.dtype}")
    rating = rating.astype(np.float64)
    lengths = {"users": users_a.size, "items": items_a.size, "ratings": rating.size}
    stamps = None
    if timestamps is not None:
        stamps = exact_int64(timestamps, "timestamps").astype(np.int64, copy=False)
        lengths["timestamps"] = stamps.size
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{k}={v}" for k, v in lengths.items())
        raise GraphFormatError(
            f"users, items, ratings (and timestamps) must have one entry per rating; got lengths {shown}"
        )
    bad = np.flatnonzero(~np.isfinite(rating))
    if bad.size:
        k = int(bad[0])
        raise GraphFormatError(f"ratings[{k}] = {float(rating[k])!r} is not a finite number")
    user_side, user_of = np.unique(users_a, return_inverse=True)
    item_side, item_of = np.unique(items_a, return_inverse=True)
    return _assemble(user_side, user_of, item_side, item_of, rating, stamps)


def _id_values(values: Any, name: str) -> np.ndarray:
    """Ids as int64 (integers) or str, one-dimensional."""
    arr = np.asarray(values)
    if arr.dtype.kind == "O":  # Python ints or strs: let numpy pick one type
        arr = np.asarray(arr.tolist())
    if arr.ndim != 1:
        raise GraphFormatError(f"{name} must be one-dimensional, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind in "iuf":
        return exact_int64(arr, name).astype(np.int64, copy=False)
    if kind == "U":
        return arr
    if kind == "S":
        return np.char.decode(arr, "utf-8")
    raise GraphFormatError(f"{name} must be integer or string ids, got dtype {arr.dtype}")


def _side_from_tokens(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ids of one side (sorted) and each token's index among them.

    ``tokens`` are bytes as written.  When every distinct token is a
    canonical decimal integer (optional ``-``, no leading zeros, at most
    18 digits) the ids are int64 in numeric order; otherwise they are the
    tokens decoded as UTF-8, in code-point order.
    """
    distinct, index = _unique_tokens(tokens)
    if _all_canonical_integers(distinct):
        values = distinct.astype(np.int64)
        order = np.argsort(values, kind="stable")
        rank = np.empty(order.size, np.int64)
        rank[order] = np.arange(order.size)
        return values[order], rank[index]
    return np.char.decode(distinct, "utf-8"), index


def _unique_tokens(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(tokens, return_inverse=True)`` for bytes tokens, fast for short ones.

    Tokens of up to 8 bytes are packed into big-endian uint64 keys (NUL
    padded), whose numeric order is the tokens' byte order, and uniqued as
    integers: several times faster than sorting byte strings.
    """
    width = tokens.dtype.itemsize
    if width > 8 or tokens.size == 0:
        return np.unique(tokens, return_inverse=True)
    padded = np.zeros((tokens.size, 8), np.uint8)
    padded[:, :width] = tokens.view(np.uint8).reshape(tokens.size, width)
    keys = padded.view(">u8").ravel()
    _, first, index = np.unique(keys, return_index=True, return_inverse=True)
    return tokens[first], index


def _all_canonical_integers(tokens: np.ndarray) -> bool:
    """Whether every bytes token is an integer written the one way ``str(int)`` writes it."""
    if tokens.size == 0:
        return True
    width = tokens.dtype.itemsize
    raw = tokens.view(np.uint8).reshape(tokens.size, width)
    length = np.count_nonzero(raw, axis=1)  # NUL padding (the loader refuses NUL bytes)
    neg = raw[:, 0] == ord("-")
    digits = length - neg
    column = np.arange(width)
    inside = (column >= neg[:, None]) & (column < length[:, None])
    is_digit = (raw >= ord("0")) & (raw <= ord("9"))
    first = raw[np.arange(tokens.size), np.minimum(neg, width - 1).astype(np.intp)]
    ok = (
        ~(inside & ~is_digit).any(axis=1)
        & (digits >= 1)
        & (digits <= _MAX_INT_DIGITS)
        & ((first != ord("0")) | ((digits == 1) & ~neg))
    )
    return bool(ok.all())


def _assemble(
    users: np.ndarray,
    user_of: np.ndarray,
    items: np.ndarray,
    item_of: np.ndarray,
    rating: np.ndarray,
    timestamp: np.ndarray | None,
) -> Graph:
    """The ratings graph from the sorted ids of each side and every rating's index into them."""
    U, I = users.size, items.size
    dtype = index_dtype(max(U + I, 1))
    src = user_of.astype(dtype)
    dst = item_of.astype(dtype)
    dst += dtype.type(U)
    if users.dtype.kind == "i" and items.dtype.kind == "i":
        ids = np.concatenate([users, items])
    else:
        ids = np.concatenate([_as_text(users), _as_text(items)])
    is_item = np.zeros(U + I, dtype=bool)
    is_item[U:] = True
    edge_data = {RATING: rating}
    if timestamp is not None:
        edge_data[TIMESTAMP] = timestamp
    return Graph(src, dst, num_vertices=U + I, vertex_data={IS_ITEM: is_item}, edge_data=edge_data, ids=ids)


def _as_text(ids: np.ndarray) -> np.ndarray:
    """Ids as a str array: strings as they are, integers in decimal (no wider than needed)."""
    if ids.dtype.kind != "i":
        return ids
    width = max((len(str(int(x))) for x in (ids.min(), ids.max())), default=1) if ids.size else 1
    return ids.astype(f"U{width}")


# ------------------------------------------------------------------ id look-ups
def _num_users(graph: Graph) -> int:
    """U of a ratings graph (checks the layout: users first, then items)."""
    side = graph.vertex_data.get(IS_ITEM)
    if side is None:
        raise ValueError(
            f"not a ratings graph: no vertex field {IS_ITEM!r} (build it with load_ratings or from_arrays); "
            f"vertex fields are {sorted(graph.vertex_data)}"
        )
    U = int(np.count_nonzero(~side))
    if side[:U].any():
        raise ValueError(f"not a ratings graph: the users (vertices where {IS_ITEM!r} is False) must come first")
    return U


def _side_ids(graph: Graph, items: bool) -> np.ndarray:
    U = _num_users(graph)
    ids = graph.original_ids()
    return ids[U:] if items else ids[:U]


def user_ids(graph: Graph) -> np.ndarray:
    """Original ids of the users, in vertex order (user vertex ``u`` has ``user_ids(g)[u]``).

    Examples
    --------
    >>> user_ids(from_arrays([5, 3], [3, 3], [1.0, 2.0])).tolist()
    [3, 5]
    """
    return _side_ids(graph, items=False)


def item_ids(graph: Graph) -> np.ndarray:
    """Original ids of the items, in vertex order (item vertex ``U + i`` has ``item_ids(g)[i]``).

    Examples
    --------
    >>> item_ids(from_arrays([5, 3], [3, 4], [1.0, 2.0])).tolist()
    [3, 4]
    """
    return _side_ids(graph, items=True)


def user_vertices(graph: Graph, ids: Any) -> Any:
    """Vertex numbers of users given by their original ids (vectorised).

    Parameters
    ----------
    graph : Graph
        A ratings graph (or a split's training graph).
    ids : scalar or array_like
        Original user ids; for string ids an integer is looked up as its
        decimal text.

    Returns
    -------
    int or ndarray of int64
        An int for a scalar, else an array of the shape of ``ids``.

    Raises
    ------
    KeyError
        Naming the first id that is no user's.

    Examples
    --------
    >>> g = from_arrays([7, 9], [7, 7], [1.0, 2.0])
    >>> user_vertices(g, 9), user_vertices(g, [9, 7]).tolist()
    (1, [1, 0])
    >>> user_vertices(g, 8)
    Traceback (most recent call last):
    ...
    KeyError: 'no user with id 8'
    """
    return _lookup(graph, ids, items=False)


def item_vertices(graph: Graph, ids: Any) -> Any:
    """Vertex numbers of items given by their original ids (vectorised); see :func:`user_vertices`.

    Examples
    --------
    >>> g = from_arrays([7, 9], [7, 7], [1.0, 2.0])
    >>> item_vertices(g, 7)  # item 7 is not user 7
    2
    """
    return _lookup(graph, ids, items=True)


def _lookup(graph: Graph, ids: Any, items: bool) -> Any:
    side = _side_ids(graph, items)
    offset = _num_users(graph) if items else 0
    what = "item" if items else "user"
    query = np.asarray(ids)
    scalar = query.ndim == 0
    flat = query.reshape(-1)
    try:
        if side.dtype.kind in "iu":
            keys = exact_int64(flat.astype(np.int64) if flat.dtype.kind in "USO" else flat, "ids")
        else:
            keys = flat.astype(str)  # never truncated to the width of the ids
    except (ValueError, TypeError, OverflowError):
        keys = None
    if keys is None:
        bad = flat[0] if flat.size else ids
        raise KeyError(f"no {what} with id {bad.item() if isinstance(bad, np.generic) else bad!r}")
    if side.size > 1 and not bool(np.all(side[1:] > side[:-1])):
        order = np.argsort(side, kind="stable")
    else:
        order = None
    sorted_side = side if order is None else side[order]
    pos = np.searchsorted(sorted_side, keys)
    pos_c = np.minimum(pos, max(sorted_side.size - 1, 0))
    found = (pos < sorted_side.size) & (sorted_side[pos_c] == keys) if sorted_side.size else np.zeros(keys.size, bool)
    if not found.all():
        k = int(np.flatnonzero(~found)[0])
        bad = flat[k]
        raise KeyError(f"no {what} with id {bad.item() if isinstance(bad, np.generic) else bad!r}")
    where = pos if order is None else order[pos]
    out = where.astype(np.int64) + offset
    return int(out[0]) if scalar else out.reshape(query.shape)


# ------------------------------------------------------------------ split
@dataclass(frozen=True, eq=False)
class RatingSet:
    """Held-out ratings as ``(user, item, rating)`` triples of vertex numbers.

    Attributes
    ----------
    user, item : ndarray
        Vertex numbers of each rating's user and item in the graph that was
        split (and in its training graph, which has the same vertices):
        index factor or bias arrays with them directly.
    rating : ndarray of float64
        The ratings.
    edges : ndarray of int64
        The ratings' edge numbers in the graph that was split (increasing),
        to read any other edge field: ``graph.edge_data["timestamp"][s.edges]``.
    """

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    edges: np.ndarray

    def __len__(self) -> int:
        return int(self.edges.size)

    def __repr__(self) -> str:
        return f"RatingSet({len(self)} ratings)"


@dataclass(frozen=True, eq=False)
class Split:
    """A train/validation/test split of a ratings graph (see :func:`split`).

    Attributes
    ----------
    train : Graph
        The training ratings as a graph: the same vertices, ids and vertex
        fields as the graph that was split, and only the training edges
        (in their original order) with all their edge fields.  Run training
        programs on it.
    validation, test : RatingSet
        The held-out ratings.
    train_edges : ndarray of int64
        Edge numbers (in the graph that was split) of the training ratings.
    moved : int
        Ratings drawn for validation or test that were moved to training so
        that every user and item with held-out ratings has training ratings
        (0 when none had to move).
    """

    train: Graph
    validation: RatingSet
    test: RatingSet
    train_edges: np.ndarray
    moved: int

    def __repr__(self) -> str:
        return (
            f"Split(train={self.train_edges.size} ratings, validation={len(self.validation)}, "
            f"test={len(self.test)}, moved={self.moved})"
        )


def split(
    graph: Graph,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    *,
    rating: str = RATING,
) -> Split:
    """Split the ratings at random into training, validation and test sets.

    Every rating is drawn into one set with the given fractions (exact
    counts: ``round(f * m)`` validation and test ratings, the rest
    training) from ``numpy.random.default_rng(seed)``.  Then, so that no
    user or item of the validation or test set is left without training
    ratings, every user with held-out ratings but none for training gets
    one of its held-out ratings (chosen at random, preferring one whose
    item has no training rating either: one move serves both) moved to
    training, and then every such item likewise.  The number moved is
    ``Split.moved``; the held-out sets are that much smaller than the
    fractions ask.  A user or item with a single rating thus always trains.
    The same graph, fractions and seed give the same split.

    Parameters
    ----------
    graph : Graph
        A directed ratings graph (edges user → item, as from
        :func:`load_ratings` or :func:`from_arrays`).
    fractions : tuple of 3 floats
        ``(train, validation, test)``: non-negative, summing to 1; a zero
        leaves that set empty.
    seed : int
        Seed of the random draw.
    rating : str
        Edge field holding the ratings.

    Returns
    -------
    Split
        ``train`` (a Graph), ``validation`` and ``test`` (:class:`RatingSet`),
        ``train_edges`` and ``moved``.

    Raises
    ------
    ValueError
        For bad ``fractions``, an undirected graph, or a missing ``rating``
        field.
    TypeError
        For a ``seed`` that is not an integer.

    Examples
    --------
    >>> g = from_arrays([1, 1, 1, 2, 2, 2], [5, 6, 7, 5, 6, 7], [1.0, 2.0, 3.0, 4.0, 5.0, 1.0])
    >>> s = split(g, fractions=(0.5, 0.0, 0.5), seed=1)
    >>> s
    Split(train=3 ratings, validation=0, test=3, moved=0)
    >>> s.train.num_vertices == g.num_vertices, s.train.num_edges
    (True, 3)
    >>> u, i, r = s.test.user, s.test.item, s.test.rating  # vertex numbers and ratings
    >>> bool((g.edge_data["rating"][s.test.edges] == r).all())
    True
    """
    f = _check_fractions(fractions)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if not graph.directed:
        raise ValueError(
            "split needs a directed ratings graph (one edge user -> item per rating); got an undirected graph"
        )
    if rating not in graph.edge_data:
        raise ValueError(f"no edge field {rating!r} to split; edge fields are {sorted(graph.edge_data)}")
    m, n = graph.num_edges, graph.num_vertices
    rng = np.random.default_rng(int(seed))
    n_val = round(f[1] * m)
    n_test = min(round(f[2] * m), m - n_val)
    n_train = m - n_val - n_test
    which = np.empty(m, np.int8)  # 0 train, 1 validation, 2 test
    perm = rng.permutation(m)
    which[perm[:n_train]] = 0
    which[perm[n_train : n_train + n_val]] = 1
    which[perm[n_train + n_val :]] = 2
    src, dst = graph.src, graph.dst
    moved = 0
    for ends, other in ((src, dst), (dst, src)):  # users first, then items
        train = which == 0
        trained = np.zeros(n, dtype=bool)
        trained[src[train]] = True
        trained[dst[train]] = True
        held = np.flatnonzero(~train)
        lacking = held[~trained[ends[held]]]
        if lacking.size == 0:
            continue
        both = ~trained[other[lacking]]
        order = np.lexsort((rng.random(lacking.size), ~both, ends[lacking]))
        v = ends[lacking[order]]
        first = np.ones(v.size, dtype=bool)
        first[1:] = v[1:] != v[:-1]
        move = lacking[order[first]]
        which[move] = 0
        moved += int(move.size)
    train_edges = np.flatnonzero(which == 0)
    train_graph = Graph.from_arcs(
        src[train_edges],
        dst[train_edges],
        n,
        vertex_data=graph.vertex_data,
        edge_data={name: values[train_edges] for name, values in graph.edge_data.items()},
        ids=graph.ids,
        directed=True,
    )
    values = graph.edge_data[rating]

    def held_out(code: int) -> RatingSet:
        edges = np.flatnonzero(which == code)
        return RatingSet(src[edges], dst[edges], values[edges], edges)

    return Split(train_graph, held_out(1), held_out(2), train_edges, moved)


def _check_fractions(fractions: Any) -> tuple[float, float, float]:
    try:
        f = tuple(float(x) for x in fractions)
    except (TypeError, ValueError):
        raise ValueError(f"fractions must be three numbers (train, validation, test), got {fractions!r}") from None
    if len(f) != 3:
        raise ValueError(f"fractions must be three numbers (train, validation, test), got {len(f)}: {fractions!r}")
    if not all(np.isfinite(x) and x >= 0 for x in f) or abs(sum(f) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {fractions!r}")
    return f  # type: ignore[return-value]
