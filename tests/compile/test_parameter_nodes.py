"""Tensors used directly in forward (a class token, a position table) keep their path and key on the way
through import, compile and export, so a stock checkpoint loads strictly into the exported class."""

from __future__ import annotations

import torch
from torch import nn

from bench.import_corpus import _load_export
from studio.compile.compiler import compile_graph
from studio.compile.exporter import export_graph
from studio.compile.importer import import_module, imported_state_dict


class Tokens(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 8)
        self.cls_token = nn.Parameter(torch.randn(1, 1, 8))
        self.register_buffer("positions", torch.arange(6, dtype=torch.float32).view(1, 6, 1) / 6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.proj(x) + self.positions[:, : x.size(1)]
        return torch.cat([self.cls_token.expand(x.size(0), -1, -1), h], dim=1)


def test_parameter_and_buffer_keep_their_keys_through_compile_and_export(registry):
    torch.manual_seed(0)
    model = Tokens().eval()
    x = torch.randn(2, 5, 4)
    graph, report = import_module(model, registry, [[2, 5, 4]], name="tokens")
    assert report.complete
    compiled = compile_graph(graph, registry)
    assert set(compiled.state_dict()) == set(model.state_dict())
    compiled.load_state_dict(imported_state_dict(graph, registry, report))
    assert torch.equal(compiled(x), model(x))
    exported = export_graph(graph, registry)
    assert "self.cls_token = nn.Parameter(" in exported.code and "register_buffer('positions'" in exported.code
    assert "class Parameter" not in exported.code
    rebuilt = _load_export(exported.code, exported.class_name).eval()
    rebuilt.load_state_dict(model.state_dict(), strict=True)
    assert torch.equal(rebuilt(x), model(x))


def test_freezing_a_parameter_node_freezes_its_tensor(registry):
    from studio.train.build import build_model
    from studio.train.optim import apply_node_settings
    from studio.train.settings import NodeTraining

    graph, _ = import_module(Tokens().eval(), registry, [[2, 5, 4]], name="tokens")
    built = build_model(graph, registry)
    node = next(n.name for n in graph.nodes.values() if n.type_id == "generic.parameter" and "cls" in n.name)
    apply_node_settings([built], {node: NodeTraining(freeze=True)})
    assert not built.module.cls_token.requires_grad and built.module.proj.weight.requires_grad
