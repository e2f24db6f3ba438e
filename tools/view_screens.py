"""Screenshots of every live view mid-training: ``python -m tools.view_screens [OUTDIR] [--templates a,b]``.

Opens the editor offscreen at ``--size`` (1280x720), trains every template of the templates folder for a few
steps from the training panel (shortened: ``--steps`` steps per epoch), pauses each run once the views its
paradigm declares have arrived (or ``--timeout`` seconds passed), and saves the training dock as
``<template>__<page>.png`` for every live-view page it shows (generated text, the reverse process, pairs,
latent space, clustering, the projector, ...) plus its curves; then small demo projects for the views no
template shows on a CPU in seconds: predictions + confusion matrix, decision regions, activations, the
dataset preview, and two runs overlaid. Every picture is checked like the other screenshot scripts
(``tools.screen_checks``) and the problems are printed at the end.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.demo import training_demos  # noqa: E402
from tools.screenshots import wait as _wait  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    import argparse

    from tools.screenshots import DEFAULT_OUT, isolate, report

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT / "views")
    parser.add_argument("--templates", default="", help="comma-separated template keys (default: all)")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--steps", type=int, default=4, help="steps per epoch of each short run")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds a run may take to show its views")
    parser.add_argument("--grace", type=float, default=8.0, help="seconds to wait for the other views after the "
                                                                   "first arrived (a model may not have them all)")
    parser.add_argument("--no-demos", action="store_true", help="only the templates")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    isolate()
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.catalog import default_registry
    from studio.io.templates import list_templates, load_template
    from studio.train.recipes.registry import recipe_spec
    from studio.train.settings_form import get_setting
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow
    from tools.screen_checks import parse_size, settled_problems

    registry = default_registry()
    document = Document(registry)
    window = MainWindow(document, restore_state=False)
    window.files.autosave_enabled = False
    window.resize(*parse_size(args.size))
    window.show()
    panel = window.training_panel
    dock = window.training_dock
    written: list[Path] = []
    problems: list[str] = []

    def shot(name: str, tab=None, view_key: str | None = None) -> None:
        if tab is not None:
            panel.tabs.setCurrentWidget(tab)
        if view_key is not None:
            panel.views.setCurrentWidget(panel.views.pages[view_key])
        window.resizeDocks([dock], [window.height() // 2], Qt.Orientation.Vertical)
        found = settled_problems(app, window, panel, first=0.4)
        path = out / f"{name}.png"
        dock.grab().save(str(path))
        written.append(path)
        problems.extend(f"{name}: {p}" for p in found)
        print("wrote", path)

    def train(project, until: Callable[[], bool], timeout: float = 180.0) -> None:
        document.replace_project(project)
        if not panel.start_training():
            problems.append(f"{project.name}: did not start: {panel.error_label.text()}")
            return
        ok = _wait(app, lambda: until() or not panel.running, timeout)
        if panel.running:
            panel.toggle_pause()
            _wait(app, lambda: "Paused" in panel.progress_label.text(), 10)
        if not ok:
            print("timed out waiting for", project.name)

    def finish() -> None:
        if panel.running:
            panel.stop_training()
            panel.toggle_pause() if panel.session and panel.session.paused else None
            _wait(app, lambda: not panel.running, 60)

    def epochs_done(n: int) -> Callable[[], bool]:
        """n epochs trained and a views payload from at least the n-th epoch shown."""
        def done() -> bool:
            run = panel.plots.current
            if run is None:
                return False
            series = [s for k, s in run.series.items() if k[0] == "epoch"]
            if not series or max(s.n for s in series) < n:
                return False
            longest = max(series, key=lambda s: s.n)
            return panel.views.last_step >= longest.x[n - 1]
        return done

    keys = [k for k in args.templates.split(",") if k] or [t.key for t in list_templates()]
    for key in keys:  # every template: each live-view page its run shows, and its curves
        project = load_template(key, registry)
        project.training["steps_per_epoch"] = args.steps
        declared = set(recipe_spec(str(get_setting(project.training, "recipe"))).views)
        first: list[float] = []  # when the first views arrived: the others get a few seconds more

        def ready(declared=declared, first=first) -> bool:
            if not panel.views.received or panel.updates_seen <= 3:
                return False
            first[:] = first or [time.monotonic()]
            return declared <= panel.views.received or time.monotonic() - first[0] > args.grace
        train(project, ready, args.timeout)
        if not panel.views.received:
            problems.append(f"{key}: no live view within {args.timeout:.0f} s")
        for page in list(panel.views.pages):
            shot(f"{key}__{page}", panel.views, page)
        shot(f"{key}__curves", panel.plots)
        finish()
    if not args.no_demos:
        demo_shots(registry, train, shot, finish, epochs_done)

    panel.shutdown()
    window.files.autosave_enabled = False
    window.files.discard_recovery()
    document.undo_stack.setClean()
    window.close()
    return report(len(written), out, problems)


def demo_shots(registry, train, shot, finish, epochs_done) -> None:
    """Views no template shows in a few CPU seconds: predictions, decision regions, activations, overlays."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from studio.core.ops import SetTraining

    app = QApplication.instance()
    window = next(w for w in app.topLevelWidgets() if hasattr(w, "training_panel"))
    panel, document = window.training_panel, window.document
    demos = training_demos(registry)
    train(demos["shapes"], lambda: epochs_done(2)() and "predictions" in panel.views.received)
    shot("demo_classification_predictions", panel.views, "classify")
    conv = document.project.main_graph.node_by_name("conv1")
    panel.tabs.setCurrentWidget(panel.activations)
    document.set_selection(document.project.main_graph.id, [conv.id])
    _wait(app, lambda: bool(panel.activations.maps.tiles), 60)
    shot("demo_activations_conv1", panel.activations)
    panel.tabs.setCurrentWidget(panel.preview)
    _wait(app, lambda: bool(panel.preview.grid.tiles), 60)
    shot("demo_dataset_preview_shapes", panel.preview)
    finish()
    train(demos["spirals"], lambda: epochs_done(4)() and "decision" in panel.views.received)
    shot("demo_classification_decision_regions", panel.views, "decision")
    finish()
    document.push(SetTraining("optimizer.lr", 0.002))
    panel.start_training()
    _wait(app, lambda: epochs_done(4)() or not panel.running, 120)
    finish()
    for i in range(panel.plots.runs_list.count()):
        panel.plots.runs_list.item(i).setCheckState(Qt.CheckState.Checked)
    shot("demo_curves_two_runs_overlaid", panel.plots)


if __name__ == "__main__":
    raise SystemExit(main())
