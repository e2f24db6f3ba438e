"""Shape changes: flatten, reshape, permute, select, split, squeeze. Dimension 0 is the batch."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from torch import nn

from nodes.modules import Permute, Reshape, Select, SplitTwo, Squeeze, Transpose, Unsqueeze
from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec

_IN = (PortSpec("in"),)
_DIM_HELP = " (0 is the batch; negative counts from the end)."


def _dim(name: str, default: int, what: str) -> ParamSpec:
    return ParamSpec(name, "int", default, minimum=-8, maximum=8, help=what + _DIM_HELP)


def _keeps_batch(name: str, what: str) -> Callable[[Mapping[str, Any]], str | None]:
    """Dimension 0 is the batch: a layer that removes or moves it breaks everything downstream."""
    def check(params: Mapping[str, Any]) -> str | None:
        if params.get(name) == 0:
            return f"'{name}' is 0, the batch dimension: {what}; use 1 or more"
        return None

    return check


def _reshape_check(params: Mapping[str, Any]) -> str | None:
    shape = tuple(params.get("shape") or ())
    if not shape:
        return "'shape' needs at least one size"
    if shape.count(-1) > 1:
        return "'shape' may contain -1 only once (it stands for 'whatever is left')"
    if any(d == 0 for d in shape):
        return "'shape' sizes must be positive (or a single -1)"
    return None


def _permute_check(params: Mapping[str, Any]) -> str | None:
    dims = tuple(params.get("dims") or ())
    if sorted(dims) != list(range(len(dims))):
        return f"'dims' must list each of 0..{max(len(dims) - 1, 0)} exactly once, got {dims}"
    if dims and dims[0] != 0:
        return "'dims' must keep the batch first (start with 0)"
    return None


def _transpose_check(params: Mapping[str, Any]) -> str | None:
    if 0 in (params.get("dim0"), params.get("dim1")):
        return "'dim0' and 'dim1' must not move the batch dimension 0"
    return None


FLATTEN = NodeSpec(
    type_id="nn.flatten",
    title="Flatten",
    category="Shape",
    inputs=_IN,
    params=(_dim("start_dim", 1, "First dimension to flatten"), _dim("end_dim", -1, "Last dimension to flatten")),
    module=nn.Flatten,
    export=ExportInfo("nn.Flatten"),
    check=_keeps_batch("start_dim", "flattening it would mix samples together"),
    description="Squashes each sample into one long vector, e.g. before a Linear layer.",
    key_params=("start_dim",),
    tags=("flatten", "reshape", "vector", "view"),
)

RESHAPE = NodeSpec(
    type_id="nn.reshape",
    title="Reshape",
    category="Shape",
    inputs=_IN,
    params=(ParamSpec("shape", "ints", [1, 28, 28], minimum=-1, maximum=1_000_000,
                      help="New shape of each sample, without the batch; one -1 means 'whatever is left'."),),
    module=Reshape,
    export=ExportInfo("Reshape", source_of=(Reshape,)),
    check=_reshape_check,
    description="Rearranges each sample into a new shape with the same number of values (e.g. 784 → 1×28×28).",
    key_params=("shape",),
    tags=("reshape", "unflatten", "view", "shape"),
)

UNFLATTEN = NodeSpec(
    type_id="nn.unflatten",
    title="Unflatten",
    category="Shape",
    inputs=_IN,
    params=(_dim("dim", 1, "Dimension to split up"),
            ParamSpec("unflattened_size", "ints", [1, 28, 28], minimum=-1, maximum=1_000_000,
                      help="Sizes that dimension becomes; their product must equal its size.")),
    module=nn.Unflatten,
    export=ExportInfo("nn.Unflatten"),
    check=lambda p: _reshape_check({"shape": p.get("unflattened_size")}),
    description="Splits one dimension into several, the reverse of Flatten.",
    key_params=("unflattened_size",),
    tags=("unflatten", "reshape", "view"),
)

PERMUTE = NodeSpec(
    type_id="nn.permute",
    title="Permute",
    category="Shape",
    inputs=_IN,
    params=(ParamSpec("dims", "ints", [0, 2, 1], minimum=0, maximum=15,
                      help="New order of the dimensions, batch (0) included, e.g. 0, 2, 1 swaps the last two."),),
    module=Permute,
    export=ExportInfo("Permute", source_of=(Permute,)),
    check=_permute_check,
    description="Reorders the dimensions of each sample, e.g. (B, L, C) to (B, C, L).",
    key_params=("dims",),
    tags=("permute", "transpose", "reorder", "axes"),
)

TRANSPOSE = NodeSpec(
    type_id="nn.transpose",
    title="Transpose",
    category="Shape",
    inputs=_IN,
    params=(_dim("dim0", 1, "First dimension to swap"), _dim("dim1", 2, "Second dimension to swap")),
    module=Transpose,
    export=ExportInfo("Transpose", source_of=(Transpose,)),
    check=_transpose_check,
    description="Swaps two dimensions, e.g. (B, L, C) to (B, C, L).",
    key_params=("dim0", "dim1"),
    tags=("transpose", "swap", "permute", "axes"),
)

SELECT = NodeSpec(
    type_id="nn.select",
    title="Select",
    category="Shape",
    inputs=_IN,
    params=(_dim("dim", 1, "Dimension to pick from"),
            ParamSpec("index", "int", 0, minimum=-1_000_000, maximum=1_000_000,
                      help="Which entry to keep; -1 is the last (e.g. the last time step).")),
    module=Select,
    export=ExportInfo("Select", source_of=(Select,)),
    check=_keeps_batch("dim", "selecting from it would keep only one sample"),
    description="Keeps one entry along a dimension and drops that dimension, like x[:, -1].",
    key_params=("dim", "index"),
    tags=("select", "index", "pick", "slice", "getitem", "last"),
)

SPLIT = NodeSpec(
    type_id="nn.split",
    title="Split",
    category="Shape",
    inputs=_IN,
    outputs=(PortSpec("first", help="the first split_size entries"), PortSpec("second", help="the rest")),
    params=(_dim("dim", 1, "Dimension to cut"),
            ParamSpec("split_size", "int", None, minimum=1, maximum=1_000_000, optional=True,
                      help="Size of the first part; empty cuts in half.")),
    module=SplitTwo,
    export=ExportInfo("SplitTwo", source_of=(SplitTwo,)),
    description="Cuts a tensor in two along a dimension (e.g. mean and log-variance in a VAE).",
    key_params=("dim", "split_size"),
    tags=("split", "chunk", "cut", "narrow", "slice"),
)

SQUEEZE = NodeSpec(
    type_id="nn.squeeze",
    title="Squeeze",
    category="Shape",
    inputs=_IN,
    params=(_dim("dim", -1, "Size-1 dimension to remove"),),
    module=Squeeze,
    export=ExportInfo("Squeeze", source_of=(Squeeze,)),
    check=_keeps_batch("dim", "it cannot be removed"),
    description="Removes a dimension of size 1, e.g. (B, 1) to (B).",
    key_params=("dim",),
    tags=("squeeze", "remove", "dimension"),
)

UNSQUEEZE = NodeSpec(
    type_id="nn.unsqueeze",
    title="Unsqueeze",
    category="Shape",
    inputs=_IN,
    params=(_dim("dim", 1, "Where to insert the new size-1 dimension"),),
    module=Unsqueeze,
    export=ExportInfo("Unsqueeze", source_of=(Unsqueeze,)),
    check=_keeps_batch("dim", "a new dimension there would push the batch out of first place"),
    description="Inserts a new dimension of size 1, e.g. (B, 28, 28) to (B, 1, 28, 28).",
    key_params=("dim",),
    tags=("unsqueeze", "expand", "add dimension", "channel"),
)

SPECS = [FLATTEN, RESHAPE, UNFLATTEN, PERMUTE, TRANSPOSE, SELECT, SPLIT, SQUEEZE, UNSQUEEZE]
