"""Messages between parts: subsets of their shared vertex lists, checked on arrival.

Two parts that share vertices hold the same sorted list of them (the
mirror side's ``Part.send[q]``, the master side's ``Part.recv[p]``, see
``parts.py``).  A message about some of those vertices is therefore a
*subset* of that list — all of it (nothing sent but the values), positions
into it, or a mask, whichever is smallest (:func:`~gasengine.frontier.encode_positions`)
— plus one value per vertex of the subset.  Vertex numbers never travel,
except in debug mode, where every message also carries them so that the
receiver can compare them with its own list.

The receiver says which subset it expects when it knows (a master knows
which of its vertices are active, so it knows from which mirrors partial
accumulators must come); a message that differs is an
:class:`~gasengine.errors.EngineError` naming the superstep, the exchange
and both parts — a master and a mirror that disagree never give a silently
wrong value.
"""

from __future__ import annotations

import time
import weakref
from collections import defaultdict
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .backends.base import Backend
from .errors import EngineError
from .frontier import Frontier, decode_positions, encode_positions
from .parts import Part


def payload_bytes(payload: Any) -> int:
    """Bytes of the arrays in a message (nested dicts/lists/tuples).

    Examples
    --------
    >>> payload_bytes({"a": np.zeros(3), "b": [np.zeros(2, dtype=np.int8), None]})
    26
    """
    if isinstance(payload, np.ndarray) or hasattr(payload, "nbytes"):  # arrays, and ragged KeyCounts
        return int(payload.nbytes)
    if isinstance(payload, dict):
        return sum(payload_bytes(v) for v in payload.values())
    if isinstance(payload, (list, tuple)):
        return sum(payload_bytes(v) for v in payload)
    return 0


def subset_of(frontier: Frontier, shared: np.ndarray) -> np.ndarray | None:
    """Positions in the sorted list ``shared`` of the vertices that are in ``frontier``.

    None means all of them.  Costs O(len(shared)) for a dense frontier and
    O(frontier size x log len(shared)) for a sparse one, so a small frontier
    never pays for a long shared list.

    Examples
    --------
    >>> subset_of(Frontier.of_ids(10, np.array([2, 5])), np.array([1, 2, 3, 5, 8])).tolist()
    [1, 3]
    """
    if frontier.full:
        return None
    if frontier.dense:
        return np.flatnonzero(frontier.mask()[shared])
    ids = frontier.ids()
    if ids.size >= TABLE_FROM:  # one lookup per id beats a binary search of each in a long list
        pos = _position_table(shared, frontier.size)[ids]
        return pos[pos >= 0]
    pos = np.searchsorted(shared, ids)
    inside = pos < shared.size
    pos, ids = pos[inside], ids[inside]
    return pos[shared[pos] == ids]


#: Frontiers of at least this many ids find their positions in a shared list through a table.
TABLE_FROM = 32
_TABLES: dict[int, tuple[weakref.ref, np.ndarray]] = {}


def _position_table(shared: np.ndarray, size: int) -> np.ndarray:
    """Per local vertex ``0..size-1`` (at least), its position in the sorted list ``shared`` or -1.

    Built once per list — the parts' shared lists live as long as a run —
    and forgotten with the list (kept by a weak reference, keyed by identity).
    """
    entry = _TABLES.get(id(shared))
    if entry is not None and entry[0]() is shared and entry[1].size >= size:
        return entry[1]
    if len(_TABLES) > 64:  # drop the tables of lists that are gone
        for key in [k for k, (ref, _) in _TABLES.items() if ref() is None]:
            del _TABLES[key]
    length = max(size, int(shared[-1]) + 1 if shared.size else 0)
    table = np.full(length, -1, dtype=np.int32 if shared.size < 2**31 else np.int64)
    table[shared] = np.arange(shared.size, dtype=table.dtype)
    _TABLES[id(shared)] = (weakref.ref(shared), table)
    return table


