"""Fixtures for panel tests: the built-in registry and a demo document."""

from __future__ import annotations

import pytest

from studio.catalog import default_registry
from studio.core.registry import Registry


@pytest.fixture(scope="session")
def panel_registry() -> Registry:
    return default_registry()


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
