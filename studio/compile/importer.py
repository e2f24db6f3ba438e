"""An existing ``nn.Module`` -> an editable graph of registry nodes (torch.fx symbolic trace).

Leaf modules map to the node whose spec builds an equivalent module: parameters are read from
the module's attributes, the candidate is built on the meta device and accepted only when its
public attributes, ``repr`` and state-dict shapes match the original (so a mapped node computes
the same thing). Functions and methods (add, mul, cat, flatten, mean, x[:, -1], ...) map through
a small table. Anything else becomes an *opaque* placeholder node that keeps its wires and is
listed in the report by name; nothing is dropped silently. Weights come along per node.
"""

from __future__ import annotations

import importlib.util
import operator
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.fx
from torch import nn

from studio.compile.imports_table import FunctionMatch, match_function
from studio.compile.leaf_mapping import LeafMapper, mapper_for
from studio.core.layout import layered_layout
from studio.core.model import Edge, Graph, Group, Node, identifier
from studio.core.registry import Registry
from studio.core.shapes import ShapeInferencer
from studio.core.spec import validate_params

__all__ = ["ImportReport", "ModelImportError", "import_module", "import_from_file", "import_torchvision",
           "imported_state_dict"]

OPAQUE_PREFIX = "opaque."


class ModelImportError(ValueError):
    """The model could not be traced or loaded; the message says why in plain words."""


@dataclass
class OpaqueOp:
    node_id: str
    name: str
    what: str
    reason: str


@dataclass
class ImportReport:
    """What the import did: mapped nodes, opaque nodes (by name), notes, and weights per node."""

    source: str
    mapped: int = 0
    opaque: list[OpaqueOp] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: node id -> state dict of the node's module (keys relative to the node's module)
    weights: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    #: node id -> dotted path of the original submodule (or fx node name for functions)
    origin: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.opaque

    def summary(self) -> str:
        text = f"Imported {self.source}: {self.mapped} nodes"
        if self.opaque:
            names = ", ".join(f"{o.name} ({o.what})" for o in self.opaque[:8])
            more = f" and {len(self.opaque) - 8} more" if len(self.opaque) > 8 else ""
            text += f"; {len(self.opaque)} could not be represented and are marked opaque: {names}{more}"
        return text


# ------------------------------------------------------------------------------ the importer


class _Tracer(torch.fx.Tracer):
    def __init__(self, mapper: LeafMapper) -> None:
        super().__init__()
        self.mapper = mapper

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return self.mapper.is_mappable(m) or super().is_leaf_module(m, module_qualified_name)


@dataclass
class _Val:
    """What an fx value is in the new graph: a port, a tuple of ports, a batch size, or opaque."""

    ref: tuple[str, str] | None = None
    ports: tuple[tuple[str, str], ...] | None = None
    batch_of: Any = None
    shape_of: Any = None


def _group_path(path: str) -> str | None:
    parts = path.split(".")[:-1]
    if not parts:
        return None
    for i, part in enumerate(parts):
        if part.isdigit():
            return ".".join(parts[: i + 1])
    return ".".join(parts)


class _Builder:
    def __init__(self, registry: Registry, name: str, source: str) -> None:
        self.registry = registry
        self.graph = Graph(name=name)
        self.report = ImportReport(source=source)
        self.groups: dict[str, str] = {}
        self.unknown_inputs: list[str] = []

    def add(self, type_id: str, name: str, params: dict[str, Any] | None = None, group_path: str | None = None,
            placeholder: dict[str, Any] | None = None) -> Node:
        node = Node(type_id=type_id, name=self.graph.unique_name(name), params=dict(params or {}),
                    placeholder=placeholder)
        if group_path:
            gid = self.groups.get(group_path)
            if gid is None:
                group = Group(identifier(group_path.replace(".", "_"), "block"))
                self.graph.groups[group.id] = group
                gid = self.groups[group_path] = group.id
            node.group = gid
        self.graph.nodes[node.id] = node
        return node

    def wire(self, src: tuple[str, str], dst: str, port: str) -> None:
        edge = Edge(src[0], src[1], dst, port)
        self.graph.edges[edge.id] = edge

    def opaque(self, name: str, what: str, reason: str, inputs: Sequence[tuple[str, str]],
               group_path: str | None, outputs: int = 1) -> Node:
        type_id = OPAQUE_PREFIX + identifier(what.split(".")[-1], "op")
        node = self.add(type_id, name, group_path=group_path, placeholder={
            "type": type_id, "name": name, "params": {}, "opaque": True, "what": what, "reason": reason,
            "inputs": [f"in{i}" for i in range(len(inputs))], "outputs": ["out"] if outputs == 1 else
            [f"out{i}" for i in range(outputs)]})
        for i, ref in enumerate(inputs):
            self.wire(ref, node.id, f"in{i}")
        self.report.opaque.append(OpaqueOp(node.id, node.name, what, reason))
        return node


