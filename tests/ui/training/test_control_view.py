"""The classic-control page replays the last episode and plots the returns."""

from __future__ import annotations

import numpy as np

from studio.ui.training.control_view import ControlView
from studio.ui.training.views import LiveViews


def _payload(env: str, dims: int, steps: int = 30) -> dict:
    states = np.random.default_rng(0).normal(0, 0.1, (steps, dims)).astype(np.float32)
    return {"env": env, "states": states,
            "returns": {"episodes": np.arange(1, 11), "returns": np.linspace(10, 200, 10, dtype=np.float32)}}


def test_control_page_shows_the_episode_and_the_returns(qtbot):
    views = LiveViews()
    qtbot.addWidget(views)
    views.prepare(("control",))
    views.show_views({"control": _payload("CartPole-v1", 4)})
    assert "control" in views.pages and "grid" not in views.pages
    view = views.parts["control_view"]
    assert len(view.states) == 30 and view.state is not None
    x, y = views.parts["returns_curve"].getData()
    assert len(x) == 10 and y[-1] == 200


def test_every_task_paints_frames_that_differ(qtbot):
    for env, dims in (("CartPole-v1", 4), ("Acrobot-v1", 6), ("MountainCar-v0", 2)):
        view = ControlView()
        qtbot.addWidget(view)
        view.resize(320, 220)
        view.set_episode(env, _payload(env, dims)["states"] * 10)
        first = view.grab().toImage()
        view.frame = 20
        assert view.grab().toImage() != first, env
