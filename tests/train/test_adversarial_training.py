"""Adversarial training (clean plus FGSM / PGD copies of each batch) trains and resists FGSM better."""

from __future__ import annotations

import copy

import pytest
import torch

from studio.analysis.attack import robustness_curve
from studio.analysis.session import open_run
from studio.core.factory import chain_graph
from studio.train.engine import run_to_end
from studio.train.settings import SettingsError, TrainingSettings
from tests.train.helpers import project

TRAINING = {"recipe": "classification", "dataset": {"name": "shapes", "params": {"n": 600, "size": 12, "classes": 3}},
            "epochs": 8, "batch_size": 32, "optimizer": {"lr": 0.01}, "threads": 1, "seed": 1}


@pytest.fixture(scope="module")
def registry():
    from studio.catalog import default_registry

    return default_registry()


def _cnn_project(registry, **augment):
    graph = chain_graph(registry, "cnn", [1, 12, 12], [
        ("nn.conv2d", {"out_channels": 6, "kernel_size": 3, "padding": 1}), ("nn.relu", {}),
        ("nn.max_pool2d", {"kernel_size": 2}), ("nn.flatten", {}), ("nn.linear", {"out_features": 3})],
        names=["conv", "relu", "pool", "flat", "head"])
    training = copy.deepcopy(TRAINING)
    training["dataset"]["augment"] = augment
    return project(graph, training=training)


def _fgsm_accuracy(registry, proj, folder, eps: float) -> tuple[float, float]:
    data = open_run(proj, registry, folder)
    torch.manual_seed(0)
    rows = robustness_curve(data.model, data.val_x, data.val_y, [0.0, eps], "fgsm", bounds=data.bounds)
    return rows[0].accuracy, rows[1].accuracy


@pytest.mark.slow
def test_fgsm_training_resists_fgsm_better_than_a_plain_run(registry, tmp_path):
    torch.set_num_threads(1)
    plain = _cnn_project(registry)
    robust = _cnn_project(registry, adversarial="fgsm", adversarial_eps=0.1)
    last_plain = run_to_end(plain, registry, checkpoint_dir=tmp_path / "plain", views=False)
    last_robust = run_to_end(robust, registry, checkpoint_dir=tmp_path / "robust", views=False)
    assert last_plain.kind == "done" and last_robust.kind == "done", (last_plain.message, last_robust.message)
    clean_p, adv_p = _fgsm_accuracy(registry, plain, tmp_path / "plain", 0.1)
    clean_r, adv_r = _fgsm_accuracy(registry, robust, tmp_path / "robust", 0.1)
    assert clean_r > 0.5, "the robust run still learns the clean task"
    assert adv_r > adv_p + 0.05, (clean_p, adv_p, clean_r, adv_r)


def test_pgd_training_runs_and_says_so_in_the_run_info(registry, tmp_path):
    torch.set_num_threads(1)
    proj = _cnn_project(registry, adversarial="pgd", adversarial_eps=0.05)
    proj.training["epochs"] = 1
    proj.training["steps_per_epoch"] = 3
    updates = []
    from studio.train.engine import run

    for update in run(proj, registry, views=False):
        updates.append(update)
    assert updates[-1].kind == "done", updates[-1].message
    info = next(u.info for u in updates if getattr(u, "info", None))
    assert info["adversarial"] == {"method": "pgd", "eps": 0.05}


def test_adversarial_batches_double_the_batch_and_stay_in_the_eps_ball(registry):
    from studio.train.recipes.base import Context
    from studio.train.recipes.supervised import Supervised

    proj = _cnn_project(registry, adversarial="fgsm", adversarial_eps=0.2)
    settings = TrainingSettings.from_dict(proj.training)
    recipe = Supervised(Context(proj, registry, settings, torch.device("cpu"), False), task="classification")
    recipe.setup()
    batches = recipe.loop_task.train_batches
    xb, yb = next(batches.batches(0))
    clean, _ = next(batches.inner.batches(0))
    assert len(xb) == 2 * len(clean) and torch.equal(yb[: len(clean)], yb[len(clean):])
    assert torch.equal(xb[: len(clean)], clean)
    diff = (xb[len(clean):] - clean).abs().max()
    assert 0 < float(diff) <= 0.2 + 1e-5
    assert float(xb[len(clean):].min()) >= float(recipe.data.train_x.min()) - 1e-6


def test_adversarial_training_of_a_regression_is_refused_with_the_setting_named(registry):
    from studio.train.recipes.base import Context
    from studio.train.recipes.supervised import Supervised

    graph = chain_graph(registry, "mlp", [2], [("nn.linear", {"out_features": 1})])
    proj = project(graph, training={"recipe": "regression", "dataset": {"name": "spirals", "augment": {
        "adversarial": "fgsm"}}})
    settings = TrainingSettings.from_dict(proj.training)
    recipe = Supervised(Context(proj, registry, settings, torch.device("cpu"), False), task="regression")
    with pytest.raises(SettingsError) as err:
        recipe.setup()
    assert err.value.key == "dataset.augment.adversarial"
