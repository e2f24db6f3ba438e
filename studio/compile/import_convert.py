"""One traced fx graph -> nodes: dedicated nodes first, then the generic nodes, opaque only when nothing fits.

Values flowing through the fx graph are tracked as :class:`Val`: a tensor on a node's port, a
tuple result whose parts went to ports (``picks``), a *size expression* over tensors
(``x.size(0)``, ``x.shape[-2:]``, ``c // 2``: kept symbolic and written into the arguments of
the generic call that uses it, so the graph stays exact for any input size), or a literal.
"""

from __future__ import annotations

import builtins
import inspect
import operator
import re
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx
from torch import nn

from studio.compile.imports_table import FunctionMatch, match_function
from studio.compile.leaf_mapping import LeafMapper, ModuleArg, generic_arguments
from studio.core.model import identifier
from studio.core.spec import validate_params

Ref = tuple[str, str]
_NOTHING = object()
META_ATTRS = frozenset({"shape", "dtype", "device", "ndim", "is_cuda"})
META_METHODS = frozenset({"size", "dim", "numel"})
_SYMBOLS = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.floordiv: "//",
            operator.truediv: "/", operator.mod: "%", operator.pow: "**", operator.eq: "==", operator.ne: "!=",
            operator.lt: "<", operator.le: "<=", operator.gt: ">", operator.ge: ">="}


@dataclass
class Val:
    """What an fx value became in the new graph."""

    ref: Ref | None = None
    #: dedicated multi-output nodes: port per tuple index ("<state>" = not representable)
    ports: tuple[Ref, ...] | None = None
    #: a generic node's tuple result: index path ("1.0") -> port; prefix = the path reached so far
    picks: dict[str, Ref] | None = None
    prefix: str = ""
    #: a size expression: text with §i§ for the i-th tensor in expr_refs
    expr: str | None = None
    expr_refs: list[Ref] = field(default_factory=list)
    literal: Any = _NOTHING
    batch_of: Any = None
    shape_of: Any = None


class NotLiteral(ValueError):
    """A call argument that cannot be written as literal text (says which)."""


class ArgText:
    """Writes call arguments as text; tensors become ``in0``, ``in1``, … (or §i§ for size expressions)."""

    def __init__(self, env: dict[torch.fx.Node, Val], slot: str = "in{}") -> None:
        self.env = env
        self.slot_format = slot
        self.slots: list[Ref] = []

    def slot(self, ref: Ref) -> str:
        if ref not in self.slots:
            self.slots.append(ref)
        return self.slot_format.format(self.slots.index(ref))

    def text(self, value: Any) -> str:
        if isinstance(value, torch.fx.Node):
            val = self.env.get(value)
            if val is None:
                raise NotLiteral(f"{value.name} is not available")
            if val.ref is not None:
                return self.slot(val.ref)
            if val.expr is not None:
                return re.sub(r"§(\d+)§", lambda m: self.slot(val.expr_refs[int(m.group(1))]), val.expr)
            if val.literal is not _NOTHING:
                return self.text(val.literal)
            if val.picks is not None:
                return self._tuple_text(val.picks, val.prefix)
            raise NotLiteral(f"{value.name} is not a single tensor or a size")
        if value is None or value is Ellipsis or type(value) in (bool, int, str):
            return "..." if value is Ellipsis else repr(value)
        if type(value) is float:
            return repr(value) if value == value and abs(value) != float("inf") else f"float({str(value)!r})"
        if isinstance(value, torch.Size):
            value = tuple(value)
        if isinstance(value, tuple):
            items = [self.text(v) for v in value]
            return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
        if isinstance(value, list):
            return "[" + ", ".join(self.text(v) for v in value) + "]"
        if isinstance(value, dict) and all(type(k) is str for k in value):
            return "{" + ", ".join(f"{k!r}: {self.text(v)}" for k, v in value.items()) + "}"
        if isinstance(value, slice):
            return f"slice({self.text(value.start)}, {self.text(value.stop)}, {self.text(value.step)})"
        if isinstance(value, torch.dtype):
            return "torch." + str(value).removeprefix("torch.")
        if isinstance(value, torch.device):
            return repr(str(value))
        if isinstance(value, ModuleArg):
            return f"{value.path}({ArgText({}).call((), value.kwargs)})"
        raise NotLiteral(f"a {type(value).__name__} argument cannot be written as a literal")

    def _tuple_text(self, picks: dict[str, Ref], prefix: str) -> str:
        """A tuple result (or tuple input) passed on whole: ``(in1, in2)``, nested as it was."""
        start = prefix + "." if prefix else ""
        items: list[str] = []
        i = 0
        while True:
            path = f"{start}{i}"
            if path in picks:
                items.append(self.slot(picks[path]))
            elif any(p.startswith(path + ".") for p in picks):
                items.append(self._tuple_text(picks, path))
            else:
                break
            i += 1
        if not items or any(p.startswith(start) and not _covered(p, start, i) for p in picks):
            raise NotLiteral("a tuple whose parts are not all tensors")
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"

    def index(self, value: Any) -> str:
        """Subscript text: ``-2:``, ``:, 0``, ``...``."""
        items = value if isinstance(value, tuple) else (value,)

        def one(item: Any) -> str:
            if isinstance(item, slice):
                parts = ["" if p is None else self.text(p) for p in (item.start, item.stop, item.step)]
                return f"{parts[0]}:{parts[1]}" + (f":{parts[2]}" if parts[2] else "")
            return self.text(item)
        text = ", ".join(one(i) for i in items)
        return text + "," if isinstance(value, tuple) and len(value) == 1 else text

    def call(self, args: tuple, kwargs: dict) -> str:
        parts = [self.text(a) for a in args] + [f"{k}={self.text(v)}" for k, v in kwargs.items()]
        return ", ".join(parts)


