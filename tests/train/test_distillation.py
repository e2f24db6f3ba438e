"""Distillation: a student graph trains headless against a trained teacher run and learns from it."""

from __future__ import annotations

import copy

import pytest
import torch

from studio.core.factory import chain_graph
from studio.train.engine import run_to_end
from studio.train.recipes.distillation import distillation_loss
from studio.train.recipes.registry import metric_spec, recipe_spec
from tests.train.helpers import project

DATA = {"name": "spirals", "params": {"n": 900}}


@pytest.fixture(scope="module")
def registry():
    from studio.catalog import default_registry

    return default_registry()


def _graphs(registry):
    teacher = chain_graph(registry, "teacher", [2], [
        ("nn.linear", {"out_features": 64}), ("nn.relu", {}), ("nn.linear", {"out_features": 64}), ("nn.relu", {}),
        ("nn.linear", {"out_features": 3})])
    student = chain_graph(registry, "student", [2], [
        ("nn.linear", {"out_features": 32}), ("nn.relu", {}), ("nn.linear", {"out_features": 3})])
    return teacher, student


@pytest.fixture(scope="module")
def teacher_run(registry, tmp_path_factory):
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("teacher")
    teacher, student = _graphs(registry)
    proj = project(teacher, student, training={"recipe": "classification", "graph": "teacher", "dataset": DATA,
                                               "epochs": 25, "batch_size": 32, "optimizer": {"lr": 0.01},
                                               "threads": 1})
    last = run_to_end(proj, registry, checkpoint_dir=folder, views=False)
    assert last.kind == "done", last.message
    assert last.metrics["val_accuracy"] > 0.85
    return proj, folder


def _distill(proj, folder, epochs: int, alpha: float = 0.5):
    p = copy.deepcopy(proj)
    p.training = {"recipe": "distillation", "graph": "student", "dataset": DATA, "epochs": epochs, "batch_size": 32,
                  "optimizer": {"lr": 0.01}, "threads": 1,
                  "distill": {"teacher": "teacher", "checkpoint": str(folder), "temperature": 1.0, "alpha": alpha}}
    return p


def test_the_paradigm_is_registered_with_its_settings_and_metric():
    spec = recipe_spec("distillation")
    assert spec.section == "distill" and spec.reads("distill.temperature")
    assert metric_spec("val_agreement").higher_is_better


def test_loss_is_zero_on_the_soft_side_when_student_equals_teacher():
    logits = torch.randn(8, 3)
    labels = logits.argmax(-1)
    assert float(distillation_loss(logits, logits, labels, 4.0, 1.0)) == pytest.approx(0.0, abs=1e-6)
    assert float(distillation_loss(logits, -logits, labels, 4.0, 1.0)) > 0.1


@pytest.mark.slow
def test_a_distilled_student_agrees_with_its_teacher_better_than_an_untrained_one(registry, teacher_run, tmp_path):
    proj, folder = teacher_run
    untrained = run_to_end(_distill_steps(proj, folder, 1), registry, views=False)
    trained = run_to_end(_distill(proj, folder, 25), registry, checkpoint_dir=tmp_path, views=False)
    assert trained.kind == "done", trained.message
    assert trained.metrics["val_agreement"] > untrained.metrics["val_agreement"] + 0.2
    assert set(torch.load(tmp_path / "last.pt", weights_only=True)["models"]) == {"student"}


@pytest.mark.slow
def test_a_distilled_student_beats_the_same_student_trained_alone(registry, teacher_run):
    proj, folder = teacher_run
    distilled = run_to_end(_distill(proj, folder, 25), registry, views=False)
    alone = copy.deepcopy(proj)
    alone.training = {**_distill(proj, folder, 25).training, "recipe": "classification"}
    del alone.training["distill"]
    plain = run_to_end(alone, registry, views=False)
    assert distilled.metrics["val_accuracy"] > plain.metrics["val_accuracy"], (distilled.metrics, plain.metrics)


def _distill_steps(proj, folder, steps: int):
    p = _distill(proj, folder, 1)
    p.training["steps_per_epoch"] = steps
    p.training["optimizer"]["lr"] = 1e-5
    return p


def test_missing_teacher_weights_and_a_teacher_equal_to_the_student_are_named(registry, teacher_run):
    from studio.train.recipes.base import Context
    from studio.train.recipes.distillation import Distillation
    from studio.train.settings import SettingsError, TrainingSettings

    proj, folder = teacher_run
    for change, key in (({"checkpoint": ""}, "distill.checkpoint"), ({"teacher": "student"}, "distill.teacher"),
                        ({"checkpoint": str(folder / "nothing")}, "distill.checkpoint")):
        p = _distill(proj, folder, 1)
        p.training["distill"].update(change)
        recipe = Distillation(Context(p, registry, TrainingSettings.from_dict(p.training), torch.device("cpu"), False))
        with pytest.raises(SettingsError) as err:
            recipe.setup()
        assert err.value.key == key
