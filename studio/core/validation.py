"""Validation of a graph: every problem at once, each pointing at its node, port or param.

Validation never raises for a bad graph; it returns :class:`Issue` objects that the problems
panel, the command line (`nnstudio check`) and the compiler all show the same way.
"""

from __future__ import annotations

import gc
import math
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from studio.core.graph_order import find_cycle, would_create_cycle
from studio.core.model import MAX_TITLE, Graph
from studio.core.registry import Registry
from studio.core.shapes import GraphShapes
from studio.core.spec import MAX_INT, ParamError, validate_params

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One problem, with enough of a location for the UI to select the culprit."""

    severity: Severity
    message: str
    node_id: str | None = None
    port: str | None = None
    param: str | None = None
    edge_id: str | None = None
    code: str = ""

    def located(self, graph: Graph) -> str:
        """The message prefixed with the node's name, for text output."""
        node = graph.nodes.get(self.node_id) if self.node_id else None
        where = f"{node.name}: " if node else ""
        if self.param and self.param != "*":
            where += f"[{self.param}] "
        elif self.port:
            where += f"[{self.port}] "
        return where + self.message


def validate(graph: Graph, registry: Registry, shapes: GraphShapes | None = None) -> list[Issue]:
    """All problems in ``graph``: structure, params, and (given ``shapes``) shape errors.

    The cyclic GC is paused meanwhile (as in shape inference): a pass allocates only acyclic
    records, and full collections of a 60k-node heap would cost more than the pass.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _validate(graph, registry, shapes)
    finally:
        if enabled:
            gc.enable()


def _validate(graph: Graph, registry: Registry, shapes: GraphShapes | None) -> list[Issue]:
    issues: list[Issue] = []
    roles: Counter[str] = Counter()
    names: Counter[str] = Counter(n.name for n in graph.nodes.values())
    feeding: Counter[tuple[str, str]] = Counter()
    used: set[str] = set()
    for e in graph.edges.values():
        feeding[(e.dst, e.dst_port)] += 1
        used.add(e.src)
    find = _SpecCache(registry).find  # one registry lookup per type, not per node and wire
    checked: dict[tuple, dict[str, str]] = {}  # identical params of one type are checked once

    for node in graph.nodes.values():
        spec = find(node.type_id)
        if spec is None or node.placeholder is not None:
            issues.append(Issue("error", f"unknown node type '{node.type_id}' (kept as a placeholder; "
                                         "install the plugin that provides it or delete the node)",
                                node.id, code="unknown-type"))
            continue
        roles[spec.role] += 1
        if names[node.name] > 1:
            issues.append(Issue("error", f"name '{node.name}' is used by {names[node.name]} nodes", node.id,
                                code="duplicate-name"))
        try:
            # the value's type is part of the key: True == 1 == 1.0 but only one of them is a bool
            key = (spec.type_id, tuple((k, type(v), v) for k, v in node.params.items()))
            problems = checked.get(key)
        except TypeError:  # a list value: not hashable, check it directly
            key, problems = None, None
        if problems is None:
            problems = validate_params(spec, node.params)
            if key is not None:
                checked[key] = problems
        for param, message in problems.items():
            issues.append(Issue("error", message, node.id, param=param, code="bad-param"))
        for port in spec.inputs:
            wires = feeding[(node.id, port.name)]
            if not wires and not port.optional:
                issues.append(Issue("error", f"input '{port.name}' is not connected", node.id, port=port.name,
                                    code="unconnected"))
            elif wires > 1:
                issues.append(Issue("error", f"input '{port.name}' has {wires} wires; it takes one",
                                    node.id, port=port.name, code="multiple-wires"))
        if spec.role == "input" and node.id not in used:
            issues.append(Issue("warning", "this input is not used", node.id, code="unused-input"))

    for edge in graph.edges.values():
        issues.extend(_edge_issues(graph, find, edge))

    cycle = find_cycle(graph)
    if cycle:
        loop = " → ".join(graph.nodes[n].name for n in cycle if n in graph.nodes)
        issues.append(Issue("error", f"the graph has a cycle: {loop}", cycle[0], code="cycle"))
    if graph.nodes and roles["input"] == 0:
        issues.append(Issue("error", "the graph has no Input node", code="no-input"))
    if graph.nodes and roles["output"] == 0:
        issues.append(Issue("error", "the graph has no Output node", code="no-output"))
    if not graph.nodes:
        issues.append(Issue("warning", "the graph is empty: add an Input, some layers and an Output", code="empty"))

    if shapes is not None:
        flagged = {i.node_id for i in issues if i.severity == "error"}
        for node_id, info in shapes.nodes.items():
            if info.error and node_id not in flagged:
                issues.append(Issue("error", info.error, node_id, param=info.error_param, code="shape"))
    return issues


class _SpecCache:
    """Registry lookups memoised for one pass (a 60k-node graph has a handful of types)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._specs: dict[str, object] = {}

    def find(self, type_id: str):
        try:
            return self._specs[type_id]
        except KeyError:
            spec = self._specs[type_id] = self.registry.find(type_id)
            return spec


