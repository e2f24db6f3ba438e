"""Overfit one batch and the learning-rate range test, on the project's own recipe."""

from __future__ import annotations

import math

import pytest

from studio.train.sanity import SanityError, lr_range_test, overfit_one_batch, suggest
from tests.train.helpers import mlp, project

SPIRALS = {"recipe": "classification", "dataset": {"name": "spirals", "params": {"n": 400}}, "batch_size": 32,
           "threads": 1}


def test_a_healthy_model_overfits_one_batch(registry):
    result = overfit_one_batch(project(mlp(registry, "m", 2, 32, 3, depth=2), training=SPIRALS), registry)
    assert result.ok, result.message
    assert result.last_loss <= 0.05 * result.first_loss
    assert "can learn" in result.message


def test_a_vanishing_gradient_is_named(registry):
    training = dict(SPIRALS, optimizer={"name": "sgd", "lr": 0.01})
    graph = mlp(registry, "m", 2, 32, 3, depth=9, act="nn.sigmoid")
    result = overfit_one_batch(project(graph, training=training), registry, max_steps=60)
    assert not result.ok and result.steps == 60
    assert "gradient vanishes" in result.message and "'linear'" in result.message


def test_a_tiny_learning_rate_is_named(registry):
    training = dict(SPIRALS, optimizer={"lr": 1e-7})
    result = overfit_one_batch(project(mlp(registry, "m", 2, 32, 3), training=training), registry, max_steps=40)
    assert not result.ok and "hardly moves" in result.message and "1e-07" in result.message


def test_a_diverging_loss_stops_with_a_reason(registry):
    training = dict(SPIRALS, optimizer={"name": "sgd", "lr": 1e6})
    result = overfit_one_batch(project(mlp(registry, "m", 2, 32, 3), training=training), registry, max_steps=200)
    assert not result.ok
    assert "lower the learning rate" in result.message or "too high" in result.message


def test_stop_is_honoured(registry):
    calls = []
    result = overfit_one_batch(project(mlp(registry, "m", 2, 8, 3), training=SPIRALS), registry,
                               should_stop=lambda: len(calls) > 20, progress=lambda f, t: calls.append(f) or None)
    assert not result.ok and result.steps < 1000


def test_other_paradigms_are_refused_with_a_reason(registry):
    training = {"recipe": "dqn", "rl": {"episodes": 2}}
    with pytest.raises(SanityError, match="Deep Q-learning"):
        overfit_one_batch(project(mlp(registry, "q", 64, 8, 4), training=training), registry)


def test_lr_range_test_suggests_a_rate_in_the_range(registry):
    result = lr_range_test(project(mlp(registry, "m", 2, 32, 3, depth=2), training=SPIRALS), registry, steps=60)
    assert result.lrs[0] == pytest.approx(1e-6)
    assert all(b > a for a, b in zip(result.lrs, result.lrs[1:], strict=False))
    assert len(result.losses) == len(result.lrs)
    assert result.suggested is not None and 1e-4 <= result.suggested <= 1.0
    assert f"{result.suggested:.2g}" in result.message


def test_suggest_picks_the_steepest_fall_before_the_minimum():
    lrs = [10 ** (-6 + i * 0.25) for i in range(25)]
    losses = [2.0] * 8 + [2.0 - 0.3 * i for i in range(1, 6)] + [0.5] * 6 + [1.0, 3.0, 9.0, 20.0, 40.0, 80.0]
    s = suggest(lrs, losses)
    assert s is not None and lrs[8] <= s <= lrs[13]
    assert suggest(lrs[:4], losses[:4]) is None
    assert suggest(lrs, [1.0 + i for i in range(25)]) is None  # never falls
    assert not math.isnan(s)
