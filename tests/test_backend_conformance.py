"""Backend conformance: the same scenarios on every backend give the local backend's answers.

Every scenario runs one algorithm of ``algorithms/`` (or a small program
exercising one engine feature: aggregators, ``max_supersteps``, edge fields
written by scatter, more parts than workers) and returns its answers and
per-step statistics.  Each backend — ``local``, ``multiprocess`` and ``mpi``
— runs every scenario on P parts, and its outputs must equal those of the
local backend on the same P parts: integers, booleans and statistics
exactly, floats to a relative 1e-12 (the multiprocess tests' tolerance).
For the local backend itself that is a second run on the graph's cached
cut and layouts, which must not differ from the first.

The MPI rows start ``mpiexec -n P`` once per P (this file is also the
script the ranks run: ``python -m tests.test_backend_conformance OUT.npz``),
so the whole MPI part costs a few launches, not one per scenario.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]

# ================================================================ scenarios
Outputs = dict[str, Any]


def _graph(seed: int = 1, n: int = 300, m: int = 1500, weighted: bool = False, undirected: bool = False):
    from tests.datasets import random_graph

    g = random_graph(n, m, seed, weighted=weighted)
    return g.to_undirected() if undirected else g


def _stats(result: Any) -> Outputs:
    """The statistics every backend must reproduce."""
    steps = result.steps
    return {
        "supersteps": result.supersteps,
        "converged": result.converged,
        "updates": steps.column("updates"),
        "active": steps.column("active"),
        "bytes_exchanged": steps.column("bytes_exchanged"),
        "bytes_between_workers": steps.column("bytes_between_workers"),
        "conflicts": result.conflicts,
    }


def pagerank_sync(o: dict) -> Outputs:
    from algorithms import pagerank

    ranks, r = pagerank(_graph(), tol=1e-10, return_result=True, **o)
    return {"rank": ranks, **_stats(r)}


def pagerank_async_priority(o: dict) -> Outputs:
    from algorithms import pagerank

    ranks, r = pagerank(
        _graph(11, 100, 400), tol=1e-5, engine="async", scheduler="priority", batch_size=64, return_result=True, **o
    )
    return {"rank": ranks, **_stats(r)}


def pagerank_chromatic_full(o: dict) -> Outputs:
    from algorithms import pagerank

    ranks, r = pagerank(_graph(2, 60, 150), tol=1e-4, engine="chromatic", consistency="full", return_result=True, **o)
    return {"rank": ranks, "colors": r.colors, **_stats(r)}


def components_pointer_jumping(o: dict) -> Outputs:
    """Pointer jumping: the non-neighbour read (``pointer_reads``) through the masters."""
    from algorithms import connected_components

    labels, r = connected_components(_graph(3, 400, 500), return_result=True, **o)
    return {"label": labels, **_stats(r)}


def components_async(o: dict) -> Outputs:
    from algorithms import connected_components

    labels, r = connected_components(_graph(3, 400, 500), engine="async", return_result=True, **o)
    return {"label": labels, **_stats(r)}


def min_label(o: dict) -> Outputs:
    from algorithms import min_label_components

    labels, r = min_label_components(_graph(4, 300, 400), return_result=True, **o)
    return {"label": labels, **_stats(r)}


def sssp_delta_stepping(o: dict) -> Outputs:
    """Signals from one active vertex, priorities and buckets (an allreduce per superstep)."""
    from algorithms import sssp

    dist, r = sssp(_graph(5, weighted=True), 0, by_id=False, return_result=True, **o)
    return {"dist": dist, **_stats(r)}


def label_propagation_chromatic(o: dict) -> Outputs:
    """count_by_key gathers: ragged key counts travel to the masters."""
    from algorithms import label_propagation

    labels, r = label_propagation(_graph(6, 200, 600, undirected=True), return_result=True, **o)
    return {"label": labels, **_stats(r)}


def core_number(o: dict) -> Outputs:
    from algorithms import core_number

    core, r = core_number(_graph(7, 200, 900, undirected=True), return_result=True, **o)
    return {"core": core, **_stats(r)}


def core_number_peeling(o: dict) -> Outputs:
    """Neighbour writes, the receiving end's condition, priorities from apply, fields kept at masters."""
    from algorithms import core_number

    core, r = core_number(_graph(7, 200, 900, undirected=True), method="peeling", return_result=True, **o)
    return {"core": core, **_stats(r)}


def greedy_color_edge(o: dict) -> Outputs:
    from algorithms import greedy_color

    color, r = greedy_color(_graph(8, 200, 800), return_result=True, **o)
    return {"color": color, **_stats(r)}


