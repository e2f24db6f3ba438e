"""The fast shape rules must agree with PyTorch's own meta forward, and decline whatever is unusual."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from studio.core.fast_shapes import fast_output_shape

dims = st.integers(1, 6)


def _meta(module_factory, shape, dtype=torch.float32):
    with torch.device("meta"):
        module = module_factory().eval()
    return module, torch.empty(shape, dtype=dtype, device="meta")


def _agrees(module, x):
    fast = fast_output_shape(module, [x])
    try:
        real = tuple(module(x).shape)
    except Exception:
        real = None
    if fast is not None:  # when the rule answers, PyTorch must give exactly that
        assert real == fast, (type(module).__name__, tuple(x.shape), fast, real)
    return fast


LAYERS = [
    lambda a, b: nn.Linear(a, b),
    lambda a, b: nn.BatchNorm1d(a),
    lambda a, b: nn.BatchNorm2d(a),
    lambda a, b: nn.LayerNorm(a),
    lambda a, b: nn.LayerNorm([b, a]),
    lambda a, b: nn.GroupNorm(1, a),
    lambda a, b: nn.Dropout2d(),
    lambda a, b: nn.GELU(),
    lambda a, b: nn.ReLU(),
]


@pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch warns about odd Dropout2d inputs
@settings(max_examples=200, deadline=None)
@given(st.sampled_from(LAYERS), dims, dims, st.lists(dims, min_size=1, max_size=4))
def test_rules_match_pytorch_meta(layer, a, b, shape):
    module, x = _meta(lambda: layer(a, b), tuple(shape))
    _agrees(module, x)


@pytest.mark.parametrize(("factory", "shape", "expected"), [
    (lambda: nn.Linear(4, 3), (2, 4), (2, 3)),
    (lambda: nn.Linear(4, 3), (2, 5, 4), (2, 5, 3)),
    (lambda: nn.BatchNorm2d(3), (2, 3, 8, 8), (2, 3, 8, 8)),
    (lambda: nn.LayerNorm(8), (2, 5, 8), (2, 5, 8)),
])
def test_common_valid_calls_take_the_fast_path(factory, shape, expected):
    module, x = _meta(factory, shape)
    assert _agrees(module, x) == expected


@pytest.mark.parametrize(("factory", "shape", "dtype"), [
    (lambda: nn.Linear(4, 3), (2, 5), torch.float32),     # wrong width: PyTorch must say so
    (lambda: nn.BatchNorm2d(3), (2, 4, 8, 8), torch.float32),
    (lambda: nn.LayerNorm(8), (2, 7), torch.float32),
    (lambda: nn.Linear(4, 3), (2, 4), torch.int64),       # integer input: PyTorch's error, not ours
    (lambda: nn.Linear(4, 3), (0, 4), torch.float32),     # empty batch
])
def test_unusual_calls_fall_back_to_pytorch(factory, shape, dtype):
    module, x = _meta(factory, shape, dtype)
    assert fast_output_shape(module, [x]) is None


def test_inference_errors_still_come_from_pytorch(registry):
    from studio.core.ops import SetParam
    from studio.core.shapes import ShapeInferencer
    from tests.core.helpers import mlp

    project = mlp(registry, widths=(8, 4))
    graph = project.main_graph
    SetParam(graph.id, graph.node_by_name("linear_1").id, "in_features", 5).apply(project)
    errors = ShapeInferencer(registry).infer(graph).errors()
    assert list(errors.values()) == ["Linear expects 5 features, gets 8 (input B×8)"]
