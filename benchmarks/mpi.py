"""MPI backend vs the multiprocess backend on one machine: 2 ranks against 2 worker processes.

Issue 14, point 7.  PageRank (tol 1e-8) and connected components on R-MAT
scale 20 (16.7M edges), each with ``backend="mpi"`` under ``mpiexec -n 2`` and
with ``backend="multiprocess", workers=2``, in one run of this script:

* the driver (this process, which never touches MPI: a process that has used
  MPI must not fork multiprocess workers) runs the multiprocess side;
* it then starts ``mpiexec -n 2 python benchmarks/mpi.py --as-ranks ...``,
  whose rank 0 runs the same calls on the MPI backend and prints its timings
  as one JSON line;
* the driver checks that both sides gave the same answers and prints one
  markdown table with the ratios MPI / multiprocess (target <= 1.2x).

Every call is made once untimed first (the cut, the part layouts and the
numba kernels are then cached on both sides), then ``--repeat`` times timed;
the table gives medians.  "whole call" is the algorithm function end to end
(cached cut: part set-up, shipping parts, supersteps, collecting results);
"supersteps" is the sum of the step table's seconds.

Usage::

    python benchmarks/mpi.py                 # R-MAT 20
    python benchmarks/mpi.py --scale 16      # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ALGORITHMS = ("pagerank", "connected_components")


def calls(backend: str, tol: float):
    from algorithms import connected_components, pagerank

    options = {"backend": backend}
    if backend == "multiprocess":
        options["workers"] = 2
    return {
        "pagerank": lambda g: pagerank(g, tol=tol, return_result=True, **options),
        "connected_components": lambda g: connected_components(g, return_result=True, **options),
    }


def measure(g, backend: str, tol: float, repeat: int) -> dict:
    """Median seconds of every call (whole call, supersteps), and its answer, on one backend."""
    out = {}
    for name, fn in calls(backend, tol).items():
        fn(g)  # cut, layouts, kernels: cached for the timed calls
        whole, steps, supersteps, between = [], [], 0, 0
        for _ in range(repeat):
            start = time.perf_counter()
            values, result = fn(g)
            whole.append(time.perf_counter() - start)
            steps.append(float(result.steps.column("seconds").sum()))
            supersteps = int(result.supersteps)
            between = int(result.steps.column("bytes_between_workers").sum())
        out[name] = {
            "whole": float(np.median(whole)),
            "steps": float(np.median(steps)),
            "supersteps": supersteps,
            "between": between,
            "answer": values,
        }
    return out


def as_ranks(args: argparse.Namespace) -> None:
    """Under mpiexec: the MPI side; rank 0 prints the timings (answers digested) as a JSON line."""
    from gasengine.backends import mpi
    from gasengine.generators import rmat

    if mpi.rank() != 0:
        mpi.serve()  # serve every run rank 0 starts; returns when rank 0's program ends
        return
    out = measure(rmat(args.scale), "mpi", args.tol, args.repeat)
    np.savez(args.answers, **{name: row.pop("answer") for name, row in out.items()})
    print("RESULT " + json.dumps(out), flush=True)


def run_mpi_side(args: argparse.Namespace, answers: Path) -> dict:
    mpiexec = Path(sys.executable).with_name("mpiexec")
    cmd = [
        str(mpiexec),
        "-n",
        "2",
        sys.executable,
        str(Path(__file__).resolve()),
        "--as-ranks",
        "--scale",
        str(args.scale),
        "--tol",
        str(args.tol),
        "--repeat",
        str(args.repeat),
        "--answers",
        str(answers),
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(HERE.parent), env.get("PYTHONPATH", "")] if p)
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=args.timeout, env=env)
    except subprocess.TimeoutExpired:  # mpiexec is killed by subprocess.run; hydra ends its ranks
        sys.exit(f"mpiexec -n 2 did not finish within {args.timeout:.0f} s")
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    sys.exit(f"mpiexec -n 2 failed (status {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20, help="R-MAT scale (default 20: 16.7M edges)")
    parser.add_argument("--tol", type=float, default=1e-8, help="PageRank tolerance (default 1e-8)")
    parser.add_argument("--repeat", type=int, default=3, help="timed calls per backend and algorithm (default 3)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed for the mpiexec side")
    parser.add_argument("--as-ranks", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--answers", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_ranks:
        as_ranks(args)
        return

    from gasengine.generators import rmat

    load = os.getloadavg()
    g = rmat(args.scale)
    print(
        f"R-MAT {args.scale}: {g.num_vertices:,} vertices, {g.num_edges:,} edges; {os.cpu_count()} cores, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start; medians of {args.repeat} "
        "calls after an untimed one\n",
        flush=True,
    )
    mp = measure(g, "multiprocess", args.tol, args.repeat)
    del g
    answers = Path(f"/tmp/gasengine-bench-mpi-{os.getpid()}.npz")
    try:
        mpi = run_mpi_side(args, answers)
        with np.load(answers) as saved:
            mpi_answers = {name: saved[name] for name in ALGORITHMS}
    finally:
        answers.unlink(missing_ok=True)
    load = os.getloadavg()

    print(
        "| algorithm | supersteps | MB between workers | multiprocess (2 workers) s | mpiexec -n 2 s | "
        "ratio MPI / mp | supersteps only: mp s | MPI s | ratio |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in ALGORITHMS:
        a, b = mp[name], mpi[name]
        print(
            f"| {name} | {a['supersteps']} | {a['between'] / 1e6:.1f} | {a['whole']:.3f} | {b['whole']:.3f} | "
            f"**{b['whole'] / a['whole']:.2f}** | {a['steps']:.3f} | {b['steps']:.3f} | "
            f"{b['steps'] / a['steps']:.2f} |"
        )
    print()
    pr_l1 = float(np.abs(mp["pagerank"]["answer"] - mpi_answers["pagerank"]).sum())
    same_cc = bool(np.array_equal(mp["connected_components"]["answer"], mpi_answers["connected_components"]))
    print(
        f"answers: PageRank L1(mp, MPI) = {pr_l1:.1e}; components identical: {same_cc}; "
        f"MPI supersteps {mpi['pagerank']['supersteps']} / {mpi['connected_components']['supersteps']}, "
        f"MB between ranks {mpi['pagerank']['between'] / 1e6:.1f} / {mpi['connected_components']['between'] / 1e6:.1f}"
    )
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; target: ratio <= 1.2")


if __name__ == "__main__":
    main()
