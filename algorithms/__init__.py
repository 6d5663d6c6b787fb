"""Graph algorithms written as gasengine vertex programs.

Each module holds one algorithm: the program class (read it, copy it, change
it) and one function that runs it and returns plain numpy results.
"""

from .pagerank import PageRankProgram, pagerank

__all__ = ["PageRankProgram", "pagerank"]
