"""The problems the mechanisms solve, and the data as shards on vertices.

Two convex problems, written with the scaling of the mean loss:

* **L2-regularised logistic regression** (labels ``{0, 1}`` or ``{-1, 1}``,
  used as ``y = ±1``)::

      F(w) = 1/N sum_i log(1 + exp(-y_i x_i.w)) + reg/2 |w|^2

  which is scikit-learn's ``LogisticRegression(C=C)`` objective divided by
  ``C N``: ``reg = 1 / (C N)`` (:meth:`Problem.logistic_from_sklearn`).

* **The lasso** (real targets)::

      F(w) = 1/(2N) sum_i (y_i - x_i.w)^2 + reg |w|_1

  which *is* scikit-learn's ``Lasso(alpha=alpha)`` objective: ``reg = alpha``.

With ``fit_intercept=True`` (the default, as in scikit-learn) the model has
one more coordinate, the intercept, stored last and never penalised.

Data parallelism: shards on vertices
------------------------------------
:func:`shard` splits the rows into ``S`` shards (a seeded permutation, so
shards are alike) and lays them out as **vertex fields**, one shard per
vertex, padded to the largest shard:

dense data
    ``"X"`` ``(S, R, D)`` (``D`` = features + intercept column of ones),
sparse data (scipy CSR)
    a padded coordinate list per shard: ``"Xval"``, ``"Xcol"``, ``"Xrow"``
    ``(S, Z)`` (value, column, row inside the shard; padding has value 0),

and in both cases ``"y"`` ``(S, R)`` and ``"wt"`` ``(S, R)`` (1 for a real
row, 0 for padding).  :func:`margins`, :func:`gradient_sums`,
:func:`loss_sums` and :func:`hessian_vector` compute, for a *batch* of
shards with one model row each (``W`` ``(b, D)``), everything the
mechanisms need, vectorised over shards and rows (a ``bincount`` over the
coordinate list for sparse data): no Python loop per shard or per example.

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
>>> p = Problem("logistic", reg=0.1)
>>> round(p.objective(np.zeros(3), X, np.array([0, 1, 1])), 6)  # log 2 at w = 0
0.693147
>>> s = shard(X, np.array([0, 1, 1]), p, 2)
>>> s.fields["X"].shape, float(s.fields["wt"].sum())
((2, 2, 3), 3.0)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.special import expit

__all__ = [
    "DivergenceError",
    "Problem",
    "Shards",
    "gradient_sums",
    "hessian_vector",
    "loss_sums",
    "make_lasso",
    "make_logistic",
    "margins",
    "prepare",
    "reference_solution",
    "shard",
    "shard_gradients",
    "soft_threshold",
]

KINDS = ("logistic", "lasso")


class DivergenceError(ArithmeticError):
    """A mechanism's objective diverged (too large a learning rate); carries what was seen.

    Attributes
    ----------
    mechanism : str
    round : int
        The round at which divergence was detected.
    objective : float
        The objective (or its estimate) then, possibly inf or NaN.
    """

    def __init__(self, mechanism: str, round_: int, objective: float, hint: str = ""):
        self.mechanism, self.round, self.objective = mechanism, round_, objective
        super().__init__(
            f"{mechanism} diverged: objective {objective:.4g} at round {round_} "
            f"(started much lower){'; ' + hint if hint else ''}"
        )


@dataclass(frozen=True)
class Problem:
    """A convex learning problem: ``"logistic"`` (L2) or ``"lasso"`` (L1), scaled as a mean loss.

    Parameters
    ----------
    kind : {"logistic", "lasso"}
    reg : float
        ``reg >= 0``: ``reg/2 |w|^2`` for logistic, ``reg |w|_1`` for the lasso.
    fit_intercept : bool
        Add an unpenalised intercept (the last model coordinate).

    Examples
    --------
    >>> Problem.logistic_from_sklearn(C=2.0, n_samples=100).reg
    0.005
    >>> Problem.lasso_from_sklearn(alpha=0.1).reg
    0.1
    >>> Problem("ridge", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: kind must be 'logistic' or 'lasso', got 'ridge'
    """

    kind: str
    reg: float
    fit_intercept: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be 'logistic' or 'lasso', got {self.kind!r}")
        if (
            isinstance(self.reg, bool)
            or not isinstance(self.reg, numbers.Real)
            or not (math.isfinite(self.reg) and self.reg >= 0)
        ):
            raise ValueError(f"reg must be a finite number >= 0, got {self.reg!r}")
        object.__setattr__(self, "reg", float(self.reg))

    # ------------------------------------------------------------ sklearn scaling
    @classmethod
    def logistic_from_sklearn(cls, C: float, n_samples: int, fit_intercept: bool = True) -> Problem:
        """The problem of ``LogisticRegression(C=C)`` on ``n_samples`` rows: ``reg = 1 / (C n)``."""
        if not (C > 0):
            raise ValueError(f"C must be > 0, got {C!r}")
        return cls("logistic", 1.0 / (C * n_samples), fit_intercept)

    @classmethod
    def lasso_from_sklearn(cls, alpha: float, fit_intercept: bool = True) -> Problem:
        """The problem of ``Lasso(alpha=alpha)``: the same scaling, ``reg = alpha``."""
        return cls("lasso", alpha, fit_intercept)

    # ------------------------------------------------------------ pieces
    @property
    def smooth_reg(self) -> float:
        """The ridge coefficient inside the smooth part (``reg`` for logistic, 0 for the lasso)."""
        return self.reg if self.kind == "logistic" else 0.0

    @property
    def l1(self) -> float:
        """The L1 coefficient handled by a proximal step (``reg`` for the lasso, 0 for logistic)."""
        return self.reg if self.kind == "lasso" else 0.0

    def penalty_mask(self, D: int) -> np.ndarray:
        """1.0 on penalised coordinates, 0.0 on the intercept (the last one, if fitted)."""
        mask = np.ones(D)
        if self.fit_intercept:
            mask[-1] = 0.0
        return mask

    def loss(self, m: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-row loss of margins ``m`` (``x.w``) with targets ``y`` (±1 for logistic)."""
        if self.kind == "logistic":
            return np.logaddexp(0.0, -y * m)
        return 0.5 * (m - y) ** 2

    def dloss(self, m: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Derivative of :meth:`loss` in the margin."""
        if self.kind == "logistic":
            return -y * expit(-y * m)
        return m - y

    def d2loss(self, m: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Second derivative of :meth:`loss` in the margin."""
        if self.kind == "logistic":
            p = expit(m)
            return p * (1.0 - p)
        return np.ones_like(m)

    def penalty(self, w: np.ndarray) -> float:
        """``reg/2 |w|^2`` or ``reg |w|_1`` over the penalised coordinates."""
        wp = w * self.penalty_mask(len(w))
        if self.kind == "logistic":
            return 0.5 * self.reg * float(wp @ wp)
        return self.reg * float(np.abs(wp).sum())

    def objective(self, w: np.ndarray, X: Any, y: np.ndarray) -> float:
        """``F(w)`` on the whole data (numpy/scipy: the reference every mechanism is judged by).

        ``X`` is the raw data (without the intercept column), ``y`` the raw labels.
        """
        Xa, ys = prepare(X, y, self)
        w = np.asarray(w, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            m = Xa @ w
            value = float(self.loss(m, ys).mean()) + self.penalty(w)
        return value if math.isfinite(value) else math.inf

    def smoothness(self, X: Any) -> float:
        """A Lipschitz constant ``L`` of the smooth part's gradient.

        ``|X|_2^2 / N`` (``/4`` for logistic) plus the ridge.
        """
        Xa = X
        n = Xa.shape[0]
        if sp.issparse(Xa):
            from scipy.sparse.linalg import svds

            top = float(svds(Xa.astype(np.float64), k=1, return_singular_vectors=False, random_state=0)[0]) ** 2
        else:
            top = float(np.linalg.norm(np.asarray(Xa, dtype=np.float64), 2)) ** 2
        top /= n
        return (top / 4.0 + self.reg) if self.kind == "logistic" else top


# ---------------------------------------------------------------- input checks
def prepare(X: Any, y: Any, problem: Problem) -> tuple[Any, np.ndarray]:
    """Checked data with the intercept column appended, and the targets (±1 for logistic).

    Raises
    ------
    ValueError
        NaN or infinite features (naming the first bad row), labels other
        than ``{0, 1}`` / ``{-1, 1}`` for logistic regression, non-finite
        targets, or mismatched shapes.

    Examples
    --------
    >>> prepare(np.ones((2, 1)), np.array([0, 1]), Problem("logistic", 0.0))[1].tolist()
    [-1.0, 1.0]
    >>> prepare(np.ones((2, 1)), np.array([0, 2]), Problem("logistic", 0.0))
    Traceback (most recent call last):
    ...
    ValueError: logistic regression needs labels in {0, 1} or {-1, 1}; got the values [0, 2]
    """
    if sp.issparse(X):
        Xc = sp.csr_matrix(X, dtype=np.float64)
        if not np.all(np.isfinite(Xc.data)):
            row = int(np.searchsorted(Xc.indptr, np.flatnonzero(~np.isfinite(Xc.data))[0], side="right") - 1)
            raise ValueError(f"features must be finite: row {row} holds NaN or infinity")
    else:
        try:
            Xc = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"features must be a numeric (n, d) array or a scipy sparse matrix: {exc}") from None
        if Xc.ndim != 2:
            raise ValueError(f"features must have shape (n, d), got {Xc.shape}")
        bad = ~np.isfinite(Xc).all(axis=1)
        if bad.any():
            raise ValueError(f"features must be finite: row {int(np.flatnonzero(bad)[0])} holds NaN or infinity")
    n = Xc.shape[0]
    if n < 1 or Xc.shape[1] < 1:
        raise ValueError(f"features must have at least one row and one column, got shape {Xc.shape}")
    yv = np.asarray(y)
    if yv.shape != (n,):
        raise ValueError(f"targets must have shape ({n},) to match the features, got {yv.shape}")
    if problem.kind == "logistic":
        values = np.unique(yv)
        if not (set(values.tolist()) <= {0, 1} or set(values.tolist()) <= {-1, 1}):
            shown = values[:10].tolist()
            raise ValueError(f"logistic regression needs labels in {{0, 1}} or {{-1, 1}}; got the values {shown}")
        ys = np.where(yv > 0, 1.0, -1.0)
    else:
        try:
            ys = yv.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"lasso targets must be numbers: {exc}") from None
        if not np.all(np.isfinite(ys)):
            raise ValueError(f"lasso targets must be finite: row {int(np.flatnonzero(~np.isfinite(ys))[0])} is not")
    if problem.fit_intercept:
        ones = np.ones((n, 1))
        Xc = sp.hstack([Xc, sp.csr_matrix(ones)], format="csr") if sp.issparse(Xc) else np.hstack([Xc, ones])
    return Xc, ys


# ---------------------------------------------------------------- shards
@dataclass(frozen=True, eq=False)
class Shards:
    """Data split into shards laid out as vertex fields (see the module docstring).

    Attributes
    ----------
    fields : dict of str to ndarray
        The vertex fields, first axis = shard.
    sparse : bool
    num_rows : int
        ``N``, the rows of all shards.
    dim : int
        ``D``, model coordinates (features + intercept).
    rows : ndarray of int64, shape (S,)
        Rows per shard.
    order : ndarray
        The row permutation used (shard ``s`` holds ``order[starts[s]:starts[s+1]]``).
    """

    fields: dict[str, np.ndarray]
    sparse: bool
    num_rows: int
    dim: int
    rows: np.ndarray
    order: np.ndarray = field(repr=False)

    @property
    def num_shards(self) -> int:
        return len(self.rows)

    @property
    def weights(self) -> np.ndarray:
        """``n_s / N`` per shard: what each shard's mean loss weighs in ``F``."""
        return self.rows / self.num_rows


def shard(X: Any, y: Any, problem: Problem, num_shards: int, seed: int = 0) -> Shards:
    """Split rows into ``num_shards`` shards of (nearly) equal size, as vertex fields.

    Rows are permuted with ``numpy.random.default_rng(seed)`` first (so every
    shard looks like the whole data; ``seed=None`` keeps the row order).

    Examples
    --------
    >>> X = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]]))
    >>> s = shard(X, np.array([1.0, 2.0, 3.0]), Problem("lasso", 0.1), 2, seed=None)
    >>> s.sparse, s.rows.tolist(), s.fields["Xval"].shape
    (True, [1, 2], (2, 4))
    """
    if isinstance(num_shards, bool) or not isinstance(num_shards, numbers.Integral) or num_shards < 1:
        raise ValueError(f"num_shards must be an integer >= 1, got {num_shards!r}")
    Xa, ys = prepare(X, y, problem)
    n, D = Xa.shape
    S = int(min(num_shards, n))
    order = np.arange(n) if seed is None else np.random.default_rng(seed).permutation(n)
    starts = (np.arange(S + 1) * n) // S
    rows = np.diff(starts).astype(np.int64)
    R = int(rows.max())
    shard_of = np.repeat(np.arange(S), rows)  # shard of each permuted row
    local = np.arange(n) - starts[shard_of]  # its row inside the shard
    yf = np.zeros((S, R))
    wt = np.zeros((S, R))
    yf[shard_of, local] = ys[order]
    wt[shard_of, local] = 1.0
    fields: dict[str, np.ndarray] = {"y": yf, "wt": wt}
    if sp.issparse(Xa):
        P = Xa[order].tocsr()
        nnz_row = np.diff(P.indptr)
        row_of_entry = np.repeat(np.arange(n), nnz_row)
        s_of_entry = shard_of[row_of_entry]
        per_shard = np.bincount(s_of_entry, minlength=S)
        Z = max(int(per_shard.max()), 1)
        first = np.concatenate([[0], np.cumsum(per_shard)[:-1]])
        slot = np.arange(P.nnz) - first[s_of_entry]  # entries of a shard are contiguous (rows sorted by shard)
        Xval = np.zeros((S, Z))
        # 32-bit positions when they fit: a product streams value + column + row per nonzero, and is
        # bound by memory (16 bytes a nonzero instead of 24)
        index = np.int32 if max(D, R) < 2**31 else np.int64
        Xcol = np.zeros((S, Z), dtype=index)
        Xrow = np.zeros((S, Z), dtype=index)
        Xval[s_of_entry, slot] = P.data
        Xcol[s_of_entry, slot] = P.indices
        Xrow[s_of_entry, slot] = local[row_of_entry]
        fields.update(Xval=Xval, Xcol=Xcol, Xrow=Xrow)
    else:
        Xf = np.zeros((S, R, D))
        Xf[shard_of, local] = Xa[order]
        fields["X"] = Xf
    return Shards(fields, sp.issparse(Xa), n, D, rows, order)


def _is_sparse(F: Any) -> bool:
    return "Xval" in F


def margins(F: Any, W: np.ndarray) -> np.ndarray:
    """``x.w`` of every row of a batch of shards, ``(b, R)``; ``W`` is ``(b, D)`` (one model per shard).

    Examples
    --------
    >>> s = shard(np.eye(2), np.array([1.0, 2.0]), Problem("lasso", 0.0, False), 1, seed=None)
    >>> margins(s.fields, np.array([[3.0, 4.0]])).tolist()
    [[3.0, 4.0]]
    """
    W = np.asarray(W, dtype=np.float64)
    if not _is_sparse(F):
        return np.matmul(F["X"], W[:, :, None])[:, :, 0]  # batched BLAS products, one per shard
    return _sparse_margins(F["Xval"], F["Xcol"], F["Xrow"], W, F["y"].shape[1])


def gradient_sums(F: Any, r: np.ndarray, D: int) -> np.ndarray:
    """``sum_rows r_row x_row`` per shard, ``(b, D)``, for per-row coefficients ``r`` ``(b, R)``."""
    if not _is_sparse(F):
        return np.matmul(r[:, None, :], F["X"])[:, 0, :]
    return _sparse_gradient_sums(F["Xval"], F["Xcol"], F["Xrow"], np.asarray(r, dtype=np.float64), D)


# The sparse shards are padded coordinate lists; one pass over the nonzeros each, compiled: the numpy
# form (a fancy-index take of W, an index array per nonzero, bincount) took 7x scipy's CSR products.
@njit(cache=True)
def _sparse_margins(val, col, row, W, R):  # pragma: no cover - compiled
    out = np.zeros((val.shape[0], R))
    for s in range(val.shape[0]):
        # a row's entries are contiguous: summed in a register, stored once (adding into out[s, row]
        # at every entry chains each addition to the previous one's store: twice as slow)
        current, total = row[s, 0], 0.0
        for k in range(val.shape[1]):
            if row[s, k] != current:
                out[s, current] += total
                current, total = row[s, k], 0.0
            total += val[s, k] * W[s, col[s, k]]
        out[s, current] += total
    return out


@njit(cache=True)
def _sparse_gradient_sums(val, col, row, r, D):  # pragma: no cover - compiled
    out = np.zeros((val.shape[0], D))
    for s in range(val.shape[0]):
        current = row[s, 0]
        coefficient = r[s, current]
        for k in range(val.shape[1]):
            if row[s, k] != current:  # a row's entries are contiguous: its coefficient read once
                current = row[s, k]
                coefficient = r[s, current]
            out[s, col[s, k]] += val[s, k] * coefficient
    return out


def loss_sums(F: Any, problem: Problem, W: np.ndarray) -> np.ndarray:
    """Sum of the data loss over each shard's rows at its model, ``(b,)``."""
    with np.errstate(over="ignore", invalid="ignore"):
        return (problem.loss(margins(F, W), F["y"]) * F["wt"]).sum(axis=1)


def shard_gradients(
    F: Any, problem: Problem, W: np.ndarray, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per shard: the data-loss gradient *sum* ``(b, D)``, loss sum ``(b,)`` and row count ``(b,)``.

    ``rows`` (``(b, R)`` 0/1, optional) restricts to a mini-batch.
    """
    W = np.asarray(W, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        m = margins(F, W)
        wt = F["wt"] if rows is None else F["wt"] * rows
        g = gradient_sums(F, problem.dloss(m, F["y"]) * wt, W.shape[1])
        loss = (problem.loss(m, F["y"]) * wt).sum(axis=1)
    return g, loss, wt.sum(axis=1)


def hessian_vector(F: Any, h: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``sum_rows h_row x_row (x_row . v)`` per shard, ``(b, D)`` (Hessian of the data loss times ``V``)."""
    return gradient_sums(F, h * margins(F, V), V.shape[1])


def soft_threshold(x: np.ndarray, t: Any) -> np.ndarray:
    """The proximal map of ``t |x|_1``: ``sign(x) max(|x| - t, 0)``.

    Examples
    --------
    >>> soft_threshold(np.array([-2.0, 0.5, 3.0]), 1.0).tolist()
    [-1.0, 0.0, 2.0]
    """
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


# ---------------------------------------------------------------- references and synthetic data
def reference_solution(problem: Problem, X: Any, y: Any, tol: float = 1e-12, max_iter: int = 100_000) -> np.ndarray:
    """The optimum by a serial solver in numpy (Newton for logistic, FISTA with restarts for the lasso).

    Newton's method converges quadratically on L2 logistic regression
    (``reg > 0``); the lasso is run until the proximal-gradient step moves
    less than ``tol``.  Used by the tests as a certificate beside scikit-learn.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 3)); y = (X[:, 0] > 0).astype(int)
    >>> p = Problem("logistic", 0.1)
    >>> w = reference_solution(p, X, y)
    >>> Xa, ys = prepare(X, y, p)
    >>> bool(np.abs(Xa.T @ p.dloss(Xa @ w, ys) / 50 + 0.1 * w * p.penalty_mask(4)).max() < 1e-10)
    True
    """
    Xa, ys = prepare(X, y, problem)
    n, D = Xa.shape
    mask = problem.penalty_mask(D)
    w = np.zeros(D)
    if problem.kind == "logistic":
        for _ in range(200):
            m = Xa @ w
            g = Xa.T @ problem.dloss(m, ys) / n + problem.reg * mask * w
            h = problem.d2loss(m, ys)
            H = (Xa.T @ (Xa.multiply(h[:, None]) if sp.issparse(Xa) else Xa * h[:, None])) / n
            H = np.asarray(H.todense() if sp.issparse(H) else H) + np.diag(problem.reg * mask + 1e-300)
            step = np.linalg.lstsq(H, g, rcond=None)[0]
            w = w - step
            if np.abs(step).max() < tol:
                break
        return w
    L = problem.smoothness(Xa)
    z = w.copy()
    t = 1.0
    for _ in range(max_iter):
        g = Xa.T @ (Xa @ z - ys) / n
        new = z - g / L
        new = np.where(mask > 0, soft_threshold(new, problem.reg / L), new)
        t_next = (1 + math.sqrt(1 + 4 * t * t)) / 2
        if (z - new) @ (new - w) > 0:  # gradient restart (O'Donoghue and Candes)
            t_next = 1.0
        z = new + (t - 1) / t_next * (new - w)
        moved = np.abs(new - w).max()
        w, t = new, t_next
        if moved < tol:
            break
    return w


def make_logistic(
    n: int = 400, d: int = 10, seed: int = 0, sparse: bool = False, density: float = 0.2
) -> tuple[Any, np.ndarray]:
    """Synthetic logistic data: Gaussian (or sparse) features, labels drawn from a logistic model.

    Examples
    --------
    >>> X, y = make_logistic(20, 3)
    >>> X.shape, sorted(set(y.tolist())) == [0, 1]
    ((20, 3), True)
    """
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, d, density=density, format="csr", random_state=seed, data_rvs=rng.standard_normal)
    else:
        X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    p = expit(X @ w)
    return X, (rng.random(n) < p).astype(np.int64)


def make_lasso(
    n: int = 200, d: int = 20, k: int = 5, alpha: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A lasso problem whose optimum is known exactly: returns ``X, y, w_star`` (intercept last).

    ``w_star`` has ``k`` non-zero features and intercept 1.  The targets are
    ``y = X w* + b* + r`` with the residual ``r`` chosen so that the
    optimality conditions of ``Lasso(alpha)`` hold exactly at ``w*``:
    ``X^T r / N = alpha s`` (``s`` the signs on the support, values in
    ``(-1, 1)`` off it) and ``sum r = 0`` (the intercept's condition).

    Examples
    --------
    >>> X, y, w = make_lasso(60, 8, 3, alpha=0.05)
    >>> p = Problem("lasso", 0.05)
    >>> Xa, ys = prepare(X, y, p)
    >>> g = Xa.T @ (ys - Xa @ w) / 60
    >>> bool(np.allclose(g[:3], 0.05 * np.sign(w[:3])) and np.abs(g[3:8]).max() < 0.05 and abs(g[8]) < 1e-12)
    True
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = np.zeros(d + 1)
    w[:k] = rng.choice([-1.0, 1.0], size=k) * rng.uniform(1.0, 2.0, size=k)
    w[-1] = 1.0
    s = np.concatenate([np.sign(w[:k]), rng.uniform(-0.8, 0.8, size=d - k), [0.0]])
    A = np.hstack([X, np.ones((n, 1))])
    r = n * A @ np.linalg.solve(A.T @ A, alpha * s)
    return X, A @ w + r, w