def greedy_color_full_random(o: dict) -> Outputs:
    """Full consistency across parts (claims exchanged) under the random scheduler."""
    from algorithms import greedy_color

    color, r = greedy_color(_graph(8, 200, 800), consistency="full", scheduler="random", return_result=True, **o)
    return {"color": color, **_stats(r)}


def greedy_color_vertex(o: dict) -> Outputs:
    """Vertex consistency: races run and are counted as conflicts."""
    from algorithms import greedy_color

    color, r = greedy_color(_graph(8, 200, 800), consistency="vertex", batch_size=16, return_result=True, **o)
    return {"color": color, **_stats(r)}


def belief_propagation_grid(o: dict) -> Outputs:
    from algorithms import belief_propagation
    from gasengine.generators import grid

    g = grid(5, 6)
    rng = np.random.default_rng(0)
    phi = rng.uniform(0.5, 2.0, (g.num_vertices, 2))
    psi = np.array([[2.0, 0.5], [0.5, 2.0]])
    belief, r = belief_propagation(g, phi, psi, tol=1e-10, return_result=True, **o)
    return {"belief": belief, **_stats(r)}


def gibbs_chromatic(o: dict) -> Outputs:
    from algorithms import gibbs_ising
    from gasengine.generators import grid

    marginals, r = gibbs_ising(grid(6, 6), beta=0.4, sweeps=30, burn_in=5, seed=3, return_result=True, **o)
    return {"marginals": marginals, **_stats(r)}


def kmeans_sync_operations(o: dict) -> Outputs:
    """Keyed aggregators (centres by sync operation)."""
    from algorithms import kmeans

    rng = np.random.default_rng(1)
    points = np.concatenate([rng.normal(c, 0.3, (150, 2)) for c in ((0, 0), (3, 0), (0, 3), (3, 3))])
    fit = kmeans(points, 4, seed=2, **o)
    return {"centres": fit.centres, "labels": fit.labels, "inertia": fit.inertia, "iterations": fit.iterations}


def als_ratings(o: dict) -> Outputs:
    """Vector and matrix gathers on a bipartite ratings graph; RMSE by sync operations."""
    from algorithms import als
    from gasengine import ratings

    rng = np.random.default_rng(2)
    users, items = rng.integers(0, 60, 900), rng.integers(0, 40, 900)
    g = ratings.from_arrays(users, items, rng.integers(1, 6, 900).astype(float))
    model = als(g, rank=3, iterations=3, seed=1, **o)
    out = {
        "user_factors": model.user_factors,
        "item_factors": model.item_factors,
        "user_bias": model.user_bias,
        "item_bias": model.item_bias,
    }
    out.update({f"history_{k}": np.asarray(v, dtype=float) for k, v in model.history.items() if k != "seconds"})
    return out


def sgd_mf_async(o: dict) -> Outputs:
    """Edge-consistent asynchronous updates on a bipartite graph, random scheduler."""
    from algorithms import sgd_mf
    from gasengine import ratings

    rng = np.random.default_rng(3)
    users, items = rng.integers(0, 50, 700), rng.integers(0, 30, 700)
    g = ratings.from_arrays(users, items, rng.integers(1, 6, 700).astype(float))
    model = sgd_mf(g, rank=3, epochs=3, seed=1, engine="async", **o)
    out = {
        "user_factors": model.user_factors,
        "item_factors": model.item_factors,
        "user_bias": model.user_bias,
        "item_bias": model.item_bias,
        "conflicts": model.conflicts,
    }
    out.update({f"history_{k}": np.asarray(v, dtype=float) for k, v in model.history.items() if k != "seconds"})
    return out


def triangles_collect(o: dict) -> Outputs:
    """The collect combine: ragged neighbour sets gathered, travelling and stored as vertex fields."""
    from algorithms import triangles

    counts, r = triangles(_graph(12, 150, 900, undirected=True), return_result=True, **o)
    return {"triangles": counts, **_stats(r)}


def diameter_hyperanf(o: dict) -> Outputs:
    from algorithms import approximate_diameter

    est = approximate_diameter(_graph(13, 300, 500, undirected=True), precision=4, seed=1, **o)
    return {
        "nf": est.neighbourhood_function,
        "eccentricity": est.eccentricity,
        "reachable": est.reachable,
        "lower_bound": est.diameter_lower_bound,
    }


