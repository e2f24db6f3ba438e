"""Generic nodes for the long tail: any ``torch.nn`` module, any torch function or tensor method, a parameter.

Dedicated nodes are for building by hand; these three cover everything an imported model brings
in, so coverage does not depend on a list:

- ``generic.module``: a module class named by path (``torch.nn.PixelShuffle``; only ``torch.nn``,
  ``torchvision.ops`` and :data:`EXTRA_MODULES`) with constructor arguments written as Python
  literals (``upscale_factor=3``). It builds the real class, so parameter and buffer names are
  the class's own (``weight``, ``running_mean``).
- ``generic.function``: a call of a public function in ``torch``, ``torch.nn.functional``,
  ``operator`` or a ``Tensor`` method (``Tensor.view``), with its arguments written as Python
  literals in which ``in0``, ``in1``, … stand for the wired tensors and may appear in size
  expressions (``in0, in0.size(0), -1``), so the call stays exact for any input size.
- ``generic.parameter``: a parameter or buffer used directly in ``forward`` (a class token, a
  position embedding, a layer-scale vector); its value is the node's weight ``value``.

Arguments are parsed with :mod:`ast` and only literals, the ``inN`` names, sizes of those
tensors (``.shape``, ``.size()``, ``.dim()``), integer arithmetic, ``slice(...)`` and
``torch.<dtype>`` are accepted, so a project file can never run code through them.
:func:`call_text` renders a call as the code a person would write (``torch.flatten(x, 1)``,
``x.view(x.size(0), -1)``) for the exporter.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec
from studio.core.torch_names import (
    _DTYPES,
    EXTRA_FUNCTIONS,
    MAX_INPUTS,
    MAX_OUTPUTS,
    PARAMETER_DTYPES,
    ArgsError,
    resolve_class,
    resolve_function,
)

__all__ = ["GENERIC_FUNCTION", "GENERIC_MODULE", "GENERIC_PARAMETER", "MAX_INPUTS", "MAX_OUTPUTS", "SPECS",
           "module_call_text", "pick_paths",
           "ArgsError", "call_text", "constructor_text", "parse_args", "resolve_class", "resolve_function"]


# ----------------------------------------------------------------------------- argument text

_NAME = "in"
_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Div, ast.Mod, ast.Pow)
_SIZE_METHODS = frozenset({"size", "dim", "numel"})


def _check_expr(node: ast.AST, inputs: int, where: str) -> None:
    if isinstance(node, ast.Constant):
        if node.value is Ellipsis or node.value is None or type(node.value) in (int, float, bool, str):
            return
        raise ArgsError(f"{where}: {type(node.value).__name__} values are not allowed")
    if isinstance(node, ast.Tuple | ast.List):
        for item in node.elts:
            _check_expr(item, inputs, where)
        return
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                raise ArgsError(f"{where}: ** is not allowed")
            _check_expr(key, inputs, where)
            _check_expr(value, inputs, where)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
        _check_expr(node.operand, inputs, where)
        return
    if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
        _check_expr(node.left, inputs, where)
        _check_expr(node.right, inputs, where)
        return
    if isinstance(node, ast.Compare) and all(isinstance(o, ast.Eq | ast.NotEq | ast.Lt | ast.LtE | ast.Gt | ast.GtE)
                                             for o in node.ops):
        for item in (node.left, *node.comparators):
            _check_expr(item, inputs, where)
        return
    if isinstance(node, ast.Name):
        if _input_index(node.id) is not None and _input_index(node.id) < inputs:
            return
        raise ArgsError(f"{where}: unknown name {node.id!r} (inputs are in0 … in{inputs - 1})")
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and node.value.id == "torch" and node.attr in _DTYPES:
            return
        if isinstance(node.value, ast.Name) and node.attr in ("shape", "ndim", "dtype", "device"):
            _check_expr(node.value, inputs, where)
            return
        raise ArgsError(f"{where}: attribute .{node.attr} is not allowed")
    if isinstance(node, ast.Subscript):
        _check_expr(node.value, inputs, where)
        _check_expr(node.slice, inputs, where)
        return
    if isinstance(node, ast.Slice):
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                _check_expr(part, inputs, where)
        return
    if isinstance(node, ast.Call) and _class_call(node):
        resolve_class(ast.unparse(node.func))  # a module argument: an allow-listed class, literal arguments
        for kw in node.keywords:
            if kw.arg is None:
                raise ArgsError(f"{where}: ** is not allowed")
            _check_expr(kw.value, inputs, where)
        return
    if isinstance(node, ast.Call) and not node.keywords:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "len" and len(node.args) == 1:
            _check_expr(node.args[0], inputs, where)
            return
        if isinstance(func, ast.Name) and func.id == "slice" and len(node.args) <= 3:
            for arg in node.args:
                _check_expr(arg, inputs, where)
            return
        if isinstance(func, ast.Name) and func.id == "float" and len(node.args) == 1 \
                and isinstance(node.args[0], ast.Constant) and node.args[0].value in ("inf", "-inf", "nan"):
            return
        if isinstance(func, ast.Attribute) and func.attr in _SIZE_METHODS and isinstance(func.value, ast.Name):
            _check_expr(func.value, inputs, where)
            for arg in node.args:
                _check_expr(arg, inputs, where)
            return
    raise ArgsError(f"{where}: {ast.unparse(node)!r} is not a literal")


def _class_call(node: ast.Call) -> bool:
    """``torch.nn.X(k=v)``: a module argument (keywords only), as opposed to ``in0.size()``."""
    root: ast.AST = node.func
    while isinstance(root, ast.Attribute):
        root = root.value
    return isinstance(node.func, ast.Attribute) and not node.args and isinstance(root, ast.Name) \
        and root.id in ("torch", "torchvision")


def _input_index(name: str) -> int | None:
    if name.startswith(_NAME) and name[len(_NAME):].isdigit():
        return int(name[len(_NAME):])
    return None


@lru_cache(maxsize=2048)
def parse_args(text: str, inputs: int = MAX_INPUTS) -> ast.Call:
    """``"in0, 1, dim=-1"`` -> the checked call node (raises :class:`ArgsError` naming the bad part)."""
    if not isinstance(text, str):
        raise ArgsError("arguments must be text")
    try:
        tree = ast.parse(f"f({text})", mode="eval")
    except SyntaxError as exc:
        raise ArgsError(f"arguments are not valid Python: {exc.msg}") from None
    call = tree.body
    if not isinstance(call, ast.Call) or not (isinstance(call.func, ast.Name) and call.func.id == "f"):
        raise ArgsError("arguments are not a plain argument list")
    for arg in call.args:
        if isinstance(arg, ast.Starred):
            _check_expr(arg.value, inputs, "arguments")
        else:
            _check_expr(arg, inputs, "arguments")
    for kw in call.keywords:
        if kw.arg is None:
            raise ArgsError("** is not allowed in arguments")
        _check_expr(kw.value, inputs, f"argument {kw.arg}")
    return call


class _Classes(ast.NodeTransformer):
    """Replaces ``torch.nn.X(...)`` calls in checked arguments by names bound to the resolved classes."""

    def __init__(self) -> None:
        self.bound: dict[str, type] = {}

    def visit_Call(self, node: ast.Call) -> ast.AST:  # noqa: N802 - ast API
        self.generic_visit(node)
        if _class_call(node):
            name = f"_cls{len(self.bound)}"
            self.bound[name] = resolve_class(ast.unparse(node.func))
            node.func = ast.Name(name, ast.Load())
        return node


@lru_cache(maxsize=2048)
def _compiled(text: str) -> tuple[Any, dict[str, type]]:
    call = parse_args(text)
    classes = _Classes()
    call = classes.visit(ast.parse(ast.unparse(call), mode="eval").body)
    body = ast.Expression(ast.Tuple([ast.List(call.args, ast.Load()),
                                      ast.Dict([ast.Constant(k.arg) for k in call.keywords],
                                               [k.value for k in call.keywords])], ast.Load()))
    ast.fix_missing_locations(body)
    return compile(body, "<arguments>", "eval"), classes.bound


_EVAL_GLOBALS = {"__builtins__": {}, "slice": slice, "float": float, "len": len, "torch": type("dtypes", (), _DTYPES)}


def evaluate_args(text: str, tensors: Sequence[Any]) -> tuple[list[Any], dict[str, Any]]:
    """(positional, keyword) values of checked argument text with ``inN`` bound to ``tensors``."""
    names = {f"{_NAME}{i}": t for i, t in enumerate(tensors)}
    code, classes = _compiled(text)
    return eval(code, {**_EVAL_GLOBALS, **classes}, names)  # noqa: S307 - the AST was checked above


def _swapped(text: str, names: Sequence[str]) -> ast.Call:
    """The parsed call with ``inN`` replaced by ``names[N]`` (and ``torch.nn.X`` written ``nn.X``)."""
    call = parse_args(text)

    class Swap(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:  # noqa: N802 - ast API
            index = _input_index(node.id)
            return ast.Name(names[index], ast.Load()) if index is not None else node

        def visit_Attribute(self, node: ast.Attribute) -> ast.AST:  # noqa: N802 - ast API
            text = ast.unparse(node)
            if text.startswith("torch.nn.") and text.count(".") == 2:  # torch.nn.X(...) argument -> nn.X(...)
                return ast.Attribute(ast.Name("nn", ast.Load()), node.attr, ast.Load())
            return self.generic_visit(node)

    return Swap().visit(ast.parse(ast.unparse(call), mode="eval").body)


def _rename(text: str, names: Sequence[str]) -> tuple[list[str], list[str]]:
    """Positional and keyword argument source with ``inN`` replaced by ``names[N]``."""
    call = _swapped(text, names)
    positional = [ast.unparse(a) for a in call.args]
    keywords = [f"{k.arg}={ast.unparse(k.value)}" for k in call.keywords]
    return positional, keywords


def _pick(value: Any, pick: str) -> tuple[Any, ...]:
    """Output values by index paths (``"0; 1.0"``): one per output port, the rest None."""
    picks = [p.strip() for p in pick.split(";")] if pick.strip() else [""]
    out = []
    for path in picks:
        item = value
        for part in filter(None, path.split(".")):
            item = item[int(part)]
        out.append(item)
    return tuple(out) + (None,) * (MAX_OUTPUTS - len(out))


def _check_pick(pick: str) -> str | None:
    parts = [p.strip() for p in pick.split(";")] if pick.strip() else [""]
    if len(parts) > MAX_OUTPUTS:
        return f"'pick' names {len(parts)} outputs; at most {MAX_OUTPUTS}"
    for part in parts:
        if part and not all(s.isdigit() for s in part.split(".")):
            return f"'pick' entry {part!r} is not an index path like 0 or 1.0"
    return None


# ----------------------------------------------------------------------------- generic module


def _class_of(params: Mapping[str, Any]) -> type:
    return resolve_class(params["cls"])


class _Picking:
    """Mixin for a built module: forward(*inputs) calls the real forward with the ``call`` text and picks outputs."""

    _nns_call = "in0"
    _nns_pick = ""

    def forward(self, *inputs: Any) -> Any:
        args, kwargs = evaluate_args(self._nns_call, inputs)
        if any(getattr(t, "is_meta", False) for t in inputs) and "is_causal" not in kwargs \
                and "is_causal" in inspect.signature(super().forward).parameters:  # type: ignore[misc]
            kwargs["is_causal"] = False  # shapes only: detecting a causal mask reads its values
        return _pick(super().forward(*args, **kwargs), self._nns_pick)  # type: ignore[misc]


@lru_cache(maxsize=256)
def _picking_class(cls: type) -> type:
    """A subclass of ``cls`` with a picking forward: same parameter names, same maths."""
    return type(cls.__name__, (_Picking, cls), {"__module__": cls.__module__, "__qualname__": cls.__qualname__})


def build_module(cls: str, args: str, call: str = "in0", pick: str = "") -> nn.Module:
    """The real module class with the node's arguments; forward takes the wired tensors in port order."""
    target = resolve_class(cls)
    positional, keywords = evaluate_args(args, ())
    module = _picking_class(target)(*positional, **keywords)
    module._nns_call = call
    module._nns_pick = pick
    return module


