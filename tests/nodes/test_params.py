"""Inferred params resolve from the incoming shape; invalid params and shapes give plain messages."""

from __future__ import annotations

import pytest

from studio.core.spec import validate_params
from tests.nodes.helpers import infer

F32 = "float32"


def _node(registry, type_id, inputs, **params):
    shapes, node = infer(registry, registry.get(type_id), inputs, params)
    return shapes.nodes[node.id]


@pytest.mark.parametrize(("type_id", "inputs", "param", "expected"), [
    ("nn.conv2d", [((3, 8, 8), F32)], "in_channels", 3),
    ("nn.conv1d", [((5, 16), F32)], "in_channels", 5),
    ("nn.conv_transpose2d", [((7, 4, 4), F32)], "in_channels", 7),
    ("nn.batch_norm1d", [((6, 10), F32)], "num_features", 6),
    ("nn.batch_norm2d", [((4, 5, 5), F32)], "num_features", 4),
    ("nn.group_norm", [((16, 2, 2), F32)], "num_channels", 16),
    ("nn.layer_norm", [((5, 12), F32)], "normalized_shape", (12,)),
    ("nn.linear", [((9,), F32)], "in_features", 9),
    ("nn.lstm", [((5, 11), F32)], "input_size", 11),
    ("nn.positional_encoding", [((5, 14), F32)], "d_model", 14),
    ("nn.self_attention", [((5, 12), F32)], "embed_dim", 12),
    ("nn.transformer_encoder_layer", [((5, 20), F32)], "d_model", 20),
    ("nn.multihead_attention", [((5, 16), F32)], "kdim", 16),
    ("nn.multihead_attention", [((5, 16), F32), ((7, 6), F32)], "kdim", 6),
    ("nn.multihead_attention", [((5, 16), F32), ((7, 6), F32), ((7, 3), F32)], "vdim", 3),
    ("nn.multihead_attention", [((5, 16), F32), ((7, 6), F32)], "vdim", 6),
])
def test_inferred_param_shows_resolved_value(registry, type_id, inputs, param, expected):
    spec = registry.get(type_id)
    assert spec.default_params()[param] is None  # stored as "auto"
    info = _node(registry, type_id, inputs)
    assert info.error is None
    assert info.resolved[param] == expected


def test_user_value_wins_over_inference(registry):
    info = _node(registry, "nn.conv2d", [((3, 8, 8), F32)], in_channels=4)
    assert info.resolved["in_channels"] == 4
    assert "channel" in info.error


def test_linear_forced_in_features_says_expected_and_actual(registry):
    info = _node(registry, "nn.linear", [((6272,), F32)], in_features=784)
    assert info.error.startswith("Linear expects 784 features, gets 6272")


@pytest.mark.parametrize(("type_id", "inputs", "params", "param", "words"), [
    ("nn.conv2d", [((3, 8, 8), F32)], {"groups": 2}, "groups", "must divide the number of input channels (3)"),
    ("nn.conv2d", [((4, 8, 8), F32)], {"groups": 2, "out_channels": 5}, "groups", "output channels (5)"),
    ("nn.conv_transpose2d", [((4, 8, 8), F32)], {"output_padding": 2}, "output_padding", "smaller than the stride"),
    ("nn.max_pool2d", [((3, 8, 8), F32)], {"padding": 2}, "padding", "at most half the kernel size"),
    ("nn.group_norm", [((6, 4, 4), F32)], {"num_groups": 4}, "num_groups", "must divide the number of channels (6)"),
    ("nn.reshape", [((10,), F32)], {"shape": [-1, -1]}, "shape", "-1 only once"),
    ("nn.permute", [((4, 5), F32)], {"dims": [0, 2, 2]}, "dims", "exactly once"),
    ("nn.permute", [((4, 5), F32)], {"dims": [1, 0, 2]}, "dims", "batch first"),
    ("nn.transpose", [((4, 5), F32)], {"dim0": 0}, "dim0", "batch"),
    ("nn.flatten", [((4, 5), F32)], {"start_dim": 0}, "start_dim", "the batch dimension"),
    ("nn.select", [((4, 5), F32)], {"dim": 0}, "dim", "keep only one sample"),
    ("nn.squeeze", [((1, 5), F32)], {"dim": 0}, "dim", "the batch dimension"),
    ("nn.unsqueeze", [((4, 5), F32)], {"dim": 0}, "dim", "the batch dimension"),
    ("nn.embedding", [((6,), "int64")], {"padding_idx": 5000}, "padding_idx", "below num_embeddings (1000)"),
    ("nn.lstm", [((5, 6), F32)], {"dropout": 0.3}, "dropout", "num_layers to 2 or more"),
    ("nn.self_attention", [((5, 6), F32)], {"num_heads": 4}, "num_heads", "must divide embed_dim (6)"),
    ("nn.multihead_attention", [((5, 6), F32)], {"num_heads": 4}, "num_heads", "must divide embed_dim (6)"),
    ("nn.transformer_encoder_layer", [((5, 6), F32)], {}, "nhead", "must divide d_model (6)"),
    ("tv.resnet18", [((3, 32, 32), F32)], {"weights": "file"}, "weights_path", "choose a weights file"),
    ("nn.conv2d", [((3, 8, 8), F32)], {"kernel_size": 0}, "kernel_size", "at least 1"),
    ("nn.dropout", [((3,), F32)], {"p": 1.5}, "p", "at most 1"),
    ("nn.lstm", [((5, 6), F32)], {"output": "everything"}, "output", "must be one of sequence, last step"),
])
def test_invalid_params_give_plain_messages_on_the_param(registry, type_id, inputs, params, param, words):
    info = _node(registry, type_id, inputs, **params)
    assert info.error is not None and words in info.error, info.error
    assert info.error_param == param
    assert "Traceback" not in info.error and "torch." not in info.error


