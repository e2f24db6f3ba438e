"""Real (tiny) trainings started from the panel, one per paradigm, plus the controls around them."""

from __future__ import annotations

import numpy as np
import pytest

from tests.ui.training import projects

TIMEOUT = 60_000


def train(window, qtbot, project):
    """Open ``project`` in the window, press Train, wait for the run to end; returns (panel, final)."""
    window.document.replace_project(project)
    panel = window.window.training_panel
    with qtbot.waitSignal(panel.finished, timeout=TIMEOUT) as blocker:
        panel.train_button.click()
        assert panel.running
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    return panel, blocker.args[0]


def test_panel_is_docked_with_menu_and_shortcuts(window):
    w = window.window
    panel = w.training_panel
    assert w.docks["training"].widget() is panel  # the settings column scrolls inside; the run controls never do
    assert panel.train_action.shortcut().toString() == "F5"
    assert panel.stop_action.shortcut().toString() == "Shift+F5"
    assert any(m.title() == "&Train" for m in (a.menu() for a in w.menuBar().actions()) if m is not None)
    assert not panel.stop_button.isEnabled() and panel.train_button.isEnabled()


def test_settings_edits_are_undoable_set_training_pushes(window, registry):
    window.document.replace_project(projects.classification(registry))
    panel = window.window.training_panel
    doc = window.document
    assert panel.controls["epochs"].value_text() == "2"
    assert panel.set_setting("epochs", "7") is None
    assert panel.set_setting("optimizer.name", "sgd") is None
    assert doc.project.training["epochs"] == 7 and doc.project.training["optimizer"]["name"] == "sgd"
    assert doc.undo_stack.undoText() == "Set optimizer to sgd"
    doc.undo_stack.undo()
    assert "name" not in doc.project.training["optimizer"]  # back to the default
    assert panel.controls["optimizer.name"].value_text() == "adam"
    doc.undo_stack.undo()
    assert doc.project.training["epochs"] == 2 and panel.controls["epochs"].value_text() == "2"


def test_classification_trains_with_plots_and_views(window, qtbot, registry):
    panel, final = train(window, qtbot, projects.classification(registry))
    assert final.kind == "done", final.message
    run = panel.plots.runs[-1]
    steps = run.series[("step", "loss")]
    assert steps.n == final.step  # every step arrived once, in order
    assert np.all(np.diff(steps.data()[0]) > 0)
    assert run.series[("epoch", "val_accuracy")].n == 2
    assert {"predictions", "confusion", "decision"} <= panel.views.received
    assert panel.progress.value() == 1000 and "Finished" in panel.progress_label.text()
    assert "snapshot" in panel.banner.text()
    assert panel.results.eval_button.isEnabled()
    assert panel.last_run["checkpoint"] and panel.sessions[-1].loop.batches > 0


def test_image_classifier_shows_prediction_grid_and_feature_maps(window, qtbot, registry, tmp_path):
    panel, final = train(window, qtbot, projects.images(registry))
    assert final.kind == "done", final.message
    grid = panel.views.parts["pred_grid"]
    assert len(grid.tiles) == 16 and all(t.image is not None for t in grid.tiles)
    assert any(t.ok is False for t in grid.tiles) or all(t.ok for t in grid.tiles)
    conv = window.document.project.main_graph.node_by_name("conv")
    with qtbot.waitSignal(panel.activations.computed, timeout=TIMEOUT) as got:
        window.document.set_selection(window.document.project.main_graph.id, [conv.id])
    assert got.args[0]["out"].shape == (4, 12, 12)
    assert len(panel.activations.maps.tiles) == 4
    from PySide6.QtGui import QColor, QImage

    img = QImage(40, 40, QImage.Format.Format_RGB32)
    img.fill(QColor("white"))
    img.save(str(tmp_path / "digit.png"))
    with qtbot.waitSignal(panel.results.predicted, timeout=TIMEOUT) as got:
        panel.results.try_image(str(tmp_path / "digit.png"))
    assert got.args[0].startswith("Prediction:")
    assert any(name in got.args[0] for name in ("circle", "square", "triangle"))


def test_regression_forecast(window, qtbot, registry):
    panel, final = train(window, qtbot, projects.regression(registry))
    assert final.kind == "done", final.message
    assert "forecast" in panel.views.received
    assert panel.plots.runs[-1].series[("epoch", "val_mse")].n == 2


