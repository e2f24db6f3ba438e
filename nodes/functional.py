"""Tensor operations written as plain torch function calls (type ids ``fn.*``).

They exist so that imported models (``x.mean(dim=1)``, ``a - b``, ``x * 0.5``, ``q @ k``) keep
every operation as an editable node, and export as the same one-line torch call. Each spec
calls a public torch function with keyword arguments only, so generated code stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec

_IN = (PortSpec("in"),)
_TWO = (PortSpec("a"), PortSpec("b"))


def _dims_check(params: Mapping[str, Any]) -> str | None:
    dims = tuple(params.get("dim") or ())
    if not dims:
        return "'dim' needs at least one dimension"
    if len(set(dims)) != len(dims):
        return f"'dim' lists a dimension twice: {dims}"
    return None


def _reduce(type_id: str, title: str, function: Any, qualname: str, description: str,
            tags: tuple[str, ...]) -> NodeSpec:
    return NodeSpec(
        type_id=type_id,
        title=title,
        category="Functional",
        inputs=_IN,
        params=(ParamSpec("dim", "ints", [1], minimum=-8, maximum=8,
                          help="Dimensions to reduce (0 is the batch; negative counts from the end)."),
                ParamSpec("keepdim", "bool", False, help="Keep reduced dimensions with size 1.")),
        function=function,
        kwargs=lambda p: {"dim": tuple(p["dim"]), "keepdim": p["keepdim"]},
        export=ExportInfo(qualname),
        check=_dims_check,
        description=description,
        key_params=("dim",),
        tags=tags,
    )


def _binary(type_id: str, title: str, function: Any, qualname: str, description: str,
            tags: tuple[str, ...]) -> NodeSpec:
    return NodeSpec(
        type_id=type_id,
        title=title,
        category="Functional",
        inputs=_TWO,
        function=function,
        kwargs=lambda p: {},
        export=ExportInfo(qualname),
        description=description,
        tags=tags,
    )


def _constant(type_id: str, title: str, function: Any, qualname: str, default: float, description: str,
              tags: tuple[str, ...]) -> NodeSpec:
    return NodeSpec(
        type_id=type_id,
        title=title,
        category="Functional",
        inputs=_IN,
        params=(ParamSpec("other", "float", default, help="The constant."),),
        function=function,
        export=ExportInfo(qualname),
        description=description,
        key_params=("other",),
        tags=tags,
    )


MEAN = _reduce("fn.mean", "Mean", torch.mean, "torch.mean",
               "Averages over dimensions, e.g. over the sequence (dim 1) to pool tokens.",
               ("mean", "average", "reduce", "pool"))
SUM = _reduce("fn.sum", "Sum", torch.sum, "torch.sum", "Sums over dimensions.", ("sum", "reduce", "total"))
AMAX = _reduce("fn.amax", "Max over dims", torch.amax, "torch.amax", "Largest value over dimensions.",
               ("max", "amax", "reduce", "pool"))
SUB = _binary("fn.sub", "Subtract", torch.sub, "torch.sub", "a − b, element by element (with broadcasting).",
              ("subtract", "minus", "difference"))
DIV = _binary("fn.div", "Divide", torch.div, "torch.div", "a / b, element by element (with broadcasting).",
              ("divide", "ratio", "quotient"))
MATMUL = _binary("fn.matmul", "MatMul", torch.matmul, "torch.matmul",
                 "Matrix product a @ b over the last two dimensions (batched).",
                 ("matmul", "matrix", "product", "bmm", "dot", "attention"))
ADD_CONST = _constant("fn.add_const", "Add constant", torch.add, "torch.add", 1.0,
                      "Adds a fixed number to every element.", ("add", "offset", "shift", "constant", "bias"))
MUL_CONST = _constant("fn.mul_const", "Scale", torch.mul, "torch.mul", 0.5,
                      "Multiplies every element by a fixed number.", ("scale", "multiply", "constant", "gain"))
DIV_CONST = _constant("fn.div_const", "Divide by constant", torch.div, "torch.div", 2.0,
                      "Divides every element by a fixed number (e.g. 1/sqrt(d) in attention).",
                      ("divide", "scale", "constant", "temperature"))



def contiguous(x: torch.Tensor) -> torch.Tensor:
    """The same values, laid out contiguously in memory (later kernels then see the same layout)."""
    return x.contiguous()


CONTIGUOUS = NodeSpec(
    type_id="fn.contiguous",
    title="Contiguous",
    category="Functional",
    inputs=_IN,
    function=contiguous,
    export=ExportInfo("contiguous", source_of=(contiguous,)),
    description="Copies a transposed or permuted tensor into one contiguous block, as x.contiguous() does. "
                "Kept from imported models so the following layers compute exactly as before.",
    tags=("contiguous", "memory", "layout", "copy"),
)

SPECS = [MEAN, SUM, AMAX, SUB, DIV, MATMUL, ADD_CONST, MUL_CONST, DIV_CONST, CONTIGUOUS]
