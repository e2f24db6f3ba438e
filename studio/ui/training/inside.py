"""Looking inside a training network, and the sanity checks, as two tabs of the training panel.

- **Inside**: per-node statistics the engine sends after a step (:mod:`studio.train.inspect_stats`;
  every 20 steps, after every step while stepping or in slow motion): a sparkline of the chosen
  metric per node, its latest activation histogram and value, and the feature maps of a conv node.
  "Heat map on canvas" paints the same metric over the canvas nodes
  (:mod:`studio.ui.canvas.heat_overlay`): where does the gradient vanish?
- **Checks**: "Overfit one batch" and "LR range test" (:mod:`studio.train.sanity`) run on the task
  runner, never on the GUI thread; the range test's suggested rate is applied with one click, as
  one undo step.

:func:`attach` adds both to a training panel (its one hook).
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.train.inspect_stats import METRICS, metric_value
from studio.ui.canvas import heat_overlay
from studio.ui.tasks import TaskRunner

HISTORY = 200  # points kept per node and metric
REFRESH_S = 0.2  # the Inside tab and the canvas heat map repaint at most 5 times a second
LOG_METRICS = ("grad_norm", "update_ratio", "act_std")
ROW_H = 30


def _fmt(metric: str, v: float | None) -> str:
    if v is None:
        return "—"
    return f"{100 * v:.0f}%" if metric == "dead" else heat_overlay.fmt(v)


class SparkList(QWidget):
    """One row per node: name, sparkline of the metric over steps, activation histogram, latest value."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, str, list[float | None], Any, float | None]] = []  # label, node id, series, hist, now
        self.shown = "grad_norm"  # never "metric": QPaintDevice.metric() is what Qt paints with
        self.selected: str | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._font = QFont()
        self._font.setPixelSize(11)

    def set_rows(self, rows: list, metric: str) -> None:
        self.rows, self.shown = rows, metric
        self.setFixedHeight(max(ROW_H, ROW_H * len(rows) + 20))
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(420, self.height())

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        fg, faded = pal.windowText().color(), pal.placeholderText().color()
        p.setFont(self._font)
        fm = QFontMetricsF(self._font)
        w = self.width()
        name_w, value_w, hist_w = min(150.0, w * 0.3), 70.0, 90.0
        spark_w = max(40.0, w - name_w - value_w - hist_w - 24)
        p.setPen(faded)
        header = ((4, name_w, "node"), (name_w + 8, spark_w, METRICS.get(self.shown, self.shown) + " over steps"),
                  (name_w + spark_w + 16, hist_w, "activations"), (w - value_w - 4, value_w, "now"))
        for x, width, text in header:
            p.drawText(QRectF(x, 0, width, 18), Qt.AlignmentFlag.AlignVCenter, text)
        log = self.shown in LOG_METRICS
        for i, (label, node_id, series, hist, now) in enumerate(self.rows):
            y = 20 + i * ROW_H
            if node_id == self.selected:
                p.fillRect(QRectF(0, y, w, ROW_H), pal.highlight().color().lighter(160) if not pal.window().color()
                           .lightness() < 128 else pal.highlight().color().darker(200))
            p.setPen(fg)
            p.drawText(QRectF(4, y, name_w, ROW_H), Qt.AlignmentFlag.AlignVCenter,
                       fm.elidedText(label, Qt.TextElideMode.ElideRight, name_w))
            self._spark(p, QRectF(name_w + 8, y + 4, spark_w, ROW_H - 8), series, log)
            self._hist(p, QRectF(name_w + spark_w + 16, y + 4, hist_w, ROW_H - 8), hist)
            p.setPen(fg)
            p.drawText(QRectF(w - value_w - 4, y, value_w, ROW_H), Qt.AlignmentFlag.AlignVCenter
                       | Qt.AlignmentFlag.AlignRight, _fmt(self.shown, now))
        p.end()

    def _spark(self, p: QPainter, box: QRectF, series: list[float | None], log: bool) -> None:
        p.setPen(QPen(QColor(128, 128, 128, 90), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(box)
        vals = [(i, (math.log10(v) if log else v)) for i, v in enumerate(series)
                if v is not None and math.isfinite(v) and (v > 0 or not log)]
        if not vals:
            return
        lo, hi = min(v for _, v in vals), max(v for _, v in vals)
        span = hi - lo if hi > lo else 1.0
        n = max(2, len(series))
        pts = [(box.left() + box.width() * i / (n - 1), box.bottom() - 2 - (box.height() - 4) * (v - lo) / span)
               for i, v in vals]
        p.setPen(QPen(QColor(59, 130, 246), 1.5))
        for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
            p.drawLine(int(x0), int(y0), int(x1), int(y1))
        x, y = pts[-1]
        p.setBrush(QColor(59, 130, 246))
        p.drawEllipse(QRectF(x - 2, y - 2, 4, 4))

    @staticmethod
    def _hist(p: QPainter, box: QRectF, hist: Any) -> None:
        if not hist:
            return
        counts, _lo, _hi = hist
        top = max(counts) or 1
        bw = box.width() / max(1, len(counts))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(245, 158, 11))
        for i, c in enumerate(counts):
            h = box.height() * c / top
            p.drawRect(QRectF(box.left() + i * bw, box.bottom() - h, max(1.0, bw - 0.5), h))


class InsideView(QWidget):
    """The Inside tab: sparklines per node, feature maps, and the canvas heat-map switch."""

    def __init__(self, panel) -> None:
        super().__init__()
        self.panel = panel
        self.document = panel.document
        self.latest: dict[str, Any] | None = None  # the last payload
        self.history: dict[tuple[str, str, str], deque] = {}  # (graph, node id, metric) -> values
        self.names: dict[tuple[str, str], str] = {}
        self.heat_values: dict[str, dict[str, float]] = {}  # graph id -> node id -> raw value on the canvas
        self._shown_at = 0.0
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.timeout.connect(self.refresh)
        self.heat = QCheckBox("Heat map on canvas")
        self.heat.setToolTip("Colour the canvas nodes by the chosen statistic (dark: small, bright: large)")
        self.heat.toggled.connect(self._heat_toggled)
        self.metric_box = QComboBox()  # not "metric": QPaintDevice.metric()
        for key, label in METRICS.items():
            self.metric_box.addItem(label, key)
        self.metric_box.currentIndexChanged.connect(lambda _i: self.refresh())
        self.info = QLabel("Train or step to see inside the network: statistics arrive every 20 steps, "
                           "and after every step while stepping or in slow motion.")
        self.info.setWordWrap(True)
        self.sparks = SparkList()
        scroll = QScrollArea()
        scroll.setWidget(self.sparks)
        scroll.setWidgetResizable(True)
        from studio.ui.training.tiles import TileGrid

        self.maps = TileGrid(tile=56, title="Feature maps")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(scroll)
        split.addWidget(self.maps)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show"))
        top.addWidget(self.metric_box)
        top.addWidget(self.heat)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(top)
        lay.addWidget(self.info)
        lay.addWidget(split, 1)
        self.document.selection_changed.connect(self._selection)

    @property
    def metric_key(self) -> str:
        return str(self.metric_box.currentData())

    def reset(self) -> None:
        self.latest, self.history, self.names, self.heat_values = None, {}, {}, {}
        self.sparks.set_rows([], self.metric_key)
        self.maps.set_tiles([])
        heat_overlay.set_heat(self.document, {})

    def add_updates(self, updates: list) -> None:
        payload = None
        for u in updates:
            if u.kind == "started" and not u.info.get("models"):
                self.info.setText("This paradigm learns a table, not a network: there is nothing inside to show.")
            inside = u.info.get("inside") if u.kind == "step" else None
            if inside:
                payload = inside
                for gname, nodes in inside["graphs"].items():
                    for nid, stat in nodes.items():
                        self.names[(gname, nid)] = stat["node"]
                        for metric in METRICS:
                            key = (gname, nid, metric)
                            if key not in self.history:
                                self.history[key] = deque(maxlen=HISTORY)
                            self.history[key].append(metric_value(stat, metric))
        if payload is not None:
            self.latest = payload
            if time.monotonic() - self._shown_at >= REFRESH_S:
                self.refresh()
            elif not self._later.isActive():  # at most a few repaints a second, the last payload always shown
                self._later.start(int(1000 * REFRESH_S))

    def refresh(self) -> None:
        self._shown_at = time.monotonic()
        self._later.stop()
        payload, metric = self.latest, self.metric_key
        if payload is None:
            return
        graphs = payload["graphs"]
        rows = []
        for gname, nodes in graphs.items():
            for nid, stat in nodes.items():
                label = stat["node"] if len(graphs) == 1 else f"{gname} · {stat['node']}"
                rows.append((label, nid, list(self.history.get((gname, nid, metric), [])), stat.get("hist"),
                             metric_value(stat, metric)))
        self.sparks.set_rows(rows, metric)
        self.info.setText(f"Step {payload['step']}: {METRICS[metric]} per node "
                          f"({'log scale' if metric in LOG_METRICS else 'linear scale'}); the histogram is the "
                          f"node's output over the step's batch.")
        self._show_maps()
        self._update_heat()

    def _graph_ids(self) -> dict[str, str]:
        run = self.panel.last_run or {}
        snapshot = run.get("snapshot") or self.document.project
        return {g.name: g.id for g in snapshot.graphs}

    def _update_heat(self) -> None:
        payload, metric = self.latest, self.metric_key
        if payload is None:
            return
        ids = self._graph_ids()
        heat: dict[str, dict[str, tuple[float, str]]] = {}
        self.heat_values = {}
        for gname, nodes in payload["graphs"].items():
            gid = ids.get(gname)
            if gid is None:
                continue
            raw = {nid: metric_value(stat, metric) for nid, stat in nodes.items()}
            shown = {k: v for k, v in raw.items() if v is not None}
            self.heat_values[gid] = shown
            fracs = ({k: v for k, v in shown.items()} if metric == "dead"
                     else heat_overlay.scale(shown, log=metric in LOG_METRICS))
            heat[gid] = {nid: (fracs[nid], _fmt(metric, shown[nid])) for nid in fracs}
        heat_overlay.set_heat(self.document, heat, METRICS[metric])

    def _heat_toggled(self, on: bool) -> None:
        heat_overlay.set_enabled(self.document, on)

    def _selection(self, _graph_id: str, ids: list) -> None:
        self.sparks.selected = ids[0] if len(ids) == 1 else None
        self.sparks.update()
        self._show_maps()

    def _show_maps(self) -> None:
        from studio.ui.training.tiles import Tile, array_image

        payload = self.latest
        if payload is None:
            return
        stats = [s for nodes in payload["graphs"].values() for s in nodes.values() if s.get("fmap") is not None]
        if not stats:
            self.maps.title = "Feature maps: this network has no convolution"
            self.maps.set_tiles([])
            return
        stat = next((s for s in stats if s["node_id"] == self.sparks.selected), stats[0])
        fmap = np.asarray(stat["fmap"])
        lo, hi = float(fmap.min()), float(fmap.max())
        tiles = [Tile(image=array_image(fmap[c], lo, hi), caption=f"ch {c}") for c in range(len(fmap))]
        self.maps.title = f"Feature maps of {stat['node']} (first sample, step {payload['step']})"
        self.maps.set_tiles(tiles)


class SanityView(QWidget):
    """The Checks tab: overfit one batch and the LR range test, in the background."""

    def __init__(self, panel) -> None:
        super().__init__()
        self.panel = panel
        self.document = panel.document
        self.runner = TaskRunner(self, name="nnstudio-sanity")
        self.task = None
        self.result: Any = None
        self.suggested: float | None = None
        self.overfit_button = QPushButton("Overfit one batch")
        self.overfit_button.setToolTip("Train on a single batch until the loss is near zero; if it is not, "
                                       "something is wrong with the model or the learning rate, and this says what")
        self.range_button = QPushButton("LR range test")
        self.range_button.setToolTip("Raise the learning rate step by step and plot the loss: the suggested "
                                     "rate is where the loss falls fastest")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.apply_button = QPushButton("Apply")
        self.apply_button.hide()
        self.apply_button.setToolTip("Set the optimizer's learning rate to the suggestion (one undo step)")
        self.overfit_button.clicked.connect(self.run_overfit)
        self.range_button.clicked.connect(self.run_range)
        self.stop_button.clicked.connect(self.stop)
        self.apply_button.clicked.connect(self.apply_suggestion)
        self.status = QLabel("Quick checks before a long run. They use the project's dataset, model, optimizer "
                             "and settings, and leave the project as it is.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plot = None  # pyqtgraph, made on first use (the editor's start-up does not pay for it)
        buttons = QHBoxLayout()
        for b in (self.overfit_button, self.range_button, self.stop_button, self.apply_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.lay = QVBoxLayout(self)
        self.lay.setContentsMargins(2, 2, 2, 2)
        self.lay.addLayout(buttons)
        self.lay.addWidget(self.status)
        self.lay.addStretch(1)

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def _start(self, kind: str) -> bool:
        if self.busy:
            return False
        try:
            snapshot, _label = self.panel.stage_bar.prepare()
        except ValueError as exc:
            self.status.setText(str(exc))
            return False
        from studio.train import sanity
        from studio.ui.training.worker import gui_settings

        registry = self.document.registry
        settings = gui_settings(snapshot.training)
        fn = sanity.overfit_one_batch if kind == "overfit" else sanity.lr_range_test

        def job(ctx):
            return kind, fn(snapshot, registry, settings, progress=lambda f, t: ctx.report((f, t)),
                            should_stop=lambda: ctx.cancelled)

        self.apply_button.hide()
        self.suggested = None
        self.status.setText("Overfitting one batch…" if kind == "overfit" else "Running the learning-rate range test…")
        self._set_busy(True)
        self.task = self.runner.start(job, name=f"nnstudio-{kind}", on_result=self._done, on_error=self._failed,
                                      on_progress=self._progress)
        return True

    def run_overfit(self) -> bool:
        return self._start("overfit")

    def run_range(self) -> bool:
        return self._start("range")

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def shutdown(self) -> None:
        self.runner.shutdown()

    def _set_busy(self, on: bool) -> None:
        self.overfit_button.setEnabled(not on)
        self.range_button.setEnabled(not on)
        self.stop_button.setEnabled(on)

    def _progress(self, value: Any) -> None:
        frac, text = value
        self.status.setText(f"{100 * frac:.0f}% · {text}")

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.status.setText(f"Could not run the check: {message}")

    def _done(self, outcome: tuple[str, Any]) -> None:
        self._set_busy(False)
        kind, result = outcome
        self.result = result
        plot = self._plot()
        plot.clear()
        item = plot.getPlotItem()
        if kind == "overfit":
            verdict = "✔ Passed" if result.ok else "✘ Not passed"
            self.status.setText(f"<b>{verdict}</b>: {result.message}.")
            item.setLogMode(x=False, y=False)
            item.setLabel("bottom", "step on the same batch")
            item.setTitle("Overfit one batch: loss")
            plot.plot(np.arange(1, len(result.losses) + 1), np.asarray(result.losses, dtype=float),
                      pen={"color": "#3b82f6", "width": 2})
        else:
            self.suggested = result.suggested
            self.status.setText(result.message + ".")
            item.setLogMode(x=True, y=False)
            item.setLabel("bottom", "learning rate")
            item.setTitle("Learning-rate range test: smoothed loss")
            if result.lrs:
                plot.plot(np.asarray(result.lrs), np.asarray(result.losses), pen={"color": "#3b82f6", "width": 2})
            if result.suggested is not None:
                import pyqtgraph as pg

                plot.addItem(pg.InfiniteLine(math.log10(result.suggested), pen={"color": "#f59e0b", "width": 2}))
                self.apply_button.setText(f"Apply learning rate {result.suggested:.2g}")
                self.apply_button.show()
        plot.show()

    def _plot(self):
        if self.plot is None:
            import pyqtgraph as pg

            from studio.ui.training.plots import theme_plot

            self.plot = pg.PlotWidget()
            theme_plot(self.plot)
            self.plot.getPlotItem().setLabel("left", "loss")
            self.plot.setMinimumHeight(110)
            self.lay.insertWidget(2, self.plot, 1)
            self.lay.setStretch(self.lay.count() - 1, 0)  # the plot takes the room the spacer held
        return self.plot

    def apply_suggestion(self) -> bool:
        """Set ``optimizer.lr`` to the suggestion: one undo step."""
        if self.suggested is None:
            return False
        from studio.core.ops import SetTraining

        ok = bool(self.document.push(SetTraining("optimizer.lr", self.suggested,
                                                 label=f"Learning rate {self.suggested:.2g} from the range test")))
        if ok:
            self.status.setText(f"Learning rate set to {self.suggested:.2g} (Undo puts back the previous one).")
        return ok


def attach(panel) -> None:
    """Add the Inside and Checks tabs to ``panel`` and feed Inside with every run's updates."""
    panel.inside = InsideView(panel)
    panel.checks = SanityView(panel)
    panel.tabs.addTab(panel.inside, "Inside")
    panel.tabs.addTab(panel.checks, "Checks")

    def started() -> None:
        panel.inside.reset()
        if panel.session is not None:
            panel.session.updates.connect(panel.inside.add_updates)

    panel.started.connect(started)
    panel.document.project_replaced.connect(panel.inside.reset)
    shutdown = panel.shutdown

    def shutdown_all() -> None:  # closing the window also stops a running check and waits for it
        panel.checks.shutdown()
        shutdown()

    panel.shutdown = shutdown_all
