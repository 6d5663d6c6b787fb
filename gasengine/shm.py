"""Named shared-memory segments holding packed numpy arrays.

A segment is a file in ``/dev/shm`` (a RAM-backed filesystem on Linux) mapped
with ``numpy.memmap``.  Every segment of a run shares the prefix
``gasengine-<run id>-``, so the driver can remove all of them — including
those a worker created just before it was killed — with one directory scan.
Files rather than ``multiprocessing.shared_memory`` keep ownership explicit:
no resource tracker unlinks a segment behind our back or warns about leaks
we already handled.

``/dev/shm`` is writable by every user, so a segment is only ever a *new*
file: :meth:`Segment.create` refuses a name that already exists — a file or
a symlink another user planted there, having read the run's prefix from the
directory listing — instead of opening it (or the file a symlink points
to), and sets the mode to exactly ``0600`` whatever the umask.  Only this
user's processes can read or write a run's segments; orphaned segments of
other users are left alone.
"""

from __future__ import annotations

import math
import mmap
import os
import secrets
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ALIGN = 64  # cache-line alignment of packed arrays
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # POSIX; a segment is never opened through a symlink


def shm_dir() -> Path:
    """Where segments live: ``/dev/shm`` when present, else the temp directory."""
    path = Path("/dev/shm")
    return path if path.is_dir() and os.access(path, os.W_OK) else Path(tempfile.gettempdir())


def new_run_prefix() -> str:
    """A fresh name prefix for the segments of one run."""
    return f"gasengine-{os.getpid()}-{secrets.token_hex(4)}-"


def remove_segments(prefix: str) -> int:
    """Unlink every segment whose name starts with ``prefix``; returns how many."""
    return _unlink(shm_dir().glob(prefix + "*"))


def remove_orphaned_segments() -> int:
    """Unlink segments whose creating driver is gone (killed before it could clean up).

    The owner's pid is part of every segment name; a segment is removed only
    when no process with that pid exists, and only if this user owns it
    (another user's leftovers are not ours to remove, and trying would fail).
    Returns how many were removed.
    """
    me = os.geteuid()

    def orphaned(entry: Path) -> bool:
        pid_text = entry.name.split("-")[1]
        if not pid_text.isdigit() or process_alive(int(pid_text)):
            return False
        try:
            return entry.lstat().st_uid == me
        except FileNotFoundError:
            return False

    return _unlink(entry for entry in shm_dir().glob("gasengine-*-*") if orphaned(entry))


def _unlink(paths: Iterable[Path]) -> int:
    """Unlink ``paths``, ignoring those already gone; returns how many this call removed."""
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except (FileNotFoundError, PermissionError):  # gone already, or not ours
            pass
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class ArraySpec:
    """Where one array sits in a segment."""

    offset: int
    dtype: str
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * np.dtype(self.dtype).itemsize  # math.prod: a tenth of np.prod per call


class Segment:
    """A shared-memory file mapped into this process.

    Examples
    --------
    >>> name = new_run_prefix() + "doctest"
    >>> seg = Segment.create(name, 128)
    >>> seg.array(ArraySpec(0, "float64", (4,)))[:] = 1.5
    >>> Segment.attach(name).array(ArraySpec(0, "float64", (4,))).tolist()
    [1.5, 1.5, 1.5, 1.5]
    >>> oct((shm_dir() / name).stat().st_mode & 0o777)
    '0o600'
    >>> Segment.create(name, 128)
    Traceback (most recent call last):
    ...
    FileExistsError: [Errno 17] File exists: ...
    >>> seg.unlink()
    """

    def __init__(self, name: str, buffer: mmap.mmap | None, size: int):
        self.name = name
        self.size = size
        self._buffer = buffer

    @classmethod
    def create(cls, name: str, size: int) -> Segment:
        """Create a new segment of ``size`` bytes, mode ``0600``.

        Raises ``FileExistsError`` if anything — a file, a symlink — already
        has the name: it is never opened, truncated or followed.
        """
        path = shm_dir() / name
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR | _NOFOLLOW, 0o600)
        try:
            os.fchmod(fd, 0o600)  # exactly, whatever the umask
            os.ftruncate(fd, max(size, 1))
            buffer = mmap.mmap(fd, max(size, 1))
        finally:
            os.close(fd)
        return cls(name, buffer, size)

    @classmethod
    def attach(cls, name: str) -> Segment:
        """Map an existing segment (never through a symlink; only one this user owns)."""
        path = shm_dir() / name
        fd = os.open(path, os.O_RDWR | _NOFOLLOW)
        try:
            info = os.fstat(fd)
            if info.st_uid != os.geteuid():
                raise PermissionError(f"{path}: owned by uid {info.st_uid}, not by this user: not a segment of ours")
            size = info.st_size
            buffer = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        return cls(name, buffer, size)

    def array(self, spec: ArraySpec) -> np.ndarray:
        """A numpy view of one packed array (writes go to shared memory)."""
        count = math.prod(spec.shape)
        return np.frombuffer(self._buffer, dtype=spec.dtype, count=count, offset=spec.offset).reshape(spec.shape)

    def unlink(self) -> None:
        """Remove the name; existing mappings stay valid until closed."""
        try:
            (shm_dir() / self.name).unlink()
        except FileNotFoundError:
            pass


