"""The analysis workspace driven through its real widgets on tiny trained runs (offscreen)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt


def _shot(ws, tab: int, name: str) -> None:
    """Show tab ``tab`` at 1280×720 and render it (the screenshot tools save such pictures to look at)."""
    ws.tabs.setCurrentIndex(tab)
    ws.resize(1280, 720)
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()  # lay out what the last result added
    assert not ws.grab().isNull(), name


@pytest.fixture
def cnn_ws(workspace, cnn_run):
    return workspace(cnn_run)


@pytest.fixture
def mlp_ws(workspace, mlp_run):
    return workspace(mlp_run)


def test_explain_tab_draws_ig_with_its_completeness_and_gradcam_on_the_chosen_conv(cnn_ws, qtbot):
    tab = cnn_ws.explain
    assert tab.node.count() == 1 and tab.node.currentText() == "conv"
    tab.sample.setValue(3)
    tab.method.setCurrentIndex(tab.method.findData("ig"))
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    cnn_ws.runner.wait()
    assert tab.last["values"].shape == (1, 12, 12)
    assert tab.last["delta"] < 1e-2
    assert "Convergence delta" in tab.info.text()
    assert tab.pictures.count() == 3
    tab.method.setCurrentIndex(tab.method.findData("gradcam"))
    assert tab.node.isEnabled()
    tab.target.setCurrentIndex(2)  # class 1
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    cnn_ws.runner.wait()
    assert tab.last["method"] == "gradcam" and tab.last["target"] == 1
    assert tab.last["values"].shape[-2:] == (12, 12)
    _shot(cnn_ws, 0, "explain")


def test_explain_tab_shows_bars_for_flat_inputs_and_an_error_for_gradcam_without_convs(mlp_ws, qtbot):
    tab = mlp_ws.explain
    tab.method.setCurrentIndex(tab.method.findData("saliency"))
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    mlp_ws.runner.wait()
    assert tab.bars.isVisible() and not tab.pictures_box.isVisible()
    assert tab.last["values"].shape == (2,)
    tab.method.setCurrentIndex(tab.method.findData("gradcam"))
    assert not tab.node.isEnabled()
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    mlp_ws.runner.wait()
    assert "Grad-CAM needs a conv node" in mlp_ws.status.text()
    assert tab.run_button.isEnabled()
    _shot(mlp_ws, 0, "explain_bars")


def test_attack_tab_draws_the_curve_and_the_grid_and_overlays_a_second_run(cnn_ws, cnn_run, qtbot):
    tab = cnn_ws.attack
    tab.eps.setValue(40)  # ε = 0.2
    assert "0.200" in tab.eps_label.text()
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    cnn_ws.runner.wait()
    r = tab.last
    assert r["eps"][0] == 0 and r["eps"][-1] == pytest.approx(0.2)
    assert r["accuracy"][-1] < r["accuracy"][0]
    assert np.abs(r["adv"] - r["x"]).max() <= 0.2 + 1e-5
    assert tab.grid.count() == 3 + 3 * 6  # row titles plus clean / adversarial / perturbation per sample
    assert "this run (fgsm)" in tab.curves
    tab.compare(str(cnn_run[1]))
    cnn_ws.runner.wait()
    assert len(tab.curves) == 2
    _shot(cnn_ws, 1, "attack")


def test_compress_tab_prunes_with_fine_tune_quantizes_and_exports_the_pruned_weights(cnn_ws, qtbot, tmp_path):
    tab = cnn_ws.compress
    tab.sparsity.setValue(60)
    tab.epochs.setValue(1)
    tab.quantize.setCurrentIndex(tab.quantize.findData("dynamic"))
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    cnn_ws.runner.wait()
    assert tab.table.rowCount() == 3
    original, pruned, _q = tab.rows
    assert pruned.nonzero < 0.6 * original.nonzero
    assert tab.export_button.isEnabled()
    tab.export_to(str(tmp_path / "pruned.safetensors"))
    cnn_ws.runner.wait()
    assert (tmp_path / "pruned.safetensors").is_file()
    _shot(cnn_ws, 2, "compress")


@pytest.mark.slow
def test_tune_tab_runs_trials_in_the_background_and_apply_best_is_one_undo_step(mlp_ws, qtbot):
    tab = mlp_ws.tune
    keys = [tab.params.item(i, 0).data(Qt.ItemDataRole.UserRole) for i in range(tab.params.rowCount())]
    assert "optimizer.lr" in keys and "nodes.hidden.out_features" in keys
    tab.tick("optimizer.lr", "1e-3:1e-1:log")
    tab.tick("nodes.hidden.out_features", "8,16")
    tab.sampler.setCurrentIndex(tab.sampler.findData("random"))
    tab.trials.setValue(4)
    mlp_ws.project.training["epochs"] = 1
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    assert not tab.start_button.isEnabled() and tab.stop_button.isEnabled()
    mlp_ws.runner.wait()
    assert tab.table.rowCount() == 4
    assert tab.study.best is not None and tab.apply_button.isEnabled()
    doc = mlp_ws.document
    before = doc.undo_stack.count()
    assert tab.apply_best()
    assert doc.undo_stack.count() == before + 1
    best = tab.study.best.values
    assert doc.project.training["optimizer"]["lr"] == pytest.approx(best["optimizer.lr"])
    hidden = next(n for n in doc.project.graphs[0].nodes.values() if n.name == "hidden")
    assert hidden.params["out_features"] == best["nodes.hidden.out_features"]
    doc.undo_stack.undo()
    assert hidden.params["out_features"] == 16
    assert (mlp_ws.loaded.run_dir / "tune.sqlite3").is_file()
    _shot(mlp_ws, 3, "tune")


def test_a_run_that_cannot_be_opened_says_why_in_one_line(qtbot, registry, tmp_path, mlp_run):
    import copy

    from studio.ui.analysis import AnalysisWorkspace
    from studio.ui.document import Document

    ws = AnalysisWorkspace(Document(registry, copy.deepcopy(mlp_run[0])), tmp_path / "nothing")
    qtbot.addWidget(ws)
    ws.runner.wait()
    assert ws.loaded is None and "Cannot analyse this run" in ws.status.text() and "does not exist" in ws.status.text()
    assert not ws.tabs.widget(0).isEnabled()
    ws.shutdown()


def test_a_tune_study_resumes_from_its_sqlite_file_in_a_new_workspace(workspace, mlp_run, qtbot):
    first = workspace(mlp_run)
    first.project.training["epochs"] = 1
    tab = first.tune
    tab.tick("optimizer.lr", "1e-3:1e-1:log")
    tab.sampler.setCurrentIndex(tab.sampler.findData("tpe"))
    tab.trials.setValue(3)
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    first.runner.wait()
    scores = sorted(t.score for t in tab.study.trials)
    second = workspace(mlp_run)  # as after a restart: a new window on the same run
    again = second.tune
    again.tick("optimizer.lr", "1e-3:1e-1:log")
    again.sampler.setCurrentIndex(again.sampler.findData("tpe"))
    again.trials.setValue(3)
    qtbot.mouseClick(again.start_button, Qt.MouseButton.LeftButton)
    second.runner.wait()
    assert again.table.rowCount() == 3  # read back from the study, none trained again
    assert sorted(t.score for t in again.study.trials) == scores


def test_stop_ends_a_search_after_the_running_trial(mlp_ws, qtbot):
    tab = mlp_ws.tune
    mlp_ws.project.training["epochs"] = 1
    tab.tick("optimizer.lr", "1e-3:1e-1:log")
    tab.sampler.setCurrentIndex(tab.sampler.findData("random"))
    tab.trials.setValue(200)
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.table.rowCount() >= 1, timeout=60_000)
    qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    mlp_ws.runner.wait()
    assert 1 <= len(tab.study.trials) < 200
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()


def test_attack_tab_works_on_flat_inputs_without_pixel_bounds(mlp_ws, qtbot):
    tab = mlp_ws.attack
    tab.method.setCurrentIndex(tab.method.findData("pgd"))
    tab.eps.setValue(60)  # ε = 0.3 in feature units
    qtbot.mouseClick(tab.run_button, Qt.MouseButton.LeftButton)
    mlp_ws.runner.wait()
    assert tab.last is not None, mlp_ws.status.text()
    assert tab.last["accuracy"][-1] <= tab.last["accuracy"][0]
    assert tab.grid.count() == 3 + 3 * 6
    _shot(mlp_ws, 1, "attack_flat")
