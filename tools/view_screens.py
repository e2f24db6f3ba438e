"""Screenshots of every live view mid-training: ``python -m tools.view_screens OUTDIR``.

Opens the editor offscreen, trains templates (shortened) and small demo projects from the
training panel, pauses each run once its views are populated, and saves the training dock as
PNG per view: curves, predictions + confusion matrix, decision regions, forecast,
reconstruction, latent space, GAN samples + D/G losses, attention, gridworld, dataset preview,
activations, and two runs overlaid.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if __package__ in (None, ""):  # run as a file: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.demo import training_demos  # noqa: E402
from tools.screenshots import wait as _wait  # noqa: E402

SHORTEN = {  # template -> settings that keep the run short but mid-training views meaningful
    "lstm_forecast": {"epochs": 12, "steps_per_epoch": 20},
    "conv_autoencoder": {"epochs": 12, "steps_per_epoch": 40},
    "gan_ring": {"epochs": 30, "steps_per_epoch": 25},
    "attention_reverse": {"epochs": 8, "steps_per_epoch": 40},
    "gridworld_q": {},
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0] if argv else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("NNSTUDIO_RUNS_DIR", str(Path(os.environ.get("TMPDIR", "/tmp")) / "nnstudio-screens"))
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from studio.catalog import default_registry
    from studio.io.templates import load_template
    from studio.ui.document import Document
    from studio.ui.main_window import MainWindow

    registry = default_registry()
    document = Document(registry)
    window = MainWindow(document, restore_state=False)
    window.resize(1500, 1000)
    window.show()
    panel = window.training_panel
    dock = window.training_dock
    written: list[Path] = []

    def shot(name: str, tab=None, view_key: str | None = None) -> None:
        if tab is not None:
            panel.tabs.setCurrentWidget(tab)
        if view_key is not None:
            panel.views.setCurrentWidget(panel.views.pages[view_key])
        window.resizeDocks([dock], [560], Qt.Orientation.Vertical)
        _wait(app, lambda: False, 0.4)
        path = out / f"{name}.png"
        dock.grab().save(str(path))
        written.append(path)
        print("wrote", path)

    def train(project, until: Callable[[], bool], timeout: float = 180.0) -> None:
        document.replace_project(project)
        panel.start_training()
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

    demos = training_demos(registry)
    # classification: predictions, confusion, curves, dataset, activations
    train(demos["shapes"], lambda: epochs_done(4)() and "predictions" in panel.views.received)
    shot("classification_predictions", panel.views, "classify")
    shot("curves_classification", panel.plots)
    conv = document.project.main_graph.node_by_name("conv1")
    panel.tabs.setCurrentWidget(panel.activations)
    document.set_selection(document.project.main_graph.id, [conv.id])
    _wait(app, lambda: bool(panel.activations.maps.tiles), 60)
    shot("activations_conv1", panel.activations)
    panel.tabs.setCurrentWidget(panel.preview)
    _wait(app, lambda: bool(panel.preview.grid.tiles), 60)
    shot("dataset_preview_shapes", panel.preview)
    finish()

    # decision regions, then a second run with another lr overlaid on the curves
    train(demos["spirals"], lambda: epochs_done(8)() and "decision" in panel.views.received)
    shot("classification_decision_regions", panel.views, "decision")
    finish()
    from studio.core.ops import SetTraining

    document.push(SetTraining("optimizer.lr", 0.002))
    panel.start_training()
    _wait(app, lambda: epochs_done(8)() or not panel.running, 120)
    finish()
    for i in range(panel.plots.runs_list.count()):
        panel.plots.runs_list.item(i).setCheckState(Qt.CheckState.Checked)
    shot("curves_two_runs_overlaid", panel.plots)

    for key, epochs, views in (
            ("lstm_forecast", 6, [("forecast", "regression_forecast")]),
            ("conv_autoencoder", 8, [("recon", "autoencoder_reconstruction"), ("latent", "autoencoder_latent")]),
            ("gan_ring", 12, [("gan", "gan_ring_samples")]),
            ("attention_reverse", 6, [("attention", "attention_heatmap")]),
            ("gridworld_q", 3, [("grid", "q_learning_gridworld")])):
        project = load_template(key, registry)
        project.training.update(SHORTEN.get(key, {}))
        want = {"forecast": "forecast", "recon": "reconstruction", "latent": "latent", "gan": "gan_samples",
                "attention": "attention", "grid": "gridworld"}
        needed = {want[v] for v, _ in views}
        train(project, lambda needed=needed, e=epochs: epochs_done(e)() and needed <= panel.views.received)
        for view_key, name in views:
            if view_key in panel.views.pages:
                shot(name, panel.views, view_key)
            else:
                print(f"no {view_key} view for {key}: {panel.error_label.text()}")
        if key == "gan_ring":
            shot("curves_gan", panel.plots)
        finish()

    panel.shutdown()
    window.files.autosave_enabled = False
    window.files.discard_recovery()
    document.undo_stack.setClean()
    window.close()
    print(f"{len(written)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
