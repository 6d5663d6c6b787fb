"""The ``gasengine`` command: run algorithms, inspect and partition graphs.

Errors a user can cause (a bad file, option or path, an algorithm stopped by
``--max-supersteps``, a failed write) are one line on stderr,
``gasengine: error: ...``, with exit status 2; paths given for writing are
checked before any graph is loaded.  Ctrl-C prints ``gasengine: interrupted``
and exits with 130; SIGTERM ends a run quietly (143 while workers run: they
are stopped and their shared memory removed first).

Examples
--------
    gasengine info --input examples/data/email-Eu-core.txt
    gasengine run pagerank --input examples/data/email-Eu-core.txt --top 5
    gasengine run sssp --input roads.gr --source 1 --output dist.tsv
    gasengine run sssp --input roads.gr --source 1 --engine async --scheduler priority
    gasengine study consistency --algorithm pagerank --input examples/data/email-Eu-core.txt --plot study.png
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ConvergenceError, GasEngineError, WorkerFailed
from .files import write_file_safely
from .graph import Graph, first_of_each_pair

#: Output formats of ``run --output``, by lower-case extension.
OUTPUT_EXTENSIONS = (".tsv", ".csv", ".npz")


class CommandError(Exception):
    """A mistake on the command line; printed as ``gasengine: error: <message>``."""


def _count(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


EPILOG = """\
Input files: SNAP-style edge lists (whitespace, '#' comments), CSV/TSV, Matrix
Market (.mtx) and DIMACS shortest-path files (.gr); the format is inferred from
the extension unless --format is given.  Vertex ids may be any non-negative
integers; output always uses the ids of the input file.
"""


@dataclass(frozen=True)
class Algorithm:
    """One entry of the CLI's algorithm registry."""

    help: str
    field: str
    add_options: Callable[[argparse.ArgumentParser], None]
    call: Callable[[Graph, argparse.Namespace, dict[str, Any]], Any]
    #: Whether larger values are "top" (PageRank) or smaller (distances);
    #: None: the values are labels, so report the largest groups instead.
    top_descending: bool | None = True
    #: The engine the algorithm runs on unless --engine says otherwise.
    engine: str = "sync"
    #: How the input is read (default: a graph file, ``load_input``).
    load: Callable[[argparse.Namespace], Graph] | None = None
    #: Values other than one per vertex: ``write(out, graph, values, fmt)`` writes them.
    write: Callable[[Any, Graph, Any, str], int] | None = None


def _pagerank_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--alpha", type=float, default=0.85, help="damping factor (default 0.85)")
    p.add_argument("--tol", type=float, default=1e-6, help="stop when the L1 change < n*tol (default 1e-6)")
    p.add_argument("--weight", action="store_true", help="use the weight column as edge weights")


def _sssp_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", required=True, help="id of the source vertex, as written in the input file")
    p.add_argument("--hops", action="store_true", help="ignore weights and count hops")


def _run_pagerank(graph: Graph, args: argparse.Namespace, opts: dict[str, Any]) -> Any:
    from algorithms import pagerank

    weight = "weight" if args.weight else None
    max_iter = args.max_supersteps if args.max_supersteps is not None else 100  # async: passes over the graph
    return pagerank(graph, alpha=args.alpha, tol=args.tol, weight=weight, max_iter=max_iter, return_result=True, **opts)


def _run_components(graph: Graph, args: argparse.Namespace, opts: dict[str, Any]) -> Any:
    from algorithms import connected_components

    labels, result = connected_components(graph, return_result=True, max_supersteps=args.max_supersteps, **opts)
    return graph.original_ids()[labels], result  # label = smallest original id in the component


def _run_sssp(graph: Graph, args: argparse.Namespace, opts: dict[str, Any]) -> Any:
    from algorithms import sssp

    start = source_vertex(graph, args.source)
    weight: str | None = "weight"
    if args.hops:
        weight = None
    elif "weight" not in graph.edge_data:
        # Never count hops silently: a file read without its weight column
        # would give plausible but wrong distances.
        print(
            f"sssp: {args.input} has no edge weights, so distances count hops "
            "(--hops says so and silences this; --columns S,D,W reads weights from a column)",
            file=sys.stderr,
        )
        weight = None
    return sssp(
        graph, start, weight=weight, by_id=False, return_result=True, max_supersteps=args.max_supersteps, **opts
    )


def _run_label_propagation(graph: Graph, args: argparse.Namespace, opts: dict[str, Any]) -> Any:
    from algorithms import label_propagation

    max_iter = args.max_supersteps if args.max_supersteps is not None else 1000
    labels, result = label_propagation(graph, max_iter=max_iter, return_result=True, **opts)
    return graph.original_ids()[labels], result  # label = the id of the vertex whose label won


def _run_greedy_color(graph: Graph, args: argparse.Namespace, opts: dict[str, Any]) -> Any:
    from algorithms import greedy_color

    return greedy_color(graph, return_result=True, max_supersteps=args.max_supersteps, **opts)


def _core_number_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--method",
        choices=("auto", "peeling", "h-index"),
        default="auto",
        help="peeling (O(m), sync engine only) or h-index iterations (every engine); "
        "auto: peeling on the sync engine (default)",
    )


def _run_core_number(graph: Graph, args: argparse.Namespace, opts: dict[str, Any]) -> Any:
    from algorithms import core_number

    try:
        return core_number(graph, method=args.method, return_result=True, max_supersteps=args.max_supersteps, **opts)
    except ValueError as exc:
        if "method=" in str(exc):  # peeling asked for on another engine: a usage error, not a crash
            raise CommandError(f"k-core: {exc}") from None
        raise


