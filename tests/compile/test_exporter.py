"""Exporter: readable standalone code, determinism, ruff, weights helper, conv parity."""

from __future__ import annotations

import ast

import pytest
import torch

from studio.compile.compiler import compile_project
from studio.compile.exporter import export_graph, export_graph_code, export_project, literal
from studio.compile.weights import load_into, load_weights, save_weights, weights_path
from studio.core.ops import SetParam
from tests.compile.test_compiler import mlp
from tests.compile.util import Builder, check_parity, load_export, ruff_check


def cnn(registry, name="small cnn"):
    b = Builder(registry, name)
    x = b.node("io.input", "image", shape=[1, 12, 12])
    c1 = b.node("nn.conv2d", "conv1", out_channels=4, kernel_size=3, padding=1)
    bn = b.node("nn.batch_norm2d", "bn1")
    r = b.node("nn.relu")
    p = b.node("nn.max_pool2d", "pool", kernel_size=2)
    c2 = b.node("nn.conv2d", "conv2", out_channels=6, kernel_size=3, padding=0)
    g = b.node("nn.adaptive_avg_pool2d", "gap", output_size=1)
    f = b.node("nn.flatten")
    fc = b.node("nn.linear", "fc", out_features=5)
    o = b.node("io.output", "logits")
    b.chain(x, c1, bn, r, p, c2, g, f, fc, o)
    return b


def test_export_reads_like_hand_written_code(registry, tmp_path):
    b = cnn(registry)
    code = export_graph_code(b.graph, registry)
    assert "class SmallCnn(nn.Module):" in code
    # required arguments by position, defaults left out, (1, 1)-style tuples as one number
    assert "        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)\n" in code
    assert "        self.conv2 = nn.Conv2d(4, 6, 3)\n" in code
    assert "self.fc = nn.Linear(6, 5)" in code and "self.pool = nn.MaxPool2d(2)" in code
    assert "def forward(self, image: torch.Tensor) -> torch.Tensor:" in code
    assert "conv1 = self.conv1(image)" in code and "return fc" in code
    doc = ast.get_docstring(next(n for n in ast.parse(code).body if isinstance(n, ast.ClassDef)))
    assert "conv1" in doc and "(B, 4, 12, 12)" in doc and "Parameters:" in doc
    ast.parse(code)


def test_cnn_parity_eval_and_train(registry, tmp_path):
    b = cnn(registry)
    check_parity(b.graph, registry, tmp_path)
    torch.use_deterministic_algorithms(True)
    try:
        check_parity(b.graph, registry, tmp_path, train_mode=True)
    finally:
        torch.use_deterministic_algorithms(False)


def test_export_is_deterministic(registry):
    first = export_graph_code(cnn(registry).graph, registry)
    again = export_graph_code(cnn(registry).graph, registry)  # fresh ids, same content
    assert first.encode() == again.encode()


