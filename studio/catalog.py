"""The composition root: which node families (and training paradigms) the application ships.

It sits above every layer so that ``studio.core`` stays a library of mechanisms that never names
the built-in ``nodes`` package; the editor, the command line, benchmarks and tests ask here.
"""

from __future__ import annotations

import threading

from studio.core.registry import Registry

_default: Registry | None = None
_lock = threading.Lock()


def default_registry() -> Registry:
    """The registry with every built-in node family (imports torch once, on first call)."""
    global _default
    with _lock:
        if _default is None:
            from nodes import all_specs

            _default = Registry(all_specs())
        return _default
