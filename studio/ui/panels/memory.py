"""Training-memory estimate for a graph (no Qt): activations, parameters, gradients.

A node's output is not all it keeps for the backward pass: a ResNet or a transformer block
stores the output of every layer inside it. So each module node is built once on the ``meta``
device with forward hooks on its leaf layers, and the elements those layers produce are
counted (memoised by type, params and input shapes, like shape inference). Big graphs fall back
to counting node outputs only, which keeps the summary quick.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from studio.core.buildctx import building_for_shapes
from studio.core.model import Graph
from studio.core.registry import Registry
from studio.core.shapes import SHAPE_BATCH, GraphShapes, NodeShapes, hashable, torch_dtype

DTYPE_BYTES = {"float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "int32": 4, "int64": 8, "bool": 1,
               "uint8": 1, "int8": 1}
#: bytes per parameter (models are built in float32)
PARAM_BYTES = 4
#: graphs with more nodes than this count node outputs only (no per-layer build)
DEEP_COUNT_LIMIT = 300

_cache: OrderedDict[tuple, int] = OrderedDict()
_CACHE_SIZE = 2048


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes one training step of ``batch`` samples needs (optimizer state apart)."""

    batch: int
    activations: int
    params: int
    grads: int
    adam_state: int
    #: True when layers inside composite nodes were counted too
    deep: bool = True

    @property
    def total(self) -> int:
        return self.activations + self.params + self.grads


def _output_bytes_per_sample(info: NodeShapes) -> int:
    return sum(t.numel_per_sample * DTYPE_BYTES.get(t.dtype, 4) for t in info.outputs.values())


def inner_activation_bytes(spec, info: NodeShapes) -> int | None:
    """Bytes per sample produced by the leaf layers inside a module node (None: cannot tell)."""
    if spec.module is None or info.error or not info.outputs:
        return None
    ins = [info.inputs.get(p.name) for p in spec.inputs]
    while ins and ins[-1] is None:
        ins.pop()
    key = (spec.type_id, spec.version, hashable(info.resolved),
           tuple(None if t is None else (t.shape, t.dtype) for t in ins))
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    import torch

    total = 0

    def count(_module, _inputs, output) -> None:
        nonlocal total
        stack = [output]
        while stack:
            item = stack.pop()
            if isinstance(item, torch.Tensor):
                total += item.numel() * item.element_size()
            elif isinstance(item, list | tuple):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(item.values())

    try:
        with torch.no_grad(), building_for_shapes():
            with torch.device("meta"):
                module = spec.build(info.resolved)
            leaves = [m for m in module.modules() if next(m.children(), None) is None]
            handles = [m.register_forward_hook(count) for m in leaves]
            tensors = [None if t is None else torch.empty(t.shape, dtype=torch_dtype(t.dtype), device="meta")
                       for t in ins]
            module(*tensors)
            for handle in handles:
                handle.remove()
    except Exception:  # whatever the layer does on meta, the estimate just falls back
        return None
    per_sample = total // SHAPE_BATCH
    _cache[key] = per_sample
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return per_sample


def estimate_memory(graph: Graph | None, registry: Registry | None, shapes: GraphShapes, batch: int,
                    deep: bool = True) -> MemoryEstimate:
    """Activations for ``batch`` samples + float32 params + gradients (+ Adam state, apart).

    With ``deep`` (and a graph of at most :data:`DEEP_COUNT_LIMIT` nodes) layers inside
    composite nodes are counted; otherwise only what flows on the wires.
    """
    deep = deep and graph is not None and registry is not None and len(shapes.nodes) <= DEEP_COUNT_LIMIT
    per_sample = 0
    for node_id, info in shapes.nodes.items():
        outputs = _output_bytes_per_sample(info)
        inner = None
        if deep:
            node = graph.nodes.get(node_id)
            spec = registry.find(node.type_id) if node is not None else None
            if spec is not None:
                inner = inner_activation_bytes(spec, info)
        per_sample += max(outputs, inner or 0)
    return MemoryEstimate(batch=batch, activations=per_sample * batch, params=shapes.total_params * PARAM_BYTES,
                          grads=shapes.trainable_params * PARAM_BYTES,
                          adam_state=2 * shapes.trainable_params * PARAM_BYTES, deep=deep)
