"""The settings schema seen as a form: one :class:`SettingField` per editable setting.

The training panel builds its form from :func:`settings_fields` instead of hand-copying keys and
ranges; :func:`validate_setting` refuses a bad value at the field with the reason; :func:`label_for`
names a setting in words for the undo menu. Everything here is read from the pydantic schema in
:mod:`studio.train.settings`, the paradigms' own sections in the recipe registry and the datasets'
parameter declarations, so none of it can disagree with validation.
"""

from __future__ import annotations

import copy
import typing
from dataclasses import asdict, dataclass, replace
from typing import Any

import annotated_types
from pydantic import BaseModel

from studio.train import settings as S
from studio.train.recipes.registry import RecipeSpec, all_recipes, recipe_names, recipe_spec, sections

_MISSING = object()

# Words for generator parameters (they are declared as plain data without titles).
PARAM_LABELS = {"n": "Samples", "classes": "Classes", "size": "Image size", "channels": "Channels",
                "noise": "Noise", "rotation": "Rotation", "turns": "Turns", "length": "Length",
                "horizon": "Horizon", "components": "Components", "many_to_many": "Many-to-many", "task": "Task",
                "vocab": "Vocabulary", "one_hot": "One-hot", "modes": "Modes", "radius": "Radius", "std": "Spread",
                "max_windows": "Maximum samples", "features": "Feature columns"}


@dataclass(frozen=True)
class SettingField:
    """One editable setting: what the form needs to show and check it."""

    key: str  # dotted: optimizer.lr
    label: str  # words: Learning rate
    kind: str  # bool, int, float, choice, text, path, list, records
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] = ()
    help: str = ""
    group: str = "Training"
    advanced: bool = False
    #: kind "records": one field per column of a record (its key is the record field's name)
    columns: tuple[SettingField, ...] = ()
    #: kind "records": each record is stored as a list in column order (else as a table keyed by name)
    positional: bool = False

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: v for k, v in d.items() if v not in (None, (), "") or k == "default"}


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _fields_of(model: type[BaseModel], prefix: str, group: str | None = None) -> list[SettingField]:
    out: list[SettingField] = []
    for name, f in model.model_fields.items():
        key = prefix + name
        tp = _unwrap(f.annotation)
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            out += _fields_of(tp, key + ".", group)
            continue
        if typing.get_origin(tp) is dict:
            continue  # nodes (the Inspector edits them) and dataset.params (per dataset, see below)
        lo = hi = None
        for m in f.metadata:
            if isinstance(m, annotated_types.Ge | annotated_types.Gt):
                lo = getattr(m, "ge", getattr(m, "gt", None))
            if isinstance(m, annotated_types.Le | annotated_types.Lt):
                hi = getattr(m, "le", getattr(m, "lt", None))
        choices: tuple[Any, ...] = ()
        columns: tuple[SettingField, ...] = ()
        record, positional = extra.get("record"), True
        item = _unwrap(typing.get_args(tp)[0]) if typing.get_origin(tp) is list and typing.get_args(tp) else None
        if record is None and isinstance(item, type) and issubclass(item, BaseModel):
            record, positional = item, False  # a list of models: records stored as tables
        if record is not None:
            kind, columns = "records", tuple(_fields_of(record, "", group))
        elif typing.get_origin(tp) is typing.Literal:
            kind, choices = "choice", typing.get_args(tp)
        elif tp is bool:
            kind = "bool"
        elif tp is int:
            kind = "int"
        elif tp is float:
            kind = "float"
        elif typing.get_origin(tp) is list or tp is list:
            kind = "list"
        else:
            kind = str(extra.get("kind", "text"))
        if key == "recipe":
            choices = recipe_names()
        default = f.get_default(call_default_factory=True)
        out.append(SettingField(key, f.title or name.replace("_", " ").capitalize(), kind, default, lo, hi,
                                tuple(choices), f.description or "",
                                str(extra.get("group") or group or getattr(model, "group", "Training")),
                                bool(extra.get("advanced", False)), columns, positional and bool(columns)))
    return out


