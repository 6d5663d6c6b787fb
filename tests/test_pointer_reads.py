"""Non-neighbour reads (``pointer_reads``): any vertex reads a field of any other, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from gasengine import Graph, ProgramError, VertexProgram, run
from tests.datasets import random_graph


class Follow(VertexProgram):
    """Each vertex points at another (not a neighbour in general) and doubles what it reads there."""

    pointer_reads = {"seen": ("points_at", "value"), "seen_vec": ("points_at", "vec")}

    def init(self, v):
        n = v.num_vertices
        v.data["points_at"] = (v.ids * 7 + 3) % n
        v.data["value"] = v.ids.astype(np.int64) + 1
        v.data["seen"] = np.zeros(len(v), dtype=np.int64)
        v.data["vec"] = np.stack([v.ids, -v.ids], axis=1).astype(np.float64)
        v.data["seen_vec"] = np.zeros((len(v), 2))

    def apply(self, v, acc):
        v.data["value"] = v.data["value"] + 2 * v.data["seen"]  # read at the start of this step
        v.data["points_at"] = (v.data["points_at"] + 1) % v.num_vertices  # and follow someone else next
        v.signal()


def reference(n: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.arange(n)
    points_at, value = (ids * 7 + 3) % n, ids + 1
    for _ in range(steps):
        seen = value[points_at]
        value = value + 2 * seen
        seen_vec = np.stack([points_at, -points_at], axis=1).astype(float)
        points_at = (points_at + 1) % n
    return value, seen_vec


@pytest.mark.parametrize("parts", [1, 2, 3, 4])
def test_reads_follow_pointers_on_any_number_of_parts(parts):
    g = random_graph(97, 300, seed=3)  # 97 vertices: the pointers reach every part
    result = run(Follow(), g, partitions=parts, max_supersteps=4, partition="random")
    value, seen_vec = reference(97, 4)
    np.testing.assert_array_equal(result.field("value"), value)
    np.testing.assert_array_equal(result.field("seen_vec"), seen_vec)


def test_reads_follow_pointers_across_worker_processes():
    g = random_graph(97, 300, seed=3)
    result = run(Follow(), g, workers=2, partitions=4, max_supersteps=4, debug=True)
    value, _ = reference(97, 4)
    np.testing.assert_array_equal(result.field("value"), value)
    assert result.steps.column("bytes_between_workers").sum() > 0


def test_an_id_that_is_not_a_vertex_names_the_field():
    class Wild(Follow):
        def apply(self, v, acc):
            v.data["points_at"] = v.data["points_at"] + v.num_vertices  # off the graph
            v.signal()

    with pytest.raises(ProgramError, match=r"Wild\.pointer_reads: field 'points_at' must hold vertex numbers 0\.\.96"):
        run(Wild(), random_graph(97, 300, seed=3), partitions=2, max_supersteps=3)


@pytest.mark.parametrize(
    "reads, message",
    [
        ({"seen": ("nowhere", "value")}, r"no vertex field 'nowhere' \(create it in init\)"),
        ({"seen": ("points_at", "vec")}, r"field 'seen' \(int64, per-vertex shape \(\)\) cannot hold 'vec'"),
        ({"seen": "points_at"}, r"must map a field name to \(ids field, source field\)"),
    ],
)
def test_bad_declarations_are_named(reads, message):
    class Bad(Follow):
        pointer_reads = reads

    with pytest.raises(ProgramError, match=rf"Bad\.pointer_reads: {message}"):
        run(Bad(), Graph([0, 1], [1, 2]), max_supersteps=1)
