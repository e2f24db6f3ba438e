"""Template stages: named variants of a project kept in ``project.meta["stages"]``.

A stage may set ``node_params`` (``{node name: {param: value}}``), ``rename`` (``{old node name: new}``),
``training`` (deep-merged into ``project.training``) and ``replace`` (``{dotted training key: value}``
set wholesale after the merge, e.g. a whole ``dataset`` table whose params differ). ``label`` and
``about`` are what the editor shows; ``defaults`` give placeholder values (file names relative to the
templates folder). ``{name}`` in a string is a placeholder the caller fills in: the name of another
stage means that stage's checkpoint. Shared by the benchmark, the tests and the training panel, so
all of them train exactly the same variant. No Qt here.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from studio.core.model import Project
from studio.core.ops import RenameNode, SetParam

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class StageError(ValueError):
    """A stage that cannot be applied (unknown name, a placeholder without a value)."""


def merge(dst: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``src`` into ``dst`` (tables merge, everything else replaces; ``{}`` clears); returns ``dst``."""
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict) and value:
            merge(dst[key], value)
        else:
            dst[key] = copy.deepcopy(value)
    return dst


def fill(value: Any, subs: dict[str, str]) -> Any:
    """``value`` with every ``{name}`` in its strings replaced by ``subs[name]`` (unknown names stay)."""
    if isinstance(value, str):
        for name, text in subs.items():
            value = value.replace("{" + name + "}", text)
        return value
    if isinstance(value, dict):
        return {k: fill(v, subs) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, subs) for v in value]
    return value


def stages(project: Project) -> dict[str, dict[str, Any]]:
    """The project's stages in template order (empty for ordinary projects)."""
    found = project.meta.get("stages") if isinstance(project.meta, dict) else None
    return {str(k): v for k, v in found.items() if isinstance(v, dict)} if isinstance(found, dict) else {}


def stage_label(project: Project, stage: str) -> str:
    """What the editor calls a stage: its ``label``, else its name in words."""
    spec = stages(project).get(stage, {})
    return str(spec.get("label") or stage.replace("_", " ").capitalize())


def placeholders(project: Project, stage: str) -> list[str]:
    """The ``{name}`` placeholders a stage needs filled, in order of first use."""
    spec = stages(project).get(stage, {})
    text = repr({k: spec.get(k) for k in ("node_params", "rename", "training", "replace")})
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def default_subs(project: Project, stage: str, folder: Path | None = None) -> dict[str, str]:
    """Placeholder values a stage brings itself: ``defaults`` (file names resolved against ``folder``)."""
    if folder is None:
        from studio.io.templates import TEMPLATE_DIR

        folder = TEMPLATE_DIR
    out = {}
    for name, value in (stages(project).get(stage, {}).get("defaults") or {}).items():
        path = Path(str(value))
        out[str(name)] = str(path if path.is_absolute() else folder / path)
    return out


def _set_dotted(table: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    for part in parts[:-1]:
        if not isinstance(table.get(part), dict):
            table[part] = {}
        table = table[part]
    table[parts[-1]] = copy.deepcopy(value)


def apply_stage(project: Project, stage: str, subs: dict[str, str] | None = None) -> Project:
    """A copy of ``project`` with stage ``stage`` applied through core ops; the project itself is untouched.

    Raises KeyError for an unknown stage and :class:`StageError` when a placeholder has no value.
    """
    known = stages(project)
    if stage not in known:
        raise KeyError(f"template has no stage {stage!r}; stages: {', '.join(known) or 'none'}")
    missing = [name for name in placeholders(project, stage) if name not in (subs or {})]
    if missing:
        raise StageError(f"stage {stage!r} needs a value for {', '.join('{' + m + '}' for m in missing)}")
    spec = fill(known[stage], subs or {})
    out = project.snapshot()
    for graph in out.graphs:
        for node in list(graph.nodes.values()):
            for name, value in spec.get("node_params", {}).get(node.name, {}).items():
                SetParam(graph.id, node.id, name, value).apply(out)
            if node.name in spec.get("rename", {}):
                RenameNode(graph.id, node.id, spec["rename"][node.name]).apply(out)
    merge(out.training, spec.get("training", {}))
    for key, value in spec.get("replace", {}).items():
        _set_dotted(out.training, key, value)
    return out
