"""Every template project compiles, exports, and the export matches the compiled module exactly."""

from __future__ import annotations

import pytest
import torch

from studio.compile.exporter import export_project
from studio.core.ops import SetParam
from studio.io.project_file import SUFFIX
from tests.compile.util import ROOT, check_parity, ruff_check

TEMPLATES = sorted((ROOT / "templates").glob(f"*{SUFFIX}"))


def test_templates_are_found():
    assert len(TEMPLATES) >= 5


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.stem for p in TEMPLATES])
def test_template_parity(path, registry, tmp_path):
    from studio.io.project_file import load_project

    project = load_project(path, registry)
    assert project.graphs
    for graph in project.graphs:  # parity needs no pretrained files: the test loads compiled weights anyway
        for node in graph.nodes.values():
            if node.type_id.startswith("tv.") and node.params.get("weights") != "none":
                SetParam(graph.id, node.id, "weights", "none").apply(project)
    torch.use_deterministic_algorithms(True)
    try:
        for graph in project.graphs:
            check_parity(graph, registry, tmp_path)
    finally:
        torch.use_deterministic_algorithms(False)
    files = export_project(project, registry, tmp_path / "export")
    assert len(files) == len(project.graphs)
    for file in files:
        result = ruff_check(file)
        assert result.returncode == 0, result.stdout + result.stderr