def pick(values: np.ndarray, shared: np.ndarray, positions: np.ndarray | None) -> np.ndarray:
    """``values`` of the shared vertices at ``positions`` (all when None)."""
    return values[shared] if positions is None else values[shared[positions]]


class Subset(NamedTuple):
    """A received message: which shared vertices it is about, and the payload."""

    positions: np.ndarray | None  # None: the whole shared list
    local: np.ndarray  # their local numbers in the receiving part
    payload: Any


class Exchange:
    """Delivers messages between the parts of all workers through a backend, and counts them.

    Parameters
    ----------
    parts : dict of int to Part
        The parts this worker holds.
    part_owner : ndarray
        Worker rank of every part.
    backend : Backend
    debug : bool
        Also send and compare vertex numbers.
    """

    def __init__(self, parts: dict[int, Part], part_owner: np.ndarray, backend: Backend, debug: bool):
        self.parts = parts
        self.part_owner = part_owner
        self.backend = backend
        self.debug = debug
        self.step = 0
        self.reset()

    def reset(self) -> None:
        """Start counting a new superstep."""
        self.bytes = 0
        self.payload_worker_bytes = 0
        self.seconds = 0.0
        self._sent_before = self.backend.bytes_sent()

    @property
    def worker_bytes(self) -> int:
        """Bytes this worker sent to others this superstep: what the transport really sent when it
        counts its messages (MPI: headers, metadata and fixed slots included), else the payloads' bytes.

        The reduction that closes a superstep is counted in the next one (it
        carries this count)."""
        if self.backend.counts_bytes:
            return self.backend.bytes_sent() - self._sent_before
        return self.payload_worker_bytes

    # ------------------------------------------------------------ sending
    def message(self, sender: Part, shared: np.ndarray, positions: np.ndarray | None, payload: Any) -> tuple:
        """A message from ``sender`` about the vertices ``shared[positions]`` of a shared list."""
        code = encode_positions(positions, shared.size) if positions is not None else None
        wire = (code, payload)
        if self.debug:
            wire += (sender.gid[shared if positions is None else shared[positions]],)
        return wire

    def send(self, outbox: dict[tuple[int, int], tuple], shared: Callable[[], Any] | None = None) -> Any:
        """Deliver ``outbox[(p, q)]`` (from :meth:`message`) to part ``q``.

        Returns, per receiving part, ``[(sender part, message), ...]`` sorted
        by sender; open each with :meth:`open`.  When ``shared`` is given,
        the value it returns (called after this round's bytes are counted)
        travels to every worker in the same round, and ``(inbox, [value of
        worker 0, 1, ...])`` is returned.
        """
        inboxes, everyone = self._deliver([outbox], shared)
        return inboxes[0] if shared is None else (inboxes[0], everyone)

    def send_together(self, outboxes: list[dict[tuple[int, int], tuple]]) -> list[dict[int, list[tuple[int, Any]]]]:
        """Several outboxes (of different exchanges) in one round: one inbox per outbox, as :meth:`send`'s."""
        return self._deliver(outboxes, None)[0]

    def _deliver(self, outboxes: list[dict], shared: Callable[[], Any] | None) -> tuple[list[dict], list[Any]]:
        start = time.perf_counter()
        self.bytes += sum(payload_bytes(msg[:2]) for box in outboxes for (p, q), msg in box.items() if p != q)
        if self.backend.size > 1:
            per_worker: list[dict] = [{} for _ in range(self.backend.size)]
            for i, box in enumerate(outboxes):
                for (p, q), msg in box.items():
                    per_worker[int(self.part_owner[q])][(i, p, q)] = msg
            me = self.backend.rank
            self.payload_worker_bytes += sum(
                payload_bytes(msg[:2]) for w, d in enumerate(per_worker) if w != me for msg in d.values()
            )
            value = shared() if shared is not None else None
            for d in per_worker:
                d["\0shared"] = value
            batches = self.backend.alltoall(per_worker)
            everyone = [batch.pop("\0shared") for batch in batches]
            received: dict = {}
            for batch in batches:
                received.update(batch)
        else:
            received = {(i, p, q): msg for i, box in enumerate(outboxes) for (p, q), msg in box.items()}
            everyone = [shared() if shared is not None else None]
        inboxes: list[dict[int, list[tuple[int, Any]]]] = [defaultdict(list) for _ in outboxes]
        for i, p, q in sorted(received):
            inboxes[i][q].append((p, received[(i, p, q)]))
        self.seconds += time.perf_counter() - start
        return inboxes, everyone

    # ---------------------------------------------------------- receiving
    def open(
        self,
        message: tuple,
        receiver: Part,
        shared: np.ndarray,
        stage: str,
        sender: int,
        expected: np.ndarray | bool | None = False,
    ) -> Subset:
        """Check a received message and say which of the receiver's vertices it is about.

        ``expected`` is the subset the receiver knows it must get (positions,
        or None for all), or ``False`` when any subset is fine.
        """
        code, payload = message[0], message[1]
        try:
            positions = None if code is None else decode_positions(code, shared.size)
        except ValueError as exc:
            raise self._error(stage, sender, receiver, str(exc)) from None
        count = shared.size if positions is None else positions.size
        if positions is not None and count and (positions[-1] >= shared.size or positions[0] < 0):
            raise self._error(stage, sender, receiver, f"positions outside the {shared.size} shared vertices")
        if expected is not False and not _same_subset(positions, expected, shared.size):
            want = shared.size if expected is None else expected.size
            raise self._error(
                stage,
                sender,
                receiver,
                f"part {sender} sent values for {count} of their {shared.size} shared vertices, but part "
                f"{receiver.index} expected {want}{_first_difference(positions, expected, shared)}; "
                "the two parts disagree on which of their shared vertices are active",
            )
        arrays = payload.values() if isinstance(payload, dict) else () if payload is None else (payload,)
        for values in arrays:
            if len(values) != count:
                raise self._error(stage, sender, receiver, f"{len(values)} values for {count} vertices")
        local = shared if positions is None else shared[positions]
        if self.debug:
            mine = receiver.gid[local]
            gids = message[2]
            if gids.shape != mine.shape or not np.array_equal(gids, mine):
                raise self._error(
                    stage,
                    sender,
                    receiver,
                    f"part {sender} sent values for vertices {_preview(gids)} but part {receiver.index} "
                    f"reads them as {_preview(mine)}: the shared vertex lists differ",
                )
        return Subset(positions, local, payload)

    def _error(self, stage: str, sender: int, receiver: Part, what: str) -> EngineError:
        return EngineError(f"superstep {self.step}, {stage} (part {sender} -> part {receiver.index}): {what}")


def _same_subset(got: np.ndarray | None, want: np.ndarray | None, length: int) -> bool:
    if got is None or want is None:
        size = lambda x: length if x is None else x.size  # noqa: E731
        return size(got) == size(want) == length
    return got.shape == want.shape and np.array_equal(got, want)


def _first_difference(got: np.ndarray | None, want: np.ndarray | None, shared: np.ndarray) -> str:
    got = np.arange(shared.size) if got is None else got
    want = np.arange(shared.size) if want is None else want
    n = min(got.size, want.size)
    diff = np.flatnonzero(got[:n] != want[:n])
    k = int(diff[0]) if diff.size else n
    if k < got.size and (k >= want.size or got[k] < want[k]):
        return f" (first difference: shared vertex #{int(got[k])} sent, not expected)"
    if k < want.size:
        return f" (first difference: shared vertex #{int(want[k])} expected, not sent)"
    return ""


def _preview(ids: np.ndarray, k: int = 8) -> str:
    """The first ``k`` ids of a list, for messages."""
    shown = ", ".join(str(int(i)) for i in ids[:k])
    return f"[{shown}{', ...' if ids.size > k else ''}] ({ids.size})"
