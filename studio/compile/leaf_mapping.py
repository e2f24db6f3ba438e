"""Leaf modules -> registry nodes: read params off the module, rebuild, accept only an identical module.

A candidate spec is built on the meta device from the module's attributes and accepted only
when its class, public settings (recursively, children included) and state-dict shapes equal
the original's, so the node provably computes the same function with the same weights.
Wrapper specs (an LSTM inside ``RecurrentLayer``) match through their single torch child.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from studio.core.buildctx import building_for_shapes
from studio.core.registry import Registry
from studio.core.spec import NodeSpec, ParamError, validate_params

#: attributes that do not change what a module computes
_IGNORED_ATTRS = {"training", "inplace"}
#: per class, how to read a spec param the module does not store under the same name
_ATTR_READERS: dict[str, Callable[[nn.Module], Any]] = {
    "bias": lambda m: (m.in_proj_bias is not None) if isinstance(m, nn.MultiheadAttention)
    else (getattr(m, "bias", None) is not None),
    "cell": lambda m: type(m).__name__.lower(),
}


#: NN Studio's wrapper layers keep their settings on children; read them back by class name (the
#: rebuilt module is still compared with the original, so a wrong reading is refused, never used)
_CLASS_READERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "RecurrentLayer": lambda m: {"input_size": m.rnn.input_size, "hidden_size": m.rnn.hidden_size,
                                 "num_layers": m.rnn.num_layers, "bidirectional": m.rnn.bidirectional,
                                 "dropout": float(m.rnn.dropout), "output": m.output,
                                 "nonlinearity": getattr(m.rnn, "nonlinearity", "tanh")},
    "PositionalEncoding": lambda m: {"d_model": int(m.pe.shape[1]), "max_len": int(m.pe.shape[0]), "kind": m.kind,
                                     "dropout": float(m.dropout.p)},
    "SelfAttention": lambda m: {"embed_dim": m.qkv.in_features, "num_heads": m.num_heads,
                                "dropout": float(m.attn_dropout.p), "bias": m.qkv.bias is not None, "causal": m.causal},
    "MultiheadAttentionBlock": lambda m: {"embed_dim": m.attn.embed_dim, "num_heads": m.attn.num_heads,
                                          "dropout": float(m.attn.dropout), "bias": m.attn.in_proj_bias is not None,
                                          "kdim": m.attn.kdim, "vdim": m.attn.vdim, "causal": m.causal},
    "TransformerEncoderBlock": lambda m: {"d_model": m.self_attn.embed_dim, "nhead": m.self_attn.num_heads,
                                          "dim_feedforward": m.linear1.out_features, "dropout": float(m.dropout.p),
                                          "activation": m.activation, "norm_first": m.norm_first, "causal": m.causal,
                                          "layer_norm_eps": float(m.norm1.eps)},
    "PretrainedBackbone": lambda m: {"weights": "none", "weights_path": "", "freeze": m.freeze},
}


#: classes outside the registry that compute exactly what a registry class computes (same maths,
#: same attributes); the structure check still runs on every match
_ALIASES = {"torchvision.ops.stochastic_depth.StochasticDepth": "StochasticDepth"}


def _class_values(module: nn.Module) -> dict[str, Any]:
    reader = _CLASS_READERS.get(type(module).__qualname__)
    if reader is None:
        return {}
    try:
        return reader(module)
    except (AttributeError, IndexError, TypeError, ValueError):
        return {}


def _norm_attr(value: Any) -> Any:
    """(3, 3) and 3 build the same square layer; compare them as equal."""
    if isinstance(value, tuple | list):
        if value and all(type(v) is int and v == value[0] for v in value):
            return value[0]
        return tuple(value)
    return value


def _public_attrs(module: nn.Module) -> dict[str, Any]:
    out = {}
    for key, value in vars(module).items():
        if key.startswith("_") or key in _IGNORED_ATTRS:
            continue
        if value is None or isinstance(value, bool | int | float | str | tuple | list):
            out[key] = _norm_attr(value)
    return out


def _structure(module: nn.Module, canon: Callable[[type], type] = lambda t: t) -> tuple:
    """Class, settings and children, recursively: equal structures compute the same function."""
    children = tuple((name, _structure(child, canon)) for name, child in module.named_children())
    return canon(type(module)), tuple(sorted(_public_attrs(module).items())), children


def _source(cls: type) -> str | None:
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        return None


def _to_kind(value: Any, kind: str, name: str) -> Any:
    if isinstance(value, torch.Tensor) or value is None and name == "bias":
        return value is not None
    if kind == "int" and isinstance(value, tuple | list):
        if value and all(v == value[0] for v in value):
            return value[0]
        raise ValueError(f"{name}={value} is not square")
    if kind in ("ints", "floats") and isinstance(value, tuple | list):
        return list(value)
    if kind == "ints" and isinstance(value, int):
        return [value]
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


class LeafMapper:
    """Finds, for a module instance, a registry spec and params that rebuild an equal module."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.size = len(registry)
        self._by_class: dict[type, list[NodeSpec]] = {}
        self._by_name: dict[str, list[type]] = {}
        self._canon: dict[type, type] = {}
        self._memo: dict[tuple, Any] = {}
        for spec in registry:
            if spec.module is None or spec.role != "layer":
                continue
            for cls in self._core_classes(spec):
                self._by_class.setdefault(cls, []).append(spec)
                if cls not in self._by_name.get(cls.__qualname__, []):
                    self._by_name.setdefault(cls.__qualname__, []).append(cls)

    @staticmethod
    def _core_classes(spec: NodeSpec) -> list[type]:
        """The module class itself, plus the torch class a wrapper spec builds (LSTM in RecurrentLayer)."""
        out = [spec.module]
        try:
            with building_for_shapes(), torch.device("meta"):
                sample = spec.build(_sample_params(spec))
            for _, sub in sample.named_children():
                if type(sub).__module__.startswith("torch.nn") and len(list(sample.children())) == 1:
                    out.append(type(sub))
        except Exception:  # noqa: BLE001 - specs that need real inputs to build are matched by class only
            pass
        return out

    def canon(self, cls: type) -> type:
        """The registry's class for ``cls``: itself, or a helper class with the same name and source.

        Exported files carry copies of NN Studio's helper classes (Reshape, RecurrentLayer, ...);
        a copy with identical source is the same layer, so an export imports back node for node.
        """
        if cls in self._by_class or cls.__module__.startswith("torch."):
            return cls
        if cls not in self._canon:
            self._canon[cls] = cls
            alias = _ALIASES.get(f"{cls.__module__}.{cls.__qualname__}")
            if alias and self._by_name.get(alias):
                self._canon[cls] = self._by_name[alias][0]
                return self._canon[cls]
            for known in self._by_name.get(cls.__qualname__, ()):
                mine = _source(cls)
                if mine is not None and mine == _source(known):
                    self._canon[cls] = known
                    break
        return self._canon[cls]

    def is_mappable(self, module: nn.Module) -> bool:
        return self.canon(type(module)) in self._by_class

    def map(self, module: nn.Module) -> tuple[NodeSpec, dict[str, Any], str] | str:
        """(spec, params, key prefix of the original inside the new module), or a reason string.

        Memoised by class, settings and state shapes: a model repeats a few layer configurations."""
        key = (type(module), _structure(module), tuple((k, tuple(v.shape)) for k, v in module.state_dict().items()))
        memo = self._memo.get(key)
        if memo is None:
            memo = self._memo[key] = self._map(module)
        return (memo[0], dict(memo[1]), memo[2]) if isinstance(memo, tuple) else memo

    def _map(self, module: nn.Module) -> tuple[NodeSpec, dict[str, Any], str] | str:
        candidates = self._by_class.get(self.canon(type(module)), [])
        if not candidates:
            return f"no node for {type(module).__name__}"
        reason = ""
        for spec in candidates:
            result = self._try(spec, module)
            if isinstance(result, str):
                reason = reason or result
                continue
            return result
        return reason or f"{type(module).__name__} settings are not representable"

    def _try(self, spec: NodeSpec, module: nn.Module) -> tuple[NodeSpec, dict[str, Any], str] | str:
        params: dict[str, Any] = {}
        known = _class_values(module)
        for p in spec.params:
            reader = _ATTR_READERS.get(p.name)
            if p.name in known:
                raw = known[p.name]
            elif hasattr(module, p.name) and p.name != "bias":
                raw = getattr(module, p.name)
            elif reader is not None:
                raw = reader(module)
            else:
                raw = p.default
            try:
                params[p.name] = _to_kind(raw, p.kind, p.name)
            except ValueError as exc:
                return f"{type(module).__name__}: {exc}"
        problems = validate_params(spec, params)
        if problems:
            return f"{type(module).__name__}: " + "; ".join(problems.values())
        try:
            with building_for_shapes(), torch.device("meta"):
                rebuilt = spec.build(params)
        except (ParamError, TypeError, ValueError) as exc:
            return f"{type(module).__name__}: {exc}"
        cls = self.canon(type(module))
        cores = [("", rebuilt)] + [(n + ".", m) for n, m in rebuilt.named_children() if type(m) is cls]
        for prefix, core in cores:
            if type(core) is not cls:
                continue
            if _structure(core, self.canon) != _structure(module, self.canon):
                continue
            new_state = {k: tuple(v.shape) for k, v in rebuilt.state_dict().items()}
            old_state = {prefix + k: tuple(v.shape) for k, v in module.state_dict().items()}
            if new_state == old_state:
                return spec, params, prefix
        return f"{type(module).__name__} settings are not representable by {spec.title}"


