"""The loop's cheaper bookkeeping gives the numbers a user reads: validation metrics decided batch by
batch equal those computed from every output, and per-step accuracies hold for steps of any shape."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from studio.train.nnloop.parts import classification_report, confusion_matrix, supervised_loss
from studio.train.nnloop.tasks import SupervisedTask
from studio.train.settings import TrainingSettings


def _task(loss: str = "auto", classes: int = 3, n_val: int = 600) -> SupervisedTask:
    torch.manual_seed(0)
    cfg = TrainingSettings.from_dict({"recipe": "classification", "batch_size": 32, "epochs": 1,
                                      "loss": {"name": loss}}).to_dict()
    outputs = 1 if loss == "bce" else classes
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, outputs))
    labels = 2 if loss == "bce" else classes
    x, y = torch.randn(256, 4), torch.randint(0, labels, (256,))
    xv, yv = torch.randn(n_val, 4), torch.randint(0, labels, (n_val,))
    return SupervisedTask(cfg, model, model, (x, y), (xv, yv), task="classification", classes=labels)


@pytest.mark.parametrize("loss", ["auto", "bce"])
def test_validation_metrics_match_those_of_every_output(loss):
    task = _task(loss)
    for i in range(4):
        task.step(0, i)
    task.flush()
    got = task.evaluate()
    # the reference: every validation output at once, losses read batch by batch
    task.model.eval()
    with torch.no_grad():
        out = task.model(task.val_x)
        total = 0.0
        for i in range(0, len(task.val_x), 256):
            total += float(supervised_loss(out[i:i + 256], task.val_y[i:i + 256], "classification", loss)) * len(
                task.val_x[i:i + 256])
    pred, labels, _conf, k = task.decide(out, task.val_y, confidence=False)
    cm = confusion_matrix(pred.numpy(), labels.numpy(), k)
    assert (task.last_cm == cm).all()
    assert got["val_loss"] == pytest.approx(total / len(task.val_x), rel=1e-6)
    for key, value in classification_report(cm).items():
        assert got[f"val_{key}"] == value
    # decided batch by batch (as on a GPU): the same classes, labels and class count
    loss_all, outputs = task.predict_val()
    loss_decided, (pred_b, labels_b, _none, k_b) = task.predict_val(decided=True)
    pred_a, labels_a, _conf, k_a = task.decide(outputs, task.val_y, confidence=False)
    assert loss_decided == loss_all == got["val_loss"]
    assert torch.equal(pred_a, pred_b) and torch.equal(labels_a, labels_b) and k_a == k_b


def test_per_step_accuracy_for_steps_of_different_shapes():
    task = _task()
    scores = [torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 0.0]]), torch.tensor([[0.0, 0.0, 1.0]] * 4)]
    labels = [torch.tensor([0, 0]), torch.tensor([2, 2, 2, 1])]
    task._losses, task._samples = [torch.tensor(1.0), torch.tensor(0.5)], [2, 4]
    task._scores, task._labels = scores, labels
    rows = task.flush()
    assert [r["accuracy"] for r in rows] == [0.5, 0.75]
    assert [r["loss"] for r in rows] == [1.0, 0.5]


def test_classification_report_with_empty_classes_warns_nothing():
    # class 1 is predicted once but never true (recall 0/0), class 3 neither (skipped)
    cm = [[3, 1, 0, 0], [0, 0, 0, 0], [1, 0, 5, 0], [0, 0, 0, 0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = classification_report(cm)
    assert r["accuracy"] == 8 / 10
    assert r["precision"] == pytest.approx((3 / 4 + 0 + 5 / 5) / 3)
    assert r["recall"] == pytest.approx((3 / 4 + 0 + 5 / 6) / 3)
    f1 = [2 * p * q / (p + q) for p, q in ((3 / 4, 3 / 4), (1.0, 5 / 6))]
    assert r["f1"] == pytest.approx((f1[0] + 0 + f1[1]) / 3)
