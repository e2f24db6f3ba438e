"""A small demo document for panel tests and screenshots (``python -m studio.ui.panels.demo OUT``)."""

from __future__ import annotations

import sys
from pathlib import Path

from studio.core.factory import make_node
from studio.core.model import Edge, Project, new_project
from studio.core.registry import Registry


def demo_project(registry: Registry) -> Project:
    """Input(784) -> Linear(128) -> ReLU -> Linear(10) -> Output, plus one unconnected Linear."""
    project = new_project("Demo")
    graph = project.main_graph
    chain = [("io.input", {"shape": [784]}, "x"), ("nn.linear", {"out_features": 128}, "fc1"),
             ("nn.relu", {}, "act"), ("nn.linear", {"out_features": 10}, "fc2"), ("io.output", {}, "logits")]
    previous = None
    for i, (type_id, params, name) in enumerate(chain):
        node = make_node(registry.get(type_id), graph, (i * 220.0, 0.0), name=name, **params)
        graph.nodes[node.id] = node
        if previous is not None:
            spec_out = registry.get(previous.type_id).outputs[0].name
            spec_in = registry.get(type_id).inputs[0].name
            edge = Edge(previous.id, spec_out, node.id, spec_in)
            graph.edges[edge.id] = edge
        previous = node
    lonely = make_node(registry.get("nn.linear"), graph, (440.0, 200.0), name="unused", out_features=32)
    graph.nodes[lonely.id] = lonely
    return project


def main(argv: list[str] | None = None) -> int:
    """Save a PNG of every panel in a dark and a light palette (for looking at, not for tests)."""
    from PySide6.QtWidgets import QApplication

    from studio.catalog import default_registry
    from studio.ui.document import Document
    from studio.ui.panels.screens import cnn_project, grab_all

    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "/tmp")
    app = QApplication.instance() or QApplication([])
    registry = default_registry()
    document = Document(registry, cnn_project(registry))
    for theme in ("dark", "light"):
        for path in grab_all(app, document, out, theme):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
