"""Attributions: completeness of Integrated Gradients, the right features lit, clear refusals."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from studio.analysis.explain import ExplainError, attribute, conv_layers


def _only_first_feature() -> nn.Module:
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        model[0].weight[:, 1:] = 0.0  # features 1..3 cannot matter
    return model


def _cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))


def test_integrated_gradients_are_complete_within_captums_delta():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3))
    x = torch.randn(6, 5)
    result = attribute(model, x, 1, "ig", steps=64)
    assert float(result.delta.max()) < 1e-2
    gap = model(x)[:, 1] - model(torch.zeros_like(x))[:, 1]
    assert torch.allclose(result.values.sum(dim=1), gap, atol=1e-2)


@pytest.mark.parametrize("method", ["saliency", "ig", "occlusion"])
def test_features_the_model_ignores_get_no_attribution(method):
    torch.manual_seed(1)
    x = torch.randn(5, 4)
    values = attribute(_only_first_feature(), x, None, method).values
    assert values[:, 1:].abs().max() < 1e-6
    assert values[:, 0].abs().max() > 0


def test_gradcam_is_upsampled_to_the_image_and_needs_a_conv_node():
    model, x = _cnn(), torch.rand(2, 1, 6, 6)
    layer = conv_layers(model)["0"]
    assert attribute(model, x, 0, "gradcam", layer=layer).values.shape == (2, 1, 6, 6)
    with pytest.raises(ExplainError, match="conv node"):
        attribute(model, x, 0, "gradcam")


def test_lrp_runs_through_flatten_and_refuses_layers_without_a_rule():
    model, x = _cnn(), torch.rand(2, 1, 6, 6)
    assert attribute(model, x, None, "lrp").values.shape == x.shape
    with pytest.raises(ExplainError, match="Tanh"):
        attribute(nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2)), torch.rand(2, 4), None, "lrp")


def test_unknown_method_is_refused_by_name():
    with pytest.raises(ExplainError, match="unknown method 'shap'"):
        attribute(_only_first_feature(), torch.rand(1, 4), 0, "shap")
