"""Reading graph files: SNAP edge lists, CSV/TSV, Matrix Market, DIMACS, Parquet and Arrow IPC.

The text formats are parsed by one compiled byte scanner (numba) that reads the
whole file as bytes, keeps only the requested columns and stops at the first bad
line with its line number, so the success path never runs Python per line.  It
takes about half the time of ``pandas.read_csv`` on the same file (see
``benchmarks/load.py``); only error messages are built in Python.  Matrix
Market goes through :func:`scipy.io.mmread`; Parquet and Arrow IPC (Feather)
edge tables through pyarrow, the optional extra ``arrow`` (see
:func:`gasengine.frames.read_edge_table`).

Vertex ids in the file are arbitrary 64-bit integers; by default they are
compacted to ``0..n-1`` in increasing id order and kept in ``Graph.ids``.  A
third numeric column is the edge weight unless ``columns`` says otherwise (see
:func:`load_graph`).

Before reading, the path is checked to be a regular, readable, uncompressed
file, and every size a header declares (or a large id implies) is checked
against the memory available (:func:`partitioning.memory.check_fits`), so
that bad input ends in a clear error rather than a blocked read, a numpy
traceback or an allocation the machine cannot make.
"""

from __future__ import annotations

import difflib
import errno
import math
import os
import re
import stat
from pathlib import Path
from typing import Any, NamedTuple

import numba
import numpy as np

from partitioning.memory import InsufficientMemoryError, check_fits

from .errors import GraphFormatError
from .graph import Graph, exact_int64, index_dtype

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "RATING_FORMATS",
    "RatingColumns",
    "infer_format",
    "load_graph",
    "read_rating_columns",
]

#: Accepted values of ``format``.
FORMATS: tuple[str, ...] = ("edgelist", "csv", "tsv", "mtx", "dimacs", "parquet", "arrow")

#: File extension -> format used when ``format=None``.
EXTENSIONS: dict[str, str] = {
    ".txt": "edgelist",
    ".edges": "edgelist",
    ".el": "edgelist",
    ".cedge": "edgelist",
    ".csv": "csv",
    ".tsv": "tsv",
    ".mtx": "mtx",
    ".gr": "dimacs",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
}

# Ids are parsed into int64: every id in -_ID_MAX.._ID_MAX is accepted (the
# range is symmetric so that a sign and a magnitude describe every id), and
# larger ones are rejected instead of silently wrapping around.
_ID_MAX = 2**63 - 1
# Up to 18 digits can never overflow int64, so the scanner's fast path takes
# them without checks; longer tokens go through the overflow-safe _parse_int.
_FAST_ID_DIGITS = 18

# Status codes returned by the scanner (0 = success).
_OK, _FEW_COLUMNS, _ID_NOT_NUMBER, _ID_NOT_INTEGER, _ID_TOO_BIG = 0, 1, 2, 3, 4
_ID_OUT_OF_RANGE, _EMPTY_FIELD, _BAD_TAG, _WEIGHT_NOT_NUMBER, _WEIGHT_NAN = 5, 6, 7, 8, 9
_TOO_WIDE = 10  # an id does not fit int32: scan again into int64 arrays

# Exact powers of ten: m * 10**e (or m / 10**-e) with m < 2**53 and |e| <= 22
# is a single correctly rounded IEEE operation (Clinger's fast path).
_POW10 = np.array([10.0**k for k in range(23)])
_MANTISSA_LIMIT = 2**53


# --------------------------------------------------------------------- scanner
@numba.njit(cache=True, nogil=True)
def _count_lines(buf: np.ndarray, start: int) -> tuple[int, int]:
    """Upper bound on the records in ``buf[start:]`` (newlines + 1), and the number of carriage returns.

    Both counts are branch-free, so the pass stays as fast as counting newlines alone.
    """
    n = 1
    crs = 0
    for i in range(start, buf.size):
        c = buf[i]
        n += c == 10
        crs += c == 13
    return n, crs


@numba.njit(cache=True, nogil=True)
def _first_stray_cr(buf: np.ndarray, start: int, crs: int) -> int:
    """Offset of the first of the ``crs`` carriage returns that ends neither a CRLF nor the file (-1: none).

    Only files that hold carriage returns pay for this pass.
    """
    last = buf.size - 1
    fine = 0
    for i in range(start, last):
        fine += (buf[i] == 13) & (buf[i + 1] == 10)
    if last >= start and buf[last] == 13:
        fine += 1
    if fine == crs:
        return -1
    for i in range(start, last):
        if buf[i] == 13 and buf[i + 1] != 10:
            return i
    return -1


def _line_capacity(path: str, buf: np.ndarray, start: int) -> tuple[int, GraphFormatError | None]:
    """Upper bound on the records in ``buf[start:]``, and the error for a carriage return inside a line.

    The scanners treat a CR as a blank (it ends CRLF lines), so in a file
    whose lines end in CR alone (old Mac OS) every line would run into the
    next: ``1 2\\r3 4\\r`` would be the one edge 1 -> 2 of weight 3.  The
    error is returned, not raised: :func:`_first_error` decides whether an
    earlier line is bad too.
    """
    cap, crs = _count_lines(buf, start)
    if crs:
        at = _first_stray_cr(buf, start, crs)
        if at >= 0:
            return cap, GraphFormatError(
                "a carriage return (\\r) inside a line: lines must end in LF or CRLF "
                "(if the file ends its lines in CR alone, as old Mac OS did, convert it: tr '\\r' '\\n')",
                path=path,
                line=int(np.count_nonzero(buf[:at] == 10)) + 1,
            )
    return cap, None


def _first_error(found: GraphFormatError | None, stray_cr: GraphFormatError | None) -> GraphFormatError | None:
    """Of an error the reading found and the stray-CR error, the one to report: the earlier line.

    The lines before a stray CR read as they are, so an error on one of them
    stands; from the CR's line on, whatever the reading made of the rest
    (an empty file, a bad field) is a consequence of the CR.
    """
    if stray_cr is None or (found is not None and found.line is not None and found.line < stray_cr.line):
        return found
    return stray_cr


@numba.njit(cache=True, inline="always")
def _is_blank(c: int) -> bool:
    """Space, tab, CR, VT or FF -- never the newline, which ends the record."""
    return c == 32 or c == 9 or c == 13 or c == 11 or c == 12


@numba.njit(cache=True)
def _parse_int(buf: np.ndarray, ts: int, te: int) -> tuple[int, int]:
    """(value, status) of an integer token ``buf[ts:te]``; ``1.0`` counts as 1.

    Magnitudes above ``_ID_MAX`` give ``_ID_TOO_BIG``: the accumulation checks
    before every step that it cannot overflow (leading zeros are fine).
    """
    p = ts
    neg = False
    if p < te and (buf[p] == 45 or buf[p] == 43):  # '-' / '+'
        neg = buf[p] == 45
        p += 1
    value = 0
    ndigits = 0
    overflow = False
    while p < te and 48 <= buf[p] <= 57:
        d = buf[p] - 48
        if value > (_ID_MAX - d) // 10:
            overflow = True  # sticky; keep reading to classify the token
        else:
            value = value * 10 + d
        ndigits += 1
        p += 1
    if p < te and buf[p] == 46:  # '.': accept only an all-zero fraction
        q = p + 1
        while q < te and buf[q] == 48:
            q += 1
        if q == te and (ndigits > 0 or q > p + 1):
            p = te
    if p == te and ndigits > 0:
        if overflow:
            return 0, _ID_TOO_BIG
        return (-value if neg else value), _OK
    # Tell "1.5" / "2e3" (a number, but not an integer) from "abc".
    has_digit = ndigits > 0
    for q in range(ts, te):
        c = buf[q]
        if 48 <= c <= 57:
            has_digit = True
        elif not (c == 43 or c == 45 or c == 46 or c == 101 or c == 69):
            return 0, _ID_NOT_NUMBER
    return 0, (_ID_NOT_INTEGER if has_digit else _ID_NOT_NUMBER)


@numba.njit(cache=True)
def _starts_with_word(buf: np.ndarray, p: int, te: int, word: bytes) -> bool:
    """Whether ``buf[p:te]`` starts with the lower-case ``word`` in any case."""
    if te - p < len(word):
        return False
    for k in range(len(word)):
        c = buf[p + k]
        if 65 <= c <= 90:
            c += 32
        if c != word[k]:
            return False
    return True


def _powers_of_ten_128() -> tuple[np.ndarray, np.ndarray]:
    """128-bit mantissas (rounded down, top bit set) of 10**e for e in -348..347.

    The table of the Eisel-Lemire algorithm (as in Go's strconv and Wuffs),
    computed exactly with Python integers; returned as (low, high) uint64 halves.
    """
    lo, hi = [], []
    for e in range(_EL_MIN_EXP10, _EL_MAX_EXP10 + 1):
        if e >= 0:
            p = 5**e
            shift = p.bit_length() - 128
            m = p >> shift if shift >= 0 else p << -shift
        else:
            q = 5**-e
            m = (1 << (q.bit_length() + 127)) // q
        hi.append(m >> 64)
        lo.append(m & (2**64 - 1))
    return np.array(lo, dtype=np.uint64), np.array(hi, dtype=np.uint64)


_EL_MIN_EXP10, _EL_MAX_EXP10 = -348, 347
_POW10_LO, _POW10_HI = _powers_of_ten_128()


@numba.njit(cache=True, inline="always")
def _mul64(a: np.uint64, b: np.uint64) -> tuple[np.uint64, np.uint64]:
    """Full 128-bit product of two uint64 as (high, low)."""
    m32 = np.uint64(0xFFFFFFFF)
    s32 = np.uint64(32)
    a_lo, a_hi = a & m32, a >> s32
    b_lo, b_hi = b & m32, b >> s32
    p0, p1, p2, p3 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    mid = (p0 >> s32) + (p1 & m32) + (p2 & m32)
    return p3 + (p1 >> s32) + (p2 >> s32) + (mid >> s32), (mid << s32) | (p0 & m32)


