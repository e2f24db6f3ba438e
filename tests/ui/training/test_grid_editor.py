"""Redrawing the gridworld from the training panel, and retraining on the new grid."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from studio.io.templates import load_template
from studio.ui.document import Document
from studio.ui.training.grid_editor import GridEditorDialog, current_layout


def _dialog(qtbot, registry):
    document = Document(registry, load_template("gridworld_q", registry))
    dialog = GridEditorDialog(document)
    qtbot.addWidget(dialog)
    dialog.resize(420, 480)
    dialog.show()
    qtbot.waitExposed(dialog)
    return document, dialog


def test_clicking_cells_and_apply_is_one_undoable_step(qtbot, registry):
    document, dialog = _dialog(qtbot, registry)
    before = current_layout(document.project.training)
    canvas = dialog.canvas
    rect = canvas._cell_rect(0, 1)
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(int(rect.center().x()), int(rect.center().y())))
    assert canvas.layout_rows()[0][1] == "#"  # free -> wall
    dialog.height_box.setValue(len(before) + 1)
    assert len(canvas.layout_rows()) == len(before) + 1
    dialog.apply_button.click()
    after = current_layout(document.project.training)
    assert after[0][1] == "#" and len(after) == len(before) + 1
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert current_layout(document.project.training) == before


def test_a_grid_without_start_or_goal_cannot_be_applied(qtbot, registry):
    document, dialog = _dialog(qtbot, registry)
    rows = dialog.canvas.rows
    start = next((r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "S")
    rows[start[0]][start[1]] = "."
    dialog.canvas.changed.emit()
    assert not dialog.apply_button.isEnabled()
    assert "start" in dialog.status.text()
    assert document.undo_stack.count() == 0


def test_retraining_on_a_redrawn_grid_finds_its_shortest_paths(registry):
    from studio.train.engine import run_to_end

    project = load_template("gridworld_q", registry)
    project.training.setdefault("rl", {}).setdefault("grid", {})["layout"] = ["S..#", ".#..", "...X", "#..G"]
    project.training["rl"]["episodes"] = 400
    project.training.update(threads=1, device="cpu", recipe="q_learning_tabular")
    final = run_to_end(project, registry)
    assert final.kind == "done", final.message
    assert final.history[-1]["val_optimal_paths"] == 1.0


def _click(canvas, r, c, button):
    rect = canvas._cell_rect(r, c)
    QTest.mouseClick(canvas, button, pos=QPoint(int(rect.center().x()), int(rect.center().y())))


def test_right_click_gives_a_cell_a_reward_and_a_teleport_in_one_undo_step(qtbot, registry):
    document, dialog = _dialog(qtbot, registry)
    _click(dialog.canvas, 0, 2, Qt.MouseButton.RightButton)
    panel = dialog.cell_panel
    assert panel.isEnabled() and "row 1, column 3" in panel.where.text()
    panel.reward.setValue(2.5)
    panel.to_row.setValue(4)
    panel.to_col.setValue(1)
    panel.jump_reward.setValue(10)
    panel.teleport.setChecked(True)
    dialog.apply_button.click()
    grid = document.project.training["rl"]["grid"]
    assert grid["cell_rewards"] == [[0, 2, 2.5]] and grid["teleports"] == [[0, 2, 3, 0, 10.0]]
    assert document.undo_stack.count() == 1 and document.undo_stack.undoText() == "Edit gridworld"
    document.undo_stack.undo()
    assert "cell_rewards" not in document.project.training["rl"].get("grid", {})


@pytest.mark.slow
def test_resizing_the_grid_resizes_the_q_networks_input_in_the_same_step(qtbot, registry):
    from studio.train.engine import run_to_end

    document, dialog = _dialog(qtbot, registry)
    graph = next(g for g in document.project.graphs if g.name == "q_network")
    inp = next(n for n in graph.nodes.values() if n.type_id == "io.input")
    assert inp.params["shape"] == [64]
    dialog.height_box.setValue(5)
    dialog.width_box.setValue(5)
    dialog.canvas.rows[4][4] = "G"  # the old goal was cut off
    dialog.canvas.changed.emit()
    dialog.apply_button.click()
    assert inp.params["shape"] == [25] and document.undo_stack.count() == 1
    project = document.project.snapshot()
    project.training.update(recipe="dqn", epochs=1, threads=1, device="cpu")
    project.training["rl"].update(episodes=20, warmup=10, batch_size=8)
    final = run_to_end(project, registry)
    assert final.kind == "done", final.message
    document.undo_stack.undo()
    assert inp.params["shape"] == [64]
