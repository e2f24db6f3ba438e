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
