"""Convolutions and upsampling. ``in_channels`` is read off the input (dimension 1)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from torch import nn

from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec


def channels(shapes) -> int:
    """in_channels / num_features style inference: dimension 1 of the first input (B, C, ...)."""
    if len(shapes[0]) < 2:
        raise ValueError("no channel dimension")
    return int(shapes[0][1])


def groups_check(params: Mapping[str, Any]) -> str | None:
    """PyTorch refuses groups that do not divide both channel counts; say so before it does."""
    groups, cin, cout = params.get("groups") or 1, params.get("in_channels"), params.get("out_channels")
    for label, count in (("input", cin), ("output", cout)):
        if isinstance(count, int) and count % groups:
            return f"'groups' ({groups}) must divide the number of {label} channels ({count})"
    return None


def _conv_params(out_channels: int, kernel: int, stride: int, padding: int) -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("in_channels", "int", None, minimum=1, maximum=1_000_000, infer=channels,
                  help="Channels of the input; inferred from the incoming shape."),
        ParamSpec("out_channels", "int", out_channels, minimum=1, maximum=100_000,
                  help="Number of filters, i.e. channels of the output."),
        ParamSpec("kernel_size", "int", kernel, minimum=1, maximum=255, help="Width (and height) of each filter."),
        ParamSpec("stride", "int", stride, minimum=1, maximum=255, help="Step between filter positions; 2 halves the size."),
        ParamSpec("padding", "int", padding, minimum=0, maximum=255,
                  help="Zeros added on each side; kernel_size // 2 keeps the size at stride 1."),
        ParamSpec("dilation", "int", 1, minimum=1, maximum=255, help="Spacing between filter taps (atrous convolution)."),
        ParamSpec("groups", "int", 1, minimum=1, maximum=100_000,
                  help="Split channels into independent groups; groups = channels is depthwise."),
        ParamSpec("bias", "bool", True, help="Learn an additive bias per output channel."),
    )


_PADDING_MODE = ParamSpec("padding_mode", "choice", "zeros", choices=("zeros", "reflect", "replicate", "circular"),
                          help="What the padding holds: zeros, a mirror of the edge, the edge repeated, or wrap-around.")


def _transpose_check(params: Mapping[str, Any]) -> str | None:
    message = groups_check(params)
    if message:
        return message
    if params.get("output_padding", 0) >= max(params.get("stride", 1), params.get("dilation", 1)):
        return "'output_padding' must be smaller than the stride or the dilation"
    return None


CONV1D = NodeSpec(
    type_id="nn.conv1d",
    title="Conv1d",
    category="Convolution",
    inputs=(PortSpec("in", help="(B, channels, length)"),),
    params=(*_conv_params(16, 3, 1, 1), _PADDING_MODE),
    module=nn.Conv1d,
    export=ExportInfo("nn.Conv1d"),
    check=groups_check,
    description="Slides learned filters along a sequence or signal (B, C, L) to detect local patterns.",
    key_params=("out_channels", "kernel_size", "stride"),
    tags=("convolution", "conv", "cnn", "1d", "signal", "audio", "temporal"),
)

CONV2D = NodeSpec(
    type_id="nn.conv2d",
    title="Conv2d",
    category="Convolution",
    inputs=(PortSpec("in", help="(B, channels, height, width)"),),
    params=(*_conv_params(16, 3, 1, 1), _PADDING_MODE),
    module=nn.Conv2d,
    export=ExportInfo("nn.Conv2d"),
    check=groups_check,
    description="Slides learned filters over an image (B, C, H, W) to detect local patterns such as edges.",
    key_params=("out_channels", "kernel_size", "stride"),
    tags=("convolution", "conv", "cnn", "2d", "image", "filter"),
)

CONV_TRANSPOSE2D = NodeSpec(
    type_id="nn.conv_transpose2d",
    title="ConvTranspose2d",
    category="Convolution",
    inputs=(PortSpec("in", help="(B, channels, height, width)"),),
    params=(*_conv_params(16, 2, 2, 0)[:5],
            ParamSpec("output_padding", "int", 0, minimum=0, maximum=255,
                      help="Extra rows/columns added to one side of the output to hit an exact size."),
            *_conv_params(16, 2, 2, 0)[5:]),
    module=nn.ConvTranspose2d,
    export=ExportInfo("nn.ConvTranspose2d"),
    check=_transpose_check,
    description="Learned upsampling: the reverse of a strided convolution, used in decoders and generators.",
    key_params=("out_channels", "kernel_size", "stride"),
    tags=("deconvolution", "deconv", "transposed", "upsample", "decoder", "generator", "conv"),
)



UPSAMPLE = NodeSpec(
    type_id="nn.upsample",
    title="Upsample",
    category="Convolution",
    inputs=(PortSpec("in", help="(B, C, L), (B, C, H, W) or (B, C, D, H, W)"),),
    params=(
        ParamSpec("scale_factor", "float", 2.0, minimum=0.01, maximum=64.0,
                  help="How many times larger each spatial dimension becomes."),
        ParamSpec("mode", "choice", "nearest", choices=("nearest", "linear", "bilinear", "bicubic", "trilinear"),
                  help="Interpolation: nearest copies pixels; linear is for 1-D, bilinear/bicubic for images."),
    ),
    module=nn.Upsample,
    export=ExportInfo("nn.Upsample"),
    description="Enlarges feature maps by interpolation, with no learned weights.",
    key_params=("scale_factor", "mode"),
    tags=("resize", "interpolate", "upscale", "decoder", "scale"),
)

SPECS = [CONV1D, CONV2D, CONV_TRANSPOSE2D, UPSAMPLE]
