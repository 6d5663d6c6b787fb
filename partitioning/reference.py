"""Plain-Python statements of the streaming strategies, for tests only.

These follow the papers' pseudo-code with Python sets and dicts, one edge at
a time, and are far too slow for real graphs.  The compiled versions in
:mod:`partitioning.streaming` must assign exactly the same parts; the test
suite checks that on many small graphs.  The stream order and the tie
hash are the same definitions (:func:`partitioning.streaming.stream_order`,
:func:`mix64_int` below restates the hash with Python integers).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .streaming import stream_order, tie_salt

_MASK = (1 << 64) - 1


def mix64_int(x: int, salt: int) -> int:
    """splitmix64 finaliser of ``x + salt`` with Python integers.

    Examples
    --------
    >>> from partitioning.hashing import mix64, salt_of
    >>> mix64_int(5, int(salt_of(0))) == int(mix64([5], 0)[0])
    True
    """
    z = (x + salt) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _pick(candidates: list[int], k: int, salt: int) -> int:
    """One of equally good parts, by a hash of the stream position ``k``."""
    if len(candidates) == 1:
        return candidates[0]
    return candidates[mix64_int(k, salt) % len(candidates)]


def greedy_reference(
    src: Any, dst: Any, num_vertices: int, num_parts: int, seed: int = 0, order: Any = "shuffle"
) -> np.ndarray:
    """PowerGraph greedy placement, one edge at a time with Python sets.

    For each edge: candidate parts are those holding both endpoints; if none,
    those holding either; if none, all parts.  Among candidates take the least
    loaded, and among those one chosen by the tie hash.

    Examples
    --------
    >>> greedy_reference([0, 1, 2], [1, 2, 3], 4, 2, order="file").tolist() in ([0, 0, 0], [1, 1, 1])
    True
    """
    src, dst = np.asarray(src).tolist(), np.asarray(dst).tolist()
    salt = int(tie_salt(seed))
    replicas: dict[int, set[int]] = {}
    load = [0] * num_parts
    out = np.empty(len(src), dtype=np.int32)
    for k, e in enumerate(stream_order(len(src), order, seed).tolist()):
        u, v = src[e], dst[e]
        a_u, a_v = replicas.setdefault(u, set()), replicas.setdefault(v, set())
        candidates = a_u & a_v or a_u | a_v or set(range(num_parts))
        least = min(load[p] for p in candidates)
        best = sorted(p for p in candidates if load[p] == least)
        p = _pick(best, k, salt)
        out[e] = p
        load[p] += 1
        a_u.add(p)
        a_v.add(p)
    return out


def hdrf_reference(
    src: Any,
    dst: Any,
    num_vertices: int,
    num_parts: int,
    seed: int = 0,
    lam: float = 1.0,
    epsilon: float = 1.0,
    order: Any = "shuffle",
) -> np.ndarray:
    """HDRF (Petroni et al. 2015, Algorithm 1), one edge at a time with Python sets.

    Examples
    --------
    >>> hdrf_reference([0, 0, 0, 1], [1, 2, 3, 2], 4, 2, order="file").shape
    (4,)
    """
    src, dst = np.asarray(src).tolist(), np.asarray(dst).tolist()
    salt = int(tie_salt(seed))
    replicas: dict[int, set[int]] = {}
    degree: dict[int, int] = {}
    load = [0] * num_parts
    out = np.empty(len(src), dtype=np.int32)
    for k, e in enumerate(stream_order(len(src), order, seed).tolist()):
        u, v = src[e], dst[e]
        degree[u] = degree.get(u, 0) + 1
        degree[v] = degree.get(v, 0) + 1
        theta_u = degree[u] / (degree[u] + degree[v])
        theta_v = 1.0 - theta_u
        a_u, a_v = replicas.setdefault(u, set()), replicas.setdefault(v, set())
        max_load, min_load = max(load), min(load)
        scores = []
        for p in range(num_parts):
            c_rep = 0.0
            if p in a_u:
                c_rep += 1.0 + (1.0 - theta_u)
            if p in a_v:
                c_rep += 1.0 + (1.0 - theta_v)
            c_bal = lam * (max_load - load[p]) / (epsilon + (max_load - min_load))
            scores.append(c_rep + c_bal)
        best_score = max(scores)
        best = [p for p in range(num_parts) if scores[p] == best_score]
        p = _pick(best, k, salt)
        out[e] = p
        load[p] += 1
        a_u.add(p)
        a_v.add(p)
    return out
