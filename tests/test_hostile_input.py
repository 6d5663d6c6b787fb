"""Hostile input at scale: random and mutated files for the loaders, random programs for the engine.

Every example is checked against an *independent reference* written here in
plain Python (bytes, ``re`` and ``float``, one line at a time):

- a file the reference reads must load into exactly the graph it describes
  (the same edges in the same order, the same ids, bit-identical weights);
- a file the reference refuses must raise a documented error -- a
  :class:`gasengine.GraphFormatError` whose message starts with
  ``path:line:`` for the *first* bad line (``path:`` for a file-level fault:
  empty, compressed, unknown extension) -- or a ``ValueError`` for a bad
  option;
- nothing else: any other exception is a bug in the loader.

The files are tiny (a few lines) so that the module runs more than ten
thousand examples in well under a minute.  Hypothesis is derandomized: CI
sees the same examples every time.  Programs get the same treatment: a
random valid program (min-label propagation, in many spellings) on a random
graph must give the labels the reference computes, and the same program
with one fault in it must end in a :class:`gasengine.ProgramError` naming the
faulty ``Class.method`` whenever the fault actually ran.  Finally a sample of
the hostile files goes through the command line, which must answer every
loader error with exit status 2 and one line, ``gasengine: error: ...``.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from gasengine import ALL, IN, OUT, Graph, GraphFormatError, ProgramError, VertexProgram, run
from gasengine.loaders import load_graph
from gasengine.ratings import load_ratings


def hostile(n: int, **extra):
    """Settings for a property test of ``n`` examples: reproducible, no deadline, no database."""
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
        **extra,
    )


#: Examples per test; their sum (asserted below) is the module's total.
EXAMPLES = {
    "edge_lists": 3200,
    "edge_soup": 2600,
    "ratings": 2300,
    "ratings_soup": 1450,
    "programs": 700,
    "cli_edges": 250,
    "cli_ratings": 150,
}


def test_the_module_runs_at_least_ten_thousand_examples():
    assert sum(EXAMPLES.values()) >= 10_000


_SCRATCH: list[Path] = []  # the folder of this module's files, made by the first write


@pytest.fixture(scope="module", autouse=True)
def _scratch_folder():
    """The files of all examples live in one folder, removed after the module."""
    yield
    while _SCRATCH:
        shutil.rmtree(_SCRATCH.pop(), ignore_errors=True)


def write(name: str, data: bytes) -> Path:
    """``data`` as the file ``name`` in this module's scratch folder (overwritten by every example).

    Written in place and then cut to length: opening with ``O_TRUNC`` makes
    ext4 flush the file on close (``auto_da_alloc``), 1.4 ms an example.
    """
    if not _SCRATCH:
        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="hostile-input-")))
    path = _SCRATCH[0] / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.write(fd, data)
        os.ftruncate(fd, len(data))
    finally:
        os.close(fd)
    return path


# =================================================================== reference
class Refused(Exception):
    """The reference refuses the file: ``line`` is the first bad line (None: the file as a whole)."""

    def __init__(self, line: int | None, why: str):
        super().__init__(f"line {line}: {why}")
        self.line = line
        self.why = why


class MidSized(Exception):
    """relabel=False with an id that is large but fits in memory: the example is skipped."""


class BadOption(Exception):
    """The reference says an option is invalid (the loader must raise ValueError)."""


BOM = b"\xef\xbb\xbf"
BLANKS = b" \t\r\x0b\x0c"  # what the loaders call blanks: never the newline
MAGIC = (b"\x1f\x8b", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"PK\x03\x04", b"PK\x05\x06", b"\xff\xfe", b"\xfe\xff")
BZIP2 = re.compile(rb"BZh[1-9](1AY&SY|\x17rE8P\x90)")
ID = re.compile(rb"[+-]?[0-9]+(\.0*)?")  # "7", "+7", "-7", "007", "7.", "7.00"
NUMBER = re.compile(
    rb"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?:inf|infinity|nan))", re.IGNORECASE
)
CANONICAL_INT = re.compile(rb"0|-?[1-9][0-9]{0,17}")  # how str(int) writes it, at most 18 digits
INT64_MAX = 2**63 - 1
EXTENSIONS = {
    ".txt": "edgelist",
    ".edges": "edgelist",
    ".el": "edgelist",
    ".cedge": "edgelist",
    ".csv": "csv",
    ".tsv": "tsv",
}
DELIMITERS = {"edgelist": None, "csv": b",", "tsv": b"\t", "movielens": b"::"}


def check_comment(comment: str, fmt: str | None) -> int | None:
    """The comment byte, or BadOption: one ASCII character that cannot be part of a field or a separator."""
    if comment == "":
        return None
    bad = len(comment) != 1 or ord(comment) > 127 or comment.isalnum() or comment in "+-.\n \t\r\x0b\x0c"
    if fmt is not None and not bad and DELIMITERS[fmt] is not None and comment.encode() in DELIMITERS[fmt]:
        bad = True
    if bad:
        raise BadOption(comment)
    return ord(comment)


def file_checks(data: bytes) -> tuple[bytes, int | None]:
    """The text after a UTF-8 BOM, and the line of the first carriage return inside a line (None: none).

    Refused for compressed files and UTF-16.
    """
    head = data[:10]
    if any(head.startswith(m) for m in MAGIC) or BZIP2.match(head):
        raise Refused(None, "compressed or UTF-16")
    body = data[3:] if data.startswith(BOM) else data
    stray = re.search(rb"\r(?!\n|\Z)", body)  # a CR that neither ends a CRLF nor the file
    return body, (body[: stray.start()].count(b"\n") + 1 if stray else None)


def before_stray_cr(cr_line: int | None, read):
    """``read()``, unless a carriage return stands inside a line: then the file is refused at that line,
    or at an earlier bad line (the lines before the CR read as they are)."""
    try:
        result = read()
    except Refused as refused:
        if cr_line is None or (refused.line is not None and refused.line < cr_line):
            raise
        raise Refused(cr_line, "carriage return inside a line") from None
    if cr_line is not None:
        raise Refused(cr_line, "carriage return inside a line")
    return result


def lines_of(body: bytes) -> list[tuple[int, bytes]]:
    """``(number, line)`` for every line (without its LF)."""
    return list(enumerate(body.split(b"\n"), start=1))


def split_record(line: bytes, delim: bytes | None, comment: int | None) -> list[bytes] | None:
    """The fields of a line, or None for a blank or comment line.

    Whitespace: fields are runs of non-blanks.  A delimiter: split at every
    one, surrounding blanks stripped.  The comment character ends the line's
    content wherever it appears; a line is a comment when it is the first
    character after leading blanks (in TSV a leading tab is an empty field).
    """
    lead = BLANKS.replace(b"\t", b"") if delim == b"\t" else BLANKS
    rest = line.lstrip(lead)
    if not rest or (comment is not None and rest[0] == comment):
        return None
    content = line if comment is None else line.split(bytes([comment]), 1)[0]
    if delim is None:
        return re.split(rb"[ \t\r\x0b\x0c]+", content.strip(BLANKS))
    return [f.strip(BLANKS) for f in content.split(delim)]


def records(body: bytes, delim, comment, header: bool) -> list[tuple[int, list[bytes]]]:
    """``(line number, fields)`` of every data record, the header line skipped if asked."""
    out = []
    skip = header
    for number, line in lines_of(body):
        fields = split_record(line, delim, comment)
        if fields is None:
            continue
        if skip:
            skip = False
            continue
        out.append((number, fields))
    return out


def parse_id(token: bytes, lo: int) -> int | None:
    """An id token's value, or None if it is not one (``lo`` is the smallest id allowed)."""
    if not ID.fullmatch(token):
        return None
    value = int(token.split(b".")[0])
    return value if lo <= value <= INT64_MAX and abs(value) <= INT64_MAX else None


