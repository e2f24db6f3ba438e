"""Pooling: shrink feature maps by taking the max or the mean over windows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec


def _padding_check(params: Mapping[str, Any]) -> str | None:
    """PyTorch: "pad should be at most half of effective kernel size"."""
    kernel, padding = params.get("kernel_size", 2), params.get("padding", 0)
    if padding * 2 > kernel:
        return f"'padding' ({padding}) must be at most half the kernel size ({kernel})"
    return None


def _window_params(ceil: bool = True) -> tuple[ParamSpec, ...]:
    params = (
        ParamSpec("kernel_size", "int", 2, minimum=1, maximum=255, help="Size of each pooling window."),
        ParamSpec("stride", "int", None, minimum=1, maximum=255, optional=True,
                  help="Step between windows; empty means the same as kernel_size."),
        ParamSpec("padding", "int", 0, minimum=0, maximum=127, help="Padding added on each side (at most half the kernel)."),
    )
    if ceil:
        params += (ParamSpec("ceil_mode", "bool", False,
                             help="Round the output size up, so a partial window at the edge still counts."),)
    return params


def _pool(type_id: str, title: str, cls: type, dims: str, description: str, tags: tuple[str, ...]) -> NodeSpec:
    shape = "(B, C, L)" if dims == "1d" else "(B, C, H, W)"
    return NodeSpec(
        type_id=type_id,
        title=title,
        category="Pooling",
        inputs=(PortSpec("in", help=shape),),
        params=_window_params(),
        module=cls,
        export=ExportInfo(f"nn.{cls.__name__}"),
        check=_padding_check,
        description=description,
        key_params=("kernel_size", "stride"),
        tags=("pool", "pooling", "downsample", dims, *tags),
    )


def _adaptive(type_id: str, title: str, cls: type, dims: str, description: str) -> NodeSpec:
    return NodeSpec(
        type_id=type_id,
        title=title,
        category="Pooling",
        inputs=(PortSpec("in", help="(B, C, L)" if dims == "1d" else "(B, C, H, W)"),),
        params=(ParamSpec("output_size", "int", 1, minimum=1, maximum=4096,
                          help="Size of the output (per spatial dimension); 1 is global average pooling."),),
        module=cls,
        export=ExportInfo(f"nn.{cls.__name__}"),
        description=description,
        key_params=("output_size",),
        tags=("pool", "pooling", "adaptive", "global", "average", "gap", dims),
    )


SPECS = [
    _pool("nn.max_pool1d", "MaxPool1d", nn.MaxPool1d, "1d",
          "Keeps the largest value in each window of a sequence, shortening it.", ("max",)),
    _pool("nn.max_pool2d", "MaxPool2d", nn.MaxPool2d, "2d",
          "Keeps the largest value in each window of an image, shrinking it (2×2 halves height and width).",
          ("max",)),
    _pool("nn.avg_pool1d", "AvgPool1d", nn.AvgPool1d, "1d",
          "Averages each window of a sequence, shortening it.", ("average", "mean")),
    _pool("nn.avg_pool2d", "AvgPool2d", nn.AvgPool2d, "2d",
          "Averages each window of an image, shrinking it.", ("average", "mean")),
    _adaptive("nn.adaptive_avg_pool1d", "AdaptiveAvgPool1d", nn.AdaptiveAvgPool1d, "1d",
              "Averages a sequence down to a fixed length, whatever the input length."),
    _adaptive("nn.adaptive_avg_pool2d", "AdaptiveAvgPool2d", nn.AdaptiveAvgPool2d, "2d",
              "Averages an image down to a fixed size, whatever the input size (1 = global average)."),
]
