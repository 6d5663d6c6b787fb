"""Every method of a program reads the number of vertices and the step (issue 13, point 2).

A program keeps no copy of either: ``v.num_vertices`` / ``v.superstep`` in
the views of ``init``, ``init_edges``, ``gather``, ``gather_nbr``,
``apply``, ``scatter``, ``signal_nbrs`` and an aggregator's ``map`` (over
vertices or edges), ``globals.num_vertices`` / ``globals.step`` in
``converged`` and in every view's ``globals``.  What a method saw is
written where it can be read back after the run on any backend (fields,
aggregates, the number of supersteps run), so the tests hold with worker
processes too, where each worker has its own copy of the program.

The step is 0 in ``init``/``init_edges`` and for the sync operations run
before the first superstep, ``s`` in every method during superstep
(sweep, round) ``s``, and ``s`` for the sync operations and ``converged``
run after it.
"""

from __future__ import annotations

import numpy as np
import pytest

from gasengine import IN, NONE, OUT, Aggregator, Graph, VertexProgram, run
from gasengine.aggregators import Globals

N = 13
STEPS = 3


def ring_with_chords() -> Graph:
    """13 vertices, a directed ring (every vertex has an in- and an out-edge) and a few chords."""
    src = np.concatenate([np.arange(N), [0, 3, 7, 7]])
    dst = np.concatenate([(np.arange(N) + 1) % N, [6, 9, 2, 11]])
    return Graph(src, dst, num_vertices=N)


def seen(view_or_globals, step: int | None = None) -> np.ndarray:
    """``[step bit, n]`` as a method saw them, one row per item of its batch (or one row)."""
    if isinstance(view_or_globals, Globals):
        return np.array([1 << view_or_globals.step, view_or_globals.num_vertices], dtype=np.int64)
    v = view_or_globals
    s = v.superstep if step is None else step
    rows = np.empty((len(v), 2), dtype=np.int64)
    rows[:, 0] = 1 << s
    rows[:, 1] = v.num_vertices
    return rows


def check_globals(view) -> None:
    """The view's globals say the same step and n as the view itself."""
    if view.globals.step != view.superstep or view.globals.num_vertices != view.num_vertices:
        raise AssertionError(
            f"view: superstep {view.superstep}, n {view.num_vertices}; its globals: "
            f"step {view.globals.step}, n {view.globals.num_vertices}"
        )


def bits(*steps: int) -> int:
    return sum(1 << s for s in steps)


class EdgeWitness(VertexProgram):
    """``gather`` / ``scatter`` over edge views: every method leaves what it saw in a field."""

    gather_edges = IN
    scatter_edges = OUT
    combine = np.bitwise_or

    def __init__(self, steps: int = STEPS):
        self.steps = steps  # configuration, not state
        self.converged_saw: list[tuple[int, int]] = []  # in-process runs only: workers have their own copy
        self.aggregators = (
            # lambdas pin seen's one-argument form (its step argument is for the tests)
            Aggregator("vertex_map", lambda v: seen(v), combine=np.bitwise_or),  # noqa: PLW0108
            Aggregator("edge_map", lambda e: seen(e), combine=np.bitwise_or, over="edges"),  # noqa: PLW0108
            Aggregator("map_globals", self._map_globals, combine=np.bitwise_or),
        )

    @staticmethod
    def _map_globals(v):
        check_globals(v)
        return seen(v)

    def init(self, v):  # (its v.globals is a plain empty mapping: no sync operation has run yet)
        v.data["init"] = seen(v)
        for name in ("gather", "apply", "scatter_src"):
            v.data[name] = np.zeros((len(v), 2), dtype=np.int64)

    def init_edges(self, e):
        e.data["init_edges"] = seen(e)
        e.data["scatter"] = np.zeros((len(e), 2), dtype=np.int64)

    def gather(self, e):
        check_globals(e)
        return seen(e)

    def apply(self, v, acc):
        check_globals(v)
        v.data["gather"] = v.data["gather"] | acc
        v.data["apply"] = v.data["apply"] | seen(v)
        v.signal(np.full(len(v), v.superstep < self.steps))

    def scatter(self, e):
        check_globals(e)
        e.data["scatter"] = e.data["scatter"] | seen(e)
        return np.zeros(len(e), dtype=bool)

    def converged(self, globals):
        self.converged_saw.append((globals.step, globals.num_vertices))
        # the aggregators ran after this step with the same step: a converged that saw a wrong step
        # would stop the run at the wrong superstep, which the tests count
        if int(globals["vertex_map"][0]) != 1 << globals.step:
            raise AssertionError(f"converged: step {globals.step}, vertex_map {globals['vertex_map']}")
        return globals.step >= self.steps and globals.num_vertices == N


