"""Source text of an export's classes, written the way a person writes PyTorch.

Constructor arguments equal to the class default are left out and uniform tuples become one
number (``padding=(1, 1)`` -> ``padding=1``) only when building both on the meta device gives
modules with identical attributes; leading required arguments are positional
(``nn.Conv2d(64, 128, 3, stride=2, padding=1, bias=False)``). Values still come only from
:func:`literal`, names only from the plan or the registry, so the safety rules of
:mod:`studio.compile.exporter` hold unchanged.
"""

from __future__ import annotations

import functools
import inspect
import keyword
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.compile.export_blocks import Box, ClassDef, Structure, statements, value_key
from studio.compile.plan import CompileError, Namer, Plan, Step, ValueRef
from studio.core.model import identifier

LINE = 100
_MISSING = inspect.Parameter.empty


class RenderError(CompileError):
    """A value or argument name that cannot be written as code; names the node."""


@dataclass
class Call:
    """``callee(args)``: args are source texts or nested calls (laid out one per line when long)."""

    callee: str
    args: list[Any] = field(default_factory=list)
    open: str = "("
    close: str = ")"

    def flat(self) -> str:
        inner = ", ".join(a.flat() if isinstance(a, Call) else a for a in self.args)
        return f"{self.callee}{self.open}{inner}{self.close}"


def render(call: Call | str, indent: str, prefix: str = "", suffix: str = "") -> list[str]:
    text = call.flat() if isinstance(call, Call) else call
    if isinstance(call, str) or len(indent) + len(prefix) + len(text) + len(suffix) <= LINE or not call.args:
        return [f"{indent}{prefix}{text}{suffix}"]
    lines = [f"{indent}{prefix}{call.callee}{call.open}"]
    for arg in call.args:
        lines.extend(render(arg, indent + "    ", "", ","))
    lines.append(f"{indent}{call.close}{suffix}")
    return lines


# ----------------------------------------------------------------------------- arguments


def _same(a: Any, b: Any) -> bool:
    return value_key(a) == value_key(b)


_FINGERPRINTS: dict[tuple, str | None] = {}


def _fingerprint(cls: type, kwargs: dict[str, Any]) -> str | None:
    """What a module built with ``kwargs`` is (repr, public attributes, state shapes); None if it fails."""
    key = (cls, value_key(sorted(kwargs.items())))
    if key in _FINGERPRINTS:
        return _FINGERPRINTS[key]
    import torch

    from studio.core.buildctx import building_for_shapes

    try:
        with building_for_shapes(), torch.device("meta"):
            module = cls(**kwargs)
        public = sorted((k, repr(v)) for k, v in vars(module).items() if not k.startswith("_"))
        shapes = sorted((k, tuple(v.shape)) for k, v in module.state_dict().items())
        result: str | None = repr((repr(module), public, shapes))
    except Exception:  # a variant the class refuses is simply not equivalent
        result = None
    if len(_FINGERPRINTS) > 4096:
        _FINGERPRINTS.clear()
    _FINGERPRINTS[key] = result
    return result


def _signature(target: Any, qual: str) -> inspect.Signature | None:
    """The signature behind ``qual`` when ``qual`` names ``target`` itself (no wrapper in between)."""
    name = getattr(target, "__name__", None)
    if not name or qual.rsplit(".", 1)[-1] != name:
        return None
    return _cached_signature(target)


@functools.lru_cache(maxsize=1024)
def _cached_signature(target: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):
        return None


@dataclass
class Arg:
    name: str
    text: str | None = None  # a parameter name or a literal: written as is
    value: Any = None  # a constant (simplified before writing)
    constant: bool = True


