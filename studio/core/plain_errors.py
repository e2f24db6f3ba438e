"""PyTorch's shape errors, said in plain words for the node that raised them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from studio.core.spec import NodeSpec


def _shape(shape: Sequence[int], batch: int | None = None) -> str:
    """``B×784`` style, matching the shapes shown on wires (the leading batch dimension as B)."""
    dims = ["B" if i == 0 and d == batch else str(d) for i, d in enumerate(shape)]
    return "×".join(dims) if dims else "scalar"


Rule = tuple[re.Pattern[str], Callable[[re.Match[str], NodeSpec], str]]

_RULES: list[Rule] = [
    (re.compile(r"a and b must have same reduction dim, but got \[(\d+), (\d+)\] X \[(\d+), (\d+)\]"),
     lambda m, s: f"{s.title} expects {m.group(3)} features, gets {m.group(2)}"),
    (re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)"),
     lambda m, s: f"{s.title} expects {m.group(3)} features, gets {m.group(2)}"),
    (re.compile(r"expected input\[([\d, ]+)\] to have (\d+) channels, but got (\d+) channels"),
     lambda m, s: f"{s.title} expects {m.group(2)} input channels, gets {m.group(3)}"),
    (re.compile(r"input\.size\(-1\) must be equal to input_size\. Expected (\d+), got (\d+)"),
     lambda m, s: f"{s.title} expects {m.group(1)} features per step, gets {m.group(2)}"),
    (re.compile(r"running_mean should contain (\d+) elements not (\d+)"),
     lambda m, s: f"{s.title} expects {m.group(2)} features/channels, gets {m.group(1)}"),
    (re.compile(r"Expected (\d+)D \(unbatched\) or (\d+)D \(batched\) input to \w+, but got input of size: \[([\d, ]*)\]"),
     lambda m, s: f"{s.title} needs a {m.group(2)}-D input (batch first), gets {len(m.group(3).split(','))}-D"
                  f" ({m.group(3)})"),
    (re.compile(r"Sizes of tensors must match except in dimension (\d+)"),
     lambda m, s: f"{s.title}: inputs must have the same size in every dimension except {m.group(1)}"),
    (re.compile(r"The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton dimension (\d+)"),
     lambda m, s: f"{s.title}: inputs differ in dimension {m.group(3)} ({m.group(1)} vs {m.group(2)})"),
    (re.compile(r"shape '\[([-\d, ]+)\]' is invalid for input of size (\d+)"),
     lambda m, s: f"{s.title}: cannot reshape {m.group(2)} values into ({m.group(1)})"),
    (re.compile(r"Kernel size can't be greater than actual input size|Output size is too small|"
                r"computed output size .* too small|input image .* smaller than kernel"),
     lambda m, s: f"{s.title}: the input is smaller than the kernel (too much downsampling upstream?)"),
    (re.compile(r"Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int"),
     lambda m, s: f"{s.title} needs integer token ids (set the Input's dtype to int64)"),
    # node library (nodes/): messages PyTorch gives on the meta device
    (re.compile(r"^Invalid channel dimensions$"),
     lambda m, s: f"{s.title}: the input's channel count (dimension 1) differs from in_channels"),
    (re.compile(r"expected ([\dD or]+?)D input \(got (\d+)D input\)"),
     lambda m, s: f"{s.title} needs a {m.group(1)}-D input (batch first), gets {m.group(2)}-D"),
    (re.compile(r"Given normalized_shape=\[([\d, ]+)\]"),
     lambda m, s: f"{s.title} normalises trailing size(s) ({m.group(1)}), which the input's last dimension(s) "
                  "do not match"),
    (re.compile(r"Attempting to broadcast a dimension of length (\d+) at (-?\d+)!.*"
                r"broadcastable to \[([\d, ]+)\]"),
     lambda m, s: _broadcast(m, s)),
    (re.compile(r"unflatten: Provided sizes \[([-\d, ]+)\] don't multiply up to the size of dim (-?\d+) \((\d+)\)"),
     lambda m, s: f"{s.title}: sizes ({m.group(1)}) do not multiply up to {m.group(3)}, "
                  f"the size of dimension {m.group(2)}"),
    (re.compile(r"key's sequence and batch dims torch\.Size\(\[(\d+), (\d+)\]\) do not match "
                r"value's torch\.Size\(\[(\d+), (\d+)\]\)"),
     lambda m, s: f"{s.title}: key and value must have the same length (key {m.group(1)}, value {m.group(3)})"),
]


def _broadcast(m: re.Match[str], spec: NodeSpec) -> str:
    """Meta tensors word a broadcast clash differently from CPU ones; say it the CPU way."""
    target = [int(d) for d in m.group(3).split(",")]
    dim = int(m.group(2))
    dim = dim + len(target) if dim < 0 else dim
    return f"{spec.title}: inputs differ in dimension {dim} ({target[dim]} vs {m.group(1)})"


def plain_error(spec: NodeSpec, exc: BaseException, in_shapes: Sequence[Sequence[int]],
                resolved: Mapping[str, Any], batch: int | None = None) -> str:
    """A one-line message for the user; PyTorch's own words follow when no rule matches."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for pattern, say in _RULES:
        match = pattern.search(text)
        if match:
            plain = say(match, spec)
            break
    else:
        plain = f"{spec.title}: {text}"
    if in_shapes:
        plain += " (input " + ", ".join(_shape(s, batch) for s in in_shapes) + ")"
    return plain
