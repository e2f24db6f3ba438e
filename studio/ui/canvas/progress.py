"""Progress while the canvas of a big project is built.

Building 120k items for a 60k-node file takes seconds; the scene reports every chunk of nodes
and wires to a callback set here, and :func:`open_progress` turns those reports into a modal
progress dialog that keeps the window painting (user input waits until the canvas is whole, so
nothing can edit a half-built scene). Small projects never see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

#: items (nodes + wires) built between two reports
BUILD_CHUNK = 2_000
#: projects with more nodes than this open behind a progress dialog
PROGRESS_NODES = 5_000
#: panel refreshes held during the build restart this far apart
STAGGER_MS = 100

_report: Callable[[int, int], None] | None = None


def report(done: int, total: int) -> None:
    """Called by the scene while it builds: ``done`` of ``total`` items exist."""
    if _report is not None:
        _report(done, total)


@contextmanager
def reporting(callback: Callable[[int, int], None] | None) -> Iterator[None]:
    """Send the build reports of the scenes made inside the block to ``callback``."""
    global _report
    previous, _report = _report, callback
    try:
        yield
    finally:
        _report = previous


@contextmanager
def open_progress(parent: QWidget, nodes: int, label: str = "Building the canvas…") -> Iterator[None]:
    """A modal progress dialog for building ``nodes`` nodes' items, when there are enough to wait for."""
    if nodes <= PROGRESS_NODES:
        yield
        return
    dialog = QProgressDialog(label, "", 0, 0, parent)
    dialog.setWindowTitle("Opening")
    dialog.setCancelButton(None)  # a half-built canvas is not a state to stop in
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoReset(False)
    dialog.setAutoClose(False)

    def step(done: int, total: int) -> None:
        if dialog.maximum() != total:
            dialog.setMaximum(total)
        dialog.setValue(done)
        dialog.setLabelText(f"{label}\n{done:,} of {total:,} items")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)

    # panels that were about to refresh wait for the whole canvas: run now, mid-build, they would
    # run again right after it (each one a pass over every node)
    held = [t for t in parent.findChildren(QTimer) if t.isActive() and t.isSingleShot()]
    for timer in held:
        timer.stop()
    dialog.show()
    step(0, 1)
    try:
        with reporting(step):
            yield
    finally:
        dialog.close()
        dialog.deleteLater()
        for i, timer in enumerate(held):
            try:
                if not timer.isActive():  # one after another, the window painting in between
                    QTimer.singleShot(i * STAGGER_MS, timer, timer.start)
            except RuntimeError:  # deleted meanwhile (its panel closed)
                pass
