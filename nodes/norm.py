"""Normalisation and dropout: keep activations well scaled and regularise training."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from nodes.conv import channels
from nodes.modules import StochasticDepth
from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec


def last_dims(shapes) -> tuple[int, ...]:
    """LayerNorm's normalized_shape: the last dimension of the input."""
    return (int(shapes[0][-1]),)


def _eps() -> ParamSpec:
    return ParamSpec("eps", "float", 1e-5, minimum=1e-12, maximum=1.0, help="Small number added to the variance for stability.")


def _batch_norm(type_id: str, title: str, cls: type, shape: str, dims: str) -> NodeSpec:
    return NodeSpec(
        type_id=type_id,
        title=title,
        category="Normalisation",
        inputs=(PortSpec("in", help=shape),),
        params=(
            ParamSpec("num_features", "int", None, minimum=1, maximum=1_000_000, infer=channels,
                      help="Channels (dimension 1) of the input; inferred from the incoming shape."),
            _eps(),
            ParamSpec("momentum", "float", 0.1, minimum=0.0, maximum=1.0,
                      help="How fast the running mean/variance follow each batch."),
            ParamSpec("affine", "bool", True, help="Learn a scale and shift per channel."),
            ParamSpec("track_running_stats", "bool", True,
                      help="Keep running statistics for evaluation (off: always use the batch's)."),
        ),
        module=cls,
        export=ExportInfo(f"nn.{cls.__name__}"),
        description="Normalises each channel over the batch, which speeds up and stabilises training.",
        key_params=("num_features",),
        tags=("batchnorm", "bn", "normalization", "normalisation", dims),
    )


def _group_check(params: Mapping[str, Any]) -> str | None:
    groups, count = params.get("num_groups"), params.get("num_channels")
    if isinstance(groups, int) and isinstance(count, int) and count % groups:
        return f"'num_groups' ({groups}) must divide the number of channels ({count})"
    return None


LAYER_NORM = NodeSpec(
    type_id="nn.layer_norm",
    title="LayerNorm",
    category="Normalisation",
    inputs=(PortSpec("in", help="(B, ..., features)"),),
    params=(
        ParamSpec("normalized_shape", "ints", None, minimum=1, maximum=1_000_000, infer=last_dims,
                  help="Trailing dimensions normalised together; inferred as the last dimension."),
        _eps(),
        ParamSpec("elementwise_affine", "bool", True, help="Learn a scale and shift per feature."),
    ),
    module=nn.LayerNorm,
    export=ExportInfo("nn.LayerNorm"),
    description="Normalises each sample over its last dimension(s); the usual choice in transformers.",
    key_params=("normalized_shape",),
    tags=("layernorm", "ln", "normalization", "normalisation", "transformer"),
)

GROUP_NORM = NodeSpec(
    type_id="nn.group_norm",
    title="GroupNorm",
    category="Normalisation",
    inputs=(PortSpec("in", help="(B, C, ...)"),),
    params=(
        ParamSpec("num_groups", "int", 8, minimum=1, maximum=100_000,
                  help="Channels are split into this many groups, each normalised on its own."),
        ParamSpec("num_channels", "int", None, minimum=1, maximum=1_000_000, infer=channels,
                  help="Channels (dimension 1) of the input; inferred from the incoming shape."),
        _eps(),
        ParamSpec("affine", "bool", True, help="Learn a scale and shift per channel."),
    ),
    module=nn.GroupNorm,
    export=ExportInfo("nn.GroupNorm"),
    check=_group_check,
    description="Normalises groups of channels within each sample; works with tiny batches.",
    key_params=("num_groups",),
    tags=("groupnorm", "gn", "normalization", "normalisation"),
)


def _dropout(type_id: str, title: str, cls: type, description: str, tags: tuple[str, ...]) -> NodeSpec:
    return NodeSpec(
        type_id=type_id,
        title=title,
        category="Normalisation",
        inputs=(PortSpec("in"),),
        params=(ParamSpec("p", "float", 0.5, minimum=0.0, maximum=1.0,
                          help="Probability of zeroing each element during training."),),
        module=cls,
        export=ExportInfo(f"nn.{cls.__name__}"),
        description=description,
        key_params=("p",),
        tags=("dropout", "regularization", "regularisation", *tags),
    )


STOCHASTIC_DEPTH = NodeSpec(
    type_id="nn.stochastic_depth",
    title="StochasticDepth",
    category="Normalisation",
    inputs=(PortSpec("in", help="a residual branch, before it is added back"),),
    params=(
        ParamSpec("p", "float", 0.1, minimum=0.0, maximum=1.0,
                  help="Probability of dropping the branch during training."),
        ParamSpec("mode", "choice", "row", choices=("row", "batch"),
                  help="row: drop per sample; batch: drop for the whole batch at once."),
    ),
    module=StochasticDepth,
    export=ExportInfo("StochasticDepth", source_of=(StochasticDepth,)),
    description="Randomly skips a residual branch during training (as in EfficientNet); does nothing when evaluating.",
    key_params=("p",),
    tags=("stochastic depth", "drop path", "droppath", "regularization", "regularisation", "residual", "efficientnet"),
)

SPECS = [
    _batch_norm("nn.batch_norm1d", "BatchNorm1d", nn.BatchNorm1d, "(B, C) or (B, C, L)", "1d"),
    _batch_norm("nn.batch_norm2d", "BatchNorm2d", nn.BatchNorm2d, "(B, C, H, W)", "2d"),
    LAYER_NORM,
    GROUP_NORM,
    _dropout("nn.dropout", "Dropout", nn.Dropout,
             "Randomly zeroes values during training so the network cannot rely on any single one.", ()),
    _dropout("nn.dropout2d", "Dropout2d", nn.Dropout2d,
             "Randomly zeroes whole channels of an image during training.", ("2d", "channel", "spatial")),
    STOCHASTIC_DEPTH,
]
