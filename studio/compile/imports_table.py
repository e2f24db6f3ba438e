"""Which node a traced function or method call becomes (``x + y`` -> Add, ``x.mean(1)`` -> Mean, ...).

Each rule binds the call's arguments by name, checks the call is one the node computes
exactly the same way, and returns the node type, its params and the fx values wired to its
inputs. A rule that does not fit returns a reason, and the call becomes an opaque node.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.fx
import torch.nn.functional as F


@dataclass
class FunctionMatch:
    type_id: str
    params: dict[str, Any]
    inputs: list[torch.fx.Node]


Rule = Callable[[dict[str, Any], torch.fx.Node, dict], "FunctionMatch | str"]

_MISSING = object()


def _bind(fxn: torch.fx.Node, names: Sequence[str], defaults: dict[str, Any], varargs: bool = False
          ) -> dict[str, Any] | str:
    args = list(fxn.args)
    bound: dict[str, Any] = {}
    if varargs:
        bound[names[0]] = args[0] if args else _MISSING
        rest = args[1:]
        bound[names[1]] = tuple(rest[0]) if len(rest) == 1 and isinstance(rest[0], tuple | list) else tuple(rest)
        names = names[2:]
        args = []
    if len(args) > len(names):
        return "more positional arguments than the node understands"
    for key, value in zip(names, args, strict=False):
        bound[key] = value
    for key, value in fxn.kwargs.items():
        if key not in names:
            return f"argument {key!r} is not supported"
        bound[key] = value
    for key in names:
        if key not in bound:
            if key not in defaults:
                return f"argument {key!r} is missing"
            bound[key] = defaults[key]
    return bound


def _is_tensor(value: Any, env: dict) -> bool:
    return isinstance(value, torch.fx.Node) and value in env and env[value].ref is not None


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dims(value: Any) -> list[int] | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, tuple | list) and value and all(isinstance(v, int) for v in value):
        return list(value)
    return None


def _unary(type_id: str, names: Sequence[str] = ("input",), defaults: dict[str, Any] | None = None,
           params: Callable[[dict[str, Any]], dict[str, Any] | str] | None = None) -> Callable:
    def rule(fxn: torch.fx.Node, env: dict) -> FunctionMatch | str:
        bound = _bind(fxn, names, {"inplace": False, **(defaults or {})})
        if isinstance(bound, str):
            return bound
        x = bound[names[0]]
        if not _is_tensor(x, env):
            return "its input is not a tensor from the graph"
        values = params(bound) if params else {}
        if isinstance(values, str):
            return values
        return FunctionMatch(type_id, values, [x])
    return rule


def _binary(tensor_type: str, const_type: str | None, commutative: bool, negate_const: bool = False) -> Callable:
    def rule(fxn: torch.fx.Node, env: dict) -> FunctionMatch | str:
        if fxn.kwargs and set(fxn.kwargs) - {"other"}:
            return f"argument {sorted(fxn.kwargs)[0]!r} is not supported"
        args = list(fxn.args) + [fxn.kwargs["other"]] if "other" in fxn.kwargs else list(fxn.args)
        if len(args) != 2:
            return "expects two operands"
        a, b = args
        if _is_tensor(a, env) and _is_tensor(b, env):
            return FunctionMatch(tensor_type, {}, [a, b])
        if const_type is None:
            return "operands must both be tensors"
        if commutative and _number(a) and _is_tensor(b, env):
            a, b = b, a
        if _is_tensor(a, env) and _number(b):
            return FunctionMatch(const_type, {"other": float(-b if negate_const else b)}, [a])
        if _number(a):
            return "a number on the left of this operator is not supported"
        return "an operand is not a tensor from the graph (a parameter or constant used directly?)"
    return rule


def _cat(fxn: torch.fx.Node, env: dict) -> FunctionMatch | str:
    bound = _bind(fxn, ("tensors", "dim"), {"dim": 0})
    if isinstance(bound, str):
        return bound
    tensors = bound["tensors"]
    if not isinstance(tensors, tuple | list) or not 2 <= len(tensors) <= 4:
        return "Concat joins 2 to 4 tensors"
    if not all(_is_tensor(t, env) for t in tensors) or not isinstance(bound["dim"], int):
        return "arguments are not plain tensors and an integer dim"
    return FunctionMatch("nn.concat", {"dim": bound["dim"]}, list(tensors))


def _reduce(type_id: str) -> Callable:
    def params(bound: dict[str, Any]) -> dict[str, Any] | str:
        dims = _dims(bound["dim"])
        if dims is None:
            return "reducing over every dimension (the batch too) is not supported"
        if bound.get("dtype") is not None:
            return "dtype is not supported"
        return {"dim": dims, "keepdim": bool(bound["keepdim"])}
    return _unary(type_id, ("input", "dim", "keepdim", "dtype"), {"dim": None, "keepdim": False, "dtype": None},
                  params)


def _reshape(fxn: torch.fx.Node, env: dict) -> FunctionMatch | str:
    bound = _bind(fxn, ("input", "shape"), {}, varargs=True)
    if isinstance(bound, str):
        return bound
    x, shape = bound["input"], bound["shape"]
    if not _is_tensor(x, env) or not shape:
        return "its input is not a tensor from the graph"
    first = shape[0]
    batch = isinstance(first, torch.fx.Node) and first in env and env[first].batch_of is x
    rest = list(shape[1:])
    if not batch or not rest or not all(isinstance(d, int) for d in rest):
        return "only reshapes that keep the batch (x.view(x.size(0), ...)) are supported"
    return FunctionMatch("nn.reshape", {"shape": rest}, [x])


def _getitem(fxn: torch.fx.Node, env: dict) -> FunctionMatch | str:
    x, index = fxn.args
    if not _is_tensor(x, env):
        return "indexing something that is not a tensor from the graph"
    items = index if isinstance(index, tuple) else (index,)
    full = slice(None, None, None)
    ints = [i for i, item in enumerate(items) if isinstance(item, int) and not isinstance(item, bool)]
    others = [item for i, item in enumerate(items) if i not in ints]
    if len(ints) == 1 and all(item == full for item in others):
        return FunctionMatch("nn.select", {"dim": ints[0], "index": items[ints[0]]}, [x])
    return "only x[:, i]-style indexing (one integer, full slices) is supported"


def _permute(fxn: torch.fx.Node, env: dict) -> FunctionMatch | str:
    bound = _bind(fxn, ("input", "dims"), {}, varargs=True)
    if isinstance(bound, str):
        return bound
    if not _is_tensor(bound["input"], env) or _dims(list(bound["dims"])) is None:
        return "permute needs a tensor and integer dims"
    return FunctionMatch("nn.permute", {"dims": list(bound["dims"])}, [bound["input"]])


def _square(value: Any) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, tuple | list) and value and all(v == value[0] for v in value):
        return int(value[0])
    return None


def _adaptive(fxn: torch.fx.Node, env: dict) -> FunctionMatch | str:
    def params(bound: dict[str, Any]) -> dict[str, Any] | str:
        size = _square(bound["output_size"])
        return "non-square output size" if size is None else {"output_size": size}
    return _unary("nn.adaptive_avg_pool2d", ("input", "output_size"), {}, params)(fxn, env)


def _max_pool(fxn: torch.fx.Node, env: dict) -> FunctionMatch | str:
    def params(b: dict[str, Any]) -> dict[str, Any] | str:
        if b["dilation"] not in (1, (1, 1)) or b["return_indices"]:
            return "dilation and return_indices are not supported"
        k, s, p = _square(b["kernel_size"]), _square(b["stride"]) if b["stride"] else None, _square(b["padding"])
        if k is None or p is None or (b["stride"] and s is None):
            return "non-square windows are not supported"
        return {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": bool(b["ceil_mode"])}
    return _unary("nn.max_pool2d", ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                                    "return_indices"),
                  {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False, "return_indices": False},
                  params)(fxn, env)


def _softmax(type_id: str) -> Callable:
    def params(bound: dict[str, Any]) -> dict[str, Any] | str:
        if not isinstance(bound["dim"], int) or bound.get("dtype") is not None:
            return "softmax needs an explicit integer dim (and no dtype)"
        return {"dim": bound["dim"]}
    return _unary(type_id, ("input", "dim", "_stacklevel", "dtype"), {"dim": None, "_stacklevel": 3, "dtype": None},
                  params)


def _dropout(fxn: torch.fx.Node, env: dict) -> FunctionMatch | str:
    def params(bound: dict[str, Any]) -> dict[str, Any] | str:
        return {"p": float(bound["p"])} if _number(bound["p"]) else "dropout p must be a number"
    return _unary("nn.dropout", ("input", "p", "training", "inplace"), {"p": 0.5, "training": True}, params)(fxn, env)


_ACT = {"relu": "nn.relu", "sigmoid": "nn.sigmoid", "tanh": "nn.tanh", "silu": "nn.silu", "hardswish": "nn.hardswish",
        "hardsigmoid": "nn.hardsigmoid", "relu6": "nn.relu6", "mish": "nn.mish"}

RULES: dict[Any, Callable] = {}
for _name, _type in _ACT.items():
    _rule = _unary(_type, ("input", "inplace"))
    RULES[_name] = _rule
    for _ns in (torch, F):
        if hasattr(_ns, _name):
            RULES[getattr(_ns, _name)] = _rule
RULES[F.gelu] = RULES["gelu"] = _unary("nn.gelu", ("input", "approximate"), {"approximate": "none"},
                                       lambda b: {"approximate": b["approximate"]})
RULES[F.leaky_relu] = _unary("nn.leaky_relu", ("input", "negative_slope", "inplace"), {"negative_slope": 0.01},
                             lambda b: {"negative_slope": float(b["negative_slope"])})
RULES[F.elu] = _unary("nn.elu", ("input", "alpha", "inplace"), {"alpha": 1.0}, lambda b: {"alpha": float(b["alpha"])})
for _key in (F.softmax, torch.softmax, "softmax"):
    RULES[_key] = _softmax("nn.softmax")
for _key in (F.log_softmax, torch.log_softmax, "log_softmax"):
    RULES[_key] = _softmax("nn.log_softmax")
for _key in (operator.add, operator.iadd, torch.add, "add", "add_", "__add__"):
    RULES[_key] = _binary("nn.add", "fn.add_const", commutative=True)
for _key in (operator.mul, operator.imul, torch.mul, "mul", "mul_"):
    RULES[_key] = _binary("nn.multiply", "fn.mul_const", commutative=True)
for _key in (operator.sub, operator.isub, torch.sub, "sub"):
    RULES[_key] = _binary("fn.sub", "fn.add_const", commutative=False, negate_const=True)
for _key in (operator.truediv, operator.itruediv, torch.div, "div"):
    RULES[_key] = _binary("fn.div", "fn.div_const", commutative=False)
for _key in (operator.matmul, torch.matmul, torch.bmm, "matmul", "bmm"):
    RULES[_key] = _binary("fn.matmul", None, commutative=False)
for _key in (torch.cat, torch.concat, torch.concatenate):
    RULES[_key] = _cat
for _key in (torch.flatten, "flatten"):
    RULES[_key] = _unary("nn.flatten", ("input", "start_dim", "end_dim"), {"start_dim": 0, "end_dim": -1},
                         lambda b: {"start_dim": b["start_dim"], "end_dim": b["end_dim"]})
for _key, _type in ((torch.mean, "fn.mean"), ("mean", "fn.mean"), (torch.sum, "fn.sum"), ("sum", "fn.sum"),
                    (torch.amax, "fn.amax"), ("amax", "fn.amax")):
    RULES[_key] = _reduce(_type)
for _key in ("view", "reshape", torch.reshape):
    RULES[_key] = _reshape
for _key in (torch.transpose, "transpose"):
    RULES[_key] = _unary("nn.transpose", ("input", "dim0", "dim1"), {}, lambda b: {"dim0": b["dim0"], "dim1": b["dim1"]})
for _key in (torch.permute, "permute"):
    RULES[_key] = _permute
for _key in (torch.unsqueeze, "unsqueeze"):
    RULES[_key] = _unary("nn.unsqueeze", ("input", "dim"), {}, lambda b: {"dim": b["dim"]})
for _key in (torch.squeeze, "squeeze"):
    RULES[_key] = _unary("nn.squeeze", ("input", "dim"), {"dim": None},
                         lambda b: {"dim": b["dim"]} if isinstance(b["dim"], int) else "squeeze needs a dim")
RULES["contiguous"] = _unary("fn.contiguous", ("input", "memory_format"), {"memory_format": torch.contiguous_format},
                             lambda b: {} if b["memory_format"] == torch.contiguous_format
                             else "only the default memory format is supported")
RULES[operator.getitem] = _getitem
RULES[F.adaptive_avg_pool2d] = _adaptive
RULES[F.max_pool2d] = _max_pool
RULES[F.dropout] = _dropout


def match_function(fxn: torch.fx.Node, env: dict) -> FunctionMatch | str:
    """The node for one traced call, or why there is none."""
    try:
        rule = RULES.get(fxn.target)
    except TypeError:  # unhashable target
        rule = None
    if rule is None:
        name = fxn.target if isinstance(fxn.target, str) else getattr(fxn.target, "__name__", str(fxn.target))
        return f"no node for {name}()"
    return rule(fxn, env)
