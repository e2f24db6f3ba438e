"""Generic nodes: any torch.nn module / torch function by name with literal arguments, and parameters.

Their arguments are text from a project file, so the tests check both that legitimate calls work
exactly and that nothing else (names, attributes, imports, side-effect functions) gets through.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nodes.generic import (
    ArgsError,
    Parameter,
    build_module,
    call_function,
    call_text,
    constructor_text,
    module_call_text,
    parse_args,
    resolve_class,
    resolve_function,
)
from studio.core.spec import validate_params
from tests.nodes.helpers import infer


@pytest.mark.parametrize("text", [
    "__import__('os').system('echo hi')", "in0.__class__", "open('x')", "in0.numpy()", "lambda: 1",
    "[x for x in in0]", "in99", "os", "in0.weight", "**{'a': 1}", "torch.nn.Module()", "torch.nn.functional.relu(in0)",
    "f'{in0}'",
])
def test_argument_text_refuses_anything_but_literals_and_sizes(text):
    with pytest.raises(ArgsError):
        parse_args(text)


def test_argument_text_accepts_literals_sizes_slices_and_dtypes():
    for text in ("in0, 1, dim=-1", "in0, in0.size(0), -1", "in0, (slice(None, None, None), 0)",
                 "in0, size=in0.shape[-2:], mode='bilinear'", "in0, dtype=torch.float32",
                 "in0, (in0.size(1) // 2) * 3", "[in0, in1], 1", "in0, float('-inf')", "len(in0)", "in0, in0.size()"):
        parse_args(text)


@pytest.mark.parametrize("path", ["torch.load", "torch.save", "torch.manual_seed", "os.system", "Tensor.numpy",
                                  "torch._C", "builtins.eval", "torch.nn.Linear"])
def test_only_allow_listed_functions_resolve(path):
    with pytest.raises(ArgsError):
        resolve_function(path)


@pytest.mark.parametrize("path", ["torch.nn.modules.module.Module", "os.path", "subprocess.Popen",
                                  "torch.nn.functional.relu", "torch.nn._private"])
def test_only_torch_nn_and_torchvision_ops_classes_build(path):
    with pytest.raises(ArgsError):
        resolve_class(path)


def test_function_call_is_exact_and_picks_tuple_parts():
    x = torch.randn(2, 6, 5)
    assert torch.equal(call_function(x, fn="Tensor.reshape", args="in0, in0.size()")[0], x)  # a size, not a class
    assert torch.equal(call_function(x, fn="Tensor.view", args="in0, in0.size(0), -1")[0], x.view(2, -1))
    parts = call_function(x, fn="torch.chunk", args="in0, 3, dim=1", pick="2; 0")
    assert torch.equal(parts[0], x.chunk(3, 1)[2]) and torch.equal(parts[1], x.chunk(3, 1)[0])
    assert parts[2] is None and parts[3] is None


def test_generic_module_is_the_real_class_with_its_own_state_keys():
    module = build_module("torch.nn.LSTM", "input_size=4, hidden_size=3", call="in0, (in1, in2)", pick="0; 1.0")
    assert isinstance(module, nn.LSTM)
    reference = nn.LSTM(4, 3)
    assert list(module.state_dict()) == list(reference.state_dict())
    module.load_state_dict(reference.state_dict())
    x, h, c = torch.randn(5, 2, 4), torch.randn(1, 2, 3), torch.randn(1, 2, 3)
    out, hidden, *_ = module(x, h, c)
    expected = reference(x, (h, c))
    assert torch.equal(out, expected[0]) and torch.equal(hidden, expected[1][0])


def test_code_is_what_a_person_writes():
    assert call_text("torch.flatten", "in0, 1", ["x"]) == "torch.flatten(x, 1)"
    assert call_text("Tensor.view", "in0, in0.size(0), -1", ["h"]) == "h.view(h.size(0), -1)"
    assert call_text("operator.add", "in0, in1", ["a", "b"]) == "a + b"
    assert call_text("operator.getitem", "in0, (slice(None, None, None), 0)", ["t"]) == "t[:, 0]"
    assert call_text("F.interpolate", "in0, scale_factor=2.0", ["y"]) == "F.interpolate(y, scale_factor=2.0)"
    assert constructor_text({"cls": "torch.nn.PixelShuffle", "args": "upscale_factor=3"}) == \
        ("nn.PixelShuffle", [], ["upscale_factor=3"])
    assert constructor_text({"cls": "torch.nn.TransformerEncoder", "args": "encoder_layer=torch.nn.TransformerEncoderLayer("
                             "d_model=8, nhead=2), num_layers=2"})[2] == \
        ["encoder_layer=nn.TransformerEncoderLayer(d_model=8, nhead=2)", "num_layers=2"]
    assert module_call_text({"call": "in0, (in1, in2)"}, "self.rnn", ["x", "h", "c"]) == "self.rnn(x, (h, c))"


def test_bad_params_are_reported_on_the_node(registry):
    spec = registry.get("generic.function")
    assert "only torch" in validate_params(spec, {"fn": "os.system", "args": "in0", "pick": ""})["*"]
    assert ".data is not allowed" in validate_params(spec, {"fn": "torch.exp", "args": "in0.data", "pick": ""})["*"]
    assert "index path" in validate_params(spec, {"fn": "torch.exp", "args": "in0", "pick": "a"})["*"]


def test_shapes_come_from_the_real_call_on_meta(registry):
    spec = registry.get("generic.function")
    shapes, node = infer(registry, spec, [((4, 6, 6), "float32")],
                         {"fn": "F.interpolate", "args": "in0, scale_factor=2.0", "pick": ""})
    assert shapes.nodes[node.id].outputs["out"].shape == (2, 4, 12, 12)
    module = registry.get("generic.module")
    shapes, node = infer(registry, module, [((9, 6, 6), "float32")],
                         {"cls": "torch.nn.PixelShuffle", "args": "upscale_factor=3", "call": "in0", "pick": ""})
    assert shapes.nodes[node.id].outputs["out"].shape == (2, 1, 18, 18)


def test_parameter_node_holds_a_learned_tensor_or_a_buffer():
    learned = Parameter([1, 1, 8])
    assert [n for n, _ in learned.named_parameters()] == ["value"] and learned().shape == (1, 1, 8)
    fixed = Parameter([3], trainable=False, dtype="int64")
    assert not list(fixed.parameters()) and fixed().dtype == torch.int64 and "value" in fixed.state_dict()
