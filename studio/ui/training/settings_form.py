"""The training settings as a form: one row per setting, grouped, generated from the settings schema.

Each row parses what the user types and checks it before anything is stored: a number above the
maximum or text that is not a number is refused *at the field* with the reason, never clamped or
dropped. A valid value is handed to the panel (``edit_requested``), which pushes one undoable
``SetTraining``. Sections fold; Advanced starts folded. While a template stage is chosen, the rows
the stage sets show the stage's value and are read-only, so the form shows what will run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.train.settings_form import SettingField


def format_number(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "float" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{float(value):.6g}"
    if kind in ("floats", "ints") and isinstance(value, list | tuple):
        return ", ".join(format_number(kind[:-1], v) for v in value)
    return str(value)


def parse_text(f: SettingField, text: str) -> Any:
    """The value ``text`` means for field ``f``; ValueError with a reason the user can act on."""
    stripped = text.strip()
    if f.kind in ("int", "float"):
        if not stripped:
            raise ValueError(f"{f.label} needs a value")
        try:
            value: float = float(stripped)
        except ValueError:
            raise ValueError(f"'{stripped}' is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"{f.label} must be a finite number")
        if f.kind == "int":
            if not value.is_integer():
                raise ValueError(f"{f.label} must be a whole number, not {stripped}")
            value = int(value)
        return value
    if f.kind in ("floats", "ints"):
        parts = [p for p in stripped.replace(",", " ").split() if p]
        out = []
        for part in parts:
            try:
                out.append(int(part) if f.kind == "ints" else float(part))
            except ValueError:
                raise ValueError(f"'{part}' is not a number (write numbers separated by commas)") from None
        return out
    return text


class Row(QWidget):
    """One setting: its editor and, under it, the reason a typed value was refused."""

    #: (key, value) the user wants stored
    edited = Signal(str, object)

    def __init__(self, f: SettingField, check: Callable[[str, Any], str | None]) -> None:
        super().__init__()
        self.field_spec = f
        self._check = check
        self._setting = False
        self.locked_by = ""
        self.editor = self._make_editor()
        tip = f.help or f.label
        self.editor.setToolTip(tip)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #e11d48;")
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        self.problem.setFont(small)
        self.problem.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        lay.addWidget(self.editor)
        lay.addWidget(self.problem)

    def _make_editor(self) -> QWidget:
        f = self.field_spec
        if f.kind == "records":
            from studio.ui.training.records_editor import RecordsEditor

            table = RecordsEditor(f, self._check, self._table_problem, parse_text)
            table.edited.connect(lambda value: self.edited.emit(f.key, value))
            return table
        if f.kind == "choice":
            box = QComboBox()
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(8)
            for c in f.choices:
                box.addItem(str(c), c)
            box.currentIndexChanged.connect(self._combo)
            return box
        if f.kind == "bool":
            check = QCheckBox()
            check.toggled.connect(lambda on: None if self._setting else self._offer(bool(on)))
            return check
        line = QLineEdit()
        line.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        line.setMinimumWidth(60)
        if f.minimum is not None or f.maximum is not None:
            lo = "" if f.minimum is None else format_number(f.kind, f.minimum)
            hi = "" if f.maximum is None else format_number(f.kind, f.maximum)
            line.setPlaceholderText(f"{lo} … {hi}")
        line.textEdited.connect(self._typing)
        line.editingFinished.connect(self._commit)
        return line

    # -- user -> value ------------------------------------------------------------------------
    def _combo(self, index: int) -> None:
        if not self._setting and index >= 0:
            self._offer(self.editor.itemData(index))

    def reason(self, text: str) -> str | None:
        """Why ``text`` cannot be stored (None when it can)."""
        try:
            value = parse_text(self.field_spec, text)
        except ValueError as exc:
            return str(exc)
        return self._check(self.field_spec.key, value)

    def _typing(self, text: str) -> None:
        self.show_problem(self.reason(text))

    def _commit(self) -> None:
        if self._setting or not isinstance(self.editor, QLineEdit):
            return
        text = self.editor.text()
        problem = self.reason(text)
        self.show_problem(problem)
        if problem is None:
            self.edited.emit(self.field_spec.key, parse_text(self.field_spec, text))

    def type_text(self, text: str) -> str | None:
        """Type ``text`` and press Enter, as a user would; returns the refusal shown, if any."""
        self.editor.setFocus()
        self.editor.setText(text)
        self._typing(text)
        self._commit()
        return self.problem_text()

    def _offer(self, value: Any) -> None:
        problem = self._check(self.field_spec.key, value)
        self.show_problem(problem)
        if problem is None:
            self.edited.emit(self.field_spec.key, value)

    # -- value -> widget ----------------------------------------------------------------------
    def _table_problem(self, message: str | None) -> None:
        """A records table shows a refusal at its cell and the reason here; the table keeps its own frame."""
        self.problem.setText(message or "")
        self.problem.setVisible(bool(message))

    def set_value(self, value: Any) -> None:
        self._setting = True
        try:
            e = self.editor
            if self.field_spec.kind == "records":
                e.set_records(value)
                self._table_problem(None)
            elif isinstance(e, QComboBox):
                index = e.findData(value)
                if index < 0:
                    e.addItem(str(value), value)
                    index = e.count() - 1
                e.setCurrentIndex(index)
            elif isinstance(e, QCheckBox):
                e.setChecked(bool(value))
            elif not (e.hasFocus() and self.problem_text()):
                text = format_number(self.field_spec.kind, value)
                if e.text() != text:
                    e.setText(text)
                self.show_problem(None)
        finally:
            self._setting = False

    def value_text(self) -> str:
        e = self.editor
        if self.field_spec.kind == "records":
            return str(e.records)
        if isinstance(e, QComboBox):
            return e.currentText()
        if isinstance(e, QCheckBox):
            return str(e.isChecked())
        return e.text()

    def lock(self, by: str) -> None:
        """Read-only because a stage sets this value ('' unlocks)."""
        self.locked_by = by
        self.editor.setEnabled(not by)
        f = self.field_spec
        self.editor.setToolTip(f"Set by the stage '{by}' for its runs; choose 'Project as it is' to edit the "
                               f"project's value.\n\n{f.help}" if by else (f.help or f.label))

    def show_problem(self, message: str | None) -> None:
        self.problem.setText(message or "")
        self.problem.setVisible(bool(message))
        self.editor.setStyleSheet("border: 2px solid #e11d48;" if message else "")

    def problem_text(self) -> str:
        return self.problem.text() if not self.problem.isHidden() else ""


class Section(QWidget):
    """A titled, foldable group of rows."""

    def __init__(self, title: str, folded: bool) -> None:
        super().__init__()
        self.title = title
        self.header = QToolButton()
        self.header.setText(title)
        self.header.setCheckable(True)
        self.header.setChecked(not folded)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setStyleSheet("QToolButton { border: none; font-weight: bold; }")
        self.header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.body = QWidget()
        self.form = QFormLayout(self.body)
        self.form.setContentsMargins(8, 0, 0, 4)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.header)
        lay.addWidget(self.body)
        self.header.toggled.connect(self.set_open)
        self.set_open(not folded)

    def set_open(self, on: bool) -> None:
        self.header.setChecked(on)
        self.header.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.body.setVisible(on)

    @property
    def is_open(self) -> bool:
        return self.header.isChecked()


class SettingsForm(QWidget):
    """Sections of rows for a list of :class:`SettingField`; rebuilt when the list changes (another paradigm)."""

    edit_requested = Signal(str, object)

    def __init__(self, check: Callable[[str, Any], str | None]) -> None:
        super().__init__()
        self._check = check
        self.rows: dict[str, Row] = {}
        self.sections: dict[str, Section] = {}
        self.extra: dict[str, QWidget] = {}  # key -> a widget placed after that row (e.g. Edit grid…)
        self._signature: tuple = ()
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(0, 0, 0, 0)
        self.lay.setSpacing(4)

    def set_fields(self, fields: list[SettingField], extras: dict[str, QWidget] | None = None) -> bool:
        """Show these fields (grouped in their order of first appearance); False when nothing changed."""
        signature = tuple(fields)
        if signature == self._signature:
            return False
        self._signature = signature
        folded = {title: not s.is_open for title, s in self.sections.items()}
        for widget in [*self.extra.values(), *(extras or {}).values()]:
            widget.hide()  # extras belong to the caller: keep them out of the sections deleted below
            widget.setParent(self)
        for section in self.sections.values():
            section.setParent(None)
            section.deleteLater()
        self.rows, self.sections, self.extra = {}, {}, dict(extras or {})
        for f in fields:
            section = self.sections.get(f.group)
            if section is None:
                section = Section(f.group, folded.get(f.group, f.advanced))
                self.sections[f.group] = section
                self.lay.addWidget(section)
            row = Row(f, self._check)
            row.edited.connect(self.edit_requested)
            label = QLabel(f.label)
            label.setToolTip(f.help or f.label)
            label.setWordWrap(True)
            section.form.addRow(label, row)
            self.rows[f.key] = row
            extra = (extras or {}).get(f.key)
            if extra is not None:
                section.form.addRow("", extra)
        return True

    def section_of(self, key: str) -> Section | None:
        row = self.rows.get(key)
        return next((s for s in self.sections.values() if row is not None and s.isAncestorOf(row)), None)