def _module_check(params: Mapping[str, Any]) -> str | None:
    try:
        resolve_class(params["cls"])
        parse_args(params["args"], 0)
        parse_args(params["call"])
    except ArgsError as exc:
        return str(exc)
    return _check_pick(params["pick"])


_IN_PORTS = tuple(PortSpec(f"in{i}", optional=i > 0, help=f"Tensor bound to in{i} in the call.")
                  for i in range(MAX_INPUTS))
_OUT_PORTS = (PortSpec("out", help="The (first) picked result."),
              *(PortSpec(f"out{i}", help=f"Picked result {i}.") for i in range(1, MAX_OUTPUTS)))

GENERIC_MODULE = NodeSpec(
    type_id="generic.module",
    title="PyTorch module",
    category="Generic",
    inputs=_IN_PORTS[:8],
    outputs=_OUT_PORTS,
    params=(
        ParamSpec("cls", "str", "torch.nn.LSTM", label="class",
                  help="A torch.nn or torchvision.ops class, e.g. torch.nn.PixelShuffle."),
        ParamSpec("args", "str", "input_size=8, hidden_size=8, batch_first=True", label="arguments",
                  help="Constructor arguments as Python literals, e.g. upscale_factor=3."),
        ParamSpec("call", "str", "in0", help="How forward is called: in0, in1 … are the wired tensors."),
        ParamSpec("pick", "str", "0; 1.0; 1.1; 0.0", help="Which parts of a tuple result go to the outputs, "
                                                          "e.g. 0; 1.0 (empty: the whole result)."),
    ),
    module=build_module,  # type: ignore[arg-type]
    export=ExportInfo("build_module", source_of=()),
    check=_module_check,
    description="Any torch.nn module by class name with literal constructor arguments (imported models use it "
                "where no dedicated node fits).",
    key_params=("cls", "args"),
    tags=("generic", "module", "torch.nn", "any", "import"),
)


