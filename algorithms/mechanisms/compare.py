"""Every mechanism on one problem, one data split and one budget: the comparison table.

Examples
--------
>>> from algorithms.mechanisms.problems import Problem, make_logistic
>>> X, y = make_logistic(120, 3)
>>> t = compare_mechanisms(Problem("logistic", 0.01), X, y, workers=2, budget=30, mechanisms=("bsp_sgd", "hogwild"))
>>> [row["mechanism"] for row in t.rows]
['bsp_sgd', 'hogwild']
>>> t.rows[1]["conflicts"] > 0
True
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gasengine import rank_zero

from .admm import admm
from .async_sgd import async_sgd
from .averaging import model_averaging
from .base import MechanismResult, check_positive
from .bsp_sgd import bsp_sgd
from .easgd import easgd
from .hogwild import hogwild
from .model_parallel import model_parallel
from .problems import Problem, reference_solution, shard

__all__ = ["DATA_PARALLEL", "MECHANISMS", "MechanismTable", "compare_mechanisms"]

#: name -> (engine, consistency) the mechanism runs under.
MECHANISMS: dict[str, tuple[str, str]] = {
    "bsp_sgd": ("sync", "-"),
    "model_averaging": ("sync", "-"),
    "easgd": ("sync", "-"),
    "admm": ("sync", "-"),
    "async_sgd": ("async", "edge"),
    "hogwild": ("async", "vertex"),
    "model_parallel": ("sync", "-"),
}

#: The data-parallel mechanisms, the default of :func:`compare_mechanisms` (``"model_parallel"`` is opt-in:
#: it works on the examples x features graph, not on the shards).
DATA_PARALLEL = ("bsp_sgd", "model_averaging", "easgd", "admm", "async_sgd", "hogwild")

COLUMNS = (
    "mechanism",
    "engine",
    "consistency",
    "objective",
    "gap",
    "rounds",
    "gradients",
    "seconds",
    "sim_time",
    "bytes_engine",
    "bytes_model",
    "staleness_mean",
    "staleness_max",
    "conflicts",
    "converged",
)


@dataclass(eq=False)
class MechanismTable:
    """The comparison: one row (a dict of :data:`COLUMNS`) per mechanism; prints as a table.

    Attributes
    ----------
    rows : list of dict
    results : dict of str to MechanismResult
    optimum : float
        The reference objective the gaps are relative to.
    """

    rows: list[dict[str, Any]]
    results: dict[str, MechanismResult] = field(repr=False)
    optimum: float = math.nan

    def __str__(self) -> str:
        header = (
            "mechanism",
            "engine",
            "cons.",
            "objective",
            "gap",
            "rounds",
            "grads",
            "seconds",
            "sim time",
            "bytes(engine)",
            "bytes(model)",
            "stale mean",
            "stale max",
            "conflicts",
        )
        body = []
        for r in self.rows:
            body.append(
                (
                    r["mechanism"],
                    r["engine"],
                    r["consistency"],
                    f"{r['objective']:.8f}",
                    f"{r['gap']:.2e}",
                    str(r["rounds"]),
                    str(r["gradients"]),
                    f"{r['seconds']:.2f}",
                    f"{r['sim_time']:.0f}",
                    str(r["bytes_engine"]),
                    str(r["bytes_model"]),
                    f"{r['staleness_mean']:.2f}",
                    f"{r['staleness_max']:.0f}",
                    str(r["conflicts"]),
                )
            )
        widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(header)]
        lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(b, widths, strict=True)) for b in body]
        return "\n".join(lines)

    def traces(self) -> dict[str, dict[str, np.ndarray]]:
        """Per mechanism: ``"seconds"``, ``"bytes"`` (model traffic so far) and ``"gap"`` per round.

        The traces end at the result.

        The gap per round is that of the objective the mechanism's sync
        operation saw (mini-batch and stale-model estimates for SGD); the
        last point is the final model's exact gap.
        """
        out = {}
        for name, r in self.results.items():
            rounds = np.asarray(r.history.get("round", np.zeros(0)), dtype=np.int64)
            value = np.asarray(r.history.get("objective", np.zeros(0)), dtype=np.float64)
            seconds = np.zeros(0)
            if r.result is not None and r.result.steps.rows:
                step = np.array([row.superstep for row in r.result.steps.rows])
                spent = np.cumsum(r.result.steps.column("seconds"))
                at = np.searchsorted(step, rounds, side="right") - 1
                seconds = np.where(at >= 0, spent[np.maximum(at, 0)], 0.0)
            total = max(r.rounds, 1)
            out[name] = {
                "seconds": np.append(seconds if len(seconds) == len(rounds) else rounds * 0.0, r.seconds),
                "bytes": np.append(r.bytes_model * rounds / total, r.bytes_model),
                "gap": np.append((value - self.optimum) / abs(self.optimum), r.gap(self.optimum)),
            }
        return out

    def plot(self, path: Any, title: str | None = None) -> None:
        """Save the objective gap against time and against bytes, one line per mechanism, log scales.

        Needs matplotlib (``pip install 'gasengine[plot]'``); gaps at or
        below 0 (an estimate under the optimum) are drawn at 1e-16.
        """
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError("MechanismTable.plot needs matplotlib: pip install 'gasengine[plot]'") from None
        fig = Figure(figsize=(13, 5), layout="constrained")
        axes = fig.subplots(1, 2)
        for name, t in self.traces().items():
            gap = np.clip(t["gap"], 1e-16, None)
            for ax, key in ((axes[0], "seconds"), (axes[1], "bytes")):
                x = np.maximum(t[key], 1e-6)
                keep = np.isfinite(gap) & np.isfinite(x)
                ax.plot(x[keep], gap[keep], label=name, linewidth=1.4)
        for ax, label in ((axes[0], "seconds"), (axes[1], "bytes of model traffic")):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel(label)
            ax.set_ylabel("relative objective gap")
            ax.grid(True, alpha=0.3)
        axes[0].legend(fontsize=8)
        if title:
            fig.suptitle(title)
        fig.savefig(path, dpi=110)

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write the rows as CSV (the columns of :data:`COLUMNS`)."""
        with open(path, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(COLUMNS))
            writer.writeheader()
            writer.writerows(self.rows)


