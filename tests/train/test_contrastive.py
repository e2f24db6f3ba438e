"""Contrastive self-supervised learning: the NT-Xent loss, the augmentations, the probe against a random
encoder, setup errors that say what to change, and the template's short run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bench.templates import load, train
from studio.train.engine import run_to_end
from studio.train.recipes.contrastive import augment, linear_probe, nt_xent

SHORT = {"threads": 1, "device": "cpu", "seed": 0}


def test_nt_xent_is_low_when_each_view_finds_its_twin_and_chance_when_it_cannot():
    z = torch.nn.functional.one_hot(torch.arange(8), 8).float()
    assert float(nt_xent(z, z, 0.1)) < 1e-3  # twins identical, every other view orthogonal
    same = torch.ones(8, 4)
    assert float(nt_xent(same, same, 0.5)) == pytest.approx(math.log(15), rel=1e-5)  # 2N − 1 equal candidates


def test_nt_xent_is_sharper_at_a_lower_temperature():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(16, 8, generator=g)
    b = a + 0.3 * torch.randn(16, 8, generator=g)
    assert float(nt_xent(a, b, 0.1)) < float(nt_xent(a, b, 1.0))


def test_augment_shifts_drops_and_is_reproducible():
    x = torch.zeros(4, 1, 8, 8)
    x[:, :, 3:5, 3:5] = 1.0
    a = augment(x, torch.Generator().manual_seed(1), 1, 0.0, 0.0)
    b = augment(x, torch.Generator().manual_seed(1), 1, 0.0, 0.0)
    assert torch.equal(a, b) and a.shape == x.shape
    assert torch.all(a.sum((1, 2, 3)) == 4)  # a shift by at most one pixel keeps the whole square
    assert not torch.equal(a, x.expand_as(a)) or not torch.equal(augment(x, torch.Generator().manual_seed(2), 1, 0, 0), a)
    dropped = augment(torch.ones(2, 64), torch.Generator().manual_seed(0), 1, 0.5, 0.0)
    assert dropped.shape == (2, 64) and 0.3 < float((dropped == 0).float().mean()) < 0.7  # vectors: no shift


@pytest.mark.slow  # scikit-learn's first import
def test_linear_probe_reads_separable_features_and_not_noise():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    good = np.eye(3)[y] + 0.1 * rng.normal(size=(300, 3))
    noise = rng.normal(size=(300, 3))
    assert linear_probe(good[:200], y[:200], good[200:], y[200:]) > 0.95
    assert linear_probe(noise[:200], y[:200], noise[200:], y[200:]) < 0.6


@pytest.mark.slow
def test_the_template_learns_features_a_probe_reads_better_than_a_random_encoders(registry):
    r = train(load("digits_contrastive", registry), registry, {**SHORT, "epochs": 8})
    probe, random = r.last("val_probe_accuracy"), r.last("val_random_probe_accuracy")
    assert probe >= random + 0.08, (probe, random)
    assert r.curve("val_loss")[-1] < r.curve("val_loss")[0]
    assert r.curve("val_random_probe_accuracy")[0] == random  # the baseline is measured once, before training
    pairs = r.update.views["pairs"]
    assert np.asarray(pairs["first"]).shape == (8, 1, 8, 8) and not np.array_equal(pairs["first"], pairs["second"])
    assert np.asarray(r.update.views["latent"]["points"]).shape[1] == 2  # the features' two main directions


def test_a_dataset_without_classes_is_refused_with_what_to_pick(registry):
    project = load("digits_contrastive", registry).snapshot()
    project.graph_by_name("encoder").node_by_name("x").params["shape"] = [2]
    project.training.update(SHORT, epochs=1, dataset={"name": "ring", "val_fraction": 0.2})
    final = run_to_end(project, registry)
    assert final.kind == "error" and "no classes" in final.message and "digits" in final.message


def test_a_missing_encoder_graph_is_named(registry):
    project = load("digits_contrastive", registry).snapshot()
    project.training.update(SHORT, epochs=1)
    project.training["contrastive"] = {**project.training["contrastive"], "encoder": "enc"}
    final = run_to_end(project, registry)
    assert final.kind == "error" and "no graph named 'enc'" in final.message


def test_train_py_carries_the_temperature_and_reads_projection_and_features(registry):
    from studio.train.script_export import train_source

    project = load("digits_contrastive", registry).snapshot()
    text = train_source(project, registry)
    assert "contrastive.train_contrastive(" in text and "'temperature': 0.2" in text
    assert "PROJECTION = 1" in text and "FEATURES = 0" in text  # Outputs in plan order: representation, projected


@pytest.mark.slow
def test_app_and_exported_script_train_identically(registry, tmp_path):
    from tests.train.test_training_parity import _compare, _train_both

    project = load("digits_contrastive", registry).snapshot()
    project.training.update(epochs=2, seed=5, threads=1, device="cpu", steps_per_epoch=3)
    app, exported = _train_both(registry, project, tmp_path)
    assert "val_probe_accuracy" in app[0] and "val_random_probe_accuracy" in exported[0]
    assert _compare(app, exported) <= 1e-6


def test_no_validation_images_is_refused_at_the_setting(registry):
    project = load("digits_contrastive", registry).snapshot()
    project.training.update(SHORT, epochs=1, dataset={"name": "digits", "val_fraction": 0.0})
    final = run_to_end(project, registry)
    assert final.kind == "error" and final.setting == "dataset.val_fraction" and "probe" in final.message
