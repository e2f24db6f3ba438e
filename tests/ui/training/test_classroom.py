"""Classroom stepping from the panel in every paradigm, slow motion, and live RL sliders on a running agent."""

from __future__ import annotations

import pytest

from tests.ui.training import projects

PARADIGMS = ["classification", "regression", "attention", "reconstruction", "gan", "tabular", "dqn"]


def _steps(panel) -> int:
    run = panel.plots.runs[-1]
    series = run.series.get(("step", "loss"))
    return series.n if series is not None else 0


def _stop(panel, qtbot) -> None:
    panel.stop_training()
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)


@pytest.mark.parametrize("paradigm", PARADIGMS)
def test_step_then_step_epoch_in_every_paradigm_updates_views_each_time(window, qtbot, registry, paradigm):
    window.document.replace_project(getattr(projects, paradigm)(registry))
    panel = window.window.training_panel
    bar = panel.step_bar
    bar.step_button.click()  # starts a run and stops after one step
    assert panel.running
    qtbot.waitUntil(lambda: panel.session.paused and _steps(panel) == 1, timeout=60_000)
    seen = panel.views.last_step
    assert seen == 1 and panel.pause_button.text() == "Resume"  # the views show the state after that step
    bar.step_button.click()
    qtbot.waitUntil(lambda: panel.session.paused and _steps(panel) == 2, timeout=30_000)
    assert panel.views.last_step == 2
    bar.epoch_button.click()
    qtbot.waitUntil(lambda: panel.session.paused and any(
        k[0] == "epoch" for k, s in panel.plots.runs[-1].series.items() if s.n), timeout=60_000)
    _stop(panel, qtbot)


def test_slow_motion_shows_every_step_and_play_returns_to_full_speed(window, qtbot, registry):
    window.document.replace_project(projects.classification(registry, epochs=50))
    panel = window.window.training_panel
    panel.step_bar.speed.setValue(1)  # 20 steps/s
    panel.train_button.click()
    qtbot.waitUntil(lambda: _steps(panel) >= 6, timeout=30_000)
    shown = []
    for _ in range(3):
        before = panel.views.last_step
        qtbot.waitUntil(lambda b=before: panel.views.last_step > b, timeout=10_000)
        shown.append(panel.views.last_step)
    assert all(b - a <= 2 for a, b in zip(shown, shown[1:], strict=False))  # views follow each step
    panel.step_bar.speed.setValue(0)
    assert panel.session.control.delay_s == 0.0
    _stop(panel, qtbot)


def test_moving_a_slider_changes_the_running_agent(window, qtbot, registry, monkeypatch):
    from studio.train import engine

    applied = []
    original = engine.apply_live

    def spy(settings, changes):
        refused = original(settings, changes)
        applied.append((dict(changes), settings.rl.lr, settings.rl.gamma, settings.rl.epsilon_end))
        return refused

    monkeypatch.setattr(engine, "apply_live", spy)
    project = projects.tabular(registry)
    project.training["rl"]["episodes"] = 100_000
    window.document.replace_project(project)
    panel = window.window.training_panel
    live = panel.live_controls
    assert live.isVisible() or not panel.isVisible()
    panel.step_bar.speed.setValue(1)
    panel.train_button.click()
    qtbot.waitUntil(lambda: _steps(panel) >= 2, timeout=30_000)
    live.sliders["rl.lr"].setValue(20)
    live.sliders["rl.gamma"].setValue(50)
    live.sliders["rl.epsilon_start"].setValue(0)
    qtbot.waitUntil(lambda: bool(applied) and applied[-1][1:] == (0.2, 0.5, 0.0), timeout=10_000)
    _stop(panel, qtbot)


