"""Deep Q-learning on gymnasium's CartPole: trains from the user's graph, refuses a wrong graph clearly."""

from __future__ import annotations

import pytest

from studio.train.engine import run_to_end
from tests.train.helpers import chain, project


def _q_network(registry, n_in: int = 4, n_out: int = 2):
    return chain(registry, "q_network", [n_in], [("nn.linear", {"out_features": 32}), ("nn.relu", {}),
                                                 ("nn.linear", {"out_features": n_out})])


def test_cartpole_trains_and_reports_greedy_returns(registry):
    training = {"recipe": "dqn_control", "epochs": 2, "seed": 0, "optimizer": {"lr": 1e-3},
                "control": {"episodes": 12, "warmup": 100, "batch_size": 16, "eval_episodes": 2}}
    final = run_to_end(project(_q_network(registry), training=training), registry)
    assert final.kind == "done", final.message
    row = final.history[-1]
    assert 8 <= row["val_greedy_return"] <= 500 and row["val_greedy_return_min"] <= row["val_greedy_return"]
    payload = final.views["control"]
    assert payload["env"] == "CartPole-v1" and payload["states"].shape[1] == 4
    assert len(payload["returns"]["returns"]) == 12


@pytest.mark.parametrize("graph, needle", [((3, 2), "set the Input's shape to [4]"),
                                           ((4, 3), "must return 2 values")])
def test_a_graph_that_does_not_fit_the_task_is_named(registry, graph, needle):
    training = {"recipe": "dqn_control", "epochs": 1, "control": {"episodes": 2}}
    final = run_to_end(project(_q_network(registry, *graph), training=training), registry)
    assert final.kind == "error" and needle in final.message


def test_other_classic_control_tasks_run(registry):
    training = {"recipe": "dqn_control", "epochs": 1, "control": {"env": "Acrobot-v1", "episodes": 1,
                                                                   "eval_episodes": 1}}
    final = run_to_end(project(_q_network(registry, 6, 3), training=training), registry)
    assert final.kind == "done", final.message
