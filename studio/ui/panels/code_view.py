"""Live view of the PyTorch code the current graph exports to.

Regenerated ~300 ms after the last change (and only while visible), read-only, highlighted,
with a copy button. When the exporter refuses the graph, the reason is shown in place of the
code; the panel never raises. Big graphs export on a snapshot, as a task of the panel's runner.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

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

from studio.compile.exporter import export_graph_code
from studio.core.events import Event
from studio.core.model import Graph
from studio.core.registry import Registry
from studio.core.shapes import GraphShapes
from studio.ui.document import Document
from studio.ui.panels._common import debouncer, dim_color, error_color, is_dark
from studio.ui.panels.highlight import PythonHighlighter, Spans, lex_python
from studio.ui.tasks import TaskRunner

REFRESH_DELAY_MS = 300
#: bigger graphs export in a worker thread (a 1,000-node export takes about a second)
ASYNC_NODES = 150
#: longer code is shown without highlighting (lexing is ~0.1 s per 1,000 lines)
MAX_HIGHLIGHT_CHARS = 400_000
_QUIET_EVENTS = {"node_moved", "training_changed"}


def generate_code(graph: Graph, registry: Registry, shapes: GraphShapes | None = None) -> tuple[str, str | None]:
    """(code, None) or ("", why not) for one graph; never raises. No Qt: runs in a worker too."""
    try:
        return export_graph_code(graph, registry, shapes), None
    except Exception as exc:  # the exporter names the node; any failure becomes text
        return "", str(exc).strip() or type(exc).__name__



def snapshot_graph(graph: Graph) -> Graph:
    """A copy of ``graph`` a worker can read while the user edits it.

    Edges are frozen and shared; nodes and groups are copied, params deep only where a value is
    a container. A generic deepcopy of a 60k-node graph took seconds on the UI thread.
    """
    nodes = {}
    for node_id, node in graph.nodes.items():
        twin = copy.copy(node)
        params = node.params
        twin.params = copy.deepcopy(params) if any(isinstance(v, list | dict | set) for v in params.values()) \
            else dict(params)
        if node.placeholder is not None:
            twin.placeholder = copy.deepcopy(node.placeholder)
        nodes[node_id] = twin
    groups = {gid: copy.copy(g) for gid, g in graph.groups.items()}
    return Graph(graph.name, graph.id, nodes, dict(graph.edges), groups)

@dataclass
class _Result:
    generation: int
    graph_id: str
    code: str
    error: str | None
    spans: Spans | None
    elapsed_ms: float


def _job(generation: int, graph: Graph, registry: Registry, shapes: GraphShapes | None) -> _Result:
    started = time.perf_counter()
    code, error = generate_code(graph, registry, shapes)
    spans = lex_python(code) if error is None and len(code) < MAX_HIGHLIGHT_CHARS else None
    return _Result(generation, graph.id, code, error, spans, (time.perf_counter() - started) * 1000)


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
        self._generation = 0
        self._pending = False
        #: graphs with more nodes than this are exported on a snapshot, as a background task
        self.async_threshold = ASYNC_NODES
        self.tasks = TaskRunner(self, name="nnstudio-code-view")

        self.title = QLabel(self)
        self.status = QLabel(self)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.copy_button = QToolButton(self)
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the generated code to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 4, 0)
        bar.setSpacing(10)
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
        self._theme_timer = debouncer(self, 0, self._retheme)
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

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().hideEvent(event)
        self._timer.stop()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._dirty:
            self._timer.start(0)

    # -- generating -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Regenerate now: in place for small graphs, on a snapshot in a worker for big ones."""
        self._timer.stop()
        self._dirty = False
        self._generation += 1
        graph_id = self.document.current_graph_id
        try:
            graph = self.document.graph(graph_id)
        except KeyError as exc:
            self._apply(_Result(self._generation, graph_id, "", str(exc), None, 0.0))
            return
        shapes = self.document.shapes(graph_id)
        if len(graph.nodes) <= self.async_threshold:
            self._apply(_job(self._generation, graph, self.document.registry, shapes))
            return
        if self.tasks.busy:
            self._pending = True  # one job at a time; the newest state is generated next
            return
        snapshot = snapshot_graph(graph)  # edits during the export cannot race it
        self.status.setText("generating…")
        registry, generation = self.document.registry, self._generation
        self.tasks.submit(lambda: _job(generation, snapshot, registry, shapes), self._worker_done,
                          self._worker_failed)

    def _worker_done(self, result: _Result) -> None:
        self._apply(result)  # dropped when a newer state was asked for meanwhile
        if self._pending:
            self._pending = False
            self.refresh()

    def _apply(self, result: _Result) -> None:
        if result.generation != self._generation:
            return  # a newer state is on its way
        try:
            name = self.document.graph(result.graph_id).name
        except KeyError:
            name = "?"
        self.title.setText(f"<b>{name}</b>")
        self.error = result.error
        bar = self.editor.verticalScrollBar()
        hbar = self.editor.horizontalScrollBar()
        keep = (bar.value(), hbar.value())
        if result.error is None:
            self.code = result.code
            self.status.setText(f"{len(result.code.splitlines())} lines · generated in {result.elapsed_ms:.0f} ms")
            self.status.setStyleSheet(f"color: {dim_color(self).name()};")
            if self.editor.toPlainText() != result.code:
                self.highlighter.set_dark(is_dark(self))
                self.highlighter.set_source(result.code, highlight=result.spans is not None, spans=result.spans)
        else:
            self.code = ""
            self.status.setText("cannot generate code")
            self.status.setStyleSheet(f"color: {error_color(self).name()};")
            text = (f"# The code for '{name}' cannot be generated yet:\n#\n"
                    + "\n".join(f"#   {line}" for line in result.error.splitlines())
                    + "\n#\n# Fix the problem (see the Problems panel) and the code appears here.\n")
            self.highlighter.set_source(text)
        self.copy_button.setEnabled(result.error is None)
        bar.setValue(min(keep[0], bar.maximum()))
        hbar.setValue(min(keep[1], hbar.maximum()))
        self.regenerated.emit(result.graph_id, result.error is None)

    def _worker_failed(self, message: str) -> None:  # _job never raises; this is a bug's last word
        self._apply(_Result(self._generation, self.document.current_graph_id, "", message, None, 0.0))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until a background export finished and its result was shown (tests, closing)."""
        return self.tasks.wait(int(timeout * 1000))

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
        if event.type() == event.Type.PaletteChange:
            self._theme_timer.start()

    def _retheme(self) -> None:
        self.highlighter.set_dark(is_dark(self))
        self.highlighter.rehighlight()
        colour = error_color(self) if self.error else dim_color(self)
        self.status.setStyleSheet(f"color: {colour.name()};")
