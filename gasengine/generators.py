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
