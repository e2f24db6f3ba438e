"""Import -> export -> parity: torchvision models, an LSTM and an attention model written as plain PyTorch."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from studio.compile.compiler import CompileError, compile_graph
from studio.compile.exporter import export_graph
from studio.compile.importer import (
    ModelImportError,
    import_from_file,
    import_module,
    import_torchvision,
    imported_state_dict,
)
from tests.compile.util import as_tuple, load_export


class SeqClassifier(nn.Module):
    """An LSTM tagger the way people write it: take the last step, then a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(6, 12)
        self.lstm = nn.LSTM(12, 16, num_layers=2, batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(torch.tanh(self.embed(x)))
        return self.head(out[:, -1])


class TinyAttention(nn.Module):
    """Self-attention with a residual, layer norm, mean pooling and two outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 16)
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
        self.norm = nn.LayerNorm(16)
        self.head = nn.Linear(16, 2)

    def forward(self, x: torch.Tensor):
        h = self.proj(x)
        a, weights = self.attn(h, h, h)
        h = self.norm(h + a)
        pooled = h.mean(dim=1)
        return self.head(pooled) * 0.5, weights


class Gate(nn.Module):
    """Data-dependent control flow: no graph can hold this branch."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2
        return x


class Flexible(nn.Module):
    """Functional calls, reshapes and concatenation, plus a submodule that branches on tensor values."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 8 * 8 + 4, 5)
        self.gate = Gate()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.conv(x))
        flat = y.view(y.size(0), -1)
        pooled = y.mean(dim=(2, 3))
        z = self.fc(torch.cat([flat, pooled], dim=1))
        return self.gate(z.cumsum(dim=1))


def roundtrip(model: nn.Module, registry, shape, tmp_path, name: str | None = None, export: bool = True):
    """Import, compile (and export): the same outputs as the original; the compiled keys are the original's."""
    torch.manual_seed(0)
    model.eval()
    graph, report = import_module(model, registry, shape, name=name)
    assert report.complete, report.summary()
    state = imported_state_dict(graph, registry, report)
    compiled = compile_graph(graph, registry)
    assert set(compiled.state_dict()) == set(state) == set(model.state_dict())
    compiled.load_state_dict(state)
    compiled.eval()
    results = [compiled]
    exported = None
    if export:
        exported = export_graph(graph, registry)
        module = load_export(exported.code, tmp_path)
        rebuilt = getattr(module, exported.class_name)()
        rebuilt.load_state_dict(state)
        rebuilt.eval()
        results.append(rebuilt)
    x = torch.randn(shape)
    with torch.no_grad():
        expected = as_tuple(model(x))
        for got in (as_tuple(m(x)) for m in results):
            assert len(got) == len(expected)
            for a, b in zip(got, expected, strict=True):
                assert torch.equal(a, b), f"max abs diff {(a - b).abs().max().item()}"
    return graph, report, exported


def test_resnet18_round_trip(registry, tmp_path):
    import torchvision

    graph, report, exported = roundtrip(torchvision.models.resnet18(weights=None), registry, (1, 3, 64, 64),
                                        tmp_path)
    types = [n.type_id for n in graph.nodes.values()]
    assert types.count("nn.conv2d") == 20 and types.count("nn.add") == 8 and "nn.flatten" in types
    assert {"layer1.0", "layer2.0.downsample"} <= {g.name for g in graph.groups.values()}  # groups = submodules
    assert graph.nodes[next(iter(graph.nodes))].params["shape"] == [3, 64, 64]
    conv = next(n for n in graph.nodes.values() if n.type_id == "nn.conv2d" and n.name == "layer1_0_conv1")
    assert conv.params["in_channels"] is None  # inferable params come back as "auto"
    assert len({n.position for n in graph.nodes.values()}) == len(graph.nodes)  # laid out, no overlaps


def test_import_torchvision_by_name(registry, tmp_path):
    graph, report = import_torchvision("mobilenet_v3_small", registry, (1, 3, 64, 64))
    assert report.complete
    types = {n.type_id for n in graph.nodes.values()}
    assert {"nn.hardswish", "nn.hardsigmoid", "nn.multiply", "nn.adaptive_avg_pool2d"} <= types
    with pytest.raises(ModelImportError):
        import_torchvision("not_a_model", registry)


def test_mobilenet_v3_small_round_trip(registry, tmp_path):
    import torchvision

    roundtrip(torchvision.models.mobilenet_v3_small(weights=None), registry, (1, 3, 64, 64), tmp_path)


def test_lstm_keeps_its_weight_names(registry, tmp_path):
    """nn.LSTM becomes a generic node (the dedicated node wraps it and would rename lstm.weight_ih_l0)."""
    graph, _, _ = roundtrip(SeqClassifier(), registry, (2, 5, 6), tmp_path, export=False)
    lstm = next(n for n in graph.nodes.values() if n.name == "lstm")
    assert lstm.type_id == "generic.module" and lstm.params["cls"] == "torch.nn.LSTM"
    assert lstm.params["args"] == "input_size=12, hidden_size=16, num_layers=2, batch_first=True"
    assert any(n.type_id == "nn.select" and n.params == {"dim": 1, "index": -1} for n in graph.nodes.values())


def test_attention_keeps_its_weight_names(registry, tmp_path):
    graph, _, _ = roundtrip(TinyAttention(), registry, (2, 5, 8), tmp_path, export=False)
    types = [n.type_id for n in graph.nodes.values()]
    assert "generic.module" in types and "fn.mean" in types and "fn.mul_const" in types
    attn = next(n for n in graph.nodes.values() if n.name == "attn")
    assert attn.params["call"] == "in0, in0, in0" and attn.params["pick"] == "0; 1"
    assert sum(n.type_id == "io.output" for n in graph.nodes.values()) == 2


def test_data_dependent_branch_is_opaque_with_file_and_line(registry):
    graph, report = import_module(Flexible().eval(), registry, (1, 3, 8, 8))
    assert [o.name for o in report.opaque] == ["gate"]
    assert "branches on tensor values at test_importer.py:" in report.opaque[0].reason
    node = graph.nodes[report.opaque[0].node_id]
    assert node.placeholder is not None and node.placeholder["opaque"] is True
    assert graph.edges_into(node.id) and graph.edges_from(node.id)  # its wires are kept
    assert "gate" in report.summary()
    types = {n.type_id for n in graph.nodes.values()}
    assert {"nn.reshape", "fn.mean", "nn.concat", "nn.relu"} <= types
    cumsum = next(n for n in graph.nodes.values() if n.type_id == "generic.function")
    assert cumsum.params == {"fn": "Tensor.cumsum", "args": "in0, dim=1", "pick": ""}
    with pytest.raises(CompileError) as info:
        compile_graph(graph, registry)
    assert info.value.node_id == node.id


def test_import_from_file(registry, tmp_path):
    source = tmp_path / "user_model.py"
    source.write_text(
        "import torch\nfrom torch import nn\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.a = nn.Linear(4, 8)\n"
        "        self.b = nn.Linear(8, 2)\n\n"
        "    def forward(self, x):\n"
        "        return self.b(torch.nn.functional.gelu(self.a(x)))\n")
    graph, report = import_from_file(source, "Net", registry, (1, 4))
    assert report.complete
    assert [n.type_id for n in graph.nodes.values()] == ["io.input", "nn.linear", "nn.gelu", "nn.linear",
                                                         "io.output"]
    with pytest.raises(ModelImportError):
        import_from_file(source, "Missing", registry)
    with pytest.raises(ModelImportError):
        import_from_file(tmp_path / "nope.py", "Net", registry)


class TokenModel(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.fc = nn.Linear(8, 2)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.fc(self.emb(ids)).sum(dim=1) - 1.5


def test_unknown_input_shapes_are_guessed(registry, tmp_path):
    graph, report = import_module(TokenModel(), registry)
    ids = next(n for n in graph.nodes.values() if n.type_id == "io.input")
    assert ids.params["dtype"] == "int64" and ids.params["shape"] == [16]
    assert any("guessed" in note for note in report.notes)
    assert any(n.type_id == "fn.add_const" and n.params == {"other": -1.5} for n in graph.nodes.values())
    model = TokenModel().eval()
    graph, report = import_module(model, registry, (2, 7))
    compiled = compile_graph(graph, registry)
    compiled.load_state_dict(imported_state_dict(graph, registry, report))
    tokens = torch.randint(0, 20, (2, 7))
    assert torch.equal(compiled(tokens), model(tokens))


def test_parameters_used_directly_are_reported(registry):
    class WithBias(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.offset = nn.Parameter(torch.zeros(4))

        def forward(self, x):
            return self.fc(x) + self.offset

    model = WithBias().eval()
    with torch.no_grad():
        model.offset.normal_()
    graph, report = import_module(model, registry, (1, 4))
    assert report.complete
    param = next(n for n in graph.nodes.values() if n.type_id == "generic.parameter")
    assert param.name == "offset" and param.params["shape"] == [4]
    compiled = compile_graph(graph, registry)
    compiled.load_state_dict(imported_state_dict(graph, registry, report))
    x = torch.randn(3, 4)
    assert torch.equal(compiled(x), model(x))


def test_shared_module_is_reported(registry):
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(torch.relu(self.fc(x)))

    model = Twice().eval()
    graph, report = import_module(model, registry, (2, 4))
    assert report.complete and any("more than once" in n for n in report.notes)
    compiled = compile_graph(graph, registry)
    compiled.load_state_dict(imported_state_dict(graph, registry, report))
    x = torch.randn(2, 4)
    assert torch.equal(compiled(x), model(x))


def test_imported_graph_with_opaque_node_saves_and_loads(registry, tmp_path):
    from studio.core.model import Project
    from studio.io.project_file import load_project, save_project

    graph, report = import_module(Flexible().eval(), registry, (1, 3, 8, 8))
    path = save_project(Project(name="imported", graphs=[graph]), tmp_path / "imported.nnstudio", registry)
    again = load_project(path, registry).graphs[0]
    ghost = again.nodes[report.opaque[0].node_id]
    assert ghost.placeholder is not None and ghost.placeholder["what"].endswith("Gate")
    assert len(again.edges) == len(graph.edges) and len(again.nodes) == len(graph.nodes)


class FunctionalZoo(nn.Module):
    """One call of each function/method the import table maps, written the way people write them."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.q = nn.Linear(4, 4)
        self.k = nn.Linear(4, 4)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        x = F.max_pool2d(F.leaky_relu(self.conv(image), 0.2), 2)  # (B, 4, 4, 4)
        pooled = F.adaptive_avg_pool2d(x, 1)  # (B, 4, 1, 1)
        tokens = torch.flatten(x, 2).transpose(1, 2).contiguous()  # (B, 16, 4)
        q, k = self.q(tokens), self.k(tokens)
        scores = F.softmax(q @ k.permute(0, 2, 1) / 2.0, dim=-1)  # (B, 16, 16)
        mixed = (scores @ tokens).sum(dim=1)  # (B, 4)
        gate = torch.sigmoid(pooled.squeeze(-1).squeeze(-1))  # (B, 4)
        out = (mixed - gate).unsqueeze(1) * 3.0
        return F.dropout(out, 0.1, self.training)


def test_functional_calls_round_trip(registry, tmp_path):
    graph, report, exported = roundtrip(FunctionalZoo(), registry, (2, 2, 8, 8), tmp_path)
    types = {n.type_id for n in graph.nodes.values()}
    assert {"nn.max_pool2d", "nn.leaky_relu", "nn.adaptive_avg_pool2d", "nn.flatten", "nn.transpose",
            "fn.contiguous", "fn.matmul", "nn.permute", "fn.div_const", "nn.softmax", "fn.sum", "nn.squeeze",
            "nn.sigmoid", "fn.sub", "nn.unsqueeze", "fn.mul_const", "nn.dropout"} <= types


@pytest.mark.parametrize("template", ["lstm_forecast", "attention_reverse", "conv_autoencoder", "transfer_cnn"])
def test_exported_template_imports_back_node_for_node(registry, tmp_path, template):
    """project -> export -> import_from_file -> compile: same nodes, same state_dict, same outputs."""
    from studio.io.templates import load_template

    graph = load_template(template, registry).graphs[0]
    for node in graph.nodes.values():  # no pretrained files needed: weights travel in the state_dict
        if node.type_id.startswith("tv."):
            node.params["weights"] = "none"
    compiled = compile_graph(graph, registry).eval()
    exported = export_graph(graph, registry)
    path = tmp_path / f"{template}_export.py"
    path.write_text(exported.code)
    shape = (2, *exported.input_shapes[exported.input_names[0]][0])
    back, report = import_from_file(path, exported.class_name, registry, shape)
    assert report.complete, report.summary()
    original_types = sorted(n.type_id for n in graph.nodes.values())
    assert sorted(n.type_id for n in back.nodes.values()) == original_types
    state = imported_state_dict(back, registry, report)
    assert {k: v.shape for k, v in state.items()} == {k: v.shape for k, v in compiled.state_dict().items()}
    recompiled = compile_graph(back, registry)
    recompiled.load_state_dict(compiled.state_dict())
    recompiled.eval()
    dtype = exported.input_shapes[exported.input_names[0]][1]
    x = torch.randn(shape) if dtype.startswith("float") else torch.randint(0, 3, shape)
    with torch.no_grad():
        for a, b in zip(as_tuple(recompiled(x)), as_tuple(compiled(x)), strict=True):
            assert torch.equal(a, b)


def test_efficientnet_b0_round_trip(registry, tmp_path):
    """SiLU, squeeze-excitation and torchvision's StochasticDepth all map to nodes."""
    import torchvision

    model = torchvision.models.efficientnet_b0(weights=None)
    graph, report, _ = roundtrip(model, registry, (1, 3, 32, 32), tmp_path)
    residual = sum(bool(getattr(m, "use_res_connect", False)) for m in model.modules())
    assert residual and sum(n.type_id == "nn.stochastic_depth" for n in graph.nodes.values()) == residual


class LongTail(nn.Module):
    """Operations that have no dedicated node, written the way torchvision and papers write them."""

    def __init__(self) -> None:
        super().__init__()
        self.wide = nn.Conv2d(3, 6, (1, 3), padding=(0, 1))  # non-square kernel
        self.branches = nn.ModuleList(nn.Conv2d(6, 2, 1) for _ in range(8))
        self.shuffle = nn.PixelShuffle(2)
        self.scale = nn.Parameter(torch.full((16, 1, 1), 0.5))  # layer scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        torch._assert(x.shape[1] == 3, "expects RGB")  # a shape check
        y = self.wide(x)
        y = torch.cat([b(y) for b in self.branches], 1)  # Concat of more than 4 tensors
        b, c, h, w = y.size()
        y = y.view(b, 2, c // 2, h, w).transpose(1, 2).reshape(b, c, h, w)  # channel shuffle
        y = F.avg_pool2d(y * self.scale, (1, 2), stride=(1, 2))
        y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        y = F.layer_norm(y, y.shape[1:])
        first, second = y.chunk(2, dim=1)
        z = self.shuffle(torch.exp(first) - torch.randn_like(second) * 0.0)
        return z.view(-1, 2 * 16 * 16)


def test_long_tail_operations_become_generic_nodes_with_exact_outputs(registry):
    torch.manual_seed(0)
    model = LongTail().eval()
    graph, report = import_module(model, registry, (2, 3, 8, 8))
    assert report.complete, report.summary()
    assert any("shape check" in note for note in report.notes)
    functions = {n.params["fn"] for n in graph.nodes.values() if n.type_id == "generic.function"}
    assert {"torch.cat", "Tensor.view", "F.avg_pool2d", "F.interpolate", "F.layer_norm", "Tensor.chunk",
            "torch.exp", "torch.randn_like"} <= functions
    interpolate = next(n for n in graph.nodes.values() if n.params.get("fn") == "F.interpolate")
    assert interpolate.params["args"] == "in0, size=in1.shape[-2:], mode='bilinear', align_corners=False"
    view = next(n for n in graph.nodes.values() if n.params.get("fn") == "Tensor.view" and "//" in n.params["args"])
    assert view.params["args"] == "in0, in0.size(0), 2, (in0.size(1) // 2), in0.size(2), in0.size(3)"
    modules = {n.params["cls"] for n in graph.nodes.values() if n.type_id == "generic.module"}
    assert "torch.nn.PixelShuffle" in modules
    assert any(n.type_id == "generic.parameter" and n.name == "scale" for n in graph.nodes.values())
    compiled = compile_graph(graph, registry)
    compiled.load_state_dict(imported_state_dict(graph, registry, report))
    x = torch.randn(3, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(compiled(x), model(x))
