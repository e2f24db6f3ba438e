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
_SUFFIXED = re.compile(r"^(.*)_([1-9][0-9]*)$")

#: the longest node name; a numbered name is cut to fit, so ``identifier(name) == name`` always holds
MAX_NAME = 64
#: the longest graph or group title a project file holds (the loader refuses longer ones)
MAX_TITLE = 200


def identifier(text: str, fallback: str = "node") -> str:
    """Turn any text into a safe Python identifier (not a keyword, never starting with a digit).

    The result is a fixed point (``identifier(identifier(t)) == identifier(t)``): a name that was
    made safe once comes back unchanged from a save and load, so two nodes can never trade names.
    """
    if (len(text) <= MAX_NAME and text.isascii() and text.isidentifier() and text[0] != "_"
            and text[-1] != "_" and text not in _RESERVED and not keyword.iskeyword(text)
            and not keyword.issoftkeyword(text)):
        return text  # already safe (the common case when loading): skip the regex
    name = _NAME_CHARS.sub("_", text.strip()).strip("_")
    if not name:
        name = fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    name = name[:MAX_NAME].rstrip("_")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _RESERVED:
        name = f"{name}_"
    return name


def numbered(base: str, i: int) -> str:
    """``base_i``, with ``base`` cut so the whole name stays within :data:`MAX_NAME` and unique."""
    suffix = f"_{i}"
    return base[:MAX_NAME - len(suffix)].rstrip("_") + suffix


# names a generated module must never shadow
_RESERVED = {"self", "torch", "nn", "F", "forward", "training", "super", "math", "type", "input"}


class NodeTable(dict):
    """``Graph.nodes``: an ordinary ordered dict of id -> Node that also indexes nodes by name.

    The index makes :meth:`Graph.unique_name` and :meth:`Graph.node_by_name` O(1), so loading or
    pasting n nodes costs O(n), not O(n²). Renames go through :meth:`rename`; an entry made stale
    by a rename behind the table's back is detected and dropped on lookup.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        #: bumped by every insertion or removal (memoised graph orders compare it)
        self.revision = 0
        self._names: dict[str, dict[str, None]] = {}
        #: per base name: every suffix below this one is taken (so the search starts there)
        self._next: dict[str, int] = {}
        self.update(*args, **kwargs)

    # -- index upkeep --------------------------------------------------------------------------
    def _index(self, node: Any) -> None:
        self._names.setdefault(node.name, {})[node.id] = None

    def _unindex(self, name: str, node_id: str) -> None:
        ids = self._names.get(name)
        if ids is None:
            return
        ids.pop(node_id, None)
        if not ids:
            del self._names[name]
            match = _SUFFIXED.match(name)
            if match is not None:
                base, i = match.group(1), int(match.group(2))
                if self._next.get(base, 1) > i:
                    self._next[base] = i

    def __setitem__(self, key: str, node: Any) -> None:
        old = dict.get(self, key)
        if old is not None:
            self._unindex(old.name, key)
        dict.__setitem__(self, key, node)
        self._index(node)
        self.revision += 1

    def __delitem__(self, key: str) -> None:
        node = dict.__getitem__(self, key)
        dict.__delitem__(self, key)
        self._unindex(node.name, key)
        self.revision += 1

    def pop(self, key: str, *default: Any) -> Any:
        if key not in self:
            if default:
                return default[0]
            raise KeyError(key)
        node = dict.__getitem__(self, key)
        del self[key]
        return node

    def popitem(self) -> tuple[str, Any]:
        key, node = dict.popitem(self)
        self._unindex(node.name, key)
        self.revision += 1
        return key, node

    def clear(self) -> None:
        dict.clear(self)
        self._names.clear()
        self._next.clear()
        self.revision += 1

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, node in dict(*args, **kwargs).items():
            self[key] = node

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def __copy__(self) -> NodeTable:
        return NodeTable(self)

    def __deepcopy__(self, memo: dict) -> NodeTable:
        return NodeTable({k: copy.deepcopy(v, memo) for k, v in self.items()})

    def __reduce__(self) -> tuple:
        return (NodeTable, (dict(self),))

    # -- queries -------------------------------------------------------------------------------
    def rename(self, node_id: str, name: str) -> None:
        """Give a node a new name and keep the index right."""
        node = self[node_id]
        self._unindex(node.name, node_id)
        node.name = name
        self._index(node)

    def named(self, name: str) -> list[str]:
        """Ids of the nodes called ``name`` (stale entries from direct renames are dropped)."""
        ids = self._names.get(name)
        if not ids:
            return []
        live = [i for i in ids if i in self and dict.__getitem__(self, i).name == name]
        if len(live) != len(ids):
            for stale in [i for i in ids if i not in live]:
                self._unindex(name, stale)
        return live

    def taken(self, name: str, exclude: str | None = None) -> bool:
        ids = self._names.get(name)
        if not ids:
            return False
        for node_id in ids:
            if node_id != exclude:
                node = dict.get(self, node_id)
                if node is not None and node.name == name:
                    return True
        self.named(name)  # only stale or excluded entries: tidy the index
        return False


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


class EdgeTable(dict):
    """``Graph.edges``: an ordinary ordered dict of id -> Edge that counts its changes.

    ``revision`` lets a graph algorithm memoise its answer (the data-flow order) until a wire
    is added or removed; reading is plain ``dict`` speed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.revision = 0

    def __setitem__(self, key: str, edge: Any) -> None:
        dict.__setitem__(self, key, edge)
        self.revision += 1

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        self.revision += 1

    def pop(self, key: str, *default: Any) -> Any:
        self.revision += 1
        return dict.pop(self, key, *default)

    def popitem(self) -> tuple[str, Any]:
        self.revision += 1
        return dict.popitem(self)

    def clear(self) -> None:
        dict.clear(self)
        self.revision += 1

    def update(self, *args: Any, **kwargs: Any) -> None:
        dict.update(self, *args, **kwargs)
        self.revision += 1

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.revision += 1
        return dict.setdefault(self, key, default)

    def __copy__(self) -> EdgeTable:
        return EdgeTable(self)

    def __deepcopy__(self, memo: dict) -> EdgeTable:
        return EdgeTable({k: copy.deepcopy(v, memo) for k, v in self.items()})

    def __reduce__(self) -> tuple:
        return (EdgeTable, (dict(self),))


