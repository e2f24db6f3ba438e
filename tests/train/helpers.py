"""Small projects for engine tests: the builders live in :mod:`tests.factories`."""

from tests.factories import chain, mlp, project

__all__ = ["chain", "mlp", "project"]
