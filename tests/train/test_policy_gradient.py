"""REINFORCE with a baseline: returns-to-go and the mean baseline by hand, the policy graph's checks, and
one update making the better-than-usual actions more likely."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.train.engine import run_to_end
from studio.train.recipes.policy_gradient import mean_baseline, returns_to_go
from tests.train.helpers import mlp, project


def test_returns_to_go_by_hand():
    # rewards 1, 1, 1 with γ = ½: G2 = 1, G1 = 1 + ½ = 1.5, G0 = 1 + ¾ = 1.75
    assert returns_to_go([1.0, 1.0, 1.0], 0.5).tolist() == [1.75, 1.5, 1.0]
    assert returns_to_go([0.0, 0.0, 4.0], 1.0).tolist() == [4.0, 4.0, 4.0]


def test_mean_baseline_averages_the_episodes_still_running_at_each_step():
    base = mean_baseline([np.array([3.0, 2.0, 1.0]), np.array([5.0])])
    assert base[0].tolist() == [4.0, 2.0, 1.0] and base[1].tolist() == [4.0]


def _training(**pg) -> dict:
    return {"recipe": "reinforce", "epochs": 1, "seed": 0, "optimizer": {"name": "adam", "lr": 0.01},
            "pg": {"episodes": 4, "batch_episodes": 2, "eval_episodes": 1, **pg}}


@pytest.mark.parametrize("baseline", ["value", "mean", "none"])
def test_a_short_run_trains_with_each_baseline(registry, baseline):
    final = run_to_end(project(mlp(registry, "policy", 4, 16, 2), training=_training(baseline=baseline)), registry)
    assert final.kind == "done", final.message
    row = final.history[-1]
    assert row["episode_return"] >= 8 and row["val_greedy_return"] >= 8 and np.isfinite(row["loss"])
    assert len(final.views["control"]["returns"]["returns"]) == 4


def test_a_policy_with_the_wrong_shapes_is_refused_in_words(registry):
    final = run_to_end(project(mlp(registry, "policy", 3, 8, 2), training=_training()), registry)
    assert final.kind == "error" and "CartPole-v1 observations have 4 values" in final.message
    final = run_to_end(project(mlp(registry, "policy", 4, 8, 3), training=_training()), registry)
    assert final.kind == "error" and "2 logits" in final.message


def test_one_update_makes_the_actions_that_beat_the_baseline_more_likely(registry):
    from studio.train.control import RunControl
    from studio.train.engine import _Loop

    loop = _Loop(project(mlp(registry, "policy", 4, 16, 2), training=_training(baseline="mean", batch_episodes=2)),
                 registry, None, RunControl(), None, None, 0.05, 1.0)
    updates = loop.run()
    next(u for u in updates if u.kind == "started")
    recipe = loop.recipe
    obs = np.zeros((3, 4), np.float32)
    # two episodes from the same state: action 1 was followed by more return than action 0
    recipe.batch = [(obs, np.array([1, 1, 1]), [1.0, 1.0, 1.0]), (obs[:1], np.array([0]), [1.0])]
    before = torch.softmax(recipe.logits(obs[0]), 0)[1].item()
    recipe._learn()
    after = torch.softmax(recipe.logits(obs[0]), 0)[1].item()
    assert after > before
    updates.close()
