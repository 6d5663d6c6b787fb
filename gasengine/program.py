"""The vertex-program interface (PowerGraph's gather-apply-scatter), vectorised.

A vertex program is a class.  The engine calls its methods on **batches**:
``gather`` and ``scatter`` receive an :class:`EdgeView` holding many edges,
``apply`` and ``init`` a :class:`VertexView` holding many vertices.  Code is
written once with numpy expressions and works for a batch of any size (one
vertex is still a batch of one).

The whole contract
------------------
``init(v)``
    Called once on all vertices before the run.  Create or set vertex fields:
    ``v.data["rank"] = np.full(len(v), 1 / v.num_vertices)``; ``v.out_degree()``
    and ``v.in_degree()`` are available here.
``init_edges(e)``
    Optional: called once on all edges (after ``init``) to create or set
    edge fields: ``e.data["msg"] = np.zeros(len(e))``.
``gather_edges``
    Which edges of an active vertex are gathered: ``NONE``, ``IN``, ``OUT``
    or ``ALL``.
``gather(e) -> array``
    One value per edge of the batch (first axis = edge; any trailing shape,
    e.g. ``(k, k)`` matrices for ALS).  ``e.vertex`` is the gathering vertex,
    ``e.nbr`` the other end.
``combine``
    A commutative, associative numpy ufunc (``np.add``, ``np.minimum``,
    ``np.maximum``, ``np.logical_or`` ...) folding the gathered values of a
    vertex into one: numbers (bool, integer, float or complex) of a dtype the
    ufunc takes, else the run ends in a ``ProgramError`` naming ``combine``.
    A vertex with nothing to gather receives the ufunc's neutral element (0
    for add, +inf for minimum ...).  Or an accumulator
    beyond ufuncs, where ``gather`` returns one integer key per edge:
    :data:`gasengine.count_by_key` (``acc`` is a :class:`~gasengine.KeyCounts`:
    the distinct keys per vertex with their summed weights; ``gather`` may
    return ``(keys, weights)``) or :data:`gasengine.collect` (``acc`` is a
    :class:`~gasengine.Ragged`: the sorted distinct keys per vertex, which
    ``apply`` may store as a *ragged vertex field*, ``v.data["nbrs"] = acc``,
    created in ``init`` as ``Ragged.empty(len(v))`` and read like any field
    at either end of an edge).
``apply(v, acc)``
    Runs on the master copy of each active vertex; assigns new field values
    (``v.data["rank"] = ...``).  May return a bool array choosing which of
    the vertices scatter (default: all); may call ``v.signal(mask)`` to stay
    active for the next superstep, or ``v.signal(mask, priority=p)`` to wait
    with priority ``p`` (a program with ``bucket_width``, or the ``priority``
    scheduler; elsewhere the priority only says *whether*).
``scatter_edges`` / ``scatter(e) -> bool array, float array or None``
    Runs over the chosen edges of vertices that applied; may assign edge
    fields (``e.data["msg"] = ...``) and returns, per edge, whether to signal
    ``e.nbr`` (activate it for the next superstep) — or a float *priority*
    per edge (``np.inf``: no signal), lowest first; see ``bucket_width``.
``converged(globals) -> bool``
    Optional: checked after each superstep's sync operations; True ends the
    run.  ``globals`` maps sync operations to their values and also says
    ``globals.step`` (the superstep, sweep or round just finished) and
    ``globals.num_vertices``: a program keeps no copy of either.
``aggregators``
    Sync operations the program needs (see :class:`gasengine.Aggregator`);
    their values are readable as ``v.globals[name]`` / ``e.globals[name]``.

``pointer_writes = {"target": ("ids", "value", np.minimum)}`` is the other
direction: after ``apply``, every vertex that applied offers its field
``value`` to the vertex whose number is in its field ``ids``, and the engine
folds all offers into that vertex's ``target`` with the combine (a
commutative ufunc, as for ``combine``), after what its own apply stored;
mirrors see the result in the next superstep.  An offer equal to the
combine's neutral element (the largest value, for ``np.minimum``) is no
offer: it is dropped before it travels.  Shiloach-Vishkin hooking (a vertex
hooks its *parent* onto a smaller tree) is such a write.

``nbr_writes = {"target": ("value", np.add)}`` pushes to neighbours instead
of naming a vertex: after ``apply``, every vertex that scatters (apply's
returned mask) offers its field ``value`` — or a number, the same offer from
every vertex: ``{"lost": (1, np.add)}`` — to each neighbour over
``scatter_edges``, and the engine folds all offers into the neighbour's
``target`` with the combine (a commutative ufunc; compiled for add, minimum
and maximum), after what its own apply stored; the masters fold the offers
of every part, and mirrors see the result in the next superstep.  It costs
the edges of the vertices that scatter, never a gather over the
receivers' edges: peeling in k-core decrements the degree of a hub's
neighbours this way without the hub re-reading its own neighbourhood
(PowerGraph's ``post_delta``, Pregel's message combiners).  Signalling is
separate: ``scatter`` or ``signal_nbrs`` still decides who runs next.

``nbr_cond = "alive"`` (a bool vertex field) is Ligra's condition on the
receiving end: a neighbour whose field is False is neither signalled (by
``scatter`` or ``signal_nbrs``) nor written to — a peeled vertex stops
hearing from the vertices peeled after it.

Priorities and delta-stepping
-----------------------------
A program that sets ``bucket_width = delta`` (a positive number) runs its
supersteps in order of priority, as delta-stepping does (Meyer and Sanders):
``scatter`` returns a priority per edge (shortest paths: the distance it
offers the neighbour), each signalled vertex keeps the lowest it was offered,
and every superstep runs only the signalled vertices whose priority falls in
the lowest non-empty bucket ``[k * delta, (k + 1) * delta)``; the others
wait.  Signals from ``apply`` without a priority (``v.signal(mask)``) and the
initial active set have priority ``-inf``: they run first;
``v.signal(mask, priority=p)`` waits in ``p``'s bucket (k-core's peeling
waits at its remaining degree).  A vertex therefore rarely runs twice, at
the cost of more, smaller supersteps; without ``bucket_width`` priorities
only say *whether* to signal.

Reading a vertex that is not a neighbour
----------------------------------------
``pointer_reads = {"target": ("ids", "source")}`` makes the engine set, at
the start of every superstep and on every vertex, field ``target`` to the
value of field ``source`` *of the vertex whose number is in field* ``ids``
(all three fields created in ``init``; ``target`` with ``source``'s dtype and
shape).  Pointer jumping reads a parent's parent this way:
``pointer_reads = {"grandparent": ("parent", "parent")}``.  It works on
every backend (requests go to the masters of the named vertices, replies
come back) and costs one exchange round there and back per entry and
superstep, over all vertices: use it in programs whose supersteps touch most
vertices anyway.

Fields only masters need
------------------------
``master_fields = ("change",)`` names fields that only ``apply``, the
aggregators and ``converged`` read (a vertex's last change, say): the engine
then never sends them from masters to mirrors after apply — less to move
every superstep, as GraphX's triplet fields tell it which attributes to
ship.  Reading one where mirrors serve (``gather``, ``gather_nbr``,
``scatter``, ``signal_nbrs``, an aggregator over edges) is a
:class:`~gasengine.ProgramError` naming the field, on any number of parts.
A target of ``nbr_writes`` among them also saves the round that would tell
the mirrors its folded values; when every target is one, the folds travel to
the masters in the same round as the step's signals.

Batches, parts and state
------------------------
Each method is called **once per batch**, and how the vertices and edges
are split into batches depends on the run: one batch per part (and per
chunk of edges) for ``gather``/``scatter``, one per part for ``apply``.
Results never depend on the number of parts or workers, *provided* a
method computes its answer from its arguments alone: state kept on
``self`` between calls (a counter, the previous batch's values) sees a
different sequence of batches with every P, and with worker processes each
worker has its own copy of the program.  Keep per-vertex state in fields
and global state in aggregators.

Arrays read from a view are snapshots for the duration of the call:
``old = v.data["flag"]; v.signal(old); v.data["flag"] = new`` signals the
*old* flags whatever the number of parts, and a mask returned by ``apply``
is read before the fields it assigned are stored.

Neighbour-only gathers
----------------------
If the gathered value depends only on the neighbour's fields (optionally
combined with one edge field), define ``gather_nbr(u) -> array`` (one value
per vertex of the batch ``u``) instead of ``gather``, and optionally
``gather_edge_field = "weight"`` with ``gather_edge_op = np.multiply``.  The
engine then computes ``combine over edges of op(gather_nbr(nbr), edge_field)``
without building per-edge views; with ``combine=np.add`` and a multiply (or
no edge field) it runs as one sparse matrix-vector product.  ``gather_nbr``
must depend only on ``u``'s fields and the globals: the engine keeps its
values between steps and recomputes them only for vertices whose fields
changed (a colour step or an asynchronous round touches few).

The scatter side has the same shortcut: if what a vertex tells its
neighbours depends only on the vertex, define ``signal_nbrs(v) -> array``
instead of ``scatter``: called on the vertices that scatter, it returns one
value per vertex — a bool (signal every neighbour over ``scatter_edges``)
or a float priority given to all of them (``np.inf``: none).  The engine
then signals in one compiled pass over the edges, building no edge view
(delta-PageRank signals its out-neighbours with ``-alpha |change| / out``).

Examples
--------
>>> import numpy as np
>>> from gasengine import VertexProgram, IN
>>> class InDegree(VertexProgram):
...     gather_edges = IN
...     combine = np.add
...     def init(self, v):
...         v.data["deg"] = np.zeros(len(v), dtype=np.int64)
...     def gather(self, e):
...         return np.ones(len(e), dtype=np.int64)
...     def apply(self, v, acc):
...         v.data["deg"] = acc
"""

