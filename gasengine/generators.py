"""Synthetic graphs for tests and benchmarks."""

from __future__ import annotations

import numpy as np

from .graph import Graph, index_dtype


def rmat_edges(
    scale: int,
    edge_factor: int = 16,
    a: float = 0.57,
    b: float = 0.19,
    c: float = 0.19,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Edge arrays of an R-MAT graph (Chakrabarti, Zhan, Faloutsos 2004).

    ``2**scale`` vertices and ``edge_factor * 2**scale`` directed edges; each
    edge picks one quadrant of the adjacency matrix per level with
    probabilities ``a, b, c, 1-a-b-c`` (Graph500's defaults).  Vertex numbers
    are then shuffled so that degree does not follow the id.  Duplicates and
    self-loops are kept, as in Graph500.

    Examples
    --------
    >>> src, dst = rmat_edges(4, edge_factor=2)
    >>> src.size, int(max(src.max(), dst.max())) < 16
    (32, True)
    """
    rng = np.random.default_rng(seed)
    n = 1 << scale
    m = edge_factor * n
    dtype = index_dtype(n)
    src = np.zeros(m, dtype=dtype)
    dst = np.zeros(m, dtype=dtype)
    ab, abc = a + b, a + b + c
    chunk = 1 << 22  # bound the temporaries: 4M edges per pass
    for lo in range(0, m, chunk):
        hi = min(lo + chunk, m)
        s = np.zeros(hi - lo, dtype=dtype)
        d = np.zeros(hi - lo, dtype=dtype)
        for level in range(scale):
            r = rng.random(hi - lo, dtype=np.float32)
            bit = dtype.type(1 << level)
            s |= np.where(r >= ab, bit, 0).astype(dtype)
            d |= np.where(((r >= a) & (r < ab)) | (r >= abc), bit, 0).astype(dtype)
        src[lo:hi], dst[lo:hi] = s, d
    perm = rng.permutation(n).astype(dtype)
    return perm[src], perm[dst]


def rmat(scale: int, edge_factor: int = 16, seed: int = 0) -> Graph:
    """An R-MAT :class:`Graph` with ``2**scale`` vertices; see :func:`rmat_edges`.

    Examples
    --------
    >>> rmat(5).num_vertices
    32
    """
    src, dst = rmat_edges(scale, edge_factor, seed=seed)
    return Graph(src, dst, num_vertices=1 << scale)


def grid(rows: int, cols: int | None = None, weighted: bool = False, seed: int = 0) -> Graph:
    """An undirected ``rows x cols`` grid graph (4-neighbourhood), row-major vertex numbers.

    A high-diameter benchmark: ``rows + cols - 2`` hops corner to corner.
    With ``weighted``, edge field ``"weight"`` is uniform in [1, 2).

    Examples
    --------
    >>> g = grid(2, 3)
    >>> g.num_vertices, g.num_undirected_edges, g.directed
    (6, 7, False)
    """
    cols = rows if cols is None else cols
    idx = np.arange(rows * cols, dtype=index_dtype(rows * cols)).reshape(rows, cols)
    src = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    dst = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    edge_data = {"weight": np.random.default_rng(seed).uniform(1.0, 2.0, src.size)} if weighted else None
    return Graph(src, dst, num_vertices=rows * cols, edge_data=edge_data, directed=False)


def road_like(n: int, k: int = 3, seed: int = 0) -> Graph:
    """Random points in the unit square, each joined to its ``k`` nearest neighbours (undirected).

    Road networks are near-planar, of low degree and high diameter; so is
    this.  Edge field ``"weight"`` is the Euclidean length; a pair chosen by
    both ends is one edge.

    Examples
    --------
    >>> g = road_like(100, seed=1)
    >>> g.num_vertices, g.directed, bool(g.edge_data["weight"].min() > 0)
    (100, False, True)
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    points = rng.random((n, 2))
    dist, nbr = cKDTree(points).query(points, k=k + 1)
    src = np.repeat(np.arange(n), k)
    dst = nbr[:, 1:].ravel()
    length = dist[:, 1:].ravel()
    lo, hi = np.minimum(src, dst), np.maximum(src, dst)
    _, first = np.unique(lo.astype(np.int64) * n + hi, return_index=True)
    first.sort()
    return Graph(lo[first], hi[first], num_vertices=n, edge_data={"weight": length[first]}, directed=False)
