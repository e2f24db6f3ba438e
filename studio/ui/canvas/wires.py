"""Wires between ports (bezier, labelled with the tensor shape), the temporary drag wire, group frames."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QStyleOptionGraphicsItem, QWidget

from studio.ui import theme

_LABEL_FONT = QFont()
_LABEL_FONT.setPointSizeF(7.5)
_LABEL_FM: QFontMetricsF | None = None
LOD_LABELS = 0.55
_SELECTABLE = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache


def bezier(p1: QPointF, p2: QPointF) -> QPainterPath:
    """An S-curve leaving p1 to the right and entering p2 from the left.

    A wire running backwards (into a node left of its source, e.g. across wrapped rows) takes a
    U-turn down to half height, runs back horizontally and turns into p2, instead of a huge S
    that would cut across every node in between.
    """
    path = QPainterPath(p1)
    if p2.x() >= p1.x() + 30 or abs(p2.y() - p1.y()) < 60:
        dx = max(abs(p2.x() - p1.x()) * 0.5, 40.0)
        path.cubicTo(QPointF(p1.x() + dx, p1.y()), QPointF(p2.x() - dx, p2.y()), p2)
        return path
    mid = (p1.y() + p2.y()) / 2
    r = 50.0
    path.cubicTo(QPointF(p1.x() + r, p1.y()), QPointF(p1.x() + r, mid), QPointF(p1.x(), mid))
    path.lineTo(QPointF(p2.x(), mid))
    path.cubicTo(QPointF(p2.x() - r, mid), QPointF(p2.x() - r, p2.y()), p2)
    return path


class WireItem(QGraphicsItem):
    """One edge. Endpoints are set by the scene (a member of a collapsed group wires to the group block)."""

    def __init__(self, edge_id: str) -> None:
        super().__init__()
        self.edge_id = edge_id
        self.p1 = QPointF()
        self.p2 = QPointF()
        self.label = ""
        self.error = False
        self.inner = False  # both ends inside one collapsed group: not shown
        self._path = QPainterPath()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setZValue(-1)
        self.setFlag(_SELECTABLE, True)
        # cached like the nodes: a repaint while panning blits instead of calling paint() per wire
        self.setCacheMode(_CACHE)

    def set_ends(self, p1: QPointF, p2: QPointF) -> None:
        if p1 == self.p1 and p2 == self.p2 and not self._path.isEmpty():
            return
        self.prepareGeometryChange()
        self.p1, self.p2 = QPointF(p1), QPointF(p2)
        self._path = bezier(self.p1, self.p2)
        self._place_label()

    def set_label(self, text: str) -> None:
        if text != self.label:
            self.prepareGeometryChange()
            self.label = text
            self._place_label()
            self.update()

    def _place_label(self) -> None:
        global _LABEL_FM
        if _LABEL_FM is None:
            _LABEL_FM = QFontMetricsF(_LABEL_FONT)
        mid = self._path.pointAtPercent(0.5)
        if self.label:
            w = _LABEL_FM.horizontalAdvance(self.label) + 8
            h = _LABEL_FM.height() + 2
            self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
        else:
            self._label_rect = QRectF()
        self._bounds = self._path.controlPointRect().united(self._label_rect).adjusted(-3, -3, 3, 3)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self._bounds

    def path(self) -> QPainterPath:
        return self._path

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(8)
        return stroker.createStroke(self._path)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = theme.current()
        lod = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        colour = c.wire_selected if self.isSelected() else (c.error if self.error else c.wire)
        if lod < LOD_LABELS:
            painter.setPen(QPen(colour, 0))  # cosmetic 1 px: cheap when zoomed out
            painter.drawPath(self._path)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(colour, 2.6 if self.isSelected() else 1.8))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label:
            painter.setPen(QPen(QColor(colour), 1))
            painter.setBrush(c.wire_label_bg)
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setFont(_LABEL_FONT)
            painter.setPen(c.wire_label_text)
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


class TempWire(QGraphicsPathItem):
    """The wire that follows the cursor while connecting; green over a valid port, red over a refused one."""

    def __init__(self, anchor: QPointF, from_output: bool) -> None:
        super().__init__()
        self.anchor = QPointF(anchor)
        self.from_output = from_output
        self.setZValue(10)
        self.set_state(None)
        self.update_to(anchor)

    def update_to(self, pos: QPointF) -> None:
        a, b = (self.anchor, pos) if self.from_output else (pos, self.anchor)
        self.setPath(bezier(a, b))

    def set_state(self, ok: bool | None) -> None:
        c = theme.current()
        colour = c.wire_selected if ok is None else (c.port_ok if ok else c.port_bad)
        pen = QPen(colour, 2.2)
        if ok is None:
            pen.setStyle(Qt.PenStyle.DashLine)
        self.setPen(pen)


class GroupFrameItem(QGraphicsItem):
    """An expanded group: a tinted frame with the group's name behind its member nodes."""

    TITLE = 22.0

    def __init__(self, group_id: str) -> None:
        super().__init__()
        self.group_id = group_id
        self.name = ""
        self.rect = QRectF()
        self.setZValue(-5)

    def sync(self, name: str, members_rect: QRectF) -> None:
        self.prepareGeometryChange()
        self.name = name
        self.rect = members_rect.adjusted(-14, -14 - self.TITLE, 14, 14)
        self.setToolTip(f"Group {name}: double-click the title to collapse it into one block")
        self.update()

    def title_rect(self) -> QRectF:
        return QRectF(self.rect.left(), self.rect.top(), self.rect.width(), self.TITLE)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        return self.rect.adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.title_rect())
        return path

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = theme.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(c.group_border, 1.5, Qt.PenStyle.DashLine))
        painter.setBrush(c.group_fill)
        painter.drawRoundedRect(self.rect, 10, 10)
        font = QFont()
        font.setPointSizeF(9)
        font.setBold(True)
        painter.setFont(font)
        colour = QColor(c.group_border)
        colour.setAlpha(255)
        painter.setPen(colour)
        painter.drawText(self.title_rect().adjusted(12, 0, -12, 0), Qt.AlignmentFlag.AlignVCenter,
                         f"▾ {self.name}")
