"""The quick-add popup: type a few letters at the cursor, Enter adds the best match.

Keyboard driven: typing filters, Up/Down/PageUp/PageDown move, Enter chooses, Esc closes. The
popup knows nothing about graphs; the canvas places the node where the popup was opened.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.registry import Registry
from studio.core.spec import NodeSpec
from studio.ui.panels._common import category_swatch, first_sentence, is_dark

_TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


class QuickAddPopup(QFrame):
    """Frameless search popup over the registry; emits :attr:`chosen` with a type id."""

    chosen = Signal(str)

    def __init__(self, registry: Registry, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup | Qt.WindowType.FramelessWindowHint)
        self.registry = registry
        # a popup owned by a widget is made per use: free it when it closes (Esc, pick, click away)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, parent is not None)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFrameShadow(QFrame.Shadow.Raised)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Add node: type to search…")
        self.search.textChanged.connect(self._refresh)
        self.search.installEventFilter(self)
        self.results = QListWidget(self)
        self.results.setIconSize(QSize(10, 10))
        self.results.setUniformItemSizes(True)
        self.results.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.results.itemActivated.connect(self._choose_item)
        self.results.itemClicked.connect(self._choose_item)
        self.results.currentItemChanged.connect(self._show_description)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setMinimumHeight(self.fontMetrics().height() * 2 + 4)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.description.setForegroundRole(self.description.foregroundRole())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.description)
        em = self.fontMetrics().horizontalAdvance("M")
        self.resize(max(300, em * 26), max(320, self.fontMetrics().height() * 20))
        self._refresh("")

    # -- results ----------------------------------------------------------------------------
    def _refresh(self, text: str) -> None:
        specs: list[NodeSpec]
        if text.strip():
            specs = self.registry.search(text)
        else:
            specs = [s for group in self.registry.categories().values() for s in group]
        dark = is_dark(self)
        self.results.clear()
        for spec in specs:
            item = QListWidgetItem(category_swatch(spec.category, dark, 10), f"{spec.title}    ")
            item.setData(_TYPE_ROLE, spec.type_id)
            item.setToolTip(spec.description or spec.type_id)
            item.setData(Qt.ItemDataRole.StatusTipRole, spec.category)
            self.results.addItem(item)
        if specs:
            self.results.setCurrentRow(0)
        else:
            self.description.setText(f"No node type matches “{text.strip()}”.")

    def _show_description(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is None:
            return
        spec = self.registry.find(item.data(_TYPE_ROLE))
        if spec is not None:
            self.description.setText(f"<b>{spec.category}</b> · {first_sentence(spec.description or spec.type_id, 120)}")

    def result_ids(self) -> list[str]:
        return [self.results.item(i).data(_TYPE_ROLE) for i in range(self.results.count())]

    def current_type_id(self) -> str | None:
        item = self.results.currentItem()
        return None if item is None else item.data(_TYPE_ROLE)

    # -- showing ----------------------------------------------------------------------------
    def popup_at(self, global_pos: QPoint) -> None:
        """Open with an empty search at ``global_pos`` (kept on screen)."""
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._refresh("")
        screen = QGuiApplication.screenAt(global_pos) or QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else QRect(0, 0, 4096, 4096)
        x = min(max(global_pos.x(), area.left()), area.right() - self.width())
        y = min(max(global_pos.y(), area.top()), area.bottom() - self.height())
        self.move(QPoint(x, y))
        self.show()
        self.raise_()
        self.activateWindow()
        self.search.setFocus(Qt.FocusReason.PopupFocusReason)

    # -- keyboard ---------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if watched is self.search and event.type() == QEvent.Type.KeyPress and self._key(event):
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        if not self._key(event):
            super().keyPressEvent(event)

    def _key(self, event: QKeyEvent) -> bool:
        key = event.key()
        count = self.results.count()
        row = self.results.currentRow()
        page = max(1, self.results.height() // max(1, self.results.sizeHintForRow(0)) - 1) if count else 1
        moves = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1, Qt.Key.Key_PageDown: page, Qt.Key.Key_PageUp: -page}
        if key in moves:
            if count:
                self.results.setCurrentRow(min(max(row + moves[key], 0), count - 1))
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._choose_item(self.results.currentItem())
            return True
        if key == Qt.Key.Key_Escape:
            self.close()
            return True
        return False

    def _choose_item(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        type_id = item.data(_TYPE_ROLE)
        self.hide()
        self.chosen.emit(type_id)
        self.close()
