"""What the screenshot scripts check on every picture: controls cut off, text elided, run controls off screen.

Kept apart from the scripts so each of them (panels, presentation, live views) reports the same problems in
the same words: ``layout_problems(root)`` returns one line per problem, empty when the screen is clean.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QSlider,
    QStyle,
    QStyleOptionComboBox,
    QTabBar,
    QWidget,
)

#: widgets whose being cut off a user notices (containers may overhang harmlessly)
LEAVES = (QLabel, QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QProgressBar, QSlider)
_RICH = re.compile(r"<[a-zA-Z/!][^>]*>|&[a-z#0-9]+;")  # what Qt's AutoText takes for rich text
RUN_CONTROLS = ("train_button", "pause_button", "stop_button", "progress")


def wait(app, cond: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Process events until ``cond()`` holds or ``timeout`` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents()
        if cond():
            return True
        time.sleep(0.01)
    return False


def parse_size(text: str) -> tuple[int, int]:
    """'1280x720' -> (1280, 720)."""
    w, h = text.lower().split("x")
    return int(w), int(h)


def clipped(panel) -> list[str]:
    """The run controls (Train / Pause / Stop, progress) not wholly on screen without scrolling."""
    out = []
    for name in RUN_CONTROLS:
        widget = getattr(panel, name)
        region = widget.visibleRegion().boundingRect()
        if not widget.isVisible() or region.size() != widget.rect().size():
            out.append(f"{name} not fully visible")
    return out


def _scrolled(widget: QWidget, root: QWidget) -> bool:
    """True when the widget sits inside a scroll area below ``root``: being out of view there is scrolling."""
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _name(widget: QWidget) -> str:
    text = widget.text() if hasattr(widget, "text") and callable(widget.text) else ""
    text = " ".join(str(text).split())
    if len(text) > 40:
        text = text[:38] + "…"
    kind = type(widget).__name__
    return f"{kind} '{text}'" if text else (f"{kind} {widget.objectName()}" if widget.objectName() else kind)


def _label_needs(label: QLabel) -> tuple[int, int] | None:
    """(width, height) the label's text needs at its width, None for labels that draw no text."""
    text = label.text()
    if not text or label.pixmap() is not None and not label.pixmap().isNull():
        return None
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and _RICH.search(text) is not None)
    inner = label.contentsRect().width() - 2 * max(label.margin(), 0)
    if rich:
        doc = QTextDocument()
        doc.setDefaultFont(label.font())
        doc.setHtml(text)
        doc.setDocumentMargin(0)
        if label.wordWrap():
            doc.setTextWidth(max(inner, 1))
            return int(doc.idealWidth()), int(doc.size().height())
        return int(doc.idealWidth()), int(doc.size().height())
    metrics = label.fontMetrics()
    if label.wordWrap():
        rect = metrics.boundingRect(QRect(0, 0, max(inner, 1), 100000), int(Qt.TextFlag.TextWordWrap), text)
        return rect.width(), rect.height()
    lines = text.split("\n")
    return max(metrics.horizontalAdvance(line) for line in lines), metrics.lineSpacing() * len(lines)


def layout_problems(root: QWidget) -> list[str]:
    """One line per visible control cut off by its parent, text wider or taller than its label, or a
    button narrower than its text needs; scroll areas' contents may be scrolled out of view."""
    out: list[str] = []
    frame = QRect(QPoint(0, 0), root.size())
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, LEAVES) or not widget.isVisible() or min(widget.width(), widget.height()) <= 1:
            continue
        region = widget.visibleRegion()
        scrolled = _scrolled(widget, root)
        if region.isEmpty():
            continue  # behind another page, or scrolled out of view
        full = widget.rect()
        box = QRect(widget.mapTo(root, QPoint(0, 0)), widget.size())
        if not scrolled and region.boundingRect() != full:
            seen = region.boundingRect()
            out.append(f"{_name(widget)} cut off: {seen.width()}x{seen.height()} of {full.width()}x{full.height()} "
                       f"px shown at ({box.x()},{box.y()})")
            continue
        if not frame.contains(box) and not scrolled:
            out.append(f"{_name(widget)} outside the window at ({box.x()},{box.y()})")
            continue
        if isinstance(widget, QLabel):
            needs = _label_needs(widget)
            if needs is None:
                continue
            w, h = needs
            inner = widget.contentsRect()
            if not widget.wordWrap() and w > inner.width() + 2:
                out.append(f"{_name(widget)} elided: text needs {w} px, has {inner.width()}")
            elif h > inner.height() + 2 and widget.height() < widget.maximumHeight():
                out.append(f"{_name(widget)} cut: text needs {h} px high, has {inner.height()}")
        elif isinstance(widget, QComboBox) and widget.currentText() and not widget.isEditable():
            opt = QStyleOptionComboBox()
            widget.initStyleOption(opt)
            room = widget.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                                 QStyle.SubControl.SC_ComboBoxEditField, widget).width()
            needs = widget.fontMetrics().horizontalAdvance(widget.currentText())
            if needs > room + 2:
                out.append(f"QComboBox '{widget.currentText()}' elided: text needs {needs} px, has {room}")
        elif isinstance(widget, QAbstractButton) and widget.text():
            if widget.width() + 1 < widget.minimumSizeHint().width():
                out.append(f"{_name(widget)} squeezed: {widget.width()} < {widget.minimumSizeHint().width()} px")
    for bar in root.findChildren(QTabBar):
        if bar.isVisible() and not bar.visibleRegion().isEmpty() and not bar.usesScrollButtons():
            for i in range(bar.count()):
                if bar.tabRect(i).right() > bar.width() + 1:
                    out.append(f"tab '{bar.tabText(i)}' cut off")
    return out


def tile_problems(root: QWidget) -> list[str]:
    """Captions and texts the live views' tile grids had to cut (they know it when they draw)."""
    from studio.ui.training.tiles import TileGrid

    out = []
    for grid in root.findChildren(TileGrid):
        if grid.isVisible() and not grid.visibleRegion().isEmpty():
            out += [f"{grid.title or 'tiles'}: {what}" for what in grid.clipped[:3]]
    return out


def settled_problems(app, window: QWidget, panel=None, first: float = 0.3, more: float = 1.2) -> list[str]:
    """``screen_problems`` once the layout has settled: a problem seen after ``first`` seconds is looked at again
    ``more`` seconds later (a form being rebuilt is squeezed for a moment), and only what stays is reported."""
    wait(app, lambda: False, first)
    found = screen_problems(window, panel)
    if found:
        wait(app, lambda: False, more)
        found = screen_problems(window, panel)
    return found


def screen_problems(window: QWidget, panel=None) -> list[str]:
    """Everything the scripts report for one picture of ``window`` (with its training ``panel``)."""
    return (clipped(panel) if panel is not None else []) + layout_problems(window) + tile_problems(window)
