"""Policy evaluation of the random policy, of arrows a teacher writes, and policy iteration, against
values computed by hand on a 1 × 3 corridor (S, a free cell, the goal; −1 per move, bumps stay put)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.train import tabular
from studio.train.control import RunControl
from studio.train.engine import run, run_to_end
from studio.train.gridworld import GridWorld
from studio.train.settings import SettingsError
from tests.train.helpers import mlp, project

CORRIDOR = {"layout": ["S.G"], "step_reward": -1.0, "goal_reward": 0.0}


def _training(**rl) -> dict:
    return {"recipe": "policy_evaluation", "epochs": 1, "seed": 0,
            "rl": {"episodes": 200, "random_start": False, "grid": CORRIDOR, **rl}}


def _sweeps(registry, n: int, **rl) -> list[dict]:
    """The gridworld view after each of the first ``n`` sweeps (stepped one at a time)."""
    control = RunControl()
    control.step(1)
    shown, latest = [], None
    for u in run(project(mlp(registry, "q", 3, 4, 4), training=_training(**rl)), registry, control=control):
        if u.kind == "views" and "gridworld" in u.views:
            latest = u.views["gridworld"]
        if u.kind == "paused":
            shown.append(latest)
            if len(shown) == n:
                break
            control.step(1)
    return shown


def test_random_policy_sweep_by_sweep_and_converged(registry):
    # by hand, γ = 1: V0 = −1 + ¾ V0 + ¼ V1 and V1 = −1 + ½ V1 + ¼ V0 (+ ¼ · 0 at the goal): V0 = −12, V1 = −8.
    # Synchronous sweeps from 0: sweep 1 gives (−1, −1); sweep 2 gives (−1 − ¾ − ¼, −1 − ½ − ¼) = (−2, −1.75).
    first, second = _sweeps(registry, 2, gamma=1.0)
    assert first["values"][0, :2] == pytest.approx([-1.0, -1.0])
    assert second["values"][0, :2] == pytest.approx([-2.0, -1.75])
    assert "policy" not in first  # random: the arrows are the greedy arrows of V (Figure 4.1)
    final = run_to_end(project(mlp(registry, "q", 3, 4, 4), training=_training(gamma=1.0)), registry)
    assert final.views["gridworld"]["values"][0, :2] == pytest.approx([-12.0, -8.0], abs=1e-6)


def test_arrows_the_teacher_writes_are_evaluated(registry):
    # "<>": the start bumps left forever, the middle walks into the goal. γ = ½: V0 = −1 + ½ V0 = −2, V1 = −1.
    final = run_to_end(project(mlp(registry, "q", 3, 4, 4),
                               training=_training(gamma=0.5, policy="arrows", policy_arrows="<>")), registry)
    view = final.views["gridworld"]
    assert view["values"][0, :2] == pytest.approx([-2.0, -1.0], abs=1e-6)
    assert view["policy"][0, 0].tolist() == [False, False, False, True]  # the view draws the policy's arrow


def test_greedy_is_policy_iteration_from_random_to_the_shortest_path(registry):
    final = run_to_end(project(mlp(registry, "q", 3, 4, 4), training=_training(gamma=1.0, policy="greedy", episodes=1000)),
                       registry)
    view = final.views["gridworld"]
    assert view["values"][0, :2] == pytest.approx([-2.0, -1.0], abs=1e-6)  # right, right: the optimal policy
    assert view["policy"][0, 0].tolist() == [False, True, False, False]
    assert view["improvements"] == 1  # greedy in V of the random policy is already optimal here
    assert final.history[-1]["val_optimal_action_share"] == 1.0


def test_policy_iteration_shows_each_improvement_in_its_sweeps(registry):
    views = _sweeps(registry, 200, gamma=0.9, policy="greedy")
    counts = [v["improvements"] for v in views]
    assert counts[0] == 0 and max(counts) >= 1 and counts == sorted(counts)


def test_arrows_that_do_not_fit_the_grid_are_refused_at_their_key(registry):
    with pytest.raises(tabular.PolicyError, match="row 1 has 4 arrows"):
        tabular.arrows_policy(GridWorld(["S.G"]), ">>>>")
    final = run_to_end(project(mlp(registry, "q", 3, 4, 4),
                               training=_training(policy="arrows", policy_arrows="> > >")), registry)
    assert final.kind == "error" and "rl.policy_arrows" in final.message and "3 rows" in final.message
    with pytest.raises(SettingsError):
        from studio.train.settings import TrainingSettings

        TrainingSettings.from_dict(_training(policy="best"))


def test_improvement_keeps_a_tied_action(registry):
    env = GridWorld(["S..", "..G"], step_reward=-1.0, goal_reward=0.0)
    v = tabular.solve(env, 1.0)[0]
    down_first = tabular.arrows_policy(env, "v>v >>.")
    policy, stable = tabular.improve(env, down_first, v, 1.0)
    assert stable and np.array_equal(policy[0], down_first[0])  # down and right tie at the start: kept


def test_the_policy_settings_show_only_on_policy_evaluations_form():
    from studio.train.settings_form import field_for, settings_fields, validate_setting

    assert not [f for f in settings_fields("sarsa") if f.key.startswith("rl.policy")]
    keys = [f.key for f in settings_fields("policy_evaluation")]
    assert "rl.policy" in keys and "rl.policy_arrows" in keys
    assert field_for("rl.policy").choices == ("random", "arrows", "greedy")
    with pytest.raises(SettingsError, match="row 1 has 4 arrows for a grid 3 cells wide") as err:
        validate_setting("rl.policy_arrows", ">>>>", _training())
    assert err.value.key == "rl.policy_arrows"
