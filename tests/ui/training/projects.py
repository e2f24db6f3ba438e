"""Tiny projects, one per paradigm, that train in about a second."""

from __future__ import annotations

from studio.core.model import Graph, Project
from tests import factories
from tests.factories import chain


def mlp(registry, name: str, n_in: int, hidden: int, n_out: int, act: str = "nn.relu") -> Graph:
    """One hidden layer, its nodes named fc1 / act / fc2 (the panel tests pick them by name)."""
    return factories.mlp(registry, name, n_in, hidden, n_out, act=act, names=["fc1", "act", "fc2"])


def classification(registry, epochs: int = 2) -> Project:
    t = {"recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 400}}, "epochs": epochs,
         "batch_size": 32, "optimizer": {"lr": 0.02}, "threads": 1, "device": "cpu"}
    return Project(name="spirals", graphs=[mlp(registry, "model", 2, 32, 3)], training=t)


def images(registry, epochs: int = 2) -> Project:
    g = chain(registry, "model", [1, 12, 12], [("nn.conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
                                               ("nn.relu", {}), ("nn.flatten", {}), ("nn.linear", {"out_features": 3})],
              names=["conv", "relu", "flat", "head"])
    t = {"recipe": "classification", "dataset": {"name": "shapes", "params": {"n": 240, "classes": 3}},
         "epochs": epochs, "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1, "device": "cpu"}
    return Project(name="shapes", graphs=[g], training=t)


def regression(registry) -> Project:
    g = chain(registry, "model", [16, 1], [("nn.flatten", {}), ("nn.linear", {"out_features": 32}), ("nn.tanh", {}),
                                           ("nn.linear", {"out_features": 4})])
    t = {"recipe": "regression", "dataset": {"name": "waves", "params": {"n": 400, "length": 16, "horizon": 4}},
         "epochs": 2, "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1, "device": "cpu"}
    return Project(name="waves", graphs=[g], training=t)


def attention(registry) -> Project:
    g = chain(registry, "model", [6], [("nn.embedding", {"num_embeddings": 5, "embedding_dim": 16}),
                                       ("nn.self_attention", {"num_heads": 1}),
                                       ("nn.linear", {"out_features": 5})], dtype="int64",
              names=["embed", "attn", "head"])
    t = {"recipe": "sequence", "dataset": {"name": "sequences", "params": {"n": 400, "length": 6, "vocab": 5,
                                                                           "task": "reverse"}},
         "epochs": 2, "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1, "device": "cpu"}
    return Project(name="reverse", graphs=[g], training=t)


def reconstruction(registry) -> Project:
    g = chain(registry, "model", [1, 12, 12], [("nn.flatten", {}), ("nn.linear", {"out_features": 8}),
                                               ("nn.linear", {"out_features": 144}),
                                               ("nn.unflatten", {"dim": 1, "unflattened_size": [1, 12, 12]})],
              names=["flat", "code", "dec", "unflat"])
    t = {"recipe": "reconstruction", "dataset": {"name": "shapes", "params": {"n": 240, "classes": 3}},
         "epochs": 2, "batch_size": 32, "optimizer": {"lr": 0.005}, "threads": 1, "device": "cpu"}
    return Project(name="autoencoder", graphs=[g], training=t)


def gan(registry) -> Project:
    gen = mlp(registry, "generator", 4, 32, 2)
    disc = mlp(registry, "discriminator", 2, 32, 1, act="nn.leaky_relu")
    t = {"recipe": "adversarial", "dataset": {"name": "ring", "params": {"n": 1024}}, "epochs": 2, "batch_size": 64,
         "optimizer": {"lr": 0.001, "betas": [0.5, 0.999]}, "threads": 1, "gan": {"samples": 32}, "device": "cpu"}
    return Project(name="gan", graphs=[gen, disc], training=t)


GRID = ["S...", ".#X.", "...G"]


def tabular(registry) -> Project:
    t = {"recipe": "q_learning_tabular", "epochs": 2, "threads": 1,
         "rl": {"episodes": 120, "gamma": 0.9, "lr": 0.5, "grid": {"layout": GRID}}}
    return Project(name="grid", graphs=[Graph(name="model")], training=t)


def dqn(registry) -> Project:
    t = {"recipe": "dqn", "epochs": 2, "threads": 1, "optimizer": {"lr": 0.003}, "device": "cpu",
         "rl": {"episodes": 30, "gamma": 0.9, "warmup": 20, "batch_size": 16, "target_update": 20,
                "grid": {"layout": GRID}}}
    return Project(name="dqn", graphs=[mlp(registry, "qnet", 12, 16, 4)], training=t)