def parse_number(token: bytes) -> float | None:
    """A number token's value (NaN included), or None."""
    return float(token) if NUMBER.fullmatch(token) else None


def read_edges(body: bytes, name: str, fmt: str, columns, code: int | None, header: bool, relabel: bool):
    """The records of an edge list: ``(src, dst, weights, columns, largest id, its line)``, or Refused."""
    recs = records(body, DELIMITERS[fmt], code, header)
    if columns is None:  # the endpoints, and the next column if the first record has a number there
        ends = (1, 2) if Path(name).suffix.lower() == ".cedge" else (0, 1)
        columns = ends
        first = recs[0][1] if recs else []
        if len(first) > ends[1] + 1 and first[ends[1] + 1] and parse_number(first[ends[1] + 1]) is not None:
            columns = (*ends, ends[1] + 1)
    lo = -INT64_MAX if relabel else 0
    src, dst, weight = [], [], []
    top, top_line = None, 0
    for number, fields in recs:
        for c in columns:
            if c >= len(fields):
                raise Refused(number, f"no column {c}")
            if not fields[c]:
                raise Refused(number, f"empty column {c}")
        for c in columns[:2]:
            value = parse_id(fields[c], lo)
            if value is None:
                raise Refused(number, f"bad id {fields[c]!r}")
            if top is None or value > top:
                top, top_line = value, number
        if len(columns) == 3:
            w = parse_number(fields[columns[2]])
            if w is None or math.isnan(w):
                raise Refused(number, f"bad weight {fields[columns[2]]!r}")
            weight.append(w)
        src.append(parse_id(fields[columns[0]], lo))
        dst.append(parse_id(fields[columns[1]], lo))
    return src, dst, (weight if len(columns) == 3 else None), columns, top, top_line


def reference_edges(
    data: bytes, name: str, fmt: str | None, columns, comment: str, header: bool, relabel: bool, undirected: bool
) -> dict:
    """What ``load_graph`` must return for this file: a dict describing the graph, or Refused/BadOption."""
    if fmt is None:
        fmt = EXTENSIONS.get(Path(name).suffix.lower())
    head = data[:10]
    if any(head.startswith(m) for m in MAGIC) or BZIP2.match(head):
        raise Refused(None, "compressed")
    if fmt is None:
        raise Refused(None, "unknown extension")
    code = check_comment(comment, fmt)
    body, cr_line = file_checks(data)
    src, dst, weight, columns, top, top_line = before_stray_cr(
        cr_line, lambda: read_edges(body, name, fmt, columns, code, header, relabel)
    )
    if not relabel and top is not None and top >= 2**40:
        raise Refused(top_line, "relabel=False: too many vertices for memory")
    if not relabel and top is not None and top >= 10**6:
        raise MidSized(top)  # would really allocate top * 8 bytes: not this module's business
    if undirected:
        loops = [s == d for s, d in zip(src, dst)]
        back = [(d, s, w) for s, d, w, loop in zip(src, dst, weight or [None] * len(src), loops) if not loop]
        src = src + [b[0] for b in back]
        dst = dst + [b[1] for b in back]
        if weight is not None:
            weight = weight + [b[2] for b in back]
    ids = sorted(set(src) | set(dst)) if relabel else None
    n = len(ids) if relabel else (top + 1 if top is not None else 0)
    return {"src": src, "dst": dst, "weight": weight, "ids": ids, "n": n, "directed": not undirected}


def sniff(name: str, first: bytes) -> str:
    """The ratings layout from the extension, else from the first data line."""
    by_extension = {".csv": "csv", ".tsv": "tsv"}.get(Path(name).suffix.lower())
    if by_extension:
        return by_extension
    for marker, fmt in ((b"::", "movielens"), (b"\t", "tsv"), (b",", "csv")):
        if marker in first:
            return fmt
    return "edgelist"


def reference_ratings(data: bytes, name: str, fmt: str | None, columns, comment: str, header) -> dict:
    """What ``load_ratings`` must return for this file (a dict), or Refused/BadOption."""
    head = data[:10]
    if any(head.startswith(m) for m in MAGIC) or BZIP2.match(head):
        raise Refused(None, "compressed")
    code = check_comment(comment, None)
    if b"\0" in data:
        raise Refused(data[: data.index(b"\0")].count(b"\n") + 1, "NUL byte")
    body, cr_line = file_checks(data)
    return before_stray_cr(cr_line, lambda: read_ratings(body, name, fmt, columns, comment, code, header))


