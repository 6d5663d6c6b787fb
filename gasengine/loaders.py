"""Reading graph files: SNAP edge lists, CSV/TSV, Matrix Market and DIMACS.

The text formats are parsed by one compiled byte scanner (numba) that reads the
whole file as bytes, keeps only the requested columns and stops at the first bad
line with its line number, so the success path never runs Python per line.  It
is several times faster than ``pandas.read_csv`` on the same file (see
``benchmarks/load.py``).  Matrix Market goes through :func:`scipy.io.mmread`.

Vertex ids in the file are arbitrary integers; by default they are compacted to
``0..n-1`` in increasing id order and kept in ``Graph.ids``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numba
import numpy as np

from .errors import GraphFormatError
from .graph import Graph, index_dtype

__all__ = ["FORMATS", "EXTENSIONS", "load_graph", "infer_format"]

#: Accepted values of ``format``.
FORMATS: tuple[str, ...] = ("edgelist", "csv", "tsv", "mtx", "dimacs")

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
}

# Ids are parsed into int64; 18 digits always fit, so longer tokens are rejected
# instead of silently wrapping around.
_MAX_ID_DIGITS = 18
_ID_LIMIT = np.int64(2**62)

# Status codes returned by the scanner (0 = success).
_OK, _FEW_COLUMNS, _ID_NOT_NUMBER, _ID_NOT_INTEGER, _ID_TOO_LONG = 0, 1, 2, 3, 4
_ID_OUT_OF_RANGE, _EMPTY_FIELD, _BAD_TAG, _WEIGHT_NOT_NUMBER, _WEIGHT_NAN = 5, 6, 7, 8, 9

# Exact powers of ten: m * 10**e (or m / 10**-e) with m < 2**53 and |e| <= 22
# is a single correctly rounded IEEE operation (Clinger's fast path).
_POW10 = np.array([10.0**k for k in range(23)])
_MANTISSA_LIMIT = 2**53


# --------------------------------------------------------------------- scanner
@numba.njit(cache=True, nogil=True)
def _count_lines(buf: np.ndarray, start: int) -> int:
    n = 1
    for i in range(start, buf.size):
        if buf[i] == 10:
            n += 1
    return n


@numba.njit(cache=True, inline="always")
def _is_blank(c: int) -> bool:
    # space, tab, CR, VT, FF -- never the newline, which ends the record
    return c == 32 or c == 9 or c == 13 or c == 11 or c == 12


@numba.njit(cache=True)
def _parse_int(buf: np.ndarray, ts: int, te: int) -> tuple[int, int]:
    """(value, status) of an integer token ``buf[ts:te]``; ``1.0`` counts as 1."""
    p = ts
    neg = False
    if p < te and (buf[p] == 45 or buf[p] == 43):  # '-' / '+'
        neg = buf[p] == 45
        p += 1
    value = 0
    ndigits = 0
    while p < te and 48 <= buf[p] <= 57:
        value = value * 10 + (buf[p] - 48)
        ndigits += 1
        p += 1
    if p < te and buf[p] == 46:  # '.': accept only an all-zero fraction
        q = p + 1
        while q < te and buf[q] == 48:
            q += 1
        if q == te and (ndigits > 0 or q > p + 1):
            p = te
    if p == te and ndigits > 0:
        if ndigits > _MAX_ID_DIGITS:
            return 0, _ID_TOO_LONG
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
def _lower_equals(buf: np.ndarray, p: int, te: int, word: bytes) -> bool:
    if te - p != len(word):
        return False
    for k in range(te - p):
        c = buf[p + k]
        if 65 <= c <= 90:
            c += 32
        if c != word[k]:
            return False
    return True


@numba.njit(cache=True)
def _parse_float(buf: np.ndarray, ts: int, te: int) -> tuple[float, int]:
    """(value, kind) of a weight token: kind 0 exact, 1 needs the slow path,
    2 not a number, 3 NaN."""
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
        if _lower_equals(buf, p, te, b"nan"):
            return np.nan, 3
        if _lower_equals(buf, p, te, b"inf") or _lower_equals(buf, p, te, b"infinity"):
            return (-np.inf if neg else np.inf), 0
        return 0.0, 2
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
            return 0.0, 2
        exp10 += -e if eneg else e
    if p != te:
        return 0.0, 2
    if sig > 18 or mant > _MANTISSA_LIMIT or exp10 > 22 or exp10 < -22:
        if mant == 0:
            return (-0.0 if neg else 0.0), 0
        return 0.0, 1
    value = float(mant)
    if exp10 >= 0:
        value *= _POW10[exp10]
    else:
        value /= _POW10[-exp10]
    return (-value if neg else value), 0


@numba.njit(cache=True)
def _grow(a: np.ndarray) -> np.ndarray:
    b = np.empty(a.size * 2, a.dtype)
    b[: a.size] = a
    return b


@numba.njit(cache=True, nogil=True)
def _scan(
    buf, start, line0, whitespace, delim, comment, comment_anywhere, tag, skip_header,
    c_src, c_dst, c_w, id_lo, id_hi, out_src, out_dst, out_w,
):
    """Parse records from ``buf[start:]`` into the ``out_*`` arrays.

    Returns ``(records, status, line, token_start, token_end, column,
    slow_records, slow_starts, slow_ends, slow_count)``; on a bad line ``status``
    is non-zero and ``line`` is its 1-based number.  Weight tokens that are
    valid but outside the exact fast path are listed as slow for the caller.
    """
    n = buf.size
    need = max(c_src, c_dst, c_w) + 1
    slow_rec = np.empty(16, np.int64)
    slow_ts = np.empty(16, np.int64)
    slow_te = np.empty(16, np.int64)
    nslow = 0
    rec = 0
    line = line0
    pos = start
    header_pending = skip_header
    while pos < n:
        line += 1
        p = pos
        while p < n and _is_blank(buf[p]) and not (buf[p] == delim and not whitespace):
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
        col = 0
        while True:
            # one token [ts, te) of column `col`
            if whitespace:
                ts = p
                while p < n and not _is_blank(buf[p]) and buf[p] != 10 and not (
                    comment_anywhere and buf[p] == comment
                ):
                    p += 1
                te = p
            else:
                fs = p
                while p < n and buf[p] != delim and buf[p] != 10 and not (
                    comment_anywhere and buf[p] == comment
                ):
                    p += 1
                ts, te = fs, p
                while ts < te and _is_blank(buf[ts]):
                    ts += 1
                while te > ts and _is_blank(buf[te - 1]):
                    te -= 1
                if ts == te and col < need and (col == c_src or col == c_dst or col == c_w):
                    return (rec, _EMPTY_FIELD, line, ts, te, col,
                            slow_rec, slow_ts, slow_te, nslow)
            if col == 0 and tag != 0 and not (te == ts + 1 and buf[ts] == tag):
                return rec, _BAD_TAG, line, ts, te, col, slow_rec, slow_ts, slow_te, nslow
            if col == c_src or col == c_dst:
                v, status = _parse_int(buf, ts, te)
                if status == _OK and (v < id_lo or v > id_hi):
                    status = _ID_OUT_OF_RANGE
                if status != _OK:
                    return rec, status, line, ts, te, col, slow_rec, slow_ts, slow_te, nslow
                if col == c_src:
                    out_src[rec] = v
                if col == c_dst:
                    out_dst[rec] = v
            elif col == c_w:
                w, kind = _parse_float(buf, ts, te)
                if kind >= 2:
                    status = _WEIGHT_NOT_NUMBER if kind == 2 else _WEIGHT_NAN
                    return rec, status, line, ts, te, col, slow_rec, slow_ts, slow_te, nslow
                if kind == 1:
                    if nslow == slow_rec.size:
                        slow_rec = _grow(slow_rec)
                        slow_ts = _grow(slow_ts)
                        slow_te = _grow(slow_te)
                    slow_rec[nslow] = rec
                    slow_ts[nslow] = ts
                    slow_te[nslow] = te
                    nslow += 1
                out_w[rec] = w
            col += 1
            if col >= need:
                break
            # move to the next token; stop at end of line or a comment
            if whitespace:
                while p < n and _is_blank(buf[p]):
                    p += 1
                if p >= n or buf[p] == 10 or (comment_anywhere and buf[p] == comment):
                    break
            else:
                if p < n and buf[p] == delim:
                    p += 1
                else:
                    break
        if col < need:
            return rec, _FEW_COLUMNS, line, pos, p, col, slow_rec, slow_ts, slow_te, nslow
        rec += 1
        while p < n and buf[p] != 10:  # extra columns are ignored
            p += 1
        pos = p + 1
    return rec, _OK, line, 0, 0, 0, slow_rec, slow_ts, slow_te, nslow


@numba.njit(cache=True)
def _gather_tokens(buf: np.ndarray, ts: np.ndarray, te: np.ndarray, width: int) -> np.ndarray:
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
    return raw.view(f"S{width}").ravel().astype(np.float64)


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
    columns: tuple[int, ...] = (0, 1),
    comment: str = "#",
    header: bool = False,
    undirected: bool = False,
    relabel: bool = True,
) -> Graph:
    """Read a graph file into a :class:`~gasengine.graph.Graph`.

    Parameters
    ----------
    path : str or path-like
        The file to read.
    format : {"edgelist", "csv", "tsv", "mtx", "dimacs"}, optional
        ``edgelist``: whitespace-separated columns (tabs and/or spaces, SNAP
        style), blank lines and ``comment`` lines skipped, a ``comment`` later
        on a line ends it.  ``csv`` / ``tsv``: fields split at every ``,`` /
        tab, surrounding blanks stripped, no quoting.  ``mtx``: Matrix Market
        through :func:`scipy.io.mmread`; symmetric files give both directions,
        values become the edge field ``"weight"`` (none for ``pattern``).
        ``dimacs``: 9th DIMACS ``.gr`` (``c`` comments, ``p sp n m``,
        ``a u v w`` arcs; ``w`` becomes ``"weight"``).  Inferred from the
        extension when omitted (see :data:`EXTENSIONS`).  All text formats
        accept LF or CRLF line endings and a missing final newline.
    columns : tuple of int
        ``(src_col, dst_col)`` or ``(src_col, dst_col, weight_col)``, 0-based,
        for edgelist/csv/tsv; the weight becomes the float64 edge field
        ``"weight"``.  Other columns are ignored.
    comment : str
        One-character comment marker for edgelist/csv/tsv (``""`` for none).
    header : bool
        Skip the first non-comment line (edgelist/csv/tsv).
    undirected : bool
        Every line is an undirected edge: store ``u->v`` and ``v->u`` (a
        self-loop once), with the same edge fields.  The reversed copies follow
        all the edges as read.
    relabel : bool
        ``True``: number the vertices ``0..n-1`` in increasing id order and
        keep the ids (int64) in ``graph.ids``; ids may be any integers.
        ``False``: use the ids as vertex numbers (``n = max id + 1``, negative
        ids are an error, ``graph.ids`` is None).  For ``mtx`` and ``dimacs``,
        whose files declare ``n`` 1-based vertices, ``True`` keeps all ``n``
        (isolated ones too) as ``0..n-1`` with ``ids = 1..n``, and ``False``
        uses the 1-based ids as vertex numbers (vertex 0 is then isolated).

    Returns
    -------
    Graph

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    GraphFormatError
        For an unknown format or bad content; the message starts with
        ``path:line:`` naming the first bad line.

    Examples
    --------
    >>> import tempfile, os
    >>> f = os.path.join(tempfile.mkdtemp(), "g.txt")
    >>> _ = open(f, "w").write("# a comment\\n10\\t20\\n20 30\\n")
    >>> g = load_graph(f)
    >>> g.num_vertices, g.num_edges, g.ids.tolist(), g.src.tolist(), g.dst.tolist()
    (3, 2, [10, 20, 30], [0, 1], [1, 2])
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such graph file: {path!r}")
    if format is None:
        format = infer_format(path)
    format = str(format).lower()
    if format not in FORMATS:
        raise GraphFormatError(
            f"unknown format {format!r}; accepted formats: {', '.join(FORMATS)}", path=path
        )
    if format == "mtx":
        _check_fixed_columns(columns, format)
        src, dst, weight, n = _read_mtx(path)
    elif format == "dimacs":
        _check_fixed_columns(columns, format)
        src, dst, weight, n = _read_dimacs(path)
    else:
        delim = {"edgelist": None, "csv": ",", "tsv": "\t"}[format]
        src, dst, weight = _read_delimited(path, delim, columns, comment, header, relabel)
        n = None
    return _build_graph(path, src, dst, weight, n, undirected, relabel)


