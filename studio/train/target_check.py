"""Does the model's output fit what its paradigm trains it against? Checked while editing (no Qt).

The classic beginner mistake: Input (1×28×28) → Linear → ReLU → Linear on images, no Flatten.
Every layer is valid, so shape inference is happy, and the model returns B×1×28×64; training
used to fail only at F5 with a message about labels. This module compares, while the graph is
edited, the trained graph's Input with the chosen dataset's samples and its prediction with the
paradigm's target (class labels, values, the input itself, four Q-values), and proposes fixes
that are checked to work before they are offered: insert a Flatten before the first Linear that
sees more than one dimension, or take the dataset's sample shape for the Input. Each fix is one
core operation (a ``Batch``), so the editor applies it as one undo step.
"""

from __future__ import annotations

import copy
import functools
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from studio.core.factory import make_node
from studio.core.model import Edge, Graph, Project
from studio.core.ops import AddEdge, AddNode, Batch, Operation, RemoveEdge, SetParam
from studio.core.registry import Registry
from studio.core.shapes import GraphShapes, ShapeInferencer

# Datasets read from disk: known sample shapes (and class counts) without reading them.
FILE_SHAPES = {"mnist": ((1, 28, 28), 10), "fashion_mnist": ((1, 28, 28), 10), "cifar10": ((3, 32, 32), 10)}
TABLES = {"iris": (4, 3), "wine": (13, 3), "breast_cancer": (30, 2)}  # features, classes
SUPERVISED = ("classification", "regression", "sequence", "reconstruction")
DQN_ACTIONS = 4
CLASS_COUNT = "set the last layer's size to"


@dataclass(frozen=True)
class DataShape:
    """One sample of a dataset: input shape, target shape, task and class count."""

    x: tuple[int, ...]
    y: tuple[int, ...]
    task: str  # classification / regression / tokens
    classes: int
    integer_x: bool = False


@dataclass
class Fix:
    label: str
    make: Callable[[], Operation]  # a fresh operation each time (an operation is applied once)


@dataclass
class TargetIssue:
    """A mismatch between the model and its target, located at ``node_id``, with checked fixes."""

    message: str
    node_id: str | None
    fixes: list[Fix] = field(default_factory=list)
    code: str = "target"


def _dims(shape: tuple[int, ...]) -> str:
    return "×".join(["B", *(str(d) for d in shape)]) if shape else "B"


@functools.lru_cache(maxsize=32)
def _sample(name: str, params_json: str, input_shape: tuple[int, ...], seed: int) -> DataShape | None:
    from studio.train.data import DataError, load_data
    from studio.train.settings import DatasetSettings, SettingsError

    if name in FILE_SHAPES:
        x, classes = FILE_SHAPES[name]
        return DataShape(x, (), "classification", classes)
    params = json.loads(params_json)
    if name in TABLES:  # shipped in scikit-learn: known without importing it on the GUI thread
        features, classes = TABLES[name]
        return DataShape((features,), (), "classification", classes)
    if name == "digits" and isinstance(params.get("size", 8), int):
        size = int(params.get("size", 8))
        return DataShape((1, size, size), (), "classification", 10)
    image = _image_shape(name, params, input_shape)
    if image is not None:
        return image
    if "n" not in params:
        params["n"] = 16  # a few samples tell the shapes (the generator is seeded and cheap)
    try:
        bundle = load_data(DatasetSettings(name=name, params=params), seed, input_shape or None)
    except (DataError, SettingsError, ValueError, TypeError, OSError):
        return None
    classes = len(bundle.classes) or (int(bundle.train_y.max()) + 1 if not bundle.train_y.is_floating_point() else 0)
    return DataShape(tuple(bundle.train_x.shape[1:]), tuple(bundle.train_y.shape[1:]), bundle.task, classes,
                     not bundle.train_x.dtype.is_floating_point)


def _image_shape(name: str, params: dict[str, Any], input_shape: tuple[int, ...]) -> DataShape | None:
    """Image generators declare size and channels (taken from a 3-D Input when left out): their sample
    shape is known without drawing a single image."""
    from studio.train.synthetic import PARAMS

    decl = PARAMS.get(name, {})
    if not {"size", "channels", "classes"} <= set(decl):
        return None

    def value(key: str) -> int:
        if key in params:
            return int(params[key])
        src = decl[key].get("from_input")
        if src is not None and len(input_shape) == 3:
            return int(input_shape[src])
        return int(decl[key]["default"])

    try:
        size, channels, classes = value("size"), value("channels"), value("classes")
    except (TypeError, ValueError):
        return None
    return DataShape((channels, size, size), (), "classification", classes)


