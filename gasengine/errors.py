"""Exceptions raised by gasengine.

Every error a user can provoke names *where* the problem is: the file and line
for bad input, the program class and method for a faulty vertex program, the
worker for a failed process.
"""

from __future__ import annotations


class GasEngineError(Exception):
    """Base class of every error raised by gasengine."""


class GraphFormatError(GasEngineError, ValueError):
    """A graph file or array could not be read.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str, optional
        The file being read.
    line : int, optional
        1-based line number in ``path`` where the problem was found.

    Examples
    --------
    >>> str(GraphFormatError("expected 2 columns, found 1", path="g.txt", line=7))
    'g.txt:7: expected 2 columns, found 1'
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class ProgramError(GasEngineError):
    """A vertex program broke its contract (bad return shape, unknown field, ...).

    The message always starts with ``ClassName.method:`` so the user knows
    which piece of their code to look at.
    """

    def __init__(self, program: object, method: str, message: str):
        self.program_name = type(program).__name__ if not isinstance(program, str) else program
        self.method = method
        super().__init__(f"{self.program_name}.{method}: {message}")


class WorkerFailed(GasEngineError):
    """A worker process died or raised; carries the worker's traceback text."""

    def __init__(self, worker: int, message: str, traceback_text: str = ""):
        self.worker = worker
        self.traceback_text = traceback_text
        text = f"worker {worker} failed: {message}"
        if traceback_text:
            text += "\n--- worker traceback ---\n" + traceback_text.rstrip()
        # Not super(): a subclass may also derive from ProgramError, whose
        # constructor takes other arguments.
        GasEngineError.__init__(self, text)


class ConvergenceError(GasEngineError):
    """An algorithm stopped (``max_supersteps``/``max_iter``, or ``timeout``) before it converged.

    Attributes
    ----------
    result : Result or None
        The unfinished run, for callers who want its partial values anyway.

    Examples
    --------
    >>> str(ConvergenceError("sssp did not converge within 3 supersteps"))
    'sssp did not converge within 3 supersteps'
    """

    def __init__(self, message: str, result: object = None):
        self.result = result
        if getattr(result, "timed_out", False):  # the budget was time, not steps
            message = f"the run stopped at its timeout, before it converged ({message})"
        super().__init__(message)


class EngineError(GasEngineError):
    """The engine broke one of its own invariants (a bug in gasengine, not in the program).

    Raised, for example, when a master and its mirrors disagree on which
    vertices are active; the message names the superstep, the exchange and
    the parts involved.
    """
