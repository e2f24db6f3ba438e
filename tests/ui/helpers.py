"""Mouse helpers for driving the canvas with real events."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest


def port_point(editor, node_id: str, port: str, output: bool) -> QPoint:
    """Viewport coordinates of a node's port."""
    item = editor.scene.nodes[node_id]
    return editor.view.mapFromScene(item.port_scene_pos(port, output))


def body_point(editor, node_id: str) -> QPoint:
    """Viewport coordinates of a spot on a node's header (grabs the node, not a port)."""
    item = editor.scene.item_for_node(node_id)
    return editor.view.mapFromScene(item.mapToScene(QPointF(item.width / 2, 10)))


def drag_mouse(widget, start: QPoint, end: QPoint, steps: int = 6,
               modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, modifiers, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(widget, start + (end - start) * (i / steps))
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, modifiers, end)
