"""The gridworld view writes the values, shows every tied greedy action and toggles the Q values."""

from __future__ import annotations

import numpy as np

from studio.train.engine import run_to_end
from studio.ui.training.gridworld import GridworldView
from tests.train.helpers import mlp, project
from tests.train.test_rl_lab import BOOK_RL


def _payload(registry):
    final = run_to_end(project(mlp(registry, "q", 25, 8, 4), training={"recipe": "value_iteration", "epochs": 2,
                                                                        "rl": BOOK_RL}), registry)
    return final.views["gridworld"]


def test_ties_teleports_and_toggles(qtbot, registry):
    payload = _payload(registry)
    view = GridworldView()
    qtbot.addWidget(view)
    view.resize(500, 460)
    view.set_world(payload)
    assert view.best_actions(0, 1) == [0, 1, 2, 3]  # A: every move teleports, all tie
    assert view.best_actions(1, 0) == [0, 1]  # the book's figure: up or right
    assert len(view.teleports) == 2
    values_image = view.grab().toImage()
    view.set_q_values(True)
    q_image = view.grab().toImage()
    view.set_numbers(False)
    bare = view.grab().toImage()
    assert values_image != q_image and q_image != bare and values_image != bare


def test_the_views_page_has_the_toggles(qtbot, registry):
    from PySide6.QtWidgets import QCheckBox

    from studio.ui.training.views import LiveViews

    views = LiveViews()
    qtbot.addWidget(views)
    views.show_views({"gridworld": _payload(registry)})
    boxes = {b.text(): b for b in views.findChildren(QCheckBox)}
    boxes["Q values"].setChecked(True)
    assert views.parts["grid_world"].show_q
    boxes["Numbers"].setChecked(False)
    assert not views.parts["grid_world"].show_numbers
    assert np.isfinite(views.parts["grid_world"].values).all()


def test_step_move_button_moves_the_agent_one_cell_and_shows_the_update(window, qtbot, registry):
    """The Step move control on the gridworld page: each click is one move, its update written under the grid."""
    from studio.core.ops import SetTraining

    window.document.replace_project(project(mlp(registry, "q", 12, 8, 4), training={
        "recipe": "sarsa", "epochs": 1, "seed": 1,
        "rl": {"episodes": 50, "random_start": False, "epsilon_start": 0.5, "epsilon_end": 0.5,
               "grid": {"layout": ["S...", "....", "...G"], "step_reward": -1.0, "goal_reward": 0.0}}}))
    window.document.push(SetTraining("rl.lr", 0.5))
    panel = window.window.training_panel
    panel.views.prepare(("gridworld", "returns"))
    panel.views.show_views({"gridworld": {"cells": np.zeros((3, 4)), "values": np.zeros((3, 4)),
                                          "actions": np.zeros((3, 4))}})
    bar = panel.views.parts["grid_move"]
    world = panel.views.parts["grid_world"]
    for clicks in (1, 2, 3):
        bar.button.click()
        assert panel.running
        qtbot.waitUntil(lambda c=clicks: panel.session.paused and panel.views.last_step == c, timeout=30_000)
        assert world.move is not None and len(world.path) == clicks + 1
        assert world.agent == clicks and not world.timer.isActive()  # the agent stands where the move took it
        if clicks == 1:  # from the start, reward −1, nothing learned yet: Q goes from 0 halfway to −1
            assert "← 0.000 + 0.5 · (-1.000 − 0.000) = -0.500" in bar.update_label.text()
    panel.stop_training()
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)


def test_an_evaluated_policy_draws_its_own_arrows_and_says_so(qtbot, registry):
    from studio.ui.training.gridworld import MoveBar

    training = {"recipe": "policy_evaluation", "epochs": 1, "rl": {**BOOK_RL, "policy": "greedy", "episodes": 1000}}
    payload = run_to_end(project(mlp(registry, "q", 25, 8, 4), training=training), registry).views["gridworld"]
    view = GridworldView()
    bar = MoveBar(view)
    qtbot.addWidget(view)
    qtbot.addWidget(bar)
    view.set_world(payload)
    assert view.best_actions(0, 1) == [0]  # one arrow: the policy's (value iteration shows all four tied)
    assert "policy being evaluated" in bar.update_label.text() and "improved" in bar.update_label.text()


def test_cell_numbers_grow_with_the_cell_and_fit_it(qtbot, registry):
    from PySide6.QtGui import QFontMetricsF

    from studio.ui.training.gridworld import number

    view = GridworldView()
    qtbot.addWidget(view)
    view.set_world(_payload(registry))
    sizes = []
    for size in ((260, 240), (700, 640)):  # a squeezed live view, then a roomy one (a projector at 150 %)
        view.resize(*size)
        side = view.geometry_of_grid()[2]
        for q in (False, True):
            view.set_q_values(q)
            font = view._number_font(side)
            fm = QFontMetricsF(font)
            widest = max(fm.horizontalAdvance(number(float(v))) for v in np.asarray(view.q if q else view.values).ravel())
            assert widest <= (side - 4) / (2 if q else 1) + 1, (size, q)  # the numbers stay inside their cell
            assert fm.height() <= side / 2.5, (size, q)
        sizes.append(font.pixelSize())
    assert sizes[1] > 16 > sizes[0] >= 7  # larger cells, larger numbers (the old cap was 16 px)


def test_a_5x5_grid_writes_its_numbers_on_a_720_line_projector_at_150_percent(qtbot, registry):
    """Presentation mode at 1280x720 and 150 %: the grid's controls sit beside it, so its cells keep the
    size at which their numbers are written (below them the numbers were ~24 px cells, left blank)."""
    from PySide6.QtWidgets import QApplication

    from studio.io.templates import load_template
    from studio.ui.training.gridworld import NUMBERS_FROM, GridPage
    from tests.ui.conftest import close_editor, open_editor

    ed = open_editor(qtbot, registry, load_template("gridworld_5x5", registry))
    try:
        window = ed.window
        window.resize(1280, 720)
        window.presentation.set_scale(150)
        window.presentation.enter(full_screen=False)
        window.presentation.relayout()
        panel = window.training_panel
        panel.views.prepare(("gridworld", "returns"))
        panel.views.show_views({"gridworld": _payload(registry)})
        panel.tabs.setCurrentWidget(panel.views)
        QApplication.processEvents()
        world = panel.views.parts["grid_world"]
        page = world.parentWidget()
        assert isinstance(page, GridPage) and page.beside()
        assert world.cells.shape == (5, 5) and world.isVisible()
        assert world.geometry_of_grid()[2] >= NUMBERS_FROM
        move = panel.views.parts["grid_move"]  # the controls are still there to press
        assert move.button.isVisible() and not move.button.visibleRegion().isEmpty()
        window.presentation.leave()
    finally:
        panel.shutdown()
        close_editor(ed)