def _refs(args: Any, env: dict[torch.fx.Node, _Val]) -> list[tuple[str, str]]:
    """Every graph value a call consumes, flattening tuples, lists and dicts of fx nodes."""
    out: list[tuple[str, str]] = []
    if isinstance(args, tuple | list):
        for item in args:
            out.extend(_refs(item, env))
    elif isinstance(args, dict):
        for item in args.values():
            out.extend(_refs(item, env))
    elif isinstance(args, torch.fx.Node) and args in env:
        val = env[args]
        if val.ref is not None:
            out.append(val.ref)
        elif val.ports:
            out.extend(p for p in val.ports if p[1] != "<state>")
    return out


def import_module(module: nn.Module, registry: Registry, example_input_shape: Any = None,
                  name: str | None = None) -> tuple[Graph, ImportReport]:
    """Trace ``module`` into a graph of registry nodes; see the module docstring for the rules.

    ``example_input_shape``: one shape (batch first) or a list of shapes, one per forward
    argument; used for Input nodes and to turn inferable parameters back to "auto".
    """
    mapper = mapper_for(registry)
    title = name or type(module).__name__
    try:
        fx_graph = _Tracer(mapper).trace(module)
    except Exception as exc:  # fx raises many types for data-dependent control flow
        raise ModelImportError(f"cannot trace {title}: {type(exc).__name__}: {str(exc).splitlines()[0]} "
                               "(forward() may branch on tensor values)") from exc
    b = _Builder(registry, identifier(title, "model"), title)
    env: dict[torch.fx.Node, _Val] = {}
    shapes = _input_shapes(example_input_shape)
    placeholders = [n for n in fx_graph.nodes if n.op == "placeholder"]
    for fxn in fx_graph.nodes:
        group = _fx_group(fxn)
        if fxn.op == "placeholder":
            index = placeholders.index(fxn)
            shape = shapes[index] if index < len(shapes) else None
            node = b.add("io.input", identifier(fxn.target, "x"),
                         {"shape": list(shape[1:]) if shape else [1], "dtype": "float32"})
            if shape is None:
                b.unknown_inputs.append(node.id)
            env[fxn] = _Val(ref=(node.id, "out"))
        elif fxn.op == "call_module":
            _import_module_call(b, mapper, module, fxn, env, group)
        elif fxn.op in ("call_function", "call_method"):
            if not fxn.users:  # a value nothing uses (the unused half of `out, _ = lstm(x)`)
                env[fxn] = _Val()
                continue
            _import_function(b, fxn, env, group)
        elif fxn.op == "get_attr":
            b.report.notes.append(f"{fxn.target}: a parameter used directly in forward()")
            env[fxn] = _Val()
        elif fxn.op == "output":
            results = fxn.args[0]
            items = list(results) if isinstance(results, tuple | list) else [results]
            for i, item in enumerate(items):
                out = b.add("io.output", "output" if len(items) == 1 else f"output_{i}")
                refs = _refs(item, env)
                if len(refs) != 1:
                    b.report.notes.append(f"output {i} is not a single tensor")
                    continue
                b.wire(refs[0], out.id, "in")
    _finish(b, example_input_shape is not None)
    return b.graph, b.report


def _fx_group(fxn: torch.fx.Node) -> str | None:
    if fxn.op == "call_module":
        return _group_path(str(fxn.target))
    stack = fxn.meta.get("nn_module_stack") or {}
    if not stack:
        return None
    path = list(stack.values())[-1]
    path = path[0] if isinstance(path, tuple) else path
    return _group_path(f"{path}.x") if isinstance(path, str) and path else None


