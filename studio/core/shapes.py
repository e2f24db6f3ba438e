"""Live shape inference with PyTorch itself on the ``meta`` device.

Each layer is built on the meta device and meta tensors run through it: exact for every layer,
no memory, and PyTorch's own error lands on the node that failed (rephrased in plain words by
:mod:`studio.core.plain_errors`). Results are memoised by (type, params, input shapes), so after
an edit only the edited node and what lies downstream of it is recomputed.
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.core.buildctx import building_for_shapes
from studio.core.fast_shapes import fast_output_shape
from studio.core.graph_order import topological_order
from studio.core.model import Edge, Graph
from studio.core.plain_errors import plain_error
from studio.core.registry import Registry
from studio.core.spec import NodeSpec, ParamError, resolve_params

#: batch size used for meta tensors; shown to users as "B"
SHAPE_BATCH = 2


@dataclass(frozen=True)
class TensorInfo:
    """Shape (batch first) and dtype name of a tensor flowing on a wire."""

    shape: tuple[int, ...]
    dtype: str = "float32"

    @property
    def text(self) -> str:
        """Human form, batch shown as B: ``B×1×28×28``."""
        if not self.shape:
            return "scalar"
        dims = ["B" if i == 0 and d == SHAPE_BATCH else str(d) for i, d in enumerate(self.shape)]
        return "×".join(dims)

    @property
    def numel_per_sample(self) -> int:
        n = 1
        for d in self.shape[1:]:
            n *= d
        return n


@dataclass
class NodeShapes:
    """What inference learned about one node."""

    outputs: dict[str, TensorInfo] = field(default_factory=dict)
    inputs: dict[str, TensorInfo] = field(default_factory=dict)
    resolved: dict[str, Any] = field(default_factory=dict)
    params: int = 0
    trainable: int = 0
    error: str | None = None
    error_param: str | None = None
    #: True when the node could not run because something upstream failed or is missing
    blocked: bool = False


@dataclass
class GraphShapes:
    nodes: dict[str, NodeShapes] = field(default_factory=dict)

    @property
    def total_params(self) -> int:
        return sum(n.params for n in self.nodes.values())

    @property
    def trainable_params(self) -> int:
        return sum(n.trainable for n in self.nodes.values())

    def edge_info(self, edge: Edge) -> TensorInfo | None:
        node = self.nodes.get(edge.src)
        return None if node is None else node.outputs.get(edge.src_port)

    def errors(self) -> dict[str, str]:
        return {nid: n.error for nid, n in self.nodes.items() if n.error}


_DTYPES: dict[str, Any] = {}


def torch_dtype(name: str):
    import torch

    if not _DTYPES:
        _DTYPES.update(float32=torch.float32, float64=torch.float64, int64=torch.int64,
                       bool=torch.bool, float16=torch.float16, bfloat16=torch.bfloat16, int32=torch.int32)
    return _DTYPES.get(name, torch.float32)


def dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


_ELEMENTWISE: tuple[type, ...] | None = None


def elementwise_classes() -> tuple[type, ...]:
    """torch.nn classes whose output always has the input's shape and dtype and that accept any shape.

    Their meta forward runs through slow Python reference kernels and cannot fail on a floating
    input's shape, so :mod:`studio.core.fast_shapes` passes the input's shape straight through.
    """
    global _ELEMENTWISE
    if _ELEMENTWISE is None:
        from torch import nn

        _ELEMENTWISE = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh,
                        nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Mish, nn.Dropout, nn.Identity, nn.SELU,
                        nn.CELU, nn.Hardtanh, nn.Softsign, nn.Tanhshrink, nn.AlphaDropout)
    return _ELEMENTWISE


def hashable(value: Any) -> Any:
    """A hashable form of JSON-like params (lists become tuples, dicts sorted item tuples), for memo keys."""
    if isinstance(value, list | tuple):
        return tuple(hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, hashable(v)) for k, v in value.items()))
    return value


_UNSEEN: Any = object()


def _params_key(params: Mapping[str, Any]) -> Any:
    """A memo key for params: each value with its type (True, 1 and 1.0 are equal, not alike)."""
    key = tuple((k, type(v), v) for k, v in params.items())
    try:
        hash(key)
    except TypeError:  # list values
        return tuple((k, type(v), hashable(v)) for k, v in params.items())
    return key


class ShapeInferencer:
    """Infers shapes for graphs, memoising per-node results across calls (incremental)."""

    def __init__(self, registry: Registry, cache_size: int = 4096) -> None:
        self.registry = registry
        self._cache: OrderedDict[tuple, NodeShapes] = OrderedDict()
        self._cache_size = cache_size
        self.computed = 0  # nodes actually run on meta in the last infer() (for tests/benchmarks)

    def infer(self, graph: Graph) -> GraphShapes:

        self.computed = 0
        # a pass allocates thousands of small objects; a full collection of torch's large heap in the
        # middle of it costs more than the pass itself, so collect after instead of during
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._infer(graph)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _infer(self, graph: Graph) -> GraphShapes:
        import torch

        result = GraphShapes()
        order = topological_order(graph)
        incoming: dict[str, dict[str, Edge]] = {}
        for edge in graph.edges.values():
            incoming.setdefault(edge.dst, {})[edge.dst_port] = edge
        specs: dict[str, NodeSpec | None] = {}
        with torch.no_grad(), building_for_shapes():
            for node_id in order:
                node = graph.nodes[node_id]
                spec = specs.get(node.type_id, _UNSEEN)
                if spec is _UNSEEN:
                    spec = specs[node.type_id] = self.registry.find(node.type_id)
                if spec is None or node.placeholder is not None:
                    result.nodes[node_id] = NodeShapes(error=f"unknown node type '{node.type_id}'", blocked=True)
                    continue
                ins: dict[str, TensorInfo | None] = {}
                for port in spec.inputs:
                    edge = incoming.get(node_id, {}).get(port.name)
                    ins[port.name] = None if edge is None else result.edge_info(edge)
                result.nodes[node_id] = self._node(spec, node.params, ins, graph, incoming.get(node_id, {}))
        # nodes in cycles are not in the order: mark them
        for node_id in graph.nodes:
            if node_id not in result.nodes:
                result.nodes[node_id] = NodeShapes(error="part of a cycle: data cannot flow in a loop", blocked=True)
        return result

    def _node(self, spec: NodeSpec, params: Mapping[str, Any], ins: dict[str, TensorInfo | None],
              graph: Graph, edges: dict[str, Edge]) -> NodeShapes:
        missing = [p.name for p in spec.inputs if ins.get(p.name) is None and not p.optional]
        if missing:
            unconnected = [m for m in missing if m not in edges]
            if unconnected:
                return NodeShapes(error=f"input '{unconnected[0]}' is not connected", blocked=True)
            return NodeShapes(blocked=True)  # upstream failed; its own node shows the error
        key = (spec.type_id, spec.version, _params_key(params),
               tuple((k, None if v is None else (v.shape, v.dtype)) for k, v in ins.items()))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        self.computed += 1
        shapes = self._compute(spec, params, ins)
        self._cache[key] = shapes
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return shapes

    def _compute(self, spec: NodeSpec, params: Mapping[str, Any], ins: dict[str, TensorInfo | None]) -> NodeShapes:
        import torch

        connected = {k: v for k, v in ins.items() if v is not None}
        in_shapes = [v.shape if v is not None else None for v in ins.values()]
        out = NodeShapes(inputs=connected)
        try:
            out.resolved = resolve_params(spec, params, in_shapes)
        except ParamError as exc:
            out.error = str(exc)
            out.error_param = _param_named_in(spec, str(exc))
            return out
        if spec.role == "input":
            shape = (SHAPE_BATCH, *out.resolved.get("shape", ()))
            out.outputs = {spec.outputs[0].name: TensorInfo(tuple(shape), out.resolved.get("dtype", "float32"))}
            return out
        if spec.role == "output":
            return out
        try:
            # inside the try: even a meta tensor refuses a shape whose size overflows
            tensors = [torch.empty(v.shape, dtype=torch_dtype(v.dtype), device="meta") if v is not None else None
                       for v in ins.values()]
            while tensors and tensors[-1] is None:
                tensors.pop()  # trailing optional inputs stay unset
            if spec.module is not None:
                with torch.device("meta"):
                    module = spec.build(out.resolved)
                module.eval()
                shape = fast_output_shape(module, tensors)
                result = module(*tensors) if shape is None else tensors[0].new_empty(shape)
                out.params = sum(p.numel() for p in module.parameters())
                out.trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
            elif spec.function is not None:
                result = spec.function(*tensors, **spec.constructor_kwargs(out.resolved))
            else:
                raise TypeError(f"{spec.title} has neither a module nor a function")
        except Exception as exc:  # PyTorch's own message, rephrased, lands on this node
            out.error = plain_error(spec, exc, [t.shape for t in ins.values() if t is not None], out.resolved,
                                    batch=SHAPE_BATCH)
            return out
        values = result if isinstance(result, tuple | list) else (result,)
        for port, value in zip(spec.outputs, values, strict=False):
            if isinstance(value, torch.Tensor):
                out.outputs[port.name] = TensorInfo(tuple(value.shape), dtype_name(value.dtype))
        return out


def _param_named_in(spec: NodeSpec, message: str) -> str | None:
    for p in spec.params:
        if f"'{p.name}'" in message:
            return p.name
    return None
