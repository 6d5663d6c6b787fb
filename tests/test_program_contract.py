"""Errors in user programs name the program class and the method."""

from __future__ import annotations

import numpy as np
import pytest

from gasengine import ALL, IN, OUT, Aggregator, Graph, ProgramError, VertexProgram, run

G = Graph([0, 1, 2, 2], [1, 2, 0, 1])


class Base(VertexProgram):
    gather_edges = IN

    def init(self, v):
        v.data["x"] = np.ones(len(v))

    def gather(self, e):
        return e.nbr_data["x"]

    def apply(self, v, acc):
        v.data["x"] = acc


def test_wrong_gather_shape_names_class_and_method():
    class BadShape(Base):
        def gather(self, e):
            return np.ones((len(e), 2)) if len(e) else np.ones(0)

    with pytest.raises(ProgramError, match=r"BadShape\.gather: must return shape"):
        run(BadShape(), G)


def test_gather_must_work_on_empty_batch():
    class NoEmpty(Base):
        def gather(self, e):
            return e.nbr_data["x"] / e.nbr_data["x"].max()

    with pytest.raises(
        ProgramError, match=r"NoEmpty\.gather: ValueError: zero-size array.*empty batch of 0 edges.*must accept one"
    ):
        run(NoEmpty(), G)


def test_misspelt_field_in_gather_is_reported_as_such():
    # The empty-batch probe must not hide the real error behind "must accept an empty batch".
    class Typo(Base):
        def gather(self, e):
            return e.nbr_data["xx"]

    with pytest.raises(ProgramError, match=r"^Typo\.gather: no vertex field 'xx'; fields are \['x'\]$"):
        run(Typo(), G)


def test_vector_gather_blamed_on_apply_gets_a_hint():
    class Column(Base):
        def gather(self, e):
            return e.nbr_data["x"][:, None]  # (E, 1): a vector of length 1 per edge

    with pytest.raises(
        ProgramError,
        match=r"Column\.apply: .*must have shape.*acc has shape \(\d+, 1\) "
        r"because gather returns values of shape \(1,\)",
    ):
        run(Column(), G)


def test_combine_must_be_binary_ufunc():
    class BadCombine(Base):
        combine = staticmethod(lambda a, b: a + b)

    with pytest.raises(ProgramError, match=r"BadCombine\.combine: must be a binary numpy ufunc"):
        run(BadCombine(), G)

    class Unary(Base):
        combine = np.negative

    with pytest.raises(ProgramError, match=r"Unary\.combine"):
        run(Unary(), G)


@pytest.mark.parametrize("ufunc", [np.subtract, np.divide, np.power, np.arctan2])
def test_combine_must_be_commutative_and_associative(ufunc):
    class Ordered(Base):
        combine = ufunc

    with pytest.raises(
        ProgramError, match=rf"Ordered\.combine: np\.{ufunc.__name__} is not commutative and associative"
    ):
        run(Ordered(), G)
    with pytest.raises(TypeError, match=rf"np\.{ufunc.__name__} is not commutative"):
        Aggregator("diff", lambda v: v.data["x"], combine=ufunc)


def test_a_class_instead_of_an_instance():
    with pytest.raises(
        TypeError, match=r"run\(\) takes a program instance: run\(Base\(\), graph\), not the class Base"
    ):
        run(Base, G)
    with pytest.raises(TypeError, match="takes a VertexProgram instance, got str"):
        run("pagerank", G)


@pytest.mark.parametrize("method, attr", [("scatter", "scatter_edges"), ("gather", "gather_edges")])
def test_a_method_that_can_never_run_is_reported(method, attr):
    class Dead(VertexProgram):
        def init(self, v):
            v.data["x"] = np.zeros(len(v))

    setattr(Dead, method, lambda self, e: np.ones(len(e), dtype=bool))
    with pytest.warns(UserWarning, match=rf"Dead\.{method} is defined but {attr} is NONE, so it never runs"):
        run(Dead(), G)


def test_system_exit_inside_a_program_is_a_program_error():
    class Quits(Base):
        def gather(self, e):
            raise SystemExit(3)

    with pytest.raises(ProgramError, match=r"Quits\.gather: SystemExit: 3"):
        run(Quits(), G)


