"""The compile plan: one checked, named, ordered description of a graph shared by the compiler and the exporter.

Both consumers walk the same plan, so the fx GraphModule and the exported source cannot
disagree about names, order, arguments or submodule paths (which is what parity relies on).
Every identifier in the plan is sanitised (:func:`studio.core.model.identifier`) and deduplicated
against the names a generated module must never shadow.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from studio.core.graph_order import find_cycle, topological_order
from studio.core.model import Graph, Group, identifier
from studio.core.registry import Registry
from studio.core.shapes import GraphShapes, ShapeInferencer
from studio.core.spec import NodeSpec


class CompileError(Exception):
    """A graph that cannot become a module; ``node_id`` names the node to highlight (or None)."""

    def __init__(self, message: str, node_id: str | None = None, graph_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.node_id = node_id
        self.graph_name = graph_name

    def __str__(self) -> str:
        return self.message


#: attribute names a submodule must not take (nn.Module / GraphModule API, export helpers)
_MODULE_ATTRS: frozenset[str] | None = None
#: names forward() must not shadow: builtins and the names generated code refers to
_FORWARD_RESERVED = frozenset(dir(builtins)) | {"self", "torch", "nn", "F", "math", "operator", "load_weights",
                                                 "example_inputs"}
FORWARD_RESERVED = _FORWARD_RESERVED


def module_attr_reserved() -> frozenset[str]:
    global _MODULE_ATTRS
    if _MODULE_ATTRS is None:
        import torch.fx
        from torch import nn

        names = set(dir(nn.Module)) | set(dir(torch.fx.GraphModule))
        names |= {"load_weights", "graph", "code", "meta", "self", "forward", "training"}
        _MODULE_ATTRS = frozenset(names)
    return _MODULE_ATTRS


class Namer:
    """Hands out unique identifiers in one scope, never a reserved name."""

    def __init__(self, reserved: frozenset[str] | set[str] = frozenset()) -> None:
        self.reserved = set(reserved)
        self.taken: set[str] = set()

    def take(self, text: str, fallback: str = "node") -> str:
        base = identifier(text, fallback)
        if base.startswith("_"):  # private-looking names clash with torch internals
            base = fallback + base
        if base in self.reserved or keyword.iskeyword(base):
            base = base + "_"
        name, i = base, 1
        while name in self.taken or name in self.reserved:
            name = f"{base}_{i}"
            i += 1
        self.taken.add(name)
        return name


def class_name_for(text: str, avoid: set[str] | frozenset[str] = frozenset()) -> str:
    """CamelCase class name from a graph name: ``"my model"`` -> ``MyModel``."""
    words = identifier(text, "model").split("_")
    name = "".join(w[:1].upper() + w[1:] for w in words if w) or "Model"
    if not name[0].isalpha():
        name = "Model" + name
    if keyword.iskeyword(name) or name in avoid or name in dir(builtins) or name in {"F", "nn", "torch"}:
        name += "Model"
    return name


@dataclass(frozen=True)
class ValueRef:
    """An output port of a planned node (or an input placeholder, port 'out')."""

    node_id: str
    port: str


@dataclass
class Step:
    """One layer node: a submodule call (``kind='module'``) or a function call."""

    node_id: str
    node_name: str
    spec: NodeSpec
    kind: str
    resolved: dict[str, Any]
    kwargs: dict[str, Any]
    args: list[ValueRef | None]
    #: variable name per output port (every port, in port order)
    out_vars: dict[str, str]
    #: dotted submodule path (``group.attr``, ``attr`` or an imported ``layer1.0.conv1``); '' for functions
    target: str = ""
    group_attr: str | None = None
    attr: str = ""
    #: ``target`` split at the dots (empty for functions)
    path: tuple[str, ...] = ()
    #: the container the step belongs to: its module's parent path, or its group's path for a function
    scope: tuple[str, ...] = ()


@dataclass
class Plan:
    graph_name: str
    class_name: str
    inputs: list[tuple[str, str]]  # (node_id, argument name)
    outputs: list[tuple[str, str, ValueRef]]  # (node_id, output node name, value)
    steps: list[Step]
    groups: dict[str, str] = field(default_factory=dict)  # group path (dotted) -> group display name
    shapes: GraphShapes | None = None
    input_info: dict[str, tuple[tuple[int, ...], str]] = field(default_factory=dict)  # arg -> (shape, dtype)

    def var(self, ref: ValueRef) -> str:
        for node_id, name in self.inputs:
            if node_id == ref.node_id:
                return name
        for step in self.steps:
            if step.node_id == ref.node_id:
                return step.out_vars[ref.port]
        raise KeyError(ref)  # pragma: no cover - plans reference only planned nodes


_DIGITS = re.compile(r"0|[1-9][0-9]*")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: a name only ``add_module`` / ``getattr`` can reach (torchvision's RegNet: ``block1-0``); written via repr
#: (only word-number, so a user's group "conv-block" keeps its old identifier name conv_block)
_QUOTED = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[0-9]+)+")


def path_parts(text: str) -> tuple[str, ...] | None:
    """``"layer1.0.conv1"`` -> ``("layer1", "0", "conv1")`` when every part can be a submodule name, else None.

    A part is an ASCII identifier (not a keyword, not an ``nn.Module`` attribute), a whole number
    without leading zeros (a Sequential / ModuleList index) after the first part, or a word and
    numbers joined by hyphens (``block1-0``, written as a quoted string).
    """
    parts = tuple(text.split("."))
    for i, part in enumerate(parts):
        if (_DIGITS.fullmatch(part) and i > 0) or _QUOTED.fullmatch(part):
            continue
        if not _NAME.fullmatch(part) or keyword.iskeyword(part) or part in module_attr_reserved():
            return None
    return parts


class _Paths:
    """Hands out submodule paths: a module is never placed at or under another module's path."""

    def __init__(self) -> None:
        self.leaves: set[tuple[str, ...]] = set()
        self.containers: set[tuple[str, ...]] = {()}
        self.children: dict[tuple[str, ...], set[str]] = {}
        self.group_paths: dict[str, tuple[str, ...]] = {}

    def _free(self, path: tuple[str, ...], leaf: bool) -> bool:
        if path in self.leaves or (leaf and path in self.containers):
            return False
        return not any(path[:i] in self.leaves for i in range(1, len(path)))

    def _claim(self, path: tuple[str, ...], leaf: bool) -> tuple[str, ...]:
        for i in range(1, len(path) + 1):
            self.children.setdefault(path[:i - 1], set()).add(path[i - 1])
            if i < len(path) or not leaf:
                self.containers.add(path[:i])
        if leaf:
            self.leaves.add(path)
        return path

    def _fresh(self, scope: tuple[str, ...], text: str, fallback: str) -> str:
        namer = Namer(module_attr_reserved())
        namer.taken = set(self.children.get(scope, ()))
        return namer.take(text, fallback)

    def group_scope(self, group: Group) -> tuple[str, ...]:
        """A group's container: its name when that is a free dotted path, else a fresh top-level name."""
        path = self.group_paths.get(group.id)
        if path is None:
            parts = path_parts(group.name.strip())
            if parts is None or not self._free(parts, leaf=False):
                parts = (self._fresh((), group.name, "block"),)
            path = self.group_paths[group.id] = self._claim(parts, leaf=False)
        return path

    def module_path(self, name: str, base: str, scope: tuple[str, ...]) -> tuple[str, ...]:
        """A node's submodule path: its own dotted name, else its group's path plus its (short) name.

        Inside group ``layer1.0`` a node named ``layer1_0_conv1`` (an imported name made safe) or
        ``conv1`` sits at ``layer1.0.conv1``; inside group ``block1`` node ``block1_conv`` at ``block1.conv``.
        """
        parts = path_parts(name.strip()) if "." in name else None
        if parts is not None and self._free(parts, leaf=True):
            return self._claim(parts, leaf=True)
        prefix = identifier("_".join(scope)) + "_"
        short = base[len(prefix):] if scope and base.startswith(prefix) and len(base) > len(prefix) else base
        candidate = (*scope, short)
        if path_parts(".".join(candidate)) is None or not self._free(candidate, leaf=True):
            candidate = (*scope, self._fresh(scope, short, "layer"))
        return self._claim(candidate, leaf=True)


