"""Adversarial examples (FGSM, PGD) and accuracy against the perturbation size.

Inputs are attacked in the model's own input space; ``bounds`` keeps pixels valid (e.g. 0..1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def _loss_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    (grad,) = torch.autograd.grad(loss, x)
    return grad


def _clip(x: torch.Tensor, bounds: tuple[float, float] | None) -> torch.Tensor:
    return x if bounds is None else x.clamp(*bounds)


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float,
         bounds: tuple[float, float] | None = None) -> torch.Tensor:
    """One signed-gradient step of size ``eps`` (Goodfellow et al., 2015)."""
    if eps == 0:
        return x.detach().clone()
    return _clip(x + eps * _loss_grad(model, x, y).sign(), bounds).detach()


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int = 10,
        step_size: float | None = None, bounds: tuple[float, float] | None = None,
        random_start: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    """Projected gradient descent in the L∞ ball of radius ``eps`` (Madry et al., 2018)."""
    if eps == 0:
        return x.detach().clone()
    alpha = step_size if step_size is not None else 2.5 * eps / steps
    adv = x.detach().clone()
    if random_start:
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype) * 2 - 1
        adv = _clip(adv + eps * noise, bounds)
    for _ in range(steps):
        adv = adv + alpha * _loss_grad(model, adv, y).sign()
        adv = _clip(torch.max(torch.min(adv, x + eps), x - eps), bounds).detach()
    return adv


ATTACKS = {"fgsm": fgsm, "pgd": pgd}


@dataclass
class RobustnessRow:
    eps: float
    accuracy: float
    drop: float  # points of accuracy lost against eps = 0


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 256) -> float:
    model.eval()
    with torch.no_grad():
        hits = sum(int((model(x[i:i + batch]).argmax(-1) == y[i:i + batch]).sum()) for i in range(0, len(x), batch))
    return hits / max(1, len(x))


def robustness_curve(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps_values: Sequence[float],
                     method: str = "fgsm", bounds: tuple[float, float] | None = None,
                     batch: int = 256) -> list[RobustnessRow]:
    """Accuracy on adversarial versions of (x, y) for each ε; the first row's drop is against clean data."""
    if method not in ATTACKS:
        raise ValueError(f"unknown attack '{method}' (choose fgsm or pgd)")
    model.eval()
    clean = accuracy(model, x, y, batch)
    rows = []
    for eps in eps_values:
        if eps < 0:
            raise ValueError(f"ε must be ≥ 0, got {eps}")
        adv = torch.cat([ATTACKS[method](model, x[i:i + batch], y[i:i + batch], eps, bounds=bounds)
                         for i in range(0, len(x), batch)])
        acc = accuracy(model, adv, y, batch)
        rows.append(RobustnessRow(float(eps), acc, 100.0 * (clean - acc)))
    return rows


def adversarial_batch(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, method: str = "fgsm",
                      bounds: tuple[float, float] | None = None) -> torch.Tensor:
    """Clean plus adversarial examples for adversarial training (the model's mode is kept)."""
    was_training = model.training
    model.eval()
    adv = ATTACKS[method](model, x, y, eps, bounds=bounds)
    model.train(was_training)
    return adv
