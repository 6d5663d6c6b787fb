"""Engines by name (PowerGraph's way): one vertex-program interface, three policies.

All three are :class:`~gasengine.step.GASStep` subclasses that only choose
batches: ``sync`` (:class:`~gasengine.sync_engine.SyncEngine`),
``chromatic`` (:class:`~gasengine.chromatic_engine.ChromaticEngine`) and
``async`` (:class:`~gasengine.async_engine.AsyncEngine`).  An
:class:`EngineSpec` says which one and with what options; it is small and
picklable, so the same spec builds the engine in every worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .async_engine import AsyncEngine
from .chromatic_engine import ChromaticEngine
from .step import GASStep
from .sync_engine import SyncEngine

ENGINES = ("sync", "chromatic", "async")


@dataclass(frozen=True)
class EngineSpec:
    """Which engine a run uses, and its options.

    Examples
    --------
    >>> EngineSpec("async", scheduler="priority", consistency="edge").name
    'async'
    """

    name: str = "sync"
    consistency: str = "edge"
    #: Colour of every vertex (the chromatic engine).
    colour: np.ndarray | None = None
    scheduler: str = "fifo"
    batch_size: int | None = None
    seed: int = 0
    num_parts: int = 1
    #: Stop after this many vertex updates (None: no budget).
    max_updates: int | None = None

    def build(self, *args: Any, **kwargs: Any) -> GASStep:
        """The engine, from :class:`~gasengine.step.GASStep`'s parameters."""
        if self.name == "chromatic":
            engine: GASStep = ChromaticEngine(*args, colour=self.colour, **kwargs)
        elif self.name == "async":
            engine = AsyncEngine(
                *args,
                scheduler=self.scheduler,
                consistency=self.consistency,
                batch_size=self.batch_size,
                seed=self.seed,
                num_parts=self.num_parts,
                **kwargs,
            )
        else:
            engine = SyncEngine(*args, **kwargs)
        engine.max_updates = self.max_updates
        return engine
