"""Training from the editor: the panel, its background worker, live plots and views.

``install_training(window)`` docks a :class:`TrainingPanel` into a ``MainWindow``, adds a
Train menu (Train F5, Pause/Resume F6, Stop Shift+F5) and makes closing the window during a run
ask first: Stop ends the run cleanly (the thread is waited for, the last checkpoint kept) and
closes; Cancel leaves both the window and the run going.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt

from studio.ui.training.panel import TrainingPanel

__all__ = ["TrainingPanel", "install_training"]


class _CloseGuard(QObject):
    """Sees the window's Close event first: asks before stopping a run; Cancel keeps the window and the run."""

    def __init__(self, panel: TrainingPanel, parent: QObject) -> None:
        super().__init__(parent)
        self.panel = panel

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Close and self.panel.running and not self.panel.confirm_stop():
            event.ignore()
            return True
        return False


def install_training(window) -> TrainingPanel:
    """Add the training dock, the Train menu and the close guard to ``window`` (a MainWindow)."""
    from studio.ui.training.panel import DOCK_HEIGHT

    panel = TrainingPanel(window.document, window)
    # the settings column scrolls inside the panel; the run controls above it never do
    dock = window.add_panel_dock("training", "Training", panel, Qt.DockWidgetArea.BottomDockWidgetArea,
                                 tabify_with=window.docks.get("problems"))
    window.panels["training"] = panel
    window.training_panel = panel
    window.training_dock = dock

    def show_dock() -> None:
        dock.show()
        dock.raise_()
        if dock.height() < DOCK_HEIGHT:  # grow a short strip; never shrink what the user made bigger
            window.resizeDocks([dock], [DOCK_HEIGHT], Qt.Orientation.Vertical)

    panel.started.connect(show_dock)
    menu = window.menuBar().addMenu("&Train")
    for action in panel.actions_list:
        menu.addAction(action)
        window.addAction(action)
    menu.addSeparator()
    menu.addAction(dock.toggleViewAction())
    _add_weights_export(window, panel, show_dock)
    window.installEventFilter(_CloseGuard(panel, window))
    return panel


def _add_weights_export(window, panel: TrainingPanel, show_dock) -> None:
    """File > Export trained weights…, next to the code export: saves the last run's weights."""
    from PySide6.QtGui import QAction

    action = QAction("Export trained weights…", window)
    action.setStatusTip("Save the weights of the last training run as .safetensors (loads into the exported code)")

    def export() -> None:
        run = panel.last_run
        if not (run and run.get("checkpoint")):
            window.statusBar().showMessage("No trained weights yet: train the model first (F5).", 6000)
            return
        show_dock()
        panel.results._pick_weights()

    action.triggered.connect(lambda _checked=False: export())
    actions = getattr(window, "file_actions", None)
    code_export = actions.get("export") if isinstance(actions, dict) else None
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is not None and code_export in menu.actions():
            entries = menu.actions()
            after = entries.index(code_export) + 1
            if after < len(entries):
                menu.insertAction(entries[after], action)
            else:
                menu.addAction(action)
            break
    if isinstance(actions, dict):
        actions["export_weights"] = action
