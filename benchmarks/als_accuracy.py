"""ALS accuracy on real ratings: held-out RMSE against the bias baseline and SVD-style baselines.

Two data sets:

* **MovieTweetings** (``../shared/data/ratings``, ratings 0..10): a seeded
  80/10/10 split (:func:`gasengine.ratings.split`); the bias regularisation,
  then ``k``, ``reg`` and ``bias_reg`` of ALS are chosen on the validation
  set, and the test RMSE is reported for ALS, the bias-only baseline
  (:func:`algorithms.als.bias_baseline`, global mean plus user and item
  biases) and the SVD-style baselines below, each fitted on the same
  training set.
* **MovieLens-100k** (``--movielens PATH``: its ``u.data``, ``user item
  rating timestamp`` separated by tabs): 5-fold cross-validation over
  seeded random folds, the protocol behind the Surprise library's published
  figures (SVD 0.934, BaselineOnly 0.944).  The parameters are chosen on a
  validation split of fold 1's training part only.  Without ``--movielens``
  a synthetic stand-in of the same shape is used (943 users, 1682 items,
  100,000 ratings 1..5, every user with at least 20, Zipf-like item
  popularity, a rank-8 taste model with biases) and the figures say so.

Baselines written here, not taken from Surprise (which downloads its data
at run time):

* ``surprise-baseline``: Surprise's ``BaselineOnly`` (ALS on the biases,
  ``b_u = sum(r - mu - b_i) / (reg_u + n_u)``, reg_u = 15, reg_i = 10, 10
  epochs);
* ``surprise-svd``: Surprise's ``SVD`` (Funk's biased matrix factorisation
  by SGD: 100 factors, 20 epochs, learning rate 0.005, reg 0.02, factors
  drawn from N(0, 0.1)), the ratings visited in the training order, as a
  compiled loop;
* ``truncated-svd``: the bias baseline plus a truncated SVD
  (``scipy.sparse.linalg.svds``) of its residuals with unrated cells 0,
  the rank chosen on the validation set like ALS's.

Predictions are clipped to the rating scale for every model, as Surprise's
``predict`` does (ALS's unclipped figure is printed too).

Usage::

    python benchmarks/als_accuracy.py                          # MovieTweetings + synthetic stand-in
    python benchmarks/als_accuracy.py --movielens ml-100k/u.data

MovieLens-100k may not be redistributed (GroupLens' terms), so the project
does not ship it; ``benchmarks/README.md`` says where a copy comes from.
"""

from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np
from numba import njit

from algorithms.als import als, bias_baseline
from gasengine import Graph, ratings

MOVIETWEETINGS = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "..",
    "shared",
    "data",
    "ratings",
    "movietweetings-snapshot-100K-ratings.dat",
)


# ---------------------------------------------------------------- data
def movielens_like(seed: int = 0) -> Graph:
    """A synthetic stand-in for MovieLens-100k: same shape, scale, per-user minimum and item skew."""
    rng = np.random.default_rng(seed)
    U, I, M = 943, 1682, 100_000
    popularity = 1.0 / np.arange(1, I + 1) ** 0.9  # Zipf-like: item 0 the most rated
    popularity = rng.permutation(popularity / popularity.sum())
    activity = rng.lognormal(0.0, 0.9, U)
    per_user = 20 + np.floor((M - 20 * U) * activity / activity.sum()).astype(np.int64)
    per_user[: M - per_user.sum()] += 1
    users = np.repeat(np.arange(U), per_user)
    # each user's items without repeats: Gumbel top-n over log popularity, user by user in blocks
    items = np.empty(M, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(per_user)])
    for lo in range(0, U, 64):  # a loop over blocks of users, each vectorised
        hi = min(lo + 64, U)
        keys = np.log(popularity)[None, :] + rng.gumbel(size=(hi - lo, I))
        order = np.argsort(-keys, axis=1)
        take = np.arange(I)[None, :] < per_user[lo:hi, None]
        items[starts[lo] : starts[hi]] = order[take]
    p, q = rng.normal(0, 0.35, (U, 8)), rng.normal(0, 0.35, (I, 8))
    bu, bi = rng.normal(0, 0.35, U), rng.normal(0, 0.45, I) - 0.6 * (popularity < np.median(popularity))
    raw = 3.55 + bu[users] + bi[items] + (p[users] * q[items]).sum(1) + rng.normal(0, 0.85, M)
    return ratings.from_arrays(users + 1, items + 1, np.clip(np.round(raw), 1, 5))


def subgraph(g: Graph, edges: np.ndarray) -> Graph:
    """The ratings graph with only ``edges`` (same vertices and ids)."""
    return Graph.from_arcs(
        g.src[edges],
        g.dst[edges],
        g.num_vertices,
        vertex_data=g.vertex_data,
        edge_data={name: values[edges] for name, values in g.edge_data.items()},
        ids=g.ids,
        directed=True,
    )


def held(g: Graph, edges: np.ndarray) -> ratings.RatingSet:
    return ratings.RatingSet(
        g.src[edges].astype(np.int64), g.dst[edges].astype(np.int64), g.edge_data["rating"][edges], edges
    )


