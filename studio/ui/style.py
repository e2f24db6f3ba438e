"""Colours shared by the canvas and the panels: one hue per node category, theme aware."""

from __future__ import annotations

from PySide6.QtGui import QColor

CATEGORY_HUES: dict[str, int] = {
    "Input / Output": 140,
    "Dense": 210,
    "Convolution": 265,
    "Pooling": 290,
    "Normalisation": 180,
    "Activation": 35,
    "Shape": 55,
    "Merge": 0,
    "Sequence": 320,
    "Attention": 340,
    "Pretrained": 100,
    "Functional": 60,
}


def category_color(category: str, dark: bool = True) -> QColor:
    """The accent colour of a node category (stable for unknown categories too)."""
    hue = CATEGORY_HUES.get(category)
    if hue is None:
        hue = sum(map(ord, category)) * 37 % 360
    return QColor.fromHsv(hue, 150 if dark else 170, 200 if dark else 190)
