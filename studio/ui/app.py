"""GUI entry point: show the window first, load torch and the layer registry right after.

``python -m studio [FILE]`` opens the editor; ``python -m studio --screenshot OUT.png --template NAME
[--theme dark|light]`` renders the main window offscreen with a template (or ``demo``) and exits.
``NNSTUDIO_STARTUP_PROBE=shown|ready`` prints a line and quits at that point (the benchmark's probe).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

_T0 = time.perf_counter()


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="nnstudio", description="NN Studio: build, train and export networks")
    parser.add_argument("file", nargs="?", help="project file to open")
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the main window to a PNG and exit")
    parser.add_argument("--template", metavar="NAME", help="template to load ('demo' for the built-in demo)")
    parser.add_argument("--theme", choices=("dark", "light"), help="colour theme")
    parser.add_argument("--size", default="1440x900", help="window size for --screenshot (WxH)")
    parser.add_argument("--presentation", action="store_true", help="--screenshot in presentation mode")
    parser.add_argument("--scale", type=int, default=150, choices=(100, 125, 150, 200),
                        help="UI scale in %% for --presentation (default 150)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from studio.ui.qt_platform import platform_problem

    problem = platform_problem()  # Qt aborts the process when its platform plugin cannot load
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtWidgets import QApplication

    from studio.ui import theme

    theme.configure_high_dpi()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("NN Studio")
    app.setOrganizationName("NN Studio")
    from studio.ui import gc_guard

    gc_guard.install(app)  # Qt objects must never be collected on a worker thread
    from studio.ui.files import settings

    theme_name = args.theme or str(settings().value("theme", "dark"))
    theme.apply_theme(app, theme_name if theme_name in theme.THEMES else "dark")
    if args.screenshot:
        try:
            return screenshot(args.screenshot, args.template or "demo", args.size,
                              args.scale if args.presentation else 0)
        except Exception as exc:  # a clear message, not a traceback
            print(f"screenshot failed: {exc}", file=sys.stderr)
            return 1

    from studio.ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    probe = os.environ.get("NNSTUDIO_STARTUP_PROBE")
    if probe == "shown":
        app.processEvents()
        print(f"shown {time.perf_counter() - _T0:.3f}", flush=True)
        return 0
    from studio.ui.tasks import shared_runner

    def failed(message: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(window, "NN Studio cannot start", f"Loading the layer library failed:\n{message}")
        window.close()

    shared_runner().submit(load_library, lambda registry: _finish_startup(window, args, probe, registry), failed,
                           name="nnstudio-loader")
    return app.exec()


def load_library():
    """Import torch and the node library (a start-up task, off the GUI thread, so the window paints).

    It also runs one tiny shape inference: torch loads its meta-tensor decompositions lazily on the
    first run (seconds), which would otherwise freeze the first canvas refresh.
    """
    from studio.catalog import default_registry
    from studio.core.factory import chain_graph
    from studio.core.shapes import ShapeInferencer

    registry = default_registry()
    ShapeInferencer(registry).infer(chain_graph(registry, "warm-up", [4], [("nn.linear", {"out_features": 2})]))
    return registry


def _finish_startup(window, args: argparse.Namespace, probe: str | None, registry) -> None:
    """The second half of start-up, back on the GUI thread: the document, then file / recovery / gallery."""
    from studio.ui.document import Document

    document = Document(registry)
    window.attach(document)
    if probe == "ready":
        print(f"ready {time.perf_counter() - _T0:.3f}", flush=True)
        window.files.autosave_enabled = False
        window.close()
        return
    if args.file:
        window.files.open(args.file)
    elif args.template:
        _open_template(window, args.template)
    elif not window.files.offer_recovery():
        from studio.io.templates import list_templates

        if list_templates():
            window.show_gallery()


def _open_template(window, name: str) -> None:
    from studio.io.project_file import SUFFIX
    from studio.io.templates import TEMPLATE_DIR

    if name == "demo":
        window.document.replace_project(load_named(name, window.document.registry))
    else:
        window.files.open_template(TEMPLATE_DIR / f"{name}{SUFFIX}")


def load_named(name: str, registry):
    """A project for ``--template NAME``: a file stem in templates/, or 'demo' (``tools/demo.py``)."""
    if name == "demo":
        try:
            from tools.demo import window_demo
        except ImportError as exc:
            raise ValueError("the 'demo' project comes with the source checkout (tools/demo.py)") from exc
        return window_demo(registry)
    from studio.io.templates import load_template

    return load_template(name, registry)


def screenshot(out: str, template: str, size: str = "1440x900", presentation: int = 0) -> int:
    """Render the main window with ``template`` loaded into ``out`` (PNG); ``presentation``: its UI scale in %
    (0: the ordinary editor)."""
    from PySide6.QtWidgets import QApplication

    from studio.catalog import default_registry
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    registry = default_registry()
    project = load_named(template, registry)
    document = Document(registry, project)
    window = MainWindow(document, restore_state=False)
    window.files.autosave_enabled = False
    width, height = (int(v) for v in size.lower().split("x"))
    window.resize(width, height)
    window.show()
    app = QApplication.instance()
    for _ in range(3):
        app.processEvents()
    window.default_dock_sizes()
    app.processEvents()
    window.fit_all()
    first = next((n for n in project.main_graph.nodes.values() if registry.find(n.type_id)
                  and registry.get(n.type_id).role == "layer"), None)
    if first is not None:
        window.views[project.main_graph.id].graph_scene.select_nodes([first.id])
    window._update_size()
    if presentation:
        window.presentation.set_scale(presentation)
        window.presentation.enter(full_screen=False)  # offscreen: keep the requested size
    for _ in range(3):
        app.processEvents()
    if presentation:
        window.presentation.relayout()
    image = window.grab()
    if not image.save(out):
        raise OSError(f"cannot write {out}")
    print(f"wrote {out} ({image.width()}×{image.height()})")
    if presentation:
        window.presentation.leave()  # the application font goes back to normal
    window.close()
    return 0
