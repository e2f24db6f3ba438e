"""Screenshots of the editor with its training panel: every template and stage, every paradigm, both themes.

``python -m tools.screenshots OUTDIR [--sizes 1280x720,1440x900] [--themes dark,light] [--templates a,b]
[--train]`` opens the editor offscreen, loads each template, chooses each of its stages in the Training
panel and saves the whole window as ``OUTDIR/<template>__<stage>__<theme>__<WxH>.png``; a paradigm that no
template or stage trains is shown on a small demo project switched to it (``paradigm-<name>__...``), so a
newly registered paradigm or template is covered without editing this file. With ``--train`` each case is
also trained for a few steps and a second picture shows the panel mid-run (curves and the live view).
Every picture is checked (``tools.screen_checks``): Train / Pause / Stop and the progress bar on screen
without scrolling, no control cut off by its parent, no label's text wider than the label, no button
narrower than its text; the problems are printed at the end and the exit status is 1 when there are any.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.screen_checks import clipped, parse_size, screen_problems, settled_problems, wait  # noqa: E402,F401

DEFAULT_OUT = Path(tempfile.gettempdir()) / "nnstudio-screens"


def isolate() -> None:
    """Runs and settings of the screenshot session go to a temporary folder, never the user's."""
    base = Path(tempfile.gettempdir())
    os.environ.setdefault("NNSTUDIO_RUNS_DIR", str(base / "nnstudio-screens-runs"))
    os.environ.setdefault("NNSTUDIO_CONFIG_DIR", str(base / "nnstudio-screens-cfg"))


def training_cases(registry, keys: list[str] | None = None) -> Iterator[tuple[str, Callable, str | None]]:
    """(name, make_project, stage) for every template and stage, then every paradigm none of them trains.

    Enumerated from the templates folder and the recipe registry, so new ones are included."""
    from studio.io.stages import stages
    from studio.io.templates import list_templates, load_template
    from studio.train.recipes.registry import recipe_names
    from studio.train.settings_form import get_setting
    seen: set[str] = set()
    all_keys = [t.key for t in list_templates()]
    for key in keys or all_keys:
        project = load_template(key, registry)
        seen.add(str(get_setting(project.training, "recipe")))
        for stage in stages(project).values():
            recipe = (stage.get("training", {}) if isinstance(stage, dict) else {}).get("recipe")
            if recipe:
                seen.add(str(recipe))
        for stage in [None, *stages(project)]:
            yield f"{key}__{stage or 'as_is'}", lambda key=key: load_template(key, registry), stage
    if keys:  # a chosen subset: only those templates
        return
    for recipe in recipe_names():
        if recipe not in seen:
            yield f"paradigm-{recipe}__as_is", lambda recipe=recipe: _demo_with(registry, recipe), None


def _demo_with(registry, recipe: str):
    """The small spirals demo switched to ``recipe``: its settings form is what the picture is about."""
    from tools.demo import training_demos

    project = training_demos(registry)["spirals"]
    project.training["recipe"] = recipe
    return project


def shoot_training_panels(out: Path, sizes: list[str], themes: list[str], keys: list[str] | None = None,
                          train: bool = False, steps: int = 6) -> tuple[int, list[str]]:
    """Save the window with its training panel for every case, theme and size; (pictures, problems)."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.catalog import default_registry
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    out.mkdir(parents=True, exist_ok=True)
    registry = default_registry()
    cases = list(training_cases(registry, keys))
    problems: list[str] = []
    written = 0
    document = Document(registry)
    window = MainWindow(document, restore_state=False)
    window.files.autosave_enabled = False
    window.show()
    panel = window.training_panel
    dock = window.training_dock
    for theme_name in themes:
        window.set_theme(theme_name)
        for size_text in sizes:
            w, h = parse_size(size_text)
            window.resize(w, h)
            window.default_dock_sizes()
            for case, make_project, stage in cases:
                document.replace_project(make_project())
                panel.stage_bar.set_stage(stage)
                dock.show()
                dock.raise_()
                window.resizeDocks([dock], [360], Qt.Orientation.Vertical)
                name = f"{case}__{theme_name}__{w}x{h}"
                found = settled_problems(app, window, panel)
                window.grab().save(str(out / f"{name}.png"))
                written += 1
                problems += [f"{name}: {p}" for p in found]
                if train:
                    written += _train_shot(app, window, panel, document, steps, out, name, problems)
    panel.shutdown()
    window.files.discard_recovery()
    document.undo_stack.setClean()
    window.close()
    return written, problems


def _train_shot(app, window, panel, document, steps: int, out: Path, name: str, problems: list[str]) -> int:
    """Train the chosen stage for a few steps, pause once views arrived, shoot, stop."""
    from studio.core.ops import SetTraining

    document.push(SetTraining("steps_per_epoch", steps))
    if not panel.start_training():
        problems.append(f"{name}: did not start: {panel.error_label.text()}")
        return 0
    wait(app, lambda: not panel.running or (panel.views.received and panel.updates_seen > 3), 120)
    if panel.running:
        panel.toggle_pause()
        wait(app, lambda: "Paused" in panel.progress_label.text(), 10)
    panel.tabs.setCurrentWidget(panel.views if panel.views.received else panel.plots)
    found = settled_problems(app, window, panel, first=0.4)
    window.grab().save(str(out / f"{name}__training.png"))
    problems += [f"{name}__training: {p}" for p in found]
    if panel.running:
        panel.stop_training()
        if panel.session.paused:
            panel.session.resume()
        wait(app, lambda: not panel.running, 60)
    document.undo_stack.undo()
    return 1


def report(written: int, out: Path, problems: list[str]) -> int:
    """Print the count and every problem found; the exit status (1 when something is cut off)."""
    print(f"{written} screenshots in {out}")
    for line in problems:
        print("CLIPPED", line)
    print(f"{len(problems)} problem(s) found" if problems else "no problem found")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, nargs="?", default=DEFAULT_OUT / "window")
    parser.add_argument("--sizes", default="1280x720,1440x900")
    parser.add_argument("--themes", default="dark,light")
    parser.add_argument("--templates", default="", help="comma-separated template keys (default: all, and every "
                                                        "paradigm no template trains)")
    parser.add_argument("--train", action="store_true", help="also train each stage briefly and shoot mid-run")
    parser.add_argument("--steps", type=int, default=6, help="--train: steps per epoch of the short run")
    args = parser.parse_args(argv)
    isolate()
    written, problems = shoot_training_panels(
        args.out, [s for s in args.sizes.split(",") if s], [t for t in args.themes.split(",") if t],
        [k for k in args.templates.split(",") if k] or None, args.train, args.steps)
    return report(written, args.out, problems)


if __name__ == "__main__":
    raise SystemExit(main())
