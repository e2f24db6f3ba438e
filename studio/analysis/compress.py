"""Compression: magnitude pruning and int8 quantization, with a before / after table.

Why the library routines: ``torch.nn.utils.prune`` keeps masks that fine-tuning respects and
``torch.ao.quantization`` produces kernels the CPU actually runs faster; a table built here only
measures what they did.
"""

from __future__ import annotations

import copy
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import prune

PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d)
DYNAMIC_QUANTIZABLE = {nn.Linear, nn.LSTM, nn.GRU}


def prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    return [(m, "weight") for m in model.modules() if isinstance(m, PRUNABLE)]


def prune_model(model: nn.Module, sparsity: float, scope: str = "global") -> nn.Module:
    """Zero the ``sparsity`` share of smallest weights, over all layers at once or per layer.

    The masks stay attached (fine-tuning keeps pruned weights at zero); :func:`finalize` makes them permanent.
    """
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}")
    params = prunable(model)
    if not params:
        raise ValueError("the model has no Linear or Conv layers to prune")
    if scope == "global":
        prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=sparsity)
    elif scope == "layer":
        for module, name in params:
            prune.l1_unstructured(module, name, amount=sparsity)
    else:
        raise ValueError(f"unknown pruning scope '{scope}' (global or layer)")
    return model


def finalize(model: nn.Module) -> nn.Module:
    """Fold pruning masks into the weights so the model saves and exports like any other."""
    for module in model.modules():
        if isinstance(module, PRUNABLE) and prune.is_pruned(module):
            prune.remove(module, "weight")
    return model


def finetune(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int = 1, lr: float = 5e-4,
             batch: int = 64, seed: int = 0) -> nn.Module:
    """A few epochs of cross-entropy training; pruning masks keep removed weights at zero meanwhile."""
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


def quantize_dynamic(model: nn.Module) -> nn.Module:
    """int8 weights, activations quantized on the fly (Linear, LSTM, GRU) — CPU only."""
    return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).eval(), DYNAMIC_QUANTIZABLE,
                                                  dtype=torch.qint8)


def quantize_static(model: nn.Module, calibration: torch.Tensor, batch: int = 64) -> nn.Module:
    """int8 weights and activations via FX graph mode, calibrated on ``calibration`` inputs — CPU only."""
    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

    example = (calibration[:1],)
    prepared = prepare_fx(copy.deepcopy(model).eval(), get_default_qconfig_mapping("x86"), example)
    with torch.no_grad():
        for i in range(0, len(calibration), batch):
            prepared(calibration[i:i + batch])
    return convert_fx(prepared)


@dataclass
class ModelFigures:
    label: str
    parameters: int
    nonzero: int
    file_bytes: int
    latency_ms: float  # CPU, per sample, batch 1, median
    accuracy: float | None


def count(model: nn.Module) -> tuple[int, int]:
    """Parameters and non-zero parameters, reading packed int8 weights of quantized layers too."""
    total = nonzero = 0
    for value in model.state_dict().values():
        t = value() if callable(value) else value
        if isinstance(t, tuple):  # packed (weight, bias) of quantized Linear
            tensors = [v for v in t if isinstance(v, torch.Tensor)]
        else:
            tensors = [t] if isinstance(t, torch.Tensor) else []
        for w in tensors:
            if w.is_quantized:
                w = w.int_repr()
            if w.dtype.is_floating_point or w.dtype in (torch.int8, torch.uint8):
                total += w.numel()
                nonzero += int(torch.count_nonzero(w))
    return total, nonzero


def file_size(model: nn.Module) -> int:
    """Bytes of the saved state_dict; a mostly-zero weight is stored as its non-zero values plus a bit mask.

    That is what a pruned model's file gains; dense tensors are saved as they are.
    """
    import numpy as np

    state = {}
    for key, value in model.state_dict().items():
        if isinstance(value, torch.Tensor) and value.dtype.is_floating_point and value.dim() >= 2 \
                and float((value == 0).float().mean()) > 0.5:
            mask = (value != 0).flatten()
            state[key + ".values"] = value.flatten()[mask].clone()
            state[key + ".mask"] = torch.from_numpy(np.packbits(mask.numpy()))
        else:
            state[key] = value
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.tell()


def latency_ms(model: nn.Module, sample: torch.Tensor, repeats: int = 50) -> float:
    model.eval()
    times = []
    with torch.no_grad():
        for _ in range(5):
            model(sample)
        for _ in range(repeats):
            start = time.perf_counter()
            model(sample)
            times.append(time.perf_counter() - start)
    times.sort()
    return 1000.0 * times[len(times) // 2]


def figures(label: str, model: nn.Module, sample: torch.Tensor,
            accuracy: Callable[[nn.Module], float] | None = None) -> ModelFigures:
    total, nonzero = count(model)
    return ModelFigures(label, total, nonzero, file_size(model), latency_ms(model, sample[:1]),
                        accuracy(model) if accuracy else None)


def table(rows: list[ModelFigures]) -> str:
    """Plain-text before / after table for the CLI and the workspace."""
    head = ("model", "params", "non-zero", "file", "latency/sample", "accuracy")
    body = [(r.label, f"{r.parameters:,}", f"{r.nonzero:,}", f"{r.file_bytes / 1024:.1f} KiB",
             f"{r.latency_ms:.3f} ms", "-" if r.accuracy is None else f"{100 * r.accuracy:.1f} %") for r in rows]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in (head, *body))
