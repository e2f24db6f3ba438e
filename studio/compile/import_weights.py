"""Imported weights beside the project, and frozen parameters as per-node training settings.

An import brings each node's tensors in :class:`~studio.compile.importer.ImportReport`; here they
are keyed like the compiled module's state_dict and merged into ``<project>.weights.safetensors``
(the file other graphs' weights already live in, never pickle), and the nodes whose parameters
were frozen in the original become ``training.nodes[name].freeze``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.compile.importer import ImportReport, imported_state_dict
from studio.compile.weights import load_weights, save_weights, weights_path
from studio.core.model import Graph, Project
from studio.core.registry import Registry

__all__ = ["freeze_settings", "store_imported_weights"]


def store_imported_weights(project: Project, graph: Graph, registry: Registry, report: ImportReport,
                           project_path: str | Path, state: dict[str, Any] | None = None) -> Path:
    """Add ``graph``'s imported weights to the weights file beside ``project_path``; returns its path.

    Other graphs' weights in that file are kept. ``state`` (from :func:`imported_state_dict`) may be
    passed when it was computed already.
    """
    path = weights_path(project_path)
    existing = load_weights(project, path) if path.is_file() else {}
    modules: dict[str, Any] = {name: tensors for name, tensors in existing.items() if name != graph.name}
    modules[graph.id] = state if state is not None else imported_state_dict(graph, registry, report)
    return save_weights(project, modules, path)


def freeze_settings(project: Project, graph: Graph, report: ImportReport) -> dict[str, Any] | None:
    """The new ``training.nodes`` table with the imported frozen nodes set to freeze (None: nothing frozen)."""
    names = [graph.nodes[node_id].name for node_id in report.frozen if node_id in graph.nodes]
    if not names:
        return None
    table = dict(project.training.get("nodes") or {})
    for name in names:
        table[name] = {**dict(table.get(name) or {}), "freeze": True}
    return table