def arguments(step: Step, qual: str, args: list[Arg], variants: list[dict[str, Any]],
              literal: Callable[[Any], str]) -> list[str]:
    """Argument texts for a constructor or function call, defaults left out (see module docstring)."""
    target = step.spec.module if step.kind == "module" else step.spec.function
    sig = _signature(target, qual)
    params = dict(sig.parameters) if sig is not None else {}
    is_class = isinstance(target, type)
    texts: dict[str, str] = {}
    for arg in args:
        if not isinstance(arg.name, str) or not arg.name.isidentifier() or keyword.iskeyword(arg.name):
            raise RenderError(f"{step.node_name}: {step.spec.title} has an invalid argument name", step.node_id)
        if not arg.constant:
            texts[arg.name] = arg.text or ""
            continue
        value = arg.value
        default = params[arg.name].default if arg.name in params else _MISSING
        if default is not _MISSING and _same(value, default):
            continue
        if is_class and isinstance(value, tuple | list) and len(value) > 1 and type(value[0]) is int \
                and all(_same(v, value[0]) for v in value):
            scalar = value[0]
            if all(_fingerprint(target, v) is not None
                   and _fingerprint(target, v) == _fingerprint(target, {**v, arg.name: scalar}) for v in variants):
                if default is not _MISSING and _same(scalar, default):
                    continue
                value = scalar
        try:
            texts[arg.name] = literal(value)
        except TypeError as exc:
            raise RenderError(f"{step.node_name}: parameter {arg.name!r}: {exc}", step.node_id) from exc
    out: list[str] = []
    for name, p in params.items():  # leading required arguments go by position, as people write them
        if p.kind is not p.POSITIONAL_OR_KEYWORD or p.default is not _MISSING or name not in texts:
            break
        out.append(texts.pop(name))
    return out + [f"{k}={v}" for k, v in texts.items()]


# ----------------------------------------------------------------------------- classes


@dataclass
class Context:
    """What rendering needs from the exporter: names of layers, literals, shapes."""

    plan: Plan
    structure: Structure
    qualname: Callable[[Step], str]
    literal: Callable[[Any], str]
    reserved: set[str]


def _digits(name: str) -> bool:
    return name.isascii() and name.isdigit()


def _quoted(name: str) -> bool:
    """A submodule name that is no identifier (``0``, ``block1-0``): reached with getattr / add_module."""
    return not name.isidentifier()


def access(ctx: Context, base: tuple[str, ...], path: tuple[str, ...]) -> str:
    """``self.layer1[0].conv1``-style expression for a submodule below ``base``."""
    expr, cur = "self", base
    for part in path[len(base):]:
        if _quoted(part):
            parent = ctx.structure.boxes[cur]
            expr = f"{expr}[{part}]" if _digits(part) and parent.kind in ("list", "seq") \
                else f"getattr({expr}, {ctx.literal(part)})"
        else:
            expr = f"{expr}.{part}"
        cur = (*cur, part)
    return expr


class _Slots:
    """Walks a template box's slots in :func:`describe` order, giving each its text."""

    def __init__(self, ctx: Context, box: Box, cls: ClassDef | None) -> None:
        self.ctx, self.box, self.cls, self.next = ctx, box, cls, 0
        self.instances = cls.instances if cls is not None else [box]

    def take(self) -> int:
        self.next += 1
        return self.next - 1

    def is_param(self, j: int) -> bool:
        return self.cls is not None and self.cls.slot_param[j] is not None

    def text(self, j: int) -> str:
        if self.is_param(j):
            assert self.cls is not None
            return self.cls.param_names[self.cls.slot_param[j]]  # type: ignore[index]
        return self.ctx.literal(self.box.values[j])

    def ctor(self, child: Box | Step) -> Call:
        ctx = self.ctx
        if isinstance(child, Step):
            generic = generic_constructor(child)
            if generic is not None:  # its values are part of the class structure, not slots
                return generic
            qual = ctx.qualname(child)
            slots = [(k, self.take()) for k in child.kwargs]
            args = [Arg(k, self.text(j) if self.is_param(j) else None, self.box.values[j], not self.is_param(j))
                    for k, j in slots]
            variants = []
            for inst in self.instances[:8]:
                variant = {k: inst.values[j] for k, j in slots}
                if all(not _same(variant, v) for v in variants):
                    variants.append(variant)
            return Call(qual, arguments(child, qual, args, variants, ctx.literal))
        if child.kind == "block":
            assert child.cls is not None
            offset = self.next
            self.next += len(child.values)
            return Call(child.cls.name, [self.text(offset + s) for s in child.cls.param_slots])
        items = [self.ctor(c) for c in child.children]
        if child.kind == "seq":
            return Call("nn.Sequential", items)
        return Call("nn.ModuleList", [Call("", items, "[", "]")])


