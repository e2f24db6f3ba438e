"""Step, step epoch, slow motion and live settings: what a classroom asks of a running loop."""

from __future__ import annotations

import threading
import time

from studio.train.control import RunControl
from studio.train.engine import run
from tests.train.helpers import mlp, project

SPIRALS = {"recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 400}}, "epochs": 3,
           "batch_size": 40, "threads": 1}


def _drive(registry, training, control, actions):
    """Run in a thread; ``actions(updates)`` is called from this thread and drives ``control``."""
    updates = []
    thread = threading.Thread(target=lambda: updates.extend(run(project(mlp(registry, "m", 2, 8, 3),
                                                                        training=training), registry,
                                                                control=control)))
    thread.start()
    try:
        actions(updates)
    finally:
        control.cancel()
        thread.join(30)
    return updates


def _wait(pred, timeout=20.0):
    end = time.time() + timeout
    while not pred():
        assert time.time() < end, "timed out"
        time.sleep(0.01)


def test_step_runs_exactly_the_steps_asked_and_reports_each(registry):
    control = RunControl()
    control.pause()

    def actions(updates):
        _wait(lambda: any(u.kind == "paused" for u in updates))
        for expected in (1, 2, 5):
            control.step(1 if expected < 5 else 3)
            _wait(lambda e=expected: sum(u.kind == "paused" for u in updates) >= 1 + (e if e < 5 else 3)
                  and updates[-1].kind == "paused")
            steps = [u.step for u in updates if u.kind == "step"]
            assert steps[-1] == expected, steps  # every step reported, none beyond the budget

    _drive(registry, SPIRALS, control, actions)


def test_step_epoch_stops_at_the_epoch_end(registry):
    control = RunControl()
    control.pause()

    def actions(updates):
        _wait(lambda: any(u.kind == "paused" for u in updates))
        control.step_epoch()
        _wait(lambda: any(u.kind == "epoch" for u in updates) and updates[-1].kind == "paused")
        assert [u.epoch for u in updates if u.kind == "epoch"] == [1]
        assert max(u.step for u in updates if u.kind == "step") == 8  # 320 training samples / 40

    _drive(registry, SPIRALS, control, actions)


def test_slow_motion_sends_views_after_every_step(registry):
    control = RunControl()
    control.set_delay(0.05)

    def actions(updates):
        _wait(lambda: sum(u.kind == "step" for u in updates) >= 6)
        steps = [u.step for u in updates if u.kind == "step"][:6]
        assert steps == list(range(1, 7))
        views = [u for u in updates if u.kind == "views"]
        assert len(views) >= 4  # not throttled to one a second

    _drive(registry, SPIRALS, control, actions)


def test_live_settings_reach_the_running_agent(registry):
    training = {"recipe": "sarsa", "epochs": 2, "rl": {"episodes": 10_000, "lr": 0.5,
                                                       "grid": {"layout": ["S..", "..G"]}}}
    control = RunControl()
    control.set_delay(0.01)
    seen = {}

    def actions(updates):
        _wait(lambda: sum(u.kind == "step" for u in updates) >= 2)
        control.set_live("rl.lr", 0.0)
        control.set_live("rl.gamma", 0.5)
        control.pause()
        _wait(lambda: updates[-1].kind == "paused")
        seen["paused"] = True

    from studio.train import engine

    original = engine._Loop._control_point
    loops = []

    def spy(self):
        loops.append(self)
        yield from original(self)

    engine._Loop._control_point = spy
    try:
        _drive(registry, training, control, actions)
    finally:
        engine._Loop._control_point = original
    rl = loops[-1].recipe.settings.rl
    assert seen and rl.lr == 0.0 and rl.gamma == 0.5
