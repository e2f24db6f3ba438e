"""Merging branches: concatenate, add, multiply. Compiled as call_function nodes."""

from __future__ import annotations

import torch

from nodes.modules import concat
from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec

CONCAT = NodeSpec(
    type_id="nn.concat",
    title="Concat",
    category="Merge",
    inputs=(PortSpec("in1"), PortSpec("in2"), PortSpec("in3", optional=True), PortSpec("in4", optional=True)),
    params=(ParamSpec("dim", "int", 1, minimum=-8, maximum=8,
                      help="Dimension to join along (1 = channels/features; 0 is the batch)."),),
    function=concat,
    export=ExportInfo("concat", source_of=(concat,)),
    description="Joins 2-4 tensors side by side along one dimension (e.g. stacking channels of two branches).",
    key_params=("dim",),
    tags=("concat", "concatenate", "cat", "join", "stack", "merge", "skip"),
)

ADD = NodeSpec(
    type_id="nn.add",
    title="Add",
    category="Merge",
    inputs=(PortSpec("a"), PortSpec("b")),
    function=torch.add,
    kwargs=lambda p: {},
    export=ExportInfo("torch.add"),
    description="Adds two tensors element by element (a residual/skip connection).",
    tags=("add", "sum", "plus", "residual", "skip", "merge"),
)

MULTIPLY = NodeSpec(
    type_id="nn.multiply",
    title="Multiply",
    category="Merge",
    inputs=(PortSpec("a"), PortSpec("b")),
    function=torch.mul,
    kwargs=lambda p: {},
    export=ExportInfo("torch.mul"),
    description="Multiplies two tensors element by element (gating, attention masks).",
    tags=("multiply", "mul", "product", "gate", "elementwise", "merge"),
)

SPECS = [CONCAT, ADD, MULTIPLY]
