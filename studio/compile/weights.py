"""Trained weights beside the project file, in safetensors (never pickle).

One file per project, ``<project stem>.weights.safetensors`` (the whole stem: ``exp.v2.nnstudio``
owns ``exp.v2.weights.safetensors``, never ``exp.weights.safetensors``, another project's); each graph's tensors carry the graph's
module name as a prefix (``generator.conv.weight``), and the file's metadata maps prefixes to
graph ids so renaming a graph does not orphan its weights. Exported code loads the same file
with ``Model().load_weights(path)``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from studio.core.model import Project
from studio.io.safe_write import atomic_write

WEIGHTS_SUFFIX = ".weights.safetensors"
WEIGHTS_EXPORT_NAME = "weights.safetensors"
FORMAT = "nnstudio.weights"


class WeightsError(ValueError):
    """A weights file that is missing, unreadable or does not fit the project; says which."""


def weights_path(project_path: str | Path) -> Path:
    """``models/exp.v2.nnstudio`` -> ``models/exp.v2.weights.safetensors`` (only the last suffix goes)."""
    path = Path(project_path)
    stem = path.name[: -len(path.suffix)] if path.suffix and path.name != path.suffix else path.name
    return path.with_name(stem + WEIGHTS_SUFFIX)


def find_weights(project_path: str | Path, project: Project | None = None) -> Path | None:
    """The project's own weights file, or None.

    Only the full-stem name counts. The old name (cut at the first dot) is never read: for a
    one-dot project it is the same file, and for ``exp.v2.nnstudio`` it is ``exp``'s file, whose
    graph ids match too when exp.v2 began as a "Save as" of exp. ``project`` is accepted for
    callers that pass it.
    """
    own = weights_path(project_path)
    return own if own.is_file() else None


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def _prefixes(project: Project) -> dict[str, str]:
    from studio.compile.exporter import module_names

    return module_names(project)


def _state(obj: Any) -> Mapping[str, Any]:
    return obj.state_dict() if hasattr(obj, "state_dict") else obj


def save_weights(project: Project, modules: Mapping[str, Any], path: str | Path) -> Path:
    """Save {graph name or id: module or state_dict} atomically; returns the path written."""
    import torch
    from safetensors.torch import save_file

    prefixes = _prefixes(project)
    tensors: dict[str, torch.Tensor] = {}
    graphs: dict[str, dict[str, str]] = {}
    for graph in project.graphs:
        source = modules.get(graph.id, modules.get(graph.name))
        if source is None:
            continue
        prefix = prefixes[graph.id]
        graphs[prefix] = {"id": graph.id, "name": graph.name}
        for key, value in _state(source).items():
            if not isinstance(value, torch.Tensor):
                raise WeightsError(f"{graph.name}: state entry {key!r} is not a tensor")
            tensors[f"{prefix}.{key}"] = value.detach().to("cpu").contiguous().clone()
    unknown = set(modules) - {g.id for g in project.graphs} - {g.name for g in project.graphs}
    if unknown:
        raise WeightsError(f"no graph named {sorted(unknown)[0]!r} in the project")
    metadata = {"format": FORMAT, "version": "1", "graphs": json.dumps(graphs, sort_keys=True)}
    # atomic, fsynced (file and folder), mode and symlink kept, no temp file left behind
    return atomic_write(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))


def load_weights(project: Project, path: str | Path) -> dict[str, dict[str, Any]]:
    """{graph name: state_dict} from a weights file; graphs matched by id first, then by prefix."""
    from safetensors import safe_open

    target = Path(path)
    if not target.is_file():
        raise WeightsError(f"weights file not found: {target}")
    try:
        with safe_open(str(target), framework="pt") as handle:
            metadata = handle.metadata() or {}
            state = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own types for corrupt headers
        raise WeightsError(f"{target.name} is not a readable safetensors file: {_line(exc)}") from None
    try:
        recorded = json.loads(metadata.get("graphs", "{}"))
    except (ValueError, RecursionError, TypeError):  # metadata is text anyone can write: deep or odd JSON
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    prefixes = _prefixes(project)
    by_id = {str(v.get("id")): str(p) for p, v in recorded.items() if isinstance(v, dict)}
    out: dict[str, dict[str, Any]] = {}
    for graph in project.graphs:
        prefix = by_id.get(graph.id, prefixes[graph.id])
        start = prefix + "."
        own = {k[len(start):]: v for k, v in state.items() if k.startswith(start)}
        if own:
            out[graph.name] = own
    return out


def load_into(project: Project, modules: Mapping[str, Any], path: str | Path, strict: bool = True) -> list[str]:
    """Load saved weights into {graph name: module}; returns graph names that received weights.

    A shape or key mismatch raises :class:`WeightsError` naming the graph and the key.
    """
    loaded = []
    states = load_weights(project, path)
    for name, module in modules.items():
        state = states.get(name)
        if state is None:
            continue
        try:
            module.load_state_dict(state, strict=strict)
        except RuntimeError:
            raise WeightsError(f"{name}: saved weights do not fit the model ({mismatch_summary(module, state)})") \
                from None
        loaded.append(name)
    return loaded


def mismatch_summary(module: Any, state: Mapping[str, Any], limit: int = 3) -> str:
    """One line on why ``state`` does not fit ``module``: missing, unexpected and mis-shaped keys."""
    own = module.state_dict()

    def few(keys: list[str]) -> str:
        more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
        return ", ".join(keys[:limit]) + more

    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shaped = [f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}" for k in own
              if k in state and hasattr(state[k], "shape") and tuple(state[k].shape) != tuple(own[k].shape)]
    parts = [f"{label} {len(keys)}: {few(keys)}" for label, keys in
             (("missing", missing), ("unexpected", unexpected), ("wrong shape", shaped)) if keys]
    return "; ".join(parts) or "the layers differ"


def copy_or_save_weights(project: Project, weights: Any, dest: str | Path) -> Path:
    """For exports: copy a weights file, or save {graph: module/state_dict} to ``dest``."""
    if isinstance(weights, str | os.PathLike):
        source = Path(weights)
        if not source.exists():
            raise WeightsError(f"weights file not found: {source}")
        return atomic_write(dest, lambda tmp: shutil.copyfile(source, tmp))
    return save_weights(project, weights, dest)
