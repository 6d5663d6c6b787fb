"""The asynchronous engine's schedulers: signalled vertices waiting to run, in an order.

Every scheduler is the same structure — a lazy binary heap of ``(key,
vertex number)`` pairs over one part's masters, smallest first — and differs
only in the key a vertex gets when it is signalled:

``fifo``
    the round it was signalled in (ties: vertex number), so vertices run in
    the order they were signalled;
``sweep``
    its place in a round-robin pass over vertex numbers, starting after the
    last vertex taken: ``pass * n + vertex``;
``priority``
    the priority ``scatter`` returned for it (lower runs first; a signal
    without one counts as ``-inf``); a waiting vertex signalled again keeps
    the lowest of its priorities;
``random``
    a hash of (seed, vertex, round): a seeded shuffle, the same for every
    number of parts and workers.

A vertex signalled while it waits is never scheduled twice; only the
priority scheduler moves it (forward).  Keys and vertex numbers are global,
so "the first B candidates" means the same thing on every part, and the
engine can merge what each part offers into one global order.

Every operation is compiled and costs O(its vertices x log heap size); the
heap drops stale entries lazily (a vertex that ran, or whose priority
improved, leaves its old entry behind to be skipped) and is rebuilt from
the waiting vertices when stale entries outnumber live ones.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SCHEDULERS = ("fifo", "sweep", "priority", "random")


# ---------------------------------------------------------------- the heap
@njit(cache=True, inline="always")
def _before(keys, gids, i, j):  # pragma: no cover - compiled
    return keys[i] < keys[j] or (keys[i] == keys[j] and gids[i] < gids[j])


@njit(cache=True)
def _swap(keys, gids, locs, i, j):  # pragma: no cover - compiled
    keys[i], keys[j] = keys[j], keys[i]
    gids[i], gids[j] = gids[j], gids[i]
    locs[i], locs[j] = locs[j], locs[i]


@njit(cache=True)
def _push(keys, gids, locs, size, new_keys, new_gids, new_locs):  # pragma: no cover - compiled
    for k in range(new_keys.size):
        i = size
        keys[i], gids[i], locs[i] = new_keys[k], new_gids[k], new_locs[k]
        size += 1
        while i > 0:
            parent = (i - 1) >> 1
            if not _before(keys, gids, i, parent):
                break
            _swap(keys, gids, locs, i, parent)
            i = parent
    return size


@njit(cache=True)
def _pop_root(keys, gids, locs, size):  # pragma: no cover - compiled
    size -= 1
    _swap(keys, gids, locs, 0, size)
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and _before(keys, gids, left + 1, left):
            child = left + 1
        if not _before(keys, gids, child, i):
            break
        _swap(keys, gids, locs, i, child)
        i = child
    return size


@njit(cache=True)
def _pop_live(keys, gids, locs, size, limit, waiting, current, taken, stamp, out_keys, out_gids, out_locs):  # pragma: no cover - compiled
    """Pop up to ``limit`` live entries (waiting, current key, not taken yet this round)."""
    got = 0
    while size > 0 and got < limit:
        key, gid, loc = keys[0], gids[0], locs[0]
        size = _pop_root(keys, gids, locs, size)
        if not waiting[loc] or current[loc] != key or taken[loc] == stamp:
            continue  # stale: ran since, or its key moved; or a duplicate of an entry just taken
        taken[loc] = stamp
        out_keys[got], out_gids[got], out_locs[got] = key, gid, loc
        got += 1
    return size, got


# ------------------------------------------------------------------- keys
@njit(cache=True)
def _mix(x):  # pragma: no cover - compiled
    """splitmix64's finaliser: a well-mixed 64-bit hash of ``x``."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True)
