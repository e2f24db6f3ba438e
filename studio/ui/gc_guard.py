"""Cyclic garbage is collected on the GUI thread only.

Python's collector runs in whichever thread happens to allocate when a threshold is crossed. When
that is the training worker or an import thread and the garbage holds Qt objects (a closed dialog,
a replaced panel), their C++ side is destroyed off the GUI thread while the GUI thread still has
timers or events for them: a native crash, seen in long test runs. So, as PyQt/pyqtgraph
applications commonly do, automatic collection is switched off and a GUI-thread timer runs the
same generational collection instead. Plain reference counting, which frees almost everything
(tensors included), is untouched.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadGarbageCollector(QObject):
    """Replaces automatic gc with a check every ``interval_ms`` on the thread that created it."""

    def __init__(self, interval_ms: int = 250, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose counts passed their thresholds, as automatic gc would."""
        counts = gc.get_count()
        if counts[0] > self.threshold[0]:
            generation = 0
            if counts[1] > self.threshold[1]:
                generation = 2 if counts[2] > self.threshold[2] else 1
            gc.collect(generation)

    def stop(self) -> None:
        self.timer.stop()
        gc.enable()


_installed: GuiThreadGarbageCollector | None = None


def install(app: QObject) -> GuiThreadGarbageCollector:
    """Install once per process, owned by the application object (call on the GUI thread)."""
    global _installed
    if _installed is None:
        _installed = GuiThreadGarbageCollector(parent=app)
    return _installed
