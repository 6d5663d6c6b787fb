"""Backends: how workers exchange data.  The engine sees only :class:`Backend`.

Each backend is a *transport* (the exchange primitives) beside a *launcher*
(placing parts, starting, watching and stopping workers, collecting results,
reporting failures), on top of what every launcher shares
(:mod:`gasengine.launcher`):

========================  =====================================  ==============================
backend                   transport                              launcher
========================  =====================================  ==============================
``local``                 :class:`LocalBackend` (:mod:`.local`)  :func:`gasengine.run` itself
``multiprocess``          :mod:`.multiprocess`                   :mod:`.processes`
``mpi``                   :mod:`.mpi_transport`                  :mod:`.mpi`
========================  =====================================  ==============================
"""

from .base import Backend
from .local import LocalBackend

__all__ = ["Backend", "LocalBackend"]
