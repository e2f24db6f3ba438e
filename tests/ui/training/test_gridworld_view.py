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
