"""Dark and light themes: the Qt palette for widgets plus the canvas colours.

The canvas reads its colours from :func:`current` so items repaint correctly after a switch.
High-DPI: Qt 6 scales by the screen's device pixel ratio on its own; we only make sure rounding
does not blur (``PassThrough``) and that canvas caches follow the ratio (DeviceCoordinateCache does).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class CanvasColors:
    """Colours the canvas items paint with."""

    name: str
    dark: bool
    background: QColor
    grid_minor: QColor
    grid_major: QColor
    node_body: QColor
    node_border: QColor
    node_text: QColor
    node_subtext: QColor
    selection: QColor
    error: QColor
    wire: QColor
    wire_selected: QColor
    wire_label_bg: QColor
    wire_label_text: QColor
    port: QColor
    port_ok: QColor
    port_bad: QColor
    group_fill: QColor
    group_border: QColor


DARK = CanvasColors(
    name="dark", dark=True,
    background=QColor(30, 32, 36), grid_minor=QColor(40, 43, 48), grid_major=QColor(52, 56, 62),
    node_body=QColor(46, 49, 56), node_border=QColor(20, 21, 24), node_text=QColor(236, 238, 242),
    node_subtext=QColor(168, 174, 186), selection=QColor(255, 196, 64), error=QColor(235, 72, 72),
    wire=QColor(150, 158, 172), wire_selected=QColor(255, 196, 64), wire_label_bg=QColor(24, 26, 30, 225),
    wire_label_text=QColor(200, 220, 255), port=QColor(200, 205, 215), port_ok=QColor(90, 210, 120),
    port_bad=QColor(235, 72, 72), group_fill=QColor(120, 140, 200, 28), group_border=QColor(120, 140, 200, 150),
)

LIGHT = CanvasColors(
    name="light", dark=False,
    background=QColor(244, 245, 247), grid_minor=QColor(232, 234, 238), grid_major=QColor(216, 219, 225),
    node_body=QColor(255, 255, 255), node_border=QColor(160, 166, 176), node_text=QColor(28, 30, 34),
    node_subtext=QColor(92, 98, 110), selection=QColor(230, 140, 0), error=QColor(210, 40, 40),
    wire=QColor(110, 118, 132), wire_selected=QColor(230, 140, 0), wire_label_bg=QColor(255, 255, 255, 235),
    wire_label_text=QColor(20, 60, 140), port=QColor(90, 96, 108), port_ok=QColor(30, 160, 70),
    port_bad=QColor(210, 40, 40), group_fill=QColor(70, 100, 190, 22), group_border=QColor(70, 100, 190, 140),
)

THEMES = {"dark": DARK, "light": LIGHT}
_current: CanvasColors = DARK


def current() -> CanvasColors:
    return _current


def configure_high_dpi() -> None:
    """Call before the QApplication exists: crisp fractional scaling on high-DPI screens."""
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


def apply_theme(app: QApplication, name: str) -> CanvasColors:
    """Switch widgets (Fusion + palette) and canvas colours to ``name`` ('dark' or 'light')."""
    global _current
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; choose dark or light")
    _current = THEMES[name]
    app.setStyle("Fusion")
    app.setPalette(_palette(_current))
    app.setStyleSheet(_STYLE_SHEET)
    return _current


def _palette(c: CanvasColors) -> QPalette:
    p = QPalette()
    if c.dark:
        window, base, alt, text = QColor(37, 39, 44), QColor(28, 30, 34), QColor(44, 47, 53), QColor(226, 229, 235)
        button, highlight, disabled = QColor(48, 51, 58), QColor(64, 120, 200), QColor(120, 124, 132)
    else:
        window, base, alt, text = QColor(240, 241, 244), QColor(255, 255, 255), QColor(246, 247, 249), QColor(28, 30, 34)
        button, highlight, disabled = QColor(232, 234, 238), QColor(48, 110, 200), QColor(150, 154, 160)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, alt)
    p.setColor(QPalette.ColorRole.ToolTipBase, base)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, disabled)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, button)
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor(255, 80, 80))
    p.setColor(QPalette.ColorRole.Highlight, highlight)
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.Link, highlight)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return p


_STYLE_SHEET = """
QTabBar::tab { padding: 4px 12px; }
QDockWidget::title { padding: 4px 6px; }
QToolTip { padding: 4px; }
"""
