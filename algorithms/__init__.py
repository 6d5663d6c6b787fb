"""Graph algorithms written as gasengine vertex programs.

Each module holds one algorithm: the program class (read it, copy it, change
it) and one function that runs it and returns plain numpy results.
"""

from .connected_components import ConnectedComponentsProgram, connected_components
from .min_label import MinLabelProgram, min_label_components
from .pagerank import PageRankProgram, pagerank
from .sssp import SSSPProgram, sssp

__all__ = [
    "ConnectedComponentsProgram",
    "MinLabelProgram",
    "PageRankProgram",
    "SSSPProgram",
    "connected_components",
    "min_label_components",
    "pagerank",
    "sssp",
]