class NbrWitness(VertexProgram):
    """``gather_nbr`` / ``signal_nbrs``: the vertex-only shortcuts see the same."""

    gather_edges = IN
    scatter_edges = OUT
    combine = np.bitwise_or

    def init(self, v):
        v.data["gather_nbr"] = np.zeros((len(v), 2), dtype=np.int64)

    def gather_nbr(self, u):
        check_globals(u)
        return seen(u)

    def apply(self, v, acc):
        v.data["gather_nbr"] = v.data["gather_nbr"] | acc

    def signal_nbrs(self, v):
        check_globals(v)
        # signals on until step 3 only if it reads the right step and n: else the run's length changes
        return (v.superstep < STEPS) & (v.num_vertices == N)


def assert_every_row(values: np.ndarray, steps: int, n: int = N) -> None:
    assert values.shape[1] == 2
    np.testing.assert_array_equal(values[:, 0], steps)
    np.testing.assert_array_equal(values[:, 1], n)


BACKENDS = [
    pytest.param({}, id="P1"),
    pytest.param({"partitions": 3}, id="P3"),
    pytest.param({"partitions": 3, "workers": 2}, id="workers2"),
]


@pytest.mark.parametrize("options", BACKENDS)
def test_every_gas_method_sees_n_and_the_superstep(options):
    program = EdgeWitness()
    r = run(program, ring_with_chords(), max_supersteps=10, **options)
    assert r.supersteps == STEPS
    assert_every_row(r.field("init"), bits(0))
    every = bits(*range(1, STEPS + 1))
    assert_every_row(r.field("apply"), every)  # every vertex applied in supersteps 1, 2, 3
    assert_every_row(r.field("gather"), every)  # every vertex has an in-edge
    assert_every_row(r.edge_data["init_edges"], bits(0))
    assert_every_row(r.edge_data["scatter"], every)
    for name in ("vertex_map", "edge_map", "map_globals"):
        assert [(step, value.tolist()) for step, value in r.history[name]] == [
            (s, [1 << s, N]) for s in range(STEPS + 1)
        ], name  # step 0: before the first superstep
    if "workers" not in options:
        assert program.converged_saw == [(s, N) for s in range(1, STEPS + 1)]


@pytest.mark.parametrize("options", BACKENDS)
def test_gather_nbr_and_signal_nbrs_see_n_and_the_superstep(options):
    r = run(NbrWitness(), ring_with_chords(), max_supersteps=10, **options)
    assert r.supersteps == STEPS  # signal_nbrs stopped signalling at superstep 3, as it read it
    assert_every_row(r.field("gather_nbr"), bits(*range(1, STEPS + 1)))


@pytest.mark.parametrize("engine, extra", [("chromatic", {}), ("async", {"scheduler": "fifo"})])
@pytest.mark.parametrize("options", BACKENDS)
def test_sweeps_and_rounds_are_the_step_of_the_other_engines(engine, extra, options):
    program = EdgeWitness()
    r = run(program, ring_with_chords(), engine=engine, max_supersteps=10, **extra, **options)
    assert r.supersteps == STEPS  # converged stopped the run after sweep (round) 3
    assert_every_row(r.field("init"), bits(0))
    applied = r.field("apply")
    np.testing.assert_array_equal(applied[:, 1], N)
    # every vertex ran in some of the steps 1..3 and only there, and the last step ran someone
    assert ((applied[:, 0] > 0) & (applied[:, 0] & ~bits(1, 2, 3) == 0)).all()
    assert np.bitwise_or.reduce(applied[:, 0]) & bits(STEPS)
    np.testing.assert_array_equal(r.field("gather")[:, 1][applied[:, 0] > 0], N)
    assert (r.field("gather")[:, 0] & ~applied[:, 0] == 0).all()  # gathered only in steps it applied in
    for name in ("vertex_map", "edge_map"):
        assert [(step, value.tolist()) for step, value in r.history[name]] == [
            (s, [1 << s, N]) for s in range(STEPS + 1)
        ], name
    if "workers" not in options:
        assert program.converged_saw == [(s, N) for s in range(1, STEPS + 1)]