def read_ratings(body: bytes, name: str, fmt: str | None, columns, comment: str, code: int | None, header) -> dict:
    """The ratings graph of a text (a dict), or Refused/BadOption."""
    firsts = [line.strip() for _, line in lines_of(body)]
    firsts = [t for t in firsts if t and not (code is not None and t[0] == code)]
    if not firsts:
        raise Refused(None, "no data line")
    fmt = fmt or sniff(name, firsts[0])
    check_comment(comment, fmt)
    delim = DELIMITERS[fmt]
    recs_all = records(body, delim, code, False)
    if header is None:  # a header when its user and rating fields are words
        c_user, c_rating = (0, 2) if columns is None else (columns[0], columns[2])
        header = False
        if recs_all and len(recs_all[0][1]) > max(c_user, c_rating):

            def word(token: bytes) -> bool:
                return parse_number(token) is None and re.search(rb"[A-Za-z]", token) is not None

            header = word(recs_all[0][1][c_rating]) and word(recs_all[0][1][c_user])
    recs = records(body, delim, code, bool(header))
    if not recs:
        raise Refused(None, "only a header")
    found = min(len(recs[0][1]), 64)
    if columns is None:
        if found not in (3, 4):
            raise Refused(recs[0][0], "not 3 or 4 fields")
        columns = tuple(range(found))
    width = max(columns) + 1
    nfields = max(found, width)
    roles = dict(zip(columns, ("user", "item", "rating", "time")))
    users, items, ratings, times = [], [], [], []
    for number, fields in recs:
        row = {}
        for c, token in enumerate(fields[:width]):
            role = roles.get(c)
            if role is None:
                continue
            if not token:
                raise Refused(number, f"empty {role}")
            if role == "rating":
                value = parse_number(token)
                if value is None or not math.isfinite(value):
                    raise Refused(number, f"bad rating {token!r}")
            elif role == "time":
                value = parse_id(token, -INT64_MAX)
                if value is None:
                    raise Refused(number, f"bad timestamp {token!r}")
            else:
                value = token
            row[role] = value
        if len(fields) != nfields:
            raise Refused(number, f"{len(fields)} fields, expected {nfields}")
        for role in ("user", "item"):
            try:
                row[role].decode("utf-8")
            except UnicodeDecodeError:
                raise Refused(number, f"{role} id not UTF-8") from None
        users.append(row["user"])
        items.append(row["item"])
        ratings.append(row["rating"])
        times.append(row.get("time"))

    def side(tokens: list[bytes]) -> tuple[list, dict]:
        distinct = set(tokens)
        if all(CANONICAL_INT.fullmatch(t) for t in distinct):
            ordered = sorted(distinct, key=int)
            return [int(t) for t in ordered], {t: k for k, t in enumerate(ordered)}
        ordered = sorted(t.decode("utf-8") for t in distinct)
        return ordered, {t.encode("utf-8"): k for k, t in enumerate(ordered)}

    user_ids, user_of = side(users)
    item_ids, item_of = side(items)
    if all(isinstance(x, int) for x in user_ids + item_ids):
        ids = user_ids + item_ids
    else:
        ids = [str(x) for x in user_ids + item_ids]
    U = len(user_ids)
    return {
        "src": [user_of[t] for t in users],
        "dst": [U + item_of[t] for t in items],
        "ids": ids,
        "rating": ratings,
        "time": times if len(columns) == 4 else None,
        "U": U,
    }


# ============================================================== outcome checks
def same_floats(got: np.ndarray, want: list[float]) -> bool:
    """Bit-identical float64 values (so -0.0 is not 0.0, and inf is inf)."""
    want_a = np.array(want, dtype=np.float64)
    if got.dtype != np.float64 or got.shape != want_a.shape:
        return False
    return bool((got.view(np.int64) == want_a.view(np.int64)).all())


def expect_refusal(path: Path, refused: Refused, call) -> None:
    """``call()`` must raise GraphFormatError naming ``path`` and the reference's first bad line."""
    try:
        got = call()
    except GraphFormatError as err:
        where = f"{path}:{refused.line}: " if refused.line is not None else f"{path}: "
        assert str(err).startswith(where), f"expected {where!r} ({refused.why}), got {err}"
        assert (err.path, err.line) == (str(path), refused.line), str(err)
        assert "\n" not in str(err)
        return
    raise AssertionError(f"the reference refuses this file ({refused}) but the loader read {got}")


def check_edges(path: Path, data: bytes, fmt, options: dict) -> None:
    """The loader's outcome for an edge-list file is the reference's."""

    def call():
        return load_graph(path, format=fmt, **options)

    try:
        want = reference_edges(
            data,
            path.name,
            fmt,
            options.get("columns"),
            options.get("comment", "#"),
            options.get("header", False),
            options.get("relabel", True),
            options.get("undirected", False),
        )
    except Refused as refused:
        event(f"refused: {refused.why.split(' ')[0]}, line {'None' if refused.line is None else 'n'}")
        expect_refusal(path, refused, call)
        return
    except BadOption:
        event("bad comment option")
        with pytest.raises(ValueError) as info:
            call()
        assert not isinstance(info.value, GraphFormatError) and "comment" in str(info.value)
        return
    except MidSized:
        event("skipped: relabel=False, mid-sized id")
        return
    weighted = "weighted" if want["weight"] is not None else "unweighted"
    event(f"loaded: {weighted}, {'empty' if not want['src'] else 'edges'}")
    g = call()
    assert g.directed == want["directed"]
    assert g.num_vertices == want["n"]
    if want["ids"] is None:
        assert g.ids is None
        src, dst = g.src.tolist(), g.dst.tolist()
    else:
        assert g.ids.dtype == np.int64 and g.ids.tolist() == want["ids"]
        src, dst = g.ids[g.src].tolist(), g.ids[g.dst].tolist()
    assert (src, dst) == (want["src"], want["dst"])
    if want["weight"] is None:
        assert g.edge_data == {}
    else:
        assert set(g.edge_data) == {"weight"} and same_floats(g.edge_data["weight"], want["weight"])


def check_ratings(path: Path, data: bytes, fmt, options: dict) -> None:
    """The ratings loader's outcome is the reference's."""

    def call():
        return load_ratings(path, format=fmt, **options)

    try:
        want = reference_ratings(
            data, path.name, fmt, options.get("columns"), options.get("comment", "#"), options.get("header")
        )
    except Refused as refused:
        event(f"refused: {refused.why.split(' ')[0]}, line {'None' if refused.line is None else 'n'}")
        expect_refusal(path, refused, call)
        return
    except BadOption:
        event("bad comment option")
        with pytest.raises(ValueError) as info:
            call()
        assert not isinstance(info.value, GraphFormatError) and "comment" in str(info.value)
        return
    event(f"loaded: {'int' if all(isinstance(x, int) for x in want['ids']) else 'str'} ids")
    g = call()
    assert g.directed and g.num_vertices == len(want["ids"])
    assert g.ids.tolist() == want["ids"]
    assert g.ids.dtype.kind == ("i" if all(isinstance(x, int) for x in want["ids"]) else "U")
    assert g.src.tolist() == want["src"] and g.dst.tolist() == want["dst"]
    assert g.vertex_data["is_item"].tolist() == [k >= want["U"] for k in range(len(want["ids"]))]
    assert same_floats(g.edge_data["rating"], want["rating"])
    if want["time"] is None:
        assert "timestamp" not in g.edge_data
    else:
        assert g.edge_data["timestamp"].tolist() == want["time"]


