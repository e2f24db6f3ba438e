"""Metric goals tick while the run trains: after each epoch, not only when the run ends."""

from __future__ import annotations

import pytest

from studio.exercises import Exercise, Goal, set_exercise
from tests.ui.training import projects


def _exercise_project(registry):
    project = projects.classification(registry, epochs=4)
    set_exercise(project, Exercise(id="live", goals=[
        Goal(kind="metric", metric="val_accuracy", op=">=", value=0.0, epochs=4),
        Goal(kind="metric", metric="val_accuracy", op=">=", value=1.01, epochs=4)]))
    return project


@pytest.mark.slow
def test_metric_goals_tick_after_each_epoch_while_the_run_trains(window, qtbot, registry):
    window.document.replace_project(_exercise_project(registry))
    goals, panel = window.window.goals_panel, window.window.training_panel
    assert goals.marks()[-2:] == ["○", "○"]  # checked after training
    panel.step_bar.epoch_button.click()  # train one epoch, then pause: the run is still going
    qtbot.waitUntil(lambda: panel.running and panel.session.paused and goals.marks()[-2] == "✓", timeout=60_000)
    reachable, unreachable = goals.results[-2], goals.results[-1]
    assert "in 1 epoch(s)" in reachable.detail  # ticked from the first epoch, before the run ended
    assert goals.marks()[-1] == "○" and "so far" in unreachable.detail and "training" in unreachable.detail
    panel.step_bar.epoch_button.click()
    qtbot.waitUntil(lambda: "in 2 epoch(s)" in goals.results[-2].detail, timeout=60_000)
    assert panel.running and goals.marks()[-1] == "○"
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.stop_training()
    qtbot.waitUntil(lambda: goals.marks()[-1] == "✗", timeout=5_000)  # the run ended without meeting it
    assert goals.marks()[-2] == "✓"
