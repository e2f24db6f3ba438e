"""Tracing a user's ``nn.Module`` for import: symbolic first, then with an example input when forward branches.

torch.fx's symbolic trace stops at any Python decision on a traced value (``if input.is_cuda``,
``if has_mask``, ``len(src)``). Such decisions on *metadata* (device, dtype, shape, flags with
literal defaults) have one answer for a given input, so :class:`ConcreteTracer` traces again
while running every operation on a real example input: a branch on metadata is decided by the
example (and noted with the file and line), while a branch on tensor *values* is data-dependent
control flow that no graph can hold: the submodule whose forward branches becomes an opaque
node (with file and line), or the import fails naming the line when it is the model's own forward.

Tracing runs in eval mode (torchvision's auxiliary heads and training-only branches stay out) and
the fallback traces a copy, so side effects of forward (``self.mask = ...``) never touch the
user's model.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.fx
from torch import nn
from torch.fx.node import map_arg

__all__ = ["DataDependentBranch", "TraceResult", "trace_for_import"]

#: tensor attributes and methods that read metadata, never values
META_ATTRS = frozenset({"shape", "dtype", "device", "is_cuda", "ndim", "is_sparse", "is_quantized", "layout",
                        "requires_grad", "is_floating_point", "is_complex"})
META_METHODS = frozenset({"size", "dim", "numel", "is_floating_point", "is_complex", "get_device"})
_HERE = (str(Path(torch.__file__).parent), str(Path(__file__).parents[1]))
_UNKNOWN = object()


class ModelImportError(ValueError):
    """The model could not be traced or loaded; the message says why in plain words."""


class DataDependentBranch(Exception):
    """forward() made a Python decision on tensor values; ``module`` is the submodule path ('' = root)."""

    def __init__(self, module: str | None, where: str) -> None:
        super().__init__(where)
        self.module = module
        self.where = where


@dataclass
class TraceResult:
    graph: torch.fx.Graph
    root: nn.Module
    #: submodule path -> why it stays opaque (data-dependent control flow, with file and line)
    opaque: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: forward arguments fixed to their literal defaults (name -> value)
    fixed: dict[str, Any] = field(default_factory=dict)


def user_location() -> str:
    """``file.py:12`` of the innermost frame outside torch and NN Studio (the user's code)."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(_HERE) and "importlib" not in frame.filename:
            return f"{Path(frame.filename).name}:{frame.lineno}"
    return "forward()"


class ImportTracer(torch.fx.Tracer):
    """fx tracer whose leaves are decided by the importer (mapped, generic or opaque modules)."""

    proxy_buffer_attributes = True  # buffers used in forward (a position table) become graph values

    def __init__(self, is_leaf: Callable[[nn.Module, str], bool], opaque: dict[str, str]) -> None:
        super().__init__()
        self.decide = is_leaf
        self.opaque = opaque

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if module_qualified_name in self.opaque:
            return True
        return self.decide(m, module_qualified_name)


class _ConcreteProxy(torch.fx.Proxy):
    def __len__(self) -> int:
        return self.tracer.concrete_len(self)  # type: ignore[attr-defined]


class ConcreteTracer(ImportTracer):
    """Traces while running every operation on an example input, to decide branches on metadata."""

    def __init__(self, is_leaf: Callable[[nn.Module, str], bool], opaque: dict[str, str],
                 examples: list[Any], notes: list[str]) -> None:
        super().__init__(is_leaf, opaque)
        self.examples = examples
        self._placeholders = 0
        self.values: dict[torch.fx.Node, Any] = {}
        self.meta: set[torch.fx.Node] = set()
        self.notes = notes
        self.paths: dict[int, str] = {}
        self.evaluating = False

    def trace(self, root: Any, concrete_args: dict[str, Any] | None = None) -> torch.fx.Graph:
        self.paths = {id(m): name for name, m in root.named_modules()}
        self.root_module = root
        return super().trace(root, concrete_args)

    def proxy(self, node: torch.fx.Node) -> torch.fx.Proxy:
        return _ConcreteProxy(node, self)

    def call_module(self, m: nn.Module, forward: Callable, args: tuple, kwargs: dict) -> Any:
        if self.evaluating:  # running an operation for its value: no tracing inside it
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict) -> Any:
        if self.evaluating:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def create_proxy(self, kind: str, target: Any, args: tuple, kwargs: dict, name: str | None = None,
                     type_expr: Any = None, proxy_factory_fn: Any = None) -> torch.fx.Proxy:
        proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr, proxy_factory_fn)
        node = proxy.node
        self.values[node] = self._evaluate(node)
        inputs = [n for n in node.all_input_nodes]
        if (kind == "call_function" and target is getattr and len(node.args) > 1 and node.args[1] in META_ATTRS) \
                or (kind == "call_method" and target in META_METHODS) \
                or (kind == "call_function" and target is len) \
                or (kind == "call_function" and inputs and all(n in self.meta for n in inputs)) \
                or (kind == "placeholder" and not isinstance(self.values[node], torch.Tensor)):
            self.meta.add(node)
        return proxy

    def _evaluate(self, node: torch.fx.Node) -> Any:
        try:
            if node.op == "placeholder":
                index = self._placeholders
                self._placeholders += 1
                if index < len(self.examples) and self.examples[index] is not None:
                    return self.examples[index]
                return node.args[0] if node.args else _UNKNOWN
            args = map_arg(node.args, lambda n: self.values.get(n, _UNKNOWN))
            kwargs = map_arg(node.kwargs, lambda n: self.values.get(n, _UNKNOWN))
            if _has_unknown((args, kwargs)):
                return _UNKNOWN
            self.evaluating = True
            with torch.no_grad():
                if node.op == "call_function":
                    return node.target(*args, **kwargs)
                if node.op == "call_method":
                    return getattr(args[0], node.target)(*args[1:], **kwargs)
                if node.op == "call_module":
                    return self.root_module.get_submodule(node.target)(*args, **kwargs)
                if node.op == "get_attr":
                    value: Any = self.root_module
                    for part in str(node.target).split("."):
                        value = getattr(value, part)
                    return value
        except Exception:  # noqa: BLE001 - a value we cannot compute only matters if a branch needs it
            return _UNKNOWN
        finally:
            self.evaluating = False
        return _UNKNOWN

    def _decide(self, obj: torch.fx.Proxy, what: str) -> Any:
        node = obj.node
        value = self.values.get(node, _UNKNOWN)
        where = user_location()
        if node not in self.meta or value is _UNKNOWN:
            raise DataDependentBranch(self._module_of_caller(), where)
        self.notes.append(f"{where}: {what} decided for the example input ({value!r}); "
                          "other input shapes or devices may need another import")
        return value

    def _module_of_caller(self) -> str | None:
        frame = inspect.currentframe()
        while frame is not None:
            owner = frame.f_locals.get("self")
            if isinstance(owner, nn.Module) and id(owner) in self.paths and \
                    not frame.f_code.co_filename.startswith(_HERE[0]):
                return self.paths[id(owner)]
            frame = frame.f_back
        return None

    def to_bool(self, obj: torch.fx.Proxy) -> bool:
        return bool(self._decide(obj, "the branch"))

    def concrete_len(self, obj: torch.fx.Proxy) -> int:
        value = self.values.get(obj.node, _UNKNOWN)
        if isinstance(value, torch.Tensor):  # the first dimension: metadata, not values
            where = user_location()
            self.notes.append(f"{where}: len() of a tensor fixed to {len(value)} for the example input; "
                              "other input sizes need another import")
            return len(value)
        return len(self._decide(obj, "len()"))

    def iter(self, obj: torch.fx.Proxy) -> Iterator:
        value = self.values.get(obj.node, _UNKNOWN)
        if value is _UNKNOWN or not hasattr(value, "__len__"):
            raise DataDependentBranch(self._module_of_caller(), user_location())
        return iter([obj[i] for i in range(len(value))])


