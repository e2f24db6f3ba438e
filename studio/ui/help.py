"""Help > Keyboard shortcuts: every action with a shortcut, read from the window's actions, plus canvas gestures."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

GESTURES = [
    ("Space, Tab or double-click on the canvas", "Quick add: search a layer and add it at the cursor"),
    ("Drag from a port to a port", "Connect (output → input, or from a free input → output)"),
    ("Drag a wire's input end away", "Move the wire to another input, or drop it on the canvas to disconnect"),
    ("Drag a layer from the Layers panel", "Add it where you drop it"),
    ("Mouse wheel", "Zoom at the cursor"),
    ("Middle-drag, or Space + drag", "Pan"),
    ("Drag on empty canvas", "Rubber-band selection"),
    ("Shift/Ctrl + click", "Add to or remove from the selection"),
    ("Double-click a group", "Expand or collapse it"),
    ("Esc while connecting", "Cancel the connection"),
]


def shortcut_rows(window: QWidget) -> list[tuple[str, str]]:
    """(keys, what) for each action of ``window`` that has a shortcut, sorted by name, then the gestures."""
    rows = {}
    for action in window.actions():
        keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts() if not s.isEmpty()]
        if keys:
            text = action.text().replace("&", "").rstrip(".…")
            rows[text] = (", ".join(keys), text)
    return [rows[k] for k in sorted(rows)] + GESTURES


class ShortcutsDialog(QDialog):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        table = QTableWidget(len(rows), 2, self)
        table.setHorizontalHeaderLabels(["Keys", "Action"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        for i, (keys, what) in enumerate(rows):
            table.setItem(i, 0, QTableWidgetItem(keys))
            table.setItem(i, 1, QTableWidgetItem(what))
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(620, 560)
