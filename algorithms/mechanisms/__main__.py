"""``python -m algorithms.mechanisms``: the mechanisms comparison from the command line.

The shape ``gasengine study mechanisms`` would have (issue 17, point 4)::

    python -m algorithms.mechanisms --problem logistic --input DATA --workers 4 [--straggler 4] \\
        [--budget 500] [--reg R | --C C | --alpha A] [--plot out.png] [--csv out.csv]

``DATA`` is a CSV/TSV file (features, then the label or target in the last
column; ``#`` comments), an ``.npz`` with arrays ``X`` and ``y``, an
svmlight/libsvm file (``.svm``, ``.libsvm``; read as CSR, needs
scikit-learn), or ``breast_cancer`` (scikit-learn's bundled data,
standardised).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .compare import DATA_PARALLEL, MECHANISMS, compare_mechanisms
from .problems import Problem


def load_data(spec: str) -> tuple[Any, np.ndarray]:
    """``(X, y)`` from a path or ``"breast_cancer"`` (see the module docstring).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
    >>> _ = open(path, "w").write("# a, b, label\\n1,2,0\\n3,4,1\\n")
    >>> X, y = load_data(path)
    >>> X.shape, y.tolist()
    ((2, 2), [0.0, 1.0])
    """
    if spec == "breast_cancer":
        from sklearn.datasets import load_breast_cancer
        from sklearn.preprocessing import StandardScaler

        X, y = load_breast_cancer(return_X_y=True)
        return StandardScaler().fit_transform(X), y
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"{spec}: no such file (or give 'breast_cancer')")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            if "X" not in data or "y" not in data:
                raise ValueError(f"{spec}: an .npz input needs arrays 'X' and 'y'")
            return data["X"], data["y"]
    if suffix in (".svm", ".libsvm", ".svmlight"):
        from sklearn.datasets import load_svmlight_file

        X, y = load_svmlight_file(str(path))
        return X.tocsr(), y
    delimiter = "\t" if suffix == ".tsv" else ","
    try:
        table = np.loadtxt(path, delimiter=delimiter, comments="#", ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{spec}: not a numeric {'TSV' if delimiter == chr(9) else 'CSV'} table: {exc}") from None
    if table.shape[1] < 2:
        raise ValueError(f"{spec}: needs at least one feature column and the label column")
    return table[:, :-1], table[:, -1]


def main(argv: list[str] | None = None, prog: str = "python -m algorithms.mechanisms") -> int:
    ap = argparse.ArgumentParser(
        prog=prog, description="Run every distributed-ML mechanism on one problem and print the table."
    )
    ap.add_argument("--problem", choices=("logistic", "lasso"), default="logistic")
    ap.add_argument("--input", required=True, help="CSV/TSV (label last), .npz (X, y), svmlight, or breast_cancer")
    ap.add_argument("--workers", type=int, default=4, help="shards, one per simulated worker")
    ap.add_argument("--straggler", type=float, default=1.0, help="shard 0 is this many times slower")
    ap.add_argument("--budget", type=int, default=500, help="gradient evaluations per shard")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--reg", type=float, help="reg of the problem's own scaling (see docs/mechanisms.md)")
    group.add_argument("--C", type=float, help="logistic: scikit-learn's C (reg = 1 / (C N))")
    group.add_argument("--alpha", type=float, help="lasso: scikit-learn's alpha (reg = alpha)")
    ap.add_argument(
        "--mechanisms", default=",".join(DATA_PARALLEL), help=f"comma-separated, from {', '.join(MECHANISMS)}"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--plot", help="save the gap against time and bytes (png, pdf, svg)")
    ap.add_argument("--csv", help="write the table as CSV")
    args = ap.parse_args(argv)
    try:
        X, y = load_data(args.input)
        n = X.shape[0]
        if args.reg is not None:
            problem = Problem(args.problem, args.reg)
        elif args.problem == "logistic":
            problem = Problem.logistic_from_sklearn(args.C if args.C is not None else 1.0, n)
        else:
            problem = Problem.lasso_from_sklearn(args.alpha if args.alpha is not None else 0.01)
        table = compare_mechanisms(
            problem,
            X,
            y,
            workers=args.workers,
            straggler=args.straggler,
            budget=args.budget,
            mechanisms=[m for m in args.mechanisms.split(",") if m],
            seed=args.seed,
        )
    except (ValueError, FileNotFoundError, ArithmeticError) as exc:
        print(f"{prog.split(maxsplit=1)[0]}: error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.problem} on {args.input}: {n} rows, reg {problem.reg:.6g}, optimum {table.optimum:.10g}")
    print(table)
    if args.csv:
        table.to_csv(args.csv)
    if args.plot:
        table.plot(
            args.plot,
            title=f"{args.problem} on {Path(args.input).name}, {args.workers} workers, straggler {args.straggler:g}",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
