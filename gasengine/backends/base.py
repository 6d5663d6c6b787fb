"""The exchange primitives every backend provides (DESIGN §4).

The engine loop is written once against this interface and runs unchanged in
every worker (SPMD): a backend only moves data between workers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np


class Backend(ABC):
    """Collective operations among ``size`` workers; this one is ``rank``.

    Examples
    --------
    >>> from gasengine.backends import LocalBackend
    >>> b = LocalBackend()
    >>> b.alltoall([{"x": 1}])
    [{'x': 1}]
    """

    rank: int = 0
    size: int = 1

    @abstractmethod
    def alltoall(self, send: list[Any]) -> list[Any]:
        """Send ``send[w]`` to worker ``w``; return what each worker sent here."""

    def allreduce(self, value: np.ndarray, op: np.ufunc) -> np.ndarray:
        """Fold ``value`` over all workers with ``op``; every worker gets the result.

        Folded in rank order from one :meth:`alltoall`, so every worker gets the same bits."""
        values = self.alltoall([value] * self.size)
        total = np.asarray(values[0])
        for v in values[1:]:
            total = op(total, v)
        return total

    def bcast(self, value: Any, root: int = 0) -> Any:
        """``root``'s value, on every worker."""
        return self.alltoall([value if self.rank == root else None] * self.size)[root]

    def barrier(self) -> None:
        """Wait until every worker reaches this point."""
        self.alltoall([None] * self.size)

    #: Whether :meth:`bytes_sent` counts what the transport really sends (then the step statistics use it).
    counts_bytes = False

    def bytes_sent(self) -> int:
        """Bytes this worker has sent to other workers so far."""
        return 0
