"""Scope locks of the asynchronous engine, granted in scheduler order (compiled passes).

A round offers candidates ``c_0, c_1, ...`` in the scheduler's order.  A
lock manager serving them in that order grants

* ``edge`` consistency: ``c_i`` unless a candidate granted before it is
  adjacent to it (an update writes its vertex and edges, reads its
  neighbours: two adjacent updates would race);
* ``full`` consistency: ``c_i`` unless a candidate granted before it is
  within distance 2 (an update may write its neighbours too: their closed
  neighbourhoods must not meet);
* ``vertex`` consistency: everyone; adjacent pairs that ran together are
  *conflicts*, the data races this model allows, counted per round.

Each part grants over its own edges only (:func:`grant_in_order`), in the
same global order, and a candidate runs only if every part holding it
granted it.  That is safe because every edge lives in exactly one part: if
two adjacent candidates both ran, the part holding their edge granted both,
which its pass never does.  A candidate one part refused still blocked its
neighbours in the others, so with several parts a second pass offers the
refused candidates again, around the locks the first pass granted (the same
argument holds for the union) — except those a granted lock forbids in some
part (:func:`blocked_by_fixed`, one more all-reduce): offered again, they
would be granted by the parts that granted them before and block the same
neighbours there once more.  A distance-2 path may cross parts (``a-x`` in
one, ``x-b`` in another), so ``full`` with several parts adds one round of
*claims* (:func:`claims`, :func:`keep_claimed`): every vertex is claimed by
the first granted candidate whose closed neighbourhood holds it, and a
candidate keeps its grant only if it owns everything it touches.  Denials
only remove candidates, so the surviving set is still pairwise independent;
the losers stay scheduled for a later round.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Distance within which two updates of one round may not be, per consistency model.
LOCK_DISTANCE = {"vertex": 0, "edge": 1, "full": 2}


@njit(cache=True, inline="always")
def _mark(c, ptr_in, nbr_in, ptr_out, nbr_out, mark, stamp, distance):  # pragma: no cover - compiled
    if distance == 2:
        mark[c] = stamp
    for j in range(ptr_in[c], ptr_in[c + 1]):
        mark[nbr_in[j]] = stamp
    for j in range(ptr_out[c], ptr_out[c + 1]):
        mark[nbr_out[j]] = stamp


@njit(cache=True)
def _grant(
    cand, fixed, ptr_in, nbr_in, ptr_out, nbr_out, mark, stamp, distance, granted
):  # pragma: no cover - compiled
    for i in range(cand.size):  # candidates granted in an earlier pass hold their locks already
        if fixed[i] and cand[i] >= 0:
            _mark(cand[i], ptr_in, nbr_in, ptr_out, nbr_out, mark, stamp, distance)
    for i in range(cand.size):
        c = cand[i]
        if c < 0 or fixed[i] or not granted[i]:
            continue  # not held here (nothing to deny), granted before, or denied already
        blocked = mark[c] == stamp  # an earlier one marked it as its neighbour (or, at distance 2, took it)
        if distance == 2 and not blocked:  # ... or its closed neighbourhood meets an earlier one's
            for j in range(ptr_in[c], ptr_in[c + 1]):
                blocked = blocked or mark[nbr_in[j]] == stamp
            for j in range(ptr_out[c], ptr_out[c + 1]):
                blocked = blocked or mark[nbr_out[j]] == stamp
        if blocked:
            granted[i] = False
        else:
            _mark(c, ptr_in, nbr_in, ptr_out, nbr_out, mark, stamp, distance)


def grant_in_order(
    cand: np.ndarray,
    adjacency: tuple[np.ndarray, ...],
    mark: np.ndarray,
    stamp: int,
    distance: int,
    granted: np.ndarray,
    fixed: np.ndarray | None = None,
) -> None:
    """Deny, in ``granted``, the candidates this part's edges forbid (see the module docstring).

    ``cand`` holds the candidates' local numbers in scheduler order (-1:
    not in this part); ``adjacency`` is ``(ptr_in, nbr_in, ptr_out,
    nbr_out)``; ``mark`` is per-local-vertex scratch, valid where it equals
    ``stamp`` (a new stamp per call, so it is never cleared).  ``fixed``
    candidates were granted by an earlier pass: they hold their locks and
    are not decided again.

    Examples
    --------
    >>> # a path 0-1-2-3 as arcs 0->1, 1->2, 2->3; candidates in order 1, 2, 0, 3
    >>> ptr_in, nbr_in = np.array([0, 0, 1, 2, 3]), np.array([0, 1, 2])
    >>> ptr_out, nbr_out = np.array([0, 1, 2, 3, 3]), np.array([1, 2, 3])
    >>> granted = np.ones(4, dtype=bool)
    >>> grant_in_order(np.array([1, 2, 0, 3]), (ptr_in, nbr_in, ptr_out, nbr_out), np.zeros(4, np.int64), 1, 1, granted)
    >>> granted.tolist()
    [True, False, False, True]
    """
    if distance and cand.size:
        fixed = np.zeros(cand.size, dtype=bool) if fixed is None else fixed
        _grant(cand.astype(np.int64, copy=False), fixed, *adjacency, mark, stamp, distance, granted)


@njit(cache=True)
def _blocked_by_fixed(
    cand, fixed, ptr_in, nbr_in, ptr_out, nbr_out, mark, stamp, distance, blocked
):  # pragma: no cover - compiled
    for i in range(cand.size):
        if fixed[i] and cand[i] >= 0:
            _mark(cand[i], ptr_in, nbr_in, ptr_out, nbr_out, mark, stamp, distance)
    for i in range(cand.size):
        c = cand[i]
        if c < 0 or fixed[i]:
            continue
        hit = mark[c] == stamp
        if distance == 2 and not hit:
            for j in range(ptr_in[c], ptr_in[c + 1]):
                hit = hit or mark[nbr_in[j]] == stamp
            for j in range(ptr_out[c], ptr_out[c + 1]):
                hit = hit or mark[nbr_out[j]] == stamp
        blocked[i] = blocked[i] or hit


def blocked_by_fixed(
    cand: np.ndarray,
    adjacency: tuple[np.ndarray, ...],
    mark: np.ndarray,
    stamp: int,
    distance: int,
    fixed: np.ndarray,
    blocked: np.ndarray,
) -> None:
    """Set, in ``blocked``, the candidates that a ``fixed`` (already granted) candidate forbids over
    this part's edges: they cannot win a later pass, so offering them again would only block others."""
    if distance and cand.size:
        _blocked_by_fixed(cand.astype(np.int64, copy=False), fixed, *adjacency, mark, stamp, distance, blocked)


