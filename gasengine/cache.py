"""Engine structures kept with a graph between runs ("build once, run many").

Cutting a big graph into parts and laying out each part's edges (grouped by
destination, replicas and mirror lists) is most of a run's cost; none of it
depends on the program.  :func:`gasengine.run` therefore keeps the cut and
the part layouts in a cache held by the :class:`~gasengine.Graph` itself,
one entry per way of cutting it (number of parts, strategy, seed, or a given
assignment), and a later run — of the same or another program — only copies
its fields into them.

When it is used
    Every run with ``cache=True`` (the default) looks the cut up; the
    backends only differ in where the parts then live (the local backend
    shares the cached arrays, the multiprocess backend copies them into
    shared memory, which is far cheaper than building them).
Changed graphs
    Each entry records a fingerprint of the arcs (a 64-bit hash of ``src``,
    ``dst`` and the number of vertices, computed on every run: about 10 ms
    for 16.7M edges); if the arcs changed in any way, the whole cache of
    that graph is dropped before anything is reused.  Fields are never
    cached: they are taken from the graph and the program on every run.
Memory
    :func:`cache_bytes` (also ``Graph.engine_cache_bytes()``) says how much
    the cache holds; :func:`clear` (``Graph.clear_engine_cache()``) drops it;
    it also goes away with the graph.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from .graph import Graph

_ATTR = "_engine_cache"


@njit(cache=True, nogil=True)
def _mix(h, values):  # pragma: no cover - compiled
    # four independent lanes, so the multiplications do not wait on each other
    lanes = np.empty(4, dtype=np.uint64)
    for j in range(4):
        lanes[j] = h + np.uint64(j) * np.uint64(0x9E3779B97F4A7C15)
    m = np.uint64(0xBF58476D1CE4E5B9)
    n4 = values.size - values.size % 4
    for i in range(0, n4, 4):
        for j in range(4):
            lanes[j] = (lanes[j] ^ np.uint64(values[i + j])) * m
            lanes[j] ^= lanes[j] >> np.uint64(31)
    for i in range(n4, values.size):
        lanes[0] = (lanes[0] ^ np.uint64(values[i])) * m
        lanes[0] ^= lanes[0] >> np.uint64(31)
    for j in range(4):
        h = (h ^ lanes[j]) * m
        h ^= h >> np.uint64(29)
    return h


def fingerprint(*arrays: np.ndarray) -> int:
    """A 64-bit hash of integer arrays (order and values), compiled: one pass over the data.

    Examples
    --------
    >>> a = np.array([1, 2, 3], dtype=np.int32)
    >>> fingerprint(a) == fingerprint(a.copy()), fingerprint(a) == fingerprint(a[::-1].copy())
    (True, False)
    """
    h = np.uint64(len(arrays))
    for a in arrays:
        a = np.ascontiguousarray(a)
        h = np.uint64(_mix(h, np.array([a.size], dtype=np.int64)))
        h = np.uint64(_mix(h, a.reshape(-1)))
    return int(h)


def arcs_fingerprint(graph: Graph) -> int:
    """The fingerprint of a graph's arcs and vertex count."""
    return fingerprint(np.array([graph.num_vertices], dtype=np.int64), graph.src, graph.dst)


class GraphCache:
    """The entries cached for one graph, checked against its arcs once (at creation).

    Make one per run with :func:`open_cache`, then :meth:`get` what the run needs.
    """

    def __init__(self, graph: Graph):
        store = graph.__dict__.get(_ATTR)
        stamp = arcs_fingerprint(graph)
        if store is None or store["arcs"] != stamp:  # new, or the arcs changed: nothing is reused
            store = {"arcs": stamp, "entries": {}}
            graph.__dict__[_ATTR] = store
        self._entries: dict[Hashable, Any] = store["entries"]

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value cached under ``key``, built (and kept) when missing."""
        if key not in self._entries:
            self._entries[key] = build()
        return self._entries[key]


def open_cache(graph: Graph) -> GraphCache:
    """The cache of ``graph`` for one run (computes the arcs' fingerprint once)."""
    return GraphCache(graph)


def clear(graph: Graph) -> None:
    """Drop every engine structure cached for ``graph``."""
    graph.__dict__.pop(_ATTR, None)


def cache_bytes(graph: Graph) -> int:
    """Bytes of the numpy arrays held in ``graph``'s engine cache.

    Examples
    --------
    >>> from gasengine import Graph
    >>> cache_bytes(Graph([0], [1]))
    0
    """
    store = graph.__dict__.get(_ATTR)
    if store is None:
        return 0
    seen: set[int] = set()
    return sum(_array_bytes(v, seen) for v in store["entries"].values())


def entries(graph: Graph) -> list[Hashable]:
    """The keys of the cached cuts (for inspection)."""
    store = graph.__dict__.get(_ATTR)
    return [] if store is None else list(store["entries"])


def _array_bytes(obj: Any, seen: set[int]) -> int:
    """Bytes of every distinct numpy array reachable from ``obj`` (lists, dicts, dataclasses)."""
    if isinstance(obj, np.ndarray):
        base = obj if obj.base is None else obj.base
        if id(base) in seen or not isinstance(base, np.ndarray):
            return 0 if id(base) in seen else obj.nbytes
        seen.add(id(base))
        return base.nbytes
    if isinstance(obj, dict):
        return sum(_array_bytes(v, seen) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(_array_bytes(v, seen) for v in obj)
    if hasattr(obj, "__dict__"):
        return sum(_array_bytes(v, seen) for v in vars(obj).values())
    return 0