def test_sequence_attention_heatmap(window, qtbot, registry):
    panel, final = train(window, qtbot, projects.attention(registry))
    assert final.kind == "done", final.message
    assert "attention" in panel.views.received
    assert panel.views.parts["attention"].matrix.shape == (6, 6)


def test_autoencoder_reconstruction_and_latent(window, qtbot, registry):
    panel, final = train(window, qtbot, projects.reconstruction(registry))
    assert final.kind == "done", final.message
    assert {"reconstruction", "latent"} <= panel.views.received
    assert len(panel.views.parts["recon_out"].tiles) == 8


def test_gan_samples_and_d_g_losses(window, qtbot, registry):
    panel, final = train(window, qtbot, projects.gan(registry))
    assert final.kind == "done", final.message
    assert "gan_samples" in panel.views.received
    assert {"d_loss", "g_loss"} <= set(panel.views._gan_loss)
    assert panel.views.parts["gan_scatter"].items


@pytest.mark.parametrize("make", [projects.tabular, projects.dqn], ids=["tabular", "dqn"])
def test_q_learning_gridworld(window, qtbot, registry, make):
    panel, final = train(window, qtbot, make(registry))
    assert final.kind == "done", final.message
    assert {"gridworld", "returns"} <= panel.views.received
    world = panel.views.parts["grid_world"]
    assert world.cells.shape == (3, 4) and world.path
    assert panel.plots.plots["loss"].getAxis("bottom").labelText in ("episode", "step")


def test_pause_resume_and_stop(window, qtbot, registry):
    window.document.replace_project(projects.classification(registry, epochs=400))
    panel = window.window.training_panel
    panel.start_training()
    qtbot.waitUntil(lambda: panel.plots.runs[-1].series.get(("step", "loss")) is not None, timeout=TIMEOUT)
    panel.pause_button.click()
    assert panel.pause_button.text() == "Resume"
    qtbot.waitUntil(lambda: "Paused" in panel.progress_label.text(), timeout=5000)
    qtbot.wait(300)
    n = panel.plots.runs[-1].series[("step", "loss")].n
    qtbot.wait(400)
    assert panel.plots.runs[-1].series[("step", "loss")].n == n  # nothing trains while paused
    panel.pause_button.click()
    qtbot.waitUntil(lambda: panel.plots.runs[-1].series[("step", "loss")].n > n, timeout=10_000)
    with qtbot.waitSignal(panel.finished, timeout=TIMEOUT) as blocker:
        panel.stop_button.click()
    assert blocker.args[0].kind == "cancelled"
    assert panel.last_run["checkpoint"]
    assert "Stopped" in panel.progress_label.text()


def test_close_while_training_stops_cleanly_and_keeps_checkpoint(qtbot, registry, no_thread_left):
    from tests.ui.conftest import open_editor

    ed = open_editor(qtbot, registry, projects.classification(registry, epochs=400))
    ed.window.files.autosave_enabled = False
    panel = ed.window.training_panel
    panel.start_training()
    qtbot.waitUntil(lambda: panel.plots.runs[-1].series.get(("step", "loss")) is not None, timeout=TIMEOUT)
    session = panel.session
    ed.answers["unsaved"] = "discard"
    asked = []
    panel._ask_stop = lambda title, text: asked.append(text) or True
    assert ed.window.close()
    assert asked and "Stop it" in asked[0]
    assert session.thread.isFinished()
    assert (panel.last_run["dir"] / "last.pt").exists()


def test_error_in_a_layer_is_shown_on_the_node_and_the_app_survives(window, qtbot, registry, failing_relu):
    failures = []
    window.window.training_panel.failed.connect(failures.append)
    panel, final = train(window, qtbot, projects.classification(registry))
    assert final.kind == "error" and final.node == "act"
    assert failures and "boom" in failures[0]
    assert panel.error_label.isVisible() and "act" in panel.error_label.text()
    act = window.document.project.main_graph.node_by_name("act")
    assert window.document.selected == [act.id]
    assert panel.train_button.isEnabled() and panel.show_node_button.isVisible()
    failing_relu()  # healed: the next run trains
    with qtbot.waitSignal(panel.finished, timeout=TIMEOUT) as blocker:
        panel.start_training()
    assert blocker.args[0].kind == "done" and not panel.error_label.isVisible()


