"""Template projects shipped in ``templates/``: listing and loading (as new, unsaved projects)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from studio.core.model import Project
from studio.core.registry import Registry
from studio.io.errors import ProjectFileError
from studio.io.project_file import SUFFIX, load_project

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "templates"


@dataclass(frozen=True)
class TemplateInfo:
    """What the gallery shows before a template is opened."""

    key: str
    path: Path
    title: str
    description: str
    order: int = 100


def template_paths(folder: Path = TEMPLATE_DIR) -> list[Path]:
    return sorted(p for p in folder.glob(f"*{SUFFIX}") if p.is_file()) if folder.is_dir() else []


def list_templates(folder: Path = TEMPLATE_DIR) -> list[TemplateInfo]:
    """Templates in gallery order; files that cannot be read are skipped here and reported on open."""
    infos = []
    for path in template_paths(folder):
        try:
            meta = json.loads(path.read_text(encoding="utf-8-sig")).get("meta", {})
        except (OSError, ValueError, AttributeError, RecursionError):
            continue
        if not isinstance(meta, dict):
            continue
        infos.append(TemplateInfo(key=path.stem, path=path, title=str(meta.get("title", path.stem)),
                                  description=str(meta.get("description", "")),
                                  order=int(meta.get("order", 100)) if isinstance(meta.get("order"), int) else 100))
    return sorted(infos, key=lambda t: (t.order, t.title))


def load_template(key: str, registry: Registry, folder: Path = TEMPLATE_DIR) -> Project:
    """A fresh copy of template ``key`` (file stem); raises ProjectFileError if there is none."""
    path = folder / f"{key}{SUFFIX}"
    if not path.is_file():
        known = ", ".join(t.key for t in list_templates(folder)) or "none"
        raise ProjectFileError(path, "", f"no template named {key!r} (available: {known})")
    return load_project(path, registry)
