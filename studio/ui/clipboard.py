"""Copy/paste fragments: a selection as plain JSON, so it also pastes into another project or window.

No Qt here besides the clipboard helpers at the bottom: turning a fragment into operations is pure
and testable. Pasted nodes get new ids and unique names; types come only from the registry and
every param is re-checked by its spec, so a fragment from anywhere cannot inject anything.
"""

from __future__ import annotations

import json
from typing import Any

from studio.core.model import Edge, Graph, Group, Node, identifier, new_id, numbered
from studio.core.ops import AddEdge, AddNode, Batch, Operation, SetGroup, SetGroupState
from studio.core.registry import Registry
from studio.core.spec import ParamError

MIME = "application/x-nnstudio-fragment"
FORMAT = "nnstudio.fragment"


def _plain(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def fragment(graph: Graph, node_ids: list[str]) -> dict[str, Any]:
    """The selected nodes, the wires between them, and their groups, as JSON-able data."""
    ids = [n for n in graph.nodes if n in set(node_ids)]
    inside = set(ids)
    groups = {graph.nodes[n].group for n in ids if graph.nodes[n].group in graph.groups}
    return {
        "format": FORMAT,
        "version": 1,
        "nodes": [{"id": n, "type_id": graph.nodes[n].type_id, "name": graph.nodes[n].name,
                   "params": {k: _plain(v) for k, v in graph.nodes[n].params.items()},
                   "position": list(graph.nodes[n].position), "group": graph.nodes[n].group} for n in ids],
        "edges": [{"src": e.src, "src_port": e.src_port, "dst": e.dst, "dst_port": e.dst_port}
                  for e in graph.edges.values() if e.src in inside and e.dst in inside],
        "groups": {g: {"name": graph.groups[g].name, "collapsed": graph.groups[g].collapsed} for g in groups},
    }


class FragmentError(ValueError):
    """The clipboard holds something that is not a usable fragment."""


def parse(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FragmentError(f"clipboard text is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise FragmentError("clipboard does not hold NN Studio nodes")
    if not isinstance(data.get("nodes"), list) or not isinstance(data.get("edges", []), list):
        raise FragmentError("clipboard fragment has no node list")
    return data


def paste_ops(graph: Graph, registry: Registry, data: dict[str, Any], offset: tuple[float, float] | None = None,
              top_left: tuple[float, float] | None = None) -> tuple[Operation | None, list[str], list[str]]:
    """Operations that add a fragment to ``graph``: (one Batch or None, new node ids, warnings).

    Placement: ``top_left`` puts the fragment's top-left corner there; otherwise ``offset`` shifts it.
    """
    warnings: list[str] = []
    records = [r for r in data.get("nodes", []) if isinstance(r, dict)]
    positions = []
    for r in records:
        try:
            positions.append((float(r["position"][0]), float(r["position"][1])))
        except (KeyError, IndexError, TypeError, ValueError):
            positions.append((0.0, 0.0))
    dx, dy = offset or (0.0, 0.0)
    if top_left is not None and positions:
        dx = top_left[0] - min(p[0] for p in positions)
        dy = top_left[1] - min(p[1] for p in positions)
    taken = {n.name for n in graph.nodes.values()}
    id_map: dict[str, str] = {}
    ops: list[Operation] = []
    members: dict[str, list[str]] = {}
    for record, (x, y) in zip(records, positions, strict=True):
        type_id = str(record.get("type_id", ""))
        spec = registry.find(type_id)
        if spec is None:
            warnings.append(f"skipped unknown layer type '{type_id}'")
            continue
        params = spec.default_params()
        for name, value in dict(record.get("params") or {}).items():
            if not spec.has_param(name):
                warnings.append(f"{spec.title}: dropped unknown parameter '{name}'")
                continue
            try:
                spec.param(name).check(value)
            except ParamError as exc:
                warnings.append(f"{spec.title}: kept the default for {exc}")
                continue
            params[name] = value
        name = _unique(identifier(str(record.get("name") or spec.type_id.split(".")[-1])), taken)
        node = Node(type_id=spec.type_id, name=name, params=params, position=(x + dx, y + dy))
        id_map[str(record.get("id"))] = node.id
        ops.append(AddNode(graph.id, node, label="Paste"))
        if record.get("group"):
            members.setdefault(str(record["group"]), []).append(node.id)
    for record in data.get("edges", []):
        try:
            src, dst = id_map[str(record["src"])], id_map[str(record["dst"])]
            ops.append(AddEdge(graph.id, Edge(src, str(record["src_port"]), dst, str(record["dst_port"]))))
        except (KeyError, TypeError):
            continue
    groups = data.get("groups") or {}
    group_names = {g.name for g in graph.groups.values()}
    for old_gid, ids in members.items():
        info = groups.get(old_gid) or {}
        group = Group(_unique(identifier(str(info.get("name") or "block"), "block"), group_names))
        ops.append(SetGroup(graph.id, ids, group, label="Paste"))
        if info.get("collapsed"):
            ops.append(SetGroupState(graph.id, group.id, collapsed=True, label="Paste"))
    if not ops:
        return None, [], warnings
    return Batch(ops, label="Paste"), list(id_map.values()), warnings


def _unique(base: str, taken: set[str]) -> str:
    # numbered() cuts the base before the suffix, so a long name stays itself after a save and load
    name, i = base, 1
    while name in taken:
        name = numbered(base, i)
        i += 1
    taken.add(name)
    return name


def new_group_name(graph: Graph) -> str:
    return _unique("block", {g.name for g in graph.groups.values()})


def new_group(graph: Graph) -> Group:
    return Group(new_group_name(graph), id=new_id())


# -- the system clipboard (Qt) -------------------------------------------------------------------
def copy_to_clipboard(data: dict[str, Any]) -> None:
    """Plain text JSON: other windows, other projects and text editors can all take it.

    (A custom QMimeData handed to the clipboard crashes PySide at interpreter exit; text is enough,
    since :func:`parse` recognises a fragment by its ``format`` field.)
    """
    from PySide6.QtWidgets import QApplication

    QApplication.clipboard().setText(json.dumps(data))


def read_clipboard() -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    mime = QApplication.clipboard().mimeData()
    if mime is None:
        raise FragmentError("the clipboard is empty")
    if mime.hasFormat(MIME):
        return parse(bytes(mime.data(MIME)).decode("utf-8"))
    if mime.hasText():
        return parse(mime.text())
    raise FragmentError("the clipboard does not hold NN Studio nodes")
