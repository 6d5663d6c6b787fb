"""k-means in a page: points as vertices, the centres as a sync operation's value.

python examples/kmeans.py            # 100,000 points in 3-d around 6 centres
"""

from __future__ import annotations

import numpy as np

from algorithms import kmeans


def main() -> None:
    rng = np.random.default_rng(0)
    truth = rng.normal(scale=10, size=(6, 3))
    points = truth[rng.integers(0, 6, 100_000)] + rng.normal(size=(100_000, 3))
    fit = kmeans(points, 6, init="k-means++", seed=0)
    print(f"{fit.iterations} iterations, inertia {fit.inertia:.1f}, converged {fit.converged}")
    # every true centre has a fitted centre within about one unit of noise
    gaps = np.linalg.norm(truth[:, None, :] - fit.centres[None, :, :], axis=2).min(axis=1)
    print("distance from each true centre to the nearest fitted one:", np.round(gaps, 3).tolist())
    print("points per cluster:", np.bincount(fit.labels, minlength=6).tolist())


if __name__ == "__main__":
    main()
