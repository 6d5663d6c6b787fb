"""gasengine: a GraphLab/PowerGraph-style graph-parallel engine for Python."""

from .errors import ConvergenceError, GasEngineError, GraphFormatError, ProgramError, WorkerFailed
from .graph import Graph

__all__ = [
    "ConvergenceError",
    "GasEngineError",
    "Graph",
    "GraphFormatError",
    "ProgramError",
    "WorkerFailed",
]
