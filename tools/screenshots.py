"""Screenshots of the editor with its training panel: every template and stage, both themes, two sizes.

``python -m tools.screenshots OUTDIR [--sizes 1280x720,1440x900] [--themes dark,light] [--templates a,b]
[--train]`` opens the editor offscreen, loads each template, chooses each of its stages in the Training
panel and saves the whole window as ``OUTDIR/<template>__<stage>__<theme>__<WxH>.png``. With ``--train``
each stage is also trained for a few steps and a second picture shows the panel mid-run (curves and the
live view). For every picture it checks that Train / Pause / Stop and the progress bar are on screen
without scrolling and prints what is clipped, so a run of this script is also a layout check.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def wait(app, cond: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Process events until ``cond()`` holds or ``timeout`` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if cond():
            return True
        time.sleep(0.01)
    return False


def clipped(panel) -> list[str]:
    """The run controls that are not wholly visible on screen (empty when all are)."""
    out = []
    for name in ("train_button", "pause_button", "stop_button", "progress"):
        widget = getattr(panel, name)
        region = widget.visibleRegion().boundingRect()
        if not widget.isVisible() or region.size() != widget.rect().size():
            out.append(name)
    return out


def parse_size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sizes", default="1280x720,1440x900")
    parser.add_argument("--themes", default="dark,light")
    parser.add_argument("--templates", default="", help="comma-separated template keys (default: all)")
    parser.add_argument("--train", action="store_true", help="also train each stage briefly and shoot mid-run")
    parser.add_argument("--steps", type=int, default=6, help="--train: steps per epoch of the short run")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NNSTUDIO_RUNS_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "nnstudio-screens"))
    os.environ.setdefault("NNSTUDIO_CONFIG_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "nnstudio-screens-cfg"))

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.catalog import default_registry
    from studio.io.stages import stages
    from studio.io.templates import list_templates, load_template
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    registry = default_registry()
    keys = [k for k in args.templates.split(",") if k] or [t.key for t in list_templates()]
    problems: list[str] = []
    written = 0
    document = Document(registry)
    window = MainWindow(document, restore_state=False)
    window.show()
    panel = window.training_panel
    dock = window.training_dock
    for theme_name in [t for t in args.themes.split(",") if t]:
        window.set_theme(theme_name)
        for size_text in [s for s in args.sizes.split(",") if s]:
            w, h = parse_size(size_text)
            window.resize(w, h)
            window.default_dock_sizes()
            for key in keys:
                document.replace_project(load_template(key, registry))
                choices = [None, *stages(document.project)]
                for stage in choices:
                    panel.stage_bar.set_stage(stage)
                    dock.show()
                    dock.raise_()
                    window.resizeDocks([dock], [360], Qt.Orientation.Vertical)
                    wait(app, lambda: False, 0.3)
                    name = f"{key}__{stage or 'as_is'}__{theme_name}__{w}x{h}"
                    window.grab().save(str(args.out / f"{name}.png"))
                    written += 1
                    bad = clipped(panel)
                    if bad:
                        problems.append(f"{name}: not fully visible: {', '.join(bad)}")
                    if args.train:
                        written += _train_shot(app, window, panel, document, stage, args, name, problems)
    panel.shutdown()
    window.files.autosave_enabled = False
    window.files.discard_recovery()
    document.undo_stack.setClean()
    window.close()
    print(f"{written} screenshots in {args.out}")
    for line in problems:
        print("CLIPPED", line)
    return 1 if problems else 0


def _train_shot(app, window, panel, document, stage, args, name: str, problems: list[str]) -> int:
    """Train the chosen stage for a few steps, pause once views arrived, shoot, stop."""
    from studio.core.ops import SetTraining

    document.push(SetTraining("steps_per_epoch", args.steps))
    if not panel.start_training():
        problems.append(f"{name}: did not start: {panel.error_label.text()}")
        return 0
    wait(app, lambda: not panel.running or (panel.views.received and panel.updates_seen > 3), 120)
    if panel.running:
        panel.toggle_pause()
        wait(app, lambda: "Paused" in panel.progress_label.text(), 10)
    panel.tabs.setCurrentWidget(panel.views if panel.views.received else panel.plots)
    wait(app, lambda: False, 0.4)
    window.grab().save(str(Path(args.out) / f"{name}__training.png"))
    bad = clipped(panel)
    if bad:
        problems.append(f"{name}__training: not fully visible: {', '.join(bad)}")
    if panel.running:
        panel.stop_training()
        if panel.session.paused:
            panel.session.resume()
        wait(app, lambda: not panel.running, 60)
    document.undo_stack.undo()
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