from __future__ import annotations

import enum
import numbers
import warnings
from collections.abc import Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ProgramError
from .kernels import count_keys
from .ragged import Ragged

if TYPE_CHECKING:
    from .aggregators import Aggregator


class EdgeSet(enum.Enum):
    """Which edges of a vertex a phase runs over."""

    NONE = "none"
    IN = "in"
    OUT = "out"
    ALL = "all"


NONE, IN, OUT, ALL = EdgeSet.NONE, EdgeSet.IN, EdgeSet.OUT, EdgeSet.ALL


class VertexProgram:
    """Base class of vertex programs; see the module docstring for the contract.

    Subclasses override what they need; the defaults gather nothing, apply
    nothing and scatter nothing.
    """

    gather_edges: EdgeSet = NONE
    scatter_edges: EdgeSet = NONE
    #: A commutative ufunc, or :data:`gasengine.count_by_key` / :data:`gasengine.collect`.
    combine: Any = np.add
    #: Used by the neighbour-only gather path (``gather_nbr``).
    gather_edge_field: str | None = None
    gather_edge_op: np.ufunc | None = None
    aggregators: tuple[Aggregator, ...] = ()
    #: Non-neighbour reads, ``{target: (ids, source)}``; see the module docstring.
    pointer_reads: Mapping[str, tuple[str, str]] = {}
    #: Non-neighbour writes, ``{target: (ids, value, combine)}``; see the module docstring.
    pointer_writes: Mapping[str, tuple[str, str, np.ufunc]] = {}
    #: Writes to neighbours, ``{target: (value field or number, combine)}``; see the module docstring.
    nbr_writes: Mapping[str, tuple[Any, np.ufunc]] = {}
    #: A bool vertex field: neighbours where it is False get no signals and no ``nbr_writes``.
    nbr_cond: str | None = None
    #: Fields only masters read (apply, aggregators): never sent to mirrors; see the module docstring.
    master_fields: tuple[str, ...] = ()
    #: Delta-stepping: width of the priority buckets; see the module docstring.
    bucket_width: float | None = None

    def init(self, v: VertexView) -> None:
        """Create or set vertex fields on all vertices before the run."""

    def init_edges(self, e: EdgeView) -> None:
        """Create or set edge fields on all edges before the run."""

    def gather(self, e: EdgeView) -> np.ndarray:
        """One value per edge of the batch ``e``."""
        raise NotImplementedError

    def apply(self, v: VertexView, acc: Any) -> np.ndarray | None:
        """Update the vertices of ``v`` from their combined gather ``acc``.

        ``acc`` is an ndarray, or what an accumulator ``combine`` makes (a
        :class:`~gasengine.KeyCounts`, a :class:`~gasengine.Ragged`).
        """
        return None

    def scatter(self, e: EdgeView) -> np.ndarray | None:
        """Per edge of ``e``: whether to signal ``e.nbr`` (or None: no signals)."""
        return None

    def converged(self, globals: Mapping[str, Any]) -> bool:
        """True ends the run; checked after each superstep's sync operations."""
        return False

    # ------------------------------------------------------------ helpers
    @classmethod
    def uses_nbr_gather(cls) -> bool:
        """Whether the program declared a neighbour-only gather."""
        return callable(getattr(cls, "gather_nbr", None))

    @classmethod
    def uses_nbr_signals(cls) -> bool:
        """Whether the program declared per-vertex signals (``signal_nbrs``) instead of ``scatter``."""
        return callable(getattr(cls, "signal_nbrs", None))


