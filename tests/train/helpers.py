"""Small projects for engine tests: chains of registry nodes built without the GUI."""

from __future__ import annotations

from typing import Any

from studio.core.factory import chain_graph
from studio.core.model import Graph, Project


def chain(registry, name: str, input_shape: list[int], layers: list[tuple[str, dict[str, Any]]],
          dtype: str = "float32", node_names: list[str] | None = None) -> Graph:
    """Input -> layers... -> Output, each layer (type_id, params), optionally named."""
    return chain_graph(registry, name, input_shape, layers, dtype=dtype, names=node_names)


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
