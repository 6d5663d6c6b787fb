"""gasengine: a GraphLab/PowerGraph-style graph-parallel engine for Python.

Write a :class:`VertexProgram` in gather-apply-scatter form, load a
:class:`Graph`, and :func:`run` it.  See ``docs/tutorial.md``.

The names below are imported on first use (PEP 562): networkx reads this
package's backend information while it imports itself, and must not pay
for numpy kernels, numba and scipy it does not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load on first use
    from . import cache, ratings
    from .accumulators import KeyCounts, collect, count_by_key
    from .aggregators import Aggregator
    from .backends.mpi import rank_zero
    from .errors import ConvergenceError, EngineError, GasEngineError, GraphFormatError, ProgramError, WorkerFailed
    from .execution import run
    from .graph import Graph
    from .program import ALL, IN, NONE, OUT, EdgeSet, EdgeView, VertexProgram, VertexView
    from .ragged import Ragged, intersection_sizes
    from .result import Result, StepStats, StepTable

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_HOMES = {
    "KeyCounts": "accumulators",
    "collect": "accumulators",
    "count_by_key": "accumulators",
    "Ragged": "ragged",
    "intersection_sizes": "ragged",
    "Aggregator": "aggregators",
    "ConvergenceError": "errors",
    "EngineError": "errors",
    "GasEngineError": "errors",
    "GraphFormatError": "errors",
    "ProgramError": "errors",
    "WorkerFailed": "errors",
    "run": "execution",
    "rank_zero": "backends.mpi",
    "Graph": "graph",
    "ALL": "program",
    "IN": "program",
    "NONE": "program",
    "OUT": "program",
    "EdgeSet": "program",
    "EdgeView": "program",
    "VertexProgram": "program",
    "VertexView": "program",
    "Result": "result",
    "StepStats": "result",
    "StepTable": "result",
}
_SUBMODULES = ("cache", "ratings")

__all__ = [*_HOMES, *_SUBMODULES]  # noqa: PLE0604 - the lazy table's names, strings all


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        value = getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'gasengine' has no attribute {name!r}")
    globals()[name] = value  # once: later reads find it directly
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
