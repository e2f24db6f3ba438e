"""Canvas blocks: a layer node, and a collapsed group shown as one block.

Ports are painted by the block itself (no child items) and found by geometry; with 1,000 nodes
that keeps the scene small. Each block caches its painting in device coordinates and drops to a
cheap level of detail when zoomed far out.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from studio.core.model import Node, identifier
from studio.core.shapes import NodeShapes
from studio.core.spec import NodeSpec
from studio.ui import theme
from studio.ui.canvas.heat_overlay import paint_overlay
from studio.ui.style import category_color

if TYPE_CHECKING:
    from studio.ui.canvas.scene import GraphScene

NODE_WIDTH = 176.0
HEADER = 24.0
ROW = 17.0
PAD = 6.0
PORT_R = 5.0
PORT_HIT = 9.0
GRID = 20.0
#: below this zoom level nodes are drawn as plain coloured boxes
LOD_SIMPLE = 0.35
_POS_CHANGE = QGraphicsItem.GraphicsItemChange.ItemPositionChange
_POS_CHANGED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
_BLOCK_FLAGS = (QGraphicsItem.GraphicsItemFlag.ItemIsSelectable | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache

_TITLE_FONT = QFont()
_TITLE_FONT.setPointSizeF(9.0)
_TITLE_FONT.setBold(True)
_TEXT_FONT = QFont()
_TEXT_FONT.setPointSizeF(8.0)
_SMALL_FONT = QFont()
_SMALL_FONT.setPointSizeF(7.5)


def format_count(n: int) -> str:
    """12 -> '12', 12_345 -> '12.3k', 1_234_567 -> '1.23M'."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000_000:
        return f"{n / 1e6:.2f}M"
    return f"{n / 1e9:.2f}G"


def format_value(value: Any) -> str:
    if value is None:
        return "auto"
    if isinstance(value, list | tuple):
        return "×".join(format_value(v) for v in value) if value else "()"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


_FACES: dict[int, tuple[NodeSpec, list, list, list]] = {}


def _face(spec: NodeSpec) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """(inputs, outputs, key params as (name, label)) of a node type, worked out once per spec: a 60k-node
    file has a few types. The lists are shared between items and never changed in place."""
    face = _FACES.get(id(spec))
    if face is None or face[0] is not spec:  # the spec is held, so its id is not reused meanwhile
        inputs = [(p.name, p.name if len(spec.inputs) > 1 or p.name != "in" else "") for p in spec.inputs]
        outputs = [(p.name, p.name if len(spec.outputs) > 1 or p.name != "out" else "") for p in spec.outputs]
        shown = [(name, spec.param(name).display_label) for name in spec.key_params if spec.has_param(name)]
        face = _FACES[id(spec)] = (spec, inputs, outputs, shown)
    return face[1], face[2], face[3]