def _import_module_call(b: _Builder, mapper: LeafMapper, root: nn.Module, fxn: torch.fx.Node,
                        env: dict[torch.fx.Node, _Val], group: str | None) -> None:
    target = str(fxn.target)
    sub = root.get_submodule(target)
    name = identifier(target.replace(".", "_"), type(sub).__name__.lower())
    mapped = mapper.map(sub)
    args = [env.get(a) if isinstance(a, torch.fx.Node) else a for a in fxn.args]
    refs = [a.ref if isinstance(a, _Val) else None for a in args]
    kwargs_ok = all(k == "need_weights" for k in fxn.kwargs)
    if isinstance(mapped, str) or not kwargs_ok or any(r is None for r in refs):
        reason = mapped if isinstance(mapped, str) else "called with arguments the node cannot take"
        node = b.opaque(name, f"{type(sub).__module__}.{type(sub).__name__}", reason, _refs(fxn.args, env), group)
        env[fxn] = _Val(ref=(node.id, "out"))
        b.report.origin[node.id] = target
        return
    spec, params, prefix = mapped
    if len(refs) > len(spec.inputs):
        node = b.opaque(name, type(sub).__name__, f"{spec.title} takes {len(spec.inputs)} inputs, "
                        f"called with {len(refs)}", _refs(fxn.args, env), group)
        env[fxn] = _Val(ref=(node.id, "out"))
        return
    node = b.add(spec.type_id, name, params, group)
    for port, ref in zip(spec.inputs, refs, strict=False):
        b.wire(ref, node.id, port.name)
    b.report.mapped += 1
    shared = target in b.report.origin.values()
    b.report.origin[node.id] = target
    b.report.weights[node.id] = {prefix + k: v.detach().clone() for k, v in sub.state_dict().items()}
    if shared and b.report.weights[node.id]:
        b.report.notes.append(f"{target} is called more than once; each call became its own node with a copy "
                              "of the weights (they are no longer shared)")
    ports = tuple((node.id, p.name) for p in spec.outputs)
    if prefix and isinstance(sub, nn.RNNBase):
        env[fxn] = _Val(ports=((node.id, "out"), (node.id, "<state>")))  # only [0] (the sequence) maps
    elif len(ports) == 1:
        env[fxn] = _Val(ref=ports[0])
    else:
        env[fxn] = _Val(ports=ports)


def _import_function(b: _Builder, fxn: torch.fx.Node, env: dict[torch.fx.Node, _Val], group: str | None) -> None:
    target = fxn.target
    what = target if isinstance(target, str) else getattr(target, "__name__", str(target))
    # picking a port of a multi-output node (LSTM output, attention (out, weights))
    if target is operator.getitem and isinstance(fxn.args[0], torch.fx.Node):
        source = env.get(fxn.args[0])
        index = fxn.args[1]
        if source is not None and source.ports is not None and isinstance(index, int):
            if 0 <= index < len(source.ports) and source.ports[index][1] != "<state>":
                env[fxn] = _Val(ref=source.ports[index])
                return
        if source is not None and source.shape_of is not None and index == 0:
            env[fxn] = _Val(batch_of=source.shape_of)
            return
    if fxn.op == "call_method" and target == "size" and len(fxn.args) == 2 and fxn.args[1] == 0:
        env[fxn] = _Val(batch_of=fxn.args[0])
        return
    if target is getattr and len(fxn.args) == 2 and fxn.args[1] == "shape":
        env[fxn] = _Val(shape_of=fxn.args[0])
        return
    match: FunctionMatch | str = match_function(fxn, env)
    if isinstance(match, str):
        node = b.opaque(identifier(fxn.name, "op"), str(what), match, _refs(fxn.args, env), group)
        env[fxn] = _Val(ref=(node.id, "out"))
        b.report.origin[node.id] = fxn.name
        return
    spec = b.registry.find(match.type_id)
    problems = validate_params(spec, match.params) if spec is not None else {"*": "node type not installed"}
    if problems:
        node = b.opaque(identifier(fxn.name, "op"), str(what), "; ".join(problems.values()),
                        _refs(fxn.args, env), group)
        env[fxn] = _Val(ref=(node.id, "out"))
        return
    node = b.add(spec.type_id, identifier(fxn.name, "op"), match.params, group)
    for port, arg in zip(spec.inputs, match.inputs, strict=False):
        b.wire(env[arg].ref, node.id, port.name)  # type: ignore[arg-type]
    b.report.mapped += 1
    b.report.origin[node.id] = fxn.name
    env[fxn] = _Val(ref=(node.id, spec.outputs[0].name))


def _input_shapes(example: Any) -> list[tuple[int, ...] | None]:
    if example is None:
        return []
    if isinstance(example, torch.Size) or (isinstance(example, tuple | list) and example
                                           and all(isinstance(d, int) for d in example)):
        return [tuple(example)]
    return [tuple(s) if s is not None else None for s in example]


#: (type id, param) -> sample shape (without batch) built from that param's value, for Inputs of unknown shape
_GUESS: dict[str, Callable[[dict[str, Any]], tuple[list[int], str]]] = {
    "nn.linear": lambda p: ([p["in_features"]], "float32"),
    "nn.conv2d": lambda p: ([p["in_channels"], 32, 32], "float32"),
    "nn.conv1d": lambda p: ([p["in_channels"], 64], "float32"),
    "nn.batch_norm2d": lambda p: ([p["num_features"], 32, 32], "float32"),
    "nn.lstm": lambda p: ([16, p["input_size"]], "float32"),
    "nn.rnn": lambda p: ([16, p["input_size"]], "float32"),
    "nn.embedding": lambda p: ([16], "int64"),
    "nn.multihead_attention": lambda p: ([16, p["embed_dim"]], "float32"),
}


