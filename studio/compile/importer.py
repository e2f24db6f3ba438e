"""An existing ``nn.Module`` -> an editable graph of registry nodes, with its weights.

How calls become nodes (coverage by design, not by list):

- a leaf module maps to its dedicated node when the spec rebuilds an identical module (same
  class, settings and state-dict shapes; :mod:`studio.compile.leaf_mapping`); otherwise any
  ``torch.nn`` / ``torchvision.ops`` module becomes a ``generic.module`` node (class path and
  literal constructor arguments, the real class built, so its weights keep their names);
- a function or tensor method maps through :mod:`studio.compile.imports_table` to a dedicated node,
  else to a ``generic.function`` node (allow-listed torch / F / operator / Tensor calls with
  literal arguments; sizes such as ``x.size(0)`` or ``x.shape[-2:]`` stay symbolic inside them);
- a parameter or buffer used directly in forward becomes a ``generic.parameter`` node;
- only what no graph can hold stays *opaque* (a submodule whose forward branches on tensor
  values, with the file and line; a call into arbitrary Python), listed by name in the report.

Tracing (:mod:`studio.compile.import_trace`) runs in eval mode and falls back to tracing with a
concrete example input when forward branches on metadata (``if input.is_cuda``, ``len(src)``).

Naming contract (what the compiler/exporter rely on to keep the original state_dict keys):

- a module node's **name** is ``identifier(path)`` of its original dotted module path
  (``layer1.0.conv1`` -> ``layer1_0_conv1``); a parameter node's name is that of the parameter's
  path (``encoder.pos_embedding`` -> ``encoder_pos_embedding``);
- its **group** is named by the dotted path of the parent module (``layer1.0``; top-level modules
  have no group), so the original path is ``group.name + "." + name[len(identifier(group.name)) + 1:]``
  (or just the name without a group); function nodes sit in the group of the module that called them;
- ``ImportReport.origin`` maps node id -> original dotted path, ``ImportReport.weights`` node id ->
  state dict relative to the node's module (a parameter node holds ``{"value": tensor}``), and
  ``ImportReport.frozen`` lists the nodes whose parameters had ``requires_grad=False``.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.fx
from torch import nn

from studio.compile.compiler import PARAMETER_NODE
from studio.compile.import_convert import Converter, Val
from studio.compile.import_trace import ModelImportError, trace_for_import
from studio.compile.leaf_mapping import LeafMapper, generic_arguments, mapper_for
from studio.core.layout import layered_layout
from studio.core.model import Edge, Graph, Group, Node, identifier
from studio.core.registry import Registry
from studio.core.shapes import ShapeInferencer

__all__ = ["ImportReport", "ModelImportError", "import_module", "import_from_file", "import_torchvision",
           "imported_state_dict"]

OPAQUE_PREFIX = "opaque."


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
    #: node ids whose parameters were all frozen (requires_grad=False) in the original
    frozen: list[str] = field(default_factory=list)
    #: where the app saved the imported weights (set by the import dialog; None until saved)
    weights_file: str | None = None

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
                group = Group(group_path)
                self.graph.groups[group.id] = group
                gid = self.groups[group_path] = group.id
            node.group = gid
        self.graph.nodes[node.id] = node
        return node

    def remove(self, node_id: str) -> None:
        for edge in self.graph.edges_of(node_id):
            del self.graph.edges[edge.id]
        del self.graph.nodes[node_id]

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


def _leaf_rule(mapper: LeafMapper, root: nn.Module) -> Callable[[nn.Module, str], bool]:
    """Which submodules stay one node: mapped ones, generic torch.nn/torchvision.ops ones, and any
    torch.nn module without children (it becomes an opaque node naming why); others are traced through.

    Decided for every submodule before tracing: while fx traces, attribute reads return proxies."""
    from studio.core.torch_names import class_path

    def decide(module: nn.Module) -> bool:
        if isinstance(module, nn.Sequential | nn.ModuleList | nn.ModuleDict):
            return False
        if mapper.is_mappable(module) and not isinstance(mapper.map(module), str):
            return True
        if class_path(type(module)) is None:
            return False
        return not isinstance(generic_arguments(module), str) or not any(module.children())

    decided = {name: decide(m) for name, m in root.named_modules() if name}

    def is_leaf(module: nn.Module, name: str) -> bool:
        if name not in decided:
            decided[name] = decide(module)
        return decided[name]
    return is_leaf


def import_module(module: nn.Module, registry: Registry, example_input_shape: Any = None,
                  name: str | None = None) -> tuple[Graph, ImportReport]:
    """Trace ``module`` (in eval mode) into a graph of registry nodes; see the module docstring for the rules.

    ``example_input_shape``: one shape (batch first) or a list of shapes, one per forward
    argument; used for Input nodes, to turn inferable parameters back to "auto", and to trace
    forwards that branch on metadata (``if x.is_cuda``) with a concrete example.
    """
    mapper = mapper_for(registry)
    title = name or type(module).__name__
    shapes = _input_shapes(example_input_shape)
    traced = trace_for_import(module, _leaf_rule(mapper, module), shapes)
    b = _Builder(registry, identifier(title, "model"), title)
    b.report.notes.extend(traced.notes)
    for arg, value in traced.fixed.items():
        b.report.notes.append(f"forward argument {arg} is fixed to its default {value!r}")
    convert = Converter(b, mapper, traced.root, traced.opaque)
    env = convert.env
    placeholders = [n for n in traced.graph.nodes if n.op == "placeholder"]
    arg_names = _forward_names(module)
    free = 0
    for fxn in traced.graph.nodes:
        if fxn.op == "placeholder":
            index = placeholders.index(fxn)
            arg = arg_names[index] if index < len(arg_names) else str(fxn.target)
            if arg in traced.fixed or (fxn.args and fxn.args[0] is None):
                env[fxn] = Val(literal=traced.fixed.get(arg))
                continue
            shape = shapes[free] if free < len(shapes) else None
            free += 1
            if isinstance(shape, list):  # a tuple argument (an LSTM's (h, c)): one Input per part
                parts = {}
                for i, part in enumerate(shape):
                    node = b.add("io.input", identifier(f"{arg}_{i}", "x"), {"shape": list(part[1:]),
                                                                              "dtype": "float32"})
                    parts[str(i)] = (node.id, "out")
                env[fxn] = Val(picks=parts)
                continue
            node = b.add("io.input", identifier(arg, "x"),
                         {"shape": list(shape[1:]) if shape else [1], "dtype": "float32"})
            if shape is None:
                b.unknown_inputs.append(node.id)
            env[fxn] = Val(ref=(node.id, "out"))
        elif fxn.op == "call_module":
            convert.module_call(fxn)
        elif fxn.op in ("call_function", "call_method"):
            convert.function_call(fxn)
        elif fxn.op == "get_attr":
            convert.get_attr(fxn)
        elif fxn.op == "output":
            _outputs(b, convert, fxn.args[0])
    if b.report.frozen:
        names = ", ".join(b.graph.nodes[n].name for n in b.report.frozen[:8])
        more = f" and {len(b.report.frozen) - 8} more" if len(b.report.frozen) > 8 else ""
        b.report.notes.append(f"{len(b.report.frozen)} nodes had frozen parameters (requires_grad=False) and "
                              f"are set to freeze in training: {names}{more}")
    _finish(b, example_input_shape is not None)
    return b.graph, b.report


def _forward_names(module: nn.Module) -> list[str]:
    try:
        return list(inspect.signature(module.forward).parameters)
    except (TypeError, ValueError):
        return []


def _outputs(b: _Builder, convert: Converter, results: Any) -> None:
    """One Output node per returned tensor (tuples, nested tuples and dicts are flattened in order)."""
    items: list[Any] = []

    def flatten(value: Any) -> None:
        if isinstance(value, tuple | list):
            for v in value:
                flatten(v)
        elif isinstance(value, dict):
            for v in value.values():
                flatten(v)
        else:
            items.append(value)
    flatten(results)
    refs: list[tuple[str, str]] = []
    for item in items:
        val = convert.env.get(item) if isinstance(item, torch.fx.Node) else None
        if val is not None and val.picks is not None and val.ref is None:
            prefix = val.prefix + "." if val.prefix else ""
            refs.extend(ref for path, ref in val.picks.items() if path.startswith(prefix) or not val.prefix)
            continue
        found = convert.refs(item)
        if len(found) != 1:
            b.report.notes.append("a returned value is not a single tensor and is left out")
            continue
        refs.append(found[0])
    for i, ref in enumerate(refs):
        out = b.add("io.output", "output" if len(refs) == 1 else f"output_{i}")
        b.wire(ref, out.id, "in")


def _input_shapes(example: Any) -> list[tuple[int, ...] | None]:
    if example is None:
        return []
    if isinstance(example, torch.Size) or (isinstance(example, tuple | list) and example
                                           and all(isinstance(d, int) for d in example)):
        return [tuple(example)]
    return [None if s is None else [tuple(p) for p in s] if s and isinstance(s[0], tuple | list | torch.Size)
            else tuple(s) for s in example]


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
        if any(c.type_id == "nn.embedding" or (c.type_id == "generic.module" and c.params.get("cls") in
                                                 ("torch.nn.Embedding", "torch.nn.EmbeddingBag"))
               for c in consumers):
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
        inferencer = ShapeInferencer(registry)  # one instance: the second pass reuses what the first ran
        shapes = inferencer.infer(graph)
        for node_id, values in explicit.items():
            info = shapes.nodes.get(node_id)
            for pname, value in values.items():
                got = info.resolved.get(pname) if info is not None and not info.error else None
                if got is None or _norm(got) != _norm(value):
                    graph.nodes[node_id].params[pname] = value
        shapes = inferencer.infer(graph)
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
            # a parameter node's tensor is stored at the node's own path, like the original model's
            state[step.target if step.spec.type_id == PARAMETER_NODE else f"{step.target}.{key}"] = value
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