# ---------------------------------------------------------------- baselines
class Fit:
    """Predictions of a fitted model for rating sets, clipped to ``scale``."""

    def __init__(self, predict, scale: tuple[float, float]):
        self._predict, self.scale = predict, scale

    def rmse(self, s: ratings.RatingSet, clip: bool = True) -> float:
        pred = self._predict(s.user, s.item)
        if clip:
            pred = np.clip(pred, *self.scale)
        return float(np.sqrt(np.mean((s.rating - pred) ** 2)))


def model_fit(model, scale) -> Fit:
    return Fit(model.predict_vertices, scale)


def surprise_baseline(g: Graph, scale, reg_u: float = 15.0, reg_i: float = 10.0, epochs: int = 10) -> Fit:
    U = int(np.count_nonzero(~g.vertex_data["is_item"]))
    u, i, r = g.src.astype(np.int64), g.dst.astype(np.int64) - U, g.edge_data["rating"]
    I = g.num_vertices - U
    mu = r.mean()
    bu, bi = np.zeros(U), np.zeros(I)
    nu, ni = np.bincount(u, minlength=U), np.bincount(i, minlength=I)
    for _ in range(epochs):
        bu = np.bincount(u, r - mu - bi[i], minlength=U) / (reg_u + nu)
        bi = np.bincount(i, r - mu - bu[u], minlength=I) / (reg_i + ni)
    return Fit(lambda uu, ii: mu + bu[uu] + bi[ii - U], scale)


@njit(cache=True)
def _sgd_epochs(u, i, r, mu, bu, bi, pu, qi, epochs, lr, reg):  # pragma: no cover - compiled
    k = pu.shape[1]
    for _ in range(epochs):
        for e in range(u.size):
            a, b = u[e], i[e]
            dot = 0.0
            for f in range(k):
                dot += qi[b, f] * pu[a, f]
            err = r[e] - (mu + bu[a] + bi[b] + dot)
            bu[a] += lr * (err - reg * bu[a])
            bi[b] += lr * (err - reg * bi[b])
            for f in range(k):
                puf, qif = pu[a, f], qi[b, f]
                pu[a, f] += lr * (err * qif - reg * puf)
                qi[b, f] += lr * (err * puf - reg * qif)


def surprise_svd(
    g: Graph, scale, factors: int = 100, epochs: int = 20, lr: float = 0.005, reg: float = 0.02, seed: int = 0
) -> Fit:
    U = int(np.count_nonzero(~g.vertex_data["is_item"]))
    I = g.num_vertices - U
    u, i, r = g.src.astype(np.int64), g.dst.astype(np.int64) - U, g.edge_data["rating"].astype(np.float64)
    rng = np.random.default_rng(seed)
    bu, bi = np.zeros(U), np.zeros(I)
    pu, qi = rng.normal(0, 0.1, (U, factors)), rng.normal(0, 0.1, (I, factors))
    mu = float(r.mean())
    _sgd_epochs(u, i, r, mu, bu, bi, pu, qi, epochs, lr, reg)
    return Fit(lambda uu, ii: mu + bu[uu] + bi[ii - U] + np.einsum("ij,ij->i", pu[uu], qi[ii - U]), scale)


def numpy_svd(g: Graph, base: Fit, rank: int, scale) -> Fit:
    """The bias baseline plus the best rank-``rank`` approximation of its residuals, unrated cells 0
    (a truncated SVD of the sparse residual matrix: ``scipy.sparse.linalg.svds``)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import svds

    U = int(np.count_nonzero(~g.vertex_data["is_item"]))
    I = g.num_vertices - U
    u, i, r = g.src.astype(np.int64), g.dst.astype(np.int64), g.edge_data["rating"]
    resid = sp.csr_matrix((r - base._predict(u, i), (u, i - U)), shape=(U, I))
    left, sigma, right = svds(resid, k=rank, random_state=0)
    left = left * sigma

    def predict(uu, ii):
        return base._predict(uu, ii) + np.einsum("ij,ij->i", left[uu], right.T[ii - U])

    return Fit(predict, scale)


# ---------------------------------------------------------------- tuning
def tune(train: Graph, validation: ratings.RatingSet, scale, ranks, regs, bias_regs, iterations: int):
    """Bias regularisation first (bias baseline), then ALS's rank and reg with it; by validation RMSE."""
    base = {b: model_fit(bias_baseline(train, reg=b, iterations=iterations), scale).rmse(validation) for b in bias_regs}
    bias_reg = min(base, key=base.get)
    scores = {}
    for rank, reg in itertools.product(ranks, regs):
        m = als(train, rank=rank, reg=reg, bias_reg=bias_reg, iterations=iterations, seed=0)
        scores[(rank, reg)] = model_fit(m, scale).rmse(validation)
    rank, reg = min(scores, key=scores.get)
    svd_scores = {}
    base_fit = model_fit(bias_baseline(train, reg=bias_reg, iterations=iterations), scale)
    for k in sorted(set(ranks) | {1, 2, 3}):
        svd_scores[k] = numpy_svd(train, base_fit, k, scale).rmse(validation)
    svd_rank = min(svd_scores, key=svd_scores.get)
    return {
        "bias_reg": bias_reg,
        "rank": rank,
        "reg": reg,
        "svd_rank": svd_rank,
        "bias_scores": base,
        "als_scores": scores,
        "svd_scores": svd_scores,
    }


