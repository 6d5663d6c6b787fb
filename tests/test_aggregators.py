"""Sync operations given bad maps or finalizers: errors that name the aggregator (issue 13, point 8).

The plain wrong-shape cases (a vertex or edge map returning one value for
the batch, or values whose shape follows the batch) are in
``tests/test_program_contract.py`` and ``tests/test_sync_engine.py``; here
the keyed maps and the finalizers.
"""

from __future__ import annotations

import numpy as np
import pytest

from gasengine import Aggregator, Graph, ProgramError, VertexProgram, run

G = Graph([0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0], vertex_data={"w": np.arange(6.0)})


@pytest.mark.parametrize("partitions", [1, 2])
@pytest.mark.parametrize(
    "map, message",
    [
        (lambda v: v.data["w"], r"with num_keys=3 must return \(keys, values\); got ndarray"),
        (lambda v: (np.full(len(v), 3), v.data["w"]), r"keys must be integers 0\.\.2, one per value"),
        (lambda v: (np.full(len(v), -1), v.data["w"]), r"keys must be integers 0\.\.2, one per value"),
        (lambda v: (v.data["w"], v.data["w"]), r"keys must be integers 0\.\.2, one per value; got float64"),
        (lambda v: (np.zeros(len(v) + 1, dtype=np.int64), v.data["w"]), r"keys must be integers 0\.\.2, one per value"),
        (
            lambda v: (np.zeros(len(v), dtype=np.int64), np.ones((len(v), len(v)))),
            r"must return one value per vertex, each of the shape it has for an empty batch \(0,\)",
        ),
    ],
    ids=["not-a-pair", "key-too-big", "negative-key", "float-keys", "keys-and-values-differ", "shape-follows-batch"],
)
def test_keyed_maps_of_the_wrong_shape_are_named(map, message, partitions):
    agg = Aggregator("sizes", map, num_keys=3)
    with pytest.raises(ProgramError, match=r"Aggregator\[sizes\]\.map: " + message):
        run(VertexProgram(), G, aggregators=[agg], max_supersteps=1, partitions=partitions)


def test_a_keyed_map_may_bring_any_number_of_pairs():
    # two pairs per vertex: the check is one key per value, not one pair per vertex
    def both(v):
        return np.concatenate([np.zeros(len(v), np.int64), np.ones(len(v), np.int64)]), np.tile(v.data["w"], 2)

    r = run(VertexProgram(), G, aggregators=[Aggregator("twice", both, num_keys=2)], max_supersteps=1, partitions=2)
    np.testing.assert_array_equal(r.aggregates["twice"], [15.0, 15.0])


def test_finalizers_are_checked_when_the_aggregator_is_made():
    with pytest.raises(TypeError, match=r"Aggregator 'x': finalize must be callable or None, got 3"):
        Aggregator("x", lambda v: v.ids, finalize=3)
    with pytest.raises(TypeError, match=r"Aggregator 'x': finalize takes 1 to 3 parameters .*not 4"):
        Aggregator("x", lambda v: v.ids, finalize=lambda a, b, c, d: a)
    assert Aggregator("x", lambda v: v.ids, finalize=lambda value, previous=None: value).finalize_arity == 2
