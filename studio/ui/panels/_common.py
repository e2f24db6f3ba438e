"""Small helpers shared by the panels: theme-aware colours, number formatting, debouncing."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QObject, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QWidget

from studio.ui.style import category_color


def is_dark(widget: QWidget | None = None) -> bool:
    """Whether the palette in use is a dark one (window colour darker than mid grey)."""
    palette = widget.palette() if widget is not None else QPalette()
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def error_color(widget: QWidget | None = None) -> QColor:
    """Red that stays readable on both dark and light windows."""
    return QColor("#ff7b72") if is_dark(widget) else QColor("#c62828")


def warning_color(widget: QWidget | None = None) -> QColor:
    return QColor("#e3b341") if is_dark(widget) else QColor("#9a6700")


def dim_color(widget: QWidget) -> QColor:
    """Secondary text: the palette's placeholder colour."""
    return widget.palette().color(QPalette.ColorRole.PlaceholderText)


def category_swatch(category: str, dark: bool, size: int = 12) -> QIcon:
    """A rounded square in the category colour, used as an item icon."""
    pixmap = QPixmap(QSize(size, size))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(category_color(category, dark))
    painter.drawRoundedRect(1, 1, size - 2, size - 2, 3, 3)
    painter.end()
    return QIcon(pixmap)


def format_count(n: int) -> str:
    """Parameter counts: exact with separators, plus a short form for big numbers."""
    if n >= 1_000_000_000:
        return f"{n:,} ({n / 1e9:.2f} B)"
    if n >= 1_000_000:
        return f"{n:,} ({n / 1e6:.2f} M)"
    return f"{n:,}"


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def debouncer(parent: QObject, msec: int, slot: Callable[[], None]) -> QTimer:
    """A single-shot timer: call ``.start()`` on every change, ``slot`` runs once things settle."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(msec)
    timer.timeout.connect(slot)
    return timer


_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)\.\s+(?=[A-Z(])|;\s+")


def first_sentence(text: str, limit: int = 90) -> str:
    """A short caption from a help text (abbreviations such as e.g. do not end a sentence)."""
    text = " ".join(text.split())
    match = _SENTENCE_END.search(text)
    if match:
        text = text[: match.start()] + ("." if match.group().startswith(".") else "")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