class FieldMap(MutableMapping):
    """The fields of a batch: read lazily, written by assignment.

    Reading ``m[name]`` gives a **read-only** array for the batch (a view when
    the batch is the whole store or a slice of it, otherwise a gathered copy).
    Changing a field means assigning a whole new array: ``m[name] = m[name] * 2``.
    Read-only arrays make an in-place change that would be silently lost fail
    loudly instead.

    An array read here keeps its values for the rest of the call, even after
    the field is assigned: ``old = v.data["x"]; v.data["x"] = new`` leaves
    ``old`` as it was, on any number of parts, because assignments are only
    stored after the call returns.  Do not keep such arrays after the call
    (copy them): the engine may then write into the memory they view.
    """

    def __init__(
        self,
        store: Mapping[str, np.ndarray],
        index: np.ndarray | slice | None,
        size: int,
        owner: tuple[object, str],
        kind: str,
        creatable: bool = False,
        writable: bool = True,
        hidden: frozenset[str] = frozenset(),
    ):
        self._hidden = hidden  # master_fields, where mirrors are read too
        self._store = store
        self._index = index
        self._size = size
        self._owner = owner
        self._kind = kind
        self._creatable = creatable
        self._writable = writable
        self._cache: dict[str, np.ndarray] = {}
        self.written: dict[str, Any] = {}  # arrays, and Ragged neighbour sets

    def __getitem__(self, name: str) -> Any:  # an ndarray, or a Ragged for a field of neighbour sets
        if name in self.written:
            return self.written[name]
        if name in self._cache:
            return self._cache[name]
        if name in self._hidden:
            raise self._error(
                f"field {name!r} is one of master_fields: mirrors do not have it, so only apply, "
                "aggregators over vertices and converged may read it"
            )
        if name not in self._store:
            raise self._error(f"no {self._kind} field {name!r}; fields are {sorted(self._store)}")
        values = self._store[name]
        if isinstance(values, Ragged):  # rows taken by index only: the values are never copied
            values = values[slice(None) if self._index is None else self._index]
        else:
            values = values.view() if self._index is None else values[self._index]
            values.flags.writeable = False
        self._cache[name] = values
        return values

    def __setitem__(self, name: str, values: Any) -> None:
        if not self._writable:
            raise self._error(f"{self._kind} fields are read-only here (tried to set {name!r})")
        if isinstance(values, Ragged) or isinstance(self._store.get(name), Ragged):
            self._set_ragged(name, values)
            return
        arr = np.asarray(values)
        if name in self._store:
            want = self._store[name]
            if arr.shape != (self._size, *want.shape[1:]):
                if arr.shape == want.shape[1:] or arr.ndim == 0:
                    arr = np.broadcast_to(arr, (self._size, *want.shape[1:]))
                else:
                    raise self._error(
                        f"{self._kind} field {name!r} must have shape {(self._size, *want.shape[1:])}, got {arr.shape}"
                    )
            if not np.can_cast(arr.dtype, want.dtype, casting="same_kind"):
                raise self._error(f"{self._kind} field {name!r} has dtype {want.dtype}; cannot store {arr.dtype}")
        elif not self._creatable:
            raise self._error(
                f"no {self._kind} field {name!r} to write; fields are {sorted(self._store)} "
                "(new fields can only be created in init)"
            )
        elif arr.ndim == 0 or arr.shape[0] != self._size:
            raise self._error(f"new {self._kind} field {name!r} needs first dimension {self._size}, got {arr.shape}")
        self._cache.pop(name, None)
        self.written[name] = arr

    def _set_ragged(self, name: str, values: Any) -> None:
        """A ragged field (:class:`~gasengine.Ragged`) is stored whole: one row per vertex of the batch."""
        want = self._store.get(name)
        if not isinstance(values, Ragged):
            raise self._error(
                f"{self._kind} field {name!r} holds ragged rows (a Ragged); cannot store {type(values).__name__}"
            )
        if want is None and not self._creatable:
            raise self._error(
                f"no {self._kind} field {name!r} to write; fields are {sorted(self._store)} "
                "(new fields can only be created in init)"
            )
        if not isinstance(want, Ragged) and want is not None:
            raise self._error(f"{self._kind} field {name!r} is an array of shape {want.shape}; cannot store a Ragged")
        if len(values) != self._size:
            raise self._error(f"{self._kind} field {name!r} needs {self._size} rows, got a Ragged of {len(values)}")
        if want is not None and not np.can_cast(values.dtype, want.dtype, casting="same_kind"):
            raise self._error(f"{self._kind} field {name!r} has dtype {want.dtype}; cannot store {values.dtype}")
        self._cache.pop(name, None)
        self.written[name] = values

    def __contains__(self, name: object) -> bool:
        return name in self.written or name in self._store

    def get(self, name: str, default: Any = None) -> Any:
        """``m[name]`` if the field exists, else ``default`` (a missing field raises
        :class:`~gasengine.ProgramError` from ``m[name]``, not ``KeyError``)."""
        return self[name] if name in self else default  # noqa: SIM401 - this is get

    def __delitem__(self, name: str) -> None:
        raise self._error("fields cannot be deleted")

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._store, *self.written]))

    def __len__(self) -> int:
        return len(set(self._store) | set(self.written))

    def _error(self, message: str) -> ProgramError:
        return ProgramError(self._owner[0], self._owner[1], message)


