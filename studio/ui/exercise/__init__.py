"""Exercises in the editor: the Goals dock (live ticks) and the Exercise menu for teachers.

``install_exercise(window)`` adds both to a ``MainWindow``; locks are enforced through the
document's guard hook (``Document.guards``), hidden entries through the palette's ``hidden_types``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog

from studio.ui.exercise.controller import ExerciseController
from studio.ui.exercise.dialogs import GoalDialog, HideEntriesDialog
from studio.ui.exercise.goals_panel import GoalsPanel

__all__ = ["ExerciseController", "GoalsPanel", "install_exercise"]


def install_exercise(window) -> ExerciseController:
    """Goals dock, Exercise menu and lock guard for ``window`` (a MainWindow)."""
    document = window.document
    controller = ExerciseController(document, window.panels.get("palette"), window)
    controller.message.connect(window.show_message)
    panel = GoalsPanel(document)
    controller.changed.connect(panel.refresh)
    dock = window.add_panel_dock("goals", "Goals", panel, Qt.DockWidgetArea.RightDockWidgetArea,
                                 tabify_with=window.docks.get("inspector"))
    window.exercise = controller
    window.goals_panel = panel

    def show_goals() -> None:
        if panel.exercise is not None:
            dock.show()
            dock.raise_()

    document.project_replaced.connect(show_goals)
    if panel.exercise is None:
        dock.hide()  # ordinary projects: the dock waits in the View menu; the tab in front stays in front
        explanation = window.panels.get("explanation")
        front = "explanation" if getattr(explanation, "has_explanation", False) else "inspector"
        if front in window.docks:
            window.docks[front].raise_()
    else:
        show_goals()
    training = getattr(window, "training_panel", None)
    if training is not None and hasattr(training, "finished"):
        window.goals_live = live = _LiveMetrics(training, panel)  # held by the window: slots of a plain object
        training.started.connect(live.run_started)
        training.finished.connect(live.run_finished)

    def add_goal() -> None:
        dialog = GoalDialog(window)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_goal is not None:
            controller.add_goal(dialog.result_goal)
            dock.show()
            dock.raise_()

    def lock_selected() -> None:
        graph = document.project.graph(document.current_graph_id)
        names = [graph.nodes[i].name for i in document.selected if i in graph.nodes]
        if not names:
            window.show_message("Select the nodes to lock first")
            return
        controller.toggle_lock(names)

    def hide_entries() -> None:
        ex = controller.exercise
        dialog = HideEntriesDialog(document.registry, set(ex.hidden_palette) if ex else set(), window)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            controller.set_hidden(dialog.hidden())

    def save_as_exercise() -> None:
        ex = controller._editable()
        key, ok = QInputDialog.getText(window, "Save as exercise",
                                       "Exercise id (submissions must carry it):", text=ex.id)
        if not ok or not key.strip():
            return
        path, _ = QFileDialog.getSaveFileName(window, "Save exercise", f"{key.strip()}.nnstudio",
                                              "NN Studio project (*.nnstudio)")
        if path:
            controller.save_as_exercise(window.files, path, key.strip())

    menu = window.menuBar().addMenu("E&xercise")
    window.exercise_actions = {}
    for key, text, slot in (("add_goal", "Add goal…", add_goal), ("lock", "Lock / unlock selected nodes", lock_selected),
                            ("hide", "Hide palette entries…", hide_entries),
                            ("save", "Save as exercise…", save_as_exercise)):
        action = QAction(text, window)
        action.triggered.connect(lambda _c=False, s=slot: s())
        menu.addAction(action)
        window.exercise_actions[key] = action
    menu.addSeparator()
    menu.addAction(dock.toggleViewAction())
    return controller


class _LiveMetrics:
    """Feeds the Goals panel each epoch's metrics while a run trains, and the whole history when it ends."""

    def __init__(self, training, panel: GoalsPanel) -> None:
        self.training, self.panel = training, panel
        self.history: list[dict[str, float]] = []

    def run_started(self) -> None:
        self.history = []
        session = self.training.session
        if session is not None and self.panel.exercise is not None:
            session.updates.connect(self.updates)

    def updates(self, updates: list) -> None:
        epochs = [dict(u.metrics) for u in updates if getattr(u, "kind", "") == "epoch"]
        if epochs:
            self.history += epochs
            self.panel.show_metrics(self.history, running=True)

    def run_finished(self, final) -> None:
        """After a run, tick the metric goals from its per-epoch history (the final update carries it)."""
        history = getattr(final, "history", None) or self.history
        if history:
            self.panel.show_metrics(history)
