"""ALS with biases (issue 13, point 3; DESIGN §7: synthetic low-rank + noise, test RMSE within 10% of sigma)."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest

from algorithms.als import (
    ALSProgram,
    als,
    bias_baseline,
    initial_factors,
    packed_outer,
    unpack_symmetric,
)
from gasengine import Graph, GraphFormatError, ProgramError, ratings, run
from gasengine.ratings import RatingSet
from tests.datasets import data_file

SIGMA = 0.1


@functools.cache
def synthetic(num_users: int = 600, num_items: int = 400, rank: int = 5, observed: float = 0.3, seed: int = 0):
    """Rank-5 ratings with biases and Gaussian noise SIGMA on a random 30% of the cells; the
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
    """40 users x 30 items, 40% observed, ratings 1..5 with string item ids."""
    rng = np.random.default_rng(seed)
    cells = rng.random((40, 30)) < 0.4
    u, i = np.nonzero(cells)
    return ratings.from_arrays(u * 10 + 1, np.char.add("m", i.astype(str)), rng.integers(1, 6, u.size).astype(float))


@functools.cache
def real_split():
    g = Graph.load_ratings(data_file("ratings/movietweetings-snapshot-100K-ratings.dat"))
    return ratings.split(g, (0.8, 0.1, 0.1), seed=0)


def train_rmse(model, g: Graph) -> float:
    pred = model.predict_vertices(g.src.astype(np.int64), g.dst.astype(np.int64))
    return float(np.sqrt(np.mean((g.edge_data["rating"] - pred) ** 2)))


# ------------------------------------------------------------------ accuracy
def test_synthetic_low_rank_reaches_the_noise_level():
    g, test = synthetic()
    model = als(g, rank=5, reg=1e-4, iterations=10, seed=0)
    assert model.rmse(test) <= 1.1 * SIGMA  # 0.1047 here; the estimation error of 7 parameters per side
    assert model.history["train_rmse"][-1] < SIGMA  # a fit, not noise: training error below sigma
    assert model.history["train_rmse"][0] > model.history["train_rmse"][-1]
    assert model.user_factors.shape == (600, 5) and model.item_factors.shape == (400, 5)


def test_real_ratings_beat_the_bias_baseline():
    # k = 10, reg = 0.5 and bias_reg = 0.3 were chosen on this split's validation set
    s = real_split()
    baseline = bias_baseline(s.train, reg=0.3, iterations=8)
    model = als(s.train, rank=10, reg=0.5, bias_reg=0.3, iterations=8, seed=0)
    base, fitted = baseline.rmse(s.test), model.rmse(s.test)
    assert fitted < base - 0.002, (fitted, base)  # 1.5031 vs 1.5069 on this split
    assert base < 1.52


# ------------------------------------------------------------------ exactness
def numpy_half_step(g: Graph, fixed: np.ndarray, side_is_item: bool, rank: int, reg: float, mu: float) -> np.ndarray:
    """One half-step written directly: per vertex, its normal equations and np.linalg.solve."""
    U = int(np.count_nonzero(~g.vertex_data["is_item"]))
    src, dst, r = g.src.astype(np.int64), g.dst.astype(np.int64), g.edge_data["rating"]
    me, other = (dst, src) if side_is_item else (src, dst)
    vertices = range(U, g.num_vertices) if side_is_item else range(U)
    out = {}
    for v in vertices:
        edges = np.flatnonzero(me == v)
        y = fixed[other[edges]]
        F = np.column_stack([y[:, :rank], np.ones(edges.size)])
        t = r[edges] - mu - y[:, rank]
        n = edges.size
        out[v] = np.linalg.solve(F.T @ F + reg * n * np.eye(rank + 1), F.T @ t)
    return np.array([out[v] for v in vertices])