def _live_nodes(graph: Graph, outputs: list[str]) -> set[str]:
    """Nodes an Output depends on; the rest of the canvas does not become code."""
    sources: dict[str, list[str]] = {}
    for edge in graph.edges.values():
        if edge.src in graph.nodes:
            sources.setdefault(edge.dst, []).append(edge.src)
    live: set[str] = set()
    stack = list(outputs)
    while stack:
        nid = stack.pop()
        if nid in live:
            continue
        live.add(nid)
        stack.extend(sources.get(nid, ()))
    return live


def build_plan(graph: Graph, registry: Registry, shapes: GraphShapes | None = None,
               reserved_globals: set[str] | frozenset[str] = frozenset()) -> Plan:
    """Check ``graph`` and name everything; raises :class:`CompileError` at the offending node."""
    gname = graph.name

    def fail(message: str, node_id: str | None = None) -> CompileError:
        return CompileError(message, node_id, gname)

    specs: dict[str, NodeSpec] = {}
    unknown: list[str] = []
    for node in graph.nodes.values():
        spec = registry.find(node.type_id)
        if spec is None or node.placeholder is not None:
            unknown.append(node.id)
        else:
            specs[node.id] = spec
    cycle = find_cycle(graph)
    if cycle:
        names = " -> ".join(graph.nodes[n].name for n in cycle)
        raise fail(f"the graph has a loop ({names}); data cannot flow in a cycle", cycle[0])
    seen_ports: set[tuple[str, str]] = set()
    for edge in graph.edges.values():
        if edge.src not in graph.nodes or edge.dst not in graph.nodes:
            raise fail("a wire has a missing end", edge.dst if edge.dst in graph.nodes else None)
        src, dst = graph.nodes[edge.src], graph.nodes[edge.dst]
        if src.id in specs and edge.src_port not in specs[src.id].output_names():
            raise fail(f"{src.name} has no output {edge.src_port!r}", src.id)
        if dst.id in specs and edge.dst_port not in specs[dst.id].input_names():
            raise fail(f"{dst.name} has no input {edge.dst_port!r}", dst.id)
        if (edge.dst, edge.dst_port) in seen_ports:
            raise fail(f"{dst.name}: input {edge.dst_port!r} has more than one wire", dst.id)
        seen_ports.add((edge.dst, edge.dst_port))

    order = topological_order(graph)
    input_ids = [nid for nid in graph.nodes if nid in specs and specs[nid].role == "input"]
    output_ids = [nid for nid in graph.nodes if nid in specs and specs[nid].role == "output"]
    if not input_ids:
        raise fail("the graph has no Input node")
    if not output_ids:
        raise fail("the graph has no Output node: add one and connect what the model returns")
    live = _live_nodes(graph, output_ids)
    for nid in unknown:  # an unknown node off the path to every Output does not stop the build
        if nid in live:
            node = graph.nodes[nid]
            raise fail(f"{node.name}: unknown node type {node.type_id!r} (opaque or missing plugin); "
                       "replace it before compiling", nid)
    if shapes is None:
        shapes = ShapeInferencer(registry).infer(graph)

    incoming: dict[str, dict[str, ValueRef]] = {}
    for edge in graph.edges.values():
        incoming.setdefault(edge.dst, {})[edge.dst_port] = ValueRef(edge.src, edge.src_port)

    var_names = Namer(_FORWARD_RESERVED | set(reserved_globals))
    paths = _Paths()
    plan = Plan(graph_name=gname, class_name=class_name_for(gname, reserved_globals), inputs=[], outputs=[],
                steps=[], shapes=shapes)

    for nid in input_ids:
        node = graph.nodes[nid]
        arg = var_names.take(node.name, "x")
        plan.inputs.append((nid, arg))
        info = shapes.nodes.get(nid)
        if info is not None and info.error:
            raise fail(f"{node.name}: {info.error}", nid)
        out = info.outputs.get(specs[nid].outputs[0].name) if info else None
        if out is not None:
            plan.input_info[arg] = (tuple(out.shape[1:]), out.dtype)

    for nid in order:
        if nid not in live:
            continue
        node, spec = graph.nodes[nid], specs[nid]
        if spec.role != "layer":
            continue
        info = shapes.nodes.get(nid)
        if info is None or info.error or info.blocked:
            reason = info.error if info is not None and info.error else "an input is missing or failed upstream"
            raise fail(f"{node.name}: {reason}", nid)
        ins = incoming.get(nid, {})
        args: list[ValueRef | None] = [ins.get(p.name) for p in spec.inputs]
        for port, ref in zip(spec.inputs, args, strict=True):
            if ref is None and not port.optional:
                raise fail(f"{node.name}: input {port.name!r} is not connected", nid)
        while args and args[-1] is None:
            args.pop()
        base = identifier(node.name, spec.type_id.split(".")[-1])
        if len(spec.outputs) == 1:
            out_vars = {spec.outputs[0].name: var_names.take(base)}
        else:
            out_vars = {p.name: var_names.take(f"{base}_{p.name}") for p in spec.outputs}
        kwargs = spec.constructor_kwargs(info.resolved)
        step = Step(nid, node.name, spec, "module" if spec.module is not None else "function",
                    dict(info.resolved), kwargs, args, out_vars)
        if spec.module is None and spec.function is None:
            raise fail(f"{node.name}: {spec.title} has neither a module nor a function", nid)
        group = graph.groups.get(node.group) if node.group else None
        scope = paths.group_scope(group) if group is not None else ()
        if group is not None:
            plan.groups[".".join(scope)] = group.name
        step.scope = scope
        if step.kind == "module":
            step.path = paths.module_path(node.name, base, scope)
            step.target = ".".join(step.path)
            step.group_attr = step.path[0] if len(step.path) > 1 else None
            step.attr = step.path[-1]
            step.scope = step.path[:-1]
        plan.steps.append(step)

    for nid in output_ids:
        node = graph.nodes[nid]
        ref = incoming.get(nid, {}).get(specs[nid].inputs[0].name) if specs[nid].inputs else None
        if ref is None:
            raise fail(f"{node.name}: the Output is not connected", nid)
        info = shapes.nodes.get(ref.node_id)
        if info is not None and info.error:
            raise fail(f"{graph.nodes[ref.node_id].name}: {info.error}", ref.node_id)
        plan.outputs.append((nid, node.name, ref))
    return plan
