"""What travels between a run's processes, and the one unpickler that reads it.

Worker processes (multiprocess and MPI backends) and the driver exchange
*messages*: notes saying where arrays sit in shared memory, partial gathers,
aggregator partials, signals, statistics, a worker's outcome or failure
report.  They are pickled (plain :mod:`pickle`, protocol 5, so that arrays
can travel out of band), but read back only by :class:`MessageUnpickler`,
which refuses every global outside a fixed list: plain Python data, numpy
arrays, scalars and dtypes, and the engine's own message classes
(:data:`ENGINE_TYPES`).  No function, no program, no other class is ever
built from a message, so a process that can write into a run's pipes or
buffers cannot make another one run code.

The one exception is the vertex program itself (with its aggregators and
engine options), which reaches a worker when it starts: with ``fork`` the
worker inherits it, otherwise (``spawn``, MPI) it is unpickled with ``dill``
by :mod:`gasengine.launcher`'s callers, once, from the process that started
the run.

Examples
--------
>>> import numpy as np
>>> loads(dumps({"x": np.arange(3), "n": 2}))["x"].tolist()
[0, 1, 2]
>>> loads(b"cos\\nsystem\\n(S'echo hi'\\ntR.")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
gasengine.messages.MessageRefused: a message asked for os.system, which gasengine never unpickles ...
"""

from __future__ import annotations

import functools
import importlib
import io
import pickle
from collections.abc import Callable
from typing import Any

from .errors import GasEngineError

#: Protocol of every message: 5, for out-of-band buffers.
PROTOCOL = 5

#: Python's own data types that pickle reaches by name (lists, dicts, sets, bytes, ... have opcodes).
BUILTINS = frozenset({"complex", "slice", "range", "bytearray", "frozenset", "set", "object"})

#: What numpy pickles arrays, scalars and dtypes with, under any of its module names (1.x and 2.x).
NUMPY_NAMES = frozenset({"dtype", "ndarray", "_reconstruct", "scalar", "_frombuffer"})
NUMPY_MODULES = frozenset(
    {"numpy", "numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric", "numpy._core.numeric"}
)

#: The engine's classes that travel in messages: ``(module, name)``.
ENGINE_TYPES = frozenset(
    {
        ("gasengine.shm", "ArrayRef"),
        ("gasengine.shm", "Inline"),
        ("gasengine.shm", "ArraySpec"),
        ("gasengine.shm", "Packed"),
        ("gasengine.accumulators", "KeyCounts"),
        ("gasengine.ragged", "Ragged"),
        ("gasengine.launcher", "WorkerOutcome"),
        ("gasengine.launcher", "FailureReport"),
        ("gasengine.result", "StepStats"),
    }
)


class MessageRefused(GasEngineError, pickle.UnpicklingError):
    """A message asked for something gasengine does not build from another process's bytes."""


class MessageUnpickler(pickle.Unpickler):
    """An unpickler that builds only data: see the module's docstring for what it allows.

    Examples
    --------
    >>> import io
    >>> MessageUnpickler(io.BytesIO(dumps((1, "a", 2.5)))).load()
    (1, 'a', 2.5)
    """

    def find_class(self, module: str, name: str) -> Any:
        found = _allowed(module, name)
        if found is None:
            raise MessageRefused(
                f"a message asked for {module}.{name}, which gasengine never unpickles from another process "
                "(messages carry only numbers, strings, containers, numpy arrays and the engine's own message types)"
            )
        return found


@functools.cache  # every message looks its few names up again
def _allowed(module: str, name: str) -> Any:
    """The object ``module.name`` if messages may hold it, else None."""
    if module == "builtins":
        ok = name in BUILTINS
    elif module == "copyreg":
        ok = name == "_reconstructor"  # protocol 0/1 form of an object; its class is looked up here too
    elif module in NUMPY_MODULES:
        ok = name in NUMPY_NAMES
    else:
        ok = (module, name) in ENGINE_TYPES
    if not ok:
        return None
    found = getattr(importlib.import_module(module), name, None)
    # numpy's and copyreg's names are their own rebuilding functions; everything else must be a class
    if found is None or not (isinstance(found, type) or module in NUMPY_MODULES or module == "copyreg"):
        return None
    return found


#: What pickle raises for an object it cannot write (a lambda, a local class).
PICKLING_ERRORS = (pickle.PicklingError, AttributeError, TypeError)


def dumps(obj: Any, buffer_callback: Callable[[pickle.PickleBuffer], Any] | None = None) -> bytes:
    """Pickle a message (protocol 5; arrays out of band when ``buffer_callback`` is given).

    Raises
    ------
    MessageRefused
        If ``obj`` holds something plain pickle cannot write (a lambda, a
        class defined inside a function): such things never travel as messages.
    """
    try:
        return pickle.dumps(obj, protocol=PROTOCOL, buffer_callback=buffer_callback)
    except PICKLING_ERRORS as exc:
        raise cannot_send(obj, exc) from None


def cannot_send(obj: Any, exc: BaseException) -> MessageRefused:
    """The error for a message ``obj`` that plain pickle could not write (``exc``)."""
    return MessageRefused(
        f"cannot send a {type(obj).__name__} between processes: {exc} "
        "(messages carry only numbers, strings, containers, numpy arrays and the engine's own message types)"
    )


def loads(data: bytes | memoryview, buffers: Any = None) -> Any:
    """Read a message written by :func:`dumps` (``buffers``: its out-of-band buffers, in order)."""
    return MessageUnpickler(io.BytesIO(data), buffers=buffers).load()