def constructor_text(params: Mapping[str, Any]) -> tuple[str, list[str], list[str]]:
    """(class text, positional, keyword) source of a generic module's constructor: ``nn.PixelShuffle(3)``."""
    path = params["cls"]
    text = "nn." + path.removeprefix("torch.nn.") if path.startswith("torch.nn.") else path
    positional, keywords = _rename(params["args"], [])
    return text, positional, keywords


# ----------------------------------------------------------------------------- generic function


def call_function(*inputs: Any, fn: str, args: str, pick: str = "") -> Any:
    """Call ``fn`` with the argument text (``inN`` bound to the inputs) and pick the outputs."""
    target, is_method = resolve_function(fn)
    positional, keywords = evaluate_args(args, inputs)
    result = target(*positional, **keywords)
    return _pick(result, pick)


def _function_check(params: Mapping[str, Any]) -> str | None:
    try:
        resolve_function(params["fn"])
        parse_args(params["args"])
    except ArgsError as exc:
        return str(exc)
    return _check_pick(params["pick"])


GENERIC_FUNCTION = NodeSpec(
    type_id="generic.function",
    title="PyTorch function",
    category="Generic",
    inputs=tuple(PortSpec(p.name, optional=True, help=p.help) for p in _IN_PORTS),
    outputs=_OUT_PORTS,
    params=(
        ParamSpec("fn", "str", "torch.chunk", label="function",
                  help="torch.X, F.X (torch.nn.functional), operator.X or Tensor.X (a method; in0 is the tensor)."),
        ParamSpec("args", "str", "in0, 4, dim=-1", label="arguments",
                  help="Arguments as Python literals; in0, in1 … are the wired tensors, e.g. in0, 1, dim=-1."),
        ParamSpec("pick", "str", "0; 1; 2; 3", help="Which parts of a tuple result go to the outputs, e.g. 0; 1 "
                                                    "(empty: the whole result)."),
    ),
    function=call_function,
    export=ExportInfo("call_function", source_of=()),
    check=_function_check,
    description="Any torch function or tensor method with literal arguments (imported models use it where no "
                "dedicated node fits).",
    key_params=("fn", "args"),
    tags=("generic", "function", "torch", "method", "any", "import"),
)


