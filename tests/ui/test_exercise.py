"""Exercises in the editor: locks refuse edits through the document, hidden entries leave the palette,
the Goals panel ticks live, the Exercise menu authors; quitting asks in order; selection raises the Inspector."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.ops import MoveNodes, RemoveNode, RenameNode, SetParam
from studio.exercises import Goal, exercise_of
from studio.io.project_file import load_project
from tests.ui.conftest import close_editor, open_editor

EXERCISES = Path(__file__).resolve().parents[2] / "exercises"


@pytest.fixture
def editor(qtbot, registry):
    ed = open_editor(qtbot, registry, load_project(EXERCISES / "shape_mismatch.nnstudio", registry), training=False)
    yield ed
    close_editor(ed)


def test_a_locked_node_refuses_edits_and_deletes_with_a_status_message(editor):
    doc, window = editor.document, editor.window
    x = editor.node_named("x")
    gid = editor.graph.id
    depth = doc.undo_stack.count()
    assert not doc.push(SetParam(gid, x.id, "shape", [1, 28, 28]))
    assert "'x' is locked by the exercise and cannot be edited" in window.status_message.text()
    assert not doc.push(RemoveNode(gid, x.id))
    assert "cannot be deleted" in window.status_message.text()
    assert not doc.push(RenameNode(gid, x.id, "y"))
    assert doc.undo_stack.count() == depth and editor.node_named("x").params["shape"] == [1, 12, 12]
    # through the canvas: select it and press Delete
    editor.scene.select_nodes([x.id])
    window.edit.actions["delete"].trigger()
    assert editor.graph.node_by_name("x") is not None
    # moving a locked node and editing an unlocked one still work
    assert doc.push(MoveNodes(gid, {x.id: (x.position, (x.position[0] + 10, x.position[1]))}))
    head = editor.node_named("head")
    assert doc.push(SetParam(gid, head.id, "out_features", 3))


def test_the_goals_panel_ticks_live_as_the_student_fixes_the_model(editor, registry):
    panel = editor.window.goals_panel
    assert editor.window.docks["goals"].toggleViewAction().isChecked()
    assert panel.marks() == ["✓", "✗", "✗", "○"]  # valid, shape, flatten, metric (after training)
    from studio.core.factory import make_node
    from studio.core.model import Edge
    from studio.core.ops import AddEdge, AddNode, Batch, RemoveEdge

    graph = editor.graph
    x, hidden = editor.node_named("x"), editor.node_named("hidden")
    flat = make_node(registry.get("nn.flatten"), graph, name="flatten")
    edge = next(e for e in graph.edges.values() if e.src == x.id)
    assert editor.document.push(Batch([AddNode(graph.id, flat), RemoveEdge(graph.id, edge.id),
                                       AddEdge(graph.id, Edge(x.id, "out", flat.id, "in")),
                                       AddEdge(graph.id, Edge(flat.id, "out", hidden.id, "in"))]))
    editor.qtbot.waitUntil(lambda: panel.marks() == ["✓", "✓", "✓", "○"], timeout=3000)
    panel.show_metrics([{"val_accuracy": 0.5}, {"val_accuracy": 0.8}])
    assert panel.marks()[-1] == "✓" and panel.summary.text() == "4 of 4 goals met"


def test_hidden_palette_entries_are_not_listed_even_when_searched(qtbot, registry):
    ed = open_editor(qtbot, registry, load_project(EXERCISES / "attention_sequence.nnstudio", registry),
                     training=False)
    try:
        palette = ed.window.panels["palette"]
        assert palette.item_for("nn.lstm").isHidden()
        assert "nn.lstm" not in palette.visible_type_ids() and "nn.gru" not in palette.visible_type_ids()
        assert "nn.transformer_encoder_layer" in palette.visible_type_ids()
        palette.filter.setText("lstm")
        assert "nn.lstm" not in palette.visible_type_ids()
        palette.filter.setText("")
        # nor can a paste or a block bring a hidden type in
        from studio.core.factory import make_node
        from studio.core.ops import AddNode

        lstm = make_node(registry.get("nn.lstm"), ed.graph, name="lstm")
        assert not ed.document.push(AddNode(ed.graph.id, lstm))
        assert "nn.lstm is not available in this exercise" in ed.window.status_message.text()
        # the teacher unhides one from the Exercise menu's controller
        ed.window.exercise.set_hidden(["nn.gru"])
        assert "nn.lstm" in palette.visible_type_ids() and "nn.gru" not in palette.visible_type_ids()
        # opening an ordinary project lists everything again
        from tests.ui.conftest import small_project

        ed.document.replace_project(small_project(registry))
        assert "nn.gru" in palette.visible_type_ids()
    finally:
        close_editor(ed)


def test_teacher_authors_an_exercise_from_the_menu(qtbot, registry, tmp_path):
    ed = open_editor(qtbot, registry, training=False)
    try:
        window, doc = ed.window, ed.document
        assert exercise_of(doc.project) is None and not window.docks["goals"].toggleViewAction().isChecked()
        assert [a.text() for a in window.exercise_actions.values()] == [
            "Add goal…", "Lock / unlock selected nodes", "Hide palette entries…", "Save as exercise…"]
        from studio.ui.exercise.dialogs import GoalDialog

        dialog = GoalDialog(window)
        dialog.kind.setCurrentIndex(dialog.kind.findData("metric"))
        dialog.target.setText("val_accuracy")
        dialog.value.setText("lots")
        dialog.accept()
        assert dialog.result_goal is None and "Metric after training" in dialog.error.text()
        dialog.value.setText("0.9")
        dialog.accept()
        assert dialog.result_goal == Goal(kind="metric", metric="val_accuracy", op=">=", value=0.9, epochs=5)
        dialog.at.setCurrentIndex(dialog.at.findData("last"))  # judge the last epoch (overfitting shows there)
        dialog.accept()
        assert dialog.result_goal.at == "last" and dialog.result_goal.describe() == "val_accuracy >= 0.9 after 5 epoch(s)"
        dialog.at.setCurrentIndex(dialog.at.findData("best"))
        dialog.accept()
        window.exercise.add_goal(dialog.result_goal)
        first = next(iter(ed.graph.nodes.values()))
        doc.set_selection(ed.graph.id, [first.id])
        window.exercise_actions["lock"].trigger()
        assert exercise_of(doc.project).locked == [first.name]
        assert not doc.push(RemoveNode(ed.graph.id, first.id))
        path = tmp_path / "ex.nnstudio"
        assert window.exercise.save_as_exercise(window.files, path, "my_exercise")
        saved = exercise_of(load_project(path, registry))
        assert saved.id == "my_exercise" and saved.locked == [first.name] and saved.goals[0].metric == "val_accuracy"
    finally:
        close_editor(ed)


def test_selecting_a_node_raises_the_inspector(qtbot, registry):
    ed = open_editor(qtbot, registry, training=False)
    try:
        window = ed.window
        window.docks["code"].raise_()
        qtbot.wait(10)
        assert window.docks["inspector"].visibleRegion().isEmpty()
        node = next(iter(ed.graph.nodes.values()))
        ed.scene.select_nodes([node.id])
        qtbot.waitUntil(lambda: not window.docks["inspector"].visibleRegion().isEmpty(), timeout=2000)
    finally:
        close_editor(ed)


def test_quitting_mid_training_asks_about_unsaved_changes_first_and_cancel_keeps_the_run(qtbot, registry,
                                                                                        monkeypatch, tmp_path):
    from tests.ui.training import projects

    monkeypatch.setenv("NNSTUDIO_RUNS_DIR", str(tmp_path / "runs"))
    ed = open_editor(qtbot, registry, projects.classification(registry, epochs=400))
    panel = ed.window.training_panel
    asked: list[str] = []
    panel._ask_stop = lambda title, text: asked.append(title) or False
    try:
        ed.document.push(SetParam(ed.graph.id, ed.node_named("x").id, "shape", [2]))  # unsaved edit
        panel.start_training()
        qtbot.waitUntil(lambda: panel.updates_seen > 2, timeout=60_000)
        ed.answers["unsaved"] = "cancel"
        assert not ed.window.close()
        assert asked == [] and panel.running  # Cancel at the first question: the run was never touched
        ed.answers["unsaved"] = "discard"
        assert not ed.window.close()  # then the run question; Cancel keeps window and run
        assert asked == ["Training is running"] and panel.running and not panel.session.control.cancelled
    finally:
        panel.stop_training()
        qtbot.waitUntil(lambda: not panel.running, timeout=60_000)
        close_editor(ed)
