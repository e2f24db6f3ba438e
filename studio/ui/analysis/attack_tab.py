"""Attack: FGSM / PGD with an ε slider, accuracy against ε, and clean / adversarial / perturbation pictures.

A second run (say, one trained with adversarial examples) can be overlaid on the curve.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from studio.ui.analysis.common import Tab, captioned, class_name, fit_scale, grey, pixmap, signed

EPS_STEP = 0.005  # one slider tick
SHOWN = 6  # samples in the picture grid


def eps_grid(eps: float, points: int = 6) -> list[float]:
    return [eps * i / (points - 1) for i in range(points)]


def attack_job(data, eps: float, method: str, samples: int = 256) -> dict[str, Any]:
    """Accuracy against ε (0..eps) and the adversarial versions of a few samples (runs in the background)."""
    import torch

    from studio.analysis.attack import ATTACKS, robustness_curve

    x, y = data.val_x[:samples], data.val_y[:samples]
    torch.manual_seed(0)
    rows = robustness_curve(data.model, x, y, eps_grid(eps), method, bounds=data.bounds)
    xs, ys = x[:SHOWN], y[:SHOWN]
    adv = ATTACKS[method](data.model, xs, ys, eps, bounds=data.bounds)
    with torch.no_grad():
        clean_p = torch.softmax(data.model(xs).float(), -1)
        adv_p = torch.softmax(data.model(adv).float(), -1)
    return {"eps": [r.eps for r in rows], "accuracy": [r.accuracy for r in rows], "method": method,
            "x": xs.numpy(), "adv": adv.numpy(), "y": ys.numpy(), "clean_p": clean_p.numpy(),
            "adv_p": adv_p.numpy()}


def compare_job(workspace, run: str, eps: float, method: str) -> dict[str, Any]:
    from studio.analysis.attack import robustness_curve
    from studio.analysis.session import open_run

    other = open_run(workspace.project, workspace.registry, run, max_samples=256)
    rows = robustness_curve(other.model, other.val_x, other.val_y, eps_grid(eps), method, bounds=other.bounds)
    return {"name": Path(run).name, "eps": [r.eps for r in rows], "accuracy": [r.accuracy for r in rows]}


class AttackTab(Tab):
    def __init__(self, workspace) -> None:
        super().__init__(workspace)
        self.method = QComboBox()
        self.method.addItem("FGSM (one step)", "fgsm")
        self.method.addItem("PGD (10 steps)", "pgd")
        self.eps = QSlider(Qt.Orientation.Horizontal)
        self.eps.setRange(0, 100)
        self.eps.setValue(20)
        self.eps_label = QLabel()
        self.eps.valueChanged.connect(self._eps_changed)
        self.run_button = QPushButton("Attack")
        self.run_button.clicked.connect(self.compute)
        self.compare_button = QPushButton("Overlay another run…")
        self.compare_button.setToolTip("Add the curve of another run of this project (e.g. one trained adversarially)")
        self.compare_button.clicked.connect(self._pick_compare)
        form = QFormLayout()
        form.addRow("Attack", self.method)
        form.addRow("ε", self.eps)
        form.addRow("", self.eps_label)
        self.info = QLabel("")
        self.info.setWordWrap(True)
        left = QVBoxLayout()
        left.addLayout(form)
        left.addWidget(self.run_button)
        left.addWidget(self.compare_button)
        left.addWidget(self.info)
        left.addStretch(1)
        side = QWidget()
        side.setLayout(left)
        side.setFixedWidth(300)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        self.plot.setLabel("bottom", "ε")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setLabel("left", "accuracy (%)")
        self.plot.setYRange(0, 100)
        self.plot.addLegend(offset=(-10, 10))
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.grid = QGridLayout()
        grid_box = QWidget()
        grid_box.setLayout(self.grid)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(grid_box)
        right = QVBoxLayout()
        right.addWidget(self.plot, 2)
        right.addWidget(scroll, 3)
        lay = QHBoxLayout(self)
        lay.addWidget(side)
        lay.addLayout(right, 1)
        self.last: dict[str, Any] | None = None
        self.curves: dict[str, Any] = {}
        self._eps_changed()

    @property
    def epsilon(self) -> float:
        return self.eps.value() * EPS_STEP

    def _eps_changed(self) -> None:
        images = self.loaded is not None and self.loaded.data.bounds is not None
        self.eps_label.setText(f"ε = {self.epsilon:.3f} " + ("(pixels are 0..1)" if images else "(in input units)"))

    def set_run(self, loaded) -> None:
        super().set_run(loaded)
        self._eps_changed()

    def job_ended(self) -> None:
        self.run_button.setEnabled(True)
        self.compare_button.setEnabled(True)

    def compute(self) -> None:
        if self.loaded is None:
            return
        data, eps, method = self.loaded.data, self.epsilon, self.method.currentData()
        self.run_button.setEnabled(False)
        self.info.setText("Attacking…")
        self.workspace.job(lambda: attack_job(data, eps, method), self.show_result, "Attack")

    def _pick_compare(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Run folder to overlay")
        if path:
            self.compare(path)

    def compare(self, run: str) -> None:
        ws, eps, method = self.workspace, self.epsilon, self.method.currentData()
        self.compare_button.setEnabled(False)
        self.workspace.job(lambda: compare_job(ws, run, eps, method), self._show_compare, "Overlay")

    def _curve(self, name: str, eps: list[float], acc: list[float], color) -> None:
        if name in self.curves:
            self.plot.removeItem(self.curves[name])
        self.curves[name] = self.plot.plot(eps, [100 * a for a in acc], name=name, symbol="o",
                                           pen=pg.mkPen(color, width=2), symbolBrush=color)

    def _show_compare(self, r: dict[str, Any]) -> None:
        self.compare_button.setEnabled(True)
        self._curve(r["name"], r["eps"], r["accuracy"], (220, 120, 30))

    def show_result(self, r: dict[str, Any]) -> None:
        self.last = r
        self.run_button.setEnabled(True)
        acc = r["accuracy"]
        self.info.setText(f"{r['method'].upper()}: clean {100 * acc[0]:.1f} % → {100 * acc[-1]:.1f} % "
                          f"at ε = {r['eps'][-1]:.3f} (−{100 * (acc[0] - acc[-1]):.1f} points)")
        self._curve(f"this run ({r['method']})", r["eps"], acc, (40, 90, 200))
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        classes = self.loaded.data.classes
        def name(i: int) -> str:
            return class_name(classes, i)

        x, adv = r["x"], r["adv"]
        for row, title in enumerate(("clean", "adversarial", "perturbation")):
            head = QLabel(f"<b>{title}</b>")
            head.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.grid.addWidget(head, row, 0)
        for i in range(len(x)):
            cp, ap = r["clean_p"][i], r["adv_p"][i]
            c, a = int(np.argmax(cp)), int(np.argmax(ap))
            mark = "✓" if a == int(r["y"][i]) else "✗"
            captions = (f"{name(c)} {100 * cp[c]:.0f} %", f"{mark} {name(a)} {100 * ap[a]:.0f} %",
                        f"label {name(int(r['y'][i]))}")
            values = (x[i], adv[i], adv[i] - x[i])
            if x.ndim == 2 and x.shape[1] <= 6:  # a few features: their numbers say more than colours
                for row, (v, cap) in enumerate(zip(values, captions, strict=True)):
                    text = QLabel("(" + ", ".join(f"{t:+.2f}" for t in v) + f")<br>{cap}")
                    text.setAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.grid.addWidget(text, row, i + 1)
                continue
            if x.ndim == 4:
                scale = fit_scale(x.shape, 84)
                pics = (grey(x[i]), grey(adv[i]), signed(adv[i] - x[i]))
            else:
                pics = tuple(signed(np.atleast_2d(v)) for v in values)
                scale = max(4, 160 // max(pics[0].shape[:2]))
            for row, (pic, cap) in enumerate(zip(pics, captions, strict=True)):
                self.grid.addWidget(captioned(pixmap(pic, scale), cap), row, i + 1)