def _run_triangles(graph: Graph, args: argparse.Namespace, opts: dict[str, Any]) -> Any:
    from algorithms.triangles import _count

    if args.max_supersteps is not None:
        raise CommandError("triangles runs a fixed number of supersteps; it takes no --max-supersteps")
    counts, degree, result = _count(graph, opts)
    pairs = degree * (degree - 1.0)
    local = np.divide(2.0 * counts, pairs, out=np.zeros(counts.size), where=pairs > 0)
    print(
        f"triangles: {int(counts.sum()) // 3} in all; average clustering {local.mean() if local.size else 0.0:.6f} "
        "(of the simple undirected graph)",
        file=sys.stderr,
    )
    return counts, result


def _diameter_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--precision",
        type=int,
        default=6,
        metavar="B",
        help="2**B HyperLogLog registers (bytes) per vertex, 4..16; relative standard error "
        "1.04/sqrt(2**B): 13%% for the default 6, 6.5%% for 8",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the vertex hash (default 0)")


def _run_diameter(graph: Graph, args: argparse.Namespace, opts: dict[str, Any]) -> Any:
    from algorithms.diameter import approximate_diameter

    if opts.get("engine") != "sync":
        raise CommandError("diameter runs on the sync engine (N(t) needs every ball of radius t after superstep t)")
    if not 4 <= args.precision <= 16:
        raise CommandError(f"--precision must be in 4..16, got {args.precision}")
    opts = {k: v for k, v in opts.items() if k not in ("engine", "consistency")}
    est = approximate_diameter(
        graph, precision=args.precision, seed=args.seed, max_supersteps=args.max_supersteps, **opts
    )
    print(
        f"diameter: at least {est.diameter_lower_bound}, effective diameter {est.effective_diameter:.3f}, "
        f"average distance {est.average_distance:.3f} (HyperANF, {2**est.precision} registers, "
        f"{100 * est.relative_standard_error:.1f}% standard error per counter)",
        file=sys.stderr,
    )
    print("t\tN(t)  (the neighbourhood function: pairs within distance t)", file=sys.stderr)
    for t, pairs in enumerate(est.neighbourhood_function):
        print(f"{t}\t{pairs:.6g}", file=sys.stderr)
    return est.eccentricity, est.result  # per vertex: a lower bound on its eccentricity


def _als_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rank", type=_count(1), default=10, metavar="K", help="length of the factor vectors (default 10)")
    p.add_argument("--reg", type=float, default=0.5, help="weighted-lambda regularisation of the factors (default 0.5)")
    p.add_argument("--bias-reg", type=float, default=0.3, help="the same for the biases (default 0.3)")
    p.add_argument("--iterations", type=_count(1), default=10, metavar="N", help="ALS iterations (default 10)")
    p.add_argument(
        "--test-fraction",
        type=float,
        default=0.0,
        metavar="F",
        help="hold out this fraction of the ratings (seeded split) and report their RMSE (default 0: fit all)",
    )


def _load_ratings(args: argparse.Namespace) -> Graph:
    check_input(args.input)
    return Graph.load_ratings(args.input, header=True if args.header else None)


def _run_als(graph: Graph, args: argparse.Namespace, opts: dict[str, Any]) -> Any:
    from algorithms import als
    from gasengine import ratings

    if not 0.0 <= args.test_fraction < 1.0:
        raise CommandError(f"--test-fraction must be in [0, 1), got {args.test_fraction}")
    if opts.get("engine") != "sync":
        raise CommandError("als runs on the sync engine (its two sides alternate by supersteps)")
    opts = {k: v for k, v in opts.items() if k not in ("engine", "consistency", "progress")}
    train, held_out = graph, None
    if args.test_fraction:
        part = ratings.split(graph, fractions=(1 - args.test_fraction, 0.0, args.test_fraction), seed=0)
        train, held_out = part.train, part.test
    model = als(
        train,
        rank=args.rank,
        reg=args.reg,
        bias_reg=args.bias_reg,
        iterations=args.iterations,
        return_result=True,
        **opts,
    )
    rmse = model.history["train_rmse"][-1]
    print(
        f"als: training RMSE {rmse:.4f}"
        + (
            f", held-out RMSE {model.rmse(held_out):.4f} on {held_out.rating.size} ratings"
            if held_out is not None
            else ""
        ),
        file=sys.stderr,
    )
    return model, model.result


def _write_als(out: Any, graph: Graph, model: Any, fmt: str) -> int:
    """One row per user and item: side, original id, bias, factors (``.npz``: the arrays by name)."""
    if fmt == "npz":
        np.savez(
            out,
            user_id=model.user_ids,
            item_id=model.item_ids,
            user_factors=model.user_factors,
            item_factors=model.item_factors,
            user_bias=model.user_bias,
            item_bias=model.item_bias,
            global_mean=np.array(model.global_mean),
        )
        return model.user_ids.size + model.item_ids.size
    import pandas as pd

    tables = []
    for side, ids, bias, factors in (
        ("user", model.user_ids, model.user_bias, model.user_factors),
        ("item", model.item_ids, model.item_bias, model.item_factors),
    ):
        t = pd.DataFrame(factors, columns=[f"factor_{i}" for i in range(factors.shape[1])])
        t.insert(0, "bias", bias)
        t.insert(0, "id", ids)
        t.insert(0, "side", side)
        tables.append(t)
    table = pd.concat(tables, ignore_index=True)
    table.to_csv(out, sep="," if fmt == "csv" else "\t", index=False, float_format="%.17g")
    return len(table)


def source_vertex(graph: Graph, text: str) -> int:
    """The vertex number of the ``--source`` id as written in the input file.

    Raises
    ------
    CommandError
        Naming ``--source`` when no vertex of the graph has that id.

    Examples
    --------
    >>> g = Graph([0, 1], [1, 2], ids=np.array([10, 20, 30]))
    >>> source_vertex(g, "20")
    1
    >>> source_vertex(g, "abc")
    Traceback (most recent call last):
    ...
    gasengine.cli.CommandError: --source 'abc' is not a vertex id of the input
    """
    key: Any = text
    if graph.ids is None or graph.ids.dtype.kind in "iu":
        try:
            key = int(text)
        except ValueError:
            key = None
    try:
        if key is not None:
            return graph.vertex_index(key)
    except (KeyError, ValueError, OverflowError):
        pass
    raise CommandError(f"--source {text!r} is not a vertex id of the input")


