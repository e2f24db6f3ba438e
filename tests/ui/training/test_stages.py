"""Template stages in the training panel: the chosen stage is what the worker trains, fine-tune uses pretrain."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.training import projects

TIMEOUT = 60_000


def staged(registry):
    """A tiny classifier with transfer-style stages: 'pre' (other data, renamed head) -> 'fine' (from pre) / 'scratch'."""
    p = projects.classification(registry, epochs=1)
    p.meta = {"stages": {
        "pre": {"label": "Pretrain", "about": "more data", "rename": {"fc2": "pre_head"},
                "training": {"dataset": {"params": {"n": 300}}, "epochs": 2}},
        "fine": {"label": "Fine-tune", "training": {"init": {"checkpoint": "{pre}"}}},
        "scratch": {"label": "From scratch", "training": {"optimizer": {"lr": 0.05}}},
    }}
    return p


def run_stage(window, qtbot, stage):
    panel = window.window.training_panel
    panel.stage_bar.set_stage(stage)
    with qtbot.waitSignal(panel.finished, timeout=TIMEOUT) as blocker:
        assert panel.start_training()
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    return panel.sessions[-1], blocker.args[0]


def test_stage_choice_is_hidden_without_stages_and_lists_them_with(window, registry):
    panel = window.window.training_panel
    window.document.replace_project(projects.classification(registry))
    assert panel.stage_bar.isHidden()
    window.document.replace_project(staged(registry))
    bar = panel.stage_bar
    assert not bar.isHidden()
    assert [bar.combo.itemText(i) for i in range(bar.combo.count())][1:] == ["Pretrain", "Fine-tune", "From scratch"]


def test_choosing_a_stage_changes_what_the_worker_trains(window, qtbot, registry):
    window.document.replace_project(staged(registry))
    doc, panel = window.document, window.window.training_panel
    session, final = run_stage(window, qtbot, "pre")
    assert final.kind == "done", final.message
    trained = session.project
    assert trained.main_graph.node_by_name("pre_head") is not None  # the stage's rename
    assert trained.training["epochs"] == 2 and trained.training["dataset"]["params"]["n"] == 300
    assert len(final.history) == 2
    assert doc.project.main_graph.node_by_name("fc2") is not None  # the project itself is untouched
    assert doc.project.training["epochs"] == 1
    assert "Pretrain" in panel.plots.runs[-1].title

    session, final = run_stage(window, qtbot, "fine")
    assert final.kind == "done", final.message
    checkpoint = session.project.training["init"]["checkpoint"]
    assert checkpoint == panel.stage_bar.checkpoints["pre"] and checkpoint.endswith("last.pt")
    assert panel.last_run["info"]["init_tensors_loaded"] > 0  # fc1 came from the pretrain run

    session, final = run_stage(window, qtbot, "scratch")
    assert final.kind == "done", final.message
    assert session.project.training["optimizer"]["lr"] == 0.05
    # fine-tuned and from-scratch (same data) overlay; pretrain (other data) is not ticked
    shown = [panel.plots.run_for(panel.plots.runs_list.item(i)).label for i in range(panel.plots.runs_list.count())
             if panel.plots.runs_list.item(i).checkState() == Qt.CheckState.Checked]
    assert shown == ["Fine-tune", "From scratch"]


def test_fine_tune_before_pretrain_says_what_to_do(window, registry):
    window.document.replace_project(staged(registry))
    panel = window.window.training_panel
    panel.stage_bar.set_stage("fine")
    assert not panel.start_training() and not panel.running
    assert "Pretrain" in panel.error_label.text() and "first" in panel.error_label.text()
    panel.stage_bar.set_stage(None)
    assert panel.stage_bar.prepare()[1] == ""


@pytest.mark.slow
def test_lstm_characters_stage_trains_the_char_model_on_a_file_of_ones_own(window, qtbot, registry, tmp_path):
    from studio.io.templates import load_template

    project = load_template("lstm_forecast", registry)
    project.training.update(threads=1, device="cpu", steps_per_epoch=3)
    window.document.replace_project(project)
    panel = window.window.training_panel
    panel.stage_bar.set_stage("characters")
    assert window.document.current_graph_id == project.graph_by_name("char_model").id  # the canvas shows it
    assert panel.stage_bar.file_button.isVisibleTo(panel.stage_bar)
    assert "lstm_sample_text.txt" in panel.stage_bar.file_label.text()  # bundled default
    text = tmp_path / "notes.txt"
    text.write_text("hello world, hello stages. " * 60, encoding="utf-8")
    panel.stage_bar.set_file("text", text)
    session, final = run_stage(window, qtbot, "characters")
    assert final.kind == "done", final.message
    assert session.project.training["graph"] == "char_model"
    assert session.project.training["dataset"]["path"] == str(text)
    losses = [h["val_loss"] for h in final.history]
    assert losses[-1] < losses[0]


def test_transfer_template_opens_on_its_offline_stage_and_shows_what_it_runs(window, registry):
    from studio.io.templates import load_template

    window.document.replace_project(load_template("transfer_cnn", registry))
    panel = window.window.training_panel
    bar = panel.stage_bar
    assert bar.stage == "pretrain"  # ImageNet weights are not cached on a fresh install: offline by default
    shown = {k: panel.controls[k].value_text() for k in ("dataset.name", "optimizer.name", "epochs")}
    assert shown == {"dataset.name": "shapes", "optimizer.name": "adam", "epochs": "4"}
    assert not panel.controls["epochs"].editor.isEnabled()  # the stage's value, not the project's
    assert "backbone.weights = none" in bar.about.text()
    bar.set_stage(None)
    assert panel.controls["dataset.name"].value_text() == "glyphs"
    assert panel.controls["epochs"].editor.isEnabled()
    bar.set_stage("finetune")
    assert panel.controls["dataset.name"].value_text() == "glyphs"
    assert "backbone.freeze = all" in bar.about.text() and "Train '1. Pretrain on shapes' first." in bar.about.text()


def test_choosing_a_stage_draws_its_graph_on_the_canvas_and_leaves_the_project_alone(window, qtbot, registry):
    project = staged(registry)
    project.meta["stages"]["pre"]["node_params"] = {"fc1": {"out_features": 16}}
    window.document.replace_project(project)
    doc, panel = window.document, window.window.training_panel
    bar = panel.stage_bar
    view = window.window.current_view()
    undo_before = doc.undo_stack.count()
    fc1, fc2 = doc.project.main_graph.node_by_name("fc1"), doc.project.main_graph.node_by_name("fc2")
    bar.set_stage("pre")
    shown = view.scene()
    assert shown is not view.graph_scene  # the canvas shows the stage's graph ...
    graph = shown.graph
    assert graph.nodes[fc2.id].name == "pre_head" and graph.nodes[fc1.id].params["out_features"] == 16
    assert sorted(bar.preview.marked[graph.id]) == sorted([fc1.id, fc2.id])  # ... with the changed nodes outlined
    glass = bar.preview.glass[graph.id]
    assert glass.isVisible() and "Pretrain" in glass.banner.text()
    # ... and is read-only: a click on a node under the glass selects nothing, a key deletes nothing
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    item = shown.nodes[fc1.id]
    QTest.mouseClick(glass, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view.mapFromScene(item.sceneBoundingRect().center()))
    QTest.keyClick(glass, Qt.Key.Key_Delete)
    assert not doc.selected and fc1.id in doc.project.main_graph.nodes
    # the project itself is untouched: names, parameters, undo history, saved state
    assert doc.project.main_graph.nodes[fc2.id].name == "fc2" and fc1.params["out_features"] == 32
    assert doc.undo_stack.count() == undo_before and doc.undo_stack.isClean()
    bar.set_stage(None)
    assert view.scene() is view.graph_scene and not bar.preview.active
    qtbot.waitUntil(lambda: not glass.isVisible() or glass.parent() is None, timeout=2000)


def test_apply_makes_the_project_the_stage_in_one_undo_step(window, registry):
    window.document.replace_project(staged(registry))
    doc, bar = window.document, window.window.training_panel.stage_bar
    bar.set_stage("pre")
    bar.apply_button.click()
    assert bar.stage is None and not bar.preview.active
    assert doc.project.main_graph.node_by_name("pre_head") is not None
    assert doc.project.training["epochs"] == 2 and doc.project.training["dataset"]["params"]["n"] == 300
    assert doc.undo_stack.undoText() == "Apply stage 'Pretrain'"
    doc.undo_stack.undo()
    assert doc.project.main_graph.node_by_name("fc2") is not None and doc.project.training["epochs"] == 1
    bar.set_stage("fine")  # needs the pretrain checkpoint: says so, changes nothing
    bar.apply_button.click()
    assert "Cannot apply" in bar.about.text() and doc.project.training.get("init", {}).get("checkpoint") is None


def test_transfer_template_opens_with_its_stage_graph_on_the_canvas(window, qtbot, registry):
    from studio.io.templates import load_template

    window.document.replace_project(load_template("transfer_cnn", registry))
    bar = window.window.training_panel.stage_bar
    qtbot.waitUntil(lambda: bar.preview.active, timeout=5000)
    view = window.window.current_view()
    backbone = view.scene().graph.node_by_name("backbone")
    assert backbone.params["weights"] == "none"  # the stage's, not the project's imagenet
    assert window.document.project.main_graph.node_by_name("backbone").params["weights"] == "imagenet"


def test_a_stage_preview_follows_edits_and_goes_when_another_project_opens(window, qtbot, registry):
    window.document.replace_project(staged(registry))
    doc, bar = window.document, window.window.training_panel.stage_bar
    bar.set_stage("pre")
    fc1 = doc.project.main_graph.node_by_name("fc1")
    from studio.core.ops import SetParam

    doc.push(SetParam(doc.project.main_graph.id, fc1.id, "out_features", 24))  # an edit under the preview
    qtbot.waitUntil(lambda: window.window.current_view().scene().graph.nodes[fc1.id].params["out_features"] == 24,
                    timeout=3000)
    assert window.window.current_view().scene() is not window.window.current_view().graph_scene
    window.document.replace_project(projects.classification(registry))
    qtbot.wait(50)
    view = window.window.current_view()
    assert not bar.preview.active and view.scene() is view.graph_scene and bar.isHidden()
