"""Screenshots of every panel (dark and light) for looking at layout and contrast by eye.

``python -m tools.panel_screens [OUTDIR] [--sizes 1440x900,1280x720] [--themes dark,light] [--templates a,b]
[--no-panels] [--no-training]`` saves ``panel_<name>_<theme>.png`` for the palette, inspector, summary, code,
problems and quick-add panels on the CNN demo project, then the window with its Training panel for every
template and stage and every paradigm no template trains (``tools.screenshots``: enumerated from the
templates folder and the recipe registry), in both themes at each size. It prints every problem found on a
training-panel picture (a control cut off, a label's text elided, Train / Pause / Stop or the progress bar
not visible without scrolling) and exits 1 when there is one. OUTDIR defaults to a folder under the
system's temporary folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PySide6.QtCore import QPoint, QSize  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from studio.ui.document import Document  # noqa: E402
from studio.ui.theme import apply_theme  # noqa: E402


def _grab(widget: QWidget, size: QSize, path: Path) -> Path:
    widget.resize(size)
    widget.show()
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
    apply_theme(app, theme)
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

    for panel, size, name in ((SummaryPanel(document), QSize(600, 380), "summary"),
                              (CodePanel(document), QSize(640, 560), "code"),
                              (ProblemsPanel(document), QSize(600, 200), "problems")):
        panel.refresh()  # skip the debounce: the picture shows the current graph
        saved.append(_grab(panel, size, out / f"panel_{name}_{theme}.png"))
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


def main(argv: list[str] | None = None) -> int:
    """Save a PNG of every panel in a dark and a light palette (for looking at) and report cut-off controls."""
    import argparse

    from studio.catalog import default_registry
    from tools.demo import cnn_demo
    from tools.screenshots import DEFAULT_OUT, isolate, report, shoot_training_panels

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT / "panels")
    parser.add_argument("--sizes", default="1440x900,1280x720", help="window sizes of the training-panel pictures")
    parser.add_argument("--themes", default="dark,light")
    parser.add_argument("--templates", default="", help="comma-separated template keys (default: all, and every "
                                                        "paradigm no template trains)")
    parser.add_argument("--no-panels", action="store_true", help="skip the palette, inspector, ... pictures")
    parser.add_argument("--no-training", action="store_true", help="skip the training-panel pictures")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    isolate()
    app = QApplication.instance() or QApplication([])
    themes = [t for t in args.themes.split(",") if t]
    written = 0
    if not args.no_panels:
        registry = default_registry()
        document = Document(registry, cnn_demo(registry))
        for theme in themes:
            written += len(grab_all(app, document, args.out, theme))
    problems: list[str] = []
    if not args.no_training:
        shots, problems = shoot_training_panels(args.out / "training", [s for s in args.sizes.split(",") if s],
                                                themes, [k for k in args.templates.split(",") if k] or None)
        written += shots
    return report(written, args.out, problems)


if __name__ == "__main__":
    raise SystemExit(main())
