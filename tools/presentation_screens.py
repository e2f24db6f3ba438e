"""Presentation-mode screenshots of every template: ``python -m tools.presentation_screens [OUTDIR]``.

Opens the editor offscreen, enters presentation mode at ``--scale`` % (150 by default) at each of
``--sizes`` (1280x720 and 1920x1080), loads each template of the templates folder, and saves the window as
``OUTDIR/<template>__<WxH>__<scale>.png``; with ``--train`` each template also trains a few steps (at the
``--train-sizes``) and a picture per live-view page shows it mid-run (``...__live_<page>.png``). For every
picture it lists what is cut (``tools.screen_checks``): the run controls not wholly on screen, a control
cut off by its parent, a label's text elided, a button or tab narrower than its text, a tile's caption
or text cut. Exit 1 when anything is. OUTDIR defaults to a folder under the system's temporary folder.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.screen_checks import parse_size, settled_problems, wait  # noqa: E402
from tools.screenshots import DEFAULT_OUT, isolate, report  # noqa: E402


def squeezed(window) -> list[str]:
    """Controls cut off or narrower than their text, elided labels and cut tile captions (run controls aside)."""
    from tools.screen_checks import layout_problems, tile_problems

    return layout_problems(window) + tile_problems(window)


def _problems(app, window, panel) -> list[str]:
    """What is cut on this picture, and buttons poking out of the window (the presentation's own check)."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QAbstractButton

    found = settled_problems(app, window, panel)
    frame = QRect(QPoint(0, 0), window.size())
    for button in window.findChildren(QAbstractButton):
        if button.isVisible() and not button.visibleRegion().isEmpty() and button.text():
            if not frame.contains(QRect(button.mapTo(window, QPoint(0, 0)), button.size())):
                found.append(f"button '{button.text()}' outside the window")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT / "presentation")
    parser.add_argument("--sizes", default="1280x720,1920x1080")
    parser.add_argument("--train-sizes", default="1280x720", help="--train: sizes at which the live views are shot")
    parser.add_argument("--theme", default="dark")
    parser.add_argument("--scale", type=int, default=150)
    parser.add_argument("--templates", default="", help="comma-separated template keys (default: all)")
    parser.add_argument("--train", action="store_true", help="also train briefly and shoot the live view")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    isolate()

    from PySide6.QtWidgets import QApplication

    from studio.catalog import default_registry
    from studio.core.ops import SetTraining
    from studio.io.templates import list_templates, load_template
    from studio.ui import theme
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    theme.configure_high_dpi()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    theme.apply_theme(app, args.theme)
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
            name = f"{key}__{w}x{h}__{args.scale}"
            found = _problems(app, window, panel)
            window.grab().save(str(args.out / f"{name}.png"))
            written += 1
            problems += [f"{name}: {b}" for b in found]
            if args.train and size_text in args.train_sizes.split(","):
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
                        shot = f"{name}__live_" + (_page_name(panel, page) if page is not None else "curves")
                        found = _problems(app, window, panel)
                        window.grab().save(str(args.out / f"{shot}.png"))
                        written += 1
                        problems += [f"{shot}: {b}" for b in found]
    presentation.leave()
    panel.shutdown()
    window.files.discard_recovery()
    document.undo_stack.setClean()
    window.close()
    return report(written, args.out, problems)


def _page_name(panel, page: int) -> str:
    """The live-view page's key (classify, text, diffusion, ...) for the file name."""
    widget = panel.views.widget(page)
    return next((k for k, w in panel.views.pages.items() if w is widget), str(page))


if __name__ == "__main__":
    sys.exit(main())
