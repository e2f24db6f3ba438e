"""Redraw the Q-learning gridworld: click cells to cycle free / wall / pit / cliff / goal / start.

The grid lives in the project's training settings (``rl.grid.layout``, rows of characters), so
Apply is one undoable SetTraining step and the next run trains on the new grid.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.ops import SetTraining

KEY = "rl.grid.layout"
CYCLE = ".#XCGS"  # click order
COLOURS = {".": "#f4f4f4", "#": "#4a4f5a", "X": "#d9534f", "C": "#f0ad4e", "G": "#5cb85c", "S": "#5b8def"}
NAMES = {".": "free", "#": "wall", "X": "pit (ends the episode)", "C": "cliff (back to start)", "G": "goal",
         "S": "start"}


def default_layout() -> list[str]:
    from studio.train.settings import GridSettings

    return list(GridSettings().layout)


def current_layout(training: dict) -> list[str]:
    layout = training.get("rl", {}).get("grid", {}).get("layout")
    return list(layout) if isinstance(layout, list) and layout else default_layout()


def check_layout(rows: list[str]) -> str | None:
    """Why this grid cannot be trained on, or None."""
    text = "".join(rows)
    if text.count("S") != 1:
        return "the grid needs exactly one start (S)"
    if "G" not in text:
        return "the grid needs at least one goal (G)"
    return None


class GridCanvas(QWidget):
    """The editable grid; emits ``changed`` after each click."""

    changed = Signal()

    def __init__(self, rows: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows = [list(r) for r in rows]
        self.setMinimumSize(240, 240)

    def layout_rows(self) -> list[str]:
        return ["".join(r) for r in self.rows]

    def resize_grid(self, height: int, width: int) -> None:
        rows = [r[:width] + ["."] * (width - len(r)) for r in self.rows[:height]]
        rows += [["."] * width for _ in range(height - len(rows))]
        self.rows = rows
        self.update()
        self.changed.emit()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(36 * len(self.rows[0]), 36 * len(self.rows))

    def _cell_rect(self, r: int, c: int) -> QRectF:
        size = min(self.width() / len(self.rows[0]), self.height() / len(self.rows))
        return QRectF(c * size, r * size, size, size)

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        size = min(self.width() / len(self.rows[0]), self.height() / len(self.rows))
        r, c = int(y // size), int(x // size)
        return (r, c) if 0 <= r < len(self.rows) and 0 <= c < len(self.rows[0]) else None

    def cycle(self, r: int, c: int) -> None:
        """Next cell kind; a new start replaces the old one (there is one start)."""
        kind = CYCLE[(CYCLE.index(self.rows[r][c]) + 1) % len(CYCLE)] if self.rows[r][c] in CYCLE else "."
        if kind == "S":
            for row in self.rows:
                for i, ch in enumerate(row):
                    if ch == "S":
                        row[i] = "."
        self.rows[r][c] = kind
        self.update()
        self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        cell = self.cell_at(event.position().x(), event.position().y())
        if cell is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cycle(*cell)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for r, row in enumerate(self.rows):
            for c, ch in enumerate(row):
                rect = self._cell_rect(r, c)
                painter.fillRect(rect.adjusted(1, 1, -1, -1), QColor(COLOURS.get(ch, "#f4f4f4")))
                if ch in "SGXC":
                    painter.setPen(QColor("#ffffff") if ch != "." else QColor("#000000"))
                    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, ch)
        painter.end()


class GridEditorDialog(QDialog):
    """Size spin boxes, the clickable grid, a legend, and Apply (one undo step) / Cancel."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit the gridworld")
        self.document = document
        rows = current_layout(document.project.training)
        self.canvas = GridCanvas(rows, self)
        self.height_box, self.width_box = QSpinBox(), QSpinBox()
        for box, value, label in ((self.height_box, len(rows), "rows"), (self.width_box, len(rows[0]), "columns")):
            box.setRange(2, 20)
            box.setValue(value)
            box.setSuffix(f" {label}")
            box.valueChanged.connect(lambda _v: self.canvas.resize_grid(self.height_box.value(),
                                                                        self.width_box.value()))
        size_row = QHBoxLayout()
        size_row.addWidget(self.height_box)
        size_row.addWidget(self.width_box)
        size_row.addStretch(1)
        legend = QLabel("Click a cell to cycle: " + " → ".join(NAMES[k] for k in CYCLE))
        legend.setWordWrap(True)
        self.status = QLabel()
        self.status.setStyleSheet("color: #d9534f")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.apply_button = buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self.apply)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(size_row)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(legend)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.canvas.changed.connect(self._check)
        self._check()

    def _check(self) -> None:
        problem = check_layout(self.canvas.layout_rows())
        self.status.setText(problem or "")
        self.apply_button.setEnabled(problem is None)

    def restore_defaults(self) -> None:
        rows = default_layout()
        self.canvas.rows = [list(r) for r in rows]
        for box, value in ((self.height_box, len(rows)), (self.width_box, len(rows[0]))):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self.canvas.update()
        self._check()

    def apply(self) -> None:
        rows = self.canvas.layout_rows()
        if check_layout(rows) is None:
            if rows != current_layout(self.document.project.training):
                self.document.push(SetTraining(KEY, rows, label="Edit gridworld"))
            self.accept()
