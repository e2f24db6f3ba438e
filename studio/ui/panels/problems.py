"""Problems of the current graph (validation + shape errors); clicking one selects its node."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.events import Event
from studio.core.validation import Issue, validate
from studio.ui.document import Document
from studio.ui.panels._common import debouncer, error_color, warning_color
from studio.ui.panels.target_fixes import FixBar, as_issues, target_issues

REFRESH_DELAY_MS = 250
_NODE_ROLE = Qt.ItemDataRole.UserRole + 1
_ORDER = {"error": 0, "warning": 1}


def collect_issues(document: Document, graph_id: str) -> list[Issue]:
    """validate(graph, registry, shapes); never raises (a failure is itself reported as a problem)."""
    graph = document.graph(graph_id)
    shapes = document.shapes(graph_id)
    try:
        return list(validate(graph, document.registry, shapes)) + as_issues(target_issues(document, graph_id))
    except Exception as exc:  # a validator bug must not take the panel down (nor reach Qt from a slot)
        return [Issue("error", f"validation failed: {type(exc).__name__}: {exc}")]


def severity_icon(severity: str, color: QColor, size: int = 16) -> QIcon:
    """A filled circle (error) or triangle (warning) with an exclamation mark."""
    pixmap = QPixmap(QSize(size, size))
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(color)
    if severity == "error":
        p.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    else:
        path = QPainterPath()
        path.moveTo(size / 2, 1)
        path.lineTo(size - 1, size - 2)
        path.lineTo(1, size - 2)
        path.closeSubpath()
        p.drawPath(path)
    p.setPen(QColor("white") if severity == "error" else QColor(30, 30, 30))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(int(size * 0.7))
    p.setFont(font)
    p.drawText(QRectF(0, 1 if severity == "error" else 2, size, size - 1), Qt.AlignmentFlag.AlignCenter, "!")
    p.end()
    return QIcon(pixmap)


class ProblemsPanel(QWidget):
    """List of issues (severity icon, message, node) for the current graph, live."""

    #: the user picked a problem that belongs to a node: (graph_id, node_id)
    node_activated = Signal(str, str)
    #: (errors, warnings) after each refresh, for a tab badge
    counts_changed = Signal(int, int)

    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.issues: list[Issue] = []
        self.summary = QLabel(self)
        self.summary.setIndent(4)
        self.list = QTreeWidget(self)
        self.list.setColumnCount(2)
        self.list.setHeaderLabels(["Problem", "Node"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setWordWrap(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setIconSize(QSize(14, 14))
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.list.itemClicked.connect(self._activate)
        self.list.itemActivated.connect(self._activate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.summary)
        layout.addWidget(self.list, 1)
        self.fixes = FixBar(document, self)  # one-click fixes of output-vs-target problems
        layout.addWidget(self.fixes)

        self._timer = debouncer(self, REFRESH_DELAY_MS, self.refresh)
        document.shapes_changed.connect(self._maybe_refresh)
        document.changed.connect(self._changed)
        document.current_graph_changed.connect(self._maybe_refresh)
        document.project_replaced.connect(lambda: self._maybe_refresh(document.current_graph_id))
        self.refresh()

    def _changed(self, event: Event) -> None:
        if event.kind in ("node_renamed", "graph_removed", "graph_added"):
            self._maybe_refresh(event.graph_id)

    def _maybe_refresh(self, graph_id: str | None = None) -> None:
        if graph_id is None or graph_id == self.document.current_graph_id:
            self._timer.start()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._timer.start()  # error colours and icons follow the theme

    def refresh(self) -> None:
        """Validate the current graph now and list what is wrong."""
        self._timer.stop()
        graph_id = self.document.current_graph_id
        try:
            graph = self.document.graph(graph_id)
        except KeyError:
            self.issues = []
            self.list.clear()
            return
        position = {nid: i for i, nid in enumerate(graph.nodes)}
        issues = sorted(collect_issues(self.document, graph_id),
                        key=lambda i: (_ORDER.get(i.severity, 2), position.get(i.node_id, -1)))
        self.issues = issues
        icons = {"error": severity_icon("error", error_color(self)),
                 "warning": severity_icon("warning", warning_color(self))}
        self.list.setUpdatesEnabled(False)
        self.list.clear()
        for issue in issues:
            node = graph.nodes.get(issue.node_id) if issue.node_id else None
            where = node.name if node else "—"
            item = QTreeWidgetItem([issue.message, where])
            item.setIcon(0, icons.get(issue.severity, icons["warning"]))
            item.setToolTip(0, f"{issue.severity}: {issue.message}")
            item.setToolTip(1, "Click to select this node" if node else "Not tied to one node")
            item.setData(0, _NODE_ROLE, issue.node_id if node else None)
            self.list.addTopLevelItem(item)
        self.list.setUpdatesEnabled(True)
        errors = sum(1 for i in issues if i.severity == "error")
        warnings = len(issues) - errors
        if not issues:
            self.summary.setText(f"No problems in <b>{graph.name}</b>.")
        else:
            parts = [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
            if warnings:
                parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
            self.summary.setText(f"{', '.join(parts)} in <b>{graph.name}</b>")
        self.fixes.refresh(graph_id)
        self.counts_changed.emit(errors, warnings)

    def _activate(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        node_id = item.data(0, _NODE_ROLE)
        if not node_id:
            return
        graph_id = self.document.current_graph_id
        self.document.set_selection(graph_id, [node_id])
        self.node_activated.emit(graph_id, node_id)

    def item_for(self, node_id: str, text: str = "") -> QTreeWidgetItem | None:
        """The first row about ``node_id`` whose message contains ``text``."""
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if item.data(0, _NODE_ROLE) == node_id and text in item.text(0):
                return item
        return None
