"""Distributed-ML mechanisms side by side, as vertex programs and sync operations (issue 17).

One problem (:class:`Problem`: L2 logistic regression or the lasso, dense or
scipy CSR data), split into shards, one shard per vertex
(:func:`shard`), and six ways to parallelise its solution:

=====================  ===========  ===========  ==================================================
mechanism              engine       consistency  where the model lives
=====================  ===========  ===========  ==================================================
:func:`bsp_sgd`        sync         any          value of a sync operation (all-reduce)
:func:`model_averaging` sync        any          local models on shards, average in a sync operation
:func:`easgd`          sync         any          local models on shards, centre in a sync operation
:func:`admm`           sync         any          local models + duals on shards, z in a sync operation
:func:`async_sgd`      async        edge         a server vertex joined to every shard
:func:`hogwild`        async        vertex       the same server vertex, no locks
:func:`model_parallel` sync         any          spread over feature vertices (examples x features)
=====================  ===========  ===========  ==================================================

:func:`compare_mechanisms` runs them on one split and budget and returns a
table; ``docs/mechanisms.md`` shows real output.

Examples
--------
>>> from algorithms.mechanisms import Problem, bsp_sgd, make_logistic
>>> X, y = make_logistic(100, 3)
>>> bsp_sgd(Problem("logistic", 0.01), X, y).converged
True
"""

from .admm import ADMMProgram, admm
from .async_sgd import AsyncSGDProgram, async_sgd
from .averaging import ModelAveragingProgram, model_averaging
from .base import MechanismResult
from .bsp_sgd import BSPSGDProgram, bsp_sgd
from .compare import MECHANISMS, MechanismTable, compare_mechanisms
from .easgd import EASGDProgram, easgd
from .hogwild import HogwildProgram, hogwild
from .model_parallel import CoordinateDescentProgram, model_parallel
from .problems import (
    DivergenceError,
    Problem,
    Shards,
    make_lasso,
    make_logistic,
    reference_solution,
    shard,
)

__all__ = [
    "MECHANISMS",
    "ADMMProgram",
    "AsyncSGDProgram",
    "BSPSGDProgram",
    "CoordinateDescentProgram",
    "DivergenceError",
    "EASGDProgram",
    "HogwildProgram",
    "MechanismResult",
    "MechanismTable",
    "ModelAveragingProgram",
    "Problem",
    "Shards",
    "admm",
    "async_sgd",
    "bsp_sgd",
    "compare_mechanisms",
    "easgd",
    "hogwild",
    "make_lasso",
    "make_logistic",
    "model_averaging",
    "model_parallel",
    "reference_solution",
    "shard",
]
