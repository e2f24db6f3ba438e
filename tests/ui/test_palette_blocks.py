"""Saved blocks in the Layers palette: listed after saving, searchable, inserted by double-click or drop."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from studio.ui.panels.palette import BLOCK_MIME, BLOCKS_CATEGORY, block_path_from_mime


def _save_block(editor) -> str:
    """Group ReLU -> Linear(10) of the small project and save it as a block."""
    relu, second = editor.node_named("relu"), editor.node_named("linear_1")
    editor.scene.select_nodes([relu.id, second.id])
    editor.window.edit.group()
    path = editor.window.edit.save_block()
    assert path is not None
    return path


def _heads(palette) -> list[str]:
    tree = palette.tree
    return [tree.topLevelItem(i).text(0) for i in range(tree.topLevelItemCount())]


def test_saved_block_appears_in_palette_and_is_searchable(editor, qtbot):
    palette = editor.window.panels["palette"]
    assert BLOCKS_CATEGORY not in _heads(palette)  # no blocks yet: no empty category
    path = _save_block(editor)
    assert _heads(palette)[0] == BLOCKS_CATEGORY  # refreshed on save, listed first
    entry = palette.block_item("block")
    assert entry is not None and entry.text(0) == "block  ·  2 nodes"
    assert "ReLU" in entry.toolTip(0) and "Linear" in entry.toolTip(0)
    assert palette.visible_blocks() == [path]

    qtbot.keyClicks(palette.filter, "block")
    assert palette.visible_blocks() == [path]
    palette.filter.clear()
    qtbot.keyClicks(palette.filter, "relu")  # by the layers inside it, next to the ReLU layer
    assert palette.visible_blocks() == [path] and "nn.relu" in palette.visible_type_ids()
    palette.filter.clear()
    qtbot.keyClicks(palette.filter, "conv")
    assert palette.visible_blocks() == []
    palette.filter.clear()
    assert palette.visible_type_ids() and palette.visible_blocks() == [path]  # the type list is unchanged


def test_double_click_inserts_block_in_one_undo_step(editor):
    _save_block(editor)
    palette = editor.window.panels["palette"]
    editor.window.add_graph()  # an empty graph to insert into
    doc = editor.document
    steps = doc.undo_stack.count()
    palette.tree.itemActivated.emit(palette.block_item("block"), 0)
    graph = editor.graph
    assert sorted(n.type_id for n in graph.nodes.values()) == ["nn.linear", "nn.relu"]
    assert len(graph.edges) == 1 and len(graph.groups) == 1
    assert doc.undo_stack.count() == steps + 1
    doc.undo_stack.undo()
    assert not graph.nodes and not graph.edges


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # QDragEnterEvent's QPoint constructor
def test_drag_block_onto_canvas_inserts_at_drop_point(editor):
    path = _save_block(editor)
    palette = editor.window.panels["palette"]
    mime = palette.tree.mimeData([palette.block_item("block")])  # what a real drag carries
    assert mime.hasFormat(BLOCK_MIME) and block_path_from_mime(mime) == path
    editor.window.add_graph()
    editor.flush()
    doc, view = editor.document, editor.view
    steps = doc.undo_stack.count()
    pos = QPoint(260, 200)
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), drop)
    graph = editor.graph
    assert len(graph.nodes) == 2 and doc.undo_stack.count() == steps + 1
    target = view.mapToScene(pos)
    left = min(n.position[0] for n in graph.nodes.values())
    top = min(n.position[1] for n in graph.nodes.values())
    assert abs(left - target.x()) < 1 and abs(top - target.y()) < 1
    assert sorted(editor.scene.selected_node_ids()) == sorted(graph.nodes)
    doc.undo_stack.undo()
    assert not graph.nodes


def test_unreadable_block_is_listed_not_dropped(editor, tmp_path):
    palette = editor.window.panels["palette"]
    palette.blocks_folder = tmp_path
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    palette.reload_blocks()
    assert _heads(palette)[0] == BLOCKS_CATEGORY
    head = palette.tree.topLevelItem(0)
    assert head.child(0).text(0) == "broken (unreadable)" and "not JSON" in head.child(0).toolTip(0)
    assert palette.visible_blocks() == []  # it cannot be inserted
