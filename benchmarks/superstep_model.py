"""Communication of a cluster run, and a model of superstep time fitted here and extrapolated.

Two parts (issue 14, point 6; the output goes into ``docs/distributed.md``):

``table``  (deterministic: no timing in it)
    Replication factor, mirrors and bytes of one all-active superstep
    (``2 * mirrors * 8``: partial accumulator to the master, new value back)
    for 16, 64 and 256 parts of R-MAT scale 20 (16.7M edges), for several
    strategies, with ``partitioning.report`` -- the function ``gasengine
    partition`` prints.

``fit``  (timings: re-run on a quiet machine)
    Measures PageRank supersteps here on the local backend (one process, one
    part: compute per edge) and on the MPI backend (``mpiexec -n 2``: compute,
    exchange time, bytes between ranks, rounds), fits

        T(P) = c_edge(n) * n,  n = max_edges_per_machine(P)  (c_edge measured per part size)
               + bytes_per_machine(P) / bandwidth
               + latency(P) * rounds

    and prints it extrapolated to 16 and 64 machines on a 10 Gbit/s network
    (one rank per machine; the cut of ``table`` for P parts).  What is
    measured and what is assumed is printed with the numbers.

Usage::

    python benchmarks/superstep_model.py table                  # R-MAT 20, 16/64/256 parts (minutes)
    python benchmarks/superstep_model.py table --scale 16 --parts 4,16
    python benchmarks/superstep_model.py fit                    # R-MAT 20 (quiet machine!)
    python benchmarks/superstep_model.py fit --scale 16         # a quick look
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
VALUE_BYTES = 8
#: Bytes of the fixed per-peer slot of every MPI round (gasengine.backends.mpi_transport.slot_bytes).
GBIT = 1e9 / 8


def slot_bytes(size: int) -> int:
    from gasengine.backends.mpi_transport import slot_bytes as slot

    return slot(size)


# --------------------------------------------------------------------------- table


def cut_rows(scale: int, parts: list[int], strategies: list[str], seed: int = 0) -> list[dict]:
    from gasengine.generators import rmat
    from partitioning import report

    g = rmat(scale)
    rows = []
    for p in parts:
        for name in strategies:
            r = report(g, num_parts=p, strategies=[name], seed=seed).rows[0]
            rows.append(r)
            print(
                f"  {name} P={p}: rf {r['replication_factor']:.3f}, {r['seconds']:.1f} s", file=sys.stderr, flush=True
            )
    return rows


def cmd_table(args: argparse.Namespace) -> None:
    from gasengine.generators import rmat

    parts = [int(p) for p in args.parts.split(",")]
    strategies = args.strategies.split(",")
    g = rmat(args.scale)
    print(f"R-MAT {args.scale}: {g.num_vertices:,} vertices, {g.num_edges:,} edges, seed 0\n")
    del g
    rows = cut_rows(args.scale, parts, strategies)
    print("| strategy | parts | replication factor | edge balance | mirrors | bytes per superstep | per part |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        b = r["bytes_per_superstep"]
        print(
            f"| {r['strategy']} | {r['parts']} | {r['replication_factor']:.2f} | {r['edge_balance']:.3f} | "
            f"{r['mirrors']:,} | {b / 1e6:,.1f} MB | {b / r['parts'] / 1e6:,.2f} MB |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, default=float, indent=1))
        print(f"\nrows written to {args.json}", file=sys.stderr)


# --------------------------------------------------------------------------- fit


def _rank_measure(scales: list[int], supersteps: int) -> None:
    """Run under ``mpiexec``: PageRank supersteps on the MPI backend per scale; rank 0 prints JSON lines."""
    from algorithms import PageRankProgram
    from gasengine import run
    from gasengine.backends import mpi
    from gasengine.generators import rmat
    from partitioning import partition

    rank = mpi.rank()
    for scale in scales:
        g = rmat(scale) if rank == 0 else None
        run(PageRankProgram(tol=0), g, backend="mpi", max_supersteps=2)  # cut, layouts, kernels
        res = run(PageRankProgram(tol=0), g, backend="mpi", max_supersteps=supersteps)
        if res is None:
            continue
        cut = partition(g, res.num_parts, "hdrf")  # the engine's default cut, recomputed (deterministic)
        steps = res.steps
        out = {
            "scale": scale,
            "edges": g.num_edges,
            "ranks": res.num_parts,
            "max_edges": int(np.bincount(cut.edge_part, minlength=res.num_parts).max()),
            "predicted": cut.bytes_per_superstep(VALUE_BYTES),
            "supersteps": len(steps.column("seconds")),
            "seconds": steps.column("seconds")[1:].tolist(),
            "compute": steps.column("compute_seconds")[1:].tolist(),
            "exchange": steps.column("exchange_seconds")[1:].tolist(),
            "between": steps.column("bytes_between_workers")[1:].tolist(),
            "mpi_bytes_sent": int(sum(mpi.last_bytes_sent.values())),
        }
        print("RESULT " + json.dumps(out), flush=True)


def measure_mpi(scales: list[int], supersteps: int, ranks: int, timeout: float) -> list[dict]:
    mpiexec = Path(sys.executable).with_name("mpiexec")
    cmd = [
        str(mpiexec),
        "-n",
        str(ranks),
        sys.executable,
        str(Path(__file__).resolve()),
        "--as-ranks",
        "--scales",
        ",".join(map(str, scales)),
        "--supersteps",
        str(supersteps),
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(HERE.parent), env.get("PYTHONPATH", "")] if p)
    try:
        out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        sys.exit(f"mpiexec -n {ranks} did not finish within {timeout:.0f} s")
    rows = [json.loads(line[7:]) for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if len(rows) != len(scales):
        sys.exit(f"mpiexec -n {ranks} failed (status {out.returncode}):\n{out.stdout}\n{out.stderr}")
    return rows


def model_cuts(args: argparse.Namespace, machines: list[int]) -> tuple[int, list[dict]]:
    """(edges, rows with parts, replication_factor, edge_balance, mirrors) of the extrapolated graph."""
    if args.cuts:
        rows = json.loads(Path(args.cuts).read_text())
        picked = [r for p in machines for r in rows if r["parts"] == p and r["strategy"] == args.strategy]
        if len(picked) == len(machines):
            return int(picked[0]["edges"]), picked
        print(f"({args.cuts} lacks {args.strategy} at {machines} parts: cutting again)", file=sys.stderr)
    from gasengine.generators import rmat
    from partitioning import report

    g = rmat(args.model_scale)
    return g.num_edges, [report(g, num_parts=p, strategies=[args.strategy]).rows[0] for p in machines]


def cmd_fit(args: argparse.Namespace) -> None:
    scales = [int(s) for s in args.scales.split(",")] if args.scales else [args.scale - 4, args.scale - 2, args.scale]
    load = os.getloadavg()
    print(
        f"PageRank supersteps on R-MAT {', '.join(map(str, scales))}, mpiexec -n 2 (hdrf cut, 2 parts), "
        f"{args.supersteps - 1} supersteps per scale after a warm-up run; {os.cpu_count()} cores, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start\n"
    )
    rows = measure_mpi(scales, args.supersteps, 2, args.timeout)
    load = os.getloadavg()
    stat = np.median if args.stat == "median" else np.min
    print(f"Measured here ({args.stat} over supersteps, each column separately):\n")
    print(
        "| R-MAT | edges | max edges per rank | superstep ms | compute ms | exchange ms | "
        "MB between ranks | MB MPI sent (slots incl.) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    E, T, C, X, O = [], [], [], [], []
    for r in rows:
        t, c, x = (float(stat(r[k])) for k in ("seconds", "compute", "exchange"))
        E.append(r["max_edges"])
        T.append(t)
        C.append(c)
        X.append(x)
        O.append(float(stat(np.subtract(np.subtract(r["seconds"], r["compute"]), r["exchange"]))))
        print(
            f"| {r['scale']} | {r['edges']:,} | {r['max_edges']:,} | {t * 1e3:.1f} | {c * 1e3:.1f} | "
            f"{x * 1e3:.1f} | {np.median(r['between']) / 1e6:.2f} | "
            f"{r['mpi_bytes_sent'] / r['supersteps'] / 1e6:.2f} |"
        )
    # the engine's messages against the table's 2 x mirrors x 8 bytes (signals and activity come on top)
    factor = float(np.median([np.median(r["between"]) / r["predicted"] for r in rows]))
    # compute = c_edge(n) * n for n edges per machine: the cost per edge measured at each scale, log-linear
    # in n between them and flat beyond (smaller parts fit caches better: 4.8 ns per edge at 2M edges per rank
    # against 12 ns at 8M here, so one straight line through both would miss either by 2x).  The exchange of a
    # superstep on one machine is its rounds' fixed cost (collectives, flattening) plus shared-memory copies
    # and waiting for the slower rank: its smallest value over the scales is taken as the rounds' cost; the
    # rest of a superstep (Python between the phases) is the median of superstep - compute - exchange.
    E = np.asarray(E, float)
    per_edge = np.asarray(C) / E
    order = np.argsort(E)

    def c_edge(n: float) -> float:
        return float(np.interp(np.log(n), np.log(E[order]), per_edge[order]))

    t_rounds = float(min(X))
    t_other = float(np.median(O))
    t_fixed = t_rounds + max(t_other, 0.0)
    fitted = np.asarray([c_edge(n) * n for n in E]) + t_fixed
    worst = float(np.max(np.abs(fitted - T) / np.asarray(T)))
    costs = ", ".join(f"{c * 1e9:.2f} ns at {n / 1e6:.2f}M" for n, c in zip(E[order], per_edge[order], strict=True))
    print(
        f"\nFit: compute per edge by edges per rank: {costs} (log-linear between, flat beyond); exchange "
        f"rounds (smallest exchange) {t_rounds * 1e3:.2f} ms; other {t_other * 1e3:.2f} ms; t_fixed = "
        f"{t_fixed * 1e3:.2f} ms per superstep.  Model against the measured superstep: largest relative error "
        f"{worst:.1%}.  Load average {load[0]:.2f} at the end.  Bytes between the ranks / the table's "
        f"2 x mirrors x 8 bytes: {factor:.2f} (used below)."
    )
    if np.any(per_edge <= 0):
        print(
            "a compute time <= 0: the measured points are noise-dominated (machine busy, or scales too small); "
            "the extrapolation below is meaningless."
        )

    machines = [int(x) for x in args.machines.split(",")]
    edges, cuts = model_cuts(args, machines)
    bandwidth = args.bandwidth * GBIT
    latency = args.latency * 1e-6
    rounds = args.rounds
    print(
        f"\nExtrapolated (NOT measured): R-MAT {args.model_scale} ({edges:,} edges), {args.strategy} cut, one "
        f"rank per machine, {factor:.2f} x 2 x mirrors x 8 bytes per superstep spread evenly, "
        f"{args.bandwidth:g} Gbit/s per machine (full duplex), {args.latency:g} us latency per "
        f"message step, {rounds} rounds per superstep, each an Alltoall of log2(P) steps:\n"
    )
    print(
        "| machines | replication factor | max edges per machine | MB per machine | compute ms | "
        "fixed ms | network ms | latency ms | superstep ms | speed-up over 1 machine |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    t1 = c_edge(edges) * edges + t_fixed
    for cut in cuts:
        p = int(cut["parts"])
        max_edges = cut["edge_balance"] * edges / p
        # bytes_per_superstep / P, sent (and as many received), times the factor measured above
        per_machine = factor * 2 * cut["mirrors"] * VALUE_BYTES / p
        compute = c_edge(max_edges) * max_edges
        network = (per_machine + rounds * slot_bytes(p) * (p - 1)) / bandwidth
        lat = rounds * latency * np.ceil(np.log2(p))
        total = compute + t_fixed + network + lat
        print(
            f"| {p} | {cut['replication_factor']:.2f} | {max_edges:,.0f} | {per_machine / 1e6:.2f} | "
            f"{compute * 1e3:.1f} | {t_fixed * 1e3:.1f} | {network * 1e3:.1f} | {lat * 1e3:.2f} | "
            f"{total * 1e3:.1f} | {t1 / total:.1f} |"
        )
    print(f"\n1 machine, 1 rank (c_edge(edges) x edges + t_fixed): {t1 * 1e3:.1f} ms per superstep.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-ranks", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scales", help=argparse.SUPPRESS)
    parser.add_argument("--supersteps", type=int, default=11)
    sub = parser.add_subparsers(dest="cmd")
    t = sub.add_parser("table", help="replication factor and bytes per superstep (deterministic)")
    t.add_argument("--scale", type=int, default=20)
    t.add_argument("--parts", default="16,64,256")
    t.add_argument("--strategies", default="hdrf,random,grid,dbh")
    t.add_argument("--json", help="also write the rows as JSON")
    f = sub.add_parser("fit", help="measure here, fit the superstep model, extrapolate")
    f.add_argument("--scale", type=int, default=20, help="R-MAT scale of the largest measured run (default 20)")
    f.add_argument("--scales", help="measured scales, comma-separated (default: SCALE-2,SCALE)")
    f.add_argument("--model-scale", type=int, default=20, help="R-MAT scale extrapolated (default 20)")
    f.add_argument("--cuts", help="the JSON of 'table --json' for that scale (else the cuts are computed)")
    f.add_argument("--supersteps", type=int, default=11)
    f.add_argument("--machines", default="16,64")
    f.add_argument("--strategy", default="hdrf")
    f.add_argument("--bandwidth", type=float, default=10.0, help="Gbit/s per machine (default 10)")
    f.add_argument("--latency", type=float, default=25.0, help="us per message step of a collective (default 25)")
    f.add_argument("--rounds", type=int, default=3, help="exchange rounds per superstep (PageRank: 3)")
    f.add_argument(
        "--stat",
        choices=["median", "min"],
        default="median",
        help="per-superstep statistic (min is steadier on a busy machine; default median)",
    )
    f.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    if args.as_ranks:
        _rank_measure([int(x) for x in args.scales.split(",")], args.supersteps)
    elif args.cmd == "table":
        start = time.perf_counter()
        cmd_table(args)
        print(f"\n({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    elif args.cmd == "fit":
        cmd_fit(args)
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
