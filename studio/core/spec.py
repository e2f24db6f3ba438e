"""Declarative node specifications.

A spec is data: the palette, the inspector, validation, the file format, the compiler and the
code exporter are all generated from it. Nothing here imports Qt, and torch is only touched
through the callables a spec carries (so importing the registry stays cheap).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

ParamKind = Literal["int", "float", "bool", "choice", "str", "ints", "floats"]
NodeRole = Literal["input", "output", "layer"]

#: A shape as seen by the spec callables: the full tensor shape, batch dimension first.
Shape = tuple[int, ...]


class ParamError(ValueError):
    """A parameter value the spec refuses; the message says why in plain words."""


#: no whole-number parameter exceeds this, whatever its spec says (2**53: exact as a float too)
MAX_INT = 2 ** 53
#: the entries of a list of whole numbers (a shape, a kernel) multiply to at most this, so no
#: tensor size computed from them overflows 64 bits further down (meta tensors, memory estimates)
MAX_ELEMENTS = 2 ** 32


@dataclass(frozen=True)
class ParamSpec:
    """One typed parameter of a node.

    ``infer`` marks a parameter that is normally read off the incoming shapes (in_features,
    in_channels, ...): its stored value is ``None`` ("auto") and the callable computes it from
    the input shapes. The user may still type a value, which then wins.
    """

    name: str
    kind: ParamKind
    default: Any
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False  # None is a legal value meaning "not set"
    infer: Callable[[Sequence[Shape]], Any] | None = None
    label: str = ""

    @property
    def display_label(self) -> str:
        return self.label or self.name.replace("_", " ")

    @property
    def inferable(self) -> bool:
        return self.infer is not None

    def check(self, value: Any) -> Any:
        """Return ``value`` normalised to this kind, or raise :class:`ParamError` saying why."""
        if value is None:
            if self.optional or self.inferable:
                return None
            raise ParamError(f"'{self.name}' needs a value")
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise ParamError(f"'{self.name}' must be true or false, got {value!r}")
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise ParamError(f"'{self.name}' must be a whole number, got {_short(value)}")
            self._check_int(value)
            self._check_range(value)
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParamError(f"'{self.name}' must be a number, got {_short(value)}")
            value = _as_float(self.name, value)
            if not math.isfinite(value):
                raise ParamError(f"'{self.name}' must be a finite number, got {value!r}")
            self._check_range(value)
            return value
        if kind == "choice":
            if value not in self.choices:
                options = ", ".join(map(str, self.choices))
                raise ParamError(f"'{self.name}' must be one of {options}; got {value!r}")
            return value
        if kind == "str":
            if not isinstance(value, str):
                raise ParamError(f"'{self.name}' must be text, got {value!r}")
            if len(value) > 4096:
                raise ParamError(f"'{self.name}' is too long ({len(value)} characters, at most 4096)")
            return value
        if kind in ("ints", "floats"):
            if not isinstance(value, list | tuple):
                raise ParamError(f"'{self.name}' must be a list of numbers, got {_short(value)}")
            if len(value) > 16:
                raise ParamError(f"'{self.name}' has {len(value)} entries; at most 16 are allowed")
            out = []
            for item in value:
                if kind == "ints":
                    if isinstance(item, bool) or not isinstance(item, int):
                        raise ParamError(f"'{self.name}' must contain whole numbers, got {_short(item)}")
                    self._check_int(item)
                else:
                    if isinstance(item, bool) or not isinstance(item, int | float):
                        raise ParamError(f"'{self.name}' must contain numbers, got {_short(item)}")
                    item = _as_float(self.name, item)
                    if not math.isfinite(item):
                        raise ParamError(f"'{self.name}' must contain finite numbers, got {item!r}")
                self._check_range(item)
                out.append(item)
            if kind == "ints" and math.prod(abs(v) for v in out if v) > MAX_ELEMENTS:
                raise ParamError(f"'{self.name}' multiplies to {_sci(math.prod(abs(v) for v in out if v))}; "
                                 f"at most {_sci(MAX_ELEMENTS)} is allowed")
            return tuple(out)
        raise ParamError(f"'{self.name}' has an unknown kind {kind!r}")  # pragma: no cover

    def _check_int(self, value: int) -> None:
        if abs(value) > MAX_INT:
            raise ParamError(f"'{self.name}' is far too large ({_sci(value)}; at most {_sci(MAX_INT)})")

    def _check_range(self, value: float) -> None:
        if self.minimum is not None and value < self.minimum:
            raise ParamError(f"'{self.name}' must be at least {_fmt(self.minimum)}, got {_fmt(value)}")
        if self.maximum is not None and value > self.maximum:
            raise ParamError(f"'{self.name}' must be at most {_fmt(self.maximum)}, got {_fmt(value)}")


def _fmt(value: float) -> str:
    if isinstance(value, int):
        return str(value) if abs(value) < 10 ** 16 else _sci(value)
    return str(int(value)) if value.is_integer() and abs(value) < 1e16 else f"{value:g}"


def _sci(value: int | float) -> str:
    """A number of any size in a few characters (a 400-digit integer must not fill the message)."""
    if isinstance(value, int) and abs(value) >= 10 ** 16:
        digits = str(abs(value))
        return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:3]}e{len(digits) - 1}"
    return f"{value:g}"


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) or abs(value) < 10 ** 16 else _sci(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_float(name: str, value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:
        raise ParamError(f"'{name}' is far too large ({_sci(value)})") from None


@dataclass(frozen=True)
class PortSpec:
    """A named input or output of a node. Optional inputs may stay unconnected."""

    name: str
    optional: bool = False
    help: str = ""


@dataclass(frozen=True)
class ExportInfo:
    """How generated code names the layer.

    ``qualname`` is written verbatim as the constructor (``nn.Linear``); ``source_of`` lists
    helper classes whose source must be copied into a standalone export; ``imports`` are extra
    import lines the constructor needs.
    """

    qualname: str
    source_of: tuple[type, ...] = ()
    imports: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeSpec:
    """Everything the app knows about one node type.

    Exactly one of ``module`` (a class, built as ``module(**kwargs(params))``) or ``function``
    (called as ``function(*inputs, **kwargs(params))``) is set for layer nodes. Input and Output
    nodes have neither: they become the compiled module's arguments and return values.
    """

    type_id: str
    title: str
    category: str
    inputs: tuple[PortSpec, ...] = ()
    outputs: tuple[PortSpec, ...] = (PortSpec("out"),)
    params: tuple[ParamSpec, ...] = ()
    description: str = ""
    role: NodeRole = "layer"
    version: int = 1
    legacy_ids: tuple[str, ...] = ()
    module: type | None = None
    function: Callable[..., Any] | None = None
    kwargs: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    export: ExportInfo | None = None
    #: params shown on the node face on the canvas
    key_params: tuple[str, ...] = ()
    #: upgrade params stored by an older ``version`` of this spec: (old_version, params) -> params
    migrate: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None
    #: cross-parameter check run after each param passed ``ParamSpec.check``; returns a message or None
    check: Callable[[Mapping[str, Any]], str | None] | None = None
    tags: tuple[str, ...] = field(default=())

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"{self.type_id} has no parameter {name!r}")

    def has_param(self, name: str) -> bool:
        return any(p.name == name for p in self.params)

    def default_params(self) -> dict[str, Any]:
        return {p.name: (None if p.inferable else _copy_default(p.default)) for p in self.params}

    def input_names(self) -> list[str]:
        return [p.name for p in self.inputs]

    def output_names(self) -> list[str]:
        return [p.name for p in self.outputs]

    def constructor_kwargs(self, resolved: Mapping[str, Any]) -> dict[str, Any]:
        """Keyword arguments for the module/function, from fully resolved params."""
        if self.kwargs is not None:
            return self.kwargs(resolved)
        return dict(resolved)

    def build(self, resolved: Mapping[str, Any]) -> Any:
        """Instantiate the layer module from fully resolved params."""
        if self.module is None:
            raise TypeError(f"{self.type_id} is not a module node")
        return self.module(**self.constructor_kwargs(resolved))


def _copy_default(value: Any) -> Any:
    return list(value) if isinstance(value, tuple | list) else value


def validate_params(spec: NodeSpec, params: Mapping[str, Any]) -> dict[str, str]:
    """Check stored params against the spec; returns {param_name: message} for each problem.

    Unknown names are reported under their own name; missing names are filled from defaults
    by the model, so they are not problems here.
    """
    problems: dict[str, str] = {}
    names = {p.name for p in spec.params}
    for name in params:
        if name not in names:
            problems[name] = f"{spec.title} has no parameter '{name}'"
    for p in spec.params:
        if p.name in params:
            try:
                p.check(params[p.name])
            except ParamError as exc:
                problems[p.name] = str(exc)
    if not problems and spec.check is not None:
        merged = {p.name: params.get(p.name, p.default) for p in spec.params}
        message = spec.check(merged)
        if message:
            problems["*"] = message
    return problems


def resolve_params(spec: NodeSpec, params: Mapping[str, Any], in_shapes: Sequence[Shape | None]) -> dict[str, Any]:
    """Fill inferred params ("auto") from the incoming shapes and normalise every value.

    Raises :class:`ParamError` when a value is invalid or cannot be inferred.
    """
    resolved: dict[str, Any] = {}
    for p in spec.params:
        value = params.get(p.name, None if p.inferable else p.default)
        if value is None and p.inferable:
            if any(s is None for s in in_shapes[:1]) or not in_shapes:
                raise ParamError(f"'{p.name}' is inferred from the input, which is not connected")
            try:
                value = p.infer(in_shapes)  # type: ignore[misc]
            except (IndexError, TypeError, ValueError) as exc:
                shape = _shape_text(in_shapes[0])
                raise ParamError(f"cannot infer '{p.name}' from input shape {shape}") from exc
        resolved[p.name] = p.check(value)
    if spec.check is not None:
        message = spec.check(resolved)
        if message:
            raise ParamError(message)
    return resolved


def _shape_text(shape: Shape | None) -> str:
    return "?" if shape is None else "(" + ", ".join(map(str, shape)) + ")"
