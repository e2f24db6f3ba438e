"""The embedding projector on screen: vectors as a 2-D scatter (PCA or t-SNE), a nearest-neighbour box.

:class:`ProjectorView` draws one set of vectors (a :class:`studio.analysis.projector.Source`): points
coloured by class when there are labels, the most frequent tokens written beside their points, every
point's token or class shown on hover; typing a token lists its nearest tokens by cosine similarity and
rings them on the plot. t-SNE takes seconds, so it runs on a task runner and is kept per source. The
live view of a skip-gram run and the analysis workspace's Projector tab (:class:`ProjectorTab`, every
Embedding table and latent Output of the run) both use it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from studio.analysis.projector import METHOD_LABELS, ProjectorError, Source, nearest, project_points
from studio.ui.analysis.common import Tab

COLORS = ["#3b82f6", "#f97316", "#22c55e", "#e11d48", "#a855f7", "#14b8a6", "#eab308", "#ec4899", "#64748b",
          "#84cc16"]
#: what the nearest-tokens column says before the first query (the tooltip says it in full)
HINT = "Type a token, press Enter."
WRITTEN = 25  # tokens written beside their points (spread over the plot); every point shows its own on hover


class ProjectorView(QWidget):
    """One source's vectors projected to 2-D, with a method switch and a nearest-neighbour query."""

    def __init__(self, runner=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner  # a TaskRunner for t-SNE; None computes in place (tests, tiny sets)
        self.source: Source | None = None
        self.points: dict[str, np.ndarray] = {}  # method -> N×2 for the current source
        self._pending: str | None = None
        self.method = QComboBox()
        for key, label in METHOD_LABELS.items():
            self.method.addItem(label, key)
        self.method.setToolTip("PCA: the two directions of largest variance (fast, linear). t-SNE: keeps each "
                               "point's near neighbours near (slower; distances between clusters mean little).")
        self.method.currentIndexChanged.connect(self._redraw)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.title = self.plot.getPlotItem()
        self.scatter = pg.ScatterPlotItem(size=7, hoverable=True, hoverSize=11, tip=self._tip)
        self.plot.addItem(self.scatter)
        self.rings = pg.ScatterPlotItem(size=15, pen=pg.mkPen("#111827", width=2), brush=None)
        self.plot.addItem(self.rings)
        self.texts: list[pg.TextItem] = []
        self._bounds: list | None = None  # the points' range, before the room made for their words
        self.plot.getPlotItem().getViewBox().sigResized.connect(self._room_for_words)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.query = QLineEdit()
        self.query.setPlaceholderText("a word or token, e.g. love")
        self.query.returnPressed.connect(self.find)
        self.k = QSpinBox()
        self.k.setRange(1, 50)
        self.k.setValue(10)
        self.k.setPrefix("k = ")
        self.find_button = QPushButton("Find")
        self.find_button.clicked.connect(self.find)
        self.results = QListWidget()
        # short: the column is narrow and, on a 720-line projector, about five lines tall
        self.answer = QLabel(HINT)
        self.answer.setWordWrap(True)
        self.answer.setToolTip("Type a token and press Enter: its nearest tokens by cosine similarity.")

        # the plot takes the whole height: the projection switch, its status and the legend sit in the
        # column beside it with the nearest-token query (a projector's page is ~240 px tall at 150 %)
        top = QHBoxLayout()
        top.addWidget(QLabel("Projection"))
        top.addWidget(self.method, 1)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 4, 0)
        side.addLayout(top)
        side.addWidget(self.status)
        side.addWidget(self.legend)
        self.nearest = QWidget()  # the query, for sources with tokens
        near = QVBoxLayout(self.nearest)
        near.setContentsMargins(0, 0, 0, 0)
        self.side_title = QLabel("<b>Nearest</b> (cosine similarity)")
        near.addWidget(self.side_title)
        row = QHBoxLayout()
        row.addWidget(self.query, 1)
        row.addWidget(self.k)
        near.addLayout(row)
        near.addWidget(self.find_button)
        near.addWidget(self.answer)
        # the list takes what is left: its own preferred height (~190 px) would make the column scroll early
        self.results.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.results.setMinimumHeight(60)
        near.addWidget(self.results, 1)
        side.addWidget(self.nearest, 1)
        column = QWidget()
        column.setLayout(side)
        self.side = QScrollArea()  # scrolls rather than cutting its lowest rows on a short page
        self.side.setWidget(column)
        self.side.setWidgetResizable(True)
        self.side.setFrameShape(QFrame.Shape.NoFrame)
        self.side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._fit_side()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.side)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:
            self._theme()
        elif event.type() == event.Type.FontChange:
            self._fit_side()

    def _fit_side(self) -> None:
        """The nearest-tokens column is as wide as its title at the current UI scale (230 px at 100 %)."""
        bold = QFont(self.font())
        bold.setBold(True)
        need = QFontMetricsF(bold).horizontalAdvance("Nearest (cosine similarity)") + 24
        self.side.setFixedWidth(max(230, math.ceil(need)))

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._theme()

    def _theme(self) -> None:
        """The plot in the window's colours (pyqtgraph draws black by default), tokens in its text colour."""
        pal = self.palette()
        text = pal.windowText().color()
        self.plot.setBackground(pal.base().color())
        item = self.plot.getPlotItem()
        for name in ("bottom", "left"):
            item.getAxis(name).setPen(pg.mkPen(text))
            item.getAxis(name).setTextPen(pg.mkPen(text))
        if item.titleLabel.text:
            item.titleLabel.setText(item.titleLabel.text, color=text.name())
        self.rings.setPen(pg.mkPen(text, width=2))
        for t in self.texts:
            t.setColor(text)

    # -- data ----------------------------------------------------------------------------------
    def set_source(self, source: Source, title: str = "", keep: bool = False) -> None:
        """Show ``source``. ``keep``: the same vectors after more training (live): the query and its list stay;
        PCA is redrawn at once, a t-SNE being shown is recomputed in the background (one at a time)."""
        same = keep and self.source is not None and self.source.name == source.name
        self.source = source
        self.points = {}
        self.title.setTitle(title or source.name, color=self.palette().windowText().color().name())
        self.nearest.setVisible(source.tokens is not None)
        if not same:
            self.results.clear()
        self._redraw()
        if same and self.query.text() and self.results.count():
            self.find()

    def _redraw(self) -> None:
        source = self.source
        if source is None:
            return
        method = self.method.currentData()
        if method not in self.points:
            if method == "tsne" and self.runner is not None:
                self._start_tsne()
                return
            try:
                self.points[method] = project_points(source.vectors, method)
            except ProjectorError as exc:
                self.status.setText(str(exc))
                return
        self._draw(self.points[method])

    def _start_tsne(self) -> None:
        source = self.source
        assert source is not None and self.runner is not None
        if self._pending == source.name:
            return
        self._pending = source.name
        self.status.setText(f"t-SNE of {len(source.vectors)} points…")
        vectors = source.vectors

        def done(points: np.ndarray, name: str = source.name) -> None:
            if not shiboken6.isValid(self):  # the view closed while t-SNE ran: drop the result
                return
            self._pending = None
            if self.source is not None and self.source.name == name:
                self.points["tsne"] = points
                if self.method.currentData() == "tsne":
                    self._draw(points)

        def failed(message: str) -> None:
            if not shiboken6.isValid(self):
                return
            self._pending = None
            self.status.setText(f"t-SNE failed: {message}")

        self.runner.submit(lambda: project_points(vectors, "tsne"), done, failed, name="projector-tsne")

    def _draw(self, pts: np.ndarray) -> None:
        source = self.source
        assert source is not None
        n = len(pts)
        if source.labels is not None:
            labels = np.asarray(source.labels).reshape(-1)[:n].astype(int)
            brushes = [pg.mkBrush(COLORS[k % len(COLORS)]) for k in labels]
            shown = list(dict.fromkeys(labels.tolist()))[:len(COLORS) * 2]
            self.legend.setText("&nbsp;&nbsp; ".join(
                f"<span style='color:{COLORS[k % len(COLORS)]}'>●</span>&nbsp;{_class(source, k)}" for k in sorted(shown)))
        else:
            brushes = [pg.mkBrush("#3b82f6")] * n
            self.legend.setText(f"{n} points; hover one for its token" if source.tokens else f"{n} points")
        self.scatter.setData(x=pts[:, 0], y=pts[:, 1], brush=brushes, pen=None,
                             data=[source.label(i) for i in range(n)])
        self._write(spread(pts[:200], WRITTEN) if source.tokens is not None else [])
        self.rings.setData([], [])
        method = self.method.currentData()
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "PC 1" if method == "pca" else "t-SNE 1")
        item.setLabel("left", "PC 2" if method == "pca" else "t-SNE 2")
        self.status.setText(f"{METHOD_LABELS[method]} of {n} vectors of {source.vectors.shape[1]} numbers")
        self.plot.autoRange()
        self._bounds = self.plot.getPlotItem().getViewBox().viewRange()
        self._room_for_words()
        if self.results.count() and self.query.text():
            self._ring(self.query.text())

    def _room_for_words(self) -> None:
        """Widen the view above and right of the points by a written word's size: a word sits above-right
        of its point, so the top and right-most words would otherwise be cut at the plot's edge."""
        if not self.texts:
            return
        box = self.plot.getPlotItem().getViewBox()
        if box.width() < 20 or box.height() < 20:  # not laid out yet: nothing to measure against
            return
        (x0, x1), (y0, y1) = self._bounds or box.viewRange()
        fm = QFontMetricsF(self.texts[0].textItem.font())
        near_right = [t for t in self.texts if t.pos().x() >= x1 - 0.25 * (x1 - x0)]
        wide = max((fm.horizontalAdvance(t.toPlainText()) for t in near_right), default=0.0) + 8
        tall = fm.height() + 6
        w, h = box.width(), box.height()
        if tall >= h / 2 or wide >= w / 2:
            return
        # solved for the margin in pixels after the new range's own rescale
        box.setRange(xRange=(x0, x1 + wide / (w - wide) * (x1 - x0)),
                     yRange=(y0, y1 + tall / (h - tall) * (y1 - y0)), padding=0)

    def _write(self, rows: list[int], bold: bool = False) -> None:
        """Write the tokens of ``rows`` beside their points (replacing what was written)."""
        for item in self.texts:
            self.plot.removeItem(item)
        self.texts = []
        source, method = self.source, self.method.currentData()
        if source is None or source.tokens is None or method not in self.points:
            return
        colour = self.palette().windowText().color()
        for i in rows:
            text = pg.TextItem(html=f"<b>{source.tokens[i]}</b>" if bold else None, anchor=(0, 1))
            if not bold:
                text.setText(source.tokens[i])
            text.setColor(colour)
            text.setPos(float(self.points[method][i, 0]), float(self.points[method][i, 1]))
            self.plot.addItem(text)
            self.texts.append(text)

    @staticmethod
    def _tip(x: float, y: float, data: Any) -> str:
        return str(data)

    # -- nearest neighbours ---------------------------------------------------------------------
    def find(self) -> None:
        """List the k nearest tokens of the query and ring them (and the query) on the plot."""
        self.results.clear()
        source, query = self.source, self.query.text().strip()
        if source is None or not query:
            return
        try:
            found = nearest(source, query, self.k.value())
        except ProjectorError as exc:
            self.answer.setText(str(exc))
            self.rings.setData([], [])
            return
        self.answer.setText(f"Nearest to <b>{query}</b>:")
        for token, sim in found:
            self.results.addItem(f"{token}    {sim:.3f}")
        self._ring(query, [t for t, _ in found])

    def _ring(self, query: str, tokens: list[str] | None = None) -> None:
        source, method = self.source, self.method.currentData()
        if source is None or source.tokens is None or method not in self.points:
            return
        if tokens is None:
            tokens = [self.results.item(i).text().split()[0] for i in range(self.results.count())]
        index = {t: i for i, t in enumerate(source.tokens)}
        rows = [index[t] for t in [query, *tokens] if t in index]
        pts = self.points[method][rows]
        self.rings.setData(pts[:, 0], pts[:, 1]) if len(rows) else self.rings.setData([], [])
        self._write(rows, bold=True)

    def neighbour_tokens(self) -> list[str]:
        """The tokens listed now (tests and screenshots)."""
        return [self.results.item(i).text().split()[0] for i in range(self.results.count())]