def dataset_shape(training: dict[str, Any], input_shape: tuple[int, ...] = ()) -> DataShape | None:
    """The chosen dataset's sample shape (image generators follow a 3-D Input); None for datasets read
    from files whose shape is not known in advance (image folders, CSV, text) or invalid settings."""
    ds = training.get("dataset") or {}
    name = str(ds.get("name") or "spirals")
    if name in ("image_folder", "csv", "text"):
        return None
    try:
        params_json = json.dumps(ds.get("params") or {}, sort_keys=True)
    except TypeError:
        return None
    return _sample(name, params_json, tuple(input_shape) if len(input_shape) == 3 else (), int(training.get("seed", 0)))


def _trained_graph(project: Project, training: dict[str, Any]) -> Graph | None:
    from studio.train.recipes.registry import trained_graphs

    try:
        graphs = trained_graphs(project, training)
    except KeyError:
        return None
    return graphs[0] if len(graphs) == 1 else None


def check(project: Project, graph: Graph, registry: Registry, shapes: GraphShapes | None = None) -> list[TargetIssue]:
    """The target mismatches of ``graph`` (empty when it is not the graph the paradigm trains, when
    its own shapes already fail, or when nothing is known about the target)."""
    training = project.training or {}
    recipe = str(training.get("recipe") or "classification")
    if recipe not in (*SUPERVISED, "dqn") or _trained_graph(project, training) is not graph:
        return []
    shapes = shapes if shapes is not None else ShapeInferencer(registry).infer(graph)
    if any(s.error for s in shapes.nodes.values()):
        return []  # shape errors come first; they are listed already
    issues = _check(project, graph, registry, shapes, recipe, training)
    for issue in issues:
        issue.fixes = [f for f in _candidate_fixes(issue, project, graph, registry, shapes, training)
                       if _fixes(f, project, graph, registry, issue)]
    return issues


def _check(project: Project, graph: Graph, registry: Registry, shapes: GraphShapes, recipe: str,
           training: dict[str, Any]) -> list[TargetIssue]:
    inputs = [n for n in graph.nodes.values() if n.type_id == "io.input"]
    outputs = [n for n in graph.nodes.values() if n.type_id == "io.output"]
    if len(inputs) != 1 or not outputs:
        return []
    inp = inputs[0]
    in_info = shapes.nodes.get(inp.id)
    if in_info is None or "out" not in in_info.outputs:
        return []
    x_shape = tuple(in_info.outputs["out"].shape[1:])
    prediction = next((o for o in outputs if (o.params.get("role") or "prediction") == "prediction"), outputs[0])
    out_info = shapes.nodes.get(prediction.id)
    if out_info is None or not out_info.inputs:
        return []
    out = tuple(next(iter(out_info.inputs.values())).shape[1:])
    if recipe == "dqn":
        if out != (DQN_ACTIONS,):
            return [TargetIssue(f"the Q-network returns {_dims(out)}; it must return B×{DQN_ACTIONS} "
                                f"(one value per action: up, right, down, left)", _culprit(graph, shapes, prediction.id))]
        return []
    if "dataset" not in training:
        return []  # no dataset chosen yet: nothing to compare with
    data = dataset_shape(training, x_shape)
    if data is None:
        return []
    ds_name = str((training.get("dataset") or {}).get("name") or "spirals")
    if data.x != x_shape:
        return [TargetIssue(f"Input '{inp.name}' is {_dims(x_shape)} but dataset '{ds_name}' gives samples of "
                            f"{_dims(data.x)}", inp.id, code="input")]
    task = {"classification": "classification", "regression": "regression", "reconstruction": "reconstruction"}.get(
        recipe, "regression" if data.task == "regression" else "classification")
    bce = ((training.get("loss") or {}).get("name") == "bce")
    reason = _mismatch(out, data, task, bce)
    if reason is None:
        return []
    return [TargetIssue(f"the model returns {_dims(out)} but {reason}", _culprit(graph, shapes, prediction.id))]


def _mismatch(out: tuple[int, ...], data: DataShape, task: str, bce: bool) -> str | None:
    """Why a per-sample output ``out`` cannot be trained against ``data``'s target (None: it can)."""
    y = data.y
    if task == "reconstruction":
        if out != data.x and _squeezed(out) != _squeezed(data.x):
            return f"a reconstruction must match the input {_dims(data.x)}"
        return None
    if task == "classification":
        if bce:
            if _numel(out) != _numel(y):
                return f"binary cross-entropy needs one score per sample ({_dims(y)})"
            return None
        classes = data.classes
        per = f"{classes} class scores per " + ("sample" if not y else f"position of {_dims(y)}")
        if len(out) == len(y) + 1 and out[:-1] == y:
            k = out[-1]
        elif len(out) == len(y) + 1 and len(out) > 1 and out[1:] == y:
            k = out[0]
        else:
            want = f": {_dims((*y, classes))}" if classes else ""
            return f"the labels need {per}{want}"
        if classes and k < classes:
            return f"the labels need {per}; {CLASS_COUNT} {classes}"
        return None
    if out != y and _squeezed(out) != _squeezed(y):
        return f"the targets are {_dims(y)}"
    return None


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(d for d in shape if d != 1)


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _culprit(graph: Graph, shapes: GraphShapes, output_id: str) -> str:
    """The node to show in red: the first Linear fed more than one dimension per sample (the missing
    Flatten), else the layer feeding the Output."""
    linear = _first_unflattened_linear(graph, shapes)
    if linear is not None:
        return linear
    edge = next((e for e in graph.edges.values() if e.dst == output_id), None)
    return edge.src if edge is not None else output_id