def _covered(path: str, start: str, count: int) -> bool:
    head = path[len(start):].split(".")[0]
    return head.isdigit() and int(head) < count


#: known tuple results: a part used whole that is itself a tuple of tensors (LSTM's (h, c))
_NESTED = {nn.LSTM: {"1": ("1.0", "1.1")}}


def _tuple_paths(fxn: torch.fx.Node, prefix: str = "") -> dict[str, torch.fx.Node] | None:
    """Index paths of a tuple result's parts that are used ("0", "1.0"), or None when used as a whole."""
    if not fxn.users:
        return {}
    out: dict[str, torch.fx.Node] = {}
    for user in fxn.users:
        if not (user.op == "call_function" and user.target is operator.getitem and user.args[0] is fxn
                and isinstance(user.args[1], int)):
            return None
        path = f"{prefix}.{user.args[1]}" if prefix else str(user.args[1])
        inner = _tuple_paths(user, path)
        if inner is None:
            out[path] = user
        else:
            out.update(inner)
    return out


def group_of(path: str) -> str | None:
    """Parent module path of a dotted module/attribute path (the node's group), or None at the top."""
    parent = path.rpartition(".")[0]
    return parent or None


def caller_path(fxn: torch.fx.Node) -> str | None:
    """Dotted path of the module whose forward made this call (from fx's module stack)."""
    stack = fxn.meta.get("nn_module_stack") or {}
    if not stack:
        return None
    path = list(stack.values())[-1]
    path = path[0] if isinstance(path, tuple) else path
    return path if isinstance(path, str) and path else None