class BlockItem(QGraphicsItem):
    """Shared geometry of anything with input ports on the left and output ports on the right."""

    kind = "block"

    def __init__(self, scene_ref: GraphScene, pos: tuple[float, float] | None = None) -> None:
        super().__init__()
        if pos is not None:  # placed before it sends geometry changes: no itemChange round trip
            self.setPos(*pos)
        self.canvas = scene_ref
        self.inputs: list[tuple[str, str]] = []  # (port key, label)
        self.outputs: list[tuple[str, str]] = []
        self.width = NODE_WIDTH
        self.height = HEADER + ROW
        self._bounds = QRectF()
        self._bounds_for: tuple[float, float] | None = None
        self.setFlags(_BLOCK_FLAGS)
        self.setCacheMode(_CACHE)  # hover events are off by default

    # -- geometry -------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        # called thousands of times per frame: hand back a prepared rect
        if self._bounds_for != (self.width, self.height):
            self._bounds_for = (self.width, self.height)
            self._bounds = QRectF(-PORT_R - 2, -2, self.width + 2 * PORT_R + 4, self.height + 4)
        return self._bounds

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(QRectF(-PORT_HIT, 0, self.width + 2 * PORT_HIT, self.height))
        return path

    def port_pos(self, key: str, output: bool) -> QPointF:
        """Local position of a port's centre."""
        ports = self.outputs if output else self.inputs
        for i, (k, _label) in enumerate(ports):
            if k == key:
                return QPointF(self.width if output else 0.0, HEADER + ROW * (i + 0.5) + 2)
        return QPointF(self.width if output else 0.0, HEADER / 2)

    def port_scene_pos(self, key: str, output: bool) -> QPointF:
        # blocks are top-level and never rotated or scaled: position + offset (mapToScene is slow)
        return self.pos() + self.port_pos(key, output)

    def port_at(self, scene_pos: QPointF) -> tuple[str, bool] | None:
        """(port key, is_output) under a scene position, if any."""
        local = self.mapFromScene(scene_pos)
        for output, ports in ((False, self.inputs), (True, self.outputs)):
            for key, _label in ports:
                p = self.port_pos(key, output)
                if (p - local).manhattanLength() <= PORT_HIT * 1.4:
                    return key, output
        return None

    # -- moving ---------------------------------------------------------------------------
    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:  # noqa: N802
        # called ~8 times per item while a file opens: module constants, no call into the base class
        # (whose itemChange hands the value back unchanged)
        if change == _POS_CHANGE:
            if self.canvas.snap_to_grid and self.canvas.user_dragging:
                return QPointF(round(value.x() / GRID) * GRID, round(value.y() / GRID) * GRID)
        elif change == _POS_CHANGED:
            self.canvas.block_moved(self)
        return value

    # -- painting helpers -----------------------------------------------------------------
    def _lod(self, painter: QPainter) -> float:
        return QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())

    def _paint_frame(self, painter: QPainter, accent: QColor, error: bool, simple: bool) -> QRectF:
        c = theme.current()
        rect = QRectF(0, 0, self.width, self.height)
        if simple:
            painter.fillRect(rect, c.node_body)
            painter.fillRect(QRectF(0, 0, self.width, HEADER), accent)
            if self.isSelected() or error:
                painter.setPen(QPen(c.selection if self.isSelected() else c.error, 6))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(rect)
            return rect
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        path = QPainterPath()
        path.addRoundedRect(rect, 6, 6)
        painter.fillPath(path, c.node_body)
        painter.save()
        painter.setClipPath(path)
        painter.fillRect(QRectF(0, 0, self.width, HEADER), accent)
        painter.restore()
        if self.isSelected():
            pen = QPen(c.selection, 2.5)
        elif error:
            pen = QPen(c.error, 2.5)
        else:
            pen = QPen(c.node_border, 1)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
        if error and self.isSelected():
            painter.setPen(QPen(c.error, 1.5, Qt.PenStyle.DashLine))
            painter.drawRoundedRect(rect.adjusted(3, 3, -3, -3), 4, 4)
        return rect

    def _paint_ports(self, painter: QPainter) -> None:
        c = theme.current()
        painter.setFont(_TEXT_FONT)
        fm = QFontMetricsF(_TEXT_FONT)
        half = self.width / 2 - PAD - 4
        for output, ports in ((False, self.inputs), (True, self.outputs)):
            for key, label in ports:
                p = self.port_pos(key, output)
                painter.setPen(QPen(c.node_border, 1))
                painter.setBrush(QBrush(c.port))
                painter.drawEllipse(p, PORT_R, PORT_R)
                if not label:
                    continue
                painter.setPen(c.node_subtext)
                text = fm.elidedText(label, Qt.TextElideMode.ElideRight, half)
                r = QRectF(p.x() + PAD + 2, p.y() - ROW / 2, half, ROW) if not output else \
                    QRectF(p.x() - PAD - 2 - half, p.y() - ROW / 2, half, ROW)
                align = Qt.AlignmentFlag.AlignVCenter | (Qt.AlignmentFlag.AlignRight if output else Qt.AlignmentFlag.AlignLeft)
                painter.drawText(r, align, text)

    def _paint_title(self, painter: QPainter, title: str, right: str = "", accent: QColor | None = None) -> None:
        light = accent is not None and (0.299 * accent.redF() + 0.587 * accent.greenF() + 0.114 * accent.blueF()) > 0.62
        ink = QColor(20, 22, 26) if light else QColor(255, 255, 255)
        painter.setFont(_TITLE_FONT)
        fm = QFontMetricsF(_TITLE_FONT)
        right_w = 0.0
        if right:
            painter.setFont(_SMALL_FONT)
            small = QFontMetricsF(_SMALL_FONT)
            room = max(self.width - 2 * PAD - fm.horizontalAdvance(title) - 8, self.width * 0.3)
            right = small.elidedText(right, Qt.TextElideMode.ElideRight, min(room, self.width * 0.55))
            right_w = small.horizontalAdvance(right) + 4
            faded = QColor(ink)
            faded.setAlpha(200)
            painter.setPen(faded)
            painter.drawText(QRectF(0, 0, self.width - PAD, HEADER),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, right)
            painter.setFont(_TITLE_FONT)
        painter.setPen(ink)
        text = fm.elidedText(title, Qt.TextElideMode.ElideRight, self.width - 2 * PAD - right_w)
        painter.drawText(QRectF(PAD, 0, self.width - 2 * PAD, HEADER), Qt.AlignmentFlag.AlignVCenter, text)