@numba.njit(cache=True)
def _eisel_lemire(man: np.uint64, exp10: int) -> tuple[float, bool]:
    """Correctly rounded ``man * 10**exp10`` (man > 0), or ``ok=False``.

    Eisel-Lemire (Lemire, "Number parsing at a gigabyte per second", 2021),
    following Go's strconv.eiselLemire64.  It declines (rather than guess) on
    the rare halfway-ambiguous inputs and on subnormal/overflowing results.
    """
    if exp10 < _EL_MIN_EXP10 or exp10 > _EL_MAX_EXP10:
        return 0.0, False
    one = np.uint64(1)
    mask9 = np.uint64(0x1FF)
    clz = 0  # normalise: shift the top set bit to bit 63
    for width in (32, 16, 8, 4, 2, 1):
        if man >> np.uint64(64 - width) == 0:
            man = man << np.uint64(width)
            clz += width
    exp2 = ((217706 * exp10) >> 16) + 64 + 1023 - clz
    x_hi, x_lo = _mul64(man, _POW10_HI[exp10 - _EL_MIN_EXP10])
    if (x_hi & mask9) == mask9 and x_lo + man < man:  # wider approximation
        y_hi, y_lo = _mul64(man, _POW10_LO[exp10 - _EL_MIN_EXP10])
        merged_hi, merged_lo = x_hi, x_lo + y_hi
        if merged_lo < x_lo:
            merged_hi += one
        if (merged_hi & mask9) == mask9 and merged_lo + one == 0 and y_lo + man < man:
            return 0.0, False
        x_hi, x_lo = merged_hi, merged_lo
    msb = x_hi >> np.uint64(63)
    mant = x_hi >> (msb + np.uint64(9))
    exp2 -= 1 - int(msb)
    if x_lo == 0 and (x_hi & mask9) == 0 and (mant & np.uint64(3)) == one:
        return 0.0, False  # exactly halfway: needs the slow path
    mant += mant & one
    mant >>= one
    if mant >> np.uint64(53) > 0:
        mant >>= one
        exp2 += 1
    if exp2 <= 0 or exp2 >= 0x7FF:
        return 0.0, False  # subnormal or infinite
    return math.ldexp(float(mant), exp2 - 1075), True


@numba.njit(cache=True)
def _parse_float(buf: np.ndarray, ts: int, te: int) -> tuple[float, int, int]:
    """Parse the number starting at ``buf[ts]``, reading at most up to ``te``.

    Returns ``(value, kind, end)``: kind 0 parsed exactly, 1 valid but needs
    the slow path, 2 not a number, 3 NaN; ``end`` is where the number stops,
    so the token is a number only if ``end`` is the token's end.
    """
    p = ts
    neg = False
    if p < te and (buf[p] == 45 or buf[p] == 43):
        neg = buf[p] == 45
        p += 1
    mant = 0
    sig = 0  # significant digits accumulated in mant
    exp10 = 0
    ndigits = 0
    while p < te and 48 <= buf[p] <= 57:
        d = buf[p] - 48
        if sig < 18:
            if mant > 0 or d > 0:
                sig += 1
            mant = mant * 10 + d
        else:
            exp10 += 1  # digit dropped: exact only via the slow path
            sig += 1
        ndigits += 1
        p += 1
    if p < te and buf[p] == 46:
        p += 1
        while p < te and 48 <= buf[p] <= 57:
            d = buf[p] - 48
            if sig < 18:
                if mant > 0 or d > 0:
                    sig += 1
                mant = mant * 10 + d
                exp10 -= 1
            else:
                sig += 1
            ndigits += 1
            p += 1
    if ndigits == 0:
        if _starts_with_word(buf, p, te, b"nan"):
            return np.nan, 3, p + 3
        for word in (b"infinity", b"inf"):
            if _starts_with_word(buf, p, te, word):
                return (-np.inf if neg else np.inf), 0, p + len(word)
        return 0.0, 2, p
    if p < te and (buf[p] == 101 or buf[p] == 69):  # exponent
        p += 1
        eneg = False
        if p < te and (buf[p] == 45 or buf[p] == 43):
            eneg = buf[p] == 45
            p += 1
        e = 0
        edigits = 0
        while p < te and 48 <= buf[p] <= 57:
            if e < 100000:
                e = e * 10 + (buf[p] - 48)
            edigits += 1
            p += 1
        if edigits == 0:
            return 0.0, 2, p
        exp10 += -e if eneg else e
    if mant == 0:
        return (-0.0 if neg else 0.0), 0, p
    if sig > 18:  # digits were dropped: only the slow path is exact
        return 0.0, 1, p
    while exp10 < 0 and mant % 10 == 0:  # "12.50" is 125e-1: keeps 1.0-style
        mant //= 10  # tokens on the exact fast path
        exp10 += 1
    if mant <= _MANTISSA_LIMIT and -22 <= exp10 <= 22:
        value = float(mant)  # Clinger's fast path: one exact IEEE operation
        if exp10 >= 0:
            value *= _POW10[exp10]
        else:
            value /= _POW10[-exp10]
    else:
        value, ok = _eisel_lemire(np.uint64(mant), exp10)
        if not ok:
            return 0.0, 1, p
    return (-value if neg else value), 0, p


@numba.njit(cache=True, inline="always")  # the weight of every edge: no call in the scan's loop
def _number_field(
    buf: np.ndarray, p: int, ts: int, n: int, whitespace: bool, delim: int, comment: int
) -> tuple[float, int, int, int, int, int]:
    """The number at ``p`` (its token starts at ``ts``): ``(value, kind, p after, ts, te, status)``.

    Fast path: parsed straight from the buffer in one pass; otherwise the
    token is found first and exactly its bytes parsed (``kind`` as
    :func:`_parse_float` says; 1 asks for the exact parse after the scan).
    Shared by the edge-list scanner (weights) and the ratings scanner.
    """
    w, kind, q = _parse_float(buf, p, n)
    if q > p and kind <= 1 and (q == n or _ends_token(buf[q], whitespace, delim, comment)):
        return w, kind, q, ts, q, _OK
    p, ts, te = _token_at(buf, ts, n, whitespace, delim, comment)
    if ts == te:
        return w, kind, p, ts, te, _EMPTY_FIELD
    w, kind, q = _parse_float(buf, ts, te)
    if kind == 3 and q == te:
        return w, kind, p, ts, te, _WEIGHT_NAN
    if kind == 2 or q != te:
        return w, kind, p, ts, te, _WEIGHT_NOT_NUMBER
    return w, kind, p, ts, te, _OK