@dataclass
class Graph:
    """A named model graph. A project may hold several (a GAN holds two)."""

    name: str
    id: str = field(default_factory=new_id)
    nodes: NodeTable = field(default_factory=NodeTable)
    edges: EdgeTable = field(default_factory=EdgeTable)
    groups: dict[str, Group] = field(default_factory=dict)

    def __setattr__(self, key: str, value: Any) -> None:
        if key == "nodes" and not isinstance(value, NodeTable):
            value = NodeTable(value)  # a plain dict handed in still gets the name index
        elif key == "edges" and not isinstance(value, EdgeTable):
            value = EdgeTable(value)
        object.__setattr__(self, key, value)

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise KeyError(f"graph {self.name!r} has no node {node_id!r}") from None

    def node_by_name(self, name: str) -> Node | None:
        ids = self.nodes.named(name)
        if ids:
            return self.nodes[ids[0]]
        for node in self.nodes.values():  # a name set behind the index's back
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
        """A node name not yet used in this graph (``linear``, ``linear_1``, ...), in O(1).

        Every name returned is a fixed point of :func:`identifier` and at most :data:`MAX_NAME`
        long, so it survives a save and load unchanged (numbered names are cut before the suffix,
        never after it). ``exclude`` is a node whose own name does not count (a rename).
        """
        base = identifier(base)
        table = self.nodes
        if not table.taken(base, exclude):
            return base
        mine = table[exclude].name if exclude is not None and exclude in table else None
        i = table._next.get(base, 1)
        while table.taken(numbered(base, i)):
            i += 1
        table._next[base] = i  # every suffix below i is taken
        if mine is not None:
            match = _SUFFIXED.match(mine)
            if match is not None and int(match.group(2)) < i and numbered(base, int(match.group(2))) == mine:
                return mine  # the renamed node already holds the smallest free number
        return numbered(base, i)


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