class _Count:
    """A program of every feature: aggregators (one every 2 supersteps), signals, max_supersteps, edge writes."""

    @staticmethod
    def program() -> Any:
        from gasengine import OUT, VertexProgram

        class Count(VertexProgram):
            scatter_edges = OUT

            def init(self, v):
                v.data["n"] = np.zeros(len(v), dtype=np.int64)

            def init_edges(self, e):
                e.data["hits"] = np.zeros(len(e), dtype=np.int64)

            def apply(self, v, acc):
                v.data["n"] = v.data["n"] + v.ids % 3

            def scatter(self, e):
                e.data["hits"] = e.data["hits"] + 1
                return (e.src + e.dst + e.data["hits"]) % 3 == 0

        return Count()


def aggregators_signals_edges(o: dict) -> Outputs:
    from gasengine import Aggregator, run

    aggs = [
        Aggregator("total", lambda v: v.data["n"]),
        Aggregator("top", lambda v: v.data["n"], combine=np.maximum, every=2),
    ]
    r = run(_Count.program(), _graph(9, 300, 2000), aggregators=aggs, max_supersteps=6, **o)
    out = {"n": r.field("n"), "hits": r.edge_data["hits"], **_stats(r)}
    out.update({f"aggregate_{k}": np.asarray(v) for k, v in r.aggregates.items()})
    out.update({f"history_{k}": np.asarray([value for _, value in v]) for k, v in r.history.items()})
    return out


def more_parts_than_workers(o: dict) -> Outputs:
    from algorithms import connected_components

    o = {**o, "partitions": 4 if o.get("partitions", 1) < 4 else o["partitions"] + 1}
    labels, r = connected_components(_graph(10, 300, 600), return_result=True, **o)
    return {"label": labels, "parts": r.num_parts, **_stats(r)}


SCENARIOS: dict[str, Callable[[dict], Outputs]] = {
    f.__name__: f
    for f in (
        pagerank_sync,
        pagerank_async_priority,
        pagerank_chromatic_full,
        components_pointer_jumping,
        components_async,
        min_label,
        sssp_delta_stepping,
        label_propagation_chromatic,
        core_number,
        core_number_peeling,
        greedy_color_edge,
        greedy_color_full_random,
        greedy_color_vertex,
        belief_propagation_grid,
        gibbs_chromatic,
        kmeans_sync_operations,
        als_ratings,
        sgd_mf_async,
        triangles_collect,
        diameter_hyperanf,
        aggregators_signals_edges,
        more_parts_than_workers,
    )
}

#: Outputs that legitimately differ between backends: bytes between *workers* (there is one on local).
WORKER_DEPENDENT = {"bytes_between_workers"}


def assert_same(got: Outputs, want: Outputs, where: str) -> None:
    """``got`` equals ``want``: exactly for integers, booleans and statistics, to 1e-12 for floats."""
    assert set(got) == set(want), f"{where}: outputs {sorted(got)} != {sorted(want)}"
    for key, expected in want.items():
        if key in WORKER_DEPENDENT:
            continue
        value, expected = np.asarray(got[key]), np.asarray(expected)
        assert value.shape == expected.shape, f"{where}: {key} has shape {value.shape}, expected {expected.shape}"
        if expected.dtype.kind == "f":
            np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-15, err_msg=f"{where}: {key}")
        else:
            np.testing.assert_array_equal(value, expected, err_msg=f"{where}: {key}")


@pytest.fixture(scope="module")
def local_answers() -> dict[tuple[str, int], Outputs]:
    """The reference: the local backend, per scenario and number of parts (computed on first use)."""
    return {}


def reference(cache: dict, name: str, parts: int) -> Outputs:
    if (name, parts) not in cache:
        cache[(name, parts)] = SCENARIOS[name]({"partitions": parts})
    return cache[(name, parts)]


