"""Which settings the training form shows for a paradigm: read from the settings schema, never hand-copied.

:func:`studio.train.settings_form.settings_fields` lists every setting a paradigm reads (the core
ones, its own section from the recipe registry, the chosen dataset's generator parameters) with
label, kind, range, choices, help, group and the advanced flag; this module only orders the groups
for the panel and turns the schema's refusals into one line for the field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from studio.train.settings_form import SettingField, get_setting, label_for, settings_fields, validate_setting

__all__ = ["check_setting", "fields_for", "get_setting", "label_for"]

#: the form's sections in order; a paradigm's own sections come after these, Advanced (folded) last
GROUP_ORDER = ("Paradigm", "Data", "Optimisation", "Regularisation", "Schedule", "Training")
ADVANCED = "Advanced"
TOP = ("recipe", "graph")  # what the form starts with: the paradigm and the graph it trains


def _numbers(default: Any) -> bool:
    return isinstance(default, list | tuple) and bool(default) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                                     for v in default)


def fields_for(training: dict[str, Any]) -> list[SettingField]:
    """The form's rows for the settings in ``training`` (its paradigm and dataset), in section order."""
    recipe = str(get_setting(training, "recipe"))
    dataset = str(get_setting(training, "dataset.name"))
    out = []
    for f in settings_fields(recipe, dataset):
        if f.kind == "list":
            if not _numbers(f.default):
                continue  # rows of text (the gridworld layout): the grid editor edits them
            f = replace(f, kind="ints" if all(isinstance(v, int) for v in f.default) else "floats")
        elif f.kind == "path":
            f = replace(f, kind="text")
        if f.key in TOP:
            f = replace(f, group="Paradigm", advanced=False)
        elif f.advanced or f.group == ADVANCED:
            f = replace(f, group=ADVANCED, advanced=True)
        out.append(f)
    own = [g for g in dict.fromkeys(f.group for f in out) if g not in GROUP_ORDER and g != ADVANCED]
    order = {g: i for i, g in enumerate((*GROUP_ORDER, *own, ADVANCED))}
    return sorted(out, key=lambda f: (order[f.group], TOP.index(f.key) if f.key in TOP else len(TOP)))


def check_setting(key: str, value: Any, training: dict[str, Any]) -> str | None:
    """Why ``value`` cannot be stored under ``key`` (None when it can), from the schema's own checks."""
    from studio.train.settings import SettingsError

    try:
        validate_setting(key, value, training)
    except SettingsError as exc:
        text = str(exc)
        prefix = f"training setting '{key}': "
        return text[len(prefix):] if text.startswith(prefix) else text
    return None
