"""Fields only masters need (``master_fields``): never sent to mirrors, unreadable where mirrors serve."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms import PageRankProgram
from gasengine import IN, OUT, Aggregator, Graph, ProgramError, VertexProgram, run
from tests.datasets import random_graph


class ShippingEverything(PageRankProgram):
    master_fields = ()


@pytest.mark.parametrize("options", [{"partitions": 3}, {"partitions": 3, "debug": True}, {"workers": 2}], ids=str)
def test_same_answer_and_fewer_bytes(options):
    g = random_graph(300, 2500, seed=4)
    kept, shipped = run(PageRankProgram(tol=1e-10), g, **options), run(ShippingEverything(tol=1e-10), g, **options)
    np.testing.assert_array_equal(kept.field("rank"), shipped.field("rank"))
    np.testing.assert_array_equal(kept.field("change"), shipped.field("change"))  # results come from masters
    assert kept.supersteps == shipped.supersteps
    assert kept.steps.column("bytes_exchanged").sum() < shipped.steps.column("bytes_exchanged").sum()


class ReadsItWhereMirrorsServe(VertexProgram):
    gather_edges = IN
    master_fields = ("secret",)

    def init(self, v):
        v.data["secret"] = v.ids.astype(np.float64)

    def gather(self, e):
        return e.nbr_data["secret"]


class SignalsFromIt(VertexProgram):
    scatter_edges = OUT
    master_fields = ("secret",)

    def init(self, v):
        v.data["secret"] = np.ones(len(v), dtype=bool)

    def signal_nbrs(self, v):
        return v.data["secret"]


class ScattersFromIt(SignalsFromIt):
    signal_nbrs = None  # type: ignore[assignment]

    def scatter(self, e):
        return e.nbr_data["secret"]


class AggregatesEdgesOfIt(VertexProgram):
    master_fields = ("secret",)
    aggregators = (Aggregator("seen", lambda e: e.src_data["secret"], over="edges"),)

    def init(self, v):
        v.data["secret"] = np.ones(len(v))


@pytest.mark.parametrize("program", [ReadsItWhereMirrorsServe, SignalsFromIt, ScattersFromIt, AggregatesEdgesOfIt])
@pytest.mark.parametrize("partitions", [1, 2])
def test_reading_one_where_mirrors_serve_is_named(program, partitions):
    with pytest.raises(ProgramError, match=r"field 'secret' is one of master_fields"):
        run(program(), random_graph(20, 60, seed=1), partitions=partitions, max_supersteps=2)


@pytest.mark.parametrize(
    "fields, message",
    [
        ("change", "must be a tuple of vertex field names"),
        (("nope",), "no vertex field 'nope'"),
        (("alive",), r"\['alive'\] must be on mirrors too"),
    ],
)
def test_bad_declarations_are_named(fields, message):
    class Bad(VertexProgram):
        scatter_edges = OUT
        nbr_cond = "alive"
        master_fields = fields

        def init(self, v):
            v.data["alive"] = np.ones(len(v), dtype=bool)

    with pytest.raises(ProgramError, match=r"Bad\.master_fields: " + message):
        run(Bad(), Graph([0], [1]))


@pytest.mark.parametrize("options", [{"partitions": 3}, {"workers": 2, "partitions": 3}], ids=str)
def test_a_pushed_field_kept_at_the_masters_skips_the_round_to_the_mirrors(options):
    from algorithms.k_core import CorePeelingProgram, simple_arcs

    class ToldEverywhere(CorePeelingProgram):
        master_fields = ("sched",)

    g = simple_arcs(random_graph(300, 2500, seed=8))
    kept, told = run(CorePeelingProgram(), g, **options), run(ToldEverywhere(), g, **options)
    np.testing.assert_array_equal(kept.field("core"), told.field("core"))
    assert kept.supersteps == told.supersteps
    assert kept.steps.column("bytes_exchanged").sum() < told.steps.column("bytes_exchanged").sum()
