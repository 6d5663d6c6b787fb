"""Checking and normalising the edge lists, part counts and seeds given to strategies.

Every public entry point of the package passes its input through these
functions, so a bad argument gets one clear ``ValueError`` (or ``TypeError``
for a wrong kind of object) that names the argument, instead of a numpy
traceback from deep inside a kernel.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

#: Integer dtypes accepted for vertex ids without a copy.
_ID_DTYPES = (np.dtype(np.int32), np.dtype(np.int64))


def check_num_parts(num_parts: Any) -> int:
    """Return ``num_parts`` as an ``int``, or raise if it is not an integer >= 1.

    A number of parts larger than the number of edges is allowed: the extra
    parts simply receive no edges (they may still hold masters of isolated
    vertices).

    Parameters
    ----------
    num_parts : int
        The requested number of parts ``P``.

    Returns
    -------
    int
        ``P`` as a Python int.

    Raises
    ------
    ValueError
        If ``P`` is not an integer or is smaller than 1.

    Examples
    --------
    >>> check_num_parts(4)
    4
    >>> check_num_parts(0)
    Traceback (most recent call last):
    ...
    ValueError: num_parts must be an integer >= 1, got 0
    """
    if isinstance(num_parts, bool) or not isinstance(num_parts, numbers.Integral):
        raise ValueError(f"num_parts must be an integer >= 1, got {num_parts!r}")
    p = int(num_parts)
    if p < 1:
        raise ValueError(f"num_parts must be an integer >= 1, got {p}")
    if p > np.iinfo(np.int32).max:
        raise ValueError(f"num_parts must fit in int32, got {p}")
    return p


def part_dtype(num_parts: int) -> np.dtype:
    """The narrowest signed integer type that numbers ``num_parts`` parts.

    Edge assignments are as long as the edge list, so int8 (up to 128 parts)
    instead of int32 saves three bytes per edge for the whole run.

    Examples
    --------
    >>> part_dtype(8), part_dtype(200), part_dtype(40000)
    (dtype('int8'), dtype('int16'), dtype('int32'))
    """
    for dtype in (np.int8, np.int16):
        if num_parts - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int32)


def check_seed(seed: Any) -> int:
    """Return ``seed`` as an ``int``, or raise ``ValueError`` if it is not an integer.

    Examples
    --------
    >>> check_seed(7)
    7
    """
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return int(seed)


def check_edges(src: Any, dst: Any, num_vertices: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate an edge list and return it as int32/int64 arrays.

    Parameters
    ----------
    src, dst : array_like of int, shape (m,)
        Edge endpoints, vertex numbers in ``0..num_vertices-1``.  Float
        arrays are accepted only when every value is integral (as returned by
        ``np.loadtxt`` without ``dtype``).
    num_vertices : int
        Number of vertices ``n >= 0``.

    Returns
    -------
    src, dst : ndarray of int32 or int64
        The endpoints (no copy when already int32/int64 of equal dtype).
    n : int
        The number of vertices.

    Raises
    ------
    ValueError
        On mismatched lengths, non-1-D input, non-integer ids, negative
        ``num_vertices`` or ids outside ``0..n-1``; the message names the first
        offending edge.

    Examples
    --------
    >>> s, d, n = check_edges([0, 1], [1, 2], 3)
    >>> s.dtype.kind, n
    ('i', 3)
    >>> check_edges([0, 5], [1, 2], 3)
    Traceback (most recent call last):
    ...
    ValueError: src[1] = 5 is outside the vertex range 0..2
    """
    if isinstance(num_vertices, bool) or not isinstance(num_vertices, numbers.Integral):
        raise ValueError(f"num_vertices must be an integer >= 0, got {num_vertices!r}")
    n = int(num_vertices)
    if n < 0:
        raise ValueError(f"num_vertices must be an integer >= 0, got {n}")
    s = _as_ids(src, "src")
    d = _as_ids(dst, "dst")
    if s.shape != d.shape:
        raise ValueError(f"src and dst must have the same length, got {s.size} and {d.size}")
    if s.dtype != d.dtype:
        s, d = s.astype(np.int64, copy=False), d.astype(np.int64, copy=False)
    for name, arr in (("src", s), ("dst", d)):
        if arr.size and (int(arr.min()) < 0 or int(arr.max()) >= n):
            bad = int(np.flatnonzero((arr < 0) | (arr >= n))[0])
            hi = f"0..{n - 1}" if n else "(empty: num_vertices is 0)"
            raise ValueError(f"{name}[{bad}] = {int(arr[bad])} is outside the vertex range {hi}")
    return s, d, n


