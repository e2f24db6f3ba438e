"""Recurrent output choices, positional encodings, attention weights and other helper modules."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nodes.modules import RecurrentLayer, TransformerEncoderBlock
from tests.nodes.helpers import infer, run_real

F32 = "float32"


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize(("output", "bidirectional", "expected"), [
    ("sequence", False, (2, 5, 12)),
    ("sequence", True, (2, 5, 24)),
    ("last step", False, (2, 12)),
    ("last step", True, (2, 24)),
    ("hidden state", False, (2, 12)),
    ("hidden state", True, (2, 24)),
])
def test_recurrent_output_choices_shapes(registry, cell, output, bidirectional, expected):
    spec = registry.get(f"nn.{cell}")
    params = {"hidden_size": 12, "num_layers": 2, "bidirectional": bidirectional, "output": output}
    inputs = [((5, 7), F32)]
    shapes, node = infer(registry, spec, inputs, params)
    info = shapes.nodes[node.id]
    assert info.error is None
    assert info.outputs["out"].shape == expected
    (real,) = run_real(spec, info.resolved, inputs)
    assert tuple(real.shape) == expected


def test_hidden_state_is_final_layer_both_directions():
    torch.manual_seed(0)
    layer = RecurrentLayer("lstm", 4, 3, num_layers=2, bidirectional=True, output="hidden state").eval()
    x = torch.randn(2, 6, 4)
    seq, (h_n, _) = layer.rnn(x)
    got = layer(x)
    assert torch.equal(got, torch.cat([h_n[-2], h_n[-1]], dim=1))
    # forward half = last step of the forward direction; backward half = first step of the backward one
    assert torch.allclose(got[:, :3], seq[:, -1, :3]) and torch.allclose(got[:, 3:], seq[:, 0, 3:])


def test_unidirectional_last_step_equals_hidden_state():
    torch.manual_seed(0)
    last = RecurrentLayer("gru", 4, 5, output="last step").eval()
    hidden = RecurrentLayer("gru", 4, 5, output="hidden state").eval()
    hidden.load_state_dict(last.state_dict())
    x = torch.randn(3, 7, 4)
    assert torch.allclose(last(x), hidden(x), atol=1e-6)


def test_rnn_nonlinearity_and_dropout_reach_torch(registry):
    spec = registry.get("nn.rnn")
    layer = spec.build({"input_size": 4, "hidden_size": 3, "num_layers": 2, "bidirectional": False,
                        "dropout": 0.25, "output": "sequence", "nonlinearity": "relu"})
    assert layer.rnn.nonlinearity == "relu" and layer.rnn.dropout == 0.25 and layer.rnn.batch_first


@pytest.mark.parametrize("kind", ["sinusoidal", "learned"])
def test_positional_encoding(registry, kind):
    spec = registry.get("nn.positional_encoding")
    module = spec.build({"d_model": 7, "max_len": 10, "kind": kind, "dropout": 0.0}).eval()
    x = torch.zeros(2, 4, 7)
    out = module(x)
    assert out.shape == x.shape
    assert torch.equal(out[0], out[1])  # same positions for every sample
    assert not torch.equal(out[:, 0], out[:, 1])  # positions differ
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert trainable == (70 if kind == "learned" else 0)
    if kind == "sinusoidal":
        assert torch.allclose(out[0, 0], torch.tensor([0.0, 1.0] * 3 + [0.0]))  # sin(0), cos(0)


def test_attention_weights_output_shapes(registry):
    mha = registry.get("nn.multihead_attention")
    inputs = [((5, 16), F32), ((9, 6), F32), ((9, 3), F32)]
    shapes, node = infer(registry, mha, inputs, {"num_heads": 4})
    info = shapes.nodes[node.id]
    assert info.error is None
    assert info.outputs["out"].shape == (2, 5, 16)
    assert info.outputs["weights"].shape == (2, 5, 9)
    out, weights = run_real(mha, info.resolved, inputs)
    assert tuple(weights.shape) == (2, 5, 9)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 5), atol=1e-5)
    for type_id, params in (("nn.self_attention", {"num_heads": 2}), ("nn.transformer_encoder_layer", {"nhead": 2})):
        shapes, node = infer(registry, registry.get(type_id), [((6, 8), F32)], params)
        assert shapes.nodes[node.id].outputs["weights"].shape == (2, 6, 6), type_id


@pytest.mark.parametrize("type_id", ["nn.self_attention", "nn.multihead_attention", "nn.transformer_encoder_layer"])
def test_causal_attention_never_looks_ahead(registry, type_id):
    spec = registry.get(type_id)
    shapes, node = infer(registry, spec, [((6, 8), F32)], {"causal": True})
    resolved = shapes.nodes[node.id].resolved
    _, weights = run_real(spec, resolved, [((6, 8), F32)])
    assert torch.all(weights.triu(1) == 0)
    assert torch.all(weights.tril() >= 0) and torch.allclose(weights.sum(-1), torch.ones(2, 6), atol=1e-5)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_block_matches_torch_encoder_layer(norm_first, activation):
    torch.manual_seed(0)
    reference = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, activation=activation,
                                           batch_first=True, norm_first=norm_first).eval()
    block = TransformerEncoderBlock(16, 4, 32, dropout=0.0, activation=activation, norm_first=norm_first).eval()
    block.load_state_dict(reference.state_dict())
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        out, weights = block(x)
        expected = reference(x)
    assert torch.allclose(out, expected, atol=1e-5)
    assert weights.shape == (2, 5, 5)


def test_self_attention_heads_share_the_embedding():
    from nodes.modules import SelfAttention

    one, four = SelfAttention(8, 1), SelfAttention(8, 4)
    assert sum(p.numel() for p in one.parameters()) == sum(p.numel() for p in four.parameters())
    with pytest.raises(ValueError, match="not divisible"):
        SelfAttention(6, 4)


def test_stochastic_depth_matches_torchvision():
    from torchvision.ops import StochasticDepth as Reference

    from nodes.modules import StochasticDepth

    x = torch.randn(64, 3, 2, 2)
    for mode in ("row", "batch"):
        ours, reference = StochasticDepth(0.4, mode).train(), Reference(0.4, mode).train()
        torch.manual_seed(3)
        expected = reference(x)
        torch.manual_seed(3)
        assert torch.equal(ours(x), expected)
        assert torch.equal(ours.eval()(x), x)
    assert vars(StochasticDepth(0.2, "row"))["p"] == vars(Reference(0.2, "row"))["p"]