def param_fields(dataset: str) -> list[SettingField]:
    """The declared parameters of dataset ``dataset`` as fields ``dataset.params.<name>``."""
    schema = S.dataset_param_schema(dataset) or {}
    return [SettingField(f"dataset.params.{name}", PARAM_LABELS.get(name, name.replace("_", " ").capitalize()),
                         d["kind"], d["default"], d.get("minimum"), d.get("maximum"), tuple(d.get("choices", ())),
                         d.get("help", ""), "Data", False)
            for name, d in schema.items()]


def node_fields(node_name: str) -> list[SettingField]:
    """Per-node training settings (freeze, LR multiplier) for the Inspector: ``nodes.<name>.<field>``."""
    return _fields_of(S.NodeTraining, f"nodes.{node_name}.")


def core_fields() -> list[SettingField]:
    return _fields_of(S.TrainingSettings, "")


def section_fields(spec: RecipeSpec) -> list[SettingField]:
    """A paradigm's own section; a field whose schema names ``recipes`` shows only for those paradigms
    (policy evaluation's choice of policy is noise on Q-learning's form)."""
    if not spec.settings:
        return []
    only = _only_for(spec.settings, spec.section + ".")
    return [f for f in _fields_of(spec.settings, spec.section + ".", spec.settings_group)
            if spec.name in only.get(f.key, (spec.name,))]


def _only_for(model: type[BaseModel], prefix: str) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for name, f in model.model_fields.items():
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        tp = _unwrap(f.annotation)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            out.update(_only_for(tp, prefix + name + "."))
        elif extra.get("recipes"):
            out[prefix + name] = tuple(extra["recipes"])
    return out


_ALL: dict[tuple[str, ...], list[SettingField]] = {}  # keyed by the registered paradigms


def all_fields() -> list[SettingField]:
    """Every setting of every paradigm (without dataset parameters and per-node settings)."""
    specs = all_recipes()
    key = tuple(f"{r.name}:{r.section}:{id(r.settings)}" for r in specs)
    if key not in _ALL:  # the schema is fixed; only registering a paradigm changes the list
        out = core_fields()
        seen = set()
        for spec in specs:
            if spec.section and spec.section not in seen and spec.settings:
                seen.add(spec.section)
                out += _fields_of(spec.settings, spec.section + ".", spec.settings_group)  # every field
        _ALL.clear()
        _ALL[key] = out
    return list(_ALL[key])


def settings_fields(recipe: str | None = None, dataset: str | None = None) -> list[SettingField]:
    """The form for paradigm ``recipe``: the settings it reads (core ones and its own section) and,
    when ``dataset`` is given, that dataset's parameters. ``recipe=None`` lists every setting."""
    if recipe is None:
        out = all_fields()
    else:
        spec = recipe_spec(recipe)
        out = [f for f in core_fields() if spec.reads(f.key)] + section_fields(spec)
        out = [replace(f, kind="choice", choices=watchable_metrics(recipe)) if f.key == "early_stopping.metric" else f
               for f in out]
    if dataset is not None and (recipe is None or recipe_spec(recipe).reads("dataset.params")):
        at = next((i for i, f in enumerate(out) if f.key == "dataset.name"), len(out) - 1) + 1
        out[at:at] = param_fields(dataset)
    return out


def watchable_metrics(recipe: str) -> tuple[str, ...]:
    """Metrics early stopping can watch for paradigm ``recipe``: its monitor first, then the
    validation form of every metric it declares (curves, not timings), then the losses."""
    spec = recipe_spec(recipe)
    names = [spec.monitor] + [f"val_{m.name}" for m in spec.metrics if m.plot != "none"] + ["val_loss", "loss"]
    return tuple(dict.fromkeys(names))