class VertexView:
    """A batch of vertices: ``ids``, ``data`` fields and the run's ``globals``.

    Attributes
    ----------
    data : FieldMap
        Vertex fields of the batch (read-only arrays; assign to change).
    globals : Mapping
        Current values of the sync operations (aggregators).
    num_vertices : int
        Vertices in the whole graph.
    superstep : int
        Current superstep (0 in ``init``).
    """

    def __init__(
        self,
        ids: Any,
        data: FieldMap,
        globals: Mapping[str, Any],
        num_vertices: int,
        superstep: int = 0,
        graph: Any = None,
        degrees: Any = None,
    ):
        self._graph = graph
        self._degrees = degrees  # a cache of unweighted degrees, when the run keeps one
        self._ids = ids
        self.data = data
        self.globals = globals
        self.num_vertices = num_vertices
        self.superstep = superstep
        self.signalled: np.ndarray | None = None
        self.signal_priority: np.ndarray | None = None  # per vertex, where signal() gave one

    @property
    def ids(self) -> np.ndarray:
        """Global vertex numbers (``0..n-1``) of the batch."""
        if callable(self._ids):
            self._ids = self._ids()
        return self._ids

    def __len__(self) -> int:
        return self.data._size

    def out_degree(self, weight: str | None = None) -> np.ndarray:
        """Out-degree (or out-strength: sum of edge field ``weight``) of the batch.

        Available in ``init`` only, where the whole graph is at hand; store it
        in a field if later phases need it.
        """
        return self._degree("out_degree", weight)

    def in_degree(self, weight: str | None = None) -> np.ndarray:
        """In-degree (or in-strength) of the batch; ``init`` only, like :meth:`out_degree`."""
        return self._degree("in_degree", weight)

    def _degree(self, which: str, weight: str | None) -> np.ndarray:
        g = self._graph
        if g is None:
            raise self.data._error(f"{which}() is available in init only; store it in a vertex field there")
        ends = g.src if which == "out_degree" else g.dst
        if weight is None:
            return self._degrees(which) if self._degrees is not None else count_keys(ends, g.num_vertices)
        if weight not in g.edge_data:
            raise self.data._error(f"no edge field {weight!r}; fields are {sorted(g.edge_data)}")
        return count_keys(ends, g.num_vertices, g.edge_data[weight])

    def signal(self, mask: Any = True, priority: Any = None) -> None:
        """Keep the vertices where ``mask`` is true active for the next superstep.

        The mask is read when ``signal`` is called: ``v.signal(v.data["flag"])``
        followed by ``v.data["flag"] = ...`` signals the old flags.

        ``priority`` (a number or one per vertex) is where they wait: the
        bucket they run in under ``bucket_width`` (lowest first), their
        place in the ``priority`` scheduler (highest first); without it they
        run at once (``-inf`` under ``bucket_width``); ``np.inf`` is no
        signal, as from ``scatter``.  A later call's priority replaces an
        earlier one's for the vertices it signals.
        """
        if isinstance(mask, (bool, np.bool_)):  # the common v.signal(): no broadcasting machinery
            mask = np.full(len(self), bool(mask))
        else:
            try:
                mask = np.broadcast_to(np.asarray(mask, dtype=bool), (len(self),))
            except ValueError:
                raise self.data._error(
                    f"signal(mask) needs a bool scalar or one bool per vertex ({len(self)}), got shape {np.shape(mask)}"
                ) from None
        if priority is not None:
            try:
                prio = np.broadcast_to(np.asarray(priority, dtype=np.float64), (len(self),))
            except (TypeError, ValueError):
                raise self.data._error(
                    f"signal(mask, priority) needs a number or one per vertex ({len(self)}), "
                    f"got {np.shape(priority)} {getattr(priority, 'dtype', type(priority).__name__)}"
                ) from None
            if np.isnan(prio[mask]).any():
                raise self.data._error("signal(mask, priority) got a NaN priority (np.inf: no signal)")
            mask = mask & (prio < np.inf)  # as from scatter: an infinite priority is no signal
            if self.signal_priority is None:
                self.signal_priority = np.full(len(self), -np.inf)
            self.signal_priority[mask] = prio[mask]
        # a copy, not a view: the mask may alias a field the caller assigns next
        self.signalled = mask.copy() if self.signalled is None else (self.signalled | mask)


