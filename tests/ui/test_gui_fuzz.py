"""The real editor (offscreen) under random edits, failing ones included: no crash, no phantom undo
step, and undoing everything gives back the starting file byte for byte."""

from __future__ import annotations

import json
import math
import random

import pytest
from PySide6.QtCore import QPointF

from studio.core.model import Edge
from studio.core.ops import (
    AddEdge,
    MoveNodes,
    Operation,
    RemoveEdge,
    RenameGraph,
    RenameNode,
    SetParam,
    SetTraining,
    connect,
)
from studio.io.project_file import dumps, load_project
from tests.ui.conftest import close_editor, open_editor, small_project

TYPES = ["nn.linear", "nn.relu", "nn.tanh", "nn.dropout", "nn.layernorm", "io.output"]
BAD_VALUES = [0, -1, 10 ** 400, float("nan"), float("inf"), "ten", None, [1, 2], {"x": 1}, True]
SETTINGS = [("optimizer.lr", 0.01), ("optimizer.lr", -5.0), ("optimizer.lr", "fast"), ("optimizer.lr", 10 ** 400),
            ("optimizer.name", "sgd"), ("optimizer.name", "warp"), ("epochs", 3), ("epochs", -2),
            ("optimizer", 5), ("optimizer.lr.deeper", 1), ("batch_size", 16), ("nonsense.key", 1)]


def _status(editor) -> str:
    return editor.window.status_message.text()


def test_a_failing_edit_is_refused_with_a_reason_and_no_undo_step(qtbot, registry):
    """The reported crash: training.optimizer is 5 and the learning rate is changed."""
    project = small_project(registry)
    project.training = {"optimizer": 5}
    editor = open_editor(qtbot, registry, project, training=False)
    try:
        doc = editor.document
        before = dumps(doc.project, registry)
        assert doc.push(SetTraining("optimizer.lr", 0.01)) is False
        assert doc.undo_stack.count() == 0 and dumps(doc.project, registry) == before
        assert "optimizer" in _status(editor) and "section" in _status(editor)
        graph = editor.graph
        linear = next(n for n in graph.nodes.values() if n.type_id == "nn.linear")
        assert doc.push(SetParam(graph.id, linear.id, "out_features", 0)) is False
        assert "at least" in _status(editor)
        assert doc.push(SetParam(graph.id, linear.id, "out_features", 7)) is True
        doc.undo_stack.undo()
        assert doc.undo_stack.count() == 1 and dumps(doc.project, registry) == before
    finally:
        close_editor(editor)


@pytest.mark.parametrize(("training", "position", "field"), [
    ({"optimizer": 5}, [0, 0], "training.optimizer"),
    ({"optimizer": {"lr": -1.0}}, [0, 0], "training.optimizer.lr"),
    ({}, [10 ** 400, 0], "position[0]"),
])
def test_a_file_that_fails_to_open_shows_a_dialog(editor, registry, tmp_path, training, position, field):
    data = json.loads(dumps(small_project(registry), registry))
    data["training"] = training
    data["graphs"][0]["nodes"][0]["position"] = position
    path = tmp_path / "bad.nnstudio"
    path.write_text(json.dumps(data))
    before = dumps(editor.document.project, registry)
    assert editor.window.files.open(path) is False
    assert len(editor.warnings) == 1 and field in editor.warnings[0] and str(path) in editor.warnings[0]
    assert dumps(editor.document.project, registry) == before


class _Treacherous(Operation):
    """Applies fine, then fails on undo and on redo: Qt calls these from C++."""

    label = "Treacherous"

    def apply(self, project):
        if getattr(self, "done", False):
            raise RuntimeError("redo exploded")
        self.done = True

    def revert(self, project):
        raise RuntimeError("undo exploded")


def test_an_exception_in_undo_or_redo_never_reaches_qt(editor, qtbot):
    doc = editor.document
    assert doc.push(_Treacherous())
    editor.window.undo_action.trigger()  # from Qt's C++: must not raise through it
    qtbot.wait(1)
    assert "undo exploded" in _status(editor)
    assert doc.undo_stack.count() == 0  # the broken step is dropped, not left to fail again


def _random_op(rnd: random.Random, editor, registry) -> Operation | str:
    graph = editor.graph
    ids = list(graph.nodes)
    nid = rnd.choice(ids) if ids else "ghost"
    kind = rnd.choice(["add", "param", "bad_param", "setting", "move", "bad_move", "rename", "wire", "unwire",
                       "duplicate", "paste", "delete", "group", "ungroup", "layout", "rename_graph", "ghost"])
    if kind == "add":
        return "add"
    if kind in ("param", "bad_param") and ids:
        node = graph.nodes[nid]
        spec = registry.find(node.type_id)
        if spec is None or not spec.params:
            return SetParam(graph.id, nid, "no_such_param", 1)
        p = rnd.choice(spec.params)
        if kind == "bad_param":
            return SetParam(graph.id, nid, p.name, rnd.choice(BAD_VALUES))
        value = p.default if p.default is not None else (p.minimum or 1)
        if p.kind == "int" and p.minimum is not None:
            value = int(p.minimum) + rnd.randint(0, 5)
        if p.kind == "choice" and p.choices:
            value = rnd.choice(p.choices)
        return SetParam(graph.id, nid, p.name, value)
    if kind == "setting":
        return SetTraining(*rnd.choice(SETTINGS))
    if kind == "move" and ids:
        old = graph.nodes[nid].position
        return MoveNodes(graph.id, {nid: (old, (old[0] + rnd.randint(-200, 200), old[1] + 40.0))})
    if kind == "bad_move" and ids:
        bad = rnd.choice([math.nan, math.inf, 10 ** 400, 1e300, "x"])
        return MoveNodes(graph.id, {nid: (graph.nodes[nid].position, (bad, 0.0))})
    if kind == "rename" and ids:
        return RenameNode(graph.id, nid, rnd.choice(["a", "class", "x y", "é" * 3, "L" * 90, "", 5, "relu"]))
    if kind == "wire" and len(ids) > 1:
        a, b = rnd.sample(ids, 2)
        return connect(graph, a, "out", b, "in")
    if kind == "unwire":
        edges = list(graph.edges)
        return RemoveEdge(graph.id, rnd.choice(edges) if edges and rnd.random() < 0.7 else "ghost")
    if kind == "rename_graph":
        return RenameGraph(graph.id, rnd.choice(["critic", "model", "g" * 300]))
    if kind == "ghost":
        return AddEdge(graph.id, Edge("ghost", "out", nid, "in"))
    return kind  # an editing action through the window


