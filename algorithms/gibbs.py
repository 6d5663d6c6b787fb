"""Gibbs sampling of an Ising model (a pairwise Markov random field of spins +-1).

The model is

    P(s) ∝ exp(beta * (sum over edges J_uv s_u s_v + sum over vertices h_v s_v)),

and a Gibbs update redraws one spin from its conditional given its
neighbours: ``P(s_v = +1 | rest) = sigmoid(2 beta (h_v + sum_u J_uv s_u))``.
Every update gathers ``J * s_nbr`` over the vertex's edges, draws the new
spin in apply and counts how often it was +1 after ``burn_in`` sweeps; the
marginal estimate is that count over the number of counted sweeps.

**Which engine makes it a Gibbs sampler.**  On the chromatic engine with
``consistency="edge"`` (the default here) the vertices of one colour class
are pairwise non-adjacent, hence conditionally independent given the
others, so drawing them all at once is exactly drawing them one after
another: a sweep is a systematic-scan Gibbs sweep and the chain has the
model as its stationary distribution.  The synchronous engine (or chromatic
with ``consistency="vertex"``) redraws *every* spin from the previous
sweep's neighbours at once; that chain has a different stationary
distribution:

* on a bipartite graph it is two interleaved chromatic chains (the even
  sweeps of one side with the odd sweeps of the other), so single-vertex
  marginals come out right, but the joint is wrong: with strong
  ferromagnetic coupling the two chains settle independently into "all
  up" or "all down", and half the time the state alternates between the two
  checkerboards every sweep.  Measured on 300 copies of a 4-cycle with a
  pendant (J = 1.5, beta = 1, 60 sweeps), 45% of the synchronous chains
  end on a checkerboard (the exact stationary probability of the
  synchronous chain is 0.485), none of the chromatic ones (the model
  gives the checkerboards 6e-6);
* on a graph with odd cycles the marginals themselves are biased.  On a
  3 x 3 grid with two diagonals (random J in [-1, 1], h in [-0.5, 0.5],
  beta = 1, ``tests/algorithms/test_gibbs.py``) the synchronous chain's
  exact stationary marginals differ from the model's by up to 0.108.
  Sampling 400 copies for 300 sweeps (50 burn-in) with seeds 1 to 5, the
  largest error of the synchronous sampler was 0.107 to 0.109 (and within
  1.8 standard errors of its own stationary law), that of the chromatic
  one 0.003 to 0.009 (at most 3.1 standard errors; 5 standard errors are
  0.019).

**Randomness.**  Each draw is a counter-based hash (splitmix64's mixer in
numpy ``uint64`` arithmetic) of ``(seed, vertex number, number of the
vertex's update)``, never a generator whose state runs through a batch: a
vertex's draws do not depend on which batch, part or worker it is in, so a
run gives the same spins for every number of parts and workers.  (A
shared ``numpy.random.Generator`` would hand out numbers in batch order,
which changes with the partitioning.)
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np

from gasengine import ALL, IN, EdgeSet, Graph, Result, VertexProgram, rank_zero, run

_GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, splitmix64's increment
_MASK64 = (1 << 64) - 1


def _mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that scrambles every bit (arrays only:
    numpy warns on overflowing *scalar* integer arithmetic, never on arrays)."""
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB
    return z ^ (z >> 31)


def counter_uniform(seed: int, ids: Any, counter: Any) -> np.ndarray:
    """Uniform numbers in [0, 1), one per ``(seed, ids[i], counter[i])``, by hashing.

    The same triple always gives the same number, whatever else is drawn
    with it: that is what makes a sampler independent of how vertices are
    batched.  53 random bits per number (a double's mantissa).

    Parameters
    ----------
    seed : int
        Any integer (taken modulo 2**64).
    ids, counter : array_like of int
        Non-negative integers, broadcast against each other: typically the
        vertex numbers of a batch and how many draws each vertex made.

    Returns
    -------
    ndarray of float64

    Examples
    --------
    >>> u = counter_uniform(7, [0, 1, 2], 1)
    >>> bool(np.all((0 <= u) & (u < 1))), bool(np.all(u == counter_uniform(7, [0, 1, 2], [1, 1, 1])))
    (True, True)
    >>> float(counter_uniform(7, [2], 1)[0]) == float(u[2])  # alone or in a batch: the same number
    True
    """
    ids, counter = np.broadcast_arrays(np.asarray(ids, dtype=np.int64), np.asarray(counter, dtype=np.int64))
    key = _mix64(np.full(1, (int(seed) + _GOLDEN) & _MASK64, dtype=np.uint64))
    z = _mix64(key ^ ids.astype(np.uint64).ravel())
    z = _mix64(z + counter.astype(np.uint64).ravel() * _GOLDEN)
    return ((z >> 11).astype(np.float64) * 2.0**-53).reshape(ids.shape)