class EdgeView:
    """A batch of edges seen from one end (the ``vertex``) towards the other (``nbr``).

    Attributes
    ----------
    src, dst : ndarray
        Global vertex numbers of the edges' endpoints.
    data : FieldMap
        Edge fields (assign in ``scatter`` to change them).
    src_data, dst_data : FieldMap
        Vertex fields of the endpoints (read-only).
    direction : EdgeSet
        ``IN`` when the batch is gathered/scattered by its ``dst`` (``vertex``
        is ``dst``, ``nbr`` is ``src``), ``OUT`` when by its ``src``.
    globals : Mapping
        Current values of the sync operations.
    """

    def __init__(
        self,
        src: Any,
        dst: Any,
        data: FieldMap,
        src_data: FieldMap,
        dst_data: FieldMap,
        direction: EdgeSet,
        globals: Mapping[str, Any],
        num_vertices: int,
        superstep: int,
    ):
        self._src = src
        self._dst = dst
        self.data = data
        self.src_data = src_data
        self.dst_data = dst_data
        self.direction = direction
        self.globals = globals
        self.num_vertices = num_vertices
        self.superstep = superstep

    def __len__(self) -> int:
        return self.data._size

    @property
    def src(self) -> np.ndarray:
        if callable(self._src):
            self._src = self._src()
        return self._src

    @property
    def dst(self) -> np.ndarray:
        if callable(self._dst):
            self._dst = self._dst()
        return self._dst

    @property
    def vertex(self) -> np.ndarray:
        """The vertex this gather/scatter runs for."""
        return self.dst if self.direction is IN else self.src

    @property
    def nbr(self) -> np.ndarray:
        """The other end of each edge."""
        return self.src if self.direction is IN else self.dst

    @property
    def vertex_data(self) -> FieldMap:
        return self.dst_data if self.direction is IN else self.src_data

    @property
    def nbr_data(self) -> FieldMap:
        return self.src_data if self.direction is IN else self.dst_data


