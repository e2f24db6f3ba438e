"""Saved blocks: a group stored as a clipboard fragment in the config folder, to insert into any project later."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.core.model import Graph, identifier
from studio.ui import clipboard


def blocks_dir() -> Path:
    from studio.ui.files import config_dir

    path = config_dir() / "blocks"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_block(graph: Graph, group_id: str, folder: Path | None = None) -> Path:
    """Write the group's nodes (and the wires between them) as ``<group name>.json``; returns the path."""
    group = graph.groups[group_id]
    members = [n.id for n in graph.nodes.values() if n.group == group_id]
    if not members:
        raise ValueError(f"group '{group.name}' has no nodes")
    data = clipboard.fragment(graph, members)
    data["block"] = {"name": group.name}
    path = (folder or blocks_dir()) / f"{identifier(group.name, 'block')}.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def list_blocks(folder: Path | None = None) -> list[Path]:
    return sorted((folder or blocks_dir()).glob("*.json"))


def load_block(path: Path) -> dict[str, Any]:
    """The fragment stored in ``path``; raises clipboard.FragmentError with the file name when it is unusable."""
    try:
        return clipboard.parse(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise clipboard.FragmentError(f"cannot read {Path(path).name}: {exc.strerror or exc}") from None
    except clipboard.FragmentError as exc:
        raise clipboard.FragmentError(f"{Path(path).name}: {exc}") from None