_MAPPERS: dict[int, tuple[Registry, LeafMapper]] = {}


def mapper_for(registry: Registry) -> LeafMapper:
    """One mapper per registry (building it instantiates each spec once on the meta device)."""
    cached = _MAPPERS.get(id(registry))
    if cached is None or cached[0] is not registry or len(registry) != cached[1].size:
        cached = (registry, LeafMapper(registry))
        _MAPPERS[id(registry)] = cached
    return cached[1]


def _sample_params(spec: NodeSpec) -> dict[str, Any]:
    values = spec.default_params()
    for p in spec.params:
        if values.get(p.name) is None and p.inferable:
            values[p.name] = 8
    return values


# ------------------------------------------------------------------------------ generic modules

#: constructor arguments never read back (they choose where tensors live, not what is computed)
_SKIP_ARGS = {"device", "dtype", "_weight", "_freeze", "self", "mode"}
#: per class, constructor arguments a module does not keep under the same attribute name
_GENERIC_READERS: dict[str, Callable[[nn.Module], dict[str, Any]]] = {
    "MultiheadAttention": lambda m: {"bias": m.in_proj_bias is not None, "add_bias_kv": m.bias_k is not None},
    "TransformerEncoderLayer": lambda m: _transformer_layer(m),
    "TransformerDecoderLayer": lambda m: _transformer_layer(m),
    "PReLU": lambda m: {"num_parameters": m.weight.numel()},
    "Bilinear": lambda m: {"bias": m.bias is not None},
    "RNN": lambda m: {"nonlinearity": m.nonlinearity} if m.nonlinearity != "tanh" else {},
    "TransformerEncoder": lambda m: {"encoder_layer": m.layers[0], "num_layers": len(m.layers)},
    "TransformerDecoder": lambda m: {"decoder_layer": m.layers[0], "num_layers": len(m.layers)},
}


