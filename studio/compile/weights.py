"""Trained weights beside the project file, in safetensors (never pickle).

One file per project, ``<project>.weights.safetensors``; each graph's tensors carry the graph's
module name as a prefix (``generator.conv.weight``), and the file's metadata maps prefixes to
graph ids so renaming a graph does not orphan its weights. Exported code loads the same file
with ``Model().load_weights(path)``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from studio.core.model import Project

WEIGHTS_SUFFIX = ".weights.safetensors"
WEIGHTS_EXPORT_NAME = "weights.safetensors"
FORMAT = "nnstudio.weights"


class WeightsError(ValueError):
    """A weights file that is missing, unreadable or does not fit the project; says which."""


def weights_path(project_path: str | Path) -> Path:
    """``models/mnist.nnsp`` -> ``models/mnist.weights.safetensors``."""
    path = Path(project_path)
    return path.with_name(path.name.split(".")[0] + WEIGHTS_SUFFIX) if "." in path.name \
        else path.with_name(path.name + WEIGHTS_SUFFIX)


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
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_weights(project: Project, path: str | Path) -> dict[str, dict[str, Any]]:
    """{graph name: state_dict} from a weights file; graphs matched by id first, then by prefix."""
    from safetensors import safe_open

    target = Path(path)
    if not target.exists():
        raise WeightsError(f"weights file not found: {target}")
    try:
        with safe_open(str(target), framework="pt") as handle:
            metadata = handle.metadata() or {}
            state = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    except Exception as exc:  # safetensors raises its own types for corrupt headers
        raise WeightsError(f"{target.name} is not a readable safetensors file: {exc}") from exc
    try:
        recorded = json.loads(metadata.get("graphs", "{}"))
    except json.JSONDecodeError:
        recorded = {}
    if not isinstance(recorded, dict):
        recorded = {}
    prefixes = _prefixes(project)
    by_id = {str(v.get("id")): p for p, v in recorded.items() if isinstance(v, dict)}
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
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            raise WeightsError(f"{name}: saved weights do not fit the model ({' '.join(first[:3])})") from exc
        loaded.append(name)
    return loaded


def copy_or_save_weights(project: Project, weights: Any, dest: str | Path) -> Path:
    """For exports: copy a weights file, or save {graph: module/state_dict} to ``dest``."""
    if isinstance(weights, str | os.PathLike):
        source = Path(weights)
        if not source.exists():
            raise WeightsError(f"weights file not found: {source}")
        shutil.copyfile(source, dest)
        return Path(dest)
    return save_weights(project, weights, dest)
