"""Graph algorithms written as gasengine vertex programs.

Each module holds one algorithm: the program class (read it, copy it, change
it) and one function that runs it and returns plain numpy results.
"""

from .als import ALSModel, ALSProgram, als, bias_baseline
from .belief_propagation import BeliefPropagationProgram, belief_propagation
from .connected_components import ConnectedComponentsProgram, connected_components
from .diameter import (
    DiameterEstimate,
    HyperANFProgram,
    approximate_diameter,
    neighbourhood_function,
)
from .gibbs import GibbsIsingProgram, gibbs_ising
from .greedy_color import GreedyColorProgram, greedy_color
from .k_core import CoreNumberProgram, core_number
from .kmeans import KMeansProgram, KMeansResult, kmeans
from .label_propagation import LabelPropagationProgram, label_propagation
from .min_label import MinLabelProgram, min_label_components
from .pagerank import DeltaPageRankProgram, PageRankProgram, pagerank
from .sgd_mf import SGDMFModel, SGDMFProgram, sgd_mf
from .sssp import SSSPProgram, sssp
from .triangles import (
    NeighbourSets,
    TriangleCount,
    average_clustering,
    clustering,
    triangles,
)

__all__ = [
    "ALSModel",
    "ALSProgram",
    "BeliefPropagationProgram",
    "ConnectedComponentsProgram",
    "CoreNumberProgram",
    "DeltaPageRankProgram",
    "DiameterEstimate",
    "GibbsIsingProgram",
    "GreedyColorProgram",
    "HyperANFProgram",
    "KMeansProgram",
    "KMeansResult",
    "LabelPropagationProgram",
    "MinLabelProgram",
    "NeighbourSets",
    "PageRankProgram",
    "SGDMFModel",
    "SGDMFProgram",
    "SSSPProgram",
    "TriangleCount",
    "als",
    "approximate_diameter",
    "average_clustering",
    "belief_propagation",
    "bias_baseline",
    "clustering",
    "connected_components",
    "core_number",
    "gibbs_ising",
    "greedy_color",
    "kmeans",
    "label_propagation",
    "min_label_components",
    "neighbourhood_function",
    "pagerank",
    "sgd_mf",
    "sssp",
    "triangles",
]