@pytest.mark.parametrize("rank", [3, 0])
def test_half_steps_equal_numpy(rank):
    g = small()
    U = int(np.count_nonzero(~g.vertex_data["is_item"]))
    mu, reg = float(g.edge_data["rating"].mean()), 0.07
    users = ~g.vertex_data["is_item"]
    start = np.zeros((g.num_vertices, rank + 1))
    start[:, :rank] = initial_factors(g.num_vertices, rank, seed=5, scale=0.1)
    first = run(ALSProgram(rank, reg, mu, seed=5), g, active=users, max_supersteps=1).field("x")
    want_users = numpy_half_step(g, start, False, rank, reg, mu)
    np.testing.assert_allclose(first[:U], want_users, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(first[U:], start[U:])  # the items wait for their turn
    second = run(ALSProgram(rank, reg, mu, seed=5), g, active=users, max_supersteps=2).field("x")
    np.testing.assert_allclose(second[:U], want_users, rtol=0, atol=1e-10)
    np.testing.assert_allclose(second[U:], numpy_half_step(g, first, True, rank, reg, mu), rtol=0, atol=1e-10)


def test_rmse_aggregates_and_history_agree_with_the_model():
    g, _ = synthetic(150, 100, seed=1)
    s = ratings.split(g, (0.8, 0.2, 0.0), seed=0)
    model = als(s.train, rank=4, reg=0.01, iterations=4, validation=s.validation, return_result=True)
    hist = model.history
    assert hist["iteration"].tolist() == [1, 2, 3, 4]
    assert abs(hist["train_rmse"][-1] - train_rmse(model, s.train)) < 1e-10
    assert abs(hist["validation_rmse"][-1] - model.rmse(s.validation)) < 1e-10
    np.testing.assert_allclose(
        model.result.aggregates["als_rmse"], [hist["train_rmse"][-1], hist["validation_rmse"][-1]]
    )
    # row t of the history is the model after t + 1 iterations; held-out edges do not change the fit
    for t in (1, 2):
        shorter = als(s.train, rank=4, reg=0.01, iterations=t)
        assert abs(hist["train_rmse"][t - 1] - train_rmse(shorter, s.train)) < 1e-10
        assert abs(hist["validation_rmse"][t - 1] - shorter.rmse(s.validation)) < 1e-10
    np.testing.assert_allclose(
        als(s.train, rank=4, reg=0.01, iterations=4).user_factors, model.user_factors, rtol=0, atol=1e-10
    )
    assert np.isnan(als(s.train, rank=4, reg=0.01, iterations=2).history["validation_rmse"]).all()


def test_baseline_is_the_regularised_bias_fit():
    g = small()
    U = int(np.count_nonzero(~g.vertex_data["is_item"]))
    model = bias_baseline(g, reg=0.2, iterations=200)
    # at the fixed point every bias solves its own regularised least squares
    src, dst, r = g.src.astype(np.int64), g.dst.astype(np.int64), g.edge_data["rating"]
    bu, bi = model.user_bias, model.item_bias
    resid_u = np.bincount(src, r - model.global_mean - bi[dst - U], minlength=U)
    n_u = np.bincount(src, minlength=U)
    np.testing.assert_allclose(bu, resid_u / (n_u * 1.2), rtol=0, atol=1e-9)
    assert model.user_factors.shape == (U, 0)
    assert model.global_mean == pytest.approx(r.mean())


# ------------------------------------------------------------------ partitions and workers
@functools.cache
def reference_fit():
    g, _ = synthetic(150, 100, seed=2)
    s = ratings.split(g, (0.9, 0.1, 0.0), seed=0)
    return s, als(s.train, rank=4, reg=0.02, iterations=3, validation=s.validation)


@pytest.mark.parametrize(
    "options",
    [{"partitions": 2}, {"partitions": 3}, {"partitions": 3, "partition": "random"}, {"workers": 2}],
    ids=["P2", "P3", "P3-random", "workers2"],
)
def test_identical_on_every_partitioning(options):
    s, ref = reference_fit()
    model = als(s.train, rank=4, reg=0.02, iterations=3, validation=s.validation, return_result=True, **options)
    assert (model.result.num_parts, model.result.workers) == (options.get("partitions", 2), options.get("workers", 1))
    for name in ("user_factors", "item_factors", "user_bias", "item_bias"):
        np.testing.assert_allclose(getattr(model, name), getattr(ref, name), rtol=0, atol=1e-10, err_msg=name)
    for name in ("train_rmse", "validation_rmse"):
        np.testing.assert_allclose(model.history[name], ref.history[name], rtol=0, atol=1e-10)


# ------------------------------------------------------------------ predictions and ids
def test_predictions_by_original_ids():
    g = small()
    model = als(g, rank=2, reg=0.1, iterations=2)
    users, items = ratings.user_ids(g), ratings.item_ids(g)
    assert model.user_ids.tolist() == users.tolist() and model.item_ids.tolist() == items.tolist()
    u, i = 3, 7
    want = model.global_mean + model.user_bias[u] + model.item_bias[i] + model.user_factors[u] @ model.item_factors[i]
    assert model.predict(users[u], items[i]) == pytest.approx(want, abs=1e-12)
    grid = model.predict(users[:, None], items[None, :])
    assert grid.shape == (users.size, items.size) and grid[u, i] == pytest.approx(want, abs=1e-12)
    assert model.predict_vertices(u, g.num_vertices - items.size + i) == pytest.approx(want, abs=1e-12)
    with pytest.raises(KeyError, match="no user with id 2"):
        model.predict(2, items[0])
    with pytest.raises(KeyError, match="no item with id 'x'"):
        model.predict(users[0], "x")
    with pytest.raises(KeyError, match="is not an item"):
        model.predict_vertices(0, 0)


def test_vertex_without_ratings_predicts_from_the_other_terms():
    g = ratings.from_arrays([1, 1, 2, 2, 3], [10, 20, 10, 20, 10], [5.0, 3.0, 4.0, 2.0, 1.0])
    keep = np.flatnonzero(g.src != 2)  # user 3 (vertex 2) loses its only rating
    train = Graph.from_arcs(
        g.src[keep],
        g.dst[keep],
        g.num_vertices,
        vertex_data=g.vertex_data,
        edge_data={"rating": g.edge_data["rating"][keep]},
        ids=g.ids,
    )
    model = als(train, rank=2, reg=0.1, iterations=3)
    assert model.user_bias[2] == 0 and not model.user_factors[2].any()
    assert model.predict(3, 10) == pytest.approx(model.global_mean + model.item_bias[0])


# ------------------------------------------------------------------ bad input
def test_bad_parameters_are_refused():
    g = small()
    for rank in (0, -1):
        with pytest.raises(ValueError, match=r"rank must be >= 1.*bias_baseline"):
            als(g, rank=rank)
    for rank in (1.5, True):
        with pytest.raises(TypeError, match="rank must be an integer"):
            als(g, rank=rank)
    for reg in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"reg \(lambda\) must be a finite number >= 0"):
            als(g, reg=reg)
    with pytest.raises(ValueError, match="bias_reg"):
        als(g, bias_reg=-1.0)
    with pytest.raises(ValueError, match="iterations must be >= 1"):
        als(g, iterations=0)
    with pytest.raises(ValueError, match="engine='sync'"):
        als(g, engine="async")
    with pytest.raises(TypeError, match="ALS sets max_supersteps itself"):
        als(g, max_supersteps=3)
    with pytest.raises(ValueError, match="not a ratings graph"):
        als(Graph([0, 1], [1, 2], edge_data={"rating": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="no edge field 'stars'"):
        als(g, rating="stars")


def test_bad_ratings_are_refused():
    with pytest.raises(GraphFormatError, match="not a finite number"):
        ratings.from_arrays([1, 2], [1, 1], [3.0, float("nan")])
    g = small()
    held = RatingSet(np.array([0]), np.array([0]), np.array([3.0]), np.array([0]))  # item side holds a user
    with pytest.raises(ValueError, match="validation ratings must pair users"):
        als(g, validation=held)
    held = RatingSet(np.array([0]), np.array([g.num_vertices - 1]), np.array([np.nan]), np.array([0]))
    with pytest.raises(ValueError, match="validation ratings must be finite"):
        als(g, validation=held)
    with pytest.raises(ProgramError, match="singular normal equations"):
        als(ratings.from_arrays([1, 2], [1, 1], [3.0, 4.0]), rank=2, reg=0.0)


def graph_with_ratings(g: Graph, values) -> Graph:
    """``g`` with its rating field replaced (no check on the way: as a user may build one)."""
    return Graph.from_arcs(
        g.src,
        g.dst,
        g.num_vertices,
        vertex_data=g.vertex_data,
        edge_data={"rating": np.asarray(values)},
        ids=g.ids,
        directed=True,
    )


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("fit", ["als", "bias_baseline", "sgd_mf"])
def test_non_finite_ratings_in_a_graph_are_refused_by_every_fit(fit, bad):
    from algorithms.sgd_mf import sgd_mf

    g = small()
    values = g.edge_data["rating"].copy()
    values[[5, 9]] = bad
    users, items = ratings.user_ids(g), ratings.item_ids(g)
    U = users.size
    named = re.escape(f"rating of edge 5 (user {str(users[g.src[5]])!r}, item {str(items[g.dst[5] - U])!r}) is {bad!r}")
    want = named + rf"; ratings must be finite \(2 of {g.num_edges} are NaN or infinite\)"
    function = {"als": als, "bias_baseline": bias_baseline, "sgd_mf": sgd_mf}[fit]
    with pytest.raises(ValueError, match=want):
        function(graph_with_ratings(g, values))


def test_a_rating_field_that_is_not_numbers_is_refused():
    g = small()
    with pytest.raises(ValueError, match=r"edge field 'rating' must hold one number per rating, got dtype <U"):
        als(graph_with_ratings(g, g.edge_data["rating"].astype(str)))


def test_the_program_checks_its_parameters_too():
    with pytest.raises(ValueError, match="rank must be >= 0, got -1"):
        ALSProgram(rank=-1, reg=0.1, global_mean=3.0)
    with pytest.raises(TypeError, match="rank must be an integer"):
        ALSProgram(rank=2.0, reg=0.1, global_mean=3.0)
    with pytest.raises(ValueError, match=r"reg \(lambda\) must be a finite number >= 0, got -0.5"):
        ALSProgram(rank=2, reg=-0.5, global_mean=3.0)
    with pytest.raises(ValueError, match=r"bias_reg \(lambda\) must be a finite number >= 0, got -1"):
        ALSProgram(rank=2, reg=0.5, global_mean=3.0, bias_reg=-1)
    with pytest.raises(ValueError, match="global_mean must be a finite number"):
        ALSProgram(rank=2, reg=0.5, global_mean=float("nan"))


def test_a_prediction_for_an_unknown_id_names_it_among_known_ones():
    g = small()
    model = als(g, rank=2, reg=0.1, iterations=1)
    users, items = ratings.user_ids(g), ratings.item_ids(g)
    with pytest.raises(KeyError, match="no user with id '999'"):  # ids of both sides are strings here
        model.predict([users[0], 999, users[1]], items[0])
    with pytest.raises(KeyError, match="no item with id 'zz'"):
        model.predict(users[0], [items[0], "zz"])
    with pytest.raises(KeyError, match="no user with id 'm0'"):  # an item's id is no user's
        model.predict("m0", items[0])
    with pytest.raises(KeyError, match=rf"vertex {g.num_vertices} is not an item"):
        model.predict_vertices(0, g.num_vertices)
    assert np.isfinite(model.predict(users, items[0])).all()  # the good ids alone predict


# ------------------------------------------------------------------ packed gathers
@pytest.mark.parametrize("rank", [0, 1, 4])
def test_packed_outer_products_are_the_upper_triangles(rank):
    rng = np.random.default_rng(rank)
    y, r = rng.normal(size=(7, rank + 1)), rng.normal(size=7)
    z = np.column_stack([y[:, :rank], np.ones(7), r - 0.5 - y[:, rank]])
    dense = z[:, :, None] * z[:, None, :]
    packed = packed_outer(y, r, 0.5)
    d = rank + 2
    assert packed.shape == (7, d * (d + 1) // 2)
    np.testing.assert_array_equal(unpack_symmetric(packed, d), dense)
    held = np.array([True, False, False, True, False, True, True])
    split = packed_outer(y, r, 0.5, held)
    np.testing.assert_array_equal(split[held, 1], packed[held])
    np.testing.assert_array_equal(split[~held, 0], packed[~held])
    assert not split[held, 0].any() and not split[~held, 1].any()
    assert packed_outer(y[:0], r[:0], 0.5).shape == (0, d * (d + 1) // 2)  # the engine's empty probe


# ------------------------------------------------------------------ the command: nothing half-written
@pytest.mark.parametrize(
    "text, options, message",
    [
        ("1::10::7\n2::10::nan\n", [], "bad.dat:2: rating 'nan' in column 2 is NaN"),
        ("1::10::7\n2::10::inf\n", [], "bad.dat:2: rating 'inf' in column 2 is infinite"),
        ("1::10::7\n2::10\n", [], "bad.dat:2: expected 3 fields (user item rating) as line 1 has, found 2"),
        ("1::10::7\n2::10::8\n", ["--reg", "-1"], "reg (lambda) must be a finite number >= 0, got -1.0"),
        ("1::10::7\n2::10::8\n", ["--bias-reg", "nan"], "bias_reg (lambda) must be a finite number >= 0, got nan"),
        ("1::10::7\n2::10::8\n", ["--rank", "2", "--reg", "0"], "singular normal equations"),
    ],
    ids=["nan", "inf", "fields", "reg", "bias-reg", "singular"],
)
@pytest.mark.parametrize("existing", [False, True], ids=["new-output", "existing-output"])
def test_command_that_fails_writes_no_output(tmp_path, capsys, text, options, message, existing):
    from gasengine.cli import main

    bad = tmp_path / "bad.dat"
    bad.write_text(text)
    out = tmp_path / "factors.tsv"
    if existing:
        out.write_text("what was there before\n")
    assert main(["run", "als", "--input", str(bad), "--iterations", "2", *options, "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    if existing:
        assert out.read_text() == "what was there before\n"
    else:
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["bad.dat"] + (["factors.tsv"] if existing else []))