def test_membership_test_on_fields_does_not_raise():
    seen = []

    class Probe(Base):
        def apply(self, v, acc):
            seen.append(("x" in v.data, "nope" in v.data))
            v.data["x"] = acc

    run(Probe(), G, max_supersteps=1)
    assert seen == [(True, False)]


def test_writing_unknown_field_names_method():
    class Typo(Base):
        def apply(self, v, acc):
            v.data["xx"] = acc

    with pytest.raises(ProgramError, match=r"Typo\.apply: no vertex field 'xx' to write"):
        run(Typo(), G)


def test_reading_unknown_field_names_method():
    class Typo(Base):
        def gather(self, e):
            return e.nbr_data["y"]

    with pytest.raises(ProgramError, match=r"Typo\.gather: no vertex field 'y'"):
        run(Typo(), G)


def test_wrong_field_shape_on_write():
    class Wide(Base):
        def apply(self, v, acc):
            v.data["x"] = np.ones((len(v), 3))

    with pytest.raises(ProgramError, match=r"Wide\.apply: vertex field 'x' must have shape"):
        run(Wide(), G)


def test_in_place_change_is_refused_with_a_hint():
    class InPlace(Base):
        def apply(self, v, acc):
            v.data["x"][:] = acc

    with pytest.raises(ProgramError, match=r"InPlace\.apply: .*read-only.*assign a new array"):
        run(InPlace(), G)


def test_augmented_assignment_is_refused_with_a_hint():
    class Aug(Base):
        def apply(self, v, acc):
            x = v.data["x"]
            x += acc

    with pytest.raises(ProgramError, match="assign a new array"):
        run(Aug(), G)


def test_user_exception_is_wrapped_with_cause():
    class Boom(Base):
        def apply(self, v, acc):
            raise KeyError("oops")

    with pytest.raises(ProgramError, match=r"Boom\.apply: KeyError") as info:
        run(Boom(), G)
    assert isinstance(info.value.__cause__, KeyError)


def test_gather_edges_without_gather():
    class NoGather(VertexProgram):
        gather_edges = OUT

    with pytest.raises(ProgramError, match=r"NoGather\.gather: gather_edges is set"):
        run(NoGather(), G)


def test_bad_edge_set_declaration():
    class Bad(Base):
        scatter_edges = "out"

    with pytest.raises(ProgramError, match=r"Bad\.scatter_edges: must be one of"):
        run(Bad(), G)


def test_scatter_must_return_bool_or_float_per_edge():
    class BadScatter(Base):
        scatter_edges = ALL

        def scatter(self, e):
            return np.ones(len(e), dtype=np.int64)

    with pytest.raises(
        ProgramError,
        match=r"BadScatter\.scatter: may return None, a bool array or float priorities of length \d+; got int64",
    ):
        run(BadScatter(), G)


@pytest.mark.parametrize("engine", ["sync", "async"])
def test_a_nan_priority_is_refused(engine):
    class NaNPriority(Base):
        scatter_edges = ALL

        def scatter(self, e):
            return np.full(len(e), np.nan)

    with pytest.raises(ProgramError, match=r"NaNPriority\.scatter: returned a NaN priority"):
        run(NaNPriority(), G, engine=engine, scheduler="priority")

    class NaNSignals(Base):
        scatter_edges = OUT

        def signal_nbrs(self, v):
            return np.full(len(v), np.nan)

    with pytest.raises(ProgramError, match=r"NaNSignals\.signal_nbrs: returned a NaN priority"):
        run(NaNSignals(), G, engine=engine, scheduler="priority")


def test_float_priorities_without_an_ordering_engine_are_plain_signals():
    class EvenByPriority(Base):
        scatter_edges = OUT

        def scatter(self, e):  # a finite priority signals; np.inf does not
            return np.where(e.dst % 2 == 0, 1.0, np.inf)

    class EvenByFlag(EvenByPriority):
        def scatter(self, e):
            return e.dst % 2 == 0

    by_priority = run(EvenByPriority(), G, max_supersteps=2)
    by_flag = run(EvenByFlag(), G, max_supersteps=2)
    assert by_priority.steps.column("active").tolist() == [3, 2]  # then the even targets of G's edges: 0 and 2
    assert by_flag.steps.column("active").tolist() == [3, 2]
    np.testing.assert_array_equal(by_priority.field("x"), by_flag.field("x"))


