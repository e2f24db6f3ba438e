"""Build context for layer builders: shape inference builds on the meta device and must not load weights."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_shape_only: contextvars.ContextVar[bool] = contextvars.ContextVar("nnstudio_shape_only", default=False)


def shape_only() -> bool:
    """True while layers are built only to learn shapes (no weight files, no downloads)."""
    return _shape_only.get()


@contextlib.contextmanager
def building_for_shapes() -> Iterator[None]:
    token = _shape_only.set(True)
    try:
        yield
    finally:
        _shape_only.reset(token)
