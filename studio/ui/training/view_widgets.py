"""Plot widgets the live views and results share: a labelled matrix (confusion, attention), a scatter by
class, and small plot/legend helpers."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from studio.ui.training.gridworld import heat

CLASS_COLORS = ["#3b82f6", "#f97316", "#22c55e", "#e11d48", "#a855f7", "#14b8a6", "#eab308", "#ec4899",
                "#64748b", "#84cc16"]


def class_name(classes: list[str], k: int) -> str:
    return classes[k] if 0 <= k < len(classes) else str(k)


def _plot(title: str, x: str, y: str) -> pg.PlotWidget:
    w = pg.PlotWidget()
    item = w.getPlotItem()
    item.setTitle(title)
    item.setLabel("bottom", x)
    item.setLabel("left", y)
    item.showGrid(x=True, y=True, alpha=0.2)
    for axis in ("bottom", "left"):
        item.getAxis(axis).enableAutoSIPrefix(False)
    w.setMinimumSize(200, 140)
    from studio.ui.training.plots import theme_plot

    theme_plot(w)
    return w


def legend_text(entries: list[tuple[str, str, str]]) -> str:
    """Rich text for a legend label: (mark, colour, name) entries."""
    return "&nbsp;&nbsp; ".join(f"<span style='color:{c}'>{m}</span>&nbsp;{n.replace(' ', '&nbsp;')}"
                                for m, c, n in entries)


def with_legend(plot: QWidget, text: str = "") -> tuple[QWidget, QLabel]:
    """The plot with a legend label under it (never over the data)."""
    box = QWidget()
    lay = QVBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(1)
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    lay.addWidget(plot, 1)
    lay.addWidget(label)
    return box, label


class MatrixView(QWidget):
    """A labelled heatmap (confusion matrix or attention weights) painted with QPainter."""

    def __init__(self, title: str, row_label: str, col_label: str, counts: bool) -> None:
        super().__init__()
        self.title, self.row_label, self.col_label, self.counts = title, row_label, col_label, counts
        self.matrix: np.ndarray | None = None
        self.rows: list[str] = []
        self.cols: list[str] = []
        self.setMinimumSize(220, 200)

    def set_matrix(self, matrix: np.ndarray, rows: list[str], cols: list[str]) -> None:
        self.matrix = np.asarray(matrix, dtype=np.float64)
        self.rows, self.cols = list(rows), list(cols)
        self.update()

    def paintEvent(self, _e) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        fg = self.palette().windowText().color()
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        p.setPen(fg)
        title_h = p.fontMetrics().height() + 4  # follows the UI scale: never cut at 150 %
        p.drawText(QRectF(0, 2, self.width(), title_h), Qt.AlignmentFlag.AlignHCenter,
                   p.fontMetrics().elidedText(self.title, Qt.TextElideMode.ElideRight, self.width()))
        font.setBold(False)
        if self.matrix is None:
            p.setFont(font)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "waiting for the first evaluation")
            return
        m = self.matrix
        n_r, n_c = m.shape
        small = QFont(font)
        small.setPointSizeF(max(6.0, font.pointSizeF() * (0.85 if max(n_r, n_c) <= 12 else 0.7)))
        p.setFont(small)
        fm = p.fontMetrics()
        label_w = min(90, max([fm.horizontalAdvance(s) for s in self.rows] + [10]) + 6)
        left, top = label_w + 22, title_h + 6
        bottom_pad = fm.height() * 2 + 10
        side = min((self.width() - left - 80) / n_c, (self.height() - top - bottom_pad) / n_r)
        side = max(1.0, side)  # a 64-position attention map still fits a short dock (labels thin out below)
        if self.counts:
            norm = m / np.maximum(m.sum(1, keepdims=True), 1)  # colour by share of the true class
        else:
            hi = float(np.nanmax(m)) if m.size else 1.0
            norm = m / hi if hi > 0 else m
        for i in range(n_r):
            for j in range(n_c):
                r = QRectF(left + j * side, top + i * side, side, side)
                p.fillRect(r, heat(norm[i, j]))
                if self.counts and side >= max(16, fm.horizontalAdvance(str(int(m.max()))) + 4):
                    p.setPen(QColor("black") if norm[i, j] > 0.55 else QColor("white"))
                    p.drawText(r, Qt.AlignmentFlag.AlignCenter, str(int(m[i, j])))
        p.setPen(fg)
        step_r = max(1, int(np.ceil(fm.height() / side)))
        for i in range(0, n_r, step_r):
            p.drawText(QRectF(22, top + (i + 0.5) * side - fm.height() / 2, label_w - 4, fm.height()),
                       Qt.AlignmentFlag.AlignRight
                       | Qt.AlignmentFlag.AlignVCenter, fm.elidedText(self.rows[i] if i < len(self.rows) else str(i),
                                                                       Qt.TextElideMode.ElideRight, label_w - 4))
        gap = fm.horizontalAdvance("  ")  # labels never touch: "0:4" "1:7", not "0:41:7"
        col_w = max([fm.horizontalAdvance(s) for s in self.cols] + [8]) + gap
        step_c = max(1, int(np.ceil(col_w / side)))
        for j in range(0, n_c, step_c):  # centred under its cell, as wide as the widest label (never cut)
            p.drawText(QRectF(left + (j + 0.5) * side - col_w / 2, top + n_r * side + 2, col_w, fm.height()),
                       Qt.AlignmentFlag.AlignHCenter, self.cols[j] if j < len(self.cols) else str(j))
        p.drawText(QRectF(left, top + n_r * side + fm.height() + 4, n_c * side, fm.height()),
                   Qt.AlignmentFlag.AlignHCenter, self.col_label)
        # colour scale
        bx, bh = left + n_c * side + 10, n_r * side
        for i in range(40):
            p.fillRect(QRectF(bx, top + bh * (1 - (i + 1) / 40), 10, bh / 40 + 1), heat(i / 39))
        hi_text = "100%" if self.counts else f"{float(np.nanmax(m)):.2f}"
        p.drawText(QRectF(bx + 13, top - 2, 60, fm.height()), Qt.AlignmentFlag.AlignLeft, hi_text)
        p.drawText(QRectF(bx + 13, top + bh - fm.height(), 60, fm.height()), Qt.AlignmentFlag.AlignLeft,
                   "0%" if self.counts else "0")
        p.save()
        p.translate(10, top + n_r * side / 2)
        p.rotate(-90)
        room = max(n_r * side, fm.horizontalAdvance(self.row_label) + 4)  # the axis title may outgrow the matrix
        p.drawText(QRectF(-room / 2, -fm.height() / 2, room, fm.height()), Qt.AlignmentFlag.AlignCenter,
                   self.row_label)
        p.restore()
        p.end()


class ScatterView(QWidget):
    """Coloured 2-D points (latent space, decision regions, GAN ring samples)."""

    def __init__(self, title: str, x: str, y: str, equal_axes: bool = False) -> None:
        super().__init__()
        self.plot = _plot(title, x, y)
        self.legend = QLabel()  # a label, not pyqtgraph's LegendItem (~10 ms per entry added)
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        if equal_axes:
            self.plot.getPlotItem().setAspectLocked(True)
        self.image = pg.ImageItem()
        self.image.setZValue(-10)
        self.image.setOpacity(0.35)
        self.plot.addItem(self.image)
        self.items: list[pg.ScatterPlotItem] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.legend)

    def set_points(self, groups: list[tuple], region: dict | None = None) -> None:
        """groups: (legend name, N×2 points, colour, size[, hollow]). Items are reused while the groups stay."""
        item = self.plot.getPlotItem()
        names = [g[0] for g in groups if len(g[1])]
        if names != [sp.name() for sp in self.items]:
            for it in self.items:
                item.removeItem(it)
            self.items = []
            keys = []
            for name, _pts, color, size, *hollow in (g for g in groups if len(g[1])):
                pen, brush = (pg.mkPen(color, width=2), None) if hollow and hollow[0] else (None, pg.mkBrush(color))
                sp = pg.ScatterPlotItem(size=size, pen=pen, brush=brush, name=name)
                item.addItem(sp)
                self.items.append(sp)
                mark = "○" if hollow and hollow[0] else "●"
                keys.append(f"<span style='color:{color[:7]}'>{mark}</span>&nbsp;{name}")
            self.legend.setText("&nbsp;&nbsp; ".join(keys))
        for sp, (_name, pts, *_rest) in zip(self.items, (g for g in groups if len(g[1])), strict=False):
            sp.setData(pts[:, 0], pts[:, 1])
        if region is not None:
            grid = np.asarray(region["grid"])
            lut = np.array([QColor(CLASS_COLORS[k % len(CLASS_COLORS)]).getRgb()[:3] for k in range(int(grid.max()) + 1)],
                           np.uint8)
            x0, x1, y0, y1 = region["extent"]
            self.image.setImage(lut[grid].transpose(1, 0, 2), autoLevels=False)
            self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
            self.image.setVisible(True)
        else:
            self.image.setVisible(False)


def _by_class(points: np.ndarray, labels: np.ndarray | None, classes: list[str], size: int = 5):
    if labels is None:
        return [("samples", points, "#3b82f6", size)]
    labels = np.asarray(labels).reshape(-1)[: len(points)]
    return [(class_name(classes, int(k)), points[labels == k], CLASS_COLORS[int(k) % len(CLASS_COLORS)], size)
            for k in np.unique(labels)]
