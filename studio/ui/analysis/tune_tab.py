"""Tune: search the ticked settings and node parameters with grid, random or Bayesian (TPE) sampling.

Ranges start from the settings schema (``settings_fields``) and are written as the command line
writes them (``1e-4:1e-1:log``, ``16,32,64``). Trials run in the background, one study per
parameter set and sampler in an SQLite file beside the run (so a search resumes after a restart);
"Apply best" sets the winning values as one undo step.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.ui.analysis.common import Tab

NODE_PARAMS = ("out_features", "out_channels", "hidden_size")


def _num(v: float) -> str:
    return f"{v:.3g}"


def default_range(f) -> str | None:
    """A starting range for one setting field, in ``parse_param`` syntax (None: not searchable)."""
    if f.kind == "choice" and len(f.choices) > 1:
        return ",".join(str(c) for c in f.choices)
    if f.kind == "bool":
        return "false,true"
    lo_cap = f.minimum if f.minimum is not None else -np.inf
    hi_cap = f.maximum if f.maximum is not None else np.inf
    if f.kind == "int":
        d = int(f.default or 0)
        lo, hi = max(lo_cap, max(1, d // 2) if d > 0 else 0), min(hi_cap, max(d * 2, 4))
        return f"{int(lo)}:{int(hi)}" if lo < hi else None
    if f.kind == "float":
        d = float(f.default or 0.0)
        if d > 0:
            lo, hi = max(lo_cap, d / 10), min(hi_cap, d * 10)
            return f"{_num(lo)}:{_num(hi)}:log" if 0 < lo < hi else None
        hi = min(hi_cap, 0.1)
        return f"{_num(max(lo_cap, 0.0))}:{_num(hi)}" if hi > max(lo_cap, 0.0) else None
    return None


def candidates(project, recipe: str, graph_name: str) -> list[tuple[str, str, str]]:
    """(key, label, range) for every searchable setting of ``recipe`` and the graph's size parameters."""
    from studio.train.settings_form import settings_fields

    out = []
    for f in settings_fields(recipe):
        if f.key in ("recipe", "graph", "seed", "device", "threads", "checkpoint_every", "memory_limit_mb") \
                or f.key.startswith(("dataset.", "early_stopping.")):
            continue
        r = default_range(f)
        if r is not None:
            out.append((f.key, f.label, r))
    graph = next((g for g in project.graphs if g.name == graph_name), project.graphs[0] if project.graphs else None)
    for node in (graph.nodes.values() if graph else ()):
        for p in NODE_PARAMS:
            v = node.params.get(p)
            if isinstance(v, int) and v > 1:
                out.append((f"nodes.{node.name}.{p}", f"{p} of {node.name}", f"{max(1, v // 2)},{v},{v * 2}"))
    return out


def study_name(keys: list[str], sampler: str, metric: str) -> str:
    digest = hashlib.sha1(",".join(sorted(keys)).encode()).hexdigest()[:8]
    return f"{sampler}-{metric}-{digest}"


def tune_job(ctx, project, registry, params, metric: str, higher: bool, trials: int, sampler: str, storage) -> dict:
    """The search (runs in the background): each finished trial is reported, importances come at the end."""
    from studio.analysis.session import epoch_scores
    from studio.analysis.tune import search

    study = search(project, params, epoch_scores(registry, metric), metric=metric, higher_is_better=higher,
                   trials=trials, sampler=sampler, storage=storage,
                   study_name=study_name([p.key for p in params], sampler, metric), grid_points=4,
                   on_trial=ctx.report, should_stop=lambda: ctx.cancelled)
    importance: dict[str, float] = {}
    done = [t for t in study.trials if t.state == "complete"]
    if len(done) >= 2 and len(params) >= 1:
        import optuna

        try:
            importance = dict(optuna.importance.get_param_importances(study.optuna_study))
        except (RuntimeError, ValueError):
            importance = {}
    return {"study": study, "importance": importance}


