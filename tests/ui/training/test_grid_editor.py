"""Redrawing the gridworld from the training panel, and retraining on the new grid."""

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
