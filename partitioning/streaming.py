"""Streaming strategies: edges are placed one at a time using what was placed before.

Both strategies keep, for every vertex ``v``, the set ``A(v)`` of parts that
already hold a replica of it (a bitset of ``ceil(P / 64)`` words per vertex)
and the number of edges of every part, and give each edge to the part with
the best score.  They are sequential by nature; the loop over the edge
stream is compiled with numba, so a 16.7M-edge graph takes seconds.

Stream order
------------
The outcome depends on the order in which edges arrive.  By default
(``order="shuffle"``) edges are streamed in a random order drawn from
``seed``: files are often sorted by source, and in that order a greedy
streamer sees all edges of one vertex at once and, at HDRF's default
``lam = 1``, piles them into a few parts (``benchmarks/README.md`` shows edge
balance up to ``P`` on such files).  ``order="file"`` streams the
edges in the given order; an explicit permutation of ``0..m-1`` is also
accepted.

Ties
----
When several parts share the best score, one of them is picked by a hash of
the edge's position in the stream and the seed (PowerGraph also hashes among
its top parts), which is deterministic and does not favour low part numbers.
:mod:`partitioning.reference` restates both algorithms in plain Python and the
tests check that the compiled ones agree with it edge for edge.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .edges import part_dtype
from .hashing import _mix, salt_of

#: Accepted names for the ``order`` parameter.
ORDERS = ("shuffle", "file")


def stream_order(num_edges: int, order: Any = "shuffle", seed: int = 0) -> np.ndarray:
    """The order in which a streaming strategy visits the edges.

    Parameters
    ----------
    num_edges : int
        Number of edges ``m``.
    order : {"shuffle", "file"} or array_like of int
        ``"shuffle"``: a random permutation drawn from ``seed`` (default;
        a Fisher-Yates shuffle driven by the package's hash, so it is the
        same on every platform and numpy version);
        ``"file"``: ``0, 1, ..., m-1``; or an explicit permutation of
        ``0..m-1``.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    ndarray of int64, shape (m,)
        Edge indices in visiting order.

    Raises
    ------
    ValueError
        For an unknown name, or an array that is not a permutation of
        ``0..m-1``.

    Examples
    --------
    >>> stream_order(4, "file").tolist()
    [0, 1, 2, 3]
    >>> sorted(stream_order(4, "shuffle", seed=1).tolist())
    [0, 1, 2, 3]
    """
    perm = _permutation(int(num_edges), order, seed)
    return np.arange(int(num_edges), dtype=np.int64) if perm is None else perm.astype(np.int64, copy=False)


def _permutation(m: int, order: Any, seed: int) -> np.ndarray | None:
    """The stream permutation, or ``None`` for file order (no gather needed)."""
    if isinstance(order, str):
        if order == "file":
            return None
        if order == "shuffle":
            perm = np.arange(m, dtype=np.int32 if m < 2**31 else np.int64)
            _shuffle_in_place(perm, salt_of(int(seed) + 0x5F))
            return perm
        raise ValueError(f"unknown stream order {order!r}; choose one of {list(ORDERS)} or pass a permutation")
    perm = np.asarray(order)
    if perm.shape != (m,) or perm.dtype.kind not in "iu":
        raise ValueError(
            f"order must be a permutation of 0..{m - 1} (shape ({m},)), got shape {perm.shape} dtype {perm.dtype}"
        )
    perm = perm.astype(np.int64, copy=False)
    if m and (perm.min() < 0 or perm.max() >= m or np.bincount(perm, minlength=m).max() != 1):
        raise ValueError(f"order must be a permutation of 0..{m - 1}: it repeats or misses edges")
    return perm


def tie_salt(seed: int) -> np.uint64:
    """Salt of the hash that breaks score ties (see :func:`tie_pick`).

    Examples
    --------
    >>> bool(tie_salt(0) != tie_salt(1))
    True
    """
    return salt_of(int(seed) + 0x5EED)


@njit(cache=True, inline="always")
def _tie_pick(salt: np.uint64, k: int, ties: int) -> int:  # pragma: no cover - compiled
    return int(_mix(np.uint64(k), salt) % np.uint64(ties))


def tie_pick(salt: np.uint64, k: int, ties: int) -> int:
    """Which of ``ties`` equally good parts the ``k``-th streamed edge takes (0-based).

    Examples
    --------
    >>> 0 <= tie_pick(tie_salt(0), 5, 3) < 3
    True
    """
    return int(_tie_pick(np.uint64(salt), int(k), int(ties)))


# ------------------------------------------------------------------ kernels
@njit(cache=True)
def _shuffle_in_place(perm, salt):  # pragma: no cover - compiled
    """Fisher-Yates shuffle of ``perm`` driven by :func:`_mix`."""
    for i in range(perm.size - 1, 0, -1):
        j = np.int64(_mix(np.uint64(i), salt) % np.uint64(i + 1))
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t


@njit(cache=True)
def _greedy_kernel(s, d, perm, shuffled, num_vertices, num_parts, salt, out):  # pragma: no cover - compiled
    """Greedy placement of the stream of edges ``e = perm[k]`` (``k`` if not shuffled); ``out[e]`` gets the part."""
    words = (num_parts + 63) // 64
    member = np.zeros((num_vertices, words), dtype=np.uint64)
    load = np.zeros(num_parts, dtype=np.int64)
    one = np.uint64(1)
    for k in range(s.size):
        e = perm[k] if shuffled else k
        u = s[e]
        v = d[e]
        mu = member[u]
        mv = member[v]
        best_rep = -1
        best_load = np.int64(0)
        ties = 0
        for p in range(num_parts):
            w = p >> 6
            bit = one << np.uint64(p & 63)
            rep = ((mu[w] & bit) != 0) + ((mv[w] & bit) != 0)
            lp = load[p]
            if rep > best_rep or (rep == best_rep and lp < best_load):
                best_rep = rep
                best_load = lp
                ties = 1
            elif rep == best_rep and lp == best_load:
                ties += 1
        chosen = -1
        pick = _tie_pick(salt, k, ties) if ties > 1 else 0
        for p in range(num_parts):
            w = p >> 6
            bit = one << np.uint64(p & 63)
            rep = ((mu[w] & bit) != 0) + ((mv[w] & bit) != 0)
            if rep == best_rep and load[p] == best_load:
                if pick == 0:
                    chosen = p
                    break
                pick -= 1
        out[e] = chosen
        load[chosen] += 1
        w = chosen >> 6
        bit = one << np.uint64(chosen & 63)
        mu[w] |= bit
        mv[w] |= bit


@njit(cache=True)
def _hdrf_kernel(s, d, perm, shuffled, num_vertices, num_parts, lam, eps, salt, out):  # pragma: no cover - compiled
    """HDRF placement of the stream of edges ``e = perm[k]`` (``k`` if not shuffled); ``out[e]`` gets the part.

    ``state[v, 0]`` is the partial degree of ``v`` and ``state[v, 1:]`` its
    replica bitset, so one cache line serves both.
    """
    words = (num_parts + 63) // 64
    state = np.zeros((num_vertices, words + 1), dtype=np.uint64)
    load = np.zeros(num_parts, dtype=np.int64)
    score = np.empty(num_parts, dtype=np.float64)
    one = np.uint64(1)
    max_load = np.int64(0)
    min_load = np.int64(0)
    at_min = num_parts  # number of parts whose load equals min_load
    for k in range(s.size):
        e = perm[k] if shuffled else k
        u = s[e]
        v = d[e]
        su = state[u]
        sv = state[v]
        su[0] += one
        sv[0] += one
        du = np.int64(su[0])
        dv = np.int64(sv[0])
        theta_u = du / (du + dv)
        theta_v = 1.0 - theta_u
        g_u = 1.0 + (1.0 - theta_u)
        g_v = 1.0 + (1.0 - theta_v)
        spread = eps + (max_load - min_load)
        best = -1.0
        ties = 0
        for p in range(num_parts):
            w = 1 + (p >> 6)
            bit = one << np.uint64(p & 63)
            sc = 0.0
            if su[w] & bit:
                sc += g_u
            if sv[w] & bit:
                sc += g_v
            sc += lam * (max_load - load[p]) / spread
            score[p] = sc
            if sc > best:
                best = sc
                ties = 1
            elif sc == best:
                ties += 1
        chosen = -1
        pick = _tie_pick(salt, k, ties) if ties > 1 else 0
        for p in range(num_parts):
            if score[p] == best:
                if pick == 0:
                    chosen = p
                    break
                pick -= 1
        out[e] = chosen
        w = 1 + (chosen >> 6)
        bit = one << np.uint64(chosen & 63)
        su[w] |= bit
        sv[w] |= bit
        if load[chosen] == min_load:
            at_min -= 1
        load[chosen] += 1
        if load[chosen] > max_load:
            max_load = load[chosen]
        if at_min == 0:
            min_load += 1
            for p in range(num_parts):
                if load[p] == min_load:
                    at_min += 1


def _run_stream(kernel, src, dst, order, seed, num_vertices, num_parts, *args) -> np.ndarray:
    """Run ``kernel`` over the edges in stream order and return parts in edge order.

    The kernel reads each edge through the permutation and writes its part
    in place: the same random accesses a gather into stream order would
    make, without three edge-sized temporaries.
    """
    perm = _permutation(src.size, order, seed)
    out = np.empty(src.size, dtype=part_dtype(num_parts))
    shuffled = perm is not None
    kernel(src, dst, perm if shuffled else np.zeros(0, dtype=np.int32), shuffled, num_vertices, num_parts, *args, out)
    return out


# -------------------------------------------------------------- strategies
def greedy_cut(
    src: np.ndarray,
    dst: np.ndarray,
    num_vertices: int,
    num_parts: int,
    seed: int = 0,
    order: Any = "shuffle",
) -> np.ndarray:
    """PowerGraph's greedy vertex cut (Gonzalez et al., OSDI 2012, section 5.2.2).

    For edge ``(u, v)`` with replica sets ``A(u)``, ``A(v)`` the paper's
    rules are: (1) if ``A(u)`` and ``A(v)`` intersect, use the least loaded
    part of the intersection; (2) if both are non-empty and disjoint, use a
    part of the union; (3) if only one is non-empty, its least loaded part;
    (4) if both are empty, the least loaded part overall.  We implement the
    rules as PowerGraph's code does, in one score: prefer the parts holding
    the most endpoints (2, 1, 0), then the least loaded, then a seeded hash
    among exact ties.  In case (2) this takes the least loaded part of
    ``A(u) | A(v)``, as the HDRF paper's statement of greedy does; the OSDI
    text instead prefers the endpoint with more unassigned edges, which a
    one-pass streamer does not know.  Run in one process, the "oblivious"
    and "coordinated" variants of the paper coincide: the state is global.

    Parameters
    ----------
    src, dst : ndarray of int
        Edge endpoints.
    num_vertices : int
        Number of vertices.
    num_parts : int
        Number of parts ``P >= 1``.
    seed : int
        Seeds the stream shuffle and the tie-breaking hash.
    order : {"shuffle", "file"} or array_like of int
        Stream order, see :func:`stream_order`.

    Returns
    -------
    ndarray of :func:`~partitioning.edges.part_dtype` (int8 up to 128 parts), shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> # a path 0-1-2-3 with P=2, streamed in file order: (0,1) opens part p,
    >>> # (1,2) and (2,3) follow their already placed endpoint
    >>> parts = greedy_cut(np.array([0, 1, 2]), np.array([1, 2, 3]), 4, 2, order="file")
    >>> len(set(parts.tolist()))
    1
    """
    return _run_stream(_greedy_kernel, src, dst, order, seed, int(num_vertices), int(num_parts), tie_salt(seed))


def hdrf_cut(
    src: np.ndarray,
    dst: np.ndarray,
    num_vertices: int,
    num_parts: int,
    seed: int = 0,
    lam: float = 1.0,
    epsilon: float = 1.0,
    order: Any = "shuffle",
) -> np.ndarray:
    """High-Degree (are) Replicated First (Petroni et al., CIKM 2015).

    For each streamed edge ``(u, v)`` the partial degrees seen so far are
    incremented, ``theta(u) = d(u) / (d(u) + d(v))``, and every part ``p``
    scores ``C_REP + C_BAL`` with ``C_REP = g(u, p) + g(v, p)``,
    ``g(x, p) = 1 + (1 - theta(x))`` if ``p`` holds ``x`` (else 0) and
    ``C_BAL = lam * (maxsize - |p|) / (epsilon + maxsize - minsize)``.  The
    edge goes to the best part, so when one endpoint must be cut it is the
    one with the higher (partial) degree.

    Parameters
    ----------
    src, dst : ndarray of int
        Edge endpoints.
    num_vertices : int
        Number of vertices.
    num_parts : int
        Number of parts ``P >= 1``.
    seed : int
        Seeds the stream shuffle and the tie-breaking hash.
    lam : float
        The balance weight lambda >= 0 (paper default 1).  ``lam = 0``
        ignores balance; ``lam > 1`` trades replication for balance, which an
        ordered (``order="file"``) stream may need.
    epsilon : float
        The small constant > 0 that keeps ``C_BAL`` finite when all parts are
        equal.  The paper leaves it as "a small constant"; the authors'
        PowerGraph implementation uses 1, and so do we.
    order : {"shuffle", "file"} or array_like of int
        Stream order, see :func:`stream_order`.

    Returns
    -------
    ndarray of :func:`~partitioning.edges.part_dtype` (int8 up to 128 parts), shape (m,)

    Raises
    ------
    ValueError
        If ``lam < 0`` or ``epsilon <= 0`` (or either is not a finite number).

    Examples
    --------
    >>> import numpy as np
    >>> src, dst = np.array([0, 0, 0, 1]), np.array([1, 2, 3, 2])
    >>> hdrf_cut(src, dst, 4, 2, order="file").shape
    (4,)
    """
    lam_f, eps_f = float(lam), float(epsilon)
    if not np.isfinite(lam_f) or lam_f < 0:
        raise ValueError(f"hdrf: lam (lambda) must be a finite number >= 0, got {lam!r}")
    if not np.isfinite(eps_f) or eps_f <= 0:
        raise ValueError(f"hdrf: epsilon must be a finite number > 0, got {epsilon!r}")
    return _run_stream(
        _hdrf_kernel, src, dst, order, seed, int(num_vertices), int(num_parts), lam_f, eps_f, tie_salt(seed)
    )
