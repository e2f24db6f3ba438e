"""Small graph builders shared by core tests (straight chains come from :mod:`tests.factories`)."""

from __future__ import annotations

from studio.core.factory import make_node
from studio.core.model import Project
from studio.core.ops import AddNode, connect
from tests.factories import chain, mlp_layers, project


def add(project: Project, registry, type_id: str, name: str | None = None, pos=(0.0, 0.0), **params):
    graph = project.main_graph
    node = make_node(registry.get(type_id), graph, pos, name=name, **params)
    AddNode(graph.id, node).apply(project)
    return graph.nodes[node.id]


def wire(project: Project, a, b, src_port: str = "out", dst_port: str = "in") -> None:
    connect(project.main_graph, a.id, src_port, b.id, dst_port).apply(project)


def mlp(registry, widths=(64, 10), in_shape=(784,)) -> Project:
    """Input -> Linear/ReLU ... -> Output, the smallest useful model, in a project named "mlp"."""
    return project(chain(registry, "model", in_shape, mlp_layers(widths), spacing=200.0), name="mlp")
