"""Short background jobs (dataset preview, evaluation, activations, predictions) off the GUI thread.

A :class:`TaskRunner` owns its own one-thread ``QThreadPool``, so jobs that share a model run
one after another, never concurrently; results come back to the GUI thread through a queued
signal. A job that raises hands back its message instead of dying in a pool thread.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    # one tuple (result, error message or None): passing a bare None through a queued ``object``
    # signal upsets PySide's reference counting ("deallocating None" at exit)
    done = Signal(object)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.fn, self.relay = fn, relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result, error = self.fn(), None
        except Exception as exc:  # noqa: BLE001 - reported to the GUI as text
            result = None
            error = str(exc) or type(exc).__name__
            if not str(exc):
                error += "\n" + traceback.format_exc(limit=3)
        self.relay.done.emit((result, error))


class TaskRunner(QObject):
    """``submit(fn, on_result, on_error)``: run ``fn()`` in the background, call back on the GUI thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._relays: set[_Relay] = set()

    def submit(self, fn: Callable[[], Any], on_result: Callable[[Any], None],
               on_error: Callable[[str], None] | None = None) -> None:
        relay = _Relay()
        self._relays.add(relay)

        def finish(outcome: tuple[Any, str | None]) -> None:
            result, error = outcome
            self._relays.discard(relay)
            relay.deleteLater()
            if error is None:
                on_result(result)
            elif on_error is not None:
                on_error(error)

        relay.done.connect(finish)
        self.pool.start(_Job(fn, relay))

    @property
    def busy(self) -> bool:
        return bool(self._relays)

    def wait(self, msecs: int = -1) -> bool:
        return self.pool.waitForDone(msecs)
