"""The MPI backend's transport: the exchange primitives as MPI collectives on numpy buffers.

Every primitive is one *round* on the run's communicator:

1. one ``Alltoall`` of a fixed-size slot per peer (:func:`slot_bytes`,
   4 KiB for up to 16 ranks): a small int64 header — a status (ok / failed)
   and the message's length — and, when it fits, the message itself;
2. for every message too big for its slot, an ``Isend``/``Irecv`` pair
   between the two ranks (the slots told both sides who sends what, so no
   second collective is needed and small rounds cost one collective).

A message (any nesting of dicts, lists, tuples, arrays, :class:`KeyCounts`,
ragged fields, ...) is flattened with pickle protocol 5 and *out-of-band*
buffers (:func:`pack`): the metadata (structure, dtypes, shapes) is a short
pickle, read back only by :mod:`gasengine.messages` (data, never code);
every array's bytes are copied once into the send buffer as they are, and
the receiver's arrays are views of its receive buffer (small ones are
copied out, so that they do not keep a large buffer alive).  No array is
pickled.

``allreduce`` folds every rank's value in rank order (so every rank gets the
same bits, as on the multiprocess backend); ``bcast`` and ``barrier`` are
rounds too.  That every primitive starts with the same collective is what
makes failures safe: a rank whose program raised joins the round the others
are waiting in with a *failed* status and its report as the message
(:meth:`MPIBackend.fail`), every rank learns of it in that same round and
raises :class:`PeerFailed`, and the ranks stay in step — nobody waits for a
collective that will never come.

Waiting is polling (MPICH has no blocking wait on shared memory): at full
speed for a moment, then with short naps, at once when this machine runs
more ranks than it has cores (:func:`spin_seconds`).
"""

from __future__ import annotations

import io
import os
import pickle
import time
from typing import Any

import numpy as np

from ..messages import PICKLING_ERRORS, PROTOCOL, cannot_send, loads
from .base import Backend

#: Header status of a rank.
OK, FAILED = 0, 1
#: Alignment of every buffer in a message (cache lines; numpy needs at most 16).
ALIGN = 64
#: Received arrays smaller than this are copied out of the receive buffer.
COPY_BELOW = 65536
#: Longest sleep between two polls while a round waits for a slow peer.
MAX_NAP_SECONDS = 0.0002
#: Bytes of a slot taken by its header (status, length; padded so the message starts aligned).
HEADER_BYTES = ALIGN
#: Tag of the point-to-point messages too big for their slot.
BIG_TAG = 7


