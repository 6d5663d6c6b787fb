"""Compiled kernels that forked workers inherit instead of loading them again.

A worker forked by the multiprocess launcher starts with every compiled
kernel its driver has loaded; each other kernel it calls, it loads from
numba's on-disk cache (``cache=True``) on first use, about 7 ms apiece.
The driver of a run seldom calls the kernels of multi-part steps itself, so
every run's workers loaded them again: label propagation on two workers
loaded about 25 per worker and run, 0.17 s of each worker's 2 s.  Workers
therefore report the kernels they hold when they finish
(:func:`loaded_kernels`), and before the next run forks its workers the
driver loads those it lacks (:func:`load_kernels`), from the cache only,
once: from the second run of a process on, workers start with them.

A kernel is named by ``(module, function, signature)``, three strings, so a
report is plain data (see :mod:`gasengine.messages`).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from numba.core.dispatcher import Dispatcher

#: Packages whose compiled kernels are reported and loaded.
PACKAGES = frozenset({"gasengine", "algorithms", "partitioning"})

Kernel = tuple[str, str, str]


def loaded_kernels() -> set[Kernel]:
    """``(module, function, signature)`` of every compiled engine kernel loaded in this process.

    Examples
    --------
    >>> import numpy as np
    >>> from gasengine.kernels import sorted_distinct
    >>> _ = sorted_distinct(np.array([2, 0]), 3)
    >>> any(module == "gasengine.kernels" for module, _, _ in loaded_kernels())
    True
    """
    found = set()
    for name, function in _dispatchers():
        for sig in function.signatures:
            found.add((name, function.py_func.__name__, str(sig)))
    return found


def load_kernels(wanted: Iterable[Kernel]) -> int:
    """Load the kernels ``wanted`` that this process lacks, from numba's cache; returns how many.

    Only what the cache holds for this machine and the current source is
    loaded — nothing is compiled here — and anything else (a module not
    imported, a kernel gone, a cache in another format) is skipped: a
    worker still loads what it needs on its own.
    """
    by_function: dict[tuple[str, str], set[str]] = defaultdict(set)
    for module, function, sig in wanted:
        by_function[(module, function)].add(sig)
    count = 0
    for (module, name), sigs in by_function.items():
        found = getattr(sys.modules.get(module), name, None)
        if isinstance(found, Dispatcher):
            count += _load_cached(found, sigs - {str(s) for s in found.signatures})
    return count


def _dispatchers() -> list[tuple[str, Dispatcher]]:
    """``(module name, dispatcher)`` of every kernel defined in an imported engine module.

    Found once for a set of imported modules (a scan of every module's names
    costs milliseconds, a worker's whole run on a small graph is tens), and
    found again when a module has been imported since; a driver that has
    found them before forking hands the list to its workers.
    """
    if _FOUND[0] != len(sys.modules):
        found = []
        for name, module in list(sys.modules.items()):
            if module is None or name.partition(".")[0] not in PACKAGES:
                continue
            for value in list(vars(module).values()):
                if isinstance(value, Dispatcher) and value.py_func.__module__ == name:
                    found.append((name, value))
        _FOUND[:] = [len(sys.modules), found]
    return _FOUND[1]


#: ``[number of imported modules when last scanned, what the scan found]``.
_FOUND: list[Any] = [-1, []]


def _load_cached(function: Any, sigs: set[str]) -> int:
    """Load the overloads of ``function`` named in ``sigs`` that its cache holds as they are now."""
    if not sigs:
        return 0
    try:  # numba's cache internals (0.5x-0.6x): the index maps (signature, machine, source) to a file
        cache = function._cache
        index = cache._cache_file._load_index()
        codegen = function.targetctx.codegen()
        keys = [key for key in index if str(key[0]) in sigs and key == cache._index_key(key[0], codegen)]
    except Exception:  # noqa: BLE001 - another numba, no cache: the workers load on their own
        return 0
    count = 0
    for key in keys:
        try:
            function.compile(key[0])  # found in the cache: loaded, not compiled
            count += 1
        except Exception:  # noqa: BLE001 - a bad entry: the worker meets it on its own
            continue
    return count