#: Neutral elements of the usual combine ufuncs, by dtype kind.
def neutral_element(ufunc: np.ufunc, dtype: np.dtype) -> Any:
    """The value that leaves ``ufunc(x, value) == x`` for every ``x`` of ``dtype``.

    Examples
    --------
    >>> neutral_element(np.minimum, np.dtype(np.float64))
    inf
    >>> neutral_element(np.add, np.dtype(np.int32))
    0
    """
    dtype = np.dtype(dtype)
    if ufunc in (np.minimum, np.fmin):
        if dtype.kind == "f":
            return np.inf
        if dtype.kind == "b":
            return True
        return np.iinfo(dtype).max
    if ufunc in (np.maximum, np.fmax):
        if dtype.kind == "f":
            return -np.inf
        if dtype.kind == "b":
            return False
        return np.iinfo(dtype).min
    if ufunc is np.bitwise_and and dtype.kind in "iu":
        return ~dtype.type(0)
    if ufunc is np.lcm:
        return 1
    if ufunc.identity is not None:
        return ufunc.identity
    raise TypeError(f"combine ufunc {ufunc.__name__} has no neutral element for {dtype}")


#: Ufuncs a combine may be: commutative and associative, so that the fold
#: over a vertex's edges gives the same value however the edges are split
#: into parts and chunks.  (``np.subtract`` or ``np.divide`` would make the
#: answer depend on the number of parts.)
COMMUTATIVE_UFUNCS: tuple[np.ufunc, ...] = (
    np.add,
    np.multiply,
    np.minimum,
    np.maximum,
    np.fmin,
    np.fmax,
    np.logical_or,
    np.logical_and,
    np.logical_xor,
    np.bitwise_or,
    np.bitwise_and,
    np.bitwise_xor,
    np.gcd,
    np.lcm,
)


def fold_identity(program: VertexProgram, dtype: Any, method: str = "gather") -> Any:
    """The neutral element of ``program.combine`` for the values ``method`` returns.

    Raises a :class:`ProgramError` naming ``combine`` when the ufunc cannot
    fold values of that dtype (``np.bitwise_or`` or ``np.lcm`` of floats)
    or the values are no numbers (strings, objects), instead of numpy's
    error from deep inside the fold.

    Examples
    --------
    >>> class P(VertexProgram):
    ...     combine = np.bitwise_or
    >>> fold_identity(P(), np.int64)
    0
    >>> fold_identity(P(), np.float64)
    Traceback (most recent call last):
    ...
    gasengine.errors.ProgramError: P.combine: np.bitwise_or cannot fold the float64 values gather returns
    """
    combine, dtype = program.combine, np.dtype(dtype)
    if not isinstance(combine, np.ufunc):  # check_program allows only ufuncs and accumulators here
        return neutral_element(combine, dtype)
    try:
        if dtype.kind not in "biufc":
            raise TypeError("not a number")
        combine.resolve_dtypes((dtype, dtype, None))
        return neutral_element(combine, dtype)
    except (TypeError, ValueError):  # numpy's "no loop", or no neutral element for this dtype
        hint = "" if dtype.kind in "biufc" else " (gathered values must be numbers: bool, integer, float or complex)"
        raise ProgramError(
            program, "combine", f"np.{combine.__name__} cannot fold the {dtype} values {method} returns{hint}"
        ) from None


