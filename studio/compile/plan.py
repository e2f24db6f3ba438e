"""The compile plan: one checked, named, ordered description of a graph shared by the compiler and the exporter.

Both consumers walk the same plan, so the fx GraphModule and the exported source cannot
disagree about names, order, arguments or submodule paths (which is what parity relies on).
Every identifier in the plan is sanitised (:func:`studio.core.model.identifier`) and deduplicated
against the names a generated module must never shadow.
"""

from __future__ import annotations

import builtins
import keyword
from dataclasses import dataclass, field
from typing import Any

from studio.core.graph_order import find_cycle, topological_order
from studio.core.model import Graph, identifier
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
    #: dotted submodule path (``group.attr`` or ``attr``); '' for functions
    target: str = ""
    group_attr: str | None = None
    attr: str = ""


@dataclass
class Plan:
    graph_name: str
    class_name: str
    inputs: list[tuple[str, str]]  # (node_id, argument name)
    outputs: list[tuple[str, str, ValueRef]]  # (node_id, output node name, value)
    steps: list[Step]
    groups: dict[str, str] = field(default_factory=dict)  # group attr -> group display name
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
    top_attrs = Namer(module_attr_reserved())
    group_scopes: dict[str, Namer] = {}
    group_attr_of: dict[str, str] = {}
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
        if step.kind == "module":
            group = graph.groups.get(node.group) if node.group else None
            if group is not None:
                gattr = group_attr_of.get(group.id)
                if gattr is None:
                    gattr = top_attrs.take(group.name, "block")
                    group_attr_of[group.id] = gattr
                    group_scopes[group.id] = Namer(module_attr_reserved())
                    plan.groups[gattr] = group.name
                step.group_attr = gattr
                # inside group "block1" a node "block1_conv" is reached as block1.conv, not block1.block1_conv
                short = base[len(gattr) + 1:] if base.startswith(gattr + "_") and len(base) > len(gattr) + 1 else base
                step.attr = group_scopes[group.id].take(short)
                step.target = f"{gattr}.{step.attr}"
            else:
                step.attr = top_attrs.take(base)
                step.target = step.attr
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
