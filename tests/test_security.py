"""Security: shared-memory segments, the files gasengine writes, and what it unpickles.

Real worker processes, real ``/dev/shm``, real files; the tests that need
another user (``nobody``) run only as root.
"""

from __future__ import annotations

import errno
import os
import pickle
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import dill
import numpy as np
import pytest

from gasengine import VertexProgram, messages, run
from gasengine.files import write_file_safely
from gasengine.shm import Segment, new_run_prefix, remove_orphaned_segments, shm_dir
from tests.datasets import REPO, random_graph

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root, to own files as another user")


@pytest.fixture
def umask():
    """Set the umask for one test (``umask(0o077)``), restored afterwards."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield os.umask
    os.umask(previous)


def dead_pid() -> int:
    """The pid of a process that has just ended (nothing else has it, for the next moments)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    return int(proc.stdout)


# ================================================================ shared memory
class Slow(VertexProgram):
    def init(self, v):
        v.data["x"] = np.zeros(len(v))

    def apply(self, v, acc):
        time.sleep(0.02)
        v.data["x"] = v.data["x"] + 1
        v.signal()


@pytest.mark.parametrize("mask", [0o000, 0o277])
def test_every_segment_of_a_run_is_mode_0600_whatever_the_umask(mask, umask):
    """Watch /dev/shm while two workers run: the driver's part segments and the workers' mailboxes."""
    umask(mask)  # 0: the most permissive; 0o277 would leave the owner read-only
    seen: dict[str, tuple[int, int, int]] = {}
    done = threading.Event()

    def watch():
        while not done.is_set():
            for entry in shm_dir().glob(f"gasengine-{os.getpid()}-*"):
                try:
                    info = entry.lstat()
                except FileNotFoundError:
                    continue
                seen.setdefault(entry.name.split("-", 3)[3], (info.st_mode, info.st_uid, info.st_nlink))
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        # big enough that messages carry arrays over INLINE_BYTES, which travel through the mailboxes
        result = run(Slow(), random_graph(3000, 30_000, seed=1), workers=2, max_supersteps=25)
    finally:
        done.set()
        watcher.join()
    assert result.field("x").tolist() == [25.0] * 3000
    kinds = {name.split("-")[0] for name in seen}
    assert kinds == {"part", "mbox"}, seen  # both kinds were seen, and nothing else
    for name, (mode, uid, links) in seen.items():
        assert stat.S_ISREG(mode) and links == 1, name
        # 0600, or 0600 less the umask in the instant between creating and fchmod: never more than 0600
        assert stat.S_IMODE(mode) in (0o600, 0o600 & ~mask), (name, oct(mode))
        assert uid == os.geteuid()


