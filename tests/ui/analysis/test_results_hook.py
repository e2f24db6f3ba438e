"""The results tab opens the workspace on the latest run (and only once there are weights)."""

from __future__ import annotations

import copy

from PySide6.QtCore import Qt


def test_analyse_button_opens_the_workspace_on_the_latest_run(qtbot, registry, mlp_run, monkeypatch, tmp_path):
    from tests.ui.conftest import open_editor

    monkeypatch.setenv("NNSTUDIO_RUNS_DIR", str(tmp_path / "runs"))
    proj, folder = mlp_run
    ed = open_editor(qtbot, registry, copy.deepcopy(proj))
    panel = ed.window.training_panel
    results = panel.results
    try:
        assert not results.analyse_button.isEnabled()
        panel.last_run = {"snapshot": proj.snapshot(), "dir": str(folder), "settings": proj.training,
                          "final": None, "checkpoint": str(folder / "last.pt")}
        results.run_finished(panel.last_run)
        assert results.analyse_button.isEnabled()
        qtbot.mouseClick(results.analyse_button, Qt.MouseButton.LeftButton)
        ws = results.workspaces[-1]
        ws.runner.wait()
        assert ws.loaded is not None and ws.loaded.data.graph_name == "mlp"
        ws.close()
        ws.shutdown()
    finally:
        panel.shutdown()
        ed.window.files.autosave_enabled = False
        ed.window.files.discard_recovery()


def test_run_summary_marks_flipped_labels_and_adversarial_training():
    from types import SimpleNamespace

    from studio.ui.training.results import run_summary

    final = SimpleNamespace(kind="done", step=10, message="")
    run = {"final": final, "info": {"label_noise": {"share": 0.3, "flipped": 216, "of": 720},
                                    "adversarial": {"method": "fgsm", "eps": 0.1}}}
    text = run_summary(run)
    assert "30 % flipped (216 of 720)" in text and "FGSM, ε = 0.1" in text
    assert run_summary({"final": final}) == "The last run finished after 10 steps."
