"""Build context for layer builders: shape inference builds on the meta device and must not load weights.

It also serialises meta-device work across threads. The editor infers shapes on the GUI thread
while a training run, the code view, an import or the start-up loader may do the same on their own
threads; torch initialises its Python meta kernels and decomposition tables lazily, and a crash was
seen once with two threads in them at the same time. One process-wide re-entrant lock costs a few
milliseconds of waiting at most and removes the race.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator

_shape_only: contextvars.ContextVar[bool] = contextvars.ContextVar("nnstudio_shape_only", default=False)

#: held while any thread runs layers on the meta device
META_LOCK = threading.RLock()


def shape_only() -> bool:
    """True while layers are built only to learn shapes (no weight files, no downloads)."""
    return _shape_only.get()


@contextlib.contextmanager
def building_for_shapes() -> Iterator[None]:
    with META_LOCK:
        token = _shape_only.set(True)
        try:
            yield
        finally:
            _shape_only.reset(token)
