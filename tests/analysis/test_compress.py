"""Pruning and quantization: the sparsity asked for, exportable results, real size gains."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from studio.analysis.compress import (
    count,
    figures,
    file_size,
    finalize,
    prune_model,
    quantize_dynamic,
    quantize_static,
    table,
)


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_pruning_zeroes_the_share_asked_for_and_keeps_the_keys(scope):
    model = _mlp()
    keys = set(model.state_dict())
    finalize(prune_model(model, 0.8, scope))
    weights = torch.cat([model[0].weight.flatten(), model[2].weight.flatten()])
    assert float((weights == 0).float().mean()) == pytest.approx(0.8, abs=0.01)
    assert set(model.state_dict()) == keys  # exports and loads like the original


def test_pruning_masks_survive_fine_tuning_until_finalized():
    model = _mlp()
    prune_model(model, 0.5)
    zeros = model[0].weight == 0
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.randn(8, 64)).sum().backward()
    opt.step()
    assert zeros.any() and bool((model[0].weight[zeros] == 0).all())


def test_pruned_file_is_smaller_and_dynamic_int8_is_at_least_3x_smaller():
    model = _mlp()
    dense = file_size(model)
    quantized = quantize_dynamic(model)
    assert dense / file_size(quantized) >= 3
    x = torch.randn(16, 64)
    assert (quantized(x) - model(x)).abs().max() < 0.05
    finalize(prune_model(model, 0.8))
    assert file_size(model) < dense / 2


def test_static_quantization_follows_the_float_model():
    model = torch.fx.symbolic_trace(_mlp())
    x = torch.randn(128, 64)
    q = quantize_static(model, x)
    assert (q(x) - model(x)).abs().mean() < 0.05


def test_counts_and_table():
    model = _mlp()
    total, nonzero = count(model)
    assert total == sum(p.numel() for p in model.parameters()) and nonzero == total
    text = table([figures("fp32", model, torch.randn(4, 64), lambda m: 0.5)])
    assert "fp32" in text and "50.0 %" in text


def test_bad_sparsity_and_models_without_layers_are_refused():
    with pytest.raises(ValueError, match="sparsity"):
        prune_model(_mlp(), 1.0)
    with pytest.raises(ValueError, match="no Linear or Conv"):
        prune_model(nn.Sequential(nn.ReLU()), 0.5)