@njit(cache=True)
def _claims(cand, granted, ptr_in, nbr_in, ptr_out, nbr_out, claim, touched):  # pragma: no cover - compiled
    k = 0
    for i in range(cand.size):
        c = cand[i]
        if c < 0 or not granted[i]:
            continue
        for j in range(ptr_in[c + 1] - ptr_in[c] + ptr_out[c + 1] - ptr_out[c] + 1):
            if j == 0:
                x = c
            elif j <= ptr_in[c + 1] - ptr_in[c]:
                x = nbr_in[ptr_in[c] + j - 1]
            else:
                x = nbr_out[ptr_out[c] + j - 1 - (ptr_in[c + 1] - ptr_in[c])]
            if claim[x] < 0:
                touched[k] = x
                k += 1
                claim[x] = i
    return k


def claims(
    cand: np.ndarray, granted: np.ndarray, adjacency: tuple[np.ndarray, ...], claim: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The first granted candidate (its position in the order) whose closed neighbourhood,
    over this part's edges, holds each local vertex: ``(local vertices, positions)``.

    ``claim`` is per-local-vertex scratch holding -1; it is reset before returning.
    """
    ptr_in, _, ptr_out, _ = adjacency
    held = cand[(cand >= 0) & granted]
    size = int(held.size + (ptr_in[held + 1] - ptr_in[held]).sum() + (ptr_out[held + 1] - ptr_out[held]).sum())
    touched = np.empty(size, dtype=np.int64)
    k = _claims(cand.astype(np.int64, copy=False), granted, *adjacency, claim, touched)
    touched = touched[:k]
    first = claim[touched].copy()
    claim[touched] = -1
    return touched, first


@njit(cache=True)
def _keep_claimed(cand, granted, ptr_in, nbr_in, ptr_out, nbr_out, owner):  # pragma: no cover - compiled
    for i in range(cand.size):
        c = cand[i]
        if c < 0 or not granted[i]:
            continue
        ok = owner[c] == i
        for j in range(ptr_in[c], ptr_in[c + 1]):
            ok = ok and owner[nbr_in[j]] == i
        for j in range(ptr_out[c], ptr_out[c + 1]):
            ok = ok and owner[nbr_out[j]] == i
        granted[i] = ok


def keep_claimed(cand: np.ndarray, granted: np.ndarray, adjacency: tuple[np.ndarray, ...], owner: np.ndarray) -> None:
    """Deny, in ``granted``, every candidate that does not own (``owner``, per local vertex)
    all of its closed neighbourhood over this part's edges."""
    if cand.size:
        _keep_claimed(cand.astype(np.int64, copy=False), granted, *adjacency, owner)


@njit(cache=True)
def _conflicts(batch, ptr_out, nbr_out, inside, stamp):  # pragma: no cover - compiled
    for i in range(batch.size):
        inside[batch[i]] = stamp
    count = 0
    for i in range(batch.size):
        c = batch[i]
        for j in range(ptr_out[c], ptr_out[c + 1]):
            u = nbr_out[j]
            if u != c and inside[u] == stamp:
                count += 1
    return count


def count_conflicts(batch: np.ndarray, ptr_out: np.ndarray, nbr_out: np.ndarray, inside: np.ndarray, stamp: int) -> int:
    """Edges of this part joining two vertices of ``batch`` (local numbers; loops excluded).

    Examples
    --------
    >>> ptr_out, nbr_out = np.array([0, 1, 2, 3, 3]), np.array([1, 2, 3])  # path 0->1->2->3
    >>> count_conflicts(np.array([0, 1, 3]), ptr_out, nbr_out, np.zeros(4, np.int64), 1)
    1
    """
    if batch.size == 0:
        return 0
    return int(_conflicts(batch.astype(np.int64, copy=False), ptr_out, nbr_out, inside, stamp))
