"""A run that fails at once: its thread can end before the GUI has handled anything, and the panel must
still count the run as going until its ending is shown (no second run starts in that gap)."""

from __future__ import annotations

from tests.ui.training import projects

TIMEOUT = 60_000


def test_a_run_whose_thread_already_ended_is_running_until_its_ending_is_shown(window, qtbot, registry,
                                                                             failing_relu):
    window.document.replace_project(projects.classification(registry))
    panel = window.window.training_panel
    assert panel.start_training()
    first = panel.session
    assert first.wait(TIMEOUT) and not first.running  # the thread is over; its ending not handled yet
    assert panel.running and not panel.train_button.isEnabled()
    assert not panel.start_training() and panel.session is first  # F5 in that gap starts nothing
    with qtbot.waitSignal(panel.finished, timeout=TIMEOUT) as blocker:
        pass  # the queued ending arrives with the next events
    assert blocker.args[0].kind == "error" and blocker.args[0].node == "act"
    assert not panel.running and panel.train_button.isEnabled() and "act" in panel.error_label.text()