class ModuleArg:
    """A constructor argument that is itself a module (TransformerEncoder's layer), rebuilt from its own
    generic arguments; written as ``torch.nn.TransformerEncoderLayer(d_model=16, nhead=2)``."""

    def __init__(self, path: str, kwargs: dict[str, Any]) -> None:
        self.path = path
        self.kwargs = kwargs

    def build(self) -> nn.Module:
        from studio.core.torch_names import resolve_class

        return resolve_class(self.path)(**{k: _built(v) for k, v in self.kwargs.items()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModuleArg) and (self.path, self.kwargs) == (other.path, other.kwargs)

    def __hash__(self) -> int:
        return hash(self.path)


def _built(value: Any) -> Any:
    return value.build() if isinstance(value, ModuleArg) else value


def _activation_name(fn: Any) -> str:
    for name in ("relu", "gelu"):
        if fn is getattr(torch.nn.functional, name):
            return name
    raise ValueError("activation is not relu or gelu")


def _transformer_layer(m: nn.Module) -> dict[str, Any]:
    return {"d_model": m.self_attn.embed_dim, "nhead": m.self_attn.num_heads,
            "dim_feedforward": m.linear1.out_features, "dropout": float(m.dropout.p),
            "activation": _activation_name(m.activation), "layer_norm_eps": float(m.norm1.eps),
            "batch_first": m.self_attn.batch_first, "norm_first": m.norm_first, "bias": m.linear1.bias is not None}


def _literal(value: Any) -> bool:
    if isinstance(value, ModuleArg):
        return True
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) in (tuple, list):
        return all(_literal(v) for v in value)
    return False