def slot_bytes(size: int) -> int:
    """Bytes per peer of a round's ``Alltoall``: 4 KiB up to 16 ranks, less beyond (256 at least), so that
    the collective stays under 64 KiB per rank; a bigger message goes point to point.

    Examples
    --------
    >>> slot_bytes(2), slot_bytes(64), slot_bytes(1024)
    (4096, 1024, 256)
    """
    return max(256, min(4096, (65536 // max(size, 1)) // ALIGN * ALIGN))


def spin_seconds() -> float:
    """How long a rank waiting for its peers polls at full speed before it naps between polls.

    MPICH waits by polling, which costs a core: when this machine runs more
    ranks than it has cores, a polling rank takes the core a computing peer
    needs (ten times slower rounds, measured with 3 ranks on 2 cores), so
    ranks then nap at once.  ``GASENGINE_MPI_SPIN_SECONDS`` overrides.
    """
    given = os.environ.get("GASENGINE_MPI_SPIN_SECONDS")
    if given is not None:
        return float(given)
    local_ranks = int(os.environ.get("MPI_LOCALNRANKS") or os.environ.get("OMPI_COMM_WORLD_LOCAL_SIZE") or 1)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return 0.0 if local_ranks > cores else 0.002


class PeerFailed(Exception):
    """Raised on every rank of a round in which some rank reported a failure.

    ``reports`` holds every failure reported in that round (this rank's own included).
    """

    def __init__(self, reports: list[Any]):
        self.reports = reports
        super().__init__(f"rank(s) {sorted(r.rank for r in reports)} failed")


class BrokenRound(Exception):
    """A round was cut short between its two collectives: the ranks are out of step, only an abort ends them."""


class MPIBackend(Backend):
    """Collectives among the ranks of an MPI communicator.

    Parameters
    ----------
    comm : mpi4py.MPI.Comm
        The communicator of the run (every rank of it is a worker).
    max_nap : float
        Longest sleep between polls while waiting for peers.
    give_up_after : float, optional
        Seconds after which a wait for peers stops with :class:`BrokenRound`
        (default: wait as long as it takes).

    Examples
    --------
    Under ``mpiexec -n 2``, on every rank:

    >>> from mpi4py import MPI  # doctest: +SKIP
    >>> b = MPIBackend(MPI.COMM_WORLD)  # doctest: +SKIP
    >>> b.alltoall([{"to": w, "x": np.arange(3) * b.rank} for w in range(2)])[1]["x"].tolist()  # doctest: +SKIP
    [0, 1, 2]
    """

    def __init__(self, comm: Any, max_nap: float = MAX_NAP_SECONDS, give_up_after: float | None = None):
        self.comm = comm
        self.give_up_after = give_up_after
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.max_nap = max_nap
        self.spin = spin_seconds()
        self.slot = slot_bytes(self.size)
        self._sent = 0

    # ------------------------------------------------------------ primitives
    def alltoall(self, send: list[Any]) -> list[Any]:
        if len(send) != self.size:
            raise ValueError(f"alltoall needs one message per rank ({self.size}), got {len(send)}")
        return self._round(send, OK)

    counts_bytes = True  # the step statistics count what MPI really moved

    def bytes_sent(self) -> int:
        """Bytes this rank has sent to other ranks as MPI moved them: whole slots, metadata, arrays, padding."""
        return self._sent

    def fail(self, report: Any) -> list[Any]:
        """Join the round the other ranks are in with a failed status; returns every report of that round.

        Call it once, after an exception that did not come from this backend
        (a round cut short by one is a :class:`BrokenRound`).
        """
        if self.size == 1:
            return [report]
        try:
            self._round([report] * self.size, FAILED)
        except PeerFailed as exc:
            return exc.reports
        raise AssertionError("a failed round always raises PeerFailed")  # pragma: no cover

    # ------------------------------------------------------------- internals
    def _round(self, send: list[Any], status: int) -> list[Any]:
        if self.size == 1:
            return list(send)
        from mpi4py import MPI

        me, size, slot = self.rank, self.size, self.slot
        room = slot - HEADER_BYTES
        # Everything that can fail on this rank alone (pickling, memory) happens before the first
        # collective: an exception here leaves the ranks in step, and the caller may report it.
        packed = [None if w == me else pack(send[w]) for w in range(size)]
        slots = _aligned_bytes(size * slot).reshape(size, slot)
        header = slots[:, :16].view(np.int64)
        header[:, 0] = status
        big: dict[int, np.ndarray] = {}
        for w, p in enumerate(packed):
            header[w, 1] = 0 if p is None else p.nbytes
            if p is None:
                continue
            if p.nbytes <= room:
                p.write_into(slots[w, HEADER_BYTES : HEADER_BYTES + p.nbytes])
            else:
                big[w] = _aligned_bytes(p.nbytes)
                p.write_into(big[w])
        incoming = _aligned_bytes(size * slot).reshape(size, slot)
        try:
            self.wait(self.comm.Ialltoall([slots, MPI.BYTE], [incoming, MPI.BYTE]))
            lengths = incoming[:, :16].view(np.int64)[:, 1].tolist()
            recv = {r: _aligned_bytes(n) for r, n in enumerate(lengths) if r != me and n > room}
            requests = [self.comm.Irecv([buf, MPI.BYTE], source=r, tag=BIG_TAG) for r, buf in recv.items()]
            requests += [self.comm.Isend([buf, MPI.BYTE], dest=w, tag=BIG_TAG) for w, buf in big.items()]
            if requests:
                self.wait_all(requests)
        except BaseException as exc:  # whatever it was (Ctrl-C too), the round is lost
            raise BrokenRound(f"rank {me}: an exchange was cut short ({type(exc).__name__}: {exc})") from exc
        self._sent += slot * (size - 1) + sum(buf.size for buf in big.values())

        def message(r: int) -> Any:
            if r in recv:
                return unpack(recv[r], 0, lengths[r])
            return unpack(incoming[r], HEADER_BYTES, lengths[r])

        statuses = incoming[:, :16].view(np.int64)[:, 0]
        failed = [r for r in range(size) if r != me and statuses[r] != OK]
        if status != OK or failed:
            reports = [send[me]] if status != OK else []
            reports += [message(r) for r in failed]
            raise PeerFailed(sorted(reports, key=lambda r: r.rank))
        received = [message(r) if r != me else send[me] for r in range(size)]
        return received

    def wait(self, request: Any) -> None:
        """Poll ``request`` until it completes: at full speed at first, then with naps up to ``max_nap``."""
        self._poll(request.Test)

    def wait_all(self, requests: list[Any]) -> None:
        """:meth:`wait` for every request of a list."""
        from mpi4py import MPI

        self._poll(lambda: MPI.Request.Testall(requests))

    def _poll(self, done: Any) -> None:
        if done():
            return
        start = time.perf_counter()
        nap = 2e-5
        while not done():
            waited = time.perf_counter() - start
            if self.give_up_after is not None and waited > self.give_up_after:
                raise TimeoutError(f"no answer from every peer within {self.give_up_after:g} s")
            if waited >= self.spin:
                time.sleep(nap)
                nap = min(nap * 2, self.max_nap)


# ================================================================ messages
class Packed:
    """One message flattened: metadata (a short pickle) and the raw buffers of its arrays.

    Its wire form is ``int64 [k, len(meta), len(buffer_0), ..., len(buffer_k-1)]``,
    the metadata and then every buffer, each starting at a multiple of
    :data:`ALIGN` bytes.
    """

    __slots__ = ("buffers", "meta", "nbytes")

    def __init__(self, meta: bytes, buffers: list[memoryview]):
        self.meta = meta
        self.buffers = buffers
        self.nbytes = _aligned(8 * (2 + len(buffers))) + _aligned(len(meta)) + sum(_aligned(b.nbytes) for b in buffers)

    def write_into(self, out: np.ndarray) -> None:
        """Write the wire form into ``out`` (uint8, ``nbytes`` long)."""
        index = np.array([len(self.buffers), len(self.meta), *(b.nbytes for b in self.buffers)], dtype=np.int64)
        at = 0
        for piece in (index.view(np.uint8), np.frombuffer(self.meta, dtype=np.uint8), *self.buffers):
            raw = piece if isinstance(piece, np.ndarray) else np.frombuffer(piece, dtype=np.uint8)
            out[at : at + raw.size] = raw
            at += _aligned(raw.size)


class _Pickler(pickle.Pickler):
    """Pickle protocol 5 that sends every array out of band (numpy pickles a non-contiguous one in band)."""

    def reducer_override(self, obj: Any) -> Any:
        if (
            type(obj) is np.ndarray
            and not (obj.flags.c_contiguous or obj.flags.f_contiguous)
            and not obj.dtype.hasobject
        ):
            return np.ascontiguousarray(obj).__reduce_ex__(5)
        return NotImplemented


def pack(obj: Any) -> Packed:
    """Flatten ``obj`` into metadata and the raw buffers of its arrays (pickle protocol 5, out of band).

    Raises :class:`~gasengine.messages.MessageRefused` for what plain pickle
    cannot write (a lambda, say): messages carry data, never code.

    Examples
    --------
    >>> p = pack({"a": np.arange(4.0), "b": [np.ones(2, dtype=bool), None]})
    >>> len(p.buffers), p.buffers[0].nbytes
    (2, 32)
    """
    buffers: list[pickle.PickleBuffer] = []
    out = io.BytesIO()
    try:
        _Pickler(out, protocol=PROTOCOL, buffer_callback=buffers.append).dump(obj)
    except PICKLING_ERRORS as exc:
        raise cannot_send(obj, exc) from None
    return Packed(out.getvalue(), [b.raw() for b in buffers])


def unpack(buf: np.ndarray, offset: int, nbytes: int) -> Any:
    """The message whose wire form lies at ``buf[offset : offset + nbytes]``."""
    k, meta_len = (int(x) for x in buf[offset : offset + 16].view(np.int64))
    lengths = buf[offset + 16 : offset + 16 + 8 * k].view(np.int64).tolist()
    at = offset + _aligned(8 * (2 + k))
    meta = buf[at : at + meta_len].tobytes()
    at += _aligned(meta_len)
    buffers = []
    for length in lengths:
        view = buf[at : at + length]
        buffers.append(view.copy() if length < COPY_BELOW else view)
        at += _aligned(length)
    if at != offset + nbytes:
        raise ValueError(f"a message of {nbytes} bytes does not match its own index (ends at {at - offset})")
    return loads(meta, buffers=buffers)


def _aligned(nbytes: int) -> int:
    return -(-nbytes // ALIGN) * ALIGN


def _aligned_bytes(nbytes: int) -> np.ndarray:
    """``nbytes`` uninitialised bytes starting at a multiple of :data:`ALIGN`."""
    raw = np.empty(nbytes + ALIGN, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGN
    return raw[start : start + nbytes]