@pytest.fixture
def victim(tmp_path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_bytes(b"precious\n")
    return path


@pytest.fixture
def segment_name():
    """A fresh segment name (as a run would make it); whatever ends up at it is removed afterwards."""
    name = new_run_prefix() + "part-0"
    yield name
    (shm_dir() / name).unlink(missing_ok=True)


def test_a_symlink_planted_at_a_segment_name_is_not_followed(victim, segment_name):
    (shm_dir() / segment_name).symlink_to(victim)
    with pytest.raises(FileExistsError):
        Segment.create(segment_name, 1 << 16)
    assert victim.read_bytes() == b"precious\n"  # neither truncated nor grown to the segment's size
    assert (shm_dir() / segment_name).is_symlink()


def test_a_file_planted_at_a_segment_name_is_not_opened(segment_name):
    """Another user's world-writable file under the name would let them read and write the run's data."""
    planted = shm_dir() / segment_name
    planted.write_bytes(b"planted")
    planted.chmod(0o666)
    if os.geteuid() == 0:
        os.chown(planted, NOBODY, NOBODY)
    with pytest.raises(FileExistsError):
        Segment.create(segment_name, 4096)
    assert planted.read_bytes() == b"planted" and stat.S_IMODE(planted.stat().st_mode) == 0o666


def test_attach_refuses_a_symlink(segment_name):
    seg = Segment.create(segment_name, 4096)
    link = shm_dir() / (segment_name + "-link")
    link.symlink_to(shm_dir() / segment_name)
    try:
        with pytest.raises(OSError) as info:
            Segment.attach(link.name)
        assert info.value.errno == errno.ELOOP
    finally:
        link.unlink()
        seg.unlink()


@as_root
def test_attach_refuses_a_segment_of_another_user(segment_name):
    Segment.create(segment_name, 4096)
    os.chown(shm_dir() / segment_name, NOBODY, NOBODY)
    with pytest.raises(PermissionError, match="not by this user"):
        Segment.attach(segment_name)


@as_root
def test_another_users_orphaned_segments_are_left_alone_and_do_not_stop_a_run():
    """A dead driver's leftovers are removed by the next run of the *same* user only.

    Another user's run used to try to remove them too, and failed with
    PermissionError (``/dev/shm`` is sticky): anyone could stop everyone's
    multiprocess runs by leaving a file named ``gasengine-<dead pid>-x``.
    """
    pid = dead_pid()
    mine = shm_dir() / f"gasengine-{pid}-deadbeef-part-0"
    theirs = shm_dir() / f"gasengine-{pid}-deadbeef-part-1"
    mine.write_bytes(b"")
    theirs.write_bytes(b"")
    os.chown(theirs, NOBODY, NOBODY)
    try:
        assert remove_orphaned_segments() >= 1
        assert not mine.exists() and theirs.exists()  # root removed its own orphan, not nobody's
        os.chown(theirs, 0, 0)
        # now the other way round: ``nobody`` finds root's orphan.  The child drops to nobody once started
        # (this interpreter may live where nobody cannot read).
        code = textwrap.dedent(f"""
            import os, sys
            sys.path.insert(0, {str(REPO)!r})
            from gasengine.shm import remove_orphaned_segments
            os.setgroups([]); os.setgid({NOBODY}); os.setuid({NOBODY})
            print(remove_orphaned_segments())
        """)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "0"
        assert theirs.exists()
    finally:
        theirs.unlink(missing_ok=True)


# ================================================================ files
def cli_write_safely(path, write):
    from gasengine.cli import write_safely

    return write_safely(str(path), write)


WRITERS = [
    pytest.param(write_file_safely, id="files.write_file_safely"),
    pytest.param(cli_write_safely, id="cli.write_safely"),
]


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize(("mask", "expected"), [(0o077, 0o600), (0o022, 0o644), (0o002, 0o664)])
def test_files_get_the_users_umask(writer, mask, expected, umask, tmp_path):
    out = tmp_path / "ranks.tsv"
    umask(mask)
    assert writer(out, lambda f: f.write(b"1\t0.5\n")) == 6
    assert stat.S_IMODE(out.stat().st_mode) == expected and out.read_bytes() == b"1\t0.5\n"
    out.chmod(0o600)  # a replaced file gets the umask again, not the old file's mode
    writer(out, lambda f: f.write(b"2\t0.5\n"))
    assert stat.S_IMODE(out.stat().st_mode) == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ranks.tsv"]


def test_a_private_mode_is_honoured_less_the_umask(umask, tmp_path):
    umask(0o022)
    write_file_safely(tmp_path / "ckpt.npz", lambda f: f.write(b"x"), mode=0o600)
    assert stat.S_IMODE((tmp_path / "ckpt.npz").stat().st_mode) == 0o600


@pytest.mark.parametrize("writer", WRITERS)
def test_a_symlink_planted_at_the_output_path_is_not_followed(writer, victim, tmp_path):
    out = tmp_path / "out" / "ranks.tsv"
    out.parent.mkdir()
    out.symlink_to(victim)
    try:
        writer(out, lambda f: f.write(b"overwritten\n"))
    except Exception as exc:  # noqa: BLE001 - refusing is right; which error is the writer's business
        assert "symbolic link" in str(exc)
    assert victim.read_bytes() == b"precious\n"
    assert out.is_symlink() and os.readlink(out) == str(victim)  # not ours to remove either


def test_a_symlink_at_the_output_path_is_refused_with_a_clear_error(victim, tmp_path):
    out = tmp_path / "ranks.tsv"
    out.symlink_to(victim)
    with pytest.raises(OSError) as info:
        write_file_safely(out, lambda f: f.write(b"x"))
    assert info.value.errno == errno.ELOOP and info.value.filename == str(out)
    assert f"is a symbolic link (to {victim})" in str(info.value)
    dangling = tmp_path / "dangling.tsv"
    dangling.symlink_to(tmp_path / "nowhere" / "new.tsv")
    with pytest.raises(OSError, match="is a symbolic link"):
        write_file_safely(dangling, lambda f: f.write(b"x"))
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("writer", WRITERS)
def test_a_symlink_planted_at_the_temporary_name_is_not_followed(writer, victim, tmp_path, monkeypatch):
    """A symlink waits at the name the writer will create first; it must draw another name.

    ``write_file_safely``'s names are random, so the test makes the first
    draw known (the only thing replaced here is the random generator);
    ``cli.write_safely``'s name is ``<path>.<pid>.tmp``, known anyway.
    """
    from gasengine import files

    out = tmp_path / "ranks.tsv"
    draws = iter(["planted", "fresh"])
    monkeypatch.setattr(files, "_random_token", lambda: next(draws))
    planted = [tmp_path / f".ranks.tsv.{os.getpid()}.planted.tmp", tmp_path / f"ranks.tsv.{os.getpid()}.tmp"]
    for link in planted:
        link.symlink_to(victim)
    writer(out, lambda f: f.write(b"new\n"))
    if writer is write_file_safely:
        assert next(draws, None) is None  # the planted name was tried first, then a fresh one
    assert victim.read_bytes() == b"precious\n"
    assert out.read_bytes() == b"new\n" and not out.is_symlink()
    assert all(link.is_symlink() for link in planted)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([out.name, victim.name] + [p.name for p in planted])


@pytest.mark.parametrize("writer", WRITERS)
def test_a_hard_link_planted_at_the_output_path_is_replaced_not_written(writer, victim, tmp_path):
    out = tmp_path / "ranks.tsv"
    os.link(victim, out)
    writer(out, lambda f: f.write(b"new\n"))
    assert victim.read_bytes() == b"precious\n" and out.read_bytes() == b"new\n"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    out = tmp_path / "ranks.tsv"
    out.write_bytes(b"old\n")

    def half(f):
        f.write(b"half")
        raise KeyboardInterrupt  # Ctrl-C half-way

    with pytest.raises(KeyboardInterrupt):
        write_file_safely(out, half)
    assert out.read_bytes() == b"old\n" and [p.name for p in tmp_path.iterdir()] == ["ranks.tsv"]


def test_devices_are_written_in_place_and_directories_refused(tmp_path):
    assert write_file_safely("/dev/null", lambda f: f.write(b"gone")) == 4
    with pytest.raises(OSError) as info:
        write_file_safely("/dev/full", lambda f: f.write(b"x" * 100_000))
    assert info.value.errno == errno.ENOSPC
    with pytest.raises(IsADirectoryError):
        write_file_safely(tmp_path, lambda f: f.write(b"x"))
    assert list(tmp_path.iterdir()) == []


def test_numpy_writers_work_on_the_file(tmp_path):
    out = tmp_path / "cut.npz"
    write_file_safely(out, lambda f: np.savez(f, edge_part=np.arange(5)))
    with np.load(out, allow_pickle=False) as data:
        assert data["edge_part"].tolist() == [0, 1, 2, 3, 4]


# ================================================================ what is unpickled
AUDIT = textwrap.dedent(
    """
    import os, sys, traceback
    sys.path.insert(0, {repo!r})
    log = {log!r}
    found = set()

    def note(kind, module, name):  # forked workers inherit both hooks; each appends what it sees
        if (kind, module, name) not in found:
            found.add((kind, module, name))
            fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, f"{{kind}} {{module}} {{name}}\\n".encode())
            os.close(fd)

    def hook(event, args):  # the default unpickler's lookups (an audit event of both pickle implementations)
        if event == "pickle.find_class":
            caller = [f.filename for f in traceback.extract_stack()[:-1]]
            # numba loading its own compiled-code cache from __pycache__ is not a message
            if not any(os.sep + "numba" + os.sep in f for f in caller):
                note("default", args[0], args[1])

    sys.addaudithook(hook)
    from gasengine import messages
    granted = messages.MessageUnpickler.find_class

    def find_class(self, module, name):
        note("message", module, name)
        return granted(self, module, name)

    messages.MessageUnpickler.find_class = find_class
    from tests.soak_mix import CYCLE, run_case
    names = {names!r}
    answers = {{}}
    for case in CYCLE:
        if case.name in names:
            run_case(case, answers)
    print("ran", sum(case.name in names for case in CYCLE))
    """
)


def test_multiprocess_runs_read_messages_only_with_the_message_unpickler(tmp_path):
    """Every lookup an unpickler makes, in the driver and in every worker, over runs of every kind.

    Runs in a fresh interpreter: an audit hook sees the default unpickler's
    lookups (there must be none), a wrapper sees the message unpickler's
    (each one must be on its list, and the common ones must show up, so
    that the runs did exchange messages).
    """
    names = [
        "pagerank sync [mp]",
        "triangles sync [mp]",
        "k-core chromatic/edge [mp]",
        "als sync [mp]",
        "pagerank async/edge fifo [mp]",
        "raises in gather async/full [mp]",
        "worker SIGKILLed sync [mp]",
    ]
    log = tmp_path / "globals.txt"
    script = tmp_path / "audit.py"
    script.write_text(AUDIT.format(repo=str(REPO), log=str(log), names=names))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ran", str(len(names))]
    seen = [tuple(line.split()) for line in log.read_text().splitlines()]
    assert [s for s in seen if s[0] == "default"] == []
    granted = {(module, name) for kind, module, name in seen if kind == "message"}
    assert {("gasengine.launcher", "WorkerOutcome"), ("gasengine.shm", "ArraySpec")} <= granted
    assert any(module.startswith("numpy") for module, _ in granted)
    assert all(messages._allowed(module, name) is not None for module, name in granted)


class Point:  # a class of the user's own: data, but not a type messages carry
    def __init__(self, x):
        self.x = x


@pytest.mark.parametrize(
    "payload",
    [
        b"cos\nsystem\n(S'true'\ntR.",  # protocol 0: os.system('true')
        pickle.dumps(eval, protocol=5),  # builtins.eval
        pickle.dumps(getattr, protocol=5),  # builtins.getattr: the usual first step to anything
        pickle.dumps(np.load, protocol=5),  # a numpy function, not one of its rebuilding ones
        pickle.dumps(subprocess.Popen, protocol=2),
        pickle.dumps(Point(1), protocol=5),
        pickle.dumps(VertexProgram, protocol=5),
        dill.dumps(eval("lambda: 1", {})),  # dill's functions by value: code objects
    ],
    ids=["os.system", "eval", "getattr", "numpy.load", "Popen", "user class", "program class", "dill lambda"],
)
def test_a_message_naming_anything_but_data_is_refused(payload):
    with pytest.raises(messages.MessageRefused, match="gasengine never unpickles"):
        messages.loads(payload)


def test_messages_carry_data_arrays_and_the_engine_types():
    import gasengine.ragged
    from gasengine.accumulators import KeyCounts
    from gasengine.launcher import FailureReport, WorkerOutcome
    from gasengine.result import StepStats

    ragged = gasengine.ragged.Ragged(np.array([0, 2, 3]), np.array([4, 5, 6]))
    counts = KeyCounts(np.array([0, 1]), np.array([7]), np.array([0.5]))
    message = {
        "arrays": [np.arange(5.0), np.arange(12).reshape(3, 4)[:, 1:], np.zeros(2, dtype=[("a", "f8"), ("b", "i4")])],
        "scalars": (np.float32(1.5), np.int64(-3), np.bool_(True), 2 + 3j, None, "é"),
        "sets": ({1, 2}, frozenset({"a"}), range(3), slice(1, 5), bytearray(b"x")),
        "engine": [ragged, counts, StepStats(1, 2, 3, 4.0, 5.0, 6.0, 7)],
        "outcome": WorkerOutcome([], True, None),
        "failure": FailureReport(1, "crash", "ValueError: x", "tb"),
    }
    buffers: list = []
    back = messages.loads(messages.dumps(message, buffers.append), buffers=buffers)
    assert len(buffers) >= 3  # arrays out of band
    assert back["arrays"][1].tolist() == message["arrays"][1].tolist()
    assert back["arrays"][2].dtype == message["arrays"][2].dtype
    assert back["scalars"] == message["scalars"] and type(back["scalars"][0]) is np.float32
    assert back["sets"] == message["sets"]
    assert back["engine"][0].ptr.tolist() == [0, 2, 3] and back["engine"][0].values.tolist() == [4, 5, 6]
    assert back["engine"][1].keys.tolist() == [7] and back["engine"][2] == message["engine"][2]
    assert back["outcome"] == message["outcome"] and back["failure"] == message["failure"]


@pytest.mark.parametrize(
    "array",
    [
        np.arange(5.0),
        np.arange(12, dtype=np.int32).reshape(3, 4)[:, 1:],  # not contiguous
        np.asfortranarray(np.arange(6).reshape(2, 3)),
        np.array(7, dtype=np.uint16),  # 0-d
        np.zeros(0, dtype=np.int64),
        np.array([True, False]),
        np.array([1 + 2j], dtype=np.complex64),
        np.array(["2026-12-04"], dtype="datetime64[D]"),
        np.zeros(2, dtype=[("a", "f8"), ("b", "i4")]),  # fields: numpy's own pickling
        np.array(["ab", "c"]),  # strings: numpy's own pickling
    ],
)
def test_small_arrays_of_a_note_come_back_equal_and_writable(array):
    from gasengine.shm import flatten_arrays, restore_arrays

    out: list[np.ndarray] = []
    note = flatten_arrays({"x": [array]}, out, threshold=4096)
    back = restore_arrays(messages.loads(messages.dumps(note)), out)["x"][0]
    assert not out and back.dtype == array.dtype and back.shape == array.shape
    assert np.array_equal(back, array) and back.flags.writeable
    back[...] = array  # writable: a receiver may fold into what it got


def test_an_inline_array_of_objects_is_refused():
    from gasengine.shm import Inline

    forged = messages.dumps(Inline("|O", (1,), bytearray(8)))
    with pytest.raises(ValueError, match="OBJECT"):
        messages.loads(forged).array()


def test_every_engine_type_named_on_the_list_exists():
    for module, name in messages.ENGINE_TYPES:
        assert isinstance(messages._allowed(module, name), type), (module, name)


def test_a_message_that_cannot_be_pickled_plainly_is_refused_at_the_sender():
    with pytest.raises(messages.MessageRefused, match="cannot send a dict between processes"):
        messages.dumps({"f": lambda: 1})


def unpicklable_total(total):
    return Point(float(total))


def test_an_aggregator_value_of_the_users_own_class_fails_on_workers_saying_why():
    """Only data leaves a worker: a finalize returning a user's object is refused by the driver, clearly."""
    from gasengine import Aggregator
    from gasengine.errors import WorkerFailed

    class Count(VertexProgram):
        aggregators = (Aggregator("total", lambda v: np.ones(len(v)), finalize=unpicklable_total),)

        def init(self, v):
            v.data["x"] = np.zeros(len(v))

        def apply(self, v, acc):
            v.data["x"] = v.data["x"] + 1

    local = run(Count(), random_graph(50, 200, seed=2), max_supersteps=1)
    assert local.aggregates["total"].x == 50.0
    with pytest.raises(WorkerFailed, match=r"test_security\.Point.*never unpickles"):
        run(Count(), random_graph(50, 200, seed=2), workers=2, max_supersteps=1)
