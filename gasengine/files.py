"""Writing result and checkpoint files safely: all at once, with the user's umask, never through a symlink.

:func:`write_file_safely` is how gasengine creates a file a user asked for
(an output table, a plot, a saved cut, a checkpoint).  What it promises:

* **all or nothing**: the content goes to a new temporary file beside the
  target, is synced, and is renamed over the target only once complete; a
  write that fails or is interrupted (Ctrl-C included) leaves no partial
  file, and an older file at the target whole;
* **the user's umask**: the file is created with mode ``0o666`` less the
  umask, as ``open`` or ``touch`` would create it (an older file's mode is
  not carried over: the new file replaces it);
* **no symlink followed**: the temporary file is created with
  ``O_CREAT | O_EXCL | O_NOFOLLOW`` under a random name, so a file or
  symlink planted at that name is never opened (another name is drawn); a
  target path that is itself a symlink is refused with an error naming it
  (writing through it would write wherever it points); and the final
  rename replaces whatever directory entry the target has — a symlink or a
  hard link planted there after the check included — never the file it
  leads to.

A target that exists and is neither a regular file nor a directory — a
character device such as ``/dev/null`` or ``/dev/full``, a FIFO — is written
in place (it cannot be renamed over), opened without following a symlink.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable
from typing import Any, BinaryIO

__all__ = ["write_file_safely"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
#: Longest part of the target's name kept in the temporary file's name (names are at most 255 bytes).
_STEM_CHARS = 180
#: Temporary names tried before giving up (each a fresh random name; a clash means someone planted it).
_ATTEMPTS = 16


def write_file_safely(path: str | os.PathLike[str], write: Callable[[BinaryIO], Any], *, mode: int = 0o666) -> Any:
    """Call ``write(file)`` on a new binary file that becomes ``path`` only when the write is complete.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace.  Its directory must exist.
    write : callable
        Called once with a binary file open for writing (seekable for a
        regular file); its return value is returned.
    mode : int
        Permission bits the file is created with, less the umask (default
        ``0o666``: what ``open`` gives; ``0o600`` for a private file).

    Returns
    -------
    Any
        What ``write`` returned.

    Raises
    ------
    OSError
        With ``errno.ELOOP`` if ``path`` is a symbolic link (dangling or
        not): it is refused before anything is written, and its message
        names where it points.  ``IsADirectoryError`` if ``path`` is a
        directory.  Any error of the write itself (a full disk, a file size
        limit, no permission in the directory) after the temporary file is
        removed.  Whatever the error, nothing at ``path`` has changed.

    Notes
    -----
    The temporary file is ``.<name>.<pid>.<random>.tmp`` in ``path``'s
    directory: hidden, and naming the process that writes it, so that a
    leftover of a writer killed outright (SIGKILL, power loss) can be told
    from one in progress.  After the rename the directory is synced too, so
    the new name survives a crash of the machine.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> out = os.path.join(folder, "ranks.tsv")
    >>> write_file_safely(out, lambda f: f.write(b"0\\t0.25\\n"))
    7
    >>> open(out, "rb").read(), os.listdir(folder)
    (b'0\\t0.25\\n', ['ranks.tsv'])
    >>> os.symlink("/etc/passwd", os.path.join(folder, "planted"))
    >>> write_file_safely(os.path.join(folder, "planted"), lambda f: f.write(b"x"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    OSError: [Errno 40] is a symbolic link (to /etc/passwd); not writing through it: ...planted'
    >>> write_file_safely("/dev/full", lambda f: f.write(b"x" * 100000))
    Traceback (most recent call last):
    ...
    OSError: [Errno 28] No space left on device
    >>> import shutil; shutil.rmtree(folder)
    """
    path = os.fspath(path)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise OSError(
                errno.ELOOP,
                f"is a symbolic link (to {_link_target(path)}); not writing through it: give the file's own path",
                path,
            )
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", path)
        if not stat.S_ISREG(info.st_mode):
            written = _write_in_place(path, write)
            if written is not _REGULAR:
                return written
    return _write_by_rename(path, write, mode)


#: Returned by :func:`_write_in_place` when the path turned out to be a regular file after all.
_REGULAR = object()


def _write_in_place(path: str, write: Callable[[BinaryIO], Any]) -> Any:
    """Write a device or FIFO where it is (no create, no truncate, no symlink followed)."""
    fd = os.open(path, os.O_WRONLY | os.O_NOCTTY | _NOFOLLOW | _CLOEXEC)
    if stat.S_ISREG(os.fstat(fd).st_mode):  # replaced by a regular file since the check: rename over it instead
        os.close(fd)
        return _REGULAR
    with os.fdopen(fd, "wb") as f:
        return write(f)


def _write_by_rename(path: str, write: Callable[[BinaryIO], Any], mode: int) -> Any:
    folder, name = os.path.split(path)
    folder = folder or "."
    fd, tmp = _create_temporary(folder, name, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            written = write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:  # Ctrl-C half-way too: no partial file
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _sync_directory(folder)
    return written


def _create_temporary(folder: str, name: str, mode: int) -> tuple[int, str]:
    """A new file under a fresh random name in ``folder``; never opens an existing file or follows a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    for _ in range(_ATTEMPTS):
        tmp = os.path.join(folder, f".{name[:_STEM_CHARS]}.{os.getpid()}.{_random_token()}.tmp")
        try:
            return os.open(tmp, flags, mode), tmp
        except FileExistsError:  # taken (planted?): draw another name, never open it
            continue
    raise FileExistsError(errno.EEXIST, f"no free temporary name after {_ATTEMPTS} tries", folder)


def _random_token() -> str:
    return secrets.token_hex(8)


def _link_target(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return "?"


def _sync_directory(folder: str) -> None:
    """Sync a directory, so that a rename in it survives a crash (not possible everywhere: then skipped)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a directory
        pass
    finally:
        os.close(fd)