# --------------------------------------------------------------- text formats
def _check_fixed_columns(columns: tuple[int, ...], format: str) -> None:
    if tuple(columns) != (0, 1):
        raise ValueError(f"columns= does not apply to the {format!r} format (its layout is fixed)")


def _read_bytes(path: str) -> tuple[np.ndarray, int]:
    """The file as a uint8 array and the offset after a UTF-8 byte-order mark."""
    buf = np.fromfile(path, dtype=np.uint8)
    start = 3 if buf[:3].tobytes() == b"\xef\xbb\xbf" else 0
    return buf, start


def _single_byte(value: str | None, name: str) -> int:
    if not value:
        return 0
    if len(value) != 1 or ord(value) > 127:
        raise ValueError(f"{name} must be a single ASCII character, got {value!r}")
    return ord(value)


def _read_delimited(
    path: str,
    delim: str | None,
    columns: tuple[int, ...],
    comment: str,
    header: bool,
    relabel: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    columns = tuple(int(c) for c in columns)
    if len(columns) not in (2, 3) or min(columns) < 0 or len(set(columns)) != len(columns):
        raise ValueError(
            f"columns must be 2 or 3 distinct non-negative indices "
            f"(src, dst[, weight]), got {columns}"
        )
    id_lo = 0 if not relabel else -int(_ID_LIMIT)
    buf, start = _read_bytes(path)
    comment_byte = _single_byte(comment, "comment")
    return _scan_records(
        path, buf, start, 0, delim, comment_byte, comment_byte != 0, 0,
        header, columns, id_lo, int(_ID_LIMIT),
    )


def _scan_records(
    path: str,
    buf: np.ndarray,
    start: int,
    line0: int,
    delim: str | None,
    comment: int,
    comment_anywhere: bool,
    tag: int,
    header: bool,
    columns: tuple[int, ...],
    id_lo: int,
    id_hi: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run the compiled scanner and turn a failure into a GraphFormatError."""
    cap = _count_lines(buf, start)
    c_w = columns[2] if len(columns) == 3 else -1
    out_src = np.empty(cap, np.int64)
    out_dst = np.empty(cap, np.int64)
    out_w = np.empty(cap if c_w >= 0 else 0, np.float64)
    whitespace = delim is None
    result = _scan(
        buf, start, line0, whitespace, 0 if whitespace else ord(delim), comment,
        comment_anywhere, tag, header, columns[0], columns[1], c_w,
        id_lo, id_hi, out_src, out_dst, out_w,
    )
    rec, status, line, ts, te, col, slow_rec, slow_ts, slow_te, nslow = result
    if status != _OK:
        raise _scan_error(path, buf, status, line, ts, te, col, columns, rec, header, id_lo, id_hi)
    weight = None
    if c_w >= 0:
        weight = out_w[:rec]
        if nslow:
            weight[slow_rec[:nslow]] = _slow_weights(buf, slow_ts[:nslow], slow_te[:nslow])
    return out_src[:rec], out_dst[:rec], weight


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
) -> GraphFormatError:
    """Describe the scanner's failure in words (error path only)."""
    token = buf[ts:te].tobytes().decode("utf-8", "replace")
    if status == _FEW_COLUMNS:
        need = max(columns) + 1
        text = token.rstrip("\r")
        return GraphFormatError(
            f"expected at least {need} columns (columns={tuple(columns)}), "
            f"found {col}: {text[:80]!r}",
            path=path, line=line,
        )
    what = "weight" if len(columns) == 3 and col == columns[2] else "vertex id"
    where = f"{what} {token[:40]!r} in column {col}"
    if status == _ID_NOT_NUMBER:
        hint = ""
        if rec == 0 and not header:
            hint = " (if the first line is a header, pass header=True)"
        message = f"{where} is not a number{hint}"
    elif status == _ID_NOT_INTEGER:
        message = f"{where} is not an integer"
    elif status == _ID_TOO_LONG:
        message = f"{where} has more than {_MAX_ID_DIGITS} digits"
    elif status == _ID_OUT_OF_RANGE:
        if id_lo == 0:
            message = (
                f"{where} is negative; relabel=False uses ids as vertex numbers "
                f"(pass relabel=True for arbitrary integer ids)"
            )
        else:
            message = f"{where} is outside {id_lo}..{id_hi}"
    elif status == _EMPTY_FIELD:
        message = f"empty field in column {col}"
    elif status == _BAD_TAG:
        message = f"expected an arc line 'a u v w', found {token[:40]!r}"
    elif status == _WEIGHT_NOT_NUMBER:
        message = f"{where} is not a number"
    elif status == _WEIGHT_NAN:
        message = f"{where} is NaN"
    else:  # pragma: no cover - all codes are listed above
        message = f"unreadable line (status {status})"
    return GraphFormatError(message, path=path, line=line)


# ------------------------------------------------------------------- DIMACS
_PROBLEM_LINE = re.compile(rb"p\s+(\S+)\s+(\S+)\s+(\S+)\s*$")


def _read_dimacs(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Arcs of a 9th DIMACS shortest-path file, ids kept 1-based."""
    buf, start = _read_bytes(path)
    num_vertices, num_arcs, line0, body = _dimacs_problem_line(path, buf, start)
    src, dst, weight = _scan_records(
        path, buf, body, line0, None, ord("c"), False, ord("a"), False,
        (1, 2, 3), 1, num_vertices,
    )
    if src.size != num_arcs:
        raise GraphFormatError(
            f"the 'p' line (line {line0}) declares {num_arcs} arcs but the file has "
            f"{src.size} 'a' lines",
            path=path,
        )
    return src, dst, weight, num_vertices


def _dimacs_problem_line(path: str, buf: np.ndarray, start: int) -> tuple[int, int, int, int]:
    """(n, m, line number, byte offset after it) of the ``p`` line.

    Only the comment lines before it are visited in Python, so the cost does
    not grow with the number of arcs.
    """
    pos, line = start, 0
    data = buf  # bytes are sliced lazily, one line at a time
    while pos < data.size:
        line += 1
        end = _line_end(data, pos)
        text = data[pos:end].tobytes().strip()
        pos = end + 1
        if not text or text[:1] == b"c":
            continue
        match = _PROBLEM_LINE.fullmatch(text)
        if text[:1] != b"p" or match is None:
            shown = text[:60].decode("utf-8", "replace")
            return _raise(path, line, f"expected the problem line 'p sp n m' before any arc, found {shown!r}")
        try:
            n, m = int(match.group(2)), int(match.group(3))
        except ValueError:
            n = m = -1
        if n < 0 or m < 0:
            return _raise(path, line, f"bad problem line {text.decode('utf-8', 'replace')!r}; expected 'p sp n m'")
        return n, m, line, pos
    return _raise(path, None, "no problem line 'p sp n m' found")


def _line_end(buf: np.ndarray, pos: int) -> int:
    hits = np.flatnonzero(buf[pos : pos + 65536] == 10)
    if hits.size:
        return pos + int(hits[0])
    rest = np.flatnonzero(buf[pos:] == 10)
    return pos + int(rest[0]) if rest.size else buf.size


def _raise(path: str, line: int | None, message: str) -> Any:
    raise GraphFormatError(message, path=path, line=line)


# ------------------------------------------------------------- Matrix Market
_MM_LINE = re.compile(r"[Ll]ine\s+(\d+)")


def _read_mtx(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """Entries of a Matrix Market file as 1-based (row, col, value) arrays."""
    import scipy.io
    import scipy.sparse as sp

    try:
        rows, cols, _, _, field, _ = scipy.io.mminfo(path)
        matrix = scipy.io.mmread(path)
    except (ValueError, OSError, IndexError) as exc:
        match = _MM_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        raise GraphFormatError(f"not a valid Matrix Market file: {exc}", path=path, line=line) from exc
    if rows != cols:
        raise GraphFormatError(
            f"the matrix is {rows}x{cols}; an adjacency matrix must be square", path=path
        )
    if field == "complex":
        raise GraphFormatError("complex matrices cannot be read as edge weights", path=path)
    coo = sp.coo_array(matrix)  # dense "array" files keep only their non-zeros
    weight = None
    if field != "pattern":
        weight = np.asarray(coo.data, dtype=np.float64)
        bad = np.flatnonzero(np.isnan(weight))
        if bad.size:
            k = int(bad[0])
            raise GraphFormatError(
                f"NaN weight at entry ({int(coo.row[k]) + 1}, {int(coo.col[k]) + 1})", path=path
            )
    src = coo.row.astype(np.int64) + 1
    dst = coo.col.astype(np.int64) + 1
    return src, dst, weight, int(rows)


# ---------------------------------------------------------------- assembly
def _build_graph(
    path: str,
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray | None,
    declared_n: int | None,
    undirected: bool,
    relabel: bool,
) -> Graph:
    """Relabel (or not), mirror undirected edges and make the Graph."""
    ids = None
    if declared_n is not None:  # mtx / dimacs: ids 1..n declared by the file
        if relabel:
            dtype = index_dtype(max(declared_n, 1))
            src, dst = (src - 1).astype(dtype), (dst - 1).astype(dtype)
            ids = np.arange(1, declared_n + 1, dtype=np.int64)
            n = declared_n
        else:
            n = declared_n + 1
    elif relabel:
        src, dst, ids = relabel_ids(src, dst)
        n = ids.size
    else:
        n = int(max(src.max(initial=-1), dst.max(initial=-1))) + 1
        dtype = index_dtype(max(n, 1))
        src, dst = src.astype(dtype), dst.astype(dtype)
    edge_data = {} if weight is None else {"weight": weight}
    if undirected:
        src, dst, edge_data = _mirror(src, dst, edge_data)
    return Graph(src, dst, num_vertices=n, edge_data=edge_data, ids=ids)


def _mirror(
    src: np.ndarray, dst: np.ndarray, edge_data: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Append ``v->u`` for every non-loop ``u->v``, with copied edge fields."""
    back = np.flatnonzero(src != dst)
    new_src = np.concatenate([src, dst[back]])
    new_dst = np.concatenate([dst, src[back]])
    return new_src, new_dst, {k: np.concatenate([v, v[back]]) for k, v in edge_data.items()}


def relabel_ids(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compact arbitrary integer ids to ``0..n-1`` in increasing id order.

    Non-negative ids whose maximum is small relative to the number of edges use
    a presence bitmap and a cumulative sum (O(m + max id)); other ids fall back
    to :func:`numpy.unique` (O(m log m)).

    Returns
    -------
    src, dst : ndarray
        Vertex numbers (int32 when they fit).
    ids : ndarray of int64
        ``ids[k]`` is the original id of vertex ``k``.

    Examples
    --------
    >>> s, d, ids = relabel_ids(np.array([7, 3]), np.array([3, 42]))
    >>> s.tolist(), d.tolist(), ids.tolist()
    ([1, 0], [0, 2], [3, 7, 42])
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    if src.size == 0:
        empty = np.empty(0, np.int32)
        return empty, empty.copy(), np.empty(0, np.int64)
    lo = min(int(src.min()), int(dst.min()))
    hi = max(int(src.max()), int(dst.max()))
    if lo >= 0 and hi < max(16 * src.size, 1 << 20):
        present = np.zeros(hi + 1, dtype=bool)
        present[src] = True
        present[dst] = True
        ids = np.flatnonzero(present).astype(np.int64)
        dtype = index_dtype(max(ids.size, 1))
        if ids.size == hi + 1:  # ids already 0..n-1: nothing to renumber
            return src.astype(dtype), dst.astype(dtype), ids
        new_number = np.cumsum(present, dtype=dtype)
        new_number -= 1
        return new_number[src], new_number[dst], ids
    ids, inverse = np.unique(np.concatenate([src, dst]), return_inverse=True)
    inverse = inverse.astype(index_dtype(max(ids.size, 1)), copy=False)
    return inverse[: src.size], inverse[src.size :], ids
