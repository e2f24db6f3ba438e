"""Tiny graphs around one node: Input(s) -> node -> Output(s), built with core operations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from studio.core.factory import make_node
from studio.core.model import Edge, Graph, Node, new_project
from studio.core.ops import AddEdge, AddNode
from studio.core.registry import Registry
from studio.core.shapes import SHAPE_BATCH, GraphShapes, ShapeInferencer
from studio.core.spec import NodeSpec

#: one input: per-sample shape (no batch) and dtype
InputSpec = tuple[tuple[int, ...], str]


def tiny_graph(registry: Registry, spec: NodeSpec, inputs: Sequence[InputSpec | None],
               params: Mapping[str, Any] | None = None) -> tuple[Graph, Node]:
    """Input per given port (None leaves that port unconnected), the node, one Output per output port."""
    project = new_project()
    graph = project.main_graph
    node = make_node(spec, graph, **dict(params or {}))
    AddNode(graph.id, node).apply(project)
    for port, given in zip(spec.inputs, inputs, strict=False):
        if given is None:
            continue
        shape, dtype = given
        source = make_node(registry.get("io.input"), graph, shape=list(shape), dtype=dtype)
        AddNode(graph.id, source).apply(project)
        AddEdge(graph.id, Edge(source.id, "out", node.id, port.name)).apply(project)
    for port in spec.outputs:
        sink = make_node(registry.get("io.output"), graph, name=f"out_{port.name}")
        AddNode(graph.id, sink).apply(project)
        AddEdge(graph.id, Edge(node.id, port.name, sink.id, "in")).apply(project)
    return graph, graph.nodes[node.id]


def infer(registry: Registry, spec: NodeSpec, inputs: Sequence[InputSpec | None],
          params: Mapping[str, Any] | None = None) -> tuple[GraphShapes, Node]:
    graph, node = tiny_graph(registry, spec, inputs, params)
    return ShapeInferencer(registry).infer(graph), node


def sample(given: InputSpec | None, batch: int = SHAPE_BATCH) -> torch.Tensor | None:
    """A real CPU tensor for an input: random floats, or token ids below 10 for integer dtypes."""
    if given is None:
        return None
    shape, dtype = given
    if dtype in ("int64", "int32"):
        return torch.randint(0, 10, (batch, *shape), dtype=getattr(torch, dtype))
    return torch.randn((batch, *shape), dtype=getattr(torch, dtype))


def run_real(spec: NodeSpec, resolved: Mapping[str, Any], inputs: Sequence[InputSpec | None]) -> tuple:
    """Build the layer for real on the CPU and run it once; returns its outputs as a tuple."""
    tensors = [sample(given) for given in inputs]
    while tensors and tensors[-1] is None:
        tensors.pop()
    with torch.no_grad():
        if spec.module is not None:
            module = spec.build(resolved)
            module.eval()
            result = module(*tensors)
        else:
            result = spec.function(*tensors, **spec.constructor_kwargs(resolved))
    return tuple(result) if isinstance(result, tuple | list) else (result,)