def _guess_inputs(b: _Builder) -> None:
    """Give Inputs of unknown shape a shape their first layer accepts, and int64 ids for embeddings."""
    graph = b.graph
    for node in graph.nodes.values():
        if node.type_id != "io.input":
            continue
        consumers = [graph.nodes[e.dst] for e in graph.edges_from(node.id)]
        if any(c.type_id == "nn.embedding" for c in consumers):
            node.params["dtype"] = "int64"
        if node.id not in b.unknown_inputs:
            continue
        for consumer in consumers:
            guess = _GUESS.get(consumer.type_id)
            try:
                shape, dtype = guess(consumer.params) if guess else (None, "")
            except (KeyError, TypeError):
                shape = None
            if shape and all(isinstance(d, int) for d in shape):
                node.params.update(shape=shape, dtype=dtype)
                b.report.notes.append(f"input {node.name}: shape guessed as {tuple(shape)} from {consumer.name}; "
                                      "check it on the Input node")
                break
        else:
            b.report.notes.append(f"input {node.name}: shape unknown, set it on the Input node")


def _finish(b: _Builder, known_shapes: bool) -> None:
    """Params back to "auto" where inference agrees, then lay the graph out left to right."""
    graph, registry = b.graph, b.registry
    _guess_inputs(b)
    if known_shapes and not b.report.opaque:
        explicit: dict[str, dict[str, Any]] = {}
        for node in graph.nodes.values():
            spec = registry.find(node.type_id)
            if spec is None:
                continue
            for p in spec.params:
                if p.inferable and node.params.get(p.name) is not None:
                    explicit.setdefault(node.id, {})[p.name] = node.params[p.name]
                    node.params[p.name] = None
        shapes = ShapeInferencer(registry).infer(graph)
        for node_id, values in explicit.items():
            info = shapes.nodes.get(node_id)
            for pname, value in values.items():
                got = info.resolved.get(pname) if info is not None and not info.error else None
                if got is None or _norm(got) != _norm(value):
                    graph.nodes[node_id].params[pname] = value
        shapes = ShapeInferencer(registry).infer(graph)
        for node_id, info in shapes.nodes.items():
            if info.error:
                b.report.notes.append(f"{graph.nodes[node_id].name}: {info.error}")
    for node_id, pos in layered_layout(graph).items():
        graph.nodes[node_id].position = pos


def _norm(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def imported_state_dict(graph: Graph, registry: Registry, report: ImportReport) -> dict[str, torch.Tensor]:
    """The imported weights keyed like the compiled (and exported) module's state_dict."""
    from studio.compile.plan import build_plan

    plan = build_plan(graph, registry)
    state: dict[str, torch.Tensor] = {}
    for step in plan.steps:
        for key, value in report.weights.get(step.node_id, {}).items():
            state[f"{step.target}.{key}"] = value
    return state


def import_from_file(path: str | Path, class_name: str, registry: Registry,
                     example_input_shape: Any = None) -> tuple[Graph, ImportReport]:
    """Load ``class_name`` from a Python file the user chose (this runs that file) and import it.

    The class must construct without arguments.
    """
    source = Path(path)
    if not source.is_file():
        raise ModelImportError(f"no such file: {source}")
    if not class_name.isidentifier():
        raise ModelImportError(f"{class_name!r} is not a class name")
    module_name = f"nnstudio_import_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(module_name, source)
    if spec is None or spec.loader is None:
        raise ModelImportError(f"cannot load {source.name} as Python")
    py = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = py
    try:
        spec.loader.exec_module(py)
        cls = getattr(py, class_name, None)
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise ModelImportError(f"{source.name} has no nn.Module class named {class_name!r}")
        try:
            instance = cls()
        except TypeError as exc:
            raise ModelImportError(f"{class_name}() needs arguments ({exc}); give it defaults to import it") from exc
        return import_module(instance, registry, example_input_shape, name=class_name)
    except ModelImportError:
        raise
    except Exception as exc:
        raise ModelImportError(f"{source.name} failed to run: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.modules.pop(module_name, None)


def import_torchvision(name: str, registry: Registry,
                       example_input_shape: Any = (1, 3, 224, 224)) -> tuple[Graph, ImportReport]:
    """A torchvision classification model by name (random weights: ``weights=None``)."""
    from torchvision import models

    known = set(models.list_models(module=models))
    if name not in known:
        raise ModelImportError(f"torchvision has no classification model {name!r}")
    return import_module(models.get_model(name, weights=None), registry, example_input_shape, name=name)
