"""Hypothesis: randomly generated valid graphs compile and export with exact parity."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.compile.util import Builder, check_parity

ACTIVATIONS = ["nn.relu", "nn.tanh", "nn.sigmoid", "nn.gelu", "nn.silu", "nn.leaky_relu", "nn.elu"]


@st.composite
def dense_graphs(draw):
    """Input -> a DAG of Linear / activation / Concat / Add / Split over (B, features) tensors."""
    from studio.catalog import default_registry

    b = Builder(default_registry(), "random dense")
    width = draw(st.integers(2, 6))
    values = [(b.node("io.input", "x", shape=[width]), "out", width)]
    second = draw(st.booleans())
    if second:
        values.append((b.node("io.input", "y", shape=[3]), "out", 3))
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["linear", "act", "concat", "add", "split", "scale"]))
        src, port, n = values[draw(st.integers(0, len(values) - 1))]
        if kind == "linear":
            out = draw(st.integers(1, 6))
            node = b.node("nn.linear", out_features=out, bias=draw(st.booleans()))
            b.wire(src, node, src_port=port)
            values.append((node, "out", out))
        elif kind == "act":
            node = b.node(draw(st.sampled_from(ACTIVATIONS)))
            b.wire(src, node, src_port=port)
            values.append((node, "out", n))
        elif kind == "scale":
            node = b.node("fn.mul_const", other=draw(st.floats(-2, 2, allow_nan=False, width=32)))
            b.wire(src, node, src_port=port)
            values.append((node, "out", n))
        elif kind == "concat":
            other, oport, m = values[draw(st.integers(0, len(values) - 1))]
            node = b.node("nn.concat", dim=1)
            b.wire(src, node, "in1", src_port=port)
            b.wire(other, node, "in2", src_port=oport)
            values.append((node, "out", n + m))
        elif kind == "add":
            same = [v for v in values if v[2] == n]
            other, oport, _ = same[draw(st.integers(0, len(same) - 1))]
            node = b.node(draw(st.sampled_from(["nn.add", "nn.multiply", "fn.sub"])))
            b.wire(src, node, "a", src_port=port)
            b.wire(other, node, "b", src_port=oport)
            values.append((node, "out", n))
        elif kind == "split" and n >= 2:
            cut = draw(st.integers(1, n - 1))
            node = b.node("nn.split", dim=1, split_size=cut)
            b.wire(src, node, src_port=port)
            values.append((node, "first", cut))
            values.append((node, "second", n - cut))
    outputs = {len(values) - 1, draw(st.integers(0, len(values) - 1))}
    for i in sorted(outputs):
        out = b.node("io.output", f"out{i}")
        b.wire(values[i][0], out, src_port=values[i][1])
    if draw(st.booleans()):
        layers = [nid for nid, node in b.graph.nodes.items() if node.type_id == "nn.linear"]
        if layers:
            b.group("block", *layers[: draw(st.integers(1, len(layers)))])
    return b


@st.composite
def conv_graphs(draw):
    """Small conv stacks with batch norm, pooling, residual adds and channel concatenation."""
    from studio.catalog import default_registry

    b = Builder(default_registry(), "random conv")
    channels, size = draw(st.integers(1, 3)), draw(st.integers(4, 8))
    current = b.node("io.input", "image", shape=[channels, size, size])
    skip = None
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "bn", "act", "pool", "residual", "concat"]))
        if kind == "conv":
            k = draw(st.sampled_from([1, 3]))
            node = b.node("nn.conv2d", out_channels=draw(st.integers(1, 4)), kernel_size=k, padding=k // 2,
                          bias=draw(st.booleans()))
            b.wire(current, node)
            skip, current = current, node
            channels = b.graph.nodes[node].params["out_channels"]
        elif kind == "bn":
            node = b.node("nn.batch_norm2d")
            b.wire(current, node)
            current = node
        elif kind == "act":
            node = b.node(draw(st.sampled_from(["nn.relu", "nn.hardswish", "nn.silu"])))
            b.wire(current, node)
            current = node
        elif kind == "pool" and size >= 4:
            node = b.node(draw(st.sampled_from(["nn.max_pool2d", "nn.avg_pool2d"])), kernel_size=2)
            b.wire(current, node)
            current, skip, size = node, None, size // 2
        elif kind == "residual":
            node = b.node("nn.add")
            b.wire(current, node, "a")
            b.wire(current, node, "b")
            current = node
        elif kind == "concat" and skip is not None:
            node = b.node("nn.concat", dim=1)
            b.wire(current, node, "in1")
            b.wire(skip, node, "in2")
            current, skip = node, None
    flat = b.node("nn.flatten")
    head = b.node("nn.linear", out_features=3)
    out = b.node("io.output", "logits")
    b.chain(current, flat, head, out)
    return b


@st.composite
def sequence_graphs(draw):
    """(B, L, F) models: embeddings or features, recurrent layers, attention, norms, pooling over steps."""
    from studio.catalog import default_registry

    b = Builder(default_registry(), "random sequence")
    length, width = draw(st.integers(2, 6)), 4 * draw(st.integers(1, 3))
    if draw(st.booleans()):
        ids = b.node("io.input", "tokens", shape=[length], dtype="int64")
        current = b.node("nn.embedding", num_embeddings=5, embedding_dim=width)
        b.wire(ids, current)
    else:
        current = b.node("io.input", "series", shape=[length, width])
    taps = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["rnn", "attention", "encoder", "norm", "positions", "linear"]))
        if kind == "rnn":
            hidden = 2 * draw(st.integers(1, 2))  # even, so 2 attention heads always divide the width
            bidirectional = draw(st.booleans())
            node = b.node(draw(st.sampled_from(["nn.lstm", "nn.gru", "nn.rnn"])), hidden_size=hidden,
                          num_layers=draw(st.integers(1, 2)), bidirectional=bidirectional)
            width = hidden * (2 if bidirectional else 1)
        elif kind == "attention":
            node = b.node("nn.self_attention", num_heads=draw(st.sampled_from([1, 2])),
                          causal=draw(st.booleans()))
        elif kind == "encoder":
            node = b.node("nn.transformer_encoder_layer", nhead=2, dim_feedforward=8,
                          norm_first=draw(st.booleans()), activation=draw(st.sampled_from(["relu", "gelu"])))
        elif kind == "norm":
            node = b.node("nn.layer_norm")
        elif kind == "positions":
            node = b.node("nn.positional_encoding", max_len=8, kind=draw(st.sampled_from(["sinusoidal", "learned"])))
        else:
            width = 2 * draw(st.integers(1, 4))
            node = b.node("nn.linear", out_features=width)
        b.wire(current, node)
        if len(b.registry.get(b.graph.nodes[node].type_id).outputs) > 1:
            taps.append(node)
        current = node
    pool = b.node(draw(st.sampled_from(["fn.mean", "fn.sum", "fn.amax"])), dim=[1])
    last = b.node("nn.select", dim=1, index=-1)
    joined = b.node("nn.concat", dim=1)
    b.wire(current, pool)
    b.wire(current, last)
    b.wire(pool, joined, "in1")
    b.wire(last, joined, "in2")
    b.wire(joined, b.node("io.output", "summary"))
    if taps:
        b.wire(taps[-1], b.node("io.output", "attention"), src_port="weights")
    return b


_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parity(b, train_mode: bool = False) -> None:
    folder = Path(tempfile.mkdtemp(prefix="nnstudio-parity-"))
    try:
        check_parity(b.graph, b.registry, folder, train_mode=train_mode)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@_SETTINGS
@given(dense_graphs())
def test_random_dense_graph_parity(b):
    _parity(b)


@_SETTINGS
@given(conv_graphs(), st.booleans())
def test_random_conv_graph_parity(b, train_mode):
    torch.use_deterministic_algorithms(True)
    try:
        _parity(b, train_mode)
    finally:
        torch.use_deterministic_algorithms(False)


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sequence_graphs())
def test_random_sequence_graph_parity(b):
    _parity(b)
