"""Every registered node type: default params infer shapes on meta, and a real CPU run agrees."""

from __future__ import annotations

import pytest
import torch

from studio.catalog import default_registry
from tests.nodes.helpers import infer, run_real, sample

F32 = "float32"

#: suitable inputs (per-sample shape, dtype) for each built-in layer type, in input-port order
INPUTS: dict[str, list] = {
    "nn.linear": [((8,), F32)],
    "nn.identity": [((3, 4), F32)],
    "nn.conv1d": [((3, 16), F32)],
    "nn.conv2d": [((3, 8, 8), F32)],
    "nn.conv_transpose2d": [((4, 5, 5), F32)],
    "nn.upsample": [((2, 4, 4), F32)],
    "nn.max_pool1d": [((3, 16), F32)],
    "nn.max_pool2d": [((3, 8, 8), F32)],
    "nn.avg_pool1d": [((3, 16), F32)],
    "nn.avg_pool2d": [((3, 8, 8), F32)],
    "nn.adaptive_avg_pool1d": [((3, 16), F32)],
    "nn.adaptive_avg_pool2d": [((3, 8, 8), F32)],
    "nn.batch_norm1d": [((6,), F32)],
    "nn.batch_norm2d": [((4, 5, 5), F32)],
    "nn.layer_norm": [((5, 12), F32)],
    "nn.group_norm": [((16, 4, 4), F32)],
    "nn.dropout": [((10,), F32)],
    "nn.dropout2d": [((4, 5, 5), F32)],
    "nn.stochastic_depth": [((4, 5, 5), F32)],
    "nn.relu": [((7,), F32)],
    "nn.leaky_relu": [((7,), F32)],
    "nn.elu": [((7,), F32)],
    "nn.gelu": [((7,), F32)],
    "nn.silu": [((7,), F32)],
    "nn.sigmoid": [((7,), F32)],
    "nn.tanh": [((7,), F32)],
    "nn.softmax": [((7,), F32)],
    "nn.log_softmax": [((7,), F32)],
    "nn.relu6": [((7,), F32)],
    "nn.hardswish": [((7,), F32)],
    "nn.hardsigmoid": [((7,), F32)],
    "nn.softplus": [((7,), F32)],
    "nn.mish": [((7,), F32)],
    "nn.prelu": [((3, 4, 4), F32)],
    "nn.flatten": [((3, 4, 5), F32)],
    "nn.reshape": [((784,), F32)],
    "nn.unflatten": [((784,), F32)],
    "nn.permute": [((5, 7), F32)],
    "nn.transpose": [((5, 7), F32)],
    "nn.select": [((5, 7), F32)],
    "nn.split": [((6, 7), F32)],
    "nn.squeeze": [((5, 1), F32)],
    "nn.unsqueeze": [((28, 28), F32)],
    "nn.concat": [((3, 4), F32), ((5, 4), F32)],
    "nn.add": [((3, 4), F32), ((3, 4), F32)],
    "nn.multiply": [((3, 4), F32), ((1, 4), F32)],
    "diffusion.timestep_embedding": [((1,), F32)],
    "nn.embedding": [((6,), "int64")],
    "nn.rnn": [((5, 8), F32)],
    "nn.lstm": [((5, 8), F32)],
    "nn.gru": [((5, 8), F32)],
    "nn.positional_encoding": [((5, 16), F32)],
    "nn.self_attention": [((5, 16), F32)],
    "nn.multihead_attention": [((5, 16), F32)],
    "nn.transformer_encoder_layer": [((5, 16), F32)],
    "tv.resnet18": [((3, 32, 32), F32)],
    "tv.resnet50": [((3, 32, 32), F32)],
    "tv.mobilenet_v3_small": [((3, 32, 32), F32)],
    "tv.efficientnet_b0": [((3, 32, 32), F32)],
}

#: shapes tried for layer types of other families (e.g. nodes/functional.py) not listed above
FALLBACK = [((8,), F32), ((4, 8), F32), ((3, 8, 8), F32)]

MY_FAMILIES = ("io", "linear", "conv", "pool", "norm", "activation", "reshape", "merge",
               "recurrent", "attention", "pretrained", "diffusion")

LAYERS = [s for s in default_registry() if s.role == "layer"]
OWN_LAYERS = [s for s in LAYERS if s.type_id in INPUTS]


def _inputs_for(spec):
    if spec.type_id in INPUTS:
        return INPUTS[spec.type_id]
    for given in FALLBACK:
        shapes, _ = infer(default_registry(), spec, [given] * len(spec.inputs))
        if not shapes.errors():
            return [given] * len(spec.inputs)
    pytest.skip(f"{spec.type_id}: no suitable default input known to tests/nodes")


def test_every_own_family_type_has_test_inputs():
    import importlib

    missing = []
    for family in MY_FAMILIES:
        for spec in importlib.import_module(f"nodes.{family}").SPECS:
            if spec.role == "layer" and spec.type_id not in INPUTS:
                missing.append(spec.type_id)
    assert missing == []


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.type_id)
def test_default_params_infer_and_match_real_forward(spec):
    registry = default_registry()
    inputs = _inputs_for(spec)
    shapes, node = infer(registry, spec, inputs)
    assert shapes.errors() == {}, shapes.errors()
    info = shapes.nodes[node.id]
    assert set(info.outputs) == set(spec.output_names())
    outputs = run_real(spec, info.resolved, inputs)
    assert len(outputs) == len(spec.outputs)
    for port, value in zip(spec.outputs, outputs, strict=True):
        assert tuple(value.shape) == info.outputs[port.name].shape, port.name
        assert str(value.dtype).removeprefix("torch.") == info.outputs[port.name].dtype


@pytest.mark.parametrize("spec", OWN_LAYERS, ids=lambda s: s.type_id)
def test_spec_is_documented(spec):
    assert spec.description.endswith("."), "one sentence a student understands"
    assert spec.tags, "tags let quick-add find the node"
    assert spec.export is not None and spec.export.qualname
    for name in spec.key_params:
        assert spec.has_param(name)
    for param in spec.params:
        assert param.help, f"{param.name} has no help text"
        if param.kind in ("int", "float", "ints", "floats"):
            assert param.minimum is not None and param.maximum is not None, f"{param.name} needs bounds"
        if param.kind == "choice":
            assert param.default in param.choices
        elif not param.inferable and param.default is not None:
            assert param.check(param.default) is not None or param.kind == "bool"
    assert spec.check is None or spec.check(spec.default_params()) is None


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("spec", OWN_LAYERS, ids=lambda s: s.type_id)
def test_runs_on_cuda(spec):
    """Masks, buffers and helper tensors must follow the input's device."""
    inputs = INPUTS[spec.type_id]
    shapes, node = infer(default_registry(), spec, inputs)
    info = shapes.nodes[node.id]
    tensors = [sample(given).cuda() for given in inputs]
    with torch.no_grad():
        if spec.module is not None:
            result = spec.build(info.resolved).cuda().eval()(*tensors)
        else:
            result = spec.function(*tensors, **spec.constructor_kwargs(info.resolved))
    values = result if isinstance(result, tuple) else (result,)
    for port, value in zip(spec.outputs, values, strict=True):
        assert value.is_cuda and tuple(value.shape) == info.outputs[port.name].shape