def _first_unflattened_linear(graph: Graph, shapes: GraphShapes) -> str | None:
    for node in _topological(graph):
        if node.type_id != "nn.linear":
            continue
        info = shapes.nodes.get(node.id)
        if info is None or not info.inputs:
            continue
        shape = next(iter(info.inputs.values())).shape
        if len(shape) > 2:
            return node.id
    return None


def _topological(graph: Graph) -> list[Any]:
    indeg = {nid: 0 for nid in graph.nodes}
    out: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    for e in graph.edges.values():
        if e.dst in indeg and e.src in out:
            indeg[e.dst] += 1
            out[e.src].append(e.dst)
    ready = deque(nid for nid in graph.nodes if indeg[nid] == 0)
    order = []
    while ready:
        nid = ready.popleft()
        order.append(graph.nodes[nid])
        for dst in out[nid]:
            indeg[dst] -= 1
            if indeg[dst] == 0:
                ready.append(dst)
    return order


# -- fixes ---------------------------------------------------------------------------------------
def _candidate_fixes(issue: TargetIssue, project: Project, graph: Graph, registry: Registry, shapes: GraphShapes,
                     training: dict[str, Any]) -> list[Fix]:
    fixes: list[Fix] = []
    linear = _first_unflattened_linear(graph, shapes)
    if linear is not None:
        name = graph.nodes[linear].name
        fixes.append(Fix(f"Insert Flatten before '{name}'", lambda: insert_flatten(graph, registry, linear)))
    inputs = [n for n in graph.nodes.values() if n.type_id == "io.input"]
    if len(inputs) == 1:
        inp = inputs[0]
        data = dataset_shape(training, ())
        if data is not None and tuple(inp.params.get("shape") or ()) != data.x:
            fixes.append(Fix(f"Set Input '{inp.name}' to the dataset's shape {list(data.x)}",
                             lambda: take_dataset_shape(graph, inp.id, data)))
    return fixes


def _fixes(fix: Fix, project: Project, graph: Graph, registry: Registry, issue: TargetIssue) -> bool:
    """Whether ``fix`` removes the issue (tried on a copy of the project)."""
    trial = Project(name=project.name, graphs=[copy.deepcopy(graph)], training=copy.deepcopy(project.training))
    try:
        op = fix.make()
        op.apply(trial)
    except Exception:
        return False
    g = trial.graph(graph.id)
    shapes = ShapeInferencer(registry).infer(g)
    if any(s.error for s in shapes.nodes.values()):
        return False
    left = [i for i in _check(trial, g, registry, shapes, str(trial.training.get("recipe") or "classification"),
                              trial.training or {}) if i.code == issue.code]
    # fixed, or only the class count is left (the layout is right; the size is a separate, named step)
    return all(CLASS_COUNT in i.message and CLASS_COUNT not in issue.message for i in left)


def insert_flatten(graph: Graph, registry: Registry, linear_id: str) -> Operation:
    """One undo step: a Flatten on the wire into ``linear_id`` (its in_features back to automatic)."""
    edge = next(e for e in graph.edges.values() if e.dst == linear_id)
    src, dst = graph.nodes[edge.src], graph.nodes[linear_id]
    pos = ((src.position[0] + dst.position[0]) / 2, (src.position[1] + dst.position[1]) / 2 + 70)
    flat = make_node(registry.get("nn.flatten"), graph, pos)
    ops: list[Operation] = [RemoveEdge(graph.id, edge.id), AddNode(graph.id, flat),
                            AddEdge(graph.id, Edge(edge.src, edge.src_port, flat.id, "in")),
                            AddEdge(graph.id, Edge(flat.id, "out", linear_id, edge.dst_port))]
    if dst.params.get("in_features") is not None:
        ops.append(SetParam(graph.id, linear_id, "in_features", None))
    return Batch(ops, label=f"Insert Flatten before '{dst.name}'")


def take_dataset_shape(graph: Graph, input_id: str, data: DataShape) -> Operation:
    """One undo step: the Input takes the dataset's sample shape (and an integer dtype for token ids)."""
    ops: list[Operation] = [SetParam(graph.id, input_id, "shape", list(data.x))]
    node = graph.nodes[input_id]
    dtype = str(node.params.get("dtype") or "float32")
    if data.integer_x and not dtype.startswith("int"):
        ops.append(SetParam(graph.id, input_id, "dtype", "int64"))
    return Batch(ops, label=f"Set Input '{node.name}' to the dataset's shape")
