"""Step move: a tabular TD run advanced one move of the agent at a time, each move's update shown."""

from __future__ import annotations

import numpy as np
import pytest

from studio.train.control import RunControl
from studio.train.engine import run
from tests.train.helpers import mlp, project

GRID = {"layout": ["S...", "....", "...G"], "step_reward": -1.0, "goal_reward": 0.0}


def _training(recipe: str) -> dict:
    return {"recipe": recipe, "epochs": 1, "seed": 3,
            "rl": {"episodes": 30, "lr": 0.5, "gamma": 0.9, "epsilon_start": 0.5, "epsilon_end": 0.5,
                   "random_start": False, "grid": GRID}}


def _stepped(registry, recipe: str, moves: int, then_resume: bool = False):
    """Step ``moves`` single moves; returns each move's gridworld view (and the run's end if resumed)."""
    control = RunControl()
    control.step_move()
    shown, latest, final = [], None, None
    for u in run(project(mlp(registry, "q", 12, 8, 4), training=_training(recipe)), registry, control=control):
        if u.kind == "views" and "gridworld" in u.views:
            latest = u.views["gridworld"]
        if u.kind == "paused":
            shown.append(latest)
            if len(shown) == moves:
                if not then_resume:
                    break
                control.resume()
            else:
                control.step_move()
        if u.kind in ("done", "error"):
            final = u
    return shown, final


@pytest.mark.parametrize("recipe", ["q_learning_tabular", "sarsa", "expected_sarsa"])
def test_each_step_is_one_move_with_its_q_update(registry, recipe):
    shown, _ = _stepped(registry, recipe, 4)
    assert len(shown) == 4
    for k, view in enumerate(shown):
        move = view["move"]
        path = [tuple(rc) for rc in view["path"]]
        assert move is not None
        if not move["done"]:
            assert len(path) == k + 2  # the start and one cell per move: the trail so far
        assert path[-1] == tuple(move["to"]) and path[-2] == tuple(move["from"])
        assert move["new"] == pytest.approx(move["old"] + move["alpha"] * (move["target"] - move["old"]))
        r, c = move["from"]
        assert view["q"][r, c, move["action"]] == pytest.approx(move["new"], abs=1e-6)
    # moves from the start with a step reward of −1: the first update moves Q(start, a) from 0 towards −1
    first = shown[0]["move"]
    assert first["old"] == 0.0 and first["target"] == pytest.approx(-1.0) and first["new"] == pytest.approx(-0.5)


def test_resuming_finishes_the_stepped_episode_and_the_run(registry):
    shown, final = _stepped(registry, "sarsa", 3, then_resume=True)
    assert final is not None and final.kind == "done", final
    prefix = [tuple(rc) for rc in shown[-1]["path"]]
    assert len(prefix) == 4 and not shown[-1]["move"]["done"]
    # the three stepped moves took three of the run's 30 steps; the resumed step finished that episode
    returns = np.asarray(final.views["returns"]["returns"])
    assert len(returns) == 30 - 3
    assert final.views["returns"]["lengths"][0] > 3  # the first episode went on from its third move
    assert final.views["gridworld"]["move"] is None


def test_dynamic_programming_steps_a_sweep_when_asked_for_a_move(registry):
    shown, _ = _stepped(registry, "value_iteration", 2)
    assert [v["sweep"] for v in shown] == [1, 2]


def test_step_move_is_a_one_step_budget_that_any_other_request_ends():
    control = RunControl()
    assert not control.by_move
    control.step_move()
    assert control.by_move and control.watching and not control.paused
    control.after_step()
    assert control.paused and control.by_move  # paused after one move; the next step_move is again a move
    for ask in (control.resume, lambda: control.step(1), control.step_epoch):
        control.step_move()
        ask()
        assert not control.by_move
