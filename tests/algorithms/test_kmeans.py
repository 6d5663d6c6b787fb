"""k-means on the engine against plain Lloyd iterations in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from algorithms.kmeans import KMeansProgram, kmeans, kmeans_plus_plus
from gasengine import Graph, run


def lloyd(x: np.ndarray, centres: np.ndarray, max_iter: int = 300) -> tuple[np.ndarray, np.ndarray, int]:
    """Plain Lloyd iterations: assign (ties: lowest index), stop if no label changed, else recompute
    the centres (an empty cluster keeps its previous centre).  Returns centres, labels, iterations."""
    c = np.array(centres, dtype=np.float64)
    k = len(c)
    labels = np.full(len(x), -1)
    for it in range(1, max_iter + 1):
        new = (((x[:, None, :] - c[None, :, :]) ** 2).sum(axis=2)).argmin(axis=1)
        changed = np.any(new != labels)
        labels = new
        count = np.bincount(labels, minlength=k).astype(np.float64)
        sums = np.stack([np.bincount(labels, weights=x[:, j], minlength=k) for j in range(x.shape[1])], axis=1)
        c = np.where(count[:, None] > 0, sums / np.maximum(count, 1)[:, None], c)
        if not changed:
            return c, labels, it
    return c, labels, max_iter


def blobs(n: int = 2000, d: int = 3, k: int = 5, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    means = rng.uniform(-10, 10, size=(k, d))
    return means[rng.integers(k, size=n)] + rng.standard_normal((n, d))


def assert_same(got, centres: np.ndarray, labels: np.ndarray, iterations: int) -> None:
    np.testing.assert_array_equal(got.labels, labels)
    np.testing.assert_allclose(got.centres, centres, rtol=1e-9, atol=0)
    assert got.iterations == iterations
    assert got.converged


@pytest.mark.parametrize("init", ["random", "k-means++"])
def test_matches_numpy_lloyd_on_blobs(init: str) -> None:
    x = blobs()
    got = kmeans(x, 5, init=init, seed=3)
    centres, labels, iterations = lloyd(x, got.initial_centres)
    assert iterations > 1
    assert_same(got, centres, labels, iterations)
    assert got.inertia == pytest.approx(((x - centres[labels]) ** 2).sum(), rel=1e-9)


def test_poor_start_takes_many_iterations_and_still_matches() -> None:
    x = blobs(n=2000, d=3, k=8, seed=5)
    start = x[:8]  # often several starts in one blob: many iterations
    got = kmeans(x, 8, init=start)
    centres, labels, iterations = lloyd(x, start)
    assert_same(got, centres, labels, iterations)


def test_empty_cluster_keeps_its_previous_centre() -> None:
    x = blobs(n=500, d=2, k=3, seed=2)
    far = np.array([1e3, 1e3])
    start = np.vstack([x[:2], far])  # the far centre never gets a point
    got = kmeans(x, 3, init=start)
    centres, labels, iterations = lloyd(x, start)
    assert_same(got, centres, labels, iterations)
    assert not np.any(got.labels == 2)
    np.testing.assert_array_equal(got.centres[2], far)


def test_max_iter_stops_after_that_many_lloyd_iterations() -> None:
    x = blobs(n=2000, d=3, k=8, seed=5)
    start = x[:8]
    full = lloyd(x, start)[2]
    assert full > 3
    got = kmeans(x, 8, init=start, max_iter=2)
    centres, labels, _ = lloyd(x, start, max_iter=2)
    assert got.iterations == 2 and not got.converged
    np.testing.assert_array_equal(got.labels, labels)
    np.testing.assert_allclose(got.centres, centres, rtol=1e-9, atol=0)


@pytest.mark.parametrize("options", [{"partitions": 2}, {"partitions": 3}, {"workers": 2}])
def test_same_result_on_any_partitioning(options: dict) -> None:
    x = blobs(n=1500, d=3, k=5, seed=4)
    one = kmeans(x, 5, seed=1, partitions=1)
    other = kmeans(x, 5, seed=1, **options)
    np.testing.assert_array_equal(other.labels, one.labels)
    np.testing.assert_allclose(other.centres, one.centres, rtol=1e-12, atol=0)
    assert other.iterations == one.iterations
    centres, labels, iterations = lloyd(x, one.initial_centres)
    assert_same(other, centres, labels, iterations)


def test_kmeans_plus_plus_is_seeded_and_spreads_the_start() -> None:
    x = blobs(n=2000, d=3, k=5, seed=6)
    a = kmeans_plus_plus(x, 5, np.random.default_rng(7))
    b = kmeans_plus_plus(x, 5, np.random.default_rng(7))
    c = kmeans_plus_plus(x, 5, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # the starts are points of the data, all distinct
    rows = (x[None, :, :] == a[:, None, :]).all(axis=2)
    assert rows.any(axis=1).all()
    assert len(np.unique(a, axis=0)) == 5

    # spread: far more apart than random draws, on average over seeds
    def min_gap(c: np.ndarray) -> float:
        d = np.sqrt(((c[:, None] - c[None]) ** 2).sum(-1))
        return d[np.triu_indices(len(c), 1)].min()

    pp = np.mean([min_gap(kmeans_plus_plus(x, 5, np.random.default_rng(s))) for s in range(20)])
    rnd = np.mean([min_gap(x[np.random.default_rng(s).choice(len(x), 5, replace=False)]) for s in range(20)])
    assert pp > 2 * rnd
    # the seed of kmeans() fixes the start
    assert np.array_equal(kmeans(x, 5, seed=7).initial_centres, kmeans(x, 5, seed=7).initial_centres)


def test_kmeans_plus_plus_with_duplicate_points() -> None:
    x = np.zeros((10, 2))
    start = kmeans_plus_plus(x, 3, np.random.default_rng(0))
    assert start.shape == (3, 2)
    got = kmeans(x, 3)
    np.testing.assert_array_equal(got.labels, np.zeros(10))
    assert got.inertia == 0.0


def test_unpacks_and_runs_as_a_program() -> None:
    x = blobs(n=300, d=2, k=3, seed=9)
    centres, labels = kmeans(x, 3, init=x[:3])
    g = Graph([], [], num_vertices=len(x), vertex_data={"x": x})
    r = run(KMeansProgram(x[:3]), g)
    np.testing.assert_array_equal(r.field("label"), labels)
    np.testing.assert_allclose(r.aggregates["kmeans_centres"], centres, rtol=1e-12)


@pytest.mark.parametrize(
    "points, k, kwargs, name",
    [
        (np.zeros((5, 2)), 0, {}, "k must"),
        (np.zeros((5, 2)), -1, {}, "k must"),
        (np.zeros((5, 2)), 6, {}, "k must"),
        (np.zeros((5, 2)), 2.0, {}, "k must"),
        (np.array([[0.0, 1.0], [np.nan, 0.0]]), 1, {}, "points must be finite; point 1"),
        (np.array([[0.0, 1.0], [np.inf, 0.0]]), 1, {}, "points must be finite"),
        (np.zeros(5), 1, {}, "points must have shape"),
        (np.zeros((2, 2, 2)), 1, {}, "points must have shape"),
        (np.zeros((0, 2)), 1, {}, "points must have shape"),
        ([["a", "b"]], 1, {}, "points must be"),
        (np.zeros((5, 2)), 2, {"init": np.zeros((3, 2))}, "init centres must have shape"),
        (np.zeros((5, 2)), 2, {"init": np.zeros((2, 3))}, "init centres must have shape"),
        (np.zeros((5, 2)), 2, {"init": np.full((2, 2), np.nan)}, "init centres must be finite"),
        (np.zeros((5, 2)), 2, {"init": "kmeans"}, "init must be"),
        (np.zeros((5, 2)), 2, {"max_iter": 0}, "max_iter must"),
    ],
)
def test_bad_input(points, k, kwargs, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        kmeans(points, k, **kwargs)


def test_bad_program_input() -> None:
    with pytest.raises(ValueError, match="initial_centres must have shape"):
        KMeansProgram(np.zeros(3))
    with pytest.raises(ValueError, match="initial_centres must be finite"):
        KMeansProgram([[np.nan]])