def _init_lines(slots: _Slots, owner: str, children: list[Box | Step], indent: str) -> list[str]:
    lines: list[str] = []
    for child in children:
        name = child.path[-1]
        prefix, suffix = (f"{owner}.add_module({slots.ctx.literal(name)}, ", ")") if _quoted(name) \
            else (f"{owner}.{name} = ", "")
        if isinstance(child, Step) and child.spec.type_id == GENERIC_PARAMETER:
            if child.resolved.get("trainable", True):  # a parameter at the node's own path
                if _quoted(name):
                    prefix = f"{owner}.register_parameter({slots.ctx.literal(name)}, "
                lines.extend(render(slots.ctor(child), indent, prefix, suffix))
            else:  # a buffer: saved with the weights, never trained
                lines.extend(render(parameter_tensor(child), indent,
                                    f"{owner}.register_buffer({slots.ctx.literal(name)}, ", ")"))
            continue
        if isinstance(child, Box) and child.kind == "holder":
            lines.extend(render("nn.Module()", indent, prefix, suffix))
            inner = f"getattr({owner}, {slots.ctx.literal(name)})" if _quoted(name) else f"{owner}.{name}"
            lines.extend(_init_lines(slots, inner, child.children, indent))
        else:
            lines.extend(render(slots.ctor(child), indent, prefix, suffix))
    return lines


def _last_uses(items: list[tuple[str, Any]], outputs: list[ValueRef]) -> dict[ValueRef, int]:
    last: dict[ValueRef, int] = {}
    for i, (kind, item) in enumerate(items):
        for ref in (item.inputs if kind == "unit" else item.args):
            if ref is not None:
                last[ref] = i
    for ref in outputs:
        last[ref] = len(items)
    return last