class TuneTab(Tab):
    def __init__(self, workspace) -> None:
        super().__init__(workspace)
        self.params = QTableWidget(0, 2)
        self.params.setHorizontalHeaderLabels(("search", "range (low:high[:log] or a,b,c)"))
        self.params.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.params.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.params.verticalHeader().hide()
        self.sampler = QComboBox()
        for label, key in (("Bayesian (TPE)", "tpe"), ("Random", "random"), ("Grid", "grid")):
            self.sampler.addItem(label, key)
        self.metric_box = QComboBox()  # not "metric": that would hide QWidget.metric(), which Qt calls
        self.trials = QSpinBox()
        self.trials.setRange(1, 500)
        self.trials.setValue(8)
        self.start_button = QPushButton("Start search")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.apply_button = QPushButton("Apply best")
        self.apply_button.setEnabled(False)
        self.apply_button.setToolTip("Set the best trial's values in the project (one undo step)")
        self.apply_button.clicked.connect(self.apply_best)
        form = QFormLayout()
        form.addRow("Sampler", self.sampler)
        form.addRow("Watch", self.metric_box)
        form.addRow("Trials", self.trials)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.apply_button):
            buttons.addWidget(b)
        self.info = QLabel("Tick what to search; edit a range in place.")
        self.info.setWordWrap(True)
        left = QVBoxLayout()
        left.addWidget(self.params, 1)
        left.addLayout(form)
        left.addLayout(buttons)
        left.addWidget(self.info)
        side = QWidget()
        side.setLayout(left)
        side.setFixedWidth(460)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(("trial", "state", "score", "values"))
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.history = pg.PlotWidget(title="Optimisation history")
        self.history.setBackground("w")
        self.history.setLabel("bottom", "trial")
        self.history.addLegend(offset=(-10, 10))
        self.importance = pg.PlotWidget(title="Parameter importance")
        self.importance.setBackground("w")
        self.importance.setLabel("bottom", "importance")
        plots = QHBoxLayout()
        plots.addWidget(self.history, 1)
        plots.addWidget(self.importance, 1)
        right = QVBoxLayout()
        right.addWidget(self.table, 1)
        right.addLayout(plots, 1)
        lay = QHBoxLayout(self)
        lay.addWidget(side)
        lay.addLayout(right, 1)
        self.task = None
        self.results: list[Any] = []
        self.study = None
        self.importances: dict[str, float] = {}

    def set_run(self, loaded) -> None:
        from studio.train.recipes.registry import metric_spec, recipe_spec

        super().set_run(loaded)
        s = loaded.data.settings
        rows = candidates(self.workspace.project, s.recipe, loaded.data.graph_name)
        self.params.setRowCount(len(rows))
        for i, (key, label, text) in enumerate(rows):
            tick = QTableWidgetItem(label)
            tick.setData(Qt.ItemDataRole.UserRole, key)
            tick.setToolTip(key)
            tick.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
            tick.setCheckState(Qt.CheckState.Checked if key == "optimizer.lr" else Qt.CheckState.Unchecked)
            self.params.setItem(i, 0, tick)
            self.params.setItem(i, 1, QTableWidgetItem(text))
        spec = recipe_spec(s.recipe)
        self.metric_box.clear()
        names = ["val_loss"] + [f"val_{m.name}" for m in spec.metrics if m.plot != "none"]
        for name in names:
            m = metric_spec(name)
            self.metric_box.addItem(f"{m.label if m else name} ({name})", name)
        self.metric_box.setCurrentIndex(names.index("val_accuracy") if "val_accuracy" in names else 0)

    def ticked(self) -> list[str]:
        """The search parameters in ``parse_param`` syntax."""
        out = []
        for i in range(self.params.rowCount()):
            tick = self.params.item(i, 0)
            if tick.checkState() == Qt.CheckState.Checked:
                out.append(f"{tick.data(Qt.ItemDataRole.UserRole)}={self.params.item(i, 1).text()}")
        return out

    def tick(self, key: str, text: str | None = None, on: bool = True) -> None:
        for i in range(self.params.rowCount()):
            if self.params.item(i, 0).data(Qt.ItemDataRole.UserRole) == key:
                self.params.item(i, 0).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
                if text is not None:
                    self.params.item(i, 1).setText(text)
                return
        raise KeyError(key)

    def job_ended(self) -> None:
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def start(self) -> None:
        from studio.analysis.tune import TuneError, parse_param
        from studio.train.recipes.registry import higher_is_better

        if self.loaded is None:
            return
        try:
            params = [parse_param(t) for t in self.ticked()]
        except TuneError as exc:
            self.info.setText(str(exc).replace("--param ", ""))
            return
        if not params:
            self.info.setText("Tick at least one setting or parameter to search.")
            return
        metric = self.metric_box.currentData()
        args = (self.workspace.project, self.workspace.registry, params, metric, higher_is_better(metric),
                self.trials.value(), self.sampler.currentData(), self.loaded.run_dir / "tune.sqlite3")
        self.results, self.study = [], None
        self.table.setRowCount(0)
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.apply_button.setEnabled(False)
        self.info.setText(f"Searching {len(params)} parameter(s) by {self.sampler.currentText()}…")
        self.task = self.workspace.job(lambda ctx: tune_job(ctx, *args), self._finished, "Tune",
                                       on_progress=self._trial, cancellable=True)

    def stop(self) -> None:
        """Stop after the running trial (cooperative: the trial's training finishes its epoch)."""
        if self.task is not None:
            try:
                self.task.cancel()
            except RuntimeError:  # already ended and deleted
                pass

    def _trial(self, t) -> None:
        self.results.append(t)
        i = self.table.rowCount()
        self.table.insertRow(i)
        values = ", ".join(f"{_short(k)}={_show(v)}"
                           for k, v in t.values.items())
        for j, text in enumerate((str(t.number), t.state, "-" if t.score is None else f"{t.score:.4g}", values)):
            self.table.setItem(i, j, QTableWidgetItem(text))
        self._plot_history()

    def _finished(self, r: dict[str, Any]) -> None:
        self.task = None
        self.study = r["study"]
        self.importances = r["importance"]
        self.job_ended()
        if not self.results:  # resumed study: show what the storage held
            for t in self.study.trials:
                self._trial(t)
        self.results = list(self.study.trials)
        self._plot_history()
        self._plot_importance()
        best = self.study.best
        self.apply_button.setEnabled(best is not None)
        self.info.setText("No trial finished." if best is None else
                          f"Best: trial {best.number}, {self.study.metric} = {best.score:.4g} with "
                          + ", ".join(f"{k} = {_show(v)}" for k, v in best.values.items()))

    def _plot_history(self) -> None:
        self.history.clear()
        done = [t for t in self.results if t.score is not None and t.state == "complete"]
        if not done:
            return
        xs = [t.number for t in done]
        ys = [t.score for t in done]
        metric = self.metric_box.currentData() or ""
        from studio.train.recipes.registry import higher_is_better

        pick = np.maximum.accumulate if higher_is_better(metric) else np.minimum.accumulate
        self.history.plot(xs, ys, pen=None, symbol="o", symbolBrush=(40, 90, 200), name=metric)
        self.history.plot(xs, list(pick(np.array(ys))), pen=pg.mkPen((220, 120, 30), width=2), name="best so far")

    def _plot_importance(self) -> None:
        self.importance.clear()
        if not self.importances:
            return
        items = sorted(self.importances.items(), key=lambda kv: kv[1])
        ys = np.arange(len(items))
        self.importance.addItem(pg.BarGraphItem(x0=0, y=ys, height=0.6, width=[v for _k, v in items],
                                                brush=(40, 90, 200)))
        labels = [_short(k) for k, _v in items]
        axis = self.importance.getAxis("left")
        axis.setTicks([list(enumerate(labels))])
        axis.setWidth(min(220, 12 + 7 * max(len(t) for t in labels)))

    def apply_best(self) -> bool:
        """Set the best trial's values in the document: one undo step."""
        from studio.core.ops import Batch, SetParam, SetTraining

        best = self.study.best if self.study else None
        if best is None:
            return False
        doc = self.workspace.document
        ops = []
        for key, value in best.values.items():
            if key.startswith("nodes."):
                _, name, param = key.split(".", 2)
                for g in doc.project.graphs:
                    for node in g.nodes.values():
                        if node.name == name:
                            ops.append(SetParam(g.id, node.id, param, value))
            else:
                ops.append(SetTraining(key, value))
        ok = doc.push(Batch(ops, label=f"Apply best trial {best.number}"))
        self.info.setText(f"Applied trial {best.number}." if ok else "The best values could not be applied.")
        return ok


def _short(key: str) -> str:
    """``optimizer.lr`` -> ``lr``; ``nodes.hidden.out_features`` -> ``hidden.out_features``."""
    return key[6:] if key.startswith("nodes.") else key.rsplit(".", 1)[-1]


def _show(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)
