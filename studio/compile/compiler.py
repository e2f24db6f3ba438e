"""Project graph -> ``torch.fx.GraphModule``, built node by node (no tracing).

The fx graph mirrors the compile plan one to one: a placeholder per Input node, a
``call_module`` per layer module (grouped nodes live under ``group.node``), a ``call_function``
per function node, ``operator.getitem`` to pick ports of multi-output layers, and one output.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx
from torch import nn

from studio.compile.plan import CompileError, Plan, Step, ValueRef, build_plan
from studio.core.buildctx import shape_only
from studio.core.model import Graph, Project
from studio.core.registry import Registry
from studio.core.shapes import GraphShapes

#: a node that holds one tensor used directly in forward (the generic family's parameter node)
PARAMETER_NODE = "generic.parameter"

__all__ = ["CompileError", "compile_graph", "compile_project", "compile_plan", "ParamCounts", "parameter_counts"]


def build_step_module(step: Step) -> nn.Module:
    """Instantiate one layer; a constructor error lands on its node."""
    try:
        module = step.spec.build(step.resolved)
    except Exception as exc:  # the spec's own constructor refused these values
        raise CompileError(f"{step.node_name}: cannot build {step.spec.title}: {exc}", step.node_id) from exc
    if not isinstance(module, nn.Module):
        raise CompileError(f"{step.node_name}: {step.spec.title} did not build an nn.Module", step.node_id)
    return module


def compile_plan(plan: Plan) -> torch.fx.GraphModule:
    """The fx GraphModule for an already checked plan."""
    assert not shape_only(), "compile real modules outside building_for_shapes()"
    fx = torch.fx.Graph()
    values: dict[ValueRef, torch.fx.Node] = {}
    inputs: dict[str, torch.fx.Node] = {}
    root = nn.Module()  # submodules in plan order, so state_dict order matches the export
    for node_id, arg in plan.inputs:
        inputs[node_id] = fx.placeholder(arg)

    def value(ref: ValueRef | None) -> Any:
        if ref is None:
            return None
        return inputs[ref.node_id] if ref.node_id in inputs else values[ref]

    for step in plan.steps:
        args = tuple(value(a) for a in step.args)
        ports = list(step.out_vars)
        name = step.out_vars[ports[0]] if len(ports) == 1 else step.attr or step.out_vars[ports[0]]
        if step.kind == "module":
            parent = root
            for part in step.path[:-1]:  # containers along an imported path (layer1 -> 0 -> conv1)
                if part not in parent._modules:
                    parent.add_module(part, nn.Module())
                parent = parent._modules[part]
            module = build_step_module(step)
            if step.spec.type_id == PARAMETER_NODE:
                # the tensor sits at the node's own path (the original model's key), read with get_attr
                tensor = module.value
                if isinstance(tensor, nn.Parameter):
                    parent.register_parameter(step.attr, tensor)
                else:
                    parent.register_buffer(step.attr, tensor)
                result = fx.create_node("get_attr", step.target, (), {}, name=name)
            else:
                parent.add_module(step.attr, module)
                result = fx.create_node("call_module", step.target, args, {}, name=name)
        else:
            assert step.spec.function is not None
            result = fx.create_node("call_function", step.spec.function, args, dict(step.kwargs), name=name)
        if len(ports) == 1:
            values[ValueRef(step.node_id, ports[0])] = result
        else:
            for index, port in enumerate(ports):
                values[ValueRef(step.node_id, port)] = fx.create_node(
                    "call_function", operator.getitem, (result, index), {}, name=step.out_vars[port])
    outs = [value(ref) for _, _, ref in plan.outputs]
    fx.output(outs[0] if len(outs) == 1 else tuple(outs))
    try:
        fx.lint()
    except Exception as exc:  # pragma: no cover - the plan guarantees a well-formed graph
        raise CompileError(f"internal compile error: {exc}", None, plan.graph_name) from exc
    return torch.fx.GraphModule(root, fx, class_name=plan.class_name)


def compile_graph(graph: Graph, registry: Registry, shapes: GraphShapes | None = None) -> torch.fx.GraphModule:
    """Compile one graph into a trainable module whose forward takes one tensor per Input node.

    Raises :class:`CompileError` (with ``node_id``) for unknown types, loops, missing wires and
    shape errors. Nodes no Output depends on are left out.
    """
    return compile_plan(build_plan(graph, registry, shapes))


def compile_project(project: Project, registry: Registry) -> dict[str, torch.fx.GraphModule]:
    """Every graph of the project by name; the first failure raises, naming graph and node."""
    out: dict[str, torch.fx.GraphModule] = {}
    for graph in project.graphs:
        try:
            out[graph.name] = compile_graph(graph, registry)
        except CompileError as exc:
            exc.graph_name = graph.name
            if len(project.graphs) > 1 and not exc.message.startswith(f"[{graph.name}]"):
                exc.message = f"[{graph.name}] {exc.message}"
                exc.args = (exc.message,)
            raise
    return out


@dataclass
class ParamCounts:
    """Parameter numbers of a compiled module: total, trainable, and per top-level submodule."""

    total: int = 0
    trainable: int = 0
    by_module: dict[str, int] = field(default_factory=dict)

    @property
    def frozen(self) -> int:
        return self.total - self.trainable


def parameter_counts(module: nn.Module) -> ParamCounts:
    """Counts parameters once each (shared parameters are not double counted)."""
    counts = ParamCounts()
    seen: set[int] = set()
    for name, param in module.named_parameters():
        if id(param) in seen:  # pragma: no cover - compiled graphs do not share parameters
            continue
        seen.add(id(param))
        counts.total += param.numel()
        if param.requires_grad:
            counts.trainable += param.numel()
        top = name.split(".", 1)[0]
        counts.by_module[top] = counts.by_module.get(top, 0) + param.numel()
    return counts