def forward_lines(ctx: Context, box: Box, input_names: list[str], names: dict[ValueRef, str] | None,
                  indent: str) -> tuple[list[str], list[str], list[tuple[str, Any, list[ValueRef]]]]:
    """Forward body lines, the returned names, and (callee text, item, output refs) per statement.

    ``names`` given (the root): values keep the plan's names (one per node, as on the canvas);
    otherwise a value takes over the name of the argument it replaces when that dies here
    (``x = self.conv1(x)``), else a fresh ``out``.
    """
    plan = ctx.plan
    items = list(statements(ctx.structure, box))
    namer = Namer(ctx.reserved)
    local: dict[ValueRef, str] = {}
    for ref, name in zip(box.inputs, input_names, strict=True):
        local[ref] = name
        namer.taken.add(name)
    if names is not None:
        namer.taken |= set(names.values())
    last = _last_uses(items, box.outputs)
    lines: list[str] = []
    table: list[tuple[str, Any, list[ValueRef]]] = []
    if names is not None:  # the root: graph inputs are read by node
        for ref in {r for _, it in items for r in (it.inputs if isinstance(it, Box) else it.args) if r is not None}:
            if ref not in names and ref not in local:
                local[ref] = plan.var(ref)
        for _, _, ref in plan.outputs:
            local.setdefault(ref, names.get(ref) or plan.var(ref))
    for i, (kind, item) in enumerate(items):
        if kind == "unit":
            refs, arg_refs = list(item.outputs), list(item.inputs)
            callee = access(ctx, box.path, item.path)
            call_args = [local[r] for r in arg_refs]
            base = item.path[-1] if not _quoted(item.path[-1]) else identifier("_".join(item.path[-2:]), "block")
        else:
            step: Step = item
            refs = [ValueRef(step.node_id, p) for p in step.out_vars]
            arg_refs = [r for r in step.args if r is not None]
            call_args = [local[r] if r is not None else "None" for r in step.args]
            base = "out"
            if step.kind == "module":
                callee = access(ctx, box.path, step.path)
            else:
                callee = ctx.qualname(step)
                call_args += arguments(step, callee, [Arg(k, None, v) for k, v in step.kwargs.items()],
                                       [dict(step.kwargs)], ctx.literal)
        expr = generic_expression(item, callee, call_args) if kind == "step" else None
        picks: list[str] = []
        if expr is not None:
            expr, picks = expr
            refs = refs[:max(1, len(picks))]  # ports past the picks are always None
            for ref in [ValueRef(item.node_id, p) for p in item.out_vars][len(refs):]:
                local[ref] = "None"
        outs = []
        for port_index, ref in enumerate(refs):
            if names is not None and ref in names and kind != "unit":
                outs.append(names[ref])
            elif names is not None:
                outs.append(namer.take(base if len(refs) == 1 else f"{base}_{port_index}"))
            else:
                first = arg_refs[0] if arg_refs else None
                if len(refs) == 1 and first is not None and last.get(first) == i:
                    outs.append(local[first])
                else:
                    outs.append(namer.take("out" if len(refs) == 1 else f"out_{port_index}"))
            local[ref] = outs[-1]
        symbol = _OPERATORS.get(callee) if kind == "step" and item.kind == "function" else None
        if expr is None and symbol and len(call_args) == 2 and "None" not in call_args and "=" not in "".join(call_args):
            lines.append(f"{indent}{', '.join(outs)} = {call_args[0]} {symbol} {call_args[1]}")  # same aten op
        elif expr is None:
            lines.extend(render(Call(callee, call_args), indent, ", ".join(outs) + " = "))
        elif len(picks) <= 1:
            lines.append(f"{indent}{outs[0]} = {expr}{picks[0] if picks else ''}")
        else:  # several parts of one result: call once, then pick
            whole = namer.take("result")
            lines.append(f"{indent}{whole} = {expr}")
            lines.extend(f"{indent}{o} = {whole}{p}" for o, p in zip(outs, picks, strict=True))
        table.append((callee, item, refs))
    results = [local[r] for r in box.outputs]
    if names is None:
        lines.append(f"{indent}return {', '.join(results)}")
    return lines, results, table


GENERIC_MODULE, GENERIC_FUNCTION, GENERIC_PARAMETER = "generic.module", "generic.function", "generic.parameter"
#: two-tensor functions written as the operator that calls the very same op (``out + identity``)
_OPERATORS = {"torch.add": "+", "torch.sub": "-", "torch.mul": "*", "torch.div": "/", "torch.matmul": "@"}


def _generic_helpers(step: Step) -> Any:
    """The node family's own text helpers (``constructor_text``, ``call_text``), found through the spec's
    callable so this package never imports the node families (they sit above it)."""
    import sys

    target = step.spec.module if step.kind == "module" else step.spec.function
    return sys.modules.get(getattr(target, "__module__", ""))


def _index_paths(pick: str) -> list[str]:
    paths = [p.strip() for p in pick.split(";")] if pick.strip() else []
    out = []
    for path in paths:
        parts = [p for p in path.split(".") if p]
        if not all(p.isascii() and p.isdigit() for p in parts):
            raise RenderError(f"pick {pick!r} is not a list of index paths")
        out.append("".join(f"[{int(p)}]" for p in parts))
    return out


def _checked(text: str, step: Step) -> str:
    """Generated text from a node family must be one Python expression (never a statement)."""
    import ast

    try:
        ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise RenderError(f"{step.node_name}: {step.spec.title} wrote invalid code", step.node_id) from exc
    return text


