"""Refusing, before allocating, work that cannot fit in this machine's memory.

A tiny input can ask for a huge allocation: a header declaring four billion
vertices, an assignment naming part 5,000,000, thousands of parts on a
four-edge graph (the mirror tables grow with ``P**2``).  Allocating first
ends in a ``MemoryError`` deep inside numpy, or in the kernel's OOM killer
taking the whole process.  Callers estimate what they are about to allocate
from the sizes alone and call :func:`check_fits` first.

This module sits in ``partitioning`` (the lowest layer) so that the
partitioner, the loaders and the engine can all use it.
"""

from __future__ import annotations

import os

#: Environment variable overriding the memory considered available (bytes);
#: lets tests and constrained deployments lower the limit.
LIMIT_ENV = "GASENGINE_MEMORY_LIMIT"


class InsufficientMemoryError(MemoryError):
    """An operation was refused because it would need more memory than is available.

    Attributes
    ----------
    needed, available : int
        The estimate and the memory available, in bytes.
    """

    def __init__(self, message: str, needed: int, available: int):
        self.needed = needed
        self.available = available
        super().__init__(message)


def available_memory() -> int:
    """Bytes of memory this process may still use.

    ``MemAvailable`` from ``/proc/meminfo`` on Linux (free memory plus what
    the kernel can reclaim), else physical memory; the environment variable
    :data:`LIMIT_ENV`, when set, takes precedence.

    Examples
    --------
    >>> available_memory() > 0
    True
    """
    override = os.environ.get(LIMIT_ENV)
    if override:
        return int(float(override))
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 1 << 62


def human_bytes(n: float) -> str:
    """``n`` bytes in the largest binary unit below it.

    Examples
    --------
    >>> human_bytes(3 * 2**30)
    '3.0 GiB'
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def check_fits(needed: float, what: str) -> None:
    """Raise :class:`InsufficientMemoryError` if ``needed`` bytes exceed what is available.

    Parameters
    ----------
    needed : float
        Estimated bytes of the allocation about to be made.
    what : str
        What needs them, for the message (``"1000000000 parts"``).

    Examples
    --------
    >>> check_fits(1024, "a small table")
    >>> try:
    ...     check_fits(2**70, "a huge table")
    ... except InsufficientMemoryError as exc:
    ...     print(str(exc)[:44])
    a huge table needs about 1048576.0 PiB of me
    """
    available = available_memory()
    if needed > available:
        raise InsufficientMemoryError(
            f"{what} needs about {human_bytes(needed)} of memory, more than the "
            f"{human_bytes(available)} available; refusing before allocating it",
            int(needed),
            available,
        )