def call_text(fn: str, args: str, names: Sequence[str]) -> str:
    """The call as a person writes it: ``torch.flatten(x, 1)``, ``x.view(x.size(0), -1)``, ``a + b``."""
    positional, keywords = _rename(args, names)
    space, _, name = fn.rpartition(".")
    if space == "Tensor" and positional:
        return f"{positional[0]}.{name}({', '.join(positional[1:] + keywords)})"
    symbol = _OPERATORS.get(fn)
    if symbol and len(positional) == 2 and not keywords:
        return f"{positional[0]} {symbol} {positional[1]}"
    if fn == "operator.getitem" and len(positional) == 2 and not keywords:
        return f"{positional[0]}[{_index_text(args, names)}]"
    if fn in EXTRA_FUNCTIONS:  # by its full path, so the export's `import torchvision` reaches it
        return f"{fn}({', '.join(positional + keywords)})"
    prefix = "F" if space in ("F", "torch.nn.functional") else space
    return f"{prefix}.{name}({', '.join(positional + keywords)})"


_OPERATORS = {"operator.add": "+", "operator.sub": "-", "operator.mul": "*", "operator.truediv": "/",
              "operator.floordiv": "//", "operator.matmul": "@", "operator.pow": "**", "operator.mod": "%"}


def _index_text(args: str, names: Sequence[str]) -> str:
    """``in0, (slice(None, None, None), 0)`` -> ``:, 0`` (tensors in sizes named as in the forward)."""
    index = _swapped(args, names).args[1]
    items = index.elts if isinstance(index, ast.Tuple) else [index]

    def one(item: ast.AST) -> str:
        if isinstance(item, ast.Call) and isinstance(item.func, ast.Name) and item.func.id == "slice":
            parts = [ast.unparse(a) if not (isinstance(a, ast.Constant) and a.value is None) else ""
                     for a in item.args]
            parts += [""] * (3 - len(parts))
            return f"{parts[0]}:{parts[1]}" + (f":{parts[2]}" if parts[2] else "")
        if isinstance(item, ast.Constant) and item.value is Ellipsis:
            return "..."
        return ast.unparse(item)
    return ", ".join(one(i) for i in items)