def parameter_tensor(step: Step) -> Call:
    """``torch.zeros(1, 1, 768)`` for a parameter node: the tensor it registers (weights are loaded later)."""
    shape = [int(d) for d in step.resolved["shape"]]
    dtype = str(step.resolved.get("dtype", "float32"))
    if not dtype.isidentifier():
        raise RenderError(f"{step.node_name}: dtype {dtype!r} is not a name", step.node_id)
    return Call("torch.zeros", [*map(str, shape), *([] if dtype == "float32" else [f"dtype=torch.{dtype}"])])


def generic_constructor(step: Step) -> Call | None:
    """``nn.PixelShuffle(2)`` for a generic module node (None for any other node)."""
    if step.spec.type_id == GENERIC_PARAMETER and step.resolved.get("trainable", True):
        return Call("nn.Parameter", [parameter_tensor(step)])
    if step.spec.type_id != GENERIC_MODULE:
        return None
    helpers = _generic_helpers(step)
    callee, positional, keywords = helpers.constructor_text(step.resolved)
    if not all(part.isidentifier() for part in callee.split(".")):
        raise RenderError(f"{step.node_name}: class {callee!r} is not a dotted name", step.node_id)
    call = Call(callee, [*positional, *keywords])
    _checked(call.flat(), step)
    return call


def generic_expression(step: Step, callee: str, args: list[str]) -> tuple[str, list[str]] | None:
    """(call expression, index suffix per output port) for a generic node, as a person writes it."""
    if step.spec.type_id == GENERIC_PARAMETER:
        return callee, []  # the tensor itself: self.class_token
    if step.spec.type_id not in (GENERIC_MODULE, GENERIC_FUNCTION):
        return None
    helpers = _generic_helpers(step)
    params = step.resolved
    names = args + ["None"] * 16
    if step.spec.type_id == GENERIC_MODULE:
        positional, keywords = helpers._rename(params.get("call", "in0"), names)
        expr = f"{callee}({', '.join([*positional, *keywords])})"
    else:
        expr = helpers.call_text(params["fn"], params["args"], names)
    return _checked(expr, step), _index_paths(str(params.get("pick", "")))


def block_class_source(ctx: Context, cls: ClassDef) -> str:
    """``class Name(nn.Module)`` for a repeated (or single) block, from its first instance."""
    box = cls.instances[0]
    ind, ind2 = "    ", "        "
    where = [".".join(b.path) for b in cls.instances]
    more = len(where) - 1
    doc = f"The block at {where[0]}" + (f" and {more} more like it" if more else "") + "."
    lines = [f"class {cls.name}(nn.Module):"]
    wrapped = textwrap.wrap(doc, LINE - 8, break_on_hyphens=False)
    if len(wrapped) == 1:
        lines.append(f'{ind}"""{doc}"""')
    else:
        lines += [f'{ind}"""{wrapped[0]}', *(f"{ind}{w}" for w in wrapped[1:]), f'{ind}"""']
    lines.append("")
    params = "".join(f", {p}" for p in cls.param_names)
    lines.append(f"{ind}def __init__(self{params}) -> None:")
    lines.append(f"{ind2}super().__init__()")
    lines.extend(_init_lines(_Slots(ctx, box, cls), "self", box.children, ind2))
    inputs = Namer(ctx.reserved)
    arg_names = [inputs.take("x") for _ in box.inputs]
    ret = "torch.Tensor" if len(box.outputs) == 1 else "tuple[torch.Tensor, ...]"
    lines.append("")
    lines.append(f"{ind}def forward(self{''.join(f', {a}: torch.Tensor' for a in arg_names)}) -> {ret}:")
    body, _, _ = forward_lines(ctx, box, arg_names, None, ind2)
    lines.extend(body)
    return "\n".join(lines)


def root_init_lines(ctx: Context) -> list[str]:
    root = ctx.structure.root
    return _init_lines(_Slots(ctx, root, None), "self", root.children, "        ")
