"""The multiprocess backend's transport: collectives among worker processes over shared memory.

Each worker exchanges through :class:`MultiprocessBackend`:

* bulk arrays go into the sender's **mailbox** segment (two of them,
  alternating by round, because a fast worker can be at most one round ahead
  of a slow one), and only a small note — where the arrays are — travels
  through the pipe between the two workers, pickled with plain ``pickle``
  and read back only by :mod:`gasengine.messages` (data, never code; and
  ``dill``, which the ``multiprocess`` package uses, costs ten times more
  per message, and a superstep's latency is mostly these messages);
* small values (allreduce scalars, signals of tiny graphs) ride inside the
  note, small arrays as their raw bytes (:class:`~gasengine.shm.Inline`);
* each worker waits on its pipes with one poller kept for the whole run.

Placing parts, starting the worker processes, watching them, collecting
their results and reporting their failures is the launcher's job:
:mod:`gasengine.backends.processes` (on top of the pieces every backend
shares, :mod:`gasengine.launcher`).
"""

from __future__ import annotations

import os
import select
import time
from typing import Any

import numpy as np

from ..messages import dumps, loads
from ..shm import ArraySpec, Segment, flatten_arrays, layout, restore_arrays
from .base import Backend

#: Arrays smaller than this travel inside the note instead of shared memory.
INLINE_BYTES = 4096
#: Notes larger than this (pickled) travel through shared memory too; two of
#: them must fit in a pipe's buffer (64 KiB on Linux) so that sends never block.
NOTE_BYTES = 16384
#: How often a blocked worker checks that its driver is still alive.
PARENT_CHECK_SECONDS = 1.0

#: Names that lived here before the launcher moved to :mod:`.processes`, still importable from here.
_MOVED = {
    "SPARE_FDS": ".processes",
    "SignalGuard": ".processes",
    "WorkerJob": ".processes",
    "_open_fds": ".processes",
    "check_fd_limit": ".processes",
    "pipe_fds": ".processes",
    "publish": ".processes",
    "run_workers": ".processes",
    "start_method": ".processes",
    "worker_main": ".processes",
    "WorkerProgramError": "..launcher",
}


def __getattr__(name: str) -> Any:
    # Lazily: the launcher imports this module, so importing it here at the top would be circular.
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(_MOVED[name], __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class MultiprocessBackend(Backend):
    """Collectives among worker processes: notes through pipes, arrays through shared memory.

    Every pair of workers shares one duplex pipe.  A worker can be at most one
    round ahead of a peer, so a pipe never holds more than two notes, and a
    note is kept under :data:`NOTE_BYTES` (a bigger one travels through the
    mailbox): sends never block, whatever order workers reach a round in.
    """

    def __init__(self, rank: int, size: int, peers: dict[int, Any], prefix: str, parent_pid: int):
        self.rank = rank
        self.size = size
        self._peers = peers
        self._prefix = prefix
        self._parent = parent_pid
        self._round = 0
        self._mailbox: list[Segment | None] = [None, None]
        self._generation = 0
        self._attached: dict[str, Segment] = {}
        # one poller for the whole run: building a selector per round (``connection.wait``) cost
        # about 15 us of a round's 100
        self._poller = select.poll()
        self._peer_of_fd: dict[int, int] = {}
        for w, conn in peers.items():
            self._poller.register(conn.fileno(), select.POLLIN)
            self._peer_of_fd[conn.fileno()] = w

    def alltoall(self, send: list[Any]) -> list[Any]:
        self._round += 1
        parity = self._round % 2
        arrays: list[list[np.ndarray]] = [[] for _ in range(self.size)]
        notes: dict[int, bytes | None] = {}
        for w in self._peers:
            note = dumps(flatten_arrays(send[w], arrays[w], INLINE_BYTES))
            if len(note) > NOTE_BYTES:  # keep pipes from filling up: the note rides in the mailbox
                arrays[w].append(np.frombuffer(note, dtype=np.uint8))
                note = None
            notes[w] = note
        specs = self._write_mailbox(parity, arrays)
        name = self._mailbox[parity].name if self._mailbox[parity] is not None else None
        for w, conn in self._peers.items():
            conn.send_bytes(dumps((name, specs[w], notes[w])))
        received: list[Any] = [None] * self.size
        received[self.rank] = send[self.rank]
        for sender, (seg_name, arr_specs, note) in self._receive_round().items():
            got = [self._segment(seg_name).array(s).copy() for s in arr_specs] if arr_specs else []
            if note is None:
                note = got.pop().tobytes()
            received[sender] = restore_arrays(loads(note), got)
        return received

    # ------------------------------------------------------------ internals
    def _write_mailbox(self, parity: int, arrays: list[list[np.ndarray]]) -> list[list[ArraySpec]]:
        """Copy every outgoing array into this round's mailbox; returns where each went, per worker."""
        flat = {(w, i): a for w, group in enumerate(arrays) for i, a in enumerate(group)}
        where, need = layout(flat)
        if flat:
            seg = self._mailbox[parity]
            if seg is None or seg.size < need:
                if seg is not None:
                    seg.unlink()
                self._generation += 1
                capacity = max(need * 2, 1 << 16)
                seg = Segment.create(f"{self._prefix}mbox-{self.rank}-{parity}-{self._generation}", capacity)
                self._mailbox[parity] = seg
            for key, a in flat.items():
                seg.array(where[key])[...] = a
        return [[where[(w, i)] for i in range(len(group))] for w, group in enumerate(arrays)]

    def _receive_round(self) -> dict[int, tuple]:
        """This round's note from every peer.

        A pipe is FIFO and a peer is at most one round ahead, so the first
        unread note on each pipe belongs to this round.
        """
        got: dict[int, tuple] = {}
        while len(got) < len(self._peers):
            ready = self._poller.poll(PARENT_CHECK_SECONDS * 1000)
            if not ready and os.getppid() != self._parent:  # driver gone: do not linger as an orphan
                os._exit(3)
            for fd, _ in ready:
                w = self._peer_of_fd[fd]
                try:
                    got[w] = loads(self._peers[w].recv_bytes())
                except EOFError:  # the peer died; its driver reports that and stops us
                    _wait_to_be_stopped(self._parent)
                if len(self._peers) > 1:  # its next note may be there already: not before the next round
                    self._poller.unregister(fd)
        if len(self._peers) > 1:
            for w in got:
                self._poller.register(self._peers[w].fileno(), select.POLLIN)
        return got

    def _segment(self, name: str) -> Segment:
        seg = self._attached.get(name)
        if seg is None:
            # a sender grows its mailbox under a new name; forget its older ones
            stem = name.rsplit("-", 1)[0]
            for old in [k for k in self._attached if k.rsplit("-", 1)[0] == stem]:
                del self._attached[old]
            seg = self._attached[name] = Segment.attach(name)
        return seg


def _wait_to_be_stopped(parent_pid: int) -> None:
    """Block until the driver stops this worker (or exit if the driver is gone)."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(3)
