"""Shared helpers for compile tests: build graphs through core operations, load exports, check parity."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import torch

from studio.compile.compiler import compile_graph
from studio.compile.exporter import export_graph
from studio.core.factory import make_node
from studio.core.model import Edge, Graph, Group, Project, new_project
from studio.core.ops import AddEdge, AddNode, SetGroup
from studio.core.registry import Registry

ROOT = Path(__file__).resolve().parents[2]


class Builder:
    """Builds a graph with core operations: ``b.node('nn.linear', out_features=3)``, ``b.wire(a, c)``."""

    def __init__(self, registry: Registry, name: str = "model", project: Project | None = None) -> None:
        self.registry = registry
        self.project = project or new_project(graph_name=name)
        self.graph: Graph = self.project.graphs[-1]

    def node(self, type_id: str, name: str | None = None, **params: Any) -> str:
        node = make_node(self.registry.get(type_id), self.graph, name=name, **params)
        AddNode(self.graph.id, node).apply(self.project)
        return node.id

    def wire(self, src: str, dst: str, dst_port: str | None = None, src_port: str | None = None) -> None:
        sspec = self.registry.get(self.graph.nodes[src].type_id)
        dspec = self.registry.get(self.graph.nodes[dst].type_id)
        src_port = src_port or sspec.outputs[0].name
        dst_port = dst_port or dspec.inputs[0].name
        AddEdge(self.graph.id, Edge(src, src_port, dst, dst_port)).apply(self.project)

    def chain(self, *ids: str) -> str:
        for a, b in zip(ids, ids[1:], strict=False):
            self.wire(a, b)
        return ids[-1]

    def group(self, name: str, *ids: str) -> None:
        SetGroup(self.graph.id, list(ids), Group(name)).apply(self.project)


def load_export(code: str, tmp_path: Path, stem: str | None = None):
    """Import exported code as a real module file (so tracebacks and inspect work)."""
    stem = stem or f"export_{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{stem}.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def random_inputs(exported, batch: int = 3, seed: int = 0) -> tuple[torch.Tensor, ...]:
    gen = torch.Generator().manual_seed(seed)
    out = []
    for name in exported.input_names:
        shape, dtype = exported.input_shapes[name]
        if dtype.startswith("float"):
            out.append(torch.randn((batch, *shape), generator=gen, dtype=getattr(torch, dtype)))
        else:
            out.append(torch.randint(0, 4, (batch, *shape), generator=gen).to(getattr(torch, dtype)))
    return tuple(out)


def as_tuple(value: Any) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def check_parity(graph: Graph, registry: Registry, tmp_path: Path, inputs: tuple | None = None,
                 train_mode: bool = False):
    """Compile and export ``graph``; the export with the compiled weights gives identical outputs."""
    torch.manual_seed(0)
    compiled = compile_graph(graph, registry)
    exported = export_graph(graph, registry)
    module = load_export(exported.code, tmp_path)
    model = getattr(module, exported.class_name)()
    state = compiled.state_dict()
    assert list(model.state_dict()) == list(state)
    assert {k: v.shape for k, v in model.state_dict().items()} == {k: v.shape for k, v in state.items()}
    model.load_state_dict(state)
    inputs = inputs if inputs is not None else random_inputs(exported)
    compiled.train(train_mode)
    model.train(train_mode)
    with torch.no_grad():
        torch.manual_seed(1)
        a = as_tuple(compiled(*inputs))
        torch.manual_seed(1)
        b = as_tuple(model(*inputs))
    assert len(a) == len(b) == len(exported.output_names)
    for x, y in zip(a, b, strict=True):
        assert x.shape == y.shape
        assert torch.equal(x, y), f"max abs diff {(x - y).abs().max().item()}"
    return compiled, model, exported


def ruff_check(path: Path) -> subprocess.CompletedProcess:
    ruff = Path(sys.executable).parent / "ruff"
    return subprocess.run([str(ruff), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(path)],
                          capture_output=True, text=True, timeout=60)
