"""Stateless strategies: each edge's part is a hash of the edge or of its endpoints.

All of them are one compiled pass over the edges (no Python statement per
edge, no 64-bit temporaries of the size of the graph), deterministic for a
given ``seed``, and independent of the order of the edges except ``random``,
which also hashes the edge's position so that parallel edges spread out.

====================== ===================================== =======================
strategy               part of edge ``(u, v)``               replicas of a vertex
====================== ===================================== =======================
``random``             ``h(u, v, position)``                 up to ``P``
``canonical-random``   ``h(min(u, v), max(u, v))``           up to ``P``
``source``             ``h(u)`` (1D, GraphX EdgePartition1D) ``1`` + in-degree
``destination``        ``h(v)``                              ``1`` + out-degree
``grid``               column of ``u``, row of ``v``         ``<= rows + cols - 1``
``dbh``                ``h`` of the lower-degree endpoint    up to ``P``
====================== ===================================== =======================

The vertex hash ``h`` is :func:`mix64` (the splitmix64 finaliser salted with
the seed) reduced modulo ``P``, so with the same seed ``source``,
``destination`` and ``dbh`` send a vertex's edges to the same home part.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .edges import degrees, part_dtype

_GOLDEN = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_DST_OFFSET = np.uint64(0x1F)


def salt_of(seed: int) -> np.uint64:
    """The 64-bit salt that :func:`mix64` adds for ``seed``.

    Examples
    --------
    >>> int(salt_of(0)) == 0x9E3779B97F4A7C15
    True
    """
    return np.uint64((_GOLDEN * (int(seed) + 1)) & _MASK64)


def mix64(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """A 64-bit hash of every integer in ``x`` (splitmix64 finaliser salted with ``seed``).

    This is the readable numpy statement of the hash every strategy uses; the
    compiled kernels compute exactly the same values.

    Parameters
    ----------
    x : array_like of non-negative int
        Keys to hash.
    seed : int
        Salt; different seeds give unrelated hashes.

    Returns
    -------
    ndarray of uint64

    Examples
    --------
    >>> import numpy as np
    >>> h = mix64(np.arange(3))
    >>> h.dtype, len(set(h.tolist()))
    (dtype('uint64'), 3)
    """
    z = np.asarray(x).astype(np.uint64) + salt_of(seed)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def _mix(x: np.uint64, salt: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    z = x + salt
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


# ----------------------------------------------------------------- kernels
@njit(cache=True)
def _random_kernel(src, dst, salt, salt_pos, num_parts, out):  # pragma: no cover - compiled
    p = np.uint64(num_parts)
    for i in range(src.size):
        k = _mix(np.uint64(src[i]), salt) ^ _mix(np.uint64(dst[i]) + _DST_OFFSET, salt)
        k ^= _mix(np.uint64(i), salt_pos)
        out[i] = k % p


@njit(cache=True)
def _canonical_kernel(src, dst, salt, num_parts, out):  # pragma: no cover - compiled
    p = np.uint64(num_parts)
    for i in range(src.size):
        a = np.uint64(min(src[i], dst[i]))
        b = np.uint64(max(src[i], dst[i]))
        k = _mix(a, salt) ^ _mix(b + _DST_OFFSET, salt)
        out[i] = k % p


@njit(cache=True)
def _endpoint_kernel(ends, salt, num_parts, out):  # pragma: no cover - compiled
    p = np.uint64(num_parts)
    for i in range(ends.size):
        out[i] = _mix(np.uint64(ends[i]), salt) % p


@njit(cache=True)
def _grid_kernel(src, dst, salt, num_parts, rows, cols, last_rows, out):  # pragma: no cover
    p = np.uint64(num_parts)
    for i in range(src.size):
        col = np.int64(_mix(np.uint64(src[i]), salt) % p) // rows
        height = rows if col < cols - 1 else last_rows
        row = np.int64(_mix(np.uint64(dst[i]), salt) % np.uint64(height))
        out[i] = col * rows + row


@njit(cache=True)
def _dbh_kernel(src, dst, deg, salt, num_parts, out):  # pragma: no cover - compiled
    p = np.uint64(num_parts)
    for i in range(src.size):
        u = src[i]
        v = dst[i]
        du = deg[u]
        dv = deg[v]
        if du < dv:
            w = u
        elif dv < du:
            w = v
        else:
            w = min(u, v)
        out[i] = _mix(np.uint64(w), salt) % p


def _out(src: np.ndarray, num_parts: int) -> np.ndarray:
    return np.empty(src.size, dtype=part_dtype(num_parts))


# -------------------------------------------------------------- strategies
def random_cut(src: np.ndarray, dst: np.ndarray, num_vertices: int, num_parts: int, seed: int = 0) -> np.ndarray:
    """Random vertex cut: each edge goes to a part given by a hash of the edge.

    The key is the two endpoints *and* the edge's position, so parallel edges
    ``u -> v`` spread over parts like any others (PowerGraph's random
    placement).  Expected edge balance is that of ``m`` balls in ``P`` bins.

    Parameters
    ----------
    src, dst : ndarray of int
        Edge endpoints (validated by the caller, see :func:`partitioning.assign_edges`).
    num_vertices : int
        Number of vertices (unused; part of the common strategy signature).
    num_parts : int
        Number of parts ``P >= 1``.
    seed : int
        Hash salt.

    Returns
    -------
    ndarray of :func:`~partitioning.edges.part_dtype` (int8 up to 128 parts), shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> random_cut(np.array([0, 0, 1]), np.array([1, 1, 2]), 3, 4).tolist()
    [2, 3, 2]
    """
    out = _out(src, num_parts)
    _random_kernel(src, dst, salt_of(seed), salt_of(seed + 7), int(num_parts), out)
    return out


def canonical_random_cut(
    src: np.ndarray, dst: np.ndarray, num_vertices: int, num_parts: int, seed: int = 0
) -> np.ndarray:
    """Hash of the unordered endpoint pair: ``u -> v``, ``v -> u`` and duplicates land together.

    As GraphX's ``CanonicalRandomVertexCut``.

    Examples
    --------
    >>> import numpy as np
    >>> parts = canonical_random_cut(np.array([3, 5, 3]), np.array([5, 3, 5]), 6, 8)
    >>> bool(parts[0] == parts[1] == parts[2])
    True
    """
    out = _out(src, num_parts)
    _canonical_kernel(src, dst, salt_of(seed), int(num_parts), out)
    return out


def source_cut(src: np.ndarray, dst: np.ndarray, num_vertices: int, num_parts: int, seed: int = 0) -> np.ndarray:
    """1D cut by source: all out-edges of a vertex share its home part ``h(u) mod P``.

    As GraphX's ``EdgePartition1D``.  A vertex is replicated at most
    ``1 + in-degree`` times; edge balance follows the out-degree skew, so it
    is poor on power-law graphs.

    Examples
    --------
    >>> import numpy as np
    >>> parts = source_cut(np.array([2, 2, 2]), np.array([0, 1, 3]), 4, 4)
    >>> len(set(parts.tolist()))
    1
    """
    out = _out(src, num_parts)
    _endpoint_kernel(src, salt_of(seed), int(num_parts), out)
    return out


def destination_cut(src: np.ndarray, dst: np.ndarray, num_vertices: int, num_parts: int, seed: int = 0) -> np.ndarray:
    """1D cut by destination: all in-edges of a vertex share its home part ``h(v) mod P``.

    Gather over in-edges is then local for every vertex (PowerLyra's low-degree
    case).

    Examples
    --------
    >>> import numpy as np
    >>> parts = destination_cut(np.array([0, 1, 3]), np.array([2, 2, 2]), 4, 4)
    >>> len(set(parts.tolist()))
    1
    """
    out = _out(src, num_parts)
    _endpoint_kernel(dst, salt_of(seed), int(num_parts), out)
    return out


def grid_shape(num_parts: int) -> tuple[int, int, int]:
    """``(rows, cols, last_rows)`` of the part grid used by :func:`grid_cut`.

    ``cols = ceil(sqrt(P))`` columns; all but the last have
    ``rows = ceil(P / cols)`` parts, the last has ``last_rows = P - rows *
    (cols - 1)`` (``1 <= last_rows <= rows``).  For square ``P`` this is the
    ``sqrt(P) x sqrt(P)`` grid.

    Examples
    --------
    >>> grid_shape(16), grid_shape(8), grid_shape(2)
    ((4, 4, 4), (3, 3, 2), (1, 2, 1))
    """
    p = int(num_parts)
    cols = math.isqrt(p)
    if cols * cols < p:
        cols += 1
    rows = -(-p // cols)
    return rows, cols, p - rows * (cols - 1)


def grid_cut(src: np.ndarray, dst: np.ndarray, num_vertices: int, num_parts: int, seed: int = 0) -> np.ndarray:
    """2D (grid, "constrained") cut as GraphX's ``EdgePartition2D``.

    Parts form a grid of columns; edge ``u -> v`` goes to the column chosen by
    the hash of ``u`` and, inside it, the row chosen by the hash of ``v``.
    All out-edges of ``u`` therefore stay in one column and all in-edges of
    ``v`` in one row, so a vertex has at most ``rows + cols - 1`` replicas:
    ``2 sqrt(P) - 1`` for square ``P``.

    **P not a perfect square.**  We follow GraphX's ragged grid (see
    :func:`grid_shape`): ``ceil(sqrt(P))`` columns of ``ceil(P / cols)``
    rows, the last column shorter.  The column is ``(h(u) mod P) // rows``,
    so a column is picked with probability proportional to its height and
    every part still expects ``m / P`` edges, and the bound becomes
    ``rows + cols - 1 <= 2 ceil(sqrt(P)) - 1``.  The alternatives are worse:
    using the largest square ``<= P`` leaves parts empty, and an exact
    factorisation ``P = r * c`` degenerates to a 1D cut (bound ``P``) when
    ``P`` is prime.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> s, d = rng.integers(0, 50, 500), rng.integers(0, 50, 500)
    >>> parts = grid_cut(s, d, 50, 9)
    >>> # every source's out-edges use at most 3 parts (one column)
    >>> max(len(set(parts[s == v].tolist())) for v in range(50))
    3
    """
    rows, cols, last_rows = grid_shape(num_parts)
    out = _out(src, num_parts)
    _grid_kernel(src, dst, salt_of(seed), int(num_parts), rows, cols, last_rows, out)
    return out


def dbh_cut(src: np.ndarray, dst: np.ndarray, num_vertices: int, num_parts: int, seed: int = 0) -> np.ndarray:
    """Degree-based hashing (Xie et al., NIPS 2014): hash the lower-degree endpoint.

    Degrees are total degrees (in + out) over the whole edge list, found in one
    vectorised pass before the hashing pass.  Cutting the high-degree endpoint
    replicates hubs, which are few, and keeps each low-degree vertex whole.
    Equal degrees hash the smaller vertex id, so the choice is symmetric in
    ``u`` and ``v``.

    Examples
    --------
    >>> import numpy as np
    >>> # a star: every edge hashes its leaf, so the hub is cut, leaves are not
    >>> parts = dbh_cut(np.zeros(6, dtype=np.int64), np.arange(1, 7), 7, 3)
    >>> bool((parts == source_cut(np.arange(1, 7), np.zeros(6, dtype=np.int64), 7, 3)).all())
    True
    """
    deg = degrees(src, dst, num_vertices)
    out = _out(src, num_parts)
    _dbh_kernel(src, dst, deg, salt_of(seed), int(num_parts), out)
    return out