# ==================================================================== local
@pytest.mark.parametrize("parts", [1, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_local(name, parts, local_answers):
    first = reference(local_answers, name, parts)
    again = SCENARIOS[name]({"partitions": parts})  # on the graph's cached cut and layouts
    assert_same(again, first, f"local, {parts} parts, second run")
    if "bytes_between_workers" in first:  # one worker: nothing crosses between workers
        assert not np.asarray(first["bytes_between_workers"]).any()


# ============================================================= multiprocess
@pytest.mark.parametrize("workers", [2, 3])
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_multiprocess(name, workers, local_answers):
    got = SCENARIOS[name]({"partitions": workers, "workers": workers, "backend": "multiprocess"})
    assert_same(got, reference(local_answers, name, workers), f"multiprocess, {workers} workers")


# ====================================================================== mpi
def mpiexec() -> str | None:
    """The ``mpiexec`` next to this Python (the mpich wheel puts it in the venv's bin), else on PATH."""
    here = Path(sys.executable).parent / "mpiexec"
    return str(here) if here.exists() else shutil.which("mpiexec")


def need_mpi() -> str:
    pytest.importorskip("mpi4py", reason="the MPI backend needs mpi4py (pip install -e '.[test]' installs it)")
    launcher = mpiexec()
    if launcher is None:
        pytest.skip("no mpiexec (pip install mpich)")
    return launcher


def mpi_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("GASENGINE_DEBUG", None)
    return env


#: Ranks of the MPI rows; CI's runs use 2 and 3, and P = 1 and 4 are run too.
MPI_RANKS = (1, 2, 3, 4)


@pytest.fixture(scope="module")
def mpi_answers(tmp_path_factory) -> Callable[[int], dict[str, Outputs]]:
    """Every scenario under ``mpiexec -n P``, one launch per P (on first use)."""
    launcher = need_mpi()
    done: dict[int, dict[str, Outputs]] = {}

    def answers(ranks: int) -> dict[str, Outputs]:
        if ranks not in done:
            out = tmp_path_factory.mktemp(f"mpi{ranks}") / "answers.npz"
            start = time.perf_counter()
            proc = subprocess.run(
                [launcher, "-n", str(ranks), sys.executable, "-m", "tests.test_backend_conformance", str(out)],
                cwd=REPO,
                env=mpi_env(),
                capture_output=True,
                text=True,
                timeout=240,
                check=False,
            )
            assert proc.returncode == 0, f"mpiexec -n {ranks} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            done[ranks] = load_answers(out)
            done[ranks]["\0seconds"] = time.perf_counter() - start  # type: ignore[assignment]
        return done[ranks]

    return answers


@pytest.mark.parametrize("ranks", MPI_RANKS)
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_mpi(name, ranks, mpi_answers, local_answers):
    got = dict(mpi_answers(ranks)[name])
    assert "error" not in got, f"mpi, {ranks} ranks: {got.get('error')}"
    wire = got.pop("wire_bytes")
    assert_same(got, reference(local_answers, name, ranks), f"mpi, {ranks} ranks")
    between = int(np.sum(got.get("bytes_between_workers", 0)))
    if ranks == 1:
        assert wire == 0 and between == 0
    else:
        # Statistics count the arrays of the messages between ranks; MPI moved those and their metadata.
        assert wire >= between
        if "bytes_between_workers" in got:
            assert between > 0


def test_mpi_step_statistics_count_what_mpi_sent(mpi_answers):
    """On MPI the steps' bytes between workers are what MPI moved (slots, metadata, arrays): at least the
    payload bytes the multiprocess backend counts for the same cut, and part of all the ranks sent."""
    multi = pagerank_sync({"partitions": 2, "workers": 2, "backend": "multiprocess"})
    got = mpi_answers(2)["pagerank_sync"]
    assert np.all(np.asarray(got["bytes_between_workers"]) >= np.asarray(multi["bytes_between_workers"]))
    assert np.sum(multi["bytes_between_workers"]) < np.sum(got["bytes_between_workers"]) <= got["wire_bytes"]


# ===================================================== the ranks' own script
def save_answers(path: str, answers: dict[str, Outputs]) -> None:
    flat = {f"{name}/{key}": np.asarray(value) for name, outputs in answers.items() for key, value in outputs.items()}
    np.savez(path, **flat)


def load_answers(path: Path) -> dict[str, Outputs]:
    answers: dict[str, Outputs] = {}
    with np.load(path, allow_pickle=False) as data:
        for key in data.files:
            name, field = key.split("/", 1)
            value = data[key]
            answers.setdefault(name, {})[field] = value.item() if value.ndim == 0 and field != "error" else value
            if field == "error":
                answers[name][field] = str(value)
    return answers


def main(out: str) -> int:
    """Under ``mpiexec -n P``: rank 0 runs every scenario on the MPI backend; the other ranks serve."""
    from gasengine.backends import mpi

    if mpi.rank() != 0:
        return mpi.serve()
    answers = {}
    for name, scenario in SCENARIOS.items():
        try:
            answers[name] = scenario({"partitions": mpi.size(), "backend": "mpi"})
            answers[name]["wire_bytes"] = sum(mpi.last_bytes_sent.values())
        except Exception as exc:  # noqa: BLE001 - reported per scenario, the others still run
            answers[name] = {"error": f"{type(exc).__name__}: {exc}"}
    save_answers(out, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
