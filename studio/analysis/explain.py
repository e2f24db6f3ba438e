"""Attributions for one sample and class, through captum.

Why captum: its Integrated Gradients reports a convergence delta (completeness), and Grad-CAM,
occlusion and LRP come with the rules the literature uses; writing them again would only drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

METHODS = ("saliency", "ig", "gradcam", "occlusion", "lrp")
METHOD_NAMES = {"saliency": "Saliency", "ig": "Integrated Gradients", "gradcam": "Grad-CAM",
                "occlusion": "Occlusion", "lrp": "LRP"}


class ExplainError(ValueError):
    """An attribution that cannot be computed for this model or input; the message says why."""


@dataclass
class Attribution:
    """Attribution values shaped like the input (Grad-CAM: upsampled to the input's spatial size; token ids:
    one value per token)."""

    method: str
    values: torch.Tensor
    target: torch.Tensor
    delta: torch.Tensor | None = None  # IG's convergence delta per sample (completeness error)
    steps: int = 0  # IG: the integration steps taken


def _targets(model: nn.Module, x: torch.Tensor, target: int | torch.Tensor | None) -> torch.Tensor:
    if target is None:
        with torch.no_grad():
            out = model(x)
        return out.argmax(dim=-1)
    if isinstance(target, int):
        return torch.full((x.shape[0],), target, dtype=torch.long)
    return target.long()


def attribute(model: nn.Module, x: torch.Tensor, target: int | torch.Tensor | None = None, method: str = "ig",
              *, layer: nn.Module | None = None, steps: int = 64, window: int = 3) -> Attribution:
    """Attribute the model's score for ``target`` (default: its prediction) to each input element.

    ``layer`` is the conv module Grad-CAM looks at. ``window`` is occlusion's patch size. Token ids
    (integer inputs) are attributed per token through the model's Embedding (:mod:`.tokens`).
    """
    from captum import attr

    if method not in METHODS:
        raise ExplainError(f"unknown method '{method}' (choose one of {', '.join(METHODS)})")
    model.eval()
    if not x.is_floating_point():
        return _attribute_tokens(model, x, target, method, steps)
    x = x.detach().float()
    tgt = _targets(model, x, target)
    delta = None
    if method == "saliency":
        values = attr.Saliency(model).attribute(x, target=tgt, abs=True)
    elif method == "ig":
        from studio.analysis.tokens import MAX_STEPS, TOLERANCE

        ig = attr.IntegratedGradients(model)
        while True:  # more steps while completeness does not hold, as for tokens
            values, delta = ig.attribute(x, baselines=torch.zeros_like(x), target=tgt, n_steps=steps,
                                         method="gausslegendre", return_convergence_delta=True,
                                         internal_batch_size=max(1, 4096 // max(1, x.shape[0])))
            if float(delta.abs().max()) < TOLERANCE or steps >= MAX_STEPS:
                break
            steps = min(MAX_STEPS, steps * 4)
    elif method == "gradcam":
        if layer is None:
            raise ExplainError("Grad-CAM needs a conv node to look at")
        cam = attr.LayerGradCam(model, layer).attribute(x, target=tgt, relu_attributions=True)
        if cam.dim() < 3:
            raise ExplainError("Grad-CAM needs a node with spatial outputs (a conv or pooling node)")
        values = attr.LayerAttribution.interpolate(cam, tuple(x.shape[2:]), interpolate_mode="bilinear")
    elif method == "occlusion":
        values = attr.Occlusion(model).attribute(x, sliding_window_shapes=_window(x, window), target=tgt,
                                                 baselines=0.0)
    else:
        values = _lrp(model, x, tgt)
    return Attribution(method, values.detach(), tgt, None if delta is None else delta.detach().abs(),
                       steps if method == "ig" else 0)


def _attribute_tokens(model: nn.Module, ids: torch.Tensor, target: int | torch.Tensor | None, method: str,
                      steps: int) -> Attribution:
    """Token ids: one value per token, taken at the Embedding's output (ids carry no gradient)."""
    from studio.analysis.tokens import TOKEN_METHODS, find_embedding, token_attribution

    if method not in TOKEN_METHODS:
        raise ExplainError(f"{METHOD_NAMES[method]} does not apply to token ids; "
                           "use saliency, Integrated Gradients or occlusion for this sequence model")
    embedding = find_embedding(model)
    if embedding is None:
        raise ExplainError("the model reads integer token ids but has no Embedding node to attribute through")
    ids = ids.detach().long()
    tgt = _targets(model, ids, target)
    values, delta, taken = token_attribution(model, ids, tgt, method, embedding, steps)
    return Attribution(method, values, tgt, delta, taken)


def _window(x: torch.Tensor, size: int) -> tuple[int, ...]:
    """Occlusion patch: all channels of a size×size square (images), one step (sequences), one feature."""
    if x.dim() == 4:
        return (x.shape[1], min(size, x.shape[2]), min(size, x.shape[3]))
    if x.dim() == 3:
        return (1, x.shape[2])
    return (1,) * (x.dim() - 1)


def _reshape_rule():
    """Relevance passes through shape-only layers (Flatten) unchanged, reshaped to the input.

    captum's IdentityRule assumes equal input and output shapes; Flatten only reorders elements.
    """
    from captum.attr._utils.lrp_rules import IdentityRule

    class ReshapeRule(IdentityRule):
        def _create_backward_hook_input(self, inputs):
            def _backward_hook_input(grad):
                return self.relevance_output[grad.device].reshape(grad.shape)

            return _backward_hook_input

    return ReshapeRule()


def _lrp(model: nn.Module, x: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """LRP needs a rule for every layer; a model with other layers gets the list of them, not a crash."""
    from captum import attr
    from captum.attr._utils.lrp_rules import EpsilonRule, IdentityRule

    supported = (nn.Linear, nn.Conv2d, nn.Conv1d, nn.ReLU, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d,
                 nn.BatchNorm2d, nn.Dropout, nn.Flatten, nn.Identity)
    leaves = [m for m in model.modules() if not list(m.children())]
    bad = sorted({type(m).__name__ for m in leaves if not isinstance(m, supported)})
    if bad:
        raise ExplainError(f"LRP has no rule for {', '.join(bad)}; use Integrated Gradients for this model")
    for m in leaves:
        if isinstance(m, nn.Linear | nn.Conv2d | nn.Conv1d):
            m.rule = EpsilonRule()
        elif isinstance(m, nn.Flatten):
            m.rule = _reshape_rule()
        elif isinstance(m, nn.Dropout | nn.Identity):
            m.rule = IdentityRule()
    try:
        return attr.LRP(model).attribute(x, target=tgt)
    except (RuntimeError, TypeError) as exc:
        raise ExplainError(f"LRP failed on this model: {str(exc).splitlines()[0]}") from exc


def conv_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The modules Grad-CAM can look at, by their path in the model (the node names of a compiled graph)."""
    return {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv1d | nn.Conv2d)}
