"""Presentation-mode screenshots of every template: ``python -m tools.presentation_screens OUTDIR``.

Opens the editor offscreen, enters presentation mode at ``--scale`` % (150 by default) at each of
``--sizes`` (1280x720 and 1920x1080), loads each template, and saves the window as
``OUTDIR/<template>__<WxH>__<scale>.png``; with ``--train`` each template also trains a few steps and a
picture per live-view page shows it mid-run. For every picture it lists what is clipped: the run
controls not wholly on screen, a button or tab narrower than its text needs, or a tile's caption or
text cut. Exit 1 when anything is.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.screenshots import clipped, parse_size, wait  # noqa: E402


def squeezed(window) -> list[str]:
    """Visible buttons narrower than their text needs, and visible widgets poking out of the window."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QAbstractButton, QTabBar

    from studio.ui.training.tiles import TileGrid

    out = []
    frame = QRect(QPoint(0, 0), window.size())
    for button in window.findChildren(QAbstractButton):
        if not button.isVisible() or button.visibleRegion().isEmpty() or not button.text():
            continue
        if button.width() + 1 < button.minimumSizeHint().width():
            out.append(f"button '{button.text()}' {button.width()} < {button.minimumSizeHint().width()} px")
        top_left = button.mapTo(window, QPoint(0, 0))
        if not frame.contains(QRect(top_left, button.size())):
            out.append(f"button '{button.text()}' outside the window")
    for bar in window.findChildren(QTabBar):
        if bar.isVisible() and not bar.visibleRegion().isEmpty():
            for i in range(bar.count()):
                if bar.tabRect(i).right() > bar.width() + 1 and not bar.usesScrollButtons():
                    out.append(f"tab '{bar.tabText(i)}' cut off")
    for grid in window.findChildren(TileGrid):
        if grid.isVisible() and not grid.visibleRegion().isEmpty():
            out += [f"{grid.title or 'tiles'}: {what}" for what in grid.clipped[:3]]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    parser.add_argument("--scale", type=int, default=150)
    parser.add_argument("--templates", default="", help="comma-separated template keys (default: all)")
    parser.add_argument("--train", action="store_true", help="also train briefly and shoot the live view")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    from studio.catalog import default_registry
    from studio.core.ops import SetTraining
    from studio.io.templates import list_templates, load_template
    from studio.ui import theme
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    theme.configure_high_dpi()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    theme.apply_theme(app, "dark")
    registry = default_registry()
    keys = [k for k in args.templates.split(",") if k] or [getattr(t, "key", t) for t in list_templates()]
    document = Document(registry, load_template(keys[0], registry))
    window = MainWindow(document, restore_state=False)
    window.files.autosave_enabled = False
    window.show()
    panel = window.training_panel
    presentation = window.presentation
    presentation.set_scale(args.scale)
    problems: list[str] = []
    written = 0
    for size_text in [s for s in args.sizes.split(",") if s]:
        w, h = parse_size(size_text)
        for key in keys:
            presentation.leave()
            window.resize(w, h)
            document.replace_project(load_template(key, registry))
            wait(app, lambda: False, 0.2)
            presentation.enter(full_screen=False)
            presentation.relayout()
            wait(app, lambda: False, 0.3)
            name = f"{key}__{w}x{h}__{args.scale}"
            window.grab().save(str(args.out / f"{name}.png"))
            written += 1
            bad = clipped(panel) + squeezed(window)
            problems += [f"{name}: {b}" for b in bad]
            if args.train:
                document.push(SetTraining("steps_per_epoch", 4))
                if panel.start_training():
                    wait(app, lambda: not panel.running or (panel.views.received and panel.updates_seen > 3), 120)
                    if panel.running:
                        panel.stop_training()
                        wait(app, lambda: not panel.running, 60)
                    panel.tabs.setCurrentWidget(panel.views if panel.views.received else panel.plots)
                    pages = range(panel.views.count()) if panel.views.received else [None]
                    for page in pages:  # every page of the live view: predictions, attention, ...
                        if page is not None:
                            panel.views.setCurrentIndex(page)
                        wait(app, lambda: False, 0.4)
                        shot = f"{name}__live" + (f"_{page}" if page else "")
                        window.grab().save(str(args.out / f"{shot}.png"))
                        written += 1
                        problems += [f"{shot}: {b}" for b in clipped(panel) + squeezed(window)]
    presentation.leave()
    panel.shutdown()
    window.files.discard_recovery()
    document.undo_stack.setClean()
    window.close()
    print(f"{written} screenshots in {args.out}")
    for line in problems:
        print("CLIPPED", line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
