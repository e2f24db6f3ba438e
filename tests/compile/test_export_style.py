"""The export reads like code a person writes: one class per repeated block, defaults left out,
original module paths and state_dict keys, Sequential for chains — and stays bit-exact."""

from __future__ import annotations

import ast

import pytest
import torch
from torch import nn

from studio.compile.compiler import compile_graph
from studio.compile.exporter import export_graph
from tests.compile.util import Builder, check_parity, load_export

RESNET18_MAX_LINES = 200


def _classes(code: str) -> list[str]:
    return [n.name for n in ast.parse(code).body if isinstance(n, ast.ClassDef)]


def _imported_parity(original: nn.Module, shape: tuple[int, ...], registry, tmp_path, name: str):
    """Import, export; the export loads the original state_dict strictly and computes the same outputs."""
    from studio.compile.importer import import_module

    original.eval()
    graph, _ = import_module(original, registry, shape, name=name)
    exported = export_graph(graph, registry)
    module = load_export(exported.code, tmp_path)
    model = getattr(module, exported.class_name)()
    model.load_state_dict(original.state_dict(), strict=True)
    assert list(model.state_dict()) == list(original.state_dict())
    compiled = compile_graph(graph, registry)
    assert list(compiled.state_dict()) == list(original.state_dict())  # weights files key on these
    x = torch.randn(*shape)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x), original(x))
    return graph, exported


@pytest.mark.slow
def test_resnet18_exports_short_with_one_class_per_block_kind(registry, tmp_path):
    from torchvision.models import resnet18

    torch.manual_seed(0)
    graph, exported = _imported_parity(resnet18(weights=None), (2, 3, 64, 64), registry, tmp_path, "resnet18")
    code = exported.code
    assert len(code.splitlines()) <= RESNET18_MAX_LINES
    classes = _classes(code)
    # BasicBlock with and without downsampling, the model: eight blocks written as two classes
    assert len(classes) == 3, classes
    assert code.count("nn.Conv2d(") <= 6  # conv1 + two per block class + one downsample
    assert "self.layer1 = nn.Sequential(" in code
    assert "in_channels=" not in code and "bias=True" not in code and "dilation=" not in code
    check_parity(graph, registry, tmp_path, train_mode=True)


def test_sequential_submodules_keep_their_keys(registry, tmp_path):
    torch.manual_seed(0)
    original = nn.Sequential()
    original.add_module("features", nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                                  nn.Conv2d(8, 8, 3, padding=1), nn.ReLU()))
    original.add_module("flatten", nn.Flatten())
    original.add_module("head", nn.Linear(8 * 4 * 4, 5))
    _, exported = _imported_parity(original, (2, 3, 8, 8), registry, tmp_path, "small_vgg")
    assert "self.features = nn.Sequential(" in exported.code
    assert "nn.Conv2d(3, 8, 3, padding=1)" in exported.code