# ----------------------------------------------------------------------------- parameter




class Parameter(nn.Module):
    """A learned tensor used directly in forward (class token, position embedding, layer scale)."""

    def __init__(self, shape: Sequence[int], trainable: bool = True, dtype: str = "float32") -> None:
        super().__init__()
        value = torch.zeros(tuple(shape), dtype=getattr(torch, dtype))
        if trainable:
            self.value = nn.Parameter(value)
        else:
            self.register_buffer("value", value)

    def forward(self) -> torch.Tensor:
        return self.value


GENERIC_PARAMETER = NodeSpec(
    type_id="generic.parameter",
    title="Parameter",
    category="Generic",
    inputs=(),
    params=(
        ParamSpec("shape", "ints", [1], minimum=1, maximum=1 << 20, help="The tensor's full shape."),
        ParamSpec("trainable", "bool", True, help="A learned parameter (off: a buffer, saved but not trained)."),
        ParamSpec("dtype", "choice", "float32", choices=PARAMETER_DTYPES, help="Element type of the tensor."),
    ),
    module=Parameter,
    kwargs=lambda p: {"shape": list(p["shape"]), "trainable": p["trainable"], "dtype": p["dtype"]},
    export=ExportInfo("nn.Parameter"),  # the exporter writes the tensor itself at the node's path
    description="A learned tensor used directly in forward, such as a class token or a position embedding.",
    key_params=("shape",),
    tags=("parameter", "buffer", "token", "embedding", "scale", "generic"),
)

SPECS = [GENERIC_MODULE, GENERIC_FUNCTION, GENERIC_PARAMETER]


def module_call_text(params: Mapping[str, Any], callee: str, names: Sequence[str]) -> str:
    """A generic module's call as a person writes it: ``self.rnn(x, (h, c))``."""
    positional, keywords = _rename(params["call"], names)
    return f"{callee}({', '.join(positional + keywords)})"


def pick_paths(params: Mapping[str, Any]) -> list[str]:
    """The tuple index path per output port (``["0", "1.0"]``; ``[""]`` = the whole result on ``out``)."""
    pick = params.get("pick", "")
    return [p.strip() for p in pick.split(";")] if pick.strip() else [""]