def evaluate(train: Graph, test: ratings.RatingSet, chosen: dict, scale, iterations: int) -> dict[str, float]:
    base_model = bias_baseline(train, reg=chosen["bias_reg"], iterations=iterations)
    model = als(train, rank=chosen["rank"], reg=chosen["reg"], bias_reg=chosen["bias_reg"], iterations=iterations)
    base = model_fit(base_model, scale)
    fitted = model_fit(model, scale)
    return {
        "als": fitted.rmse(test),
        "als (unclipped)": fitted.rmse(test, clip=False),
        "bias baseline": base.rmse(test),
        "surprise-baseline": surprise_baseline(train, scale).rmse(test),
        "surprise-svd": surprise_svd(train, scale).rmse(test),
        "truncated-svd": numpy_svd(train, base, chosen["svd_rank"], scale).rmse(test),
    }


def report(title: str, chosen: dict, results: list[dict[str, float]]) -> None:
    print(f"## {title}")
    print(
        f"chosen on validation: bias_reg {chosen['bias_reg']}, ALS rank {chosen['rank']} reg {chosen['reg']}; "
        f"truncated-svd rank {chosen['svd_rank']}"
    )
    print(
        "validation RMSE, ALS (rank, reg): "
        + ", ".join(f"({r}, {g}) {v:.4f}" for (r, g), v in sorted(chosen["als_scores"].items()))
    )
    print(
        "validation RMSE, bias baseline by bias_reg: "
        + ", ".join(f"{b} {v:.4f}" for b, v in sorted(chosen["bias_scores"].items()))
    )
    print()
    print("| model | test RMSE" + (" (mean of folds) | folds |" if len(results) > 1 else " |"))
    print("|---|---:|" + ("---|" if len(results) > 1 else ""))
    for name in results[0]:
        values = [r[name] for r in results]
        folds = f" {', '.join(f'{v:.4f}' for v in values)} |" if len(results) > 1 else ""
        print(f"| {name} | {np.mean(values):.4f} |{folds}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--movielens", help="MovieLens-100k u.data (user item rating timestamp, tab-separated)")
    parser.add_argument("--iterations", type=int, default=15, help="ALS iterations (default 15)")
    parser.add_argument("--skip-movietweetings", action="store_true")
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"# 1-minute load average {os.getloadavg()[0]:.2f} at the start ({os.cpu_count()} cores)")
    print()
    if not args.skip_movietweetings:
        g = Graph.load_ratings(MOVIETWEETINGS)
        s = ratings.split(g, (0.8, 0.1, 0.1), seed=0)
        chosen = tune(
            s.train,
            s.validation,
            (0.0, 10.0),
            ranks=(2, 5, 10, 20),
            regs=(0.1, 0.3, 0.5, 1.0),
            bias_regs=(0.1, 0.3, 0.5, 1.0),
            iterations=args.iterations,
        )
        report(
            f"MovieTweetings snapshot ({g.num_edges:,} ratings 0..10, split 80/10/10 seed 0, "
            f"{s.moved} moved to training)",
            chosen,
            [evaluate(s.train, s.test, chosen, (0.0, 10.0), args.iterations)],
        )
    if args.movielens:
        g = Graph.load_ratings(args.movielens, format="tsv")
        title = f"MovieLens-100k ({args.movielens})"
    else:
        g = movielens_like()
        title = "synthetic stand-in for MovieLens-100k (no --movielens given)"
    U = int(np.count_nonzero(~g.vertex_data["is_item"]))
    m = g.num_edges
    folds = np.array_split(np.random.default_rng(0).permutation(m), 5)
    train_1 = np.sort(np.concatenate(folds[1:]))
    inner = np.random.default_rng(1).permutation(train_1)
    cut = int(0.8 * inner.size)
    chosen = tune(
        subgraph(g, np.sort(inner[:cut])),
        held(g, np.sort(inner[cut:])),
        (1.0, 5.0),
        ranks=(5, 10, 20, 50),
        regs=(0.02, 0.05, 0.1, 0.2),
        bias_regs=(0.02, 0.05, 0.1, 0.2),
        iterations=args.iterations,
    )
    results = []
    for k in range(5):
        test = np.sort(folds[k])
        train = np.sort(np.concatenate([f for j, f in enumerate(folds) if j != k]))
        results.append(evaluate(subgraph(g, train), held(g, test), chosen, (1.0, 5.0), args.iterations))
    report(f"{title}: {U} users, {g.num_vertices - U} items, {m:,} ratings; 5-fold cross-validation", chosen, results)
    print(f"# {time.perf_counter() - start:.0f} s; 1-minute load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