@pytest.mark.parametrize(("type_id", "inputs", "params", "words"), [
    ("nn.conv2d", [((8,), F32)], {}, "Conv2d needs a 4-D input (batch first), gets 2-D"),
    ("nn.batch_norm2d", [((6,), F32)], {}, "BatchNorm2d needs a 4-D input"),
    ("nn.batch_norm1d", [((6,), F32)], {"num_features": 5}, "BatchNorm1d expects 5 features/channels, gets 6"),
    ("nn.max_pool2d", [((3, 1, 1), F32)], {}, "smaller than the kernel"),
    ("nn.layer_norm", [((6,), F32)], {"normalized_shape": [5]}, "normalises trailing size(s) (5)"),
    ("nn.reshape", [((10,), F32)], {"shape": [3, -1]}, "cannot reshape 20 values"),
    ("nn.unflatten", [((10,), F32)], {"unflattened_size": [3, 4]}, "do not multiply up to 10"),
    ("nn.permute", [((4, 5), F32)], {"dims": [0, 1]}, "the input has 3"),
    ("nn.select", [((4, 5), F32)], {"index": 9}, "index 9 is outside dimension 1 of size 4"),
    ("nn.split", [((4, 5), F32)], {"split_size": 4}, "between 1 and 3"),
    ("nn.squeeze", [((4, 5), F32)], {}, "only size-1 dimensions"),
    ("nn.concat", [((4, 5), F32), ((4, 6), F32)], {}, "same size in every dimension except 1"),
    ("nn.add", [((4, 5), F32), ((4, 6), F32)], {}, "Add: inputs differ in dimension 2 (5 vs 6)"),
    ("nn.multiply", [((4, 5), F32), ((3, 5), F32)], {}, "Multiply: inputs differ in dimension 1 (4 vs 3)"),
    ("nn.embedding", [((6,), F32)], {}, "needs integer token ids"),
    ("nn.lstm", [((6,), F32)], {}, "needs a 3-D input"),
    ("nn.lstm", [((5, 6), F32)], {"input_size": 7}, "LSTM expects 7 features per step, gets 6"),
    ("nn.positional_encoding", [((600, 8), F32)], {}, "longer than max_len 512"),
    ("nn.multihead_attention", [((5, 8), F32), ((6, 8), F32), ((7, 3), F32)], {"num_heads": 2},
     "key and value must have the same length (key 6, value 7)"),
    ("tv.resnet18", [((1, 32, 32), F32)], {}, "needs RGB images"),
])
def test_bad_inputs_give_plain_messages(registry, type_id, inputs, params, words):
    info = _node(registry, type_id, inputs, **params)
    assert info.error is not None and words in info.error, info.error
    assert "torch." not in info.error


def test_cross_checks_accept_stored_auto_values(registry):
    """validate_params runs checks on stored params, where inferred ones are still None."""
    for spec in registry:
        params = spec.default_params()
        assert validate_params(spec, params) == {}, spec.type_id
    conv = registry.get("nn.conv2d")
    assert validate_params(conv, {**conv.default_params(), "out_channels": 5, "groups": 2}) == {
        "*": "'groups' (2) must divide the number of output channels (5)"}
