"""Creating nodes from specs: default params, a unique readable name."""

from __future__ import annotations

from studio.core.model import Graph, Node
from studio.core.spec import NodeSpec


def make_node(spec: NodeSpec, graph: Graph, position: tuple[float, float] = (0.0, 0.0),
              name: str | None = None, **params: object) -> Node:
    """A new node of ``spec`` with default params (overridden by ``params``), named uniquely in ``graph``."""
    values = spec.default_params()
    for key, value in params.items():
        spec.param(key)  # KeyError names the bad parameter
        values[key] = value
    base = name or {"input": "x", "output": "output"}.get(spec.role, spec.type_id.split(".")[-1])
    return Node(type_id=spec.type_id, name=graph.unique_name(base), params=values,
                position=(float(position[0]), float(position[1])))


def chain_graph(registry, name: str, input_shape: list[int], layers: list[tuple[str, dict]],
                dtype: str = "float32", names: list[str] | None = None, input_name: str = "x",
                output_name: str = "output", spacing: float = 220.0) -> Graph:
    """Input -> layers -> Output, each layer ``(type_id, params)``, laid out left to right.

    The quick way to build a straight model (tests, benchmarks, screenshot projects).
    """
    from studio.core.model import Edge

    graph = Graph(name=name)
    prev = make_node(registry.get("io.input"), graph, (0.0, 0.0), name=input_name, shape=list(input_shape),
                     dtype=dtype)
    graph.nodes[prev.id] = prev
    for i, (type_id, params) in enumerate([*layers, ("io.output", {})]):
        last = i == len(layers)
        node = make_node(registry.get(type_id), graph, (spacing * (i + 1), 0.0),
                         name=output_name if last else (names[i] if names else None), **params)
        graph.nodes[node.id] = node
        edge = Edge(prev.id, "out", node.id, "in")
        graph.edges[edge.id] = edge
        prev = node
    return graph
