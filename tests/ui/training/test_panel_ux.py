"""What a new user met in the training panel: refused values, words in the undo menu, a clean slate per
project, asking before quitting mid-run, the dock and the live-view tab kept on F5, honest results."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.ui.training import projects

TIMEOUT = 60_000


def start_and_wait(panel, qtbot):
    with qtbot.waitSignal(panel.finished, timeout=TIMEOUT) as blocker:
        assert panel.start_training()
    qtbot.waitUntil(lambda: not panel.running, timeout=5000)
    return blocker.args[0]


def test_numeric_fields_refuse_out_of_range_and_text_with_the_reason(window, registry):
    window.document.replace_project(projects.classification(registry))
    panel, doc = window.window.training_panel, window.document
    steps = doc.undo_stack.count()
    reason = panel.set_setting("dataset.val_fraction", "5")
    assert reason and "0.9" in reason  # refused, not clamped to 0.9
    assert panel.controls["dataset.val_fraction"].problem.isVisibleTo(panel)
    assert "abc" in panel.set_setting("epochs", "abc")
    assert "whole" in panel.set_setting("batch_size", "2.5")
    assert doc.undo_stack.count() == steps and doc.project.training["epochs"] == 2
    assert panel.set_setting("epochs", "3") is None  # a good value clears the reason and is stored
    assert doc.project.training["epochs"] == 3 and not panel.controls["epochs"].problem_text()


def test_a_changed_setting_is_one_undo_step_named_in_words(window, registry):
    window.document.replace_project(projects.classification(registry))
    panel, stack = window.window.training_panel, window.document.undo_stack
    panel.set_setting("optimizer.lr", "0.05")
    assert stack.undoText() == "Set learning rate to 0.05"
    panel.set_setting("dataset.params.n", "300")
    assert stack.undoText() == "Set samples to 300" and "optimizer" not in stack.undoText()
    stack.undo()
    assert window.document.project.training["dataset"]["params"]["n"] == 400
    assert panel.controls["dataset.params.n"].value_text() == "400"


def test_every_setting_the_paradigm_reads_has_a_row_with_its_help(window, registry):
    from studio.train.settings_form import settings_fields

    window.document.replace_project(projects.gan(registry))
    panel = window.window.training_panel
    for f in settings_fields("adversarial", "ring"):
        if f.kind == "list" and not all(isinstance(v, int | float) for v in f.default):
            continue
        assert f.key in panel.controls, f.key
        assert panel.controls[f.key].editor.toolTip() == (f.help or f.label)
    advanced = panel.form.sections["Advanced"]
    assert not advanced.is_open  # folded until asked for
    assert panel.control_for("device") is not None and advanced.is_open


def test_tabular_q_learning_shows_no_optimizer_it_ignores(window, registry):
    window.document.replace_project(projects.tabular(registry))
    panel = window.window.training_panel
    assert "optimizer.lr" not in panel.controls and "rl.lr" in panel.controls
    assert not panel.grid_button.isHidden()
    window.document.replace_project(projects.classification(registry))
    assert "optimizer.lr" in panel.controls and panel.grid_button.isHidden()


def test_opening_another_project_clears_the_previous_run(window, qtbot, registry):
    window.document.replace_project(projects.classification(registry, epochs=1))
    panel = window.window.training_panel
    assert start_and_wait(panel, qtbot).kind == "done"
    assert panel.plots.runs and not panel.banner.isHidden()
    window.document.replace_project(projects.regression(registry))
    assert panel.banner.isHidden() and panel.error_label.isHidden()
    assert panel.progress.value() == 0 and panel.progress_label.text() == "Ready."
    assert not panel.plots.runs and panel.plots.runs_list.count() == 0
    assert "appear here" in panel.results.text.toPlainText() and not panel.results.eval_button.isEnabled()
    assert panel.last_run is None and not panel.views.received


def test_quitting_mid_training_asks_first_and_cancel_keeps_it_running(window, qtbot, registry):
    window.document.replace_project(projects.classification(registry, epochs=400))
    panel = window.window.training_panel
    panel.start_training()
    qtbot.waitUntil(lambda: panel.updates_seen > 2, timeout=TIMEOUT)
    asked = []
    panel._ask_stop = lambda title, text: asked.append(title) or False
    assert not window.window.close()
    assert asked == ["Training is running"] and panel.running and not panel.session.control.cancelled
    panel.stop_training()
    qtbot.waitUntil(lambda: not panel.running, timeout=TIMEOUT)


def test_f5_keeps_the_dock_size_and_the_live_view_tab(window, qtbot, registry):
    main = window.window
    window.document.replace_project(projects.classification(registry, epochs=1))
    panel, dock = main.training_panel, main.training_dock
    main.resize(1440, 900)
    start_and_wait(panel, qtbot)
    views = panel.views
    assert {"classify", "decision"} <= set(views.pages)
    views.setCurrentWidget(views.pages["decision"])
    main.resizeDocks([dock], [520], Qt.Orientation.Vertical)
    qtbot.wait(50)
    tall = dock.height()
    assert tall > 400
    start_and_wait(panel, qtbot)
    assert dock.height() >= tall - 2  # F5 did not shrink the panel back
    assert views.currentWidget() is views.pages["decision"]  # nor jump to the first view


def test_results_say_which_run_they_show_in_plain_words(window, qtbot, registry):
    window.document.replace_project(projects.attention(registry))
    panel = window.window.training_panel
    final = start_and_wait(panel, qtbot)
    text = panel.results.text.toPlainText()
    assert f"Run 1 ({panel.plots.runs[0].title.split('(')[1]} finished after {final.step} steps." in text
    assert "finished. finished" not in text and panel.progress_label.text().count("inished") == 1
    assert panel.results.image_button.isHidden()  # no "Try an image file…" for a sequence model
    window.document.replace_project(projects.images(registry, epochs=1))
    start_and_wait(panel, qtbot)
    assert not panel.results.image_button.isHidden()
