"""Project graphs -> torch modules and standalone code, weights beside the project, and model import.

Public API (imported lazily, so ``import studio.compile`` does not import torch):

- ``compile_graph(graph, registry, shapes=None) -> torch.fx.GraphModule``;
  ``compile_project(project, registry) -> {graph name: GraphModule}``; ``CompileError`` (``.node_id``);
  ``parameter_counts(module) -> ParamCounts``
- ``export_graph_code(graph, registry) -> str``; ``export_graph(...) -> ExportedModel`` (code, class_name,
  input/output names, input shapes, weights prefix); ``export_project(project, registry, out_dir, weights=None)``;
  ``module_names(project) -> {graph id: file stem}``
- ``save_weights / load_weights / load_into / weights_path`` (safetensors, never pickle)
- ``import_module / import_from_file / import_torchvision -> (Graph, ImportReport)``;
  ``imported_state_dict(graph, registry, report)``
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "compile_graph": "compiler", "compile_project": "compiler", "compile_plan": "compiler",
    "parameter_counts": "compiler", "ParamCounts": "compiler", "CompileError": "plan", "build_plan": "plan",
    "export_graph_code": "exporter", "export_graph": "exporter", "export_project": "exporter",
    "ExportedModel": "exporter", "ExportError": "exporter", "module_names": "exporter",
    "save_weights": "weights", "load_weights": "weights", "load_into": "weights", "weights_path": "weights",
    "WeightsError": "weights",
    "import_module": "importer", "import_from_file": "importer", "import_torchvision": "importer",
    "imported_state_dict": "importer", "ImportReport": "importer", "ModelImportError": "importer",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'studio.compile' has no attribute {name!r}")
    return getattr(importlib.import_module(f"studio.compile.{module}"), name)
