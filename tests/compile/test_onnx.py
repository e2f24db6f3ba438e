"""ONNX export: every template's models match PyTorch in onnxruntime with a dynamic batch axis."""

from __future__ import annotations

from pathlib import Path

import onnx
import pytest
import torch

from studio.compile.onnx_export import TOLERANCE, OnnxExportError, export_onnx, export_project_onnx
from studio.core.ops import SetParam
from studio.core.registry import Registry
from studio.core.spec import ExportInfo, NodeSpec, PortSpec
from tests.compile.util import ROOT, Builder

TEMPLATES = sorted((ROOT / "templates").glob("*.nnstudio"))


def _offline(project) -> None:
    """Template backbones without downloaded weights (the check compares runtimes, not accuracy)."""
    for graph in project.graphs:
        for node in graph.nodes.values():
            if node.type_id.startswith("tv.") and node.params.get("weights") != "none":
                SetParam(graph.id, node.id, "weights", "none").apply(project)


def test_there_are_templates():
    assert len(TEMPLATES) >= 5


@pytest.mark.parametrize("path", TEMPLATES, ids=[p.stem for p in TEMPLATES])
def test_template_onnx_parity(path: Path, registry, tmp_path):
    from studio.io.project_file import load_project

    torch.manual_seed(0)
    project = load_project(path, registry)
    _offline(project)
    results = export_project_onnx(project, registry, tmp_path)
    assert [r.graph_name for r in results] == [g.name for g in project.graphs]  # a GAN: both graphs
    for result in results:
        assert result.max_abs_diff <= TOLERANCE
        assert f"max |diff| {result.max_abs_diff:.2e}" in result.summary()
        model = onnx.load(str(result.path))
        onnx.checker.check_model(model)
        for value in model.graph.input:  # the batch axis is symbolic, every other axis fixed
            dims = value.type.tensor_type.shape.dim
            assert dims[0].dim_param and not dims[0].dim_value
            assert all(d.dim_value > 0 for d in dims[1:])


def test_trained_weights_go_into_the_file(registry, tmp_path):
    from studio.compile.compiler import compile_graph

    b = Builder(registry, "net")
    x = b.node("io.input", "x", shape=[5])
    fc = b.node("nn.linear", "fc", out_features=3)
    b.chain(x, fc, b.node("io.output", "y"))
    module = compile_graph(b.graph, registry)
    with torch.no_grad():
        module.fc.weight.fill_(0.25)
        module.fc.bias.fill_(-1.0)
    result = export_onnx(b.graph, registry, tmp_path / "net.onnx", module=module)
    import onnxruntime as ort

    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    out = session.run(None, {"x": torch.ones(4, 5).numpy()})[0]
    assert out.shape == (4, 3) and abs(float(out[0, 0]) - 0.25) < 1e-6  # 5 * 0.25 - 1, batch 4


def _spectral_registry(registry) -> Registry:
    """The io nodes plus one layer ONNX has no operator for (eigenvalues of a symmetric matrix)."""
    spec = NodeSpec(type_id="test.eigvalsh", title="Eigenvalues", category="Test", inputs=(PortSpec("in"),),
                    function=torch.linalg.eigvalsh, kwargs=lambda p: {},
                    export=ExportInfo("torch.linalg.eigvalsh"), description="eigenvalues")
    return Registry([registry.get("io.input"), registry.get("io.output"), spec])


def test_an_operation_onnx_cannot_express_is_one_clear_line(registry, tmp_path):
    reg = _spectral_registry(registry)
    b = Builder(reg, "spectral")
    x = b.node("io.input", "x", shape=[4, 4])
    b.chain(x, b.node("test.eigvalsh", "eig"), b.node("io.output", "y"))
    with pytest.raises(OnnxExportError) as info:
        export_onnx(b.graph, reg, tmp_path / "spectral.onnx")
    message = str(info.value)
    assert "\n" not in message and message.startswith("spectral: ONNX cannot express")
    assert "eigh" in message or "eigvalsh" in message
    assert not (tmp_path / "spectral.onnx").exists()
    assert not list(tmp_path.glob("*.tmp"))  # no half-written file left behind


def test_cli_export_onnx_prints_the_check(registry, tmp_path, capsys):
    from studio.cli import main
    from studio.compile.compiler import compile_project
    from studio.compile.weights import save_weights
    from studio.io.project_file import save_project

    b = Builder(registry, "data")  # a graph named like a support file still gets its own files
    x = b.node("io.input", "x", shape=[4])
    b.chain(x, b.node("nn.linear", "fc", out_features=2), b.node("io.output", "y"))
    path = tmp_path / "tiny.nnstudio"
    save_project(b.project, path)
    modules = compile_project(b.project, registry)
    weights = tmp_path / "trained.safetensors"
    save_weights(b.project, modules, weights)
    out = tmp_path / "out"
    assert main(["export", str(path), "--onnx", "--weights", str(weights), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "data_model.onnx: data -> ONNX" in printed and "max |diff|" in printed
    import onnxruntime as ort

    session = ort.InferenceSession(str(out / "data_model.onnx"), providers=["CPUExecutionProvider"])
    sample = torch.randn(5, 4)
    got = session.run(None, {"x": sample.numpy()})[0]
    with torch.no_grad():
        assert torch.allclose(torch.from_numpy(got), modules["data"](sample), atol=1e-5)  # the trained weights


@pytest.mark.slow
def test_cli_onnx_failure_is_one_line(registry, tmp_path, capsys, monkeypatch):
    from studio.cli import main
    from studio.io.project_file import save_project

    reg = _spectral_registry(registry)
    b = Builder(reg, "spectral")
    b.chain(b.node("io.input", "x", shape=[3, 3]), b.node("test.eigvalsh", "eig"), b.node("io.output", "y"))
    path = tmp_path / "spectral.nnstudio"
    save_project(b.project, path)
    import studio.catalog

    monkeypatch.setattr(studio.catalog, "default_registry", lambda: reg)
    code = main(["export", str(path), "--onnx", "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "ONNX cannot express" in err[0]
