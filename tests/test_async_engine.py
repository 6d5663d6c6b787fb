"""The asynchronous engine: schedulers, scope locks, conflicts, and a sequential reference at B=1."""

from __future__ import annotations

import heapq
import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from gasengine import IN, OUT, Aggregator, Graph, VertexProgram, run
from gasengine.async_engine import AsyncEngine
from gasengine.generators import grid
from gasengine.scheduler import Scheduler, random_keys, sweep_keys
from tests.datasets import random_graph

MOD = 97


class Order(VertexProgram):
    """x[v] <- (sum of in-neighbours' x + v) mod 97, three runs per vertex at most; signals carry
    priorities (x[v] + u) mod 13, so both the order of updates and the scheduler show in x."""

    gather_edges = IN
    scatter_edges = OUT

    def init(self, v):
        v.data["x"] = (v.ids * 5 + 1) % MOD
        v.data["runs"] = np.zeros(len(v), dtype=np.int64)

    def gather(self, e):
        return e.nbr_data["x"]

    def apply(self, v, acc):
        v.data["x"] = (acc + v.ids) % MOD
        v.data["runs"] = v.data["runs"] + 1

    def scatter(self, e):
        return np.where(e.src_data["runs"] < 3, ((e.src_data["x"] + e.dst) % 13).astype(np.float64), np.inf)


