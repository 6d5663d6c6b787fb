"""The scripts in examples/ run as they are and print what they promise."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.datasets import DATA, REPO


def run_example(name: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / name), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_kmeans_example_finds_the_centres():
    out = run_example("kmeans.py")
    assert "converged True" in out
    gaps = out.split("fitted one:")[1].splitlines()[0]
    assert all(float(x) < 0.1 for x in gaps.strip(" []").split(","))


def test_recommender_example_beats_the_baseline():
    ratings = DATA / "ratings" / "movietweetings-snapshot-100K-ratings.dat"
    if not ratings.exists():
        pytest.skip(f"dataset {ratings} not available (set GASENGINE_DATA)")
    out = run_example("recommender.py", str(ratings))
    als_rmse, base = (float(x) for x in out.split("ALS ")[1].splitlines()[0].split(", biases only "))
    assert als_rmse < base and "top items for user" in out
