"""Driving the real canvas: drops, quick add, connecting with the mouse, refusals, param edits, drags."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from studio.core.ops import SetParam
from studio.ui.canvas.items import GRID, NodeItem
from studio.ui.canvas.view import NODE_MIME
from tests.ui.helpers import drag_mouse, port_point


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # QDragEnterEvent's QPoint constructor
def test_drop_from_palette_adds_node_at_drop_point(editor):
    palette = editor.window.panels["palette"]
    tree = palette.tree
    item = next(tree.topLevelItem(i).child(j) for i in range(tree.topLevelItemCount())
                for j in range(tree.topLevelItem(i).childCount())
                if tree.topLevelItem(i).child(j).text(0) == "Conv2d")
    mime = tree.mimeData([item])  # what a real drag out of the palette carries
    assert mime.hasFormat(NODE_MIME)
    viewport = editor.view.viewport()
    pos = QPoint(300, 220)
    before = set(editor.graph.nodes)
    enter = QDragEnterEvent(QPoint(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, drop)
    added = set(editor.graph.nodes) - before
    assert len(added) == 1
    node = editor.graph.nodes[added.pop()]
    assert node.type_id.endswith("conv2d")
    target = editor.view.mapToScene(pos)
    assert abs(node.position[0] - target.x()) <= GRID and abs(node.position[1] - target.y()) <= GRID
    assert editor.document.selected == [node.id]  # the new node is selected (inspector shows it)
    assert editor.document.undo_stack.count() == 1


def test_quick_add_by_search_adds_at_cursor(editor, qtbot):
    view = editor.view
    target = QPointF(-400, 300)
    popup = view.open_quick_add(target)
    assert popup is not None and popup.isVisible()
    qtbot.keyClicks(popup.search, "leakyrelu")
    assert popup.current_type_id() == "nn.leaky_relu"
    qtbot.keyClick(popup.search, Qt.Key.Key_Return)
    node = next(n for n in editor.graph.nodes.values() if n.type_id == "nn.leaky_relu")
    assert node.position == (round(target.x() / GRID) * GRID, round(target.y() / GRID) * GRID)


def test_tab_and_space_open_quick_add(editor, qtbot):
    view = editor.view
    view.setFocus()
    QTest.mouseMove(view.viewport(), QPoint(200, 200))
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    assert view._popup is not None and view._popup.isVisible()
    view._popup.close()
    view._popup = None
    view.setFocus()
    qtbot.keyPress(view, Qt.Key.Key_Space)
    qtbot.keyRelease(view, Qt.Key.Key_Space)
    assert view._popup is not None and view._popup.isVisible()
    view._popup.close()


def test_connect_two_ports_with_the_mouse(editor):
    view = editor.view
    view.add_node_at("nn.linear", QPointF(0, 300))
    new = next(n for n in editor.graph.nodes.values() if n.position == (0.0, 300.0))
    relu = editor.node_named("relu")
    editor.flush()
    edges_before = len(editor.graph.edges)
    drag_mouse(view.viewport(), port_point(editor, relu.id, "out", True), port_point(editor, new.id, "in", False))
    assert len(editor.graph.edges) == edges_before + 1
    edge = editor.graph.edge_into(new.id, "in")
    assert edge is not None and edge.src == relu.id
    editor.flush()
    assert editor.scene.wires[edge.id].label == "B×32"
    assert editor.scene.nodes[new.id].error is None
    # and from an input port back to an output port
    view.add_node_at("nn.sigmoid", QPointF(300, 300))
    sig = next(n for n in editor.graph.nodes.values() if n.type_id == "nn.sigmoid")
    editor.flush()
    drag_mouse(view.viewport(), port_point(editor, sig.id, "in", False), port_point(editor, new.id, "out", True))
    assert editor.graph.edge_into(sig.id, "in").src == new.id


def test_refuses_a_cycle_with_the_reason(editor):
    view = editor.view
    relu, first = editor.node_named("relu"), editor.node_named("linear")
    edges = dict(editor.graph.edges)
    messages = []
    view.message.connect(messages.append)
    drag_mouse(view.viewport(), port_point(editor, relu.id, "out", True), port_point(editor, first.id, "in", False))
    assert editor.graph.edges == edges
    assert view.last_refusal is not None and "loop" in view.last_refusal
    assert any("loop" in m for m in messages)
    assert "loop" in editor.window.status_message.text()
    # output onto output is refused too, with its own reason
    drag_mouse(view.viewport(), port_point(editor, relu.id, "out", True), port_point(editor, first.id, "out", True))
    assert editor.graph.edges == edges
    assert "input" in view.last_refusal
    assert editor.document.undo_stack.count() == 0


def test_inspector_edit_changes_downstream_shapes(editor, qtbot):
    first = editor.node_named("linear")
    editor.scene.select_nodes([first.id])
    inspector = editor.window.panels["inspector"]
    assert inspector.node_id == first.id
    relu = editor.node_named("relu")
    edge = editor.graph.edge_into(relu.id, "in")
    after_relu = editor.graph.edges_from(relu.id)[0]
    assert editor.scene.wires[after_relu.id].label == "B×32"
    field = inspector.editors["out_features"].field
    field.setFocus()
    field.lineEdit().selectAll()
    qtbot.keyClicks(field.lineEdit(), "48")
    qtbot.keyClick(field.lineEdit(), Qt.Key.Key_Return)
    assert editor.graph.nodes[first.id].params["out_features"] == 48
    qtbot.waitUntil(lambda: editor.scene.wires[after_relu.id].label == "B×48", timeout=2000)
    assert editor.scene.wires[edge.id].label == "B×48"
    second = editor.node_named("linear_1")
    assert editor.scene.nodes[second.id].shapes.resolved["in_features"] == 48


def test_node_with_error_is_outlined_with_message(editor):
    second = editor.node_named("linear_1")
    editor.document.push(SetParam(editor.graph.id, second.id, "in_features", 7))
    editor.flush()
    item = editor.scene.nodes[second.id]
    assert item.error and "7" in item.error
    assert item.error in item.toolTip() or "expects" in item.toolTip()
    editor.document.undo_stack.undo()
    editor.flush()
    assert item.error is None


def test_dragging_a_selection_is_one_move_snapped_to_grid(editor):
    view = editor.view
    a, b = editor.node_named("relu"), editor.node_named("linear_1")
    editor.scene.select_nodes([a.id, b.id])
    start_a, start_b = a.position, b.position
    item = editor.scene.nodes[a.id]
    grab = view.mapFromScene(item.mapToScene(QPointF(item.width / 2, 10)))
    drag_mouse(view.viewport(), grab, grab + QPoint(97, 61))
    assert editor.document.undo_stack.count() == 1
    moved_a, moved_b = editor.graph.nodes[a.id].position, editor.graph.nodes[b.id].position
    assert moved_a != start_a
    assert moved_a[0] % GRID == 0 and moved_a[1] % GRID == 0
    assert (moved_b[0] - start_b[0], moved_b[1] - start_b[1]) == (moved_a[0] - start_a[0], moved_a[1] - start_a[1])
    editor.document.undo_stack.undo()
    assert editor.graph.nodes[a.id].position == start_a
    assert editor.scene.nodes[a.id].pos() == QPointF(*start_a)


def test_rubber_band_and_shift_click_selection(editor):
    view = editor.view
    items = [editor.scene.nodes[n.id] for n in (editor.node_named("relu"), editor.node_named("linear_1"))]
    rect = items[0].sceneBoundingRect().united(items[1].sceneBoundingRect()).adjusted(-30, -30, 30, 30)
    drag_mouse(view.viewport(), view.mapFromScene(rect.topLeft()), view.mapFromScene(rect.bottomRight()))
    assert set(editor.document.selected) == {i.node_id for i in items}
    other = editor.scene.nodes[editor.node_named("output").id]
    click = view.mapFromScene(other.mapToScene(QPointF(other.width / 2, 8)))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, click)
    assert set(editor.document.selected) == {i.node_id for i in items} | {other.node_id}


def test_zoom_to_cursor_and_fit(editor):
    view = editor.view
    view.resetTransform()
    before = view.zoom_level()
    view.zoom(2.0)
    assert abs(view.zoom_level() - 2 * before) < 1e-6
    view.fit()
    rect = view.content_rect()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(rect)
    assert all(isinstance(i, NodeItem) for i in editor.scene.nodes.values())


def test_picking_up_a_wire_by_its_input_moves_or_removes_it(editor):
    view = editor.view
    relu, second, out = editor.node_named("relu"), editor.node_named("linear_1"), editor.node_named("output")
    edge = editor.graph.edge_into(second.id, "in")
    assert edge.src == relu.id
    # dropped on empty canvas: disconnected, one undo step
    drag_mouse(view.viewport(), port_point(editor, second.id, "in", False),
               port_point(editor, second.id, "in", False) + QPoint(-30, 150))
    assert editor.graph.edge_into(second.id, "in") is None
    assert editor.document.undo_stack.count() == 1
    editor.document.undo_stack.undo()
    assert editor.graph.edge_into(second.id, "in").src == relu.id
    assert editor.scene.wires[edge.id].isVisible()
    # dropped back on its own port: nothing changes
    drag_mouse(view.viewport(), port_point(editor, second.id, "in", False), port_point(editor, second.id, "in", False))
    assert editor.graph.edge_into(second.id, "in").id == edge.id and editor.scene.wires[edge.id].isVisible()
    # dropped on another input: the wire moves there (replacing what fed it), one step
    steps = editor.document.undo_stack.index()
    drag_mouse(view.viewport(), port_point(editor, second.id, "in", False), port_point(editor, out.id, "in", False))
    assert editor.graph.edge_into(second.id, "in") is None
    assert editor.graph.edge_into(out.id, "in").src == relu.id
    assert len(editor.graph.edges_into(out.id)) == 1
    assert editor.document.undo_stack.index() == steps + 1