def _literal_defaults(module: nn.Module) -> dict[str, Any]:
    """forward() arguments with bool/int/float/str defaults (``has_mask=True``): traced as those values."""
    try:
        params = inspect.signature(module.forward).parameters
    except (TypeError, ValueError):
        return {}
    return {name: p.default for name, p in params.items()
            if p.default is not p.empty and type(p.default) in (bool, int, float, str)}


def _has_unknown(value: Any) -> bool:
    if value is _UNKNOWN:
        return True
    if isinstance(value, tuple | list):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return False


def _examples(names: list[str], fixed: dict[str, Any], shapes: list[tuple[int, ...] | None],
              integer: bool) -> list[Any]:
    """One value per forward argument, in order: the fixed literal, or an example tensor (or None)."""
    out: list[Any] = []
    free = iter(shapes)
    first = True
    for name in names:
        if name in fixed:
            out.append(fixed[name])
            continue
        shape = next(free, None)
        if isinstance(shape, list):
            out.append(tuple(torch.randn(part) for part in shape))
            continue
        out.append(None if shape is None else torch.zeros(shape, dtype=torch.long) if integer and first
                   else torch.randn(shape))
        first = False
    return out


@contextlib.contextmanager
def _watch_side_effects(root: nn.Module, notes: list[str]) -> Iterator[None]:
    """Notes each attribute forward() assigns on a module of the model (a Python side effect, not graph data)."""
    paths = {id(m): name for name, m in root.named_modules()}
    original = nn.Module.__setattr__

    def watched(self: nn.Module, name: str, value: Any) -> None:
        if id(self) in paths and not name.startswith(("_tensor_constant", "_param_constant")):  # fx's own
            owner = paths[id(self)]
            notes.append(f"{user_location()}: forward() sets {owner + '.' if owner else ''}{name}; this Python side "
                         "effect is not part of the graph (it ran once, while tracing)")
        original(self, name, value)

    nn.Module.__setattr__ = watched  # type: ignore[method-assign]
    try:
        yield
    finally:
        nn.Module.__setattr__ = original  # type: ignore[method-assign]


