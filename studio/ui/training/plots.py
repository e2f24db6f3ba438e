"""Live training curves (pyqtgraph): per-step and per-epoch metrics of every run, overlaid.

Each metric of each run is a :class:`Series` — preallocated numpy buffers that double when
full, so appending is O(1) and ``setData`` gets views, not copies of Python lists. Updates only
append and mark curves dirty; a ~30 Hz ``QTimer`` pushes dirty curves to pyqtgraph, whose
``setClipToView`` + peak downsampling keeps drawing cheap however long the run. Two plots share
the step axis: losses (train per step, epoch means, validation) and the other metrics
(accuracy, F1, return, ...). Every run keeps its settings and a snapshot of its graph, and a
runs list toggles which runs are shown; with several runs visible, curves take their run's colour.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.ui.training.curve_data import Run

REDRAW_MS = 33
PAINT_DUTY = 0.2  # at most this share of the GUI thread goes to repainting curves; slower redraws beyond


def _nice(v: float) -> float:
    """The next 1-2-5 step at or above v."""
    if v <= 0:
        return 1.0
    p = 10 ** np.floor(np.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * p >= v:
            return float(m * p)
    return float(10 * p)


class TimedPlotWidget(pg.PlotWidget):
    """A PlotWidget that remembers how long its last paint took (for the redraw budget)."""

    last_paint_s = 0.0

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        t0 = time.perf_counter()
        super().paintEvent(event)
        self.last_paint_s = time.perf_counter() - t0
def plotted(metric: str) -> bool:
    """Curves are for learning metrics; a metric declared ``plot="none"`` (throughput, timings, the
    learning rate) lives in the progress line. Undeclared ones are plotted unless they are timings."""
    from studio.train.recipes.registry import metric_spec

    spec = metric_spec(metric)
    if spec is not None:
        return spec.plot != "none"
    return metric not in ("epoch", "samples", "epsilon_now") and not metric.endswith(("_per_s", "_s", "_ms"))


RUN_COLORS = ["#3b82f6", "#f97316", "#22c55e", "#e11d48", "#a855f7", "#14b8a6", "#eab308", "#64748b"]
METRIC_COLORS = ["#3b82f6", "#f97316", "#22c55e", "#e11d48", "#a855f7", "#14b8a6", "#eab308", "#ec4899"]


def run_color(index: int) -> str:
    """Run ``index``'s colour: the eight distinct ones first, then golden-angle hues (never a repeat)."""
    if index < len(RUN_COLORS):
        return RUN_COLORS[index]
    hue = ((index - len(RUN_COLORS)) * 0.381966 + 0.05) % 1.0
    return QColor.fromHsvF(hue, 0.75, 0.9).name()


