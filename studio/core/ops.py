"""Pure do/undo operations on a :class:`Project`.

Every change to a project is one of these. ``apply`` and ``revert`` are exact inverses, so the
editor's undo stack only needs to wrap them (one QUndoCommand per operation) and headless code
can use them directly. Each operation announces what it changed on ``project.events``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from studio.core.model import Edge, Graph, Group, Node, Project

#: node positions stay within ± this many scene units (the file loader holds files to the same bound)
MAX_COORD = 1e7


def _insert_at(mapping: dict, index: int, key: str, value: Any) -> None:
    """Put ``key`` back at ``index`` so undo restores the exact order (exports and files depend on it)."""
    items = list(mapping.items())
    items.insert(min(index, len(items)), (key, value))
    mapping.clear()
    mapping.update(items)


class Operation:
    """Base: a reversible change with a human label for the undo menu.

    ``apply`` is atomic: it checks everything it needs before it changes anything, so an
    operation that raises leaves the project exactly as it was (the editor relies on this to
    refuse a failing edit without a phantom undo step).
    """

    label: str = "Edit"

    def apply(self, project: Project) -> None:
        raise NotImplementedError

    def revert(self, project: Project) -> None:
        raise NotImplementedError

    def merge_key(self) -> tuple | None:
        """Operations with equal, non-None keys may be merged (typing in a field, slider drags)."""
        return None

    def merge(self, other: Operation) -> bool:
        return False


@dataclass
class AddNode(Operation):
    graph_id: str
    node: Node
    label: str = "Add node"

    def apply(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        if self.node.id in graph.nodes:
            raise ValueError(f"node {self.node.id} already exists")
        graph.nodes[self.node.id] = copy.deepcopy(self.node)
        project.events.emit("node_added", graph.id, node_id=self.node.id)

    def revert(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        del graph.nodes[self.node.id]
        project.events.emit("node_removed", graph.id, node_id=self.node.id)


@dataclass
class RemoveNode(Operation):
    """Removes a node and, first, every edge attached to it (restored in order on undo)."""

    graph_id: str
    node_id: str
    label: str = "Delete node"
    _node: Node | None = field(default=None, repr=False)
    _index: int = field(default=0, repr=False)
    _edges: list[tuple[int, Edge]] = field(default_factory=list, repr=False)

    def apply(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        self._node = graph.node(self.node_id)
        self._index = list(graph.nodes).index(self.node_id)
        self._edges = [(i, e) for i, e in enumerate(graph.edges.values())
                       if self.node_id in (e.src, e.dst)]
        for _, edge in self._edges:
            del graph.edges[edge.id]
            project.events.emit("edge_removed", graph.id, edge_id=edge.id, edge=edge)
        del graph.nodes[self.node_id]
        project.events.emit("node_removed", graph.id, node_id=self.node_id)

    def revert(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        assert self._node is not None
        _insert_at(graph.nodes, self._index, self._node.id, self._node)
        project.events.emit("node_added", graph.id, node_id=self._node.id)
        for index, edge in self._edges:
            _insert_at(graph.edges, index, edge.id, edge)
            project.events.emit("edge_added", graph.id, edge_id=edge.id)


@dataclass
class AddEdge(Operation):
    graph_id: str
    edge: Edge
    label: str = "Connect"

    def apply(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        for end in (self.edge.src, self.edge.dst):
            graph.node(end)  # raises a clear KeyError for a dangling end
        if self.edge.id in graph.edges:
            raise ValueError(f"wire {self.edge.id} already exists")
        graph.edges[self.edge.id] = self.edge
        project.events.emit("edge_added", graph.id, edge_id=self.edge.id)

    def revert(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        del graph.edges[self.edge.id]
        project.events.emit("edge_removed", graph.id, edge_id=self.edge.id, edge=self.edge)


@dataclass
class RemoveEdge(Operation):
    graph_id: str
    edge_id: str
    label: str = "Disconnect"
    _edge: Edge | None = field(default=None, repr=False)
    _index: int = field(default=0, repr=False)

    def apply(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        if self.edge_id not in graph.edges:
            raise KeyError(f"graph {graph.name!r} has no wire {self.edge_id!r}")
        self._index = list(graph.edges).index(self.edge_id)
        self._edge = graph.edges.pop(self.edge_id)
        project.events.emit("edge_removed", graph.id, edge_id=self.edge_id, edge=self._edge)

    def revert(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        assert self._edge is not None
        _insert_at(graph.edges, self._index, self._edge.id, self._edge)
        project.events.emit("edge_added", graph.id, edge_id=self._edge.id)


@dataclass
class SetParam(Operation):
    graph_id: str
    node_id: str
    name: str
    value: Any
    label: str = "Change parameter"
    _old: Any = field(default=None, repr=False)
    _had: bool = field(default=True, repr=False)

    def apply(self, project: Project) -> None:
        node = project.graph(self.graph_id).node(self.node_id)
        self._had = self.name in node.params
        self._old = node.params.get(self.name)
        node.params[self.name] = copy.deepcopy(self.value)
        project.events.emit("param_changed", self.graph_id, node_id=self.node_id, name=self.name)

    def revert(self, project: Project) -> None:
        node = project.graph(self.graph_id).node(self.node_id)
        if self._had:
            node.params[self.name] = self._old
        else:
            node.params.pop(self.name, None)
        project.events.emit("param_changed", self.graph_id, node_id=self.node_id, name=self.name)

    def merge_key(self) -> tuple | None:
        return ("param", self.graph_id, self.node_id, self.name)

    def merge(self, other: Operation) -> bool:
        if isinstance(other, SetParam) and other.merge_key() == self.merge_key():
            self.value = copy.deepcopy(other.value)
            return True
        return False


@dataclass
class MoveNodes(Operation):
    """Moves several nodes at once: one drag of a selection is one undo step."""

    graph_id: str
    moves: dict[str, tuple[tuple[float, float], tuple[float, float]]]  # id -> (old, new)
    label: str = "Move"

    def _set(self, project: Project, index: int) -> None:
        graph = project.graph(self.graph_id)
        targets = {}
        for node_id, positions in self.moves.items():  # check every move before making any
            node = graph.node(node_id)
            x, y = positions[index]
            if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                       and abs(v) <= MAX_COORD for v in (x, y)):
                raise ValueError(f"position {positions[index]!r} is not a pair of numbers within ±{MAX_COORD:g}")
            targets[node_id] = (node, (float(x), float(y)))
        for node_id, (node, position) in targets.items():
            node.position = position
            project.events.emit("node_moved", graph.id, node_id=node_id)

    def apply(self, project: Project) -> None:
        self._set(project, 1)

    def revert(self, project: Project) -> None:
        self._set(project, 0)


@dataclass
class RenameNode(Operation):
    graph_id: str
    node_id: str
    name: str
    label: str = "Rename node"
    _old: str = field(default="", repr=False)

    def apply(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        node = graph.node(self.node_id)
        if not isinstance(self.name, str):
            raise TypeError(f"a node name must be text, got {type(self.name).__name__}")
        self._old = node.name
        graph.nodes.rename(self.node_id, graph.unique_name(self.name, exclude=self.node_id))
        project.events.emit("node_renamed", graph.id, node_id=self.node_id)

    def revert(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        graph.node(self.node_id)
        graph.nodes.rename(self.node_id, self._old)
        project.events.emit("node_renamed", self.graph_id, node_id=self.node_id)


@dataclass
class SetGroup(Operation):
    """Puts nodes into a group (creating it) or takes them out (group=None).

    A group left without nodes is removed with them (and comes back on undo), so ungrouping
    leaves no empty records in the file.
    """

    graph_id: str
    node_ids: Sequence[str]
    group: Group | None
    label: str = "Group"
    _old: dict[str, str | None] = field(default_factory=dict, repr=False)
    _created: bool = field(default=False, repr=False)
    _emptied: list[tuple[int, Group]] = field(default_factory=list, repr=False)

    def apply(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        self._old = {nid: graph.node(nid).group for nid in self.node_ids}
        self._created = False
        if self.group is not None and self.group.id not in graph.groups:
            graph.groups[self.group.id] = copy.deepcopy(self.group)
            self._created = True
        for nid in self.node_ids:
            graph.nodes[nid].group = self.group.id if self.group else None
        still_used = {n.group for n in graph.nodes.values()}
        self._emptied = [(i, g) for i, (gid, g) in enumerate(graph.groups.items())
                         if gid in self._old.values() and gid not in still_used]
        for _, group in self._emptied:
            del graph.groups[group.id]
        project.events.emit("group_changed", graph.id, node_ids=list(self.node_ids))

    def revert(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        for index, group in self._emptied:
            _insert_at(graph.groups, index, group.id, group)
        for nid, old in self._old.items():
            graph.nodes[nid].group = old
        if self._created and self.group is not None:
            del graph.groups[self.group.id]
        project.events.emit("group_changed", graph.id, node_ids=list(self.node_ids))


@dataclass
class SetGroupState(Operation):
    """Collapse/expand or rename a group."""

    graph_id: str
    group_id: str
    collapsed: bool | None = None
    name: str | None = None
    label: str = "Change group"
    _old: tuple[str, bool] | None = field(default=None, repr=False)

    def apply(self, project: Project) -> None:
        group = project.graph(self.graph_id).groups[self.group_id]
        self._old = (group.name, group.collapsed)
        if self.collapsed is not None:
            group.collapsed = self.collapsed
        if self.name is not None:
            group.name = self.name
        project.events.emit("group_changed", self.graph_id, group_id=self.group_id)

    def revert(self, project: Project) -> None:
        group = project.graph(self.graph_id).groups[self.group_id]
        assert self._old is not None
        group.name, group.collapsed = self._old
        project.events.emit("group_changed", self.graph_id, group_id=self.group_id)


@dataclass
class AddGraph(Operation):
    graph: Graph
    index: int | None = None
    label: str = "Add graph"

    def apply(self, project: Project) -> None:
        if any(g.id == self.graph.id for g in project.graphs):
            raise ValueError(f"graph {self.graph.id} already exists")
        index = len(project.graphs) if self.index is None else self.index
        project.graphs.insert(index, copy.deepcopy(self.graph))
        project.events.emit("graph_added", self.graph.id)

    def revert(self, project: Project) -> None:
        project.graphs.remove(project.graph(self.graph.id))
        project.events.emit("graph_removed", self.graph.id)


@dataclass
class RemoveGraph(Operation):
    graph_id: str
    label: str = "Remove graph"
    _graph: Graph | None = field(default=None, repr=False)
    _index: int = field(default=0, repr=False)

    def apply(self, project: Project) -> None:
        self._graph = project.graph(self.graph_id)
        self._index = project.graphs.index(self._graph)
        project.graphs.remove(self._graph)
        project.events.emit("graph_removed", self.graph_id)

    def revert(self, project: Project) -> None:
        assert self._graph is not None
        project.graphs.insert(self._index, self._graph)
        project.events.emit("graph_added", self.graph_id)


@dataclass
class RenameGraph(Operation):
    graph_id: str
    name: str
    label: str = "Rename graph"
    _old: str = field(default="", repr=False)

    def apply(self, project: Project) -> None:
        graph = project.graph(self.graph_id)
        self._old, graph.name = graph.name, self.name
        project.events.emit("graph_renamed", self.graph_id)

    def revert(self, project: Project) -> None:
        project.graph(self.graph_id).name = self._old
        project.events.emit("graph_renamed", self.graph_id)


@dataclass
class SetTraining(Operation):
    """Changes one training setting (a dotted key such as ``optimizer.lr``)."""

    key: str
    value: Any
    label: str = "Change training setting"
    _old: Any = field(default=None, repr=False)
    _had: bool = field(default=True, repr=False)
    _created: list[str] = field(default_factory=list, repr=False)

    def _parent(self, project: Project, create: bool = False) -> tuple[dict, str]:
        if not isinstance(self.key, str) or not all(self.key.split(".")):
            raise ValueError(f"{self.key!r} is not a dotted setting name")
        *path, last = self.key.split(".")
        parent = project.training
        for i, part in enumerate(path):  # check the whole path first: a failed edit changes nothing
            if not isinstance(parent, dict):
                raise TypeError(f"training setting '{'.'.join(path[:i])}' is {type(parent).__name__}, "
                                f"not a section, so it has no '{part}'")
            if part not in parent:
                if not create:
                    raise KeyError(self.key)
                break
            parent = parent[part]
        else:
            if not isinstance(parent, dict):
                raise TypeError(f"training setting '{'.'.join(path)}' is {type(parent).__name__}, "
                                f"not a section, so it has no '{last}'")
        parent = project.training
        for i, part in enumerate(path):
            if part not in parent:
                parent[part] = {}
                self._created.append(".".join(path[: i + 1]))
            parent = parent[part]
        return parent, last

    def apply(self, project: Project) -> None:
        self._created = []
        value = copy.deepcopy(self.value)
        parent, last = self._parent(project, create=True)
        self._had = last in parent
        self._old = copy.deepcopy(parent.get(last))
        parent[last] = value
        project.events.emit("training_changed", None, key=self.key)

    def revert(self, project: Project) -> None:
        parent, last = self._parent(project)
        if self._had:
            parent[last] = self._old
        else:
            parent.pop(last, None)
        for dotted in reversed(self._created):  # drop the sections this op created
            *path, last = dotted.split(".")
            holder = project.training
            for part in path:
                holder = holder[part]
            holder.pop(last, None)
        project.events.emit("training_changed", None, key=self.key)

    def merge_key(self) -> tuple | None:
        return ("training", self.key)

    def merge(self, other: Operation) -> bool:
        if isinstance(other, SetTraining) and other.key == self.key:
            self.value = copy.deepcopy(other.value)
            return True
        return False


@dataclass
class Batch(Operation):
    """Several operations as one undo step (paste, delete selection, auto-layout, group)."""

    ops: list[Operation]
    label: str = "Edit"

    def apply(self, project: Project) -> None:
        done: list[Operation] = []
        try:
            for op in self.ops:
                op.apply(project)
                done.append(op)
        except Exception:
            for op in reversed(done):
                op.revert(project)
            raise

    def revert(self, project: Project) -> None:
        for op in reversed(self.ops):
            op.revert(project)


def remove_nodes(graph: Graph, node_ids: Iterable[str], label: str = "Delete") -> Batch:
    """One operation that deletes a selection (edges between selected nodes go once)."""
    return Batch([RemoveNode(graph.id, nid) for nid in node_ids], label=label)


def connect(graph: Graph, src: str, src_port: str, dst: str, dst_port: str) -> Operation:
    """Connect, replacing whatever wire already feeds ``dst_port`` (an input takes one wire)."""
    ops: list[Operation] = []
    existing = graph.edge_into(dst, dst_port)
    if existing is not None:
        ops.append(RemoveEdge(graph.id, existing.id))
    ops.append(AddEdge(graph.id, Edge(src, src_port, dst, dst_port)))
    return ops[0] if len(ops) == 1 else Batch(ops, label="Connect")
