"""Calling user code: every failure becomes an error naming the program and the method."""

from __future__ import annotations

import os
from typing import Any

from .aggregators import Aggregator
from .errors import ProgramError


def call_program(program: Any, method: str, *args: Any) -> Any:
    """Call ``program.method(*args)``; turn any failure into a ProgramError naming it.

    ``SystemExit`` is wrapped too (a program must not end the run silently);
    ``KeyboardInterrupt`` passes through.

    Examples
    --------
    >>> class P:
    ...     def apply(self, v): raise KeyError("x")
    >>> try:
    ...     call_program(P(), "apply", None)
    ... except ProgramError as exc:
    ...     print(exc)
    P.apply: KeyError: 'x'
    """
    try:
        return getattr(program, method)(*args)
    except (ProgramError, KeyboardInterrupt):
        raise
    except BaseException as exc:
        hint = ""
        if "read-only" in str(exc):
            hint = " (fields read from a view are read-only: assign a new array, e.g. v.data['x'] = v.data['x'] + 1)"
        raise ProgramError(owner_name(program), method, f"{type(exc).__name__}: {exc}{hint}") from exc


def owner_name(obj: Any) -> Any:
    """What errors call ``obj``: ``Aggregator[name]`` for a sync operation, else the object."""
    return f"Aggregator[{obj.name}]" if isinstance(obj, Aggregator) else obj


def probe_empty(obj: Any, method: str, view: Any, what: str) -> Any:
    """Call ``obj.method`` on an empty batch to learn the shape of its values.

    A :class:`ProgramError` (a misspelt field, say) passes through as it is;
    any other failure is reported as itself, with a note on why the engine
    made this call.
    """
    try:
        return getattr(obj, method)(view)
    except (ProgramError, KeyboardInterrupt):
        raise
    except BaseException as exc:
        raise ProgramError(
            owner_name(obj),
            method,
            f"{type(exc).__name__}: {exc} (raised for an empty batch of 0 {what}: the engine calls "
            f"{method} once with no {what} to learn the shape of its values, so it must accept one)",
        ) from exc


def debug_default() -> bool:
    """Whether debug checks are on when ``run`` is not told: the ``GASENGINE_DEBUG`` variable."""
    return os.environ.get("GASENGINE_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")
