"""Opening a big project in the editor: every node gets its item, in work that grows linearly with
the file, behind a progress dialog above 5,000 nodes; the canvas still edits and undoes afterwards."""

from __future__ import annotations

import collections

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneHelpEvent

from studio.core.ops import MoveNodes
from studio.io.project_file import save_project
from tests.factories import chain, project


def _chain_file(registry, tmp_path, n: int):
    """Input -> (Linear(8), ReLU) ... -> Output with n nodes, saved as the app saves it."""
    pairs = (n - 2) // 2
    layers = [("nn.linear", {"out_features": 8}), ("nn.relu", {})] * pairs
    graph = chain(registry, "model", [8], layers, spacing=10.0)
    return save_project(project(graph, name=f"chain{n}"), tmp_path / f"chain{n}.nnstudio", registry)


def _open_counting(editor, path, monkeypatch) -> collections.Counter:
    """Open ``path`` with File ▸ Open and count the per-item work the canvas did."""
    import studio.ui.canvas.scene as scene_module
    from studio.ui.canvas import progress
    from studio.ui.canvas.items import NodeItem
    from studio.ui.canvas.scene import GraphScene
    from studio.ui.canvas.wires import WireItem

    counts: collections.Counter = collections.Counter()

    def counting(cls, name):
        original = getattr(cls, name)

        def wrapper(*args, **kwargs):
            counts[name] += 1
            return original(*args, **kwargs)
        monkeypatch.setattr(cls, name, wrapper)

    counting(NodeItem, "sync")
    counting(NodeItem, "set_shapes")
    counting(GraphScene, "update_wire")
    counting(GraphScene, "block_moved")
    counting(WireItem, "_place_label")
    real_report = scene_module.report

    def report(done: int, total: int) -> None:
        counts["reports"] += 1
        counts["reports with a dialog"] += progress._report is not None
        real_report(done, total)
    monkeypatch.setattr(scene_module, "report", report)
    assert editor.window.files.open(path)
    editor.flush()
    monkeypatch.undo()
    return counts


@pytest.mark.slow
def test_opening_8k_nodes_builds_every_item_in_linear_work(editor, registry, tmp_path, monkeypatch):
    small = _open_counting(editor, _chain_file(registry, tmp_path, 2_000), monkeypatch)
    assert len(editor.scene.nodes) == 2_000 and small["reports with a dialog"] == 0  # small: no dialog
    big = _open_counting(editor, _chain_file(registry, tmp_path, 8_000), monkeypatch)
    graph = editor.graph
    assert len(graph.nodes) == 8_000
    assert set(editor.scene.nodes) == set(graph.nodes) and set(editor.scene.wires) == set(graph.edges)
    # the same work per node at 8k as at 2k (a quadratic step would do 4x as much per node) ...
    for name in ("sync", "set_shapes", "update_wire", "block_moved", "_place_label"):
        assert big[name] <= 4 * small[name] * 1.05 + 10, (name, small[name], big[name])
    # ... and little of it: each node read once, each wire routed and labelled once
    assert big["sync"] <= 8_000 and big["update_wire"] <= 8_000 and big["_place_label"] <= 8_000
    assert big["reports with a dialog"] >= 7  # 16k items, a dialog turn every 2,000
    item = editor.scene.nodes[next(iter(graph.nodes))]
    assert item.boundingRect().height() > 0 and item.pos().x() == graph.nodes[item.node_id].position[0]


@pytest.mark.slow
def test_a_big_canvas_still_edits_and_undoes(editor, registry, tmp_path):
    assert editor.window.files.open(_chain_file(registry, tmp_path, 6_000))
    editor.flush()
    scene, graph = editor.scene, editor.graph
    node_id = list(graph.nodes)[100]
    x, y = graph.nodes[node_id].position
    wire = next(scene.wires[e] for e in scene._node_wires[node_id])
    before = {wire.p1.y(), wire.p2.y()}
    editor.document.push(MoveNodes(graph.id, {node_id: ((x, y), (x + 40.0, y + 200.0))}))
    assert scene.nodes[node_id].pos().y() == y + 200.0
    after = {wire.p1.y(), wire.p2.y()}
    assert {v + 200.0 for v in before} & after  # the wire's end at the node followed it
    editor.document.undo_stack.undo()
    assert scene.nodes[node_id].pos().y() == y
    scene.select_nodes([node_id])
    editor.window.edit.delete_selection()
    assert node_id not in scene.nodes and len(scene.nodes) == 5_999
    editor.document.undo_stack.undo()
    editor.flush()
    assert node_id in scene.nodes and len(scene.wires) == len(graph.edges) == 5_999


def test_a_node_tooltip_is_written_when_hovered(editor):
    """Tooltips are not written for every item at open; the one under the cursor gets its text."""
    scene = editor.scene
    item = next(iter(scene.nodes.values()))
    assert QGraphicsItem.toolTip(item) == ""
    event = QGraphicsSceneHelpEvent(QEvent.Type.GraphicsSceneHelp)
    event.setScenePos(item.sceneBoundingRect().center())
    event.setScreenPos(QPoint(10, 10))
    scene.helpEvent(event)
    text = QGraphicsItem.toolTip(item)
    assert item.spec.title in text and editor.graph.nodes[item.node_id].name in text
