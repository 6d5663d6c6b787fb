"""Loopy sum-product belief propagation on a pairwise Markov random field.

The model over discrete states ``x_v`` in ``0..k-1`` is

    P(x) ∝ prod over vertices phi_v(x_v) * prod over edges psi_uv(x_u, x_v),

with node potentials ``phi`` (an ``(n, k)`` array) and edge potentials
``psi``: one ``(k, k)`` matrix shared by every edge, or one per edge.  A
matrix is indexed ``[state of the lower-numbered end, state of the
higher-numbered end]``, so both stored arcs of an undirected edge (which
:class:`~gasengine.Graph` gives the same field values) mean the same factor.
A message ``m_{u->v}`` is a normalised vector of ``k`` numbers:

    m_{u->v}(x_v) ∝ sum over x_u of psi_uv(x_u, x_v) phi_u(x_u) prod_{w != v} m_{w->u}(x_u),

and a belief is ``b_v ∝ phi_v * prod_u m_{u->v}``; on a tree the beliefs
at the fixed point are the exact marginals.

**Messages on arcs.**  An undirected graph stores each edge ``{u, v}`` as
two arcs.  Arc ``u->v`` holds edge field ``msg`` = ``m_{u->v}`` (what ``v``
gathers over its in-arcs) and ``rev`` = a copy of ``m_{v->u}``: the
message ``u`` must divide out of its product when it computes
``m_{u->v}``, kept where ``u``'s scatter along that arc can read it.  An
update of ``u`` gathers ``log msg`` over its in-arcs (a sum: the product of
messages in log space), applies ``b_u``, and scatters over all its arcs:
new ``msg`` on its out-arcs, the same message as ``rev`` on its in-arcs.
The receiver is signalled with priority ``-residual`` (the largest change
of a message entry) when the residual is at least ``tol``.

**Reading messages of the right age.**  The quotient "``u``'s product of
messages divided by the one from ``v``" is only right if the ``m_{v->u}``
divided out is the one gathered.  Where two adjacent vertices may update
in one step (the synchronous engine; any engine under ``"vertex"``
consistency) ``v`` may rewrite it between ``u``'s gather and ``u``'s
scatter.  The program therefore runs in one of two modes:

* ``simultaneous=True``: a message keeps its previous value and the step it
  was written in (``msg_prev``, ``msg_step`` ...), and every read in step
  ``t`` takes the latest value written *before* ``t``: every step reads the
  messages of the steps before it, as synchronous BP does, under any engine
  (on the chromatic engine, whose colour steps share their sweep's number,
  this makes a sweep a synchronous step);
* ``simultaneous=False``: one value per message, always the latest; exact
  when no two adjacent vertices update in one step — the chromatic and
  asynchronous engines under ``"edge"`` or ``"full"`` consistency — where a
  later colour (or round) reads what earlier ones just wrote.

:func:`belief_propagation` picks the mode from the engine options.

**Schedules.**  ``"sync"``: every vertex updates every step until no
message changed by ``tol`` or more (each update also counts, from the
``delta`` field of its in-arcs, the messages it received that changed that
much; a sync operation adds the counts up).  ``"residual"``: only signalled
vertices update; under ``engine="async", scheduler="priority"`` the vertex
with the largest incoming residual runs first (Elidan, McGraw and Koller's
residual belief propagation, scheduled by vertex as GraphLab does), and the
run ends when every residual is below ``tol``.

Measured on a 10 x 10 grid with three states and random potentials
(``tests/algorithms/test_belief_propagation.py``), to ``tol=1e-8``: the
synchronous schedule took 2,500 vertex updates (25 supersteps; 1,300 in
13 sweeps on the chromatic engine), the residual schedule 1,096 on the
asynchronous engine (24 rounds), 2,136 on the synchronous and 1,146 on the
chromatic engine; all ended within 3e-8 of the fixed point.  With the
default batch (every waiting vertex a round) the priority order cannot
matter on a grid — after the first round the candidates are one colour of
the checkerboard, and all run — so priority and FIFO give the same run; in
rounds of 10 candidates the largest residual first took 1,068 updates
against 1,312 for FIFO, and one at a time 1,058 against 1,378.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from gasengine import (
    ALL,
    IN,
    OUT,
    Aggregator,
    ConvergenceError,
    Graph,
    Result,
    VertexProgram,
    rank_zero,
    run,
)
from gasengine.async_engine import default_batch_size

SCHEDULES = ("sync", "residual")


class BeliefPropagationProgram(VertexProgram):
    """Loopy sum-product BP on an undirected graph; vertex field ``belief`` ``(n, k)``.

    See the module docstring for the messages (edge fields ``msg`` and
    ``rev``, normalised) and the two modes.

    Parameters
    ----------
    node_potentials : array_like, shape (n, k)
        Non-negative; every row has a positive entry.
    edge_potential : array_like or str
        A positive ``(k, k)`` matrix shared by all edges, a positive
        ``(m, k, k)`` array (one matrix per stored arc), or the name of an
        edge field holding such an array; indexed ``[lower end, higher end]``.
    tol : float
        Residual (largest change of a message entry) below which a message
        has converged.
    schedule : {"sync", "residual"}
        Every vertex every step until converged, or only the vertices whose
        incoming messages changed by ``tol`` or more (signalled with
        priority ``-residual``).
    simultaneous : bool
        Whether adjacent vertices may update in the same step (True is
        right under every engine; False, faster on the chromatic engine, only
        under edge or full consistency).

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> g = Graph([0], [1], directed=False)
    >>> program = BeliefPropagationProgram([[1.0, 1.0], [3.0, 1.0]], [[2.0, 1.0], [1.0, 2.0]], tol=1e-12)
    >>> np.round(run(program, g).field("belief"), 4).tolist()  # exact: 7/12 and 9/12
    [[0.5833, 0.4167], [0.75, 0.25]]
    """

    gather_edges = IN
    scatter_edges = ALL
    combine = np.add
    master_fields = ("belief", "changed")  # the answer and a sync operation's input: masters only

    def __init__(
        self,
        node_potentials: Any,
        edge_potential: Any,
        tol: float = 1e-8,
        schedule: str = "sync",
        simultaneous: bool = True,
    ):
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
        self.node_potentials = np.asarray(node_potentials, dtype=np.float64)
        self.k = int(self.node_potentials.shape[1])
        self.field_name = edge_potential if isinstance(edge_potential, str) else None
        self.edge_potential = None if self.field_name else np.asarray(edge_potential, dtype=np.float64)
        if self.edge_potential is not None and self.edge_potential.ndim == 3:
            self.field_name = "potential"  # one matrix per arc travels with the arc
        self.tol = float(tol)
        self.schedule = schedule
        self.simultaneous = bool(simultaneous)
        # Convergence of the synchronous schedule: how many received messages changed by tol or more.
        self.aggregators = (Aggregator("changed_messages", lambda v: v.data["changed"]),) if schedule == "sync" else ()

    def init(self, v):
        phi = self.node_potentials
        with np.errstate(divide="ignore"):  # a zero potential is a state ruled out: log 0 = -inf
            v.data["logphi"] = np.log(phi)
        v.data["logm"] = np.zeros_like(phi)  # sum of the log messages gathered
        v.data["belief"] = phi / phi.sum(axis=1, keepdims=True)
        v.data["changed"] = np.zeros(len(v), dtype=np.int64)

    def init_edges(self, e):
        uniform = np.full((len(e), self.k), 1.0 / self.k)
        for name in ("msg", "rev"):
            e.data[name] = uniform
            if self.simultaneous:
                e.data[name + "_prev"] = uniform
                e.data[name + "_step"] = np.full(len(e), -1, dtype=np.int64)
        e.data["delta"] = np.full(len(e), np.inf)  # every message is news at its receiver's first update
        if self.edge_potential is not None and self.edge_potential.ndim == 3:
            e.data["potential"] = self.edge_potential

    # -------------------------------------------------------------- messages
    def _read(self, e, name: str) -> np.ndarray:
        """Message ``name`` as this step must see it (see the module docstring)."""
        latest = e.data[name]
        if not self.simultaneous:
            return latest
        written_now = e.data[name + "_step"] >= e.superstep
        return np.where(written_now[:, None], e.data[name + "_prev"], latest)

    def _write(self, e, name: str, new: np.ndarray) -> None:
        if self.simultaneous:  # a message is written at most once a step: its latest value becomes the previous
            e.data[name + "_prev"] = e.data[name]
            e.data[name + "_step"] = np.full(len(e), e.superstep, dtype=np.int64)
        e.data[name] = new

    def _through_potential(self, e, cavity: np.ndarray) -> np.ndarray:
        """``sum over x_u of psi(x_u, x_v) cavity(x_u)`` per edge, ``u`` the sender (``e.vertex``)."""
        lower = e.vertex < e.nbr  # the sender indexes the matrix's rows
        out = np.empty_like(cavity)
        if self.field_name is None:
            psi = self.edge_potential
            assert psi is not None  # a matrix unless the potentials are an edge field
            out[lower] = cavity[lower] @ psi
            out[~lower] = cavity[~lower] @ psi.T
        else:
            psi = e.data[self.field_name]
            out[lower] = np.einsum("ex,exy->ey", cavity[lower], psi[lower])
            out[~lower] = np.einsum("ex,eyx->ey", cavity[~lower], psi[~lower])
        return out

    # ---------------------------------------------------------------- GAS
    def gather(self, e):
        big = e.data["delta"] >= self.tol
        return np.concatenate([np.log(self._read(e, "msg")), big[:, None]], axis=1)

    def apply(self, v, acc):
        logm = acc[:, : self.k]
        z = v.data["logphi"] + logm
        b = np.exp(z - z.max(axis=1, keepdims=True))
        v.data["belief"] = b / b.sum(axis=1, keepdims=True)
        v.data["logm"] = logm
        v.data["changed"] = np.rint(acc[:, self.k]).astype(np.int64)
        if self.schedule == "sync":
            v.signal()

    def scatter(self, e):
        out = e.direction is OUT
        # Out-arc u->v: new msg = m_{u->v}, dividing out rev = m_{v->u}.  In-arc v->u:
        # the same message, as rev, dividing out msg = m_{v->u}.
        z = e.vertex_data["logphi"] + e.vertex_data["logm"] - np.log(self._read(e, "rev" if out else "msg"))
        new = self._through_potential(e, np.exp(z - z.max(axis=1, keepdims=True)))
        new /= new.sum(axis=1, keepdims=True)
        name = "msg" if out else "rev"
        residual = np.abs(new - e.data[name]).max(axis=1)
        self._write(e, name, new)
        if not out:
            return None  # the receiver hears of it through the out-arc
        e.data["delta"] = residual
        if self.schedule == "sync":
            return None  # everyone runs anyway
        return np.where(residual >= self.tol, -residual, np.inf)

    def converged(self, globals):
        return self.schedule == "sync" and int(globals["changed_messages"]) == 0


@rank_zero
def belief_propagation(
    graph: Graph,
    node_potentials: Any,
    edge_potential: Any,
    tol: float = 1e-8,
    max_iter: int | None = None,
    schedule: str = "sync",
    *,
    return_result: bool = False,
    **engine_options: Any,
) -> np.ndarray | tuple[np.ndarray, Result]:
    """Beliefs (approximate marginals) of a pairwise MRF by loopy sum-product BP.

    Exact on trees (and forests); on graphs with cycles, the loopy BP
    fixed point, when it converges.

    Parameters
    ----------
    graph : Graph
        Undirected (``directed=False``), without self-loops.
    node_potentials : array_like or str
        ``(n, k)`` non-negative potentials with a positive entry per
        vertex, or the name of a vertex field holding them.
    edge_potential : array_like or str
        A positive ``(k, k)`` matrix for every edge, an ``(m, k, k)`` array
        with one per stored arc (the two arcs of an edge must hold the same
        matrix, as :class:`~gasengine.Graph` copies edge fields), or the
        name of an edge field holding one.  Rows index the state of the
        edge's lower-numbered end, columns the higher-numbered one's.
    tol : float
        Convergence: every message's largest entry change below ``tol``.
    max_iter : int, optional
        Budget of supersteps (sweeps on the chromatic engine, rounds on the
        asynchronous one).  Default: 1000, and on the asynchronous engine
        as many rounds as 1000 sweeps' worth of updates take
        (``1000 * ceil(n / batch_size)``).
    schedule : {"sync", "residual"}
        ``"sync"`` (default engine ``"sync"``): all vertices every step.
        ``"residual"`` (default ``engine="async", scheduler="priority",
        consistency="edge"``): the largest incoming residual first, only
        where messages changed; on the other engines, the vertices whose
        messages changed, in the engine's order.
    return_result : bool
        Also return the engine's :class:`~gasengine.Result` (messages in
        its edge fields).
    **engine_options
        Passed to :func:`gasengine.run` (``engine``, ``consistency``,
        ``partitions``, ``workers``, ``batch_size`` ...).  Results do not
        depend on the number of parts or workers (to rounding), except on
        the asynchronous engine with more than one candidate a round: it
        grants locks part by part, so which updates share a round depends
        on the cut, and runs on different cuts agree to about ``tol``.

    Returns
    -------
    ndarray, shape (n, k)
        Normalised beliefs, one row per vertex number.

    Raises
    ------
    ValueError
        For a directed graph, a self-loop, arcs without their reverse, or
        potentials of the wrong shape, negative, zero (edge potentials) or
        not finite, naming the argument.
    ConvergenceError
        If messages still change by ``tol`` after ``max_iter`` steps; its
        ``result`` holds the unfinished run.

    Examples
    --------
    >>> from gasengine import Graph
    >>> g = Graph([0, 1], [1, 2], directed=False)  # a path 0 - 1 - 2
    >>> phi = [[0.9, 0.1], [0.5, 0.5], [0.5, 0.5]]
    >>> b = belief_propagation(g, phi, [[0.8, 0.2], [0.2, 0.8]], tol=1e-12)
    >>> np.round(b[:, 0], 4).tolist()  # evidence at 0 fades along the path
    [0.9, 0.74, 0.644]
    """
    phi, psi = check_model(graph, node_potentials, edge_potential)
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol > 0 or not np.isfinite(tol):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    if max_iter is not None and (
        isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1
    ):
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
    if "max_supersteps" in engine_options:
        raise TypeError("belief_propagation takes max_iter, not max_supersteps")
    if schedule == "residual":
        engine_options.setdefault("engine", "async")
        if engine_options["engine"] == "async":
            engine_options.setdefault("scheduler", "priority")
    engine = engine_options.get("engine", "sync")
    consistency = engine_options.get("consistency", "edge")
    # No two adjacent vertices in one step: messages can be read as they are (see the module docstring).
    serial = engine in ("chromatic", "async") and consistency in ("edge", "full")
    if max_iter is None:
        max_iter = 1000
        if engine == "async":  # a round runs at most batch_size vertices
            batch = engine_options.get("batch_size") or default_batch_size(graph.num_vertices)
            max_iter *= -(-max(graph.num_vertices, 1) // batch)
    program = BeliefPropagationProgram(phi, psi, float(tol), schedule, simultaneous=not serial)
    result = run(program, graph, max_supersteps=int(max_iter), **engine_options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    if not result.converged and graph.num_vertices:
        raise ConvergenceError(
            f"belief propagation did not converge within {max_iter} steps (tol={tol})", result=result
        )
    beliefs = result.field("belief")
    return (beliefs, result) if return_result else beliefs


def check_model(graph: Graph, node_potentials: Any, edge_potential: Any) -> tuple[np.ndarray, Any]:
    """Check a pairwise MRF on ``graph``; return node potentials ``(n, k)`` and the edge potential
    (a ``(k, k)`` or ``(m, k, k)`` array, or an edge field name).

    Raises a ValueError naming the argument for anything BP cannot use.

    Examples
    --------
    >>> g = Graph([0], [1], directed=False)
    >>> check_model(g, [[1.0, 2.0]], [[1.0]])
    Traceback (most recent call last):
    ...
    ValueError: node_potentials must have one row per vertex (2), got shape (1, 2)
    """
    if graph.directed:
        raise ValueError(
            "belief_propagation needs an undirected graph (Graph(..., directed=False) or graph.to_undirected())"
        )
    loops = np.flatnonzero(graph.src == graph.dst)
    if loops.size:
        raise ValueError(
            f"graph: vertex {int(graph.src[loops[0]])} has a self-loop; fold a pairwise potential on "
            "one vertex into its node potential"
        )
    n = graph.num_vertices
    if isinstance(node_potentials, str):
        if node_potentials not in graph.vertex_data:
            raise ValueError(
                f"node_potentials: no vertex field {node_potentials!r}; fields are {sorted(graph.vertex_data)}"
            )
        node_potentials = graph.vertex_data[node_potentials]
    phi = np.asarray(node_potentials)
    if phi.ndim != 2 or phi.shape[0] != n or phi.shape[1] < 1:
        raise ValueError(f"node_potentials must have one row per vertex ({n}), got shape {phi.shape}")
    if phi.dtype.kind not in "iuf" or not np.all(np.isfinite(phi)) or (phi < 0).any():
        raise ValueError("node_potentials must hold finite non-negative numbers")
    if n and not (phi.max(axis=1) > 0).all():
        bad = int(np.flatnonzero(phi.max(axis=1) <= 0)[0])
        raise ValueError(f"node_potentials: vertex {bad} has no state of positive potential")
    k = phi.shape[1]
    field = None
    if isinstance(edge_potential, str):
        if edge_potential not in graph.edge_data:
            raise ValueError(f"edge_potential: no edge field {edge_potential!r}; fields are {sorted(graph.edge_data)}")
        field = edge_potential
        psi = graph.edge_data[edge_potential]
    else:
        psi = np.asarray(edge_potential)
    if psi.shape not in ((k, k), (graph.num_edges, k, k)):
        raise ValueError(
            f"edge_potential must be a ({k}, {k}) matrix or one per stored arc ({graph.num_edges}, {k}, {k}), "
            f"got shape {psi.shape}"
        )
    if psi.dtype.kind not in "iuf" or not np.all(np.isfinite(psi)) or (psi <= 0).any():
        raise ValueError("edge_potential must hold finite positive numbers (a zero would make messages vanish)")
    _check_arcs_pair_up(graph, psi if psi.ndim == 3 else None)
    return phi.astype(np.float64), field if field is not None else psi.astype(np.float64)


def _check_arcs_pair_up(graph: Graph, per_arc: np.ndarray | None) -> None:
    """Every arc ``u->v`` has a reverse ``v->u`` holding the same potential (multisets, for parallel edges)."""
    lo = np.minimum(graph.src, graph.dst)
    hi = np.maximum(graph.src, graph.dst)
    sides = []
    for side in (graph.src < graph.dst, graph.src > graph.dst):
        arcs = np.flatnonzero(side)
        keys = [hi[arcs], lo[arcs]]  # np.lexsort: the last key sorts first
        if per_arc is not None:  # parallel arcs of one edge: ordered by their matrices
            keys = [*per_arc[arcs].reshape(arcs.size, -1).T, *keys]
        sides.append(arcs[np.lexsort(keys)])
    up, down = sides
    if up.size != down.size or not (np.array_equal(lo[up], lo[down]) and np.array_equal(hi[up], hi[down])):
        raise ValueError("graph: its arcs are not symmetric (an undirected graph stores every edge both ways)")
    if per_arc is not None and not np.array_equal(per_arc[up], per_arc[down]):
        i = int(np.flatnonzero((per_arc[up] != per_arc[down]).reshape(up.size, -1).any(axis=1))[0])
        raise ValueError(
            f"edge_potential: the two arcs of edge {{{int(lo[up[i]])}, {int(hi[up[i]])}}} hold different matrices"
        )