# ================================================================== strategies
class Choices:
    """Choices read from one hypothesis byte string: each byte picks an option, simplest first.

    One draw per example keeps ten thousand examples fast, and hypothesis
    still shrinks a failure: shorter strings and smaller bytes decode to
    fewer lines and plainer tokens (options are listed simplest first, and
    a string that runs out picks the first option from then on).
    """

    def __init__(self, raw: bytes):
        self.raw = raw
        self.at = 0

    def byte(self) -> int:
        if self.at >= len(self.raw):
            return 0
        self.at += 1
        return self.raw[self.at - 1]

    def below(self, n: int) -> int:
        return self.byte() % n

    def pick(self, options):
        return options[self.below(len(options))]

    def one_in(self, n: int) -> bool:
        return self.below(n) == n - 1

    def bytes(self, n: int) -> bytes:
        return bytes(self.byte() for _ in range(n))

    def double(self) -> float:
        """Any finite float64, from 8 bytes."""
        x = float(np.frombuffer(self.bytes(8), dtype=np.float64)[0])
        return x if np.isfinite(x) else 0.0


#: Tokens that have broken parsers: ids beyond int64, signs, unicode digits, NaN, BOMs, bytes that are not text.
HOSTILE_TOKENS = [
    b"9223372036854775807",
    b"9223372036854775808",
    b"-9223372036854775807",
    b"-9223372036854775808",
    b"18446744073709551616",
    b"1" * 30,
    b"0" * 25 + b"7",
    b"-1",
    b"-0",
    b"+7",
    b"007",
    b"7.0",
    b"7.",
    b"7.5",
    b".0",
    b"1e3",
    b"nan",
    b"NaN",
    b"-nan",
    b"inf",
    b"-Infinity",
    b"infinit",
    b"1e999",
    b"-1e999",
    b"4.9e-324",
    b"1e-400",
    b"0.1234567890123456789",
    b"123456789012345678901234",
    b"0x10",
    b"1_000",
    b"1e",
    b"--1",
    b"+",
    b"",
    BOM,
    "\u0661\u0662".encode(),
    "\uff11\uff12".encode(),
    "½".encode(),
    "²".encode(),
    "é".encode(),
    "\U0001d7d9".encode(),
    "\u00a0".encode(),
    "\u2028".encode(),
    b"\x00",
    b"\xff",
    b"\x80",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"\xc0\xaf",
    b"\xe0\x80\x80",
    b"#",
    b"%",
    b",",
    b"\t",
    b"\r",
    b"\r\n",
    b"\n",
    b"::",
    b":",
    b":::",
    b";",
    b"|",
    b"\x1f",
    b"\x0b",
    b"\x0c",
    b" ",
    b"user",
    b"SOURCE",
    b"\x1f\x8b",
    b"PK\x03\x04",
]
SEPARATORS = {
    "edgelist": [b" ", b"\t", b"  ", b" \t "],
    "csv": [b",", b" , ", b", "],
    "tsv": [b"\t", b" \t"],
    "movielens": [b"::", b" :: "],
}
BIG_IDS = [2**31 - 1, 2**31, -(2**31), 2**53 + 1, 10**17, 10**18, 2**62, -(2**63) + 1, 2**63 - 1, -5, -1]
COMMENTS = ["#", "%", "/", ";", "", "1", "-", ".", "e", ",", " ", "\t", "ab", "é", ":"]
WEIGHTS = [
    b"1",
    b"0.5",
    b"2.5",
    b"-3",
    b"0",
    b"-0",
    b".5",
    b"5.",
    b"+.5e+3",
    b"1e3",
    b"inf",
    b"-Infinity",
    b"1e999",
    b"4.9e-324",
    b"0.1234567890123456789",
    b"123456789012345678901",
]


def id_token(c: Choices, relabel: bool) -> bytes:
    """An id: mostly small, in any spelling the loaders accept; with relabel, any int64."""
    value = c.below(13)
    if relabel and c.one_in(4):
        value = c.pick(BIG_IDS) if c.below(2) else int.from_bytes(c.bytes(8), "little", signed=True)
        value = max(value, -(2**63) + 1)
    text = str(value)
    style = c.below(8)
    if style == 5 and value >= 0:
        text = "+" + text
    elif style == 6 and value >= 0:
        text = "00" + text
    elif style == 7:
        text += ".0"
    return text.encode()


def number_token(c: Choices) -> bytes:
    """A weight or rating: small integers, plain decimals, special spellings, or any float64."""
    kind = c.below(4)
    if kind == 0:
        return str(c.below(11)).encode()
    if kind == 1:
        return c.pick(WEIGHTS)
    if kind == 2:
        return repr(c.double()).encode()
    return b"%d.%d" % (c.below(100), c.below(100))


def mutate(c: Choices, data: bytes) -> bytes:
    """``data`` with up to three hostile edits: truncated, bytes inserted or deleted, a token replaced,
    line endings changed, a BOM or garbage dropped in, a line duplicated."""
    for _ in range(c.pick([0, 0, 1, 1, 2, 3])):
        kind = c.below(8)
        at = c.below(256) * (len(data) + 1) // 256
        if kind == 0:
            data = data[:at]
        elif kind == 1:
            data = data[:at] + c.pick(HOSTILE_TOKENS) + data[at:]
        elif kind == 2:
            data = data[:at] + c.bytes(1 + c.below(4)) + data[at:]
        elif kind == 3:
            data = data[:at] + data[at + 1 + c.below(3) :]
        elif kind == 4:
            spans = [m.span() for m in re.finditer(rb"[^ \t,:\r\n]+", data)]
            if spans:
                s, e = spans[c.below(len(spans))]
                data = data[:s] + c.pick(HOSTILE_TOKENS) + data[e:]
        elif kind == 5:
            data = data.replace(b"\r\n", b"\n").replace(b"\n", c.pick([b"\r\n", b"\r", b"\n\r"]))
        elif kind == 6:
            data = data[:at] + BOM + data[at:]
        else:
            lines = data.split(b"\n")
            k = c.below(len(lines))
            data = b"\n".join(lines[: k + 1] + lines[k:])
    return data


