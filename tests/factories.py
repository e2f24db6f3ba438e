"""The one place tests build straight models: Input -> layers -> Output, and the projects around them.

Every builder here goes through :func:`studio.core.factory.chain_graph`, so a change in how nodes
are made or wired is made once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from studio.core.factory import chain_graph
from studio.core.model import Graph, Project

Layers = list[tuple[str, dict[str, Any]]]


def chain(registry, name: str, input_shape: Sequence[int], layers: Layers, dtype: str = "float32",
          names: list[str] | None = None, input_name: str = "x", output_name: str = "output",
          spacing: float = 220.0) -> Graph:
    """Input -> layers -> Output, each layer ``(type_id, params)``, optionally named, left to right."""
    return chain_graph(registry, name, list(input_shape), layers, dtype=dtype, names=names, input_name=input_name,
                       output_name=output_name, spacing=spacing)


def mlp_layers(widths: Sequence[int], act: str = "nn.relu", final: str | None = None) -> Layers:
    """Linear(w) for each width, ``act`` between them, ``final`` (e.g. a softmax) after the last."""
    layers: Layers = []
    for i, width in enumerate(widths):
        if i:
            layers.append((act, {}))
        layers.append(("nn.linear", {"out_features": width}))
    if final:
        layers.append((final, {}))
    return layers


def mlp(registry, name: str = "model", n_in: int = 784, hidden: int = 32, n_out: int = 10, depth: int = 1,
        act: str = "nn.relu", final: str | None = None, names: list[str] | None = None) -> Graph:
    """``depth`` hidden Linear+``act`` blocks of width ``hidden``, then Linear(``n_out``)."""
    return chain(registry, name, [n_in], mlp_layers([hidden] * depth + [n_out], act, final), names=names)


def project(*graphs: Graph, training: dict[str, Any] | None = None, name: str = "test") -> Project:
    """A project holding ``graphs`` (the first is the main graph)."""
    return Project(name=name, graphs=list(graphs), training=training or {})