def theme_plot(widget: pg.PlotWidget, pal: QPalette | None = None) -> None:
    """Background, axes and title in the palette's colours (pyqtgraph's default is black everywhere).

    Pass the palette of the widget that received the PaletteChange: its children get theirs later."""
    pal = pal or widget.palette()
    background = pal.base().color()
    text = pal.windowText().color()
    widget.setBackground(background)
    item = widget.getPlotItem()
    for name in ("bottom", "left", "top", "right"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
    title = item.titleLabel
    if title is not None and title.text:
        title.setText(title.text, color=text.name())


def is_loss(metric: str) -> bool:
    """Whether ``metric`` goes on the loss plot: as its paradigm declares it (undeclared: its name says loss)."""
    from studio.train.recipes.registry import metric_spec

    spec = metric_spec(metric)
    return spec.plot == "loss" if spec is not None else "loss" in metric.lower()


def direction(metric: str) -> str:
    """↑ when higher is better, ↓ when lower is better, as the metric's paradigm declares it."""
    from studio.train.recipes.registry import higher_is_better

    return "↑" if higher_is_better(metric) else "↓"


class PlotsWidget(QWidget):
    """Loss and metric plots with log scale, EMA smoothing, hover read-out and a runs list."""

    runs_changed = Signal()
    #: a Run whose settings the user wants back in the project
    restore_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=False)
        self.runs: list[Run] = []
        self.current: Run | None = None
        self._curves: dict[tuple[int, str, str, str], pg.PlotDataItem] = {}  # (run, plot, kind, metric)
        self._dirty: set[tuple[int, str, str, str]] = set()
        self._metric_colors: dict[str, str] = {}
        self._last_redraw = 0.0
        self.smoothing = 0.6

        self.log_box = QCheckBox("Log scale")
        self.log_box.toggled.connect(self._set_log)
        self.smooth_slider = QSlider(Qt.Orientation.Horizontal)
        self.smooth_slider.setRange(0, 99)
        self.smooth_slider.setValue(int(self.smoothing * 100))
        self.smooth_slider.setFixedWidth(120)
        self.smooth_slider.setToolTip("Exponential moving average of the per-step curves (0 = raw)")
        self.smooth_label = QLabel()
        self.smooth_slider.valueChanged.connect(self._set_smoothing)
        self.step_box = QCheckBox("Per step")
        self.step_box.setChecked(True)
        self.epoch_box = QCheckBox("Per epoch")
        self.epoch_box.setChecked(True)
        self.step_box.toggled.connect(self._refresh_visibility)
        self.epoch_box.toggled.connect(self._refresh_visibility)
        self.hover_label = QLabel(" ")
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        bar.addWidget(self.log_box)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smooth_slider)
        bar.addWidget(self.smooth_label)
        bar.addWidget(self.step_box)
        bar.addWidget(self.epoch_box)
        bar.addStretch(1)

        self.plots: dict[str, pg.PlotItem] = {}
        self.widgets: dict[str, pg.PlotWidget] = {}
        self.legends: dict[str, QLabel] = {}
        self._manual: set[str] = set()  # plots the user zoomed/panned: leave their range alone
        plot_row = QSplitter(Qt.Orientation.Horizontal)
        for key, title, ylabel in (("loss", "Loss", "loss"), ("metric", "Metrics", "value")):
            w = TimedPlotWidget()
            item = w.getPlotItem()
            item.setTitle(title)
            item.setLabel("bottom", "step")
            item.setLabel("left", ylabel)
            # no grid: its alpha-blended lines were 3/4 of a repaint on a software-rendered screen
            item.setClipToView(True)
            item.disableAutoRange()
            for name in ("bottom", "left", "top", "right"):  # axes redraw only when their range moves
                item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
            item.vb.sigRangeChangedManually.connect(lambda *_a, k=key: self._manual.add(k))
            item.setDownsampling(auto=True, mode="peak")
            for axis in ("bottom", "left"):
                item.getAxis(axis).enableAutoSIPrefix(False)
            w.setMinimumSize(220, 140)
            theme_plot(w)
            self.plots[key] = item
            self.widgets[key] = w
            w.scene().sigMouseMoved.connect(lambda pos, k=key: self._hover(k, pos))
            # a rich-text legend under the plot: pyqtgraph's LegendItem costs ~10 ms per entry added
            legend = QLabel()
            legend.setWordWrap(True)
            legend.setTextFormat(Qt.TextFormat.RichText)
            self.legends[key] = legend
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.setSpacing(1)
            bl.addWidget(w, 1)
            bl.addWidget(legend)
            plot_row.addWidget(box)
        self.vlines = {k: pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#888", style=Qt.PenStyle.DotLine))
                       for k in self.plots}
        for k, line in self.vlines.items():
            line.setVisible(False)
            self.plots[k].addItem(line, ignoreBounds=True)

        self.runs_list = QListWidget()
        self.runs_list.setMaximumWidth(300)
        self.runs_list.setMinimumWidth(170)
        self.runs_list.setWordWrap(True)  # stage names are long: wrap them, never cut them
        self.runs_list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.runs_list.itemChanged.connect(self._run_toggled)
        self.runs_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.runs_list.customContextMenuRequested.connect(self._runs_menu)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(QLabel("Runs (tick to overlay)"))
        rl.addWidget(self.runs_list)
        plot_row.addWidget(right)
        plot_row.setStretchFactor(0, 3)
        plot_row.setStretchFactor(1, 3)
        plot_row.setStretchFactor(2, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(plot_row, 1)
        layout.addWidget(self.hover_label)
        self._set_smoothing(self.smooth_slider.value())

        self.timer = QTimer(self)
        self.timer.setInterval(REDRAW_MS)
        self.timer.timeout.connect(self.redraw)
        self.timer.start()

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange:  # the theme changed
            self.apply_theme()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.apply_theme()  # a theme switched while this tab was hidden

    def apply_theme(self) -> None:
        for w in self.widgets.values():
            theme_plot(w, self.palette())

    # -- runs ------------------------------------------------------------------------------
    def begin_run(self, settings: dict[str, Any], snapshot: Any = None, label: str = "") -> Run:
        run = Run(number=len(self.runs) + 1, settings=json.loads(json.dumps(settings, default=str)),
                  snapshot=snapshot, color=run_color(len(self.runs)), label=label)
        self.runs.append(run)
        self.current = run
        item = QListWidgetItem(run.title)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        item.setForeground(QColor(run.color))
        item.setData(Qt.ItemDataRole.UserRole, run.number)
        self.runs_list.blockSignals(True)
        # earlier runs are hidden when a new one starts; tick them to compare
        for i in range(self.runs_list.count()):
            self.runs_list.item(i).setCheckState(Qt.CheckState.Unchecked)
        for r in self.runs[:-1]:
            r.visible = False
        self.runs_list.addItem(item)
        self.runs_list.blockSignals(False)
        self._update_item(run)
        self._refresh_visibility()
        self.runs_changed.emit()
        return run

    def end_run(self, final: Any) -> None:
        run = self.current
        if run is None:
            return
        run.status = final.kind
        run.message = final.message
        run.history = list(final.history)
        run.checkpoint = final.checkpoint
        self._update_item(run)
        self.redraw(force=True)

    def clear(self) -> None:
        for key, curve in self._curves.items():
            self.plots[key[1]].removeItem(curve)
        self._curves.clear()
        self._dirty.clear()
        self.runs.clear()
        self.current = None
        self.runs_list.clear()
        self._metric_colors.clear()
        self._manual.clear()
        for label in self.legends.values():
            label.clear()

    def _update_item(self, run: Run) -> None:
        for i in range(self.runs_list.count()):
            item = self.runs_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == run.number:
                status = {"running": " …", "done": " ✓", "cancelled": " stopped", "error": " failed"}.get(run.status, "")
                item.setText(run.title + status)
                tip = run.describe()
                if run.history:
                    last = run.history[-1]
                    tip += "\n" + ", ".join(f"{k}={v:.4g}" for k, v in last.items()
                                            if k.startswith("val_") and isinstance(v, float))
                if run.snapshot is not None:
                    tip += "\ngraphs: " + ", ".join(f"{g.name} ({len(g.nodes)} nodes)" for g in run.snapshot.graphs)
                if run.message:
                    tip += "\n" + run.message
                item.setToolTip(tip)

    def run_for(self, item: QListWidgetItem) -> Run | None:
        number = item.data(Qt.ItemDataRole.UserRole)
        return next((r for r in self.runs if r.number == number), None)

    def _runs_menu(self, pos) -> None:
        item = self.runs_list.itemAt(pos)
        run = self.run_for(item) if item is not None else None
        if run is None:
            return
        menu = QMenu(self)
        menu.addAction("Use this run's training settings", lambda: self.restore_requested.emit(run))
        menu.exec(self.runs_list.viewport().mapToGlobal(pos))

    def _run_toggled(self, item: QListWidgetItem) -> None:
        number = item.data(Qt.ItemDataRole.UserRole)
        for run in self.runs:
            if run.number == number:
                run.visible = item.checkState() == Qt.CheckState.Checked
        self._refresh_visibility()

    # -- data ------------------------------------------------------------------------------
    def add_updates(self, updates: list[Any]) -> None:
        run = self.current
        if run is None:
            return
        for u in updates:
            if u.kind == "started":
                run.info = dict(u.info)
                unit = "episode" if u.info.get("unit") == "episodes" else "step"
                for item in self.plots.values():
                    item.setLabel("bottom", unit)
                self._update_item(run)  # its marks now say what the paradigm applied
                self._update_legends()
            for step, metrics in u.points:
                for name, value in metrics.items():
                    if plotted(name) and isinstance(value, int | float):
                        self._add(run, "step", name, step, float(value))
            if u.kind == "epoch":
                for name, value in u.metrics.items():
                    if plotted(name) and isinstance(value, int | float) and not name.endswith("_baseline_mse"):
                        self._add(run, "epoch", name, u.step, float(value))
                base = u.metrics.get("val_baseline_mse")
                if isinstance(base, float):
                    self._add(run, "epoch", "val_baseline_mse", u.step, base)

    def _add(self, run: Run, kind: str, metric: str, x: float, y: float) -> None:
        series = run.series.get((kind, metric))
        if series is None:
            series = run.series_for(kind, metric)
            series.set_smoothing(self.smoothing if kind == "step" else 0.0)
            self._make_curve(run, kind, metric)
        series.append(x, y)
        self._dirty.add((run.number, "loss" if is_loss(metric) else "metric", kind, metric))

    def _color(self, run: Run, metric: str) -> str:
        """Several runs shown: each in its own colour. One run: its loss in the run's colour (the colour of
        its entry in the runs list), its other metrics in colours that differ from it."""
        base = metric[4:] if metric.startswith("val_") else metric
        if sum(r.visible for r in self.runs) > 1 or base == "loss":
            return run.color
        if base not in self._metric_colors:
            self._metric_colors[base] = str(len(self._metric_colors))
        palette = [c for c in METRIC_COLORS if c != run.color]
        return palette[int(self._metric_colors[base]) % len(palette)]

    def _style(self, curve: pg.PlotDataItem, run: Run, kind: str, metric: str) -> None:
        color = self._color(run, metric)
        val = metric.startswith("val_")
        baseline = metric.endswith("baseline_mse")
        if kind == "step":
            curve.setPen(pg.mkPen(color, width=1.2))
            curve.setSymbol(None)
        else:
            style = Qt.PenStyle.DotLine if baseline else Qt.PenStyle.DashLine if val else Qt.PenStyle.SolidLine
            curve.setPen(pg.mkPen(color, width=2, style=style))
            curve.setSymbol(None if baseline else "s" if val else "o")
            curve.setSymbolSize(6)
            curve.setSymbolBrush(pg.mkBrush(color))
            curve.setSymbolPen(pg.mkPen(color))

    def _label(self, run: Run, kind: str, metric: str, bare: bool = False) -> str:
        """The curve's name; with several runs it starts with the run ("#2 (label noise 30 %) loss")
        unless ``bare`` (the legend names each run once)."""
        name = metric if kind == "step" else (metric if metric.startswith("val_") else f"{metric} (epoch)")
        name = f"{name} {direction(metric)}"
        return name if bare or len(self.runs) <= 1 else f"{self._run_name(run)} {name}"

    @staticmethod
    def _run_name(run: Run) -> str:
        """"#2 (FGSM ε=0.03)": a noisy or adversarial run says so wherever runs are overlaid."""
        return f"#{run.number}" + "".join(f" ({m})" for m in run.marks)

    def _make_curve(self, run: Run, kind: str, metric: str) -> None:
        plot = "loss" if is_loss(metric) else "metric"
        key = (run.number, plot, kind, metric)
        curve = pg.PlotDataItem()
        curve.setClipToView(True)
        curve.setDownsampling(auto=True, method="peak")
        self._style(curve, run, kind, metric)
        self.plots[plot].addItem(curve)
        self._curves[key] = curve
        curve.setVisible(run.visible and (self.step_box.isChecked() if kind == "step" else self.epoch_box.isChecked()))
        self._update_legends()

    def _update_legends(self) -> None:
        """One entry per visible curve; with several runs, grouped under each run's name (and its marks)."""
        by_number = {r.number: r for r in self.runs}
        several = len(self.runs) > 1
        for plot, label in self.legends.items():
            groups: dict[int, list[str]] = {}
            for (number, p, kind, metric), curve in self._curves.items():
                if p != plot or not curve.isVisible():
                    continue
                run = by_number[number]
                mark = "━" if kind == "step" else ("┅■" if metric.startswith("val_") else "━●")
                if metric.endswith("baseline_mse"):
                    mark = "┈"
                color = self._color(run, metric)
                name = self._label(run, kind, metric, bare=several).replace(" ", "&nbsp;")
                groups.setdefault(number, []).append(f"<span style='color:{color}'>{mark}</span>&nbsp;{name}")
            if several:
                text = "<br>".join(f"<b style='color:{by_number[n].color}'>"
                                   f"{self._run_name(by_number[n]).replace(' ', '&nbsp;')}</b>: "
                                   + "&nbsp;&nbsp; ".join(parts) for n, parts in groups.items())
            else:
                text = "&nbsp;&nbsp; ".join(part for parts in groups.values() for part in parts)
            label.setText(text)

    def _refresh_visibility(self, *_args) -> None:
        by_number = {r.number: r for r in self.runs}
        for (number, _plot, kind, metric), curve in self._curves.items():
            run = by_number[number]
            shown = self.step_box.isChecked() if kind == "step" else self.epoch_box.isChecked()
            curve.setVisible(run.visible and shown)
            self._style(curve, run, kind, metric)
        self._dirty.update(self._curves)
        self._update_legends()

    def redraw(self, force: bool = False) -> None:
        """Push dirty curves to pyqtgraph (the ~30 Hz timer calls this).

        Repaints cost real time on a software-rendered screen, so redraws are spaced so that
        painting takes at most ``PAINT_DUTY`` of the GUI thread: 30 Hz when cheap, slower when not.
        """
        if not self._dirty:
            return
        now = time.perf_counter()
        paint = sum(w.last_paint_s for w in self.widgets.values() if w.isVisible())
        if not force and now - self._last_redraw < max(REDRAW_MS / 1000, paint / PAINT_DUTY):
            return
        self._last_redraw = now
        by_number = {r.number: r for r in self.runs}
        for key in list(self._dirty):
            number, _plot, kind, metric = key
            curve = self._curves.get(key)
            run = by_number.get(number)
            if curve is None or run is None:
                continue
            series = run.series[(kind, metric)]
            if series.n == 0:
                continue
            x, y = series.data(smoothed=kind == "step" and self.smoothing > 0)
            if self.log_box.isChecked():
                y = np.where(y > 0, y, np.nan)
            curve.setData(x, y, connect="finite")
        self._dirty.clear()
        self.fit_ranges()

    def fit_ranges(self, force: bool = False) -> None:
        """Our own auto-range, in steps: the view (and its axes) move only when the data leaves it
        or fills under half of it, so most frames repaint the curves alone."""
        for key, item in self.plots.items():
            log = self.log_box.isChecked() and key == "loss"
            vb = item.vb
            if any(vb.state["autoRange"]):  # the user pressed pyqtgraph's "A" button: back to ours
                vb.disableAutoRange()
                self._manual.discard(key)
                force = True
            if key in self._manual and not force:
                continue
            xs, ys = [], []
            for (number, plot, kind, metric), curve in self._curves.items():
                if plot != key or not curve.isVisible():
                    continue
                run = next(r for r in self.runs if r.number == number)
                x, y = run.series[(kind, metric)].data(smoothed=kind == "step" and self.smoothing > 0)
                if len(x):
                    xs.append(float(x[-1]))
                    y = y[np.isfinite(y) & ((y > 0) if log else True)]
                    if len(y):
                        ys += [float(y.min()), float(y.max())]
            if not xs or not ys:
                continue
            (x0, x1), (y0, y1) = vb.viewRange()
            xmax = max(xs)
            if force or xmax > x1 or xmax < 0.5 * x1:
                vb.setXRange(0, _nice(xmax * 1.25), padding=0)
            lo, hi = min(ys), max(ys)
            if log:
                lo, hi = np.log10(lo), np.log10(hi)
            span = max(hi - lo, 1e-9 if hi == lo == 0 else abs(hi) * 1e-3)
            if force or lo < y0 or hi > y1 or span < 0.5 * (y1 - y0):
                vb.setYRange(lo - 0.08 * span, hi + 0.08 * span, padding=0)

    # -- options ---------------------------------------------------------------------------
    def _set_log(self, on: bool) -> None:
        self.plots["loss"].setLogMode(y=on)
        self._dirty.update(self._curves)
        self.redraw(force=True)
        self.fit_ranges(force=True)

    def _set_smoothing(self, value: int) -> None:
        self.smoothing = value / 100.0
        self.smooth_label.setText(f"{self.smoothing:.2f}")
        for run in self.runs:
            for (kind, _m), series in run.series.items():
                if kind == "step":
                    series.set_smoothing(self.smoothing)
        self._dirty.update(k for k in self._curves if k[2] == "step")

    def _hover(self, key: str, pos) -> None:
        item = self.plots[key]
        if not item.sceneBoundingRect().contains(pos):
            self.vlines[key].setVisible(False)
            return
        x = item.vb.mapSceneToView(pos).x()
        by_number = {r.number: r for r in self.runs}
        parts = []
        for (number, plot, kind, metric), curve in self._curves.items():
            if plot != key or not curve.isVisible():
                continue
            found = by_number[number].series[(kind, metric)].value_at(x)
            if found is None:
                continue
            parts.append((found[0], self._label(by_number[number], kind, metric), found[1]))
        if not parts:
            return
        self.vlines[key].setPos(parts[0][0])
        self.vlines[key].setVisible(True)
        unit = item.getAxis("bottom").labelText or "step"
        text = f"{unit} {int(round(x))}: " + "   ".join(f"{name} = {v:.4g}" for _x, name, v in parts)
        self.hover_label.setText(text)

    def hover_at(self, key: str, x: float) -> str:
        """Test hook: the read-out the mouse would give at step ``x`` on plot ``key``."""
        vb = self.plots[key].vb
        pos = vb.mapViewToScene(pg.Point(x, 0))
        self._hover(key, pos)
        return self.hover_label.text()
