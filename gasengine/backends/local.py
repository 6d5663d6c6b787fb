"""The reference backend: one worker, every part in this process, in order."""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Backend


class LocalBackend(Backend):
    """A single worker; collectives are identities.  Deterministic.

    Examples
    --------
    >>> import numpy as np
    >>> LocalBackend().allreduce(np.array([1, 2]), np.add).tolist()
    [1, 2]
    """

    rank = 0
    size = 1

    def alltoall(self, send: list[Any]) -> list[Any]:
        return list(send)

    def allreduce(self, value: np.ndarray, op: np.ufunc) -> np.ndarray:
        return value

    def bcast(self, value: Any, root: int = 0) -> Any:
        return value

    def barrier(self) -> None:
        return None
