"""Sequence pictures for the Explain tab: per-token attribution bars and an attention map, both labelled by token.

The attention map is painted with QPainter (rows: the query positions, columns: the key positions,
each labelled ``position:token``), and the row of the explained position is outlined, so the
attention of that position sits next to the attributions for it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

MAX_TICKS = 40  # more tokens than this: label every few


def token_ticks(labels: list[str]) -> list[tuple[int, str]]:
    """Axis ticks for per-token bars: every token's label, thinned out for long sequences."""
    ticks = list(enumerate(labels))
    return ticks if len(ticks) <= MAX_TICKS else ticks[:: max(1, len(ticks) // (MAX_TICKS // 2))]


def draw_token_bars(plot: pg.PlotWidget, values: np.ndarray, labels: list[str], marked: int | None) -> None:
    """One bar per token (red raises the score, blue lowers it); ``marked``: the explained position, outlined."""
    plot.clear()
    xs = np.arange(len(values))
    brushes = [pg.mkBrush(200, 60, 50) if a >= 0 else pg.mkBrush(50, 90, 200) for a in values]
    pens = [pg.mkPen("#222", width=2) if i == marked else pg.mkPen(None) for i in range(len(values))]
    plot.addItem(pg.BarGraphItem(x=xs, height=values, width=0.8, brushes=brushes, pens=pens))
    plot.getAxis("bottom").setTicks([token_ticks(labels)])
    plot.setXRange(-0.6, len(values) - 0.4, padding=0)


def heat(v: float) -> QColor:
    """0 -> white, 1 -> deep blue: weights are shares, so one colour scale reads best."""
    v = float(np.clip(v, 0.0, 1.0))
    return QColor(int(255 - 215 * v), int(255 - 170 * v), int(255 - 60 * v))


class AttentionMap(QWidget):
    """Attention weights (query × key) with token labels on both axes; one row can be outlined."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.weights: np.ndarray | None = None
        self.rows: list[str] = []
        self.cols: list[str] = []
        self.marked: int | None = None
        self.title = "Attention"
        self.setMinimumSize(240, 220)

    def set_map(self, weights: np.ndarray, rows: list[str], cols: list[str], marked: int | None = None,
                title: str = "Attention") -> None:
        self.weights = np.asarray(weights, dtype=np.float64)
        self.rows, self.cols, self.marked, self.title = list(rows), list(cols), marked, title
        self.update()

    def clear_map(self) -> None:
        self.weights = None
        self.update()

    def cell_rect(self, i: int, j: int) -> QRectF:
        """Where cell (query i, key j) is painted (tests and hover use it)."""
        left, top, side = self._geometry()
        return QRectF(left + j * side, top + i * side, side, side)

    def _geometry(self) -> tuple[float, float, float]:
        n_r, n_c = self.weights.shape if self.weights is not None else (1, 1)
        left, top, bottom = 78.0, 26.0, 40.0
        side = min((self.width() - left - 16) / n_c, (self.height() - top - bottom) / n_r)
        return left, top, max(3.0, side)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        fg = self.palette().windowText().color()
        p.setPen(fg)
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        p.drawText(QRectF(0, 2, self.width(), 20), Qt.AlignmentFlag.AlignHCenter, self.title)
        p.setFont(self.font())
        if self.weights is None:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no attention Output in this graph")
            return
        w = self.weights
        n_r, n_c = w.shape
        left, top, side = self._geometry()
        hi = float(np.nanmax(w)) if w.size else 1.0
        for i in range(n_r):
            for j in range(n_c):
                p.fillRect(self.cell_rect(i, j), heat(w[i, j] / hi if hi > 0 else 0.0))
        fm = p.fontMetrics()
        step = max(1, int(np.ceil(fm.height() / side)))
        for i in range(0, n_r, step):
            p.drawText(QRectF(0, top + i * side, left - 6, side),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self.rows[i])
        widest = max([fm.horizontalAdvance(c) for c in self.cols] + [8])
        step = max(1, int(np.ceil((widest + 4) / side)))
        for j in range(0, n_c, step):
            p.drawText(QRectF(left + j * side - side, top + n_r * side + 2, 3 * side, fm.height()),
                       Qt.AlignmentFlag.AlignHCenter, self.cols[j])
        p.drawText(QRectF(left, top + n_r * side + fm.height() + 4, n_c * side, fm.height()),
                   Qt.AlignmentFlag.AlignHCenter, "key (attended to)")
        p.save()
        p.translate(10, top + n_r * side / 2)
        p.rotate(-90)
        p.drawText(QRectF(-n_r * side / 2, -8, n_r * side, 16), Qt.AlignmentFlag.AlignHCenter, "query")
        p.restore()
        if self.marked is not None and 0 <= self.marked < n_r:
            p.setPen(QPen(QColor(34, 34, 34), 2))  # the bars' outline colour: one mark for one position
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(left, top + self.marked * side, n_c * side, side))
        p.end()