def sequential(g: Graph, scheduler: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Order run one vertex per round, by a scheduler written from its definition (the reference)."""
    n = g.num_vertices
    x = (np.arange(n) * 5 + 1) % MOD
    runs = np.zeros(n, dtype=np.int64)
    sources = [g.src[g.dst == v] for v in range(n)]
    targets = [g.dst[g.src == v] for v in range(n)]
    key = {v: (-np.inf if scheduler == "priority" else 0.0) for v in range(n)}
    if scheduler == "sweep":
        key = {v: float(v) for v in range(n)}
    if scheduler == "random":
        key = dict(zip(range(n), random_keys(np.arange(n), seed, 0).tolist()))
    cursor, rounds = -1.0, 0
    while key:
        rounds += 1
        v = min(key, key=lambda u: (key[u], u))
        cursor = key.pop(v)
        x[v] = (int(x[sources[v]].sum()) + v) % MOD
        runs[v] += 1
        if runs[v] >= 3:
            continue
        offers: dict[int, float] = {}
        for u in targets[v].tolist():
            offers[u] = min(offers.get(u, np.inf), float((x[v] + u) % 13))
        for u, prio in offers.items():
            if scheduler == "priority":
                key[u] = min(key.get(u, np.inf), prio)
            elif u not in key:
                key[u] = {
                    "fifo": float(rounds),
                    "random": rounds + float(random_keys(np.array([u]), seed, rounds)[0]),
                    "sweep": float(sweep_keys(np.array([u]), cursor, n)[0]),
                }[scheduler]
    return x, runs, rounds


# ---------------------------------------------------------------- schedulers
def test_fifo_runs_in_order_of_signalling_and_never_schedules_twice():
    s = Scheduler(np.arange(6))
    s.schedule(np.array([4, 1]), np.array([0.0, 0.0]), keep_lowest=False)
    s.schedule(np.array([2, 4]), np.array([1.0, 1.0]), keep_lowest=False)  # 4 waits already: keeps its place
    assert s.count == 3
    keys, gids, _ = s.pop(10, stamp=1)
    assert gids.tolist() == [1, 4, 2] and keys.tolist() == [0.0, 0.0, 1.0]


def test_priority_keeps_the_lowest_and_losers_come_back_first():
    s = Scheduler(np.arange(10, 16))
    s.schedule(np.array([0, 1, 2, 3]), np.array([5.0, 3.0, 4.0, 9.0]), keep_lowest=True)
    s.schedule(np.array([3]), np.array([1.0]), keep_lowest=True)
    s.schedule(np.array([1]), np.array([8.0]), keep_lowest=True)  # higher: ignored
    keys, gids, locs = s.pop(3, stamp=1)
    assert gids.tolist() == [13, 11, 12] and keys.tolist() == [1.0, 3.0, 4.0]
    s.done(locs[:1])
    s.put_back(keys[1:], locs[1:])  # lost their locks
    s.schedule(np.array([4]), np.array([3.5]), keep_lowest=True)
    keys, gids, _ = s.pop(10, stamp=2)
    assert gids.tolist() == [11, 14, 12, 10] and s.count == 4


def test_sweep_keys_go_round_robin_after_the_cursor():
    assert sweep_keys(np.array([0, 3, 7]), cursor=3.0, n=8).tolist() == [8.0, 11.0, 7.0]
    assert sweep_keys(np.array([2]), cursor=-1.0, n=8).tolist() == [2.0]


def test_random_keys_are_seeded_and_spread():
    a = random_keys(np.arange(1000), seed=3, round_=1)
    assert np.array_equal(a, random_keys(np.arange(1000), seed=3, round_=1))
    assert not np.array_equal(a, random_keys(np.arange(1000), seed=4, round_=1))
    assert 0.45 < a.mean() < 0.55 and np.unique(a).size == 1000


def test_a_big_scheduler_matches_a_binary_heap():
    rng = np.random.default_rng(5)
    n = 3000
    s = Scheduler(np.arange(n))
    ref: dict[int, float] = {}
    for stamp in range(1, 61):
        ids = np.unique(rng.integers(0, n, 400))
        keys = rng.integers(0, 50, ids.size).astype(float)
        s.schedule(ids, keys, keep_lowest=True)
        for v, k in zip(ids.tolist(), keys.tolist()):
            ref[v] = min(ref.get(v, np.inf), k)
        got_keys, got, locs = s.pop(150, stamp)
        want = heapq.nsmallest(150, ref, key=lambda v: (ref[v], v))
        assert got.tolist() == want
        ran = rng.random(got.size) < 0.4
        s.done(locs[ran])
        s.put_back(got_keys[~ran], locs[~ran])
        for v in got[ran].tolist():
            del ref[v]
        assert s.count == len(ref)


# ------------------------------------------------------- sequential reference
@pytest.mark.parametrize("scheduler", ["fifo", "sweep", "priority", "random"])
def test_one_candidate_per_round_is_the_sequential_execution(scheduler):
    g = random_graph(40, 150, seed=21)
    x, runs, rounds = sequential(g, scheduler, seed=7)
    for parts in (1, 3):
        r = run(Order(), g, engine="async", scheduler=scheduler, batch_size=1, partitions=parts, seed=7)
        np.testing.assert_array_equal(r.field("x"), x)
        np.testing.assert_array_equal(r.field("runs"), runs)
        assert r.supersteps == rounds and r.steps.column("updates").sum() == runs.sum()
        assert r.conflicts == 0 and r.converged


@pytest.mark.parametrize("scheduler", ["fifo", "priority"])
def test_one_candidate_per_round_with_two_workers(scheduler):
    g = random_graph(40, 150, seed=22)
    x, runs, _ = sequential(g, scheduler)
    r = run(Order(), g, engine="async", scheduler=scheduler, batch_size=1, workers=2, partitions=3)
    np.testing.assert_array_equal(r.field("x"), x)
    np.testing.assert_array_equal(r.field("runs"), runs)


@pytest.mark.parametrize("consistency", ["edge", "full"])
def test_a_cut_gives_the_same_run_on_any_number_of_workers(consistency):
    g = random_graph(80, 320, seed=23)
    options = dict(engine="async", consistency=consistency, scheduler="priority", batch_size=16, partitions=3)
    local = run(Order(), g, **options)
    forked = run(Order(), g, workers=3, **options)
    np.testing.assert_array_equal(local.field("x"), forked.field("x"))
    assert local.steps.column("updates").tolist() == forked.steps.column("updates").tolist()


# ------------------------------------------------------------ locks and races
class Race(VertexProgram):
    """Counts, on every out-edge, the rounds in which both of its ends ran: a data race seen from
    inside the program (the round is ``superstep``; ``last`` reaches mirrors before scatter)."""

    scatter_edges = OUT

    def init(self, v):
        v.data["last"] = np.zeros(len(v), dtype=np.int64)
        v.data["runs"] = np.zeros(len(v), dtype=np.int64)

    def init_edges(self, e):
        e.data["races"] = np.zeros(len(e), dtype=np.int64)

    def apply(self, v, acc):
        v.data["last"] = np.full(len(v), v.superstep)
        v.data["runs"] = v.data["runs"] + 1

    def scatter(self, e):
        both = (e.dst_data["last"] == e.superstep) & (e.src != e.dst)
        e.data["races"] = e.data["races"] + both
        return e.src_data["runs"] < 4


def distance_two_pairs(g: Graph, batch: np.ndarray) -> int:
    """Pairs of distinct batch vertices within distance 2 (scipy, from the whole graph)."""
    n = g.num_vertices
    keep = g.src != g.dst
    a = sp.csr_matrix((np.ones(keep.sum()), (g.src[keep], g.dst[keep])), shape=(n, n))
    a = ((a + a.T) > 0).astype(np.int64)
    near = ((a + a @ a + sp.identity(n, dtype=np.int64)) > 0)[batch][:, batch]
    return int((near.sum() - batch.size) // 2)


@pytest.mark.parametrize("parts", [1, 4])
def test_full_consistency_rounds_are_distance_two_independent(parts, monkeypatch):
    batches = []
    original = AsyncEngine.run_batch

    def recording(self, batch):
        batches.append(np.unique(np.concatenate([self.parts[p].gid[f.ids()] for p, f in batch.items()])))
        return original(self, batch)

    monkeypatch.setattr(AsyncEngine, "run_batch", recording)
    g = random_graph(150, 450, seed=24)
    r = run(Race(), g, engine="async", consistency="full", scheduler="random", batch_size=64, partitions=parts)
    assert sum(b.size for b in batches) == r.steps.column("updates").sum() > g.num_vertices
    assert max(b.size for b in batches) > 1
    assert all(distance_two_pairs(g, b) == 0 for b in batches)


@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("consistency", ["edge", "full"])
def test_locks_leave_no_race(workers, consistency):
    g = random_graph(200, 800, seed=25)
    r = run(
        Race(), g, engine="async", consistency=consistency, batch_size=64, workers=workers, partitions=4, debug=True
    )  # the engine counts conflicts under edge and full in debug mode (an error if any)
    assert r.conflicts == 0 and r.edge_data["races"].sum() == 0
    assert r.steps.column("losers").sum() > 0  # locks were contended, and lost


@pytest.mark.parametrize("workers", [1, 2])
def test_vertex_consistency_counts_every_race(workers):
    g = random_graph(200, 800, seed=26)
    r = run(Race(), g, engine="async", consistency="vertex", batch_size=64, workers=workers, partitions=3)
    races = int(r.edge_data["races"].sum())
    assert races > 0 and r.conflicts == races
    assert r.steps.column("losers").sum() == 0
    assert f"{races} conflicts" in r.steps.summary()


def test_all_at_once_under_vertex_consistency_counts_every_edge():
    g = grid(10, 10)
    r = run(Race(), g, engine="async", consistency="vertex", batch_size=g.num_vertices, max_supersteps=1)
    assert r.steps[0].conflicts == int((g.src != g.dst).sum())


# ----------------------------------------------------- rounds, stats, aggregators
def test_max_supersteps_counts_rounds():
    g = random_graph(50, 200, seed=27)
    r = run(Order(), g, engine="async", batch_size=5, max_supersteps=7)
    assert r.supersteps == 7 and not r.converged
    assert (r.steps.column("candidates") == 5).all()
    assert (r.steps.column("active") + r.steps.column("losers") == 5).all()


def test_aggregators_run_every_so_many_updates():
    seen = []
    total = Aggregator(
        "runs", lambda v: v.data["runs"], finalize=lambda x: seen.append(int(x)) or int(x), every_updates=100
    )
    g = random_graph(60, 240, seed=28)
    r = run(Order(), g, engine="async", batch_size=8, aggregators=[total])
    updates = int(r.steps.column("updates").sum())
    assert len(seen) == 1 + updates // 100 or len(seen) == updates // 100  # before the start, then per 100
    assert seen[0] == 0 and seen == sorted(seen) and r.aggregates["runs"] == seen[-1]
    assert all(b - a >= 100 for a, b in itertools.pairwise(seen[1:]))


def test_a_vertex_that_signals_itself_runs_again():
    class Countdown(VertexProgram):
        def init(self, v):
            v.data["left"] = np.full(len(v), 3)

        def apply(self, v, acc):
            v.data["left"] = v.data["left"] - 1
            v.signal(v.data["left"] > 0)

    r = run(Countdown(), Graph([0, 1], [1, 2]), engine="async", scheduler="fifo")
    assert r.field("left").tolist() == [0, 0, 0] and r.steps.column("updates").sum() == 9


def test_priority_runs_the_lowest_first():
    class Star(VertexProgram):
        """The centre signals its leaves with priority -leaf: the leaves then run in reverse order."""

        scatter_edges = OUT

        def init(self, v):
            v.data["when"] = np.zeros(len(v), dtype=np.int64)

        def apply(self, v, acc):
            v.data["when"] = np.full(len(v), v.superstep)

        def scatter(self, e):
            return np.where(e.src == 0, -e.dst.astype(float), np.inf)

    g = Graph(np.zeros(6, dtype=np.int64), np.arange(1, 7))
    r = run(Star(), g, engine="async", scheduler="priority", batch_size=1, active=[0])
    assert r.field("when").tolist() == [1, 7, 6, 5, 4, 3, 2]


@pytest.mark.parametrize("workers", [1, 2])
def test_an_update_budget_stops_the_run(workers):
    g = random_graph(60, 240, seed=29)
    r = run(Order(), g, engine="async", batch_size=8, max_updates=50, workers=workers, partitions=2)
    updates = r.steps.column("updates")
    assert not r.converged and updates.sum() >= 50 and updates[:-1].sum() < 50
