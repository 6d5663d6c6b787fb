"""A recommender in a page: load ratings, hold some out, fit ALS, measure it, recommend.

Run it as it is (it reads the MovieTweetings snapshot of the project's data
folder), or give it your own ``user item rating [timestamp]`` file::

    python examples/recommender.py
    python examples/recommender.py path/to/ratings.dat --rank 10 --user 42
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from algorithms import als, bias_baseline
from gasengine import Graph, ratings

DEFAULT = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "ratings" / "movietweetings-snapshot-100K-ratings.dat"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ratings", nargs="?", default=str(DEFAULT), help="ratings file (default: MovieTweetings)")
    parser.add_argument("--rank", type=int, default=10)
    parser.add_argument("--user", default=None, help="recommend for this user id (default: the most active one)")
    args = parser.parse_args()

    graph = Graph.load_ratings(args.ratings)
    users, items = ratings.user_ids(graph), ratings.item_ids(graph)
    print(f"{graph.num_edges} ratings by {users.size} users of {items.size} items")

    split = ratings.split(graph, fractions=(0.8, 0.1, 0.1), seed=0)  # held-out users keep a training rating
    baseline = bias_baseline(split.train, reg=0.3, validation=split.validation)
    model = als(split.train, rank=args.rank, reg=0.5, bias_reg=0.3, iterations=10, validation=split.validation)
    print(f"test RMSE: ALS {model.rmse(split.test):.4f}, biases only {baseline.rmse(split.test):.4f}")

    user = args.user
    if user is None:  # the user with the most ratings
        counts = np.bincount(graph.src, minlength=users.size)
        user = users[int(counts[: users.size].argmax())]
    scores = model.predict(np.full(items.size, user, dtype=users.dtype), items)
    rated = set(items[graph.dst[graph.src == ratings.user_vertices(graph, [user])[0]] - users.size].tolist())
    best = [i for i in np.argsort(-scores, kind="stable").tolist() if items[i] not in rated][:5]
    print(f"top items for user {user}:", ", ".join(f"{items[i]} ({scores[i]:.2f})" for i in best))


if __name__ == "__main__":
    main()