def _signature(cls: type) -> inspect.Signature | None:
    """The first constructor in the MRO with named parameters (LSTM's is ``*args, **kwargs``)."""
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            return None
        if any(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for n, p in sig.parameters.items() if n != "self"):
            return sig
    return None


_GENERIC_CACHE: dict[tuple, dict[str, Any] | str] = {}


def generic_arguments(module: nn.Module) -> dict[str, Any] | str:
    """Constructor keyword arguments that rebuild an equal ``module`` (the fewest that do), or why there
    are none. The rebuilt module must match class, settings (recursively) and state-dict shapes."""
    from studio.core.torch_names import class_path

    cls = type(module)
    if class_path(cls) is None:
        return f"{cls.__name__} is not a torch.nn or torchvision.ops class"
    signature = _signature(cls)
    if signature is None:
        return f"{cls.__name__}: its constructor cannot be inspected"
    try:
        special = _GENERIC_READERS.get(cls.__name__, lambda m: {})(module)
    except (AttributeError, ValueError, TypeError) as exc:
        return f"{cls.__name__}: {exc}"
    kwargs: dict[str, Any] = {}
    for name, param in signature.parameters.items():
        if name in _SKIP_ARGS or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if name in special:
            value = special[name]
        elif hasattr(module, name):
            value = getattr(module, name)
            if isinstance(value, torch.Tensor) or (value is None and name == "bias"):
                value = value is not None
        elif param.default is not param.empty:
            continue
        else:
            return f"{cls.__name__}: cannot read the constructor argument {name!r}"
        if isinstance(value, nn.Module):
            inner = generic_arguments(value)
            path = class_path(type(value))
            if isinstance(inner, str) or path is None:
                return f"{cls.__name__}: constructor argument {name!r} is a module that cannot be rebuilt"
            value = ModuleArg(path, inner)
        if not _literal(value):
            return f"{cls.__name__}: constructor argument {name!r} is not a plain value"
        if param.default is not param.empty and _literal(param.default) and _same(value, param.default):
            continue
        kwargs[name] = value
    kwargs.update({k: v for k, v in special.items() if k not in signature.parameters})
    structure = _structure(module)
    state = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    key = (cls, _hashable(kwargs), structure, tuple(sorted(state.items())))
    cached = _GENERIC_CACHE.get(key)
    if cached is not None:
        return dict(cached) if isinstance(cached, dict) else cached
    required = {n for n, p in signature.parameters.items() if p.default is p.empty}

    def fits(candidate: dict[str, Any]) -> bool:
        try:
            with building_for_shapes(), torch.device("meta"):
                rebuilt = cls(**{k: _built(v) for k, v in candidate.items()})
        except Exception:  # noqa: BLE001 - the class refused these arguments
            return False
        return _structure(rebuilt) == structure and \
            {k: tuple(v.shape) for k, v in rebuilt.state_dict().items()} == state

    if not fits(kwargs):
        result: dict[str, Any] | str = f"{cls.__name__}: its settings cannot be read back from the module"
    else:
        for name in [n for n in kwargs if n not in required]:  # leave out what the defaults give anyway
            trial = {k: v for k, v in kwargs.items() if k != name}
            if fits(trial):
                kwargs = trial
        for name, value in list(kwargs.items()):  # (3, 3) -> 3 where the class reads it the same way
            if isinstance(value, tuple | list) and value and all(v == value[0] for v in value):
                trial = {**kwargs, name: value[0]}
                if fits(trial):
                    kwargs = trial
        result = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
    _GENERIC_CACHE[key] = result
    return dict(result) if isinstance(result, dict) else result


def _hashable(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