def test_export_is_ruff_clean(registry, tmp_path):
    b = cnn(registry)
    path = tmp_path / "small_cnn.py"
    path.write_text(export_graph_code(b.graph, registry))
    result = ruff_check(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_export_with_helpers_is_ruff_clean(registry, tmp_path):
    b = Builder(registry, "helpers")
    x = b.node("io.input", shape=[6])
    r = b.node("nn.reshape", shape=[2, 3])
    t = b.node("nn.transpose", dim0=1, dim1=2)
    c = b.node("nn.concat", dim=1)
    o = b.node("io.output")
    b.chain(x, r, t)
    b.wire(t, c, "in1")
    b.wire(t, c, "in2")
    b.wire(c, o)
    _, _, exported = check_parity(b.graph, registry, tmp_path)
    assert "class Reshape(nn.Module):" in exported.code and "def concat(" in exported.code
    path = tmp_path / "helpers_export.py"
    path.write_text(exported.code)
    result = ruff_check(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_literal_writes_only_plain_values():
    assert literal("a'\"\n") == repr("a'\"\n")
    assert literal((1,)) == "(1,)" and literal([1.5, None, True]) == "[1.5, None, True]"
    assert literal(float("inf")) == "float('inf')"
    assert literal(torch.float32) == "torch.float32"

    class Sneaky(str):
        def __repr__(self) -> str:
            return "__import__('os')"

    try:
        literal(Sneaky("x"))  # str subclasses could override __repr__: refused
    except TypeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("str subclasses must not be written")
    try:
        literal(object())
    except TypeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("objects must not be written as code")


def test_weights_round_trip_into_export(registry, tmp_path):
    b, _ = mlp(registry, "classifier")
    modules = compile_project(b.project, registry)
    path = weights_path(tmp_path / "proj.nnstudio")
    assert path.name == "proj.weights.safetensors"
    save_weights(b.project, modules, path)
    assert set(load_weights(b.project, path)["classifier"]) == set(modules["classifier"].state_dict())
    fresh = compile_project(b.project, registry)
    assert load_into(b.project, fresh, path) == ["classifier"]
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(fresh["classifier"](x), modules["classifier"](x))
    files = export_project(b.project, registry, tmp_path / "out", weights=path)
    assert [f.name for f in files] == ["classifier.py", "weights.safetensors"]
    exported = export_graph(b.graph, registry)
    module = load_export(files[0].read_text(), tmp_path, "classifier_export")
    model = getattr(module, exported.class_name)()
    model.load_weights(str(files[1]))
    assert torch.equal(model(x), modules["classifier"](x))
    assert not path.read_bytes().startswith(b"\x80")  # not a pickle


def test_export_project_copies_weights_beside_project(registry, tmp_path):
    b, _ = mlp(registry, "net")
    project_file = tmp_path / "demo.nnstudio"
    assert [p.name for p in export_project(b.project, registry, tmp_path / "a", project_path=project_file)] == [
        "net.py"]
    save_weights(b.project, compile_project(b.project, registry), weights_path(project_file))
    files = export_project(b.project, registry, tmp_path / "b", project_path=project_file)
    assert [p.name for p in files] == ["net.py", "weights.safetensors"]
    assert files[1].read_bytes() == weights_path(project_file).read_bytes()


@pytest.mark.slow
def test_export_bytes_do_not_depend_on_hash_seed(tmp_path):
    """Same project in another interpreter with another hash seed: identical file."""
    import os
    import subprocess
    import sys

    from tests.compile.util import ROOT

    script = ("import sys\nfrom studio.catalog import default_registry\n"
              "from tests.compile.test_exporter import cnn\n"
              "from studio.compile.exporter import export_graph_code\n"
              "sys.stdout.write(export_graph_code(cnn(default_registry()).graph, default_registry()))\n")
    env = dict(os.environ, PYTHONHASHSEED="12345", PYTHONIOENCODING="utf-8")  # this process runs with another (random) seed
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    from studio.catalog import default_registry

    here = export_graph_code(cnn(default_registry()).graph, default_registry())
    assert done.stdout.decode("utf-8") == here


def test_graph_without_layers_exports(registry, tmp_path):
    b = Builder(registry, "passthrough")
    x = b.node("io.input", shape=[3])
    y = b.node("io.input", "y", shape=[3])
    total = b.node("nn.add")
    b.wire(x, total, "a")
    b.wire(y, total, "b")
    b.wire(x, b.node("io.output", "same"))
    b.wire(total, b.node("io.output", "total"))
    compiled, _, exported = check_parity(b.graph, registry, tmp_path)
    assert not list(compiled.parameters())
    assert "return x, add" in exported.code
    path = tmp_path / "passthrough.py"
    path.write_text(exported.code)
    assert ruff_check(path).returncode == 0


def test_weights_follow_a_renamed_graph_and_bad_files_are_refused(registry, tmp_path):
    import pytest

    from studio.compile.weights import WeightsError
    from studio.core.ops import RenameGraph

    b, _ = mlp(registry, "first name")
    modules = compile_project(b.project, registry)
    path = save_weights(b.project, modules, tmp_path / "p.weights.safetensors")
    RenameGraph(b.graph.id, "second name").apply(b.project)
    states = load_weights(b.project, path)
    assert list(states) == ["second name"]
    assert all(torch.equal(states["second name"][k], v) for k, v in modules["first name"].state_dict().items())
    broken = tmp_path / "broken.weights.safetensors"
    broken.write_bytes(b"\x80\x04not safetensors")
    with pytest.raises(WeightsError):
        load_weights(b.project, broken)
    with pytest.raises(WeightsError):
        load_weights(b.project, tmp_path / "missing.safetensors")
    SetParam(b.graph.id, next(n.id for n in b.graph.nodes.values() if n.name == "hidden"),
             "out_features", 7).apply(b.project)
    with pytest.raises(WeightsError, match="do not fit"):
        load_into(b.project, compile_project(b.project, registry), path)


HOSTILE_GRAPH_NAMES = ["data", "train", "typing_extensions", "CON", "nul", "torch", "my model", "my-model",
                       "Model", "model", "com1", "Lpt9", "weights", "numpy", "nnloop", "gridworld"]


@pytest.mark.slow
def test_export_file_names_never_collide_or_shadow(registry, tmp_path):
    """Issue 16.6: no two files collide (any case), none is train/data, a module or a device name."""
    import os
    import subprocess
    import sys

    from studio.compile.export_names import importable_modules, is_reserved_stem
    from studio.train.script_export import export_train_script
    from tests.train.helpers import mlp as chain_mlp
    from tests.train.helpers import project

    graphs = [chain_mlp(registry, name, 2, 4, 3) for name in HOSTILE_GRAPH_NAMES]
    p = project(*graphs, training={"recipe": "classification", "graph": "data",
                                   "dataset": {"name": "spirals", "params": {"n": 64}}, "epochs": 1})
    out = tmp_path / "export"
    files = export_project(p, registry, out)
    models = len(files)
    assert models == len(HOSTILE_GRAPH_NAMES)
    files += export_train_script(p, registry, out)
    assert {"train.py", "data.py"} <= {f.name for f in files[models:]}
    names = [f.name for f in files]
    assert len({n.lower() for n in names}) == len(names)
    assert sorted(out.rglob("*.py")) == sorted(files)  # nothing overwritten
    stems = [f.stem for f in files[:models]]
    for stem in stems:
        assert stem.isidentifier() and stem.isascii()
        assert not is_reserved_stem(stem)
        assert stem.lower() not in importable_modules()
        assert stem.lower().split(".")[0] not in {"con", "nul", "com1", "lpt9", "train", "data"}
    # the export folder first on sys.path (python train.py) still imports torch and its helpers
    done = subprocess.run([sys.executable, "-c", "import typing_extensions, torch, numpy; import data, train"],
                          cwd=out, env=dict(os.environ, PYTHONPATH=str(out)), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-800:]


def test_graphs_that_sanitise_alike_get_distinct_stems(registry):
    from studio.compile.export_names import unique_stems

    assert unique_stems(["my model", "my-model", "my model!", "MY_MODEL"]) == [
        "my_model", "my_model_1", "my_model_2", "MY_MODEL_3"]
    assert unique_stems(["CON", "con", "nul.txt", "typing_extensions"]) == [
        "CON_model", "con_model_1", "nul_txt", "typing_extensions_model"]