class GibbsIsingProgram(VertexProgram):
    """Gibbs updates of an Ising model; fields ``spin`` (int8, +-1), ``plus`` and ``updates``.

    Every update of a vertex gathers ``J * spin`` of its neighbours, draws
    the spin from ``P(+1) = sigmoid(2 beta (h + acc))`` with the uniform
    :func:`counter_uniform` ``(seed, vertex, update number)``, adds 1 to
    ``plus`` if the spin is +1 and more than ``burn_in`` updates were made,
    and signals itself until it has made ``sweeps`` updates.  Initial spins
    are fair coin flips (update number 0).  Self-loops are ignored: their
    term ``J s_v s_v = J`` is a constant.

    Parameters
    ----------
    beta : float
        Inverse temperature (>= 0).
    coupling : float or str
        One J for every edge, or the name of an edge field of J's.
    field : float or array_like
        One h for every vertex, or one per vertex.
    sweeps, burn_in : int
        Updates per vertex, and how many of the first ones are not counted.
    seed : int
        Seed of the hashed draws.
    undirected : bool
        True (an undirected :class:`~gasengine.Graph`, each edge stored as
        two arcs): gather the in-arcs, one per neighbour.  False (a
        directed graph): every arc is one coupling term and both ends see
        it, so gather all arcs.

    Examples
    --------
    >>> from gasengine import Graph, run
    >>> g = Graph([0], [1], directed=False)
    >>> r = run(GibbsIsingProgram(beta=5.0, coupling=1.0, sweeps=20), g, engine="chromatic")
    >>> int(r.field("spin")[0] * r.field("spin")[1]), r.field("updates").tolist()  # strongly coupled: aligned
    (1, [20, 20])
    """

    combine = np.add
    master_fields = ("plus", "updates")  # the tallies: read by apply and the result only

    def __init__(
        self,
        beta: float = 1.0,
        coupling: float | str = 1.0,
        field: float | Any = 0.0,
        sweeps: int = 1000,
        burn_in: int = 0,
        seed: int = 0,
        undirected: bool = True,
    ):
        self.beta = float(beta)
        self.coupling = coupling
        self.field = field
        self.sweeps = int(sweeps)
        self.burn_in = int(burn_in)
        self.seed = int(seed)
        self.gather_edges: EdgeSet = IN if undirected else ALL

    def init(self, v):
        n = len(v)
        ids = v.ids
        v.data["spin"] = np.where(counter_uniform(self.seed, ids, 0) < 0.5, 1, -1).astype(np.int8)
        v.data["plus"] = np.zeros(n, dtype=np.int64)
        v.data["updates"] = np.zeros(n, dtype=np.int64)
        if np.ndim(self.field):  # per-vertex fields travel with the vertex; a scalar stays here
            v.data["h"] = np.asarray(self.field, dtype=np.float64)

    def gather(self, e):
        coupling = e.data[self.coupling] if isinstance(self.coupling, str) else self.coupling
        return coupling * e.nbr_data["spin"] * (e.src != e.dst)

    def apply(self, v, acc):
        # not v.data.get: a missing field raises ProgramError, not KeyError, so get() would not default
        h = v.data["h"] if "h" in v.data else self.field  # noqa: SIM401
        # sigmoid(2x) = (1 + tanh x) / 2, without exp overflow at large beta
        p_plus = 0.5 * (1.0 + np.tanh(self.beta * (h + acc)))
        count = v.data["updates"] + 1
        spin = np.where(counter_uniform(self.seed, v.ids, count) < p_plus, 1, -1).astype(np.int8)
        v.data["spin"] = spin
        v.data["plus"] = v.data["plus"] + ((spin > 0) & (count > self.burn_in))
        v.data["updates"] = count
        # a per-vertex count, not the superstep number: the same under any engine's step numbering
        v.signal(count < self.sweeps)


