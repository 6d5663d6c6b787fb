"""SGD matrix factorisation as vertex updates (issue 13, point 4): accuracy on every engine, the
updates against numpy written by hand, partitions, seeds, races, bad input."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from algorithms.als import bias_baseline, initial_factors
from algorithms.sgd_mf import SGDMFModel, SGDMFProgram, sgd_mf
from gasengine import Graph, ratings, run
from gasengine.ratings import RatingSet
from tests.datasets import data_file

SIGMA = 0.1


@functools.cache
def synthetic(num_users: int = 400, num_items: int = 300, rank: int = 4, observed: float = 0.3, seed: int = 0):
    """Rank-4 ratings with biases and Gaussian noise SIGMA on a random 30% of the cells; the
    test set is every cell not observed (fresh noise)."""
    rng = np.random.default_rng(seed)
    P, Q = rng.normal(size=(num_users, rank)), rng.normal(size=(num_items, rank))
    bu, bi = rng.normal(size=num_users), rng.normal(size=num_items)

    def truth(u, i):
        return 3.0 + bu[u] + bi[i] + (P[u] * Q[i]).sum(1)

    cells = rng.random((num_users, num_items)) < observed
    u, i = np.nonzero(cells)
    g = ratings.from_arrays(u, i, truth(u, i) + SIGMA * rng.normal(size=u.size))
    tu, ti = np.nonzero(~cells)
    test = RatingSet(tu, ti + num_users, truth(tu, ti) + SIGMA * rng.normal(size=tu.size), np.arange(tu.size))
    return g, test


@functools.cache
def small(seed: int = 3):
    """25 users x 20 items, 40% observed, ratings 1..5, string item ids; a validation split."""
    rng = np.random.default_rng(seed)
    cells = rng.random((25, 20)) < 0.4
    u, i = np.nonzero(cells)
    g = ratings.from_arrays(u * 10 + 1, np.char.add("m", i.astype(str)), rng.integers(1, 6, u.size).astype(float))
    return ratings.split(g, (0.8, 0.2, 0.0), seed=0)


@functools.cache
def real_split():
    g = Graph.load_ratings(data_file("ratings/movietweetings-snapshot-100K-ratings.dat"))
    return ratings.split(g, (0.8, 0.1, 0.1), seed=0)


def direct_rmse(model, users, items, values) -> float:
    pred = model.predict_vertices(np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64))
    return float(np.sqrt(np.mean((values - pred) ** 2)))


# ------------------------------------------------------------------ accuracy
@pytest.mark.parametrize("engine, consistency", [("sync", "edge"), ("async", "edge")])
def test_synthetic_low_rank_reaches_the_noise_level(engine, consistency):
    g, test = synthetic()
    model = sgd_mf(g, rank=4, lr=1.0, reg=1e-4, epochs=40, engine=engine, consistency=consistency)
    rmse = model.rmse(test)
    assert rmse <= 1.15 * SIGMA, rmse  # 0.1054 on both here; the estimation error of 5 parameters per side
    train = model.history["train_rmse"]
    assert train[-1] < SIGMA  # a fit, not the noise: below sigma on the training ratings
    assert train[0] > 10 * train[-1]  # from the initial factors ...
    assert np.all(np.diff(train[2:]) <= 1e-12)  # ... down, steadily once past the start
    assert model.user_factors.shape == (400, 4) and model.item_factors.shape == (300, 4)


def test_real_ratings_beat_the_bias_baseline():
    # reg = 0.5 and bias_reg = 0.3: ALS's choice on this split's validation set, the same objective
    s = real_split()
    base = bias_baseline(s.train, reg=0.3, iterations=8).rmse(s.test)
    model = sgd_mf(s.train, rank=10, lr=1.0, reg=0.5, bias_reg=0.3, epochs=20, validation=s.test)
    fitted = model.rmse(s.test)
    assert fitted < base - 0.002, (fitted, base)  # 1.5034 against 1.5069 here (ALS: 1.5031)
    assert model.history["validation_rmse"][-1] == pytest.approx(fitted, abs=1e-12)


def test_simultaneous_neighbours_overshoot_where_serial_updates_converge():
    # one rating per user and per item: a user and its item both correct the same residual
    rng = np.random.default_rng(0)
    g = ratings.from_arrays(np.arange(50), np.arange(50), rng.normal(3.0, 1.0, 50))
    options = {"rank": 2, "lr": 1.5, "reg": 1e-3, "epochs": 30}
    serial = sgd_mf(g, engine="async", consistency="edge", **options).history["train_rmse"][-1]
    jacobi = sgd_mf(g, engine="sync", **options).history["train_rmse"][-1]
    raced = sgd_mf(g, engine="async", consistency="vertex", batch_size=100, **options)
    assert serial < 0.01  # (1 - lr)^2 per sweep: a contraction (to 0.0028 here)
    assert jacobi > 1.0  # (1 - 2 lr) per superstep: it grows (4.3 here, from 0.91)
    assert raced.conflicts == 30 * 50 and raced.history["train_rmse"][-1] == pytest.approx(jacobi, rel=1e-9)
    assert sgd_mf(g, engine="sync", **{**options, "lr": 0.5}).history["train_rmse"][-1] < 0.01


# ------------------------------------------------------------------ the update, against numpy
def numpy_fit(g: Graph, batches, rank, lr, reg, bias_reg, decay, seed, held=None):
    """The updates written directly: each batch of vertices steps from the values before it."""
    n = g.num_vertices
    src, dst, r = g.src.astype(np.int64), g.dst.astype(np.int64), g.edge_data["rating"]
    train = np.ones(r.size, dtype=bool) if held is None else ~held
    mu = float(r[train].mean())
    rated = np.bincount(np.concatenate([src, dst]), minlength=n) > 0
    x = np.zeros((n, rank + 1))
    x[:, :rank] = initial_factors(n, rank, seed, 0.1) * rated[:, None]
    t = np.zeros(n)
    weights = np.append(np.full(rank, reg), bias_reg)
    for batch in batches:
        new = x.copy()
        for v in batch:
            edges = np.flatnonzero(((src == v) | (dst == v)) & train)
            if edges.size == 0:
                t[v] += 1
                continue
            w = np.where(src[edges] == v, dst[edges], src[edges])
            y = x[w]
            e = r[edges] - mu - x[v, rank] - y[:, rank] - y[:, :rank] @ x[v, :rank]
            f = np.column_stack([y[:, :rank], np.ones(edges.size)])
            gradient = (e[:, None] * f).mean(0) - weights * x[v]
            curvature = (f * f).sum(1).mean() + weights.max()
            new[v] = x[v] + lr / (1 + decay * t[v]) / curvature * gradient
            t[v] += 1
        x = new
    return x


@pytest.mark.parametrize("decay", [0.0, 0.3])
def test_sync_supersteps_equal_numpy(decay):
    s = small()
    g, n = s.train, s.train.num_vertices
    model = sgd_mf(g, rank=3, lr=0.8, reg=0.05, bias_reg=0.02, epochs=4, decay=decay, seed=7)
    want = numpy_fit(g, [range(n)] * 4, 3, 0.8, 0.05, 0.02, decay, seed=7)
    U = model.user_bias.size
    np.testing.assert_allclose(model.user_factors, want[:U, :3], rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.item_factors, want[U:, :3], rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([model.user_bias, model.item_bias]), want[:, 3], rtol=0, atol=1e-12)


def test_one_vertex_at_a_time_is_sequential_sgd_over_vertices():
    # batch_size=1, fifo: vertex 0, 1, ..., n-1, then again (each re-signals itself behind the others)
    s = small()
    g, n = s.train, s.train.num_vertices
    for consistency in ("vertex", "edge"):
        model = sgd_mf(
            g,
            rank=2,
            lr=1.5,
            reg=0.1,
            epochs=3,
            engine="async",
            consistency=consistency,
            scheduler="fifo",
            batch_size=1,
            validation=s.validation,
            return_result=True,
        )
        assert model.result.supersteps == 3 * n and model.conflicts == 0
        want = numpy_fit(g, [[v] for v in range(n)] * 3, 2, 1.5, 0.1, 0.1, 0.0, seed=0)
        U = model.user_bias.size
        np.testing.assert_allclose(model.user_factors, want[:U, :2], rtol=0, atol=1e-12)
        np.testing.assert_allclose(model.item_bias, want[U:, 2], rtol=0, atol=1e-12)


def test_held_out_ratings_do_not_move_the_model():
    s = small()
    plain = sgd_mf(s.train, rank=3, epochs=5, engine="async", consistency="edge", scheduler="fifo")
    tracked = sgd_mf(
        s.train, rank=3, epochs=5, engine="async", consistency="edge", scheduler="fifo", validation=s.validation
    )
    np.testing.assert_array_equal(plain.user_factors, tracked.user_factors)
    np.testing.assert_array_equal(plain.item_bias, tracked.item_bias)
    assert np.isnan(plain.history["validation_rmse"]).all()
    assert not np.isnan(tracked.history["validation_rmse"]).any()


# ------------------------------------------------------------------ history and statistics
@pytest.mark.parametrize(
    "engine, consistency, scheduler",
    [
        ("sync", "edge", "fifo"),
        ("chromatic", "edge", "fifo"),
        ("async", "vertex", "random"),
        ("async", "edge", "fifo"),
        ("async", "full", "random"),
    ],
)
def test_every_engine_updates_each_vertex_epochs_times(engine, consistency, scheduler):
    s = small()
    g, n = s.train, s.train.num_vertices
    model = sgd_mf(
        g,
        rank=2,
        epochs=6,
        engine=engine,
        consistency=consistency,
        scheduler=scheduler,
        validation=s.validation,
        return_result=True,
    )
    result = model.result
    assert result.converged and int(result.steps.column("updates").sum()) == 6 * n
    assert result.field("sgd_updates").tolist() == [6] * n
    h = model.history
    assert h["step"][0] == 0 and h["updates"][0] == 0 and h["updates"][-1] == 6 * n
    assert np.all(np.diff(h["updates"]) > 0) and np.all(np.diff(h["seconds"]) >= 0)
    assert h["step"][-1] == result.supersteps
    if engine == "sync":  # one superstep is one epoch, measured after each
        assert h["step"].tolist() == list(range(7)) and h["updates"].tolist() == [n * k for k in range(7)]
    # the last point is the model itself, as the sync operation measures it
    assert h["train_rmse"][-1] == pytest.approx(direct_rmse(model, g.src, g.dst, g.edge_data["rating"]), abs=1e-12)
    assert h["validation_rmse"][-1] == pytest.approx(model.rmse(s.validation), abs=1e-12)
    # Result.history holds the sync operation's own points: RMSE against step
    points = result.history["sgd_rmse"]
    assert [p[0] for p in points] == h["step"][: len(points)].tolist()
    assert isinstance(model, SGDMFModel) and model.engine == engine
    assert model.conflicts == result.conflicts


def test_rmse_every_sets_how_often_the_history_is_measured():
    s = small()
    n = s.train.num_vertices
    every = sgd_mf(
        s.train, rank=2, epochs=3, rmse_every=1, engine="async", consistency="edge", batch_size=10, return_result=True
    )
    assert every.history["step"].tolist() == list(range(every.result.supersteps + 1))
    twice = sgd_mf(s.train, rank=2, epochs=4, rmse_every=2 * n)
    assert twice.history["step"].tolist() == [0, 2, 4]


def test_conflicts_only_under_vertex_consistency():
    g, _ = synthetic(80, 60, seed=1)  # 30% dense: any user and item in a round are likely to share a rating
    options = {"rank": 3, "epochs": 3, "batch_size": 40, "scheduler": "random"}
    raced = sgd_mf(g, engine="async", consistency="vertex", **options)
    assert raced.conflicts > 100
    assert sgd_mf(g, engine="async", consistency="edge", **options).conflicts == 0
    assert sgd_mf(g, engine="sync", rank=3, epochs=3).conflicts == 0


# ------------------------------------------------------------------ determinism, partitions, workers
def test_a_seed_fixes_the_model():
    s = small()
    for options in (
        {"engine": "async", "consistency": "vertex", "scheduler": "random", "batch_size": 16},
        {"engine": "async", "consistency": "edge", "scheduler": "random", "batch_size": 16},
    ):
        a = sgd_mf(s.train, rank=3, epochs=5, seed=4, **options)
        b = sgd_mf(s.train, rank=3, epochs=5, seed=4, **options)
        c = sgd_mf(s.train, rank=3, epochs=5, seed=5, **options)
        np.testing.assert_array_equal(a.user_factors, b.user_factors)
        np.testing.assert_array_equal(a.history["train_rmse"], b.history["train_rmse"])
        assert not np.array_equal(a.user_factors, c.user_factors)


@functools.cache
def reference_fit():
    g, _ = synthetic(120, 90, seed=2)
    s = ratings.split(g, (0.9, 0.1, 0.0), seed=0)
    return s, sgd_mf(s.train, rank=3, reg=0.01, epochs=6, validation=s.validation)


@pytest.mark.parametrize(
    "options",
    [{"partitions": 2}, {"partitions": 3}, {"partitions": 3, "partition": "random"}, {"workers": 2}],
    ids=["P2", "P3", "P3-random", "workers2"],
)
def test_sync_is_identical_on_every_partitioning(options):
    s, ref = reference_fit()
    model = sgd_mf(s.train, rank=3, reg=0.01, epochs=6, validation=s.validation, return_result=True, **options)
    assert (model.result.num_parts, model.result.workers) == (options.get("partitions", 2), options.get("workers", 1))
    for name in ("user_factors", "item_factors", "user_bias", "item_bias"):
        np.testing.assert_allclose(getattr(model, name), getattr(ref, name), rtol=0, atol=1e-9, err_msg=name)
    for name in ("train_rmse", "validation_rmse"):
        np.testing.assert_allclose(model.history[name], ref.history[name], rtol=0, atol=1e-9)


# ------------------------------------------------------------------ predictions, ids, inputs
def test_predictions_by_original_ids_and_a_file_as_input(tmp_path):
    s = small()
    model = sgd_mf(s.train, rank=2, epochs=3)
    users, items = ratings.user_ids(s.train), ratings.item_ids(s.train)
    u, i = 4, 7
    want = model.global_mean + model.user_bias[u] + model.item_bias[i] + model.user_factors[u] @ model.item_factors[i]
    assert model.predict(users[u], items[i]) == pytest.approx(want, abs=1e-12)
    with pytest.raises(KeyError, match="no user with id 2"):
        model.predict(2, items[0])
    path = tmp_path / "r.tsv"
    path.write_text("1\t10\t4.0\n1\t20\t2.0\n2\t10\t5.0\n")
    from_file = sgd_mf(str(path), rank=1, epochs=2)
    assert from_file.user_ids.tolist() == [1, 2] and from_file.item_ids.tolist() == [10, 20]


def test_the_program_runs_on_its_own():
    s = small()
    g = s.train
    mu = float(g.edge_data["rating"].mean())
    r = run(SGDMFProgram(rank=2, lr=1.0, reg=0.05, global_mean=mu, epochs=3), g)
    assert r.supersteps == 3 and r.field("x").shape == (g.num_vertices, 3)
    assert [step for step, _ in r.history["sgd_rmse"]] == [0, 1, 2, 3]  # rmse_every=None: every step


# ------------------------------------------------------------------ bad input
def test_bad_parameters_name_the_argument():
    g = small().train
    for rank in (0, -1):
        with pytest.raises(ValueError, match=r"rank must be >= 1"):
            sgd_mf(g, rank=rank)
    for lr in (0.0, -0.5, 2.0, float("nan")):
        with pytest.raises(ValueError, match=r"lr must be in \(0, 2\)"):
            sgd_mf(g, lr=lr)
    for reg in (-0.1, float("inf")):
        with pytest.raises(ValueError, match=r"reg \(lambda\) must be a finite number >= 0"):
            sgd_mf(g, reg=reg)
    with pytest.raises(ValueError, match="bias_reg"):
        sgd_mf(g, bias_reg=-1.0)
    with pytest.raises(ValueError, match="epochs must be >= 1"):
        sgd_mf(g, epochs=0)
    with pytest.raises(ValueError, match="decay must be"):
        sgd_mf(g, decay=-1.0)
    with pytest.raises(TypeError, match="rank must be an integer"):
        sgd_mf(g, rank=2.5)
    with pytest.raises(TypeError, match="lr must be a number"):
        sgd_mf(g, lr="fast")
    with pytest.raises(TypeError, match="sgd_mf sets active itself"):
        sgd_mf(g, active=[0])
    with pytest.raises(ValueError, match="not a ratings graph"):
        sgd_mf(Graph([0, 1], [1, 2], edge_data={"rating": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="unknown engine 'asink'"):
        sgd_mf(g, engine="asink")
