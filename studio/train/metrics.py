"""Metrics: classification report from a confusion matrix, regression errors, model size and speed."""

from __future__ import annotations

import time

import torch
from torch import nn

from studio.train.nnloop.parts import classification_report, confusion_matrix, regression_report

__all__ = ["Running", "classification_report", "confusion_matrix", "inference_time_per_sample", "model_size",
           "regression_report"]


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
