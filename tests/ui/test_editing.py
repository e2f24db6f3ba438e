"""Editing actions through the real window: copy/paste, group/ungroup, auto-layout, and a long undo/redo run."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from studio.core.layout import layered_layout
from studio.core.ops import RenameGraph, RenameNode, SetParam, SetTraining
from studio.io.project_file import project_to_dict
from studio.ui.arrange import wrapped_layout
from studio.ui.canvas.items import CollapsedGroupItem
from tests.ui.conftest import close_editor, open_editor
from tests.ui.helpers import body_point, drag_mouse, port_point


def model_matches_items(editor) -> None:
    """Every graph's scene shows exactly the model: one item per node at its position, one wire per edge."""
    for graph in editor.document.project.graphs:
        scene = editor.window.views[graph.id].graph_scene
        assert set(scene.nodes) == set(graph.nodes)
        assert set(scene.wires) == set(graph.edges)
        for nid, item in scene.nodes.items():
            assert (item.pos().x(), item.pos().y()) == tuple(graph.nodes[nid].position)


def test_copy_paste_within_and_between_projects(editor, qtbot, registry):
    first, relu = editor.node_named("linear"), editor.node_named("relu")
    editor.scene.select_nodes([first.id, relu.id])
    assert editor.window.edit.copy()
    nodes, edges = len(editor.graph.nodes), len(editor.graph.edges)
    pasted = editor.window.edit.paste()
    assert len(pasted) == 2 and len(editor.graph.nodes) == nodes + 2 and len(editor.graph.edges) == edges + 1
    assert set(editor.document.selected) == set(pasted)
    copies = [editor.graph.nodes[p] for p in pasted]
    assert {c.name for c in copies}.isdisjoint({first.name, relu.name})  # fresh unique names
    assert sorted(c.params.get("out_features") for c in copies if c.type_id == "nn.linear") == [32]
    assert editor.document.undo_stack.count() == 1  # a paste is one step
    editor.document.undo_stack.undo()
    assert len(editor.graph.nodes) == nodes
    # into another project (another window): the clipboard carries plain JSON
    other = open_editor(qtbot, registry, training=False)
    try:
        other_nodes = len(other.graph.nodes)
        ids = other.window.edit.paste()
        assert len(ids) == 2 and len(other.graph.nodes) == other_nodes + 2
    finally:
        close_editor(other)


def test_paste_of_foreign_text_is_refused_politely(editor):
    from PySide6.QtWidgets import QApplication

    QApplication.clipboard().setText("{not json")
    assert editor.window.edit.paste() == []
    assert "Cannot paste" in editor.window.status_message.text()
    assert editor.document.undo_stack.count() == 0


def test_group_collapse_expand_ungroup(editor):
    relu, second = editor.node_named("relu"), editor.node_named("linear_1")
    before = project_to_dict(editor.document.project)
    editor.scene.select_nodes([relu.id, second.id])
    group_id = editor.window.edit.group()
    editor.flush()
    graph = editor.graph
    assert graph.nodes[relu.id].group == group_id == graph.nodes[second.id].group
    assert graph.groups[group_id].collapsed
    block = editor.scene.collapsed[group_id]
    assert block.isVisible() and not editor.scene.nodes[relu.id].isVisible()
    assert len(block.inputs) == 1 and len(block.outputs) == 1  # wires crossing the border
    # wires into the block end on the block's port
    into = graph.edge_into(relu.id, "in")
    wire = editor.scene.wires[into.id]
    assert (wire.p2 - block.port_scene_pos(block.inputs[0][0], False)).manhattanLength() < 1
    assert editor.document.undo_stack.count() == 1
    # double-click the block expands it
    view = editor.view
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                      body_point(editor, relu.id))
    assert not graph.groups[group_id].collapsed
    assert editor.scene.nodes[relu.id].isVisible() and group_id in editor.scene.frames
    editor.scene.select_nodes([relu.id])
    editor.window.edit.ungroup()
    assert graph.nodes[relu.id].group is None and graph.nodes[second.id].group is None
    assert not editor.scene.frames and not editor.scene.collapsed
    for _ in range(3):
        editor.document.undo_stack.undo()
    assert project_to_dict(editor.document.project) == before


def test_moving_a_collapsed_block_moves_its_members(editor):
    relu, second = editor.node_named("relu"), editor.node_named("linear_1")
    editor.scene.select_nodes([relu.id, second.id])
    editor.window.edit.group()
    editor.flush()
    start = (editor.graph.nodes[relu.id].position, editor.graph.nodes[second.id].position)
    grab = body_point(editor, relu.id)
    drag_mouse(editor.view.viewport(), grab, grab + QPoint(0, 120))
    dy = editor.graph.nodes[relu.id].position[1] - start[0][1]
    assert dy != 0 and editor.graph.nodes[second.id].position[1] - start[1][1] == dy
    assert isinstance(editor.scene.item_for_node(relu.id), CollapsedGroupItem)


