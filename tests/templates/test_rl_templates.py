"""The RL lab's templates validate and train every stage to the lesson they teach (shortened runs)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.templates import apply_stage, load
from studio.train.engine import run_to_end
from tests.train.test_tabular import BOOK_V_STAR

RL_TEMPLATES = ("gridworld_5x5", "gridworld_cliff", "gridworld_sutton_barto", "cartpole_dqn")


def _train(project, registry):
    final = run_to_end(project.snapshot(), registry)
    assert final.kind == "done", final.message
    return final


def test_5x5_q_learning_reaches_the_goal_with_the_seeds_settings(registry):
    project = load("gridworld_5x5", registry)
    rl = project.training["rl"]
    assert (rl["lr"], rl["gamma"], rl["epsilon_start"], rl["epsilon_end"]) == (0.1, 0.9, 0.1, 0.1)
    final = _train(project, registry)
    assert final.history[-1]["val_success"] == 1.0
    assert final.history[-1]["val_optimal_action_share"] >= 0.85
    assert _train(apply_stage(project, "value_iteration"), registry).history[-1]["val_optimal_action_share"] == 1.0


def test_cliff_stages_teach_edge_versus_safety(registry):
    project = load("gridworld_cliff", registry)
    q = _train(apply_stage(project, "q_learning"), registry)
    s = _train(apply_stage(project, "sarsa"), registry)
    assert q.history[-1]["val_greedy_return"] == -13 and s.history[-1]["val_greedy_return"] < -13
    q_ret, s_ret = (np.asarray(r.views["returns"]["returns"])[100:].mean() for r in (q, s))
    assert s_ret > q_ret


@pytest.mark.parametrize("stage", ["value_iteration", "random_policy"])
def test_sutton_barto_stages(registry, stage):
    final = _train(apply_stage(load("gridworld_sutton_barto", registry), stage), registry)
    values = np.asarray(final.views["gridworld"]["values"])
    if stage == "value_iteration":
        assert np.abs(values - BOOK_V_STAR).max() < 0.1
    else:
        assert values[0, 1] == pytest.approx(8.8, abs=0.1)


def test_cartpole_template_trains_shortened(registry):
    project = load("cartpole_dqn", registry)
    project.training["epochs"] = 1
    project.training["control"].update(episodes=4, warmup=50, batch_size=16, eval_episodes=1)
    final = _train(project, registry)
    assert final.history[-1]["val_greedy_return"] >= 8 and final.views["control"]["env"] == "CartPole-v1"
