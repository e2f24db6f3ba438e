"""The training panel: settings bound to ``project.training``, Train / Pause / Stop, progress, and tabs for
curves, live views, the dataset preview, activations and after-training results.

Every settings edit is an undoable ``SetTraining`` push. Train takes a snapshot of the project
and hands it to a :class:`TrainingSession` (a worker thread); the banner says the running model
is that snapshot, so edits made meanwhile apply to the next run. Faults come back as one final
update whose node is selected in the canvas and whose message is shown here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.ui.tasks import TaskRunner
from studio.ui.training.form_source import check_setting, fields_for, get_setting, label_for
from studio.ui.training.run_status import RunStatus
from studio.ui.training.settings_form import Row, SettingsForm
from studio.ui.training.worker import TrainingSession, gui_settings, new_run_dir

TAB_TITLES = ("Curves", "Live view", "Dataset", "Activations", "Results")
FIRST_GRAPH = "(first graph)"
#: the height the dock opens at when training starts (only ever grown to, never shrunk to)
DOCK_HEIGHT = 360


def fmt_time(seconds: float | None) -> str:
    if seconds is None or not np.isfinite(seconds):
        return "—"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def value_words(value: Any) -> str:
    """A value as the undo menu shows it."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value) if value != "" else "(none)"


class TrainingPanel(RunStatus, QWidget):
    """Settings, controls, progress and the training tabs for one document."""

    #: emitted with the final Update of every run (done / cancelled / error)
    finished = Signal(object)
    #: a run ended in a fault; the message
    failed = Signal(str)
    started = Signal()

    def __init__(self, document, window=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.window = window
        self.session: TrainingSession | None = None
        self.sessions: list[TrainingSession] = []
        self.last_final = None
        self.last_run: dict[str, Any] | None = None  # snapshot, checkpoint dir, settings of the latest run
        self.updates_seen = 0
        self.tasks = TaskRunner(self)
        self._refreshing = False
        self._build()
        document.changed.connect(self._on_event)
        document.project_replaced.connect(self._on_project_replaced)
        document.undo_stack.indexChanged.connect(self._on_index_changed)
        self.refresh_settings()
        self._set_state("idle")

    # -- building --------------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("QLabel { background: #1e3a5f; color: #e5eefc; padding: 4px; border-radius: 3px; }")
        self.banner.hide()
        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet("QLabel { background: #5c1a1a; color: #ffe4e4; padding: 4px; border-radius: 3px; }")
        self.error_label.hide()
        self.show_node_button = QPushButton("Show node")
        self.show_node_button.hide()
        self.show_node_button.clicked.connect(self.reveal_error)

        self.grid_button = QPushButton("Edit grid…")
        self.grid_button.setToolTip("Q-learning: redraw the gridworld (walls, pits, goal, start), then train again")
        self.grid_button.clicked.connect(self.edit_grid)
        self.form = SettingsForm(self._check)
        self.form.edit_requested.connect(self._edit)

        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Train a snapshot of the project (F5)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause or resume (F6)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop and keep the last checkpoint (Shift+F5)")
        self.train_button.clicked.connect(self.start_training)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button.clicked.connect(self.stop_training)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("")
        self.progress.setMinimumWidth(120)
        self.progress_label = QLabel("Ready.")
        self.progress_label.setWordWrap(True)
        self.progress_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # the run controls are pinned above everything that scrolls: always on screen
        controls = QHBoxLayout()
        controls.setSpacing(4)
        for b in (self.train_button, self.pause_button, self.stop_button):
            controls.addWidget(b)
        from studio.ui.training.classroom import LiveRLControls, StepBar

        self.step_bar = StepBar(self)
        controls.addWidget(self.step_bar)
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.progress_label, 2)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(4, 4, 4, 4)
        from studio.ui.training.stages import StageBar

        self.stage_bar = StageBar(self)  # template stages (hidden for projects without them)
        self.stage_bar.stage_changed.connect(self.refresh_settings)
        ll.addWidget(self.stage_bar)
        self.live_controls = LiveRLControls(self)
        ll.addWidget(self.live_controls)
        ll.addWidget(self.form)
        ll.addStretch(1)
        self.settings_scroll = scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(260)
        scroll.setMaximumWidth(400)

        self.tabs = QTabWidget()
        # the tabs' contents (pyqtgraph: ~0.6 s to import) are built the first time the panel is
        # shown or a run starts, so the editor's start-up does not pay for them
        self._tab_widgets: dict[str, QWidget] = {}
        for title in TAB_TITLES:
            self.tabs.addTab(QLabel("Loading…"), title)
        self.tabs.currentChanged.connect(self._tab_changed)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        top = QHBoxLayout()
        top.addWidget(self.error_label, 1)
        top.addWidget(self.show_node_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(3)
        lay.addLayout(controls)
        lay.addWidget(self.banner)
        lay.addLayout(top)
        lay.addWidget(split, 1)

        self.train_action = QAction("Train", self)
        self.train_action.setShortcut(QKeySequence("F5"))
        self.train_action.triggered.connect(self.start_training)
        self.pause_action = QAction("Pause / Resume", self)
        self.pause_action.setShortcut(QKeySequence("F6"))
        self.pause_action.triggered.connect(self.toggle_pause)
        self.stop_action = QAction("Stop", self)
        self.stop_action.setShortcut(QKeySequence("Shift+F5"))
        self.stop_action.triggered.connect(self.stop_training)
        self.actions_list = [self.train_action, self.pause_action, self.stop_action, *self.step_bar.actions.values()]

        self._clock = QTimer(self)  # ticks the banner's "edited since" note and elapsed time
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        from studio.ui.training.inside import attach

        attach(self)  # the Inside and Checks tabs

    # -- the tabs, built on first use -------------------------------------------------------------
    @property
    def built(self) -> bool:
        return bool(self._tab_widgets)

    def ensure_tabs(self) -> None:
        if self._tab_widgets:
            return
        from studio.ui.training.plots import PlotsWidget
        from studio.ui.training.results import ActivationView, ResultsWidget
        from studio.ui.training.views import LiveViews

        current = self.tabs.currentIndex()
        from studio.ui.training.preview import DatasetPreview

        widgets = {"plots": PlotsWidget(), "views": LiveViews(), "preview": DatasetPreview(self),
                   "activations": ActivationView(self), "results": ResultsWidget(self)}
        self._tab_widgets = widgets
        self.tabs.blockSignals(True)
        for i, (widget, title) in enumerate(zip(widgets.values(), TAB_TITLES, strict=True)):
            old = self.tabs.widget(i)
            self.tabs.removeTab(i)
            old.deleteLater()
            self.tabs.insertTab(i, widget, title)
        self.tabs.setCurrentIndex(max(0, current))
        self.tabs.blockSignals(False)
        widgets["plots"].restore_requested.connect(self.restore_run_settings)
        if self.last_run is not None:
            widgets["results"].run_finished(self.last_run)
        self._tab_changed(self.tabs.currentIndex())

    def _tab(self, name: str):
        self.ensure_tabs()
        return self._tab_widgets[name]

    plots = property(lambda self: self._tab("plots"), doc="PlotsWidget: the curves of every run")
    views = property(lambda self: self._tab("views"), doc="LiveViews: the paradigm's live views")
    preview = property(lambda self: self._tab("preview"), doc="DatasetPreview")
    activations = property(lambda self: self._tab("activations"), doc="ActivationView")
    results = property(lambda self: self._tab("results"), doc="ResultsWidget")

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        QTimer.singleShot(0, self.ensure_tabs)

    # -- settings binding --------------------------------------------------------------------
    @property
    def controls(self) -> dict[str, Row]:
        """The form's rows by dotted setting key."""
        return self.form.rows

    def control_for(self, key: str) -> QWidget | None:
        """The widget that edits setting ``key``, with its section unfolded and scrolled into view."""
        if key == "rl.grid.layout":
            widget = self.grid_button
        else:
            row = self.form.rows.get(key)
            widget = row.editor if row is not None else None
        if widget is None:
            return None
        self.reveal(widget)
        return widget

    def reveal(self, widget: QWidget) -> None:
        """Unfold the section holding ``widget`` and scroll the settings column to it."""
        section = next((s for s in self.form.sections.values() if s.isAncestorOf(widget)), None)
        if section is not None:
            section.set_open(True)
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # place the unfolded rows first
        self.settings_scroll.ensureWidgetVisible(widget)

    def set_setting(self, key: str, text: str) -> str | None:
        """Type ``text`` into the setting's field as a user would; returns the refusal shown, if any."""
        row = self.form.rows[key]
        editor = row.editor
        from PySide6.QtWidgets import QCheckBox, QComboBox

        if isinstance(editor, QComboBox):
            index = editor.findText(text)
            if index < 0:
                return f"'{text}' is not one of the choices"
            editor.setCurrentIndex(index)
            return row.problem_text() or None
        if isinstance(editor, QCheckBox):
            editor.setChecked(text.lower() in ("1", "true", "on", "yes"))
            return row.problem_text() or None
        return row.type_text(text) or None

    def _check(self, key: str, value: Any) -> str | None:
        return check_setting(key, value, self.document.project.training)

    def _edit(self, key: str, value: Any) -> None:
        if self._refreshing:
            return
        if key == "graph" and value == FIRST_GRAPH:
            value = ""
        training = self.document.project.training
        if get_setting(training, key) == value:
            return
        from studio.core.ops import Batch, SetTraining

        label = f"Set {label_for(key, training).lower()} to {value_words(value)}"
        if key == "dataset.name" and get_setting(training, "dataset.params", {}):
            # another dataset has other generator parameters: start from its defaults, in the same step
            self.document.push(Batch([SetTraining(key, value), SetTraining("dataset.params", {})], label=label))
            return
        row = self.form.rows.get(key)
        if row is not None and row.field_spec.kind == "records":  # a table edit is its own step, never merged
            self.document.push(Batch([SetTraining(key, value)], label=label))
            return
        self.document.push(SetTraining(key, value, label=label))

    def restore_run_settings(self, run) -> None:
        """Put a past run's training settings back into the project (one undo step)."""
        from studio.core.ops import Batch, SetTraining

        current = self.document.project.training
        ops = [SetTraining(k, v) for k, v in run.settings.items() if current.get(k) != v]
        if ops:
            self.document.push(Batch(ops, label=f"Use the settings of run {run.number}"))

    def shown_training(self) -> tuple[dict, dict[str, str]]:
        """The settings the chosen stage trains with, and which keys the stage sets (key -> stage label)."""
        training = self.document.project.training
        return self.stage_bar.effective_training(training)

    def refresh_settings(self) -> None:
        """Show the settings that will run (the project's, or the chosen stage's) in the form."""
        self._refreshing = True
        try:
            training, locked = self.shown_training()
            names = [FIRST_GRAPH] + [g.name for g in self.document.project.graphs]
            fields = fields_for(training)
            fields = [replace(f, kind="choice", choices=tuple(names)) if f.key == "graph" else f for f in fields]
            grid_row = next((f.key for f in fields if f.key.startswith("rl.grid.")), None)
            self.form.set_fields(fields, {grid_row: self.grid_button} if grid_row else {})
            for key, row in self.form.rows.items():
                value = get_setting(training, key)
                if key == "graph" and not value:
                    value = FIRST_GRAPH
                row.set_value(value)
                owner = next((locked[k] for k in locked if key == k or key.startswith(k + ".")), "")
                row.lock(owner)
            self.grid_button.setVisible(grid_row is not None)
            self.live_controls.sync()
        finally:
            self._refreshing = False

    def edit_grid(self) -> None:
        """Open the grid editor; Apply is one undoable change of ``rl.grid.layout``."""
        from studio.ui.training.grid_editor import GridEditorDialog

        GridEditorDialog(self.document, self).exec()

    def _on_event(self, event) -> None:
        if event.kind == "training_changed" or event.kind.startswith("graph_"):
            self.refresh_settings()
            if event.kind == "training_changed" and str(event.data.get("key", "")).startswith(("dataset", "graph")):
                if self.built:
                    self.preview.invalidate()

    def _on_project_replaced(self) -> None:
        """Another project: nothing of the previous one stays (run, curves, views, banners, progress)."""
        if self.session is not None and self.session.running:
            self.stop_training()
        self.last_run = None
        self.last_final = None
        self._clock.stop()
        self.banner.hide()
        self.banner.clear()
        self.error_label.hide()
        self.error_label.clear()
        self.show_node_button.hide()
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress_label.setText("Ready.")
        if self.built:
            self.plots.clear()
            self.views.clear_views()
            self.preview.invalidate()
            self.results.reset()
            self.activations.reset()
        self.refresh_settings()

    # -- running -----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """A run was started and its ending has not been shown yet (its thread may have just ended)."""
        return self.session is not None and self.session.in_progress

    def start_training(self, *, prepare: Callable[[Any], None] | None = None) -> bool:
        """Train a snapshot of the project in the background; False if a run is already going.

        ``prepare(control)`` sets up the run's control before its thread starts (stepping starts paused)."""
        if self.running:
            return False
        try:  # the project, or the chosen template stage of it
            snapshot, label = self.stage_bar.prepare()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return False
        run_dir = new_run_dir(snapshot.name)
        self.error_label.hide()
        self.show_node_button.hide()
        self._clear_error_marks()
        self.views.clear_views()
        from studio.train.recipes.registry import recipe_spec

        try:
            self.views.prepare(recipe_spec(str(get_setting(snapshot.training, "recipe"))).views)
        except KeyError:
            pass  # an unknown paradigm: the run itself reports it
        plot_run = self.plots.begin_run(snapshot.training, snapshot, label)
        self.snapshot_time = time.time()
        self.snapshot_version = self.document.undo_stack.index()
        self.last_run = {"snapshot": snapshot, "dir": run_dir, "settings": snapshot.training, "final": None,
                         "title": plot_run.title}
        session = TrainingSession(snapshot, self.document.registry, gui_settings(snapshot.training), run_dir,
                                  parent=self)
        session.updates.connect(self._on_updates)
        session.finished.connect(self._on_finished)
        session.failed.connect(self.failed)
        self.session = session
        self.sessions.append(session)
        self.updates_seen = 0
        self.progress.setValue(0)
        self.progress_label.setText("Preparing data and model…")
        if prepare is not None:
            prepare(session.control)
        self._set_state("running")
        self._update_banner()
        self._clock.start()
        session.start()
        self.started.emit()
        return True

    def show_running(self) -> None:
        """Buttons and status of a run that stepping or Play just set going again."""
        self._set_state("running")

    def show_paused(self) -> None:
        self._set_state("paused")

    def toggle_pause(self) -> None:
        if not self.running:
            return
        if self.session.paused:
            self.session.resume()
            self._set_state("running")
        else:
            self.session.pause()
            self._set_state("paused")

    def stop_training(self) -> None:
        if self.running:
            self.session.stop()
            self.progress_label.setText("Stopping after this step…")
            self.stop_button.setEnabled(False)

    def confirm_stop(self, ask=None) -> bool:
        """Before quitting: True when nothing runs or the user agrees to stop the run (Cancel keeps it running).

        ``ask(title, text) -> bool`` is the question (a message box by default)."""
        if not self.running or not self.session.running:  # nothing left to stop (its ending is on its way)
            return True
        if ask is None:
            ask = self._ask_stop
        if not ask("Training is running",
                   "A training run is still going. Stop it (the last checkpoint is kept) and quit?"):
            return False
        self.progress_label.setText("Stopping the training before closing…")
        self.shutdown()
        return True

    def _ask_stop(self, title: str, text: str) -> bool:
        from PySide6.QtWidgets import QMessageBox

        buttons = QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel
        answer = QMessageBox.question(self.window or self, title, text, buttons, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def shutdown(self) -> None:
        """Window closing: stop the run, wait for its thread (never terminate), keep the checkpoint."""
        for session in self.sessions:
            if session.running:
                session.stop()
        for session in self.sessions:
            session.wait()
        self.tasks.wait()

    def _set_state(self, state: str) -> None:
        running = state in ("running", "paused")
        self.train_button.setEnabled(not running)
        self.train_action.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.pause_action.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.stop_action.setEnabled(running)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.step_bar.show_state(state)
        if state == "paused":
            self.progress_label.setText("Paused — press Resume (F6) to go on.")

    def _on_updates(self, updates: list) -> None:
        self.updates_seen += len(updates)
        self.plots.add_updates(updates)
        points = [pt for u in updates for pt in u.points]
        if points:
            self.views.add_points(points)
        last_views = None
        for u in updates:
            if u.kind == "started":
                self.views.classes = list(u.info.get("classes") or [])
                if self.last_run is not None:
                    self.last_run["info"] = dict(u.info)
            if u.views:
                last_views = u.views
                self.views.last_step = u.step
        if last_views:
            self.views.show_views(last_views)
        self._show_progress(updates[-1])

    def _show_progress(self, u) -> None:
        if u.final:
            return
        if u.kind == "paused":
            self._set_state("paused")
            return
        value = int(1000 * u.progress)
        if value != self.progress.value():
            self.progress.setValue(value)
            self.progress.setFormat(f"{100 * u.progress:.0f}%")
        unit = (self.last_run or {}).get("info", {}).get("unit", "samples")
        parts = [f"Epoch {min(u.epoch, u.epochs) if u.epochs else u.epoch}/{u.epochs}",
                 f"step {u.step}/{u.total_steps}"]
        if u.samples_per_s:
            parts.append(f"{u.samples_per_s:,.0f} {unit}/s")
        parts.append(f"{fmt_time(u.eta_s)} left")
        loss = u.metrics.get("loss")
        if isinstance(loss, float):
            parts.append(f"loss {loss:.4g}")
        self.progress_label.setText(" · ".join(parts))

    def _on_finished(self, final) -> None:
        self.last_final = final
        self._clock.stop()
        self.plots.end_run(final)
        if final.views:
            self.views.show_views(final.views)
        if self.last_run is not None:
            self.last_run["final"] = final
            self.last_run["checkpoint"] = final.checkpoint or self._checkpoint_in_dir()
        self._set_state("idle")
        if final.kind == "done":
            self.progress.setValue(1000)
            self.progress.setFormat("100%")
            note = "" if final.message in ("", "finished") else f" ({final.message})"
            self.progress_label.setText(f"Finished in {fmt_time(final.elapsed_s)}{note}.")
        elif final.kind == "cancelled":
            self.progress_label.setText(f"Stopped at step {final.step}; the last checkpoint is kept.")
        else:
            self.show_error(final)
        self.banner.setText(self.banner.text().replace("Training snapshot", "Last run used the snapshot"))
        self.results.run_finished(self.last_run)
        self.activations.model_changed()
        self.finished.emit(final)

    def _checkpoint_in_dir(self) -> str | None:
        if self.last_run is None:
            return None
        path = self.last_run["dir"] / "last.pt"
        return str(path) if path.exists() else None

    def _tab_changed(self, index: int) -> None:
        if self.built and self.tabs.widget(index) is self._tab_widgets["preview"]:
            self._tab_widgets["preview"].load()
