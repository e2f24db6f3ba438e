"""The project model: graphs of nodes and edges, plus training settings. Pure Python, no Qt.

Mutate a project only through :mod:`studio.core.ops` so every change can be undone and every
change is announced on :attr:`Project.events`.
"""

from __future__ import annotations

import copy
import keyword
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from studio.core.events import EventBus


def new_id() -> str:
    return uuid.uuid4().hex


_NAME_CHARS = re.compile(r"[^0-9a-zA-Z_]+")


def identifier(text: str, fallback: str = "node") -> str:
    """Turn any text into a safe Python identifier (not a keyword, never starting with a digit)."""
    name = _NAME_CHARS.sub("_", text.strip()).strip("_")
    if not name:
        name = fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _RESERVED:
        name = f"{name}_"
    return name[:64]


# names a generated module must never shadow
_RESERVED = {"self", "torch", "nn", "F", "forward", "training", "super", "math", "type", "input"}


@dataclass
class Node:
    """One node on the canvas. ``params`` holds stored values by name (None = inferred/auto)."""

    type_id: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    id: str = field(default_factory=new_id)
    group: str | None = None
    #: set when the type is not in the registry: the raw record, kept so saving loses nothing
    placeholder: dict[str, Any] | None = None

    def copy(self) -> Node:
        return copy.deepcopy(self)


@dataclass(frozen=True)
class Edge:
    """A wire from an output port to an input port."""

    src: str
    src_port: str
    dst: str
    dst_port: str
    id: str = field(default_factory=new_id)


@dataclass
class Group:
    """A named block of nodes that compiles to a submodule and can be collapsed on the canvas."""

    name: str
    collapsed: bool = False
    id: str = field(default_factory=new_id)


@dataclass
class Graph:
    """A named model graph. A project may hold several (a GAN holds two)."""

    name: str
    id: str = field(default_factory=new_id)
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[str, Edge] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise KeyError(f"graph {self.name!r} has no node {node_id!r}") from None

    def node_by_name(self, name: str) -> Node | None:
        for node in self.nodes.values():
            if node.name == name:
                return node
        return None

    def edges_into(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges.values() if e.dst == node_id]

    def edges_from(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges.values() if e.src == node_id]

    def edges_of(self, node_id: str) -> list[Edge]:
        return [e for e in self.edges.values() if e.src == node_id or e.dst == node_id]

    def edge_into(self, node_id: str, port: str) -> Edge | None:
        for e in self.edges.values():
            if e.dst == node_id and e.dst_port == port:
                return e
        return None

    def unique_name(self, base: str, exclude: str | None = None) -> str:
        """A node name not yet used in this graph (``linear``, ``linear_1``, ...)."""
        base = identifier(base)
        taken = {n.name for n in self.nodes.values() if n.id != exclude}
        if base not in taken:
            return base
        i = 1
        while f"{base}_{i}" in taken:
            i += 1
        return f"{base}_{i}"


@dataclass
class Project:
    """Graphs in order, training settings (owned by :mod:`studio.train`), and metadata."""

    name: str = "Untitled"
    graphs: list[Graph] = field(default_factory=list)
    training: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    events: EventBus = field(default_factory=EventBus, repr=False, compare=False)

    def graph(self, graph_id: str) -> Graph:
        for g in self.graphs:
            if g.id == graph_id:
                return g
        raise KeyError(f"project has no graph {graph_id!r}")

    def graph_by_name(self, name: str) -> Graph:
        for g in self.graphs:
            if g.name == name:
                return g
        raise KeyError(f"project has no graph named {name!r}")

    @property
    def main_graph(self) -> Graph:
        if not self.graphs:
            raise KeyError("project has no graphs")
        return self.graphs[0]

    def snapshot(self) -> Project:
        """A frozen deep copy for training: editing the original cannot race it."""
        return Project(
            name=self.name,
            graphs=copy.deepcopy(self.graphs),
            training=copy.deepcopy(self.training),
            meta=copy.deepcopy(self.meta),
        )


def new_project(name: str = "Untitled", graph_name: str = "model") -> Project:
    return Project(name=name, graphs=[Graph(name=graph_name)])