ALGORITHMS: dict[str, Algorithm] = {
    "pagerank": Algorithm("PageRank (networkx conventions)", "rank", _pagerank_options, _run_pagerank),
    "connected-components": Algorithm(
        "weakly connected components (label = smallest id in the component)",
        "component",
        lambda p: None,
        _run_components,
        top_descending=None,
    ),
    "sssp": Algorithm(
        "single-source shortest paths (weights from the input; negative ones are rejected)",
        "dist",
        _sssp_options,
        _run_sssp,
        top_descending=False,
    ),
    "label-propagation": Algorithm(
        "communities by label propagation (semi-synchronous on the chromatic engine unless --engine sync; "
        "label = the id whose label the community carries)",
        "label",
        lambda p: None,
        _run_label_propagation,
        top_descending=None,
        engine="chromatic",
    ),
    "k-core": Algorithm(
        "core number of every vertex (peeling in degree buckets; h-index iterations on the chromatic "
        "and async engines; like networkx.core_number, read --undirected input for the cores of the "
        "undirected graph)",
        "core",
        _core_number_options,
        _run_core_number,
    ),
    "triangles": Algorithm(
        "triangles at every vertex (like networkx.triangles on the simple undirected graph: arcs "
        "symmetrised, parallel edges once, self-loops dropped); prints the total and the average clustering",
        "triangles",
        lambda p: None,
        _run_triangles,
    ),
    "diameter": Algorithm(
        "approximate neighbourhood function, diameter and effective diameter (HyperANF: HyperLogLog "
        "counters; distances along the arcs, read --undirected input for undirected ones); "
        "the value per vertex is a lower bound on its eccentricity",
        "eccentricity",
        _diameter_options,
        _run_diameter,
    ),
    "als": Algorithm(
        "alternating least squares recommender on a ratings file (user item rating [time]; "
        "'::', CSV, TSV or whitespace); --output writes biases and factors per user and item",
        "factors",
        _als_options,
        _run_als,
        top_descending=None,
        load=_load_ratings,
        write=_write_als,
    ),
    "greedy-color": Algorithm(
        "a proper vertex colouring by local repair (async engine, edge consistency unless told otherwise)",
        "color",
        lambda p: None,
        _run_greedy_color,
        top_descending=None,
        engine="async",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gasengine`` command."""
    parser = argparse.ArgumentParser(
        prog="gasengine",
        description="Graph-parallel computation with vertex programs (gather-apply-scatter).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--debug", action="store_true", help="print the traceback of an error too (give it before the command)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run_p = sub.add_parser(
        "run", help="run an algorithm on a graph file", description="Run an algorithm on a graph file."
    )
    algos = run_p.add_subparsers(dest="algorithm", metavar="ALGORITHM", required=True)
    for name, algo in ALGORITHMS.items():
        p = algos.add_parser(
            name,
            help=algo.help,
            description=algo.help[0].upper() + algo.help[1:] + ".",
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _input_options(p)
        _engine_options(p)
        algo.add_options(p)
        p.add_argument(
            "--output",
            "-o",
            metavar="PATH",
            help="write one row per vertex, id and value: .tsv, .csv or .npz by extension (any case); "
            "'-': tab-separated to standard output (no --top list then)",
        )
        p.add_argument(
            "--top", type=_count(0), default=10, metavar="K", help="print the top K vertices (default 10; 0: none)"
        )
        p.add_argument(
            "--plot",
            metavar="PATH",
            help="plot active vertices, updates, seconds and bytes per step "
            "(.png, .pdf or .svg; needs matplotlib: pip install 'gasengine[plot]')",
        )
        p.set_defaults(handler=cmd_run)

    part_p = sub.add_parser(
        "partition",
        help="cut a graph's edges into parts and print the cut's quality",
        description="Cut a graph's edges into P parts (vertex cut) and print replication factor, "
        "edge balance, master balance and the bytes one superstep would exchange.",
    )
    _input_options(part_p)
    part_p.add_argument("--parts", "-P", type=_count(1), required=True, help="number of parts")
    part_p.add_argument(
        "--strategy",
        default="hdrf",
        metavar="NAME",
        help="a strategy (%(default)s by default) or 'all' for one row per strategy; "
        "strategies: " + ", ".join(_strategy_names()),
    )
    part_p.add_argument("--seed", type=int, default=0, help="hash salt and stream order seed (default 0)")
    part_p.add_argument(
        "--order",
        choices=["shuffle", "file"],
        default="shuffle",
        help="edge order seen by greedy/hdrf (default: seeded shuffle)",
    )
    part_p.add_argument(
        "--save",
        metavar="PATH.npz",
        help="save the assignment (arrays 'edge_part' and 'num_parts', npz format) to exactly PATH, "
        "for 'run --partition PATH'",
    )
    part_p.set_defaults(handler=cmd_partition)

    study_p = sub.add_parser(
        "study",
        help="studies that run an algorithm many ways and tabulate the outcome",
        description="Studies that run an algorithm many ways and tabulate the outcome.",
    )
    studies = study_p.add_subparsers(dest="study", metavar="STUDY", required=True)
    cons_p = studies.add_parser(
        "consistency",
        help="one algorithm under every engine, consistency model and scheduler",
        description="Run one algorithm under the sync engine, the chromatic engine under each consistency\n"
        "model and the async engine under each model with each scheduler that makes sense for it;\n"
        "print one row per configuration: time, vertex updates, steps, parallelism, conflicts and\n"
        "the error of its answer against the exact one (scipy).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cons_p.add_argument(
        "--algorithm", "-a", required=True, metavar="NAME", help="one of: " + ", ".join(_study_algorithm_names())
    )
    _input_options(cons_p)
    g = cons_p.add_argument_group("study")
    g.add_argument(
        "--workers",
        "-w",
        type=_count(1),
        default=1,
        metavar="N",
        help="workers of every run (default 1; N > 1: the multiprocess backend, and traces of the final point only)",
    )
    g.add_argument(
        "--partitions",
        "-P",
        type=_count(1),
        default=None,
        metavar="P",
        help="number of edge partitions (default: one per worker)",
    )
    g.add_argument(
        "--configurations",
        metavar="LIST",
        help="comma-separated configurations to run instead of the default ones: sync, "
        "chromatic/MODEL, async/MODEL/SCHEDULER",
    )
    g.add_argument(
        "--schedulers",
        metavar="LIST",
        help="comma-separated schedulers of the async configurations (default: those that make sense "
        "for the algorithm; add random here)",
    )
    g.add_argument(
        "--batch-size",
        type=_count(1),
        default=None,
        metavar="N",
        help="candidates per round of the async engine (default: the engine's)",
    )
    g.add_argument("--seed", type=int, default=0, help="seed of the random scheduler and the partitioner (default 0)")
    g.add_argument(
        "--time-limit",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="stop a configuration after this long and say so in its row (default 60)",
    )
    g.add_argument(
        "--trace-every",
        type=_count(1),
        default=None,
        metavar="N",
        help="vertex updates between trace points (default: vertices / 10)",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    out = cons_p.add_argument_group("output")
    out.add_argument("--csv", metavar="PATH", help="write the table as CSV")
    out.add_argument(
        "--traces",
        metavar="PATH",
        help="write every configuration's quality trace as CSV (configuration, updates, seconds, quality)",
    )
    out.add_argument(
        "--plot",
        metavar="PATH",
        help="plot the traces: quality against updates and against time "
        "(.png, .pdf or .svg; needs matplotlib: pip install 'gasengine[plot]')",
    )
    alg = cons_p.add_argument_group("algorithm options")
    alg.add_argument(
        "--source",
        metavar="ID",
        help="sssp: id of the source vertex as written in the input file (default: the first vertex)",
    )
    alg.add_argument("--hops", action="store_true", help="sssp: ignore weights and count hops")
    alg.add_argument("--alpha", type=float, default=None, help="pagerank: damping factor (default 0.85)")
    alg.add_argument("--tol", type=float, default=None, help="pagerank: tolerance (default 1e-6)")
    alg.add_argument("--weight", action="store_true", help="pagerank: use the weight column as edge weights")
    cons_p.set_defaults(handler=cmd_study_consistency)
    # listed here for the help; main() hands its arguments to algorithms.mechanisms, which owns them
    studies.add_parser(
        "mechanisms",
        add_help=False,
        help="distributed-ML mechanisms side by side (BSP and async SGD, Hogwild, averaging, EASGD, "
        "ADMM) on one problem: objective, rounds, time, bytes, staleness, conflicts; "
        "`gasengine study mechanisms --help`",
    )

    info_p = sub.add_parser(
        "info",
        help="size, degrees, self-loops and duplicates of a graph file",
        description="Print the size and degree statistics of a graph file.",
    )
    _input_options(info_p)
    info_p.set_defaults(handler=cmd_info)
    return parser


def _input_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input")
    g.add_argument("--input", "-i", required=True, metavar="PATH", help="graph file")
    g.add_argument(
        "--format",
        choices=["edgelist", "csv", "tsv", "mtx", "dimacs"],
        help="file format (default: from the extension)",
    )
    g.add_argument(
        "--columns",
        metavar="S,D[,W]",
        help="0-based columns of source, destination and optional weight (default: 0,1,2 if the first "
        "data line's third column is a number, else 0,1; .cedge files: 1,2,3)",
    )
    g.add_argument("--header", action="store_true", help="CSV/TSV: skip a header line")
    g.add_argument("--undirected", action="store_true", help="each line is an undirected edge (stored both ways)")


def _strategy_names() -> list[str]:
    from partitioning import STRATEGIES

    return sorted(STRATEGIES)


def _study_algorithm_names() -> list[str]:
    from .study import ALGORITHMS as STUDIED

    return sorted(STUDIED)


def _seconds(text: str) -> float:
    """An argparse type: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _engine_options(p: argparse.ArgumentParser) -> None:
    from .scheduler import SCHEDULERS

    g = p.add_argument_group("engine")
    g.add_argument(
        "--engine",
        choices=["sync", "chromatic", "async"],
        default=None,
        help="sync: bulk-synchronous supersteps (the default, but label-propagation: chromatic, "
        "greedy-color: async); chromatic: colour classes in turn, "
        "each seeing what the earlier ones wrote (--max-supersteps then counts sweeps); async: a "
        "scheduler and scope locks, rounds of updates (--max-supersteps then counts rounds)",
    )
    g.add_argument(
        "--consistency",
        choices=["vertex", "edge", "full"],
        default=None,
        help="consistency model (default edge); the chromatic engine colours the graph for it, the "
        "async engine locks scopes for it (vertex: no locks, races counted as conflicts)",
    )
    g.add_argument(
        "--scheduler",
        choices=list(SCHEDULERS),
        default=None,
        help="async engine: order of the work (default fifo; pagerank: priority); priority runs the "
        "lowest priority first",
    )
    g.add_argument(
        "--batch-size",
        type=_count(1),
        default=None,
        metavar="N",
        help="async engine: candidates per round (default: the engine's; 1: sequential)",
    )
    g.add_argument(
        "--workers",
        "-w",
        type=_count(1),
        default=None,
        metavar="N",
        help="worker processes (default 1, or one per rank with --backend mpi; N > 1 uses the multiprocess backend)",
    )
    g.add_argument(
        "--backend",
        choices=["local", "multiprocess", "mpi"],
        help="default: local for 1 worker, else multiprocess; mpi: one worker per rank, started as "
        "'mpiexec -n P gasengine run ...' (rank 0 reads the input and writes the output; see docs/mpi.md)",
    )
    g.add_argument(
        "--partitions",
        "-P",
        type=_count(1),
        default=None,
        metavar="P",
        help="number of edge partitions (default: one per worker)",
    )
    g.add_argument(
        "--partition",
        default="hdrf",
        metavar="STRATEGY|FILE",
        help="vertex-cut strategy (default hdrf) or a file saved by 'gasengine partition --save'; "
        "strategies: " + ", ".join(_strategy_names()),
    )
    g.add_argument(
        "--max-supersteps",
        type=_count(0),
        default=None,
        metavar="N",
        help="superstep budget (pagerank: default 100); not converging within it is an error",
    )
    g.add_argument("--no-progress", action="store_true", help="no progress bar")
    r = p.add_argument_group("reliability")
    r.add_argument(
        "--timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="stop after the superstep in which this much wall-clock time has passed (exit status 3; "
        "with --checkpoint-dir a checkpoint is written first, so --resume continues the run)",
    )
    r.add_argument(
        "--checkpoint-dir",
        metavar="DIR",
        help="write checkpoints of the run into DIR (created if needed; the last two are kept)",
    )
    r.add_argument(
        "--checkpoint-every",
        type=_count(1),
        default=None,
        metavar="N",
        help="supersteps (sweeps, rounds) between checkpoints (default 10)",
    )
    r.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest valid checkpoint in --checkpoint-dir (from the start if there "
        "is none); it must be a checkpoint of the same graph, algorithm, options and engine",
    )


def load_input(args: argparse.Namespace) -> Graph:
    """Load the graph named on the command line."""
    options: dict[str, Any] = {"undirected": args.undirected}
    if args.columns:
        try:
            options["columns"] = tuple(int(c) for c in args.columns.split(","))
        except ValueError:
            raise CommandError(f"--columns takes 2 or 3 comma-separated integers, got {args.columns!r}") from None
    if args.header:
        options["header"] = True
    check_input(args.input)
    return Graph.load(args.input, format=args.format, **options)


def check_input(path: str) -> None:
    """Refuse an input that is not a regular file before reading it.

    Reading a FIFO would block until some other process writes to it, and a
    directory or device is never a graph file.  Missing and unreadable files
    are left to the loader, whose errors name them.

    Examples
    --------
    >>> check_input("/dev/null")
    Traceback (most recent call last):
    ...
    gasengine.cli.CommandError: --input /dev/null: not a regular file (a character device)
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if stat.S_ISDIR(mode):
        raise CommandError(f"--input {path}: is a directory, not a graph file")
    if not stat.S_ISREG(mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a character device"
            if stat.S_ISCHR(mode)
            else "a block device"
            if stat.S_ISBLK(mode)
            else "a special file"
        )
        raise CommandError(f"--input {path}: not a regular file ({kind})")


def check_writable(path: str, option: str) -> None:
    """Refuse, before any work, a path that cannot be written: a missing or read-only folder, a directory.

    Examples
    --------
    >>> check_writable("/no/such/folder/out.tsv", "--output")
    Traceback (most recent call last):
    ...
    gasengine.cli.CommandError: --output /no/such/folder/out.tsv: folder /no/such/folder does not exist
    """
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise CommandError(f"{option} {path}: folder {folder} {what}")
    if os.path.isdir(path):
        raise CommandError(f"{option} {path}: is a directory")
    if os.path.islink(path):  # writing through it would write wherever it points
        raise CommandError(f"{option} {path}: is a symbolic link (to {os.readlink(path)}); give the file's own path")
    # os.access also reports a read-only file system (EROFS) to root
    if os.path.exists(path):
        if not os.access(path, os.W_OK):
            raise CommandError(f"{option} {path}: file is not writable")
    elif not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"{option} {path}: folder {folder} is not writable")


#: ``--output`` value that means standard output (tab-separated).
STDOUT = "-"


def output_format(path: str) -> str:
    """``"tsv"``, ``"csv"`` or ``"npz"`` from the extension of ``path``, in any case (``"-"``: ``"tsv"``).

    Examples
    --------
    >>> output_format("ranks.CSV")
    'csv'
    >>> output_format("-")
    'tsv'
    >>> output_format("ranks.json")
    Traceback (most recent call last):
    ...
    gasengine.cli.CommandError: --output ranks.json: unknown extension '.json'; use .tsv, .csv or .npz
    """
    if path == STDOUT:
        return "tsv"
    ext = os.path.splitext(path)[1].lower()
    if ext not in OUTPUT_EXTENSIONS:
        raise CommandError(f"--output {path}: unknown extension {ext!r}; use .tsv, .csv or .npz")
    return ext[1:]


def cmd_run(args: argparse.Namespace) -> int:
    if args.backend == "mpi":
        from .backends import mpi

        if mpi.rank() != 0:  # rank 0 reads the input and drives the runs; this rank serves them
            return mpi.serve()
    algo = ALGORITHMS[args.algorithm]
    engine = args.engine or algo.engine
    for option, value in (("--scheduler", args.scheduler), ("--batch-size", args.batch_size)):
        if value is not None and engine != "async":  # silently ignored, it would mislead
            raise CommandError(f"{option} applies to --engine async only (this run uses --engine {engine})")
    if args.output and args.output != STDOUT:  # before loading: a bad path should not cost a whole run
        check_writable(args.output, "--output")
        output_format(args.output)
    if args.plot:
        check_plot_path(args.plot)
    start = time.perf_counter()
    graph = (algo.load or load_input)(args)
    loaded = time.perf_counter() - start
    print(
        f"loaded {args.input}: {graph.num_vertices} vertices, {graph.num_edges} edges in {loaded:.2f} s",
        file=sys.stderr,
    )
    opts: dict[str, Any] = {
        "engine": engine,
        "partitions": args.partitions,
        "partition": args.partition,
        "workers": args.workers,
        "backend": args.backend,
    }
    # Given only when asked for: an algorithm may pick its own default (pagerank: priority)
    if args.consistency is not None:
        opts["consistency"] = args.consistency
    if args.scheduler is not None:
        opts["scheduler"] = args.scheduler
    if args.batch_size is not None:
        opts["batch_size"] = args.batch_size
    if (args.checkpoint_every is not None or args.resume) and args.checkpoint_dir is None:
        raise CommandError(f"{'--resume' if args.resume else '--checkpoint-every'} needs --checkpoint-dir")
    for name in ("timeout", "checkpoint_dir", "checkpoint_every"):  # run()'s names too
        if getattr(args, name) is not None:
            opts[name] = getattr(args, name)
    if args.resume:
        opts["resume"] = True
    bar = _progress_bar(args)
    if bar is not None:
        opts["progress"] = bar.update_to
    try:
        values, result = algo.call(graph, args, opts)
    except ConvergenceError as exc:
        if getattr(exc.result, "timed_out", False):
            return _timed_out(args, exc.result)
        raise CommandError(f"{exc} (raise --max-supersteps)") from exc
    finally:
        if bar is not None:
            bar.close()
    if result.timed_out:
        return _timed_out(args, result)
    if result.resumed_from is not None:
        print(f"resumed from the checkpoint of step {result.resumed_from} in {args.checkpoint_dir}", file=sys.stderr)
    print(f"{args.algorithm}: {result.steps.summary()}", file=sys.stderr)
    if args.plot:
        ext = os.path.splitext(args.plot)[1].lower()[1:]
        write_safely(args.plot, lambda f: result.steps.plot().savefig(f, format=ext, dpi=110))
        print(f"wrote the plot to {args.plot}", file=sys.stderr)
    if (write := algo.write) is not None:
        if args.output:
            rows = write_output(args.output, lambda f: write(f, graph, values, output_format(args.output)))
            print(f"wrote {rows} rows to {_where(args.output)}", file=sys.stderr)
        return 0
    ids = graph.original_ids()
    if args.top and args.output != STDOUT:  # the rows themselves go to standard output
        _print_top(ids, np.asarray(values), algo, args.top)
    if args.output:
        write_output(
            args.output, lambda f: write_values(f, ids, np.asarray(values), algo.field, output_format(args.output))
        )
        print(f"wrote {graph.num_vertices} rows to {_where(args.output)}", file=sys.stderr)
    return 0


#: Exit status of a run that ``--timeout`` stopped.
EXIT_TIMED_OUT = 3
#: Exit status when standard output closed before ``--output -`` was written (128 + SIGPIPE, as shells say).
EXIT_BROKEN_PIPE = 141


def _timed_out(args: argparse.Namespace, result: Any) -> int:
    """Say that ``--timeout`` stopped the run (and how to continue it); the exit status."""
    how = (
        f"; a checkpoint is in {args.checkpoint_dir}: add --resume to continue"
        if args.checkpoint_dir
        else "; nothing written (add --checkpoint-dir to be able to continue)"
    )
    steps = result.supersteps
    print(
        f"gasengine: {args.algorithm} stopped by --timeout {args.timeout:g} after {steps} "
        f"superstep{'' if steps == 1 else 's'}, before it converged{how}",
        file=sys.stderr,
    )
    return EXIT_TIMED_OUT


#: Options of ``study consistency`` that belong to one algorithm only.
STUDY_ALGORITHM_OPTIONS = {
    "--source": "sssp",
    "--hops": "sssp",
    "--alpha": "pagerank",
    "--tol": "pagerank",
    "--weight": "pagerank",
}
#: Output formats of ``study consistency --plot``, by lower-case extension.
PLOT_EXTENSIONS = (".png", ".pdf", ".svg")


def check_plot_path(path: str) -> None:
    """A CommandError unless ``--plot PATH`` can be written, has a plot extension and matplotlib is installed.

    Examples
    --------
    >>> check_plot_path("steps.json")
    Traceback (most recent call last):
    ...
    gasengine.cli.CommandError: --plot steps.json: unknown extension '.json'; use .png, .pdf or .svg
    """
    check_writable(path, "--plot")
    ext = os.path.splitext(path)[1].lower()
    if ext not in PLOT_EXTENSIONS:
        raise CommandError(f"--plot {path}: unknown extension {ext!r}; use .png, .pdf or .svg")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CommandError("--plot needs matplotlib: pip install 'gasengine[plot]'") from None


def cmd_study_consistency(args: argparse.Namespace) -> int:
    from .study import Configuration, consistency, study_algorithm

    try:
        entry = study_algorithm(args.algorithm)
        configurations = [Configuration.parse(c) for c in _list(args.configurations)] if args.configurations else None
        if configurations is not None and args.schedulers:
            raise CommandError("give --configurations or --schedulers, not both")
        schedulers = _list(args.schedulers) if args.schedulers else None
        if schedulers is not None:  # checked now, not after loading the graph
            from .study import configurations_for

            configurations_for(entry, schedulers)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    given = {
        "--source": args.source is not None,
        "--hops": args.hops,
        "--alpha": args.alpha is not None,
        "--tol": args.tol is not None,
        "--weight": args.weight,
    }
    for option, owner in STUDY_ALGORITHM_OPTIONS.items():
        if given[option] and entry.name != owner:
            raise CommandError(f"{option} is an option of {owner}, not of {entry.name}")
    # paths for writing and the plotting library are checked before any graph is loaded or run
    for option, path in (("--csv", args.csv), ("--traces", args.traces)):
        if path:
            check_writable(path, option)
    if args.plot:
        check_plot_path(args.plot)
    start = time.perf_counter()
    graph = _load_ratings(args) if entry.input == "ratings" else load_input(args)
    print(
        f"loaded {args.input}: {graph.num_vertices} vertices, {graph.num_edges} edges in "
        f"{time.perf_counter() - start:.2f} s",
        file=sys.stderr,
    )
    options: dict[str, Any] = {"seed": args.seed}
    if args.partitions is not None:
        options["partitions"] = args.partitions
    if args.batch_size is not None:
        options["batch_size"] = args.batch_size
    if entry.name == "sssp":
        if args.source is not None:
            options.update(source=source_vertex(graph, args.source), by_id=False)
        if args.hops:
            options["weight"] = None
        elif "weight" not in graph.edge_data:
            print(
                f"sssp: {args.input} has no edge weights, so distances count hops "
                "(--hops says so and silences this; --columns S,D,W reads weights from a column)",
                file=sys.stderr,
            )
            options["weight"] = None
    if entry.name == "pagerank":
        options.update({k: v for k, v in (("alpha", args.alpha), ("tol", args.tol)) if v is not None})
        if args.weight:
            options["weight"] = "weight"
    table = consistency(
        entry,
        graph,
        workers=args.workers,
        configurations=configurations,
        schedulers=schedulers,
        progress=not args.no_progress and sys.stderr.isatty(),
        time_limit=args.time_limit,
        trace_every=args.trace_every,
        **options,
    )
    print(table)
    if args.workers > 1:
        print(
            "traces: with --workers > 1 sync operations run in the workers, so each trace is its final point only",
            file=sys.stderr,
        )
    if args.csv:
        write_safely(args.csv, lambda f: f.write(_csv_text(table.to_csv)))
        print(f"wrote {len(table)} rows to {args.csv}", file=sys.stderr)
    if args.traces:
        write_safely(
            args.traces,
            lambda f: f.write(_csv_text(lambda buf: table.traces().to_csv(buf, index=False, float_format="%.17g"))),
        )
        print(f"wrote the traces to {args.traces}", file=sys.stderr)
    if args.plot:
        ext = os.path.splitext(args.plot)[1].lower()[1:]
        write_safely(args.plot, lambda f: table.plot(f, format=ext))
        print(f"wrote the plot to {args.plot}", file=sys.stderr)
    return 0


def _list(text: str) -> list[str]:
    """Items of a comma-separated option, stripped, empty ones dropped."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _csv_text(write: Callable[[Any], None]) -> bytes:
    """What ``write(buffer)`` writes to a text buffer, as UTF-8 bytes (for :func:`write_safely`)."""
    import io

    buf = io.StringIO()
    write(buf)
    return buf.getvalue().encode("utf-8")


def cmd_partition(args: argparse.Namespace) -> int:
    from partitioning import partition, report

    if args.save:
        if args.strategy == "all":
            raise CommandError("--save needs a single --strategy, not 'all'")
        check_writable(args.save, "--save")
    graph = load_input(args)
    names = _strategy_names() if args.strategy == "all" else [args.strategy]
    cuts = []
    for name in names:
        params = {"order": args.order} if name in ("greedy", "hdrf") else {}
        start = time.perf_counter()
        cuts.append(partition(graph, args.parts, name, seed=args.seed, **params))
        print(f"{name}: {time.perf_counter() - start:.2f} s", file=sys.stderr)
    print(report(cuts))
    if args.save:
        cut = cuts[0]
        # Through a file object: given a name, numpy appends ".npz" unless the
        # name ends so (case-sensitively), and the path reported would be wrong.
        # num_parts: trailing parts may hold no edge, so edge_part.max() + 1 can undercount.
        write_safely(
            args.save, lambda f: np.savez(f, edge_part=cut.edge_part, num_parts=np.array(cut.num_parts, dtype=np.int64))
        )
        print(
            f"saved the assignment of {graph.num_edges} edges to {cut.num_parts} parts to {args.save}", file=sys.stderr
        )
    return 0


def write_output(path: str, write: Callable[[Any], Any]) -> Any:
    """:func:`write_safely`, or ``write(standard output)`` for ``path == "-"``."""
    if path != STDOUT:
        return write_safely(path, write)
    try:
        out = write(sys.stdout.buffer)
        sys.stdout.buffer.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted; end quietly, as a pipe's writer does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing more to flush at exit
        raise SystemExit(EXIT_BROKEN_PIPE) from None
    except OSError as exc:
        raise CommandError(f"cannot write to standard output: {exc.strerror or exc}") from exc
    return out


def _where(path: str) -> str:
    return "standard output" if path == STDOUT else path


def write_safely(path: str, write: Callable[[Any], Any]) -> Any:
    """Call ``write(file)`` on a file that becomes ``path`` only when the write is complete.

    :func:`gasengine.files.write_file_safely`: a failed or interrupted write
    leaves no partial file and an older ``path`` whole, the file gets the
    user's umask, a symlink at ``path`` is refused and none is ever followed;
    a device or FIFO is written in place.  A failed write becomes a
    :class:`CommandError` naming the path.

    Examples
    --------
    >>> write_safely("/dev/full", lambda f: f.write(b"x" * 100000))
    Traceback (most recent call last):
    ...
    gasengine.cli.CommandError: cannot write /dev/full: No space left on device
    """
    try:
        return write_file_safely(path, write)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from exc


def cmd_info(args: argparse.Namespace) -> int:
    graph = load_input(args)
    for key, value in graph_info(graph).items():
        print(f"{key:<26}{value}")
    return 0


def graph_info(graph: Graph) -> dict[str, Any]:
    """Size, degree statistics, self-loops and duplicate edges of a graph.

    An undirected graph counts its undirected edges (each stored as two
    arcs) and reports networkx's degree.

    Examples
    --------
    >>> graph_info(Graph([0, 0, 1], [1, 1, 1]))["duplicate edges"]
    1
    >>> graph_info(Graph([0, 0], [1, 1], directed=False))["edges"]
    '2 undirected (4 arcs stored)'
    """
    n, m = graph.num_vertices, graph.num_edges
    info: dict[str, Any] = {"vertices": n, "directed": "yes" if graph.directed else "no"}
    if graph.directed:
        info["edges"] = m
        info["duplicate edges"] = m - first_of_each_pair(graph.src.astype(np.int64), graph.dst, n).size
    else:
        edges = graph.num_undirected_edges
        info["edges"] = f"{edges} undirected ({m} arcs stored)"
        info["duplicate edges"] = edges - graph.to_undirected().num_undirected_edges
    info["self-loops"] = int(np.count_nonzero(graph.src == graph.dst))
    degree = graph.degree()
    info["isolated vertices"] = int(np.count_nonzero(degree == 0))
    if graph.directed:
        info["out-degree min/mean/max"] = _stats(graph.out_degree())
        info["in-degree min/mean/max"] = _stats(graph.in_degree())
    else:
        info["degree min/mean/max"] = _stats(degree)
    for name, values in graph.edge_data.items():
        if values.ndim == 1 and values.dtype.kind in "if":
            info[f"{name} min/mean/max"] = _stats(values)
    return info


def _stats(values: np.ndarray) -> str:
    if values.size == 0:
        return "-"
    return f"{values.min():g} / {values.mean():.3f} / {values.max():g}"


def write_values(out: Any, ids: np.ndarray, values: np.ndarray, name: str, fmt: str = "tsv") -> None:
    """Write one row per vertex: original id and value, as ``fmt`` (``"tsv"``, ``"csv"`` or ``"npz"``).

    ``out`` is a path or a binary file.  Vector values get one column each
    (``name_0``, ``name_1``, ...).

    Examples
    --------
    >>> import io
    >>> buf = io.BytesIO()
    >>> write_values(buf, np.array([7, 9]), np.array([0.5, 0.25]), "rank", "csv")
    >>> buf.getvalue().decode().splitlines()
    ['id,rank', '7,0.5', '9,0.25']
    """
    if fmt == "npz":
        columns: dict[str, Any] = {name: values}
        np.savez(out, id=ids, **columns)
        return
    import pandas as pd

    flat = values.reshape(values.shape[0], -1)
    cols = [name] if values.ndim == 1 else [f"{name}_{i}" for i in range(flat.shape[1])]
    table = pd.DataFrame(flat, columns=cols)
    table.insert(0, "id", ids)
    table.to_csv(out, sep="," if fmt == "csv" else "\t", index=False, float_format="%.17g")


def _print_top(ids: np.ndarray, values: np.ndarray, algo: Algorithm, k: int) -> None:
    if values.ndim != 1 or values.size == 0:
        return
    if algo.top_descending is None:
        labels, sizes = np.unique(values, return_counts=True)
        order = np.argsort(-sizes, kind="stable")[:k]
        print(f"{labels.size} groups; largest ({algo.field}\tsize):")
        for i in order:
            print(f"{labels[i]}\t{sizes[i]}")
        return
    finite = np.flatnonzero(np.isfinite(values)) if values.dtype.kind == "f" else np.arange(values.size)
    key = -values[finite] if algo.top_descending else values[finite]
    order = finite[np.argsort(key, kind="stable")[:k]]
    which = "highest" if algo.top_descending else "lowest"
    print(f"{which} {algo.field} (id\t{algo.field}):")
    for i in order:
        v = values[i]
        print(f"{ids[i]}\t{v:.6g}" if values.dtype.kind == "f" else f"{ids[i]}\t{v}")


class _Bar:
    """A tqdm bar counting supersteps, showing the active vertex count."""

    def __init__(self, total: int | None, desc: str = "supersteps"):
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit="step", desc=desc, file=sys.stderr, leave=False)

    def update_to(self, step: int, active: int) -> None:
        self._bar.update(step - self._bar.n)
        self._bar.set_postfix(active=active, refresh=False)

    def close(self) -> None:
        self._bar.close()


def _progress_bar(args: argparse.Namespace) -> _Bar | None:
    if args.no_progress or not sys.stderr.isatty():
        return None
    desc = {"chromatic": "sweeps", "async": "rounds"}.get(getattr(args, "engine", "sync"), "supersteps")
    return _Bar(args.max_supersteps, desc)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gasengine`` command; returns the exit status.

    Examples
    --------
    >>> main(["info", "--input", "/no/such/file.txt"])  # prints "gasengine: error: ..." on stderr
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = argv[:1] == ["--debug"]
    try:
        if argv[debug : debug + 2] == ["study", "mechanisms"]:
            from algorithms.mechanisms.__main__ import main as mechanisms_main

            return int(mechanisms_main(argv[debug + 2 :], prog="gasengine study mechanisms") or 0)
        parser = build_parser()
        args = parser.parse_args(argv)
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("gasengine: interrupted", file=sys.stderr)
        return 130
    except (CommandError, GasEngineError, ValueError, OSError, MemoryError, NotImplementedError) as exc:
        if debug:
            traceback.print_exc()
        print(f"gasengine: error: {describe(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug of ours still gets one line (the traceback with --debug)
        if debug:
            traceback.print_exc()
        print(
            f"gasengine: error: internal error: {type(exc).__name__}: {describe(exc)}"
            f"{'' if debug else ' (run gasengine --debug ... for the traceback)'}",
            file=sys.stderr,
        )
        return 2


def describe(exc: BaseException) -> str:
    """One line for an error: OSErrors as ``path: reason``, worker failures without their traceback.

    Examples
    --------
    >>> describe(IsADirectoryError(21, "Is a directory", "data/"))
    'data/: Is a directory'
    """
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename is not None else exc.strerror
    if isinstance(exc, MemoryError):
        return f"out of memory: {exc}" if str(exc) else "out of memory"
    text = str(exc)
    if isinstance(exc, WorkerFailed):
        text = text.split("\n--- worker", 1)[0]  # the worker's traceback is for a debugger, not the terminal
    return " ".join(text.split("\n")) if text else type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