class NodeItem(BlockItem):
    """One layer node: coloured header with title, ports, key params, parameter count."""

    kind = "node"

    def __init__(self, scene_ref: GraphScene, node: Node, spec: NodeSpec | None,
                 shapes: NodeShapes | None = None) -> None:
        super().__init__(scene_ref, node.position)
        self.node_id = node.id
        self.spec = spec
        self.shapes: NodeShapes | None = None
        self._name = node.name
        self._params_lines: list[str] = []
        self._footer = ""
        self._error: str | None = None
        if shapes is not None:  # opening a file: read the model once, with its shapes
            self._take_shapes(shapes)
        self.sync(node)

    @property
    def error(self) -> str | None:
        return self._error

    def sync(self, node: Node) -> None:
        """Re-read name, ports and key params from the model (after a rename or param edit)."""
        self._name = node.name
        spec = self.spec
        if spec is not None:
            self.inputs, self.outputs, shown = _face(spec)
            lines = []
            for name, label in shown:
                value = node.params.get(name)
                if value is None and self.shapes is not None:
                    value = self.shapes.resolved.get(name)
                lines.append(f"{label}: {format_value(value)}")
            self._params_lines = lines
        else:  # placeholder for an unknown type: ports from its wires
            graph = self.canvas.graph
            self.inputs = sorted({(e.dst_port, e.dst_port) for e in graph.edges.values() if e.dst == node.id})
            self.outputs = sorted({(e.src_port, e.src_port) for e in graph.edges.values() if e.src == node.id})
            self._params_lines = ["unknown type", node.type_id]
        self._update_geometry()

    def set_shapes(self, shapes: NodeShapes | None) -> None:
        if shapes is self.shapes:
            return
        self._take_shapes(shapes)
        node = self.canvas.graph.nodes.get(self.node_id)
        if node is not None:
            self.sync(node)
        self.update()

    def _take_shapes(self, shapes: NodeShapes | None) -> None:
        self.shapes = shapes
        self._error = shapes.error if shapes is not None else None
        if self.spec is None:
            self._error = f"unknown node type '{self.canvas.graph.nodes[self.node_id].type_id}'"
        self._footer = ""
        if shapes is not None and shapes.params:
            self._footer = f"{format_count(shapes.params)} params"
        if QGraphicsItem.toolTip(self):  # one was shown already: keep it current (others are written on hover)
            self.setToolTip(self._tooltip())

    def toolTip(self) -> str:  # noqa: N802 - Qt's name
        """The tooltip as it would show now (the scene writes it into Qt on hover)."""
        return self._tooltip()

    def tooltip_text(self) -> str:
        return self._tooltip()

    def _tooltip(self) -> str:
        spec = self.spec
        head = f"<b>{self._name}</b> — {spec.title if spec else 'unknown type'}"
        if self._error:
            return f"{head}<br><span style='color:#e04848'>⚠ {self._error}</span>"
        if spec is not None and spec.description:
            return f"{head}<br>{spec.description}"
        return head

    def _update_geometry(self) -> None:
        rows = max(len(self.inputs), len(self.outputs), 1)
        extra = len(self._params_lines) + (1 if self._footer or self._error else 0)
        height = HEADER + ROW * rows + 4 + ROW * extra + 4
        if height != self.height:
            self.prepareGeometryChange()
            self.height = height
            self.canvas.block_moved(self)
        self.update()

    def _name_says_type(self) -> bool:
        """True when the node's name already reads as its type (``linear_2`` for a Linear)."""
        if self.spec is None:
            return False
        base = re.sub(r"_\d+$", "", self._name)
        return base in (self.spec.type_id.split(".")[-1], identifier(self.spec.title))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = theme.current()
        category = self.spec.category if self.spec else "Unknown"
        accent = category_color(category, c.dark) if self.spec else QColor(120, 120, 120)
        simple = self._lod(painter) < LOD_SIMPLE
        self._paint_frame(painter, accent, bool(self._error), simple)
        if simple:
            return paint_overlay(self, painter)
        title = self.spec.title if self.spec else "Unknown"
        self._paint_title(painter, self._name, "" if self._name_says_type() else title, accent)
        self._paint_ports(painter)
        rows = max(len(self.inputs), len(self.outputs), 1)
        y = HEADER + ROW * rows + 4
        fm = QFontMetricsF(_TEXT_FONT)
        painter.setFont(_TEXT_FONT)
        painter.setPen(c.node_text)
        for line in self._params_lines:
            painter.drawText(QRectF(PAD, y, self.width - 2 * PAD, ROW), Qt.AlignmentFlag.AlignVCenter,
                             fm.elidedText(line, Qt.TextElideMode.ElideRight, self.width - 2 * PAD))
            y += ROW
        if self._error:
            painter.setPen(c.error)
            painter.setFont(_SMALL_FONT)
            text = QFontMetricsF(_SMALL_FONT).elidedText("⚠ " + self._error, Qt.TextElideMode.ElideRight,
                                                         self.width - 2 * PAD)
            painter.drawText(QRectF(PAD, y, self.width - 2 * PAD, ROW), Qt.AlignmentFlag.AlignVCenter, text)
        elif self._footer:
            painter.setPen(c.node_subtext)
            painter.setFont(_SMALL_FONT)
            painter.drawText(QRectF(PAD, y, self.width - 2 * PAD, ROW),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, self._footer)
        paint_overlay(self, painter)  # training heat map and problem marks