class Converter:
    """Turns each fx node into graph nodes through the builder (see :mod:`studio.compile.importer`)."""

    def __init__(self, builder: Any, mapper: LeafMapper, root: nn.Module, opaque_modules: dict[str, str]) -> None:
        self.b = builder
        self.mapper = mapper
        self.root = root
        self.opaque_modules = opaque_modules
        self.env: dict[torch.fx.Node, Val] = {}
        self.params: dict[str, Ref] = {}

    # -- helpers ------------------------------------------------------------------------------
    def refs(self, args: Any) -> list[Ref]:
        """Every tensor a call consumes (for an opaque node's wires)."""
        out: list[Ref] = []
        if isinstance(args, tuple | list):
            for item in args:
                out.extend(self.refs(item))
        elif isinstance(args, dict):
            for item in args.values():
                out.extend(self.refs(item))
        elif isinstance(args, torch.fx.Node) and args in self.env:
            val = self.env[args]
            if val.ref is not None:
                out.append(val.ref)
            elif val.picks is not None:
                start = val.prefix + "." if val.prefix else ""
                out.extend(r for p, r in val.picks.items() if p.startswith(start))
            elif val.ports:
                out.extend(p for p in val.ports if p[1] != "<state>")
            out.extend(val.expr_refs)
        return list(dict.fromkeys(out))

    def opaque(self, fxn: torch.fx.Node, name: str, what: str, reason: str, group: str | None) -> None:
        node = self.b.opaque(name, what, reason, self.refs((fxn.args, fxn.kwargs)), group)
        self.env[fxn] = Val(ref=(node.id, "out"))
        self.b.report.origin[node.id] = name

    def _outputs(self, fxn: torch.fx.Node, node_id: str, nested: dict[str, tuple[str, ...]] | None = None
                 ) -> tuple[str, dict[str, str]] | None:
        """The ``pick`` text for a generic node and the env entries for its users; None if > 4 parts."""
        paths = _tuple_paths(fxn)
        if paths is None or not paths:
            self.env[fxn] = Val(ref=(node_id, "out"))
            return "", {}
        expanded: list[str] = []
        for path in paths:
            expanded.extend((nested or {}).get(path, (path,)))
        if len(expanded) > 4:
            return None
        ports = {path: (node_id, "out" if i == 0 else f"out{i}") for i, path in enumerate(expanded)}
        self.env[fxn] = Val(picks=ports)
        return "; ".join(expanded), {}

    # -- modules ------------------------------------------------------------------------------
    def module_call(self, fxn: torch.fx.Node) -> None:
        target = str(fxn.target)
        sub = self.root.get_submodule(target)
        group = group_of(target)
        what = f"{type(sub).__module__}.{type(sub).__name__}"
        if target in self.opaque_modules:
            self.opaque(fxn, target, what, self.opaque_modules[target], group)
            return
        mapped = self.mapper.map(sub) if self.mapper.is_mappable(sub) else f"no node for {type(sub).__name__}"
        # a dedicated node that wraps the torch class (nn.LSTM inside RecurrentLayer) would rename its weights
        # ("rnn.weight_ih_l0"): the generic node keeps the original state_dict keys, so it wins there
        wraps = not isinstance(mapped, str) and bool(mapped[2])
        if not isinstance(mapped, str) and not wraps and self._dedicated_module(fxn, sub, mapped, group):
            return
        reason = self._generic_module(fxn, sub, group)
        if reason and wraps and self._dedicated_module(fxn, sub, mapped, group):
            return
        if reason:
            self.opaque(fxn, target, what, reason, group)

    def _dedicated_module(self, fxn: torch.fx.Node, sub: nn.Module, mapped: tuple, group: str | None) -> bool:
        spec, params, prefix = mapped
        args = [self.env.get(a) if isinstance(a, torch.fx.Node) else a for a in fxn.args]
        refs = [a.ref if isinstance(a, Val) else None for a in args]
        if any(k != "need_weights" for k in fxn.kwargs) or any(r is None for r in refs) \
                or len(refs) > len(spec.inputs):
            return False
        if prefix and isinstance(sub, nn.RNNBase):
            paths = _tuple_paths(fxn)
            if paths is None or any(p != "0" for p in paths):
                return False  # the hidden state is used: the generic node keeps every part
        node = self.b.add(spec.type_id, str(fxn.target), params, group)
        for port, ref in zip(spec.inputs, refs, strict=False):
            self.b.wire(ref, node.id, port.name)
        self._weights(node.id, str(fxn.target), sub, prefix)
        ports = tuple((node.id, p.name) for p in spec.outputs)
        if prefix and isinstance(sub, nn.RNNBase):
            self.env[fxn] = Val(ports=((node.id, "out"), (node.id, "<state>")))
        elif len(ports) == 1:
            self.env[fxn] = Val(ref=ports[0])
        else:
            self.env[fxn] = Val(ports=ports)
        return True

    def _generic_module(self, fxn: torch.fx.Node, sub: nn.Module, group: str | None) -> str:
        from studio.core.torch_names import MAX_INPUTS, class_path

        kwargs = generic_arguments(sub)
        if isinstance(kwargs, str):
            return kwargs
        writer = ArgText(self.env)
        try:
            call = writer.call(fxn.args, fxn.kwargs)
            ctor = ArgText({}).call((), kwargs)
        except NotLiteral as exc:
            return f"{type(sub).__name__} is called with {exc}"
        if len(writer.slots) > min(8, MAX_INPUTS):
            return f"{type(sub).__name__} is called with more than 8 tensors"
        node = self.b.add("generic.module", str(fxn.target),
                          {"cls": class_path(type(sub)), "args": ctor, "call": call, "pick": ""}, group)
        picked = self._outputs(fxn, node.id, _NESTED.get(type(sub)))
        if picked is None:
            self.b.remove(node.id)
            return f"{type(sub).__name__} returns more than 4 results that are used"
        node.params["pick"] = picked[0]
        for i, ref in enumerate(writer.slots):
            self.b.wire(ref, node.id, f"in{i}")
        self._weights(node.id, str(fxn.target), sub, "")
        return ""

    def _weights(self, node_id: str, target: str, sub: nn.Module, prefix: str) -> None:
        report = self.b.report
        report.mapped += 1
        shared = target in report.origin.values()
        report.origin[node_id] = target
        report.weights[node_id] = {prefix + k: v.detach() for k, v in sub.state_dict().items()}
        params = list(sub.parameters())
        if params and not any(p.requires_grad for p in params):
            report.frozen.append(node_id)
        elif any(not p.requires_grad for p in params):
            report.notes.append(f"{target}: some of its parameters are frozen and some are not; "
                                "the node is trainable as a whole")
        if shared and report.weights[node_id]:
            report.notes.append(f"{target} is called more than once; each call became its own node with a copy "
                                "of the weights (they are no longer shared)")

    # -- parameters used directly -----------------------------------------------------------------
    def get_attr(self, fxn: torch.fx.Node) -> None:
        target = str(fxn.target)
        if not fxn.users:  # fx records attribute reads made while deciding leaves; unused ones are not data
            self.env[fxn] = Val()
            return
        if target in self.params:
            self.env[fxn] = Val(ref=self.params[target])
            return
        value: Any = self.root
        for part in target.split("."):
            value = getattr(value, part)
        if not isinstance(value, torch.Tensor):
            self.env[fxn] = Val(literal=value) if _plain(value) else Val()
            return
        from studio.core.torch_names import PARAMETER_DTYPES

        if target.startswith("_tensor_constant") and value.numel() <= 256 and not value.is_complex():
            return self._constant(fxn, value)
        trainable = isinstance(value, nn.Parameter)
        dtype = str(value.dtype).removeprefix("torch.")
        if dtype not in PARAMETER_DTYPES:
            self.opaque(fxn, identifier(target, "param"), "tensor", f"{target} has dtype {dtype}", group_of(target))
            return
        node = self.b.add("generic.parameter", target, {"shape": list(value.shape), "trainable": trainable,
                                                        "dtype": dtype}, group_of(target))
        self.b.report.mapped += 1
        self.b.report.origin[node.id] = target
        self.b.report.weights[node.id] = {"value": value.detach()}
        if trainable and not value.requires_grad:
            self.b.report.frozen.append(node.id)
        self.params[target] = (node.id, "out")
        self.env[fxn] = Val(ref=(node.id, "out"))

    def _constant(self, fxn: torch.fx.Node, value: torch.Tensor) -> None:
        """A small tensor made in forward from plain numbers (a mask for the traced length): written out."""
        args = f"{ArgText({}).text(value.tolist())}, dtype={ArgText({}).text(value.dtype)}"
        node = self.b.add("generic.function", identifier(fxn.name, "const"),
                          {"fn": "torch.tensor", "args": args, "pick": ""}, caller_path(fxn))
        self.b.report.mapped += 1
        self.b.report.origin[node.id] = fxn.name
        self.env[fxn] = Val(ref=(node.id, "out"))

    # -- functions and methods ------------------------------------------------------------------
    def function_call(self, fxn: torch.fx.Node) -> None:
        target = fxn.target
        if target is operator.getitem and isinstance(fxn.args[0], torch.fx.Node) and self._pick(fxn):
            return
        if self._size_expression(fxn):
            return
        if not fxn.users:
            if target is torch._assert:
                self.b.report.notes.append(f"{fxn.name}: a shape check in forward() is not part of the graph")
            self.env[fxn] = Val()
            return
        group = caller_path(fxn)
        what = target if isinstance(target, str) else getattr(target, "__name__", str(target))
        match: FunctionMatch | str = match_function(fxn, self.env)
        if not isinstance(match, str):
            spec = self.b.registry.find(match.type_id)
            if spec is not None and not validate_params(spec, match.params):
                node = self.b.add(spec.type_id, identifier(fxn.name, "op"), match.params, group)
                for port, arg in zip(spec.inputs, match.inputs, strict=False):
                    self.b.wire(self.env[arg].ref, node.id, port.name)
                self.b.report.mapped += 1
                self.b.report.origin[node.id] = fxn.name
                self.env[fxn] = Val(ref=(node.id, spec.outputs[0].name))
                return
        reason = self._generic_function(fxn, group)
        if reason:
            self.opaque(fxn, identifier(fxn.name, "op"), str(what), reason, group)

    def _pick(self, fxn: torch.fx.Node) -> bool:
        source = self.env.get(fxn.args[0])
        index = fxn.args[1]
        if source is None or not isinstance(index, int):
            return False
        if source.ports is not None:
            if 0 <= index < len(source.ports) and source.ports[index][1] != "<state>":
                self.env[fxn] = Val(ref=source.ports[index])
                return True
            return False
        if source.picks is not None:
            path = f"{source.prefix}.{index}" if source.prefix else str(index)
            self.env[fxn] = Val(ref=source.picks[path]) if path in source.picks else \
                Val(picks=source.picks, prefix=path)
            return True
        return False

    def _size_expression(self, fxn: torch.fx.Node) -> bool:
        """Sizes and arithmetic on sizes stay symbolic: they become text inside the call that uses them."""
        target, args = fxn.target, fxn.args
        inputs = fxn.all_input_nodes
        writer = ArgText(self.env, "§{}§")
        try:
            if fxn.op == "call_function" and target is getattr and args[1] in META_ATTRS:
                text = f"{writer.text(args[0])}.{args[1]}"
            elif fxn.op == "call_method" and target in META_METHODS and not fxn.kwargs:
                text = f"{writer.text(args[0])}.{target}({', '.join(writer.text(a) for a in args[1:])})"
            elif fxn.op == "call_function" and target is builtins.len:
                text = f"len({writer.text(args[0])})"
            elif fxn.op == "call_function" and inputs and all(self.env.get(n, Val()).expr is not None
                                                              or self.env.get(n, Val()).literal is not _NOTHING
                                                              for n in inputs):
                if target in _SYMBOLS and len(args) == 2 and not fxn.kwargs:
                    text = f"({writer.text(args[0])} {_SYMBOLS[target]} {writer.text(args[1])})"
                elif target is operator.getitem:
                    base = writer.text(args[0])
                    if base.endswith(".size()") and type(args[1]) is int:  # x.size()[1] -> x.size(1)
                        text = f"{base[:-1]}{args[1]})"
                    else:
                        text = f"{base}[{writer.index(args[1])}]"
                elif target is operator.neg:
                    text = f"(-{writer.text(args[0])})"
                else:
                    return False
            else:
                return False
        except NotLiteral:
            return False
        val = Val(expr=text, expr_refs=list(writer.slots))
        if fxn.op == "call_method" and target == "size" and len(args) == 2 and args[1] == 0:
            val.batch_of = args[0]
        if target is getattr and args[1] == "shape":
            val.shape_of = args[0]
        if target is operator.getitem and isinstance(args[0], torch.fx.Node) and args[1] == 0:
            shape_of = self.env[args[0]].shape_of
            val.batch_of = shape_of
        self.env[fxn] = val
        return True

    def _generic_function(self, fxn: torch.fx.Node, group: str | None) -> str:
        from studio.core.torch_names import MAX_INPUTS, function_path

        path = function_path(fxn.target) if fxn.op in ("call_function", "call_method") else None
        name = fxn.target if isinstance(fxn.target, str) else getattr(fxn.target, "__name__", str(fxn.target))
        if path is None:
            return f"{name} is not a torch, torch.nn.functional, operator or Tensor function"
        writer = ArgText(self.env)
        try:
            call_args, call_kwargs = self._split_cat(fxn, group)
            args = writer.call(call_args, _without_defaults(fxn.target, call_kwargs))
        except NotLiteral as exc:
            return f"{name}() is called with {exc}"
        if len(writer.slots) > MAX_INPUTS:
            return f"{name}() uses more than {MAX_INPUTS} tensors"
        node = self.b.add("generic.function", identifier(fxn.name, "op"), {"fn": path, "args": args, "pick": ""},
                          group)
        picked = self._outputs(fxn, node.id)
        if picked is None:
            self.b.remove(node.id)
            return f"{name}() returns more than 4 results that are used"
        node.params["pick"] = picked[0]
        for i, ref in enumerate(writer.slots):
            self.b.wire(ref, node.id, f"in{i}")
        self.b.report.mapped += 1
        self.b.report.origin[node.id] = fxn.name
        return ""


    def _split_cat(self, fxn: torch.fx.Node, group: str | None) -> tuple[tuple, dict]:
        """torch.cat of more tensors than a node has inputs: joined in runs (a copy, so exactly equal)."""
        from studio.core.torch_names import MAX_INPUTS

        args, kwargs = fxn.args, dict(fxn.kwargs)
        if fxn.target not in (torch.cat, torch.concat) or not args or not isinstance(args[0], list | tuple) \
                or len(args[0]) <= MAX_INPUTS:
            return args, kwargs
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        rest = list(args[0])
        runs = 0
        while len(rest) > MAX_INPUTS:
            writer = ArgText(self.env)
            text = writer.call(([*rest[:MAX_INPUTS]],), {"dim": dim})
            node = self.b.add("generic.function", identifier(f"{fxn.name}_part{runs}", "op"),
                              {"fn": "torch.cat", "args": text, "pick": ""}, group)
            for i, ref in enumerate(writer.slots):
                self.b.wire(ref, node.id, f"in{i}")
            self.b.report.mapped += 1
            part = torch.fx.Node(fxn.graph, f"{fxn.name}_part{runs}", "call_function", torch.cat, (), {})
            self.env[part] = Val(ref=(node.id, "out"))
            rest = [part, *rest[MAX_INPUTS:]]
            runs += 1
        return (rest, *args[1:]), kwargs


def _without_defaults(target: Any, kwargs: dict) -> dict:
    """Keyword arguments that differ from the function's defaults (fx records F.interpolate's every one)."""
    if not kwargs or isinstance(target, str):
        return kwargs
    try:
        params = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return kwargs
    out = {}
    for key, value in kwargs.items():
        default = params[key].default if key in params else inspect.Parameter.empty
        if default is inspect.Parameter.empty or isinstance(value, torch.fx.Node) or type(value) is not type(default) \
                or value != default:
            out[key] = value
    return out


def _plain(value: Any) -> bool:
    return value is None or type(value) in (bool, int, float, str)

