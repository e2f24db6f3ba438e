"""The RL lab's paradigms through the engine: cliff walking, Example 3.5, slip, and bad grids."""

from __future__ import annotations

import numpy as np
import pytest

from studio.train.engine import run_to_end
from tests.train.helpers import mlp, project
from tests.train.test_tabular import BOOK_V_STAR, CLIFF

CLIFF_RL = {"gamma": 1.0, "lr": 0.5, "epsilon_start": 0.1, "epsilon_end": 0.1, "episodes": 500,
            "random_start": False, "grid": {"layout": CLIFF, "goal_reward": 0.0, "cliff_reward": -99.0,
                                            "step_reward": -1.0, "max_steps": 10_000}}
BOOK_RL = {"gamma": 0.9, "episodes": 200, "random_start": False,
           "grid": {"layout": ["." * 5] * 5, "step_reward": 0.0, "bump_reward": -1.0, "continuing": True,
                    "max_steps": 100, "teleports": [[0, 1, 4, 1, 10.0], [0, 3, 2, 3, 5.0]]}}


def train(registry, recipe: str, rl: dict, epochs: int = 5, seed: int = 0):
    p = project(mlp(registry, "q", 48, 8, 4), training={"recipe": recipe, "epochs": epochs, "seed": seed, "rl": rl})
    final = run_to_end(p, registry)
    assert final.kind == "done", final.message
    return final


def test_cliff_walking_q_learning_edge_versus_sarsa_safety(registry):
    q = train(registry, "q_learning_tabular", CLIFF_RL)
    s = train(registry, "sarsa", CLIFF_RL)
    assert q.history[-1]["val_greedy_return"] == -13
    assert s.history[-1]["val_greedy_return"] < -13
    q_returns = np.asarray(q.views["returns"]["returns"])
    s_returns = np.asarray(s.views["returns"]["returns"])
    assert len(q_returns) == len(s_returns) == 500
    assert s_returns[100:].mean() > q_returns[100:].mean()


def test_expected_sarsa_trains_on_the_cliff(registry):
    final = train(registry, "expected_sarsa", CLIFF_RL)
    assert final.history[-1]["val_greedy_return"] <= -13 and final.history[-1]["val_success"] == 1.0


def test_value_iteration_reproduces_example_3_5_and_shows_v(registry):
    final = train(registry, "value_iteration", BOOK_RL)
    values = np.asarray(final.views["gridworld"]["values"])
    assert np.abs(values - BOOK_V_STAR).max() < 0.1
    assert final.history[-1]["val_optimal_action_share"] == 1.0
    assert final.history[-1]["val_v_error"] < 1e-6


def test_policy_evaluation_converges_on_the_random_policy(registry):
    final = train(registry, "policy_evaluation", BOOK_RL)
    values = np.asarray(final.views["gridworld"]["values"])
    assert values[0, 1] == pytest.approx(8.8, abs=0.1) and values[4, 4] == pytest.approx(-2.0, abs=0.1)


def test_slippery_grid_value_iteration_policy_scores_one(registry):
    rl = {"gamma": 0.95, "episodes": 100, "grid": {"layout": ["S...", ".#.X", "...G"], "step_reward": -0.04,
                                                  "slip": 0.3}}
    assert train(registry, "value_iteration", rl).history[-1]["val_optimal_action_share"] == 1.0


@pytest.mark.parametrize("grid, key", [({"continuing": True, "layout": ["S.", ".."]}, "rl.gamma"),
                                       ({"teleports": [[9, 9, 0, 0, 1.0]]}, "rl.grid.teleports.0.row"),
                                       ({"cell_rewards": [[0.5, 0, 1.0]]}, "rl.grid.cell_rewards.0.row")])
def test_bad_grid_settings_name_their_key(registry, grid, key):
    p = project(mlp(registry, "q", 4, 8, 4), training={"recipe": "sarsa", "rl": {"gamma": 1.0, "grid": grid}})
    final = run_to_end(p, registry)
    assert final.kind == "error" and final.setting == key, final.message