def field_for(key: str, training: dict[str, Any] | None = None) -> SettingField | None:
    """The field of dotted ``key`` (dataset parameters use the dataset named in ``training``)."""
    if key.startswith("nodes."):
        parts = key.split(".")
        if len(parts) == 3:
            return next((f for f in node_fields(parts[1]) if f.key == key), None)
        return None
    if key.startswith("dataset.params."):
        name = get_setting(training or {}, "dataset.name")
        return next((f for f in param_fields(name) if f.key == key), None)
    return next((f for f in all_fields() if f.key == key), None)


def label_for(key: str, training: dict[str, Any] | None = None) -> str:
    """A setting in words, for undo labels and messages: "Learning rate", not "optimizer.lr"."""
    f = field_for(key, training)
    if f is not None:
        if key.startswith("nodes."):
            return f"{f.label} of {key.split('.')[1]}"
        return f.label
    if key.startswith("dataset.params."):
        name = key.rsplit(".", 1)[1]
        return PARAM_LABELS.get(name, name.replace("_", " ").capitalize())
    last = key.rsplit(".", 1)[-1]
    titled = {"dataset": "Dataset", "optimizer": "Optimizer", "schedule": "LR schedule", "nodes": "Per-node settings",
              "early_stopping": "Early stopping", "init": "Initialisation", "loss": "Loss"}
    for name, spec_section in ((s, s) for s in sections()):
        if key == name:
            return next((r.settings_group for r in all_recipes() if r.section == spec_section), name)
    return titled.get(key, last.replace("_", " ").capitalize())


def get_setting(training: dict[str, Any], key: str, default: Any = _MISSING) -> Any:
    """The value of dotted ``key`` in a raw training dict; missing keys give the schema's default
    (or ``default`` when given)."""
    node: Any = training
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            if default is not _MISSING:
                return default
            return schema_default(key, training)
        node = node[part]
    return node


def schema_default(key: str, training: dict[str, Any] | None = None) -> Any:
    """The default of ``key``: from its field, or a whole section's defaults for a table key."""
    if key.startswith("dataset.params."):
        f = field_for(key, {"dataset": {"name": (get_setting(training or {}, "dataset.name", "spirals"))}})
        return None if f is None else f.default
    f = field_for(key) if not key.startswith("dataset.params") else None
    if f is not None:
        return copy.deepcopy(f.default)
    value: Any = S.TrainingSettings().to_dict()
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def set_setting(training: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A copy of ``training`` with dotted ``key`` set to ``value`` (tables created as needed)."""
    out = copy.deepcopy(training)
    node = out
    parts = key.split(".")
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value
    return out


def validate_setting(key: str, value: Any, training: dict[str, Any] | None = None) -> Any:
    """``value`` checked as setting ``key`` and normalised (3.0 -> 3), or SettingsError with the
    reason. ``training`` gives context where a setting depends on another (a dataset's parameters
    depend on ``dataset.name``); errors in its other settings are not blamed on ``key``."""
    base = training or {}
    attempts = [base]
    context = {k: base[k] for k in ("recipe",) if k in base}
    if isinstance(base.get("dataset"), dict) and "name" in base["dataset"]:
        context["dataset"] = {"name": base["dataset"]["name"]}
    attempts.append(context)
    last: S.SettingsError | None = None
    for attempt in attempts:
        try:
            settings = S.TrainingSettings.from_dict(set_setting(attempt, key, value))
        except S.SettingsError as exc:
            if exc.key == key or key.startswith(exc.key + ".") or exc.key.startswith(key + "."):
                raise
            last = exc
            continue
        return get_setting(settings.to_dict(), key)
    assert last is not None
    raise S.SettingsError(key, f"cannot be checked: {last}")


def describe() -> dict[str, dict[str, Any]]:
    """Every setting by dotted key with default, choices, range and help."""
    return {f.key: f.as_dict() for f in all_fields()}
