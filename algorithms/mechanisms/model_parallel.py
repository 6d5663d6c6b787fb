"""Model parallelism: the bipartite graph of examples and features, coordinate descent (Shotgun-style).

The GraphLab way for sparse data: one vertex per **example** (fields
``"y"``, its margin ``"m"`` = ``x_i . w``) and one per **feature** (its
weight ``"w"``), with an edge ``example -> feature`` for every non-zero
``x_ij`` (edge field ``"x"``; the intercept is a feature joined to every
example).  The model is spread over the feature vertices: no vertex holds
all of it, and a feature update reads only the examples it appears in.

One iteration is two supersteps of the synchronous engine:

1. the **features** gather ``x_ij * loss'(m_i)`` from their examples and take
   a damped proximal coordinate step:
   ``w_j <- prox(w_j - g_j / (beta c_j))`` with ``g_j`` the coordinate of
   the gradient, ``c_j`` its curvature bound (``sum_i x_ij^2 / N``, a
   quarter of it for logistic, plus the ridge) and the L1 soft threshold
   for the lasso; they signal their examples;
2. the **examples** gather ``x_ij w_j`` to recompute their margins and
   signal their features.

All features step at once from the same margins: Shotgun's parallel
coordinate descent (Bradley et al. 2011) with every coordinate in
parallel, which is safe when the steps are damped by ``beta``, the largest
eigenvalue of the curvature-scaled Hessian bound ``C^{-1/2} X^T X C^{-1/2} / N``
(computed once, in the driver).  ``beta = 1`` is plain parallel coordinate
descent, which diverges on correlated features; the damping is what
parallelism costs.  A sync operation over the features (``np.maximum``
of their moves) stops the run.

Examples
--------
>>> import numpy as np
>>> from algorithms.mechanisms.problems import Problem, make_lasso
>>> X, y, w_star = make_lasso(80, 6, 2, alpha=0.05)
>>> r = model_parallel(Problem("lasso", 0.05), X, y)
>>> r.converged, bool(np.abs(r.w - w_star).max() < 1e-5)
(True, True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from gasengine import ALL, Aggregator, Graph, VertexProgram, rank_zero

from .base import MechanismResult, check_positive, engine_bytes, timed_run
from .problems import DivergenceError, Problem, prepare, soft_threshold

__all__ = ["CoordinateDescentProgram", "bipartite_graph", "model_parallel"]

MOVES = "cd_moves"


def bipartite_graph(X: Any, y: Any, problem: Problem) -> tuple[Graph, int, int]:
    """The examples x features graph: vertices ``0..n-1`` examples, ``n..n+D-1`` features; returns ``(graph, n, D)``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> g, n, D = bipartite_graph(sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0]])), np.array([1.0, 2.0]),
    ...                           Problem("lasso", 0.1))
    >>> n, D, g.num_edges   # two non-zeros and the intercept's two edges
    (2, 3, 4)
    """
    Xa, ys = prepare(X, y, problem)
    coo = sp.coo_matrix(Xa)
    n, D = coo.shape
    keep = coo.data != 0
    rows, cols, vals = coo.row[keep], coo.col[keep], coo.data[keep]
    colsq = np.bincount(cols, vals * vals, minlength=D) / n
    is_feature = np.r_[np.zeros(n), np.ones(D)]
    vdata = {
        "y": np.r_[ys, np.zeros(D)],
        "is_feature": is_feature,
        "colsq": np.r_[np.zeros(n), colsq],
        "pen": np.r_[np.zeros(n), problem.penalty_mask(D)],
    }
    return Graph(rows, n + cols, num_vertices=n + D, vertex_data=vdata, edge_data={"x": vals}), n, D


class CoordinateDescentProgram(VertexProgram):
    """Damped parallel coordinate descent on the examples x features graph (see the module docstring).

    Parameters
    ----------
    problem : Problem
    num_rows : int
        ``N`` (examples).
    beta : float
        Damping ``>= 1`` of the parallel steps.
    tol : float
        Stop when no feature moved more than ``tol``.
    """

    gather_edges = ALL
    scatter_edges = ALL
    combine = np.add

    def __init__(self, problem: Problem, num_rows: int, beta: float, tol: float = 1e-10):
        self.problem = problem
        self.num_rows = int(num_rows)
        self.beta = check_positive("beta", beta)
        self.tol = check_positive("tol", tol)
        self.aggregators = (Aggregator(MOVES, self._moves, combine=np.maximum),)

    def init(self, v):
        v.data["w"] = np.zeros(len(v))
        v.data["m"] = np.zeros(len(v))
        v.data["moved"] = np.zeros(len(v))

    def gather(self, e):
        at_feature = e.vertex_data["is_feature"] > 0
        nbr = e.nbr_data
        with np.errstate(over="ignore", invalid="ignore"):
            from_examples = e.data["x"] * self.problem.dloss(nbr["m"], nbr["y"])
        return np.where(at_feature, from_examples, e.data["x"] * nbr["w"])

    def apply(self, v, acc):
        p = self.problem
        feature = v.data["is_feature"] > 0
        w, pen = v.data["w"], v.data["pen"]
        g = acc / self.num_rows + p.smooth_reg * pen * w
        curv = v.data["colsq"] * (0.25 if p.kind == "logistic" else 1.0) + p.smooth_reg * pen
        rate = 1.0 / (self.beta * np.maximum(curv, 1e-300))
        with np.errstate(over="ignore", invalid="ignore"):
            new = w - rate * g
            if p.l1:
                new = np.where(pen > 0, soft_threshold(new, rate * p.l1), new)
        new = np.where(feature & (curv > 0), new, w)
        v.data["moved"] = np.where(feature, np.abs(new - w), 0.0)
        v.data["w"] = new
        v.data["m"] = np.where(feature, v.data["m"], acc)  # examples: their new margins
        return np.ones(len(v), dtype=bool)

    def scatter(self, e):
        return np.ones(len(e), dtype=bool)  # features signal their examples and examples their features

    def _moves(self, v):
        # a weight or margin past 1e100 has diverged: stop before the sums overflow
        big = ~(np.abs(v.data["w"]) < 1e100) | ~(np.abs(v.data["m"]) < 1e100)
        return np.column_stack([v.data["moved"], big])

    def converged(self, globals) -> bool:
        moved, bad = globals[MOVES]
        return bool(bad) or (globals.step >= 2 and globals.step % 2 == 0 and moved < self.tol)


@rank_zero
def model_parallel(
    problem: Problem,
    X: Any,
    y: Any,
    beta: float | None = None,
    max_rounds: int = 5000,
    tol: float = 1e-10,
    **engine_options: Any,
) -> MechanismResult:
    """Fit by parallel coordinate descent on the bipartite examples x features graph (sync engine).

    Parameters
    ----------
    problem, X, y
        Dense or sparse data (sparse is where it pays: a feature touches only its non-zeros).
    beta : float, optional
        Damping of the parallel coordinate steps (default: the largest
        eigenvalue of the curvature-scaled ``X^T X / N``, which makes the
        all-parallel step a contraction; smaller values may diverge).
    max_rounds : int
        Iterations (each two supersteps: features, then examples).
    tol : float
        Stop when no weight moves more than ``tol`` in an iteration.
    **engine_options
        Passed to :func:`gasengine.run` (``partitions``, ``workers``...).

    Returns
    -------
    MechanismResult
        ``rounds`` counts iterations; ``info["beta"]``.

    Raises
    ------
    DivergenceError
        A weight or margin became infinite or NaN (``beta`` too small).

    Examples
    --------
    >>> import numpy as np
    >>> from algorithms.mechanisms.problems import Problem, make_lasso
    >>> X, y, _ = make_lasso(60, 5, 2)
    >>> try:
    ...     model_parallel(Problem("lasso", 0.1), X + 3.0, y, beta=0.05)
    ... except DivergenceError as exc:
    ...     print("diverged:", "beta" in str(exc))
    diverged: True
    """
    graph, n, D = bipartite_graph(X, y, problem)
    if beta is None:
        Xa, _ = prepare(X, y, problem)
        colsq = graph.vertex_data["colsq"][n:]
        scale = 1.0 / np.sqrt(np.where(colsq > 0, colsq, 1.0))
        Xs = (sp.csr_matrix(Xa) @ sp.diags(scale)) if sp.issparse(Xa) else Xa * scale
        top = Problem("lasso", 0.0, fit_intercept=False).smoothness(Xs)  # |X C^{-1/2}|^2 / N
        beta = max(1.0, top)
    check_positive("max_rounds", max_rounds, integer=True)
    program = CoordinateDescentProgram(problem, n, beta, tol)
    active = np.r_[np.zeros(n, dtype=bool), np.ones(D, dtype=bool)]
    result, seconds = timed_run(program, graph, active=active, max_supersteps=2 * max_rounds, **engine_options)
    w = np.asarray(result.field("w")[n:], dtype=np.float64)
    if result.aggregates[MOVES][1] or not np.all(np.isfinite(w)):
        raise DivergenceError(
            "model_parallel",
            (result.supersteps + 1) // 2,
            math.inf,
            f"beta={beta:.4g} is too small a damping for this data",
        )
    rounds = (result.supersteps + 1) // 2
    objective = problem.objective(w, X, y)
    return MechanismResult(
        "model_parallel",
        problem,
        w,
        objective,
        rounds,
        rounds * D,
        seconds,
        engine_bytes(result),
        2 * 8 * graph.num_edges * rounds,
        sim_time=float(rounds),
        converged=bool(result.converged),
        info={"beta": beta, "edges": graph.num_edges},
        result=result,
    )
