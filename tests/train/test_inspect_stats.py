"""Per-node statistics after a training step: vanishing gradients show, every paradigm gets its own inputs."""

from __future__ import annotations

import numpy as np
import pytest

from studio.train.engine import run
from studio.train.inspect_stats import Inspector, ordered_nodes
from tests.train.helpers import chain, mlp, project

SPIRALS = {"recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 400}}, "epochs": 1,
           "batch_size": 32, "steps_per_epoch": 3, "threads": 1}


def _inside(registry, proj, **kw):
    """Every ``info["inside"]`` payload of a short run."""
    payloads = []
    for u in run(proj, registry, inspect_every=1, **kw):
        if u.kind == "error":
            raise AssertionError(u.message)
        if u.kind == "step" and u.info.get("inside"):
            payloads.append(u.info["inside"])
    return payloads


def _linear_grad_norms(registry, act: str, init: str) -> list[float]:
    graph = mlp(registry, "m", 2, 32, 3, depth=9, act=act)  # 10 Linear layers
    training = dict(SPIRALS, init={"scheme": init})
    payloads = _inside(registry, project(graph, training=training))
    assert len(payloads) == 3  # one per step
    stats = payloads[0]["graphs"]["m"]
    linears = [nid for nid in stats if graph.nodes[nid].type_id == "nn.linear"]
    assert len(linears) == 10
    order = list(graph.nodes)  # chain order: first layer first
    linears.sort(key=order.index)
    return [stats[nid]["grad_norm"] for nid in linears]


def test_sigmoid_mlp_gradient_vanishes_tenfold_towards_the_first_layer(registry):
    norms = _linear_grad_norms(registry, "nn.sigmoid", "default")
    assert norms[-1] / norms[0] >= 10, norms


def test_relu_kaiming_mlp_keeps_its_gradient(registry):
    norms = _linear_grad_norms(registry, "nn.relu", "kaiming")
    assert norms[-1] / norms[0] < 10, norms


def test_statistics_of_a_step(registry):
    graph = chain(registry, "m", [2], [("nn.linear", {"out_features": 16}), ("nn.relu", {}),
                                      ("nn.linear", {"out_features": 3})])
    payloads = _inside(registry, project(graph, training=SPIRALS))
    stats = payloads[-1]["graphs"]["m"]
    by_type = {graph.nodes[nid].type_id: s for nid, s in stats.items()}
    relu, linear = by_type["nn.relu"], by_type["nn.linear"]
    assert 0.0 <= relu["dead"] <= 1.0
    assert relu["act_mean"] >= 0 and relu["grad_norm"] is None  # no parameters
    counts, lo, hi = relu["hist"]
    assert sum(counts) == 32 * 16 and lo >= 0 and hi > lo
    assert linear["grad_norm"] > 0 and 0 < linear["update_ratio"] < 1 and linear["weight_norm"] > 0


def test_every_n_steps_when_not_watched(registry):
    graph = mlp(registry, "m", 2, 8, 3)
    training = dict(SPIRALS, steps_per_epoch=9)
    steps = [p["step"] for p in _every(registry, project(graph, training=training), 4)]
    assert steps == [1, 4, 8]


def _every(registry, proj, every):
    return [u.info["inside"] for u in run(proj, registry, inspect_every=every)
            if u.kind == "step" and u.info.get("inside")]


def test_headless_runs_pay_nothing(registry):
    proj = project(mlp(registry, "m", 2, 8, 3), training=SPIRALS)
    assert not any(u.info.get("inside") for u in run(proj, registry, views=False, inspect_every=1))


def test_dqn_network_sees_its_own_states(registry):
    """The Q-network's activations come from the gridworld's encoded states, not from a dataset."""
    graph = chain(registry, "q", [12], [("nn.linear", {"out_features": 32}), ("nn.relu", {}),
                                       ("nn.linear", {"out_features": 4})])
    training = {"recipe": "dqn", "epochs": 1, "threads": 1,
                "rl": {"episodes": 3, "warmup": 1, "batch_size": 8, "grid": {"layout": ["S...", ".#X.", "...G"]}}}
    payloads = _inside(registry, project(graph, training=training))
    assert payloads
    for payload in (payloads[0], payloads[-1]):  # the first episode acts at random: the states are the probe
        stats = payload["graphs"]["q"]
        assert all(s["act_mean"] is not None for s in stats.values())
    assert any(s["grad_norm"] for s in stats.values())


def test_conv_nodes_give_feature_maps(registry):
    graph = chain(registry, "c", [1, 16, 16], [("nn.conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
                                              ("nn.relu", {}), ("nn.flatten", {}), ("nn.linear", {"out_features": 6})])
    training = dict(SPIRALS, dataset={"name": "shapes", "params": {"n": 120}})
    payloads = _inside(registry, project(graph, training=training))
    stats = payloads[-1]["graphs"]["c"]
    conv = next(s for nid, s in stats.items() if graph.nodes[nid].type_id == "nn.conv2d")
    assert isinstance(conv["fmap"], np.ndarray) and conv["fmap"].shape == (4, 16, 16)


def test_inspector_unhooks_after_collect(registry):
    from studio.train.build import build_model

    built = build_model(mlp(registry, "m", 2, 8, 3), registry)
    inspector = Inspector({"m": built})
    inspector.arm()
    assert inspector.armed
    assert inspector.collect(1) is not None
    assert all(not m._forward_hooks for m in built.module.modules())
    assert inspector.collect(2) is None
    assert len(ordered_nodes(built)) == 3



def test_gan_step_inspects_generator_and_discriminator(registry):
    from tests.ui.training import projects

    payloads = _inside(registry, projects.gan(registry))
    graphs = payloads[0]["graphs"]
    assert set(graphs) == {"generator", "discriminator"}
    assert all(s["grad_norm"] for g in graphs.values() for s in g.values() if s["type_id"] == "nn.linear")


def test_recipe_inputs_are_what_each_graph_sees(registry):
    """The Activations view's inputs: never a dataset the graph was not built for (a DQN on spirals)."""
    from studio.train.recipe_inputs import recipe_inputs
    from tests.ui.training import projects

    dqn = projects.dqn(registry)
    (states,) = recipe_inputs(dqn, registry, dqn.training, "qnet")
    assert states.shape[1:] == (12,) and len(states) == 12  # one encoded state per grid cell
    gan = projects.gan(registry)
    (noise,) = recipe_inputs(gan, registry, gan.training, "generator")
    (points,) = recipe_inputs(gan, registry, gan.training, "discriminator")
    assert noise.shape[1:] == (4,) and points.shape[1:] == (2,)
    clf = projects.classification(registry)
    (x,) = recipe_inputs(clf, registry, clf.training, "model", count=8)
    assert x.shape == (8, 2)
    with pytest.raises(ValueError, match="does not run graph 'nope'"):
        recipe_inputs(clf, registry, clf.training, "nope")
