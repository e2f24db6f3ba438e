"""Project files: JSON with a format name and version, params by name, atomic saves.

Loading goes raw -> migrated -> checked field by field -> model. Anything wrong raises
:class:`ProjectFileError` naming the file and the field; nothing in the file is ever executed
or imported, and node types are only looked up in the registry. Unknown node types load as
visible placeholder nodes that save back unchanged.
"""

from __future__ import annotations

import gc
import json
import math
from pathlib import Path
from typing import Any

from studio.core.model import MAX_TITLE, Edge, Graph, Group, Node, Project, identifier
from studio.core.ops import MAX_COORD
from studio.core.registry import Registry
from studio.core.spec import MAX_INT, ParamError
from studio.io.errors import ProjectFileError
from studio.io.migrations import CURRENT_VERSION, migrate
from studio.io.safe_write import atomic_write_text

FORMAT = "nnstudio.project"
SUFFIX = ".nnstudio"
MAX_BYTES = 64 * 1024 * 1024
_MAX_DEPTH = 32

__all__ = ["FORMAT", "SUFFIX", "MAX_BYTES", "ProjectFileError", "atomic_write_text", "project_to_dict",
           "dumps", "save_project", "load_project", "loads", "project_from_dict", "default_project_name"]


# ------------------------------------------------------------------------------------------- save
def project_to_dict(project: Project, registry: Registry | None = None) -> dict[str, Any]:
    """The JSON-ready form of ``project`` (deterministic: same project, same dict)."""
    graphs = []
    for graph in project.graphs:
        nodes = []
        for node in graph.nodes.values():
            if node.placeholder is not None:
                record = dict(node.placeholder)
                record.update(id=node.id, name=node.name, position=list(node.position), group=node.group)
                nodes.append(record)
                continue
            spec = registry.find(node.type_id) if registry is not None else None
            nodes.append({
                "id": node.id,
                "type": node.type_id,
                "type_version": spec.version if spec is not None else 1,
                "name": node.name,
                "params": _jsonable(node.params),
                "position": [float(node.position[0]), float(node.position[1])],
                "group": node.group,
            })
        graphs.append({
            "id": graph.id,
            "name": graph.name,
            "nodes": nodes,
            "edges": [{"id": e.id, "from": {"node": e.src, "port": e.src_port},
                       "to": {"node": e.dst, "port": e.dst_port}} for e in graph.edges.values()],
            "groups": [{"id": g.id, "name": g.name, "collapsed": g.collapsed} for g in graph.groups.values()],
        })
    return {
        "format": FORMAT,
        "version": CURRENT_VERSION,
        "name": project.name,
        "meta": _jsonable(project.meta),
        "training": _jsonable(project.training),
        "graphs": graphs,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def dumps(project: Project, registry: Registry | None = None) -> str:
    return json.dumps(project_to_dict(project, registry), indent=1, ensure_ascii=False, allow_nan=False) + "\n"


def save_project(project: Project, path: str | Path, registry: Registry | None = None) -> Path:
    """Save atomically; raises ProjectFileError (not a traceback) when the file cannot be written."""
    path = Path(path)
    try:
        atomic_write_text(path, dumps(project, registry))
    except (OSError, ValueError, RecursionError) as exc:
        raise ProjectFileError(path, "", f"cannot save: {' '.join(str(exc).split())}") from exc
    return path


# ------------------------------------------------------------------------------------------- load
def load_project(path: str | Path, registry: Registry) -> Project:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ProjectFileError(path, "", f"file is {size // 1_048_576} MiB; project files are at most "
                                             f"{MAX_BYTES // 1_048_576} MiB")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ProjectFileError(path, "", "file not found") from None
    except OSError as exc:
        raise ProjectFileError(path, "", f"cannot read: {exc.strerror or exc}") from None
    return loads(raw, registry, source=str(path))


def loads(raw: bytes | str, registry: Registry, source: str | None = None) -> Project:
    """Parse and check a project file's text; every problem raises :class:`ProjectFileError`.

    The cyclic garbage collector is paused meanwhile: a load creates only acyclic records, and
    full collections of a large heap in the middle of it would make loading 60k nodes slower
    than the loading itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _loads(raw, registry, source)
    finally:
        if enabled:
            gc.enable()


def _loads(raw: bytes | str, registry: Registry, source: str | None) -> Project:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")  # a byte-order mark (some Windows editors add one) is fine
        except UnicodeDecodeError as exc:
            raise ProjectFileError(source, "", f"not a text file (invalid UTF-8 at byte {exc.start})") from None
    raw = raw.removeprefix("\ufeff")
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        # cut off: the error is at the end, or inside the last token (a literal like ``nul``)
        hint = " (the file looks cut off)" if len(raw[exc.pos:].split()) <= 1 else ""
        raise ProjectFileError(source, f"line {exc.lineno}, column {exc.colno}",
                               f"not valid JSON: {exc.msg}{hint}") from None
    except RecursionError:
        raise ProjectFileError(source, "", "not valid JSON: nested too deeply") from None
    except ValueError as exc:
        text = str(exc).split(";")[0] if "digits" in str(exc) else str(exc)  # no advice to raise Python's limit
        raise ProjectFileError(source, "", f"not valid JSON: {' '.join(text.split())}") from None
    return project_from_dict(data, registry, source)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"'{name}' is not allowed in a project file")


def project_from_dict(data: Any, registry: Registry, source: str | None = None) -> Project:
    """Check and convert raw data into a Project; every problem raises ProjectFileError."""
    if not isinstance(data, dict):
        raise ProjectFileError(source, "", f"expected a JSON object at the top, got {_kind(data)}")
    if data.get("format") != FORMAT:
        raise ProjectFileError(source, "format", f"not an NN Studio project (format is {data.get('format')!r}, "
                                                 f"expected {FORMAT!r})")
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and not 0 <= version <= 1_000_000:
        raise ProjectFileError(source, "version", f"unknown format version ({len(str(abs(version)))} digits)")
    try:
        data = migrate(dict(data), source)
    except ProjectFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - an old file of odd shape: one line, not a traceback
        raise ProjectFileError(source, "version", f"cannot upgrade this file: {' '.join(str(exc).split())[:200]}") \
            from None
    reader = _Reader(source, registry)
    name = reader.text(data.get("name", "Untitled"), "name")
    meta = reader.json_object(data.get("meta", {}), "meta")
    # bounded like every value here; the settings schema (studio.train, a layer above) checks the
    # rest where training settings are used: the editor on open, ``nnstudio check`` and ``train``
    training = reader.json_object(data.get("training", {}), "training")
    graphs_raw = reader.list(data.get("graphs"), "graphs")
    if not graphs_raw:
        raise ProjectFileError(source, "graphs", "a project needs at least one graph")
    graphs = [reader.graph(g, f"graphs[{i}]") for i, g in enumerate(graphs_raw)]
    ids = [g.id for g in graphs]
    if len(set(ids)) != len(ids):
        raise ProjectFileError(source, "graphs", "two graphs share an id")
    return Project(name=name, graphs=graphs, training=training, meta=meta)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__)


class _Reader:
    """Field-by-field checks that know where they are (for the error message)."""

    def __init__(self, source: str | None, registry: Registry) -> None:
        self.source = source
        self.registry = registry

    def fail(self, field: str, message: str) -> ProjectFileError:
        return ProjectFileError(self.source, field, message)

    def text(self, value: Any, field: str, max_len: int = 4096) -> str:
        if not isinstance(value, str):
            raise self.fail(field, f"must be text, got {_kind(value)}")
        if len(value) > max_len:
            raise self.fail(field, f"is too long ({len(value)} characters)")
        return value

    def ident(self, value: Any, field: str) -> str:
        value = self.text(value, field, 128)
        if not value:
            raise self.fail(field, "must not be empty")
        return value

    def list(self, value: Any, field: str) -> list:
        if not isinstance(value, list):
            raise self.fail(field, f"must be a list, got {_kind(value)}")
        return value

    def obj(self, value: Any, field: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(field, f"must be an object, got {_kind(value)}")
        return value

    def json_object(self, value: Any, field: str) -> dict:
        self.obj(value, field)
        self.json_value(value, field, 0)
        return value

    def json_value(self, value: Any, field: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise self.fail(field, "is nested too deeply")
        if isinstance(value, dict):
            for k, v in value.items():
                self.json_value(v, f"{field}.{k}", depth + 1)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self.json_value(v, f"{field}[{i}]", depth + 1)
        elif isinstance(value, float) and not math.isfinite(value):
            raise self.fail(field, "must be a finite number")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            raise self.fail(field, f"is far too large a number ({len(str(abs(value)))} digits)")
        elif isinstance(value, str) and len(value) > 1_000_000:
            raise self.fail(field, f"is too long ({len(value)} characters)")
        elif not isinstance(value, str | int | float | bool | type(None)):
            raise self.fail(field, f"unsupported value {_kind(value)}")

    def number(self, value: Any, field: str, bound: float = MAX_COORD) -> float:
        """A finite number within ±``bound`` (checked before converting: a 400-digit integer
        would overflow ``float``)."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(field, f"must be a number, got {_kind(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(field, f"must be a finite number, got {value!r}")
        if abs(value) > bound:
            shown = f"a {len(str(abs(value)))}-digit number" if isinstance(value, int) else f"{value:g}"
            raise self.fail(field, f"must be within ±{bound:g}, got {shown}")
        return float(value)

    def graph(self, raw: Any, field: str) -> Graph:
        raw = self.obj(raw, field)
        graph = Graph(name=self.text(raw.get("name", "model"), f"{field}.name", MAX_TITLE),
                      id=self.ident(raw.get("id"), f"{field}.id"))
        for i, g in enumerate(self.list(raw.get("groups", []), f"{field}.groups")):
            where = f"{field}.groups[{i}]"
            g = self.obj(g, where)
            collapsed = g.get("collapsed", False)
            if not isinstance(collapsed, bool):
                raise self.fail(f"{where}.collapsed", "must be true or false")
            group = Group(name=self.text(g.get("name", "block"), f"{where}.name", MAX_TITLE), collapsed=collapsed,
                          id=self.ident(g.get("id"), f"{where}.id"))
            graph.groups[group.id] = group
        for i, n in enumerate(self.list(raw.get("nodes", []), f"{field}.nodes")):
            node = self.quick_node(n, graph) or self.node(n, f"{field}.nodes[{i}]", graph)
            if node.id in graph.nodes:
                raise self.fail(f"{field}.nodes[{i}].id", f"id {node.id!r} is used twice")
            graph.nodes[node.id] = node
        for i, e in enumerate(self.list(raw.get("edges", []), f"{field}.edges")):
            edge = self.quick_edge(e, graph) or self.edge(e, f"{field}.edges[{i}]", graph)
            if edge.id in graph.edges:
                raise self.fail(f"{field}.edges[{i}].id", f"id {edge.id!r} is used twice")
            graph.edges[edge.id] = edge
        return graph

    # The quick readers accept only records every check would pass, without building a field
    # name per check; anything else (None) goes through the full reader, which names the problem.
    def quick_node(self, raw: Any, graph: Graph) -> Node | None:
        if type(raw) is not dict:
            return None
        get = raw.get
        node_id, type_id, params = get("id"), get("type"), get("params", _NO_PARAMS)
        name, pos, group, version = get("name", type_id), get("position", _ORIGIN), get("group"), get("type_version", 1)
        if not (type(node_id) is str and 0 < len(node_id) <= 128 and type(type_id) is str and 0 < len(type_id) <= 128
                and type(name) is str and len(name) <= 200 and type(params) is dict and type(pos) is list
                and len(pos) == 2 and type(pos[0]) in _NUMBER and type(pos[1]) in _NUMBER
                and -MAX_COORD <= pos[0] <= MAX_COORD and -MAX_COORD <= pos[1] <= MAX_COORD
                and (group is None or (type(group) is str and group in graph.groups)) and type(version) is int and version == 1):
            return None
        spec = self.registry.find(type_id)
        if spec is None or spec.version != 1:
            return None
        for key, value in params.items():
            kind = type(value)
            if kind is float:
                if not -_MAX_FLOAT <= value <= _MAX_FLOAT:
                    return None
            elif kind is int:
                if not -MAX_INT <= value <= MAX_INT:
                    return None
            elif kind not in _SCALAR:
                if kind is not list or len(value) > 64 or not all(type(v) in _NUMBER and -MAX_INT <= v <= MAX_INT
                                                                  for v in value):
                    return None
            param = spec_params(spec).get(key)
            if param is not None:
                try:
                    param.check(value)
                except ParamError:
                    return None
        merged = spec.default_params() if _has_lists(spec) else dict(_defaults(spec))
        merged.update(params)
        return Node(type_id=spec.type_id, name=graph.unique_name(name or type_id), params=merged,
                    position=(float(pos[0]), float(pos[1])), id=node_id, group=group)

    def quick_edge(self, raw: Any, graph: Graph) -> Edge | None:
        if type(raw) is not dict:
            return None
        src, dst, edge_id = raw.get("from"), raw.get("to"), raw.get("id")
        if not (type(src) is dict and type(dst) is dict and type(edge_id) is str and 0 < len(edge_id) <= 128):
            return None
        a, a_port, b, b_port = src.get("node"), src.get("port"), dst.get("node"), dst.get("port")
        if not (type(a_port) is str and 0 < len(a_port) <= 128 and type(b_port) is str and 0 < len(b_port) <= 128
                and type(a) is str and type(b) is str and a in graph.nodes and b in graph.nodes):
            return None
        return Edge(a, a_port, b, b_port, id=edge_id)

    def node(self, raw: Any, field: str, graph: Graph) -> Node:
        raw = self.obj(raw, field)
        node_id = self.ident(raw.get("id"), f"{field}.id")
        type_id = self.ident(raw.get("type"), f"{field}.type")
        name = self.text(raw.get("name", type_id), f"{field}.name", 200)
        params = self.json_object(raw.get("params", {}), f"{field}.params")
        pos = self.list(raw.get("position", [0, 0]), f"{field}.position")
        if len(pos) != 2:
            raise self.fail(f"{field}.position", "must be [x, y]")
        position = (self.number(pos[0], f"{field}.position[0]"), self.number(pos[1], f"{field}.position[1]"))
        group = raw.get("group")
        if group is not None and (type(group) is not str or group not in graph.groups):
            raise self.fail(f"{field}.group", f"names group {group!r}, which the graph does not have")
        version = raw.get("type_version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= 1_000_000:
            raise self.fail(f"{field}.type_version", f"must be a whole number >= 1, got {_kind(version)}")
        safe_name = graph.unique_name(name or type_id)
        spec = self.registry.find(type_id)
        if spec is None:
            # kept raw so saving loses nothing, and so checked like every other field: finite
            # numbers, bounded depth and size (or the file could never be saved again)
            self.json_value(raw, field, 0)
            return Node(type_id=type_id, name=safe_name, params=dict(params), position=position, id=node_id,
                        group=group, placeholder=dict(raw))
        if version > spec.version:
            raise self.fail(f"{field}.type_version", f"{spec.title} version {version} is newer than this NN "
                                                     f"Studio knows ({spec.version})")
        if version < spec.version and spec.migrate is not None:
            try:
                params = spec.migrate(version, dict(params))
            except Exception as exc:  # noqa: BLE001 - a spec's upgrade of odd old params
                raise self.fail(f"{field}.params", f"cannot upgrade {spec.title} version {version}: "
                                                   f"{' '.join(str(exc).split())[:200]}") from None
        for p in spec.params:  # each value within its spec's range, so nothing later can overflow
            if p.name in params:
                try:
                    p.check(params[p.name])
                except ParamError as exc:
                    raise self.fail(f"{field}.params.{p.name}", f"{spec.title} '{name}': {exc}") from None
        merged = spec.default_params()
        merged.update(params)
        return Node(type_id=spec.type_id, name=safe_name, params=merged, position=position, id=node_id,
                    group=group)

    def edge(self, raw: Any, field: str, graph: Graph) -> Edge:
        raw = self.obj(raw, field)
        ends = []
        for end in ("from", "to"):
            where = f"{field}.{end}"
            ref = self.obj(raw.get(end), where)
            node_id = self.ident(ref.get("node"), f"{where}.node")
            if node_id not in graph.nodes:
                raise self.fail(f"{where}.node", f"refers to node {node_id!r}, which is not in the graph")
            ends.append((node_id, self.ident(ref.get("port"), f"{where}.port")))
        return Edge(ends[0][0], ends[0][1], ends[1][0], ends[1][1], id=self.ident(raw.get("id"), f"{field}.id"))


_NO_PARAMS: dict = {}
_ORIGIN = [0, 0]
_NUMBER = (int, float)
_SCALAR = (str, bool, type(None))
_MAX_FLOAT = 1.7976931348623157e308  # the largest finite float: NaN and ±inf fail the range test


def _memo(spec: Any) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """Per spec (frozen, so safe to keep): its params by name, its defaults, whether any is a list."""
    memo = _SPEC_MEMO.get(id(spec))
    if memo is None or memo[0] is not spec:
        defaults = spec.default_params()
        memo = (spec, {p.name: p for p in spec.params}, defaults,
                any(isinstance(v, list | dict) for v in defaults.values()))
        _SPEC_MEMO[id(spec)] = memo
    return memo[1], memo[2], memo[3]


def spec_params(spec: Any) -> dict[str, Any]:
    return _memo(spec)[0]


def _defaults(spec: Any) -> dict[str, Any]:
    return _memo(spec)[1]


def _has_lists(spec: Any) -> bool:
    return _memo(spec)[2]


_SPEC_MEMO: dict[int, tuple] = {}


def default_project_name(path: Path) -> str:
    return identifier(path.stem, "project")
