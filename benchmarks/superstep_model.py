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

        T(P) = c_edge * max_edges_per_machine(P)
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
    from partitioning import report
    from gasengine.generators import rmat

    g = rmat(scale)
    rows = []
    for p in parts:
        for name in strategies:
            r = report(g, num_parts=p, strategies=[name], seed=seed).rows[0]
            rows.append(r)
            print(f"  {name} P={p}: rf {r['replication_factor']:.3f}, {r['seconds']:.1f} s", file=sys.stderr, flush=True)
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
        print(f"| {r['strategy']} | {r['parts']} | {r['replication_factor']:.2f} | {r['edge_balance']:.3f} | "
              f"{r['mirrors']:,} | {b / 1e6:,.1f} MB | {b / r['parts'] / 1e6:,.2f} MB |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, default=float, indent=1))
        print(f"\nrows written to {args.json}", file=sys.stderr)


# --------------------------------------------------------------------------- fit


def _rank_measure(scale: int, supersteps: int) -> None:
    """Run under ``mpiexec``: PageRank supersteps on the MPI backend; rank 0 prints one JSON line."""
    from algorithms import PageRankProgram
    from gasengine import run
    from gasengine.backends import mpi
    from gasengine.generators import rmat

    rank = mpi.rank()
    g = rmat(scale) if rank == 0 else None
    run(PageRankProgram(tol=0), g, backend="mpi", max_supersteps=2)  # cut, layouts, kernels
    res = run(PageRankProgram(tol=0), g, backend="mpi", max_supersteps=supersteps)
    if res is not None:
        sent = dict(mpi.last_bytes_sent)
        steps = res.steps
        out = {
            "edges": g.num_edges,
            "vertices": g.num_vertices,
            "ranks": res.num_parts,
            "supersteps": int(len(steps.column("seconds"))),
            "seconds": steps.column("seconds")[1:].tolist(),
            "compute": steps.column("compute_seconds")[1:].tolist(),
            "exchange": steps.column("exchange_seconds")[1:].tolist(),
            "between": steps.column("bytes_between_workers")[1:].tolist(),
            "mpi_bytes_sent": {int(k): int(v) for k, v in sent.items()},
        }
        print("RESULT " + json.dumps(out), flush=True)


def measure_local(scale: int, supersteps: int) -> dict:
    """One process, one part: the compute cost of a PageRank superstep per edge."""
    from algorithms import PageRankProgram
    from gasengine import run
    from gasengine.generators import rmat

    g = rmat(scale)
    run(PageRankProgram(tol=0), g, max_supersteps=2)
    res = run(PageRankProgram(tol=0), g, max_supersteps=supersteps)
    secs = res.steps.column("seconds")[1:]
    return {"edges": g.num_edges, "seconds": float(np.median(secs))}


def measure_mpi(scale: int, supersteps: int, ranks: int, timeout: float) -> dict:
    mpiexec = Path(sys.executable).with_name("mpiexec")
    cmd = [str(mpiexec), "-n", str(ranks), sys.executable, str(Path(__file__).resolve()),
           "--as-ranks", "--scale", str(scale), "--supersteps", str(supersteps)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")])
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"mpiexec -n {ranks} failed (status {out.returncode}):\n{out.stdout}\n{out.stderr}")


def cmd_fit(args: argparse.Namespace) -> None:
    from partitioning import partition

    from gasengine.generators import rmat

    load = os.getloadavg()
    print(f"R-MAT {args.scale}, PageRank, {args.supersteps} supersteps per run (the first not counted); "
          f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start\n")
    loc = measure_local(args.scale, args.supersteps)
    c_edge = loc["seconds"] / loc["edges"]
    m2 = measure_mpi(args.scale, args.supersteps, 2, args.timeout)
    step2 = float(np.median(m2["seconds"]))
    comp2 = float(np.median(m2["compute"]))
    exch2 = float(np.median(m2["exchange"]))
    between2 = float(np.median(m2["between"]))
    mpi_sent = sum(m2["mpi_bytes_sent"].values()) / m2["supersteps"]  # the whole run's, per superstep
    rounds = args.rounds
    # What the exchange of the 2-rank run costs beyond moving its bytes: the fixed cost of a round
    # on this machine (Python, flattening, the collective), measured; shared-memory MPI moves bytes
    # at `local_bw` (assumed, a memory copy), so nearly all of exch2 is per-round overhead.
    local_bw = args.local_bandwidth * 1e9
    round_overhead = max(0.0, (exch2 - between2 / 2 / local_bw) / rounds)
    print("Measured here:\n")
    print("| quantity | value | from |")
    print("|---|---:|---|")
    print(f"| compute per edge, c_edge | {c_edge * 1e9:.2f} ns | local backend, 1 part: median superstep "
          f"{loc['seconds'] * 1e3:.1f} ms / {loc['edges']:,} edges |")
    print(f"| 2-rank MPI superstep | {step2 * 1e3:.1f} ms | median; compute {comp2 * 1e3:.1f} ms, "
          f"exchange {exch2 * 1e3:.1f} ms |")
    print(f"| bytes between the 2 ranks per superstep | {between2 / 1e6:.2f} MB | step table "
          f"(MPI moved {mpi_sent / 1e6:.2f} MB per superstep, slots included) |")
    print(f"| fixed cost of an exchange round, o_round | {round_overhead * 1e6:.0f} us | (exchange - bytes / "
          f"{args.local_bandwidth:g} GB/s) / {rounds} rounds |")
    print(f"| 2-rank compute vs c_edge x edges/2 | {comp2 / (c_edge * loc['edges'] / 2):.2f}x | "
          "the parallel efficiency of the compute |")

    g = rmat(args.model_scale)
    bandwidth = args.bandwidth * GBIT
    latency = args.latency * 1e-6
    print(f"\nExtrapolated: R-MAT {args.model_scale} ({g.num_edges:,} edges), one rank per machine, "
          f"{args.strategy} cut, {args.bandwidth:g} Gbit/s full duplex, {args.latency:g} us network latency "
          f"per message step, {rounds} rounds per superstep:\n")
    print("| machines | replication factor | max edges per machine | MB sent per machine | compute ms | "
          "network ms | rounds ms | superstep ms | speed-up vs 1 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    t1 = c_edge * g.num_edges
    for p in [int(x) for x in args.machines.split(",")]:
        cut = partition(g, p, args.strategy)
        max_edges = int(np.bincount(cut.edge_part, minlength=p).max())
        per_machine = cut.bytes_per_superstep(VALUE_BYTES) / p
        compute = c_edge * max_edges
        network = per_machine / bandwidth
        # a round: one Alltoall of a slot per peer (latency * log2 P steps, slots through the NIC),
        # plus the fixed per-round cost measured here
        slot_total = slot_bytes(p) * (p - 1)
        rounds_t = rounds * (latency * max(1.0, np.log2(p)) + slot_total / bandwidth + round_overhead)
        total = compute + network + rounds_t
        print(f"| {p} | {cut.replication_factor:.2f} | {max_edges:,} | {per_machine / 1e6:.1f} | "
              f"{compute * 1e3:.1f} | {network * 1e3:.1f} | {rounds_t * 1e3:.2f} | {total * 1e3:.1f} | "
              f"{t1 / total:.1f} |")
    print(f"\n1 machine, 1 core (the same model, no exchange): {t1 * 1e3:.1f} ms per superstep.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--as-ranks", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, default=20)
    parser.add_argument("--supersteps", type=int, default=11)
    sub = parser.add_subparsers(dest="cmd")
    t = sub.add_parser("table", help="replication factor and bytes per superstep (deterministic)")
    t.add_argument("--scale", type=int, default=20)
    t.add_argument("--parts", default="16,64,256")
    t.add_argument("--strategies", default="hdrf,random,grid,dbh")
    t.add_argument("--json", help="also write the rows as JSON")
    f = sub.add_parser("fit", help="measure here, fit the superstep model, extrapolate")
    f.add_argument("--scale", type=int, default=20, help="R-MAT scale of the measured runs")
    f.add_argument("--model-scale", type=int, default=None, help="R-MAT scale extrapolated (default: --scale)")
    f.add_argument("--supersteps", type=int, default=11)
    f.add_argument("--machines", default="16,64")
    f.add_argument("--strategy", default="hdrf")
    f.add_argument("--bandwidth", type=float, default=10.0, help="Gbit/s per machine (default 10)")
    f.add_argument("--latency", type=float, default=25.0, help="us per message step of a collective (default 25)")
    f.add_argument("--rounds", type=int, default=3, help="exchange rounds per superstep (PageRank: 3)")
    f.add_argument("--local-bandwidth", type=float, default=5.0,
                   help="GB/s of a shared-memory MPI copy on this machine (assumed, default 5)")
    f.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    if args.as_ranks:
        _rank_measure(args.scale, args.supersteps)
    elif args.cmd == "table":
        start = time.perf_counter()
        cmd_table(args)
        print(f"\n({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    elif args.cmd == "fit":
        if args.model_scale is None:
            args.model_scale = args.scale
        cmd_fit(args)
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
