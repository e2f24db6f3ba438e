"""A table editor for a list-of-records setting (the gridworld's cell rewards and teleports, any list of
models in the schema): one row per record, one column per record field, Add row / Remove row.

Every edit is checked before anything is stored: the typed text by its column's kind, then the whole
list by the schema (bounds, whole numbers, cells inside the grid). A refused edit stays in the table,
its cell outlined, with the reason under the table; nothing reaches the project until it is fixed.
An accepted edit (a changed cell, an added or removed row) is handed on as the whole new list, which
the panel stores as one undo step.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.train.settings_form import SettingField

BAD = QColor(225, 29, 72, 90)
_KEYED = re.compile(r"^training setting '([^']*)': (.*)$")


class RecordsEditor(QWidget):
    """Edits ``field`` (kind ``records``); ``check(key, value)`` says why a list cannot be stored."""

    #: the whole new list, after the schema accepted it
    edited = Signal(object)

    def __init__(self, field: SettingField, check: Callable[[str, Any], str | None],
                 report: Callable[[str | None], None], parse: Callable[[SettingField, str], Any]) -> None:
        super().__init__()
        self.field_spec = field
        self._check, self._report, self._parse = check, report, parse
        self.columns = list(field.columns)
        self.records: list[Any] = []  # what the table shows (may hold a refused edit)
        self._problem: str | None = None
        self.bad: tuple[int, int] | None = None  # the cell a refusal points at
        self._syncing = False
        self.table = QTableWidget(0, len(self.columns))
        # two-word titles on two lines: five columns stay readable in a narrow dock
        self.table.setHorizontalHeaderLabels([c.label.replace(" ", "\n", 1) for c in self.columns])
        for i, c in enumerate(self.columns):
            self.table.horizontalHeaderItem(i).setToolTip(c.help or c.label)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # shared out by title width (resizeEvent)
        header.setMinimumSectionSize(20)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header.setStyleSheet("QHeaderView::section { padding: 1px 2px; }")
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemChanged.connect(self._cell_changed)
        self.add_button = QPushButton("Add row")
        self.add_button.setToolTip(f"Add a row to {field.label.lower()} (checked before it is stored)")
        self.add_button.clicked.connect(self.add_row)
        self.remove_button = QPushButton("Remove row")
        self.remove_button.setToolTip("Remove the selected row (the last one when none is selected)")
        self.remove_button.clicked.connect(self.remove_row)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.table)
        lay.addLayout(buttons)
        self._fit()

    # -- value -> table -----------------------------------------------------------------------------
    def set_records(self, value: Any) -> None:
        """Show the stored list (after an edit, an undo, another project); a pending refusal is dropped."""
        self.records = copy.deepcopy(list(value or []))
        self.bad, self._problem = None, None
        self._fill()

    def _value(self, record: Any, col: int) -> Any:
        c = self.columns[col]
        if self.field_spec.positional:
            return record[col] if isinstance(record, list | tuple) and col < len(record) else c.default
        return record.get(c.key, c.default) if isinstance(record, dict) else c.default

    def _fill(self) -> None:
        self._syncing = True
        try:
            self.table.setRowCount(len(self.records))
            for r, record in enumerate(self.records):
                for col, c in enumerate(self.columns):
                    value = self._value(record, col)
                    text = f"{float(value):g}" if c.kind == "float" and isinstance(value, int | float) else str(value)
                    item = QTableWidgetItem(text)
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    item.setToolTip(c.help or c.label)
                    item.setBackground(QBrush(BAD) if self.bad == (r, col) else QBrush())
                    self.table.setItem(r, col, item)
        finally:
            self._syncing = False
        self.remove_button.setEnabled(bool(self.records))
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Share the table's width out in proportion to each column's title, so none is clipped first."""
        super().resizeEvent(event)
        metrics = self.table.horizontalHeader().fontMetrics()
        needs = [max(metrics.horizontalAdvance(line) for line in c.label.replace(" ", "\n", 1).split("\n")) + 8
                 for c in self.columns]
        room = self.table.viewport().width()
        scale = room / max(1, sum(needs))
        widths = [int(n * scale) for n in needs]
        widths[-1] += room - sum(widths)
        for col, w in enumerate(widths):
            self.table.setColumnWidth(col, w)

    def _fit(self) -> None:
        """Tall enough for the rows (up to six, then it scrolls), never taller."""
        rows = min(max(len(self.records), 1), 6)
        lines = 2 if any(" " in c.label for c in self.columns) else 1
        header = max(self.table.horizontalHeader().sizeHint().height(), lines * self.fontMetrics().height() + 6)
        self.table.setFixedHeight(header + rows * self.table.verticalHeader().defaultSectionSize() + 4)

    # -- user -> value ------------------------------------------------------------------------------
    def _set(self, record: Any, col: int, value: Any) -> Any:
        c = self.columns[col]
        if self.field_spec.positional:
            out = list(record) if isinstance(record, list | tuple) else [x.default for x in self.columns]
            out[col] = value
            return out
        out = dict(record) if isinstance(record, dict) else {x.key: x.default for x in self.columns}
        out[c.key] = value
        return out

    def _cell_changed(self, item: QTableWidgetItem) -> None:
        if self._syncing:
            return
        r, col = item.row(), item.column()
        c = self.columns[col]
        try:
            value = self._parse(c, item.text())
        except ValueError as exc:
            self._refuse((r, col), f"entry {r + 1}, {c.label}: {exc}")
            return
        candidate = list(self.records)
        candidate[r] = self._set(candidate[r], col, value)
        self.records = candidate
        self._offer(candidate)

    def type_cell(self, row: int, col: int, text: str) -> str | None:
        """Type ``text`` into a cell as a user would; returns the refusal shown, if any."""
        self.table.item(row, col).setText(text)
        return self.problem

    def add_row(self) -> str | None:
        """Append a record of the columns' defaults; returns the refusal shown, if any."""
        default = [c.default for c in self.columns] if self.field_spec.positional else \
            {c.key: c.default for c in self.columns}
        self.records = [*self.records, default]
        self._fill()
        self.table.selectRow(len(self.records) - 1)
        return self._offer(self.records)

    def remove_row(self) -> str | None:
        if not self.records:
            return None
        rows = self.table.selectionModel().selectedRows()
        at = rows[0].row() if rows else len(self.records) - 1
        self.records = self.records[:at] + self.records[at + 1:]
        self.bad = None
        self._fill()
        return self._offer(self.records)

    def _offer(self, candidate: list[Any]) -> str | None:
        problem = self._check(self.field_spec.key, candidate)
        if problem is not None:
            self._refuse(self._cell_of(problem), self._words(problem))
            return self.problem
        self.bad = None
        self.report(None)
        self._paint()
        self.edited.emit(copy.deepcopy(candidate))
        return None

    # -- refusals -----------------------------------------------------------------------------------
    def _cell_of(self, problem: str) -> tuple[int, int] | None:
        """The cell a schema refusal names (``<key>.<row>.<field>``), when it names one."""
        m = _KEYED.match(problem)
        if not m or not m.group(1).startswith(self.field_spec.key + "."):
            return None
        parts = m.group(1)[len(self.field_spec.key) + 1:].split(".")
        if not parts[0].isdigit():
            return None
        names = [c.key for c in self.columns]
        col = names.index(parts[1]) if len(parts) > 1 and parts[1] in names else 0
        return int(parts[0]), col

    @staticmethod
    def _words(problem: str) -> str:
        m = _KEYED.match(problem)
        return m.group(2) if m else problem

    def _refuse(self, cell: tuple[int, int] | None, reason: str) -> None:
        self.bad = cell
        self.report(reason)
        self._paint()

    def _paint(self) -> None:
        self._syncing = True
        try:
            for r in range(self.table.rowCount()):
                for col in range(self.table.columnCount()):
                    item = self.table.item(r, col)
                    if item is not None:
                        item.setBackground(QBrush(BAD) if self.bad == (r, col) else QBrush())
        finally:
            self._syncing = False

    @property
    def problem(self) -> str | None:
        """The reason the last edit was refused (None after an accepted one)."""
        return self._problem

    def report(self, message: str | None) -> None:
        self._problem = message
        self._report(message)