#: fx patches nn.Module globally while it traces (and so do we, to see side effects): one trace at a time
_TRACE_LOCK = threading.Lock()


def trace_for_import(module: nn.Module, is_leaf: Callable[[nn.Module, str], bool],
                     shapes: list[tuple[int, ...] | None]) -> TraceResult:
    """The fx graph of ``module`` in eval mode; see the module docstring for the fallbacks."""
    with _TRACE_LOCK:
        return _trace(module, is_leaf, shapes)


def _trace(module: nn.Module, is_leaf: Callable[[nn.Module, str], bool],
           shapes: list[tuple[int, ...] | None]) -> TraceResult:

    fixed = _literal_defaults(module)
    was_training = module.training
    module.eval()
    try:
        try:
            effects: list[str] = []
            with _watch_side_effects(module, effects):
                graph = ImportTracer(is_leaf, {}).trace(module, concrete_args=fixed or None)
            return TraceResult(graph, module, notes=list(dict.fromkeys(effects)), fixed=fixed)
        except Exception as exc:  # fx raises many types when forward decides on a traced value
            first = exc
        if not shapes or shapes[0] is None:
            raise ModelImportError(f"cannot trace {type(module).__name__}: {_one_line(first)} (forward() decides "
                                   "on a traced value; give an example input shape so it can be traced with it)")
        names = list(inspect.signature(module.forward).parameters)
        work = copy.deepcopy(module)  # tracing runs forward for real: its side effects stay on the copy
        work.eval()
        last: Exception = first
        for integer in (False, True):
            opaque: dict[str, str] = {}
            for _ in range(32):
                notes: list[str] = []
                tracer = ConcreteTracer(is_leaf, opaque, _examples(names, fixed, shapes, integer), notes)
                try:
                    with _watch_side_effects(work, notes):
                        graph = tracer.trace(work, concrete_args=fixed or None)
                except DataDependentBranch as branch:
                    if not branch.module or branch.module in opaque:
                        last = ModelImportError(
                            f"forward() of {type(module).__name__} branches on tensor values at {branch.where}; "
                            "data-dependent control flow cannot become a graph")
                        break
                    opaque[branch.module] = f"forward() branches on tensor values at {branch.where}"
                    continue
                except Exception as exc:  # noqa: BLE001 - try integer inputs (token ids) next
                    last = exc
                    break
                return TraceResult(graph, work, opaque, list(dict.fromkeys(notes)), fixed)
        if isinstance(last, ModelImportError):
            raise last
        raise ModelImportError(f"cannot trace {type(module).__name__}: {_one_line(first)}") from first
    finally:
        module.train(was_training)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
