"""pytest configuration.

``tests`` is a package (it has ``__init__.py``), so pytest puts the repository
root on ``sys.path`` and tests share helpers with ``from tests.datasets import ...``.
"""