def converged_flag(program: VertexProgram, value: Any) -> bool:
    """What ``program.converged`` returned, as a bool; a ProgramError naming it for anything but one truth value.

    Examples
    --------
    >>> converged_flag(VertexProgram(), np.True_)
    True
    >>> converged_flag(VertexProgram(), np.array([True, False]))
    Traceback (most recent call last):
    ...
    gasengine.errors.ProgramError: VertexProgram.converged: must return a bool, got ndarray of shape (2,)
    """
    try:
        if np.ndim(value) == 0:
            return bool(value)
    except Exception:  # noqa: BLE001 - any failure of the program's value is the program's error
        pass
    raise ProgramError(
        program, "converged", f"must return a bool, got {type(value).__name__} of shape {np.shape(value)}"
    )


def check_combine(combine: Any, owner: object, attr: str = "combine", accumulators: bool = False) -> None:
    """Raise a ProgramError unless ``combine`` is one of :data:`COMMUTATIVE_UFUNCS`
    (or, with ``accumulators``, :data:`gasengine.count_by_key` or :data:`gasengine.collect`).

    Examples
    --------
    >>> check_combine(np.add, "MyProgram")
    >>> check_combine(np.subtract, "MyProgram")
    Traceback (most recent call last):
    ...
    gasengine.errors.ProgramError: MyProgram.combine: np.subtract is not commutative and associative; ...
    """
    from .accumulators import KEYED_COMBINES

    if accumulators and any(combine is c for c in KEYED_COMBINES):
        return
    names = ", ".join(f"np.{u.__name__}" for u in COMMUTATIVE_UFUNCS)
    if not isinstance(combine, np.ufunc) or combine.nin != 2 or combine.nout != 1:
        raise ProgramError(
            owner, attr, f"must be a binary numpy ufunc such as np.add or np.minimum ({names}); got {combine!r}"
        )
    if combine not in COMMUTATIVE_UFUNCS:
        raise ProgramError(
            owner,
            attr,
            f"np.{combine.__name__} is not commutative and associative; the fold must not depend on how "
            f"edges are split into parts. Use one of {names}",
        )


def check_pointer_fields(program: VertexProgram, fields: Mapping[str, np.ndarray]) -> None:
    """After ``init``: the fields ``pointer_reads``, ``pointer_writes``, ``nbr_writes`` and ``nbr_cond`` name
    exist and fit."""
    for name in program.master_fields:
        if name not in fields:
            raise ProgramError(
                program, "master_fields", f"no vertex field {name!r} (create it in init); fields are {sorted(fields)}"
            )
    served = {v for v, _ in program.nbr_writes.values() if isinstance(v, str)}
    if program.nbr_cond is not None:
        served.add(program.nbr_cond)
    served |= {f for spec in program.pointer_reads.values() for f in spec} | set(program.pointer_reads)
    served |= {f for spec in program.pointer_writes.values() for f in spec[:2]} | set(program.pointer_writes)
    clash = sorted(served & set(program.master_fields))
    if clash:
        raise ProgramError(
            program,
            "master_fields",
            f"{clash} must be on mirrors too (nbr_cond, nbr_writes or pointer fields read them)",
        )
    cond = program.nbr_cond
    if cond is not None and (cond not in fields or fields[cond].dtype != bool or fields[cond].ndim != 1):
        found = f"a {fields[cond].dtype} field of shape {fields[cond].shape[1:]}" if cond in fields else "no such field"
        raise ProgramError(
            program,
            "nbr_cond",
            f"must name a bool vertex field (one per vertex); {cond!r} is {found}; fields are {sorted(fields)}",
        )
    for target, (value, _) in program.nbr_writes.items():
        for name in (target, value) if isinstance(value, str) else (target,):
            if name not in fields:
                raise ProgramError(
                    program, "nbr_writes", f"no vertex field {name!r} (create it in init); fields are {sorted(fields)}"
                )
        t = fields[target]
        s = fields[value] if isinstance(value, str) else np.asarray(value)
        if t.ndim != 1 or s.ndim > 1 or not np.can_cast(s.dtype, t.dtype, casting="same_kind"):
            raise ProgramError(
                program,
                "nbr_writes",
                f"field {target!r} ({t.dtype}, per-vertex shape {t.shape[1:]}) cannot take offers of "
                f"{value!r} ({s.dtype}, {s.shape[1:]}): one number per vertex of a kind it holds",
            )
    entries = [(t, ids, src, "pointer_reads") for t, (ids, src) in program.pointer_reads.items()]
    entries += [(t, ids, val, "pointer_writes") for t, (ids, val, _) in program.pointer_writes.items()]
    for target, ids, source, attr in entries:
        for name in (target, ids, source):
            if name not in fields:
                raise ProgramError(
                    program, attr, f"no vertex field {name!r} (create it in init); fields are {sorted(fields)}"
                )
        t, s = fields[target], fields[source]
        if t.shape[1:] != s.shape[1:] or not np.can_cast(s.dtype, t.dtype, casting="same_kind"):
            raise ProgramError(
                program,
                attr,
                f"field {target!r} ({t.dtype}, per-vertex shape {t.shape[1:]}) cannot hold {source!r} "
                f"({s.dtype}, {s.shape[1:]})",
            )
        if fields[ids].ndim != 1 or fields[ids].dtype.kind not in "iu":
            raise ProgramError(program, attr, f"field {ids!r} must hold one integer vertex number per vertex")


