"""gasengine: a GraphLab/PowerGraph-style graph-parallel engine for Python.

Write a :class:`VertexProgram` in gather-apply-scatter form, load a
:class:`Graph`, and :func:`run` it.  See ``docs/tutorial.md``.
"""

from . import cache, ratings
from .accumulators import KeyCounts, collect, count_by_key
from .aggregators import Aggregator
from .errors import ConvergenceError, EngineError, GasEngineError, GraphFormatError, ProgramError, WorkerFailed
from .execution import run
from .graph import Graph
from .ragged import Ragged, intersection_sizes
from .program import ALL, IN, NONE, OUT, EdgeSet, EdgeView, VertexProgram, VertexView
from .result import Result, StepStats, StepTable

__version__ = "0.1.0"

__all__ = [
    "KeyCounts",
    "count_by_key",
    "collect",
    "Ragged",
    "intersection_sizes",
    "cache",
    "ratings",
    "ALL",
    "IN",
    "NONE",
    "OUT",
    "Aggregator",
    "ConvergenceError",
    "EngineError",
    "EdgeSet",
    "EdgeView",
    "GasEngineError",
    "Graph",
    "GraphFormatError",
    "ProgramError",
    "Result",
    "StepStats",
    "StepTable",
    "VertexProgram",
    "VertexView",
    "WorkerFailed",
    "run",
]