def text_file(c: Choices, rows: list[list[bytes]], fmt: str, comment: str, header: bytes | None) -> bytes:
    """The rows joined with the format's separators, with comments, blank lines, CRLF, a BOM, a header."""
    newline = c.pick([b"\n", b"\n", b"\r\n"])
    mark = comment.encode() if comment else None
    lines = []
    if header is not None:
        if mark and c.one_in(2):
            lines.append(mark + b" exported by a tool")
        lines.append(header)
    for row in rows:
        if mark and c.one_in(5):
            lines.append(mark + b" a comment line")
        if c.one_in(7):
            lines.append(c.pick([b"", b"  ", b"\t "]))
        line = c.pick(SEPARATORS[fmt]).join(row)
        if fmt != "tsv" and c.one_in(6):
            line = b"  " + line
        if mark and c.one_in(6):
            line += b" " + mark + b" trailing"
        lines.append(line)
    text = newline.join(lines)
    if lines and c.below(2) == 0:
        text += newline
    if c.one_in(5):
        text = BOM + text
    return text


def edge_case(raw: bytes):
    """(file name, bytes, format argument, load_graph options): a valid edge list, maybe mutated."""
    c = Choices(raw)
    fmt = c.pick(["edgelist", "csv", "tsv", "edgelist"])
    ext = c.pick({"edgelist": [".txt", ".edges", ".el", ".cedge"], "csv": [".csv"], "tsv": [".tsv"]}[fmt])
    pass_format = c.one_in(4)
    if pass_format and c.one_in(2):
        ext = ".dat"  # an extension that says nothing: only format= can say it
    elif not pass_format and c.one_in(40):
        ext = ".dat"  # ... and without format= that is an error
    relabel = not c.one_in(4)
    columns = c.pick([None, None, None, (0, 1), (1, 0), (0, 1, 2), (2, 0, 1), (0, 2, 1)])
    comment = c.pick(COMMENTS) if c.one_in(4) else "#"
    header = c.one_in(6)
    ncols = c.pick([2, 3, 3, 4])
    rows = []
    for _ in range(c.below(7)):
        row = [id_token(c, relabel), id_token(c, relabel)]
        row += [number_token(c) if k == 2 or c.below(2) else b"x%d" % k for k in range(2, ncols)]
        if ext == ".cedge":
            row.insert(0, b"%d" % len(rows))
        rows.append(row)
    head = b"src%sdst" % SEPARATORS[fmt][0] if header else None
    data = mutate(c, text_file(c, rows, fmt, comment, head))
    options = {"relabel": relabel, "undirected": c.one_in(2), "header": header}
    if columns is not None:
        options["columns"] = columns
    if comment != "#":
        options["comment"] = comment
    return f"g{ext}", data, (fmt if pass_format else None), options


#: Pieces edge lists and ratings files are made of (half the bytes pick one of these) ...
SOUP = [b"1", b" ", b"2", b"\n", b"12", b"0", b"\t", b"7", b",", b"::", b"3", b"\n"]
#: ... and some they should not hold.
SOUP_RARE = [
    b"-",
    b"+",
    b".",
    b"e",
    b"5",
    b"\r\n",
    b"\r",
    b"#",
    b"%",
    b"nan",
    b"inf",
    b"\x00",
    b"\xff",
    BOM,
    "\u0661".encode(),
    b"9223372036854775808",
    b":",
    b"a",
    b"\xc3\xa9",
    b"\x1f",
    b"  ",
    b"\x0b",
]


def soup(raw: bytes) -> bytes:
    """Random strings over the alphabet of these files: the scanners' grammar, explored blindly."""
    return b"".join(SOUP[b % len(SOUP)] if b < 128 else SOUP_RARE[b % len(SOUP_RARE)] for b in raw)


def rating_case(raw: bytes):
    """(file name, bytes, format argument, load_ratings options): a valid ratings file, maybe mutated."""
    c = Choices(raw)
    fmt = c.pick(["movielens", "edgelist", "csv", "tsv", "movielens"])
    ext = {"csv": ".csv", "tsv": ".tsv"}.get(fmt) or c.pick([".dat", ".txt", ".data"])
    pass_format = c.one_in(5)
    ncols = c.pick([3, 3, 4])
    columns = None
    if c.one_in(5):
        columns = c.pick([(0, 1, 2), (1, 0, 2), (0, 1, 2, 3), (2, 1, 0)])
        ncols = max(ncols, max(columns) + 1)
    comment = c.pick(COMMENTS) if c.one_in(4) else "#"
    rows = []
    for _ in range(1 + c.below(5)):
        row = [rating_id(c), rating_id(c), number_token(c)]
        if ncols == 4:
            row.append(str(int.from_bytes(c.bytes(5), "little")).encode())
        if columns is not None:  # the values where the columns say
            placed = [b"0"] * ncols
            for k, token in zip(columns, row):
                placed[k] = token
            row = placed
        rows.append(row)
    header_line = None
    if c.one_in(5):
        header_line = SEPARATORS[fmt][0].join([b"userId", b"movieId", b"rating", b"timestamp"][:ncols])
    data = mutate(c, text_file(c, rows, fmt, comment, header_line))
    options = {}
    header = c.pick([None, None, True, False])
    if header is not None:
        options["header"] = header
    if columns is not None:
        options["columns"] = columns
    if comment != "#":
        options["comment"] = comment
    return f"r{ext}", data, (fmt if pass_format else None), options


RATING_IDS = [
    b"0000008",
    b"0114508",
    b"-0",
    b"+3",
    b"u1",
    b"tt0111161",
    "é".encode(),
    "日本".encode(),
    b"07",
    b"a-b",
    b"1.0",
    b"-12",
    b"99999999999999999999",
]


def rating_id(c: Choices) -> bytes:
    """A user or item id: small integers, large ones, and ids that must stay strings."""
    kind = c.below(10)
    if kind <= 6:
        return str(c.below(10)).encode()
    if kind == 7:  # up to 17 digits: an int64 id
        return str(int.from_bytes(c.bytes(7), "little", signed=True)).encode()
    if kind == 8:  # up to 22 digits: an id that stays a string
        return str(int.from_bytes(c.bytes(9), "little", signed=True)).encode()
    return c.pick(RATING_IDS)