def _run_action(name: str, editor, rnd: random.Random) -> None:
    edit, scene, graph = editor.window.edit, editor.scene, editor.graph
    ids = list(graph.nodes)
    if ids:
        scene.select_nodes(rnd.sample(ids, min(len(ids), rnd.randint(1, 3))))
    if name == "add":
        editor.view.add_node_at(rnd.choice(TYPES), QPointF(rnd.randint(-400, 900), rnd.randint(-300, 600)))
    elif name == "duplicate":
        edit.duplicate()
    elif name == "paste":
        edit.copy()
        edit.paste()
    elif name == "delete" and len(ids) > 3:
        edit.delete_selection()
    elif name == "group":
        edit.group()
    elif name == "ungroup":
        edit.ungroup()
    elif name == "layout":
        edit.auto_layout()


@pytest.mark.parametrize(("seed", "steps"), [(1, 120), pytest.param(2, 400, marks=pytest.mark.slow),
                                             pytest.param(3, 400, marks=pytest.mark.slow)])
def test_random_edits_including_failing_ones_undo_to_the_exact_start(editor, registry, tmp_path, seed, steps):
    rnd = random.Random(seed)
    doc = editor.document
    start = dumps(doc.project, registry)
    refused = 0
    for _ in range(steps):
        op = _random_op(rnd, editor, registry)
        if isinstance(op, str):
            _run_action(op, editor, rnd)
            continue
        before, depth = dumps(doc.project, registry), doc.undo_stack.count()
        if not doc.push(op):
            refused += 1
            assert dumps(doc.project, registry) == before and doc.undo_stack.count() == depth
    editor.flush()
    end = dumps(doc.project, registry)
    assert refused > 10 and doc.undo_stack.count() > 20
    while doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    editor.flush()
    assert dumps(doc.project, registry) == start
    while doc.undo_stack.canRedo():
        doc.undo_stack.redo()
    editor.flush()
    assert dumps(doc.project, registry) == end
    # whatever the edits stored, the file opens again (no edit can make a project unloadable)
    assert editor.window.files.save_as(tmp_path / "fuzzed.nnstudio")
    assert dumps(load_project(tmp_path / "fuzzed.nnstudio", registry), registry) == end


def test_start_up_removes_stale_temp_files_beside_recent_projects(qtbot, registry, tmp_path):
    import os
    import time

    from studio.io.project_file import save_project
    from studio.io.safe_write import STALE_AFTER_S, TEMP_SUFFIX

    path = save_project(small_project(registry), tmp_path / "recent.nnstudio", registry)
    stale = tmp_path / f".recent.nnstudio.dead{TEMP_SUFFIX}"
    stale.write_bytes(b"x" * 4096)
    old = time.time() - 2 * STALE_AFTER_S
    os.utime(stale, (old, old))
    first = open_editor(qtbot, registry, training=False)
    try:
        first.window.files.add_recent(path)
    finally:
        close_editor(first)
    assert stale.exists()
    second = open_editor(qtbot, registry, training=False)  # the next start-up
    try:
        assert not stale.exists() and path.exists()
    finally:
        close_editor(second)


def test_pasted_copies_of_a_long_named_node_keep_their_names_through_save_and_load(editor, registry, tmp_path):
    from studio.core.model import MAX_NAME

    doc, graph = editor.document, editor.graph
    linear = next(n for n in graph.nodes.values() if n.type_id == "nn.linear")
    assert doc.push(RenameNode(graph.id, linear.id, "L" * 90))
    editor.scene.select_nodes([linear.id])
    pasted = editor.window.edit.duplicate() + editor.window.edit.duplicate()
    names = {nid: graph.nodes[nid].name for nid in [linear.id, *pasted]}
    assert len(set(names.values())) == 3 and all(len(n) <= MAX_NAME for n in names.values())
    assert editor.window.files.save_as(tmp_path / "long.nnstudio")
    data = json.loads((tmp_path / "long.nnstudio").read_text())
    data["graphs"][0]["nodes"].reverse()  # the copies first: they used to take the original's name
    (tmp_path / "reversed.nnstudio").write_text(json.dumps(data))
    loaded = load_project(tmp_path / "reversed.nnstudio", registry).main_graph
    assert {nid: loaded.nodes[nid].name for nid in names} == names
