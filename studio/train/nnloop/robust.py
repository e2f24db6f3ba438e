"""Training against corrupted data: noisy labels and adversarial examples.

Both are options of ordinary supervised training rather than paradigms: a noisy-label run and a
clean run (or a robust run and a plain one) train the same graph and their curves overlay. They
live in the loop package so the app and an exported ``train.py`` flip the same labels and attack
the same batches. The attacks here act on a training batch; ``studio.analysis.attack`` measures a
trained model with the same FGSM / PGD definitions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def flip_labels(y: torch.Tensor, share: float, seed: int, classes: int = 0, task: str = "classification",
                dataset: str = "") -> tuple[torch.Tensor, dict[str, Any] | None]:
    """Training labels with ``share`` of them flipped to another class, and what was done.

    Seeded (the same seed flips the same samples); the caller never passes validation labels, so
    the curves show how well the model learns the true labels from noisy ones. ``classes`` is the
    dataset's class count when it names them (labels beyond it still count). Raises ValueError
    when the labels are not one class per sample.
    """
    if share <= 0:
        return y, None
    if task != "classification" or y.is_floating_point() or y.dim() != 1:
        raise ValueError(f"label noise needs one class label per sample; dataset '{dataset}' has none")
    classes = max(classes, int(y.max()) + 1 if len(y) else 0)
    if classes < 2:
        raise ValueError(f"label noise needs at least two classes; dataset '{dataset}' has {classes}")
    rng = np.random.default_rng(seed + 7919)
    n = int(round(share * len(y)))
    idx = torch.from_numpy(rng.choice(len(y), size=n, replace=False)).long()
    shift = torch.from_numpy(rng.integers(1, classes, size=n)).to(y.dtype)  # never the true class
    noisy = y.clone()
    noisy[idx] = (y[idx] + shift) % classes
    return noisy, {"share": float(share), "flipped": n, "of": len(y)}


class _Forward(nn.Module):
    """A prediction callable on raw inputs as a module, so attacks can switch train / eval mode."""

    def __init__(self, module: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor],
                 stats: tuple[torch.Tensor, torch.Tensor] | None) -> None:
        super().__init__()
        self.module, self.fn, self.stats = module, forward, stats

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stats is not None:
            x = (x - self.stats[0].to(x.device)) / self.stats[1].to(x.device)
        return self.fn(x)


def attack(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, method: str = "fgsm", steps: int = 7,
           bounds: tuple[float, float] | None = None) -> torch.Tensor:
    """FGSM (one signed step) or PGD (``steps`` projected steps, random start) in the L∞ ball of ``eps``."""
    def clip(t: torch.Tensor) -> torch.Tensor:
        return t if bounds is None else t.clamp(*bounds)

    def grad(at: torch.Tensor) -> torch.Tensor:
        at = at.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(F.cross_entropy(model(at).float(), y), at)
        return g

    if eps <= 0:
        return x.detach()
    if method == "fgsm":
        return clip(x + eps * grad(x).sign()).detach()
    alpha = 2.5 * eps / steps
    adv = clip(x + eps * (torch.rand_like(x) * 2 - 1))
    for _ in range(steps):
        adv = adv + alpha * grad(adv).sign()
        adv = clip(torch.max(torch.min(adv, x + eps), x - eps)).detach()
    return adv


class AdversarialBatches:
    """Training batches with an adversarial copy of each one appended (clean plus attacked, same labels).

    Wraps the batches of a supervised task; the attack runs on the model as it is at that step,
    in raw input units (batches are standardised, so they are un-standardised for the attack).
    """

    def __init__(self, batches: Any, module: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor],
                 method: str, eps: float, bounds: tuple[float, float] | None,
                 device: torch.device | None = None) -> None:
        self.inner, self.method, self.eps, self.bounds = batches, method, eps, bounds
        self.stats = batches.stats
        self.model = _Forward(module, forward, self.stats)
        self.device = device or torch.device("cpu")

    def __len__(self) -> int:
        return len(self.inner)

    def __getattr__(self, name: str) -> Any:  # everything else is the wrapped batches'
        return getattr(self.inner, name)

    def batches(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for xb, yb in self.inner.batches(epoch, start=start):
            yield self.extend(xb, yb)

    def extend(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = xb.to(self.device), yb.to(self.device)
        raw = x if self.stats is None else x * self.stats[1].to(x.device) + self.stats[0].to(x.device)
        self.model.module.eval()  # the task's step switches back to training mode (frozen nodes stay in eval)
        adv = attack(self.model, raw, y, self.eps, self.method, bounds=self.bounds)
        if self.stats is not None:
            adv = (adv - self.stats[0].to(x.device)) / self.stats[1].to(x.device)
        return torch.cat([x, adv]), torch.cat([y, y])


def attach_adversarial(task: Any, module: nn.Module, method: str, eps: float,
                       train_x: torch.Tensor) -> dict[str, Any] | None:
    """Make ``task`` (a supervised task) train on clean plus adversarial batches when ``method`` is
    ``fgsm`` or ``pgd``. Returns what the run info should say, or None when ``method`` is ``off``;
    raises ValueError when the task is not a cross-entropy classifier."""
    if method == "off":
        return None
    if task.task != "classification" or task.bce:
        raise ValueError("adversarial training needs a classifier trained with cross-entropy")
    bounds = (float(train_x.min()), float(train_x.max())) if train_x.dim() == 4 else None
    task.train_batches = AdversarialBatches(task.train_batches, module, task.forward, method, eps, bounds, task.device)
    return {"method": method, "eps": float(eps)}