def _edge_issues(graph: Graph, find, edge) -> list[Issue]:
    src, dst = graph.nodes.get(edge.src), graph.nodes.get(edge.dst)
    if src is None or dst is None:
        return [Issue("error", "a wire points at a node that does not exist", dst.id if dst else None,
                      edge_id=edge.id, code="dangling")]
    src_spec, dst_spec = find(src.type_id), find(dst.type_id)
    if (src_spec is None or src.placeholder is not None or any(p.name == edge.src_port for p in src_spec.outputs)) \
            and (dst_spec is None or dst.placeholder is not None or any(p.name == edge.dst_port for p in dst_spec.inputs)):
        return []
    out: list[Issue] = []
    if src_spec is not None and src.placeholder is None and edge.src_port not in src_spec.output_names():
        out.append(Issue("error", f"{src_spec.title} has no output '{edge.src_port}'", src.id,
                         port=edge.src_port, edge_id=edge.id, code="bad-port"))
    if dst_spec is not None and dst.placeholder is None and edge.dst_port not in dst_spec.input_names():
        out.append(Issue("error", f"{dst_spec.title} has no input '{edge.dst_port}'", dst.id,
                         port=edge.dst_port, edge_id=edge.id, code="bad-port"))
    return out


def can_connect(graph: Graph, registry: Registry, src: str, src_port: str, dst: str, dst_port: str) -> str | None:
    """Why a wire from ``src.src_port`` to ``dst.dst_port`` is refused, or None if it is fine.

    An input that already has a wire is not a reason: connecting replaces it (see ops.connect).
    """
    if src not in graph.nodes or dst not in graph.nodes:
        return "that node no longer exists"
    if src == dst:
        return "a node cannot feed itself"
    src_spec, dst_spec = registry.find(graph.nodes[src].type_id), registry.find(graph.nodes[dst].type_id)
    if src_spec is None or dst_spec is None:
        return "placeholder nodes of unknown type cannot be connected"
    if src_port not in src_spec.output_names():
        return f"{src_spec.title} has no output '{src_port}'"
    if dst_port not in dst_spec.input_names():
        return f"{dst_spec.title} has no input '{dst_port}'"
    existing = graph.edge_into(dst, dst_port)
    if existing is not None and existing.src == src and existing.src_port == src_port:
        return "these ports are already connected"
    if would_create_cycle(graph, src, dst):
        return (f"connecting {graph.nodes[src].name} → {graph.nodes[dst].name} would make a loop; "
                "data must flow one way")
    return None


def _leaves(op) -> list:
    from studio.core.ops import Batch

    if isinstance(op, Batch):
        return [leaf for sub in op.ops for leaf in _leaves(sub)]
    return [op]


def operation_problem(project, registry: Registry, op) -> str | None:
    """Why an applied operation must be refused, or None: the check an edit passes before undo keeps it.

    A parameter edit must hold a value its :class:`~studio.core.spec.ParamSpec` accepts, on a
    node whose type is known (a placeholder keeps its raw record; editing it would be lost).
    """
    from studio.core.ops import AddGraph, RenameGraph, SetGroupState, SetParam, SetTraining

    for leaf in _leaves(op):
        # whatever an edit stores must load back: the same bounds as the file loader
        title = {RenameGraph: lambda o: o.name, SetGroupState: lambda o: o.name,
                 AddGraph: lambda o: o.graph.name}.get(type(leaf), lambda o: None)(leaf)
        if title is not None and (not isinstance(title, str) or len(title) > MAX_TITLE):
            return f"a name must be text of at most {MAX_TITLE} characters"
        if isinstance(leaf, SetTraining):
            problem = stored_value_problem(leaf.value, MAX_DEPTH - 1 - leaf.key.count("."))
            if problem:
                return f"'{leaf.key}' {problem}"
        if not isinstance(leaf, SetParam):
            continue
        problem = stored_value_problem(leaf.value, MAX_DEPTH - 1)
        if problem:
            return f"'{leaf.name}' {problem}"
        node = project.graph(leaf.graph_id).node(leaf.node_id)
        spec = registry.find(node.type_id)
        if spec is None or node.placeholder is not None:
            return f"'{node.name}' is of unknown type '{node.type_id}'; its parameters cannot be edited"
        if not spec.has_param(leaf.name):
            return f"{spec.title} has no parameter '{leaf.name}'"
        try:
            spec.param(leaf.name).check(node.params.get(leaf.name))
        except ParamError as exc:
            return str(exc)
    return None


#: the deepest nesting a stored value may have (the file loader refuses deeper)
MAX_DEPTH = 32


def stored_value_problem(value, depth: int = MAX_DEPTH) -> str | None:
    """Why ``value`` cannot be stored in a project file and read back, or None.

    JSON types only, finite numbers, whole numbers within ±2**53, text within a million
    characters, nested at most ``depth`` deep: the bounds the loader holds files to.
    """
    if depth < 0:
        return "is nested too deeply"
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return "has a key that is not text"
            problem = stored_value_problem(v, depth - 1)
            if problem:
                return problem
        return None
    if isinstance(value, list | tuple):
        for v in value:
            problem = stored_value_problem(v, depth - 1)
            if problem:
                return problem
        return None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if abs(value) <= MAX_INT else "is far too large a number"
    if isinstance(value, float):
        return None if math.isfinite(value) else "must be a finite number"
    if isinstance(value, str):
        return None if len(value) <= 1_000_000 else "is too long"
    return f"cannot be stored ({type(value).__name__})"


def touches_training(op) -> list[str]:
    """The dotted training keys an operation changes (empty when it changes none)."""
    from studio.core.ops import SetTraining

    return [leaf.key for leaf in _leaves(op) if isinstance(leaf, SetTraining)]