# At least 64 bytes: enough for the options, a few lines and their mutations before the string runs out.
edge_cases = st.binary(min_size=64, max_size=192).map(edge_case)
rating_cases = st.binary(min_size=64, max_size=192).map(rating_case)


# ============================================================ edge-list tests
@hostile(EXAMPLES["edge_lists"])
@given(case=edge_cases)
@example(case=("g.csv", b"1,2\r3,4\r", None, {}))  # old Mac line endings: once read as one edge 1->2
@example(case=("g.txt", b"1 2\r3 4\r", None, {}))  # ... once read as one edge of weight 3
@example(case=("g.txt", b"# made on a Mac\r1 2\r", None, {}))  # ... once an empty graph
@example(case=("g.txt", b"1 2\n\xff x\n3\r4\n", None, {}))  # an earlier bad line comes before the CR
@example(case=("g.txt", b"1 2 0.5\n", None, {"comment": "."}))  # once the weight 0.5, though '.' ends the line
@example(case=("g.txt", b"21 3\n", None, {"comment": "1"}))  # once the edge 21->3
@example(case=("g.txt", b"1 2\n", None, {"comment": " "}))
@example(case=("g.csv", b"1,2\n", None, {"comment": ","}))
def test_edge_lists_load_as_the_reference_reads_them(case):
    name, data, fmt, options = case
    check_edges(write(name, data), data, fmt, options)


@hostile(EXAMPLES["edge_soup"])
@given(raw=st.binary(min_size=8, max_size=40))
def test_random_bytes_load_as_the_reference_reads_them(raw):
    c = Choices(raw[:2])
    name = ["s.txt", "s.csv", "s.tsv", "s.cedge"][c.below(4)]
    options = {"relabel": not c.one_in(3), "columns": c.pick([None, (0, 1), (0, 1, 2)])}
    check_edges(write(name, soup(raw[2:])), soup(raw[2:]), None, options)


# ============================================================== ratings tests
@hostile(EXAMPLES["ratings"])
@given(case=rating_cases)
@example(case=("r.dat", b"1::2::3\r4::5::6\r", None, {}))  # old Mac line endings: once one rating
@example(case=("r.dat", b"1::\xff::3\n", None, {}))  # an id that is not UTF-8: once no line number
@example(case=("r.dat", b"1::a\x1fb::3\n", None, {}))  # a raw 0x1f byte: once split the item id in two
@example(case=("r.txt", b"1 2 1e400\n1 2\n", None, {}))  # the first bad line is 1, not 2
@example(case=("r.txt", b"1 \xff 3\n1 2\n", None, {}))  # ... here too
@example(case=("r.txt", b"1 2 3\n", None, {"comment": " "}))
@example(case=("r.csv", b"1,2,3\n", None, {"comment": ","}))
@example(case=("r.txt", b"1 2 0.5\n", None, {"comment": "."}))
def test_ratings_load_as_the_reference_reads_them(case):
    name, data, fmt, options = case
    check_ratings(write(name, data), data, fmt, options)


@hostile(EXAMPLES["ratings_soup"])
@given(raw=st.binary(min_size=8, max_size=40))
def test_random_bytes_read_as_ratings_as_the_reference_reads_them(raw):
    c = Choices(raw[:1])
    name = ["s.dat", "s.csv", "s.tsv", "s.txt"][c.below(4)]
    options = {} if c.below(2) else {"header": False}
    check_ratings(write(name, soup(raw[1:])), soup(raw[1:]), None, options)


# =================================================================== programs
def random_graph(c: Choices) -> Graph:
    """A small random multigraph: self-loops, isolated vertices, directed or not."""
    n = c.below(10)
    m = c.below(15) if n else 0
    src = [c.below(n) for _ in range(m)]
    dst = [c.below(n) for _ in range(m)]
    return Graph(np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), num_vertices=n, directed=c.below(2) == 0)


def reference_labels(g: Graph, init: np.ndarray, gather: object) -> np.ndarray:
    """Min-label propagation to its fixed point: ``v`` ends with the least label that reaches it."""
    labels = [int(x) for x in init]
    edges = list(zip(g.src.tolist(), g.dst.tolist()))
    if gather is OUT:
        edges = [(d, s) for s, d in edges]
    elif gather is ALL:
        edges = edges + [(d, s) for s, d in edges]
    changed = True
    while changed:
        changed = False
        for s, d in edges:
            if labels[s] < labels[d]:
                labels[d] = labels[s]
                changed = True
    return np.array(labels)


#: Faults: (name, methods the error may name).  Declarations always fail; the others fail when they run.
FAULTS = {
    None: (),
    "gather_long": ("gather",),
    "gather_2d": ("gather",),
    "gather_scalar": ("gather",),
    "gather_none": ("gather",),
    "gather_raises": ("gather",),
    "gather_str": ("gather", "combine"),
    "gather_object": ("gather", "combine"),
    "gather_switch_dtype": ("gather",),
    "combine_lambda": ("combine",),
    "combine_unary": ("combine",),
    "combine_subtract": ("combine",),
    "combine_name": ("combine",),
    "combine_none": ("combine",),
    "combine_reduce": ("combine",),
    "combine_bitwise_on_floats": ("combine",),
    "combine_lcm_on_floats": ("combine",),
    "apply_short": ("apply",),
    "apply_2d": ("apply",),
    "apply_str": ("apply",),
    "apply_returns_int": ("apply",),
    "apply_returns_short": ("apply",),
    "apply_new_field": ("apply",),
    "apply_reads_unknown": ("apply",),
    "apply_raises": ("apply",),
    "scatter_long": ("scatter",),
    "scatter_int": ("scatter",),
    "scatter_nan": ("scatter",),
    "scatter_str": ("scatter",),
    "signal_nan": ("signal_nbrs",),
    "signal_long": ("signal_nbrs",),
    "bucket_zero": ("bucket_width",),
    "bucket_negative": ("bucket_width",),
    "bucket_nan": ("bucket_width",),
    "bucket_str": ("bucket_width",),
    "gather_edges_str": ("gather_edges",),
    "scatter_edges_int": ("scatter_edges",),
    "init_short": ("init",),
    "converged_array": ("converged",),
    "converged_raises": ("converged",),
}
#: Faults on the gathered dtype show when a gather runs; the other declarations fail before the run.
DTYPE_FAULTS = {"combine_bitwise_on_floats", "combine_lcm_on_floats"}
DECLARATIONS = {f for f in FAULTS if f and f.split("_")[0] in ("combine", "bucket")} - DTYPE_FAULTS | {
    "gather_edges_str",
    "scatter_edges_int",
}


