"""The settings form's table for list-of-records settings (the gridworld's cell rewards and teleports):
add and remove rows, each cell checked by the schema, a refusal shown at its cell, one undo step per edit."""

from __future__ import annotations

from studio.core.model import Graph, Project
from studio.ui.training.records_editor import RecordsEditor

GRID = ["S...", ".#..", "...G"]


def _grid_project() -> Project:
    return Project(name="grid", graphs=[Graph(name="model")],
                   training={"recipe": "q_learning_tabular", "epochs": 1,
                             "rl": {"episodes": 20, "grid": {"layout": GRID}}})


def _table(panel, key: str) -> RecordsEditor:
    row = panel.controls[key]
    panel.form.section_of(key).set_open(True)
    assert isinstance(row.editor, RecordsEditor)
    return row.editor


def test_cell_rewards_table_adds_edits_refuses_and_removes_one_undo_step_each(window, registry):
    window.document.replace_project(_grid_project())
    panel, doc = window.window.training_panel, window.document
    stack = doc.undo_stack
    grid = lambda: doc.project.training["rl"]["grid"]  # noqa: E731
    table = _table(panel, "rl.grid.cell_rewards")
    assert [table.table.horizontalHeaderItem(i).text() for i in range(3)] == ["Row", "Column", "Reward"]
    steps = stack.count()
    assert table.add_row() is None  # row 0, column 0, reward 1: the start cell, allowed
    assert grid()["cell_rewards"] == [[0, 0, 1.0]] and stack.count() == steps + 1
    assert stack.undoText().startswith("Set cell rewards")
    table = _table(panel, "rl.grid.cell_rewards")  # the form may have been rebuilt
    assert table.type_cell(0, 2, "-5") is None
    assert grid()["cell_rewards"] == [[0, 0, -5.0]] and stack.count() == steps + 2

    # refused at the field, with the reason; nothing stored, no undo step
    table = _table(panel, "rl.grid.cell_rewards")
    reason = table.type_cell(0, 1, "1.5")
    assert reason and "whole" in reason and table.bad == (0, 1)
    assert panel.controls["rl.grid.cell_rewards"].problem_text() == reason
    reason = table.type_cell(0, 1, "9")
    assert "off the grid" in reason and "columns 0 to 3" in reason and table.bad == (0, 1)
    reason = table.type_cell(0, 0, "abc")
    assert "not a number" in reason and table.bad == (0, 0)
    assert "off the grid" in table.type_cell(0, 0, "0")  # the table still holds column 9: still refused
    assert grid()["cell_rewards"] == [[0, 0, -5.0]] and stack.count() == steps + 2
    assert table.type_cell(0, 1, "1") is None  # fixed: stored, one step
    assert grid()["cell_rewards"] == [[0, 1, -5.0]] and stack.count() == steps + 3
    table = _table(panel, "rl.grid.cell_rewards")
    reason = table.type_cell(0, 0, "1")  # (1, 1) is a wall
    assert "cell (1, 1) is a wall" in reason and table.bad == (0, 0)
    assert grid()["cell_rewards"] == [[0, 1, -5.0]]
    table.type_cell(0, 0, "2")  # (2, 1) is free: accepted
    assert grid()["cell_rewards"] == [[2, 1, -5.0]] and table.bad is None
    assert not panel.controls["rl.grid.cell_rewards"].problem_text()

    count = stack.count()
    table = _table(panel, "rl.grid.cell_rewards")
    assert table.remove_row() is None
    assert grid()["cell_rewards"] == [] and stack.count() == count + 1
    stack.undo()
    assert grid()["cell_rewards"] == [[2, 1, -5.0]]
    assert _table(panel, "rl.grid.cell_rewards").records == [[2, 1, -5.0]]  # the table follows the undo


def test_teleports_table_checks_the_target_cell(window, registry):
    window.document.replace_project(_grid_project())
    panel, doc = window.window.training_panel, window.document
    table = _table(panel, "rl.grid.teleports")
    assert table.table.columnCount() == 5
    assert table.add_row() is None  # (0, 0) -> (0, 1), +10
    table = _table(panel, "rl.grid.teleports")
    reason = table.type_cell(0, 2, "7")
    assert "row 7 is off the grid" in reason and table.bad == (0, 2)
    assert doc.project.training["rl"]["grid"]["teleports"] == [[0, 0, 0, 1, 10.0]]
