"""Fixtures for panel tests: a registry that surely holds conv and LSTM types, and a demo document."""

from __future__ import annotations

import pytest
from torch import nn

from studio.catalog import default_registry
from studio.core.registry import Registry
from studio.core.spec import ExportInfo, NodeSpec, ParamSpec, PortSpec


def _fallback_specs(base: Registry) -> list[NodeSpec]:
    """Conv / LSTM stand-ins for while the node library does not have them yet."""
    extra = []
    if not base.search("conv"):
        extra.append(NodeSpec(
            type_id="test.conv2d", title="Conv2d", category="Convolution", inputs=(PortSpec("in"),),
            params=(ParamSpec("in_channels", "int", None, minimum=1, infer=lambda s: int(s[0][1])),
                    ParamSpec("out_channels", "int", 8, minimum=1),
                    ParamSpec("kernel_size", "int", 3, minimum=1)),
            module=nn.Conv2d, export=ExportInfo("nn.Conv2d"), description="2-D convolution."))
    if not base.search("lstm"):
        extra.append(NodeSpec(
            type_id="test.lstm", title="LSTM", category="Sequence", inputs=(PortSpec("in"),),
            params=(ParamSpec("input_size", "int", None, minimum=1, infer=lambda s: int(s[0][-1])),
                    ParamSpec("hidden_size", "int", 16, minimum=1)),
            module=nn.LSTM, export=ExportInfo("nn.LSTM"), description="Long short-term memory."))
    return extra


@pytest.fixture(scope="session")
def panel_registry() -> Registry:
    base = default_registry()
    return Registry([*base, *_fallback_specs(base)])


@pytest.fixture
def document(qtbot, panel_registry):
    from studio.ui.document import Document
    from tools.demo import panel_demo

    doc = Document(panel_registry, panel_demo(panel_registry))
    yield doc
    doc.undo_stack.cleanChanged.disconnect()  # the stack outlives the Python wrapper at teardown


def node_named(document, name: str):
    node = document.project.main_graph.node_by_name(name)
    assert node is not None, f"demo graph has no node {name!r}"
    return node