def make_program(
    init: np.ndarray, dtype, gather_edges, mode: str, signals: str, fault: str | None, fired: list
) -> type:
    """A min-label propagation program in one of several valid spellings, with at most one fault."""
    back = {IN: OUT, OUT: IN, ALL: ALL}[gather_edges]

    def labels_of(values):
        return np.asarray(values, dtype=dtype)

    def fault_here(name: str, ran: bool = True) -> bool:
        if fault == name and ran:
            fired.append(name)
            return True
        return False

    attrs: dict = {"gather_edges": gather_edges, "scatter_edges": back, "combine": np.minimum}

    def init_(self, v):
        labels = labels_of(init[v.ids])
        if fault_here("init_short", len(v) > 0):
            labels = labels[:-1]
        v.data["label"] = labels
        v.data["changed"] = np.ones(len(v), dtype=bool)

    def gather(self, e):
        for name in DTYPE_FAULTS:
            fault_here(name)
        x = e.nbr_data["label"]
        if fault_here("gather_long", len(e) > 0):
            return np.append(x, x[:1])
        if fault_here("gather_2d", len(e) > 0):
            return np.stack([x, x], axis=1)
        if fault_here("gather_scalar", len(e) > 0):
            return x.min()
        if fault_here("gather_none"):
            return None
        if fault_here("gather_raises", len(e) > 0):
            raise RuntimeError("boom")
        if fault_here("gather_str"):
            return x.astype(str)
        if fault_here("gather_object"):
            return x.astype(object)
        if fault_here("gather_switch_dtype", len(e) > 0):
            return x.astype(str)
        if mode == "list":
            return list(x)
        return x

    def gather_nbr(self, u):
        for name in DTYPE_FAULTS:
            fault_here(name)
        return u.data["label"]

    def apply(self, v, acc):
        old = v.data["label"]
        new = np.minimum(old, acc).astype(dtype)
        changed = new != old
        if fault_here("apply_short", len(v) > 0):
            new = new[:-1]
        if fault_here("apply_2d", len(v) > 0):
            new = np.stack([new, new], axis=1)
        if fault_here("apply_str"):
            new = new.astype(str)
        if fault_here("apply_new_field"):
            v.data["lable"] = new
        if fault_here("apply_reads_unknown"):
            new = v.data["nope"]
        if fault_here("apply_raises", len(v) > 0):
            raise ValueError("bad apply")
        v.data["label"] = new
        v.data["changed"] = changed
        if fault_here("apply_returns_int"):
            return changed.astype(np.int64)
        if fault_here("apply_returns_short", len(v) > 0):
            return changed[:-1]
        return changed if signals != "field" else None

    def scatter(self, e):
        flags = np.asarray(e.vertex_data["changed"])
        if fault_here("scatter_long"):
            return np.append(flags, True)
        if fault_here("scatter_int"):
            return flags.astype(np.int64)
        if fault_here("scatter_nan", len(e) > 0):
            return np.full(len(e), np.nan)
        if fault_here("scatter_str"):
            return flags.astype(str)
        if signals == "priority":
            return np.where(flags, 0.0, np.inf)
        return flags

    def signal_nbrs(self, v):
        flags = np.asarray(v.data["changed"])
        if fault_here("signal_nan", len(v) > 0):
            return np.full(len(v), np.nan)
        if fault_here("signal_long"):
            return np.append(flags, True)
        return flags

    def converged(self, globals):
        if fault_here("converged_array"):
            return np.array([True, False])
        if fault_here("converged_raises"):
            raise KeyError("done?")
        return False

    attrs.update(init=init_, apply=apply, converged=converged)
    attrs["gather_nbr" if mode == "nbr" else "gather"] = gather_nbr if mode == "nbr" else gather
    attrs["signal_nbrs" if signals == "signal_nbrs" else "scatter"] = (
        signal_nbrs if signals == "signal_nbrs" else scatter
    )
    if signals == "priority":
        attrs["bucket_width"] = 1.0
    declared = {
        "combine_lambda": ("combine", staticmethod(lambda a, b: np.minimum(a, b))),  # noqa: PLW0108
        "combine_unary": ("combine", np.negative),
        "combine_subtract": ("combine", np.subtract),
        "combine_name": ("combine", "minimum"),
        "combine_none": ("combine", None),
        "combine_reduce": ("combine", np.minimum.reduce),
        "combine_bitwise_on_floats": ("combine", np.bitwise_or),
        "combine_lcm_on_floats": ("combine", np.lcm),
        "bucket_zero": ("bucket_width", 0.0),
        "bucket_negative": ("bucket_width", -1.0),
        "bucket_nan": ("bucket_width", float("nan")),
        "bucket_str": ("bucket_width", "wide"),
        "gather_edges_str": ("gather_edges", "in"),
        "scatter_edges_int": ("scatter_edges", 3),
    }
    if fault in declared:
        attr, value = declared[fault]
        attrs[attr] = value
        if fault not in DTYPE_FAULTS:
            fired.append(fault)
    return type("Labels", (VertexProgram,), attrs)


GATHER_FAULTS = {f for f in FAULTS if f and f.startswith("gather_") and f != "gather_edges_str"}


def program_case(raw: bytes):
    """A random graph, a min-label program's spelling, maybe one fault, an engine and a number of parts."""
    c = Choices(raw)
    fault = c.pick(list(FAULTS)) if c.below(3) else None
    dtype = c.pick([np.int64, np.int32, np.float64])
    mode = c.pick(["gather", "nbr", "list"])
    signals = c.pick(["bool", "field", "priority", "signal_nbrs"])
    if mode == "list" and dtype is not np.float64:
        mode = "gather"  # an empty list is float64: only float labels can be gathered as lists
    if fault in GATHER_FAULTS:
        mode = "gather"
    if (fault or "").startswith("scatter_") and fault != "scatter_edges_int":
        signals = "bool"
    if (fault or "").startswith("signal_"):
        signals = "signal_nbrs"
    if fault in DTYPE_FAULTS:
        dtype = np.float64
    if fault in ("apply_returns_short", "apply_returns_int"):
        signals = "bool"
    gather_edges = c.pick([IN, OUT, ALL])
    engine = c.pick(["sync", "chromatic", "async"])
    partitions = 1 + c.below(3)
    g = random_graph(c)
    order = sorted(range(g.num_vertices), key=lambda k: (c.byte(), k))
    init = np.array(order, dtype=np.int64) * 3 + 1
    return g, init, dtype, gather_edges, mode, signals, fault, engine, partitions