def _two_blocks(registry, channels=(4, 8), kernel=3, name="tower"):
    b = Builder(registry, name)
    current = b.node("io.input", "image", shape=[2, 8, 8])
    for i, width in enumerate(channels):
        # inside group stage0 the node stage0_conv is stage0.conv (names are unique on the canvas)
        conv = b.node("nn.conv2d", f"stage{i}_conv", out_channels=width, kernel_size=kernel, padding=kernel // 2)
        act = b.node("nn.relu", f"stage{i}_act")
        b.chain(current, conv, act)
        b.group(f"stage{i}", conv, act)
        current = act
    b.chain(current, b.node("nn.flatten"), b.node("io.output", "features"))
    return b


def test_identical_user_groups_become_one_class_with_size_arguments(registry, tmp_path):
    b = _two_blocks(registry)
    _, model, exported = check_parity(b.graph, registry, tmp_path)
    assert _classes(exported.code) == ["Stage0", "Tower"]
    assert "self.stage0 = Stage0(2, 4)" in exported.code and "self.stage1 = Stage0(4, 8)" in exported.code
    assert "def __init__(self, in_channels, out_channels) -> None:" in exported.code
    assert set(model.state_dict()) == {"stage0.conv.weight", "stage0.conv.bias", "stage1.conv.weight",
                                       "stage1.conv.bias"}


def test_groups_that_differ_in_structure_stay_separate_classes(registry, tmp_path):
    b = _two_blocks(registry)
    extra = b.node("nn.batch_norm2d", "bn1")
    stage1 = next(g for g in b.graph.groups.values() if g.name == "stage1")
    act1 = next(n.id for n in b.graph.nodes.values() if n.name == "stage1_act")
    flatten = next(n.id for n in b.graph.nodes.values() if n.name == "flatten")
    edge = next(e for e in b.graph.edges.values() if e.src == act1 and e.dst == flatten)
    from studio.core.ops import RemoveEdge, SetGroup

    RemoveEdge(b.graph.id, edge.id).apply(b.project)
    b.chain(act1, extra, flatten)
    SetGroup(b.graph.id, [extra], stage1).apply(b.project)
    _, _, exported = check_parity(b.graph, registry, tmp_path)
    assert len(_classes(exported.code)) == 3


def test_a_group_interleaved_with_other_layers_is_written_inline(registry, tmp_path):
    """Calling a block as one unit would reorder operations; a group that does not run in one stretch
    stays a plain holder module and its layers are called where they run."""
    b = Builder(registry, "interleaved")
    x = b.node("io.input", "x", shape=[6])
    a = b.node("nn.linear", "a", out_features=6)
    mid = b.node("nn.dropout", "mid", p=0.5)
    c = b.node("nn.linear", "c", out_features=3)
    b.chain(x, a, mid, c, b.node("io.output", "y"))
    b.group("outer", a, c)
    torch.use_deterministic_algorithms(True)
    try:
        _, _, exported = check_parity(b.graph, registry, tmp_path, train_mode=True)
    finally:
        torch.use_deterministic_algorithms(False)
    assert "self.outer = nn.Module()" in exported.code and "self.outer.a = nn.Linear(6, 6)" in exported.code
    assert _classes(exported.code) == ["Interleaved"]


def test_non_default_arguments_are_kept(registry, tmp_path):
    b = Builder(registry, "explicit")
    x = b.node("io.input", "x", shape=[3, 8, 8])
    conv = b.node("nn.conv2d", "conv", out_channels=4, kernel_size=3, stride=2, padding=0, bias=False)
    b.chain(x, conv, b.node("nn.flatten"), b.node("io.output", "y"))
    _, _, exported = check_parity(b.graph, registry, tmp_path)
    assert "self.conv = nn.Conv2d(3, 4, 3, stride=2, bias=False)" in exported.code


def test_dotted_node_names_are_submodule_paths(registry, tmp_path):
    """A node named by its original path (an import) sits at that path; bad paths fall back to names."""
    b = Builder(registry, "paths")
    x = b.node("io.input", "x", shape=[4])
    first = b.node("nn.linear", "encoder.0", out_features=4)
    second = b.node("nn.linear", "encoder.1", out_features=4)
    odd = b.node("nn.linear", "encoder.forward", out_features=2)  # an nn.Module attribute: not a path
    b.chain(x, first, second, odd, b.node("io.output", "y"))
    for nid, name in ((first, "encoder.0"), (second, "encoder.1"), (odd, "encoder.forward")):
        b.graph.nodes[nid].name = name  # as an importer sets them
    compiled, model, exported = check_parity(b.graph, registry, tmp_path)
    keys = list(compiled.state_dict())
    assert keys[:2] == ["encoder.0.weight", "encoder.0.bias"] and "encoder_forward.weight" in keys
    assert "self.encoder = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4))" in exported.code


class _Shuffle(nn.Module):
    """Layers without a dedicated node (generic nodes) export as the plain calls a person writes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 12, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.shuffle(self.conv(x))
        return y.flatten(1).chunk(2, dim=1)[0]


def test_generic_nodes_export_as_plain_calls(registry, tmp_path):
    torch.manual_seed(0)
    graph, exported = _imported_parity(_Shuffle(), (2, 3, 8, 8), registry, tmp_path, "shuffle")
    assert "nn.PixelShuffle(" in exported.code and ".chunk(2, dim=1)[0]" in exported.code
    assert "build_module" not in exported.code and "call_function" not in exported.code
    check_parity(graph, registry, tmp_path)
