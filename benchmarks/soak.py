"""Soak: 200 consecutive runs in one process, and what they leave behind.

The runs are the cycle of ``tests/soak_mix.py`` (shared with the test
suite's short soak, ``tests/test_soak.py``), run ``i`` being
``CYCLE[i % 20]``: PageRank, connected components, SSSP, label propagation,
k-core, triangles and ALS under the sync, chromatic and async engines with
every consistency model, on the local backend and on two worker processes;
vertex programs that raise on purpose (in gather, apply or scatter); workers
that SIGKILL themselves mid-run; a run that exhausts its superstep budget.
Every run's ending is checked (a successful run gives the same answer as
the first run of its kind, a failing one fails as planned).

After each run (and a full garbage collection) it records this process's
open file descriptors (``/proc/self/fd``), live child processes, its own
shared-memory segments (``/dev/shm/gasengine-<pid>-*``), resident memory and
threads, prints one row per run, then a summary: each measure at run 1, at
run 20 (the end of the first cycle: every kind of run has happened once, so
caches that fill once — numba's compiled kernels, each graph's cut — are
full) and at the last run, the growth between them and the largest value in
between.  It exits with status 1 if a bound is exceeded:

* file descriptors, child processes, segments, threads: no growth at all
  after run 20, and no child or segment left after *any* run;
* resident memory: less than :data:`RSS_BOUND_MB` from run 20 to any later
  run (see ``benchmarks/README.md`` for why that bound).

Usage::

    python benchmarks/soak.py                       # 200 runs
    python benchmarks/soak.py --runs 60 --json out/soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests/ holds the run mix

from tests.soak_mix import CYCLE, Probe, as_dict, probe, soak

#: Resident-memory growth allowed from the end of the first cycle to any later run.
RSS_BOUND_MB = 8.0
#: Measures that must not grow at all after the first cycle.
COUNTS = ("fds", "children", "segments", "threads")


def summarise(before: Probe, rows: list[Probe]) -> tuple[list[dict], list[str]]:
    """One summary row per measure, and the bounds exceeded (empty: all kept)."""
    warm = min(len(CYCLE), len(rows)) - 1
    settled, last, after = rows[warm], rows[-1], rows[warm:]
    table, broken = [], []
    for measure in (*COUNTS, "rss_mb"):
        values = [getattr(r, measure) for r in after]
        growth = getattr(last, measure) - getattr(settled, measure)
        peak = max(values) - getattr(settled, measure)
        bound = RSS_BOUND_MB if measure == "rss_mb" else 0
        ok = peak < bound if measure == "rss_mb" else peak <= bound
        table.append(
            {
                "measure": measure,
                "before": getattr(before, measure),
                "run 1": getattr(rows[0], measure),
                f"run {settled.run}": getattr(settled, measure),
                f"run {last.run}": getattr(last, measure),
                "growth": round(growth, 1),
                "max growth": round(peak, 1),
                "bound": f"< {bound:g} MB" if measure == "rss_mb" else "0",
                "ok": ok,
            }
        )
        if not ok:
            broken.append(f"{measure}: grew by {peak:g} after run {settled.run} (bound {bound:g})")
    for measure in ("children", "segments"):
        left = [r.run for r in rows if getattr(r, measure) > getattr(before, measure)]
        if left:
            broken.append(f"{measure} left behind after runs {left[:10]}{' ...' if len(left) > 10 else ''}")
    return table, broken


def slope_per_100_runs(rows: list[Probe]) -> float:
    """Least-squares slope of resident memory (MB per 100 runs) over the runs after the first cycle."""
    after = rows[min(len(CYCLE), len(rows)) - 1 :]
    if len(after) < 2:
        return 0.0
    xs = [r.run for r in after]
    ys = [r.rss_mb for r in after]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return 100 * sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="consecutive runs (default 200)")
    parser.add_argument("--json", metavar="PATH", help="also write every row and the summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="print the summary only, not a row per run")
    args = parser.parse_args(argv)
    if args.runs < len(CYCLE) + 1:
        parser.error(f"--runs must be more than one cycle ({len(CYCLE)} runs)")

    print(
        f"soak: {args.runs} runs, cycle of {len(CYCLE)}; pid {os.getpid()}; Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    header = (
        f"{'run':>4} {'case':<42} {'outcome':<7} {'s':>6} {'fds':>4} {'kids':>4} {'shm':>4} {'thr':>4} {'RSS MB':>7}"
    )
    if not args.quiet:
        print(header)

    def show(row: Probe) -> None:
        if not args.quiet:
            print(
                f"{row.run:>4} {row.case:<42} {row.outcome:<7} {row.seconds:>6.3f} {row.fds:>4} {row.children:>4} "
                f"{row.segments:>4} {row.threads:>4} {row.rss_mb:>7.1f}",
                flush=True,
            )

    before = probe(0, "before the first run", "", 0.0)
    start = time.perf_counter()
    rows = soak(args.runs, show)
    elapsed = time.perf_counter() - start
    table, broken = summarise(before, rows)
    slope = slope_per_100_runs(rows)
    outcomes = {kind: sum(r.outcome == kind for r in rows) for kind in ("ok", "error", "killed", "budget")}

    print(
        f"\n{args.runs} runs in {elapsed:.0f} s ({', '.join(f'{n} {k}' for k, n in outcomes.items())}); "
        f"load average {os.getloadavg()[0]:.2f} at the end"
    )
    keys = list(table[0])
    widths = [max(len(k), *(len(str(t[k])) for t in table)) for k in keys]
    print("  ".join(k.rjust(w) for k, w in zip(keys, widths)))
    for t in table:
        print("  ".join(str(t[k]).rjust(w) for k, w in zip(keys, widths)))
    print(f"resident memory after run {min(len(CYCLE), len(rows))}: slope {slope:+.2f} MB per 100 runs (least squares)")
    print("verdict:", "every bound kept" if not broken else "BOUND EXCEEDED: " + "; ".join(broken))

    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(
                {
                    "runs": args.runs,
                    "seconds": round(elapsed, 1),
                    "outcomes": outcomes,
                    "rss_bound_mb": RSS_BOUND_MB,
                    "rss_slope_mb_per_100_runs": round(slope, 3),
                    "before": as_dict(before),
                    "rows": [as_dict(r) for r in rows],
                    "summary": table,
                    "exceeded": broken,
                },
                f,
                indent=1,
            )
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
