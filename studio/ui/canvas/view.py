"""The canvas view: zoom to cursor, pan, port-to-port connecting, drops from the palette, quick-add.

Everything it changes goes through ``document.push``; refused connections say why on the
``message`` signal (the status bar) and in a tooltip at the cursor.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QToolTip, QWidget

from studio.core.factory import make_node
from studio.core.model import Edge
from studio.core.ops import AddEdge, AddNode, Batch, RemoveEdge, SetGroupState, connect
from studio.ui import theme
from studio.ui.canvas.items import GRID, LOD_SIMPLE, BlockItem, CollapsedGroupItem, NodeItem
from studio.ui.canvas.scene import GraphScene
from studio.ui.canvas.wires import GroupFrameItem, TempWire

NODE_MIME = "application/x-nnstudio-node-type"
#: a saved block dragged from the palette (its file path, UTF-8); see studio.ui.panels.palette
BLOCK_MIME = "application/x-nnstudio-block"
MIN_SCALE, MAX_SCALE = 0.05, 3.0


def connection_reason(scene: GraphScene, src: str, src_port: str, dst: str, dst_port: str) -> str | None:
    """Why this wire is refused (None = fine), from the core validation rules."""
    from studio.core.validation import can_connect

    return can_connect(scene.graph, scene.document.registry, src, src_port, dst, dst_port)


def _shift_as_ctrl(event: QMouseEvent) -> QMouseEvent:
    """Shift-click adds to / removes from the selection like Ctrl-click (Qt only knows Ctrl)."""
    if not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
        return event
    return QMouseEvent(event.type(), event.position(), event.globalPosition(), event.button(),
                       event.buttons(), event.modifiers() | Qt.KeyboardModifier.ControlModifier)


class GraphView(QGraphicsView):
    """Shows one :class:`GraphScene`."""

    message = Signal(str)
    #: a saved block was dropped: (block file path, scene point for its top-left corner); the window inserts it
    block_dropped = Signal(str, QPointF)

    def __init__(self, scene: GraphScene, quick_add_factory: Callable[[QWidget], object] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.graph_scene = scene
        self.quick_add_factory = quick_add_factory
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        # every item paints into its own cache and sets its own pen/brush: no save/restore per item
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing
                                  | QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPointF | None = None
        self._space_down = False
        self._space_used = False
        self._last_pos = QPoint(-1, -1)
        self._conn: tuple[BlockItem, str, bool] | None = None
        self._detaching = None  # the Edge picked up by its input end, while dragging it
        self._released_on_port = False
        self._temp: TempWire | None = None
        self._target: tuple[str, str, str, str] | None = None
        self._reason: str | None = None
        self._popup = None
        self.last_refusal: str | None = None

    @property
    def document(self):
        return self.graph_scene.document

    # -- background ------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt's name
        c = theme.current()
        painter.fillRect(rect, c.background)
        scale = self.transform().m11()
        if self.graph_scene.low_detail:  # far out: all wires in one cheap stroke under the nodes
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(QPen(c.wire, 0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self.graph_scene.wires_path())
        if scale < 0.3:
            return
        step = GRID if scale >= 0.6 else GRID * 5
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        minor, major = [], []
        x = left
        while x < rect.right():
            (major if round(x / GRID) % 5 == 0 else minor).append((QPointF(x, rect.top()), QPointF(x, rect.bottom())))
            x += step
        y = top
        while y < rect.bottom():
            (major if round(y / GRID) % 5 == 0 else minor).append((QPointF(rect.left(), y), QPointF(rect.right(), y)))
            y += step
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for colour, lines in ((c.grid_minor, minor), (c.grid_major, major)):
            painter.setPen(QPen(colour, 0))
            for a, b in lines:
                painter.drawLine(a, b)

    # -- zoom / fit / centre ---------------------------------------------------------------
    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt's name
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta:
            self.zoom(1.0015 ** delta)
        event.accept()

    def zoom(self, factor: float) -> None:
        scale = self.transform().m11()
        factor = max(MIN_SCALE / scale, min(MAX_SCALE / scale, factor))
        self.scale(factor, factor)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        # scale()/fitInView() are not virtual: check the level of detail where every frame starts
        self.graph_scene.set_low_detail(self.transform().m11() < LOD_SIMPLE)
        super().paintEvent(event)

    def zoom_level(self) -> float:
        return self.transform().m11()

    def content_rect(self, only_selected: bool = False) -> QRectF:
        rect = QRectF()
        scene = self.graph_scene
        # the scene's own tables, not items(): that sorts every item by stacking order first
        for table in (scene.nodes, scene.collapsed, scene.frames, scene.wires):
            for item in table.values():
                if not item.isVisible():
                    continue
                if only_selected and not item.isSelected():
                    continue
                rect = rect.united(item.sceneBoundingRect())
        return rect

    def fit(self, only_selected: bool = False) -> None:
        """Fit the graph (or the selection) into the view, never magnifying beyond 1:1."""
        rect = self.content_rect(only_selected) if only_selected else QRectF()
        if rect.isNull():
            rect = self.content_rect()
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        rect = rect.adjusted(-40, -40, 40, 40)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 1.0:
            self.resetTransform()
        elif self.transform().m11() < MIN_SCALE:
            self.resetTransform()
            self.scale(MIN_SCALE, MIN_SCALE)
        self.centerOn(rect.center())

    def center_on_node(self, node_id: str, select: bool = True) -> None:
        item = self.graph_scene.item_for_node(node_id)
        if item is None:
            return
        if select:
            self.graph_scene.select_nodes([node_id])
        self.centerOn(item.sceneBoundingRect().center())

    def cursor_scene_pos(self) -> QPointF:
        pos = self._last_pos
        if not self.viewport().rect().contains(pos):
            pos = self.viewport().rect().center()
        return self.mapToScene(pos)

    # -- adding nodes ----------------------------------------------------------------------
    def add_node_at(self, type_id: str, scene_pos: QPointF) -> str | None:
        """Add a node of ``type_id`` with its top-left corner at ``scene_pos`` (snapped); returns its id."""
        spec = self.document.registry.find(type_id)
        if spec is None:
            self.message.emit(f"Unknown layer type '{type_id}'")
            return None
        graph = self.graph_scene.graph
        x, y = scene_pos.x(), scene_pos.y()
        if self.graph_scene.snap_to_grid:
            x, y = round(x / GRID) * GRID, round(y / GRID) * GRID
        node = make_node(spec, graph, (x, y))
        self.document.push(AddNode(graph.id, node, label=f"Add {spec.title}"))
        self.graph_scene.select_nodes([node.id])
        self.message.emit(f"Added {spec.title} '{node.name}'")
        return node.id

    def open_quick_add(self, scene_pos: QPointF | None = None, global_pos: QPoint | None = None):
        """Open the quick-add search box at the cursor; the chosen layer lands there."""
        if self.quick_add_factory is None:
            self.message.emit("Quick add is not available")
            return None
        if scene_pos is None:
            scene_pos = self.cursor_scene_pos()
        if global_pos is None:
            global_pos = self.viewport().mapToGlobal(self.mapFromScene(scene_pos))
        popup = self.quick_add_factory(self)
        target = QPointF(scene_pos)
        popup.chosen.connect(lambda type_id: self.add_node_at(type_id, target))
        popup.popup_at(global_pos)
        self._popup = popup
        return popup

    # -- drops from the palette ------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasFormat(NODE_MIME) or event.mimeData().hasFormat(BLOCK_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasFormat(NODE_MIME) or event.mimeData().hasFormat(BLOCK_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasFormat(NODE_MIME):
            type_id = bytes(event.mimeData().data(NODE_MIME)).decode("utf-8")
            self.add_node_at(type_id, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
            self.setFocus()
        elif event.mimeData().hasFormat(BLOCK_MIME):
            path = bytes(event.mimeData().data(BLOCK_MIME)).decode("utf-8", errors="replace")
            self.block_dropped.emit(path, self.mapToScene(event.position().toPoint()))
            event.acceptProposedAction()
            self.setFocus()
        else:
            super().dropEvent(event)

    # -- mouse -----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        self._last_pos = event.position().toPoint()
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self._space_down):
            self._space_used = self._space_down
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton:
            hit = self.graph_scene.port_at(self.mapToScene(event.position().toPoint()))
            if hit is not None:
                self._start_connection(*hit)
                event.accept()
                return
        super().mousePressEvent(_shift_as_ctrl(event))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        self._last_pos = event.position().toPoint()
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.pan(-delta.x(), -delta.y())
            event.accept()
            return
        if self._conn is not None:
            self._update_connection(self.mapToScene(event.position().toPoint()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.LeftButton):
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        if self._conn is not None and event.button() == Qt.MouseButton.LeftButton:
            pos = self.mapToScene(event.position().toPoint())
            self._released_on_port = self.graph_scene.port_at(pos) is not None
            self._update_connection(pos)
            self._finish_connection(event.globalPosition().toPoint())
            event.accept()
            return
        super().mouseReleaseEvent(_shift_as_ctrl(event))

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() != Qt.MouseButton.LeftButton:
            super().mouseDoubleClickEvent(event)
            return
        pos = self.mapToScene(event.position().toPoint())
        for item in self.graph_scene.items(pos):
            if isinstance(item, CollapsedGroupItem):
                self.document.push(SetGroupState(self.graph_scene.graph_id, item.group_id, collapsed=False,
                                                 label="Expand group"))
                return
            if isinstance(item, GroupFrameItem) and item.title_rect().contains(pos):
                self.document.push(SetGroupState(self.graph_scene.graph_id, item.group_id, collapsed=True,
                                                 label="Collapse group"))
                return
            if isinstance(item, NodeItem):
                super().mouseDoubleClickEvent(event)
                return
        self.open_quick_add(pos, event.globalPosition().toPoint())

    def pan(self, dx: float, dy: float) -> None:
        """Scroll by (dx, dy) viewport pixels."""
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(dx))
        self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(dy))

    # -- connecting ------------------------------------------------------------------------
    def _start_connection(self, block: BlockItem, key: str, output: bool) -> None:
        self._detaching = None
        if not output and isinstance(block, NodeItem):
            edge = self.graph_scene.graph.edge_into(block.node_id, key)
            source = self.graph_scene.nodes.get(edge.src) if edge is not None else None
            if edge is not None and source is not None:
                # a connected input: pick its wire up by the loose end, to move it or drop it off
                self._detaching = edge
                self.graph_scene.wires[edge.id].hide()
                block, key, output = source, edge.src_port, True
        self._conn = (block, key, output)
        self._temp = TempWire(block.port_scene_pos(key, output), output)
        self.graph_scene.addItem(self._temp)
        self._target = None
        self._reason = None

    def _update_connection(self, pos: QPointF) -> None:
        assert self._conn is not None and self._temp is not None
        block, key, output = self._conn
        hit = self.graph_scene.port_at(pos)
        self._target, self._reason = None, None
        if hit is None or hit[0] is block or hit[2] == output:
            self._temp.update_to(pos)
            self._temp.set_state(None)
            if hit is not None and hit[0] is not block and hit[2] == output:
                self._reason = "connect an output to an input" if output else "connect an input to an output"
                self._temp.set_state(False)
            return
        other, other_key, _ = hit
        assert isinstance(block, NodeItem) and isinstance(other, NodeItem)
        if output:
            ends = (block.node_id, key, other.node_id, other_key)
        else:
            ends = (other.node_id, other_key, block.node_id, key)
        reason = connection_reason(self.graph_scene, *ends)
        self._temp.update_to(other.port_scene_pos(other_key, not output))
        self._temp.set_state(reason is None)
        if reason is None:
            self._target = ends
            self.message.emit("Release to connect")
        else:
            self._reason = reason
            self.message.emit(f"Cannot connect: {reason}")

    def _finish_connection(self, global_pos: QPoint) -> None:
        if self._temp is not None:
            self.graph_scene.removeItem(self._temp)
        target, reason = self._target, self._reason
        detached, self._detaching = self._detaching, None
        self._conn, self._temp, self._target, self._reason = None, None, None, None
        if detached is not None:
            self._finish_detached(detached, target, reason, global_pos)
            return
        if target is not None:
            self.document.push(connect(self.graph_scene.graph, *target))
            self.message.emit("Connected")
            self.last_refusal = None
        elif reason is not None:
            self.last_refusal = reason
            self.message.emit(f"Cannot connect: {reason}")
            QToolTip.showText(global_pos, f"Cannot connect: {reason}", self)

    def _finish_detached(self, edge, target, reason: str | None, global_pos: QPoint) -> None:
        """A picked-up wire was released: onto another input (move it), onto nothing (remove it)."""
        graph = self.graph_scene.graph
        old = (edge.src, edge.src_port, edge.dst, edge.dst_port)
        if target == old or (target is None and self._released_on_port):
            self.graph_scene.update_wire(edge.id)  # dropped back where it was, or refused: keep it
            if reason is not None and target is None and "already connected" not in reason:
                self.last_refusal = reason
                self.message.emit(f"Cannot connect: {reason}")
                QToolTip.showText(global_pos, f"Cannot connect: {reason}", self)
            return
        ops: list = [RemoveEdge(graph.id, edge.id)]
        if target is not None:
            replaced = graph.edge_into(target[2], target[3])
            if replaced is not None and replaced.id != edge.id:
                ops.append(RemoveEdge(graph.id, replaced.id))
            ops.append(AddEdge(graph.id, Edge(*target)))
        self.document.push(Batch(ops, label="Reconnect" if target is not None else "Disconnect"))
        self.message.emit("Reconnected" if target is not None else "Disconnected")

    def cancel_connection(self) -> None:
        if self._temp is not None:
            self.graph_scene.removeItem(self._temp)
        if self._detaching is not None:
            self.graph_scene.update_wire(self._detaching.id)
            self._detaching = None
        self._conn, self._temp, self._target, self._reason = None, None, None, None

    # -- keys ------------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        # Tab opens quick-add instead of moving focus
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) \
                and event.key() == Qt.Key.Key_Tab and not event.modifiers():
            self.open_quick_add()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_down, self._space_used = True, False
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self._conn is not None:
            self.cancel_connection()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if event.key() == Qt.Key.Key_Space:
            if not event.isAutoRepeat():
                self._space_down = False
                if not self._space_used:
                    self.open_quick_add()
            event.accept()
            return
        super().keyReleaseEvent(event)
