"""Which torch names a graph may use: the allow-list of the generic nodes, in one place.

The generic node family (``nodes/generic.py``) builds and calls through it, and the importer
(``studio.compile``) asks it whether a traced class or function can become a generic node;
both sit above the core, so the list lives here. Nothing here imports the node families.
"""

from __future__ import annotations

import importlib
import inspect
import operator
from functools import lru_cache
from typing import Any

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from studio.core.spec import ParamError

MAX_INPUTS = 16
MAX_OUTPUTS = 4
#: module classes outside torch.nn / torchvision.ops a generic node may build (dotted path -> import module)
EXTRA_MODULES: frozenset[str] = frozenset()
#: functions outside torch / F / operator a generic call may name (torchvision's fx-wrapped helpers)
EXTRA_FUNCTIONS: frozenset[str] = frozenset({
    "torchvision.models.swin_transformer.shifted_window_attention",
    "torchvision.models.swin_transformer._get_relative_position_bias",
    "torchvision.models.swin_transformer._patch_merging_pad",
    "torchvision.ops.stochastic_depth",
})
_CLASS_ROOTS = ("torch.nn", "torchvision.ops")
#: functions in the torch namespace a graph must never call (files, global state, compilation)
_DENY = frozenset({
    "load", "save", "compile", "export", "manual_seed", "seed", "initial_seed", "set_default_dtype",
    "set_default_device", "set_default_tensor_type", "set_grad_enabled", "set_num_threads",
    "set_num_interop_threads", "set_printoptions", "set_rng_state", "use_deterministic_algorithms",
    "set_deterministic_debug_mode", "set_float32_matmul_precision", "set_warn_always", "from_file",
    "from_numpy", "frombuffer", "asarray", "as_tensor", "hub", "jit", "autograd", "backends", "cuda", "ops",
    "library", "classes", "register_hook", "backward", "storage", "untyped_storage", "share_memory_",
    "numpy", "tolist", "item", "data_ptr", "pin_memory", "record_stream", "set_", "resize_", "apply_",
    "map_", "map2_", "register_post_accumulate_grad_hook", "retain_grad", "requires_grad_", "detach_",
})
_SUBSPACES = {"torch.linalg": torch.linalg, "torch.fft": torch.fft, "torch.special": torch.special}
_DTYPES = {n: getattr(torch, n) for n in ("float32", "float64", "float16", "bfloat16", "int64", "int32",
                                           "int16", "int8", "uint8", "bool", "float", "double", "long", "int",
                                           "half", "complex64")}


class ArgsError(ParamError):
    """Argument text that is not a safe literal call; the message says which part."""


def resolve_class(path: str) -> type:
    """The module class a generic node may build, or :class:`ArgsError` saying why not."""
    if not isinstance(path, str) or not all(p.isidentifier() for p in path.split(".")):
        raise ArgsError(f"{path!r} is not a dotted class path")
    root, _, name = path.rpartition(".")
    if root not in _CLASS_ROOTS and path not in EXTRA_MODULES:
        raise ArgsError(f"{path}: only torch.nn and torchvision.ops classes can be used")
    try:
        cls = getattr(importlib.import_module(root), name)
    except (ImportError, AttributeError):
        raise ArgsError(f"{path} does not exist") from None
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)) or name.startswith("_") or cls is nn.Module:
        raise ArgsError(f"{path} is not an nn.Module layer class")
    return cls


def class_path(cls: type) -> str | None:
    """``nn.Conv2d`` -> ``"torch.nn.Conv2d"``: the public path a generic node names, or None."""
    for root in _CLASS_ROOTS:
        try:
            space = importlib.import_module(root)
        except ImportError:
            continue
        if getattr(space, cls.__name__, None) is cls:
            return f"{root}.{cls.__name__}"
    full = f"{cls.__module__}.{cls.__qualname__}"
    return full if full in EXTRA_MODULES else None


@lru_cache(maxsize=512)
def resolve_function(path: str) -> tuple[Any, bool]:
    """(callable, is_method) for ``torch.exp`` / ``F.interpolate`` / ``operator.add`` / ``Tensor.view``."""
    if not isinstance(path, str) or not all(p.isidentifier() for p in path.split(".")):
        raise ArgsError(f"{path!r} is not a dotted function name")
    space, _, name = path.rpartition(".")
    if path in EXTRA_FUNCTIONS:
        try:
            return getattr(importlib.import_module(space), name), False
        except (ImportError, AttributeError):
            raise ArgsError(f"{path} does not exist") from None
    if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
        raise ArgsError(f"{path}: private functions cannot be used")
    if name in _DENY:
        raise ArgsError(f"{path} is not allowed in a graph (it has effects outside the model)")
    if space == "Tensor":
        target = getattr(torch.Tensor, name, None)
        if target is None or not callable(target):
            raise ArgsError(f"tensors have no method {name!r}")
        return target, True
    namespaces: dict[str, Any] = {"torch": torch, "F": F, "torch.nn.functional": F, "operator": operator,
                                  **_SUBSPACES}
    if space not in namespaces:
        raise ArgsError(f"{path}: only torch, torch.nn.functional, operator and Tensor methods can be called")
    target = getattr(namespaces[space], name, None)
    if target is None or isinstance(target, type) or inspect.ismodule(target) or not callable(target):
        raise ArgsError(f"{path} is not a function")
    return target, False


def function_path(target: Any) -> str | None:
    """The allow-listed dotted name of a traced call target, or None."""
    if isinstance(target, str):
        return f"Tensor.{target}"
    name = getattr(target, "__name__", None)
    if not isinstance(name, str):
        return None
    full = f"{getattr(target, '__module__', '')}.{name}"
    if full in EXTRA_FUNCTIONS:
        return full
    for space, ns in (("F", F), ("torch", torch), ("operator", operator), *_SUBSPACES.items()):
        if getattr(ns, name, None) is target:
            path = f"{space}.{name}"
            try:
                resolve_function(path)
            except ArgsError:
                return None
            return path
    return None



#: dtypes a parameter node may hold
PARAMETER_DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "bool")