def check_program(program: VertexProgram) -> None:
    """Validate a program's declarations before a run, naming what is wrong.

    Raises ``TypeError`` for something that is not a program instance,
    :class:`ProgramError` for a broken declaration, and warns
    (``UserWarning``) about a method that can never run.
    """
    if isinstance(program, type):
        raise TypeError(
            f"run() takes a program instance: run({program.__name__}(), graph), not the class {program.__name__}"
        )
    if not isinstance(program, VertexProgram):
        raise TypeError(f"run() takes a VertexProgram instance, got {type(program).__name__}")
    for attr in ("gather_edges", "scatter_edges"):
        value = getattr(program, attr)
        if not isinstance(value, EdgeSet):
            raise ProgramError(program, attr, f"must be one of NONE, IN, OUT, ALL; got {value!r}")
    check_combine(program.combine, program, accumulators=True)
    op = program.gather_edge_op
    if op is not None and (not isinstance(op, np.ufunc) or op.nin != 2):
        raise ProgramError(program, "gather_edge_op", f"must be a binary numpy ufunc; got {op!r}")
    reads = program.pointer_reads
    if not isinstance(reads, Mapping) or not all(
        isinstance(t, str) and isinstance(spec, tuple) and len(spec) == 2 and all(isinstance(f, str) for f in spec)
        for t, spec in reads.items()
    ):
        raise ProgramError(
            program, "pointer_reads", f"must map a field name to (ids field, source field); got {reads!r}"
        )
    writes = program.pointer_writes
    if not isinstance(writes, Mapping) or not all(
        isinstance(t, str) and isinstance(spec, tuple) and len(spec) == 3 and all(isinstance(f, str) for f in spec[:2])
        for t, spec in writes.items()
    ):
        raise ProgramError(
            program,
            "pointer_writes",
            f"must map a field name to (ids field, value field, combine ufunc); got {writes!r}",
        )
    for spec in writes.values():
        check_combine(spec[2], program, "pointer_writes")
    pushes = program.nbr_writes
    if not isinstance(pushes, Mapping) or not all(
        isinstance(t, str)
        and isinstance(spec, tuple)
        and len(spec) == 2
        and isinstance(spec[0], (str, numbers.Number, np.generic))
        for t, spec in pushes.items()
    ):
        raise ProgramError(
            program, "nbr_writes", f"must map a field name to (value field or number, combine ufunc); got {pushes!r}"
        )
    for push in pushes.values():
        check_combine(push[1], program, "nbr_writes")
    own = program.master_fields
    if not isinstance(own, (tuple, list, frozenset, set)) or not all(isinstance(f, str) for f in own):
        raise ProgramError(program, "master_fields", f"must be a tuple of vertex field names; got {own!r}")
    if program.nbr_cond is not None and not isinstance(program.nbr_cond, str):
        raise ProgramError(
            program, "nbr_cond", f"must be None or the name of a bool vertex field; got {program.nbr_cond!r}"
        )
    if pushes and program.scatter_edges is NONE:
        raise ProgramError(program, "nbr_writes", "pushes over scatter_edges, which is NONE; set IN, OUT or ALL")
    width = program.bucket_width
    if width is not None and not (isinstance(width, numbers.Real) and not isinstance(width, bool) and width > 0):
        # 0 divides by zero, and a negative width or NaN puts every priority in no bucket
        raise ProgramError(program, "bucket_width", f"must be None or a positive number; got {width!r}")
    defines = {name: getattr(type(program), name) is not getattr(VertexProgram, name) for name in ("gather", "scatter")}
    defines["gather"] = defines["gather"] or program.uses_nbr_gather()
    if defines["scatter"] and program.uses_nbr_signals():
        raise ProgramError(program, "signal_nbrs", "define either scatter or signal_nbrs, not both")
    defines["scatter"] = defines["scatter"] or program.uses_nbr_signals()
    if program.gather_edges is not NONE and not defines["gather"]:
        raise ProgramError(program, "gather", "gather_edges is set but neither gather nor gather_nbr is defined")
    for method, edges in (("gather", "gather_edges"), ("scatter", "scatter_edges")):
        if defines[method] and getattr(program, edges) is NONE:
            warnings.warn(
                f"{type(program).__name__}.{method} is defined but {edges} is NONE, so it never runs; "
                f"set {edges} = IN, OUT or ALL",
                UserWarning,
                stacklevel=3,
            )
