"""Small projects for engine tests: chains of registry nodes built without the GUI."""

from __future__ import annotations

from typing import Any

from studio.core.factory import make_node
from studio.core.model import Edge, Graph, Project


def chain(registry, name: str, input_shape: list[int], layers: list[tuple[str, dict[str, Any]]],
          dtype: str = "float32", node_names: list[str] | None = None) -> Graph:
    """Input -> layers... -> Output, each layer (type_id, params), optionally named."""
    graph = Graph(name=name)
    inp = make_node(registry.get("io.input"), graph, name="x", shape=list(input_shape), dtype=dtype)
    graph.nodes[inp.id] = inp
    prev = inp
    for i, (type_id, params) in enumerate(layers):
        nm = node_names[i] if node_names else None
        node = make_node(registry.get(type_id), graph, name=nm, **params)
        graph.nodes[node.id] = node
        e = Edge(prev.id, "out", node.id, "in")
        graph.edges[e.id] = e
        prev = node
    out = make_node(registry.get("io.output"), graph, name="output")
    graph.nodes[out.id] = out
    e = Edge(prev.id, "out", out.id, "in")
    graph.edges[e.id] = e
    return graph


def mlp(registry, name: str, n_in: int, hidden: int, n_out: int, depth: int = 1, act: str = "nn.relu",
        final: str | None = None) -> Graph:
    layers: list[tuple[str, dict]] = []
    for _ in range(depth):
        layers += [("nn.linear", {"out_features": hidden}), (act, {})]
    layers.append(("nn.linear", {"out_features": n_out}))
    if final:
        layers.append((final, {}))
    return chain(registry, name, [n_in], layers)


def project(*graphs: Graph, training: dict[str, Any] | None = None) -> Project:
    return Project(name="test", graphs=list(graphs), training=training or {})
