"""Redraw the gridworld: click cells to cycle free / wall / pit / cliff / goal / start; right-click a cell
to give it a reward on entering or make it a teleport (A → A′ with a reward).

The grid lives in the project's training settings (``rl.grid.layout``, ``cell_rewards``,
``teleports``), so Apply is one undoable step and the next run trains on the new grid. A resized
grid also resizes the Q-network's Input (one value per cell, or one plane per kind) in that same
step, so deep Q-learning keeps working on the new size.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.ops import Batch, SetParam, SetTraining

KEY = "rl.grid.layout"
CYCLE = ".#XCGS"  # click order
COLOURS = {".": "#f4f4f4", "#": "#4a4f5a", "X": "#d9534f", "C": "#f0ad4e", "G": "#5cb85c", "S": "#5b8def"}
NAMES = {".": "free", "#": "wall", "X": "pit (ends the episode)", "C": "cliff (back to start)", "G": "goal",
         "S": "start"}


def default_layout() -> list[str]:
    from studio.train.recipes.rl import DEFAULT_GRID

    return list(DEFAULT_GRID)


def _grid(training: dict) -> dict:
    grid = training.get("rl", {}).get("grid", {})
    return grid if isinstance(grid, dict) else {}


def current_layout(training: dict) -> list[str]:
    layout = _grid(training).get("layout")
    return list(layout) if isinstance(layout, list) and layout else default_layout()


def current_rewards(training: dict) -> dict[tuple[int, int], float]:
    return {(int(r), int(c)): float(v) for r, c, v in _grid(training).get("cell_rewards", [])}


def current_teleports(training: dict) -> dict[tuple[int, int], tuple[int, int, float]]:
    return {(int(r), int(c)): (int(tr), int(tc), float(v)) for r, c, tr, tc, v in _grid(training).get("teleports", [])}


def check_layout(rows: list[str], continuing: bool = False) -> str | None:
    """Why this grid cannot be trained on, or None."""
    text = "".join(rows)
    if text.count("S") != 1:
        return "the grid needs exactly one start (S)"
    if "G" not in text and not continuing:
        return "the grid needs at least one goal (G), or a continuing task"
    return None


def resized_input(shape: list, old: tuple[int, int], new: tuple[int, int]) -> list | None:
    """The Q-network Input shape for a grid resized from ``old`` to ``new`` (None: it does not depend on it)."""
    (h, w), (nh, nw) = old, new
    if list(shape) == [h * w]:
        return [nh * nw]
    if len(shape) == 3 and list(shape[1:]) == [h, w]:
        return [shape[0], nh, nw]
    return None


class GridCanvas(QWidget):
    """The editable grid; emits ``changed`` after each click."""

    changed = Signal()

    selected_changed = Signal()

    def __init__(self, rows: list[str], parent: QWidget | None = None,
                 rewards: dict[tuple[int, int], float] | None = None,
                 teleports: dict[tuple[int, int], tuple[int, int, float]] | None = None) -> None:
        super().__init__(parent)
        self.rows = [list(r) for r in rows]
        self.rewards = dict(rewards or {})
        self.teleports = dict(teleports or {})
        self.selected: tuple[int, int] | None = None
        self.setMinimumSize(240, 240)

    def layout_rows(self) -> list[str]:
        return ["".join(r) for r in self.rows]

    def resize_grid(self, height: int, width: int) -> None:
        rows = [r[:width] + ["."] * (width - len(r)) for r in self.rows[:height]]
        rows += [["."] * width for _ in range(height - len(rows))]
        self.rows = rows
        inside = lambda rc: rc[0] < height and rc[1] < width  # noqa: E731
        self.rewards = {rc: v for rc, v in self.rewards.items() if inside(rc)}
        self.teleports = {rc: t for rc, t in self.teleports.items() if inside(rc) and inside(t[:2])}
        if self.selected is not None and not inside(self.selected):
            self.selected = None
            self.selected_changed.emit()
        self.update()
        self.changed.emit()

    def set_reward(self, cell: tuple[int, int], value: float) -> None:
        if value:
            self.rewards[cell] = float(value)
        else:
            self.rewards.pop(cell, None)
        self.update()
        self.changed.emit()

    def set_teleport(self, cell: tuple[int, int], target: tuple[int, int, float] | None) -> None:
        if target is None:
            self.teleports.pop(cell, None)
        else:
            self.teleports[cell] = target
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
        if cell is None:
            return
        if event.button() == Qt.MouseButton.LeftButton:
            self.cycle(*cell)
        elif event.button() == Qt.MouseButton.RightButton:
            self.selected = cell
            self.update()
            self.selected_changed.emit()

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
                if (r, c) in self.rewards:
                    painter.setPen(QColor("#1b5e20") if self.rewards[(r, c)] > 0 else QColor("#b71c1c"))
                    painter.drawText(rect.adjusted(2, 1, -2, -1), Qt.AlignmentFlag.AlignBottom
                                     | Qt.AlignmentFlag.AlignRight, f"{self.rewards[(r, c)]:+g}")
        for (r, c), (tr, tc, reward) in self.teleports.items():
            a, b = self._cell_rect(r, c).center(), self._cell_rect(tr, tc).center()
            painter.setPen(QPen(QColor("#ff8c00"), 3))
            painter.drawLine(a, b)
            painter.setBrush(QColor("#ff8c00"))
            painter.drawEllipse(b, 4, 4)
            painter.drawText(QRectF(a.x() - 30, a.y() - 20, 60, 16), Qt.AlignmentFlag.AlignCenter, f"{reward:+g}")
        if self.selected is not None:
            painter.setPen(QPen(QColor("#1e88e5"), 3))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self._cell_rect(*self.selected).adjusted(2, 2, -2, -2))
        painter.end()


class CellPanel(QGroupBox):
    """What a right-clicked cell does besides its kind: a reward on entering it, or a teleport."""

    def __init__(self, canvas: GridCanvas) -> None:
        super().__init__("Selected cell (right-click a cell)")
        self.canvas = canvas
        self.reward = QDoubleSpinBox()
        self.reward.setRange(-1e6, 1e6)
        self.reward.setDecimals(2)
        self.reward.setToolTip("Paid every time the agent enters this cell")
        self.teleport = QCheckBox("Teleport: any move jumps to")
        self.to_row, self.to_col = QSpinBox(), QSpinBox()
        for box, label in ((self.to_row, "row "), (self.to_col, "column ")):
            box.setPrefix(label)
            box.setRange(1, 20)
        self.jump_reward = QDoubleSpinBox()
        self.jump_reward.setRange(-1e6, 1e6)
        self.jump_reward.setPrefix("reward ")
        target = QHBoxLayout()
        for w in (self.to_row, self.to_col, self.jump_reward):
            target.addWidget(w)
        form = QFormLayout(self)
        self.where = QLabel("none")
        form.addRow("Cell", self.where)
        form.addRow("Reward on entering", self.reward)
        form.addRow(self.teleport)
        form.addRow(target)
        self.reward.valueChanged.connect(self._reward)
        for w in (self.teleport, self.to_row, self.to_col, self.jump_reward):
            (w.toggled if w is self.teleport else w.valueChanged).connect(self._teleport)
        canvas.selected_changed.connect(self.show_cell)
        self._showing = False
        self.show_cell()

    def show_cell(self) -> None:
        cell = self.canvas.selected
        self.setEnabled(cell is not None)
        if cell is None:
            self.where.setText("none")
            return
        self._showing = True
        self.where.setText(f"row {cell[0] + 1}, column {cell[1] + 1}")
        self.reward.setValue(self.canvas.rewards.get(cell, 0.0))
        tele = self.canvas.teleports.get(cell)
        self.teleport.setChecked(tele is not None)
        self.to_row.setMaximum(len(self.canvas.rows))
        self.to_col.setMaximum(len(self.canvas.rows[0]))
        if tele is not None:
            self.to_row.setValue(tele[0] + 1)
            self.to_col.setValue(tele[1] + 1)
            self.jump_reward.setValue(tele[2])
        self._showing = False

    def _reward(self, value: float) -> None:
        if not self._showing and self.canvas.selected is not None:
            self.canvas.set_reward(self.canvas.selected, value)

    def _teleport(self, *_args) -> None:
        if self._showing or self.canvas.selected is None:
            return
        target = (self.to_row.value() - 1, self.to_col.value() - 1, self.jump_reward.value()) \
            if self.teleport.isChecked() else None
        self.canvas.set_teleport(self.canvas.selected, target)


class GridEditorDialog(QDialog):
    """Size spin boxes, the clickable grid, per-cell rewards and teleports, and Apply (one undo step)."""

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit the gridworld")
        self.document = document
        training = document.project.training
        rows = current_layout(training)
        self.canvas = GridCanvas(rows, self, current_rewards(training), current_teleports(training))
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
        legend = QLabel("Click a cell to cycle: " + " → ".join(NAMES[k] for k in CYCLE)
                        + ". Right-click a cell for its reward or a teleport.")
        legend.setWordWrap(True)
        self.cell_panel = CellPanel(self.canvas)
        self.status = QLabel()
        self.status.setStyleSheet("color: #d9534f")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.RestoreDefaults)
        self.apply_button = buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.clicked.connect(self.apply)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        buttons.rejected.connect(self.reject)
        body = QHBoxLayout()
        body.addWidget(self.canvas, 1)
        body.addWidget(self.cell_panel)
        layout = QVBoxLayout(self)
        layout.addLayout(size_row)
        layout.addLayout(body, 1)
        layout.addWidget(legend)
        layout.addWidget(self.status)
        layout.addWidget(buttons)
        self.canvas.changed.connect(self._check)
        self._check()

    @property
    def continuing(self) -> bool:
        return bool(_grid(self.document.project.training).get("continuing", False))

    def _check(self) -> None:
        problem = check_layout(self.canvas.layout_rows(), self.continuing)
        self.status.setText(problem or "")
        self.apply_button.setEnabled(problem is None)

    def restore_defaults(self) -> None:
        rows = default_layout()
        self.canvas.rows = [list(r) for r in rows]
        self.canvas.rewards, self.canvas.teleports, self.canvas.selected = {}, {}, None
        for box, value in ((self.height_box, len(rows)), (self.width_box, len(rows[0]))):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self.canvas.update()
        self.cell_panel.show_cell()
        self._check()

    def edit(self) -> Batch | None:
        """The undoable change Apply makes (None when nothing changed)."""
        training = self.document.project.training
        rows = self.canvas.layout_rows()
        old_rows = current_layout(training)
        ops: list = []
        if rows != old_rows:
            ops.append(SetTraining(KEY, rows))
        rewards = [[r, c, v] for (r, c), v in sorted(self.canvas.rewards.items())]
        if self.canvas.rewards != current_rewards(training):
            ops.append(SetTraining("rl.grid.cell_rewards", rewards))
        teleports = [[r, c, tr, tc, v] for (r, c), (tr, tc, v) in sorted(self.canvas.teleports.items())]
        if self.canvas.teleports != current_teleports(training):
            ops.append(SetTraining("rl.grid.teleports", teleports))
        old_size, new_size = (len(old_rows), len(old_rows[0])), (len(rows), len(rows[0]))
        if old_size != new_size:
            ops += self._resized_inputs(old_size, new_size)
        return Batch(ops, label="Edit gridworld") if ops else None

    def _resized_inputs(self, old: tuple[int, int], new: tuple[int, int]) -> list:
        """The Q-network follows the grid: an Input sized by the old grid is resized with it."""
        project = self.document.project
        name = project.training.get("graph") or (project.graphs[0].name if project.graphs else "")
        ops = []
        for graph in project.graphs:
            if graph.name != name:
                continue
            for node in graph.nodes.values():
                if node.type_id == "io.input":
                    shape = resized_input(list(node.params.get("shape") or []), old, new)
                    if shape is not None:
                        ops.append(SetParam(graph.id, node.id, "shape", shape))
        return ops

    def apply(self) -> None:
        if check_layout(self.canvas.layout_rows(), self.continuing) is None:
            change = self.edit()
            if change is not None:
                self.document.push(change)
            self.accept()
