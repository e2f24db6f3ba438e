"""Screenshots of every panel (dark and light) for looking at layout and contrast by eye."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPoint, QSize
from PySide6.QtWidgets import QApplication, QWidget

from studio.core.factory import make_node
from studio.core.model import Edge, Project, new_project
from studio.core.registry import Registry
from studio.ui.document import Document


def cnn_project(registry: Registry) -> Project:
    """Input 1×28×28 -> Conv -> ReLU -> MaxPool -> Flatten -> Linear -> Output, + one loose node."""
    project = new_project("CNN demo", "classifier")
    graph = project.main_graph
    chain = [("io.input", {"shape": [1, 28, 28]}, "image"), ("nn.conv2d", {"out_channels": 16}, "conv1"),
             ("nn.relu", {}, "relu1"), ("nn.max_pool2d", {}, "pool1"), ("nn.flatten", {}, "flat"),
             ("nn.linear", {"out_features": 10}, "head"), ("io.output", {}, "logits")]
    previous = None
    for i, (type_id, params, name) in enumerate(chain):
        spec = registry.find(type_id)
        if spec is None:
            continue
        node = make_node(spec, graph, (i * 220.0, 0.0), name=name, **params)
        graph.nodes[node.id] = node
        if previous is not None:
            edge = Edge(previous.id, registry.get(previous.type_id).outputs[0].name, node.id, spec.inputs[0].name)
            graph.edges[edge.id] = edge
        previous = node
    loose = make_node(registry.get("nn.linear"), graph, (440.0, 200.0), name="unused", in_features=100)
    graph.nodes[loose.id] = loose
    return project


def _apply_theme(app: QApplication, theme: str) -> None:
    try:
        from studio.ui.theme import apply_theme
    except ImportError:  # the window's theme module is not there: Fusion default palette
        app.setStyle("Fusion")
        return
    apply_theme(app, theme)


def _grab(widget: QWidget, size: QSize, path: Path) -> Path:
    widget.resize(size)
    widget.show()
    QApplication.processEvents()
    for timer_owner in (widget,):
        refresh = getattr(timer_owner, "refresh", None)
        if callable(refresh):
            refresh()
    QApplication.processEvents()
    widget.grab().save(str(path))
    widget.hide()
    return path


def grab_all(app: QApplication, document: Document, out: Path, theme: str) -> list[Path]:
    """Save panel_<name>_<theme>.png for every panel into ``out``."""
    from studio.ui.panels.code_view import CodePanel
    from studio.ui.panels.inspector import InspectorPanel
    from studio.ui.panels.palette import PalettePanel
    from studio.ui.panels.problems import ProblemsPanel
    from studio.ui.panels.quick_add import QuickAddPopup
    from studio.ui.panels.summary import SummaryPanel

    out.mkdir(parents=True, exist_ok=True)
    _apply_theme(app, theme)
    graph = document.project.main_graph
    by_name = {n.name: n.id for n in graph.nodes.values()}
    saved: list[Path] = []

    palette = PalettePanel(document)
    palette.tree.collapseItem(palette.tree.topLevelItem(palette.tree.topLevelItemCount() - 1))
    saved.append(_grab(palette, QSize(260, 640), out / f"panel_palette_{theme}.png"))
    palette.filter.setText("conv")
    saved.append(_grab(palette, QSize(260, 300), out / f"panel_palette_search_{theme}.png"))

    inspector = InspectorPanel(document)
    for name in ("conv1", "head", "image", "unused"):
        if name in by_name:
            document.set_selection(graph.id, [by_name[name]])
            if name == "head" and "out_features" in inspector.editors:
                inspector.editors["out_features"].field.lineEdit().setText("0")
                inspector._edited("out_features", 0)
                inspector._finished("out_features")
            saved.append(_grab(inspector, QSize(320, 620), out / f"panel_inspector_{name}_{theme}.png"))
    if "conv1" in by_name:  # a narrow dock must not cut anything off
        document.set_selection(graph.id, [by_name["conv1"]])
        saved.append(_grab(inspector, QSize(230, 520), out / f"panel_inspector_narrow_{theme}.png"))
    document.set_selection(graph.id, [])
    saved.append(_grab(inspector, QSize(300, 160), out / f"panel_inspector_empty_{theme}.png"))

    saved.append(_grab(SummaryPanel(document), QSize(600, 380), out / f"panel_summary_{theme}.png"))
    saved.append(_grab(CodePanel(document), QSize(640, 560), out / f"panel_code_{theme}.png"))
    saved.append(_grab(ProblemsPanel(document), QSize(600, 200), out / f"panel_problems_{theme}.png"))
    broken = CodePanel(document)
    if "image" in by_name:  # an unconnected layer on the main path: the code view explains instead
        from studio.core.ops import RemoveEdge

        edge = next(e for e in graph.edges.values() if e.src == by_name["image"])
        document.push(RemoveEdge(graph.id, edge.id))
        saved.append(_grab(broken, QSize(640, 240), out / f"panel_code_error_{theme}.png"))
        document.undo_stack.undo()

    popup = QuickAddPopup(document.registry)
    popup.popup_at(QPoint(50, 50))
    popup.search.setText("conv")
    QApplication.processEvents()
    popup.grab().save(str(out / f"panel_quick_add_{theme}.png"))
    saved.append(out / f"panel_quick_add_{theme}.png")
    popup.hide()
    return saved
