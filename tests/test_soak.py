"""A short soak: 30 consecutive runs in this process leave nothing behind.

The run mix is :mod:`tests.soak_mix` (``benchmarks/soak.py`` runs 200 of the
same runs and prints the table): algorithms on every engine, the local
backend and two worker processes, programs that raise on purpose and workers
SIGKILLed mid-run.  After every run: no child process and no shared-memory
segment of this process is left, and after the first cycle (which opens
what is opened once: numba's caches, the graphs' cut caches) neither open
file descriptors nor resident memory grow.
"""

from __future__ import annotations

import pytest

from tests.soak_mix import CYCLE, open_fds, our_segments, probe, soak, wait_for_children

RUNS = 30
WARM_UP = len(CYCLE)  # one full cycle: every kind of run has happened once
#: Resident memory the last runs may add over the first cycle's end (measured: at most 2.5 MB in 580 runs; see
#: benchmarks/README.md).
RSS_SLACK_MB = 20

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def rows():
    before = probe(0, "before", "", 0.0)
    got = soak(RUNS)
    return before, got


def test_every_kind_of_run_happened(rows):
    _, got = rows
    assert len(got) == RUNS
    assert {row.outcome for row in got} == {"ok", "error", "killed", "budget"}
    assert sum(row.outcome == "killed" for row in got) >= 2


def test_no_child_process_and_no_segment_is_left_after_any_run(rows):
    before, got = rows
    assert [row.run for row in got if row.children > before.children] == []
    assert [row.run for row in got if row.segments > before.segments] == []
    assert wait_for_children(0) <= before.children and len(our_segments()) <= before.segments


def test_file_descriptors_do_not_grow(rows):
    before, got = rows
    settled = got[WARM_UP - 1].fds
    assert settled <= before.fds + 2, [row.fds for row in got]  # the first cycle opens at most a couple, once
    assert [(row.run, row.fds) for row in got[WARM_UP:] if row.fds > settled] == []
    assert open_fds() <= settled


def test_resident_memory_stays_put_after_the_first_cycle(rows):
    _, got = rows
    settled = got[WARM_UP - 1].rss_mb
    assert max(row.rss_mb for row in got[WARM_UP:]) - settled < RSS_SLACK_MB, [row.rss_mb for row in got]