def test_slider_release_is_one_named_undo_step(window, registry):
    window.document.replace_project(projects.tabular(registry))
    panel = window.window.training_panel
    live = panel.live_controls
    doc = window.document
    live.sliders["rl.epsilon_start"].setValue(30)
    live._store(("rl.epsilon_start", "rl.epsilon_end"), 0.3)
    rl = doc.project.training["rl"]
    assert rl["epsilon_start"] == rl["epsilon_end"] == 0.3
    assert "ε" in doc.undo_stack.undoText() and "rl." not in doc.undo_stack.undoText()
    doc.undo_stack.undo()
    assert doc.project.training["rl"].get("epsilon_end") != 0.3
    assert live.sliders["rl.epsilon_start"].value() != 30  # the slider follows the undo


def _watch_views(panel) -> list[int]:
    """The step of every views payload the live views get, in order."""
    seen: list[int] = []
    original = panel.views.show_views

    def spy(views):
        original(views)
        seen.append(panel.views.last_step)

    panel.views.show_views = spy
    return seen


def _play_slowly_then_pause(window, qtbot, registry, paradigm: str) -> None:
    project = getattr(projects, paradigm)(registry)
    window.document.replace_project(project)
    panel = window.window.training_panel
    bar = panel.step_bar
    bar.speed.setValue(2)  # slow motion: 5 steps/s
    seen = _watch_views(panel)
    assert bar.play_button.text() == "▶ Play"
    bar.play_button.click()  # nothing runs: Play starts a run at the chosen speed
    assert panel.running and bar.play_button.text() == "⏸ Pause"
    assert panel.session.control.delay_s == 0.2
    qtbot.waitUntil(lambda: _steps(panel) >= 4 and len(seen) >= 4, timeout=60_000)
    steps = [s for s in seen if s > 0]
    # every step is shown, one after the other: the views and the curve move after each step
    assert steps[-4:] == list(range(steps[-4], steps[-4] + 4)), steps
    assert _steps(panel) >= steps[-1] - 1
    bar.play_button.click()  # Pause
    qtbot.waitUntil(lambda: panel.session.paused, timeout=10_000)
    assert bar.play_button.text() == "▶ Play" and panel.pause_button.text() == "Resume"
    qtbot.wait(600)
    frozen = _steps(panel), panel.views.last_step
    qtbot.wait(600)
    assert (_steps(panel), panel.views.last_step) == frozen  # paused: nothing moves
    bar.actions["play"].trigger()  # F8: play again from the pause
    assert bar.play_button.text() == "⏸ Pause"
    qtbot.waitUntil(lambda: _steps(panel) > frozen[0] + 1, timeout=30_000)
    _stop(panel, qtbot)


@pytest.mark.slow
def test_play_starts_pauses_and_resumes_in_slow_motion(window, qtbot, registry):
    _play_slowly_then_pause(window, qtbot, registry, "classification")


@pytest.mark.slow
@pytest.mark.parametrize("paradigm", [p for p in PARADIGMS if p != "classification"])
def test_play_in_slow_motion_updates_views_after_each_step_in_every_paradigm(window, qtbot, registry, paradigm):
    _play_slowly_then_pause(window, qtbot, registry, paradigm)


@pytest.mark.slow
def test_play_resumes_a_stepped_run_at_full_speed_and_keys_reach_the_bar(window, qtbot, registry):
    window.document.replace_project(projects.classification(registry, epochs=50))
    panel = window.window.training_panel
    bar = panel.step_bar
    assert {a.shortcut().toString() for a in bar.actions.values()} == {"F7", "Shift+F7", "F8"}
    assert all(a in window.window.actions() for a in bar.actions.values())  # window-wide: no menu bar needed
    bar.actions["step"].trigger()
    qtbot.waitUntil(lambda: panel.session.paused and _steps(panel) == 1, timeout=60_000)
    assert bar.play_button.text() == "▶ Play"
    bar.play_button.click()  # a paused (stepped) run plays on at full speed
    assert not panel.session.paused and panel.session.control.delay_s == 0.0
    qtbot.waitUntil(lambda: _steps(panel) >= 20, timeout=30_000)
    assert not panel.session.control.stepping and bar.play_button.text() == "⏸ Pause"
    _stop(panel, qtbot)
    qtbot.waitUntil(lambda: bar.play_button.text() == "▶ Play", timeout=5_000)
