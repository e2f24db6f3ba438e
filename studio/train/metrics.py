"""Metrics: classification report from a confusion matrix, regression errors, model size and speed."""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn


def confusion_matrix(pred: torch.Tensor | np.ndarray, target: torch.Tensor | np.ndarray, classes: int) -> np.ndarray:
    """Rows are true classes, columns predicted classes."""
    p = np.asarray(pred).reshape(-1).astype(np.int64)
    t = np.asarray(target).reshape(-1).astype(np.int64)
    ok = (t >= 0) & (t < classes) & (p >= 0) & (p < classes)
    return np.bincount(t[ok] * classes + p[ok], minlength=classes * classes).reshape(classes, classes)


def classification_report(cm: np.ndarray) -> dict[str, float]:
    """Accuracy and macro precision / recall / F1 (classes absent from both sides are skipped)."""
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted = cm.sum(0)
    actual = cm.sum(1)
    present = (predicted + actual) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(actual > 0, tp / actual, 0.0)
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    total = cm.sum()
    return {
        "accuracy": float(tp.sum() / total) if total else 0.0,
        "precision": float(precision[present].mean()) if present.any() else 0.0,
        "recall": float(recall[present].mean()) if present.any() else 0.0,
        "f1": float(f1[present].mean()) if present.any() else 0.0,
    }


def regression_report(pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    diff = pred.detach().float().reshape(-1) - target.detach().float().reshape(-1)
    return {"mse": float((diff ** 2).mean()), "mae": float(diff.abs().mean())}


def model_size(module: nn.Module) -> dict[str, int]:
    params = list(module.parameters())
    buffers = list(module.buffers())
    return {
        "params": sum(p.numel() for p in params),
        "trainable": sum(p.numel() for p in params if p.requires_grad),
        "bytes": sum(t.numel() * t.element_size() for t in params + buffers),
    }


@torch.no_grad()
def inference_time_per_sample(fn, x: torch.Tensor, repeats: int = 3) -> float:
    """Seconds per sample for a forward over batch ``x`` (best of ``repeats``)."""
    best = float("inf")
    for _ in range(repeats):
        if x.is_cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn(x)
        if x.is_cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t0)
    return best / max(1, len(x))


class Running:
    """Mean of per-step values over an epoch (weighted by samples)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.weights: dict[str, float] = {}

    def add(self, values: dict[str, float], weight: float = 1.0) -> None:
        for k, v in values.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v) * weight
            self.weights[k] = self.weights.get(k, 0.0) + weight

    def means(self) -> dict[str, float]:
        return {k: self.sums[k] / self.weights[k] for k in self.sums if self.weights[k] > 0}
