"""The templates gallery shown on start: a picture drawn from each template's own graph and a one-line description."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.model import Graph
from studio.core.registry import Registry
from studio.ui import theme
from studio.ui.canvas.items import NODE_WIDTH
from studio.ui.style import category_color

THUMB = QSize(280, 150)
_PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def graph_thumbnail(graph: Graph, registry: Registry, size: QSize = THUMB, dark: bool = True) -> QPixmap:
    """A miniature of the graph: category-coloured boxes at the nodes' positions, lines for wires."""
    c = theme.DARK if dark else theme.LIGHT
    image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(c.background)
    nodes = list(graph.nodes.values())
    if nodes:
        xs = [n.position[0] for n in nodes]
        ys = [n.position[1] for n in nodes]
        box_h = 60.0
        bounds = QRectF(min(xs), min(ys), max(xs) - min(xs) + NODE_WIDTH, max(ys) - min(ys) + box_h)
        margin = 10.0
        scale = min((size.width() - 2 * margin) / bounds.width(), (size.height() - 2 * margin) / bounds.height(), 0.5)
        ox = margin + (size.width() - 2 * margin - bounds.width() * scale) / 2 - bounds.left() * scale
        oy = margin + (size.height() - 2 * margin - bounds.height() * scale) / 2 - bounds.top() * scale
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        w, h = NODE_WIDTH * scale, box_h * scale
        painter.setPen(QPen(c.wire, 1.2))
        for edge in graph.edges.values():
            a, b = graph.nodes.get(edge.src), graph.nodes.get(edge.dst)
            if a is None or b is None:
                continue
            painter.drawLine(int(ox + a.position[0] * scale + w), int(oy + a.position[1] * scale + h / 2),
                             int(ox + b.position[0] * scale), int(oy + b.position[1] * scale + h / 2))
        for node in nodes:
            spec = registry.find(node.type_id)
            colour = category_color(spec.category, dark) if spec else QColor(128, 128, 128)
            rect = QRectF(ox + node.position[0] * scale, oy + node.position[1] * scale, w, h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c.node_body)
            painter.drawRoundedRect(rect, 2, 2)
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(rect.left(), rect.top(), rect.width(), max(2.0, h * 0.35)), 2, 2)
        painter.end()
    return QPixmap.fromImage(image)


class GalleryDialog(QDialog):
    """Pick a template to start from (or an empty project)."""

    def __init__(self, registry: Registry, parent: QWidget | None = None, folder: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Start from a template")
        self.registry = registry
        self.chosen: Path | None = None
        self.list = QListWidget(self)
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(THUMB)
        self.list.setGridSize(QSize(THUMB.width() + 24, THUMB.height() + 70))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setWordWrap(True)
        self.list.setSpacing(6)
        self.list.itemActivated.connect(self._accept_item)
        intro = QLabel("Pick a template to start from, or start with an empty canvas.", self)
        buttons = QDialogButtonBox(self)
        self.open_button = buttons.addButton("Open template", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Empty project", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(lambda: self._accept_item(self.list.currentItem()))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(THUMB.width() * 3 + 120, THUMB.height() * 2 + 260)
        self.populate(folder)

    def populate(self, folder: Path | None = None) -> int:
        from studio.io.project_file import load_project
        from studio.io.templates import TEMPLATE_DIR, list_templates

        self.list.clear()
        dark = theme.current().dark
        for info in list_templates(folder or TEMPLATE_DIR):
            try:
                project = load_project(info.path, self.registry)
                icon = QIcon(graph_thumbnail(project.main_graph, self.registry, THUMB, dark))
            except Exception:  # a broken template still gets listed; opening it reports the error
                icon = QIcon()
            item = QListWidgetItem(icon, f"{info.title}\n{info.description}")
            item.setToolTip(f"<b>{info.title}</b><br>{info.description}")
            item.setData(_PATH_ROLE, str(info.path))
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self.open_button.setEnabled(self.list.count() > 0)
        return self.list.count()

    def _accept_item(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        self.chosen = Path(item.data(_PATH_ROLE))
        self.accept()