@numba.njit(cache=True)
def _note_slow(
    slow_rec: np.ndarray, slow_ts: np.ndarray, slow_te: np.ndarray, nslow: int, rec: int, ts: int, te: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Remember record ``rec``'s token ``[ts, te)`` for the exact parse after the scan (growing the lists)."""
    if nslow == slow_rec.size:
        slow_rec, slow_ts, slow_te = _grow(slow_rec), _grow(slow_ts), _grow(slow_te)
    slow_rec[nslow], slow_ts[nslow], slow_te[nslow] = rec, ts, te
    return slow_rec, slow_ts, slow_te, nslow + 1


@numba.njit(cache=True)
def _grow(a: np.ndarray) -> np.ndarray:
    """``a`` copied into an array twice as long."""
    b = np.empty(a.size * 2, a.dtype)
    b[: a.size] = a
    return b


@numba.njit(cache=True, inline="always")
def _ends_token(c: int, whitespace: bool, delim: int, comment: int) -> bool:
    """Whether byte ``c`` ends a token (a separator, the newline or a comment)."""
    if c == 10 or (comment != 0 and c == comment):
        return True
    return _is_blank(c) if whitespace else (c == delim or c == 13)


@numba.njit(cache=True, inline="always")
def _token_at(buf: np.ndarray, ts: int, n: int, whitespace: bool, delim: int, comment: int) -> tuple[int, int, int]:
    """The token starting at ``ts``: ``(end of field, first byte, end)`` with blanks trimmed."""
    p = ts
    while p < n and not _ends_token(buf[p], whitespace, delim, comment):
        p += 1
    te = p
    while te > ts and _is_blank(buf[te - 1]):
        te -= 1
    while ts < te and _is_blank(buf[ts]):
        ts += 1
    return p, ts, te


@numba.njit(cache=True, inline="always")
def _record_start(buf, pos, n, line, whitespace, delim, comment, header_pending):
    """Skip blank, comment and (pending) header lines, starting with the line at ``pos``.

    Returns ``(p, pos, line, header_pending)``: ``p`` is the first byte of the
    next record (``n`` when the buffer ends first), ``pos`` the start of its
    line and ``line`` its 1-based number.
    """
    while pos < n:
        line += 1
        p = pos
        # leading blanks (but a leading tab is an empty first field in TSV)
        while p < n and _is_blank(buf[p]) and (whitespace or buf[p] != delim):
            p += 1
        if p >= n:
            break
        c = buf[p]
        is_comment = comment != 0 and c == comment
        if c == 10 or is_comment or header_pending:
            if c != 10 and not is_comment:
                header_pending = False
            while p < n and buf[p] != 10:
                p += 1
            pos = p + 1
            continue
        return p, pos, line, header_pending
    return n, pos, line, header_pending


@numba.njit(cache=True, inline="always")
def _next_token(buf, p, n, whitespace, delim, comment):
    """Move from the end of a token to the next one of the record: ``(p, more)``;
    ``more`` is False at the end of the line or at a comment."""
    if whitespace:
        while p < n and _is_blank(buf[p]):
            p += 1
        return p, not (p >= n or buf[p] == 10 or (comment != 0 and buf[p] == comment))
    while p < n and _is_blank(buf[p]) and buf[p] != delim:
        p += 1
    if p < n and buf[p] == delim:
        return p + 1, True
    return p, False


@numba.njit(cache=True, nogil=True)
def _scan(
    buf,
    start,
    line0,
    whitespace,
    delim,
    comment,
    tag,
    skip_header,
    c_src,
    c_dst,
    c_w,
    id_lo,
    id_hi,
    out_src,
    out_dst,
    out_w,
):
    """Parse records from ``buf[start:]`` into the ``out_*`` arrays.

    ``comment`` (0 for none) starts a comment anywhere on a line; ``tag``
    (0 for none) must be the whole first token of every record.  Ids outside
    ``id_lo..id_hi`` are an error; ids that do not fit the dtype of ``out_src``
    stop the scan with status ``_TOO_WIDE`` so the caller can retry with int64.

    Returns ``(records, status, line, token_start, token_end, column, min_id,
    max_id, max_id_line, slow_records, slow_starts, slow_ends)``; on a bad line ``status``
    is non-zero, ``line`` is its 1-based number and the token (or, for too few
    columns, the line) is ``buf[token_start:token_end]``.  Weight tokens that
    are valid but outside the exact fast path are listed as slow (record
    number, token bounds) for :func:`_slow_weights`.
    """
    n = buf.size
    need = max(c_src, c_dst, c_w) + 1
    store_lo = max(id_lo, np.iinfo(out_src.dtype).min)
    store_hi = min(id_hi, np.iinfo(out_src.dtype).max)
    slow_rec = np.empty(16, np.int64)
    slow_ts = np.empty(16, np.int64)
    slow_te = np.empty(16, np.int64)
    nslow = 0
    lo = id_hi
    hi = id_lo
    hi_line = 0  # the line holding the largest id (named if it needs too much memory)
    rec = 0
    line = line0
    pos = start
    header_pending = skip_header
    status = _OK
    ts = te = col = 0
    while True:
        p, pos, line, header_pending = _record_start(buf, pos, n, line, whitespace, delim, comment, header_pending)
        if p >= n:
            break
        col = 0
        while True:
            # one token [ts, te) of column `col`
            ts = p
            if col == c_src or col == c_dst:
                # fast path: plain digits straight into the value, one pass
                v = 0
                while p < n and 48 <= buf[p] <= 57:
                    v = v * 10 + (buf[p] - 48)
                    p += 1
                if (
                    p == ts
                    or p - ts > _FAST_ID_DIGITS
                    or (p < n and not _ends_token(buf[p], whitespace, delim, comment))
                ):
                    # anything else: find the token, then the full parser
                    p, ts, te = _token_at(buf, ts, n, whitespace, delim, comment)
                    if ts == te:
                        status = _EMPTY_FIELD
                        break
                    v, status = _parse_int(buf, ts, te)
                    if status != _OK:
                        break
                else:
                    te = p
                if v < store_lo or v > store_hi:
                    status = _ID_OUT_OF_RANGE if (v < id_lo or v > id_hi) else _TOO_WIDE
                    break
                if col == c_src:
                    out_src[rec] = v
                else:
                    out_dst[rec] = v
                if v < lo:
                    lo = v
                if v > hi:
                    hi = v
                    hi_line = line
            elif col == c_w:
                w, kind, p, ts, te, status = _number_field(buf, p, ts, n, whitespace, delim, comment)
                if status != _OK:
                    break
                if kind == 1:
                    slow_rec, slow_ts, slow_te, nslow = _note_slow(slow_rec, slow_ts, slow_te, nslow, rec, ts, te)
                out_w[rec] = w
            else:
                p, ts, te = _token_at(buf, ts, n, whitespace, delim, comment)
                if col == 0 and tag != 0 and not (te == ts + 1 and buf[ts] == tag):
                    status = _BAD_TAG
                    break
            col += 1
            if col >= need:
                break
            p, more = _next_token(buf, p, n, whitespace, delim, comment)
            if not more:
                break
        if status != _OK:
            break
        if col < need:
            status = _FEW_COLUMNS
            ts, te = pos, p
            break
        rec += 1
        while p < n and buf[p] != 10:  # extra columns are ignored
            p += 1
        pos = p + 1
    return (rec, status, line, ts, te, col, lo, hi, hi_line, slow_rec[:nslow], slow_ts[:nslow], slow_te[:nslow])


@numba.njit(cache=True)
def _gather_tokens(buf: np.ndarray, ts: np.ndarray, te: np.ndarray, width: int) -> np.ndarray:
    """Tokens ``buf[ts[i]:te[i]]`` as rows of a zero-padded ``(k, width)`` array."""
    out = np.zeros((ts.size, width), np.uint8)
    for i in range(ts.size):
        for k in range(te[i] - ts[i]):
            out[i, k] = buf[ts[i] + k]
    return out


def _slow_weights(buf: np.ndarray, ts: np.ndarray, te: np.ndarray) -> np.ndarray:
    """Correctly rounded values of long weight tokens, vectorised.

    numpy's bytes -> float64 cast uses the C library's strtod, which rounds
    correctly; the scanner already checked the tokens' syntax.
    """
    width = int((te - ts).max())
    raw = _gather_tokens(buf, ts, te, width)
    with np.errstate(over="ignore"):  # "1e999" is inf, as float() says
        return raw.view(f"S{width}").ravel().astype(np.float64)


@numba.njit(cache=True)
def _first_record(
    buf: np.ndarray,
    start: int,
    whitespace: bool,
    delim: int,
    comment: int,
    skip_header: bool,
    max_cols: int,
) -> tuple[int, int, np.ndarray, np.ndarray]:
    """The first data record of ``buf[start:]``, split as :func:`_scan` splits it.

    Returns ``(line, columns, token_starts, token_ends)`` for at most
    ``max_cols`` columns; ``line`` is 0 when there is no record.  Only the
    lines before the record are visited, so the cost does not grow with the
    file.
    """
    n = buf.size
    ts_out = np.zeros(max_cols, np.int64)
    te_out = np.zeros(max_cols, np.int64)
    line = 0
    pos = start
    header_pending = skip_header
    p, pos, line, header_pending = _record_start(buf, pos, n, line, whitespace, delim, comment, header_pending)
    if p >= n:
        return 0, 0, ts_out, te_out
    col = 0
    while col < max_cols:
        p, ts, te = _token_at(buf, p, n, whitespace, delim, comment)
        ts_out[col] = ts
        te_out[col] = te
        col += 1
        p, more = _next_token(buf, p, n, whitespace, delim, comment)
        if not more:
            break
    return line, col, ts_out, te_out


# ------------------------------------------------------------------ public API
def infer_format(path: str | os.PathLike[str]) -> str:
    """The format implied by a file name's extension.

    Examples
    --------
    >>> infer_format("data/Wiki-Vote.txt"), infer_format("rome99.gr")
    ('edgelist', 'dimacs')
    """
    suffix = Path(path).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    known = ", ".join(f"{ext} ({fmt})" for ext, fmt in EXTENSIONS.items())
    raise GraphFormatError(
        f"cannot infer the format from the extension {suffix or '(none)'!r}; "
        f"pass format= one of {', '.join(FORMATS)} (known extensions: {known})",
        path=str(path),
    )


def load_graph(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    columns: tuple[int | str, ...] | None = None,
    comment: str = "#",
    header: bool = False,
    undirected: bool = False,
    relabel: bool = True,
) -> Graph:
    """Read a graph file into a :class:`~gasengine.graph.Graph`.

    Parameters
    ----------
    path : str or path-like
        The file to read: a regular, readable, uncompressed file.
    format : {"edgelist", "csv", "tsv", "mtx", "dimacs", "parquet", "arrow"}, optional
        ``edgelist``: whitespace-separated columns (tabs and/or spaces, SNAP
        style).  ``csv`` / ``tsv``: fields split at every ``,`` / tab,
        surrounding blanks stripped, no quoting.  In these three, blank lines
        are skipped and ``comment`` ends a line's content wherever it appears.
        ``mtx``: Matrix Market through :func:`scipy.io.mmread`; symmetric
        files give both directions, values become the edge field
        ``"weight"`` (none for ``pattern``), a dense ``array`` file gives its
        non-zeros.  ``dimacs``: 9th DIMACS ``.gr`` (``c`` comments,
        ``p sp n m``, ``a u v w`` arcs; ``w`` becomes ``"weight"``; the arc
        count must match ``m``).  ``parquet`` / ``arrow``: an edge table
        (Arrow IPC file or stream, Feather) read through pyarrow (``pip
        install 'gasengine[arrow]'``), one edge per row; ids may be integers
        or strings.  Inferred from the extension when omitted
        (see :data:`EXTENSIONS`).  All text formats accept LF or CRLF line
        endings, a UTF-8 byte-order mark and a missing final newline; a
        carriage return anywhere else (a file of old Mac OS line endings)
        is an error naming its line.  See ``docs/loading.md`` for what the
        loaders guarantee on hostile input.
    columns : tuple of int, optional
        ``(src_col, dst_col)`` or ``(src_col, dst_col, weight_col)``, 0-based,
        for edgelist/csv/tsv; the weight becomes the float64 edge field
        ``"weight"``, and columns not named are ignored.  By default
        (``None``) the columns are decided from the first data record, as
        networkx's ``read_weighted_edgelist`` reads ``u v weight`` lines: if
        it has a third column that is a number, the columns are ``(0, 1, 2)``;
        otherwise ``(0, 1)`` and any further columns are ignored.  Once a
        weight column is chosen, every record must have a number there (a
        missing column, a non-number or NaN is an error naming its line), as
        with explicit ``columns=(0, 1, 2)``.  A ``.cedge`` file (road network
        edges ``edge_id src dst length``) defaults the same way to
        ``(1, 2, 3)`` or ``(1, 2)``.  Pass ``columns=(0, 1)`` to ignore a
        numeric third column.  For ``parquet`` / ``arrow`` the same, by
        position or by column name (``columns=("from", "to", "w")``), and
        by default also the same: the first two columns, and the third as
        the weight if its type is a number (a weight column must hold no
        missing value or NaN).
    comment : str
        One-character comment marker for edgelist/csv/tsv (``""`` for none):
        an ASCII character that cannot be part of a field or separate
        fields (not a letter, digit, ``+``, ``-``, ``.``, blank or the
        delimiter).
    header : bool
        Skip the first non-comment line (edgelist/csv/tsv).
    undirected : bool
        Every line is an undirected edge: the result has ``directed=False``
        and stores ``u->v`` and ``v->u`` (a self-loop once), with the same
        edge fields; the reversed copies follow all the edges as read (see
        :class:`~gasengine.graph.Graph`).
    relabel : bool
        ``True``: number the vertices ``0..n-1`` in increasing id order and
        keep the ids (int64) in ``graph.ids``; ids may be any integers in
        ``-(2**63-1)..2**63-1``.  ``False``: use the ids as vertex numbers
        (``n = max id + 1``, negative ids are an error, ``graph.ids`` is
        None).  For ``mtx`` and ``dimacs``, whose files declare ``n`` 1-based
        vertices, ``True`` keeps all ``n`` (isolated ones too) as ``0..n-1``
        with ``ids = 1..n``, and ``False`` uses the 1-based ids as vertex
        numbers (vertex 0 is then isolated).

    Returns
    -------
    Graph

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsADirectoryError
        If ``path`` is a directory.
    PermissionError
        If ``path`` cannot be read.
    GraphFormatError
        For a path that is not a regular file (a FIFO, a device: they are
        never opened, so nothing blocks), compressed or binary content, an
        unknown format (with a suggestion) or bad content; for bad content
        the message starts with ``path:line:`` naming the first bad line.
        Also, before anything is allocated, when the graph would not fit in
        memory (see :func:`partitioning.memory.check_fits`): a header
        declaring more vertices or entries than fit (naming the header
        line), ``relabel=False`` with an id so large that ``n`` vertices do
        not fit (naming the line of the largest id), or a file larger than
        the memory available.  The message gives the estimate, and the
        exception's ``__cause__`` is the
        :class:`~partitioning.memory.InsufficientMemoryError`.
    ValueError
        For bad options (``columns``, ``comment``).

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "g.txt")
    >>> _ = open(f, "w").write("# a comment\\n10\\t20\\n20 30\\n")
    >>> g = load_graph(f)
    >>> g.num_vertices, g.num_edges, g.ids.tolist(), g.src.tolist(), g.dst.tolist()
    (3, 2, [10, 20, 30], [0, 1], [1, 2])
    >>> _ = open(f, "w").write("10 20 0.5\\n20 30 2\\n")
    >>> load_graph(f).edge_data["weight"].tolist()  # a numeric third column is the weight
    [0.5, 2.0]
    >>> load_graph(f, columns=(0, 1)).edge_data
    {}
    """
    path = os.fspath(path)
    if format is not None:
        format = _check_format_name(format, path)
    size = _check_regular_file(path)
    _check_not_compressed(path)
    if format is None:
        format = infer_format(path)
    if format in ("parquet", "arrow"):
        if header:
            raise ValueError(f"header= does not apply to {format!r} files: their columns are named")
        from .frames import read_edge_table

        return read_edge_table(path, format, columns=columns, undirected=undirected, relabel=relabel)
    if format in ("mtx", "dimacs"):
        if columns is not None:
            raise ValueError(f"columns= does not apply to {format!r} files: their layout is fixed")
        if format == "mtx":
            records, n = _read_mtx(path, size, relabel)
        else:
            records, n = _read_dimacs(path, size, relabel)
    else:
        delim = {"edgelist": None, "csv": ",", "tsv": "\t"}[format]
        records = _read_delimited(path, size, delim, columns, comment, header, relabel)
        n = None
    return _build_graph(path, records, n, undirected, relabel)


# ------------------------------------------------------- what the path holds
# Other spellings a user may try for a format, for the "did you mean" hint.
_FORMAT_ALIASES: dict[str, str] = {
    **{fmt: fmt for fmt in FORMATS},
    **{ext[1:]: fmt for ext, fmt in EXTENSIONS.items()},
    "snap": "edgelist",
    "edge_list": "edgelist",
    "matrixmarket": "mtx",
    "mm": "mtx",
    "dimacs9": "dimacs",
}


def _check_format_name(format: str, path: str) -> str:
    """The lower-cased format name, or a GraphFormatError suggesting the nearest one."""
    name = str(format).lower()
    if name in FORMATS:
        return name
    close = difflib.get_close_matches(name, list(_FORMAT_ALIASES), n=1, cutoff=0.6)
    hint = f"did you mean {_FORMAT_ALIASES[close[0]]!r}? " if close else ""
    raise GraphFormatError(f"unknown format {format!r}; {hint}accepted formats: {', '.join(FORMATS)}", path=path)


_NOT_REGULAR = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular_file(path: str) -> int:
    """The size of the regular, readable file ``path``, or a clear error.

    Checked with ``stat`` before anything is opened: opening a FIFO waits
    for a writer, and reading a device may never end.  The OSErrors carry
    the path as ``filename`` and the operating system's wording followed by
    what it means here, so ``f"{exc.filename}: {exc.strerror}"`` reads well.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "no such graph file", path) from None
    except PermissionError:
        raise PermissionError(errno.EACCES, "Permission denied: cannot reach the graph file", path) from None
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory, not a graph file", path)
    if not stat.S_ISREG(info.st_mode):
        kind = next((k for test, k in _NOT_REGULAR if test(info.st_mode)), "not a file")
        raise GraphFormatError(
            f"is {kind}, not a regular file; graphs are read from regular files only (save the data to a file first)",
            path=path,
        )
    if not os.access(path, os.R_OK):
        raise PermissionError(errno.EACCES, "Permission denied: the graph file is not readable", path)
    return int(info.st_size)


# (magic bytes, what the file is, what to do)
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "looks gzip-compressed", "decompress it first (gunzip)"),
    (b"\xfd7zXZ\x00", "looks xz-compressed", "decompress it first (unxz)"),
    (b"\x28\xb5\x2f\xfd", "looks zstd-compressed", "decompress it first (unzstd)"),
    (b"PK\x03\x04", "looks like a zip archive", "extract the graph file first (unzip)"),
    (b"PK\x05\x06", "looks like an (empty) zip archive", "extract the graph file first"),
    (b"\xff\xfe", "looks like UTF-16 text", "convert it to UTF-8 first (iconv -f UTF-16 -t UTF-8)"),
    (b"\xfe\xff", "looks like UTF-16 text", "convert it to UTF-8 first (iconv -f UTF-16 -t UTF-8)"),
)
_BZIP2 = re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)")


def _check_not_compressed(path: str) -> None:
    """A GraphFormatError if the file starts like a compressed file or UTF-16 text."""
    with open(path, "rb") as f:
        head = f.read(10)
    found = next(((what, todo) for magic, what, todo in _MAGIC if head.startswith(magic)), None)
    if found is None and _BZIP2.match(head):
        found = ("looks bzip2-compressed", "decompress it first (bunzip2)")
    if found is not None:
        what, todo = found
        raise GraphFormatError(f"{what}; {todo}", path=path)


def _is_binary(raw: bytes) -> bool:
    """Whether bytes cannot come from a UTF-8 text file (a NUL, or invalid UTF-8)."""
    if b"\0" in raw:
        return True
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


# ------------------------------------------------------------------- memory
# A vertex costs at least one 8-byte value as soon as the graph is used (its
# degree, any vertex field), plus its int64 original id when the loader
# makes ``ids``; an edge list is bounded by the file, a declared size is not.
_VERTEX_BYTES = 8
_ID_BYTES = 8
# A Matrix Market entry: scipy's row, column and value, then our copies.
_MTX_ENTRY_BYTES = 40


def _refuse_unless_fits(needed: float, what: str, path: str, line: int | None = None, hint: str = "") -> None:
    """:func:`check_fits`, reported as a GraphFormatError naming the file (and line)."""
    try:
        check_fits(needed, what)
    except InsufficientMemoryError as exc:
        raise GraphFormatError(f"{exc}{hint}", path=path, line=line) from exc


def _vertex_bytes(n: int, with_ids: bool) -> int:
    return n * (_VERTEX_BYTES + (_ID_BYTES if with_ids else 0))


# --------------------------------------------------------------- text formats
def _read_bytes(path: str, size: int) -> tuple[np.ndarray, int]:
    """The file as a uint8 array and the offset after a UTF-8 byte-order mark."""
    _refuse_unless_fits(size, f"reading the whole file ({size} bytes)", path)
    buf = np.fromfile(path, dtype=np.uint8)
    start = 3 if buf[:3].tobytes() == b"\xef\xbb\xbf" else 0
    return buf, start


def _single_byte(value: str | None, name: str) -> int:
    """The ASCII code of a one-character option (0 for none)."""
    if not value:
        return 0
    if len(value) != 1 or ord(value) > 127:
        raise ValueError(f"{name} must be a single ASCII character, got {value!r}")
    return ord(value)


def _comment_code(comment: str, delim: str | None) -> int:
    """The byte of the ``comment`` option (0 for none), or a ValueError for one that would be ambiguous.

    A comment character ends a line's content wherever it appears, so it
    cannot be one that belongs to a field (a letter or digit -- ``nan``,
    ``1e5`` --, a sign, a decimal point) or separates fields (a blank, the
    newline, the delimiter): the scanner would read it now one way, now
    the other.
    """
    code = _single_byte(comment, "comment")
    char = chr(code)
    if code and (char.isalnum() or char in "+-.\n \t\r\x0b\x0c" or (delim is not None and char in delim)):
        what = "separates fields" if not char.isalnum() and char not in "+-." else "can be part of a number or an id"
        raise ValueError(
            f"comment={comment!r} cannot mark comments: it {what}; use a character such as '#', '%' or ';'"
        )
    return code


# Extensions whose files lead with other columns: src/dst columns by default.
_DEFAULT_ENDPOINTS: dict[str, tuple[int, int]] = {".cedge": (1, 2)}  # edge_id src dst length


def _read_delimited(
    path: str,
    size: int,
    delim: str | None,
    columns: tuple[int, ...] | None,
    comment: str,
    header: bool,
    relabel: bool,
) -> _Records:
    """Parse an edgelist/csv/tsv file (``delim=None`` means whitespace)."""
    if columns is not None:
        columns = tuple(int(c) for c in columns)
        if len(columns) not in (2, 3) or min(columns) < 0 or len(set(columns)) != len(columns):
            raise ValueError(
                f"columns must be 2 or 3 distinct non-negative indices (src, dst[, weight]), got {columns}"
            )
    comment_code = _comment_code(comment, delim)
    id_lo = 0 if not relabel else -_ID_MAX
    buf, start = _read_bytes(path, size)
    cap, stray_cr = _line_capacity(path, buf, start)
    inferred_from = 0
    try:
        if columns is None:
            columns, inferred_from = _default_columns(path, buf, start, delim, comment_code, header)
        records = _scan_records(
            path,
            buf,
            start,
            0,
            delim,
            comment_code,
            0,
            header,
            columns,
            id_lo,
            _ID_MAX,
            inferred_from,
            cap,
        )
    except GraphFormatError as exc:
        first = _first_error(exc, stray_cr)
        if first is exc:
            raise
        raise first from None
    if stray_cr is not None:
        raise stray_cr
    return records


def _default_columns(
    path: str, buf: np.ndarray, start: int, delim: str | None, comment: int, header: bool
) -> tuple[tuple[int, ...], int]:
    """Columns when ``columns=None``, and the line they were read from (0: no weight).

    The endpoints are ``(0, 1)`` (``(1, 2)`` for ``.cedge``); the next column
    is the weight if the first data record has a number there.
    """
    endpoints = _DEFAULT_ENDPOINTS.get(Path(path).suffix.lower(), (0, 1))
    c_w = max(endpoints) + 1
    whitespace = delim is None
    line, found, ts, te = _first_record(
        buf, start, whitespace, 0 if whitespace else ord(delim), comment, header, c_w + 1
    )
    if found > c_w and te[c_w] > ts[c_w]:
        _, kind, end = _parse_float(buf, ts[c_w], te[c_w])
        if end == te[c_w] and kind != 2:  # a number (NaN included: reported as NaN)
            return (*endpoints, c_w), line
    return endpoints, 0


class _Records(NamedTuple):
    """Parsed edges: endpoint ids as in the file, optional weights, id range."""

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray | None
    lo: int
    hi: int
    hi_line: int = 0  # line of the largest id (text formats)


def _scan_records(
    path: str,
    buf: np.ndarray,
    start: int,
    line0: int,
    delim: str | None,
    comment: int,
    tag: int,
    header: bool,
    columns: tuple[int, ...],
    id_lo: int,
    id_hi: int,
    inferred_from: int = 0,
    cap: int | None = None,
) -> _Records:
    """Run the compiled scanner and turn a failure into a GraphFormatError.

    ``inferred_from`` is the line the weight column was inferred from (0 if
    the columns were given), for the error messages; ``cap`` bounds the
    records (counted here if not given).
    """
    if cap is None:
        cap = _count_lines(buf, start)[0]
    c_w = columns[2] if len(columns) == 3 else -1
    weight_bytes = 8 if c_w >= 0 else 0
    whitespace = delim is None
    # int32 first: half the memory to fill, and it is what Graph stores anyway
    for dtype in (np.int32, np.int64):
        _refuse_unless_fits(
            cap * (2 * np.dtype(dtype).itemsize + weight_bytes),
            f"the edge arrays for up to {cap} lines",
            path,
        )
        out_w = np.empty(cap if c_w >= 0 else 0, np.float64)
        out_src = np.empty(cap, dtype)
        out_dst = np.empty(cap, dtype)
        result = _scan(
            buf,
            start,
            line0,
            whitespace,
            0 if whitespace else ord(delim),
            comment,
            tag,
            header,
            columns[0],
            columns[1],
            c_w,
            id_lo,
            id_hi,
            out_src,
            out_dst,
            out_w,
        )
        if result[1] != _TOO_WIDE:
            break
    rec, status, line, ts, te, col, lo, hi, hi_line, slow_rec, slow_ts, slow_te = result
    if status != _OK:
        raise _scan_error(
            path,
            buf,
            status,
            line,
            ts,
            te,
            col,
            columns,
            rec,
            header,
            id_lo,
            id_hi,
            inferred_from,
        )
    weight = None
    if c_w >= 0:
        weight = out_w[:rec]
        if slow_rec.size:
            weight[slow_rec] = _slow_weights(buf, slow_ts, slow_te)
    return _Records(out_src[:rec], out_dst[:rec], weight, int(lo), int(hi), int(hi_line))


def _scan_error(
    path: str,
    buf: np.ndarray,
    status: int,
    line: int,
    ts: int,
    te: int,
    col: int,
    columns: tuple[int, ...],
    rec: int,
    header: bool,
    id_lo: int,
    id_hi: int,
    inferred_from: int = 0,
) -> GraphFormatError:
    """Describe the scanner's failure in words (error path only)."""
    raw = buf[ts:te].tobytes()
    if _is_binary(raw):
        # whatever the scanner tripped on, the cause is that this is no text file
        reason = "NUL bytes" if b"\0" in raw else "bytes that are not UTF-8 text"
        return GraphFormatError(
            f"binary data, not a text graph file: {raw[:40]!r} holds {reason}",
            path=path,
            line=line,
        )
    token = raw.decode("utf-8")
    weight_col = columns[2] if len(columns) == 3 else -1
    inferred = ""
    if inferred_from:
        inferred = (
            f" (the weight column {weight_col} was inferred from line {inferred_from}, "
            f"which has a number there; pass columns={tuple(columns[:2])} to ignore it)"
        )
    if status == _FEW_COLUMNS:
        need = max(columns) + 1
        text = token.rstrip("\r")
        hint = inferred if col == weight_col else ""  # only the weight is missing
        return GraphFormatError(
            f"expected at least {need} columns (columns={tuple(columns)}), found {col}: {text[:80]!r}{hint}",
            path=path,
            line=line,
        )
    what = "weight" if col == weight_col else "vertex id"
    where = f"{what} {token[:40]!r} in column {col}"
    if status == _ID_NOT_NUMBER:
        hint = ""
        if rec == 0 and not header and re.search(r"[^\W\d]", token):
            hint = " (if the first line is a header, pass header=True)"  # a word: maybe a title
        message = f"{where} is not a number{hint}"
    elif status == _ID_NOT_INTEGER:
        message = f"{where} is not an integer"
    elif status == _ID_TOO_BIG:
        message = f"{where} does not fit a 64-bit integer (ids must lie in {-_ID_MAX}..{_ID_MAX})"
    elif status == _ID_OUT_OF_RANGE:
        if id_lo == 0:
            message = (
                f"{where} is negative; relabel=False uses ids as vertex numbers "
                f"(pass relabel=True for arbitrary integer ids)"
            )
        else:
            message = f"{where} is outside {id_lo}..{id_hi}"
    elif status == _EMPTY_FIELD:
        message = f"empty field in column {col}" + (inferred if col == weight_col else "")
    elif status == _BAD_TAG:
        message = f"expected an arc line 'a u v w', found {token[:40]!r}"
    elif status == _WEIGHT_NOT_NUMBER:
        message = f"{where} is not a number{inferred}"
    elif status == _WEIGHT_NAN:
        message = f"{where} is NaN"  # the same with inferred columns: NaN is clearly a weight
    else:  # pragma: no cover - all codes are listed above
        message = f"unreadable line (status {status})"
    return GraphFormatError(message, path=path, line=line)


# ------------------------------------------------------------------- DIMACS
_PROBLEM_LINE = re.compile(rb"p\s+(\S+)\s+(\d+)\s+(\d+)\s*")


def _read_dimacs(path: str, size: int, relabel: bool) -> tuple[_Records, int]:
    """Arcs of a 9th DIMACS shortest-path file (ids 1-based) and ``n``."""
    buf, start = _read_bytes(path, size)
    num_vertices, num_arcs, line0, body = _dimacs_problem_line(path, buf, start)
    # the arcs are bounded by the file, but n is only a number on that line
    _refuse_unless_fits(
        _vertex_bytes(num_vertices + (not relabel), relabel),
        f"a graph of {num_vertices} vertices (as the problem line declares)",
        path,
        line0,
    )
    records = _scan_records(path, buf, body, line0, None, ord("c"), ord("a"), False, (1, 2, 3), 1, num_vertices)
    if records.src.size != num_arcs:
        raise GraphFormatError(
            f"the problem line (line {line0}) declares {num_arcs} arcs but the file has {records.src.size} 'a' lines",
            path=path,
        )
    return records, num_vertices


def _dimacs_problem_line(path: str, buf: np.ndarray, start: int) -> tuple[int, int, int, int]:
    """(n, m, line number, byte offset after it) of the ``p sp n m`` line.

    Only the comment lines before it are visited in Python, so the cost does
    not grow with the number of arcs.
    """
    pos, line = start, 0
    while pos < buf.size:
        line += 1
        end = _line_end(buf, pos)
        text = buf[pos:end].tobytes().strip()
        pos = end + 1
        if not text or text[:1] == b"c":
            continue
        match = _PROBLEM_LINE.fullmatch(text)
        if match is None:
            shown = text[:60].decode("utf-8", "replace")
            what = "an arc before the problem line" if text[:1] == b"a" else "a bad problem line"
            raise GraphFormatError(
                f"{what}: expected 'p sp <vertices> <arcs>', found {shown!r}",
                path=path,
                line=line,
            )
        return int(match.group(2)), int(match.group(3)), line, pos
    raise GraphFormatError("no problem line 'p sp <vertices> <arcs>' found", path=path)


def _line_end(buf: np.ndarray, pos: int) -> int:
    """Offset of the newline ending the line that starts at ``pos``."""
    hits = np.flatnonzero(buf[pos : pos + 4096] == 10)
    if hits.size:
        return pos + int(hits[0])
    rest = np.flatnonzero(buf[pos:] == 10)
    return pos + int(rest[0]) if rest.size else buf.size


# ------------------------------------------------------------- Matrix Market
_MM_LINE = re.compile(r"[Ll]ine\s+(\d+)")


def _read_mtx(path: str, size: int, relabel: bool) -> tuple[_Records, int]:
    """Entries of a Matrix Market file as 1-based (row, col, value) and ``n``."""
    import scipy.io
    import scipy.sparse as sp

    try:
        rows, cols, entries, layout, field, symmetry = scipy.io.mminfo(path)
    except (ValueError, OSError, IndexError) as exc:
        raise _mtx_error(path, exc) from exc
    if rows != cols:
        raise GraphFormatError(
            f"the matrix is {rows}x{cols}; an adjacency matrix must be square",
            path=path,
            line=_mtx_size_line(path),
        )
    if field == "complex":
        raise GraphFormatError("complex matrices cannot be read as edge weights", path=path)
    _check_mtx_sizes(path, size, int(rows), int(entries), layout, symmetry, relabel)
    try:
        matrix = scipy.io.mmread(path)
    except (ValueError, OSError, IndexError) as exc:
        raise _mtx_error(path, exc) from exc
    coo = sp.coo_array(matrix)  # a dense "array" file keeps only its non-zeros
    weight = None
    if field != "pattern":
        weight = np.asarray(coo.data, dtype=np.float64)
        bad = np.flatnonzero(np.isnan(weight))
        if bad.size:
            k = int(bad[0])
            raise GraphFormatError(f"NaN value at entry ({int(coo.row[k]) + 1}, {int(coo.col[k]) + 1})", path=path)
    dtype = index_dtype(int(rows) + 1)
    src = coo.row.astype(dtype) + 1
    dst = coo.col.astype(dtype) + 1
    return _Records(src, dst, weight, 1, int(rows)), int(rows)


def _mtx_error(path: str, exc: Exception) -> GraphFormatError:
    """scipy's complaint about a Matrix Market file, with its line number if it gave one."""
    match = _MM_LINE.search(str(exc))
    line = int(match.group(1)) if match else None
    return GraphFormatError(f"not a valid Matrix Market file: {exc}", path=path, line=line)


def _check_mtx_sizes(path: str, size: int, n: int, entries: int, layout: str, symmetry: str, relabel: bool) -> None:
    """Refuse a size line that the file cannot back, or whose graph cannot fit in memory.

    scipy allocates what the size line declares before reading the entries,
    so both checks must come first.
    """
    mirrored = symmetry != "general"  # scipy stores both triangles
    if layout == "coordinate":
        stored, shortest = entries, 4  # "1 1\n" (pattern)
        needed = entries * (2 if mirrored else 1) * _MTX_ENTRY_BYTES
    else:  # a dense array: scipy builds the whole n x n matrix
        stored = {"symmetric": n * (n + 1) // 2, "hermitian": n * (n + 1) // 2, "skew-symmetric": n * (n - 1) // 2}.get(
            symmetry, n * n
        )
        shortest = 2  # "0\n"
        needed = n * n * (8 + _MTX_ENTRY_BYTES)
    most = (size + 1) // shortest  # the last line may lack its newline
    if stored > most:
        raise GraphFormatError(
            f"the size line declares {stored} entries, but a file of {size} bytes holds at most {most}",
            path=path,
            line=_mtx_size_line(path),
        )
    needed += _vertex_bytes(n + (not relabel), relabel)
    try:
        check_fits(needed, f"a graph of {n} vertices and {stored} entries (as the size line declares)")
    except InsufficientMemoryError as exc:
        raise GraphFormatError(str(exc), path=path, line=_mtx_size_line(path)) from exc


def _mtx_size_line(path: str) -> int | None:
    """Line number of the size line (the first after the banner and ``%`` comments)."""
    with open(path, "rb") as f:
        for number, text in enumerate(f, start=1):
            if number > 1 and text.strip() and not text.startswith(b"%"):
                return number
    return None


# ---------------------------------------------------------------- assembly
def _build_graph(path: str, records: _Records, declared_n: int | None, undirected: bool, relabel: bool) -> Graph:
    """Relabel (or not) and make the Graph (which mirrors undirected edges).

    ``records.src``/``dst`` belong to the loader, so they are renumbered in place.
    """
    src, dst = records.src, records.dst
    ids = None
    if declared_n is not None:  # mtx / dimacs: the file declares ids 1..n
        n = declared_n + 1
        if relabel:
            np.subtract(src, 1, out=src)
            np.subtract(dst, 1, out=dst)
            ids = np.arange(1, declared_n + 1, dtype=np.int64)
            n = declared_n
    elif relabel:
        ids = _relabel_inplace(src, dst, records.lo, records.hi)
        n = ids.size
    else:
        n = records.hi + 1 if src.size else 0
        # the ids are vertex numbers: a single large id implies n vertices
        _refuse_unless_fits(
            _vertex_bytes(n, False),
            f"a graph of {n} vertices (relabel=False and the largest id is {records.hi})",
            path,
            records.hi_line,
            hint="; pass relabel=True to number the vertices 0..n-1",
        )
    edge_data = {} if records.weight is None else {"weight": records.weight}
    return Graph(src, dst, num_vertices=n, edge_data=edge_data, ids=ids, directed=not undirected)


# ----------------------------------------------------------------- relabel
def relabel_ids(src: Any, dst: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compact arbitrary integer ids to ``0..n-1`` in increasing id order.

    Non-negative ids whose maximum is small relative to the number of edges use
    a presence bitmap and a cumulative count (O(m + max id), compiled); other
    ids fall back to :func:`numpy.unique` (O(m log m)).

    Parameters
    ----------
    src, dst : array_like of int
        Edge endpoints as arbitrary integer ids (not modified): any integers
        that int64 represents exactly.

    Returns
    -------
    src, dst : ndarray
        Vertex numbers (int32 when they fit).
    ids : ndarray of int64
        ``ids[k]`` is the original id of vertex ``k``.

    Raises
    ------
    GraphFormatError
        For a value that is not an integer or does not fit int64 (uint64
        from ``2**63``, ``1e20``), naming the array and index.

    Examples
    --------
    >>> s, d, ids = relabel_ids([7, 3], [3, 42])
    >>> s.tolist(), d.tolist(), ids.tolist()
    ([1, 0], [0, 2], [3, 7, 42])
    """
    # copies (renumbered in place below); values beyond int64 are an error, not a wrap
    src = exact_int64(src, "src").astype(np.int64, copy=True)
    dst = exact_int64(dst, "dst").astype(np.int64, copy=True)
    if src.shape != dst.shape:
        raise ValueError(f"src and dst must be 1-d of equal length, got {src.shape}, {dst.shape}")
    lo = int(min(src.min(initial=0), dst.min(initial=0)))
    hi = int(max(src.max(initial=0), dst.max(initial=0)))
    ids = _relabel_inplace(src, dst, lo, hi)
    dtype = index_dtype(max(ids.size, 1))
    return src.astype(dtype), dst.astype(dtype), ids


def _relabel_inplace(src: np.ndarray, dst: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """Renumber ``src``/``dst`` (ids in ``lo..hi``) to ``0..n-1``; return the ids."""
    if src.size == 0:
        return np.empty(0, np.int64)
    if lo >= 0 and hi < max(16 * src.size, 1 << 20):
        return _relabel_dense(src, dst, hi)
    ids, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
    src[:] = inverse[: src.size]
    dst[:] = inverse[src.size :]
    return ids.astype(np.int64, copy=False)


@numba.njit(cache=True, nogil=True)
def _relabel_dense(src: np.ndarray, dst: np.ndarray, hi: int) -> np.ndarray:
    """Bitmap of present ids, running count as the new number, in place."""
    present = np.zeros(hi + 1, np.bool_)
    for i in range(src.size):
        present[src[i]] = True
        present[dst[i]] = True
    number = np.empty(hi + 1, src.dtype)
    count = 0
    for v in range(hi + 1):
        number[v] = count
        count += present[v]
    ids = np.empty(count, np.int64)
    k = 0
    for v in range(hi + 1):
        if present[v]:
            ids[k] = v
            k += 1
    if count != hi + 1:  # ids already 0..n-1 need no renumbering
        for i in range(src.size):
            src[i] = number[src[i]]
            dst[i] = number[dst[i]]
    return ids


# ------------------------------------------------------------------ ratings
#: Accepted values of ``format`` for :func:`read_rating_columns`.
RATING_FORMATS: tuple[str, ...] = ("edgelist", "csv", "tsv", "movielens")

# What a ratings column holds (``_scan_ratings``'s ``roles``).
_ROLE_IGNORED, _ROLE_USER, _ROLE_ITEM, _ROLE_RATING, _ROLE_TIME = 0, 1, 2, 3, 4
_ROLE_NAMES = ("column", "user id", "item id", "rating", "timestamp")
_RATING_INF, _WRONG_FIELD_COUNT = 11, 12  # scanner statuses beyond the edge-list ones
# "::" becomes this byte and a blank: same length, so offsets and line numbers
# stay those of the file, and a lone ':' stays part of its token.  NUL, because
# a ratings file holding one is refused before the split: no byte of the file
# can act as this delimiter (0x1F, say, would split "a\x1fb" in two).
_PAIR_DELIM = 0x00


class RatingColumns(NamedTuple):
    """The columns of a ratings file, one row per rating in file order.

    ``user``/``item`` hold the id tokens exactly as written (bytes; leading
    zeros kept), ``rating`` the float64 ratings and ``timestamp`` the int64
    timestamps (None when the file has no timestamp column).
    """

    user: np.ndarray
    item: np.ndarray
    rating: np.ndarray
    timestamp: np.ndarray | None


@numba.njit(cache=True, nogil=True)
def _split_double_colons(buf: np.ndarray, start: int) -> int:
    """Replace every ``::`` (left to right) by ``_PAIR_DELIM`` and a blank, in place; return the count."""
    count = 0
    i = start
    n = buf.size
    while i + 1 < n:
        if buf[i] == 58 and buf[i + 1] == 58:
            buf[i] = _PAIR_DELIM
            buf[i + 1] = 32
            count += 1
            i += 2
        else:
            i += 1
    return count


@numba.njit(cache=True, nogil=True)
def _scan_ratings(buf, start, whitespace, delim, comment, skip_header, roles, nfields, out_ids, out_r, out_t):
    """Parse rating records from ``buf[start:]``.

    ``roles[c]`` says what column ``c`` holds (``_ROLE_*``); columns beyond
    ``roles`` are ignored, but every record must have exactly ``nfields``
    fields.  The id tokens' bounds go to ``out_ids`` (``(cap, 4)``: user
    start, end, item start, end), ratings to ``out_r``, timestamps to
    ``out_t``.  Returns ``(records, status, line, token_start, token_end,
    column, fields, slow_records, slow_starts, slow_ends)`` as :func:`_scan`
    does; ``fields`` is the bad record's field count.
    """
    n = buf.size
    need = roles.size
    slow_rec = np.empty(16, np.int64)
    slow_ts = np.empty(16, np.int64)
    slow_te = np.empty(16, np.int64)
    nslow = 0
    rec = 0
    line = 0
    pos = start
    header_pending = skip_header
    status = _OK
    ts = te = col = 0
    while True:
        p, pos, line, header_pending = _record_start(buf, pos, n, line, whitespace, delim, comment, header_pending)
        if p >= n:
            break
        col = 0
        while True:
            ts = p
            role = roles[col] if col < need else _ROLE_IGNORED
            if role == _ROLE_RATING:
                w, kind, p, ts, te, status = _number_field(buf, p, ts, n, whitespace, delim, comment)
                if status != _OK:
                    break
                if kind == 0 and (w == np.inf or w == -np.inf):
                    status = _RATING_INF
                    break
                if kind == 1:
                    slow_rec, slow_ts, slow_te, nslow = _note_slow(slow_rec, slow_ts, slow_te, nslow, rec, ts, te)
                out_r[rec] = w
            else:
                p, ts, te = _token_at(buf, ts, n, whitespace, delim, comment)
                if role != _ROLE_IGNORED and ts == te:
                    status = _EMPTY_FIELD
                    break
                if role == _ROLE_TIME:
                    v, status = _parse_int(buf, ts, te)
                    if status != _OK:
                        break
                    out_t[rec] = v
                elif role == _ROLE_USER or role == _ROLE_ITEM:
                    k = 2 * (role - _ROLE_USER)
                    out_ids[rec, k] = ts
                    out_ids[rec, k + 1] = te
            col += 1
            p, more = _next_token(buf, p, n, whitespace, delim, comment)
            if not more:
                break
        if status != _OK:
            break
        if col != nfields:
            status = _FEW_COLUMNS if col < need else _WRONG_FIELD_COUNT
            ts, te = pos, p
            break
        rec += 1
        while p < n and buf[p] != 10:  # a trailing comment
            p += 1
        pos = p + 1
    return rec, status, line, ts, te, col, slow_rec[:nslow], slow_ts[:nslow], slow_te[:nslow]


def read_rating_columns(
    path: str | os.PathLike[str],
    format: str | None = None,
    *,
    columns: tuple[int | str, ...] | None = None,
    comment: str = "#",
    header: bool | None = None,
) -> RatingColumns:
    """Read the columns of a ``user item rating [timestamp]`` file (vectorised).

    This is the parsing half of :func:`gasengine.ratings.load_ratings`, which
    turns the columns into a bipartite :class:`~gasengine.graph.Graph`; see
    there for the options.  The same compiled byte scanner as
    :func:`load_graph` reads the file, so no Python runs per line.

    Returns
    -------
    RatingColumns
        The id tokens as bytes (as written), float64 ratings, int64
        timestamps or None.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "ratings.dat")
    >>> _ = open(f, "w").write("1::0000008::7::1365029107\\n2::0000008::10::1365029108\\n")
    >>> r = read_rating_columns(f)
    >>> r.user.tolist(), r.item.tolist(), r.rating.tolist(), r.timestamp.tolist()
    ([b'1', b'2'], [b'0000008', b'0000008'], [7.0, 10.0], [1365029107, 1365029108])
    """
    path = os.fspath(path)
    if format is not None:
        format = _check_rating_format(format, path)
    size = _check_regular_file(path)
    _check_not_compressed(path)
    comment_code = _comment_code(comment, None)
    buf, start = _read_bytes(path, size)
    if np.any(buf == 0):
        line = int(np.count_nonzero(buf[: int(np.argmax(buf == 0))] == 10)) + 1
        raise GraphFormatError("binary data, not a text ratings file: it holds NUL bytes", path=path, line=line)
    cap, stray_cr = _line_capacity(path, buf, start)
    try:
        columns_read = _read_ratings(path, buf, start, cap, format, columns, comment, comment_code, header)
    except GraphFormatError as exc:
        first = _first_error(exc, stray_cr)
        if first is exc:
            raise
        raise first from None
    if stray_cr is not None:
        raise stray_cr
    return columns_read


def _read_ratings(
    path: str,
    buf: np.ndarray,
    start: int,
    cap: int,
    format: str | None,
    columns: tuple[int | str, ...] | None,
    comment: str,
    comment_code: int,
    header: bool | None,
) -> RatingColumns:
    """:func:`read_rating_columns` once the file is read: its layout, header, columns and records."""
    first_line = _first_data_line(buf, start, comment_code)
    if first_line is None:
        raise GraphFormatError(
            "no ratings: the file is empty (or holds only blank and comment lines); "
            "expected lines 'user item rating [timestamp]'",
            path=path,
        )
    if format is None:
        format = _sniff_rating_format(path, first_line[1])
    _comment_code(comment, {"csv": ",", "tsv": "\t", "movielens": ":"}.get(format))
    original = buf
    if format == "movielens":
        buf = buf.copy()  # errors quote the file's own bytes
        _split_double_colons(buf, start)
    whitespace = format == "edgelist"
    delim = 0 if whitespace else {"csv": ord(","), "tsv": 9, "movielens": _PAIR_DELIM}[format]
    if header is None:
        header = _looks_like_header(buf, start, whitespace, delim, comment_code, columns)
    if columns is not None:
        columns = tuple(int(c) for c in columns)
        if len(columns) not in (3, 4) or min(columns) < 0 or len(set(columns)) != len(columns):
            raise ValueError(
                f"columns must be 3 or 4 distinct non-negative indices (user, item, rating[, timestamp]), got {columns}"
            )
    line, found, _, _ = _first_record(buf, start, whitespace, delim, comment_code, bool(header), 64)
    only_header = (
        f"no ratings: the file holds only a header line (line {first_line[0]}: "
        f"{first_line[1][:60].decode('utf-8', 'replace')!r})"
    )
    if line == 0:
        raise GraphFormatError(only_header, path=path)
    if columns is None:
        if found not in (3, 4):
            more = " or more" if found == 64 else ""
            raise GraphFormatError(
                f"expected 3 or 4 fields (user item rating [timestamp]) in the {format} layout, "
                f"found {found}{more}: {_line_text(original, buf, start, line, comment_code)!r}"
                + ("; pass columns=(user, item, rating[, timestamp]) to choose them" if found > 4 else ""),
                path=path,
                line=line,
            )
        columns = tuple(range(found))
    first_record = line
    roles = np.zeros(max(columns) + 1, np.int64)
    for role, c in zip((_ROLE_USER, _ROLE_ITEM, _ROLE_RATING, _ROLE_TIME), columns):
        roles[c] = role
    nfields = max(found, roles.size)
    has_time = len(columns) == 4
    _refuse_unless_fits(cap * (32 + 8 + 8 * has_time), f"the rating arrays for up to {cap} lines", path)
    out_ids = np.empty((cap, 4), np.int64)
    out_r = np.empty(cap, np.float64)
    out_t = np.empty(cap if has_time else 0, np.int64)
    rec, status, line, ts, te, col, slow_rec, slow_ts, slow_te = _scan_ratings(
        buf, start, whitespace, delim, comment_code, bool(header), roles, nfields, out_ids, out_r, out_t
    )
    # The scan stops at the first line it cannot read; the ``rec`` records before it are
    # checked further below (ratings that overflow, ids that are not UTF-8), and the
    # error reported is the one on the earliest line.
    errors: list[GraphFormatError] = []
    if status != _OK:
        errors.append(
            _ratings_scan_error(
                path, original, status, line, ts, te, col, roles, nfields, rec, header, format, first_record
            )
        )
    rating = out_r[:rec]
    whole = slow_rec < rec  # a slow token of the record that failed is not stored
    slow_rec, slow_ts, slow_te = slow_rec[whole], slow_ts[whole], slow_te[whole]
    if slow_rec.size:
        rating[slow_rec] = _slow_weights(buf, slow_ts, slow_te)
        bad = np.flatnonzero(~np.isfinite(rating[slow_rec]))
        if bad.size:
            k = int(bad[0])
            token = original[slow_ts[k] : slow_te[k]].tobytes().decode("utf-8", "replace")
            errors.append(
                GraphFormatError(
                    f"rating {token[:40]!r} in column {columns[2]} is too large: it overflows to infinity",
                    path=path,
                    line=int(np.count_nonzero(original[: slow_ts[k]] == 10)) + 1,
                )
            )
    ids = out_ids[:rec]
    user = _token_strings(buf, ids[:, 0], ids[:, 1])
    item = _token_strings(buf, ids[:, 2], ids[:, 3])
    if user.view(np.uint8).max(initial=0) >= 0x80 or item.view(np.uint8).max(initial=0) >= 0x80:
        r, k = _first_not_utf8(buf, ids)
        if r >= 0:
            token = original[ids[r, k] : ids[r, k + 1]].tobytes()
            errors.append(
                GraphFormatError(
                    f"{_ROLE_NAMES[_ROLE_USER + k // 2]} {token[:40]!r} in column {columns[k // 2]} is not UTF-8 "
                    f"text (ids are read as UTF-8)",
                    path=path,
                    line=int(np.count_nonzero(original[: ids[r, k]] == 10)) + 1,
                )
            )
    if errors:
        raise min(errors, key=lambda e: e.line)
    if rec == 0:
        raise GraphFormatError(only_header, path=path)
    return RatingColumns(user, item, rating, out_t[:rec] if has_time else None)


@numba.njit(cache=True, nogil=True)
def _is_utf8(buf: np.ndarray, ts: int, te: int) -> bool:
    """Whether ``buf[ts:te]`` is UTF-8 as Python's strict codec reads it (no overlong forms,
    no surrogates, nothing above U+10FFFF)."""
    i = ts
    while i < te:
        c = buf[i]
        if c < 0x80:
            i += 1
            continue
        if 0xC2 <= c <= 0xDF:
            more, lo, hi = 1, 0x80, 0xBF
        elif c == 0xE0:
            more, lo, hi = 2, 0xA0, 0xBF
        elif c == 0xED:
            more, lo, hi = 2, 0x80, 0x9F
        elif 0xE1 <= c <= 0xEF:
            more, lo, hi = 2, 0x80, 0xBF
        elif c == 0xF0:
            more, lo, hi = 3, 0x90, 0xBF
        elif 0xF1 <= c <= 0xF3:
            more, lo, hi = 3, 0x80, 0xBF
        elif c == 0xF4:
            more, lo, hi = 3, 0x80, 0x8F
        else:
            return False
        if i + more >= te or not (lo <= buf[i + 1] <= hi):
            return False
        for k in range(2, more + 1):
            if not (0x80 <= buf[i + k] <= 0xBF):
                return False
        i += more + 1
    return True


@numba.njit(cache=True, nogil=True)
def _first_not_utf8(buf: np.ndarray, ids: np.ndarray) -> tuple[int, int]:
    """``(record, 0 for the user or 2 for the item)`` of the first id token that is not UTF-8; (-1, -1) if none."""
    for r in range(ids.shape[0]):
        for k in (0, 2):
            if not _is_utf8(buf, ids[r, k], ids[r, k + 1]):
                return r, k
    return -1, -1


def _check_rating_format(format: str, path: str) -> str:
    """The lower-cased ratings format, or a GraphFormatError suggesting the nearest one."""
    name = str(format).lower()
    aliases = {"::": "movielens", "dat": "movielens", "whitespace": "edgelist", "txt": "edgelist"}
    if name in RATING_FORMATS:
        return name
    close = difflib.get_close_matches(name, [*RATING_FORMATS, *aliases], n=1, cutoff=0.6)
    hint = f"did you mean {aliases.get(close[0], close[0])!r}? " if close else ""
    if name in aliases:
        hint = f"did you mean {aliases[name]!r}? "
    raise GraphFormatError(
        f"unknown ratings format {format!r}; {hint}accepted formats: {', '.join(RATING_FORMATS)} "
        f"(edgelist: whitespace-separated; movielens: '::'-separated)",
        path=path,
    )


def _first_data_line(buf: np.ndarray, start: int, comment: int) -> tuple[int, bytes] | None:
    """(1-based number, text) of the first line that is neither blank nor a comment.

    Only the lines before it are visited.
    """
    pos, line = start, 0
    while pos < buf.size:
        line += 1
        end = _line_end(buf, pos)
        text = buf[pos:end].tobytes().strip()
        pos = end + 1
        if text and not (comment and text[0] == comment):
            return line, text
    return None


def _sniff_rating_format(path: str, first: bytes) -> str:
    """The layout of a ratings file from its extension, else from its first data line."""
    by_extension = {".csv": "csv", ".tsv": "tsv"}.get(Path(path).suffix.lower())
    if by_extension is not None:
        return by_extension
    if b"::" in first:
        return "movielens"
    if b"\t" in first:
        return "tsv"
    if b"," in first:
        return "csv"
    return "edgelist"


def _looks_like_header(
    buf: np.ndarray, start: int, whitespace: bool, delim: int, comment: int, columns: tuple[int, ...] | None
) -> bool:
    """Whether the first record is a header: its rating and user fields are words (``user``, ``rating``)."""
    c_user, c_rating = (0, 2) if columns is None else (int(columns[0]), int(columns[2]))
    if min(c_user, c_rating) < 0:
        return False
    _, found, ts, te = _first_record(buf, start, whitespace, delim, comment, False, max(c_user, c_rating) + 1)
    if found <= max(c_user, c_rating):
        return False

    def is_word(c: int) -> bool:  # not a number, and has a letter
        _, kind, end = _parse_float(buf, ts[c], te[c])
        number = end == te[c] and kind != 2
        return not number and re.search(rb"[A-Za-z]", buf[ts[c] : te[c]].tobytes()) is not None

    return is_word(c_rating) and is_word(c_user)


def _line_text(original: np.ndarray, buf: np.ndarray, start: int, line: int, comment: int) -> str:
    """Text of line ``line`` of the file (error path only)."""
    pos = start
    for _ in range(line - 1):
        pos = _line_end(buf, pos) + 1
    return original[pos : _line_end(buf, pos)].tobytes().decode("utf-8", "replace").rstrip("\r")[:80]


@numba.njit(cache=True, nogil=True)
def _token_widths_max(ts: np.ndarray, te: np.ndarray) -> int:
    """The longest token's length (at least 1)."""
    width = 1
    for i in range(ts.size):
        width = max(width, te[i] - ts[i])
    return width


