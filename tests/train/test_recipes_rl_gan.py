import numpy as np
import pytest

from studio.train.engine import run, run_to_end
from tests.train.helpers import chain, mlp, project

GRID = ["S...", ".#X.", "...G"]


def test_tabular_q_learning_reaches_the_optimal_policy(registry):
    t = {"recipe": "q_learning_tabular", "epochs": 4, "threads": 1,
         "rl": {"episodes": 400, "gamma": 0.9, "lr": 0.5, "grid": {"layout": GRID}}}
    updates = list(run(project(training=t), registry))
    last = updates[-1]
    assert last.kind == "done", last.message
    assert last.history[-1]["val_optimal_paths"] == 1.0
    assert last.history[-1]["loss"] < last.history[0]["loss"]
    grid = last.views["gridworld"]
    assert grid["values"].shape == (3, 4) and grid["image"].ndim == 3
    assert grid["actions"][0, 0] in (1, 2)  # right or down are both shortest from the start
    assert len(last.views["returns"]["returns"]) == 400


def test_dqn_learns_with_the_users_graph(registry):
    t = {"recipe": "dqn", "epochs": 3, "threads": 1, "optimizer": {"lr": 0.003},
         "rl": {"episodes": 150, "gamma": 0.9, "warmup": 50, "batch_size": 32, "target_update": 50,
                "epsilon_decay": 0.5, "grid": {"layout": GRID}}}
    last = run_to_end(project(mlp(registry, "qnet", 12, 32, 4), training=t), registry)
    assert last.kind == "done", last.message
    h = last.history
    assert h[-1]["val_optimal_actions"] >= 0.8
    assert h[-1]["return"] > h[0]["return"]


def test_dqn_with_a_wrong_input_shape_names_the_input(registry):
    t = {"recipe": "dqn", "epochs": 1, "rl": {"episodes": 2, "grid": {"layout": GRID}}}
    last = run_to_end(project(mlp(registry, "qnet", 5, 8, 4), training=t), registry)
    assert last.kind == "error" and last.node == "x" and "[12]" in last.message


def test_gan_on_the_ring_moves_samples_onto_the_modes(registry):
    g = mlp(registry, "generator", 4, 64, 2, depth=2)
    d = mlp(registry, "discriminator", 2, 64, 1, depth=2, act="nn.leaky_relu")
    t = {"recipe": "adversarial", "dataset": {"name": "ring", "params": {"n": 4096}}, "epochs": 4, "batch_size": 64,
         "optimizer": {"lr": 0.001, "betas": [0.5, 0.999]}, "threads": 1, "gan": {"samples": 32}}
    updates = list(run(project(g, d, training=t), registry))
    last = updates[-1]
    assert last.kind == "done", last.message
    h = last.history
    assert h[-1]["val_mode_distance"] < 0.6 * updates[0].info["initial"]["val_mode_distance"]
    assert np.isfinite([x["d_loss"] + x["g_loss"] for x in h]).all()
    view = last.views["gan_samples"]
    assert view["samples"].shape == (32, 2) and view["centres"].shape == (8, 2)
    assert set(updates[0].info["models"]) == {"generator", "discriminator"}


def test_gan_with_missing_graph_names_the_setting(registry):
    t = {"recipe": "adversarial", "dataset": {"name": "ring"}, "gan": {"generator": "gen"}}
    last = run_to_end(project(mlp(registry, "generator", 4, 8, 2), training=t), registry)
    assert last.kind == "error" and last.setting == "graph" and "gen" in last.message


@pytest.mark.parametrize("gan", [{"r1": 1.0}, {"loss": "wgan_gp", "d_steps": 2}, {"d_output": "probability"}])
def test_image_gan_variants_run(registry, gan):
    g = chain(registry, "generator", [8], [("nn.linear", {"out_features": 144}),
                                           ("nn.unflatten", {"dim": 1, "unflattened_size": [1, 12, 12]}),
                                           ("nn.sigmoid", {})])
    d_layers = [("nn.flatten", {}), ("nn.linear", {"out_features": 16}), ("nn.leaky_relu", {}),
                ("nn.linear", {"out_features": 1})]
    if gan.get("d_output") == "probability":
        d_layers.append(("nn.sigmoid", {}))
    d = chain(registry, "discriminator", [1, 12, 12], d_layers)
    t = {"recipe": "adversarial", "dataset": {"name": "shapes", "params": {"n": 300}}, "epochs": 2,
         "steps_per_epoch": 5, "batch_size": 16, "threads": 1, "gan": dict(gan, samples=9)}
    last = run_to_end(project(g, d, training=t), registry)
    assert last.kind == "done", last.message
    assert last.views["gan_samples"]["samples"].shape == (9, 1, 12, 12)
    assert np.isfinite([h["d_loss"] for h in last.history]).all()


def test_rl_and_gan_resume_from_checkpoints(registry, tmp_path):
    t = {"recipe": "q_learning_tabular", "epochs": 2, "threads": 1,
         "rl": {"episodes": 100, "grid": {"layout": GRID}}}
    first = run_to_end(project(training=t), registry, checkpoint_dir=tmp_path / "q")
    more = run_to_end(project(training=dict(t, epochs=4, rl={"episodes": 200, "grid": {"layout": GRID}})), registry,
                      resume_from=tmp_path / "q" / "last.pt")
    assert first.kind == more.kind == "done"
    assert len(more.views["returns"]["returns"]) == 200 and len(more.history) == 4
    g = mlp(registry, "generator", 4, 16, 2)
    d = mlp(registry, "discriminator", 2, 16, 1)
    gt = {"recipe": "adversarial", "dataset": {"name": "ring", "params": {"n": 512}}, "epochs": 1, "batch_size": 32,
          "threads": 1}
    a = run_to_end(project(g, d, training=gt), registry, checkpoint_dir=tmp_path / "g")
    b = run_to_end(project(g, d, training=dict(gt, epochs=2)), registry, resume_from=tmp_path / "g" / "last.pt")
    assert a.kind == b.kind == "done" and len(b.history) == 2 and b.step == 2 * a.step