def spread(pts: np.ndarray, k: int) -> list[int]:
    """``k`` rows of ``pts`` far apart from each other (greedy farthest point, from the first row), so the
    tokens written on the plot do not pile up in its crowded middle."""
    if len(pts) == 0:
        return []
    chosen = [0]
    dist = np.linalg.norm(pts - pts[0], axis=1)
    while len(chosen) < min(k, len(pts)):
        i = int(dist.argmax())
        chosen.append(i)
        dist = np.minimum(dist, np.linalg.norm(pts - pts[i], axis=1))
    return chosen


def _class(source: Source, k: int) -> str:
    return source.classes[k] if 0 <= k < len(source.classes) else str(k)


class ProjectorTab(Tab):
    """The workspace's Projector: every Embedding table and latent Output of the run, opened on its own (the
    run need not be a classifier: a skip-gram run opens here too)."""

    def __init__(self, workspace) -> None:
        super().__init__(workspace)
        self.sources: list[Source] = []
        self.choice = QComboBox()
        self.choice.currentIndexChanged.connect(self._chosen)
        self.info = QLabel("Reading the run's Embedding tables and latent Outputs…")
        self.info.setWordWrap(True)
        self.view = ProjectorView(workspace.runner)
        top = QHBoxLayout()
        top.addWidget(QLabel("Vectors"))
        top.addWidget(self.choice, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.info)
        lay.addWidget(self.view, 1)

    def open(self, project, registry, run: str | Path) -> None:
        """Read the run's vectors in the background (independent of the other tabs' classifier view)."""
        from studio.analysis.projector import run_sources

        self.workspace.runner.submit(lambda: run_sources(project, registry, run), self._opened, self._failed,
                                     name="projector-open")

    def _opened(self, sources: list[Source]) -> None:
        self.sources = sources
        self.setEnabled(True)
        self.choice.clear()
        for s in sources:
            self.choice.addItem(f"{s.name}: {len(s.vectors)} × {s.vectors.shape[1]}")
        self.info.setText("Hover a point for what it stands for; colours are classes where the data has labels.")

    def _failed(self, message: str) -> None:
        self.info.setText(f"Nothing to project: {message}")

    def _chosen(self, i: int) -> None:
        if 0 <= i < len(self.sources):
            self.view.set_source(self.sources[i])