def test_auto_layout_is_one_step(editor):
    graph = editor.graph
    for i, node in enumerate(list(graph.nodes.values())):
        editor.document.push(SetParam(graph.id, node.id, "__never__", 0)) if False else None
        node_pos = ((i * 97) % 500, (i * 331) % 400)
        from studio.core.ops import MoveNodes

        editor.document.push(MoveNodes(graph.id, {node.id: (node.position, node_pos)}))
    scrambled = {n.id: n.position for n in graph.nodes.values()}
    steps = editor.document.undo_stack.count()
    editor.scene.clearSelection()
    editor.window.edit.auto_layout()
    assert editor.document.undo_stack.count() == steps + 1
    size = editor.view.viewport().size()
    expected = wrapped_layout(graph, viewport=(size.width(), size.height()))
    assert expected.keys() == layered_layout(graph).keys()
    assert {n.id: tuple(n.position) for n in graph.nodes.values()} == {k: tuple(v) for k, v in expected.items()}
    order = sorted(graph.nodes.values(), key=lambda n: (n.position[1] // 200, n.position[0]))
    assert [n.name for n in order] == ["x", "linear", "relu", "linear_1", "output"]  # reads left to right
    editor.document.undo_stack.undo()
    assert {n.id: n.position for n in graph.nodes.values()} == scrambled
    model_matches_items(editor)


def test_twenty_mixed_actions_undo_to_the_exact_start(editor, qtbot):
    doc, win, view = editor.document, editor.window, editor.view
    start = project_to_dict(doc.project)
    graph = editor.graph
    a = view.add_node_at("nn.linear", QPointF(0, 300))                                   # 1 add
    b = view.add_node_at("nn.tanh", QPointF(260, 300))                                   # 2 add
    editor.flush()
    drag_mouse(view.viewport(), port_point(editor, editor.node_named("relu").id, "out", True),
               port_point(editor, a, "in", False))                                      # 3 connect
    drag_mouse(view.viewport(), port_point(editor, a, "out", True), port_point(editor, b, "in", False))  # 4
    doc.push(SetParam(graph.id, a, "out_features", 16))                                 # 5 param
    doc.push(SetParam(graph.id, a, "bias", False))                                      # 6 param
    editor.scene.select_nodes([b])
    grab = body_point(editor, b)
    drag_mouse(view.viewport(), grab, grab + QPoint(40, 60))                             # 7 move
    doc.push(RenameNode(graph.id, b, "squash"))                                         # 8 rename
    editor.scene.select_nodes([a, b])
    dup = win.edit.duplicate()                                                          # 9 duplicate
    win.edit.copy()
    pasted = win.edit.paste()                                                           # 10 paste
    editor.scene.select_nodes(pasted)
    win.edit.delete_selection()                                                         # 11 delete
    editor.scene.select_nodes(dup)
    gid = win.edit.group()                                                              # 12 group
    win.edit.toggle_collapse()                                                          # 13 expand
    editor.scene.select_nodes(dup)
    win.edit.ungroup()                                                                  # 14 ungroup
    editor.scene.clearSelection()
    edge = graph.edge_into(b, "in")
    editor.scene.wires[edge.id].setSelected(True)
    win.edit.delete_selection()                                                         # 15 disconnect
    win.edit.auto_layout()                                                              # 16 layout
    win.add_graph()                                                                     # 17 add graph
    second = doc.current_graph_id
    doc.push(RenameGraph(second, "critic"))                                             # 18 rename graph
    editor.view.add_node_at("io.input", QPointF(0, 0))                                  # 19 add in 2nd graph
    doc.push(SetTraining("optimizer.lr", 0.01))                                         # 20 training
    assert gid is not None and doc.undo_stack.count() == 20
    end = project_to_dict(doc.project)
    model_matches_items(editor)
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=2000)
    view.setFocus()
    for i in range(20):
        if i % 2:
            win.undo_action.trigger()
        else:
            QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    editor.flush()
    assert doc.undo_stack.index() == 0
    assert project_to_dict(doc.project) == start
    model_matches_items(editor)
    for i in range(20):
        if i % 2:
            win.redo_action.trigger()
        else:
            QTest.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    editor.flush()
    assert project_to_dict(doc.project) == end
    model_matches_items(editor)


def test_saved_block_inserts_into_another_graph(editor):
    relu, second = editor.node_named("relu"), editor.node_named("linear_1")
    editor.scene.select_nodes([relu.id, second.id])
    editor.window.edit.group()
    path = editor.window.edit.save_block()
    assert path is not None
    editor.window._fill_blocks()
    entries = [a.text() for a in editor.window.blocks_menu.actions()]
    assert entries == ["block"]
    editor.window.add_graph()
    steps = editor.document.undo_stack.count()
    editor.window.blocks_menu.actions()[0].trigger()
    graph = editor.graph
    assert sorted(n.type_id for n in graph.nodes.values()) == ["nn.linear", "nn.relu"]
    assert len(graph.edges) == 1 and len(graph.groups) == 1
    group = next(iter(graph.groups.values()))
    assert group.collapsed and all(n.group == group.id for n in graph.nodes.values())
    assert editor.document.undo_stack.count() == steps + 1
