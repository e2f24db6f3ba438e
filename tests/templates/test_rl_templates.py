"""The RL lab's templates validate and train every stage to the lesson they teach (shortened runs)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.templates import apply_stage, load
from studio.train.engine import run_to_end
from tests.train.test_tabular import BOOK_V_STAR

RL_TEMPLATES = ("gridworld_5x5", "gridworld_cliff", "gridworld_sutton_barto", "cartpole_dqn", "cartpole_reinforce")


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


@pytest.mark.parametrize("stage", ["value_iteration", "random_policy", "policy_iteration"])
def test_sutton_barto_stages(registry, stage):
    final = _train(apply_stage(load("gridworld_sutton_barto", registry), stage), registry)
    values = np.asarray(final.views["gridworld"]["values"])
    if stage in ("value_iteration", "policy_iteration"):
        assert np.abs(values - BOOK_V_STAR).max() < 0.1
        assert final.history[-1]["val_optimal_action_share"] == 1.0
    else:
        assert values[0, 1] == pytest.approx(8.8, abs=0.1)


def test_cartpole_template_trains_shortened(registry):
    project = load("cartpole_dqn", registry)
    project.training["epochs"] = 1
    project.training["control"].update(episodes=4, warmup=50, batch_size=16, eval_episodes=1)
    final = _train(project, registry)
    assert final.history[-1]["val_greedy_return"] >= 8 and final.views["control"]["env"] == "CartPole-v1"


@pytest.mark.slow
def test_cartpole_reinforce_template_trains_shortened_and_writes_its_metrics(registry, tmp_path):
    from studio.cli import main

    project = load("cartpole_reinforce", registry)
    assert project.training["recipe"] == "reinforce" and project.training["pg"]["baseline"] == "value"
    project.training["epochs"] = 1
    project.training["pg"].update(episodes=4, batch_episodes=2, eval_episodes=1)
    final = _train(project, registry)
    assert final.history[-1]["val_greedy_return"] >= 8 and final.views["control"]["env"] == "CartPole-v1"
    assert len(final.views["control"]["states"]) > 1  # the cart drawn live: the last episode's states

    from studio.io.project_file import save_project

    path = tmp_path / "pg.nnstudio"
    save_project(project, path)
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    header = next((tmp_path / "run").rglob("metrics.csv")).read_text().splitlines()[0].split(",")
    assert "episode_return" in header and "val_greedy_return" in header
