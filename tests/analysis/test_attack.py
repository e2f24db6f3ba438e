"""FGSM / PGD: stay in the ε ball and the valid range, and hurt a trained classifier."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from studio.analysis.attack import accuracy, adversarial_batch, fgsm, pgd, robustness_curve


def _trained_linear() -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """Two blobs 1.0 apart along the first feature: separable, but close to the boundary."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (400,), generator=g)
    x = torch.rand(400, 4, generator=g) * 0.2 + 0.4
    x[:, 0] += (y.float() - 0.5) * 0.3
    model = nn.Linear(4, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model, x, y


def test_attacks_stay_inside_the_eps_ball_and_the_bounds():
    model, x, y = _trained_linear()
    for attack in (fgsm, pgd):
        adv = attack(model, x, y, 0.05, bounds=(0.0, 1.0))
        assert (adv - x).abs().max() <= 0.05 + 1e-6
        assert adv.min() >= 0.0 and adv.max() <= 1.0


def test_accuracy_falls_as_eps_grows_and_eps_zero_is_clean():
    model, x, y = _trained_linear()
    clean = accuracy(model, x, y)
    assert clean > 0.95
    rows = robustness_curve(model, x, y, [0.0, 0.05, 0.2], "fgsm")
    assert rows[0].accuracy == pytest.approx(clean)
    assert rows[1].accuracy < clean and rows[2].accuracy < rows[1].accuracy
    assert rows[2].drop > 30


def test_pgd_is_at_least_as_strong_as_fgsm():
    model, x, y = _trained_linear()
    f = accuracy(model, fgsm(model, x, y, 0.1), y)
    p = accuracy(model, pgd(model, x, y, 0.1, steps=20, generator=torch.Generator().manual_seed(0)), y)
    assert p <= f + 1e-9


def test_adversarial_batch_keeps_the_models_training_mode():
    model, x, y = _trained_linear()
    model.train()
    adversarial_batch(model, x[:8], y[:8], 0.1)
    assert model.training


def test_negative_eps_and_unknown_attack_are_refused():
    model, x, y = _trained_linear()
    with pytest.raises(ValueError, match="ε must be"):
        robustness_curve(model, x, y, [-0.1])
    with pytest.raises(ValueError, match="unknown attack"):
        robustness_curve(model, x, y, [0.1], "cw")