def _as_ids(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype in _ID_DTYPES:
        return arr
    if arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind in "iub":
        if arr.dtype.kind == "b":
            raise ValueError(f"{name} must hold integer vertex ids, got dtype bool")
        if arr.dtype.kind == "u" and arr.dtype.itemsize == 8 and int(arr.max()) > np.iinfo(np.int64).max:
            raise ValueError(f"{name} holds ids larger than int64")
        return arr.astype(np.int64)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            bad = int(np.flatnonzero(~np.isfinite(arr) | (arr != np.round(arr)))[0])
            raise ValueError(f"{name}[{bad}] = {arr[bad].item()!r} is not an integer vertex id")
        return arr.astype(np.int64)
    raise ValueError(f"{name} must hold integer vertex ids, got dtype {arr.dtype}")


def edges_of(obj: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Extract ``(src, dst, num_vertices)`` from a graph-like object and validate it.

    Parameters
    ----------
    obj : Graph, tuple or ndarray
        One of: an object with ``src``, ``dst`` and ``num_vertices``
        attributes (``gasengine.Graph``); a tuple ``(src, dst)`` or
        ``(src, dst, num_vertices)``; an integer array of shape ``(m, 2)``
        (an edge list as read by ``np.loadtxt``).  Without ``num_vertices``
        it is ``max(id) + 1`` (0 for no edges).

    Returns
    -------
    src, dst : ndarray
    num_vertices : int

    Examples
    --------
    >>> import numpy as np
    >>> s, d, n = edges_of(np.array([[0, 1], [1, 3]]))
    >>> s.tolist(), d.tolist(), n
    ([0, 1], [1, 3], 4)
    """
    if hasattr(obj, "src") and hasattr(obj, "dst"):
        n = getattr(obj, "num_vertices", None)
        s, d = np.asarray(obj.src), np.asarray(obj.dst)
    elif isinstance(obj, np.ndarray):
        if obj.ndim != 2 or obj.shape[1] != 2:
            raise ValueError(f"an edge array must have shape (m, 2), got {obj.shape}")
        s, d, n = obj[:, 0], obj[:, 1], None
    elif isinstance(obj, (tuple, list)) and len(obj) in (2, 3):
        s, d = np.asarray(obj[0]), np.asarray(obj[1])
        n = obj[2] if len(obj) == 3 else None
    else:
        raise TypeError(
            "expected a graph (with src, dst, num_vertices), a tuple (src, dst[, num_vertices]) "
            f"or an (m, 2) edge array, got {type(obj).__name__}"
        )
    if n is None:
        s, d = _as_ids(s, "src"), _as_ids(d, "dst")
        n = max(int(s.max(initial=-1)), int(d.max(initial=-1))) + 1
    return check_edges(s, d, n)


def degrees(src: np.ndarray, dst: np.ndarray, num_vertices: int) -> np.ndarray:
    """Total degree (in + out, self-loops counted twice) of every vertex.

    Examples
    --------
    >>> degrees(np.array([0, 0]), np.array([1, 2]), 4).tolist()
    [2, 1, 1, 0]
    """
    return np.bincount(src, minlength=num_vertices) + np.bincount(dst, minlength=num_vertices)