@rank_zero
def gibbs_ising(
    graph: Graph,
    beta: float = 1.0,
    coupling: float | str = 1.0,
    field: float | Any = 0.0,
    sweeps: int = 1000,
    burn_in: int = 100,
    seed: int = 0,
    *,
    return_result: bool = False,
    **engine_options: Any,
) -> np.ndarray | tuple[np.ndarray, Result]:
    """Estimated marginals ``P(spin = +1)`` of an Ising model, by Gibbs sampling.

    Parameters
    ----------
    graph : Graph
        Undirected: every edge is one coupling.  Directed: every arc is one
        (arcs ``u->v`` and ``v->u`` are two terms).
    beta : float
        Inverse temperature, finite and >= 0.
    coupling : float or str
        J for every edge, or the name of an edge field of finite J's.
    field : float or array_like
        h for every vertex, or an array of one finite h per vertex.
    sweeps : int
        Updates of every vertex (>= 1).
    burn_in : int
        Leading sweeps not counted (0 <= burn_in < sweeps).
    seed : int
        Seed of the hashed draws; the same seed gives the same estimates
        whatever the number of parts or workers.
    return_result : bool
        Also return the engine's :class:`~gasengine.Result` (final
        ``spin``, ``plus`` counts, ``updates``).
    **engine_options
        Passed to :func:`gasengine.run`.  Default ``engine="chromatic",
        consistency="edge"``: the correct sampler.  ``engine="sync"`` (or
        ``consistency="vertex"``) runs the fully parallel variant, biased on
        graphs with odd cycles (see :mod:`algorithms.gibbs`).

    Returns
    -------
    ndarray
        ``P(spin = +1)`` per vertex number: the fraction of counted sweeps
        the spin was +1.

    Raises
    ------
    ValueError
        For a negative or non-finite ``beta``, a missing or non-finite
        coupling field, a field of the wrong shape, or bad sweep counts.

    Examples
    --------
    >>> from gasengine import Graph
    >>> g = Graph([0, 1], [1, 2], directed=False)
    >>> p = gibbs_ising(g, beta=0.5, field=[2.0, 0.0, -2.0], sweeps=400, burn_in=50)
    >>> np.round(p, 2).tolist()  # exact: 0.84, 0.5, 0.16
    [0.87, 0.54, 0.18]
    """
    program = _program(graph, beta, coupling, field, sweeps, burn_in, seed)
    if "max_supersteps" in engine_options:
        raise TypeError("gibbs_ising takes sweeps (updates per vertex), not max_supersteps")
    engine_options.setdefault("engine", "chromatic")
    if engine_options["engine"] == "chromatic":
        engine_options.setdefault("consistency", "edge")
    result = run(program, graph, **engine_options)
    assert result is not None, "algorithm functions run on MPI rank 0 only (docs/mpi.md)"
    marginals = result.field("plus") / float(program.sweeps - program.burn_in)
    return (marginals, result) if return_result else marginals


def _program(
    graph: Graph, beta: Any, coupling: Any, field: Any, sweeps: Any, burn_in: Any, seed: Any
) -> GibbsIsingProgram:
    """The program for these arguments, each checked (a ValueError naming the argument)."""
    if not isinstance(beta, numbers.Real) or not np.isfinite(float(beta)) or float(beta) < 0:
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
    for name, value, low in (("sweeps", sweeps, 1), ("burn_in", burn_in, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if burn_in >= sweeps:
        raise ValueError(f"burn_in ({burn_in}) must be smaller than sweeps ({sweeps}): no sweep would be counted")
    try:
        seed = operator.index(seed)
    except TypeError:
        raise ValueError(f"seed must be an integer, got {seed!r}") from None
    if isinstance(coupling, str):
        if coupling not in graph.edge_data:
            raise ValueError(f"coupling: no edge field {coupling!r}; fields are {sorted(graph.edge_data)}")
        values = graph.edge_data[coupling]
        if values.shape != (graph.num_edges,) or values.dtype.kind not in "iuf" or not np.all(np.isfinite(values)):
            raise ValueError(f"coupling: edge field {coupling!r} must hold one finite number per edge")
    elif not isinstance(coupling, numbers.Real) or not np.isfinite(float(coupling)):
        raise ValueError(f"coupling must be a finite number or the name of an edge field, got {coupling!r}")
    if np.ndim(field):
        values = np.asarray(field)
        if values.shape != (graph.num_vertices,) or values.dtype.kind not in "iuf" or not np.all(np.isfinite(values)):
            raise ValueError(
                f"field must be a finite number or one finite number per vertex ({graph.num_vertices}), "
                f"got shape {values.shape}"
            )
        field = values.astype(np.float64)
    elif not isinstance(field, numbers.Real) or not np.isfinite(float(field)):
        raise ValueError(f"field must be a finite number or one per vertex, got {field!r}")
    return GibbsIsingProgram(
        float(beta),
        coupling if isinstance(coupling, str) else float(coupling),
        field if np.ndim(field) else float(field),
        int(sweeps),
        int(burn_in),
        int(seed),
        undirected=not graph.directed,
    )
