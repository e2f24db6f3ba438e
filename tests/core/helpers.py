"""Small graph builders shared by core tests."""

from __future__ import annotations

from studio.core.factory import make_node
from studio.core.model import Project, new_project
from studio.core.ops import AddNode, connect


def add(project: Project, registry, type_id: str, name: str | None = None, pos=(0.0, 0.0), **params):
    graph = project.main_graph
    node = make_node(registry.get(type_id), graph, pos, name=name, **params)
    AddNode(graph.id, node).apply(project)
    return graph.nodes[node.id]


def wire(project: Project, a, b, src_port: str = "out", dst_port: str = "in") -> None:
    connect(project.main_graph, a.id, src_port, b.id, dst_port).apply(project)


def mlp(registry, widths=(64, 10), in_shape=(784,)) -> Project:
    """Input -> Linear/ReLU ... -> Output, the smallest useful model."""
    project = new_project("mlp")
    prev = add(project, registry, "io.input", shape=list(in_shape))
    for i, width in enumerate(widths):
        layer = add(project, registry, "nn.linear", out_features=width, pos=(200.0 * (2 * i + 1), 0))
        wire(project, prev, layer)
        prev = layer
        if i < len(widths) - 1:
            act = add(project, registry, "nn.relu", pos=(200.0 * (2 * i + 2), 0))
            wire(project, prev, act)
            prev = act
    out = add(project, registry, "io.output", pos=(200.0 * (2 * len(widths) + 1), 0))
    wire(project, prev, out)
    return project
