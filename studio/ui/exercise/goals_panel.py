"""The Goals panel: every goal of the project's exercise with a live tick, rechecked after each edit."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from studio.exercises import Exercise, ExerciseError, GoalResult, exercise_of, grade_structure

PASS, FAIL, LATER = "✓", "✗", "○"


class GoalsPanel(QWidget):
    """Goals with ✓ / ✗ after every edit (structure, settings, locks); metric goals show ○ until a run
    reports the metric, then tick after every epoch while it trains (``show_metrics`` with the run's
    per-epoch history so far): ✓ as soon as the goal is met, ○ with the best value so far while epochs
    remain, ✗ when the run ended or the goal's epochs are used up without meeting it."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.title = QLabel(self)
        self.title.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.summary = QLabel(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.title)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.summary)
        self.results: list[GoalResult] = []
        self._history: list[dict[str, float]] = []
        self._running = False  # the history is of a run still training
        self._timer = QTimer(self)  # one recheck after a burst of edits
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.refresh)
        document.changed.connect(lambda _e: self._timer.start())
        document.shapes_changed.connect(lambda _g: self._timer.start())
        document.project_replaced.connect(self._replaced)
        self.refresh()

    @property
    def exercise(self) -> Exercise | None:
        try:
            return exercise_of(self.document.project)
        except ExerciseError:
            return None

    def _replaced(self) -> None:
        self._history = []
        self._running = False
        self.refresh()

    def show_metrics(self, history: list[dict[str, float]], running: bool = False) -> None:
        """Tick the metric goals from a run's per-epoch metrics (``running``: more epochs may come)."""
        self._history = list(history)
        self._running = running
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        ex = self.exercise
        if ex is None:
            self.title.setText("This project is not an exercise. Exercise > Add goal… makes it one.")
            self.results = []
            self.summary.setText("")
            return
        self.title.setText(f"<b>{ex.title or ex.id}</b>")
        try:
            self.results = grade_structure(ex, self.document.project, self.document.registry)
        except Exception as exc:  # noqa: BLE001 - a half-edited graph must not take the panel down
            self.results = [GoalResult("model is valid", False, str(exc).splitlines()[0] if str(exc) else "error")]
        from studio.exercises.grade import _metric

        pending: set[int] = set()
        for goal in ex.goals:
            if goal.kind == "metric":
                if self._history:
                    result = _metric(goal, self._history[: goal.epochs], "")
                    settled = result.passed and goal.at == "best"  # a last-epoch goal waits for the last epoch
                    if not settled and self._running and len(self._history) < goal.epochs:
                        pending.add(len(self.results))  # not met yet, epochs left: so far, not failed
                        result = GoalResult(result.goal, False, f"so far: {result.detail} (training…)", result.value)
                    self.results.append(result)
                else:
                    self.results.append(GoalResult(goal.describe(), False, "checked after training"))
        for i, r in enumerate(self.results):
            later = r.detail == "checked after training" or i in pending
            mark = LATER if later else PASS if r.passed else FAIL
            item = QListWidgetItem(f"{mark}  {r.goal}\n     {r.detail}")
            colour = "#22c55e" if r.passed else "#9ca3af" if later else "#ef4444"
            item.setForeground(QBrush(QColor(colour)))
            item.setData(Qt.ItemDataRole.UserRole, r.passed)
            self.list.addItem(item)
        done = sum(r.passed for r in self.results)
        self.summary.setText(f"{done} of {len(self.results)} goals met")

    def marks(self) -> list[str]:
        """The tick of each row (for tests and the presentation): ✓, ✗ or ○."""
        return [self.list.item(i).text()[0] for i in range(self.list.count())]