def aligned_size(nbytes: int) -> int:
    """Bytes an array occupies in a segment: rounded up to ``ALIGN`` (at least one unit)."""
    return -(-max(nbytes, 1) // ALIGN) * ALIGN


def layout(arrays: dict[Any, np.ndarray | tuple[tuple[int, ...], Any]]) -> tuple[dict[Any, ArraySpec], int]:
    """Offsets for packing arrays into one segment; returns (specs, total bytes).

    Each value is an array or the ``(shape, dtype)`` of one still to be made.

    Examples
    --------
    >>> specs, size = layout({"a": np.zeros(3), "b": ((2, 2), np.int32)})
    >>> specs["b"].offset, size
    (64, 128)
    """
    specs: dict[Any, ArraySpec] = {}
    offset = 0
    for name, item in arrays.items():
        shape, dtype = (item.shape, item.dtype) if isinstance(item, np.ndarray) else item
        spec = specs[name] = ArraySpec(offset, np.dtype(dtype).str, tuple(int(d) for d in shape))
        offset += aligned_size(spec.nbytes)
    return specs, offset


def unpack(seg: Segment, specs: dict[str, ArraySpec]) -> dict[str, np.ndarray]:
    """Views of every packed array of a segment."""
    return {key: seg.array(spec) for key, spec in specs.items()}


class ArrayRef(int):
    """Placeholder for the i-th array moved out of a message into shared memory."""


class Packed:
    """Placeholder for a :class:`~gasengine.KeyCounts` or :class:`~gasengine.Ragged` taken apart into
    its arrays, so that they too travel through shared memory instead of being pickled into the note."""

    __slots__ = ("kind", "parts")

    def __init__(self, kind: str, parts: tuple):
        self.kind, self.parts = kind, parts

    def __reduce__(self) -> tuple:
        return (Packed, (self.kind, self.parts))


class Inline:
    """A small array carried in a message as its raw bytes, dtype string and shape.

    numpy's own pickling of an array costs about 14 us to write and read back
    (most of it the dtype's state), ten times this form; a round's notes hold
    many small arrays.  The bytes are a ``bytearray``, so the array rebuilt
    from them is writable, like an unpickled one.
    """

    __slots__ = ("data", "dtype", "shape")

    def __init__(self, dtype: str, shape: tuple[int, ...], data: bytearray):
        self.dtype, self.shape, self.data = dtype, shape, data

    def __reduce__(self) -> tuple:
        return (Inline, (self.dtype, self.shape, self.data))

    def array(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype=self.dtype).reshape(self.shape)


#: Array kinds whose raw bytes and dtype string are the whole array (no objects, no fields).
_RAW_KINDS = frozenset("biufcmM")


def flatten_arrays(tree: Any, out: list[np.ndarray], threshold: int) -> Any:
    """Replace arrays of at least ``threshold`` bytes in a nested message
    (dicts, lists, tuples; the arrays of key counts and ragged rows) by
    :class:`ArrayRef` placeholders, collecting them in ``out``; smaller
    arrays of plain numbers become :class:`Inline` records.

    Nothing is imported per call (a round's messages are many small trees):
    the ragged types are looked up only for a value that is none of the others.
    """
    if isinstance(tree, np.ndarray):  # a small array subclass stays itself, and the unpickler refuses it
        if tree.nbytes >= threshold:
            out.append(np.ascontiguousarray(tree))
            return ArrayRef(len(out) - 1)
        if type(tree) is np.ndarray and tree.dtype.kind in _RAW_KINDS:
            return Inline(tree.dtype.str, tree.shape, bytearray(tree.tobytes()))
        return tree
    if isinstance(tree, dict):
        return {k: flatten_arrays(v, out, threshold) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(flatten_arrays(v, out, threshold) for v in tree)
    if tree is None or type(tree) in _SCALARS:
        return tree
    KeyCounts, Ragged = _packable()
    if isinstance(tree, KeyCounts):
        return Packed("counts", flatten_arrays((tree.ptr, tree.keys, tree.weights), out, threshold))
    if isinstance(tree, Ragged):
        return Packed("ragged", flatten_arrays((tree.ptr, np.asarray(tree.values)), out, threshold))
    return tree


#: Types a message holds that never contain arrays.
_SCALARS = frozenset({int, float, bool, str, bytes, np.int64, np.float64, np.bool_})


def _packable() -> tuple[type, type]:
    """The engine's ragged message types (imported late: they import this module)."""
    from .accumulators import KeyCounts
    from .ragged import Ragged

    return KeyCounts, Ragged


def restore_arrays(tree: Any, arrays: list[np.ndarray]) -> Any:
    """Inverse of :func:`flatten_arrays`."""
    if isinstance(tree, ArrayRef):
        return arrays[int(tree)]
    if isinstance(tree, Inline):
        return tree.array()
    if isinstance(tree, Packed):
        from .accumulators import KeyCounts
        from .ragged import Ragged

        parts = restore_arrays(tree.parts, arrays)
        return KeyCounts(*parts) if tree.kind == "counts" else Ragged(*parts)
    if isinstance(tree, dict):
        return {k: restore_arrays(v, arrays) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(restore_arrays(v, arrays) for v in tree)
    return tree