def _token_strings(buf: np.ndarray, ts: np.ndarray, te: np.ndarray) -> np.ndarray:
    """Tokens ``buf[ts[i]:te[i]]`` as a fixed-width bytes array (``S<width>``)."""
    width = _token_widths_max(ts, te)
    return _gather_tokens(buf, ts, te, width).view(f"S{width}").ravel()


def _ratings_scan_error(
    path: str,
    buf: np.ndarray,
    status: int,
    line: int,
    ts: int,
    te: int,
    col: int,
    roles: np.ndarray,
    nfields: int,
    rec: int,
    header: bool,
    format: str,
    first_record: int,
) -> GraphFormatError:
    """Describe the ratings scanner's failure in words (error path only); ``buf`` is the file's bytes."""
    raw = buf[ts:te].tobytes()
    if _is_binary(raw):
        return GraphFormatError(f"binary data, not a text ratings file: {raw[:40]!r}", path=path, line=line)
    token = raw.decode("utf-8").rstrip("\r")
    layout = "user item rating" + (" timestamp" if _ROLE_TIME in roles else "")
    if status in (_FEW_COLUMNS, _WRONG_FIELD_COUNT):
        if nfields > roles.size:
            layout += ", ..."
        expected = nfields if status == _WRONG_FIELD_COUNT else roles.size
        like = f" as line {first_record} has" if expected == nfields and line != first_record else ""
        return GraphFormatError(
            f"expected {expected} fields ({layout}){like}, found {col}: {token[:80]!r} (in the {format} layout)",
            path=path,
            line=line,
        )
    role = int(roles[col]) if col < roles.size else _ROLE_IGNORED
    where = f"{_ROLE_NAMES[role]} {token[:40]!r} in column {col}"
    if status == _EMPTY_FIELD:
        message = f"empty {_ROLE_NAMES[role]} in column {col}"
    elif status == _WEIGHT_NAN:
        message = f"{where} is NaN; ratings must be finite numbers"
    elif status == _RATING_INF:
        message = f"{where} is infinite; ratings must be finite numbers"
    elif status == _WEIGHT_NOT_NUMBER:
        hint = ""
        if rec == 0 and not header:
            hint = " (if the first line is a header, pass header=True)"
        message = f"{where} is not a number{hint}"
    elif status == _ID_NOT_NUMBER:
        message = f"{where} is not a number (timestamps are integers, e.g. Unix seconds)"
    elif status == _ID_NOT_INTEGER:
        message = f"{where} is not an integer (timestamps are integers, e.g. Unix seconds)"
    elif status == _ID_TOO_BIG:
        message = f"{where} does not fit a 64-bit integer"
    else:  # pragma: no cover - all codes are listed above
        message = f"unreadable line (status {status})"
    return GraphFormatError(message, path=path, line=line)
