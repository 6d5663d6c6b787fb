"""Hogwild! (Niu, Recht, Re and Wright 2011): asynchronous SGD without locks, on the async engine.

The same parameter-server program as :mod:`algorithms.mechanisms.async_sgd`
(:class:`~algorithms.mechanisms.async_sgd.AsyncSGDProgram`), run under
``consistency="vertex"`` and with no staleness bound: the engine takes no
scope locks, so the server and the shards run in the same rounds, the
shards read the model the server is updating in that very round, and the
server reads the pushes of the round before.  Every such adjacent pair
that ran together is a data race, which the engine counts
(``MechanismResult.conflicts``).  In Hogwild! the races are concurrent
reads and writes of one shared model; here they are stale reads: each
vertex writes only its own fields and the server applies *cumulative*
gradient sums, so a race delays a gradient by a round and loses nothing.

Examples
--------
>>> import numpy as np
>>> from algorithms.mechanisms.problems import Problem, make_logistic
>>> X, y = make_logistic(100, 3)
>>> r = hogwild(Problem("logistic", 0.01), X, y, num_shards=4, epochs=20)
>>> r.conflicts > 0, r.staleness_mean > 0
(True, True)
"""

from __future__ import annotations

from typing import Any

from gasengine import rank_zero

from .async_sgd import AsyncSGDProgram, async_sgd
from .base import MechanismResult
from .problems import Problem

__all__ = ["HogwildProgram", "hogwild"]

#: The program is the parameter-server one; what makes it Hogwild is the consistency it runs under.
HogwildProgram = AsyncSGDProgram


@rank_zero
def hogwild(
    problem: Problem,
    X: Any,
    y: Any,
    num_shards: int = 4,
    lr: float | None = None,
    batch_fraction: float = 1.0,
    epochs: int = 500,
    straggler: float = 1.0,
    scheduler: str = "fifo",
    seed: int = 0,
    **options: Any,
) -> MechanismResult:
    """Lock-free asynchronous SGD: :func:`~algorithms.mechanisms.async_sgd.async_sgd` under vertex consistency.

    Parameters are those of :func:`~algorithms.mechanisms.async_sgd.async_sgd`
    without ``staleness`` (unbounded) and ``consistency`` (``"vertex"``).

    Returns
    -------
    MechanismResult
        With ``conflicts``: the races the engine counted.

    Examples
    --------
    >>> import numpy as np
    >>> from algorithms.mechanisms.problems import Problem, make_logistic
    >>> X, y = make_logistic(100, 3)
    >>> hogwild(Problem("logistic", 0.01), X, y, epochs=5).mechanism
    'hogwild'
    """
    return async_sgd(
        problem,
        X,
        y,
        num_shards,
        lr=lr,
        staleness=None,
        batch_fraction=batch_fraction,
        epochs=epochs,
        straggler=straggler,
        consistency="vertex",
        scheduler=scheduler,
        seed=seed,
        name="hogwild",
        **options,
    )
