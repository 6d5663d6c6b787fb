"""Consensus ADMM (Boyd et al. 2011, section 7.1 with a regulariser on the consensus variable).

The problem ``min sum_s f_s(x_s) + g(z)`` subject to ``x_s = z``, with
``f_s(x) = 1/N sum_{i in s} loss_i(x)`` (so ``sum_s f_s`` is the data term
of ``F``) and ``g`` the penalty (``reg/2 |z|^2`` or ``reg |z|_1``, never on
the intercept).  In scaled form, one iteration is

1. ``x_s = argmin f_s(x) + rho/2 |x - z + u_s|^2``: a **local solve** on
   each shard (Newton's method, warm-started; with a dense Hessian per
   shard when ``D <= 256`` and dense data, else Newton-CG with
   Hessian-vector products), batched over the shards of an apply;
2. ``z = argmin g(z) + S rho/2 |z - mean_s(x_s + u_s)|^2``: the **global
   variable** from the average (a shrink for L2, a soft threshold for L1);
3. ``u_s = u_s + x_s - z``: the **dual update**.

Topology: one vertex per shard (fields ``"x"``, ``"u"``), no edges; ``z``,
``rho`` and the residuals are the value of the sync operation
``"admm_state"``, whose map pushes ``x_s + u_s``, ``x_s`` and their
squared norms and whose ``finalize`` does steps 2-3's global part.  A
shard finishes step 3 at the start of its next apply (it needs the new ``z``).

Stopping and ``rho`` (Boyd et al. sections 3.3.1 and 3.4.1): the primal
residual ``r = sqrt(sum_s |x_s - z|^2)`` and the dual residual
``s = rho sqrt(S) |z - z_prev|`` are compared with
``eps_pri = sqrt(S D) eps_abs + eps_rel max(|x|, sqrt(S) |z|)`` and
``eps_dual = sqrt(S D) eps_abs + eps_rel |rho u|``; the run stops when both
are below.  With ``adapt_rho`` (default), ``rho`` doubles when
``r > 10 s`` and halves when ``s > 10 r`` (``u`` rescaled to match).

Examples
--------
>>> import numpy as np
>>> from algorithms.mechanisms.problems import Problem, make_lasso
>>> X, y, w_star = make_lasso(80, 6, 2, alpha=0.05)
>>> p = Problem("lasso", 0.05)
>>> r = admm(p, X, y, num_shards=4)
>>> r.converged, bool(r.gap(p.objective(w_star, X, y)) < 1e-6)
(True, True)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gasengine import Aggregator, VertexProgram, rank_zero

from .base import (
    MechanismResult,
    Straggler,
    check_positive,
    engine_bytes,
    history_of,
    shard_graph,
    timed_run,
)
from .problems import (
    Problem,
    Shards,
    hessian_vector,
    loss_sums,
    margins,
    shard,
    shard_gradients,
    soft_threshold,
)

__all__ = ["ADMMProgram", "admm", "local_newton"]

STATE = "admm_state"


def local_newton(
    F: Any,
    problem: Problem,
    X0: np.ndarray,
    C: np.ndarray,
    rho: np.ndarray,
    N: int,
    tol: float = 1e-12,
    max_iter: int = 50,
) -> np.ndarray:
    """``argmin_x 1/N sum_rows loss(x) + rho/2 |x - C|^2`` for every shard of a batch at once.

    ``X0`` ``(b, D)`` is the warm start, ``C`` ``(b, D)`` the centre of the
    proximal term and ``rho`` a scalar.  Newton's method: an exact Hessian
    per shard for dense data with ``D <= 256``, conjugate gradients on
    Hessian-vector products otherwise (all shards iterate together).

    Examples
    --------
    >>> from algorithms.mechanisms.problems import shard
    >>> p = Problem("lasso", 0.0, fit_intercept=False)
    >>> s = shard(np.eye(2), np.array([1.0, 3.0]), p, 1, seed=None)
    >>> local_newton(s.fields, p, np.zeros((1, 2)), np.zeros((1, 2)), 1.0, 2).round(6).tolist()
    [[0.333333, 1.0]]
    """
    x = np.array(X0, dtype=np.float64)
    D = x.shape[1]
    dense_hessian = "X" in F and D <= 256
    for _ in range(max_iter):
        g, _, _ = shard_gradients(F, problem, x)
        g = g / N + rho * (x - C)
        if problem.kind == "logistic":
            m = margins(F, x)
            h = problem.d2loss(m, F["y"]) * F["wt"]
        else:
            h = F["wt"]
        if dense_hessian:
            H = np.einsum("brd,br,bre->bde", F["X"], h, F["X"]) / N + rho * np.eye(D)
            step = np.linalg.solve(H, g[:, :, None])[:, :, 0]
        else:
            step = _batched_cg(
                lambda V, h=h: hessian_vector(F, h, V) / N + rho * V, g, tol=1e-14, max_iter=max(2 * D, 50)
            )
        x = x - step
        if np.abs(step).max() <= tol * max(1.0, np.abs(x).max()) or (problem.kind == "lasso" and dense_hessian):
            break
    return x


def _batched_cg(matvec: Any, B: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    """Solve ``A_s p_s = b_s`` for every row (one SPD system per shard) by conjugate gradients, together."""
    P = np.zeros_like(B)
    Rr = B.copy()
    Dd = Rr.copy()
    rs = (Rr * Rr).sum(axis=1)
    target = tol * np.maximum((B * B).sum(axis=1), 1e-300)
    for _ in range(max_iter):
        live = rs > target
        if not live.any():
            break
        AD = matvec(Dd)
        denom = (Dd * AD).sum(axis=1)
        alpha = np.where(live & (denom > 0), rs / np.where(denom > 0, denom, 1.0), 0.0)
        P += alpha[:, None] * Dd
        Rr -= alpha[:, None] * AD
        rs_new = (Rr * Rr).sum(axis=1)
        beta = np.where(live, rs_new / np.maximum(rs, 1e-300), 0.0)
        Dd = Rr + beta[:, None] * Dd
        rs = rs_new
    return P


class ADMMProgram(VertexProgram):
    """Consensus ADMM: local solves at the shards, ``z``, ``rho`` and residuals in a sync operation.

    Parameters
    ----------
    problem : Problem
    dim, num_rows, num_shards : int
    rho : float
        Initial penalty ``> 0``.
    adapt_rho : bool
        Residual balancing (``mu = 10``, ``tau = 2``).
    eps_abs, eps_rel : float
        Tolerances of the stopping rule.
    straggler : float
        Slow-down factor of shard 0.

    Examples
    --------
    >>> ADMMProgram(Problem("lasso", 0.1), 3, 10, 2, rho=0.0)
    Traceback (most recent call last):
    ...
    ValueError: rho must be a finite number > 0, got 0.0
    """

    def __init__(
        self,
        problem: Problem,
        dim: int,
        num_rows: int,
        num_shards: int,
        rho: float = 1.0,
        adapt_rho: bool = True,
        eps_abs: float = 1e-6,
        eps_rel: float = 1e-4,
        straggler: float = 1.0,
    ):
        self.problem = problem
        self.dim, self.num_rows, self.num_shards = int(dim), int(num_rows), int(num_shards)
        self.rho = check_positive("rho", rho)
        self.adapt_rho = bool(adapt_rho)
        self.eps_abs = check_positive("eps_abs", eps_abs)
        self.eps_rel = check_positive("eps_rel", eps_rel)
        self.straggler = Straggler(straggler)
        self.mask = problem.penalty_mask(self.dim)
        self.aggregators = (Aggregator(STATE, self._push, finalize=self._global),)

    def init(self, v):
        D = self.dim
        v.data["x"] = np.zeros((len(v), D))
        v.data["u"] = np.zeros((len(v), D))
        v.data["push"] = np.zeros((len(v), 2 * D + 3))

    def apply(self, v, acc):
        started = self.straggler.start()
        st = v.globals[STATE]
        z, rho = st["z"], st["rho"]
        x = v.data["x"]
        u = (v.data["u"] + x - st["z"]) * st["u_scale"]  # finish the last dual update, in the new rho's scale
        x = local_newton(v.data, self.problem, x, z - u, rho, self.num_rows)
        a = x + u
        loss_at_z = loss_sums(v.data, self.problem, np.broadcast_to(z, x.shape))
        v.data["x"], v.data["u"] = x, u
        v.data["push"] = np.column_stack([a, x, (a * a).sum(1), (x * x).sum(1), loss_at_z])
        v.signal()
        self.straggler.finish(v.ids, started)

    def _push(self, v):
        if v.superstep == 0:
            return np.zeros((len(v), 2 * self.dim + 3))
        return v.data["push"]

    def _global(self, total: np.ndarray, previous: dict[str, Any] | None) -> dict[str, Any]:
        D, S, p = self.dim, self.num_shards, self.problem
        if previous is None:
            return {
                "z": np.zeros(D),
                "rho": self.rho,
                "u_scale": 1.0,
                "round": 0,
                "r": math.inf,
                "s": math.inf,
                "eps_pri": 0.0,
                "eps_dual": 0.0,
                "loss": math.nan,
                "done": False,
            }
        rho = previous["rho"]
        sum_a, sum_x = total[:D], total[D : 2 * D]
        sum_aa, sum_xx, loss = total[2 * D], total[2 * D + 1], total[2 * D + 2]
        mean = sum_a / S
        if p.kind == "logistic":
            z = np.where(self.mask > 0, S * rho * mean / (p.reg + S * rho), mean)
        else:
            z = np.where(self.mask > 0, soft_threshold(mean, p.reg / (S * rho)), mean)
        r = math.sqrt(max(sum_xx - 2 * z @ sum_x + S * z @ z, 0.0))
        s = rho * math.sqrt(S) * float(np.linalg.norm(z - previous["z"]))
        u_norm = math.sqrt(max(sum_aa - 2 * z @ sum_a + S * z @ z, 0.0))  # |u_new|, u_new = a - z
        root = math.sqrt(S * D)
        eps_pri = root * self.eps_abs + self.eps_rel * max(math.sqrt(sum_xx), math.sqrt(S) * float(np.linalg.norm(z)))
        eps_dual = root * self.eps_abs + self.eps_rel * rho * u_norm
        rnd = previous["round"] + 1
        done = r <= eps_pri and s <= eps_dual and rnd > 1
        new_rho = rho
        if self.adapt_rho and not done:
            if r > 10 * s:
                new_rho = 2 * rho
            elif s > 10 * r:
                new_rho = rho / 2
        objective = float(loss) / self.num_rows + p.penalty(previous["z"])  # F at the z the shards read
        return {
            "z": z,
            "rho": new_rho,
            "u_scale": rho / new_rho,
            "round": rnd,
            "r": r,
            "s": s,
            "eps_pri": eps_pri,
            "eps_dual": eps_dual,
            "loss": objective,
            "done": done,
        }

    def converged(self, globals) -> bool:
        return bool(globals[STATE]["done"])


@rank_zero
def admm(
    problem: Problem,
    X: Any,
    y: Any,
    num_shards: int = 4,
    rho: float = 1.0,
    adapt_rho: bool = True,
    eps_abs: float = 1e-6,
    eps_rel: float = 1e-4,
    max_rounds: int = 1000,
    seed: int = 0,
    straggler: float = 1.0,
    shards: Shards | None = None,
    **engine_options: Any,
) -> MechanismResult:
    """Consensus ADMM on the sync engine; see the module docstring.

    Parameters
    ----------
    problem : Problem
    X, y : data (dense or scipy sparse) and targets
    num_shards : int
    rho : float
        Initial augmented-Lagrangian penalty, ``> 0``.
    adapt_rho : bool
        Residual balancing of ``rho``.
    eps_abs, eps_rel : float
        Boyd et al.'s absolute and relative tolerances.
    max_rounds : int
    seed : int
        Seed of the shard split.
    straggler : float
        Shard 0 is this many times slower.
    shards : Shards, optional
    **engine_options
        Passed to :func:`gasengine.run`.

    Returns
    -------
    MechanismResult
        ``info`` holds the last ``r``, ``s``, ``eps_pri``, ``eps_dual`` and
        ``rho``, and ``info["rho_history"]``.

    Raises
    ------
    ValueError
        ``rho <= 0`` and bad data.

    Examples
    --------
    >>> import numpy as np
    >>> from algorithms.mechanisms.problems import Problem, make_logistic
    >>> X, y = make_logistic(100, 3)
    >>> r = admm(Problem("logistic", 0.01), X, y)
    >>> r.converged, r.info["r"] <= r.info["eps_pri"]
    (True, True)
    """
    s = shards if shards is not None else shard(X, y, problem, num_shards, seed)
    program = ADMMProgram(problem, s.dim, s.num_rows, s.num_shards, rho, adapt_rho, eps_abs, eps_rel, straggler)
    check_positive("max_rounds", max_rounds, integer=True)
    result, seconds = timed_run(program, shard_graph(s), max_supersteps=max_rounds, **engine_options)
    state = result.aggregates[STATE]
    w = np.asarray(state["z"], dtype=np.float64)
    rounds = result.supersteps
    info = {k: state[k] for k in ("r", "s", "eps_pri", "eps_dual", "rho")}
    info["rho_history"] = np.array([v["rho"] for st, v in result.history.get(STATE, []) if st > 0])
    return MechanismResult(
        "admm",
        problem,
        w,
        problem.objective(w, X, y),
        rounds,
        rounds * s.num_shards,
        seconds,
        engine_bytes(result),
        2 * 8 * s.dim * s.num_shards * rounds,
        sim_time=rounds * program.straggler.factor,
        converged=bool(state["done"]),
        history=history_of(result, STATE),
        info=info,
        result=result,
    )