def _random_keys(gids, seed, round_):  # pragma: no cover - compiled
    out = np.empty(gids.size)
    base = _mix(np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(round_))
    for i in range(gids.size):
        out[i] = (_mix(base ^ np.uint64(gids[i])) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
    return out


def sweep_keys(gids: np.ndarray, cursor: float, n: int) -> np.ndarray:
    """Round-robin keys: the first ``pass * n + vertex`` after ``cursor``.

    Examples
    --------
    >>> sweep_keys(np.array([1, 5, 9]), cursor=5.0, n=10).tolist()
    [11.0, 15.0, 9.0]
    """
    base = np.floor(cursor / n) * n if n else 0.0
    keys = base + gids
    return np.where(keys > cursor, keys, keys + n)


def random_keys(gids: np.ndarray, seed: int, round_: int) -> np.ndarray:
    """Seeded uniform keys in [0, 1), a function of (seed, vertex, round) only.

    Examples
    --------
    >>> a = random_keys(np.array([3, 4]), seed=1, round_=2)
    >>> bool(np.all((0 <= a) & (a < 1))), bool(np.array_equal(a, random_keys(np.array([3, 4]), 1, 2)))
    (True, True)
    """
    return _random_keys(np.asarray(gids, dtype=np.int64), int(seed) & (2**63 - 1), int(round_))


# -------------------------------------------------------------- scheduler
class Scheduler:
    """Signalled masters of one part, waiting in key order.

    Parameters
    ----------
    gids : ndarray
        Global vertex numbers of the part's masters (local ``0..M-1``).

    Examples
    --------
    >>> s = Scheduler(np.array([10, 11, 12]))
    >>> s.schedule(np.array([2, 0]), np.array([1.0, 5.0]), keep_lowest=True)
    >>> s.schedule(np.array([0]), np.array([0.5]), keep_lowest=True)  # moves forward
    >>> keys, gids, locs = s.pop(3, stamp=1)
    >>> gids.tolist(), keys.tolist(), s.count
    ([10, 12], [0.5, 1.0], 2)
    """

    def __init__(self, gids: np.ndarray):
        self.gids = np.asarray(gids, dtype=np.int64)
        m = self.gids.size
        self.waiting = np.zeros(m, dtype=bool)
        self.key = np.zeros(m)
        self.taken = np.zeros(m, dtype=np.int64)  # round stamp of the last pop: no vertex popped twice
        self.count = 0
        self._keys = np.empty(64)
        self._gids = np.empty(64, dtype=np.int64)
        self._locs = np.empty(64, dtype=np.int64)
        self._size = 0

    def schedule(self, local: np.ndarray, keys: np.ndarray, keep_lowest: bool) -> None:
        """Schedule the masters ``local`` (distinct) with ``keys``.

        A waiting vertex keeps its key, unless ``keep_lowest`` and the new
        key is lower (the priority scheduler).
        """
        if local.size == 0:
            return
        was = self.waiting[local]
        push = ~was
        if keep_lowest:
            push |= keys < self.key[local]
        local, keys = local[push], keys[push]
        self.count += int(push.size - np.count_nonzero(was))
        self.waiting[local] = True
        self.key[local] = keys
        self._grow(local.size)
        self._size = _push(self._keys, self._gids, self._locs, self._size, keys.astype(np.float64, copy=False),
                           self.gids[local], local.astype(np.int64, copy=False))

    def pop(self, limit: int, stamp: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Take out the first ``limit`` waiting vertices: ``(keys, gids, local ids)`` in order.

        They stay waiting: :meth:`done` ends those that ran, :meth:`put_back`
        returns the others.  ``stamp`` must differ between calls.
        """
        limit = min(limit, self.count)
        keys, gids, locs = np.empty(limit), np.empty(limit, dtype=np.int64), np.empty(limit, dtype=np.int64)
        self._size, got = _pop_live(self._keys, self._gids, self._locs, self._size, limit, self.waiting, self.key,
                                    self.taken, stamp, keys, gids, locs)
        return keys[:got], gids[:got], locs[:got]

    def done(self, local: np.ndarray) -> None:
        """The vertices ``local`` (popped) ran: they wait no more."""
        self.waiting[local] = False
        self.count -= local.size

    def put_back(self, keys: np.ndarray, local: np.ndarray) -> None:
        """Return popped vertices that did not run, with their keys."""
        self._grow(local.size)
        self._size = _push(self._keys, self._gids, self._locs, self._size, keys, self.gids[local], local)
        if self._size > 4 * self.count + 4096:
            self._rebuild()

    def _grow(self, extra: int) -> None:
        need = self._size + extra
        if need > self._keys.size:
            if need > 2 * self.count + 4096:  # mostly stale entries: drop them instead of growing
                self._rebuild()
                need = self._size + extra
            cap = max(need, 2 * self._keys.size)
            for name in ("_keys", "_gids", "_locs"):
                old = getattr(self, name)
                new = np.empty(cap, dtype=old.dtype)
                new[: self._size] = old[: self._size]
                setattr(self, name, new)

    def _rebuild(self) -> None:
        """The heap of the live entries only (a sorted array is a heap)."""
        local = np.flatnonzero(self.waiting)
        order = np.lexsort((self.gids[local], self.key[local]))
        local = local[order]
        size = local.size
        if size > self._keys.size:
            self._keys, self._gids, self._locs = np.empty(size), np.empty(size, np.int64), np.empty(size, np.int64)
        self._keys[:size], self._gids[:size], self._locs[:size] = self.key[local], self.gids[local], local
        self._size = size