def fault_example(fault: str, dtype=np.float64, signals: str = "bool", engine: str = "sync"):
    """An explicit example of the program test: a 4-cycle and a self-loop, labels 10, 7, 4, 1."""
    g = Graph(np.array([0, 1, 2, 3, 3]), np.array([1, 2, 3, 0, 3]))
    return g, np.array([10, 7, 4, 1]), dtype, IN, "gather", signals, fault, engine, 2


@hostile(EXAMPLES["programs"])
@given(case=st.binary(min_size=24, max_size=80).map(program_case))
@example(case=fault_example(None))
@example(case=fault_example("bucket_zero", signals="priority"))  # once ZeroDivisionError
@example(case=fault_example("bucket_negative", signals="priority"))  # once wrong labels, silently
@example(case=fault_example("bucket_nan", signals="priority"))  # ... the same
@example(case=fault_example("bucket_str", signals="priority"))  # once a bare ValueError
@example(case=fault_example("combine_bitwise_on_floats"))  # once numpy's TypeError from the fold
@example(case=fault_example("combine_lcm_on_floats", engine="async"))
@example(case=fault_example("gather_str", dtype=np.int64))  # once "Invalid integer data type 'U'"
@example(case=fault_example("gather_object", engine="chromatic"))
@example(case=fault_example("converged_array"))  # once "The truth value of an array ... is ambiguous"
def test_random_programs_give_the_reference_labels_or_name_the_faulty_method(case):
    g, init, dtype, gather_edges, mode, signals, fault, engine, partitions = case
    fired: list = []
    program = make_program(init, dtype, gather_edges, mode, signals, fault, fired)
    try:
        result = run(program(), g, engine=engine, partitions=partitions, max_supersteps=200)
    except ProgramError as err:
        event(f"ProgramError: {fired[0] if fired else 'no fault'}")
        assert fired, f"a valid program failed: {err}"
        methods = FAULTS[fired[0]]
        assert any(str(err).startswith(f"Labels.{m}: ") for m in methods), (fired, str(err))
        return
    assert not fired or fired[0] not in DECLARATIONS, f"{fired[0]} was accepted"
    assert not fired, f"the fault {fired[0]} ran but the run succeeded"
    event(f"correct labels ({'fault that never ran' if fault else 'valid program'})")
    want = reference_labels(g, init, gather_edges)
    np.testing.assert_array_equal(result.field("label"), want.astype(dtype))


# ======================================================================= CLI
def cli(capsys, argv: list[str]) -> tuple[int, list[str]]:
    """``gasengine argv`` in this process: (exit status, stderr lines)."""
    from gasengine.cli import main

    capsys.readouterr()
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse refusing the arguments
        status = exc.code
    return status, capsys.readouterr().err.splitlines()


def check_cli(status: int, err: list[str], refused: Refused | None, path: Path) -> None:
    """A refused file: status 2 and exactly one line naming the file (and line); a read one: no traceback."""
    assert not any("Traceback" in line for line in err), "\n".join(err)
    if refused is not None:
        where = f"{path}:{refused.line}: " if refused.line is not None else f"{path}"
        assert status == 2 and len(err) == 1, (status, err)
        assert err[0].startswith("gasengine: error: ") and where in err[0], (err, refused)
        return
    assert status in (0, 2), (status, err)
    if status == 2:  # the algorithm refused the graph: one error line, after the "loaded ..." line
        errors = [line for line in err if line.startswith("gasengine: error: ")]
        assert len(errors) == 1 and err[-1] == errors[0], err


@hostile(EXAMPLES["cli_edges"])
@given(case=edge_cases)
@example(case=("g.txt", b"1 2\n2 3\x00\n", None, {}))
@example(case=("g.gz", b"\x1f\x8b\x08\x00", None, {}))
def test_cli_pagerank_answers_every_bad_edge_list_with_one_line(capsys, case):
    name, data, fmt, options = case
    options.pop("comment", None)  # the command line reads '#' comments, relabelled ids
    options["relabel"] = True
    path = write(name, data)
    try:
        reference_edges(
            data,
            name,
            fmt,
            options.get("columns"),
            "#",
            options.get("header", False),
            True,
            options.get("undirected", False),
        )
        refused = None
    except Refused as exc:
        refused = exc
    except MidSized:
        return
    argv = ["run", "pagerank", "--input", str(path), "--no-progress", "--top", "0", "--max-supersteps", "20"]
    if fmt is not None:
        argv += ["--format", fmt]
    if "columns" in options:
        argv += ["--columns", ",".join(map(str, options["columns"]))]
    if options.get("header"):
        argv.append("--header")
    if options.get("undirected"):
        argv.append("--undirected")
    status, err = cli(capsys, argv)
    check_cli(status, err, refused, path)


@hostile(EXAMPLES["cli_ratings"])
@given(case=rating_cases)
@example(case=("r.dat", b"1::2::3\n\n4::5\n", None, {}))
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # ALS of ratings near 1e308 overflows: not the loader's business
def test_cli_als_answers_every_bad_ratings_file_with_one_line(capsys, case):
    name, data, _, options = case  # the command line sniffs the layout, takes the columns as they come, '#' comments
    path = write(name, data)
    try:
        reference_ratings(data, name, None, None, "#", True if options.get("header") else None)
        refused = None
    except Refused as exc:
        refused = exc
    argv = ["run", "als", "--input", str(path), "--no-progress", "--top", "0", "--iterations", "1"]
    if options.get("header"):
        argv.append("--header")
    status, err = cli(capsys, argv)
    check_cli(status, err, refused, path)


def test_cli_debug_shows_the_traceback(capsys):
    """With ``--debug`` a failure may show its traceback (and must still be the same error)."""
    path = write("debug.txt", b"1 2\n3 x\n")
    for argv in (
        ["--debug", "run", "pagerank", "--input", str(path)],
        ["run", "pagerank", "--input", str(path), "--debug"],
    ):
        try:
            status, err = cli(capsys, argv)
        except GraphFormatError as exc:  # --debug lets the error through, traceback and all
            assert str(exc).startswith(f"{path}:2: ")
            return
        if not any("unrecognized arguments: --debug" in line or "invalid choice: '--debug'" in line for line in err):
            assert status == 2 and f"{path}:2: " in err[-1], err
            return
    pytest.skip("gasengine has no --debug option yet")
