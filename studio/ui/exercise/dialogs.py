"""Dialogs of the Exercise menu: a goal form and the palette entries to hide."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.exercises import Goal
from studio.exercises.format import ExerciseError

KINDS = {
    "output_shape": ("Output shape", "shape without batch, e.g. 10 or 1,28,28", False),
    "param_budget": ("Parameter budget", "", True),
    "require_nodes": ("Required node types", "type ids, e.g. nn.flatten, nn.dropout", False),
    "forbid_nodes": ("Forbidden node types", "type ids, e.g. nn.sigmoid", False),
    "setting": ("Training setting", "dotted key, e.g. grad_clip", True),
    "node_param": ("Node parameter", "node.param, e.g. backbone.freeze", True),
    "metric": ("Metric after training", "metric, e.g. val_accuracy", True),
}


def _value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text.strip()


def goal_from_fields(kind: str, target: str, op: str, value: str, epochs: int = 5, at: str = "best") -> Goal:
    """A :class:`Goal` from the form's words; :class:`ExerciseError` says which field is wrong."""
    target = target.strip()
    try:
        if kind == "output_shape":
            return Goal(kind=kind, shape=[int(v) for v in target.replace("×", ",").split(",") if v.strip()])
        if kind == "param_budget":
            return Goal(kind=kind, max=int(value))
        if kind in ("require_nodes", "forbid_nodes"):
            types = [t.strip() for t in target.split(",") if t.strip()]
            if not types:
                raise ExerciseError("name at least one node type")
            return Goal(kind=kind, types=types)
        if kind == "node_param":
            node, _, param = target.partition(".")
            if not param:
                raise ExerciseError("write the node and its parameter as node.param")
            return Goal(kind=kind, node=node, key=param, op=op, value=_value(value))
        if kind == "setting":
            return Goal(kind=kind, key=target, op=op, value=_value(value))
        return Goal(kind=kind, metric=target, op=op, value=float(value), epochs=epochs, at=at)
    except ValueError as exc:
        if isinstance(exc, ExerciseError):
            raise
        raise ExerciseError(f"{KINDS[kind][0]}: {str(exc).splitlines()[0]}") from None


class GoalDialog(QDialog):
    """Kind, target, comparison, value (and epochs for a metric): one goal."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add goal")
        self.kind = QComboBox(self)
        for key, (label, _hint, _v) in KINDS.items():
            self.kind.addItem(label, key)
        self.target = QLineEdit(self)
        self.op = QComboBox(self)
        self.op.addItems([">=", "<=", ">", "<", "=="])
        self.value = QLineEdit(self)
        self.epochs = QSpinBox(self)
        self.epochs.setRange(1, 1000)
        self.epochs.setValue(5)
        self.at = QComboBox(self)  # overfitting shows in the last epoch's value, not the best one
        self.at.addItem("best value within the epochs", "best")
        self.at.addItem("value after the last epoch", "last")
        self.error = QLabel(self)
        self.error.setStyleSheet("color: #ef4444")
        form = QFormLayout()
        form.addRow("Goal", self.kind)
        form.addRow("What", self.target)
        form.addRow("Compare", self.op)
        form.addRow("Value", self.value)
        form.addRow("Within epochs", self.epochs)
        form.addRow("Judge", self.at)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self._kind_changed()
        self.result_goal: Goal | None = None

    def _kind_changed(self) -> None:
        key = self.kind.currentData()
        _label, hint, has_value = KINDS[key]
        self.target.setPlaceholderText(hint)
        self.target.setEnabled(key != "param_budget")
        self.op.setEnabled(has_value and key != "param_budget")
        self.value.setEnabled(has_value)
        self.value.setPlaceholderText("maximum parameters" if key == "param_budget" else "e.g. 0.9")
        self.epochs.setEnabled(key == "metric")
        self.at.setEnabled(key == "metric")

    def goal(self) -> Goal:
        return goal_from_fields(self.kind.currentData(), self.target.text(), self.op.currentText(),
                                self.value.text(), self.epochs.value(), self.at.currentData())

    def accept(self) -> None:
        try:
            self.result_goal = self.goal()
        except ExerciseError as exc:
            self.error.setText(str(exc))  # refuse with the reason; the dialog stays open
            return
        super().accept()


class HideEntriesDialog(QDialog):
    """Every node type with a check box: checked ones are hidden from the students' palette."""

    def __init__(self, registry, hidden: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Hide palette entries")
        self.list = QListWidget(self)
        for category, specs in registry.categories().items():
            for spec in specs:
                item = QListWidgetItem(f"{category} › {spec.title}  ({spec.type_id})")
                item.setData(Qt.ItemDataRole.UserRole, spec.type_id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if spec.type_id in hidden else Qt.CheckState.Unchecked)
                self.list.addItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Checked entries are hidden from the palette:", self))
        lay.addWidget(self.list, 1)
        lay.addWidget(buttons)
        self.resize(420, 520)

    def hidden(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]