def test_aggregator_map_shape_error_names_aggregator():
    agg = Aggregator("total", lambda v: np.ones(3))
    with pytest.raises(ProgramError, match=r"Aggregator\[total\]\.map"):
        run(Base(), Graph([0, 1, 2, 3], [1, 2, 3, 0]), aggregators=[agg])


@pytest.mark.parametrize("partitions", [1, 3])
def test_aggregator_whose_shape_follows_the_batch_is_refused(partitions):
    # A (len(v), len(v)) map gave a value that changed with P; one part must refuse it too.
    agg = Aggregator("outer", lambda v: np.outer(v.data["x"], v.data["x"]))
    with pytest.raises(
        ProgramError,
        match=r"Aggregator\[outer\]\.map: must return one value per vertex, "
        r"each of the shape it has for an empty batch \(0,\)",
    ):
        run(Base(), Graph([0, 1, 2, 3], [1, 2, 3, 0]), aggregators=[agg], partitions=partitions)


def test_aggregator_error_inside_map_names_aggregator():
    agg = Aggregator("typo", lambda v: v.data["nope"])
    with pytest.raises(ProgramError, match=r"Aggregator\[typo\]\.map: no vertex field 'nope'"):
        run(Base(), G, aggregators=[agg])


def test_aggregator_requires_ufunc():
    with pytest.raises(TypeError, match=r"Aggregator\[bad\]\.combine: must be a binary numpy ufunc"):
        Aggregator("bad", lambda v: v.data["x"], combine=sum)


@pytest.mark.parametrize("every", [1.5, 2.0, "2", True, 0, -1])
def test_aggregator_every_must_be_a_positive_integer(every):
    with pytest.raises(ValueError, match=r"every must be an integer >= 1"):
        Aggregator("x", lambda v: v.data["x"], every=every)


def test_new_fields_only_in_init():
    class Late(Base):
        def apply(self, v, acc):
            v.data["brand_new"] = acc

    with pytest.raises(ProgramError, match="new fields can only be created in init"):
        run(Late(), G)


def test_degrees_only_in_init():
    class Deg(Base):
        def apply(self, v, acc):
            v.data["x"] = v.out_degree()

    with pytest.raises(ProgramError, match=r"Deg\.apply: out_degree\(\) is available in init only"):
        run(Deg(), G)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("engine", "warp", "unknown engine"),
        ("consistency", "strong", "unknown consistency"),
        ("scheduler", "lifo", "unknown scheduler"),
        ("partition", "magic", "unknown partition strategy"),
        ("partitions", 0, "partitions must be an integer >= 1"),
        ("partitions", 2.5, "partitions must be an integer >= 1"),
        ("max_supersteps", -1, "max_supersteps must be an integer >= 0"),
        ("workers", 0, "workers must be an integer >= 1"),
        ("engine", "chromatc", r"unknown engine 'chromatc' \(did you mean 'chromatic'\?\)"),
        ("engine", "asynch", r"unknown engine 'asynch' \(did you mean 'async'\?\)"),
        ("consistency", "egde", r"\(did you mean 'edge'\?\)"),
        ("scheduler", "fif0", r"\(did you mean 'fifo'\?\)"),
        ("backend", "multiproces", r"\(did you mean 'multiprocess'\?\)"),
        ("partition", "hdfr", r"unknown partition strategy 'hdfr' \(did you mean 'hdrf'\?\)"),
    ],
)
def test_bad_run_options(option, value, message):
    with pytest.raises(ValueError, match=message):
        run(Base(), G, **{option: value})


@pytest.mark.parametrize("value", [0, -3, 2.5, True])
def test_batch_size_must_be_a_count(value):
    with pytest.raises(ValueError, match=r"batch_size must be an integer >= 1, got"):
        run(Base(), G, engine="async", batch_size=value)


def test_unknown_gather_edge_field_names_program():
    class Weighted(VertexProgram):
        gather_edges = IN
        gather_edge_field = "wieght"

        def init(self, v):
            v.data["x"] = np.ones(len(v))

        def gather_nbr(self, u):
            return u.data["x"]

        def apply(self, v, acc):
            v.data["x"] = acc

    g = Graph([0, 1], [1, 0], edge_data={"weight": [1.0, 2.0]})
    with pytest.raises(
        ProgramError, match=r"Weighted\.gather_edge_field: no edge field 'wieght'; fields are \['weight'\]"
    ):
        run(Weighted(), g)
