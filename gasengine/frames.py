"""pandas and Arrow tables in and out of a :class:`~gasengine.graph.Graph`.

Edge lists
    :func:`from_pandas_edgelist` and :func:`to_pandas_edgelist` take
    networkx's arguments and follow its semantics (``create_using`` decides
    directed or not, simple or multigraph; ``edge_attr`` is None, True, a
    column or a list of columns), with the nodes kept as the original ids
    (``Graph.ids``).  Vertices are numbered in increasing id order, as
    :meth:`Graph.load <gasengine.graph.Graph.load>` numbers them (numbers
    before strings when both occur, as pandas sorts them).
Vertex tables
    :func:`vertex_frame` gives a DataFrame indexed by original id with one
    column per vertex field; :func:`set_vertex_frame` stores the columns of
    such a frame as vertex fields, matching rows to vertices by id.
    :func:`fields_frame` is what ``Result.to_pandas()`` returns.
Parquet and Arrow IPC files
    :func:`read_edge_table` reads ``.parquet`` and ``.arrow`` / ``.feather``
    edge tables through pyarrow (the optional extra ``arrow``); it is what
    ``Graph.load`` calls for those formats.

Everything per edge or per vertex is a numpy, pandas or Arrow operation;
nothing runs a Python statement per row.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Hashable, Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from .errors import GraphFormatError
from .graph import Graph, first_of_each_pair

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "fields_frame",
    "from_pandas_edgelist",
    "read_edge_table",
    "set_vertex_frame",
    "to_pandas_edgelist",
    "vertex_frame",
]

#: Name of the index of every vertex table.
ID_INDEX = "id"


# ------------------------------------------------------------ edge list in
def from_pandas_edgelist(
    df: pd.DataFrame,
    source: Hashable = "source",
    target: Hashable = "target",
    edge_attr: Any = None,
    create_using: Any = None,
    edge_key: Hashable | None = None,
) -> Graph:
    """A :class:`Graph` from a DataFrame with one edge per row, as ``networkx.from_pandas_edgelist``.

    Parameters
    ----------
    df : pandas.DataFrame
        The edge list.
    source, target : column label
        Columns holding the endpoints: any hashable values (ints, strings,
        ...), none missing.  They become ``graph.ids`` (int64 for integer
        columns).
    edge_attr : None, True, column label or list of labels
        ``None``: no edge fields.  ``True``: every other column that holds
        numbers (bool, int, float; columns of strings or objects are
        skipped, as :func:`~gasengine.convert.from_networkx` skips
        non-numeric attributes).  A label or a list of labels: those columns,
        which must hold numbers.  Each becomes an edge field named after its
        column; missing values in a nullable integer column become NaN
        (float64).
    create_using : networkx graph class or instance, optional
        What networkx would build, and so what this graph is: ``None`` or
        ``nx.Graph`` (networkx's default): undirected, and rows joining the
        same pair (either way round) are one edge carrying the fields of the
        last such row, as networkx keeps them; ``nx.DiGraph``: directed,
        repeated ``(source, target)`` rows are one edge (the last);
        ``nx.MultiGraph`` / ``nx.MultiDiGraph``: every row is an edge.
    edge_key : column label, optional
        For a multigraph ``create_using``: a column of numeric edge keys,
        stored as the edge field of that name (and written back by
        :func:`to_pandas_edgelist` with the same ``edge_key``).  Ignored for
        simple graphs, as networkx ignores it.

    Returns
    -------
    Graph
        ``graph.directed`` as ``create_using`` says; undirected edges are
        stored both ways (see :class:`~gasengine.graph.Graph`).

    Raises
    ------
    GraphFormatError
        Naming the column: a column that does not exist, a missing source or
        target value (with its row), or an ``edge_attr`` / ``edge_key``
        column that does not hold numbers.

    Examples
    --------
    >>> import pandas as pd, networkx as nx
    >>> df = pd.DataFrame({"source": ["a", "b", "b"], "target": ["b", "c", "c"],
    ...                    "weight": [1.0, 2.0, 5.0], "colour": ["r", "g", "b"]})
    >>> g = from_pandas_edgelist(df, edge_attr=True)      # an undirected simple graph
    >>> g.directed, g.num_undirected_edges, g.ids.tolist(), sorted(g.edge_data)
    (False, 2, ['a', 'b', 'c'], ['weight'])
    >>> g.edge_data["weight"][:2].tolist()                # the last b-c row wins, as in networkx
    [1.0, 5.0]
    >>> m = from_pandas_edgelist(df, edge_attr="weight", create_using=nx.MultiDiGraph)
    >>> m.directed, m.num_edges, m.edge_data["weight"].tolist()
    (True, 3, [1.0, 2.0, 5.0])
    """
    directed, multigraph = _graph_kind(create_using)
    src_values = _endpoint_values(df, source, "source")
    dst_values = _endpoint_values(df, target, "target")
    reserved = [source, target]
    if multigraph and edge_key is not None:
        reserved.append(edge_key)
    if edge_attr is None:
        attr_columns: list[Any] = []
    elif edge_attr is True:
        attr_columns = [c for c in df.columns if c not in reserved]
    elif isinstance(edge_attr, (list, tuple)):
        attr_columns = list(edge_attr)
        if not attr_columns:
            raise GraphFormatError("edge_attr is an empty list; pass None for no edge fields")
    else:
        attr_columns = [edge_attr]
    explicit = edge_attr is not True
    edge_data: dict[str, np.ndarray] = {}
    for column in attr_columns:
        values = _numeric_values(df, column, "edge_attr", required=explicit)
        if values is not None:
            edge_data[_field_name(column, "edge_attr")] = values
    if multigraph and edge_key is not None:
        keys = _numeric_values(df, edge_key, "edge_key", required=True)
        assert keys is not None
        edge_data[_field_name(edge_key, "edge_key")] = keys
    src, dst, ids = relabel_values(src_values, dst_values, (source, target))
    if not multigraph and src.size:
        keep = _last_of_each_pair(src, dst, ids.size, directed)
        if keep.size < src.size:
            src, dst = src[keep], dst[keep]
            edge_data = {name: values[keep] for name, values in edge_data.items()}
    return Graph(src, dst, num_vertices=ids.size, edge_data=edge_data, ids=ids, directed=directed)


def _graph_kind(create_using: Any) -> tuple[bool, bool]:
    """(directed, multigraph) of a networkx ``create_using`` (``None``: ``nx.Graph``)."""
    if create_using is None:
        return False, False
    graph = create_using() if isinstance(create_using, type) else create_using
    try:
        return bool(graph.is_directed()), bool(graph.is_multigraph())
    except AttributeError:
        raise TypeError(
            f"create_using must be a networkx graph class or instance (nx.Graph, nx.DiGraph, "
            f"nx.MultiGraph, nx.MultiDiGraph), got {create_using!r}"
        ) from None


def _column(df: pd.DataFrame, column: Hashable, role: str) -> pd.Series:
    """``df[column]``, or an error naming the column, its role and the columns there are."""
    if column not in df.columns:
        names = [str(c) for c in df.columns]
        close = difflib.get_close_matches(str(column), names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise GraphFormatError(f"no column {column!r} for {role}={column!r}{hint}; the columns are {list(df.columns)}")
    values = df[column]
    if not hasattr(values, "dtype"):  # a label repeated: df[column] is a DataFrame
        raise GraphFormatError(f"column {column!r} ({role}=) appears {values.shape[1]} times")
    return values


def _first_missing(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value, so that messages show ``11``, not ``np.int64(11)``."""
    return value.item() if isinstance(value, np.generic) else value


def _endpoint_values(df: pd.DataFrame, column: Hashable, role: str) -> np.ndarray:
    """The endpoints in ``df[column]`` as a numpy array, or an error naming a missing one."""
    series = _column(df, column, role)
    missing = series.isna().to_numpy()
    if missing.any():
        row = _first_missing(missing)
        raise GraphFormatError(
            f"column {column!r} ({role}=) has {int(missing.sum())} missing value(s), the first in row "
            f"{row} (index {_plain(series.index[row])!r}); every edge needs a {role} (drop those rows: "
            f"df.dropna(subset=[{column!r}]))"
        )
    return _to_numpy(series)


def _to_numpy(series: pd.Series) -> np.ndarray:
    """A column without missing values as numpy, numeric extension dtypes as their numpy dtype."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        return series.to_numpy()
    numpy_dtype = getattr(dtype, "numpy_dtype", None)  # Int64, Float64, boolean, int64[pyarrow], ...
    if isinstance(numpy_dtype, np.dtype) and numpy_dtype.kind in "biuf":
        return series.to_numpy(dtype=numpy_dtype)
    return series.to_numpy()


def _numeric_values(df: pd.DataFrame, column: Hashable, role: str, required: bool) -> np.ndarray | None:
    """A column of numbers as an array (missing values as NaN); None or an error otherwise."""
    import pandas as pd

    series = _column(df, column, role)
    dtype = series.dtype
    numpy_dtype = dtype if isinstance(dtype, np.dtype) else getattr(dtype, "numpy_dtype", None)
    numeric = (
        isinstance(numpy_dtype, np.dtype) and numpy_dtype.kind in "biuf" and not isinstance(dtype, pd.CategoricalDtype)
    )
    if not numeric:
        if not required:
            return None
        raise GraphFormatError(
            f"column {column!r} ({role}=) holds {dtype} values, not numbers; edge fields are numeric "
            f"arrays: encode it first (e.g. df[{column!r}].astype('category').cat.codes)"
        )
    if isinstance(dtype, np.dtype):
        return series.to_numpy(copy=True)  # the graph must not share the caller's memory
    if series.hasnans:
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return series.to_numpy(dtype=numpy_dtype, copy=True)


def _field_name(column: Any, role: str) -> str:
    if not isinstance(column, str):
        raise GraphFormatError(
            f"column {column!r} ({role}=) has a {type(column).__name__} label; fields are named by "
            f"strings: rename the column (df.rename(columns={{{column!r}: 'name'}}))"
        )
    return column


def relabel_values(
    src: np.ndarray, dst: np.ndarray, names: Sequence[Any] = ("source", "target")
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vertex numbers and original ids of two arrays of endpoints (any hashable values).

    Integer ids are numbered in increasing order by the compiled relabelling
    of the file loaders (:func:`gasengine.loaders.relabel_ids`); other ids
    (strings, floats, objects) by :func:`pandas.factorize`, sorted as pandas
    sorts them (numbers before strings when both occur), or in order of
    first appearance when they cannot be sorted.

    Examples
    --------
    >>> s, d, ids = relabel_values(np.array(["x", "a"], dtype=object), np.array(["a", "q"], dtype=object))
    >>> s.tolist(), d.tolist(), ids.tolist()
    ([2, 0], [0, 1], ['a', 'q', 'x'])
    >>> relabel_values(np.array([30, 10]), np.array([10, 20]))[2].tolist()
    [10, 20, 30]
    """
    if src.dtype.kind in "iu" and dst.dtype.kind in "iu":
        dense = relabel_chunks([src], [dst])
        if dense is not None:
            return dense
        from .loaders import relabel_ids

        return relabel_ids(src, dst)
    import pandas as pd

    both = np.concatenate([np.asarray(src, dtype=object), np.asarray(dst, dtype=object)])
    try:
        codes, uniques = pd.factorize(both, sort=True)
    except TypeError:  # ids that do not compare (ints and strings): order of first appearance
        codes, uniques = pd.factorize(both, sort=False)
    ids = np.asarray(uniques)  # strings stay objects, as from_networkx keeps them
    codes = codes.astype(np.int32 if ids.size <= np.iinfo(np.int32).max else np.int64, copy=False)
    return codes[: src.size], codes[src.size :], ids


def relabel_chunks(
    src_chunks: Sequence[np.ndarray], dst_chunks: Sequence[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Integer ids in pieces (Arrow chunks, read-only) numbered ``0..n-1`` in increasing order, or None.

    The compiled path for ids whose range is small next to the number of
    edges (the common case, and what :func:`gasengine.loaders.relabel_ids`
    also does densely): a bitmap of the ids present, a running count, and
    the vertex numbers written straight into the int32/int64 arrays the
    graph keeps, with no concatenated or widened copy of the input.  None
    when the ids are not integers or too spread out (the caller then sorts).

    Examples
    --------
    >>> s, d, ids = relabel_chunks([np.array([5, 9]), np.array([7])], [np.array([9, 5]), np.array([5])])
    >>> s.tolist(), d.tolist(), ids.tolist()
    ([0, 2, 1], [2, 0, 0], [5, 7, 9])
    """
    chunks = [*src_chunks, *dst_chunks]
    if not all(c.dtype.kind in "iu" for c in chunks):
        return None
    sizes = [c.size for c in src_chunks]
    m = sum(sizes)
    if m != sum(c.size for c in dst_chunks):
        raise ValueError("sources and targets must be equally long")
    nonempty = [c for c in chunks if c.size]
    if not nonempty:
        return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int64)
    lo = min(int(c.min()) for c in nonempty)
    hi = max(int(c.max()) for c in nonempty)
    if hi > np.iinfo(np.int64).max or hi - lo >= max(16 * m, 1 << 20):
        return None
    present = np.zeros(hi - lo + 1, dtype=np.bool_)
    for c in nonempty:
        _mark_present(c, lo, present)
    dtype = np.int32 if m and present.size <= np.iinfo(np.int32).max else np.int64
    number = np.cumsum(present, dtype=dtype) - 1  # vertex number of every present id
    ids = np.flatnonzero(present).astype(np.int64) + lo

    def renumber(pieces: Sequence[np.ndarray]) -> np.ndarray:
        numbers = np.empty(m, dtype=dtype)
        start = 0
        for c in pieces:
            _renumber(c, lo, number, numbers[start : start + c.size])
            start += c.size
        return numbers

    if m >= 1 << 18:  # the kernel releases the GIL: sources and targets side by side
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            later = pool.submit(renumber, dst_chunks)
            out = [renumber(src_chunks), later.result()]
    else:
        out = [renumber(src_chunks), renumber(dst_chunks)]
    if ids.size <= np.iinfo(np.int32).max and dtype != np.int32:  # pragma: no cover - > 2**31 ids
        out = [o.astype(np.int32) for o in out]
    return out[0], out[1], ids


@njit(cache=True, nogil=True)
def _mark_present(values, lo, present):  # pragma: no cover - compiled
    for i in range(values.size):
        present[values[i] - lo] = True


@njit(cache=True, nogil=True)
def _renumber(values, lo, number, out):  # pragma: no cover - compiled
    for i in range(values.size):
        out[i] = number[values[i] - lo]


def _last_of_each_pair(src: np.ndarray, dst: np.ndarray, n: int, directed: bool) -> np.ndarray:
    """Indices, in row order, of the last row of every distinct pair (unordered when undirected)."""
    lo, hi = (src, dst) if directed else (np.minimum(src, dst), np.maximum(src, dst))
    m = src.size
    first = first_of_each_pair(np.ascontiguousarray(lo[::-1]), np.ascontiguousarray(hi[::-1]), n)
    return np.sort(m - 1 - first)


# ----------------------------------------------------------- edge list out
def to_pandas_edgelist(
    graph: Graph,
    source: Hashable = "source",
    target: Hashable = "target",
    nodelist: Any = None,
    dtype: Any = None,
    edge_key: Hashable | None = None,
) -> pd.DataFrame:
    """The edges as a DataFrame, as ``networkx.to_pandas_edgelist``: endpoints by original id.

    Parameters
    ----------
    graph : Graph
        The graph.  A directed graph gives one row per stored arc; an
        undirected one one row per undirected edge (its two stored arcs are
        one row, a self-loop one row).
    source, target : column label
        Names of the endpoint columns.
    nodelist : iterable of ids, optional
        Only the edges at these vertices (original ids; ids that are not
        vertices are ignored, as networkx ignores them): out-edges for a
        directed graph, edges touching them for an undirected one, with the
        listed vertex as the source.
    dtype : dtype, optional
        One dtype forced on every column (networkx's ``dtype``).
    edge_key : column label, optional
        Add a column of edge keys: the edge field of that name when the graph
        has one (see :func:`from_pandas_edgelist`), else networkx's default
        multigraph keys (0, 1, ... among the edges joining the same pair, in
        edge order).

    Returns
    -------
    pandas.DataFrame
        Columns ``source``, ``target``, then one per edge field (a field with
        several values per edge as a column of arrays), in edge order.

    Raises
    ------
    GraphFormatError
        If ``source`` / ``target`` / ``edge_key`` is also the name of an edge field.

    Examples
    --------
    >>> g = Graph([0, 1, 1], [1, 2, 2], edge_data={"weight": [0.5, 1.0, 2.0]}, ids=[7, 8, 9])
    >>> to_pandas_edgelist(g).to_dict("list")
    {'source': [7, 8, 8], 'target': [8, 9, 9], 'weight': [0.5, 1.0, 2.0]}
    >>> to_pandas_edgelist(g, edge_key="key", nodelist=[8])[["source", "target", "key"]].values.tolist()
    [[8, 9, 0], [8, 9, 1]]
    >>> u = Graph([0, 1], [1, 2], ids=["a", "b", "c"], directed=False)
    >>> to_pandas_edgelist(u).values.tolist()      # each undirected edge once
    [['a', 'b'], ['b', 'c']]
    """
    import pandas as pd

    for role, name in (("source", source), ("target", target)):
        if name in graph.edge_data:
            raise GraphFormatError(f"{role} name {name!r} is also the name of an edge field")
    rows = np.arange(graph.num_edges) if graph.directed else undirected_arcs(graph)
    src, dst = graph.src[rows], graph.dst[rows]
    if nodelist is not None:
        wanted = np.zeros(graph.num_vertices, dtype=bool)
        if isinstance(nodelist, (str, bytes)) or not np.iterable(nodelist):
            nodelist = [nodelist]  # one node, as networkx's nbunch may be
        wanted[vertex_numbers(graph, nodelist, missing="ignore")] = True
        if graph.directed:
            keep = wanted[src]
        else:
            keep = wanted[src] | wanted[dst]
            flip = ~wanted[src] & keep  # networkx lists the edge from the nbunch vertex
            src, dst = np.where(flip, dst, src), np.where(flip, src, dst)
        rows, src, dst = rows[keep], src[keep], dst[keep]
    ids = graph.original_ids()
    columns: dict[Hashable, Any] = {source: ids[src], target: ids[dst]}
    for name, values in graph.edge_data.items():
        if name == edge_key:
            continue
        columns[name] = _frame_column(values[rows])
    if edge_key is not None:
        if edge_key in graph.edge_data:
            columns[edge_key] = graph.edge_data[edge_key][rows]
        else:
            columns[edge_key] = _parallel_rank(graph, rows)
    return pd.DataFrame(columns, dtype=dtype)


def undirected_arcs(graph: Graph) -> np.ndarray:
    """One stored arc per undirected edge of an undirected graph, in edge order.

    A graph built with ``directed=False`` stores its edges as given and then
    the reversed copies, so the answer is ``arange(num_undirected_edges)``
    (checked in O(m)); arcs stored in another order are paired as
    :func:`~gasengine.convert.to_networkx` pairs them.

    Examples
    --------
    >>> undirected_arcs(Graph([0, 1, 2], [1, 1, 0], directed=False)).tolist()
    [0, 1, 2]
    """
    k = graph.num_undirected_edges
    src, dst = graph.src, graph.dst
    back = np.flatnonzero(src[:k] != dst[:k])
    if back.size == graph.num_edges - k and np.array_equal(src[k:], dst[back]) and np.array_equal(dst[k:], src[back]):
        return np.arange(k)
    from .convert import _undirected_edges

    first, _ = _undirected_edges(src.astype(np.int64), dst.astype(np.int64), max(graph.num_vertices, 1), True)
    return first


def _parallel_rank(graph: Graph, rows: np.ndarray) -> np.ndarray:
    """networkx's default multigraph keys: 0, 1, ... among the arcs ``rows`` joining the same pair."""
    src, dst = graph.src[rows].astype(np.int64), graph.dst[rows].astype(np.int64)
    if not graph.directed:
        src, dst = np.minimum(src, dst), np.maximum(src, dst)
    order = np.lexsort((np.arange(rows.size), dst, src))
    s, d = src[order], dst[order]
    starts = np.flatnonzero(np.r_[True, (s[1:] != s[:-1]) | (d[1:] != d[:-1])]) if rows.size else np.zeros(0, int)
    lengths = np.diff(np.r_[starts, rows.size])
    rank = np.empty(rows.size, dtype=np.int64)
    rank[order] = np.arange(rows.size) - np.repeat(starts, lengths)
    return rank


# ------------------------------------------------------------ vertex tables
def fields_frame(fields: Mapping[str, Any], ids: np.ndarray, names: Sequence[str] | None = None) -> pd.DataFrame:
    """Vertex fields as a DataFrame: one row per vertex, indexed by original id (index name ``"id"``).

    A scalar field is a column of its dtype; a field with several values per
    vertex (``(n, k)``) a column of 1-d arrays (copies); a
    :class:`~gasengine.ragged.Ragged` field a column of Python lists.

    Examples
    --------
    >>> from gasengine import Ragged
    >>> df = fields_frame({"x": np.array([0.5, 1.5]), "v": np.eye(2), "nbrs": Ragged.from_lists([[1], []])},
    ...                   np.array([10, 20]))
    >>> df.index.name, df.loc[20, "x"], df.loc[10, "v"].tolist(), df["nbrs"].tolist()
    ('id', np.float64(1.5), [1.0, 0.0], [[1], []])
    """
    import pandas as pd

    chosen = list(fields) if names is None else list(names)
    missing = [name for name in chosen if name not in fields]
    if missing:
        raise KeyError(f"no vertex field {missing[0]!r}; the fields are {sorted(fields)}")
    columns = {name: _frame_column(fields[name]) for name in chosen}
    index = pd.Index(ids, name=ID_INDEX, tupleize_cols=False)
    return pd.DataFrame(columns, index=index) if columns else pd.DataFrame(index=index)


def _frame_column(values: Any) -> Any:
    """A field as a DataFrame column (see :func:`fields_frame`)."""
    from .ragged import Ragged

    if isinstance(values, Ragged):
        flat = values.values.tolist()
        ptr = values.ptr.tolist()
        # one list per row, sliced by C-level map: no Python statement per row
        return list(map(flat.__getitem__, map(slice, ptr[:-1], ptr[1:])))
    values = np.asarray(values)
    if values.ndim == 1:
        return values
    return list(np.array(values))  # one row array per vertex, not aliasing the field


def vertex_frame(graph: Graph, fields: Sequence[str] | None = None) -> pd.DataFrame:
    """The vertex fields of ``graph`` as a DataFrame indexed by original id; see :meth:`Graph.vertex_frame`."""
    return fields_frame(graph.vertex_data, graph.original_ids(), fields)


def vertex_numbers(graph: Graph, ids: Any, missing: str = "raise") -> np.ndarray:
    """The vertex numbers of original ids (vectorised); ``missing="ignore"`` drops unknown ids.

    Examples
    --------
    >>> vertex_numbers(Graph([0], [1], ids=["a", "b"]), ["b", "a"]).tolist()
    [1, 0]
    """
    import pandas as pd

    index = pd.Index(graph.original_ids(), tupleize_cols=False)
    wanted = pd.Index(list(ids) if not isinstance(ids, (np.ndarray, pd.Index, pd.Series)) else ids, tupleize_cols=False)
    if index.is_unique:
        found = index.get_indexer(wanted)
    else:  # pragma: no cover - ids are unique in every graph the library builds
        found = index.get_indexer_for(wanted)
    if (found < 0).any():
        if missing == "ignore":
            return found[found >= 0]
        bad = wanted[found < 0]
        raise KeyError(f"{bad.size} id(s) are not vertices of the graph, e.g. {_plain(bad[0])!r}")
    return found


def set_vertex_frame(graph: Graph, frame: Any) -> None:
    """Store every column of ``frame`` as a vertex field; see :meth:`Graph.set_vertex_frame`."""
    import pandas as pd

    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"set_vertex_frame takes a pandas DataFrame indexed by vertex id, got {type(frame).__name__}")
    index = frame.index
    if not index.is_unique:
        dup = _plain(index[index.duplicated()][0])
        raise GraphFormatError(f"the frame's index repeats id {dup!r}; every vertex needs exactly one row")
    rows = index.get_indexer(pd.Index(graph.original_ids(), tupleize_cols=False))
    absent = rows < 0
    if absent.any():
        first = _plain(graph.original_ids()[np.flatnonzero(absent)[0]])
        raise GraphFormatError(
            f"the frame has no row for {int(absent.sum())} of the {graph.num_vertices} vertices, e.g. id "
            f"{first!r} (the frame must be indexed by vertex id; to fill the others: "
            f"frame.reindex(graph.original_ids(), fill_value=...))"
        )
    fields = {}
    for column in frame.columns:
        name = _field_name(column, "vertex field")
        fields[name] = _field_from_column(frame[column], rows, column)
    for name, values in fields.items():  # all checked before any is stored
        graph.set_vertex_field(name, values)


def _field_from_column(series: pd.Series, rows: np.ndarray, column: Any) -> Any:
    """A column, in vertex order, as a field: numbers as an array, equal-length rows as ``(n, k)``,
    rows of different lengths as a Ragged."""
    import pandas as pd

    from .ragged import Ragged

    taken = series.iloc[rows]
    dtype = series.dtype
    numpy_dtype = dtype if isinstance(dtype, np.dtype) else getattr(dtype, "numpy_dtype", None)
    if isinstance(numpy_dtype, np.dtype) and numpy_dtype.kind in "biufc" and not isinstance(dtype, pd.CategoricalDtype):
        if not isinstance(dtype, np.dtype) and taken.hasnans:
            return taken.to_numpy(dtype=np.float64, na_value=np.nan)
        return taken.to_numpy(dtype=numpy_dtype, copy=True)
    cells = taken.to_numpy(dtype=object)
    if cells.size and isinstance(cells[0], (list, tuple, np.ndarray)):
        sizes = np.fromiter(map(len, cells), dtype=np.int64, count=cells.size)
        if isinstance(cells[0], np.ndarray) and (sizes == sizes[0]).all():
            return np.stack(cells)  # arrays of one length: a vector field, as fields_frame writes it
        ptr = np.zeros(cells.size + 1, dtype=np.int64)
        np.cumsum(sizes, out=ptr[1:])
        values = np.array(list(chain.from_iterable(cells)))
        if values.size and values.dtype.kind not in "biuf":
            raise GraphFormatError(f"column {column!r} holds rows of {values.dtype} values, not numbers")
        return Ragged(ptr, values if values.size else np.zeros(0, np.int64))
    raise GraphFormatError(
        f"column {column!r} holds {dtype} values, not numbers; vertex fields are numeric arrays "
        f"(encode it first, e.g. frame[{column!r}].astype('category').cat.codes)"
    )


# ------------------------------------------------------- Parquet and Arrow
def _pyarrow(what: str) -> Any:
    try:
        import pyarrow
    except ImportError:
        raise ImportError(f"{what} needs pyarrow: pip install 'gasengine[arrow]'") from None
    return pyarrow


def _open_table_schema(path: str, format: str) -> tuple[Any, Any]:
    """(schema, reader function ``read(columns) -> pyarrow.Table``) of a Parquet or Arrow IPC file."""
    pa = _pyarrow(f"reading {format} files")
    if format == "parquet":
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(path, memory_map=True)
        except (pa.ArrowInvalid, OSError) as exc:
            raise GraphFormatError(f"not a readable Parquet file: {exc}", path=path) from None
        return parquet.schema_arrow, lambda columns: parquet.read(columns=columns)
    from pyarrow import ipc

    try:
        source = pa.memory_map(path)
        reader = ipc.open_file(source)  # Arrow IPC file = Feather v2
        return reader.schema, lambda columns: reader.read_all().select(columns)
    except pa.ArrowInvalid:
        pass
    try:  # the IPC stream format
        stream = ipc.open_stream(pa.memory_map(path))
        return stream.schema, lambda columns: stream.read_all().select(columns)
    except pa.ArrowInvalid:
        pass
    try:  # Feather v1
        from pyarrow import feather

        table = feather.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise GraphFormatError(f"not a readable Arrow IPC / Feather file: {exc}", path=path) from None
    return table.schema, table.select


def _resolve_columns(names: list[str], schema: Any, columns: Sequence[Any] | None, path: str) -> list[str]:
    """The source, target (and weight) column names: by position or name, or by default."""
    import pyarrow as pa

    if columns is None:
        if len(names) < 2:
            raise GraphFormatError(f"an edge table needs a source and a target column; this one has {names}", path=path)
        chosen = names[:2]
        if len(names) > 2 and _is_number_type(schema.field(2).type, pa):
            chosen.append(names[2])
        return chosen
    columns = tuple(columns)
    if len(columns) not in (2, 3):
        raise ValueError(f"columns must name 2 or 3 columns (source, target[, weight]), got {columns}")
    chosen = []
    for role, column in zip(("source", "target", "weight"), columns):
        if isinstance(column, (int, np.integer)) and not isinstance(column, bool):
            if not 0 <= column < len(names):
                raise GraphFormatError(
                    f"no column {int(column)} for the {role}: the table has {len(names)} columns {names}",
                    path=path,
                )
            chosen.append(names[column])
        elif isinstance(column, str):
            if column not in names:
                close = difflib.get_close_matches(column, names, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise GraphFormatError(
                    f"no column {column!r} for the {role}{hint}; the table's columns are {names}", path=path
                )
            chosen.append(column)
        else:
            raise TypeError(f"columns must be column positions (int) or names (str), got {column!r}")
    if len(set(chosen)) != len(chosen):
        raise ValueError(f"columns must be distinct, got {columns} (= {chosen})")
    return chosen


def _is_number_type(t: Any, pa: Any) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def read_edge_table(
    path: str | os.PathLike[str],
    format: str = "parquet",
    *,
    columns: Sequence[int | str] | None = None,
    undirected: bool = False,
    relabel: bool = True,
) -> Graph:
    """Read a Parquet or Arrow IPC (Feather) edge table; what :func:`~gasengine.loaders.load_graph` calls.

    Only the chosen columns are read (Parquet reads no other column at all),
    straight from Arrow buffers into numpy, with no DataFrame in between.

    Parameters
    ----------
    path : str or path-like
        The file.
    format : {"parquet", "arrow"}
        ``"arrow"`` reads the Arrow IPC file format (Feather v2), the IPC
        stream format and Feather v1.
    columns : tuple of int or str, optional
        ``(source, target)`` or ``(source, target, weight)``, each a 0-based
        position or a column name, as ``load_graph``'s ``columns`` for CSV
        (and the command's ``--columns S,D[,W]``).  By default, as for CSV:
        the first two columns, and the third as the weight if it holds
        numbers.  The weight becomes the float64 edge field ``"weight"``.
    undirected, relabel : bool
        As for :func:`~gasengine.loaders.load_graph`.  ``relabel=True``
        numbers the vertices in increasing id order and keeps the ids (any
        integers, or strings); ``relabel=False`` needs non-negative integer
        ids and uses them as vertex numbers.

    Returns
    -------
    Graph

    Raises
    ------
    ImportError
        If pyarrow is not installed, naming the ``arrow`` extra.
    GraphFormatError
        Naming the file and the column: a column that is not there (listing
        those that are), a missing source or target (with its row), a weight
        column that does not hold numbers or holds a missing value or NaN.

    Examples
    --------
    >>> import os, tempfile, pandas as pd
    >>> f = os.path.join(tempfile.mkdtemp(), "edges.parquet")
    >>> pd.DataFrame({"from": [10, 20], "to": [20, 30], "w": [0.5, 2.0]}).to_parquet(f)
    >>> g = read_edge_table(f)
    >>> g.ids.tolist(), g.src.tolist(), g.dst.tolist(), g.edge_data["weight"].tolist()
    ([10, 20, 30], [0, 1], [1, 2], [0.5, 2.0])
    >>> read_edge_table(f, columns=("to", "from")).src.tolist()
    [1, 2]
    >>> read_edge_table(f, columns=("from", "too"))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    gasengine.errors.GraphFormatError: ...: no column 'too' for the target (did you mean 'to'?);
    the table's columns are ['from', 'to', 'w']
    """
    path = os.fspath(path)
    schema, read = _open_table_schema(path, format)
    import pyarrow as pa

    names = list(schema.names)
    chosen = _resolve_columns(names, schema, columns, path)
    table = read(chosen)
    endpoints = []
    for role, name in zip(("source", "target"), chosen[:2]):
        column = table.column(name)
        if column.null_count:
            row = _first_missing(column.is_null().to_numpy(zero_copy_only=False))
            raise GraphFormatError(
                f"column {name!r} (the {role}) has {column.null_count} missing value(s), the first in row {row}; "
                f"every edge needs a {role}",
                path=path,
            )
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        endpoints.append(column)
    edge_data = {}
    if len(chosen) == 3:
        edge_data["weight"] = _weights(table.column(chosen[2]), chosen[2], path, pa)
    dense = None
    if relabel and all(pa.types.is_integer(c.type) for c in endpoints):
        # straight from the Arrow chunks (no concatenation, no widening copy)
        dense = relabel_chunks(*([ch.to_numpy() for ch in c.chunks] for c in endpoints))
    src, dst = (c.to_numpy() for c in endpoints) if dense is None else dense[:2]
    if dense is not None:
        ids = dense[2]
        n = ids.size
    elif relabel:
        src, dst, ids = relabel_values(src, dst, chosen[:2])
        n = ids.size
    else:
        ids = None
        for role, name, values in (("source", chosen[0], src), ("target", chosen[1], dst)):
            if values.dtype.kind not in "iu":
                raise GraphFormatError(
                    f"column {name!r} (the {role}) holds {values.dtype} ids; relabel=False needs integer ids",
                    path=path,
                )
            if values.size and values.min() < 0:
                row = int(np.argmin(values))
                raise GraphFormatError(
                    f"column {name!r} (the {role}) has the negative id {int(values[row])} in row {row}; "
                    f"relabel=False uses ids as vertex numbers (pass relabel=True)",
                    path=path,
                )
        n = None
    return Graph(src, dst, num_vertices=n, edge_data=edge_data, ids=ids, directed=not undirected)


def _weights(column: Any, name: str, path: str, pa: Any) -> np.ndarray:
    """A weight column as float64, or an error naming it (not numbers, missing, NaN)."""
    if not _is_number_type(column.type, pa):
        raise GraphFormatError(
            f"weight column {name!r} holds {column.type} values, not numbers "
            f"(choose the columns with columns=(source, target) or (source, target, weight))",
            path=path,
        )
    if column.null_count:
        row = _first_missing(column.is_null().to_numpy(zero_copy_only=False))
        raise GraphFormatError(
            f"weight column {name!r} has {column.null_count} missing value(s), the first in row {row}", path=path
        )
    weights = column.to_numpy().astype(np.float64, copy=False)
    nan = np.isnan(weights)
    if nan.any():
        raise GraphFormatError(f"weight column {name!r} has NaN in row {_first_missing(nan)}", path=path)
    if not weights.flags.writeable:
        weights = weights.copy()  # zero-copy from Arrow is read-only; fields are written by programs
    return weights