class CollapsedGroupItem(BlockItem):
    """A collapsed group: one block standing for its member nodes, with the wires that cross its border."""

    kind = "group"

    def __init__(self, scene_ref: GraphScene, group_id: str) -> None:
        super().__init__(scene_ref)
        self.group_id = group_id
        self.member_ids: list[str] = []
        self.name = ""
        self._summary = ""
        self._error: str | None = None
        self.width = NODE_WIDTH + 16

    def sync(self, name: str, members: list[str], inputs: list[tuple[str, str]], outputs: list[tuple[str, str]],
             params: int, error: str | None) -> None:
        self.name = name
        self.member_ids = members
        self.inputs, self.outputs = inputs, outputs
        self._summary = f"{len(members)} layers · {format_count(params)} params"
        self._error = error
        rows = max(len(inputs), len(outputs), 1)
        self.prepareGeometryChange()
        self.height = HEADER + ROW * rows + 4 + ROW + 6
        tip = f"<b>Group {name}</b><br>{self._summary}<br>Double-click to expand."
        if error:
            tip += f"<br><span style='color:#e04848'>⚠ {error}</span>"
        self.setToolTip(tip)
        self.update()

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        c = theme.current()
        accent = QColor(c.group_border)
        accent.setAlpha(255)
        simple = self._lod(painter) < LOD_SIMPLE
        rect = self._paint_frame(painter, accent, bool(self._error), simple)
        if simple:
            return
        painter.setPen(QPen(accent, 1, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(rect.adjusted(3, HEADER + 2, -3, -3), 4, 4)
        self._paint_title(painter, f"▣ {self.name}", "group", accent)
        self._paint_ports(painter)
        rows = max(len(self.inputs), len(self.outputs), 1)
        painter.setFont(_SMALL_FONT)
        painter.setPen(c.error if self._error else c.node_subtext)
        text = ("⚠ " + self._error) if self._error else self._summary
        text = QFontMetricsF(_SMALL_FONT).elidedText(text, Qt.TextElideMode.ElideRight, self.width - 2 * PAD)
        painter.drawText(QRectF(PAD, HEADER + ROW * rows + 4, self.width - 2 * PAD, ROW),
                         Qt.AlignmentFlag.AlignVCenter, text)
