"""Backends: how workers exchange data.  The engine sees only :class:`Backend`."""

from .base import Backend
from .local import LocalBackend

__all__ = ["Backend", "LocalBackend"]
