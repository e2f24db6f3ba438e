"""Attention layers. Each also outputs its attention weights (B, L, S), averaged over heads,
which the UI shows as heatmaps."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nodes.linear import last_dim
from nodes.modules import MultiheadAttentionBlock, SelfAttention, TransformerEncoderBlock
from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec

_WEIGHTS = PortSpec("weights", help="attention weights (B, L, S), averaged over heads")


def _heads_check(dim_name: str, heads_name: str) -> Callable[[Mapping[str, Any]], str | None]:
    def check(params: Mapping[str, Any]) -> str | None:
        dim, heads = params.get(dim_name), params.get(heads_name)
        if isinstance(dim, int) and isinstance(heads, int) and dim % heads:
            return f"'{heads_name}' ({heads}) must divide {dim_name} ({dim}): each head gets an equal share"
        return None

    return check


def _key_dim(shapes) -> int:
    """kdim: the key's features, or the query's when key is not connected (self-attention)."""
    key = shapes[1] if len(shapes) > 1 and shapes[1] is not None else shapes[0]
    return int(key[-1])


def _value_dim(shapes) -> int:
    """vdim: the value's features, falling back to the key's, then the query's."""
    if len(shapes) > 2 and shapes[2] is not None:
        return int(shapes[2][-1])
    return _key_dim(shapes)


def _embed(name: str = "embed_dim") -> ParamSpec:
    return ParamSpec(name, "int", None, minimum=1, maximum=100_000, infer=last_dim,
                     help="Features per position; inferred from the last dimension of the input.")


def _heads(name: str = "num_heads", default: int = 1) -> ParamSpec:
    return ParamSpec(name, "int", default, minimum=1, maximum=1024,
                     help="Parallel attention heads; must divide the feature size.")


_DROPOUT = ParamSpec("dropout", "float", 0.0, minimum=0.0, maximum=0.99, help="Dropout on the attention weights.")
_CAUSAL = ParamSpec("causal", "bool", False, help="Each position may attend only to itself and earlier ones (GPT style).")
_BIAS = ParamSpec("bias", "bool", True, help="Learn biases in the projections.")

SELF_ATTENTION = NodeSpec(
    type_id="nn.self_attention",
    title="SelfAttention",
    category="Attention",
    inputs=(PortSpec("in", help="(B, L, features)"),),
    outputs=(PortSpec("out", help="(B, L, features)"), _WEIGHTS),
    params=(_embed(), _heads(), _DROPOUT, _BIAS, _CAUSAL),
    module=SelfAttention,
    export=ExportInfo("SelfAttention", source_of=(SelfAttention,)),
    check=_heads_check("embed_dim", "num_heads"),
    description="Lets every position of a sequence look at every other one and mix in what is relevant.",
    key_params=("num_heads",),
    tags=("attention", "self-attention", "scaled dot product", "transformer", "qkv"),
)

MULTIHEAD = NodeSpec(
    type_id="nn.multihead_attention",
    title="MultiheadAttention",
    category="Attention",
    inputs=(PortSpec("query", help="(B, L, embed_dim)"),
            PortSpec("key", optional=True, help="(B, S, kdim); unconnected: the query (self-attention)"),
            PortSpec("value", optional=True, help="(B, S, vdim); unconnected: the key")),
    outputs=(PortSpec("out", help="(B, L, embed_dim)"), _WEIGHTS),
    params=(
        _embed(),
        _heads(),
        _DROPOUT,
        _BIAS,
        ParamSpec("kdim", "int", None, minimum=1, maximum=100_000, infer=_key_dim,
                  help="Features of the key; inferred (the query's when key is unconnected)."),
        ParamSpec("vdim", "int", None, minimum=1, maximum=100_000, infer=_value_dim,
                  help="Features of the value; inferred (the key's when value is unconnected)."),
        _CAUSAL,
    ),
    module=MultiheadAttentionBlock,
    export=ExportInfo("MultiheadAttentionBlock", source_of=(MultiheadAttentionBlock,)),
    check=_heads_check("embed_dim", "num_heads"),
    description="PyTorch's multi-head attention: queries look up keys and mix their values; "
                "leave key and value open for self-attention.",
    key_params=("num_heads",),
    tags=("attention", "multihead", "mha", "cross-attention", "self-attention", "transformer"),
)

TRANSFORMER = NodeSpec(
    type_id="nn.transformer_encoder_layer",
    title="TransformerEncoderLayer",
    category="Attention",
    inputs=(PortSpec("in", help="(B, L, d_model)"),),
    outputs=(PortSpec("out", help="(B, L, d_model)"), _WEIGHTS),
    params=(
        _embed("d_model"),
        _heads("nhead", 4),
        ParamSpec("dim_feedforward", "int", 256, minimum=1, maximum=1_000_000,
                  help="Hidden size of the feed-forward part."),
        ParamSpec("dropout", "float", 0.1, minimum=0.0, maximum=0.99, help="Dropout inside the layer."),
        ParamSpec("activation", "choice", "relu", choices=("relu", "gelu"), help="Activation of the feed-forward part."),
        ParamSpec("norm_first", "bool", False, help="LayerNorm before each block (pre-norm; trains more stably when deep)."),
        _CAUSAL,
        ParamSpec("layer_norm_eps", "float", 1e-5, minimum=1e-12, maximum=1.0, help="LayerNorm's stability constant."),
    ),
    module=TransformerEncoderBlock,
    export=ExportInfo("TransformerEncoderBlock", source_of=(TransformerEncoderBlock,)),
    check=_heads_check("d_model", "nhead"),
    description="One transformer block: self-attention then a feed-forward network, each with a residual "
                "connection and LayerNorm.",
    key_params=("nhead", "dim_feedforward"),
    tags=("transformer", "encoder", "attention", "bert", "block"),
)

SPECS = [SELF_ATTENTION, MULTIHEAD, TRANSFORMER]