@rank_zero
def compare_mechanisms(
    problem: Problem,
    X: Any,
    y: Any,
    workers: int = 4,
    straggler: float = 1.0,
    budget: int = 500,
    mechanisms: Sequence[str] = DATA_PARALLEL,
    seed: int = 0,
    optimum: float | None = None,
    local_steps: int = 5,
    staleness: int | None = 4,
    partitions: int | None = None,
    **engine_options: Any,
) -> MechanismTable:
    """Run mechanisms with the same shards and budget and tabulate what they reached and what it cost.

    Parameters
    ----------
    problem : Problem
    X, y : data and targets
    workers : int
        Shards, one per simulated worker (vertex).
    straggler : float
        Shard 0 is this many times slower (1: none).  Synchronous rounds
        wait for it (its apply sleeps, and ``sim_time`` charges every round
        the slow shard's time); asynchronous shards do not (its gradients
        take ``straggler`` turns, arrive staler and rarer).
    budget : int
        Gradient evaluations per shard: the round limit of BSP SGD and ADMM,
        ``budget / local_steps`` rounds of model averaging and EASGD, and
        ``budget`` pushes per shard for the asynchronous ones.  Mechanisms
        with a stopping rule may stop earlier.
    mechanisms : sequence of str
        Names from :data:`MECHANISMS` (default :data:`DATA_PARALLEL`;
        ``"model_parallel"`` runs ``budget`` coordinate-descent iterations
        on the examples x features graph, ignoring the shards).
    seed : int
        Seed of the split (one split for all) and of the runs.
    optimum : float, optional
        Reference objective (default: the serial solver
        :func:`~algorithms.mechanisms.problems.reference_solution`).
    local_steps : int
        Local steps of model averaging.
    staleness : int or None
        Bound of asynchronous SGD.
    partitions : int, optional
        Parts of the engine's vertex cut (default ``min(workers, 2)``): the
        engine counts bytes between parts.
    **engine_options
        Passed to every :func:`gasengine.run` (``workers``, ``backend``...).

    Returns
    -------
    MechanismTable
    """
    check_positive("workers", workers, integer=True)
    check_positive("budget", budget, integer=True)
    unknown = [m for m in mechanisms if m not in MECHANISMS]
    if unknown:
        raise ValueError(f"unknown mechanisms {unknown}; choose from {', '.join(MECHANISMS)}")
    s = shard(X, y, problem, workers, seed)
    if optimum is None:
        optimum = problem.objective(reference_solution(problem, X, y), X, y)
    opts: dict[str, Any] = {
        "partitions": partitions if partitions is not None else min(workers, 2),
        "partition": "random",
        **engine_options,
    }
    common: dict[str, Any] = {"shards": s, "seed": seed, "straggler": straggler}
    runners = {
        "bsp_sgd": lambda: bsp_sgd(problem, X, y, max_rounds=budget, **common, **opts),
        "model_averaging": lambda: model_averaging(
            problem, X, y, local_steps=local_steps, max_rounds=max(1, budget // local_steps), **common, **opts
        ),
        "easgd": lambda: easgd(problem, X, y, max_rounds=budget, **common, **opts),
        "admm": lambda: admm(problem, X, y, max_rounds=budget, **common, **opts),
        "async_sgd": lambda: async_sgd(problem, X, y, staleness=staleness, epochs=budget, **common, **opts),
        "hogwild": lambda: hogwild(problem, X, y, epochs=budget, **common, **opts),
        "model_parallel": lambda: model_parallel(problem, X, y, max_rounds=budget, **opts),
    }
    rows, results = [], {}
    for name in mechanisms:  # a loop over mechanisms
        r = runners[name]()
        results[name] = r
        engine, consistency = MECHANISMS[name]
        rows.append(
            {
                "mechanism": name,
                "engine": engine,
                "consistency": consistency,
                "objective": r.objective,
                "gap": r.gap(optimum),
                "rounds": r.rounds,
                "gradients": r.gradients,
                "seconds": r.seconds,
                "sim_time": r.sim_time,
                "bytes_engine": r.bytes_engine,
                "bytes_model": r.bytes_model,
                "staleness_mean": r.staleness_mean,
                "staleness_max": r.staleness_max,
                "conflicts": r.conflicts,
                "converged": r.converged,
            }
        )
    return MechanismTable(rows, results, optimum)
