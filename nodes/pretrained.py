"""Pretrained torchvision image backbones: (B, 3, H, W) -> pooled features (B, C).

The classifier is replaced by Identity so the user adds their own head. Weights are loaded only
when the layer is built for real: while shapes are inferred (``shape_only()``) the spec asks for
no weights at all, and the module also skips loading when it lives on the meta device.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nodes.modules import PretrainedBackbone
from studio.core.buildctx import shape_only
from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec

#: arch -> (title, pooled feature size, last stage kept trainable by all_but_last, what it is)
ARCHS: dict[str, tuple[str, int, str, str]] = {
    "resnet18": ("ResNet-18", 512, "layer4", "an 11M-parameter residual network, a solid first choice"),
    "resnet50": ("ResNet-50", 2048, "layer4", "a 25M-parameter residual network, stronger but slower"),
    "mobilenet_v3_small": ("MobileNetV3-Small", 576, "the last features block",
                           "a 1.5M-parameter network built for phones"),
    "efficientnet_b0": ("EfficientNet-B0", 1280, "the last features block",
                        "a 4M-parameter network with a good accuracy per computation"),
}


def _weights_check(params: Mapping[str, Any]) -> str | None:
    if params.get("weights") == "file" and not (params.get("weights_path") or "").strip():
        return "'weights_path' is empty: choose a weights file, or set weights to none or imagenet"
    return None


def _kwargs(arch: str):
    def kwargs(params: Mapping[str, Any]) -> dict[str, Any]:
        weights = "none" if shape_only() else params["weights"]
        return {"arch": arch, "weights": weights, "weights_path": params["weights_path"], "freeze": params["freeze"]}

    return kwargs


def _backbone(arch: str) -> NodeSpec:
    title, features, last, what = ARCHS[arch]
    return NodeSpec(
        type_id=f"tv.{arch}",
        title=title,
        category="Pretrained",
        inputs=(PortSpec("in", help="(B, 3, H, W) RGB images, ImageNet-normalised for pretrained weights"),),
        outputs=(PortSpec("out", help=f"(B, {features}) pooled features"),),
        params=(
            ParamSpec("weights", "choice", "none", choices=("none", "imagenet", "file"),
                      help="none: random start; imagenet: pretrained (must be cached); file: your own weights."),
            ParamSpec("weights_path", "str", "",
                      help="Weights file (.pt/.pth state dict or .safetensors) when weights = file."),
            ParamSpec("freeze", "choice", "none", choices=("none", "all", "all_but_last"),
                      help=f"Keep pretrained weights fixed; all_but_last still trains {last}."),
        ),
        module=PretrainedBackbone,
        kwargs=_kwargs(arch),
        export=ExportInfo("PretrainedBackbone", source_of=(PretrainedBackbone,)),
        check=_weights_check,
        description=f"{title}: {what}; outputs {features} image features per sample for your own head.",
        key_params=("weights", "freeze"),
        tags=("pretrained", "backbone", "torchvision", "transfer learning", "image", "cnn", "feature extractor",
              arch.split("_")[0]),
    )


SPECS = [_backbone(arch) for arch in ARCHS]
