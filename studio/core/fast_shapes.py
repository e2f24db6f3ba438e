"""A fast path for the hottest layers' meta forward, used only where PyTorch's answer is certain.

On the meta device, norm layers and Linear run through Python decompositions that cost about a
millisecond each, which made a 200-node graph miss its 100 ms budget. For these few torch.nn
classes the output of a *valid* call is known exactly (the input's shape, or the last dimension
replaced). This module answers only when the input passes the very checks PyTorch makes; for
anything unusual it returns None and the layer's real meta forward runs, so every error message
still comes from PyTorch itself. ``tests/core/test_fast_shapes.py`` holds the rules to PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

_RULES: dict[type, Callable[[Any, Any], tuple[int, ...] | None]] | None = None


def _same_if(ok: bool, x) -> tuple[int, ...] | None:
    return tuple(x.shape) if ok else None


def _rules() -> dict[type, Callable[[Any, Any], tuple[int, ...] | None]]:
    global _RULES
    if _RULES is None:
        from torch import nn

        from studio.core.shapes import elementwise_classes

        rules: dict[type, Callable[[Any, Any], tuple[int, ...] | None]] = {
            nn.Linear: lambda m, x: (*x.shape[:-1], m.out_features)
            if x.dim() >= 1 and x.shape[-1] == m.in_features else None,
            nn.BatchNorm1d: lambda m, x: _same_if(x.dim() in (2, 3) and x.shape[1] == m.num_features, x),
            nn.BatchNorm2d: lambda m, x: _same_if(x.dim() == 4 and x.shape[1] == m.num_features, x),
            nn.LayerNorm: lambda m, x: _same_if(
                x.dim() >= len(m.normalized_shape)
                and tuple(x.shape[x.dim() - len(m.normalized_shape):]) == tuple(m.normalized_shape), x),
            # F.group_norm also refuses a single value per group ("more than 1 value per channel")
            nn.GroupNorm: lambda m, x: _same_if(
                x.dim() >= 2 and x.shape[1] == m.num_channels
                and x.shape[0] * x.shape[1] // m.num_groups * math.prod(x.shape[2:]) > 1, x),
            nn.Dropout2d: lambda m, x: _same_if(x.dim() == 4, x),  # 3-D inputs make PyTorch warn
        }
        for cls in elementwise_classes():
            rules.setdefault(cls, lambda m, x: tuple(x.shape))
        _RULES = rules
    return _RULES


def fast_output_shape(module: Any, tensors: Sequence[Any]) -> tuple[int, ...] | None:
    """The output shape of ``module(*tensors)`` when a rule is certain of it, else None.

    Only single-input calls on floating-point tensors with every dimension non-empty qualify.
    """
    rule = _rules().get(type(module))
    if rule is None or len(tensors) != 1 or tensors[0] is None:
        return None
    x = tensors[0]
    if not x.dtype.is_floating_point or x.dim() == 0 or 0 in x.shape:
        return None
    weights = [p for p in module.parameters(recurse=False)]
    if any(p.dtype != x.dtype for p in weights):
        return None
    return rule(module, x)
