"""Live view of the PyTorch code the current graph exports to.

Regenerated ~300 ms after the last change (and only while visible), read-only, highlighted,
with a copy button. When the exporter is missing or refuses the graph, the reason is shown in
place of the code; the panel never raises.
"""

from __future__ import annotations

import inspect
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.events import Event
from studio.ui.document import Document
from studio.ui.panels._common import debouncer, dim_color, error_color, is_dark
from studio.ui.panels.highlight import PythonHighlighter

REFRESH_DELAY_MS = 300
_QUIET_EVENTS = {"node_moved", "training_changed"}


def generate_code(document: Document, graph_id: str) -> tuple[str, str | None]:
    """(code, None) or (explanation, error message) for one graph; never raises."""
    try:
        graph = document.graph(graph_id)
    except KeyError as exc:
        return "", str(exc)
    try:
        from studio.compile.exporter import export_graph_code
    except ImportError as exc:
        return "", f"code export is not available in this build ({exc})"
    try:
        kwargs = {}
        if "shapes" in inspect.signature(export_graph_code).parameters:
            kwargs["shapes"] = document.shapes(graph_id)
        return export_graph_code(graph, document.registry, **kwargs), None
    except Exception as exc:  # the exporter names the node; any failure becomes text
        message = str(exc).strip() or type(exc).__name__
        return "", message


class CodePanel(QWidget):
    """Read-only, highlighted, live PyTorch code of the current graph."""

    #: emitted after each regeneration: (graph_id, ok)
    regenerated = Signal(str, bool)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._dirty = True
        self.error: str | None = None
        self.code = ""

        self.title = QLabel(self)
        self.status = QLabel(self)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.copy_button = QToolButton(self)
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the generated code to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 4, 0)
        bar.addWidget(self.title)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.copy_button)

        self.editor = QPlainTextEdit(self)
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(font.StyleHint.Monospace)
        self.editor.setFont(font)
        self.editor.setTabStopDistance(self.editor.fontMetrics().horizontalAdvance(" ") * 4)
        self.highlighter = PythonHighlighter(self.editor.document(), is_dark(self))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.editor, 1)

        self._timer = debouncer(self, REFRESH_DELAY_MS, self.refresh)
        document.changed.connect(self._changed)
        document.current_graph_changed.connect(lambda _g: self.schedule())
        document.project_replaced.connect(self.schedule)
        self.schedule()

    # -- scheduling -------------------------------------------------------------------------
    def _changed(self, event: Event) -> None:
        if event.kind in _QUIET_EVENTS:
            return
        if event.graph_id is None or event.graph_id == self.document.current_graph_id:
            self.schedule()

    def schedule(self) -> None:
        """Regenerate once changes settle (immediately on next show when hidden)."""
        self._dirty = True
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._dirty:
            self._timer.start(0)

    # -- generating -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Regenerate now."""
        self._timer.stop()
        self._dirty = False
        graph_id = self.document.current_graph_id
        started = time.perf_counter()
        code, error = generate_code(self.document, graph_id)
        elapsed = (time.perf_counter() - started) * 1000
        try:
            name = self.document.graph(graph_id).name
        except KeyError:
            name = "?"
        self.title.setText(f"<b>{name}</b>")
        self.error = error
        bar = self.editor.verticalScrollBar()
        hbar = self.editor.horizontalScrollBar()
        keep = (bar.value(), hbar.value())
        if error is None:
            self.code = code
            self.status.setText(f"{len(code.splitlines())} lines · generated in {elapsed:.0f} ms")
            self.status.setStyleSheet(f"color: {dim_color(self).name()};")
            if self.editor.toPlainText() != code:
                self.highlighter.set_dark(is_dark(self))
                self.highlighter.set_source(code)
        else:
            self.code = ""
            self.status.setText("cannot generate code")
            self.status.setStyleSheet(f"color: {error_color(self).name()};")
            text = (f"# The code for '{name}' cannot be generated yet:\n#\n"
                    + "\n".join(f"#   {line}" for line in error.splitlines())
                    + "\n#\n# Fix the problem (see the Problems panel) and the code appears here.\n")
            self.highlighter.set_source(text, highlight=True)
        self.copy_button.setEnabled(error is None)
        bar.setValue(min(keep[0], bar.maximum()))
        hbar.setValue(min(keep[1], hbar.maximum()))
        self.regenerated.emit(graph_id, error is None)

    def text(self) -> str:
        """What the view shows (code or the explanation of why there is none)."""
        return self.editor.toPlainText()

    def copy(self) -> None:
        if self._dirty:
            self.refresh()
        if self.code:
            QGuiApplication.clipboard().setText(self.code)
            self.status.setText("copied to the clipboard")

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and self.code:
            self.highlighter.set_dark(is_dark(self))
            self.highlighter.rehighlight()