def test_between_runs_the_graph_methods_see_n_and_step_0():
    g = ring_with_chords()
    assert g.map_reduce_vertices(lambda v: seen(v), np.bitwise_or).tolist() == [1, N]  # noqa: PLW0108
    assert g.map_reduce_edges(lambda e: seen(e), np.bitwise_or).tolist() == [1, N]  # noqa: PLW0108

    def fill(v):
        v.data["n"] = np.full(len(v), v.num_vertices)
        v.data["step"] = np.full(len(v), v.superstep)

    g = Graph(g.src, g.dst, num_vertices=N, vertex_data={"n": np.zeros(N, np.int64), "step": np.full(N, -1)})
    h = g.transform_vertices(fill)
    assert h.vertex_data["n"].tolist() == [N] * N and h.vertex_data["step"].tolist() == [0] * N
    assert g.transform_vertices(fill, where=np.arange(N) < 4).vertex_data["n"][:4].tolist() == [N] * 4


# ------------------------------------------------------------------ finalize
def test_finalize_may_take_the_globals_as_its_third_parameter():
    """``Aggregator.finish``: the value a sync operation stores, finalize called with what it declares."""
    g = Globals({"other": 1.0}, num_vertices=N, step=2)
    one = Aggregator("one", lambda v: v.ids, finalize=lambda value: value + 1)
    two = Aggregator("two", lambda v: v.ids, finalize=lambda value, previous: (value, previous))
    three = Aggregator(
        "three",
        lambda v: v.ids,
        finalize=lambda value, previous, globals: (value, previous, globals.step, globals.num_vertices),
    )
    plain = Aggregator("plain", lambda v: v.ids)
    assert (one.finalize_arity, two.finalize_arity, three.finalize_arity, plain.finalize_arity) == (1, 2, 3, 0)
    assert one.finish(4, None, g) == 5
    assert two.finish(4, 3, g) == (4, 3)
    assert three.finish(4, 3, g) == (4, 3, 2, N)
    assert plain.finish(4, 3, g) == 4
    assert Aggregator("builtin", lambda v: v.ids, finalize=float).finish(np.int64(4), None, g) == 4.0
    assert Aggregator("star", lambda v: v.ids, finalize=lambda *a: a).finish(1, 2, g) == (1, 2)  # as before


def test_finalize_errors_name_the_aggregator():
    from gasengine import ProgramError

    g = Globals({}, num_vertices=N, step=1)
    with pytest.raises(ProgramError, match=r"Aggregator\[ratio\]\.finalize: ZeroDivisionError: division by zero"):
        Aggregator("ratio", lambda v: v.ids, finalize=lambda value: 1 / 0).finish(0, None, g)
    with pytest.raises(TypeError, match=r"Aggregator 'four': finalize takes 1 to 3 parameters"):
        Aggregator("four", lambda v: v.ids, finalize=lambda a, b, c, d: a)


@pytest.mark.parametrize("options", BACKENDS)
def test_finalize_sees_n_and_the_step_in_a_run(options):
    calls = Aggregator(
        "calls",
        lambda v: np.ones(len(v), dtype=np.int64),
        finalize=lambda value, previous, globals: np.array([1 << globals.step, globals.num_vertices]),
    )
    r = run(EdgeWitness(), ring_with_chords(), aggregators=[calls], max_supersteps=10, **options)
    assert [(step, value.tolist()) for step, value in r.history["calls"]] == [
        (s, [1 << s, N]) for s in range(STEPS + 1)
    ]


def test_init_and_init_edges_see_step_zero_and_n_in_their_globals():
    seen = {}

    class Looks(VertexProgram):
        gather_edges = NONE

        def init(self, v):
            seen["init"] = (v.globals.step, v.globals.num_vertices)
            v.data["x"] = np.zeros(len(v))

        def init_edges(self, e):
            seen["init_edges"] = (e.globals.step, e.globals.num_vertices)

        def apply(self, v, acc):
            pass

    run(Looks(), Graph([0, 1], [1, 2]), max_supersteps=1)
    assert seen == {"init": (0, 3), "init_edges": (0, 3)}