def test_bad_setting_is_marked_on_its_control(window, qtbot, registry):
    p = projects.classification(registry)
    p.training["dataset"] = {"name": "no_such_set"}
    window.document.replace_project(p)
    panel = window.window.training_panel
    with qtbot.waitSignal(panel.finished, timeout=TIMEOUT) as blocker:
        panel.train_button.click()  # refused at once: the run may end before click() returns
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    final = blocker.args[0]
    assert final.kind == "error"
    assert "no_such_set" in panel.error_label.text()
    assert "no_such_set" in panel.controls["dataset.name"].problem_text()


def test_edits_during_training_do_not_touch_the_snapshot(window, qtbot, registry):
    from studio.core.ops import SetParam

    window.document.replace_project(projects.classification(registry, epochs=3))
    panel = window.window.training_panel
    with qtbot.waitSignal(panel.finished, timeout=TIMEOUT) as blocker:
        panel.start_training()
        fc1 = window.document.project.main_graph.node_by_name("fc1")
        window.document.push(SetParam(window.document.project.main_graph.id, fc1.id, "out_features", 5))
        assert "changed since" in panel.banner.text()
    assert blocker.args[0].kind == "done"
    snap = panel.last_run["snapshot"].graphs[0]
    assert snap.nodes[fc1.id].params["out_features"] == 32


def test_results_evaluate_try_and_save(window, qtbot, registry, tmp_path):
    panel, final = train(window, qtbot, projects.classification(registry))
    res = panel.results
    with qtbot.waitSignal(res.evaluated, timeout=TIMEOUT) as got:
        res.eval_button.click()
    assert "val_accuracy" in got.args[0]
    with qtbot.waitSignal(res.predicted, timeout=TIMEOUT) as got:
        res.try_text("0.5, -0.25")
    assert got.args[0].startswith("Prediction:") and "%" in got.args[0]
    res.try_text("1 2 3")
    qtbot.waitUntil(lambda: "takes 2 value" in res.output.text(), timeout=TIMEOUT)
    with qtbot.waitSignal(res.saved, timeout=TIMEOUT):
        res.save_weights_to(str(tmp_path / "w.safetensors"))
    from studio.compile.weights import load_weights

    assert "model" in {v for v in load_weights(panel.last_run["snapshot"], tmp_path / "w.safetensors")} or \
        load_weights(panel.last_run["snapshot"], tmp_path / "w.safetensors")


def test_dataset_preview_loads_in_background(window, qtbot, registry):
    window.document.replace_project(projects.images(registry))
    panel = window.window.training_panel
    with qtbot.waitSignal(panel.preview.loaded, timeout=TIMEOUT):
        panel.tabs.setCurrentWidget(panel.preview)
    assert len(panel.preview.grid.tiles) == 24
    assert {t.caption for t in panel.preview.grid.tiles} <= {"circle", "square", "triangle"}
    assert "192 training" in panel.preview.summary.text()


def test_a_past_runs_settings_can_be_restored(window, qtbot, registry):
    panel, final = train(window, qtbot, projects.classification(registry, epochs=1))
    doc = window.document
    panel.set_setting("optimizer.lr", "0.5")
    panel.set_setting("epochs", "9")
    run = panel.plots.runs[-1]
    assert run.settings["optimizer"]["lr"] == 0.02
    panel.restore_run_settings(run)
    assert doc.project.training["optimizer"]["lr"] == 0.02 and doc.project.training["epochs"] == 1
    assert panel.controls["epochs"].value_text() == "1"
    doc.undo_stack.undo()  # one step back to the edited values
    assert doc.project.training["epochs"] == 9


def test_file_menu_exports_trained_weights_only_after_a_run(window, qtbot):
    main = window.window
    action = main.file_actions["export_weights"]
    file_menu = main.menuBar().actions()[0].menu()
    entries = file_menu.actions()
    assert entries.index(action) == entries.index(main.file_actions["export"]) + 1
    main.training_panel.last_run = None
    action.trigger()
    assert "train the model first" in main.statusBar().currentMessage()
