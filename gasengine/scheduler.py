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
    the round it was signalled in plus a hash of (seed, vertex, round) in
    [0, 1): vertices signalled in one round run in a seeded random order,
    the same for every number of parts and workers.  (A key drawn once and
    kept would let a vertex wait behind an endless stream of later signals
    with smaller draws: under edge consistency a PageRank vertex whose
    neighbours keep running could lose its lock for ever.)

A vertex signalled while it waits is never scheduled twice; only the
priority scheduler moves it (forward).  Keys and vertex numbers are global,
so "the first B candidates" means the same thing on every part, and the
engine can merge what each part offers into one global order.

Every operation is compiled and costs O(its vertices x log heap size).
The heap is indexed (each vertex knows its slot), so a priority that
improves moves its entry up in place and the heap never holds stale
entries.  Candidates that lose their locks in a round wait in a short
sorted *front* beside the heap rather than going back into it: they are
the next round's first candidates, and re-inserting thousands of them
every round cost most of a round.
"""

from __future__ import annotations

import numpy as np
from numba import njit

SCHEDULERS = ("fifo", "sweep", "priority", "random")


# ---------------------------------------------------------------- the heap
# An indexed 4-ary min-heap over (key, gid) in three arrays; slot[loc] is the
# position of master ``loc`` in it (-1: not in the heap).


@njit(cache=True, inline="always")
def _less(ka, ga, kb, gb):  # pragma: no cover - compiled
    return ka < kb or (ka == kb and ga < gb)


@njit(cache=True)
def _sift_up(keys, gids, locs, slot, i):  # pragma: no cover - compiled
    """Move the entry at ``i`` up to its place (a hole moves down the path: one write per level)."""
    key, gid, loc = keys[i], gids[i], locs[i]
    while i > 0:
        parent = (i - 1) >> 2
        if not _less(key, gid, keys[parent], gids[parent]):
            break
        keys[i], gids[i], locs[i] = keys[parent], gids[parent], locs[parent]
        slot[locs[i]] = i
        i = parent
    keys[i], gids[i], locs[i] = key, gid, loc
    slot[loc] = i


@njit(cache=True)
def _pop_root(keys, gids, locs, slot, size):  # pragma: no cover - compiled
    """Remove the smallest entry (a 4-ary heap: half the levels of a binary one)."""
    slot[locs[0]] = -1
    size -= 1
    if size == 0:
        return 0
    key, gid, loc = keys[size], gids[size], locs[size]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        best = first
        for c in range(first + 1, min(first + 4, size)):
            if _less(keys[c], gids[c], keys[best], gids[best]):
                best = c
        if not _less(keys[best], gids[best], key, gid):
            break
        keys[i], gids[i], locs[i] = keys[best], gids[best], locs[best]
        slot[locs[i]] = i
        i = best
    keys[i], gids[i], locs[i] = key, gid, loc
    slot[loc] = i
    return size


@njit(cache=True)
def _insert(keys, gids, locs, slot, size, key, gid, loc):  # pragma: no cover - compiled
    keys[size], gids[size], locs[size] = key, gid, loc
    slot[loc] = size
    _sift_up(keys, gids, locs, slot, size)
    return size + 1


@njit(cache=True)
def _schedule(
    local, new_keys, keep_lowest, waiting, current, vgids, keys, gids, locs, slot, size
):  # pragma: no cover - compiled
    """Schedule masters; returns (heap size, newly waiting)."""
    added = 0
    for i in range(local.size):
        loc = local[i]
        key = new_keys[i]
        if not waiting[loc]:
            waiting[loc] = True
            current[loc] = key
            added += 1
            size = _insert(keys, gids, locs, slot, size, key, vgids[loc], loc)
        elif keep_lowest and key < current[loc]:
            current[loc] = key
            if slot[loc] >= 0:
                keys[slot[loc]] = key
                _sift_up(keys, gids, locs, slot, slot[loc])
            else:  # in the front: its entry there is stale now, the vertex moves to the heap
                size = _insert(keys, gids, locs, slot, size, key, vgids[loc], loc)
    return size, added


@njit(cache=True, inline="always")
def _in_front(waiting, current, slot, taken, stamp, loc, key):  # pragma: no cover - compiled
    """Whether a front entry still stands: the vertex waits, with this key, outside the heap."""
    return waiting[loc] and current[loc] == key and slot[loc] < 0 and taken[loc] != stamp


@njit(cache=True)
def _pop(
    fkeys,
    fgids,
    flocs,
    keys,
    gids,
    locs,
    slot,
    size,
    limit,
    waiting,
    current,
    taken,
    stamp,
    out_keys,
    out_gids,
    out_locs,
):  # pragma: no cover - compiled
    """Take up to ``limit`` entries, smallest first, from the front and the heap together.

    Returns the new heap size, how much of the front was used, and the count taken.
    """
    i = 0
    got = 0
    fsize = fkeys.size
    while got < limit:
        while i < fsize and not _in_front(waiting, current, slot, taken, stamp, flocs[i], fkeys[i]):
            i += 1
        if i >= fsize and size == 0:
            break
        if size == 0 or (i < fsize and _less(fkeys[i], fgids[i], keys[0], gids[0])):
            key, gid, loc = fkeys[i], fgids[i], flocs[i]
            i += 1
        else:
            key, gid, loc = keys[0], gids[0], locs[0]
            size = _pop_root(keys, gids, locs, slot, size)
        taken[loc] = stamp
        out_keys[got], out_gids[got], out_locs[got] = key, gid, loc
        got += 1
    return size, i, got


@njit(cache=True)
def _merge_front(
    ak, ag, al, bk, bg, bl, cap, waiting, current, slot, keys, gids, locs, size, out_k, out_g, out_l
):  # pragma: no cover - compiled
    """Merge two sorted runs into the front (entries that no longer stand are dropped); past
    ``cap`` entries the rest go into the heap.  Returns (front length, heap size)."""
    i = j = k = 0
    while i < ak.size or j < bk.size:
        if j >= bk.size or (i < ak.size and _less(ak[i], ag[i], bk[j], bg[j])):
            key, gid, loc = ak[i], ag[i], al[i]
            i += 1
        else:
            key, gid, loc = bk[j], bg[j], bl[j]
            j += 1
        if not (waiting[loc] and current[loc] == key and slot[loc] < 0):
            continue
        if k < cap:
            out_k[k], out_g[k], out_l[k] = key, gid, loc
            k += 1
        else:
            size = _insert(keys, gids, locs, slot, size, key, gid, loc)
    return k, size


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
        self.taken = np.zeros(
            m, dtype=np.int32
        )  # stamp of the last pop: no vertex taken twice in one (int32: half the cache)
        self.count = 0
        # the heap: at most one entry per master
        self._keys = np.empty(m)
        self._gids = np.empty(m, dtype=np.int64)
        self._locs = np.empty(m, dtype=np.int64)
        self._slot = np.full(m, -1, dtype=np.int32 if m < 2**31 else np.int64)
        self._size = 0
        #: Popped vertices that did not run: keys, gids, locals, sorted (see :meth:`put_back`).
        self._front = (np.empty(0), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))

    def schedule(self, local: np.ndarray, keys: np.ndarray, keep_lowest: bool) -> None:
        """Schedule the masters ``local`` (distinct) with ``keys``.

        A waiting vertex keeps its key, unless ``keep_lowest`` and the new
        key is lower (the priority scheduler).
        """
        if local.size == 0:
            return
        self._size, added = _schedule(
            local.astype(np.int64, copy=False),
            np.asarray(keys, dtype=np.float64),
            keep_lowest,
            self.waiting,
            self.key,
            self.gids,
            self._keys,
            self._gids,
            self._locs,
            self._slot,
            self._size,
        )
        self.count += added

    def pop(self, limit: int, stamp: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Take out the first ``limit`` waiting vertices: ``(keys, gids, local ids)`` in order.

        They stay waiting: :meth:`done` ends those that ran, :meth:`put_back`
        returns the others.  ``stamp`` must differ between calls.
        """
        limit = min(limit, self.count)
        keys, gids, locs = np.empty(limit), np.empty(limit, dtype=np.int64), np.empty(limit, dtype=np.int64)
        fk, fg, fl = self._front
        self._size, used, got = _pop(
            fk,
            fg,
            fl,
            self._keys,
            self._gids,
            self._locs,
            self._slot,
            self._size,
            limit,
            self.waiting,
            self.key,
            self.taken,
            stamp,
            keys,
            gids,
            locs,
        )
        self._front = (fk[used:], fg[used:], fl[used:])
        return keys[:got], gids[:got], locs[:got]

    def done(self, local: np.ndarray) -> None:
        """The vertices ``local`` (popped) ran: they wait no more."""
        self.waiting[local] = False
        self.count -= local.size

    def put_back(self, keys: np.ndarray, local: np.ndarray) -> None:
        """Return popped vertices that did not run (in the order they were popped), with their keys.

        They join the front, which the next :meth:`pop` merges with the
        heap; a front longer than twice the losers of a round (at least
        1024) sends its tail into the heap, so merging stays cheap.
        """
        fk, fg, fl = self._front
        size = fk.size + local.size
        out = np.empty(size), np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int64)
        k, self._size = _merge_front(
            fk,
            fg,
            fl,
            np.asarray(keys, dtype=np.float64),
            self.gids[local],
            local.astype(np.int64, copy=False),
            max(2 * local.size, 1024),
            self.waiting,
            self.key,
            self._slot,
            self._keys,
            self._gids,
            self._locs,
            self._size,
            *out,
        )
        self._front = (out[0][:k], out[1][:k], out[2][:k])
